"""A trained aligner on disk (``exp/align_model/``) and its use on one utterance.

Model directory contract (written by ``align_train``, read by ``align`` and
``asr_transcribe --asr ctc|corpus``):

- ``aligner.yaml``: model shape, vocabulary, input frame shift, feature type, boundary rule;
- ``aligner.pt``: the model's ``state_dict`` (the averaged or best checkpoint);
- ``cmvn.ark``: the training set's global CMVN stats, copied so the directory is self-contained.
"""

from __future__ import annotations

import contextlib

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from speechbert.align.ctc_model import CTCModel, CTCModelConfig
from speechbert.align.forced import BoundaryRule, WordTime, align_words
from speechbert.align.vocab import CharVocab
from speechbert.audio.cmvn import GlobalCMVN
from speechbert.errors import ConfigError, DataError
from speechbert.io.atomic import atomic_open, atomic_path
from speechbert.io.dump_dir import feature_origin, read_dump_facts

CONFIG_NAME = "aligner.yaml"
WEIGHTS_NAME = "aligner.pt"
CMVN_NAME = "cmvn.ark"


@dataclass
class Aligner:
    """A CTC model with what is needed to run it: vocabulary, CMVN, timing."""

    model: CTCModel
    vocab: CharVocab
    frame_shift: float          # of the input features, seconds
    rule: BoundaryRule
    cmvn: GlobalCMVN | None = None
    feats_type: str = ""

    @property
    def output_shift(self) -> float:
        """Seconds per output (CTC) frame."""
        return self.frame_shift * self.model.config.subsample

    def normalize(self, feats: np.ndarray) -> np.ndarray:
        """Apply the training set's CMVN to raw features ``(T, D)``."""
        feats = np.asarray(feats, dtype=np.float32)
        if feats.ndim != 2 or feats.shape[1] != self.model.config.input_dim:
            raise DataError(f"features of shape {feats.shape} do not fit the aligner's "
                            f"{self.model.config.input_dim}-dim input")
        return self.cmvn(feats) if self.cmvn is not None else feats

    @torch.inference_mode()
    def log_probs(self, feats: np.ndarray, normalized: bool = False) -> torch.Tensor:
        """Per-frame log-probabilities ``(T', V)`` of one utterance's features."""
        x = torch.from_numpy(feats if normalized else self.normalize(feats))
        lp, _ = self.model.log_probs(x[None], torch.tensor([x.size(0)]))
        return lp[0]

    def align(self, log_probs: torch.Tensor, words: list[str], duration: float | None = None
              ) -> list[WordTime]:
        """Word times of ``words`` in the utterance whose ``log_probs`` are given."""
        times, _ = align_words(log_probs, words, self.vocab, self.output_shift, self.rule, duration)
        return times


def save_aligner(model_dir: str | Path, model: CTCModel, vocab: CharVocab, frame_shift: float,
                 rule: BoundaryRule, cmvn: str | Path | None, feats_type: str = "",
                 extra: dict[str, Any] | None = None) -> None:
    """Write the model directory contract (see the module docstring), each file atomically."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    # Through a file object: saved to a path, the zip records are named after the random
    # temporary file, and equal weights would not give equal bytes.
    with atomic_open(model_dir / WEIGHTS_NAME, "wb") as f:
        torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, f)
    if cmvn is not None and Path(cmvn).resolve() != (model_dir / CMVN_NAME).resolve():
        with atomic_path(model_dir / CMVN_NAME) as tmp:
            shutil.copyfile(cmvn, tmp)
    info = {"model": model.config.to_dict(), "tokens": list(vocab.tokens),
            "frame_shift": frame_shift, "feats_type": feats_type,
            "cmvn": CMVN_NAME if cmvn is not None else None, "boundary_rule": rule.to_dict()}
    info.update(extra or {})
    with atomic_open(model_dir / CONFIG_NAME) as f:
        yaml.safe_dump(info, f, sort_keys=False)


def check_aligner_features(aligner: Aligner, model_dir: str | Path, dump_dir: str | Path) -> None:
    """Raise ConfigError when a dump's features are not the ones the aligner was trained on,
    naming both feature types and the configs they were made with (e.g. MFCC features with an
    aligner trained on fbank after changing ``feats_config`` without retraining stage 3)."""
    dump_dir = Path(dump_dir)
    have = read_dump_facts(dump_dir)["feats_type"] or ""
    if not have or not aligner.feats_type or have == aligner.feats_type:
        return
    train_dump = None
    cfg = Path(model_dir) / "config.yaml"  # the aligner's training run, when it is the exp dir
    if cfg.is_file():
        with contextlib.suppress(OSError, yaml.YAMLError, AttributeError, TypeError):
            value = (yaml.safe_load(cfg.read_text(encoding="utf-8")) or {}).get("train_dump")
            if value:
                p = Path(value)
                train_dump = p if p.is_dir() else Path(model_dir).resolve().parent.parent / p
    raise ConfigError(f"{dump_dir} has {have!r} features{feature_origin(dump_dir)} but the aligner {model_dir} "
                      f"was trained on {aligner.feats_type!r} features{feature_origin(train_dump)}: retrain the "
                      "aligner (stage 3) on these features, or make them with the aligner's feature config")


def load_aligner(model_dir: str | Path) -> Aligner:
    """Load a trained aligner for inference (eval mode, CPU)."""
    model_dir = Path(model_dir)
    cfg_path = model_dir / CONFIG_NAME
    if not cfg_path.is_file():
        raise ConfigError(f"{model_dir} is not an aligner model directory (no {CONFIG_NAME}; "
                          "train one with speechbert.bin.align_train)")
    try:
        info = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
        model_cfg = CTCModelConfig.from_dict(info["model"])
        vocab = CharVocab(tuple(info["tokens"]))
        rule = BoundaryRule(**info.get("boundary_rule", {}))
        frame_shift = float(info["frame_shift"])
    except (KeyError, TypeError, ValueError, yaml.YAMLError) as e:
        raise ConfigError(f"{cfg_path}: malformed aligner config ({type(e).__name__}: {e})") from None
    model = CTCModel(model_cfg, blank=vocab.blank)
    weights = model_dir / WEIGHTS_NAME
    if not weights.is_file():
        raise ConfigError(f"{model_dir}: no {WEIGHTS_NAME}")
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except Exception as e:  # noqa: BLE001 - torch raises many types for damaged or foreign files
        from speechbert.train.checkpoint import load_failure

        raise ConfigError(f"{weights}: cannot load the aligner's weights (damaged, or of another model?): "
                          f"{load_failure(e)}") from None
    model.eval()
    cmvn = GlobalCMVN.load(model_dir / info["cmvn"]) if info.get("cmvn") else None
    return Aligner(model, vocab, frame_shift, rule, cmvn, info.get("feats_type", ""))
