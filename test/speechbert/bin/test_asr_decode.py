"""speechbert.bin.asr_decode on a model whose output is fixed by hand."""

from __future__ import annotations

import kaldiio
import numpy as np
import torch

from speechbert.align.aligner import save_aligner
from speechbert.align.ctc_model import CTCModel, CTCModelConfig
from speechbert.align.forced import BoundaryRule
from speechbert.align.vocab import CharVocab
from speechbert.bin import asr_decode
from speechbert.io.ctm import read_ctm
from speechbert.io.kaldi_table import read_table, write_table

VOCAB = CharVocab()


def _spelling_model(tmp_path):
    """A 1x1-conv model whose argmax at each frame is the token id in feature dim 0."""
    cfg = CTCModelConfig(input_dim=len(VOCAB), vocab_size=len(VOCAB), channels=len(VOCAB), kernel_size=1,
                         conv_layers=0, dropout=0.0)
    model = CTCModel(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.frontend.weight[:, :, 0] = 10 * torch.eye(len(VOCAB))
        model.norm.weight.fill_(1.0)
        model.output.weight.copy_(10 * torch.eye(len(VOCAB)))
    save_aligner(tmp_path / "model", model, VOCAB, 0.01, BoundaryRule(), cmvn=None)
    return tmp_path / "model"


def _one_hot(tokens: str) -> np.ndarray:
    ids = [VOCAB.index["<blank>" if c == "_" else c] for c in tokens]
    return np.eye(len(VOCAB), dtype=np.float32)[ids]


def test_greedy_hypotheses_ctm_and_wer(tmp_path):
    model = _spelling_model(tmp_path)
    data, dump = tmp_path / "data", tmp_path / "dump"
    data.mkdir()
    dump.mkdir()
    write_table(data / "text", {"u1": "hi you", "u2": "ok"})
    feats = {"u1": _one_hot("__|_hh_i_|__y_oo_u_|__"), "u2": _one_hot("____")}
    with kaldiio.WriteHelper(f"ark,scp:{dump}/feats.ark,{dump}/feats.scp") as w:
        for k, v in feats.items():
            w(k, v)
    out = tmp_path / "asr"
    assert asr_decode.main(["--model_dir", str(model), "--data", str(data), "--dump", str(dump),
                            "--out_dir", str(out)]) == 0
    hyps = read_table(out / "text", allow_empty_value=True)
    assert hyps == {"u1": "hi you", "u2": ""}
    ctm = read_ctm(out / "word.ctm")
    assert list(ctm) == ["u1"] and [e.word for e in ctm["u1"]] == ["hi", "you"]
    # start = end of the preceding "|"; end = end of the last letter
    assert [(e.start, round(e.end, 3)) for e in ctm["u1"]] == [(0.03, 0.08), (0.1, 0.18)]
    assert (out / "wer.txt").read_text().startswith("WER 33.33% (1 errors / 3 words, 2 utterances)")
