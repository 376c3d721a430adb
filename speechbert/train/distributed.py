"""Process group setup for one-process-per-GPU DDP under ``torchrun`` (or plain one process)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from speechbert.errors import ConfigError


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: its rank, the number of processes, its device."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """True on rank 0, the process that writes files and logs progress."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True when there is more than one process."""
        return self.world_size > 1


def init_distributed(ngpu: int) -> DistContext:
    """Join the process group when launched by torchrun (``WORLD_SIZE`` > 1) and pick the device.

    ``ngpu`` 0 runs on CPU (gloo); ``ngpu`` 1 uses GPU ``LOCAL_RANK`` (nccl). More than one GPU
    per process is refused: launch one process per GPU with torchrun instead.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if ngpu > 1:
        raise ConfigError(f"--ngpu {ngpu}: one process uses one GPU; launch N processes with "
                          f"`torchrun --nproc_per_node {ngpu} ...` and --ngpu 1")
    if ngpu == 1:
        if not torch.cuda.is_available():
            raise ConfigError("--ngpu 1 but CUDA is not available (use --ngpu 0 for CPU)")
        if local_rank >= torch.cuda.device_count():
            raise ConfigError(f"LOCAL_RANK {local_rank} but only {torch.cuda.device_count()} GPUs are visible")
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if world_size > 1 and not dist.is_initialized():
        backend = "nccl" if ngpu == 1 else "gloo"
        dist.init_process_group(backend=backend, init_method="env://",
                                **({"device_id": device} if ngpu == 1 else {}))
        logging.info("joined process group: rank %d of %d (%s, %s)", rank, world_size, backend, device)
    return DistContext(rank=rank, world_size=world_size, local_rank=local_rank, device=device)


def destroy_distributed() -> None:
    """Leave the process group if this process joined one."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier(ctx: DistContext) -> None:
    """Wait for every process (no-op for one process)."""
    if ctx.distributed:
        dist.barrier()


def all_reduce_sum(tensor: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Sum ``tensor`` over all processes in place (and return it)."""
    if ctx.distributed:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def all_gather_objects(obj: Any, ctx: DistContext) -> list[Any]:
    """``[obj of rank 0, obj of rank 1, ...]`` on every process."""
    if not ctx.distributed:
        return [obj]
    out: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(out, obj)
    return out
