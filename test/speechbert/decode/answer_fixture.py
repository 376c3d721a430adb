"""Small models and recordings for the answering tests.

* :func:`make_energy_aligner`: a hand-set CTC "aligner" that needs no training: it emits the
  letter ``a`` on frames louder than average and the word boundary ``|`` on quieter ones, so
  greedy decoding turns every burst of speech into the word ``a`` with sensible times.
* :func:`train_qa_exp`: a one-step fine-tuning run (audio or text input) on the structured
  corpus of ``test/speechbert/tasks/sqa_fixture.py``, i.e. a real experiment directory.
* :func:`synthesize`: sentences spoken by eSpeak NG, back to back.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

TASKS_TESTS = Path(__file__).resolve().parents[1] / "tasks"
if str(TASKS_TESTS) not in sys.path:
    sys.path.insert(0, str(TASKS_TESTS))

import sqa_fixture as fx  # noqa: E402

DIM = fx.DIM  # feature dimension of the structured corpus and of the test fbank config


def make_energy_aligner(model_dir: Path, feat_dim: int, cmvn: Path | None, frame_shift: float = 0.01) -> Path:
    """Write an aligner directory whose CTC model marks loud frames ``a`` and quiet frames ``|``."""
    from speechbert.align.aligner import save_aligner
    from speechbert.align.ctc_model import CTCModel, CTCModelConfig
    from speechbert.align.forced import BoundaryRule
    from speechbert.align.vocab import CharVocab

    vocab = CharVocab()
    cfg = CTCModelConfig(input_dim=feat_dim, vocab_size=len(vocab), subsample=1, channels=2, kernel_size=1,
                         conv_layers=0, dropout=0.0)
    model = CTCModel(cfg, blank=vocab.blank)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        # channel 0 = +mean of the normalized features, channel 1 = -mean; LayerNorm makes them +-1
        model.frontend.weight[0, :, 0] = 10.0 / feat_dim
        model.frontend.weight[1, :, 0] = -10.0 / feat_dim
        model.norm.weight.fill_(1.0)
        model.output.weight[vocab.index["a"]] = torch.tensor([5.0, -5.0])
        model.output.weight[vocab.boundary] = torch.tensor([-5.0, 5.0])
    save_aligner(model_dir, model, vocab, frame_shift, BoundaryRule(), cmvn, feats_type=f"fbank {feat_dim}")
    return model_dir


def write_cmvn(path: Path, feats: np.ndarray) -> Path:
    """Global CMVN stats of one feature matrix."""
    from speechbert.audio.cmvn import compute_stats, write_stats

    write_stats(path, compute_stats([("x", feats)]))
    return path


def make_corpus(root: Path, n_train: int = 6, n_test: int = 3) -> Path:
    """Train and test sets of the structured corpus (data, dump, CTM, cmvn) under ``root``."""
    fx.make_split(root, "train", n_train, seed=1)
    fx.make_split(root, "test", n_test, seed=3)
    return root


def train_qa_exp(corpus: Path, out: Path, modality: str = "audio") -> Path:
    """A one-step fine-tuning run (1-layer BERT): a real experiment directory, in seconds."""
    from speechbert.tasks.sqa_finetune import SQATask

    args = ["--bert_dir", fx.bert_dir(), "--train_data", str(corpus / "data/train"), "--bert_layers", "1",
            "--output_dir", str(out), "--max_epoch", "1", "--keep_nbest", "1"] + fx.RUN_ARGS
    if modality == "audio":
        args += ["--train_dump", str(corpus / "dump/train"), "--train_ctm", str(corpus / "exp/align/train/word.ctm"),
                 "--cmvn", str(corpus / "dump/train/cmvn.ark"), "--max_word_frames", "8"] + fx.AWE_ARGS
    else:
        args += ["--input_modality", "text"]
    assert SQATask.main(args) == 0
    for junk in ("checkpoint.pt", "snapshot.ep.1"):  # keep the temporary directory small
        (out / junk).unlink(missing_ok=True)
    return out


def synthesize(sentences: list[str], sample_rate: int = 16000, gap: float = 0.3, seed: int = 0
               ) -> tuple[np.ndarray, list[tuple[str, float, float]]]:
    """``sentences`` spoken by eSpeak NG with ``gap`` s of low noise between them; returns the
    samples and the (word, start, end) times."""
    from speechbert.synth.tts import EspeakSynthesizer, Voice

    syn = EspeakSynthesizer(sample_rate=sample_rate)
    rng = np.random.default_rng(seed)
    parts, times, t = [], [], 0.0
    for k, s in enumerate(sentences):
        r = syn.synthesize(s, Voice("en-us"), seed=seed + k)
        parts.append(r.audio)
        times += [(w.word, t + w.start, t + w.end) for w in r.words]
        t += r.duration
        pause = (3e-3 * rng.standard_normal(int(gap * sample_rate))).astype(np.float32)
        parts.append(pause)
        t += len(pause) / sample_rate
    return np.concatenate(parts), times


SENTENCES = {"utt1": "john likes red", "utt2": "the cat sat near the river"}


def make_synth_set(root: Path) -> Path:
    """``data/test`` (wav.scp, text, utt2dur) and ``dump/test`` (20-bin fbank, cmvn.ark) of two
    eSpeak utterances, and an energy aligner in ``exp/align``; returns ``root``."""
    import kaldiio
    import soundfile

    from speechbert.audio.features import FeatureConfig, FeatureExtractor

    data, dump = root / "data" / "test", root / "dump" / "test"
    data.mkdir(parents=True)
    dump.mkdir(parents=True)
    extractor = FeatureExtractor(FeatureConfig(num_mel_bins=DIM))
    feats = {}
    for k, (utt, sentence) in enumerate(SENTENCES.items()):
        audio, _ = synthesize([sentence], gap=0.2, seed=k)
        soundfile.write(data / f"{utt}.wav", audio, 16000)
        feats[utt] = extractor(audio)
    (data / "wav.scp").write_text("".join(f"{u} {data / u}.wav\n" for u in SENTENCES))
    (data / "text").write_text("".join(f"{u} {s}\n" for u, s in SENTENCES.items()))
    (data / "utt2dur").write_text("".join(f"{u} {soundfile.info(data / f'{u}.wav').duration:.3f}\n"
                                          for u in SENTENCES))
    with kaldiio.WriteHelper(f"ark,scp:{dump / 'feats.ark'},{dump / 'feats.scp'}") as w:
        for utt in SENTENCES:
            w(utt, feats[utt])
    (dump / "frame_shift").write_text("0.01\n")
    (dump / "feats_type").write_text(f"fbank {DIM}\n")
    write_cmvn(dump / "cmvn.ark", np.concatenate(list(feats.values())))
    make_energy_aligner(root / "exp" / "align", DIM, dump / "cmvn.ark")
    return root
