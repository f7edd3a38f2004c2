"""Which training data matters: one MEDI variant against the full mixture (the ablation notebook), and paper
Fig. 3, the symmetric and asymmetric groups with and without instructions."""
from __future__ import annotations

from ... import presets
from ...medi import canonical_variant
from .claim_figures import fig3_data
from .compare import ScoreComparison, backbone_scores, claim, gain_intervals, paired, seed_scores, with_intervals
from .configs import check_parameters, figure_steps, seeds
from .figures import ablation_differences

FIG3_SELECTIONS = {"symmetric only": "symmetric_only", "asymmetric only": "asymmetric_only", "both (full MEDI)": "full"}


def ablation(preset: str = "cpu", variant: str = "no_superni") -> ScoreComparison:
    """One MEDI `variant` against the full mixture, both trained at the figures' scale with each of the preset's seeds and scored on
    the preset's ablation suite: means with 95% intervals, and the paired difference (variant minus full, same
    seeds) with its interval."""
    variant = canonical_variant(variant)
    check_parameters(preset, variant)
    if variant == "full":
        raise ValueError("variant 'full' is the reference; choose another variant to compare with it")
    suite = presets.preset(preset).ablation_suite
    (full, full_runs), (other, other_runs) = seed_scores(preset, "full", suite), seed_scores(preset, variant, suite)
    rows = list(full[seeds(preset)[0]])
    frame = with_intervals({"full": full, variant: other}, rows)
    differences = {row: paired(other, full, row) for row in rows}
    frame["difference"] = [differences[row].mean for row in rows]
    frame["difference low"] = [differences[row].low for row in rows]
    frame["difference high"] = [differences[row].high for row in rows]
    metrics = {"columns": ["full", variant], "variant": variant, "seeds": list(seeds(preset)), "steps": figure_steps(preset),
               "full": dict(frame["full"]), "ablated": dict(frame[variant]),
               "difference": {row: differences[row].as_dict() for row in rows},
               "per_seed": {"full": {str(k): v for k, v in full.items()}, variant: {str(k): v for k, v in other.items()}},
               "runs": {"full": full_runs, variant: other_runs}}
    return ScoreComparison(frame, metrics, ablation_differences)


def instructions_by_data(preset: str = "cpu") -> ScoreComparison:
    """Paper Fig. 3: MEDI's symmetric group, its asymmetric group and both, each trained with and without
    instructions (evaluated the same way), every configuration once per seed, on the ablation suite; the
    backbone (no instructions) is the reference line. Claims: with instructions, both groups together beat
    either alone; without instructions they do not (the paper: mixing then hurts)."""
    suite = presets.preset(preset).ablation_suite
    base = backbone_scores(preset, suite)
    trained = {(label, instructed): seed_scores(preset, selection if instructed else
                                                ("no_instructions" if selection == "full" else f"{selection}:none"), suite)
               for label, selection in FIG3_SELECTIONS.items() for instructed in (True, False)}
    columns = {"with instructions": True, "without instructions": False}
    averages = {name: {seed: {label: trained[(label, instructed)].scores[seed]["Average"] for label in FIG3_SELECTIONS}
                       for seed in seeds(preset)} for name, instructed in columns.items()}
    frame = with_intervals(averages, list(FIG3_SELECTIONS))
    sym, asym, both = FIG3_SELECTIONS
    claims = []
    for name, instructed in columns.items():
        for single in (sym, asym):
            claims.append(claim(f"Fig. 3, {name}: both groups minus {single} (average)",
                                "both > " + single if instructed else "both < " + single,
                                paired(averages[name], averages[name], both, single),
                                1 if instructed else -1, seeds(preset), figure_steps(preset)))
    labels = {(label, instructed): f"{label} / {'with' if instructed else 'without'} instructions" for label, instructed in trained}
    metrics = {"columns": list(columns), "seeds": list(seeds(preset)), "steps": figure_steps(preset), "backbone_average": base["Average"],
               "average": {name: dict(frame[name]) for name in columns}, "claims": claims,
               "gain_over_backbone": {name: gain_intervals(averages[name], base["Average"]) for name in columns},
               "per_seed": {labels[key]: {str(k): v for k, v in value.scores.items()} for key, value in trained.items()},
               "runs": {labels[key]: trained[key].runs for key in sorted(trained, key=lambda key: not key[1])}}  # with first
    return ScoreComparison(frame, metrics, fig3_data)
