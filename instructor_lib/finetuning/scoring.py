"""Scores of a model on a held-out split, on the 0-100 scale of the evaluation reports.

- `ndcg@10`: every distinct query of the split ranks every distinct positive of the split (the query's own text
  left out); relevant are its positives, or, for labelled data, every text of its label. Binary gains.
- `accuracy` (labelled data only): a logistic regression fitted on the training split's embeddings predicts
  the label of each text of the split, as MTEB's classification tasks score an embedder.
Queries are embedded with the query instruction, documents with the document instruction.
"""
from __future__ import annotations

import numpy as np

from .data import Example
from .split import Split

K = 10
PRECISION = "auto"  # as `instructor_lib.evaluate`: bfloat16 only where this machine runs it faster
BATCH_SIZE = 64


def ndcg_at_k(scores: np.ndarray, relevant: list[set[int]], k: int = K) -> float:
    """Mean nDCG@k (x100) of rows of `scores` (queries x documents) whose relevant columns are `relevant`;
    ties keep the document order."""
    values = []
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    for row, wanted in zip(scores, relevant):
        top = np.argsort(-row, kind="stable")[:k]
        dcg = float(sum(discounts[rank] for rank, doc in enumerate(top) if doc in wanted))
        ideal = float(discounts[:min(k, len(wanted))].sum())
        values.append(dcg / ideal)
    return 100.0 * float(np.mean(values))


def retrieval_task(pairs: list[Example]) -> tuple[list[str], list[str], list[set[int]]]:
    """(queries, documents, relevant document indices per query) of a split's pairs (see the module docstring)."""
    queries = list(dict.fromkeys(pair.query for pair in pairs))
    documents = list(dict.fromkeys(pair.positive for pair in pairs))
    column = {text: index for index, text in enumerate(documents)}
    if pairs and pairs[0].label is not None:
        label_of = {pair.positive: pair.label for pair in pairs} | {pair.query: pair.label for pair in pairs}
        relevant = [{column[doc] for doc in documents if label_of[doc] == label_of[query] and doc != query}
                    for query in queries]
    else:
        relevant = [set() for _ in queries]
        row = {text: index for index, text in enumerate(queries)}
        for pair in pairs:
            relevant[row[pair.query]].add(column[pair.positive])
    return queries, documents, relevant


def score_split(model, split: Split, name: str, query_instruction: str, document_instruction: str) -> dict[str, float]:
    """{"ndcg@10": ..., ["accuracy": ...]} of `model` on split `name` ("dev" or "test")."""
    queries, documents, relevant = retrieval_task(split.pairs[name])
    encode = dict(batch_size=BATCH_SIZE, precision=PRECISION, show_progress_bar=False)
    query_emb = model.encode(queries, instruction=query_instruction, **encode)
    doc_emb = model.encode(documents, instruction=document_instruction, **encode)
    scores = query_emb @ doc_emb.T
    for row, query in enumerate(queries):  # a query never retrieves its own text
        scores[row, [index for index, doc in enumerate(documents) if doc == query]] = -np.inf
    keep = [row for row, wanted in enumerate(relevant) if wanted]
    result = {"ndcg@10": ndcg_at_k(scores[keep], [relevant[row] for row in keep])}
    if split.labelled:
        result["accuracy"] = accuracy(model, split.labelled["train"], split.labelled[name], query_instruction, encode)
    return result


def accuracy(model, train: list[tuple[str, str]], test: list[tuple[str, str]], instruction: str, encode: dict) -> float:
    """Accuracy (x100) of a logistic regression on the embeddings of `train` texts, on the `test` texts."""
    from sklearn.linear_model import LogisticRegression

    train_emb = model.encode([text for text, _ in train], instruction=instruction, **encode)
    test_emb = model.encode([text for text, _ in test], instruction=instruction, **encode)
    classifier = LogisticRegression(max_iter=1000).fit(train_emb, [label for _, label in train])
    return 100.0 * float(classifier.score(test_emb, [label for _, label in test]))
