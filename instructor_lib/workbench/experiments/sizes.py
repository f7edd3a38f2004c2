"""Paper Fig. 6: backbones of several sizes finetuned the same way, and the truncation extra (one backbone cut to
several depths)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import plotly.express as px

from ... import presets
from ...stats import t_interval
from .backbones import depth, parameter_count
from .claim_figures import fig6_sizes
from .compare import ClaimSpec, ScoreComparison, category_scores, claim, paired, scores, with_intervals
from .configs import check_parameters, experiment_config, figure_steps, seeds
from .runs import base_model, trained_model


@dataclass
class Scaling:
    """Average score and parameters of the backbone cut to each depth, finetuned the same way."""
    frame: pd.DataFrame
    metrics: dict

    def figure(self):
        """Average score against parameters (paper Fig. 6), one point per depth."""
        return px.line(self.frame.reset_index(), x="parameters", y="Average", text="layers", markers=True,
                       log_x=True, title="model size vs average score").update_traces(textposition="top center")


def scaling(preset: str = "cpu", layers=None) -> Scaling:
    """The truncation extra beside paper Fig. 6: the backbone cut to each number of `layers` (default: the
    preset's), each finetuned on the full mixture with the same settings and evaluated on the preset's suite."""
    layers = list(layers or presets.preset(preset).layers)
    check_parameters(preset, layers=layers)
    full_depth = depth(base_model(preset))
    too_deep = [count for count in layers if count > full_depth]
    if too_deep:
        raise ValueError(f"layers {too_deep} exceed the backbone's depth {full_depth}")
    rows = {}
    for layer_count in layers:  # the full depth is the figures' full run: reused
        trained = trained_model(preset, layers=None if layer_count == full_depth else layer_count, figure=True)
        rows[layer_count] = {"parameters": parameter_count(trained.model), **category_scores(scores(trained.model, preset)),
                             "final_loss": trained.summary["final_loss"]}
    frame = pd.DataFrame.from_dict(rows, orient="index").rename_axis("layers")
    metrics = {"by_layers": {str(count): row for count, row in rows.items()},
               "average_by_layers": {str(count): row["Average"] for count, row in rows.items()}}
    return Scaling(frame, metrics)


def fig6_claims(preset: str = "cpu") -> list[ClaimSpec]:
    """Paper Fig. 6's claim: the gain grows with size, the preset's largest size against its smallest (`Preset.sizes`
    lists them smallest first)."""
    sizes = list(presets.preset(preset).sizes)
    return [ClaimSpec(f"Fig. 6: the gain from instruction finetuning grows with size ({sizes[-1]} minus {sizes[0]}, "
                      "average, points)", "larger gains more", 1)]


def model_sizes(preset: str = "cpu") -> ScoreComparison:
    """Paper Fig. 6: backbones of the preset's sizes (cpu: all-MiniLM-L6-v2 and all-mpnet-base-v2), each
    finetuned on full MEDI with the same settings once per seed and scored on the preset's `sizes_suite`: the
    backbone (no instructions) and the finetuned model (instructions) per size, and the gain (finetuned minus
    that seed's backbone) with its 95% interval. Claim: the gain grows with size (the largest size's gain minus
    the smallest's, paired by seed: the same seed draws the same batches for both), controlled by each size's own
    gain over its backbone (the lower one: both must lie above 0)."""
    suite, sizes = presets.preset(preset).sizes_suite, list(presets.preset(preset).sizes)
    backbones, finetuned, parameters, runs = {}, {}, {}, {}
    for size in sizes:
        backbones[size] = {seed: category_scores(scores(base_model(preset, seed=seed, size=size), preset, "none", suite))
                           for seed in seeds(preset)}
        finetuned[size], runs[size] = {}, {}
        for seed in seeds(preset):
            trained = trained_model(preset, seed=seed, size=size, figure=True)
            finetuned[size][seed] = category_scores(scores(trained.model, preset, "paper", suite))
            runs[size][str(seed)] = trained.run_dir.name
            parameters[size] = parameter_count(trained.model)
    if sizes != sorted(sizes, key=parameters.get):  # the claim compares the last (largest) with the first
        raise ValueError(f"preset {preset!r} must list its sizes smallest first; their parameters are {parameters}")
    gains = {size: {seed: {"Average": finetuned[size][seed]["Average"] - backbones[size][seed]["Average"]}
                    for seed in seeds(preset)} for size in sizes}
    averages = {name: {seed: {size: values[size][seed]["Average"] for size in sizes} for seed in seeds(preset)}
                for name, values in (("backbone", backbones), ("finetuned", finetuned), ("gain", gains))}
    frame = with_intervals(averages, sizes)
    frame.insert(0, "parameters", [parameters[size] for size in sizes])
    gain = {size: t_interval([gains[size][seed]["Average"] for seed in seeds(preset)]) for size in sizes}
    control = min(gain.values(), key=lambda interval: interval.low if interval.defined else -math.inf)  # the lower one
    claim_ = claim(fig6_claims(preset)[0], paired(averages["gain"], averages["gain"], sizes[-1], sizes[0]), seeds(preset),
                   figure_steps(preset), control)
    steps = {size: experiment_config(preset, seed=seeds(preset)[0], size=size, figure=True)["train"]["steps"] for size in sizes}
    metrics = {"columns": ["backbone", "finetuned"], "seeds": list(seeds(preset)), "parameters": parameters,
               "steps": steps, "gain": {size: interval.as_dict() for size, interval in gain.items()}, "control": control.as_dict(),
               "average": {name: dict(frame[name]) for name in ("backbone", "finetuned")}, "claims": [claim_],
               "per_seed": {size: {"backbone": {str(k): v for k, v in backbones[size].items()},
                                   "finetuned": {str(k): v for k, v in finetuned[size].items()}} for size in sizes},
               "runs": {size: runs[size] for size in sizes}}
    return ScoreComparison(frame, metrics, fig6_sizes)
