#!/usr/bin/env python
"""Training-step throughput of our BERT encoder vs ``transformers.BertModel`` (SDPA attention).

Same config, same batch, same loss, same optimizer; forward + backward + AdamW step; tokens/s
counts all B x T positions (padding included) for both models. The two models' steps are
interleaved (ours, HF, ours, HF, ...) so that load on a shared machine hits both alike, and the
best of ``--repeats`` timed steps is kept: process CPU time on CPU (what a busy machine disturbs
least), wall time between ``torch.cuda.synchronize()`` calls on CUDA (bf16 autocast).

Peak memory per step: on CPU, each model runs again in a child process and its peak resident
memory during a step above the resident memory between steps (weights, optimizer state and the
process itself) is reported; on CUDA, ``torch.cuda.max_memory_allocated`` during a step.

Host synchronisation: one more step of each model runs under ``torch.profiler``; the events that
make the host wait for a value (``aten::item``, ``aten::_local_scalar_dense``, ``cuda*Synchronize``)
are counted and printed. Ours must have none (nothing is compiled, so nothing can recompile).

On CUDA also model FLOPs utilisation, against a large bf16 matmul measured in the same run and
against the datasheet dense bf16 peak when the GPU is one we know. ``--batch 0`` (CUDA) searches
the batch by doubling until one of the two models runs out of memory.

    tools/venv/bin/python bench/transformer.py                        # CPU, MiniLM-L6 size
    tools/venv/bin/python bench/transformer.py --size base --threads 1  # CPU, BERT-base, 2 x 384
    tools/venv/bin/python bench/transformer.py --device cuda --size base --batch 0 --json out.json

Output contract of ``bench/bench_common.py``: the last line is ``bench transformer: key=value ...
missed=N``, ``--json FILE`` writes the same values and the targets; exit status 1 when a target
was missed (ours/HF tokens/s ≥ ``--min_ratio``; no host sync in our step; on CUDA, our MFU ≥
``--min_mfu`` when the GPU's datasheet peak is known).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch
from torch.profiler import record_function

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import Bench, add_bench_args, cpu_seconds  # noqa: E402  (puts the repo on sys.path)

from speechbert.nets import BertConfig, BertEncoder  # noqa: E402

#: --size presets: layers, hidden, heads, batch on CPU, seq
SIZES = {
    "mini": dict(layers=6, hidden=384, heads=12, batch=16, seq=128),   # the MiniLM-L6 checkpoint
    "base": dict(layers=12, hidden=768, heads=12, batch=2, seq=384),   # BERT-base, SQuAD length
}
#: datasheet dense bf16 tensor-core peaks (FLOP/s), matched against torch.cuda.get_device_name
DATASHEET_BF16 = [("H200", 989.4e12), ("H100 PCIe", 756.0e12), ("H100", 989.4e12), ("A100", 312.0e12)]
#: profiler events that make the host wait for the device or read a tensor value
SYNC_EVENTS = ("aten::item", "aten::_local_scalar_dense")
MODEL_RANGE, OPTIMIZER_RANGE = "bench::forward_backward", "bench::optimizer"
#: AdamW variants; "default" is torch's own choice, what the trainer gets (on CPU the per-tensor loop)
OPTIMIZERS = {"default": {}, "loop": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}
LABELS = {"ours": "speechbert BertEncoder", "hf": "transformers BertModel"}


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--size", default="mini", choices=sorted(SIZES),
                   help="preset of layers/hidden/heads/batch/seq (each can be overridden)")
    p.add_argument("--layers", type=int, default=None)
    p.add_argument("--hidden", type=int, default=None)
    p.add_argument("--heads", type=int, default=None)
    p.add_argument("--intermediate", type=int, default=None, help="default: 4 x hidden")
    p.add_argument("--vocab", type=int, default=30522)
    p.add_argument("--batch", type=int, default=None, help="0: largest power of two that fits (CUDA)")
    p.add_argument("--max-batch", type=int, default=1024, help="upper end of the --batch 0 search")
    p.add_argument("--seq", type=int, default=None)
    p.add_argument("--min-len", type=int, default=None,
                   help="shortest sequence in the batch (others uniform up to --seq); default 3/4 of --seq")
    p.add_argument("--optimizer", default="default", choices=sorted(OPTIMIZERS),
                   help="AdamW implementation, the same for both models (default: torch's choice, as in "
                        "speechbert/train/trainer.py; fused: one kernel per step)")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--no-memory", action="store_true", help="skip the CPU peak-memory child runs")
    p.add_argument("--no-profile", action="store_true", help="skip the host-synchronisation check")
    p.add_argument("--min_ratio", type=float, default=1.2, help="target: ours/HF tokens/s at least this")
    p.add_argument("--min_mfu", type=float, default=0.45, help="target on CUDA: our MFU (datasheet peak)")
    add_bench_args(p, repeats=6)  # --json FILE, --repeats N (timed steps per model, best kept)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--_memory-only", dest="memory_only", choices=["ours", "hf"], help=argparse.SUPPRESS)
    return p


def resolve_size(args: argparse.Namespace) -> None:
    """Fill the unset size options from the ``--size`` preset."""
    for key, value in SIZES[args.size].items():
        if getattr(args, key) is None:
            setattr(args, key, value)


def make_config(args: argparse.Namespace) -> BertConfig:
    return BertConfig(vocab_size=args.vocab, hidden_size=args.hidden, num_hidden_layers=args.layers,
                      num_attention_heads=args.heads, intermediate_size=args.intermediate or 4 * args.hidden,
                      max_position_embeddings=max(512, args.seq))


def make_batch(args: argparse.Namespace, batch_size: int, device: torch.device) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(args.seed)
    min_len = args.min_len if args.min_len is not None else (3 * args.seq) // 4
    lengths = torch.randint(min_len, args.seq + 1, (batch_size,), generator=gen)
    lengths[0] = args.seq
    mask = (torch.arange(args.seq)[None, :] < lengths[:, None]).long()
    ids = torch.randint(1000, args.vocab, (batch_size, args.seq), generator=gen) * mask
    types = torch.zeros_like(ids)
    types[:, args.seq // 3:] = 1
    return {"input_ids": ids.to(device), "attention_mask": mask.to(device), "token_type_ids": types.to(device)}


def build(name: str, cfg: BertConfig, device: torch.device) -> torch.nn.Module:
    if name == "ours":
        return BertEncoder(cfg).to(device).train()
    import transformers

    hf_cfg = transformers.BertConfig(
        vocab_size=cfg.vocab_size, hidden_size=cfg.hidden_size, num_hidden_layers=cfg.num_hidden_layers,
        num_attention_heads=cfg.num_attention_heads, intermediate_size=cfg.intermediate_size,
        max_position_embeddings=cfg.max_position_embeddings, type_vocab_size=cfg.type_vocab_size,
        hidden_dropout_prob=cfg.hidden_dropout_prob, attention_probs_dropout_prob=cfg.attention_probs_dropout_prob,
        attn_implementation="sdpa")
    return transformers.BertModel(hf_cfg, add_pooling_layer=False).to(device).train()


def make_step(model: torch.nn.Module, batch: dict[str, torch.Tensor], device: torch.device,
              optimizer: str) -> Callable[[], None]:
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, **OPTIMIZERS[optimizer])
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda"
                else contextlib.nullcontext())

    def step() -> None:
        # The named ranges let the profiler check tell the model's events from the optimizer's.
        with record_function(MODEL_RANGE):
            with autocast:
                hidden = model(**batch)[0]
            loss = hidden.float().pow(2).mean()
            loss.backward()
        with record_function(OPTIMIZER_RANGE):
            opt.step()
            opt.zero_grad(set_to_none=True)
    return step


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def clock(device: torch.device) -> float:
    """CPU time of this process on CPU; wall time on CUDA (the work is on the device)."""
    return cpu_seconds() if device.type == "cpu" else time.perf_counter()


def peak_matmul_flops(device: torch.device) -> float:
    """bf16 matmul FLOP/s of a large square product on this GPU, measured now."""
    n = 8192
    a = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    b = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    sync(device)
    reps = 20
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    sync(device)
    return 2 * n**3 * reps / (time.perf_counter() - start)


def datasheet_peak(device: torch.device) -> tuple[str, float | None]:
    """(GPU name, its datasheet dense bf16 FLOP/s or None when not in ``DATASHEET_BF16``)."""
    name = torch.cuda.get_device_name(device)
    return name, next((flops for key, flops in DATASHEET_BF16 if key in name), None)


def model_flops_per_step(cfg: BertConfig, batch: int, seq: int) -> float:
    """≈ 6 · (non-embedding params) · tokens + attention score/context matmuls (fwd + bwd)."""
    h, inter, layers = cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers
    params = layers * (4 * h * h + 2 * h * inter)
    tokens = batch * seq
    attention = 3 * layers * 4 * batch * seq * seq * h
    return 6 * params * tokens + attention


def count_host_syncs(step: Callable[[], None], device: torch.device) -> dict[str, dict[str, int]]:
    """Run ``step`` once under the profiler; count, per part of the step, the waiting events.

    ``aten::item``/``aten::_local_scalar_dense`` read a tensor value into Python (on CUDA that
    waits for the device); ``cuda*Synchronize`` wait for the device. The optimizer's ``item``
    calls read its step counters (CPU tensors unless fused/capturable): they are listed apart.
    """
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    sync(device)
    with profile(activities=activities) as prof:
        step()
    events = list(prof.events())
    ranges = {name: [(e.time_range.start, e.time_range.end) for e in events if e.name == name]
              for name in (MODEL_RANGE, OPTIMIZER_RANGE)}
    counts = {name: {**{k: 0 for k in SYNC_EVENTS}, "cuda_sync": 0} for name in ranges}
    for event in events:
        kind = event.name if event.name in SYNC_EVENTS else (
            "cuda_sync" if event.name.startswith("cuda") and event.name.endswith("Synchronize") else None)
        if kind is None:
            continue
        for name, spans in ranges.items():
            if any(lo <= event.time_range.start <= hi for lo, hi in spans):
                counts[name][kind] += 1
    return {"forward_backward": counts[MODEL_RANGE], "optimizer": counts[OPTIMIZER_RANGE]}


def host_sync_total(counts: dict[str, dict[str, int]]) -> int:
    """Waiting events of a step: every one in forward/backward; of the optimizer, the CUDA syncs.

    The optimizer's ``item`` calls read its step counters, which live on the CPU unless
    ``capturable``/``fused`` puts them on the GPU: no wait either way.
    """
    # ``aten::item`` calls ``aten::_local_scalar_dense``: count the latter only.
    fb = counts["forward_backward"]
    return fb["aten::_local_scalar_dense"] + fb["cuda_sync"] + counts["optimizer"]["cuda_sync"]


def search_batch(args: argparse.Namespace, cfg: BertConfig, device: torch.device) -> int:
    """Largest power of two ≤ ``--max-batch`` for which steps of both models fit on the GPU together."""
    fits, batch = 0, 8
    while batch <= args.max_batch:
        steps: dict[str, Callable[[], None]] = {}
        try:
            # Both models at once, as in the timed run that follows.
            for name in ("ours", "hf"):
                torch.manual_seed(args.seed)
                steps[name] = make_step(build(name, cfg, device), make_batch(args, batch, device), device,
                                        args.optimizer)
            for name in list(steps) * 2:  # optimizer state exists from the first step on
                steps[name]()
            sync(device)
        except torch.cuda.OutOfMemoryError:
            break
        finally:
            steps.clear()
            gc.collect()
            torch.cuda.empty_cache()
        fits, batch = batch, batch * 2
    gc.collect()
    torch.cuda.empty_cache()
    if not fits:
        raise RuntimeError(f"not even batch 8 x {args.seq} fits on {torch.cuda.get_device_name(device)}")
    print(f"batch search: {fits} fits, {batch} " + ("does not" if batch <= args.max_batch else "not tried"),
          flush=True)
    return fits


def _proc_status_kib(field: str) -> int:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) of this process, in KiB.

    Not ``getrusage().ru_maxrss``: that survives exec, so a child started by a big parent would
    report the parent's size.
    """
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def memory_child(args: argparse.Namespace, name: str) -> None:
    """Run one model's steps; print (JSON) its resident memory between steps and the peak above it."""
    device = torch.device("cpu")
    torch.manual_seed(args.seed)
    step = make_step(build(name, make_config(args), device), make_batch(args, args.batch, device), device,
                     args.optimizer)
    step()  # optimizer state and allocator pools exist from here on
    steady = _proc_status_kib("VmRSS")
    for _ in range(2):
        step()
    peak = _proc_status_kib("VmHWM")
    print(json.dumps({"steady_rss_kib": steady, "step_peak_kib": peak - steady}))


def cpu_peak_memory_mib(args: argparse.Namespace, name: str) -> float:
    argv = [sys.executable, os.path.abspath(__file__), "--_memory-only", name]
    for key in ("size", "layers", "hidden", "heads", "intermediate", "vocab", "batch", "seq", "min_len",
                "threads", "seed", "optimizer"):
        value = getattr(args, key)
        if value is not None:
            argv += [f"--{key.replace('_', '-')}", str(value)]
    # A fixed mmap threshold makes glibc hand large blocks straight back to the kernel on free,
    # so the resident set follows what is really allocated instead of glibc's cached heap.
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "131072"}
    out = subprocess.run(argv, capture_output=True, text=True, check=True, env=env).stdout.strip().splitlines()[-1]
    return json.loads(out)["step_peak_kib"] / 1024


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure both models; return the results (what the final line and ``--json`` hold)."""
    device = torch.device(args.device)
    cfg = make_config(args)
    if args.batch == 0:
        if device.type != "cuda":
            raise ValueError("--batch 0 (search) needs --device cuda")
        args.batch = search_batch(args, cfg, device)
    batch = make_batch(args, args.batch, device)
    steps: dict[str, Callable[[], None]] = {}
    for name in ("ours", "hf"):
        torch.manual_seed(args.seed)
        steps[name] = make_step(build(name, cfg, device), batch, device, args.optimizer)
    for _ in range(args.warmup):
        for name in steps:
            steps[name]()
    times: dict[str, list[float]] = {name: [] for name in steps}
    peaks: dict[str, float | None] = {name: None for name in steps}
    for _ in range(args.repeats):
        for name in steps:
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats()
            sync(device)
            start = clock(device)
            steps[name]()
            sync(device)
            times[name].append(clock(device) - start)
            if device.type == "cuda":
                peaks[name] = torch.cuda.max_memory_allocated() / 2**20
    syncs = {name: (None if args.no_profile else count_host_syncs(steps[name], device)) for name in steps}
    if device.type == "cpu" and not args.no_memory:
        for name in steps:
            peaks[name] = cpu_peak_memory_mib(args, name)

    tokens = args.batch * args.seq
    best = {name: min(t) for name, t in times.items()}
    result: dict[str, Any] = {
        "size": args.size, "device": str(device), "threads": torch.get_num_threads(), "layers": cfg.num_hidden_layers,
        "hidden": cfg.hidden_size, "heads": cfg.num_attention_heads, "batch": args.batch, "seq": args.seq,
        "real_tokens": int(batch["attention_mask"].sum()), "optimizer": args.optimizer, "steps": args.repeats,
        "dtype": "bf16-autocast" if device.type == "cuda" else "fp32", "compiled": 0,
        "timer": "wall" if device.type == "cuda" else "cpu",
    }
    for name in steps:
        result[f"{name}_step_ms"] = round(best[name] * 1e3, 2)
        result[f"{name}_tokens_s"] = round(tokens / best[name], 1)
        result[f"{name}_peak_mib"] = None if peaks[name] is None else round(peaks[name], 1)
        if syncs[name] is not None:
            result[f"{name}_host_syncs"] = host_sync_total(syncs[name])
            result[f"{name}_sync_events"] = syncs[name]
    result["ratio"] = round(best["hf"] / best["ours"], 3)
    result["min_ratio"] = args.min_ratio
    if device.type == "cuda":
        flops = model_flops_per_step(cfg, args.batch, args.seq)
        matmul_peak = peak_matmul_flops(device)
        gpu, sheet = datasheet_peak(device)
        result.update(gpu=gpu, matmul_peak_tflops=round(matmul_peak / 1e12, 1),
                      datasheet_peak_tflops=None if sheet is None else round(sheet / 1e12, 1))
        for name in steps:
            achieved = flops / best[name]
            result[f"{name}_tflops"] = round(achieved / 1e12, 1)
            result[f"{name}_mfu_matmul"] = round(achieved / matmul_peak, 4)
            result[f"{name}_mfu"] = None if sheet is None else round(achieved / sheet, 4)
    return result


def print_report(r: dict[str, Any]) -> None:
    print(f"device={r['device']} threads={r['threads']} layers={r['layers']} hidden={r['hidden']} "
          f"heads={r['heads']} batch={r['batch']}x{r['seq']} real tokens={r['real_tokens']}/{r['batch'] * r['seq']} "
          f"AdamW={r['optimizer']} best of {r['steps']} steps ({r['timer']} time) {r['dtype']}")
    cuda = "gpu" in r
    header = f"{'model':<26}{'step ms':>10}{'tokens/s':>12}{'peak MiB':>10}{'host syncs':>12}"
    if cuda:
        header += f"{'TFLOP/s':>9}{'MFU':>8}{'MFU(mm)':>9}"
    print(header)
    print("-" * len(header))
    for name in ("ours", "hf"):
        peak = r[f"{name}_peak_mib"]
        syncs = r.get(f"{name}_host_syncs")
        line = (f"{LABELS[name]:<26}{r[f'{name}_step_ms']:>10.1f}{r[f'{name}_tokens_s']:>12.0f}"
                f"{'-' if peak is None else f'{peak:.0f}':>10}{'-' if syncs is None else syncs:>12}")
        if cuda:
            mfu = r[f"{name}_mfu"]
            line += (f"{r[f'{name}_tflops']:>9.1f}{'-' if mfu is None else f'{mfu:.1%}':>8}"
                     f"{r[f'{name}_mfu_matmul']:>9.1%}")
        print(line)
    if cuda:
        print(f"GPU {r['gpu']}: bf16 matmul measured {r['matmul_peak_tflops']} TFLOP/s, datasheet "
              f"{r['datasheet_peak_tflops'] or 'unknown'} TFLOP/s (MFU is against the datasheet, MFU(mm) "
              "against the measured matmul)")
    for name in ("ours", "hf"):
        if f"{name}_sync_events" in r:
            parts = "; ".join(f"{part}: " + " ".join(f"{k}={v}" for k, v in counts.items())
                              for part, counts in r[f"{name}_sync_events"].items())
            print(f"profiler, one step of {LABELS[name]}: {parts}")
    print(f"throughput ratio ours/hf: {r['ratio']:.2f}x (target >= {r['min_ratio']}x); "
          "no torch.compile, so no recompilation")


#: the values of the final line and of --json, in this order (those present)
LINE_KEYS = ["size", "device", "threads", "layers", "hidden", "batch", "seq", "real_tokens", "optimizer", "dtype",
             "ratio", "ours_tokens_s", "hf_tokens_s", "ours_step_ms", "hf_step_ms", "ours_peak_mib", "hf_peak_mib",
             "ours_host_syncs", "hf_host_syncs", "compiled", "gpu", "matmul_peak_tflops", "datasheet_peak_tflops",
             "ours_tflops", "hf_tflops", "ours_mfu", "hf_mfu", "ours_mfu_matmul", "hf_mfu_matmul"]


def main(argv: list[str] | None = None) -> int:
    args = get_parser().parse_args(argv)
    resolve_size(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.memory_only:
        memory_child(args, args.memory_only)
        return 0
    if args.device == "cuda" and not torch.cuda.is_available():
        print("CUDA is not available", file=sys.stderr)
        return 1
    result = run(args)
    print_report(result)
    bench = Bench("transformer", args)
    bench.record(**{k: result[k] for k in LINE_KEYS if result.get(k) is not None})
    bench.target("ours/hf tokens/s", result["ratio"], ">=", args.min_ratio)
    if "ours_host_syncs" in result:
        bench.target("host syncs in our step", result["ours_host_syncs"], "==", 0)
    if result.get("ours_mfu") is not None:
        bench.target("our MFU", result["ours_mfu"], ">=", args.min_mfu)
    return bench.finish()


if __name__ == "__main__":
    sys.exit(main())
