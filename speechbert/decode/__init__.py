"""Answering: decoding fine-tuned models into ``predictions.jsonl``, the cascade baseline, the
ensemble of the two, and answering a question about a new recording (doc/answering.md)."""
