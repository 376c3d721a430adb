#!/usr/bin/env python
"""Training-step throughput of our BERT encoder vs ``transformers.BertModel`` (SDPA attention).

Same config, same batch, same loss; forward + backward + AdamW step; tokens/s counts all B x T
positions (padding included) for both models. The two models' steps are
interleaved so that load on a shared machine hits both alike; the median step time is reported.
Peak memory per step: on CPU, each model is run again in a child process and its peak resident
memory during a step above the resident memory between steps (weights, optimizer state and
the process itself) is reported; on CUDA, ``torch.cuda.max_memory_allocated`` (bf16 autocast),
plus model FLOPs utilisation against a large bf16 matmul measured in the same run.

    tools/venv/bin/python bench/transformer.py                 # CPU, MiniLM size
    tools/venv/bin/python bench/transformer.py --device cuda --batch 32 --steps 30
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Callable

import torch

from speechbert.nets import BertConfig, BertEncoder


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--layers", type=int, default=6)
    p.add_argument("--hidden", type=int, default=384)
    p.add_argument("--heads", type=int, default=12)
    p.add_argument("--intermediate", type=int, default=None, help="default: 4 x hidden")
    p.add_argument("--vocab", type=int, default=30522)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--min-len", type=int, default=None,
                   help="shortest sequence in the batch (others uniform up to --seq); default 3/4 of --seq")
    p.add_argument("--steps", type=int, default=8, help="timed steps per model")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--no-memory", action="store_true", help="skip the CPU peak-memory child runs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--_memory-only", dest="memory_only", choices=["ours", "hf"], help=argparse.SUPPRESS)
    return p


def make_config(args: argparse.Namespace) -> BertConfig:
    return BertConfig(vocab_size=args.vocab, hidden_size=args.hidden, num_hidden_layers=args.layers,
                      num_attention_heads=args.heads, intermediate_size=args.intermediate or 4 * args.hidden,
                      max_position_embeddings=max(512, args.seq))


def make_batch(args: argparse.Namespace, device: torch.device) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(args.seed)
    min_len = args.min_len if args.min_len is not None else (3 * args.seq) // 4
    lengths = torch.randint(min_len, args.seq + 1, (args.batch,), generator=gen)
    lengths[0] = args.seq
    mask = (torch.arange(args.seq)[None, :] < lengths[:, None]).long()
    ids = torch.randint(1000, args.vocab, (args.batch, args.seq), generator=gen) * mask
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


def make_step(model: torch.nn.Module, batch: dict[str, torch.Tensor], device: torch.device) -> Callable[[], None]:
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda"
                else contextlib.nullcontext())

    def step() -> None:
        with autocast:
            hidden = model(**batch)[0]
        loss = hidden.float().pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return step


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


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


def model_flops_per_step(cfg: BertConfig, batch: int, seq: int) -> float:
    """≈ 6 · (non-embedding params) · tokens + attention score/context matmuls (fwd + bwd)."""
    h, inter, layers = cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers
    params = layers * (4 * h * h + 2 * h * inter)
    tokens = batch * seq
    attention = 3 * layers * 4 * batch * seq * seq * h
    return 6 * params * tokens + attention


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
    step = make_step(build(name, make_config(args), device), make_batch(args, device), device)
    step()  # optimizer state and allocator pools exist from here on
    steady = _proc_status_kib("VmRSS")
    for _ in range(2):
        step()
    peak = _proc_status_kib("VmHWM")
    print(json.dumps({"steady_rss_kib": steady, "step_peak_kib": peak - steady}))


def cpu_peak_memory(args: argparse.Namespace, name: str) -> str:
    argv = [sys.executable, os.path.abspath(__file__), "--_memory-only", name]
    for key in ("layers", "hidden", "heads", "intermediate", "vocab", "batch", "seq", "min_len", "threads", "seed"):
        value = getattr(args, key)
        if value is not None:
            argv += [f"--{key.replace('_', '-')}", str(value)]
    # A fixed mmap threshold makes glibc hand large blocks straight back to the kernel on free,
    # so the resident set follows what is really allocated instead of glibc's cached heap.
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "131072"}
    out = subprocess.run(argv, capture_output=True, text=True, check=True, env=env).stdout.strip().splitlines()[-1]
    result = json.loads(out)
    return f"+{result['step_peak_kib'] / 1024:.0f} MiB"


def main(argv: list[str] | None = None) -> int:
    args = get_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.memory_only:
        memory_child(args, args.memory_only)
        return 0
    if args.device == "cuda" and not torch.cuda.is_available():
        print("CUDA is not available", file=sys.stderr)
        return 1
    device = torch.device(args.device)
    cfg = make_config(args)
    batch = make_batch(args, device)
    real_tokens = int(batch["attention_mask"].sum())
    steps, times, peaks = {}, {}, {}
    for name in ("ours", "hf"):
        torch.manual_seed(args.seed)
        steps[name] = make_step(build(name, cfg, device), batch, device)
        times[name] = []
    for _ in range(args.warmup):
        for name in steps:
            steps[name]()
    for _ in range(args.steps):
        for name in steps:
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats()
            sync(device)
            start = time.perf_counter()
            steps[name]()
            sync(device)
            times[name].append(time.perf_counter() - start)
            if device.type == "cuda":
                peaks[name] = f"{torch.cuda.max_memory_allocated() / 2**20:.0f} MiB"
    if device.type == "cpu":
        for name in steps:
            peaks[name] = "-" if args.no_memory else cpu_peak_memory(args, name)

    flops = model_flops_per_step(cfg, args.batch, args.seq)
    peak = peak_matmul_flops(device) if device.type == "cuda" else None
    print(f"device={device} threads={torch.get_num_threads()} layers={cfg.num_hidden_layers} "
          f"hidden={cfg.hidden_size} heads={cfg.num_attention_heads} batch={args.batch}x{args.seq} "
          f"real tokens={real_tokens}/{args.batch * args.seq} steps={args.steps} (median)"
          + (" bf16 autocast" if device.type == "cuda" else ""))
    header = f"{'model':<26}{'step ms':>10}{'tokens/s':>12}{'peak memory':>16}"
    if peak:
        header += f"{'TFLOP/s':>10}{'MFU':>8}"
    print(header)
    print("-" * len(header))
    medians = {name: statistics.median(t) for name, t in times.items()}
    labels = {"ours": "speechbert BertEncoder", "hf": "transformers BertModel"}
    for name in ("ours", "hf"):
        line = (f"{labels[name]:<26}{medians[name] * 1e3:>10.1f}{args.batch * args.seq / medians[name]:>12.0f}"
                f"{peaks[name]:>16}")
        if peak:
            achieved = flops / medians[name]
            line += f"{achieved / 1e12:>10.1f}{achieved / peak:>8.1%}"
        print(line)
    print(f"throughput ratio ours/hf: {medians['hf'] / medians['ours']:.2f}x"
          + (f"   (bf16 matmul peak measured: {peak / 1e12:.0f} TFLOP/s)" if peak else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
