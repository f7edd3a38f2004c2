"""The model folder format of `Instructor.from_pretrained` / `save_pretrained`: sentence-transformers folders
(`modules.json`: Transformer, Pooling(mean), [Dense], [Normalize]) and plain Hugging Face encoder folders.

Kept apart from `model.py` so the embedder reads as pooling and encoding: this module finds the folder a name
stands for (the checked offline copy, or a hub download), reads its parts, and writes them with a model card.
It holds no `Instructor`: `model.py` assembles one from the `FolderParts` read here.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import torch

from .files import atomic_write_json, read_json
from .weights import DEFAULT_BACKBONE, backbone_path, offline_backbone

T5_FAMILY = ("t5", "mt5", "umt5")
# A tokenizer folder holds its vocabulary in one of these (fast tokenizers: tokenizer.json).
TOKENIZER_VOCAB_FILES = ("tokenizer.json", "vocab.txt", "spiece.model", "sentencepiece.bpe.model", "vocab.json",
                         "tokenizer.model")
REPAIR_MODEL = "the folder is damaged or incomplete: save or download the model again"
# The JSON files of an encoder folder, checked before transformers reads them.
JSON_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
ST_CONFIG = "config_sentence_transformers.json"
# Our key in ST_CONFIG for pooling "all" (written only then; absent: "text"). The Pooling module's include_prompt
# says the same to sentence-transformers, but folders that sentence-transformers saved set include_prompt=True
# without meaning it for INSTRUCTOR, so only this key, which only instructor_lib writes, changes our pooling.
POOLING_KEY = "instructor_pooling"


@dataclass
class FolderParts:
    """What a model folder holds: the encoder and tokenizer, the Dense layer's config.json and weights (None
    without one), whether a Normalize module ends it, and the saved truncation length (None: the model's own)."""
    encoder: torch.nn.Module | None
    tokenizer: object
    dense: tuple[dict, dict[str, torch.Tensor]] | None = None
    normalize: bool = True
    max_seq_length: int | None = None
    pooling: str = "text"


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
    return download(str(name_or_path), revision)


def download(repo_id: str, revision: str | None, *, cache_dir: str | None = None, token: str | bool | None = None,
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


@contextlib.contextmanager
def quiet_transformers():
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


# -------------------------------------------------------------------------------------------------- reading
def read_folder(path: Path, trust_remote_code: bool, allow_pytorch_bin: bool) -> FolderParts:
    """The parts of the model folder `path`: a sentence-transformers folder's modules, or a plain encoder folder
    (then mean pooling and normalisation). Weights are read from safetensors unless `allow_pytorch_bin`."""
    modules_file = path / "modules.json"
    if not modules_file.exists():
        return FolderParts(*_load_encoder(path, trust_remote_code, allow_pytorch_bin))
    parts = FolderParts(None, None, normalize=False)
    for module in read_json(modules_file, REPAIR_MODEL):
        kind, folder = module["type"].rsplit(".", 1)[-1], path / module["path"]
        if kind in ("Transformer", "INSTRUCTOR_Transformer"):
            parts.encoder, parts.tokenizer = _load_encoder(folder, trust_remote_code, allow_pytorch_bin)
            st_config = folder / "sentence_bert_config.json"
            parts.max_seq_length = read_json(st_config, REPAIR_MODEL).get("max_seq_length") if st_config.exists() else None
        elif kind in ("Pooling", "INSTRUCTOR_Pooling"):
            _check_mean_pooling(folder / "config.json")
        elif kind == "Dense":
            parts.dense = _read_dense(folder, allow_pytorch_bin)
        elif kind == "Normalize":
            parts.normalize = True
        else:
            raise ValueError(f"{modules_file}: module {module['type']!r} is not supported (Transformer, Pooling(mean), Dense, Normalize)")
    if parts.encoder is None:
        raise ValueError(f"{modules_file} has no Transformer module")
    if (path / ST_CONFIG).exists():
        parts.pooling = read_json(path / ST_CONFIG, REPAIR_MODEL).get(POOLING_KEY, "text")
        if parts.pooling not in ("text", "all"):
            raise ValueError(f"{path / ST_CONFIG}: {POOLING_KEY} must be 'text' or 'all', got {parts.pooling!r}; {REPAIR_MODEL}")
    return parts


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
    for name in JSON_FILES:  # transformers' readers name no file (or give no advice) when one is damaged
        if (path / name).exists():
            read_json(path / name, REPAIR_MODEL)
    config = AutoConfig.from_pretrained(path, trust_remote_code=trust_remote_code)
    check_vocabulary_size(path, config.vocab_size)
    model_class = T5EncoderModel if config.model_type in T5_FAMILY else AutoModel
    with _naming_damaged_weights(path):
        encoder = model_class.from_pretrained(path, config=config, use_safetensors=has_safetensors,
                                              trust_remote_code=trust_remote_code)
    with _naming_damaged_tokenizer(path):
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    return encoder, tokenizer


def check_vocabulary_size(folder: Path, vocab_size: int) -> None:
    """A WordPiece vocabulary (`vocab.txt`) holds one token per embedding row: a truncated or padded file would
    tokenize without error into the wrong rows, so a count that differs from config.json's `vocab_size` is an error."""
    vocab = folder / "vocab.txt"
    if vocab.exists():
        count = len(vocab.read_text(encoding="utf-8", errors="replace").splitlines())
        if count != vocab_size:
            raise OSError(f"{vocab} holds {count} tokens but {folder / 'config.json'} says vocab_size {vocab_size}; "
                          f"{REPAIR_MODEL}")


@contextlib.contextmanager
def _naming_damaged_tokenizer(folder: Path):
    """The tokenizer reader's errors on a damaged vocabulary (which name no file) as an OSError naming the files."""
    try:
        yield
    except Exception as err:  # the tokenizers library raises plain Exceptions
        files = [folder / name for name in (*JSON_FILES[1:], *TOKENIZER_VOCAB_FILES) if (folder / name).exists()]
        listed = ", ".join(str(file) for file in dict.fromkeys(files))
        raise OSError(f"the tokenizer files {listed} cannot be read ({type(err).__name__}: {err}); {REPAIR_MODEL}") from err


@contextlib.contextmanager
def _naming_damaged_weights(folder: Path):
    """Turn the weight reader's errors (which name no file) into an OSError naming the folder and the fix."""
    from safetensors import SafetensorError

    try:
        yield
    except (SafetensorError, EOFError, RuntimeError) as err:
        files = ", ".join(str(file) for file in sorted(folder.glob("*.safetensors"))) or f"the weights in {folder}"
        raise OSError(f"{files} cannot be read ({type(err).__name__}: {err}); {REPAIR_MODEL}") from err


def _read_dense(path: Path, allow_pytorch_bin: bool) -> tuple[dict, dict[str, torch.Tensor]]:
    """A Dense module folder's config.json and weights."""
    config = read_json(path / "config.json", REPAIR_MODEL)
    if (path / "model.safetensors").exists():
        from safetensors.torch import load_file

        with _naming_damaged_weights(path):
            return config, load_file(path / "model.safetensors")
    if allow_pytorch_bin and (path / "pytorch_model.bin").exists():
        return config, torch.load(path / "pytorch_model.bin", map_location="cpu", weights_only=True)
    raise FileNotFoundError(f"{path} has no model.safetensors (pytorch_model.bin needs allow_pytorch_bin=True)")


def _check_mean_pooling(config_path: Path) -> None:
    config = read_json(config_path, REPAIR_MODEL) if config_path.exists() else {}
    mode = config.get("pooling_mode", "mean" if config.get("pooling_mode_mean_tokens", True) else None)
    if mode not in ("mean", ["mean"], ("mean",)):
        raise ValueError(f"{config_path}: only mean pooling is supported by INSTRUCTOR, found {config}")


# -------------------------------------------------------------------------------------------------- writing
def write_folder(directory: Path, encoder, tokenizer, dense, normalize: bool, max_seq_length: int,
                 instructions: dict[str, str], card: str, pooling: str = "text") -> Path:
    """Write a sentence-transformers folder: Transformer, Pooling(mean, include_prompt=False, or True for
    `pooling` "all"), [Dense], [Normalize], the `instructions` as prompts, and the model card `card` as README.md."""
    directory.mkdir(parents=True, exist_ok=True)
    with quiet_transformers():
        encoder.save_pretrained(directory)
        tokenizer.save_pretrained(directory)
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    atomic_write_json(directory / "sentence_bert_config.json", {"max_seq_length": max_seq_length, "do_lower_case": False})
    atomic_write_json(directory / "1_Pooling" / "config.json", {
        "word_embedding_dimension": encoder.config.hidden_size, "pooling_mode_mean_tokens": True,
        "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False, "include_prompt": pooling == "all"})
    if dense is not None:
        from safetensors.torch import save_file

        modules.append({"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"})
        atomic_write_json(directory / "2_Dense" / "config.json", dense.config)
        save_file({k: v.detach().cpu().contiguous() for k, v in dense.state_dict().items()},
                  directory / "2_Dense" / "model.safetensors")
    if normalize:
        modules.append({"idx": len(modules), "name": str(len(modules)), "path": f"{len(modules)}_Normalize",
                        "type": "sentence_transformers.models.Normalize"})
        (directory / modules[-1]["path"]).mkdir(exist_ok=True)
    atomic_write_json(directory / "modules.json", modules)
    atomic_write_json(directory / ST_CONFIG, {
        "prompts": dict(instructions), "default_prompt_name": None, "similarity_fn_name": "cosine",
        **({POOLING_KEY: pooling} if pooling != "text" else {})})
    (directory / "README.md").write_text(card)
    return directory


def model_card(name_or_path: str | None, embedding_dim: int, max_seq_length: int, instructions: dict[str, str],
               extra: str, pooling: str = "text") -> str:
    """The README.md of a saved model: what it is, how to load it, and its instructions."""
    lines = ["---", "library_name: sentence-transformers", "pipeline_tag: sentence-similarity",
             "tags: [instructor, sentence-transformers, text-embeddings]", "---", "",
             "# INSTRUCTOR-style embedder", "",
             f"Base model: `{name_or_path}`. Saved by `instructor_lib`. Embedding dimension {embedding_dim}, "
             f"max sequence length {max_seq_length} (instruction tokens included).", "",
             "The input is `instruction + text.strip()`; the embedding is the mean over the text tokens only "
             "(Pooling `include_prompt=False`), then Dense if present, then L2 normalisation." if pooling == "text" else
             "The input is `instruction + text.strip()`; the embedding is the mean over every token, the "
             "instruction's included (Pooling `include_prompt=True`), then Dense if present, then L2 normalisation.", "",
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
