"""Paper Table 2 at our scale, the main effect: the instruction-finetuned model against its backbone, per category
and per task, with the training noise over seeds and the evaluation sampling error of each score and gain."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ... import presets
from ...evaluation.report import CATEGORIES, PAPER_TABLE2
from ...stats import paired_difference, paired_replicate_sd, replicate_sd, seeds_for_half_width
from .compare import ClaimSpec, ScoreComparison, category_scores, claim, paired, relative_gain, scores, with_intervals
from .configs import experiment_config, seeds
from .figures import table2_gains
from .paper import PAPER_GTR_LARGE, PAPER_INSTRUCTOR
from .runs import base_model, trained_model

TARGET_HALF_WIDTH = 0.3  # points: the precision the main effect (average gain) should be known to


def main_table(preset: str = "cpu") -> ScoreComparison:
    """Paper Table 2 at our scale: the backbone (no instructions) vs the instruction-finetuned model (paper's
    instructions, one model per training seed), per category and on average: the finetuned mean with its 95%
    t-interval over seeds, the gain over the backbone that seed started from (points, and percent of the
    backbone; paired by seed) with its interval, and the paper's
    GTR-large -> INSTRUCTOR-large gain beside it (full MTEB; ours is the preset's suite: compare gains)."""
    main_seeds = seeds(preset, main=True)
    base_results = {seed: scores(base_model(preset, seed=seed), preset, "none", bootstrap=True) for seed in main_seeds}
    tuned_results, summaries, run_names = {}, {}, {}
    for seed in main_seeds:
        trained = trained_model(preset, seed=seed)
        tuned_results[seed] = scores(trained.model, preset, bootstrap=True)
        summaries[str(seed)], run_names[str(seed)] = trained.summary, trained.run_dir.name
    backbones = {seed: category_scores(results) for seed, results in base_results.items()}
    finetuned = {seed: category_scores(results) for seed, results in tuned_results.items()}
    rows = list(backbones[main_seeds[0]])
    base = {row: sum(scores_[row] for scores_ in backbones.values()) / len(backbones) for row in rows}
    frame = with_intervals({"INSTRUCTOR (ours)": finetuned}, rows)
    frame.insert(0, "backbone", [base[row] for row in rows])
    gains = {row: paired(finetuned, backbones, row) for row in rows}
    paper = PAPER_TABLE2[PAPER_INSTRUCTOR]
    paper_gain = {row: relative_gain(paper[row], PAPER_GTR_LARGE[row]) for row in rows}
    frame["gain"] = [gains[row].mean for row in rows]
    frame["gain low"] = [gains[row].low for row in rows]
    frame["gain high"] = [gains[row].high for row in rows]
    for column in ("gain", "gain low", "gain high"):
        frame[column.replace("gain", "gain %")] = [100 * value / base[row] for row, value in zip(rows, frame[column])]
    sampling = sampling_error(base_results, tuned_results, rows)
    per_task = task_gains(base_results, tuned_results)
    for column in ("backbone", "ours", "gain"):
        frame[f"eval sd {column}"] = [sampling[row][column] for row in rows]
    frame["paper GTR-large"] = [PAPER_GTR_LARGE[row] for row in rows]
    frame["paper INSTRUCTOR-large"] = [paper[row] for row in rows]
    frame["paper gain %"] = [paper_gain[row] for row in rows]
    steps = experiment_config(preset)["train"]["steps"]
    claims = [claim(spec, gains[row], finetuned, steps) for row, spec in table2_claims(rows[:-1]).items()]
    metrics = {"columns": ["backbone", "INSTRUCTOR (ours)"], "seeds": sorted(finetuned), "backbone": base,
               "finetuned": dict(frame["INSTRUCTOR (ours)"]), "finetuned_per_seed": {str(k): v for k, v in finetuned.items()},
               "gain": {row: gains[row].as_dict() for row in rows},
               "gain_percent": dict(frame["gain %"]), "paper_gain_percent": paper_gain,
               "paper_gain": {row: paper[row] - PAPER_GTR_LARGE[row] for row in rows}, "steps": steps, "claims": claims,
               "sampling_error": sampling, "tasks": per_task, "bootstrap_replicates": presets.preset(preset).bootstrap,
               "seeds_for_half_width": seeds_for_half_width([finetuned[seed]["Average"] - backbones[seed]["Average"]
                                                            for seed in finetuned], TARGET_HALF_WIDTH),
               "training": summaries, "runs": {"full MEDI": run_names}}
    return ScoreComparison(frame, metrics, table2_gains)


def table2_claims(categories) -> dict[str, ClaimSpec]:
    """Paper Table 2's claims at our scale, per row ("Average" first, then each of `categories`): instruction
    finetuning raises the score, by the paper's GTR-large -> INSTRUCTOR-large gain in points (full MTEB). No
    control: the claim is the finetuning effect itself."""
    paper = PAPER_TABLE2[PAPER_INSTRUCTOR]
    return {row: ClaimSpec(f"Table 2: instruction finetuning raises the {row if row != 'Average' else 'average'} score "
                           "(finetuned minus backbone, points)", round(paper[row] - PAPER_GTR_LARGE[row], 2),
                           1 if paper[row] >= PAPER_GTR_LARGE[row] else -1)
            for row in ["Average", *categories]}


def sampling_error(base_results: dict, tuned_results: dict, rows: list[str]) -> dict[str, dict[str, float]]:
    """Per row (category or "Average"), the evaluation sampling error: the standard deviation of the bootstrap
    replicates of the backbone's score, of the finetuned model's, and of their difference (the same resampled
    test examples for both: paired), each averaged over seeds ({seed: `evaluate(..., bootstrap=B)` results})."""
    def draws(results, row):
        return np.asarray(results["bootstrap"][row]["replicates"])

    return {row: {"backbone": replicate_sd([draws(base_results[seed], row) for seed in base_results]),
                  "ours": replicate_sd([draws(tuned_results[seed], row) for seed in tuned_results]),
                  "gain": paired_replicate_sd([draws(tuned_results[seed], row) for seed in tuned_results],
                                              [draws(base_results[seed], row) for seed in tuned_results])} for row in rows}


def task_gains(base_results: dict, tuned_results: dict) -> dict[str, dict]:
    """Per task of the suite, so that a category's effect can be traced to its tasks: its category, the backbone's
    and the finetuned model's mean score over seeds, the gain paired by seed with its 95% t-interval, and the
    evaluation sampling sd of the gain (of the paired bootstrap replicates, averaged over seeds). Arguments:
    {seed: `evaluate(..., bootstrap=B)` results} of the backbone and of the finetuned model."""
    common = sorted(set(base_results) & set(tuned_results))
    rows = {}
    for task, entry in tuned_results[common[0]]["tasks"].items():
        base = [base_results[seed]["tasks"][task] for seed in common]
        tuned = [tuned_results[seed]["tasks"][task] for seed in common]
        base_scores, tuned_scores = [e["score"] for e in base], [e["score"] for e in tuned]
        rows[task] = {"category": entry["category"], "backbone": float(np.mean(base_scores)),
                      "finetuned": float(np.mean(tuned_scores)),
                      "gain": paired_difference(tuned_scores, base_scores).as_dict(),
                      "eval_sd_gain": paired_replicate_sd([e["bootstrap"] for e in tuned], [e["bootstrap"] for e in base])}
    return rows


def task_frame(per_task: dict[str, dict]) -> pd.DataFrame:
    """`task_gains` as a table, one row per task in Table 2's category order: backbone, finetuned, the gain with
    its interval over seeds, and the gain's evaluation sampling sd."""
    order = {category: i for i, category in enumerate(CATEGORIES)}
    frame = pd.DataFrame({task: {"category": row["category"], "backbone": row["backbone"], "INSTRUCTOR (ours)": row["finetuned"],
                                 "gain": row["gain"]["mean"], "gain low": row["gain"]["low"], "gain high": row["gain"]["high"],
                                 "eval sd gain": row["eval_sd_gain"]} for task, row in per_task.items()}).T
    frame = frame.sort_values("category", key=lambda column: column.map(order), kind="stable")
    return frame.astype({column: float for column in frame.columns if column != "category"})
