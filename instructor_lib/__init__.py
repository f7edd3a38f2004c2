"""instructor_lib: a faithful, fast re-implementation of INSTRUCTOR instruction-finetuned text embeddings.

The public surface: `Instructor` (the embedder), `INSTRUCTOR` (the official package's interface on it, see
`instructor_lib.compat`), `instructor_loss`, `build_medi`, `load_medi`, `train` (from `instructor_lib.training`),
`evaluate` and `finetune` (on your own data, `instructor_lib.finetuning`). The heavier entry points are imported on first use, so `import instructor_lib` stays quick.
"""
from .loss import instructor_loss
from .model import Instructor

_LAZY = {"INSTRUCTOR": "instructor_lib.compat", "build_medi": "instructor_lib.medi", "load_medi": "instructor_lib.records",
         "train": "instructor_lib.training", "evaluate": "instructor_lib.evaluation", "finetune": "instructor_lib.finetuning"}

__all__ = ["Instructor", "instructor_loss", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'instructor_lib' has no attribute {name!r}")
