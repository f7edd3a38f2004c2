"""The analysis figures, each a pure function of a result's metrics (the dict its notebook writes into
`reports/NAME.metrics.json`), so that a committed metrics file redraws its figure and a test checks one on
hand-made numbers. Each draws the quantity its claims test: a gain or paired difference with its 95% interval over
seeds, against a zero line (the backbone, or no difference), with the paper's value where the paper prints one.
Absolute scores stay in the reports' tables. This module: the shared pieces, Table 2, the pilot and the ablation
notebook; `claim_figures` draws Figs. 3-6, `training_figures` the training curves."""
from __future__ import annotations

import math
import re
import textwrap

import plotly.graph_objects as go

OURS, PAPER, REFERENCE = "#1f77b4", "#d62728", "#555555"  # our estimates, the paper's values, reference lines
PAPER_TABLE2_SOURCE = "paper Table 2: GTR-large to INSTRUCTOR-large (full MTEB)"


def finite(value) -> bool:
    """Whether `value` is a number that is not nan (an interval over one seed has no bounds: None or nan)."""
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def interval_hover(mean: float, low, high) -> str:
    """A mean and its 95% interval to two decimals, for a hover box."""
    bounds = f"[{low:+.2f}, {high:+.2f}]" if finite(low) and finite(high) else "(no interval: one seed)"
    return f"{mean:+.2f} {bounds}"


def interval_points(x: list, intervals: list[dict], name: str, color: str = OURS, notes: list[str] | None = None,
                    **scatter) -> go.Scatter:
    """Markers at the means of `intervals` ({"mean", "low", "high"} each, one per x), their 95% intervals as error
    bars and the mean as a label, hover to two decimals (and `notes`, one per x); `scatter`: more go.Scatter settings."""
    means = [entry["mean"] for entry in intervals]
    above = [entry["high"] - entry["mean"] if finite(entry["high"]) else 0.0 for entry in intervals]
    below = [entry["mean"] - entry["low"] if finite(entry["low"]) else 0.0 for entry in intervals]
    hover = [interval_hover(entry["mean"], entry["low"], entry["high"]) + (f"<br>{note}" if note else "")
             for entry, note in zip(intervals, notes or [""] * len(intervals))]
    settings = {"mode": "markers+text", "textposition": "middle right", **scatter}
    return go.Scatter(x=x, y=means, name=name, marker={"color": color, "size": 10}, text=[f"{m:+.2f}" for m in means],
                      textfont={"color": color}, customdata=hover, hovertemplate="%{x}: %{customdata}<extra>%{fullData.name}</extra>",
                      error_y={"type": "data", "symmetric": False, "array": above, "arrayminus": below, "thickness": 1.5,
                               "width": 6, "color": color}, **settings)


def paper_points(x: list, values: list[float], name: str, **scatter) -> go.Scatter:
    """The paper's values as open diamonds beside ours."""
    return go.Scatter(x=x, y=values, name=name, mode="markers+text", text=[f"{value:+.2f}" for value in values],
                      textposition="middle left", textfont={"color": PAPER},
                      marker={"symbol": "diamond-open", "size": 12, "color": PAPER, "line": {"width": 2}},
                      hovertemplate="%{x}: %{y:+.2f}<extra>%{fullData.name}</extra>", **scatter)


def fitted_range(values: list, pad: float = 0.15) -> list[float]:
    """An axis range around `values` and 0 (the zero line), padded by `pad` of the span on each side: fitted to
    the data, so a one-point difference fills the panel."""
    numbers = [value for value in values if finite(value)] + [0.0]
    low, high = min(numbers), max(numbers)
    span = (high - low) or 1.0
    return [low - pad * span, high + pad * span]


def interval_values(intervals: list[dict]) -> list:
    """Every mean and bound of `intervals`, for `fitted_range`."""
    return [entry[key] for entry in intervals for key in ("mean", "low", "high")]


def zero_line(figure: go.Figure, label: str, row: int | None = None, col: int | None = None) -> go.Figure:
    """The dashed zero line of a gain or difference panel, labelled with what zero means (the backbone, no
    difference)."""
    where = {"row": row, "col": col} if row else {}
    return figure.add_hline(y=0, line_dash="dash", line_color=REFERENCE, annotation_text=label,
                            annotation_position="bottom left", annotation_font_color=REFERENCE, **where)


def wrap(text: str, width: int = 24) -> str:
    """`text` broken at spaces into lines of about `width` characters (plotly's <br>), for tick labels."""
    return "<br>".join(textwrap.wrap(text, width)) or text


def claim_label(claim: str) -> str:
    """A claims-table row's text without its table or figure prefix and its steps tag, for a tick label (the full
    text is in the hover and the claims table)."""
    text = re.sub(r"^(Table \d+|Fig\. \d+)[:,]\s*", "", claim)
    return re.sub(r"\s*\[\d+ steps\]$", "", text)


def seeds_text(metrics: dict) -> str:
    """"seeds 1-3" (or "seeds 1, 3") of a result, for titles."""
    seeds = metrics["seeds"]
    consecutive = len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1))
    return f"seeds {seeds[0]}-{seeds[-1]}" if consecutive else "seeds " + ", ".join(map(str, seeds))


def gain_layout(figure: go.Figure, title: str, y_title: str, values: list) -> go.Figure:
    """The common look of a one-panel gain figure: title, y axis fitted to `values` and 0, legend above."""
    return figure.update_layout(title=title, yaxis={"title": y_title, "range": fitted_range(values), "zeroline": False},
                                legend={"orientation": "h", "y": -0.15}, showlegend=True, template="plotly_white",
                                margin={"t": 70})


def table2_gains(metrics: dict, title: str = "") -> go.Figure:
    """Paper Table 2 (main_table): our gain per category and on average (finetuned minus the backbone its seed
    started from, points) with its 95% interval, the paper's gain in points as a marker (`paper_gain`), the
    backbone as the zero line; the average is set apart by a dotted line."""
    rows = list(metrics["gain"])
    intervals = [metrics["gain"][row] for row in rows]
    paper_rows = [row for row in rows if row in metrics["paper_gain"]]
    paper = [metrics["paper_gain"][row] for row in paper_rows]
    figure = go.Figure([interval_points(rows, intervals, f"ours: mean over {seeds_text(metrics)}, 95% CI"),
                        paper_points(paper_rows, paper, PAPER_TABLE2_SOURCE)])
    zero_line(figure, "backbone (no gain)")
    figure.add_vline(x=len(rows) - 1.5, line_dash="dot", line_color="#bbbbbb")
    title = title or f"Table 2: gain from instruction finetuning per category ({metrics['steps']} steps, {seeds_text(metrics)})"
    return gain_layout(figure, title, "finetuned minus backbone (points)", interval_values(intervals) + paper)


def ablation_differences(metrics: dict, title: str = "") -> go.Figure:
    """The ablation notebook: the model trained on a MEDI variant minus the one trained on full MEDI, per category
    and on average (paired by seed), with its 95% interval; zero: no difference from full MEDI."""
    rows = list(metrics["difference"])
    intervals = [metrics["difference"][row] for row in rows]
    figure = go.Figure([interval_points(rows, intervals, f"{metrics['variant']} minus full MEDI, {seeds_text(metrics)}, 95% CI")])
    zero_line(figure, "full MEDI (no difference)")
    title = title or f"{metrics['variant']} minus full MEDI per category ({metrics['steps']} steps, {seeds_text(metrics)})"
    return gain_layout(figure, title, f"{metrics['variant']} minus full MEDI (points)", interval_values(intervals))


def pilot_gains(metrics: dict, title: str = "") -> go.Figure:
    """The scale pilot: the average gain (finetuned minus backbone, paired by seed) of each candidate training
    scale with its 95% interval; the backbone is the zero line; the candidates the rules chose (the preset's scale,
    the figures') are labelled."""
    labels = list(metrics["candidates"])
    intervals = [{"mean": row["gain"], "low": row["gain low"], "high": row["gain high"]}
                 for row in metrics["candidates"].values()]
    marks = {label: [word for word, key in (("chosen", "chosen"), ("figures", "figures_chosen")) if metrics.get(key) == label]
             for label in labels}
    ticks = [f"{label}<br><b>{', '.join(marks[label])}</b>" if marks[label] else label for label in labels]
    figure = go.Figure([interval_points(ticks, intervals, f"average gain, {seeds_text(metrics)}, 95% CI")])
    zero_line(figure, "backbone (no gain)")
    title = title or f"Scale pilot: average gain per candidate training scale ({seeds_text(metrics)})"
    return gain_layout(figure, title, "finetuned minus backbone, average (points)", interval_values(intervals))


def finetune_gains(metrics: dict, title: str = "") -> go.Figure:
    """`instructor_lib.finetune` on your data: each held-out test score's gain (after minus before finetuning,
    paired by seed) with its 95% interval; zero: the starting model."""
    names = list(metrics["gains"])
    intervals = [{"mean": gain["ours"], "low": gain["ci_low"], "high": gain["ci_high"]} for gain in metrics["gains"].values()]
    figure = go.Figure([interval_points(names, intervals, f"after minus before, {seeds_text(metrics)}, 95% CI")])
    zero_line(figure, "the starting model (no gain)")
    title = title or f"Finetuning on your data: gain on the held-out test split ({metrics['steps']} steps, {seeds_text(metrics)})"
    return gain_layout(figure, title, "after minus before (points)", interval_values(intervals))
