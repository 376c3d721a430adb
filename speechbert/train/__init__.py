"""The one generic trainer every training stage runs on (see ``doc/training.md``)."""
