"""The scale pilot: which of the preset's candidate training settings pins the main effect down best, judged on the
preset's dev suite (examples no claim is scored on) by the rule the preset wrote down before it runs. The committed
pilot report made before issue 29 was scored on the main (test) suite: it is history, kept as it was."""
from __future__ import annotations

import pandas as pd

from ... import presets
from ...stats import seeds_for_half_width
from .compare import ScoreComparison, category_scores, paired, scores
from .configs import experiment_config, name_suffix
from .figures import pilot_gains
from .main_effect import TARGET_HALF_WIDTH, sampling_error
from .runs import base_model, trained_model
from .training_log import training_seconds


def pilot_settings(preset: str = "cpu") -> dict:
    """The pilot's seeds, candidate settings, the suite it scores (a preset attribute: "dev_suite") and its rule,
    for the record."""
    chosen = presets.preset(preset).pilot
    return {"seeds": list(chosen.seeds), "candidates": chosen.candidates, "suite": chosen.suite, "rule": chosen.rule,
            "figures_rule": chosen.figures_rule}


def figures_choice(preset: str, rows: dict[str, dict]) -> str | None:
    """The figures' scale by `PilotSettings.figures_rule`: of the candidates that replace only the steps, the one
    with the fewest steps whose average gain over the backbone has its interval above 0 (`rows`: the pilot's
    candidate rows, "steps" and "gain low" each); None when there is none."""
    candidates = presets.preset(preset).pilot.candidates
    valid = [label for label, settings in candidates.items()
             if set(settings) == {"steps"} and rows[label]["gain low"] > 0]
    return min(valid, key=lambda label: rows[label]["steps"], default=None)


def pilot(preset: str = "cpu") -> ScoreComparison:
    """The scale pilot: each candidate training setting of the preset (`Preset.pilot`), trained
    once per pilot seed and scored on the pilot's suite (`PilotSettings.suite`: the dev suite, so the choice is not
    made on the claims' examples), judged only by the main effect: the average gain, finetuned minus that seed's
    backbone, with its 95% interval, the spread over seeds, the seeds a 0.3-point half-width would need, the
    evaluation sampling error of the gain per category (bootstrap) and the training time. The rule
    (`PilotSettings.rule`), fixed before any result: the preset's scale is the candidate with the narrowest
    interval (ties: fewer steps). No ablation direction is looked at. The figures' steps follow
    `PilotSettings.figures_rule` (`figures_choice`): the fewest steps at which finetuning beats the backbone."""
    chosen = presets.preset(preset).pilot
    suite = getattr(presets.preset(preset), chosen.suite)
    pilot_seeds = list(chosen.seeds)
    base_results = {seed: scores(base_model(preset, seed=seed), preset, "none", suite, bootstrap=True)
                    for seed in pilot_seeds}
    backbones = {seed: category_scores(results) for seed, results in base_results.items()}
    categories = list(backbones[pilot_seeds[0]])
    rows, gains_per_seed, sampling = {}, {}, {}
    for label in chosen.candidates:
        tuned_results, seconds = {}, []
        for seed in pilot_seeds:
            trained = trained_model(preset, seed=seed, scale=label)
            tuned_results[seed] = scores(trained.model, preset, suite=suite, bootstrap=True)
            seconds.append(training_seconds(trained))
        finetuned = {seed: category_scores(results) for seed, results in tuned_results.items()}
        gains_per_seed[label] = {str(seed): {row: finetuned[seed][row] - backbones[seed][row] for row in categories}
                                 for seed in pilot_seeds}
        gain = paired(finetuned, backbones, "Average")
        spread = seeds_for_half_width([gains["Average"] for gains in gains_per_seed[label].values()], TARGET_HALF_WIDTH)
        sampling[label] = sampling_error(base_results, tuned_results, categories)
        train = experiment_config(preset, seed=pilot_seeds[0], scale=label)["train"]
        rows[label] = {"steps": train["steps"], "lr": train["lr"], "gain": gain.mean, "gain low": gain.low,
                       "gain high": gain.high, "half-width": spread["half_width"], "sd over seeds": spread["sd"],
                       "seeds for 0.3": spread["seeds"], "eval sd gain": sampling[label]["Average"]["gain"],
                       "train s per seed": sum(seconds) / len(seconds)}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame["lr"] = frame["lr"].map("{:g}".format)  # 5e-05, not 0.0 once the frame is rounded
    best = min(rows, key=lambda label: (rows[label]["half-width"], rows[label]["steps"]))
    figures = figures_choice(preset, rows)
    metrics = {"columns": ["gain"], "seeds": pilot_seeds, "target_half_width": TARGET_HALF_WIDTH,
               "suite": chosen.suite, "rule": chosen.rule, "figures_rule": chosen.figures_rule,
               "figures_chosen": figures, "figures_steps": rows[figures]["steps"] if figures else None,
               "candidates": rows, "chosen": best, "preset_uses_chosen": not name_suffix(preset, None, best, False),
               "chosen_gain": rows[best]["gain"], "chosen_half_width": float(rows[best]["half-width"]),
               "target_met": bool(rows[best]["half-width"] <= TARGET_HALF_WIDTH), "backbone": backbones[pilot_seeds[0]],
               "gain_per_seed": gains_per_seed, "sampling_error": sampling,
               "eval_sd_of_gain": {label: {row: values[row]["gain"] for row in categories}
                                   for label, values in sampling.items()},
               "bootstrap_replicates": presets.preset(preset).bootstrap}
    return ScoreComparison(frame, metrics, pilot_gains)
