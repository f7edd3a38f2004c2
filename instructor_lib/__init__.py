"""instructor_lib: a faithful, fast re-implementation of INSTRUCTOR instruction-finetuned text embeddings."""
from .model import Instructor

__all__ = ["Instructor"]
