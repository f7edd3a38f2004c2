"""A training run's per-step log (`metrics.jsonl`): its curves, the logs of a result's runs (for
`training_figures.training_panels`), the run's headline numbers and the seconds its optimiser steps took."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .backbones import parameter_count
from .runs import TrainedModel, default_runs_dir


def training_curves(metrics_path: str | Path) -> pd.DataFrame:
    """The per-step training log (`metrics.jsonl`) as a DataFrame."""
    return pd.read_json(metrics_path, lines=True)


def run_logs(runs: dict[str, dict[str, str]], runs_dir: str | Path | None = None) -> dict[str, dict[int, pd.DataFrame]]:
    """The per-step logs of a result's runs: `runs` is its metrics' {configuration: {seed: run directory name}}
    (names under `runs_dir`, default the experiments' runs), the answer {configuration: {seed: curves}}."""
    root = Path(runs_dir or default_runs_dir())
    return {name: {int(seed): training_curves(root / run / "metrics.jsonl") for seed, run in per_seed.items()}
            for name, per_seed in runs.items()}


def training_metrics(trained: TrainedModel, curves: pd.DataFrame) -> dict:
    """Headline numbers of a training run: steps, records, median throughput, and the loss at the first and at the
    last visit of every dataset trained on more than once, averaged (each batch is one dataset and datasets differ
    in difficulty, so the first and last step's losses compare different datasets)."""
    visits = curves.groupby("task")["loss"]
    repeated = visits.size() > 1
    return {**trained.summary, "first_loss": float(curves["loss"].iloc[0]), "last_loss": float(curves["loss"].iloc[-1]),
            "tasks_visited_twice": int(repeated.sum()),
            "first_visit_loss": float(visits.first()[repeated].mean()) if repeated.any() else None,
            "last_visit_loss": float(visits.last()[repeated].mean()) if repeated.any() else None,
            "median_pairs_per_s": float(curves["pairs_per_s"].median()), "parameters": parameter_count(trained.model)}


def training_seconds(trained: TrainedModel) -> float:
    """Seconds the run's optimiser steps took (from its per-step log: batch size / pairs per second)."""
    curves = training_curves(trained.run_dir / "metrics.jsonl")
    return float((trained.config["train"]["batch_size"] / curves["pairs_per_s"]).sum())
