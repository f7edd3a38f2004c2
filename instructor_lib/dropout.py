"""Dropout for CPU training with a cheaper mask: 16 random bits per element instead of a double.

torch's CPU `bernoulli_` draws a double (two 32-bit Mersenne Twister outputs) per element, serially: on a 2-core
CPU the attention-probability masks alone took 12% of a MiniLM training step (benchmarks/train_speed.py). Here each
64-bit draw of the same generator (so `torch.manual_seed` and `torch.get_rng_state` still govern it) gives four
16-bit uniforms; an element is dropped when its uniform falls below `round(p * 65536)`, i.e. with probability
`p` rounded to a multiple of 1/65536 (0.1 -> 0.1000061). The mask stream differs from torch's own dropout, so the
same seed trains a different (equally valid) model; losses and gradients are otherwise those of `F.dropout`.

`cpu_dropout()` routes every dropout of a forward pass to it: `torch.nn.functional.dropout` (nn.Dropout modules
and functional calls, e.g. T5's attention) and `scaled_dot_product_attention` with `dropout_p > 0` (transformers'
"sdpa" attention; on CPU it runs the same unfused maths: scores, softmax, dropout, weighted values).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

LEVELS = 1 << 16  # uniforms per draw: 16 bits


def drop_mask(shape: torch.Size | tuple[int, ...], p: float) -> torch.Tensor:
    """A boolean mask of `shape`, each element True (dropped) with probability round(p * 2^16) / 2^16."""
    numel = math.prod(shape)
    words = torch.empty((numel + 3) // 4, dtype=torch.int64).random_(-(1 << 63), None)  # the full 64-bit range
    uniforms = words.view(torch.int16)[:numel].view(shape)  # four uniform 16-bit integers per word
    return uniforms < -(LEVELS // 2) + round(p * LEVELS)


class _Masked(torch.autograd.Function):
    """`x * scale` with the `drop` elements zeroed, and the same for the gradient; saves the boolean mask only,
    like torch's dropout. (`where` with a scalar is 3x faster on CPU than multiplying by a boolean mask.)"""

    @staticmethod
    def forward(ctx, x: torch.Tensor, drop: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.save_for_backward(drop)
        ctx.scale = scale
        return torch.where(drop, 0.0, x * scale)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (drop,) = ctx.saved_tensors
        return torch.where(drop, 0.0, grad * ctx.scale), None, None


def dropout(x: torch.Tensor, p: float) -> torch.Tensor:
    """Inverted dropout of `x` in training: elements dropped with probability `p`, the others scaled by 1/(1-p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    return _Masked.apply(x, drop_mask(x.shape, p), 1.0 / (1.0 - p))


def attention(query, key, value, attn_mask=None, dropout_p: float = 0.0, scale: float | None = None) -> torch.Tensor:
    """`scaled_dot_product_attention` (no causal mask, no grouped heads) with this module's dropout."""
    scale = query.shape[-1] ** -0.5 if scale is None else scale
    scores = (query @ key.transpose(-2, -1)).mul_(scale)
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:  # True: attend. Made additive while small (it broadcasts over heads)
            blocked = torch.finfo(scores.dtype).min
            attn_mask = torch.zeros(attn_mask.shape, dtype=scores.dtype).masked_fill_(~attn_mask, blocked)
        scores = scores.add_(attn_mask)
    return dropout(scores.softmax(-1), dropout_p) @ value


class cpu_dropout(TorchFunctionMode):
    """Within `with cpu_dropout():`, dropout of CPU tensors in training uses `dropout` above (other devices,
    causal or grouped-head attention: torch's own)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is F.dropout:
            x, p, training, inplace = _bind(args, kwargs, ("input", "p", "training", "inplace"), (None, 0.5, True, False))
            if training and x.device.type == "cpu":
                out = dropout(x, p)
                return x.copy_(out) if inplace else out
        elif func is F.scaled_dot_product_attention:
            names = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa")
            q, k, v, mask, p, causal, scale, gqa = _bind(args, kwargs, names, (None,) * 3 + (None, 0.0, False, None, False))
            if p > 0 and not causal and not gqa and q.device.type == "cpu":
                return attention(q, k, v, mask, p, scale)
        return func(*args, **kwargs)


def _bind(args, kwargs, names, defaults):
    """The values of `names` from positional `args` and `kwargs`, `defaults` for the missing ones."""
    values = dict(zip(names, defaults))
    values.update(zip(names, args))
    values.update(kwargs)
    return [values[name] for name in names]
