"""Utterances for the aligner: CMVN-normalized features from a dump dir plus the reference text."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from speechbert.audio.cmvn import GlobalCMVN
from speechbert.align.vocab import CharVocab, min_frames
from speechbert.errors import DataError
from speechbert.io.feats import FeatsReader
from speechbert.io.kaldi_table import read_table

log = logging.getLogger(__name__)


class FeatureSource:
    """Features of a dump dir (``feats.scp``) with the training set's global CMVN applied."""

    def __init__(self, dump_dir: str | Path, cmvn: str | Path | GlobalCMVN | None) -> None:
        self.dump_dir = Path(dump_dir)
        self.cmvn = GlobalCMVN.load(cmvn) if isinstance(cmvn, (str, Path)) else cmvn
        self.reader = FeatsReader(self.dump_dir / "feats.scp", self.cmvn)

    def __contains__(self, utt: str) -> bool:
        return utt in self.reader

    def num_frames(self, utt: str) -> int:
        return self.reader.num_frames(utt)

    def dim(self) -> int:
        return self.reader.dim()

    def load(self, utt: str) -> np.ndarray:
        """Features ``(T, D)`` float32 of ``utt``, normalized.

        Raises:
            DataError: naming the utterance and the scp when the matrix holds NaN or Inf (which
                would otherwise reach the CTC alignment and fail there with an index error).
        """
        feats = self.reader.load(utt)
        if not np.isfinite(feats).all():
            bad = int(np.count_nonzero(~np.isfinite(feats).all(axis=1)))
            raise DataError(f"features contain NaN/Inf in {bad} of {feats.shape[0]} frames",
                            self.dump_dir / "feats.scp", key=utt)
        return feats


class AlignDataset(torch.utils.data.Dataset):
    """Training utterances: features and character targets.

    Utterances with an empty transcript, without features, or with fewer output frames than
    their transcript needs are left out and counted in ``skipped``.
    """

    def __init__(self, data_dir: str | Path, dump_dir: str | Path, cmvn: str | Path | None,
                 vocab: CharVocab, subsample: int = 1, max_utts: int | None = None) -> None:
        self.vocab = vocab
        self.source = FeatureSource(dump_dir, cmvn)
        text = read_table(Path(data_dir) / "text", allow_empty_value=True)
        self.utts: list[str] = []
        self.targets: list[list[int]] = []
        self.lengths: list[int] = []
        self.skipped: dict[str, int] = {}
        for utt, value in text.items():
            if max_utts is not None and len(self.utts) >= max_utts:
                break
            reason = None
            ids = vocab.encode(value.split()).ids
            if not value.split():
                reason = "empty_text"
            elif utt not in self.source:
                reason = "no_features"
            else:
                n = self.source.num_frames(utt)
                if (n + subsample - 1) // subsample < min_frames(ids):
                    reason = "too_short"
            if reason:
                self.skipped[reason] = self.skipped.get(reason, 0) + 1
                continue
            self.utts.append(utt)
            self.targets.append(ids)
            self.lengths.append(n)
        if self.skipped:
            log.warning("%s: left out %s", data_dir, ", ".join(f"{v} {k}" for k, v in self.skipped.items()))
        if not self.utts:
            raise DataError("no usable utterances (text + features)", data_dir)

    def __len__(self) -> int:
        return len(self.utts)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"utt": self.utts[i], "feats": torch.from_numpy(self.source.load(self.utts[i])),
                "targets": torch.tensor(self.targets[i], dtype=torch.long)}


def collate(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Pad a list of dataset items into one batch for ``CTCModel.forward``."""
    feats = torch.nn.utils.rnn.pad_sequence([it["feats"] for it in items], batch_first=True)
    targets = torch.nn.utils.rnn.pad_sequence([it["targets"] for it in items], batch_first=True)
    return {"ids": [it["utt"] for it in items], "feats": feats,
            "feats_lengths": torch.tensor([len(it["feats"]) for it in items]),
            "targets": targets,
            "target_lengths": torch.tensor([len(it["targets"]) for it in items])}
