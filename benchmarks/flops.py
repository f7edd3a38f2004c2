"""FLOP counting for a transformer encoder and the machine's measured GEMM peak, shared by the benchmarks.

Counted: the matmuls of every layer on the padded shapes the hardware runs, i.e. per layer for a batch of B
texts padded to L tokens, hidden size d, feed-forward size f:
    projections q, k, v, o: 4 * 2*B*L*d*d;  feed-forward: 2 * 2*B*L*d*f;  attention q.k and p.v: 2 * 2*B*L*L*d.
A backward pass costs twice its forward. Layer norms, softmax, GELU and dropout are not counted (they are
memory-bound and small in FLOPs), so the fraction of peak is a lower bound on how busy the matmul units are.
"""
from __future__ import annotations

import torch

from instructor_lib.precision import matmul_seconds

# square matmuls for the peak: native kernels are fastest on the largest; emulated bf16 can be fastest on a small one
PEAK_SIZES = (256, 512, 1024)


def encoder_shape(model) -> tuple[int, int, int]:
    """(layers, hidden size, feed-forward size) of an Instructor's encoder (BERT/MPNet or T5 configs)."""
    config = model.encoder.config
    layers = getattr(config, "num_hidden_layers", None) or config.num_layers
    hidden = getattr(config, "hidden_size", None) or config.d_model
    ffn = getattr(config, "intermediate_size", None) or config.d_ff
    return layers, hidden, ffn


def forward_flops(model, batch: int, length: int) -> float:
    """Matmul FLOPs of one encoder forward over `batch` texts padded to `length` tokens."""
    layers, d, f = encoder_shape(model)
    tokens = batch * length
    return layers * (8.0 * tokens * d * d + 4.0 * tokens * d * f + 4.0 * batch * length * length * d)


def padded_forward_flops(model, feature_batches) -> float:
    """Forward FLOPs of a list of tokenized batches (dicts with `input_ids` of shape (B, L))."""
    return sum(forward_flops(model, *features["input_ids"].shape) for features in feature_batches)


def gemm_peak(dtype: torch.dtype, sizes: tuple[int, ...] = PEAK_SIZES) -> float:
    """Measured FLOP/s of the fastest square matmul of `sizes` in `dtype` on this CPU (each the best of 3)."""
    return max(2.0 * size ** 3 / matmul_seconds(dtype, (size, size, size), min_seconds=0.3, trials=3) for size in sizes)
