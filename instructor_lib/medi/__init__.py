"""MEDI: the instruction-annotated training mixture (readers of the sources, pair mining, the builder); the
record format itself is `instructor_lib.records`."""
from ..records import load_medi, validate_record, write_medi
from .build import VARIANTS, MediResult, build_medi, canonical_variant, eval_overlap, parse_variant

__all__ = ["VARIANTS", "MediResult", "build_medi", "canonical_variant", "eval_overlap", "parse_variant", "load_medi", "validate_record", "write_medi"]
