"""MEDI variants: which datasets a mixture keeps (a selection) and at which instruction level."""
from __future__ import annotations

from ..instructions import LEVELS, SYMMETRIC

SELECTIONS = ("full", "no_superni", "symmetric_only", "asymmetric_only")  # which datasets a mixture keeps
# A variant is a selection (instructions at the detailed level), "no_instructions", an instruction level on the
# full mixture, or "<selection>:<level>" (e.g. "symmetric_only:none", paper Fig. 3 without instructions).
VARIANTS = (*SELECTIONS, "no_instructions", *LEVELS, *(f"{name}:none" for name in SELECTIONS[1:]))


def parse_variant(variant: str) -> tuple[str, str]:
    """(selection, instruction level) of a variant; an unknown one is an error listing the forms."""
    selection, _, level = str(variant).partition(":")
    if not level:
        selection, level = (("full", "none") if variant == "no_instructions" else ("full", variant)
                            if variant in LEVELS else (variant, "detailed"))
    if selection not in SELECTIONS or level not in LEVELS:
        raise ValueError(f"variant must be a selection ({', '.join(SELECTIONS)}), 'no_instructions', a level "
                         f"({', '.join(LEVELS)}) or '<selection>:<level>', got {variant!r}")
    return selection, level


def canonical_variant(variant: str) -> str:
    """The one name of a variant ("detailed" and "full:detailed" are "full"; "none" is "no_instructions")."""
    selection, level = parse_variant(variant)
    if level == "detailed":
        return selection
    if selection == "full":
        return "no_instructions" if level == "none" else level
    return f"{selection}:{level}"


def in_selection(name: str, selection: str) -> bool:
    """Whether a selection keeps the dataset `name` ("superni" for the super-NI tasks)."""
    if selection == "no_superni":
        return name != "superni"
    if selection == "symmetric_only":
        return name in SYMMETRIC
    if selection == "asymmetric_only":
        return name not in SYMMETRIC
    return True
