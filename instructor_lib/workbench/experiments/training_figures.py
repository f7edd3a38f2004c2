"""Training curves a person can read, a pure function of the runs' per-step logs (`metrics.jsonl` rows): one small
panel per trained configuration, the seeds overlaid, the loss split by source and smoothed. Each batch comes from
one dataset, and a super-NI task's loss (about 10 at the start) is ten times an embedding dataset's (about 0.5),
so the raw per-batch loss swings between the two; per source and smoothed, each trend shows."""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ...medi.sources import EMBEDDING_SOURCES

SOURCES = ("embedding datasets", "super-NI tasks")  # a configuration's two stacked axes, top to bottom
SEED_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def source_of(task: str) -> str:
    """MEDI's rule: a record of an embedding dataset is named by it (`medi.sources.EMBEDDING_SOURCES`, xsum
    included although it is a super-NI file); every other record comes from a super-NI task ("task123_...")."""
    return "embedding datasets" if task in EMBEDDING_SOURCES else "super-NI tasks"


def smoothed_loss(log, window: int) -> pd.DataFrame:
    """A run's per-step log (a DataFrame or the rows of `metrics.jsonl`) as step, task, loss, source and
    `smoothed`: the mean loss of the last `window` batches of the same source (fewer at the start)."""
    frame = pd.DataFrame(log)[["step", "task", "loss"]].sort_values("step")
    frame["source"] = frame["task"].map(source_of)
    frame["smoothed"] = frame.groupby("source")["loss"].transform(lambda loss: loss.rolling(window, min_periods=1).mean())
    return frame


def training_panels(logs: dict[str, dict], window: int = 5, columns: int = 3) -> go.Figure:
    """One small panel per trained configuration (`logs`: {configuration: {seed: per-step log}}, in panel order),
    split by source into two stacked axes, each fitted to its own losses (embedding datasets above, super-NI tasks
    below): the loss smoothed over the last `window` batches of that source, one line per seed (its colour) and
    source; hover gives each batch's task and raw loss."""
    names = list(logs)
    columns = min(columns, len(names))
    pairs = math.ceil(len(names) / columns)
    titles = []
    for pair in range(pairs):  # a configuration's name above its top axes, nothing above the bottom ones
        shown = names[pair * columns:(pair + 1) * columns]
        titles += shown + [""] * (2 * columns - len(shown))
    figure = make_subplots(rows=2 * pairs, cols=columns, subplot_titles=titles, horizontal_spacing=0.07,
                           vertical_spacing=0.32 / (2 * pairs), shared_xaxes="columns")  # steps line up, ticks at the bottom
    seeds = sorted({seed for per_seed in logs.values() for seed in per_seed})
    legend = set()
    for index, name in enumerate(names):
        top, col = 2 * (index // columns) + 1, index % columns + 1
        smoothed = {seed: smoothed_loss(log, window) for seed, log in sorted(logs[name].items())}
        for offset, source in enumerate(SOURCES):
            for seed, frame in smoothed.items():
                part = frame[frame["source"] == source]
                if not part.empty:
                    figure.add_trace(loss_line(part, f"{name}, seed {seed}, {source}", seed, window,
                                               SEED_COLOURS[seeds.index(seed) % len(SEED_COLOURS)], seed not in legend),
                                     row=top + offset, col=col)
                    legend.add(seed)
            if not any((frame["source"] == source).any() for frame in smoothed.values()):
                axes = figure.get_subplot(top + offset, col)  # no trace: plotly.js draws no axes to refer to
                figure.add_annotation(text=f"no batches of {source}", showarrow=False, xref="paper", yref="paper",
                                      x=sum(axes.xaxis.domain) / 2, y=sum(axes.yaxis.domain) / 2, font={"color": "#888888"})
            figure.update_yaxes(title_text=source.replace(" ", "<br>", 1), row=top + offset, col=col)
        if top + 1 == 2 * pairs:
            figure.update_xaxes(title_text="step", row=top + 1, col=col)
    figure.update_yaxes(tickformat=".2f", title_font_size=11)
    return figure.update_layout(
        title=f"Training loss per source, mean of the last {window} batches of that source (seeds overlaid)",
        template="plotly_white", height=140 + 330 * pairs, legend={"orientation": "h", "y": -0.25 / pairs})


def loss_line(part: pd.DataFrame, what: str, seed: int, window: int, colour: str, legend: bool) -> go.Scatter:
    """One seed's smoothed loss of one source (`part` of `smoothed_loss`), its hover naming each batch's task."""
    return go.Scatter(x=part["step"], y=part["smoothed"], mode="lines", name=f"seed {seed}", legendgroup=f"seed {seed}",
                      showlegend=legend, line={"color": colour, "width": 1.6}, customdata=list(zip(part["task"], part["loss"])),
                      hovertemplate=(f"{what}<br>step %{{x}}: %{{y:.2f}} (mean of the last {window})"
                                     "<br>this batch: %{customdata[0]}, loss %{customdata[1]:.2f}<extra></extra>"))
