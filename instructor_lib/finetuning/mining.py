"""A hard negative for each training pair that has none, mined with the starting model as MEDI mines its
embedding datasets (`instructor_lib.medi.mine_negatives`): the training document most similar to the query
that is not its positive, not the same text, and not of the same group (the same query, or for labelled data
the same label). Only training texts are candidates: the dev and test texts never enter training."""
from __future__ import annotations

from dataclasses import replace

from ..medi import embed_cached, mine_negatives
from ..provenance import cache_dir
from .data import Example

MINING_PRECISION = "float32"  # as the cpu MEDI miner: bf16 kernels differ between CPUs, and so would the negatives


def with_negatives(pairs: list[Example], miner) -> tuple[list[Example], int]:
    """`pairs` with a negative on every pair (given ones kept), and how many were mined."""
    missing = [index for index, pair in enumerate(pairs) if pair.negative is None]
    if not missing:
        return pairs, 0
    queries = [pairs[index].query for index in missing]
    docs = [pairs[index].positive for index in missing]
    groups = [group_of(pairs[index]) for index in missing]
    for pair in pairs:  # every other training text is a candidate too
        for text in (pair.positive, pair.negative):
            if text is not None and text not in docs:
                docs.append(text)
                groups.append(group_of(pair) if text == pair.positive else "")
    cache = cache_dir("finetune")
    query_emb = embed_cached(miner, queries, cache, MINING_PRECISION)
    doc_emb = embed_cached(miner, docs, cache, MINING_PRECISION)
    mined = mine_negatives(query_emb, doc_emb, docs, groups)
    out = list(pairs)
    for index, best in zip(missing, mined):
        # no allowed candidate (every document shares the group): the next pair's positive keeps the batch whole
        fallback = pairs[(index + 1) % len(pairs)].positive
        out[index] = replace(pairs[index], negative=docs[best] if best >= 0 else fallback)
    return out, len(missing)


def group_of(pair: Example) -> str:
    """What a negative must not share with the pair: its label, or else its query."""
    return f"label:{pair.label}" if pair.label is not None else f"query:{pair.query}"
