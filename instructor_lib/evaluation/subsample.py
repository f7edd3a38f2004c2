"""Deterministic subsampling of a task's dataset to a suite's `Subsample` limits.

Rows are a seeded random subset kept in their original order, so the same seed gives the same test set to
every model. Retrieval keeps every document a kept query's qrels or candidates name (then fills the corpus up
to its limit); clustering subsamples each set with its own seed; a classification task's training pool is
limited by `max_train`. The sizes actually used are returned for the results.
"""
from __future__ import annotations

import numpy as np

from ..presets import Subsample


def _pick(n: int, limit: int | None, seed: int) -> list[int] | None:
    """Seeded choice of `limit` of `n` row indices, in their original order; None when nothing is dropped."""
    if limit is None or limit >= n:
        return None
    return sorted(np.random.default_rng(seed).choice(n, size=limit, replace=False).tolist())


def _subsample_split(split, task_type: str, limits: Subsample, seed: int, sizes: dict, split_name: str):
    if task_type in ("Retrieval", "Reranking"):
        return _subsample_retrieval(split, limits, seed, sizes, split_name)
    if task_type == "Clustering":
        return _subsample_clusters(split, limits, seed, sizes, split_name)
    keep = _pick(len(split), limits.max_test, seed)
    split = split if keep is None else split.select(keep)
    sizes[split_name] = len(split)
    return split


def _subsample_clusters(split, limits: Subsample, seed: int, sizes: dict, split_name: str):
    from datasets import Dataset

    sets = {"sentences": [], "labels": []}
    for index, (texts, labels) in enumerate(zip(split["sentences"], split["labels"])):
        keep = _pick(len(texts), limits.max_test, seed + index)
        keep = range(len(texts)) if keep is None else keep
        sets["sentences"].append([texts[i] for i in keep])
        sets["labels"].append([labels[i] for i in keep])
    sizes[split_name] = [len(texts) for texts in sets["sentences"]]
    return Dataset.from_dict(sets)


def _subsample_retrieval(split: dict, limits: Subsample, seed: int, sizes: dict, split_name: str) -> dict:
    queries, corpus = split["queries"], split["corpus"]
    keep = _pick(len(queries), limits.max_test, seed)
    if keep is not None:
        queries = queries.select(keep)
    kept_ids = set(queries["id"])
    qrels = {q: docs for q, docs in split["relevant_docs"].items() if q in kept_ids}
    top_ranked = split["top_ranked"] and {q: docs for q, docs in split["top_ranked"].items() if q in kept_ids}
    needed = {doc for docs in qrels.values() for doc in docs} | {doc for docs in (top_ranked or {}).values() for doc in docs}
    if top_ranked or (limits.max_corpus is not None and limits.max_corpus < len(corpus)):
        ids = corpus["id"]
        required = [i for i, doc in enumerate(ids) if doc in needed]
        others = [i for i, doc in enumerate(ids) if doc not in needed]
        room = 0 if top_ranked else max(0, limits.max_corpus - len(required))
        extra = _pick(len(others), room, seed)
        extra = range(len(others)) if extra is None else extra
        corpus = corpus.select(sorted(required + [others[i] for i in extra]))
    sizes[split_name] = {"queries": len(queries), "corpus": len(corpus)}
    return {**split, "queries": queries, "corpus": corpus, "relevant_docs": qrels, "top_ranked": top_ranked}


def subsample_dataset(dataset: dict, spec, task_type: str, train_split: str | None, limits: Subsample,
                      seed: int) -> tuple[dict, dict]:
    """Apply `limits` to a task's dataset {subset: {split: data}}; return it and the sizes used per subset/split.

    `spec` is the task's `suite.TaskSpec`: its `hf_subsets` and `eval_splits` are subsampled.
    """
    result, sizes = {}, {}
    for subset in spec.hf_subsets:
        if subset not in dataset:
            raise KeyError(f"{spec.name}: subset {subset!r} is not in the data (has {sorted(dataset)})")
        splits, subset_sizes = dict(dataset[subset]), {}
        for split_name in spec.eval_splits:
            splits[split_name] = _subsample_split(splits[split_name], task_type, limits, seed, subset_sizes, split_name)
        if train_split is not None:
            keep = _pick(len(splits[train_split]), limits.max_train, seed)
            splits[train_split] = splits[train_split] if keep is None else splits[train_split].select(keep)
            subset_sizes[train_split] = len(splits[train_split])
        result[subset] = _as_dataset_dict(splits)
        sizes[subset] = subset_sizes
    return result, sizes


def _as_dataset_dict(splits: dict):
    from datasets import Dataset, DatasetDict

    if all(isinstance(value, Dataset) for value in splits.values()):
        return DatasetDict(splits)
    return splits
