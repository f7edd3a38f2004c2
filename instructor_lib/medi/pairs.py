"""Positive / hard-negative mining for MEDI (paper §2.3), on embeddings from a sentence encoder.

The paper embeds super-NI inputs and outputs with Sentence-T5; we use the default backbone
(all-MiniLM-L6-v2) as the stand-in miner. Embeddings are cached on disk by content hash.

- Super-NI classification tasks (few distinct outputs): for input x_i, the most similar x_j with the same
  output is the positive, the most similar x_j with a different output the hard negative.
- Other super-NI tasks: s_pos = cos(x_i, x_j) + cos(y_i, y_j) and s_neg = cos(x_i, x_j) - cos(y_i, y_j);
  the j with the highest s_pos is the positive, the j with the highest s_neg the hard negative.
- Embedding datasets: the hard negative of a (query, positive) pair is the document of the same dataset most
  similar to the query that is not the positive, not a copy of its text, and not from the same group.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..config import progress_bar
from ..files import atomic_path
from ..provenance import sha256_json

# A task is "classification" when its instances have at most this many distinct outputs (paper: "few").
MAX_CLASSES = 10
NONE = -1  # index meaning "no candidate found"


def is_classification(outputs, max_classes: int = MAX_CLASSES) -> bool:
    """True when the outputs take at most `max_classes` distinct values and at least one value repeats."""
    distinct = len(set(outputs))
    return distinct <= max_classes and distinct < len(outputs)


def _best(scores: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Per row, the column with the highest score among allowed columns (NONE when none is allowed)."""
    masked = np.where(allowed, scores, -np.inf)
    best = masked.argmax(axis=1)
    return np.where(np.isfinite(masked[np.arange(len(best)), best]), best, NONE)


def superni_pairs(input_emb: np.ndarray, output_emb: np.ndarray | None, inputs, outputs,
                  max_classes: int = MAX_CLASSES) -> tuple[np.ndarray, np.ndarray, bool]:
    """Mine a positive and a hard negative instance for every instance of one super-NI task.

    Args:
        input_emb, output_emb: L2-normalised embeddings (N, D) of the instances' inputs x and outputs y
            (output_emb is not used for a classification task and may be None there).
        inputs, outputs: the N input and output strings (outputs decide the classification rule; an
            instance whose input text equals x_i is never its own positive or negative).
        max_classes: see `is_classification`.
    Returns (positive index, negative index, classification?) with NONE where no candidate exists.
    """
    inputs, outputs = np.asarray(inputs, dtype=object), np.asarray(outputs, dtype=object)
    input_sim = input_emb @ input_emb.T
    distinct = inputs[:, None] != inputs[None, :]  # also excludes j == i
    if is_classification(list(outputs), max_classes):
        same = outputs[:, None] == outputs[None, :]
        return _best(input_sim, distinct & same), _best(input_sim, distinct & ~same), True
    output_sim = output_emb @ output_emb.T
    positive = _best(input_sim + output_sim, distinct)
    not_positive = distinct.copy()
    rows = np.flatnonzero(positive != NONE)
    not_positive[rows, positive[rows]] = False
    return positive, _best(input_sim - output_sim, not_positive), False


def mine_negatives(query_emb: np.ndarray, doc_emb: np.ndarray, docs, groups, chunk: int = 2048) -> np.ndarray:
    """Hard negative per (query_i, doc_i) pair: the most query-similar doc_j of the dataset with
    doc_j != doc_i (text) and group_j != group_i (when groups are non-empty). Returns indices into docs.

    Query i is paired with docs[i]; docs may hold more candidates than there are queries. Rows are scored
    `chunk` at a time so memory stays O(chunk * len(docs)).
    """
    docs, groups = np.asarray(docs, dtype=object), np.asarray(groups, dtype=object)
    negatives = []
    for start in range(0, len(query_emb), chunk):
        rows = slice(start, min(start + chunk, len(query_emb)))
        allowed = docs[rows, None] != docs[None, :]
        allowed &= ~((groups[rows, None] == groups[None, :]) & (groups[rows] != "")[:, None])
        negatives.append(_best(query_emb[rows] @ doc_emb.T, allowed))
    return np.concatenate(negatives) if negatives else np.zeros(0, dtype=int)


# ---------------------------------------------------------------------------------------- cached embedding
def embed_many(model, text_lists: list[list[str]], cache_dir: Path | None, precision: str = "float32",
               batch_size: int = 64, fingerprint: str | None = None,
               show_progress_bar: bool | None = None) -> list[np.ndarray]:
    """Normalised embeddings (no instruction) of each list of texts, cached in `cache_dir` per list.

    A list's cache key hashes the miner (`fingerprint`, computed when not given), the precision and its
    texts, so a changed model, setting or text never reuses a stale file. Each missing list is embedded in
    its own `encode` call: in bfloat16 a text's embedding moves slightly with the texts it is batched with,
    so embedding several lists together would make the mined pairs depend on which lists the cache held.
    """

    fingerprint = fingerprint or model.fingerprint()
    results = []
    for texts in progress_bar(text_lists, desc="embed", disable=not show_progress_bar):
        path = _cache_path(cache_dir, fingerprint, precision, texts)
        cached = _read_cached(path) if texts and path is not None and path.exists() else None
        if not texts:
            cached = np.zeros((0, model.embedding_dim), dtype=np.float32)
        elif cached is None or cached.shape != (len(texts), model.embedding_dim):
            distinct = list(dict.fromkeys(texts))
            embeddings = model.encode(distinct, batch_size=batch_size, precision=precision, normalize_embeddings=True,
                                      show_progress_bar=False)
            row = {text: position for position, text in enumerate(distinct)}
            cached = embeddings[[row[text] for text in texts]]
            if path is not None:
                with atomic_path(path) as temporary, open(temporary, "wb") as handle:
                    np.save(handle, cached)
        results.append(cached)
    return results


def _read_cached(path: Path) -> np.ndarray | None:
    """A cached embedding array; a damaged file is recomputed (None) with a warning, never trusted."""
    try:
        return np.load(path)
    except (ValueError, OSError, EOFError) as err:
        warnings.warn(f"MEDI embedding cache {path} cannot be read ({err}); recomputing it")
        return None


def embed_cached(model, texts: list[str], cache_dir: Path | None, precision: str = "float32", **kwargs) -> np.ndarray:
    """`embed_many` for a single list of texts."""
    return embed_many(model, [texts], cache_dir, precision, **kwargs)[0]


def _cache_path(cache_dir, fingerprint: str, precision: str, texts: list[str]) -> Path | None:
    if cache_dir is None:
        return None
    digest = sha256_json([fingerprint, precision, texts])
    return Path(cache_dir) / f"emb-{digest[:24]}.npy"
