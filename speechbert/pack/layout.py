"""The layout of a packed model archive and its format version (``doc/model_pack.md``).

Paths inside the archive are POSIX, relative to the archive root. Every member except
``meta.yaml`` is listed with its SHA-256 in ``meta.yaml``'s ``members``.
"""

from __future__ import annotations

from speechbert.tasks.input_pipeline import INPUTS_FILE

#: ``format`` value of every archive's ``meta.yaml``.
FORMAT_NAME = "speechbert-model-pack"
#: The format this code writes. Bump it when a reader of the previous format would misread a new
#: archive (a member moved or changed meaning); adding an optional member keeps the version.
FORMAT_VERSION = 1
#: The formats this code reads.
READABLE_FORMATS = (1,)

META_FILE = "meta.yaml"
CARD_FILE = "README.md"
RESULTS_FILE = "RESULTS.md"

MODEL_DIR = "model"  # config.yaml, inputs.yaml, model.avg.pt, model.avg.metrics.json
MODEL_FILE = "model.avg.pt"
CONFIG_FILE = "config.yaml"
METRICS_FILE = "model.avg.metrics.json"

ALIGNER_DIR = "aligner"  # aligner.yaml (model shape, tokens, boundary rule), aligner.pt, cmvn.ark
CMVN_FILE = "cmvn.ark"  # the SQA model's training CMVN
BERT_DIR = "bert"  # config.json, vocab.txt and the tokenizer files found beside them
VOCAB_FILE = f"{BERT_DIR}/vocab.txt"
BERT_CONFIG_FILE = f"{BERT_DIR}/config.json"
TOKENIZER_FILES = ("tokenizer_config.json", "special_tokens_map.json", "tokenizer.json")
FEATURES_DIR = "features"  # feats_type, frame_shift, conf/<feature config>.yaml: the training dump's facts

#: Members every archive of this format has.
REQUIRED_MEMBERS = (
    f"{MODEL_DIR}/{CONFIG_FILE}", f"{MODEL_DIR}/{INPUTS_FILE}", f"{MODEL_DIR}/{MODEL_FILE}",
    f"{ALIGNER_DIR}/aligner.yaml", f"{ALIGNER_DIR}/aligner.pt", VOCAB_FILE, BERT_CONFIG_FILE, CARD_FILE,
)
