"""Evaluation sampling error: a bootstrap over the test examples of each task, from one mteb run.

Re-running mteb on resampled datasets is slow (seconds per task per replicate) and biased (duplicated items
inflate clustering v-measure and pair-classification AP). Instead, `evaluate(..., bootstrap=B)` hands each
task's encoder a fresh dict that remembers every embedding it returns during the one normal mteb run
(`InstructorEncoder(memo=...)`), `per_example` turns a task and that dict into per-example arrays, and
`replicates` resamples the examples (rows drawn with replacement, seeded) and recomputes the task's statistic
on each resample:

- STS (cosine Spearman): rows (gold score, cosine of the two embeddings); statistic Spearman x 100.
- PairClassification (mteb's max_ap): rows (label, cosine); statistic = average precision of the *cosine*
  x 100 (sklearn's average_precision_score). mteb's main score max_ap is the max over similarity functions
  (similarity, cosine, manhattan, euclidean, dot); on the full sample the bootstrap's statistic equals mteb's
  `cosine_ap`, which is max_ap whenever cosine scores best (max_ap >= cosine_ap always).
- Retrieval (SciFact, ndcg_at_10): per query nDCG@10 of the cosine ranking of the (subsampled) corpus,
  gains = relevance grades, log2 discount, ties broken by document id descending (as pytrec_eval);
  statistic = mean x 100.
- Reranking (map_at_1000 of the mteb task): per query average precision of its `top_ranked` candidates
  ranked by cosine (denominator: the query's relevant documents in the qrels, as trec_eval); mean x 100.
- Classification (accuracy): mteb's protocol replayed on the remembered embeddings: the task's own
  `_undersample_data` for each of its `n_experiments` few-shot training sets and a clone of its
  `evaluator_model` (LogisticRegression) with `random_state=task.seed`; per test example the fraction of
  experiments that classify it correctly. Its mean is mteb's mean accuracy over experiments; the bootstrap
  resamples test examples (the few-shot training sets stay fixed).
- Clustering (v_measure, the mean over sets): the per-set v-measures mteb reports (`v_measures`); the
  bootstrap resamples whole sets, never items within a set (duplicates would inflate v-measure). A task of one
  set (ArxivClusteringS2S-local) therefore has identical replicates: its spread is not estimated (sd 0).

Resampling follows `instructor_lib.stats.bootstrap_interval` (per replicate `rng.integers(0, n, n)` from
`np.random.default_rng(seed)`), with the seed of a task derived from the bootstrap seed and the task name
(`task_seed`): every model evaluated with the same seed gets the same resample indices on a task (paired
replicates), and `bootstrap_interval(examples, statistic, B, task_seed(seed, name))` reproduces its quantiles.
"""
from __future__ import annotations

import hashlib
from typing import Callable

import numpy as np
from scipy.stats import rankdata, spearmanr

__all__ = ["task_seed", "resample_indices", "spearman_statistic", "cosine_ap_statistic", "mean_statistic",
           "statistic_for", "replicates", "per_example", "ndcg_at_k", "average_precision_at_k", "summarize",
           "QUANTILES"]

QUANTILES = (0.025, 0.975)


# ------------------------------------------------------------------------------------------- resampling
def task_seed(seed: int, task_name: str) -> int:
    """The resampling seed of one task: a stable hash of the bootstrap seed and the task name."""
    return int(hashlib.sha256(f"{int(seed)}:{task_name}".encode()).hexdigest()[:8], 16)


def resample_indices(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """(n_resamples, n) row indices drawn with replacement, as `stats.bootstrap_interval` draws them."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, n, n) for _ in range(n_resamples)]) if n_resamples else np.zeros((0, n), int)


# ------------------------------------------------------------------------------------------- statistics
def spearman_statistic(rows: np.ndarray) -> float:
    """Spearman correlation x 100 of rows (gold score, predicted similarity)."""
    return 100.0 * float(spearmanr(rows[:, 0], rows[:, 1])[0])


def cosine_ap_statistic(rows: np.ndarray) -> float:
    """Average precision x 100 of rows (label 0/1, cosine similarity), higher similarity = positive."""
    from sklearn.metrics import average_precision_score

    return 100.0 * float(average_precision_score(rows[:, 0].astype(int), rows[:, 1]))


def mean_statistic(values: np.ndarray) -> float:
    """Mean x 100 of per-example scores (per-query nDCG/AP, per-example correctness, per-set v-measure)."""
    return 100.0 * float(np.mean(values))


def statistic_for(task_type: str) -> Callable[[np.ndarray], float]:
    """The statistic (on the 0-100 scale) of a task type's per-example array."""
    return {"STS": spearman_statistic, "PairClassification": cosine_ap_statistic}.get(task_type, mean_statistic)


def replicates(examples: np.ndarray, statistic: Callable[[np.ndarray], float], n_resamples: int,
               seed: int) -> list[float]:
    """The statistic on each of `n_resamples` resamples of the examples (first axis) drawn with `seed`."""
    examples = np.asarray(examples)
    rows = resample_indices(len(examples), n_resamples, seed)
    if statistic is mean_statistic:  # vectorized: the common case (retrieval, classification, clustering)
        return (100.0 * examples.astype(np.float64)[rows].mean(axis=1)).tolist()
    if statistic is spearman_statistic:  # Spearman = Pearson of the ranks of each resample
        draws = []
        for index in rows:
            ranks = rankdata(examples[index], axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                draws.append(100.0 * float(np.corrcoef(ranks[:, 0], ranks[:, 1])[0, 1]))
        return draws
    if statistic is cosine_ap_statistic:
        return [100.0 * _average_precision(examples[index, 0], examples[index, 1]) for index in rows]
    return [float(statistic(examples[index])) for index in rows]


def _average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """sklearn's average_precision_score (binary, ties as one threshold) without its input checks: sum over
    distinct thresholds, highest first, of (recall gain) x precision."""
    order = np.argsort(-scores, kind="mergesort")
    ordered, hits = scores[order], labels[order]
    last_of_value = np.r_[np.flatnonzero(np.diff(ordered)), len(ordered) - 1]
    true_positives = np.cumsum(hits)[last_of_value]
    if true_positives[-1] == 0:
        return float("nan")
    precision = true_positives / (last_of_value + 1)
    recall = true_positives / true_positives[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def summarize(task_replicates: dict[str, list[float]], categories: dict[str, str]) -> dict:
    """Per-category and overall replicates, sd (ddof=1) and 2.5%/97.5% quantiles.

    Args:
        task_replicates: task name -> its B replicate scores (same B for every task).
        categories: task name -> category.
    Replicate r of a category is the mean over its tasks of each task's replicate r; "Average" is the mean over
    all tasks (as `report.aggregate` computes the overall average). Returns {"replicates": B, category: {"sd",
    "low", "high", "replicates"}, ..., "Average": {...}}.
    """
    from .report import CATEGORIES

    counts = {len(values) for values in task_replicates.values()}
    if len(counts) > 1:
        raise ValueError(f"every task needs the same number of replicates, got {sorted(counts)}")
    n = counts.pop() if counts else 0
    groups = {c: [name for name in task_replicates if categories[name] == c] for c in CATEGORIES}
    groups = {c: names for c, names in groups.items() if names}
    groups["Average"] = list(task_replicates)
    summary: dict = {"replicates": n}
    for group, names in groups.items():
        if not names:
            continue
        draws = np.mean([task_replicates[name] for name in names], axis=0)
        low, high = np.quantile(draws, QUANTILES) if n else (np.nan, np.nan)
        summary[group] = {"sd": float(np.std(draws, ddof=1)) if n > 1 else float("nan"), "low": float(low),
                          "high": float(high), "replicates": draws.tolist()}
    return summary


# ---------------------------------------------------------------------------------- ranking metrics
def _ranking(doc_ids: list[str], scores: np.ndarray) -> list[str]:
    """Documents by score descending, ties by document id descending (pytrec_eval's order)."""
    order = sorted(range(len(doc_ids)), key=lambda i: (float(scores[i]), doc_ids[i]), reverse=True)
    return [doc_ids[i] for i in order]


def ndcg_at_k(ranked: list[str], qrels: dict[str, int], k: int = 10) -> float:
    """trec_eval's ndcg_cut_k: gains = relevance grades, discount log2(rank + 1); 0 without relevant documents."""
    gains = [max(float(qrels.get(doc, 0)), 0.0) for doc in ranked[:k]]
    dcg = sum(g / np.log2(rank + 2) for rank, g in enumerate(gains))
    ideal = sorted((max(float(r), 0.0) for r in qrels.values()), reverse=True)[:k]
    idcg = sum(g / np.log2(rank + 2) for rank, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def average_precision_at_k(ranked: list[str], qrels: dict[str, int], k: int = 1000) -> float:
    """trec_eval's map_cut_k of one query: mean precision at each relevant retrieved document over all relevant ones."""
    relevant = sum(1 for r in qrels.values() if r > 0)
    if relevant == 0:
        return 0.0
    hits, total = 0, 0.0
    for rank, doc in enumerate(ranked[:k], start=1):
        if qrels.get(doc, 0) > 0:
            hits += 1
            total += hits / rank
    return total / relevant


def _cut(main_score: str, prefix: str) -> int:
    return int(main_score.rsplit("_", 1)[1]) if main_score.startswith(prefix + "_at_") else 1000


# ----------------------------------------------------------------------------------- per-example arrays
def _normalized(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float64)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=-1, keepdims=True), 1e-12)


def _embed(memo: dict, task_name: str, side: str, texts: list[str]) -> np.ndarray:
    try:
        return np.stack([memo[(task_name, side, text)] for text in texts])
    except KeyError as err:
        raise KeyError(f"{task_name}: no remembered embedding for {err.args[0]!r}; run mteb with "
                       "InstructorEncoder(memo=...) on this task first") from None


def _cosine_pairs(memo, name, split, first: str, second: str) -> np.ndarray:
    a = _normalized(_embed(memo, name, "text", list(split[first])))
    b = _normalized(_embed(memo, name, "text", list(split[second])))
    return (a * b).sum(axis=1)


def _retrieval_per_query(task, memo, data: dict) -> np.ndarray:
    from mteb._create_dataloaders import _retrieval_texts
    from mteb.types import PromptType

    name, main_score = task.metadata.name, task.metadata.main_score
    queries, corpus, qrels = data["queries"], data["corpus"], data["relevant_docs"]
    top_ranked = data.get("top_ranked")
    query_vectors = _normalized(_embed(memo, name, "query", _retrieval_texts(queries, PromptType.query)))
    doc_vectors = _normalized(_embed(memo, name, "document", _retrieval_texts(corpus, PromptType.document)))
    doc_ids = [str(doc) for doc in corpus["id"]]
    position = {doc: i for i, doc in enumerate(doc_ids)}
    if main_score.startswith("ndcg"):
        metric, k = ndcg_at_k, _cut(main_score, "ndcg")
    elif main_score.startswith("map"):
        metric, k = average_precision_at_k, _cut(main_score, "map")
    else:
        raise NotImplementedError(f"{name}: per-query {main_score} is not implemented")
    values = []
    for query_id, vector in zip(queries["id"], query_vectors):
        query_id = str(query_id)
        if query_id not in qrels:  # pytrec_eval scores only the queries of the qrels
            continue
        candidates = [str(doc) for doc in top_ranked[query_id]] if top_ranked else doc_ids
        scores = doc_vectors[[position[doc] for doc in candidates]] @ vector
        values.append(metric(_ranking(candidates, scores), {str(d): r for d, r in qrels[query_id].items()}, k))
    return np.asarray(values, dtype=np.float64)


def _classification_correct(task, memo, data) -> np.ndarray:
    from sklearn.base import clone

    name = task.metadata.name
    train, test = data[task.train_split], data["__eval__"]
    label_column = task.label_column_name
    y_test = np.asarray(test[label_column])
    train_labels = np.asarray(train[label_column])
    train_texts = train[task.input_column_name]
    test_vectors = _embed(memo, name, "text", list(test[task.input_column_name]))
    correct = np.zeros(len(test), dtype=np.float64)
    sim_idxs = None
    for experiment in range(task.n_experiments):  # mteb's draws: one shuffled index list carried along
        _, sim_idxs, selected = task._undersample_data(train, experiment, sim_idxs)
        classifier = clone(task.evaluator_model)
        if "random_state" in classifier.get_params():
            classifier.set_params(random_state=task.seed)
        # mteb encodes only the union of the experiments' few-shot samples
        classifier.fit(_embed(memo, name, "text", [train_texts[i] for i in selected]), train_labels[selected])
        correct += classifier.predict(test_vectors) == y_test
    return correct / task.n_experiments


def per_example(task, memo: dict, subset: str, split: str, scores: dict | None = None) -> np.ndarray:
    """A task's per-example array for the bootstrap (see the module docstring for each type).

    Args:
        task: the mteb task object `mteb.evaluate` ran (with `task.dataset` as `suite.build_task` set it).
        memo: the embeddings an `InstructorEncoder(memo=...)` remembered during that run.
        subset, split: the subset and split whose score is bootstrapped.
        scores: mteb's score entry of that subset and split (clustering reads its per-set `v_measures`).
    Returns an array whose first axis runs over examples; `statistic_for(task.metadata.type)` of it is the
    task's score on the 0-100 scale.
    """
    kind, name = task.metadata.type, task.metadata.name
    dataset = task.dataset
    data = dataset[subset] if subset in dataset else dataset
    if kind == "STS":
        rows = data[split]
        return np.column_stack([np.asarray(rows["score"], dtype=np.float64),
                                _cosine_pairs(memo, name, rows, "sentence1", "sentence2")])
    if kind == "PairClassification":
        rows = data[split]
        return np.column_stack([np.asarray(rows[task.label_column_name], dtype=np.float64),
                                _cosine_pairs(memo, name, rows, task.input1_column_name, task.input2_column_name)])
    if kind in ("Retrieval", "Reranking"):
        return _retrieval_per_query(task, memo, data[split])
    if kind == "Classification":
        return _classification_correct(task, memo, {task.train_split: data[task.train_split], "__eval__": data[split]})
    if kind == "Clustering":
        if not scores or "v_measures" not in scores:
            raise KeyError(f"{name}: mteb's scores hold no per-set v_measures")
        return np.asarray(scores["v_measures"], dtype=np.float64)
    raise NotImplementedError(f"{name}: no per-example bootstrap for task type {kind}")


def task_bootstrap(task, memo: dict, subset: str, split: str, scores: dict | None, n_resamples: int,
                   seed: int) -> dict:
    """Full-sample statistic and `n_resamples` replicate scores of one task (0-100), seeded by `task_seed`."""
    examples = per_example(task, memo, subset, split, scores)
    statistic = statistic_for(task.metadata.type)
    return {"full_sample": statistic(examples), "n_examples": len(examples),
            "replicates": replicates(examples, statistic, n_resamples, task_seed(seed, task.metadata.name))}
