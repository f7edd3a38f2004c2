"""The deterministic train / dev / test split of the user's data, with no text in two splits.

A split is decided by a hash of text, never by row order or a random draw, so the same file always splits the
same way and adding rows never moves old ones. Pairs: rows that share any text (a query asked twice, a document
that answers two queries, a shared negative) form one group, and a group goes to one split, decided by the hash
of its smallest text. Labelled texts: each distinct text goes to the split its hash says, and the pairs are made
inside each split afterwards, each text paired with the next text of its label (in hash order, in a ring).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .data import DataError, Example, UserData

SPLITS = ("train", "dev", "test")
FRACTIONS = (0.8, 0.1, 0.1)  # train, dev, test
MIN_TEST_PAIRS = 2  # nDCG needs at least two documents to rank


@dataclass(frozen=True)
class Split:
    """The pairs of each split (`Example`s with a positive; labelled data keeps its label on both texts) and, for
    labelled data, every (text, label) of each split (what the accuracy is scored on)."""
    pairs: dict[str, list[Example]]
    labelled: dict[str, list[tuple[str, str]]]

    def sizes(self) -> dict[str, int]:
        """Pairs per split (and labelled texts per split, for labelled data)."""
        sizes = {name: len(self.pairs[name]) for name in SPLITS}
        return sizes | ({f"{name}_texts": len(self.labelled[name]) for name in SPLITS} if self.labelled else {})


def bucket(text: str) -> str:
    """The split a text's hash falls in (sha256 of the UTF-8 text, as a fraction of 2**64)."""
    position = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") / 2 ** 64
    return SPLITS[0] if position < FRACTIONS[0] else SPLITS[1] if position < FRACTIONS[0] + FRACTIONS[1] else SPLITS[2]


def text_groups(examples: tuple[Example, ...]) -> list[list[Example]]:
    """The examples grouped so that two examples sharing a text are in one group (union-find over texts)."""
    parent: dict[str, str] = {}

    def root(text: str) -> str:
        while parent.setdefault(text, text) != text:
            parent[text] = parent[parent[text]]
            text = parent[text]
        return text

    for example in examples:
        first, *others = example.texts()
        for other in others:
            a, b = root(first), root(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[str, list[Example]] = {}
    for example in examples:
        groups.setdefault(root(example.query), []).append(example)
    return list(groups.values())


def split_pairs(examples: tuple[Example, ...]) -> dict[str, list[Example]]:
    """Pairs into splits by group (see the module docstring), each split in file order."""
    splits = {name: [] for name in SPLITS}
    for group in text_groups(examples):
        splits[bucket(min(text for example in group for text in example.texts()))].extend(group)
    return {name: sorted(rows, key=lambda example: example.row) for name, rows in splits.items()}


def split_labelled(examples: tuple[Example, ...]) -> tuple[dict[str, list[Example]], dict[str, list[tuple[str, str]]]]:
    """Labelled texts into splits by text hash, then same-label pairs inside each split; a repeated text keeps
    its first label."""
    first_label: dict[str, Example] = {}
    for example in examples:
        first_label.setdefault(example.query, example)
    labelled = {name: [] for name in SPLITS}
    for text, example in first_label.items():
        labelled[bucket(text)].append(example)
    pairs = {}
    for name, members in labelled.items():
        pairs[name] = []
        by_label: dict[str, list[Example]] = {}
        for example in members:
            by_label.setdefault(example.label, []).append(example)
        for label in sorted(by_label):
            ring = sorted(by_label[label], key=lambda example: hashlib.sha256(example.query.encode()).hexdigest())
            if len(ring) > 1:
                pairs[name] += [Example(example.row, example.query, ring[(i + 1) % len(ring)].query, label=label)
                                for i, example in enumerate(ring)]
        pairs[name].sort(key=lambda example: example.row)
    return pairs, {name: [(example.query, example.label) for example in members] for name, members in labelled.items()}


def split_data(data: UserData) -> Split:
    """The split of a validated file; too few rows for a test split or a training batch is an error naming the file."""
    if data.kind == "pairs":
        split = Split(split_pairs(data.examples), {})
    else:
        split = Split(*split_labelled(data.examples))
    if len(split.pairs["test"]) < MIN_TEST_PAIRS or not split.pairs["train"]:
        raise DataError(f"{data.path}: {len(data.examples)} rows give {split.sizes()} pairs per split (about "
                        f"{FRACTIONS[2]:.0%} of the distinct texts go to the test split); at least {MIN_TEST_PAIRS} test "
                        "pairs and one training pair are needed: give more rows")
    return split
