"""MEDI: the instruction-annotated training mixture (records, readers, pair mining, builder)."""
from .build import PRESETS, VARIANTS, MediResult, build_medi, eval_overlap, load_medi, validate_record, write_medi

__all__ = ["PRESETS", "VARIANTS", "MediResult", "build_medi", "eval_overlap", "load_medi", "validate_record", "write_medi"]
