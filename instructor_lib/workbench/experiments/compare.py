"""Scores of models and their comparison over training seeds: category scores of a model, per-seed scores of a
configuration (and the runs behind them), paired differences, 95% t-intervals per row, gains over the backbone,
claims-table rows and the `ScoreComparison` every experiment returns."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import pandas as pd

from ... import presets
from ...evaluation import evaluate
from ...evaluation.instruction_sets import get_instruction_set
from ...evaluation.suite import part_description, resolve_suite
from ...evaluation.report import CATEGORIES
from ...medi import parse_variant
from ...claims import claim_record, not_run_record
from ...stats import Interval, paired_difference, t_interval
from .configs import seeds
from .custom import eval_instructions
from .runs import base_model, trained_model


def scores(model, preset: str = "cpu", instructions="paper", suite=None, bootstrap: bool = False) -> dict:
    """`instructor_lib.evaluation.evaluate` on the preset's suite (or `suite`), cached per task; `bootstrap`: with
    the preset's number of bootstrap replicates of each score (its evaluation sampling error)."""
    chosen = presets.preset(preset)
    return evaluate(model, suite=suite or chosen.suite, instructions=instructions, precision="auto",
                    bootstrap=chosen.bootstrap if bootstrap else 0)


# the evaluation suites a preset names: the claims' four, and the dev suite that choices (the pilot) are made on
SUITES = ("suite", "ablation_suite", "robustness_suite", "sizes_suite", "dev_suite")


def suite_inputs(preset: str = "cpu", suite: str = "suite") -> dict:
    """What a report's results were scored on, in full: the preset's `suite` (one of SUITES) with each task's
    part (test, or dev and where its examples come from), subsample sizes and the paper's evaluation instruction
    of each side (the same text twice for a task that embeds one kind of text)."""
    if suite not in SUITES:
        raise ValueError(f"suite must be one of {', '.join(SUITES)}, got {suite!r}")
    instructions = get_instruction_set("paper")
    tasks = {}
    for task, limits in resolve_suite(getattr(presets.preset(preset), suite)).items():
        tasks[task] = {"part": part_description(task, limits), "test examples": limits.max_test or "all",
                       "train examples": limits.max_train or "all", "corpus documents": limits.max_corpus or "all",
                       "query instruction": instructions.instruction(task, "query"),
                       "document instruction": instructions.instruction(task, "document")}
    return {"name": f"{preset} preset's {suite.replace('_', ' ')}", "tasks": tasks}


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
    per-seed scores, the intervals, the claims, the runs and the training summaries; `draw` is the result's
    figure, a pure function of the metrics (`figures`, `claim_figures`), so a committed metrics file redraws it.
    """
    frame: pd.DataFrame
    metrics: dict
    draw: Callable[..., object]

    def figure(self, title: str = ""):
        """The quantity the claims test, with its 95% intervals and reference lines (`title`: else the figure's own)."""
        return self.draw(self.metrics, title)


class SeedRuns(NamedTuple):
    """A configuration trained once per seed: {seed: category scores} and {seed (str): run directory name}."""
    scores: dict[int, dict[str, float]]
    runs: dict[str, str]


def seed_scores(preset: str = "cpu", variant: str = "full", suite=None, custom: dict | None = None) -> SeedRuns:
    """The category scores of MEDI `variant` trained at the figures' scale with each of the preset's seeds, on
    `suite` (default: the preset's), evaluated with instructions unless the variant was trained without them, and
    the run directory of each seed (its training log); `custom`: your own variant's settings on top
    (`custom.custom_variant`), its evaluation instructions included."""
    per_seed, runs = {}, {}
    for seed in seeds(preset):
        trained = trained_model(preset, variant, seed=seed, figure=True, custom=custom)
        per_seed[seed] = category_scores(scores(trained.model, preset, eval_instructions(instructions_for(variant), custom or {}),
                                                suite))
        runs[str(seed)] = trained.run_dir.name
    return SeedRuns(per_seed, runs)


def backbone_scores(preset: str = "cpu", suite=None) -> dict[str, float]:
    """Category scores of the preset's backbone (first seed) without instructions on `suite`: the reference line
    of Figs. 3 and 5."""
    return category_scores(scores(base_model(preset), preset, "none", suite))


def gain_interval(averages: dict[int, dict[str, float]], name: str, backbone: float) -> Interval:
    """The 95% t-interval over seeds of configuration `name`'s score minus the backbone's (`averages`: {seed:
    {configuration: score}}); the backbone is the same pretrained model for every seed, so this is the gain paired
    by seed. Of the reference configuration, it is the positive control of a figure's claims."""
    return t_interval([averages[seed][name] - backbone for seed in averages])


def gain_intervals(averages: dict[int, dict[str, float]], backbone: float) -> dict[str, dict]:
    """Per configuration, `gain_interval` as a metrics entry: what Figs. 3 and 5 draw against the backbone as zero."""
    configurations = next(iter(averages.values()))
    return {name: gain_interval(averages, name, backbone).as_dict() for name in configurations}


def paired(a: dict[int, dict], b: dict[int, dict], row: str, b_row: str | None = None) -> Interval:
    """The t-interval over seeds of a[seed][row] - b[seed][b_row] (b_row defaults to row; same seeds: a paired
    comparison). Two configurations on one row, or (a is b) one configuration's two rows."""
    common = sorted(set(a) & set(b))
    return paired_difference([a[seed][row] for seed in common], [b[seed][b_row or row] for seed in common])


class ClaimSpec(NamedTuple):
    """What one of the paper's claims says, before any result: its words, the paper's number or direction in
    words, and the sign of the difference the paper reports (+1 / -1)."""
    words: str
    paper: object
    direction: int


def claim(spec: ClaimSpec, interval: Interval, seeds_used, steps: int, control: Interval | None = None) -> dict:
    """A claims-table row (`claims.claim_record`) of `spec` from our interval; `control`: the reference model's gain
    over the backbone, for a comparison between trained variants (its verdict is "untestable" unless it lies above 0)."""
    return claim_record(spec.words, spec.paper, interval, list(seeds_used), spec.direction, steps, control)


def not_run(spec: ClaimSpec, seeds_used, steps: int) -> dict:
    """The row of a claim whose experiment the default run leaves out (`claims.not_run_record`)."""
    return not_run_record(spec.words, spec.paper, list(seeds_used), steps)


def with_intervals(columns: dict[str, dict[int, dict]], rows: list[str]) -> pd.DataFrame:
    """A frame of the mean and 95% t-interval over seeds of each column (a {seed: {row: score}} dict) per row."""
    data = {}
    for name, per_seed in columns.items():
        intervals = {row: t_interval([per_seed[seed][row] for seed in per_seed]) for row in rows}
        data[name] = {row: intervals[row].mean for row in rows}
        data[f"{name} low"] = {row: intervals[row].low for row in rows}
        data[f"{name} high"] = {row: intervals[row].high for row in rows}
    return pd.DataFrame(data).loc[rows]
