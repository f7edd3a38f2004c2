"""Which floating-point precision to compute in: `resolve_precision("auto")` follows the hardware.

bfloat16 halves memory traffic and, where the hardware has native bf16 matrix units (recent GPUs; CPUs with
AMX), runs matmuls several times faster than float32. Elsewhere (AVX2-only x86: older Intel, many AMD) it is
emulated and a bf16 matmul is ~100x *slower*. CPU flags do not tell reliably (AMX can be hidden from
/proc/cpuinfo in a VM), so on CPU the choice is made by timing one short matmul in both precisions, once per
process. The override `INSTRUCTOR_PRECISION=float32|bfloat16` forces either path wherever "auto" is asked.
"""
from __future__ import annotations

import functools
import os
import time

import torch

PRECISIONS = ("float32", "bfloat16")
CHOICES = ("auto", *PRECISIONS)
ENV_VAR = "INSTRUCTOR_PRECISION"
# bf16 is chosen only when its matmul beats float32 by this factor: AMX measures 2-10x, emulation ~0.01x.
MIN_SPEEDUP = 1.25
PROBE_SHAPE = (256, 384, 384)  # (m, k, n): one attention projection of a MiniLM batch, fits in cache


def check_precision(precision: str, what: str = "precision") -> str:
    if precision not in CHOICES:
        raise ValueError(f"{what} must be one of {CHOICES}, got {precision!r}")
    return precision


def matmul_seconds(dtype: torch.dtype, shape: tuple[int, int, int] = PROBE_SHAPE, min_seconds: float = 0.01,
                   trials: int = 3) -> float:
    """Best time of one (m, k) @ (k, n) matmul in `dtype` on CPU, repeated until each trial lasts `min_seconds`."""
    m, k, n = shape
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(m, k, generator=generator).to(dtype)
    b = torch.randn(k, n, generator=generator).to(dtype)
    torch.mm(a, b)  # warm-up: first call allocates and picks kernels
    best = float("inf")
    for _ in range(trials):
        repeats, started = 0, time.perf_counter()
        while True:
            torch.mm(a, b)
            repeats += 1
            elapsed = time.perf_counter() - started
            if elapsed >= min_seconds:
                break
        best = min(best, elapsed / repeats)
    return best


@functools.lru_cache(maxsize=None)
def cpu_bf16_speedup() -> float:
    """How many times faster a bfloat16 matmul runs than a float32 one on this CPU (measured once per process)."""
    return matmul_seconds(torch.float32) / matmul_seconds(torch.bfloat16)


def _device_type(device) -> str:
    if device is None:
        return "cpu"
    return torch.device(device).type


def resolve_precision(precision: str = "auto", device: str | torch.device | None = None) -> str:
    """"float32" or "bfloat16" for `precision` on `device` (CPU when None).

    An explicit precision is returned as is. "auto" takes `$INSTRUCTOR_PRECISION` when it is set, else
    bfloat16 on a CUDA device with bf16 support or on a CPU whose measured bf16 matmul is at least
    `MIN_SPEEDUP` times faster than float32, else float32.
    """
    check_precision(precision)
    if precision != "auto":
        return precision
    forced = os.environ.get(ENV_VAR, "").strip()
    if forced and check_precision(forced, f"${ENV_VAR}") != "auto":
        return forced
    kind = _device_type(device)
    if kind == "cuda":
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
    if kind == "cpu":
        return "bfloat16" if cpu_bf16_speedup() >= MIN_SPEEDUP else "float32"
    return "float32"


def precision_record(precision: str = "auto", device: str | torch.device | None = None) -> dict:
    """What was asked, what it resolved to and why: stored beside every result."""
    resolved = resolve_precision(precision, device)
    if precision != "auto":
        reason = "requested"
    elif os.environ.get(ENV_VAR, "").strip() not in ("", "auto"):
        reason = f"forced by ${ENV_VAR}"
    elif _device_type(device) == "cpu":
        reason = f"measured: a bf16 matmul runs {cpu_bf16_speedup():.3g}x float32 (bf16 from {MIN_SPEEDUP}x)"
    else:
        reason = f"{_device_type(device)} device"
    return {"requested": precision, "resolved": resolved, "reason": reason}
