"""MEDI's proportions and sampling: per-dataset caps in proportion to the paper's sizes, the super-NI task
choice and count (`table5_superni_tasks`), and the seeded plan of each dataset (its sample, the texts to embed,
and how records follow from them).
"""
from __future__ import annotations

import hashlib
import math
from typing import Callable, NamedTuple

import numpy as np

from .. import presets
from ..instructions import SYMMETRIC, embedding_instructions, superni_instruction
from .leakage import clean_prefix, leaky_superni_sources
from .pairs import NONE, is_classification, mine_negatives, superni_pairs
from .sources import EMBEDDING_SOURCES, read_source, read_superni_task

# Paper Table 5: MEDI's training instances per dataset, the caps at scale 1 (caps are ceil(scale * size), so one
# `scale` sets them all). quora_duplicates is not in MEDI: it stands in for stackexchange and WikiAnswers, the
# duplicate-question sets, 25,000 each there. Super-NI: 180,000 instances over 300 tasks, 600 per task.
SUPERNI_REFERENCE_SIZE = 180_000
REFERENCE_SIZES = {
    "AllNLI": 50_000, "squad_pairs": 25_000, "NQ": 50_000, "fever": 75_000, "pubmed": 30_000, "agnews": 45_000,
    "amazon_review_2018": 100_000, "code_search": 15_000, "simple_wiki": 5_000, "flickr30k_captions": 25_000,
    "quora_duplicates": 25_000, "specter_train_triples": 50_000, "S2ORC_title_abstract": 100_000, "xsum": 10_000,
}
SUPERNI_TASK_SIZE = SUPERNI_REFERENCE_SIZE // 300
# A preset's `superni_tasks` may name this rule instead of a count (the cpu preset does; see table5_superni_tasks)
TABLE5_SHARE = "table5"
TABLE5_RULE = ("super-NI tasks, chosen by select_superni's order, each at its cap, as many as give super-NI the share "
               "of the records that paper Table 5 gives it over the embedding datasets present: 180,000 / (180,000 + "
               "their Table 5 sizes); tasks = round(share / (1 - share) * embedding records / task cap), at least 1")
SUPERNI_MIN_INSTANCES = 32   # a task needs enough instances for a neighbour to be a real positive
XSUM_TASK = "task1290_xsum_summarization"  # used as the xsum embedding dataset, not as a super-NI task


class Plan(NamedTuple):
    """One dataset's plan: the lists of texts to embed; finish(their embeddings), which gives (records, stats row,
    files read); the records the leakage guard skipped; and the records sampled (mining may drop a few)."""
    to_embed: list[list[str]]
    finish: Callable
    skipped: list[dict]
    sampled: int


def _rng(seed: int, name: str) -> np.random.Generator:
    """A generator per (seed, dataset): one dataset's sample does not depend on which others are built."""
    return np.random.default_rng([seed, int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)])


def cap_for(reference_size: int, scale: float, min_cap: int = 1) -> int:
    """Records kept for a dataset: ceil(scale * its Table 5 size), at least min_cap (and 1)."""
    return max(1, min_cap, math.ceil(scale * reference_size))


def table5_superni_share(datasets) -> float:
    """Super-NI's share of the instances paper Table 5 gives super-NI and the embedding `datasets` together:
    180,000 / (180,000 + their sizes). Over all of MEDI it is 180,000 / 1,435,000 (12.5%); over the datasets a
    local mixture holds it is larger, since the missing ones (msmarco, amazon-qa, ...) are not in the sum."""
    return SUPERNI_REFERENCE_SIZE / (SUPERNI_REFERENCE_SIZE + sum(REFERENCE_SIZES[name] for name in datasets))


def table5_superni_tasks(embedding_records: dict[str, int], task_cap: int) -> int:
    """How many super-NI tasks of `task_cap` records give super-NI its Table 5 share (`TABLE5_RULE`).

    `embedding_records`: records sampled per embedding dataset of the mixture (a dataset with none is not
    present). Decided from Table 5 alone, not tuned: super-NI's records are share / (1 - share) times the
    embedding records, so a floor that raises a small embedding dataset raises super-NI's records with it, and a
    floor that raises each task to one batch (64 records where Table 5 at the cpu scale gives 1.2) is paid for
    with fewer tasks: the floor never sets super-NI's share.
    """
    present = [name for name, count in embedding_records.items() if count]
    if not present:
        raise ValueError("the Table 5 rule sets super-NI's share against the embedding datasets present; this "
                         "mixture holds none, so give `superni_tasks` a count")
    share = table5_superni_share(present)
    target = share / (1 - share) * sum(embedding_records.values())
    return max(1, math.floor(target / task_cap + 0.5))


def _pool_size(cap: int, available: int, settings: presets.MediBuildSettings) -> int:
    """Candidates drawn for a sample of `cap`: `pool_factor` times it (at least `min_pool`), so negatives are
    mined among more documents than the sample holds."""
    return min(available, max(cap * settings.pool_factor, settings.min_pool, cap))


def plan_embedding(name, train_dir, settings, level, seed, index=None):
    """Plan one embedding dataset: a seeded sample of `cap` pairs whose negatives are mined in a larger pool,
    skipping pairs that hold an evaluation test text (`index`: `overlap_index`; None: no guard).

    Returns a `Plan`. Planning first keeps the seeded sampling apart from the embedding, whose lists `embed_many`
    embeds (and caches) one by one, and tells the build how many records each dataset samples before any is
    embedded (the Table 5 rule counts super-NI's tasks from them).
    """
    data = read_source(name, train_dir)
    cap = cap_for(REFERENCE_SIZES[name], settings.scale, settings.min_cap)
    order = _rng(seed, name).permutation(len(data.pairs))
    pool, leaking = clean_prefix((data.pairs[i] for i in order), _pool_size(cap, len(data.pairs), settings),
                                 lambda pair: (pair.query, pair.pos, pair.neg), index)
    sample = pool[:cap]  # the rest of the pool only adds negative candidates
    docs = [pair.pos for pair in pool]
    to_embed = [[pair.query for pair in sample], docs] if any(pair.neg is None for pair in sample) else []

    def finish(embeddings):
        negatives = mine_negatives(*embeddings, docs, [pair.group for pair in pool]) if embeddings else []
        query_instruction, doc_instruction = embedding_instructions(name, level)
        records, unmined = [], 0
        for index, pair in enumerate(sample):
            neg = pair.neg if pair.neg is not None else docs[negatives[index]] if negatives[index] != NONE else None
            if neg is None:
                unmined += 1
                continue
            records.append({"query": [query_instruction, pair.query], "pos": [doc_instruction, pair.pos],
                            "neg": [doc_instruction, neg], "task_name": name})
        row = {"dataset": name, "source": ", ".join(EMBEDDING_SOURCES[name][1]), "kind": "embedding",
               "symmetric": "symmetric" if name in SYMMETRIC else "asymmetric",
               "available": len(data.pairs), "cap": cap, "records": len(records),
               "given_negatives": sum(pair.neg is not None for pair in sample), "unmined": unmined,
               "query_instruction": query_instruction, "doc_instruction": doc_instruction, "classification": False,
               "notes": ", ".join(f"{key}={value}" for key, value in data.notes.items() if value)}
        return records, row, data.files

    skipped = [{"query": ["", pair.query], "pos": ["", pair.pos], "neg": ["", pair.neg or ""], "task_name": name}
               for pair in leaking]
    return Plan(to_embed, finish, skipped, len(sample))


def select_superni(manifest: dict[str, dict], count: int, suite: list[str], excluded: dict,
                   min_instances: int = SUPERNI_MIN_INSTANCES, max_definition_chars: int | None = None) -> list[str]:
    """Choose `count` super-NI tasks deterministically.

    Rule: from the English train tasks in the manifest, drop XSUM_TASK (our xsum dataset), tasks with fewer
    than `min_instances` instances (SUPERNI_MIN_INSTANCES, or the preset's min_cap when larger), tasks whose
    Definition is longer than `max_definition_chars` (when given) and tasks whose Source feeds an evaluation
    task in the suite (these are added to `excluded` with the reason); then go round-robin over the categories (a task counts under its first category; categories in name order,
    tasks in name order within each) until `count` tasks are taken. This spreads the choice over all 60
    categories instead of filling it with the largest one (Question Answering).
    """
    by_category: dict[str, list[str]] = {}
    for _, row in sorted(manifest.items()):
        leaks = leaky_superni_sources(row.get("source", []), suite)
        if leaks:
            excluded[row["task"]] = f"super-NI source {sorted(leaks)} feeds an evaluation task in the suite"
            continue
        too_long = max_definition_chars is not None and row["definition_chars"] > max_definition_chars
        if row["task"] == XSUM_TASK or row["instances_kept"] < min_instances or too_long:
            continue
        by_category.setdefault((row.get("categories") or ["Misc."])[0], []).append(row["task"])
    queues = [list(tasks) for _, tasks in sorted(by_category.items())]
    chosen = []
    while len(chosen) < count and any(queues):
        for queue in queues:
            if queue and len(chosen) < count:
                chosen.append(queue.pop(0))
    return sorted(chosen)


def plan_superni(path, cap, settings, level, seed, index=None):
    """Plan one super-NI task: a seeded pool of instances (skipping those whose input holds an evaluation test
    text); the first `cap` get pairs from `superni_pairs`.

    Returns a `Plan` like `plan_embedding`; a classification task embeds no outputs.
    """
    task = read_superni_task(path)
    order = _rng(seed, task.name).permutation(len(task.inputs))
    kept, leaking = clean_prefix(order, _pool_size(cap, len(task.inputs), settings), lambda i: (task.inputs[i],), index)
    inputs = [task.inputs[i] for i in kept]
    outputs = [task.outputs[i] for i in kept]
    classification = is_classification(outputs)  # labels need no embedding

    def finish(embeddings):
        positive, negative, _ = superni_pairs(embeddings[0], None if classification else embeddings[1], inputs, outputs)
        instruction = superni_instruction(task.name, task.definition, list(task.domains), level)
        records, unmined = [], 0
        for index in range(min(cap, len(inputs))):
            if positive[index] == NONE or negative[index] == NONE:
                unmined += 1
                continue
            records.append({"query": [instruction, inputs[index]], "pos": [instruction, inputs[positive[index]]],
                            "neg": [instruction, inputs[negative[index]]], "task_name": task.name})
        row = {"dataset": task.name, "source": "superni", "kind": "superni", "symmetric": "symmetric",
               "available": len(task.inputs),
               "cap": cap, "records": len(records), "given_negatives": 0, "unmined": unmined,
               "query_instruction": instruction, "doc_instruction": instruction, "classification": classification,
               "notes": "classification" if classification else "s_pos/s_neg"}
        return records, row, task.files

    skipped = [{"query": ["", task.inputs[i]], "pos": ["", ""], "neg": ["", ""], "task_name": task.name} for i in leaking]
    return Plan([inputs] if classification else [inputs, outputs], finish, skipped, min(cap, len(inputs)))
