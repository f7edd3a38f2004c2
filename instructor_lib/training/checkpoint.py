"""What a run keeps on disk to resume: the checkpoint folder (model, optimizer, scheduler, sampler, each rank's
random state) and the metrics file (one JSON line per step).

checkpoint/ is replaced atomically (written beside it, then renamed), so a kill at any moment leaves the last
complete checkpoint; metrics lines a killed run wrote after it are dropped on resume, so every step is logged
once.
"""
from __future__ import annotations

import json
import random
import shutil
import warnings
from pathlib import Path

import torch
import torch.distributed as dist

from ..files import atomic_path, atomic_write_text, fsync_dir
from .config import TrainConfig


def save_checkpoint(run_dir: Path, step: int, model, optimizer, scheduler, sampler, config: TrainConfig,
                     data_hash: str, rank: int, world_size: int) -> None:
    """Write checkpoint/ atomically: every rank writes its RNG state into a fresh folder that replaces the old one."""
    staging, final, old = run_dir / "checkpoint.tmp", run_dir / "checkpoint", run_dir / "checkpoint.old"
    if rank == 0:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
    barrier(world_size)
    with atomic_path(staging / f"rng_rank{rank}.pt") as temporary:
        torch.save({"torch": torch.get_rng_state(), "python": random.getstate(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}, temporary)
    if rank == 0:
        with atomic_path(staging / "state.pt") as temporary:
            torch.save({"step": step, "config_hash": config.hash(), "data_hash": data_hash, "world_size": world_size,
                        "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(), "sampler": sampler.state_dict()}, temporary)
    barrier(world_size)
    if rank == 0:  # a kill between the renames leaves checkpoint.old, which load_checkpoint falls back to
        if final.exists():
            final.rename(old)
        staging.rename(final)
        fsync_dir(run_dir)
        shutil.rmtree(old, ignore_errors=True)
    barrier(world_size)


def load_checkpoint(run_dir: Path, model, optimizer, scheduler, sampler, config: TrainConfig, data_hash: str,
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


def barrier(world_size: int) -> None:
    """Wait until every rank gets here (nothing to wait for in one process)."""
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


def keep_metrics_until(path: Path, step: int) -> None:
    """On resume, drop the metrics lines a killed run wrote after its last checkpoint (and a torn last line)."""
    if path.exists():
        kept = [record for record in read_metrics(path) if record["step"] <= step]
        atomic_write_text(path, "".join(json.dumps(record) + "\n" for record in kept))


def last_logged_loss(path: Path) -> float:
    """The loss of the last logged step (NaN when none): what a finished run, called again, reports."""
    records = read_metrics(path)
    return records[-1]["loss"] if records else float("nan")
