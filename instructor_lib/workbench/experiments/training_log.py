"""A training run's per-step log (`metrics.jsonl`): its curves, their figure, the run's headline numbers and the
seconds its optimiser steps took."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .backbones import parameter_count
from .runs import TrainedModel


def training_curves(metrics_path: str | Path) -> pd.DataFrame:
    """The per-step training log (`metrics.jsonl`) as a DataFrame."""
    return pd.read_json(metrics_path, lines=True)


def training_figure(curves: pd.DataFrame):
    """Loss and throughput (pairs/s) per step, side by side."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("loss", "throughput (training records / s)"))
    figure.add_trace(go.Scatter(x=curves["step"], y=curves["loss"], name="loss"), row=1, col=1)
    figure.add_trace(go.Scatter(x=curves["step"], y=curves["pairs_per_s"], name="records/s"), row=1, col=2)
    figure.update_xaxes(title_text="step")
    return figure.update_layout(showlegend=False)


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
