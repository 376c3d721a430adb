"""Scoring for spoken question answering: span overlap (FF1, AOS), SQuAD EM/F1, WER, splits.

Modules:
    wer            word error rate and word-level edit-distance alignment
    span_overlap   frame-level F1 (FF1) and audio overlapping score (AOS) of time spans
    squad_text     the official SQuAD v1.1 answer normalization, exact match and token F1
    sqa_scoring    per-question scores over a data set, split by ASR errors and by passage WER
    bootstrap      bootstrap confidence intervals of means and the paired bootstrap test
    results_table  result.json files of several systems -> RESULTS.md
    baselines      first-sentence and random-span reference predictions

The rules that make the numbers comparable are in doc/scoring.md.
"""
