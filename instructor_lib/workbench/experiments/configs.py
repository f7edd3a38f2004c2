"""What defines one trained model of an experiment: the preset's settings with the figures', a size's or a pilot
candidate's replaced, and the run name that says which (`experiment_config`; its hash names the run directory).

Every notebook parameter is checked here first (`check_parameters`), so a bad one fails before any work.
"""
from __future__ import annotations

import dataclasses
import re

from ... import presets, training
from ...medi import canonical_variant
from .custom import name_suffix as custom_suffix


def seeds(preset: str = "cpu", main: bool = False) -> tuple[int, ...]:
    """The training seeds of a preset: every trained configuration runs once per seed; the main table's
    (`main`: the finetuned model against its backbone) may run more, to pin the main effect down."""
    chosen = presets.preset(preset)
    return chosen.main_seeds if main else chosen.seeds


def check_layers(layers) -> None:
    """A backbone depth is a positive integer, or None for the whole backbone."""
    if layers is not None and (isinstance(layers, bool) or not isinstance(layers, int) or layers < 1):
        raise ValueError(f"layers must be a positive integer (or None: the whole backbone), got {layers!r}")


def check_parameters(preset: str = "cpu", variant: str = "full", layers=None) -> None:
    """Validate a notebook's parameters before any work: a bad one fails at once, not after training."""
    presets.preset(preset)
    canonical_variant(variant)  # an unknown variant is an error listing the forms
    for depth_ in layers if isinstance(layers, (list, tuple)) else [layers]:
        check_layers(depth_)


def override_layers(preset: str, size: str | None, scale: str | None, figure: bool) -> list[tuple[str, dict]]:
    """(label, settings) replaced in turn: the figures' scale (`figure`), a backbone `size` (`Preset.sizes`, paper
    Fig. 6), a pilot candidate `scale` (`Preset.pilot.candidates`)."""
    chosen, layers = presets.preset(preset), []
    if figure:
        layers.append(("figures", chosen.figures))
    for value, options, what in ((size, chosen.sizes, "size"), (scale, chosen.pilot.candidates, "scale")):
        if value is not None:
            if value not in options:
                raise ValueError(f"{what} must be one of {', '.join(options)} (preset {preset!r}), got {value!r}")
            layers.append((value, options[value]))
    return layers


def overrides(preset: str, size: str | None = None, scale: str | None = None, figure: bool = False) -> dict:
    """The training settings that the figures' scale, a `size` and a pilot `scale` replace; {}: the preset's own."""
    return {key: value for _, settings_ in override_layers(preset, size, scale, figure) for key, value in settings_.items()}


def slug(label: str | None) -> str:
    """A size or pilot label as a run-name suffix: "40 steps, lr 1e-4" -> "-40-steps-lr-1e-4" (no parenthesis)."""
    return "" if label is None else "-" + re.sub(r"[^0-9A-Za-z]+", "-", label.split(" (")[0]).strip("-")


def name_suffix(preset: str, size: str | None, scale: str | None, figure: bool) -> str:
    """The run-name suffixes of the overrides that change something (one that changes nothing names the run it
    equals: the figures' MiniLM size is the figures' full run, a pilot candidate equal to the preset its run)."""
    applied, suffix = dataclasses.asdict(training.preset(preset)), ""
    for label, settings_ in override_layers(preset, size, scale, figure):
        if any(applied.get(key) != value for key, value in settings_.items()):
            suffix += slug(label)
        applied |= settings_
    return suffix


def experiment_config(preset: str = "cpu", variant: str = "full", layers: int | None = None,
                      seed: int | None = None, size: str | None = None, scale: str | None = None,
                      figure: bool = False, custom: dict | None = None) -> dict:
    """Everything that defines one trained model of an experiment (its hash names the run directory).

    `seed` (default: the preset's first) sets the training seed: batch order, dropout, a tiny model's init.
    `figure`: a configuration of the analysis figures, trained at the preset's figure scale (`figures`).
    `size` names one of the preset's backbone sizes (paper Fig. 6), `scale` one of its pilot candidates; their
    settings replace the preset's. An override equal to the settings it replaces names the run it equals.
    `custom`: your own variant's settings (`custom.custom_variant`); only a non-empty one joins the config.
    """
    check_parameters(preset, variant, layers)
    variant = canonical_variant(variant)
    seed = seeds(preset)[0] if seed is None else seed
    name = (f"{preset}-{variant.replace(':', '-')}" + (f"-L{layers}" if layers else "")
            + name_suffix(preset, size, scale, figure) + custom_suffix(custom or {}) + f"-s{seed}")
    config = training.preset(preset, **{"name": name, "seed": seed, **overrides(preset, size, scale, figure)})
    return {"preset": preset, "variant": variant, "layers": layers, "train": dataclasses.asdict(config),
            **({"custom": custom} if custom else {})}


def figure_steps(preset: str = "cpu") -> int:
    """The training steps of every configuration of the analysis figures (the preset's own unless its `figures`
    settings replace them)."""
    return experiment_config(preset, figure=True)["train"]["steps"]


def figure_scale(preset: str = "cpu") -> dict:
    """What a figure's models are trained with, beside the main table's, for the reports."""
    return {"figure training steps": figure_steps(preset), "main table training steps": experiment_config(preset)["train"]["steps"],
            "seeds": list(seeds(preset)), "settings replaced for the figures": presets.preset(preset).figures or "none"}


def settings(preset: str = "cpu", **extra) -> dict:
    """The preset's settings as JSON (MEDI settings, training config, evaluation suites), plus `extra`, for the record
    (an empty `custom` variant is left out: a default run records what it recorded before)."""
    chosen = presets.preset(preset)
    extra = {key: value for key, value in extra.items() if not (key == "custom" and not value)}
    check_parameters(preset, extra.get("variant", "full"))

    def suite(value):
        return value if isinstance(value, str) else {task: limits.record() for task, limits in value.items()}

    return {"preset": preset, "medi": dataclasses.asdict(presets.medi_settings(preset)), "train": experiment_config(preset)["train"],
            "seeds": list(seeds(preset)), "main_seeds": list(seeds(preset, main=True)), "suite": suite(chosen.suite),
            "ablation_suite": suite(chosen.ablation_suite), "robustness_suite": suite(chosen.robustness_suite),
            "sizes": chosen.sizes, "sizes_suite": suite(chosen.sizes_suite), "layers": list(chosen.layers),
            "figures": experiment_config(preset, figure=True)["train"], **extra}
