"""Benchmark the feature stage and the feature reader.

1. Feature stage: ``extract_to_ark`` (read wav.scp entries from disk, fbank or MFCC, checks,
   write ark/scp/utt2num_frames) against calling ``torchaudio.compliance.kaldi.fbank`` /
   ``mfcc`` alone on the same in-memory audio (the reference). CPU time of one thread, best of
   ``--repeats`` runs interleaved with the reference (``bench_common.interleaved``). Target:
   fbank stage / fbank alone <= ``--max_ratio`` (1.10).
2. ``kaldi-native-fbank`` (if installed; an optional dependency of this benchmark only): its
   CPU time on the same audio and the max abs difference of its frames from ours.
3. Reader: thousands of small random frame slices (with CMVN) out of a few hundred utterances,
   through ``FeatsReader`` (with and without its LRU cache) against ``kaldiio.load_scp`` + slice
   and against slicing matrices already in memory.

Audio: eSpeak NG speech from ``speechbert.synth.tts`` when it is available (``--audio auto``),
else synthetic gliding harmonics with noise and pauses.

    tools/venv/bin/python bench/feats.py [--minutes 3] [--audio auto|speech|tones] [--json FILE]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile
import torch
from bench_common import Bench, add_bench_args, interleaved, one_thread

from speechbert.audio.cmvn import GlobalCMVN, compute_stats
from speechbert.audio.extract import extract_to_ark
from speechbert.audio.features import INT16_SCALE, FeatureConfig, FeatureExtractor, add_deltas
from speechbert.audio.wav_io import WavSource
from speechbert.io.feats import FeatsReader

RATE = 16000
SENTENCES = [
    "the quick brown fox jumps over the lazy dog near the river bank",
    "architecturally the school has a catholic character",
    "atop the main building's gold dome is a golden statue of the virgin mary",
    "immediately in front of the main building and facing it is a copper statue of christ",
    "next to the main building is the basilica of the sacred heart",
    "it is a replica of the grotto at lourdes france where the virgin mary reputedly appeared",
    "at the end of the main drive is a simple modern stone statue of mary",
    "the university is the major seat of the congregation of holy cross",
]


def make_tones(seconds: float, seed: int) -> np.ndarray:
    """Speech-like test audio: a few gliding harmonics, noise bursts and pauses."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    f0 = 120 + 40 * np.sin(2 * np.pi * rng.uniform(0.2, 0.6) * t)
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    x = sum((0.2 / k) * np.sin(k * phase) for k in range(1, 6))
    envelope = (np.sin(2 * np.pi * rng.uniform(2, 4) * t) > -0.3).astype(np.float64)
    x = x * envelope + 0.01 * rng.standard_normal(n)
    return x.astype(np.float32)


def make_audio(minutes: float, kind: str) -> tuple[list[np.ndarray], str]:
    """Utterances totalling about ``minutes`` of audio, and a description."""
    if kind in ("auto", "speech"):
        try:
            from speechbert.synth.tts import EspeakSynthesizer

            synth = EspeakSynthesizer(sample_rate=RATE)
            utts, total, i = [], 0.0, 0
            while total < minutes * 60:
                res = synth.synthesize(SENTENCES[i % len(SENTENCES)], seed=i)
                utts.append(res.audio.astype(np.float32))
                total += res.duration
                i += 1
            return utts, "eSpeak NG speech"
        except Exception as e:  # noqa: BLE001 - any failure falls back to synthetic audio
            if kind == "speech":
                raise
            print(f"(eSpeak NG unavailable: {type(e).__name__}: {e}; using tones)", file=sys.stderr)
    rng = np.random.default_rng(0)
    utts, total, i = [], 0.0, 0
    while total < minutes * 60:
        secs = float(rng.uniform(3.0, 9.0))
        utts.append(make_tones(secs, i))
        total += secs
        i += 1
    return utts, "tones + noise"


def bench_stage(utts: list[np.ndarray], workdir: Path, repeats: int) -> list[tuple[str, float, float, float]]:
    """Rows of (name, seconds, reference seconds, audio seconds) for fbank and MFCC."""
    wav_scp = workdir / "wav.scp"
    with open(wav_scp, "w", encoding="utf-8") as f:
        for i, x in enumerate(utts):
            path = workdir / f"utt{i:04d}.wav"
            soundfile.write(str(path), x, RATE, subtype="PCM_16")
            f.write(f"utt{i:04d} {path}\n")
    # The reference gets the same (16-bit quantized) samples, already in memory.
    audio = [torch.from_numpy(soundfile.read(str(workdir / f"utt{i:04d}.wav"), dtype="float32")[0])
             for i in range(len(utts))]
    seconds = sum(len(a) for a in audio) / RATE
    import torchaudio.compliance.kaldi as kaldi

    rows = []
    configs = [("fbank 80", FeatureConfig()),
               ("mfcc 39", FeatureConfig(feats_type="mfcc", num_mel_bins=23))]
    for name, cfg in configs:
        if cfg.feats_type == "fbank":
            def reference() -> None:
                for a in audio:
                    kaldi.fbank((a * INT16_SCALE).unsqueeze(0), num_mel_bins=cfg.num_mel_bins, dither=0.0)
        else:
            def reference() -> None:
                for a in audio:
                    add_deltas(kaldi.mfcc((a * INT16_SCALE).unsqueeze(0), num_mel_bins=cfg.num_mel_bins,
                                          dither=0.0).numpy())

        out = workdir / "out"

        def ours() -> None:
            extract_to_ark(WavSource(wav_scp, sample_rate=RATE), FeatureExtractor(cfg),
                           out / "feats.1.ark", out / "feats.1.scp", out / "utt2num_frames.1")

        def clean() -> None:  # as make_feats.sh does before its jobs start: not timed
            shutil.rmtree(out, ignore_errors=True)

        # Interleaved so that load from other processes hits both alike; best of each. The
        # output of the last run is removed before each run, untimed, as make_feats.sh does.
        best = interleaved({"reference": reference, "ours": ours}, repeats,
                           before=lambda name: clean() if name == "ours" else None)
        t_ref, t_ours = best["reference"], best["ours"]
        rows.append((name, t_ours, t_ref, seconds))
    return rows


def bench_reader(workdir: Path, num_utts: int, num_slices: int, repeats: int) -> list[tuple[str, float]]:
    """Rows of (name, microseconds per slice) for random small slices with CMVN."""
    rng = np.random.default_rng(0)
    mats = {f"u{i:04d}": rng.standard_normal((int(rng.integers(200, 800)), 80)).astype(np.float32)
            for i in range(num_utts)}
    import kaldiio

    ark, scp = workdir / "r.ark", workdir / "r.scp"
    with kaldiio.WriteHelper(f"ark,scp:{ark},{scp}") as w:
        for k, v in mats.items():
            w(k, v)
    cmvn = GlobalCMVN(compute_stats(mats.items()))
    keys = list(mats)
    picks = []
    for _ in range(num_slices):
        k = keys[int(rng.integers(len(keys)))]
        n = mats[k].shape[0]
        length = int(rng.integers(10, 60))
        start = int(rng.integers(0, n - length))
        picks.append((k, start, start + length))

    lazy = kaldiio.load_scp(str(scp))
    reader = FeatsReader(scp, cmvn)
    cached = FeatsReader(scp, cmvn, cache_size=num_utts)

    def run_kaldiio() -> None:
        for k, s, e in picks:
            cmvn(lazy[k][s:e])

    def run_reader() -> None:
        for k, s, e in picks:
            reader.load(k, s, e)

    def run_cached() -> None:
        for k, s, e in picks:
            cached.load(k, s, e)

    def run_memory() -> None:
        for k, s, e in picks:
            cmvn(mats[k][s:e])

    for k, s, e in picks[:50]:
        assert np.allclose(reader.load(k, s, e), cmvn(mats[k][s:e]), atol=1e-6)
        assert np.allclose(cached.load(k, s, e), cmvn(mats[k][s:e]), atol=1e-6)
    fns = {"kaldiio.load_scp + slice + CMVN": run_kaldiio, "FeatsReader.load(utt, s, e), CMVN": run_reader,
           f"FeatsReader cache_size={num_utts}": run_cached, "in-memory numpy slice + CMVN": run_memory}
    best = interleaved(fns, repeats)  # the warm-up opens files, parses headers, fills the cache
    return [(name, best[name] / num_slices * 1e6) for name in fns]


def bench_kaldi_native(workdir: Path, num_utts: int, repeats: int) -> tuple[float, float, float, int] | None:
    """(kaldi-native-fbank CPU s, torchaudio CPU s, max abs difference, frames), or None if absent.

    Same 16-bit audio, same options as our default fbank (25/10 ms povey window, preemphasis
    0.97, 80 bins from 20 Hz to Nyquist, no dither, no energy, snip_edges).
    """
    try:
        import kaldi_native_fbank as knf
    except ImportError:
        return None
    import kaldiio
    import torchaudio.compliance.kaldi as kaldi

    audio = [soundfile.read(str(workdir / f"utt{i:04d}.wav"), dtype="float32")[0] * INT16_SCALE
             for i in range(num_utts)]
    opts = knf.FbankOptions()
    opts.frame_opts.dither = 0.0
    opts.frame_opts.snip_edges = True
    opts.frame_opts.samp_freq = RATE
    opts.mel_opts.num_bins = 80
    opts.mel_opts.low_freq = 20.0
    opts.mel_opts.high_freq = 0.0
    opts.use_energy = False

    def native(x: np.ndarray) -> np.ndarray:
        fb = knf.OnlineFbank(opts)
        fb.accept_waveform(float(RATE), x)
        fb.input_finished()
        return np.stack([fb.get_frame(i) for i in range(fb.num_frames_ready)])

    tensors = [torch.from_numpy(x).unsqueeze(0) for x in audio]

    def run_native() -> None:
        for x in audio:
            native(x)

    def run_torchaudio() -> None:
        for t in tensors:
            kaldi.fbank(t, num_mel_bins=80, dither=0.0)

    best = interleaved({"native": run_native, "torchaudio": run_torchaudio}, repeats)
    ours = kaldiio.load_scp(str(workdir / "out" / "feats.1.scp"))  # fbank 80 of the stage run
    diff, frames = 0.0, 0
    for i, x in enumerate(audio):
        theirs, mine = native(x), ours[f"utt{i:04d}"]
        if theirs.shape != mine.shape:
            raise SystemExit(f"kaldi-native-fbank: utt{i:04d} has {theirs.shape} frames, ours {mine.shape}")
        diff = max(diff, float(np.abs(theirs - mine).max()))
        frames += mine.shape[0]
    return best["native"], best["torchaudio"], diff, frames


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3.0, help="audio to process")
    parser.add_argument("--audio", choices=["auto", "speech", "tones"], default="auto")
    parser.add_argument("--max_ratio", type=float, default=1.10, help="target: fbank stage / fbank alone CPU time")
    parser.add_argument("--reader_utts", type=int, default=300)
    parser.add_argument("--reader_slices", type=int, default=5000)
    add_bench_args(parser, repeats=7)
    args = parser.parse_args()
    one_thread()
    bench = Bench("feats", args)

    utts, kind = make_audio(args.minutes, args.audio)
    with tempfile.TemporaryDirectory(prefix="bench_feats.") as tmp:
        workdir = Path(tmp)
        rows = bench_stage(utts, workdir, args.repeats)
        # The stage's last output is the MFCC run: recompute fbank for the comparison.
        extract_to_ark(WavSource(workdir / "wav.scp", sample_rate=RATE), FeatureExtractor(FeatureConfig()),
                       workdir / "out" / "feats.1.ark", workdir / "out" / "feats.1.scp")
        native = bench_kaldi_native(workdir, len(utts), args.repeats)
        reader_rows = bench_reader(workdir, args.reader_utts, args.reader_slices, args.repeats)

    print(f"\nFeature stage, 1 thread, {len(utts)} utterances, {rows[0][3]:.1f} s of {kind}, "
          f"CPU time, best of {args.repeats} interleaved\n")
    print("| features | torchaudio alone (CPU s) | x real time | extract_to_ark (CPU s) | x real time "
          "| RTF/core | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, t_ours, t_ref, seconds in rows:
        print(f"| {name} | {t_ref:.3f} s | {seconds / t_ref:,.0f} | {t_ours:.3f} s | {seconds / t_ours:,.0f} "
              f"| {t_ours / seconds:.5f} | {t_ours / t_ref:.2f} |")
    (_, fb_ours, fb_ref, seconds), (_, mf_ours, mf_ref, _) = rows
    bench.record(audio_s=round(seconds, 1), fbank_ref_s=round(fb_ref, 4), fbank_stage_s=round(fb_ours, 4),
                 fbank_ratio=round(fb_ours / fb_ref, 3), fbank_xrt=round(seconds / fb_ours),
                 mfcc_ratio=round(mf_ours / mf_ref, 3))
    if native is None:
        print("\nkaldi-native-fbank: not installed (pip install kaldi-native-fbank), not compared")
    else:
        t_native, t_torchaudio, diff, frames = native
        print(f"\nkaldi-native-fbank: {t_native:.3f} s vs torchaudio fbank {t_torchaudio:.3f} s "
              f"(ratio {t_native / t_torchaudio:.2f}) on the same audio; {frames} frames, same count; "
              f"max abs difference from our features {diff:.2e}")
        bench.record(knf_ratio=round(t_native / t_torchaudio, 3), knf_max_abs_diff=float(f"{diff:.3g}"))
    print(f"\nFeature reader, {args.reader_slices} random slices of 10-60 frames x 80 dims "
          f"from {args.reader_utts} utterances (best of {args.repeats})\n")
    print("| access | us / slice |")
    print("|---|---:|")
    for name, us in reader_rows:
        print(f"| {name} | {us:.1f} |")
    bench.record(reader_us=round(reader_rows[1][1], 2), reader_cached_us=round(reader_rows[2][1], 2))
    bench.target("fbank stage / fbank alone", round(fb_ours / fb_ref, 3), "<=", args.max_ratio)
    return bench.finish()


if __name__ == "__main__":
    sys.exit(main())
