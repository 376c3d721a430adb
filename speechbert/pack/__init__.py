"""Packed models: one zip archive with everything ``answer`` needs to answer questions on new
audio (``doc/model_pack.md``).

* :mod:`speechbert.pack.layout`: the member names, the format version and which versions this
  code reads;
* :mod:`speechbert.pack.model_pack`: the writer (``pack_model``);
* :mod:`speechbert.pack.unpack`: the reader, which verifies every member and lays out an
  experiment directory that the unchanged decoding code (``InputPipeline.from_exp``) reads;
* :mod:`speechbert.pack.bert_export`: the fine-tuned encoder in Hugging Face names, so the
  standard model builder can rebuild the network from the packed BERT config;
* :mod:`speechbert.pack.model_card`: the generated ``README.md``.
"""
