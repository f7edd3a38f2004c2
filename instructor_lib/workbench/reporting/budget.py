"""Which figures `make reproduce` runs by default, by a rule fixed before the figures' scale was chosen (issue 29):
the figures train at the scale the pilot found valid (`Preset.figures`), and the default run holds Table 2 and as
many figures as fit its budget in the paper's order of priority; the rest run on demand (`make reproduce-all`) and
the claims table lists their claims as `not run` instead of running them at a scale that cannot test them.

The estimate is of the reference machine, not of the one running, so every machine runs the same notebooks: the
costs below were measured on the 2-core AMD EPYC with AVX-512 BF16 (bf16) of the committed cpu runs. A notebook's
cost is the trainings and evaluations it adds to those already counted (a run or score shared with an earlier
notebook, or with the main table, is counted once), so the plan follows the figures' steps.
"""
from __future__ import annotations

from dataclasses import dataclass

from ... import presets
from ..experiments.configs import experiment_config, figure_steps, seeds
from ..experiments.compare import not_run
from ..experiments.data_ablation import FIG3_SELECTIONS, POOLING_SPEC, fig3_claims
from ..experiments.instruction_levels import FIG5_LEVELS, fig5_claims
from ..experiments.paraphrases import PARAPHRASE_SETS, fig4_claims
from ..experiments.sizes import fig6_claims

BUDGET_RULE = ("the default run holds build_medi, train, main_table (Table 2), embedding_viz and playground; where the "
               "pilot's figures rule found a valid scale, then each figure notebook in the order Fig. 5 (instruction_detail), Fig. 3 (data_ablation), Fig. 4 (robustness), "
               "Fig. 6 (scaling), then the ablation extra and the pooling question (issue 27), taken when the estimated wall time on the reference machine "
               "(2-core AVX-512 BF16 EPYC) still fits the preset's budget; the others run on demand (make reproduce-all) "
               "and their claims are listed as not run")
FIGURE_PRIORITY = ("instruction_detail", "data_ablation", "robustness", "scaling", "ablation", "pooling")

# Measured on the reference machine (the committed cpu runs of 2026-12-06/07, bf16): seconds per training step of 64
# pairs (the runs' metrics.jsonl: MiniLM on full MEDI 4.0-4.4, its variants 1.9-4.8; mpnet 22.2-24.1; MiniLM cut to
# 2 layers 1.7), and seconds per evaluation of one model, loading included (from the notebooks' wall times less their
# trainings: the ablation suite 20 s a model, the robustness suite 15 s an instruction set, the main suite with its
# bootstrap 27.5 s, the sizes suite 8 s for MiniLM and 36 s for mpnet).
STEP_S = {"MiniLM": 4.2, "mpnet": 22.8, "MiniLM-L2": 1.7}
EVAL_S = {"ablation_suite": 20.0, "robustness_suite": 15.0, "suite": 27.5, ("sizes_suite", "MiniLM"): 8.0,
          ("sizes_suite", "mpnet"): 36.0}
# the default notebooks besides the main table's trainings and finetuned models' scores (units of "base"): MEDI built
# cold (72 s), train's evaluation (33 s), main_table's backbone scores (its 10 evaluations took 275 s, 5 of them
# units), embedding_viz (37 s), playground (11 s)
BASE_FIXED_S = 290.5


@dataclass(frozen=True)
class Plan:
    """The default run of a preset: notebooks taken and left on demand, each figure notebook's added minutes on the
    reference machine, and the total."""
    default: tuple[str, ...]
    on_demand: tuple[str, ...]
    minutes: dict[str, float]
    total_minutes: float
    budget_minutes: float | None
    figure_steps: int
    figures_valid: bool | None

    def why_on_demand(self) -> str:
        """Why the default run leaves figures out, in words."""
        if not self.default and self.on_demand and self.figures_valid is False:
            return ("the scale pilot found no scale at which finetuning beats the backbone on the dev suite, so no "
                    "figure can test the paper by default (docs/results.md, \"Budget\")")
        return f"beyond the default run's budget of {self.budget_minutes} min on the reference machine"

    def record(self) -> dict:
        """As the summary and the reports record it, with the rule."""
        return {"rule": BUDGET_RULE, "default": list(self.default), "on_demand": list(self.on_demand),
                "minutes": {name: round(value, 1) for name, value in self.minutes.items()},
                "total_minutes": round(self.total_minutes, 1), "budget_minutes": self.budget_minutes,
                "figure_steps": self.figure_steps, "figures_valid": self.figures_valid, "why": self.why_on_demand()}


def work(preset: str) -> dict[str, dict[tuple, float]]:
    """Per figure notebook, its trainings and evaluations as {unit: seconds}; "base" holds the main table's. A unit
    names what it computes (a run by model, variant, steps and seed; a score by model, run and suite), so two
    notebooks that share a run or a score share a unit."""
    steps, main_steps, figure_seeds = figure_steps(preset), experiment_config(preset)["train"]["steps"], seeds(preset)

    def train(variant, seed, model="MiniLM", steps_=steps):
        return {("train", model, variant, steps_, seed): steps_ * STEP_S[model]}

    def evaluate(variant, seed, suite, instructions="paper", model="MiniLM", steps_=steps):
        return {("eval", model, variant, steps_, seed, suite, instructions): EVAL_S[suite] if suite in EVAL_S
                else EVAL_S[(suite, model)]}

    def backbone(suite, model="MiniLM"):
        return {("eval", model, "backbone", suite): EVAL_S[suite] if suite in EVAL_S else EVAL_S[(suite, model)]}

    def trained_and_scored(variants, suite):
        units = backbone(suite)
        for variant in variants:
            for seed in figure_seeds:
                units |= train(variant, seed) | evaluate(variant, seed, suite, "none" if "none" in variant
                                                         or variant == "no_instructions" else "paper")
        return units

    fig3 = [variant if instructed else ("no_instructions" if variant == "full" else f"{variant}:none")
            for variant in FIG3_SELECTIONS.values() for instructed in (True, False)]
    robustness = backbone("robustness_suite")
    for variant in ("full", "no_superni"):
        for seed in figure_seeds:
            robustness |= train(variant, seed)
            if variant == "full":  # the control: the reference with the paper's instructions
                robustness |= evaluate(variant, seed, "robustness_suite")
            for index in PARAPHRASE_SETS:
                robustness |= evaluate(variant, seed, "robustness_suite", f"paraphrase-{index}")
    scaling = backbone("sizes_suite") | backbone("sizes_suite", "mpnet") | train("full", 1, "MiniLM-L2") \
        | evaluate("full-L2", 1, "suite") | evaluate("full", 1, "suite")
    for seed in figure_seeds:
        scaling |= train("full", seed) | evaluate("full", seed, "sizes_suite") | train("full", seed, "mpnet") \
            | evaluate("full", seed, "sizes_suite", model="mpnet")
    base = {}
    for seed in seeds(preset, main=True):
        base |= train("full", seed, steps_=main_steps) | evaluate("full", seed, "suite", steps_=main_steps)
    return {"base": base, "instruction_detail": trained_and_scored(FIG5_LEVELS.values(), "ablation_suite"),
            "data_ablation": trained_and_scored(fig3, "ablation_suite"), "robustness": robustness, "scaling": scaling,
            "ablation": trained_and_scored(("full", "no_superni"), "ablation_suite"),
            "pooling": trained_and_scored(("full", "full:pooling-all"), "ablation_suite")}


def plan(preset: str) -> Plan:
    """The default run of `preset` by BUDGET_RULE: every figure notebook when the preset sets no budget (smoke,
    paper); none when the pilot's figures rule found no valid scale (`Preset.figures_valid` False); else those that
    fit `Preset.budget_minutes` on the reference machine, taken in FIGURE_PRIORITY order. `minutes`: what each figure
    notebook adds when all run in that order (`make reproduce-all`)."""
    chosen = presets.preset(preset)
    if chosen.budget_minutes is None:
        return Plan(FIGURE_PRIORITY, (), {}, 0.0, None, figure_steps(preset), chosen.figures_valid)
    units = work(preset)
    base = BASE_FIXED_S + sum(units["base"].values())
    minutes, counted = {}, dict(units["base"])
    for name in FIGURE_PRIORITY:
        added = {unit: seconds for unit, seconds in units[name].items() if unit not in counted}
        minutes[name], counted = sum(added.values()) / 60, counted | added
    default, counted, total = [], dict(units["base"]), base
    for name in FIGURE_PRIORITY if chosen.figures_valid else ():
        added = sum(seconds for unit, seconds in units[name].items() if unit not in counted)
        if (total + added) / 60 <= chosen.budget_minutes:
            default.append(name)
            counted |= units[name]
            total += added
    on_demand = tuple(name for name in FIGURE_PRIORITY if name not in default)
    return Plan(tuple(default), on_demand, minutes, total / 60, chosen.budget_minutes, figure_steps(preset),
                chosen.figures_valid)


# the claims each figure notebook makes, as `not_run` rows when the default run leaves it out
NOTEBOOK_CLAIMS = {"instruction_detail": lambda preset: fig5_claims(), "data_ablation": lambda preset: fig3_claims(),
                   "robustness": lambda preset: fig4_claims(), "scaling": fig6_claims,
                   "pooling": lambda preset: [POOLING_SPEC]}


def not_run_claims(preset: str, names) -> list[dict]:
    """The claims of the figure notebooks `names` as "not run" rows, with the seeds and steps they would run at."""
    return [not_run(spec, seeds(preset), figure_steps(preset))
            for name in names for spec in NOTEBOOK_CLAIMS.get(name, lambda preset: [])(preset)]
