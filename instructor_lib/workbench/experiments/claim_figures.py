"""Paper Figs. 3-6 at our scale, each a pure function of its result's metrics: on the left the quantity per
configuration (a gain over the backbone, a best-minus-worst gap) with its 95% interval over seeds and the reference
(the backbone as the zero line, the noise floor as a band); on the right the claims the figure tests, each a paired
difference with its interval, the zero line, and the paper's number or direction. Shared pieces: `figures`."""
from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .figures import (OURS, PAPER, REFERENCE, claim_label, fitted_range, interval_points, interval_values, paper_points,
                      seeds_text, wrap, zero_line)

SECOND = "#ff7f0e"  # the second series of a panel (without instructions, per-task gaps)


def two_panels(metrics: dict, title: str, left: str) -> go.Figure:
    """A figure of two panels: `left` (the quantity per configuration) and the claims it tests."""
    figure = make_subplots(rows=1, cols=2, column_widths=[0.55, 0.45], horizontal_spacing=0.1,
                           subplot_titles=(left, f"the claims: paired differences, {seeds_text(metrics)}, 95% CI"))
    return figure.update_layout(title=title, template="plotly_white", legend={"orientation": "h", "y": -0.28},
                                margin={"t": 90, "b": 150}, height=560, scattermode="group")


def add_claims(figure: go.Figure, claims: list[dict], col: int = 2) -> list:
    """Each claim's paired difference with its 95% interval in panel `col`, the paper's number as a marker where it
    prints one (else its direction under the label), a zero line; returns the values the panel shows."""
    width = max(14, 64 // len(claims))  # characters per tick line: the labels share the panel's width unrotated
    labels = [wrap(claim_label(claim["claim"]), width)
              + (f"<br><i>{wrap('paper: ' + claim['paper'], width)}</i>" if isinstance(claim["paper"], str) else "")
              for claim in claims]
    intervals = [{"mean": claim["ours"], "low": claim["ci_low"], "high": claim["ci_high"]} for claim in claims]
    figure.add_trace(interval_points(labels, intervals, "claim", notes=[claim["verdict"] for claim in claims],
                                     showlegend=False), row=1, col=col)
    numbers = [(label, claim["paper"]) for label, claim in zip(labels, claims) if not isinstance(claim["paper"], str)]
    if numbers:
        figure.add_trace(paper_points([label for label, _ in numbers], [value for _, value in numbers], "paper"), row=1, col=col)
    zero_line(figure, "no difference", row=1, col=col)
    values = interval_values(intervals) + [value for _, value in numbers]
    figure.update_yaxes(range=fitted_range(values), zeroline=False, row=1, col=col)
    figure.update_xaxes(tickangle=0, tickfont_size=11, row=1, col=col)
    return values


def gain_panel(figure: go.Figure, metrics: dict, series: dict[str, str], y_title: str) -> go.Figure:
    """The left panel of Figs. 3 and 5: each configuration's average minus the backbone's (`gain_over_backbone`,
    {series: {configuration: interval}}), `series` naming the colour of each; the backbone is the zero line."""
    values = []
    for (name, colour), position in zip(series.items(), ("middle left", "middle right")):
        gains = metrics["gain_over_backbone"][name]
        figure.add_trace(interval_points([wrap(label, 16) for label in gains], list(gains.values()), name, colour,
                                         offsetgroup=name, textposition=position if len(series) > 1 else "middle right"),
                         row=1, col=1)
        values += interval_values(list(gains.values()))
    zero_line(figure, f"backbone {metrics['backbone_average']:.2f}", row=1, col=1)
    return figure.update_yaxes(title_text=y_title, range=fitted_range(values), zeroline=False, row=1, col=1)


def fig3_data(metrics: dict, title: str = "") -> go.Figure:
    """Paper Fig. 3 (data_ablation): symmetric, asymmetric and both groups of MEDI, with and without instructions,
    each as its average minus the backbone's; the claims: both groups minus either alone."""
    title = title or f"Fig. 3: training data and instructions ({metrics['steps']} steps, {seeds_text(metrics)})"
    figure = two_panels(metrics, title, "each model minus the backbone (average, 95% CI)")
    gain_panel(figure, metrics, {"with instructions": OURS, "without instructions": SECOND}, "minus the backbone (points)")
    add_claims(figure, metrics["claims"])
    return figure


def fig5_detail(metrics: dict, title: str = "") -> go.Figure:
    """Paper Fig. 5 (instruction_detail): each level of instruction detail as its average minus the backbone's; the
    claims: each level minus the one below it."""
    title = title or f"Fig. 5: detail of the training instructions ({metrics['steps']} steps, {seeds_text(metrics)})"
    figure = two_panels(metrics, title, "each level minus the backbone (average, 95% CI)")
    gain_panel(figure, metrics, {"average": OURS}, "minus the backbone (points)")
    add_claims(figure, metrics["claims"])
    return figure.update_layout(showlegend=False)


def fig6_sizes(metrics: dict, title: str = "") -> go.Figure:
    """Paper Fig. 6 (scaling): the gain from instruction finetuning (finetuned minus backbone, average) against the
    backbone's parameter count (log axis); the claim: the largest size's gain minus the smallest's."""
    sizes = sorted(metrics["gain"], key=metrics["parameters"].get)
    parameters = [metrics["parameters"][size] for size in sizes]
    intervals = [metrics["gain"][size] for size in sizes]
    title = title or f"Fig. 6: gain from instruction finetuning against model size ({seeds_text(metrics)})"
    figure = two_panels(metrics, title, "gain against parameters (average, 95% CI)")
    figure.add_trace(interval_points(parameters, intervals, "finetuned minus backbone", mode="lines+markers+text",
                                     notes=sizes, showlegend=False), row=1, col=1)
    zero_line(figure, "backbone (no gain)", row=1, col=1)
    low, high = math.log10(min(parameters)), math.log10(max(parameters))  # plotly's log autorange drops points
    margin = max(0.15, 0.15 * (high - low))
    figure.update_xaxes(type="log", title_text="parameters (log scale)", range=[low - margin, high + margin], tickvals=parameters,
                        ticktext=[f"{wrap(size, 20)}<br>{count / 1e6:.1f}M parameters" for size, count in zip(sizes, parameters)],
                        row=1, col=1)
    figure.update_yaxes(title_text="finetuned minus backbone (points)", range=fitted_range(interval_values(intervals)),
                        zeroline=False, row=1, col=1)
    add_claims(figure, metrics["claims"])
    return figure


def fig4_robustness(metrics: dict, title: str = "") -> go.Figure:
    """Paper Fig. 4 (robustness): per model, the best-minus-worst score over five paraphrased instructions, mean
    over tasks with its 95% interval and each task's gap; the paired noise floor (the gap sampling the test
    examples alone would give the five scorings, all on the same resamples; mean over tasks and seeds:
    `paraphrases.task_floors`) as a band up to a dashed line; the claim: without minus with super-NI."""
    models = metrics["columns"]
    title = title or f"Fig. 4: robustness to paraphrased instructions ({metrics['steps']} steps, {seeds_text(metrics)})"
    figure = two_panels(metrics, title, "best minus worst of 5 paraphrases (points)")
    intervals = [metrics["mean_gap_interval"][model] for model in models]
    figure.add_trace(interval_points(models, intervals, "mean over tasks, 95% CI", offsetgroup="mean"), row=1, col=1)
    tasks = [(model, task, gap) for model in models for task, gap in metrics["gap"][model].items()]
    figure.add_trace(go.Scatter(x=[model for model, _, _ in tasks], y=[gap for _, _, gap in tasks], mode="markers",
                                name="each task (mean over seeds)", offsetgroup="tasks", customdata=[task for _, task, _ in tasks],
                                marker={"color": SECOND, "size": 7, "opacity": 0.7},
                                hovertemplate="%{customdata}: %{y:.2f}<extra>%{x}</extra>"), row=1, col=1)
    for index, model in enumerate(models):
        floor = metrics["noise_floor"][model]
        figure.add_shape(type="rect", x0=index - 0.45, x1=index + 0.45, y0=0, y1=floor, fillcolor=PAPER, opacity=0.07,
                         line_width=0, layer="below", row=1, col=1)
        figure.add_shape(type="line", x0=index - 0.45, x1=index + 0.45, y0=floor, y1=floor, line={"color": PAPER, "dash": "dash"},
                         name="paired noise floor: the gap from sampling the test examples alone",
                         showlegend=index == 0, row=1, col=1)
        figure.add_annotation(x=index, y=floor, text=f"noise floor {floor:.2f}", showarrow=False, yshift=10,
                              font={"color": PAPER}, row=1, col=1)
    values = interval_values(intervals) + [gap for _, _, gap in tasks] + list(metrics["noise_floor"].values())
    top = fitted_range(values)[1]
    figure.update_yaxes(title_text="best minus worst (points)", range=[0, top], row=1, col=1)
    add_claims(figure, metrics["claims"])
    return figure.update_layout(legend_font_color=REFERENCE)
