"""Word alignment accuracy of a CTM against reference word times (e.g. the synthesizer's).

    python -m speechbert.bin.align_report --ctm exp/align/test/word.ctm \
        --ref_ctm data/test/oracle.ctm --out exp/align/test/report.md

Writes a markdown table (mean/median absolute start and end errors, % of boundaries within
10/20/50 ms, missing words) and the same numbers as JSON beside it (``report.json``), and, in
``plots/`` beside it, a histogram of the word-start errors and one utterance's spectrogram with
the reference and predicted word boundaries (audio from the ``wav.scp`` beside ``--ref_ctm``
unless ``--wav_scp`` names one), linked from the report. A plot that cannot be drawn is a
warning: the report's numbers are still written.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Sequence

from speechbert.bin.cli import ArgumentParser, get_base_parser, run_main, str2bool
from speechbert.errors import DataError


def get_parser() -> ArgumentParser:
    parser = get_base_parser(__doc__.split("\n\n")[0])
    a = parser.add_argument
    a("--ctm", required=True, help="word CTM to score")
    a("--ref_ctm", required=True, help="reference word CTM")
    a("--out", required=True, help="markdown report to write; the JSON goes beside it")
    a("--title", default=None, help="report title (default: the CTM path)")
    a("--plots", type=str2bool, default=True, help="draw the plots (plots/ beside --out)")
    a("--wav_scp", default=None,
      help="audio of the example utterance (default: wav.scp beside --ref_ctm, if there is one)")
    a("--segments", default=None, help="segments for --wav_scp (default: the one beside it, if any)")
    a("--example_utt", default=None,
      help="utterance to draw (default: the one whose mean start error is the median utterance's)")
    return parser


def run(args: argparse.Namespace) -> int:
    from speechbert.align.report import compare_ctms
    from speechbert.io.atomic import atomic_open
    from speechbert.io.ctm import read_ctm

    hyp, ref = read_ctm(args.ctm), read_ctm(args.ref_ctm)
    rep = compare_ctms(hyp, ref)
    out = Path(args.out)
    plots = _draw_plots(args, rep, hyp, ref, out.parent / "plots") if args.plots else []
    with atomic_open(out) as f:
        f.write(rep.to_markdown(args.title or f"Word alignment accuracy: {args.ctm} vs {args.ref_ctm}", plots))
    with atomic_open(out.with_suffix(".json")) as f:
        json.dump(rep.to_dict(), f, indent=1)
        f.write("\n")
    s = rep.starts
    logging.info("%s: word starts within 20/50 ms: %.1f%% / %.1f%% (median %.1f ms); %d of %d words missing",
                 out, s.within(20), s.within(50), s.median_ms, rep.missing_words, rep.ref_words)
    return 0


def _draw_plots(args: argparse.Namespace, rep, hyp, ref, plot_dir: Path) -> list[tuple[str, str]]:
    """The plots the report links; a failure is a warning (the numbers matter more)."""
    from speechbert.audio.wav_io import WavSource
    from speechbert.plots.alignment_plots import write_alignment_plots

    if args.example_utt is not None and (args.example_utt not in ref or args.example_utt not in hyp):
        raise DataError(f"--example_utt {args.example_utt}: not in both {args.ctm} and {args.ref_ctm}")
    wav_scp = Path(args.wav_scp) if args.wav_scp else Path(args.ref_ctm).parent / "wav.scp"
    segments = Path(args.segments) if args.segments else wav_scp.parent / "segments"
    for given in (args.wav_scp, args.segments):
        if given and not Path(given).is_file():
            raise DataError("no such file", given)
    try:
        audio = None
        if wav_scp.is_file():
            audio = WavSource(wav_scp, segments if segments.is_file() else None)
        else:
            logging.info("no %s: the report gets no example utterance", wav_scp)
        return write_alignment_plots(rep, hyp, ref, plot_dir, audio=audio, utt=args.example_utt)
    except Exception as e:  # noqa: BLE001 - plots are a by-product of the report
        logging.warning("could not draw the alignment plots in %s (%s: %s)", plot_dir, type(e).__name__, e)
        return []


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(run, get_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
