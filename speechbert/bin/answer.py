"""Answer a question about a recording with the trained end-to-end model.

    python -m speechbert.bin.answer --model_dir exp/finetune --aligner_dir exp/ctc_aligner \\
        --audio passage.wav --question "what does mary like" [--clip_out answer.wav] [--json]
    # a passage spoken as several recordings (its sentences, in order), words and times given:
    python -m speechbert.bin.answer --model_dir exp/finetune --audio s1.wav s2.wav --ctm passage.ctm \\
        --question "what does mary like"

The recording may have any length, any sample rate soundfile reads (resampled to the training
rate) and several channels (mixed down to mono, with a note). The aligner, used as a greedy ASR,
finds the spoken words and their times (no transcript needed); the model picks the answer span.
Prints the answer time span, the recognised words in it and the score (``--json``: one JSON
object with the n-best list, the recognised transcript and notes); ``--clip_out`` writes the
answer audio. The audio words are prepared as the model's experiment recorded at training time
(``<model_dir>/inputs.yaml``: features, CMVN, frame pooling). With ``--ctm`` (utterance ids = the
recordings' file names without suffix) the given words and times replace recognition.

A packed model (``speechbert.bin.pack_model``, doc/model_pack.md) replaces the experiment options:

    python -m speechbert.bin.answer --model_pack model.zip --audio passage.wav --question "..."

The archive is verified (format version, SHA-256 of every file) and unpacked into a temporary
directory (``--unpack_dir`` to keep it); the answer is then computed exactly as from ``exp/``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Sequence

from speechbert.bin.cli import ArgumentParser, get_base_parser, run_main


def get_parser() -> ArgumentParser:
    parser = get_base_parser(__doc__.split("\n\n")[0])
    a = parser.add_argument
    a("--model_dir", default=None, help="end-to-end fine-tuning experiment (config.yaml + model file)")
    a("--model_pack", default=None,
      help="a packed model (pack_model's model.zip) instead of --model_dir/--aligner_dir")
    a("--unpack_dir", default=None,
      help="with --model_pack: unpack into this new or empty directory and keep it (default: a temporary one)")
    a("--model_file", default="model.avg.pt", help="model file inside --model_dir (or a path)")
    a("--aligner_dir", default=None,
      help="trained CTC aligner directory (exp/ctc_aligner); required unless --ctm gives the words")
    a("--audio", required=True, nargs="+",
      help="the recording (wav, flac, ... any rate, mono or multi-channel), or the passage's sentences in order")
    a("--ctm", default=None,
      help="word CTM of the recordings (utterance id = file name without suffix): oracle words and times")
    a("--question", required=True, help="the question, as text")
    a("--clip_out", default=None, help="write the answer span's audio here (.wav or .flac)")
    a("--json", action="store_true", help="print one JSON object instead of readable lines")
    a("--feats_config", default=None,
      help="feature config of the training features (default: the copy under the model's train_dump/conf)")
    a("--cmvn", default=None, help="training CMVN stats (default: the model's, else the aligner's copy)")
    a("--max_chunk_seconds", type=float, default=30.0,
      help="longer audio is recognised in chunks of at most this, cut at quiet frames")
    a("--nbest", type=int, default=5, help="alternative spans reported")
    a("--max_answer_len", type=int, default=None, help="longest answer in words (default: the model's)")
    a("--ngpu", type=int, default=0, help="0: CPU, 1: one GPU")
    a("--num_threads", type=int, default=1, help="torch CPU threads")
    return parser


def run(args: argparse.Namespace) -> int:
    from speechbert.errors import ConfigError

    if args.model_dir is not None and args.model_pack is not None:
        raise ConfigError("give the model as --model_dir or as --model_pack, not both")
    if args.model_dir is None and args.model_pack is None:
        raise ConfigError("no model: give --model_dir (with --aligner_dir) or --model_pack")
    if args.model_pack is None:
        if args.unpack_dir:
            raise ConfigError("--unpack_dir goes with --model_pack")
        return answer(args)
    import tempfile

    from speechbert.pack.unpack import unpack_model

    if args.model_file != "model.avg.pt":
        raise ConfigError("--model_file cannot pick another model from a --model_pack (it holds one)")
    if not Path(args.model_pack).is_file():  # before any work
        raise ConfigError(f"--model_pack {args.model_pack}: no such file")
    if args.unpack_dir:
        return answer(_from_pack(args, unpack_model(args.model_pack, args.unpack_dir)))
    with tempfile.TemporaryDirectory(prefix="speechbert-pack.") as tmp:
        return answer(_from_pack(args, unpack_model(args.model_pack, tmp)))


def _from_pack(args: argparse.Namespace, unpacked) -> argparse.Namespace:  # noqa: ANN001 - UnpackedModel
    """``args`` with the unpacked model's experiment and aligner directories."""
    args = argparse.Namespace(**vars(args))
    args.model_dir = str(unpacked.model_dir)
    if args.aligner_dir is None:
        args.aligner_dir = str(unpacked.aligner_dir)
    return args


def answer(args: argparse.Namespace) -> int:
    """Answer with the experiment ``args.model_dir`` (what every way of giving the model ends in)."""
    import torch

    from speechbert.align.aligner import load_aligner
    from speechbert.audio.cmvn import GlobalCMVN
    from speechbert.decode.recording import AnswerSetup, answer_recording, find_feature_config, read_recording, write_clip
    from speechbert.decode.span_qa import DecodeOptions, load_qa_model, pick_device
    from speechbert.errors import ConfigError
    from speechbert.tasks.input_pipeline import InputPipeline, file_sha256
    from speechbert.text.normalize import normalize_text

    if not normalize_text(args.question):
        raise ConfigError(f"--question {args.question!r} is empty (no word after normalization)")
    if args.max_chunk_seconds <= 0.1:
        raise ConfigError(f"--max_chunk_seconds must be above 0.1, got {args.max_chunk_seconds}")
    if args.ctm is None and args.aligner_dir is None:
        raise ConfigError("--aligner_dir is required to recognise the words (or give them with --ctm)")
    if args.clip_out and len(args.audio) > 1:
        raise ConfigError("--clip_out needs a single --audio recording")
    if args.clip_out and not Path(args.clip_out).parent.is_dir():  # before any work; never mkdir -p
        raise ConfigError(f"--clip_out {args.clip_out}: the directory {Path(args.clip_out).parent} does not exist")
    recs = [read_recording(a) for a in args.audio]  # fail on bad audio before loading models
    ctm = None
    if args.ctm is not None:
        from speechbert.io.ctm import read_ctm

        ctm = read_ctm(args.ctm)
    torch.set_num_threads(args.num_threads)
    device = pick_device(args.ngpu)
    model, margs = load_qa_model(args.model_dir, args.model_file, device, modality="audio")
    pipeline = InputPipeline.from_exp(args.model_dir)
    aligner = load_aligner(args.aligner_dir) if args.aligner_dir else None
    frontend, where = find_feature_config(args.model_dir, margs, args.feats_config, aligner, pipeline,
                                          device=device)
    logging.info("features: %s (from %s)", frontend.feats_type_line, where)
    try:
        cmvn_path = pipeline.cmvn_path(args.cmvn)
    except ConfigError:
        if args.cmvn or aligner is None or aligner.cmvn is None or pipeline.settings.cmvn_sha256 is None:
            raise
        cmvn_path = None
    if cmvn_path is not None:
        cmvn = GlobalCMVN.load(cmvn_path)
    elif pipeline.settings.cmvn:
        assert aligner is not None and aligner.cmvn is not None
        if not aligner.cmvn.source or file_sha256(aligner.cmvn.source) != pipeline.settings.cmvn_sha256:
            raise ConfigError(f"the model's training CMVN {pipeline.settings.cmvn} is not here and the aligner's "
                              f"copy is not the same file: pass --cmvn")
        logging.info("the model's CMVN %s is not here: using the aligner's identical copy (%s)",
                     pipeline.settings.cmvn, aligner.cmvn.source)
        cmvn = aligner.cmvn
    else:
        cmvn = None
    setup = AnswerSetup(model, margs, pipeline, aligner, frontend, cmvn, device)
    setup.check()
    opts = DecodeOptions(nbest=max(1, args.nbest), max_answer_len=args.max_answer_len)
    result = answer_recording(setup, recs, args.question, opts=opts, max_chunk_seconds=args.max_chunk_seconds,
                              ctm=ctm)
    rec = recs[0]
    for note in result["notes"]:
        logging.info("note: %s", note)
    if args.clip_out:
        clip = write_clip(args.clip_out, rec, result["start"], result["end"])
        result["clip"] = args.clip_out
        result["clip_duration"] = round(clip, 3)
    if args.json:
        print(json.dumps(result, allow_nan=False))
    else:
        print(f"answer: {result['start']:.2f}-{result['end']:.2f} s: \"{result['words']}\" "
              f"(score {result['score']:.3f})")
        print(f"recognised {result['recognized_words']} words in {result['duration']:.2f} s of audio"
              + (f"; notes: {'; '.join(result['notes'])}" if result["notes"] else ""))
        if args.clip_out:
            print(f"answer clip: {args.clip_out} ({result['clip_duration']:.2f} s)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
