"""The parts of the GPU check: each runs its tools as child processes and returns a ``PartResult``.

Every part has a time budget (the child is killed past it and the part fails), writes the child's
output to ``<out>/logs/<part>.log`` and judges only what the tools wrote. ``Context.cpu`` runs the
same parts on CPU with tiny sizes (fp32), which is how CI tests this script.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import staging  # noqa: E402

REPO = HERE.parents[1]
#: the fine-tuning experiment of the recipe and the CPU predictions part (c) compares with
FINETUNE_DIR = "exp/finetune"
CPU_PREDICTIONS = "exp/finetune/decode_test/predictions.jsonl"
#: targets of issue 12 item 7 for our encoder on an H100/H200 (bf16, BERT-base, seq 384)
MIN_MFU, MIN_RATIO = 0.45, 1.2
#: a progress line of the trainer: "... step 20/410 (batch 20/41) loss 3.844 ..."
PROGRESS_RE = re.compile(r"step (\d+)/\d+ \(batch \d+/\d+\) loss (\S+)")


@dataclass
class Context:
    """What every part needs: where the recipe and the outputs are, and how to run."""

    recipe: Path
    out: Path
    work: Path  # scratch directory holding copies of the recipe's inputs
    cpu: bool
    python: str = sys.executable
    score_tol: float = 1e-2
    cpu_max_steps: int = 6

    @property
    def ngpu(self) -> str:
        return "0" if self.cpu else "1"

    def log(self, part: str) -> Path:
        """A fresh log file of ``part`` (a report directory reused starts it over)."""
        path = self.out / "logs" / f"{part}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        return path


@dataclass
class PartResult:
    """One part's verdict: ``pass``, ``fail`` or ``skipped``, with what the report shows."""

    key: str
    title: str
    status: str
    summary: str
    details: list[str] = field(default_factory=list)
    seconds: float = 0.0
    budget: float = 0.0
    log: str = ""


class PartFailed(Exception):
    """A part could not run or its result is wrong; args: the message, optionally detail lines."""


class PartSkipped(Exception):
    """The part does not apply here; the message says why."""


def run_logged(cmd: list[str], log: Path, timeout: float, cwd: Path, env: dict[str, str] | None = None) -> int:
    """Run ``cmd`` with stdout and stderr appended to ``log``; raise ``PartFailed`` past ``timeout``."""
    child_env = {**os.environ, **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), child_env.get("PYTHONPATH")]))
    with open(log, "a", encoding="utf-8") as f:
        f.write("$ (cd " + str(cwd) + " && " + " ".join(cmd) + ")\n")
        f.flush()
        try:
            return subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT, env=child_env,
                                  timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            raise PartFailed(f"killed after its time budget of {timeout:.0f} s (see {log.name})") from None


def remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 1:
        raise PartFailed("no time left in the part's budget")
    return left


# --------------------------------------------------------------------------- (a) train step


def part_train_step(ctx: Context, deadline: float) -> tuple[str, list[str]]:
    """bf16 train-step tokens/s and MFU, ours vs ``transformers.BertModel`` sdpa (bench/transformer.py)."""
    result_file = ctx.out / "logs" / "transformer.json"
    if ctx.cpu:
        sizes = ["--device", "cpu", "--layers", "2", "--hidden", "64", "--heads", "4", "--vocab", "2000",
                 "--seq", "32", "--batch", "4", "--repeats", "2", "--warmup", "1", "--no-memory", "--threads", "1",
                 "--min_ratio", "0"]
    else:
        sizes = ["--device", "cuda", "--size", "base", "--batch", "0", "--repeats", "10", "--warmup", "3",
                 "--optimizer", "fused", "--min_ratio", str(MIN_RATIO), "--min_mfu", str(MIN_MFU)]
    cmd = [ctx.python, str(REPO / "bench" / "transformer.py"), *sizes, "--json", str(result_file)]
    result_file.unlink(missing_ok=True)  # never judge the results of an earlier run
    log = ctx.log("a_train_step")
    rc = run_logged(cmd, log, remaining(deadline), REPO)
    if not result_file.is_file():
        raise PartFailed(f"bench/transformer.py exited with {rc} without results (see {log.name})")
    bench = json.loads(result_file.read_text(encoding="utf-8"))
    r = bench["values"]
    rows = ["| model | batch x seq | tokens/s | step ms | peak MiB | TFLOP/s | MFU (datasheet) | MFU (measured matmul) | host syncs |",
            "|---|---|---|---|---|---|---|---|---|"]
    for name, label in (("ours", "speechbert BertEncoder"), ("hf", "transformers BertModel (sdpa)")):
        rows.append(f"| {label} | {r['batch']} x {r['seq']} | {r[f'{name}_tokens_s']:.0f} | {r[f'{name}_step_ms']} | "
                    f"{r.get(f'{name}_peak_mib', '-')} | {r.get(f'{name}_tflops', '-')} | {_pct(r.get(f'{name}_mfu'))} | "
                    f"{_pct(r.get(f'{name}_mfu_matmul'))} | {r.get(f'{name}_host_syncs')} |")
    profiler = [line for line in log.read_text(encoding="utf-8", errors="replace").splitlines()
                if line.startswith("profiler, one step")]
    details = rows + ["", f"ours/HF tokens/s: **{r['ratio']:.2f}x**; {r['dtype']}, AdamW {r['optimizer']}; "
                      f"GPU {r.get('gpu', '-')}, bf16 matmul measured {r.get('matmul_peak_tflops', '-')} TFLOP/s, "
                      f"datasheet {r.get('datasheet_peak_tflops', '-')} TFLOP/s.", ""]
    details += [f"- {line}" for line in profiler]
    details += [f"- target {t['what']} {t['op']} {t['limit']}: {t['value']} ({'met' if t['ok'] else 'MISSED'})"
                for t in bench["targets"]]
    summary = (f"ours {r['ours_tokens_s']:.0f} tokens/s, HF {r['hf_tokens_s']:.0f} ({r['ratio']:.2f}x), "
               f"MFU {_pct(r.get('ours_mfu'))}, batch {r['batch']}x{r['seq']}, host syncs {r.get('ours_host_syncs')}")
    missed = [t["what"] for t in bench["targets"] if not t["ok"]]
    if missed:
        raise PartFailed(f"{summary}: missed {', '.join(missed)}", details)
    return summary, details


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


# --------------------------------------------------------------------------- (b) fine-tuning


def stage_finetune_inputs(ctx: Context) -> Path:
    """Copy what ``exp/finetune/config.yaml`` reads into the scratch directory; return the config copy."""
    config = ctx.recipe / FINETUNE_DIR / "config.yaml"
    if not config.is_file():
        raise PartFailed(f"{config} is missing: the recipe's fine-tuning stage (7) has not run there")
    staging.copy_into(ctx.recipe, ctx.work, staging.relative_inputs(ctx.recipe, config))
    staging.copy_into(ctx.recipe, ctx.work, [f"{FINETUNE_DIR}/config.yaml"])
    return ctx.work / FINETUNE_DIR / "config.yaml"


def finetune_args(ctx: Context, config: Path, out_dir: Path) -> list[str]:
    args = ["--config", str(config), "--output_dir", str(out_dir), "--max_epoch", "1", "--resume", "false",
            "--ngpu", ctx.ngpu, "--bf16", "false" if ctx.cpu else "true", "--tensorboard", "false",
            "--keep_nbest", "1", "--nbest_average", "1", "--num_workers", "0"]
    if ctx.cpu:
        args += ["--max_steps", str(ctx.cpu_max_steps), "--log_interval", "1"]
    else:
        args += ["--log_interval", "5"]
    return args


def read_progress_losses(log: Path) -> list[tuple[int, float]]:
    """(update, loss) of every progress line the trainer wrote into ``log``."""
    out = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        m = PROGRESS_RE.search(line)
        if m:
            out.append((int(m.group(1)), float(m.group(2))))
    return out


def judge_losses(losses: list[tuple[int, float]]) -> tuple[str, list[str]]:
    """Finite everywhere and lower in the second half of the epoch than in the first."""
    if len(losses) < 2:
        raise PartFailed(f"only {len(losses)} progress line(s) with a loss in the log: cannot see a trend")
    values = [v for _, v in losses]
    if not all(math.isfinite(v) for v in values):
        raise PartFailed(f"non-finite loss: {values}")
    half = len(values) // 2
    first, last = sum(values[:half]) / half, sum(values[half:]) / (len(values) - half)
    trend = f"loss {values[0]:.3f} -> {values[-1]:.3f} (mean {first:.3f} in the first half, {last:.3f} in the second)"
    details = ["| update | loss |", "|---|---|"] + [f"| {s} | {v:.4f} |" for s, v in losses]
    if not last < first:
        raise PartFailed(f"loss not decreasing: {trend}", details)
    return trend, details


def part_finetune(ctx: Context, deadline: float) -> tuple[str, list[str]]:
    """One epoch of the recipe's fine-tuning stage on one GPU, bf16; the loss is finite and falls."""
    config = stage_finetune_inputs(ctx)
    out_dir = ctx.work / "exp" / "gpu_check_finetune"
    log = ctx.log("b_finetune")
    start = time.monotonic()
    rc = run_logged([ctx.python, "-m", "speechbert.bin.sqa_train", *finetune_args(ctx, config, out_dir)],
                    log, remaining(deadline), ctx.work)
    seconds = time.monotonic() - start
    if rc != 0:
        raise PartFailed(f"finetune exited with {rc} (see {log.name})")
    trend, details = judge_losses(read_progress_losses(log))
    return f"{trend}; {seconds:.0f} s", details


# --------------------------------------------------------------------------- (c) decoding


def read_predictions(path: Path) -> dict[str, dict]:
    records = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                try:
                    r = json.loads(line)
                    records[r["id"]] = r
                except (json.JSONDecodeError, KeyError) as e:
                    raise PartFailed(f"{path}:{lineno}: not a prediction record ({e})") from None
    return records


def compare_predictions(cpu: dict[str, dict], gpu: dict[str, dict], tol: float) -> tuple[str, list[str]]:
    """Same questions, same best span for each, scores of the spans both kept within ``tol``."""
    if set(cpu) != set(gpu):
        raise PartFailed(f"different questions: {len(set(cpu) - set(gpu))} only on CPU, "
                         f"{len(set(gpu) - set(cpu))} only on GPU")
    flipped, max_best, max_any = [], 0.0, 0.0
    for qid, c in cpu.items():
        g = gpu[qid]
        if list(c["word_span"]) != list(g["word_span"]):
            margin = (c["nbest"][0]["score"] - c["nbest"][1]["score"]) if len(c.get("nbest", [])) > 1 else None
            flipped.append(f"{qid}: CPU {c['word_span']} GPU {g['word_span']} (CPU top-2 margin {margin})")
        else:
            max_best = max(max_best, abs(c["score"] - g["score"]))
        g_scores = {tuple(e["word_span"]): e["score"] for e in g.get("nbest", [])}
        for e in c.get("nbest", []):
            if tuple(e["word_span"]) in g_scores:
                max_any = max(max_any, abs(e["score"] - g_scores[tuple(e["word_span"])]))
    summary = (f"{len(cpu)} questions, {len(cpu) - len(flipped)} with the CPU's best span; max |score diff| "
               f"{max_best:.2e} (best spans), {max_any:.2e} (n-best spans in both); tolerance {tol:g}")
    details = [summary] + [f"- {x}" for x in flipped[:20]]
    if flipped or max_best > tol or max_any > tol:
        raise PartFailed(summary, details)
    return summary, details


def part_decode(ctx: Context, deadline: float) -> tuple[str, list[str]]:
    """Decode the test set on the GPU (batches of 64 windows); compare with the recipe's CPU predictions."""
    cpu_pred = ctx.recipe / CPU_PREDICTIONS
    model_dir = ctx.recipe / FINETUNE_DIR
    needed = [model_dir / "config.yaml", model_dir / "inputs.yaml", model_dir / "model.avg.pt", cpu_pred]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        raise PartFailed(f"missing (stages 7-8 of the recipe have not run there): {', '.join(missing)}")
    inputs = staging.relative_inputs(ctx.recipe, model_dir / "inputs.yaml")
    record = yaml.safe_load((model_dir / "inputs.yaml").read_text(encoding="utf-8")) or {}
    # The test set's dump in the model's features: beside its training dump (dump/<tag>/<set>).
    test_dump = str(Path(record.get("train_dump") or "dump/fbank/train").parent / "test")
    test_inputs = ["data/test", test_dump, "exp/align/test/word.ctm"]
    staging.copy_into(ctx.recipe, ctx.work, [p for p in test_inputs + inputs if (ctx.recipe / p).exists()])
    for name in ("config.yaml", "inputs.yaml", "model.avg.pt"):
        staging.copy_into(ctx.recipe, ctx.work, [f"{FINETUNE_DIR}/{name}"])
    cmvn = record.get("cmvn")
    out = ctx.out / "logs" / "gpu_predictions.jsonl"
    out.unlink(missing_ok=True)
    cmd = [ctx.python, "-m", "speechbert.bin.sqa_decode", "--model_dir", FINETUNE_DIR, "--data", "data/test",
           "--dump", test_dump, "--ctm", "exp/align/test/word.ctm", "--out", str(out),
           "--ngpu", ctx.ngpu, "--batch_size", "64"] + (["--cmvn", str(cmvn)] if cmvn else [])
    log = ctx.log("c_decode")
    start = time.monotonic()
    rc = run_logged(cmd, log, remaining(deadline), ctx.work)
    seconds = time.monotonic() - start
    if rc != 0:
        raise PartFailed(f"sqa_decode exited with {rc} (see {log.name})")
    summary, details = compare_predictions(read_predictions(cpu_pred), read_predictions(out), ctx.score_tol)
    return f"{summary}; {seconds:.0f} s", details


# --------------------------------------------------------------------------- (d) SSL frontend


#: the tiny randomly initialised SSL frontend of the mini recipe's tuning variants, and its maker
SSL_CONFIG = REPO / "egs" / "mini_spoken_squad" / "sqa1" / "conf" / "tuning" / "ssl_tiny.yaml"
MAKE_TINY_SSL = REPO / "egs" / "mini_spoken_squad" / "sqa1" / "local" / "make_tiny_ssl.py"
#: bf16 autocast against float32: the mean absolute difference, relative to the mean magnitude
SSL_REL_TOL = 0.05


def _ssl_audio(data: Path, seconds: tuple[float, ...] = (1.0, 2.5, 4.0, 7.5)) -> None:
    """A data dir of a few seeded noisy chirps (16 kHz): audio of several lengths, no corpus needed."""
    import numpy as np
    import soundfile

    data.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    lines = []
    for k, secs in enumerate(seconds):
        t = np.arange(int(secs * 16000)) / 16000
        x = 0.3 * np.sin(2 * np.pi * (200 + 300 * t) * t) + 0.02 * rng.standard_normal(len(t))
        wav = data / f"u{k}.wav"
        soundfile.write(wav, x.astype("float32"), 16000, subtype="PCM_16")
        lines.append(f"u{k} {wav}\n")
    (data / "wav.scp").write_text("".join(lines), encoding="utf-8")


def part_ssl_frontend(ctx: Context, deadline: float) -> tuple[str, list[str]]:
    """The recipe's SSL extraction (steps/make_feats.sh --ngpu 1, a tiny random model) vs the CPU's."""
    import kaldiio
    import numpy as np

    work = ctx.work / "ssl_check"
    (work / "conf").mkdir(parents=True, exist_ok=True)
    for name in ("steps", "utils"):
        if not (work / name).exists():
            os.symlink(REPO / name, work / name)
    conf = work / "conf" / SSL_CONFIG.name
    conf.write_text(SSL_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    _ssl_audio(work / "data")
    log = ctx.log("d_ssl_frontend")
    make = [ctx.python, str(MAKE_TINY_SSL), "--config", f"conf/{conf.name}"]
    if run_logged(make, log, remaining(deadline), work) != 0:
        raise PartFailed(f"local/make_tiny_ssl.py failed (see {log.name})")
    dumps, seconds = {}, {}
    for label, ngpu in (("gpu", ctx.ngpu), ("cpu", "0")):
        start = time.monotonic()
        cmd = ["bash", "steps/make_feats.sh", "--cmd", "utils/run.pl", "--nj", "1", "--ngpu", ngpu,
               "--python", ctx.python, "--feats_config", f"conf/{conf.name}", "data", f"dump_{label}"]
        if run_logged(cmd, log, remaining(deadline), work) != 0:
            raise PartFailed(f"steps/make_feats.sh --ngpu {ngpu} failed (see {log.name} and "
                             f"ssl_check/dump_{label}/log/make_feats.1.log in the work dir)")
        seconds[label] = time.monotonic() - start
        dumps[label] = dict(kaldiio.load_scp(str(work / f"dump_{label}" / "feats.scp")).items())
    details, worst = [], 0.0
    for utt, cpu in dumps["cpu"].items():
        gpu = dumps["gpu"].get(utt)
        if gpu is None or gpu.shape != cpu.shape:
            raise PartFailed(f"{utt}: GPU features {None if gpu is None else gpu.shape}, CPU {cpu.shape}")
        rel = float(np.abs(gpu - cpu).mean() / max(float(np.abs(cpu).mean()), 1e-12))
        worst = max(worst, rel)
        details.append(f"- {utt}: {cpu.shape[0]} frames x {cpu.shape[1]}, mean |GPU - CPU| / mean |CPU| = {rel:.2e}")
    feats_type = (work / "dump_gpu" / "feats_type").read_text(encoding="utf-8").strip()
    summary = (f"{len(dumps['cpu'])} utterances, {feats_type}: relative difference {worst:.2e} (tolerance "
               f"{SSL_REL_TOL:g}); make_feats {seconds['gpu']:.0f} s (--ngpu {ctx.ngpu}), {seconds['cpu']:.0f} s (CPU)")
    if worst > SSL_REL_TOL:
        raise PartFailed(summary, details)
    return summary, details


# --------------------------------------------------------------------------- (e) DDP


def visible_gpus() -> int:
    try:
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except ImportError:
        return 0


def part_ddp(ctx: Context, deadline: float) -> tuple[str, list[str]]:
    """Fine-tuning under ``torchrun --nproc_per_node 2`` (one GPU per process; gloo CPU processes with --cpu)."""
    if not ctx.cpu and visible_gpus() < 2:
        raise PartSkipped(f"skipped: {visible_gpus()} GPU(s) visible, the DDP run needs 2")
    config = stage_finetune_inputs(ctx)
    out_dir = ctx.work / "exp" / "gpu_check_ddp"
    log = ctx.log("e_ddp")
    cmd = [ctx.python, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "speechbert.bin.sqa_train", *finetune_args(ctx, config, out_dir)]
    start = time.monotonic()
    rc = run_logged(cmd, log, remaining(deadline), ctx.work, env={"OMP_NUM_THREADS": "1"})
    seconds = time.monotonic() - start
    if rc != 0:
        raise PartFailed(f"torchrun exited with {rc} (see {log.name})")
    if not (out_dir / "model.avg.pt").is_file():
        raise PartFailed(f"no {out_dir / 'model.avg.pt'} after the DDP run")
    trend, details = judge_losses(read_progress_losses(log))
    return f"2 processes: {trend}; {seconds:.0f} s", details


#: (key, title, function, budget in seconds on a GPU, budget with --cpu)
PARTS: list[tuple[str, str, Callable[[Context, float], tuple[str, list[str]]], float, float]] = [
    ("a", "train step, ours vs transformers.BertModel sdpa (GPU: bf16, BERT-base, seq 384)", part_train_step, 150, 120),
    ("b", "fine-tuning, one epoch, --ngpu 1, bf16", part_finetune, 110, 120),
    ("c", "GPU decoding of the test set vs the CPU predictions", part_decode, 60, 90),
    ("d", "SSL frontend extraction, steps/make_feats.sh --ngpu 1 vs CPU (tiny model)", part_ssl_frontend, 60, 90),
    ("e", "DDP fine-tuning, torchrun --nproc_per_node 2", part_ddp, 110, 120),
]


def run_part(ctx: Context, key: str, title: str, fn: Callable[[Context, float], tuple[str, list[str]]],
             budget: float) -> PartResult:
    """Run one part within ``budget`` seconds; every error becomes a ``fail`` with its message."""
    start = time.monotonic()
    result = PartResult(key, title, "pass", "", budget=budget, log=f"logs/{key}_*.log")
    try:
        result.summary, result.details = fn(ctx, start + budget)
    except PartSkipped as e:
        result.status, result.summary = "skipped", str(e)
    except PartFailed as e:
        result.status, result.summary = "fail", str(e.args[0])
        if len(e.args) > 1:
            result.details = list(e.args[1])
    except Exception as e:  # noqa: BLE001 - a broken part must not hide the others
        result.status, result.summary = "fail", f"{type(e).__name__}: {e}"
    result.seconds = time.monotonic() - start
    if result.status == "pass" and result.seconds > budget:
        result.status, result.summary = "fail", f"over its budget ({result.seconds:.0f} s > {budget:.0f} s): {result.summary}"
    return result
