"""Train an INSTRUCTOR embedder on MEDI records: `train(config, records) -> TrainResult`.

The run: the records and the starting model are read (or given), AdamW with linear warm-up and decay takes
`config.steps` steps of `step.loss_and_backward`, a checkpoint is written every `checkpoint_every` steps, and
the final model is saved. A run resumes from its checkpoint; under torchrun every rank runs this loop on its
slice of each global batch (`torchrun --nproc_per_node=N -m instructor_lib.training ...`).

Everything a run writes goes in its run directory: run.json (config, its hash, data hash, library versions),
metrics.jsonl (loss, lr, pairs/s per step), checkpoint/ (resumable state), model/ (the final save_pretrained).
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist

from ..config import progress_bar, runs_root
from ..data import MediDataset, TaskBatchSampler, collate
from ..files import atomic_write_json, run_lock
from ..loss import LOSSES
from ..model import Instructor
from ..model_folder import T5_FAMILY, resolve_model_path
from ..precision import precision_record, resolve_precision
from ..provenance import library_versions
from ..records import load_medi
from .checkpoint import barrier, keep_metrics_until, last_logged_loss, load_checkpoint, save_checkpoint
from .config import TrainConfig
from .step import loss_and_backward


@dataclass
class TrainResult:
    """Where a finished run put things, its last logged loss, and the step it resumed from (0: a fresh run)."""
    run_dir: Path
    model_path: Path
    metrics_path: Path
    final_loss: float
    steps: int
    resumed_from_step: int


def load_model(config: TrainConfig, model: Instructor | None = None) -> Instructor:
    """The model a config starts from, in training mode, with its dropout, length and checkpointing settings
    applied: `model` when given (changed in place), else `Instructor.from_pretrained(config.model)`."""
    if model is None:
        model = Instructor.from_pretrained(config.model)
    if config.max_seq_length is not None:
        model.max_seq_length = config.max_seq_length
    if config.dropout is not None:
        for module in model.modules():
            if isinstance(module, torch.nn.Dropout):
                module.p = config.dropout
        if model.encoder.config.model_type in T5_FAMILY:  # T5 layers read the rate from the config
            model.encoder.config.dropout_rate = config.dropout
    if config.gradient_checkpointing:
        model.encoder.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    return model.train()


NO_DATA = ("pass records, or set `data` to a MEDI json file: the official medi-data.json, or a mixture built with "
           "`python -m instructor_lib.medi --preset cpu --out runs/medi-cpu.json`")


def load_records(config: TrainConfig, records=None) -> MediDataset:
    """Validated training records: those given, else `config.data` (a MEDI json file)."""
    if records is not None:
        return MediDataset(records, "records")
    if config.data is not None:
        return MediDataset(load_medi(config.data), str(config.data))
    raise ValueError(f"config {config.name!r} has no training data: {NO_DATA}")


def _setup_distributed() -> tuple[int, int, torch.device, bool]:
    """(rank, world_size, device, started_here) from torchrun's environment; one process without it."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device(f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu")
    if world_size == 1:
        return 0, 1, device, False
    started_here = not dist.is_initialized()
    if started_here:
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size(), device, started_here


def _linear_warmup(optimizer, config: TrainConfig):
    warmup = math.ceil(config.warmup_ratio * config.steps)

    def factor(step: int) -> float:
        if step < warmup:
            return step / max(1, warmup)
        return max(0.0, (config.steps - step) / max(1, config.steps - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _say(rank: int, message: str) -> None:
    """A line on stderr about a step that can take long, also when stderr is not a terminal (logs, notebooks)."""
    if rank == 0:
        print(message, file=sys.stderr, flush=True)


def check_inputs(config: TrainConfig, records=None, model: Instructor | None = None) -> None:
    """Resolve what a run reads before any long work: the model (downloaded when it is a hub id; nothing to
    read when the starting `model` is given) and the data file (unless `records` are given).

    Raises OSError / FileNotFoundError naming the input that cannot be read and what to do.
    """
    if model is None:
        resolve_model_path(config.model)
    if records is None and config.data is None:
        raise ValueError(f"config {config.name!r} has no training data: {NO_DATA}")
    if records is None and not Path(config.data).is_file():
        raise FileNotFoundError(f"training data {config.data} (config 'data') is not a file: pass the path of a MEDI "
                                "json file, e.g. the official medi-data.json")


def train(config: TrainConfig, records=None, run_dir: str | os.PathLike | None = None, on_step=None,
          model: Instructor | None = None) -> TrainResult:
    """Train a model as `config` says and save it; resumes from `run_dir/checkpoint` when one exists.

    Args:
        config: a `TrainConfig` (see `preset`).
        records: training records (MEDI dicts); None reads `config.data`.
        run_dir: where everything goes; default `<runs_root()>/<config.name>` (`runs/` at the project root).
        on_step: optional callback `on_step(step, metrics_dict)` after every step (e.g. live plots).
        model: the starting model (trained in place, with the config's dropout, length and checkpointing
            settings applied), e.g. a random test model of `instructor_lib.tiny`; None loads `config.model`.
            `config.model` labels it either way: it is part of the config's hash.
    Returns a `TrainResult` with the saved model folder and the metrics JSONL path.
    """
    check_inputs(config, records, model)
    run_dir = Path(run_dir) if run_dir else runs_root() / config.name
    rank, world_size, device, started_here = _setup_distributed()
    try:  # rank 0 holds the run directory's lock: a second run writing there fails at once, naming the holder
        with run_lock(run_dir) if rank == 0 else contextlib.nullcontext():
            return _train(config, records, model, run_dir, on_step, rank, world_size, device)
    finally:
        if started_here:
            dist.destroy_process_group()


def _train(config, records, model, run_dir: Path, on_step, rank: int, world_size: int, device: torch.device) -> TrainResult:
    if records is None:
        _say(rank, f"train {config.name}: reading the training data ({config.data})")
    dataset = load_records(config, records)
    data_hash = dataset.sha256()
    sampler = TaskBatchSampler(dataset.task_names, config.batch_size, config.seed, rank, world_size)
    _say(rank, f"train {config.name}: loading the model {config.model or 'all-MiniLM-L6-v2'} "
               f"({len(dataset)} records, {len(set(dataset.task_names))} tasks)")
    model = load_model(config, model).to(device)
    precision = resolve_precision(config.precision, device)
    if precision == "bfloat16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise RuntimeError("precision bfloat16 but this GPU has no bfloat16 support; use float32 (fp16 is unsafe for T5)")
    # fused: one kernel over all parameters instead of a Python loop of small ops (same update rule)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, fused=True)
    scheduler = _linear_warmup(optimizer, config)
    torch.manual_seed(config.seed + rank)  # dropout stream; model init is fixed above (and broadcast by DDP)
    random.seed(config.seed + rank)

    run_dir.mkdir(parents=True, exist_ok=True)
    metrics_path = run_dir / "metrics.jsonl"
    start_step = load_checkpoint(run_dir, model, optimizer, scheduler, sampler, config, data_hash, rank, world_size)
    if rank == 0:
        keep_metrics_until(metrics_path, start_step)
        atomic_write_json(run_dir / "run.json", _run_record(config, dataset, sampler, data_hash, world_size, device, start_step))

    ddp = model
    if world_size > 1:  # unused parameters: e.g. BERT's pooler, which mean pooling never reads
        ddp = torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=True, broadcast_buffers=False)
    loss_fn, batches = LOSSES[config.loss], iter(sampler)
    loss = last_logged_loss(metrics_path)  # what a finished run called again reports
    with progress_bar(total=config.steps, initial=start_step, disable=rank != 0, desc=f"train {config.name}") as bar, \
            open(metrics_path, "a") if rank == 0 else contextlib.nullcontext() as metrics_file:
        for step in range(start_step + 1, config.steps + 1):
            batch = collate([dataset[i] for i in next(batches)])
            started = time.perf_counter()
            optimizer.zero_grad(set_to_none=True)
            loss = loss_and_backward(ddp, batch, loss_fn, config.temperature, config.chunk_size,
                                     config.gradient_caching, precision).item()
            if not math.isfinite(loss):
                raise FloatingPointError(f"loss is {loss} at step {step} (task {batch.task_name!r}); stopping. "
                                         f"Last checkpoint: {run_dir / 'checkpoint'}")
            # the norm before clipping is logged: under Adam a wrong gradient scale would not show in the loss
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm or math.inf).item()
            lr = scheduler.get_last_lr()[0]
            optimizer.step()
            scheduler.step()
            seconds = time.perf_counter() - started
            metrics = {"step": step, "loss": loss, "grad_norm": grad_norm, "lr": lr,
                       "pairs_per_s": config.batch_size / seconds, "task": batch.task_name}
            if rank == 0:
                metrics_file.write(json.dumps(metrics) + "\n")
                metrics_file.flush()
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.4f}")
            if step % config.checkpoint_every == 0 or step == config.steps:
                save_checkpoint(run_dir, step, model, optimizer, scheduler, sampler, config, data_hash, rank, world_size)
            if on_step is not None:
                on_step(step, metrics)

    model_path = run_dir / "model"
    if rank == 0:
        instructions = {record["task_name"]: record["query"][0] for record in dataset.records}
        model.save_pretrained(model_path, instructions=instructions, model_card_extra=(
            f"Trained by instructor_lib.train: config hash {config.hash()}, data hash {data_hash}, {config.steps} steps."))
    barrier(world_size)
    return TrainResult(run_dir, model_path, metrics_path, loss, config.steps, start_step)


def _run_record(config: TrainConfig, dataset: MediDataset, sampler: TaskBatchSampler, data_hash: str, world_size: int,
                device: torch.device, start_step: int) -> dict:
    """run.json: the config and its hash, the data it trained on, where and with which libraries, the resumed step."""
    return {"config": dataclasses.asdict(config), "config_hash": config.hash(), "data_hash": data_hash,
            "records": len(dataset), "tasks": len(set(dataset.task_names)),
            "batches_per_epoch": sampler.batches_per_epoch, "records_dropped_per_epoch": sampler.dropped_per_epoch,
            "world_size": world_size, "device": str(device), "precision": precision_record(config.precision, device),
            "library_versions": library_versions(),
            "resumed_from_step": start_step}
