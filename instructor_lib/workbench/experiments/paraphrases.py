"""Paper Table 6 / Fig. 4: robustness to paraphrased instructions, with and without super-NI in training."""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import pandas as pd

from ... import presets
from ...evaluation.instruction_sets import paraphrase_instructions
from ...evaluation.suite import resolve_suite
from ...stats import Interval, paired_noise_floor_gap, t_interval
from .claim_figures import fig4_robustness
from .compare import (ClaimSpec, backbone_scores, category_scores, claim, gain_interval, paired, scores,
                      with_intervals)
from .configs import figure_steps, seeds
from .runs import trained_model

PARAPHRASE_SETS = range(1, 6)  # the five paraphrase sets of every robustness task


def fig4_claims() -> list[ClaimSpec]:
    """Paper Fig. 4's claim: training with super-NI narrows the best-worst gap over paraphrased instructions."""
    return [ClaimSpec("Fig. 4: super-NI narrows the best-worst gap over five paraphrases (without minus with, mean gap "
                      "over tasks)", "gap without > gap with", 1)]


def best_worst_gap(scores_by_set: dict[str, dict[str, float]]) -> dict[str, float]:
    """Per task, the best minus the worst score over instruction sets ({set: {task: score}} -> {task: gap})."""
    tasks = next(iter(scores_by_set.values())).keys()
    return {task: max(s[task] for s in scores_by_set.values()) - min(s[task] for s in scores_by_set.values())
            for task in tasks}


class TaskFloor(NamedTuple):
    """One task of one model's paraphrase scorings: the observed best-minus-worst gap and the paired noise floor
    it is read against (`stats.paired_noise_floor_gap`)."""
    gap: float
    floor: Interval

    @property
    def above_floor(self) -> bool:
        """Whether the gap lies above the floor's upper bound: the wording moved the score beyond sampling noise."""
        return self.gap > self.floor.high


def task_floors(results_by_set: dict[str, dict]) -> dict[str, TaskFloor]:
    """Per task, the best-minus-worst gap of one model's scorings and the paired noise floor of their bootstrap
    replicates. `results_by_set`: {instruction set: `evaluate(..., bootstrap=B)` results}, every set scored on
    the same examples with the same bootstrap seed, so replicate r of each set rests on the same resample."""
    gaps = best_worst_gap({name: {task: entry["score"] for task, entry in results["tasks"].items()}
                           for name, results in results_by_set.items()})
    return {task: TaskFloor(gap, paired_noise_floor_gap({name: _replicates(results, name, task)
                                                         for name, results in results_by_set.items()}))
            for task, gap in gaps.items()}


def _replicates(results: dict, name: str, task: str) -> list[float]:
    """A task's bootstrap replicates under one instruction set; an error says how to get them."""
    if "bootstrap" not in results["tasks"][task]:
        raise ValueError(f"{task} under {name} has no bootstrap replicates: score it with bootstrap=True")
    return results["tasks"][task]["bootstrap"]


def floor_metrics(floors: dict[str, TaskFloor]) -> dict[str, dict]:
    """One seed's metrics entries from its task floors: per task the "gap", the floor's mean ("noise_floor") and
    upper bound ("noise_floor_high"), and whether the gap lies above that bound ("gap_above_floor")."""
    return {"gap": {task: floor.gap for task, floor in floors.items()},
            "noise_floor": {task: floor.floor.mean for task, floor in floors.items()},
            "noise_floor_high": {task: floor.floor.high for task, floor in floors.items()},
            "gap_above_floor": {task: floor.above_floor for task, floor in floors.items()}}


def seeds_above_floor(per_seed: dict[str, dict]) -> dict[str, int]:
    """Per task, the number of seeds whose gap lies above that seed's floor ({seed: `floor_metrics`} -> {task: n})."""
    return {task: sum(entry["gap_above_floor"][task] for entry in per_seed.values())
            for task in next(iter(per_seed.values()))["gap_above_floor"]}


def floor_table(metrics: dict) -> pd.DataFrame:
    """Per task and model (rows; mean over seeds): the best-minus-worst gap, the paired noise floor and its upper
    bound, and in how many seeds the gap lay above that seed's upper bound (wording mattered beyond noise)."""
    rows = []
    for model, per_seed in metrics["per_seed"].items():
        for task, above in seeds_above_floor(per_seed).items():
            rows.append({"task": task, "model": model, **{column: _seed_mean(per_seed, key, task) for column, key in (
                ("gap", "gap"), ("noise floor", "noise_floor"), ("floor high", "noise_floor_high"))},
                "seeds above floor": f"{above} of {len(per_seed)}"})
    return pd.DataFrame(rows).set_index("task")


def _seed_mean(per_seed: dict, key: str, task: str) -> float:
    """The mean over seeds of a task's per-seed metric `key`."""
    return sum(seed[key][task] for seed in per_seed.values()) / len(per_seed)


@dataclass
class Robustness:
    """Per model: the best-worst gap of each task and their mean, mean over seeds with 95% intervals (`frame`);
    the scores under each paraphrase set, averaged over seeds (`scores`); the per-seed numbers (`metrics`)."""
    frame: pd.DataFrame
    metrics: dict
    scores: pd.DataFrame

    def figure(self, title: str = ""):
        """Per model the mean gap with its interval, each task's gap and the noise floor, beside the claim
        (`claim_figures.fig4_robustness`; smaller = more robust)."""
        return fig4_robustness(self.metrics, title)


def robustness(preset: str = "cpu") -> Robustness:
    """Paper Table 6 / Fig. 4: every task of the robustness suite under the five paraphrase sets, for the models
    trained with and without super-NI, each once per seed. Per seed, the best-minus-worst score over the five
    sets per task and its mean over tasks; the mean over seeds with its 95% interval, and the paired difference
    (without minus with super-NI, same seeds). Beside it the noise floor of each task: the gap its five scorings
    would show from evaluation sampling noise alone, paired (`task_floors`: all five sets are scored with bootstrap
    replicates on the same resampled examples, so the noise they share cancels as it does in the observed gap).
    Metrics per seed: each task's "gap", "noise_floor" (the floor's mean), "noise_floor_high" (its upper bound)
    and "gap_above_floor" (the gap lies above that bound); over seeds, "gap_above_floor" counts such seeds per
    model and task, "noise_floor" is the mean floor over tasks. Claim: super-NI narrows the gap (the difference
    is positive), controlled by the gain of the model with super-NI (full MEDI, the paper's instructions) over the
    backbone on the same suite."""
    suite = presets.preset(preset).robustness_suite
    variants = {"with super-NI": "full", "without super-NI": "no_superni"}
    rows, per_model, mean_gap, runs, reference = [], {}, {}, {}, {}
    for label, variant in variants.items():
        per_model[label], mean_gap[label], runs[label] = {}, {}, {}
        for seed in seeds(preset):
            trained = trained_model(preset, variant, seed=seed, figure=True)
            model, runs[label][str(seed)] = trained.model, trained.run_dir.name
            if variant == "full":  # the reference with the paper's instructions: the claim's control
                reference[seed] = category_scores(scores(model, preset, "paper", suite))
            # every set with bootstrap replicates, drawn on the same resamples of each task: the paired floor
            results = {f"paraphrase-{index}": scores(model, preset, paraphrase_instructions(index), suite,
                                                     bootstrap=True) for index in PARAPHRASE_SETS}
            per_set = {name: {task: entry["score"] for task, entry in result["tasks"].items()}
                       for name, result in results.items()}
            rows += [{"model": label, "seed": seed, "instructions": name, "task": task, "score": score}
                     for name, set_scores in per_set.items() for task, score in set_scores.items()]
            floors = floor_metrics(task_floors(results))
            gaps, per_model[label][str(seed)] = floors["gap"], {"scores": per_set, **floors}
            mean_gap[label][seed] = {"mean gap": sum(gaps.values()) / len(gaps),
                                     "noise floor": sum(floors["noise_floor"].values()) / len(gaps), **gaps}
    tasks = list(next(iter(mean_gap["with super-NI"].values())))
    frame = with_intervals(mean_gap, tasks)
    difference = paired(mean_gap["without super-NI"], mean_gap["with super-NI"], "mean gap")
    control = gain_interval(reference, "Average", backbone_scores(preset, suite)["Average"])
    claim_ = claim(fig4_claims()[0], difference, seeds(preset), figure_steps(preset), control)
    metrics = {"columns": list(variants), "seeds": list(seeds(preset)), "steps": figure_steps(preset), "per_seed": per_model,
               "mean_gap": {label: dict(frame[label])["mean gap"] for label in variants},
               "noise_floor": {label: dict(frame[label])["noise floor"] for label in variants},
               "gap": {label: {task: value for task, value in dict(frame[label]).items()
                               if task not in ("mean gap", "noise floor")} for label in variants},
               "mean_gap_interval": {label: t_interval([row["mean gap"] for row in mean_gap[label].values()]).as_dict()
                                     for label in variants},
               "gap_above_floor": {label: seeds_above_floor(per_model[label]) for label in variants},
               "difference": difference.as_dict(), "claims": [claim_], "control": control.as_dict(), "runs": runs}
    scores_frame = pd.DataFrame(rows).pivot_table(index="task", columns=["model", "instructions"], values="score")
    return Robustness(frame, metrics, scores_frame)


def paraphrase_table(preset: str = "cpu") -> pd.DataFrame:
    """Paper Table 6 style: the five paraphrased instructions of each task of the preset's robustness suite."""
    sets = [paraphrase_instructions(index) for index in PARAPHRASE_SETS]
    rows = {}
    for task in resolve_suite(presets.preset(preset).robustness_suite):
        # "query": the text instruction of single-instruction tasks, the query side of retrieval tasks
        rows[task] = {instruction_set.name: instruction_set.instruction(task, "query") for instruction_set in sets}
    return pd.DataFrame.from_dict(rows, orient="index")
