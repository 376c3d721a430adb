"""Helpers for the trainer tests: run the toy task in a subprocess, compare model files."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
TOY = HERE / "toy_task.py"
sys.path.insert(0, str(HERE))

#: small, fast defaults: 40 examples, 8 batches of <= 30 frames per epoch
BASE_ARGS = ["--batch_bins", "30", "--num_workers", "0", "--lr", "0.01", "--log_interval", "4",
             "--tensorboard", "false"]


def subprocess_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": str(HERE)})
    env.pop("SPEECHBERT_TRAIN_EXIT_AFTER_STEP", None)
    env.update(extra)
    return env


def run_toy(out: Path, *args: str, env: dict[str, str] | None = None,
            nproc: int = 0) -> subprocess.CompletedProcess:
    """Run the toy entry point (``nproc`` > 0: under torch.distributed.run) and capture its output."""
    cmd = [sys.executable]
    if nproc:
        cmd += ["-m", "torch.distributed.run", "--nproc_per_node", str(nproc), "--nnodes", "1",
                "--master_addr", "127.0.0.1", "--master_port", str(free_port())]
    cmd += [str(TOY), "--output_dir", str(out), *BASE_ARGS, *args]
    return subprocess.run(cmd, env=env or subprocess_env(), capture_output=True, text=True, timeout=300)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_model(path: Path) -> dict[str, torch.Tensor]:
    state = torch.load(path, map_location="cpu", weights_only=True)
    return state["model"] if "model" in state and isinstance(state["model"], dict) else state


def assert_same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), f"{k} differs"
