"""mteb `EncoderProtocol` around an `Instructor`: picks the instruction per task and per side.

Sides follow the original INSTRUCTOR evaluation code: retrieval and reranking queries get the "query"
instruction and documents the "document" one (mteb's `prompt_type`); every other task gets its single
"text" instruction on all inputs (both sentences of STS and pair classification). One quirk is kept:
for clustering, a text whose `instruction + text` is longer than 256 tokens is embedded without the
instruction, as the original ClusteringEvaluator did.

A task the instruction set does not hold gets an instruction generated from its mteb metadata
(`instruction_sets.generated_instruction`), logged once per task and kept in `generated_instructions`;
`strict=True` raises instead.
"""
from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..model import Instructor
from ..precision import resolve_precision
from .instruction_sets import InstructionSet, generated_instruction, generated_instructions, get_instruction_set

CLUSTERING_MAX_TOKENS = 256
logger = logging.getLogger(__name__)


def side_for(prompt_type) -> str:
    """mteb's prompt type (None, "query", "document") -> instruction side ("text", "query", "document")."""
    value = getattr(prompt_type, "value", prompt_type)
    if value in (None, "query", "document"):
        return value or "text"
    raise ValueError(f"unknown prompt_type {prompt_type!r}")


class InstructorEncoder:
    """An `Instructor` as an mteb encoder.

    Args:
        model: the embedder.
        instructions: instruction set (see `instruction_sets.get_instruction_set`).
        precision: "auto" (bfloat16 only where this machine runs it faster), "float32" or "bfloat16"; resolved
            once here and passed to `Instructor.encode`.
        batch_size: encode batch size; None uses the one mteb passes (its default is 32).
        name: model name recorded by mteb (default: the model's `name_or_path`).
        data_dir: data folder for the `paper` set's INSTRUCTIONS.json (default: `config.data_dir()`).
        strict: raise KeyError for a task the instruction set does not hold, instead of generating its instruction.
        memo: optional dict owned by the caller; when given, every embedding this encoder returns is also
            stored in it under (task name, side, text) (side as in `side_for`), so per-example statistics can
            be computed from it after mteb's run without encoding again (see `evaluation.bootstrap`).
        fingerprint: `model.fingerprint()` when the caller has just computed it (`evaluate` builds one encoder per
            task and hashes the weights once); it is still recomputed after a parameter changes.
    """

    def __init__(self, model: Instructor, instructions: InstructionSet | str | dict = "paper", *,
                 precision: str = "auto", batch_size: int | None = None, name: str | None = None,
                 data_dir=None, strict: bool = False, memo: dict | None = None, fingerprint: str | None = None):
        self.model = model
        self.instructions = get_instruction_set(instructions, data_dir)
        self.precision = resolve_precision(precision, next(model.parameters()).device)
        self.batch_size = batch_size
        self.name = name or model.name_or_path or "instructor_lib/unnamed"
        # (task, side) -> instruction actually used, recorded in the results
        self.used_instructions: dict[tuple[str, str], str] = {}
        self.strict = strict
        # (task, side) -> instruction generated from the task's metadata (the set did not hold the task)
        self.generated_instructions: dict[tuple[str, str], str] = {}
        self._fingerprint: tuple[tuple, str] | None = (self._weights_key(), fingerprint) if fingerprint else None
        self._memo = memo

    @property
    def mteb_model_meta(self):
        from mteb.models.model_meta import ModelMeta

        return ModelMeta.create_empty(overwrites={
            "name": self.name if "/" in self.name else f"local/{self.name}",
            "revision": self.fingerprint(), "embed_dim": self.model.embedding_dim,
            "max_tokens": self.model.max_seq_length, "similarity_fn_name": "cosine", "framework": ["PyTorch"],
            "use_instructions": True, "n_parameters": sum(p.numel() for p in self.model.parameters())})

    def fingerprint(self) -> str:
        """`Instructor.fingerprint()`, recomputed only after a parameter changed (mteb reads the meta often)."""
        key = self._weights_key()
        if self._fingerprint is None or self._fingerprint[0] != key:
            self._fingerprint = (key, self.model.fingerprint())
        return self._fingerprint[1]

    def _weights_key(self) -> tuple:
        """What changes when a parameter or the window changes: storage and in-place version of each parameter."""
        return tuple((p.data_ptr(), p._version) for p in self.model.parameters()) + (self.model.max_seq_length,)

    def instruction_for(self, task_metadata, prompt_type=None) -> str:
        """The instruction of a task's side: from the instruction set, else generated from the task's metadata.

        Retrieval-type tasks always have a query/document side.
        """
        side = side_for(prompt_type)
        if side == "text" and task_metadata.type in ("Retrieval", "Reranking"):
            side = "query"  # mteb encodes queries with prompt_type=query; None only comes from odd callers
        name = task_metadata.name
        if self.strict or self.instructions.has_task(name):
            return self.instructions.instruction(name, side)
        instruction = generated_instruction(task_metadata, side)
        if not any(task == name for task, _ in self.generated_instructions):
            logger.warning("%s: instruction set %r has no instruction for this task; using ones generated from its "
                           "mteb metadata (type %s, domains %s): %s", name, self.instructions.name, task_metadata.type,
                           task_metadata.domains, generated_instructions(task_metadata))
        self.generated_instructions[(name, side)] = instruction
        return instruction

    def encode(self, inputs, *, task_metadata, hf_split: str, hf_subset: str, prompt_type=None, **kwargs: Any) -> np.ndarray:
        """Embed every text of the `inputs` DataLoader with the task's instruction for this side."""
        texts = [text for batch in inputs for text in batch["text"]]
        instruction = self.instruction_for(task_metadata, prompt_type)
        self.used_instructions[(task_metadata.name, side_for(prompt_type))] = instruction
        if self.model.instruction_length(instruction) >= self.model.max_seq_length - 1:
            logger.warning("%s: the instruction alone has %d tokens, the model reads %d: the texts are truncated away "
                           "and the scores are meaningless", task_metadata.name,
                           self.model.instruction_length(instruction), self.model.max_seq_length)
        if not texts:
            return np.zeros((0, self.model.embedding_dim), dtype=np.float32)
        instructions = [instruction] * len(texts)
        if task_metadata.type == "Clustering" and instruction:
            tokenizer = self.model.tokenizer
            instructions = [instruction if len(tokenizer(instruction + text)["input_ids"]) <= CLUSTERING_MAX_TOKENS else ""
                            for text in texts]
        embeddings = self.model.encode([[inst, text] for inst, text in zip(instructions, texts)],
                                       batch_size=self.batch_size or kwargs.get("batch_size", 32),
                                       show_progress_bar=kwargs.get("show_progress_bar", False), precision=self.precision)
        if self._memo is not None:
            side = side_for(prompt_type)
            for text, embedding in zip(texts, embeddings):
                self._memo[(task_metadata.name, side, text)] = embedding
        return embeddings

    def similarity(self, embeddings1, embeddings2) -> torch.Tensor:
        a = F.normalize(torch.as_tensor(np.asarray(embeddings1), dtype=torch.float32).reshape(-1, np.shape(embeddings1)[-1]), dim=-1)
        b = F.normalize(torch.as_tensor(np.asarray(embeddings2), dtype=torch.float32).reshape(-1, np.shape(embeddings2)[-1]), dim=-1)
        return a @ b.T

    def similarity_pairwise(self, embeddings1, embeddings2) -> torch.Tensor:
        a = F.normalize(torch.as_tensor(np.asarray(embeddings1), dtype=torch.float32).reshape(-1, np.shape(embeddings1)[-1]), dim=-1)
        b = F.normalize(torch.as_tensor(np.asarray(embeddings2), dtype=torch.float32).reshape(-1, np.shape(embeddings2)[-1]), dim=-1)
        return (a * b).sum(dim=-1)
