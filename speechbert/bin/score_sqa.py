"""Score SQA predictions of one system on one data set: ``result.json``, ``result.md``, ``scores.jsonl``.

Usage:
    python -m speechbert.bin.score_sqa --data data/test \\
        --predictions exp/x/decode_test/predictions.jsonl --out_dir exp/x/decode_test \\
        [--asr_text data/test/text.asr] [--system_name e2e] [--seed 1] \\
        [--bootstrap_samples 1000] [--bootstrap_seed 1234]

Every group's FF1, AOS, EM and F1 come with a 95 % bootstrap interval (questions resampled);
``scores.jsonl`` holds the per-question scores for paired comparisons (doc/scoring.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Sequence

from speechbert.bin.cli import get_base_parser, run_main
from speechbert.errors import ConfigError, DataError
from speechbert.gc_pause import gc_paused
from speechbert.io.atomic import atomic_open
from speechbert.io.kaldi_table import write_table
from speechbert.io.sqa_data import load_sqa_set
from speechbert.metrics.bootstrap import DEFAULT_BOOTSTRAP_SAMPLES, DEFAULT_BOOTSTRAP_SEED
from speechbert.metrics.sqa_scoring import (DEFAULT_WER_EDGES, ERROR_RULES, format_result_md,
                                            parse_wer_edges, passage_asr_table, read_asr_text, read_predictions,
                                            score_sqa)


class _DefaultSeed(int):
    """The default of ``--seed``: an ``int`` (it still seeds the tool) that says it was not given."""


def get_parser() -> argparse.ArgumentParser:
    parser = get_base_parser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="data directory (text, contexts, questions.jsonl)")
    parser.add_argument("--predictions", required=True, help="predictions.jsonl of the system")
    parser.add_argument("--out_dir", required=True, help="where result.json and result.md go")
    parser.add_argument("--asr_text", default=None,
                        help="ASR transcript table <utt> <words> for the WER and the splits "
                             "(default: <data>/text.asr if it exists; 'none' to disable)")
    parser.add_argument("--system_name", default=None,
                        help="row name in RESULTS.md (default: the name of the experiment directory)")
    parser.add_argument("--wer_buckets", default=",".join(f"{e:g}" for e in DEFAULT_WER_EDGES),
                        help="passage-WER bucket edges in percent: 0,10,20,40 gives "
                             "0, (0,10], (10,20], (20,40], >40")
    parser.add_argument("--error_rule", default="any", choices=ERROR_RULES,
                        help="a question is in the 'ASR error' split if any / the first / all of its "
                             "reference answer spans hold an ASR error")
    parser.add_argument("--frame_shift", type=float, default=0.01, help="frame length of ff1_pooled (s)")
    parser.add_argument("--per_question", default=None,
                        help="optional extra copy of the per-question scores (always written to "
                             "<out_dir>/scores.jsonl)")
    parser.add_argument("--per_passage_wer", default=None,
                        help="optional Kaldi table <context_id> <WER%%> <errors> <ref_words> (needs ASR text)")
    # --seed (every tool's random seed, get_base_parser) is here also the system's training seed,
    # recorded in result.json only when given: the default is marked so that run() can tell.
    parser.set_defaults(seed=_DefaultSeed(parser.get_default("seed")))
    parser.add_argument("--bootstrap_samples", type=int, default=DEFAULT_BOOTSTRAP_SAMPLES,
                        help="resamples of the 95%% bootstrap intervals (0: no intervals)")
    parser.add_argument("--bootstrap_seed", type=int, default=DEFAULT_BOOTSTRAP_SEED,
                        help="seed of the bootstrap resampling")
    return parser


def _default_system_name(predictions: Path) -> str:
    # exp/<name>/decode_<set>/predictions.jsonl -> <name>
    parent = predictions.resolve().parent
    return parent.parent.name if parent.name.startswith("decode") else parent.name


def run(args: argparse.Namespace) -> int:
    with gc_paused():  # a fifth of the CPU time went to collections that find nothing
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    data = Path(args.data)
    if args.bootstrap_samples < 0:
        raise ConfigError(f"--bootstrap_samples must be 0 (no intervals) or positive, got {args.bootstrap_samples}")
    edges = parse_wer_edges(args.wer_buckets)
    sqa = load_sqa_set(data, require_utt2dur=False, require_questions=True)
    by_id = {q["id"]: q for q in sqa.questions}
    durations = None
    if sqa.utt2dur:
        # A time past the end of its passage is a broken decoder, not a prediction to score.
        durations = {cid: sum(sqa.utt2dur[u] for u in utts) for cid, utts in sqa.contexts.items()
                     if all(u in sqa.utt2dur for u in utts)}
    predictions = read_predictions(args.predictions, by_id, durations)
    asr_path: Path | None = None
    if args.asr_text is None:
        if (data / "text.asr").is_file():
            asr_path = data / "text.asr"
    elif args.asr_text.lower() != "none":
        asr_path = Path(args.asr_text)
        if not asr_path.is_file():
            raise DataError("no such file (--asr_text)", asr_path)
    asr_text = read_asr_text(asr_path, sqa.text) if asr_path is not None else None
    if args.per_passage_wer and asr_text is None:
        raise ConfigError("--per_passage_wer needs an ASR transcript (--asr_text or <data>/text.asr)")
    alignment = passage_asr_table(sqa, asr_text) if asr_text is not None else None
    result, scores = score_sqa(sqa, predictions, asr_text=asr_text, wer_edges=edges,
                               error_rule=args.error_rule, frame_shift=args.frame_shift,
                               asr_alignment=alignment, bootstrap_samples=args.bootstrap_samples,
                               bootstrap_seed=args.bootstrap_seed)
    header = {
        "system_name": args.system_name or _default_system_name(Path(args.predictions)),
        "data": str(data),
        "data_set": data.resolve().name,
        "predictions": str(args.predictions),
        "asr_text": None if asr_path is None else str(asr_path),
        "seed": None if isinstance(args.seed, _DefaultSeed) else int(args.seed),
    }
    result = {**header, **result}
    out_dir = Path(args.out_dir)
    c = result["counts"]
    if c["missing_predictions"]:
        logging.warning("%d of %d questions have no prediction and score 0",
                        c["missing_predictions"], c["questions"])
    if c["null_time_references"] or c["questions_without_time_reference"]:
        logging.info("%d unaligned reference spans excluded; %d questions without an aligned reference "
                     "are not in FF1/AOS", c["null_time_references"], c["questions_without_time_reference"])
    per_question = "".join(json.dumps(s.as_dict()) + "\n" for s in scores)
    with atomic_open(out_dir / "scores.jsonl") as f:
        f.write(per_question)
    if args.per_question:
        with atomic_open(args.per_question) as f:
            f.write(per_question)
    if args.per_passage_wer and alignment is not None:
        write_table(args.per_passage_wer,
                    {cid: f"{a.wer:.2f} {a.errors} {a.ref_words}" for cid, a in alignment[0].items()})
    with atomic_open(out_dir / "result.json") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    md = format_result_md(result)
    with atomic_open(out_dir / "result.md") as f:
        f.write(md)
    print(md)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
