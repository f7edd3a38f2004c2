"""Deterministic subsampling of a task's dataset to a suite's `Subsample` limits, on its test or its dev part.

Rows are a seeded random subset kept in their original order, so the same seed gives the same test set to
every model. Retrieval keeps every document a kept query's qrels or candidates name (then fills the corpus up
to its limit); clustering subsamples each set with its own seed; a classification task's training pool is
limited by `max_train`. The sizes actually used are returned for the results.

The dev part (`Subsample(part="dev", held_out=...)`) is drawn after the test part, which stays exactly as it
is: from the task's local validation split where it has one (`TaskSpec.dev_split`), else from the test split,
leaving out every example that a test subsample of `held_out`'s sizes takes (an example: a text, a sentence
pair, a query; by content, so a duplicate row cannot leak either). It is drawn with its own random stream
(`DEV_STREAM`) and evaluated as the split "dev". What stays shared: a retrieval corpus, clustering labels and a
classification task's training pool (the classifier's few-shot examples); a clustering text is left out of
every dev set when any test set took it (the sets overlap).
"""
from __future__ import annotations

import numpy as np

from ..presets import Subsample

DEV_SPLIT = "dev"  # the split name a dev part is evaluated under
DEV_STREAM = 1  # the dev part's random stream: numpy's default_rng((seed, DEV_STREAM, ...)), apart from the test's


def _pick(n: int, limit: int | None, seed) -> list[int] | None:
    """Seeded choice of `limit` of `n` row indices, in their original order; None when nothing is dropped."""
    if limit is None or limit >= n:
        return None
    return sorted(np.random.default_rng(seed).choice(n, size=limit, replace=False).tolist())


def _kept(n: int, limit: int | None, seed) -> list[int]:
    keep = _pick(n, limit, seed)
    return list(range(n)) if keep is None else keep


def example_keys(split, task_type: str) -> list:
    """Each row's example as its content: a query's text (retrieval, reranking), a sentence pair, or a text."""
    if task_type in ("Retrieval", "Reranking"):
        return list(split["queries"]["text"])
    if "sentence1" in split.column_names:
        return list(zip(split["sentence1"], split["sentence2"]))
    return list(split["text"])


def _held_out(test, task_type: str, limits: Subsample, seed: int) -> set:
    """The examples every test subsample of `limits.held_out`'s sizes takes (they are left out of the dev part)."""
    if task_type == "Clustering":
        return {texts[i] for limit in limits.held_out for index, texts in enumerate(test["sentences"])
                for i in _kept(len(texts), limit, seed + index)}
    keys = example_keys(test, task_type)
    return {keys[i] for limit in limits.held_out for i in _kept(len(keys), limit, seed)}


def _dev_rows(keys: list, held: set, limit: int | None, seed, task: str) -> list[int]:
    """Up to `limit` rows whose example is not held out, drawn with the dev stream `seed`."""
    pool = [i for i, key in enumerate(keys) if key not in held]
    if len(pool) < 2:
        raise ValueError(f"{task}: the claims' test subsamples leave {len(pool)} example(s) for a dev part; "
                         f"leave the task out of the dev suite or hold out fewer test examples")
    return [pool[i] for i in _kept(len(pool), limit, seed)]


def _select(split, task_type: str, rows: list[int] | None, limits: Subsample, seed, sizes: dict, name: str):
    """`split` reduced to `rows` (None: all) of its rows, queries (retrieval) or nothing (clustering: per set)."""
    if task_type in ("Retrieval", "Reranking"):
        return _with_queries(split, rows, limits, seed, sizes, name)
    split = split if rows is None else split.select(rows)
    sizes[name] = len(split)
    return split


def _subsample_clusters(split, limits: Subsample, seed: int, sizes: dict, name: str, held: set | None = None):
    """Each clustering set subsampled (seed + set index); for a dev part (`held` given) from its texts not held out."""
    from datasets import Dataset

    sets = {"sentences": [], "labels": []}
    for index, (texts, labels) in enumerate(zip(split["sentences"], split["labels"])):
        if held is None:
            keep = _kept(len(texts), limits.max_test, seed + index)
        else:
            keep = _dev_rows(texts, held, limits.max_test, (seed, DEV_STREAM, index), f"clustering set {index}")
        sets["sentences"].append([texts[i] for i in keep])
        sets["labels"].append([labels[i] for i in keep])
    sizes[name] = [len(texts) for texts in sets["sentences"]]
    return Dataset.from_dict(sets)


def _with_queries(split: dict, keep: list[int] | None, limits: Subsample, seed, sizes: dict, name: str) -> dict:
    queries, corpus = split["queries"], split["corpus"]
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
        corpus = corpus.select(sorted(required + [others[i] for i in _kept(len(others), room, seed)]))
    sizes[name] = {"queries": len(queries), "corpus": len(corpus)}
    return {**split, "queries": queries, "corpus": corpus, "relevant_docs": qrels, "top_ranked": top_ranked}


def _test_part(split, task_type: str, limits: Subsample, seed: int, sizes: dict, name: str):
    if task_type == "Clustering":
        return _subsample_clusters(split, limits, seed, sizes, name)
    n = len(split["queries"]) if task_type in ("Retrieval", "Reranking") else len(split)
    return _select(split, task_type, _pick(n, limits.max_test, seed), limits, seed, sizes, name)


def _dev_part(splits: dict, test: str, spec, task_type: str, limits: Subsample, seed: int, sizes: dict):
    """The dev part of one subset: from its validation split where the task has one, else from the test split."""
    held = _held_out(splits[test], task_type, limits, seed)
    if task_type == "Clustering":
        sizes["dev_source"] = test
        return _subsample_clusters(splits[test], limits, seed, sizes, DEV_SPLIT, held)
    source_name = spec.dev_split if spec.dev_split in splits else test  # a hub copy may lack the local one
    sizes["dev_source"] = source_name
    source = splits[source_name]
    rows = _dev_rows(example_keys(source, task_type), held, limits.max_test, (seed, DEV_STREAM), spec.name)
    return _select(source, task_type, rows, limits, (seed, DEV_STREAM), sizes, DEV_SPLIT)


def part_split(spec, limits: Subsample) -> str:
    """The split a task is evaluated under: its own test split, or "dev" for a dev part."""
    return DEV_SPLIT if limits.part == "dev" else spec.eval_splits[0]


def subsample_dataset(dataset: dict, spec, task_type: str, train_split: str | None, limits: Subsample,
                      seed: int) -> tuple[dict, dict]:
    """Apply `limits` to a task's dataset {subset: {split: data}}; return it and the sizes used per subset/split.

    `spec` is the task's `suite.TaskSpec`: its `hf_subsets` and `eval_splits` are subsampled (test part), or its
    dev part is drawn into the split "dev" (`part_split`).
    """
    result, sizes = {}, {}
    for subset in spec.hf_subsets:
        if subset not in dataset:
            raise KeyError(f"{spec.name}: subset {subset!r} is not in the data (has {sorted(dataset)})")
        splits, subset_sizes = dict(dataset[subset]), {}
        if limits.part == "dev":
            splits[DEV_SPLIT] = _dev_part(splits, spec.eval_splits[0], spec, task_type, limits, seed, subset_sizes)
        else:
            for split_name in spec.eval_splits:
                splits[split_name] = _test_part(splits[split_name], task_type, limits, seed, subset_sizes, split_name)
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
