"""Paper Table 6 / Fig. 4: robustness to paraphrased instructions, with and without super-NI in training."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ... import presets
from ...evaluation.instruction_sets import paraphrase_instructions
from ...evaluation.suite import resolve_suite
from ...stats import noise_floor_gap, t_interval
from .claim_figures import fig4_robustness
from .compare import ClaimSpec, claim, paired, scores, with_intervals
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
    (without minus with super-NI, same seeds). Beside it the noise floor: the gap five scorings would show from
    evaluation sampling noise alone (`stats.noise_floor_gap` on the bootstrap replicates of the first set's
    scores). Claim: super-NI narrows the gap (the difference is positive)."""
    suite = presets.preset(preset).robustness_suite
    variants = {"with super-NI": "full", "without super-NI": "no_superni"}
    rows, per_model, mean_gap, runs = [], {}, {}, {}
    for label, variant in variants.items():
        per_model[label], mean_gap[label], runs[label] = {}, {}, {}
        for seed in seeds(preset):
            trained = trained_model(preset, variant, seed=seed, figure=True)
            model, runs[label][str(seed)] = trained.model, trained.run_dir.name
            per_set = {}
            for index in PARAPHRASE_SETS:  # the first set with bootstrap replicates: the noise floor of its scores
                results = scores(model, preset, paraphrase_instructions(index), suite, bootstrap=index == 1)
                per_set[f"paraphrase-{index}"] = {task: entry["score"] for task, entry in results["tasks"].items()}
                if index == 1:
                    floors = {task: noise_floor_gap(entry["bootstrap"], k=5).mean for task, entry in results["tasks"].items()}
                rows += [{"model": label, "seed": seed, "instructions": f"paraphrase-{index}", "task": task, "score": score}
                         for task, score in per_set[f"paraphrase-{index}"].items()]
            gaps = best_worst_gap(per_set)
            per_model[label][str(seed)] = {"scores": per_set, "gap": gaps, "noise_floor": floors}
            mean_gap[label][seed] = {"mean gap": sum(gaps.values()) / len(gaps),
                                     "noise floor": sum(floors.values()) / len(floors), **gaps}
    tasks = list(next(iter(mean_gap["with super-NI"].values())))
    frame = with_intervals(mean_gap, tasks)
    difference = paired(mean_gap["without super-NI"], mean_gap["with super-NI"], "mean gap")
    claim_ = claim(fig4_claims()[0], difference, seeds(preset), figure_steps(preset))
    metrics = {"columns": list(variants), "seeds": list(seeds(preset)), "steps": figure_steps(preset), "per_seed": per_model,
               "mean_gap": {label: dict(frame[label])["mean gap"] for label in variants},
               "noise_floor": {label: dict(frame[label])["noise floor"] for label in variants},
               "gap": {label: {task: value for task, value in dict(frame[label]).items()
                               if task not in ("mean gap", "noise floor")} for label in variants},
               "mean_gap_interval": {label: t_interval([row["mean gap"] for row in mean_gap[label].values()]).as_dict()
                                     for label in variants},
               "difference": difference.as_dict(), "claims": [claim_], "runs": runs}
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
