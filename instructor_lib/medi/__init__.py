"""MEDI: the instruction-annotated training mixture. Readers of the sources (sources.py), pair mining (pairs.py),
variants (variants.py), caps and seeded sampling (sampling.py), the leakage guard (leakage.py) and the build
driver (build.py); the record format itself is `instructor_lib.records`. `embed_cached` and `mine_negatives` are
the miner that `instructor_lib.finetuning` reuses on a user's pairs."""
from ..records import load_medi, validate_record, write_medi
from .build import MediResult, build_medi
from .leakage import eval_overlap
from .pairs import embed_cached, mine_negatives
from .sampling import table5_superni_share
from .variants import VARIANTS, canonical_variant, parse_variant

__all__ = ["VARIANTS", "MediResult", "build_medi", "canonical_variant", "embed_cached", "eval_overlap", "load_medi",
           "mine_negatives", "parse_variant", "table5_superni_share", "validate_record", "write_medi"]
