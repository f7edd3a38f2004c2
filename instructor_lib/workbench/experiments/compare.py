"""Scores of models and their comparison over training seeds: category scores of a model, per-seed scores of a
configuration, paired differences, 95% t-intervals per row, claims-table rows and the `ScoreComparison` every
experiment returns."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ... import presets
from ...evaluation import evaluate
from ...evaluation.report import CATEGORIES
from ...medi import parse_variant
from ...stats import Interval, claim_record, paired_difference, t_interval
from .configs import seeds
from .custom import eval_instructions
from .figures import interval_bars
from .runs import trained_model


def scores(model, preset: str = "cpu", instructions="paper", suite=None, bootstrap: bool = False) -> dict:
    """`instructor_lib.evaluation.evaluate` on the preset's suite (or `suite`), cached per task; `bootstrap`: with
    the preset's number of bootstrap replicates of each score (its evaluation sampling error)."""
    chosen = presets.preset(preset)
    return evaluate(model, suite=suite or chosen.suite, instructions=instructions, precision="auto",
                    bootstrap=chosen.bootstrap if bootstrap else 0)


def instructions_for(variant: str) -> str:
    """The instruction set a variant is evaluated with: none when it was trained without instructions."""
    return "none" if parse_variant(variant)[1] == "none" else "paper"


def relative_gain(new: float, old: float) -> float:
    """Relative improvement of `new` over `old` in percent: 100 * (new - old) / old."""
    return 100.0 * (new - old) / old


def category_scores(results: dict) -> dict[str, float]:
    """Category averages and "Average" of an `evaluate` result, in Table 2's column order."""
    return {**{c: results["categories"][c] for c in CATEGORIES if c in results["categories"]}, "Average": results["average"]}


@dataclass
class ScoreComparison:
    """Score columns per row (categories, configurations) with their 95% intervals, and what produced them.

    `frame` holds the means (and the interval bounds as "<column> low" / "<column> high"), `metrics` the
    per-seed scores, the intervals, the claims and the training summaries.
    """
    frame: pd.DataFrame
    metrics: dict

    def figure(self, title: str = "", reference: float | None = None, reference_name: str = "backbone"):
        """Grouped bars of the score columns per row, with their 95% intervals as error bars; `reference`
        draws a dotted horizontal line (the backbone, as the paper's Fig. 3)."""
        return interval_bars(self.frame, self.metrics["columns"], title, reference, reference_name)


def seed_scores(preset: str = "cpu", variant: str = "full", suite=None, custom: dict | None = None) -> dict[int, dict[str, float]]:
    """{seed: category scores} of MEDI `variant` trained at the figures' scale with each of the preset's seeds, on
    `suite` (default: the preset's), evaluated with instructions unless the variant was trained without them;
    `custom`: your own variant's settings on top (`custom.custom_variant`), its evaluation instructions included."""
    return {seed: category_scores(scores(trained_model(preset, variant, seed=seed, figure=True, custom=custom).model, preset,
                                         eval_instructions(instructions_for(variant), custom or {}), suite))
            for seed in seeds(preset)}


def paired(a: dict[int, dict], b: dict[int, dict], row: str, b_row: str | None = None) -> Interval:
    """The t-interval over seeds of a[seed][row] - b[seed][b_row] (b_row defaults to row; same seeds: a paired
    comparison). Two configurations on one row, or (a is b) one configuration's two rows."""
    common = sorted(set(a) & set(b))
    return paired_difference([a[seed][row] for seed in common], [b[seed][b_row or row] for seed in common])


def claim(words: str, paper, interval: Interval, paper_direction: int, seeds_used, steps: int) -> dict:
    """A claims-table row; the claim's words end with the training steps its models took."""
    return claim_record(f"{words} [{steps} steps]", paper, interval, list(seeds_used), paper_direction)


def with_intervals(columns: dict[str, dict[int, dict]], rows: list[str]) -> pd.DataFrame:
    """A frame of the mean and 95% t-interval over seeds of each column (a {seed: {row: score}} dict) per row."""
    data = {}
    for name, per_seed in columns.items():
        intervals = {row: t_interval([per_seed[seed][row] for seed in per_seed]) for row in rows}
        data[name] = {row: intervals[row].mean for row in rows}
        data[f"{name} low"] = {row: intervals[row].low for row in rows}
        data[f"{name} high"] = {row: intervals[row].high for row in rows}
    return pd.DataFrame(data).loc[rows]
