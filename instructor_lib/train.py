"""Train an INSTRUCTOR embedder on MEDI records: `train(config, records) -> TrainResult`.

One step: a single-task global batch of (query, pos, neg) records -> embeddings of the 3B texts -> the
INSTRUCTOR loss over the whole global batch -> AdamW. The texts are embedded in chunks of similar token length
(little padding); by default all chunks keep their autograd graphs and one backward runs through them. Batches
whose activations do not fit memory use gradient caching instead (Gao et al. 2021, "GradCache"): the chunks are
embedded without autograd, the loss is backpropagated to the cached embeddings only, then each chunk is embedded
again with autograd and backpropagated with its embedding gradient. Dropout replays the same masks on the
second pass (the RNG state of each chunk is kept), so both ways give the same loss and gradients.

Data parallel (`torchrun --nproc_per_node=N -m instructor_lib.train ...`): each rank embeds its slice of the
global batch, the embeddings of all ranks are gathered so the loss (and every rank's embedding gradient)
covers the global batch, and DistributedDataParallel sums the parameter gradients. The result equals one
process on the same global batch.

Everything a run writes goes in its run directory: run.json (config, its hash, data hash, library versions),
metrics.jsonl (loss, lr, pairs/s per step), checkpoint/ (resumable state), model/ (the final save_pretrained).
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import random
import shutil
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist

from . import presets
from .config import progress_bar, runs_root
from .dropout import cpu_dropout
from .data import MediDataset, TaskBatchSampler, TrainBatch, collate
from .files import RunLockedError, atomic_path, atomic_write_json, atomic_write_text, fsync_dir, read_json, run_lock
from .loss import LOSSES, PAPER_TEMPERATURE
from .model import Instructor, T5_FAMILY, resolve_model_path
from .precision import check_precision, precision_record, resolve_precision
from .provenance import library_versions, sha256_json
from .records import load_medi

# Real-valued fields: (lowest, whether the lowest itself is allowed, highest or None, whether None is allowed).
REAL_FIELDS = {"lr": (0.0, False, None, False), "temperature": (0.0, False, None, False),
               "warmup_ratio": (0.0, True, 1.0, False), "weight_decay": (0.0, True, None, False),
               "max_grad_norm": (0.0, False, None, True), "dropout": (0.0, True, 1.0, True)}


@dataclass
class TrainConfig:
    """Everything that defines a training run (its hash identifies the run for resuming).

    Args:
        name: run name; the default run directory is `runs/<name>` at the project root.
        model: None for the default backbone (all-MiniLM-L6-v2), "tiny-bert" / "tiny-t5" for the random test
            models of `instructor_lib.tiny`, else a folder or hub id for `Instructor.from_pretrained`.
        data: a MEDI json file (read with `instructor_lib.records.load_medi`) when `train` gets no records.
        steps: optimizer steps.
        batch_size: global batch (all ranks together) of training records, each one query, positive, negative.
        chunk_size: texts per encoder pass, grouped by token length so that each pass pads little; None embeds
            the 3 x batch texts in one pass.
        gradient_caching: re-embed each chunk in backward (GradCache) so that only one chunk's activations are
            held: for batches that do not fit memory; costs a second forward per text. Same loss and gradients.
        lr, warmup_ratio, weight_decay, max_grad_norm: AdamW with linear warm-up then linear decay to 0;
            gradient norm clipping as in the HF Trainer the original used (None disables it).
        loss: "instructor" (the paper's) or "all_candidates" (sentence-transformers MNRL, for ablations).
        temperature: similarities are divided by it (paper 0.01).
        precision: "auto" (bfloat16 autocast only where this machine runs bf16 faster, see
            `instructor_lib.precision`), "float32" or "bfloat16" (the loss stays float32). fp16 is not offered.
        gradient_checkpointing: recompute encoder activations in backward (less memory, ~30% slower).
        dropout: override every dropout probability of the encoder (None keeps the checkpoint's).
        max_seq_length: truncation of instruction + text (None keeps the model's).
        seed: model init of the tiny models, dropout, and batch order.
        checkpoint_every: write a resumable checkpoint every this many steps (and at the end).
    """
    name: str = "cpu"
    model: str | None = None
    data: str | None = None
    steps: int = 30
    batch_size: int = 64
    chunk_size: int | None = 64
    gradient_caching: bool = False
    lr: float = 2e-5
    warmup_ratio: float = 0.1
    weight_decay: float = 0.0
    max_grad_norm: float | None = 1.0
    loss: str = "instructor"
    temperature: float = PAPER_TEMPERATURE
    precision: str = "auto"
    gradient_checkpointing: bool = False
    dropout: float | None = None
    max_seq_length: int | None = 128
    seed: int = 42
    checkpoint_every: int = 10

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {self.loss!r}")
        for field in ("steps", "batch_size", "checkpoint_every"):
            if not isinstance(getattr(self, field), int) or getattr(self, field) < 1:
                raise ValueError(f"{field} must be a positive integer, got {getattr(self, field)!r}")
        if self.chunk_size is not None and self.chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer or None, got {self.chunk_size!r}")
        _check_fields(self)
        check_precision(self.precision)

    def resolved_precision(self) -> str:
        """The precision this machine trains the config in ("auto" resolved for the default device)."""
        return resolve_precision(self.precision, "cuda" if torch.cuda.is_available() else "cpu")

    def hash(self) -> str:
        """sha256 of the fields that change the result; the data is identified by its own hash instead."""
        ignored = ("name", "checkpoint_every", "data")
        fields = {k: v for k, v in dataclasses.asdict(self).items() if k not in ignored}
        fields["precision"] = self.resolved_precision()  # "auto" trains differently on different machines
        return sha256_json(fields)


def _check_fields(config: TrainConfig) -> None:
    """Types and ranges of the fields not checked in `__post_init__`: a wrong value fails here, before any work."""
    for field, (low, low_allowed, high, optional) in REAL_FIELDS.items():
        value = getattr(config, field)
        if value is None and optional:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or value < low or (value == low and not low_allowed) or (high is not None and value > high):
            bounds = f"{'>=' if low_allowed else '>'} {low}" + (f" and <= {high}" if high is not None else "")
            raise ValueError(f"{field} must be a number {bounds}{' or None' if optional else ''}, got {value!r}")
    for field in ("chunk_size", "max_seq_length"):
        value = getattr(config, field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"{field} must be a positive integer or None, got {value!r}")
    if config.max_seq_length is not None and config.max_seq_length < 8:
        raise ValueError(f"max_seq_length must be at least 8 tokens (instruction + text), got {config.max_seq_length}")
    if isinstance(config.seed, bool) or not isinstance(config.seed, int):
        raise ValueError(f"seed must be an integer, got {config.seed!r}")
    for field in ("gradient_caching", "gradient_checkpointing"):
        if not isinstance(getattr(config, field), bool):
            raise ValueError(f"{field} must be true or false, got {getattr(config, field)!r}")
    for field in ("name", "model", "data"):
        value = getattr(config, field)
        if not (value is None and field != "name") and not (isinstance(value, str) and value):
            raise ValueError(f"{field} must be a non-empty string{'' if field == 'name' else ' or None'}, got {value!r}")


def preset(name: str, /, **overrides) -> TrainConfig:
    """The training config of a preset (`smoke`, `cpu`, `paper`: `instructor_lib.presets`), some fields replaced."""
    return TrainConfig(**{**presets.preset(name).train.config_fields(), **overrides})


@dataclass
class TrainResult:
    """Where a finished run put things, its last logged loss, and the step it resumed from (0: a fresh run)."""
    run_dir: Path
    model_path: Path
    metrics_path: Path
    final_loss: float
    steps: int
    resumed_from_step: int


# --------------------------------------------------------------------------------------------- the step
def _rng_state(device: torch.device):
    return torch.cuda.get_rng_state(device) if device.type == "cuda" else torch.get_rng_state()


def _set_rng_state(device: torch.device, state) -> None:
    if device.type == "cuda":
        torch.cuda.set_rng_state(state, device)
    else:
        torch.set_rng_state(state)


def _gather(local: torch.Tensor) -> list[torch.Tensor]:
    """The `local` tensors of all ranks in rank order (a one-element list without torch.distributed)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return [local]
    gathered = [torch.empty_like(local) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, local.contiguous())
    return gathered


def _embedding_gradients(embeddings: torch.Tensor, batch_len: int, loss_fn, temperature: float):
    """Loss over the global batch and its gradient w.r.t. this rank's embeddings (rows: query, pos, neg).

    Every rank holds `3 * batch_len` rows; the global batch is rebuilt from all ranks so negatives and
    queries span it. Returns (loss, gradient of this rank's rows).
    """
    parts = [part.detach().requires_grad_() for part in _gather(embeddings.detach())]
    query, pos, neg = (torch.cat([part[k * batch_len:(k + 1) * batch_len] for part in parts]) for k in range(3))
    loss = loss_fn(query, pos, neg, temperature)
    rank = dist.get_rank() if len(parts) > 1 else 0
    (gradient,) = torch.autograd.grad(loss, [parts[rank]])
    return loss.detach(), gradient


def length_chunks(instructor: Instructor, pairs: list[tuple[str, str]], chunk_size: int | None):
    """`pairs` tokenized once and split into chunks of `chunk_size` texts of similar token length (less
    padding); returns `(rows, features)` per chunk, rows being indices into `pairs`."""
    ids = instructor._token_ids(pairs)
    order = sorted(range(len(pairs)), key=lambda i: len(ids[i]))
    size = chunk_size or len(pairs)
    return [(rows, instructor._collate([ids[i] for i in rows], [instructor.instruction_length(pairs[i][0]) for i in rows]))
            for rows in (order[start:start + size] for start in range(0, len(pairs), size))]


def loss_and_backward(model, batch: TrainBatch, loss_fn, temperature: float,
                      chunk_size: int | None = None, gradient_caching: bool = False,
                      precision: str = "float32") -> torch.Tensor:
    """Compute the loss of `batch` over the global batch and add its gradients to the model's `.grad`.

    Args:
        model: an `Instructor`, or one wrapped in DistributedDataParallel (then `batch` is this rank's slice).
        batch: this rank's records of one task.
        loss_fn, temperature: the objective, `loss_fn(query, pos, neg, temperature)` on embeddings.
        chunk_size: texts per encoder pass, grouped by token length (None: the 3B texts in one pass).
        gradient_caching: False: every chunk keeps its autograd graph and one backward runs through all of
            them (one forward per text). True: GradCache, for batches whose activations do not fit memory:
            chunks are embedded without autograd, the loss is backpropagated to the embeddings, then each
            chunk is embedded again with autograd (two forwards per text, activations of one chunk). Both give
            the same loss and gradients; dropout draws the same masks (each chunk's RNG state is replayed).
        precision: "float32", or "bfloat16" for bfloat16 autocast of the encoder (the loss stays float32).
    Returns the loss (a detached scalar, the same on every rank); gradients are those of one process on the
    global batch, also under DDP (which averages over ranks: hence the `world_size` factor below).
    """
    instructor: Instructor = getattr(model, "module", model)
    device = next(instructor.parameters()).device
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bfloat16")
    # CPU: cheaper dropout masks (instructor_lib.dropout); CUDA's own dropout is fast already
    masks = cpu_dropout if device.type == "cpu" else contextlib.nullcontext
    world_size = dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1
    pairs = batch.query + batch.pos + batch.neg
    chunks = [(rows, {k: v.to(device) for k, v in features.items()})
              for rows, features in length_chunks(instructor, pairs, chunk_size)]
    # Chunk outputs are concatenated in chunk order; `inverse` puts them back in row order.
    inverse = torch.argsort(torch.tensor([row for rows, _ in chunks for row in rows], device=device))

    if not gradient_caching or len(chunks) == 1:
        with autocast, masks():  # one forward call (DDP expects one per backward) over every chunk
            embeddings = _wide(model([features for _, features in chunks]))[inverse]
        loss, gradient = _embedding_gradients(embeddings, len(batch), loss_fn, temperature)
        embeddings.backward(gradient * world_size)
        return loss

    # Gradient caching: pass 1 without autograd, remembering each chunk's RNG state for dropout.
    embeddings, rng_states = [], []
    with torch.no_grad(), autocast, masks():
        for _, features in chunks:
            rng_states.append(_rng_state(device))
            embeddings.append(_wide(instructor(features)))
    rng_after = _rng_state(device)
    loss, gradient = _embedding_gradients(torch.cat(embeddings)[inverse], len(batch), loss_fn, temperature)
    # Pass 2: re-embed each chunk with autograd and backpropagate its slice of the embedding gradient.
    for number, ((rows, features), state) in enumerate(zip(chunks, rng_states)):
        last = number == len(chunks) - 1
        sync = contextlib.nullcontext() if last or not hasattr(model, "no_sync") else model.no_sync()
        _set_rng_state(device, state)
        with sync:
            with autocast, masks():
                chunk_embeddings = _wide(model(features))
            chunk_embeddings.backward(gradient[rows] * world_size)
    _set_rng_state(device, rng_after)
    return loss


def _wide(embeddings: torch.Tensor) -> torch.Tensor:
    """Embeddings in at least float32 for the loss (bf16 autocast outputs are widened; float64 stays)."""
    return embeddings.to(torch.promote_types(embeddings.dtype, torch.float32))


# --------------------------------------------------------------------------------------------- the run
def load_model(config: TrainConfig) -> Instructor:
    """The model a config starts from, in training mode, with its dropout and length settings applied."""
    if config.model in ("tiny-bert", "tiny-t5"):
        from . import tiny

        model = (tiny.tiny_bert if config.model == "tiny-bert" else tiny.tiny_t5)(seed=config.seed)
    else:
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


def _save_checkpoint(run_dir: Path, step: int, model, optimizer, scheduler, sampler, config: TrainConfig,
                     data_hash: str, rank: int, world_size: int) -> None:
    """Write checkpoint/ atomically: every rank writes its RNG state into a fresh folder that replaces the old one."""
    staging, final, old = run_dir / "checkpoint.tmp", run_dir / "checkpoint", run_dir / "checkpoint.old"
    if rank == 0:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
    _barrier(world_size)
    with atomic_path(staging / f"rng_rank{rank}.pt") as temporary:
        torch.save({"torch": torch.get_rng_state(), "python": random.getstate(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}, temporary)
    if rank == 0:
        with atomic_path(staging / "state.pt") as temporary:
            torch.save({"step": step, "config_hash": config.hash(), "data_hash": data_hash, "world_size": world_size,
                        "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(), "sampler": sampler.state_dict()}, temporary)
    _barrier(world_size)
    if rank == 0:  # a kill between the renames leaves checkpoint.old, which _load_checkpoint falls back to
        if final.exists():
            final.rename(old)
        staging.rename(final)
        fsync_dir(run_dir)
        shutil.rmtree(old, ignore_errors=True)
    _barrier(world_size)


def _load_checkpoint(run_dir: Path, model, optimizer, scheduler, sampler, config: TrainConfig, data_hash: str,
                     rank: int, world_size: int) -> int:
    """Restore the latest checkpoint of `run_dir` if any; returns the step it was taken at (0 if none)."""
    folder = next((f for f in (run_dir / "checkpoint", run_dir / "checkpoint.old") if (f / "state.pt").exists()), None)
    if folder is None:
        return 0
    state = _read_checkpoint_file(folder / "state.pt")
    for key, expected, what in (("config_hash", config.hash(), "config"), ("data_hash", data_hash, "training data"),
                                ("world_size", world_size, "number of processes")):
        if state[key] != expected:
            raise ValueError(f"{folder} was written with another {what} ({key} {state[key]} != {expected}); "
                             "resume with the same settings or use a new run directory")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    sampler.load_state_dict(state["sampler"])
    rng = _read_checkpoint_file(folder / f"rng_rank{rank}.pt")
    torch.set_rng_state(rng["torch"])
    random.setstate(rng["python"])
    if rng["cuda"]:
        torch.cuda.set_rng_state_all(rng["cuda"])
    return state["step"]


def _read_checkpoint_file(path: Path) -> dict:
    """torch.load of a checkpoint file; a damaged one is an error naming it and how to go on."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError) as err:
        raise RuntimeError(f"{path} cannot be read ({type(err).__name__}: {str(err)[:300]}); the checkpoint is "
                           f"damaged: delete {path.parent} to resume from an older checkpoint (or start over)") from err


def _barrier(world_size: int) -> None:
    if world_size > 1:
        dist.barrier()


def read_metrics(path: Path) -> list[dict]:
    """The per-step records of `metrics.jsonl`. A torn last line (a run killed while writing it) is dropped with
    a warning; a damaged line before it is an error naming the file and line."""
    lines = path.read_text().splitlines() if path.exists() else []
    records = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not isinstance(record.get("step"), int):
                raise ValueError("not a metrics record with an integer 'step'")
        except ValueError as err:
            if number < len(lines):
                raise ValueError(f"{path}:{number} is damaged ({err}); delete the lines from there on to resume "
                                 "from the last checkpoint, or use a new run directory") from err
            warnings.warn(f"{path}:{number}: dropped a torn last line (a run was killed while writing it)")
            continue
        records.append(record)
    return records


def _keep_metrics_until(path: Path, step: int) -> None:
    """On resume, drop the metrics lines a killed run wrote after its last checkpoint (and a torn last line)."""
    if path.exists():
        kept = [record for record in read_metrics(path) if record["step"] <= step]
        atomic_write_text(path, "".join(json.dumps(record) + "\n" for record in kept))


def _last_logged_loss(path: Path) -> float:
    records = read_metrics(path)
    return records[-1]["loss"] if records else float("nan")


def _say(rank: int, message: str) -> None:
    """A line on stderr about a step that can take long, also when stderr is not a terminal (logs, notebooks)."""
    if rank == 0:
        print(message, file=sys.stderr, flush=True)


def check_inputs(config: TrainConfig, records=None) -> None:
    """Resolve what a run reads before any long work: the model (downloaded when it is a hub id) and the data file.

    Raises OSError / FileNotFoundError naming the input that cannot be read and what to do.
    """
    if config.model not in ("tiny-bert", "tiny-t5"):
        resolve_model_path(config.model)
    if records is None and config.data is None:
        raise ValueError(f"config {config.name!r} has no training data: {NO_DATA}")
    if records is None and not Path(config.data).is_file():
        raise FileNotFoundError(f"training data {config.data} (config 'data') is not a file: pass the path of a MEDI "
                                "json file, e.g. the official medi-data.json")


def train(config: TrainConfig, records=None, run_dir: str | os.PathLike | None = None, on_step=None) -> TrainResult:
    """Train a model as `config` says and save it; resumes from `run_dir/checkpoint` when one exists.

    Args:
        config: a `TrainConfig` (see `preset`).
        records: training records (MEDI dicts); None reads `config.data`.
        run_dir: where everything goes; default `<runs_root()>/<config.name>` (`runs/` at the project root).
        on_step: optional callback `on_step(step, metrics_dict)` after every step (e.g. live plots).
    Returns a `TrainResult` with the saved model folder and the metrics JSONL path.
    """
    check_inputs(config, records)
    run_dir = Path(run_dir) if run_dir else runs_root() / config.name
    rank, world_size, device, started_here = _setup_distributed()
    try:  # rank 0 holds the run directory's lock: a second run writing there fails at once, naming the holder
        with run_lock(run_dir) if rank == 0 else contextlib.nullcontext():
            return _train(config, records, run_dir, on_step, rank, world_size, device)
    finally:
        if started_here:
            dist.destroy_process_group()


def _train(config, records, run_dir: Path, on_step, rank: int, world_size: int, device: torch.device) -> TrainResult:
    if records is None:
        _say(rank, f"train {config.name}: reading the training data ({config.data})")
    dataset = load_records(config, records)
    data_hash = dataset.sha256()
    sampler = TaskBatchSampler(dataset.task_names, config.batch_size, config.seed, rank, world_size)
    _say(rank, f"train {config.name}: loading the model {config.model or 'all-MiniLM-L6-v2'} "
               f"({len(dataset)} records, {len(set(dataset.task_names))} tasks)")
    model = load_model(config).to(device)
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
    start_step = _load_checkpoint(run_dir, model, optimizer, scheduler, sampler, config, data_hash, rank, world_size)
    if rank == 0:
        _keep_metrics_until(metrics_path, start_step)
        info = {"config": dataclasses.asdict(config), "config_hash": config.hash(), "data_hash": data_hash,
                "records": len(dataset), "tasks": len(set(dataset.task_names)),
                "batches_per_epoch": sampler.batches_per_epoch, "records_dropped_per_epoch": sampler.dropped_per_epoch,
                "world_size": world_size, "device": str(device), "precision": precision_record(config.precision, device),
                "library_versions": library_versions(),
                "resumed_from_step": start_step}
        atomic_write_json(run_dir / "run.json", info)

    ddp = model
    if world_size > 1:  # unused parameters: e.g. BERT's pooler, which mean pooling never reads
        ddp = torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=True, broadcast_buffers=False)
    loss_fn, batches = LOSSES[config.loss], iter(sampler)
    loss = _last_logged_loss(metrics_path)  # what a finished run called again reports
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
                _save_checkpoint(run_dir, step, model, optimizer, scheduler, sampler, config, data_hash, rank, world_size)
            if on_step is not None:
                on_step(step, metrics)

    model_path = run_dir / "model"
    if rank == 0:
        instructions = {record["task_name"]: record["query"][0] for record in dataset.records}
        model.save_pretrained(model_path, instructions=instructions, model_card_extra=(
            f"Trained by instructor_lib.train: config hash {config.hash()}, data hash {data_hash}, {config.steps} steps."))
    _barrier(world_size)
    return TrainResult(run_dir, model_path, metrics_path, loss, config.steps, start_step)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Train an INSTRUCTOR embedder (see instructor_lib.train.TrainConfig).")
    parser.add_argument("--preset", default="cpu", choices=presets.NAMES, help="starting configuration")
    parser.add_argument("--config", help="a JSON file of TrainConfig fields, applied over the preset")
    parser.add_argument("--data", help="a MEDI json file (overrides the config)")
    parser.add_argument("--steps", type=int, help="optimizer steps (overrides the config)")
    parser.add_argument("--run-dir", help="output folder (default runs/<name>)")
    args = parser.parse_args(argv)
    try:
        overrides = read_json(args.config, "fix the JSON of TrainConfig fields") if args.config else {}
    except (OSError, ValueError) as err:
        parser.error(f"--config: {err}")
    if not isinstance(overrides, dict):
        parser.error(f"{args.config}: expected a JSON object of TrainConfig fields, got {type(overrides).__name__}")
    unknown = set(overrides) - {f.name for f in dataclasses.fields(TrainConfig)}
    if unknown:
        parser.error(f"{args.config}: unknown TrainConfig fields {sorted(unknown)}")
    overrides.update({k: v for k, v in (("data", args.data), ("steps", args.steps)) if v is not None})
    try:
        config = preset(args.preset, **overrides)
    except (TypeError, ValueError) as err:
        parser.error(f"{args.config or 'the arguments'}: {err}")
    try:  # the inputs first: an unreachable model or a missing data file fails here, before any work
        check_inputs(config)
    except (OSError, ValueError) as err:
        sys.exit(f"error: {err}")
    try:
        result = train(config, run_dir=args.run_dir)
    except RunLockedError as err:
        sys.exit(f"error: {err}")
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"model: {result.model_path}\nmetrics: {result.metrics_path}\nfinal loss: {result.final_loss:.4f}")


if __name__ == "__main__":
    main()
