"""Errors raised by the trainer."""

from __future__ import annotations

from speechbert.errors import SpeechbertError


class TrainingError(SpeechbertError):
    """Training cannot continue: unreadable checkpoint, non-finite loss, mismatched model."""
