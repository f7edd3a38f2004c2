"""MEDI: the instruction-annotated training mixture (readers of the sources, pair mining, the builder); the
record format itself is `instructor_lib.records`."""
from ..records import load_medi, validate_record, write_medi
from .build import VARIANTS, MediResult, build_medi, eval_overlap

__all__ = ["VARIANTS", "MediResult", "build_medi", "eval_overlap", "load_medi", "validate_record", "write_medi"]
