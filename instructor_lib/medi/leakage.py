"""The leakage guard: training texts that overlap evaluation test sets are kept out of MEDI.

Two checks. A training source built on the same pool as an evaluation task in the suite is left out whole
(`LEAKY_SOURCES`, `LEAKY_SUPERNI_SOURCES`). Any training pair holding an evaluation test text (after
`normalise_text`: equal, or containing one of at least MIN_CONTAINED_WORDS words) is skipped while sampling
(`overlap_index`, `leaks`, `clean_prefix`); `eval_overlap` reports what remains, or was skipped, per task.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from .. import readers
from ..records import RECORD_FIELDS

# Leakage guard: a training source is left out when an evaluation task built on the same pool is in the suite.
LEAKY_SOURCES = {  # MEDI dataset -> evaluation tasks sharing its pool (see the SOURCE.md cautions)
    "NQ": {"NQ", "NQRetrieval", "NaturalQuestions"},
    "fever": {"FEVER", "FEVERRetrieval", "FEVERHardNegatives"},
    "quora_duplicates": {"QuoraRetrieval", "QuoraRetrievalHardNegatives"},
}
LEAKY_SUPERNI_SOURCES = {  # super-NI `Source` -> evaluation tasks built on the same dataset
    "natural_questions": LEAKY_SOURCES["NQ"],
    "sts_b": {"STSBenchmark"},
    "emotion": {"EmotionClassification"},
    "mrpc": {"STS12", "STSBenchmark"},  # STS 2012's MSRpar pairs come from MRPC, and STS-B reuses them
}


def leaky_sources(suite: list[str]) -> dict[str, str]:
    """The MEDI datasets left out because an evaluation task of the suite shares their pool, with the reason."""
    return {name: f"shares its pool with evaluation task(s) {sorted(tasks & set(suite))}"
            for name, tasks in LEAKY_SOURCES.items() if tasks & set(suite)}


def leaky_superni_sources(sources, suite: list[str]) -> set[str]:
    """The super-NI `Source`s among `sources` that feed an evaluation task of the suite."""
    return {source for source in sources if LEAKY_SUPERNI_SOURCES.get(source, set()) & set(suite)}


MIN_OVERLAP_WORDS = 4  # shorter strings (labels, scores, ids, one-word answers) are not counted as texts
MIN_CONTAINED_WORDS = 8  # a test text this long found inside a training text counts too (shorter: a common phrase)
NOT_DATA = ("source.md", "readme", "license", "00-readme")


def normalise_text(text: str) -> str:
    """Lower-cased alphanumeric words joined by one space: tokenisation and punctuation do not hide a match."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _file_strings(path: Path):
    """Every field of an evaluation data file (json, jsonl, csv, else TAB-separated lines; gzip or not).

    A file is read by its syntax (its extension), not by its task's reader in `readers`: the guard counts every
    column, also those no evaluation uses (ids, sources, abstracts of title-only tasks), so nothing of a test
    file can slip into training unnoticed.
    """
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".json"):
        yield from _strings(json.loads(readers.read_text(path)))
    elif name.endswith(".jsonl"):
        for _, record in readers.jsonl_records(path):
            yield from _strings(record)
    elif name.endswith(".csv"):
        for _, fields in readers.csv_records(path):
            yield from fields
    else:
        for line in readers.lines(path):
            yield from line.split("\t")


@lru_cache(maxsize=None)
def eval_test_texts(task_dir: Path) -> frozenset[str]:
    """Normalised texts (>= MIN_OVERLAP_WORDS words) of an evaluation task's test data (cached per process).

    Files with "test" in their name are the test data; a folder without such a file (STS12-16, BIOSSES,
    clustering sets, SciFact) is test data as a whole. Documentation and licence files are skipped.
    """
    files = [p for p in sorted(task_dir.iterdir()) if p.is_file() and not p.name.lower().startswith(NOT_DATA)
             and not p.name.lower().endswith(".md")]
    tests = [p for p in files if "test" in p.name.lower()] or files
    texts = set()
    for path in tests:
        for value in _file_strings(path):
            normalised = normalise_text(value)
            if normalised.count(" ") + 1 >= MIN_OVERLAP_WORDS:
                texts.add(normalised)
    return frozenset(texts)


def _test_texts_in(text: str, exact: dict[str, set[str]], long_by_start: dict[tuple[str, ...], list[str]]) -> set[str]:
    """The test texts a normalised training text equals (`exact`: text -> tasks), or holds as a run of whole
    words (`long_by_start`: the texts of >= MIN_CONTAINED_WORDS words keyed by their first MIN_OVERLAP_WORDS)."""
    found = {text} if text in exact else set()
    words = text.split(" ")
    offset = 0
    for position in range(len(words) - MIN_CONTAINED_WORDS + 1):
        for candidate in long_by_start.get(tuple(words[position:position + MIN_OVERLAP_WORDS]), ()):
            end = offset + len(candidate)
            if text.startswith(candidate, offset) and (end == len(text) or text[end] == " "):
                found.add(candidate)
        offset += len(words[position]) + 1
    return found


def overlap_index(eval_dir: Path, eval_tasks: list[str]) -> tuple[dict[str, set[str]], dict[tuple[str, ...], list[str]]]:
    """The evaluation test texts of the tasks present under `eval_dir`: (text -> the tasks holding it, the texts
    of >= MIN_CONTAINED_WORDS words keyed by their first MIN_OVERLAP_WORDS words), for `_test_texts_in`."""
    tasks_of, long_by_start = {}, {}
    for task in eval_tasks:
        if (Path(eval_dir) / task).is_dir():
            for text in eval_test_texts(Path(eval_dir) / task):
                tasks_of.setdefault(text, set()).add(task)
    for text in tasks_of:
        words = text.split(" ")
        if len(words) >= MIN_CONTAINED_WORDS:
            long_by_start.setdefault(tuple(words[:MIN_OVERLAP_WORDS]), []).append(text)
    return tasks_of, long_by_start


def leaks(texts, index) -> bool:
    """Whether any of these raw texts holds an evaluation test text (`overlap_index`); None = no index."""
    return index is not None and any(_test_texts_in(normalise_text(text), *index) for text in texts if text)


def clean_prefix(candidates, size: int, texts, index) -> tuple[list, list]:
    """The first `size` candidates (in their order) none of whose `texts(candidate)` leaks an evaluation test
    text (`leaks`), and the leaking ones met on the way."""
    kept, leaking = [], []
    for candidate in candidates:
        if len(kept) == size:
            break
        (leaking if leaks(texts(candidate), index) else kept).append(candidate)
    return kept, leaking


def eval_overlap(records: list[dict], eval_dir: Path, eval_tasks: list[str]):
    """Overlap (after `normalise_text`) between training records and evaluation test sets: a record text that
    equals a test text, or contains one of at least MIN_CONTAINED_WORDS words (super-NI tasks embed test
    sentences in a prompt: task1288_glue_mrpc_paraphrasing holds STS12's MSRpar pairs as "Sentence 1: ...").

    Returns (a DataFrame with one row per evaluation task: test_texts, overlapping test texts, the training
    datasets involved and an example; the set of record indices that contain such a text).
    """
    import pandas as pd

    tasks_of, long_by_start = overlap_index(eval_dir, eval_tasks)
    hits = {task: {} for task in eval_tasks if (Path(eval_dir) / task).is_dir()}  # task -> record -> test texts
    for index, record in enumerate(records):
        for side in RECORD_FIELDS:
            for text in _test_texts_in(normalise_text(record[side][1]), tasks_of, long_by_start):
                for task in tasks_of[text]:
                    hits[task].setdefault(index, set()).add(text)
    rows = []
    for task in eval_tasks:
        if task not in hits:
            rows.append({"eval_task": task, "test_texts": 0, "overlapping_texts": 0, "training_datasets": "",
                         "example": "(no local data: not checked)"})
            continue
        shared = set().union(*hits[task].values())
        rows.append({"eval_task": task, "test_texts": len(eval_test_texts(Path(eval_dir) / task)),
                     "overlapping_texts": len(shared),
                     "training_datasets": ", ".join(sorted({records[i]["task_name"] for i in hits[task]})),
                     "example": min(shared, default="")[:80]})
    columns = ["eval_task", "test_texts", "overlapping_texts", "training_datasets", "example"]
    return pd.DataFrame(rows, columns=columns), {index for task_hits in hits.values() for index in task_hits}
