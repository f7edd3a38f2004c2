"""Which training data matters: one MEDI variant (or your own, `custom.custom_variant`) against the full mixture
(the ablation notebook), INSTRUCTOR's pooling against pooling over every token (`pooling_claim`, on demand), and
paper Fig. 3, the symmetric and asymmetric groups with and without instructions."""
from __future__ import annotations

from ... import presets
from ...medi import canonical_variant
from .claim_figures import fig3_data
from .compare import (ClaimSpec, ScoreComparison, backbone_scores, claim, gain_interval, gain_intervals, paired, seed_scores,
                      with_intervals)
from .configs import check_parameters, figure_steps, seeds
from .custom import custom_variant
from .figures import ablation_differences

POOLING_ALL = custom_variant(pooling="all")
FIG3_SELECTIONS = {"symmetric only": "symmetric_only", "asymmetric only": "asymmetric_only", "both (full MEDI)": "full"}
FIG3_COLUMNS = {"with instructions": True, "without instructions": False}
POOLING_SPEC = ClaimSpec("Pooling over the text tokens only beats pooling over all tokens, instruction included "
                         "(text minus all, average)", "text > all (INSTRUCTOR's design; not ablated in the paper)", 1)


def fig3_comparisons() -> list[tuple[str, str]]:
    """(column, single group) of each Fig. 3 claim: both groups against each group alone, with and without instructions."""
    sym, asym, _ = FIG3_SELECTIONS
    return [(name, single) for name in FIG3_COLUMNS for single in (sym, asym)]


def fig3_claims() -> list[ClaimSpec]:
    """Paper Fig. 3's claims, one per `fig3_comparisons`: with instructions both groups together beat either alone;
    without instructions they do not (the paper: mixing then hurts)."""
    return [ClaimSpec(f"Fig. 3, {name}: both groups minus {single} (average)",
                      ("both > " if FIG3_COLUMNS[name] else "both < ") + single, 1 if FIG3_COLUMNS[name] else -1)
            for name, single in fig3_comparisons()]


def ablation(preset: str = "cpu", variant: str = "no_superni", custom: dict | None = None) -> ScoreComparison:
    """One MEDI `variant` against the full mixture, both trained at the figures' scale with each of the preset's
    seeds and scored on the preset's ablation suite: means with 95% intervals, the paired difference (variant minus
    full, same seeds) with its interval, and the full mixture's gain over the backbone (`control`: any claim made of
    the comparison is untestable unless it lies above 0). `custom` (`custom.custom_variant`) changes the variant's
    data selection, instructions or pooling; the full mixture stays the reference. The variant "full" with only pooling "all"
    is the pooling question: its claim row (text pooling minus all-token pooling) is added."""
    variant = canonical_variant(variant)
    check_parameters(preset, variant)
    if variant == "full" and not custom:
        raise ValueError("variant 'full' is the reference; choose another variant to compare with it")
    suite = presets.preset(preset).ablation_suite
    (full, full_runs), (other, other_runs) = seed_scores(preset, "full", suite), seed_scores(preset, variant, suite, custom)
    rows = list(full[seeds(preset)[0]])
    label = f"{variant} (custom)" if custom else variant
    frame = with_intervals({"full": full, label: other}, rows)
    differences = {row: paired(other, full, row) for row in rows}
    frame["difference"] = [differences[row].mean for row in rows]
    frame["difference low"] = [differences[row].low for row in rows]
    frame["difference high"] = [differences[row].high for row in rows]
    control = gain_interval(full, "Average", backbone_scores(preset, suite)["Average"])
    metrics = {"columns": ["full", label], "variant": variant, "seeds": list(seeds(preset)), "steps": figure_steps(preset),
               "control": control.as_dict(),
               "full": dict(frame["full"]), "ablated": dict(frame[label]),
               "difference": {row: differences[row].as_dict() for row in rows},
               "per_seed": {"full": {str(k): v for k, v in full.items()}, label: {str(k): v for k, v in other.items()}},
               "runs": {"full": full_runs, label: other_runs}}
    if custom:
        metrics["custom"] = custom
    if variant == "full" and custom == POOLING_ALL:
        metrics["claims"] = [claim(POOLING_SPEC, paired(full, other, "Average"), seeds(preset), figure_steps(preset), control)]
    return ScoreComparison(frame, metrics, ablation_differences)


def pooling_claim(preset: str = "cpu") -> ScoreComparison:
    """Does INSTRUCTOR's pooling over the text tokens beat pooling over every token? Full MEDI trained both ways
    with each of the preset's seeds at the figures' scale, on the ablation suite, with the claim row (on demand:
    `make reproduce` does not run it; the ablation notebook with `-p variant full -p pooling all` does)."""
    return ablation(preset, "full", POOLING_ALL)


def instructions_by_data(preset: str = "cpu") -> ScoreComparison:
    """Paper Fig. 3: MEDI's symmetric group, its asymmetric group and both, each trained with and without
    instructions (evaluated the same way), every configuration once per seed, on the ablation suite; the
    backbone (no instructions) is the reference line. Claims (`fig3_claims`), each controlled by the gain of
    both groups with instructions (full MEDI) over the backbone."""
    suite = presets.preset(preset).ablation_suite
    base = backbone_scores(preset, suite)
    trained = {(label, instructed): seed_scores(preset, selection if instructed else
                                                ("no_instructions" if selection == "full" else f"{selection}:none"), suite)
               for label, selection in FIG3_SELECTIONS.items() for instructed in (True, False)}
    averages = {name: {seed: {label: trained[(label, instructed)].scores[seed]["Average"] for label in FIG3_SELECTIONS}
                       for seed in seeds(preset)} for name, instructed in FIG3_COLUMNS.items()}
    frame = with_intervals(averages, list(FIG3_SELECTIONS))
    both = list(FIG3_SELECTIONS)[-1]
    control = gain_interval(averages["with instructions"], both, base["Average"])
    claims = [claim(spec, paired(averages[name], averages[name], both, single), seeds(preset), figure_steps(preset), control)
              for (name, single), spec in zip(fig3_comparisons(), fig3_claims())]
    labels = {(label, instructed): f"{label} / {'with' if instructed else 'without'} instructions" for label, instructed in trained}
    metrics = {"columns": list(FIG3_COLUMNS), "seeds": list(seeds(preset)), "steps": figure_steps(preset), "backbone_average": base["Average"],
               "average": {name: dict(frame[name]) for name in FIG3_COLUMNS}, "claims": claims, "control": control.as_dict(),
               "gain_over_backbone": {name: gain_intervals(averages[name], base["Average"]) for name in FIG3_COLUMNS},
               "per_seed": {labels[key]: {str(k): v for k, v in value.scores.items()} for key, value in trained.items()},
               "runs": {labels[key]: trained[key].runs for key in sorted(trained, key=lambda key: not key[1])}}  # with first
    return ScoreComparison(frame, metrics, fig3_data)
