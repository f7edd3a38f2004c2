"""A backbone cut to fewer layers (the truncation extra beside paper Fig. 6), and how deep and large a model is."""
from __future__ import annotations

import copy

from ...model import Instructor


def truncate_layers(model: Instructor, layers: int) -> Instructor:
    """A copy of `model` whose encoder keeps only its first `layers` transformer layers (BERT or T5).

    The embeddings, the kept layers and the optional Dense head keep their weights: the smaller model is the
    bottom of the larger one (paper Fig. 6 compares sizes; here one backbone is cut to several depths).
    """
    smaller = copy.deepcopy(model)
    encoder = smaller.encoder
    stack, count_field = (encoder.encoder.block, "num_layers") if hasattr(encoder.encoder, "block") \
        else (encoder.encoder.layer, "num_hidden_layers")
    if not 1 <= layers <= len(stack):
        raise ValueError(f"layers must be between 1 and {len(stack)} (the backbone's depth), got {layers}")
    del stack[layers:]
    setattr(encoder.config, count_field, layers)
    return smaller


def depth(model: Instructor) -> int:
    """Number of transformer layers of the model's encoder."""
    stack = model.encoder.encoder
    return len(stack.block if hasattr(stack, "block") else stack.layer)


def parameter_count(model: Instructor) -> int:
    """Number of parameters of the model (encoder and optional Dense head)."""
    return sum(parameter.numel() for parameter in model.parameters())
