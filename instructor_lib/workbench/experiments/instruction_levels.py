"""Paper Fig. 5: how much the detail of the training instructions matters."""
from __future__ import annotations

import pandas as pd

from ... import presets
from ...instructions import LEVELS, embedding_instructions
from .claim_figures import fig5_detail
from .compare import (ClaimSpec, ScoreComparison, backbone_scores, claim, gain_interval, gain_intervals, paired,
                      seed_scores, with_intervals)
from .configs import figure_steps, seeds

FIG5_LEVELS = {"N/A": "no_instructions", "tag": "tag", "simple": "simple", "detailed": "full"}
REFERENCE = "detailed"  # full MEDI with the paper's instructions: its gain over the backbone is the claims' control


# each step of detail: (finer level, coarser level)
FIG5_STEPS = [(finer, coarser) for coarser, finer in zip(list(FIG5_LEVELS), list(FIG5_LEVELS)[1:])]


def fig5_claims() -> list[ClaimSpec]:
    """Paper Fig. 5's claims, one per `FIG5_STEPS`: each step of instruction detail helps (finer minus coarser)."""
    return [ClaimSpec(f"Fig. 5: {finer} minus {coarser} instructions (average)", f"{finer} > {coarser}", 1)
            for finer, coarser in FIG5_STEPS]


def instruction_detail(preset: str = "cpu") -> ScoreComparison:
    """Paper Fig. 5: full MEDI trained with no instructions (N/A), dataset tags, simple (a word or two) and
    detailed instructions, each once per seed, on the ablation suite; the backbone (no instructions) is the
    reference line. Claims: each step of detail helps; their control is the detailed level's gain over the
    backbone."""
    suite = presets.preset(preset).ablation_suite
    trained = {label: seed_scores(preset, variant, suite) for label, variant in FIG5_LEVELS.items()}
    base = backbone_scores(preset, suite)
    averages = {"average": {seed: {label: trained[label].scores[seed]["Average"] for label in FIG5_LEVELS} for seed in seeds(preset)}}
    frame = with_intervals(averages, list(FIG5_LEVELS))
    control = gain_interval(averages["average"], REFERENCE, base["Average"])
    claims = [claim(spec, paired(averages["average"], averages["average"], finer, coarser), seeds(preset),
                    figure_steps(preset), control) for (finer, coarser), spec in zip(FIG5_STEPS, fig5_claims())]
    metrics = {"columns": ["average"], "seeds": list(seeds(preset)), "steps": figure_steps(preset), "average": dict(frame["average"]),
               "claims": claims, "control": control.as_dict(),
               "backbone_average": base["Average"], "gain_over_backbone": {"average": gain_intervals(averages["average"], base["Average"])},
               "per_seed": {label: {str(k): v for k, v in value.scores.items()} for label, value in trained.items()},
               "runs": {label: value.runs for label, value in trained.items()}}
    return ScoreComparison(frame, metrics, fig5_detail)


def instruction_examples(datasets=("NQ", "quora_duplicates", "agnews")) -> pd.DataFrame:
    """The training instructions of a few MEDI embedding datasets at each level of Fig. 5, in full, per side
    (a symmetric dataset has one instruction for both)."""
    rows = {}
    for dataset in datasets:
        for level in LEVELS:
            query, document = embedding_instructions(dataset, level)
            rows[(dataset, level)] = {"query instruction": query or "(none)", "document instruction": document or "(none)"}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index = [f"{dataset}, {level}" for dataset, level in frame.index]
    return frame
