"""The official `InstructorEmbedding.INSTRUCTOR` interface on `Instructor`, for code written against that package.

The official package (1.0.1, its last release) breaks with sentence-transformers >= 2.3, and so do the
integrations built on it (LangChain's `HuggingFaceInstructEmbeddings`, llama-index's `InstructorEmbedding`).
`INSTRUCTOR` here takes the same constructor and `encode` arguments and returns the same embeddings (it runs
`Instructor.encode`, which pools as the official code does), and `install()` makes
`from InstructorEmbedding import INSTRUCTOR` resolve to it, so those integrations run unmodified:

    import instructor_lib.compat
    instructor_lib.compat.install()
    from langchain_community.embeddings import HuggingFaceInstructEmbeddings
    embedder = HuggingFaceInstructEmbeddings(model_name="hkunlp/instructor-large")

Where it differs from the official 1.0.1 code (each difference is an input the official code rejects or a
setting it ignores):
- `model_name_or_path=None` loads the offline default backbone (all-MiniLM-L6-v2), not an empty model;
- an empty list returns an empty (0, dim) array (the official code raises IndexError);
- `(instruction, text)` tuples are accepted like lists (the official code raises "not support other modes");
- `max_seq_length` is the checkpoint's `sentence_bert_config.json` value (1.0.1 overwrites it with 512 on
  load; the official instructor checkpoints say 512 themselves);
- only `output_value="sentence_embedding"` is supported (token embeddings raise a ValueError);
- `.bin` weights are read with `torch.load(weights_only=True)`.
Plain strings (not pairs) are embedded without an instruction, plain mean pooling over all tokens, exactly as
the official code does.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import sys
import types
from pathlib import Path

import torch

from .model import Instructor
from .model_folder import download

OFFICIAL_MODULE = "InstructorEmbedding"
# Constructor keywords of the official class (a SentenceTransformer) that change nothing here.
IGNORED_KWARGS = ("local_files_only", "prompts", "default_prompt_name", "similarity_fn_name", "model_kwargs",
                  "tokenizer_kwargs", "config_kwargs", "model_card_data", "backend", "truncate_dim")
logger = logging.getLogger(__name__)


class INSTRUCTOR:
    """The official `INSTRUCTOR(model_name_or_path, device, cache_folder, ...)` on an `Instructor`.

    Args:
        model_name_or_path: a local model folder, a hub id (downloaded into `cache_folder`), or None for the
            offline default backbone.
        device: where to run ("cpu", "cuda", ...); default: where the model loads (CPU).
        cache_folder: hub download cache (huggingface_hub's default when None).
        token / use_auth_token: hub token for a gated or private model (`use_auth_token` is the old name).
        revision, trust_remote_code: passed to the loader. `allow_pytorch_bin` (default True, as the official
            package reads `pytorch_model.bin`): read `.bin` weights with `torch.load(weights_only=True)`.
        Other keywords of sentence-transformers' constructor (`IGNORED_KWARGS`) are accepted and logged as
        ignored; `modules=` cannot be honoured and raises; unknown keywords raise TypeError.
    """

    def __init__(self, model_name_or_path: str | Path | None = None, device: str | None = None,
                 cache_folder: str | None = None, **kwargs):
        token = kwargs.pop("token", None)
        use_auth_token = kwargs.pop("use_auth_token", None)
        revision = kwargs.pop("revision", None)
        trust_remote_code = bool(kwargs.pop("trust_remote_code", False))
        allow_pytorch_bin = bool(kwargs.pop("allow_pytorch_bin", True))
        if kwargs.pop("modules", None) is not None:
            raise ValueError("INSTRUCTOR(modules=...) is not supported: pass a model folder or hub id")
        unknown = sorted(set(kwargs) - set(IGNORED_KWARGS))
        if unknown:
            raise TypeError(f"INSTRUCTOR() got unexpected keyword arguments {unknown}")
        if kwargs:
            logger.warning("INSTRUCTOR: ignoring %s (no counterpart in instructor_lib)", sorted(kwargs))
        path = model_name_or_path
        if path is not None and not Path(path).is_dir():
            path = download(str(path), revision, cache_dir=cache_folder, token=token if token is not None else use_auth_token,
                            pytorch_bin=allow_pytorch_bin)
        self.model = Instructor.from_pretrained(path, device=device, revision=revision, trust_remote_code=trust_remote_code,
                                                allow_pytorch_bin=allow_pytorch_bin)
        if model_name_or_path is not None:
            self.model.name_or_path = str(model_name_or_path)

    @property
    def max_seq_length(self) -> int:
        """Truncation length of instruction + text together (settable)."""
        return self.model.max_seq_length

    @max_seq_length.setter
    def max_seq_length(self, value: int) -> None:
        if not isinstance(value, int) or value < 2:
            raise ValueError(f"max_seq_length must be an integer >= 2, got {value!r}")
        self.model.max_seq_length = value

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def tokenizer(self):
        return self.model.tokenizer

    def to(self, device) -> "INSTRUCTOR":
        self.model.to(device)
        return self

    def get_sentence_embedding_dimension(self) -> int:
        return self.model.embedding_dim

    def get_max_seq_length(self) -> int:
        return self.model.max_seq_length

    def encode(self, sentences, batch_size: int = 32, show_progress_bar: bool | None = None,
               output_value: str = "sentence_embedding", convert_to_numpy: bool = True, convert_to_tensor: bool = False,
               device: str | None = None, normalize_embeddings: bool = False):
        """Embed `[instruction, text]` pairs (or plain strings, embedded without instruction), as the official code.

        Returns a float32 numpy array (N, dim) by default; a stacked tensor with `convert_to_tensor=True`
        (it overrides `convert_to_numpy`); a list of tensors with both off; one vector for a single string.
        The output is L2-normalised when the checkpoint has a Normalize module (every official instructor
        model does), whatever `normalize_embeddings` says; `normalize_embeddings=True` normalises the others.
        """
        if output_value != "sentence_embedding":
            raise ValueError(f"output_value={output_value!r} is not supported; only 'sentence_embedding' is")
        single = isinstance(sentences, str) or not hasattr(sentences, "__len__")
        items = [sentences] if single else list(sentences)
        if not items:
            empty = torch.zeros((0, self.model.embedding_dim))
            return empty if convert_to_tensor else empty.numpy() if convert_to_numpy else []
        embeddings = self.model.encode(items, batch_size=batch_size, show_progress_bar=bool(show_progress_bar),
                                       normalize_embeddings=normalize_embeddings, convert_to_numpy=convert_to_numpy,
                                       convert_to_tensor=convert_to_tensor, device=device)
        return embeddings[0] if single else embeddings


def install(replace_official: bool = False) -> types.ModuleType:
    """Make `from InstructorEmbedding import INSTRUCTOR` give `instructor_lib.compat.INSTRUCTOR`.

    Does nothing (and says so in the log) when the official package is installed, unless
    `replace_official=True`; returns the module that `import InstructorEmbedding` now gives. Call it before
    the integration imports `InstructorEmbedding` (LangChain and llama-index import it when the embedder is built).
    """
    current = sys.modules.get(OFFICIAL_MODULE)
    if current is not None and getattr(current, "INSTRUCTOR", None) is INSTRUCTOR:
        return current
    if not replace_official and (current is not None or importlib.util.find_spec(OFFICIAL_MODULE) is not None):
        logger.warning("the official %s package is installed; it is left in place (install(replace_official=True) "
                       "replaces it)", OFFICIAL_MODULE)
        return current or importlib.import_module(OFFICIAL_MODULE)
    shim = types.ModuleType(OFFICIAL_MODULE, "instructor_lib's stand-in for the official InstructorEmbedding package")
    shim.__spec__ = importlib.machinery.ModuleSpec(OFFICIAL_MODULE, None)
    shim.INSTRUCTOR = INSTRUCTOR
    shim.__all__ = ["INSTRUCTOR"]
    sys.modules[OFFICIAL_MODULE] = shim
    sys.modules[f"{OFFICIAL_MODULE}.instructor"] = shim  # `from InstructorEmbedding.instructor import INSTRUCTOR`
    return shim
