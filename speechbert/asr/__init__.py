"""Speech recognisers for the cascade baseline and the answer CLI.

Every recogniser produces a :class:`speechbert.asr.transcript.Transcript`: normalized words per
utterance and their utterance-relative times (a word CTM). Three are offered:

* ``ctc``: the project's CTC aligner used as a greedy ASR (:mod:`speechbert.asr.ctc`);
* ``corpus``: the corpus's own transcript ``data/<set>/text.asr``, timed by forced alignment with
  the aligner (:mod:`speechbert.asr.corpus`);
* ``pocketsphinx``: the ``pocketsphinx`` wheel's US English model
  (:mod:`speechbert.asr.pocketsphinx_asr`).
"""

ASR_KINDS = ("ctc", "corpus", "pocketsphinx")
