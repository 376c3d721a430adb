"""The generic trainer: one loop for every training task (see ``doc/training.md``).

``train(task_cls, args)`` builds the task's model and data, then runs epochs of length-bucketed
global batches (split across DDP processes), with gradient accumulation, AdamW and a
warmup/linear-decay schedule, validation, best-model files, epoch snapshots, an atomic
``checkpoint.pt`` for automatic resume, and ``model.avg.pt`` at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import torch
import yaml
from torch.utils.data import DataLoader, Dataset

from speechbert.command_line import local_rank_prefix, seed_everything, setup_logging
from speechbert.errors import ConfigError
from speechbert.io.atomic import atomic_open, remove_orphaned_temps
from speechbert.plots.training_curves import PLOTS_DIR, plot_after_training
from speechbert.train.average import (SNAPSHOT_RE, METRICS_FILE, average_checkpoints, load_state_dict,
                                      snapshot_epoch)
from speechbert.train.batch_sampler import BucketBatchSampler
from speechbert.train.checkpoint import LOADED_FROM, get_rng_state, load_resume_checkpoint, save_checkpoint, set_rng_state
from speechbert.train.distributed import (DistContext, all_gather_objects, all_reduce_sum, barrier,
                                          destroy_distributed, init_distributed)
from speechbert.train.errors import TrainingError
from speechbert.train.model_io import check_state_dict, freeze_parameters, init_parameters
from speechbert.train.options import check_trainer_arguments, parse_best_criteria, resolve_output_dir
from speechbert.train.reporter import Reporter, WeightedAverages

if TYPE_CHECKING:
    from speechbert.train.task_protocol import TrainableTask

CHECKPOINT = "checkpoint.pt"
AVERAGE = "model.avg.pt"
#: validation metrics of model.avg.pt (same keys as the records of metrics.jsonl)
AVERAGE_METRICS = "model.avg.metrics.json"
#: test hook: the process dies (exit 137, like SIGKILL) right after this many updates
EXIT_AFTER_STEP_ENV = "SPEECHBERT_TRAIN_EXIT_AFTER_STEP"


def train(task_cls: "TrainableTask", args: argparse.Namespace) -> None:
    """Train ``task_cls`` with ``args``; resumes from ``<output_dir>/checkpoint.pt`` when present."""
    check_trainer_arguments(args)
    args.output_dir = str(resolve_output_dir(args))
    # Intra-op threads from the option, not from the machine or OMP_NUM_THREADS: a CPU run's bits
    # depend on them (doc/reproducibility.md). Left set on return, so that what the tool does
    # after training (the aligner's calibration) runs with the same count.
    torch.set_num_threads(args.num_threads)
    if args.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        # Non-zero ranks log warnings only; every line names host:rank/world.
        is_main = int(os.environ.get("RANK", "0")) == 0
        setup_logging(args.verbose if is_main else 0, prefix=local_rank_prefix())
    ctx = init_distributed(args.ngpu)
    try:
        Trainer(task_cls, args, ctx).run()
    finally:
        destroy_distributed()


def lr_factor(step: int, total: int, warmup: int, kind: str) -> float:
    """Multiplier of the peak lr for update number ``step`` (0-based).

    Warmup rises linearly to 1 over ``warmup`` updates; ``linear`` then decays linearly to 0 at
    update ``total``; ``constant`` stays at 1.
    """
    if step < warmup:
        return (step + 1) / warmup
    if kind == "constant":
        return 1.0
    return max(0.0, (total - step) / max(1, total - warmup))


def _to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: _to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(v, device) for v in batch)
    return batch


def _check_lengths(dataset: Dataset, split: str, task_name: str) -> list[int]:
    lengths = getattr(dataset, "lengths", None)
    if lengths is None:
        raise ConfigError(f"task {task_name}: the {split} dataset has no 'lengths' attribute "
                          "(one cost per example for bucketing)")
    lengths = [int(n) for n in lengths]
    size = len(dataset)  # type: ignore[arg-type]
    if len(lengths) != size:
        raise ConfigError(f"task {task_name}: the {split} dataset has {size} examples but {len(lengths)} lengths")
    if any(n < 0 for n in lengths):
        raise ConfigError(f"task {task_name}: negative length in the {split} dataset")
    return lengths


def _split_output(out: Any) -> tuple[torch.Tensor, dict[str, Any], Any]:
    if not (isinstance(out, (tuple, list)) and len(out) == 3 and isinstance(out[1], dict)):
        raise TrainingError("the model's forward(**batch) must return (loss, stats: dict, weight)")
    return out[0], out[1], out[2]


def _config_values(args: argparse.Namespace) -> dict[str, Any]:
    def plain(v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dict):  # a registry's <kind>_conf: a YAML mapping, read back as one
            return {str(k): plain(x) for k, x in v.items()}
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        return str(v)

    return {k: plain(v) for k, v in sorted(vars(args).items()) if k != "config"}


class Trainer:
    """State and loop of one training run (one instance per process)."""

    def __init__(self, task_cls: "TrainableTask", args: argparse.Namespace, ctx: DistContext) -> None:
        self.task = task_cls
        self.args = args
        self.ctx = ctx
        self.out = Path(args.output_dir)
        self.criteria = parse_best_criteria(args.best_criterion)
        self.is_cuda = ctx.device.type == "cuda"
        self.bf16 = bool(args.bf16 and self.is_cuda)
        if args.bf16 and not self.is_cuda:
            logging.warning("--bf16 true is ignored on CPU (autocast is used on CUDA only)")
        if args.deterministic:
            torch.use_deterministic_algorithms(True)
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False

        # Same seed on every process: identical initial parameters.
        seed_everything(args.seed)
        self.model = task_cls.build_model(args)
        if not isinstance(self.model, torch.nn.Module):
            raise ConfigError(f"task {task_cls.name}: build_model returned {type(self.model).__name__}, not a Module")

        self.train_set = task_cls.build_dataset(args, "train")
        if self.train_set is None:
            raise ConfigError(f"task {task_cls.name}: no training dataset")
        self.valid_set = task_cls.build_dataset(args, "valid")
        try:
            self.train_sampler = BucketBatchSampler(
                _check_lengths(self.train_set, "train", task_cls.name), args.batch_bins, args.batch_size,
                shuffle=args.shuffle, seed=args.seed, rank=ctx.rank, world_size=ctx.world_size)
        except ConfigError as e:
            raise ConfigError(f"training set: {e}") from None
        self.valid_sampler = None
        if self.valid_set is not None:
            vbins = args.batch_bins if args.valid_batch_bins is None else args.valid_batch_bins
            vsize = args.batch_size if args.valid_batch_size is None else args.valid_batch_size
            try:
                self.valid_sampler = BucketBatchSampler(
                    _check_lengths(self.valid_set, "valid", task_cls.name), vbins, vsize,
                    shuffle=False, rank=ctx.rank, world_size=ctx.world_size)
            except ConfigError as e:
                raise ConfigError(f"validation set: {e}") from None
        self.train_collate = task_cls.build_collate_fn(args, True)
        self.valid_collate = task_cls.build_collate_fn(args, False)

        num_batches = len(self.train_sampler.batches)
        self.updates_per_epoch = math.ceil(num_batches / args.accum_grad)
        self.total_steps = args.max_epoch * self.updates_per_epoch
        if args.max_steps is not None:
            self.total_steps = min(self.total_steps, args.max_steps)
        self.warmup = args.warmup_steps or int(round(args.warmup_ratio * self.total_steps))

        # Position: the next epoch (1-based) and batch to run, and the updates done so far.
        self.epoch, self.batch_pos, self.step = 1, 0, 0
        self.best: dict[str, dict[str, Any]] = {}
        self.history: list[dict[str, Any]] = []
        self.last_valid_step = -1
        self.since_valid = WeightedAverages()

        state = self._load_checkpoint()
        if state is None and args.init_param:
            init_parameters(self.model, args.init_param)
        elif state is not None and args.init_param:
            logging.info("resuming: --init_param is not applied again (the checkpoint holds the parameters)")
        freeze_parameters(self.model, args.freeze_param)
        self.model.to(ctx.device)
        self.optimizer = self._build_optimizer()
        if state is not None:
            self._restore(state)
        else:
            # Training randomness (dropout ...) differs between processes.
            torch.manual_seed(args.seed + ctx.rank)
        for dataset in (self.train_set, self.valid_set):
            if dataset is not None:
                task_cls.attach_model(self.model, dataset, args, ctx.device)
        self.ddp_model: torch.nn.Module = self.model
        if ctx.distributed:
            self.ddp_model = torch.nn.parallel.DistributedDataParallel(
                self.model, device_ids=[ctx.device.index] if self.is_cuda else None,
                find_unused_parameters=args.ddp_find_unused_parameters)
        self.reporter = Reporter(ctx.is_main, self.out / "tensorboard" if args.tensorboard else None,
                                 self.total_steps)

    # ------------------------------------------------------------------ setup helpers

    def _build_optimizer(self) -> torch.optim.Optimizer:
        decay, no_decay = [], []
        for p in self.model.parameters():
            if p.requires_grad:
                (decay if p.ndim >= 2 else no_decay).append(p)
        if not decay and not no_decay:
            raise ConfigError("no trainable parameters (everything is frozen?)")
        groups = [g for g in ({"params": decay, "weight_decay": self.args.weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}) if g["params"]]
        return torch.optim.AdamW(groups, lr=self.args.lr, betas=tuple(self.args.adam_betas),
                                 eps=self.args.adam_eps)

    def _load_checkpoint(self) -> dict[str, Any] | None:
        path = self.out / CHECKPOINT
        if not self.args.resume:
            if path.exists():
                logging.warning("--resume false: ignoring %s; training starts over", path)
            return None
        # Rank 0 reads first: it may set a damaged file aside, which the others must then not see.
        if not self.ctx.is_main:
            barrier(self.ctx)
        try:
            state = load_resume_checkpoint(path)
        finally:
            if self.ctx.is_main:
                barrier(self.ctx)
        if state is None:
            return None
        check_state_dict(self.model, state["model"], path)
        self.model.load_state_dict(state["model"])
        return state

    def _restore(self, state: dict[str, Any]) -> None:
        path = self.out / CHECKPOINT
        try:
            self.optimizer.load_state_dict(state["optimizer"])
        except (ValueError, KeyError) as e:
            raise TrainingError(f"{path}: optimizer state does not fit this model ({e}); "
                                "did --freeze_param change?") from None
        self.epoch, self.batch_pos, self.step = int(state["epoch"]), int(state["batch"]), int(state["step"])
        self.best = dict(state.get("best", {}))
        self.history = list(state.get("history", []))
        self.last_valid_step = int(state.get("last_valid_step", -1))
        since = state.get("since_valid") or {}
        self.since_valid.add(dict(since.get("sums", {})), float(since.get("weight", 0.0)))
        if self.batch_pos > 0 and state.get("batches") != self.train_sampler.fingerprint():
            logging.warning("the training batches differ from those in %s (data, batch_bins or batch_size "
                            "changed); epoch %d restarts from its first batch", path, self.epoch)
            self.batch_pos = 0
        self.batch_pos = min(self.batch_pos, len(self.train_sampler.batches))
        rng = state["rng"]
        if len(rng) != self.ctx.world_size:
            logging.warning("%s was written by %d processes, this run has %d: random generators of rank 0 "
                            "are restored on every process", path, len(rng), self.ctx.world_size)
        set_rng_state(rng[self.ctx.rank] if len(rng) == self.ctx.world_size else rng[0])
        logging.info("resumed from %s: epoch %d, batch %d, %d updates done", state.get(LOADED_FROM, path),
                     self.epoch, self.batch_pos, self.step)

    def _write_config(self) -> None:
        path = self.out / "config.yaml"
        values = _config_values(self.args)
        if path.exists():
            with contextlib.suppress(OSError, yaml.YAMLError):
                old = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                changed = [f"{k}: {old.get(k)!r} -> {v!r}" for k, v in values.items() if old.get(k) != v]
                if changed:
                    logging.warning("options changed since the last run in %s: %s", self.out, "; ".join(changed))
        with atomic_open(path) as f:
            yaml.safe_dump(values, f, sort_keys=True, default_flow_style=False, allow_unicode=True)
        self.task.write_input_record(self.args, self.out)

    def _remove_stale_outputs(self) -> None:
        """A fresh start must not rank or average model files left by an earlier run."""
        stale = self._snapshots() + [p for p in (self.out / METRICS_FILE, self.out / AVERAGE,
                                                 *(self.out / f"{m}.best" for m, _ in self.criteria))
                                     if p.exists()]
        if stale:
            logging.warning("starting over in %s: removing %s from an earlier run", self.out,
                            " ".join(p.name for p in stale))
            for p in stale:
                p.unlink()

    def _log_setup(self) -> None:
        a, s = self.args, self.train_sampler
        costs = [s.batch_bins(b) for b in s.batches]
        sizes = [len(b) for b in s.batches]
        n = len(s.batches)
        logging.info("task %s, output dir %s, device %s, %d process(es)", self.task.name, self.out,
                     self.ctx.device, self.ctx.world_size)
        logging.info("model: %d parameters, %d trainable", sum(p.numel() for p in self.model.parameters()),
                     sum(p.numel() for p in self.model.parameters() if p.requires_grad))
        logging.info("BATCHES ARE GLOBAL: %d examples in %d length-bucketed batches per epoch "
                     "(batch_bins=%d, batch_size=%d), mean %.1f examples and %.0f bins per batch (max %d bins); "
                     "each of the %d process(es) takes 1/%d of every batch; accum_grad=%d -> "
                     "%.1f examples per update, %d updates per epoch, %d updates in all (warmup %d)",
                     len(s.lengths), n, a.batch_bins, a.batch_size, sum(sizes) / n, sum(costs) / n, max(costs),
                     self.ctx.world_size, self.ctx.world_size, a.accum_grad, sum(sizes) / n * a.accum_grad,
                     self.updates_per_epoch, self.total_steps, self.warmup)
        if self.valid_set is None:
            logging.warning("task %s has no validation set: no valid.* metrics, no *.best files; "
                            "model.avg.pt averages the last %d snapshots", self.task.name, a.nbest_average)

    # ------------------------------------------------------------------ main loop

    def finished(self) -> bool:
        """True when max_epoch or max_steps has been reached."""
        return self.epoch > self.args.max_epoch or self.step >= self.total_steps

    def run(self) -> None:
        """Train until max_epoch / max_steps, then write model.avg.pt."""
        if self.ctx.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            # plots/ too: a kill while the curves are drawn leaves its temporary file there.
            orphans = remove_orphaned_temps(self.out) + remove_orphaned_temps(self.out / PLOTS_DIR)
            if orphans:
                logging.warning("removed %d temporary file(s) of an interrupted earlier run: %s", len(orphans),
                                " ".join(p.name for p in orphans))
            if self.step == 0 and self.batch_pos == 0 and self.epoch == 1:
                self._remove_stale_outputs()
            self._write_config()
            self._log_setup()
        barrier(self.ctx)
        if self.finished():
            logging.info("training in %s already finished (epoch %d, %d updates); raise --max_epoch or "
                         "--max_steps to train further", self.out, self.epoch - 1, self.step)
        self.reporter.start(self.step)
        try:
            while not self.finished():
                self._train_epoch()
        finally:
            self.reporter.close()
        if self.ctx.is_main:
            self._average()
            self._validate_average()
            plot_after_training(self.out)  # metrics.jsonl is final; a failure is only a warning
        barrier(self.ctx)

    def _loader(self, dataset: Dataset, sampler: BucketBatchSampler, collate: Callable, seed: int) -> DataLoader:
        # An explicit generator keeps DataLoader from drawing its worker seed from the global
        # torch generator, whose state must only move with the model's own randomness.
        return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate, num_workers=self.args.num_workers,
                          pin_memory=self.is_cuda, generator=torch.Generator().manual_seed(seed))

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.bf16:
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _train_epoch(self) -> None:
        a = self.args
        sampler = self.train_sampler
        epoch, start = self.epoch, self.batch_pos
        sampler.set_epoch(epoch, start)
        global_batches = sampler.global_batches()
        num_batches = len(sampler.batches)
        loader = self._loader(self.train_set, sampler, self.train_collate, seed=a.seed * 100003 + epoch)
        if start == 0:
            logging.info("epoch %d/%d starts", epoch, a.max_epoch)
        else:
            logging.info("epoch %d/%d continues at batch %d of %d", epoch, a.max_epoch, start, num_batches)
        self.ddp_model.train()
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        group_ids: list[str] = []
        exit_after = int(os.environ.get(EXIT_AFTER_STEP_ENV, "0") or 0)
        stopped_early = False
        for k, batch in enumerate(loader):
            pos = start + k
            group_start = pos - pos % a.accum_grad
            group_size = min(a.accum_grad, num_batches - group_start)
            last_in_group = pos == group_start + group_size - 1
            ids = list(batch.pop("ids", []) or []) if isinstance(batch, dict) else []
            group_ids.extend(ids)
            sync = contextlib.nullcontext()
            if self.ctx.distributed and not last_in_group:
                sync = self.ddp_model.no_sync()  # type: ignore[operator]
            with sync:
                self._forward_backward(batch, ids, pos, group_size, global_batches[k])
            if not last_in_group:
                continue
            self._optimizer_step(trainable, group_ids, pos)
            group_ids = []
            self.batch_pos = pos + 1
            if self.step % a.log_interval == 0:
                self.reporter.log_progress(epoch, a.max_epoch, self.step, pos + 1, num_batches,
                                           self.optimizer.param_groups[0]["lr"], {})
            if exit_after and self.step >= exit_after:
                logging.warning("%s=%d: exiting abruptly after update %d", EXIT_AFTER_STEP_ENV, exit_after,
                                self.step)
                logging.shutdown()
                os._exit(137)
            if self.step >= self.total_steps:
                stopped_early = pos + 1 < num_batches
                break
            if a.valid_interval_steps and self.step % a.valid_interval_steps == 0 and pos + 1 < num_batches:
                self._validate(end_of_epoch=False)
            if a.save_interval_steps and self.step % a.save_interval_steps == 0 and pos + 1 < num_batches:
                self._save_checkpoint()
        del loader
        if not stopped_early:
            self.epoch, self.batch_pos = epoch + 1, 0
        self._validate(end_of_epoch=True, epoch=epoch)
        if self.ctx.is_main:
            self._save_snapshot(epoch)
        self._save_checkpoint()

    def _forward_backward(self, batch: dict, ids: list[str], pos: int, group_size: int,
                          global_batch: list[int]) -> None:
        batch = _to_device(batch, self.ctx.device)
        with self._autocast():
            loss, stats, weight = _split_output(self.ddp_model(**batch))
        loss = loss.float()
        names = sorted(stats)
        w = torch.as_tensor(weight, dtype=torch.float64, device=self.ctx.device).detach().reshape(())
        local = torch.stack([w, w * loss.detach().double()] +
                            [w * torch.as_tensor(stats[n], dtype=torch.float64, device=self.ctx.device).detach()
                             .reshape(()) for n in names])
        total = all_reduce_sum(local.clone(), self.ctx).tolist()
        total_weight = total[0]
        if total_weight > 0 and not math.isfinite(total[1]):
            where = (f"batch ids {', '.join(ids) if ids else '(the collate function gives no ids)'}"
                     if not torch.isfinite(loss).item() else "a batch on another process")
            raise TrainingError(f"non-finite loss ({loss.item()}) at update {self.step + 1} "
                                f"(epoch {self.epoch}, batch {pos} of the epoch): {where}")
        if total_weight > 0:
            # DDP averages gradients over processes; this weighting turns that into the weighted
            # mean over the global batch, so W processes match one process with the same batch.
            scale = w.item() * self.ctx.world_size / total_weight / group_size
            loss_for_grad = loss * scale
        else:
            loss_for_grad = torch.nan_to_num(loss) * 0.0
        loss_for_grad.backward()
        sums = {"loss": total[1], **{n: total[i + 2] for i, n in enumerate(names)}}
        self.reporter.add_batch(sums, total_weight, len(global_batch), self.train_sampler.batch_bins(global_batch))
        self.since_valid.add(sums, total_weight)

    def _optimizer_step(self, trainable: list[torch.nn.Parameter], group_ids: list[str], pos: int) -> None:
        a = self.args
        max_norm = a.grad_clip if a.grad_clip > 0 else float("inf")
        grad_norm = torch.nn.utils.clip_grad_norm_(trainable, max_norm)
        if not torch.isfinite(grad_norm).item():
            raise TrainingError(f"non-finite gradient norm at update {self.step + 1} (epoch {self.epoch}, "
                                f"batch {pos} of the epoch): batch ids {', '.join(group_ids) or '(none given)'}")
        lr = a.lr * lr_factor(self.step, self.total_steps, self.warmup, a.scheduler)
        for g in self.optimizer.param_groups:
            g["lr"] = lr
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1

    # ------------------------------------------------------------------ validation, files

    @torch.no_grad()
    def _validate(self, end_of_epoch: bool, epoch: int | None = None) -> None:
        epoch = self.epoch if epoch is None else epoch
        if self.last_valid_step == self.step and not end_of_epoch:
            return
        metrics: dict[str, float] = {f"train.{k}": v for k, v in self.since_valid.means().items()}
        self.since_valid.reset()
        metrics.update(self._evaluate())
        self.last_valid_step = self.step
        record = {"epoch": epoch, "step": self.step, "end_of_epoch": end_of_epoch,
                  "lr": self.optimizer.param_groups[0]["lr"], **metrics}
        self.history.append(record)
        if self.ctx.is_main:
            self.reporter.log_validation(epoch, self.step, metrics)
            self._write_metrics()
            self._update_best(record)
        barrier(self.ctx)

    @torch.no_grad()
    def _evaluate(self) -> dict[str, float]:
        """``valid.*`` metrics of the current model: weighted loss/stats, then the task's own."""
        metrics: dict[str, float] = {}
        if self.valid_set is None or self.valid_sampler is None:
            return metrics
        self.model.eval()
        self.valid_sampler.set_epoch(1, 0)
        sums: torch.Tensor | None = None
        names: list[str] = []
        for batch in self._loader(self.valid_set, self.valid_sampler, self.valid_collate, seed=self.args.seed):
            if isinstance(batch, dict):
                batch.pop("ids", None)
            batch = _to_device(batch, self.ctx.device)
            with self._autocast():
                loss, stats, weight = _split_output(self.model(**batch))
            names = names or sorted(stats)
            w = torch.as_tensor(weight, dtype=torch.float64, device=self.ctx.device).reshape(())
            row = torch.stack([w, w * loss.double()] + [
                w * torch.as_tensor(stats[n], dtype=torch.float64, device=self.ctx.device).reshape(())
                for n in names])
            sums = row if sums is None else sums + row
        assert sums is not None
        total = all_reduce_sum(sums, self.ctx).tolist()
        if total[0] > 0:
            metrics["valid.loss"] = total[1] / total[0]
            metrics.update({f"valid.{n}": total[i + 2] / total[0] for i, n in enumerate(names)})
        if self.ctx.is_main:
            extra = self.task.validate(self.model, self.args, self.ctx.device)
            metrics.update({f"valid.{k}": float(v) for k, v in extra.items()})
        self.model.train()
        return metrics

    def _write_metrics(self) -> None:
        with atomic_open(self.out / METRICS_FILE) as f:
            for r in self.history:
                f.write(json.dumps(r, sort_keys=True) + "\n")

    def _update_best(self, record: dict[str, Any]) -> None:
        for metric, mode in self.criteria:
            if metric not in record:
                if self.valid_set is None and metric.startswith("valid."):
                    continue  # no validation set: nothing to rank by
                known = sorted(k for k in record if "." in k)
                raise ConfigError(f"--best_criterion {metric}:{mode}: no such metric "
                                  f"(this run reports: {', '.join(known)})")
            value = float(record[metric])
            if not math.isfinite(value):
                continue
            old = self.best.get(metric)
            if old is None or (value < old["value"] if mode == "min" else value > old["value"]):
                self.best[metric] = {"value": value, "epoch": record["epoch"], "step": record["step"]}
                # Saved through a file object, not a path: torch names the zip records after the
                # file, and the temporary name is random (equal weights -> equal bytes).
                with atomic_open(self.out / f"{metric}.best", "wb") as f:
                    torch.save(self.model.state_dict(), f)
                logging.info("new best %s %.6g (epoch %d, step %d) -> %s", metric, value, record["epoch"],
                             record["step"], self.out / f"{metric}.best")

    def _snapshots(self) -> list[Path]:
        return sorted((p for p in self.out.iterdir() if SNAPSHOT_RE.match(p.name)), key=snapshot_epoch)

    def _save_snapshot(self, epoch: int) -> None:
        with atomic_open(self.out / f"snapshot.ep.{epoch}", "wb") as f:  # a file object: see _update_best
            torch.save(self.model.state_dict(), f)
        keep_n = self.args.keep_nbest
        if keep_n <= 0:
            return
        keep_n = max(keep_n, self.args.nbest_average)
        snaps = self._snapshots()
        epochs = [snapshot_epoch(p) for p in snaps]
        ranked = self._ranked_epochs()
        if ranked:
            keep = {e for order in ranked for e in [e for e in order if e in epochs][:keep_n]}
        else:
            keep = set(epochs[-keep_n:])
        keep.add(epoch)  # the newest stays until a better one replaces it
        for p in snaps:
            if snapshot_epoch(p) not in keep:
                p.unlink()

    def _ranked_epochs(self) -> list[list[int]]:
        """For each best criterion with recorded values: epochs from best to worst."""
        end = {int(r["epoch"]): r for r in self.history if r.get("end_of_epoch")}
        ranked = []
        for metric, mode in self.criteria:
            scored = [(v if mode == "min" else -v, -e, e) for e, r in end.items()
                      if isinstance(v := r.get(metric), (int, float)) and math.isfinite(v)]
            if scored:
                ranked.append([e for *_, e in sorted(scored)])
        return ranked

    def _save_checkpoint(self) -> None:
        rng = all_gather_objects(get_rng_state(), self.ctx)
        if self.ctx.is_main:
            state = {
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": {"kind": self.args.scheduler, "step": self.step, "total": self.total_steps,
                              "warmup": self.warmup},
                "epoch": self.epoch, "batch": self.batch_pos, "step": self.step,
                "batches": self.train_sampler.fingerprint(),
                "best": self.best, "history": self.history, "last_valid_step": self.last_valid_step,
                "since_valid": {"sums": dict(self.since_valid.sums), "weight": self.since_valid.weight},
                "rng": rng,
            }
            save_checkpoint(state, self.out / CHECKPOINT)
            logging.info("saved %s (epoch %d, batch %d, %d updates)", self.out / CHECKPOINT, self.epoch,
                         self.batch_pos, self.step)
        barrier(self.ctx)

    def _validate_average(self) -> None:
        """Validate ``model.avg.pt`` and write its metrics to ``model.avg.metrics.json``.

        The decoders read the averaged model, so these are the numbers that decoding the
        validation set must reproduce. Runs on the main process only (after training), with the
        bare model; the trained weights are put back afterwards.
        """
        path = self.out / AVERAGE
        if not path.is_file():
            return
        if self.ctx.distributed:
            logging.info("%s: validated by the single-process decoders, not here (DDP run)", path)
            return
        trained = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        state = load_state_dict(path)
        check_state_dict(self.model, state, path)
        self.model.load_state_dict(state)
        try:
            metrics = self._evaluate()
        finally:
            self.model.load_state_dict(trained)
        record = {"model": AVERAGE, "epoch": self.epoch - 1, "step": self.step, **metrics}
        with atomic_open(self.out / AVERAGE_METRICS) as f:
            f.write(json.dumps(record, sort_keys=True, indent=1) + "\n")
        logging.info("validation of %s: %s", path, ", ".join(f"{k} {v:.4g}" for k, v in metrics.items()))

    def _average(self) -> None:
        n = self.args.nbest_average
        snaps = self._snapshots()
        if n <= 0 or not snaps:
            return
        ranked = self._ranked_epochs()
        if ranked:
            metric, mode = next((m, md) for m, md in self.criteria
                                if any(isinstance(r.get(m), (int, float)) for r in self.history))
            average_checkpoints(snaps, self.out / AVERAGE, num=n, metric=metric, mode=mode,
                                metrics_path=self.out / METRICS_FILE)
        else:
            average_checkpoints(snaps, self.out / AVERAGE, num=n)
