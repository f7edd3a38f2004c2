"""What defines a training run: `TrainConfig` (its fields, their checks, its hash) and the presets' configs.

Every field is checked when the config is built, so a wrong value fails before any model or data is read.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch

from .. import presets
from ..loss import LOSSES, PAPER_TEMPERATURE
from ..precision import check_precision, resolve_precision
from ..provenance import sha256_json

# Real-valued fields: (lowest, whether the lowest itself is allowed, highest or None, whether None is allowed).
REAL_FIELDS = {"lr": (0.0, False, None, False), "temperature": (0.0, False, None, False),
               "warmup_ratio": (0.0, True, 1.0, False), "weight_decay": (0.0, True, None, False),
               "max_grad_norm": (0.0, False, None, True), "dropout": (0.0, True, 1.0, True)}


@dataclass
class TrainConfig:
    """Everything that defines a training run (its hash identifies the run for resuming).

    Args:
        name: run name; the default run directory is `runs/<name>` at the project root.
        model: the starting model: None for the default backbone (all-MiniLM-L6-v2), else a folder or hub id
            for `Instructor.from_pretrained`; or only a label recording the model object passed to
            `train(config, model=...)` (the smoke preset's "tiny-bert": a random test model of `instructor_lib.tiny`).
        data: a MEDI json file (read with `instructor_lib.records.load_medi`) when `train` gets no records.
        steps: optimizer steps.
        batch_size: global batch (all ranks together) of training records, each one query, positive, negative.
        chunk_size: texts per encoder pass, grouped by token length so that each pass pads little; None embeds
            the 3 x batch texts in one pass.
        gradient_caching: re-embed each chunk in backward (GradCache) so that only one chunk's activations are
            held: for batches that do not fit memory; costs a second forward per text. Same loss and gradients.
        lr, warmup_ratio, weight_decay, max_grad_norm: AdamW with linear warm-up then linear decay to 0;
            gradient norm clipping as in the HF Trainer the original used (None disables it).
        loss: "instructor" (the paper's) or "all_candidates" (sentence-transformers MNRL, for ablations).
        temperature: similarities are divided by it (paper 0.01).
        precision: "auto" (bfloat16 autocast only where this machine runs bf16 faster, see
            `instructor_lib.precision`), "float32" or "bfloat16" (the loss stays float32). fp16 is not offered.
        gradient_checkpointing: recompute encoder activations in backward (less memory, ~30% slower).
        dropout: override every dropout probability of the encoder (None keeps the checkpoint's).
        max_seq_length: truncation of instruction + text (None keeps the model's).
        seed: dropout and batch order (and the init of a random starting model, built by whoever passes it).
        checkpoint_every: write a resumable checkpoint every this many steps (and at the end).
    """
    name: str = "cpu"
    model: str | None = None
    data: str | None = None
    steps: int = 30
    batch_size: int = 64
    chunk_size: int | None = 64
    gradient_caching: bool = False
    lr: float = 2e-5
    warmup_ratio: float = 0.1
    weight_decay: float = 0.0
    max_grad_norm: float | None = 1.0
    loss: str = "instructor"
    temperature: float = PAPER_TEMPERATURE
    precision: str = "auto"
    gradient_checkpointing: bool = False
    dropout: float | None = None
    max_seq_length: int | None = 128
    seed: int = 42
    checkpoint_every: int = 10

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {self.loss!r}")
        for field in ("steps", "batch_size", "checkpoint_every"):
            if not isinstance(getattr(self, field), int) or getattr(self, field) < 1:
                raise ValueError(f"{field} must be a positive integer, got {getattr(self, field)!r}")
        if self.chunk_size is not None and self.chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer or None, got {self.chunk_size!r}")
        _check_fields(self)
        check_precision(self.precision)

    def resolved_precision(self) -> str:
        """The precision this machine trains the config in ("auto" resolved for the default device)."""
        return resolve_precision(self.precision, "cuda" if torch.cuda.is_available() else "cpu")

    def hash(self) -> str:
        """sha256 of the fields that change the result; the data is identified by its own hash instead."""
        ignored = ("name", "checkpoint_every", "data")
        fields = {k: v for k, v in dataclasses.asdict(self).items() if k not in ignored}
        fields["precision"] = self.resolved_precision()  # "auto" trains differently on different machines
        return sha256_json(fields)


def _check_fields(config: TrainConfig) -> None:
    """Types and ranges of the fields not checked in `__post_init__`: a wrong value fails here, before any work."""
    for field, (low, low_allowed, high, optional) in REAL_FIELDS.items():
        value = getattr(config, field)
        if value is None and optional:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or value < low or (value == low and not low_allowed) or (high is not None and value > high):
            bounds = f"{'>=' if low_allowed else '>'} {low}" + (f" and <= {high}" if high is not None else "")
            raise ValueError(f"{field} must be a number {bounds}{' or None' if optional else ''}, got {value!r}")
    for field in ("chunk_size", "max_seq_length"):
        value = getattr(config, field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"{field} must be a positive integer or None, got {value!r}")
    if config.max_seq_length is not None and config.max_seq_length < 8:
        raise ValueError(f"max_seq_length must be at least 8 tokens (instruction + text), got {config.max_seq_length}")
    if isinstance(config.seed, bool) or not isinstance(config.seed, int):
        raise ValueError(f"seed must be an integer, got {config.seed!r}")
    for field in ("gradient_caching", "gradient_checkpointing"):
        if not isinstance(getattr(config, field), bool):
            raise ValueError(f"{field} must be true or false, got {getattr(config, field)!r}")
    for field in ("name", "model", "data"):
        value = getattr(config, field)
        if not (value is None and field != "name") and not (isinstance(value, str) and value):
            raise ValueError(f"{field} must be a non-empty string{'' if field == 'name' else ' or None'}, got {value!r}")


def preset(name: str, /, **overrides) -> TrainConfig:
    """The training config of a preset (`smoke`, `cpu`, `paper`: `instructor_lib.presets`), some fields replaced."""
    return TrainConfig(**{**presets.preset(name).train.config_fields(), **overrides})
