"""The MEDI mixture builder and the leakage check (the record format itself: `instructor_lib.records`).

`build_medi` turns the real sources (sources.py) into such records: a seeded sample per dataset
capped in proportion to the paper's sizes, negatives mined with pairs.py, instructions from instructions.py,
sources that share a pool with an evaluation test set left out, and records whose text occurs in an
evaluation test set dropped.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import sys
import time
import dataclasses
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .. import presets, readers
from ..config import data_dir as resolve_data_dir, progress_bar
from ..provenance import cache_dir as cache_dir_for, library_versions, sha256_file, sha256_json
from ..files import atomic_write_text
from ..records import RECORD_FIELDS, write_medi
from ..instructions import LEVELS, SYMMETRIC, embedding_instructions, superni_instruction
from ..precision import resolve_precision
from .pairs import NONE, embed_many, is_classification, mine_negatives, superni_pairs
from .sources import EMBEDDING_SOURCES, read_source, read_superni_manifest, read_superni_task, superni_task_paths

# ------------------------------------------------------------------------------------------- the builder
# Paper Table 5: MEDI's training instances per dataset, the caps at scale 1 (caps are ceil(scale * size), so one
# `scale` sets them all). quora_duplicates is not in MEDI: it stands in for stackexchange and WikiAnswers, the
# duplicate-question sets, 25,000 each there. Super-NI: 180,000 instances over 300 tasks, 600 per task.
REFERENCE_SIZES = {
    "AllNLI": 50_000, "squad_pairs": 25_000, "NQ": 50_000, "fever": 75_000, "pubmed": 30_000, "agnews": 45_000,
    "amazon_review_2018": 100_000, "code_search": 15_000, "simple_wiki": 5_000, "flickr30k_captions": 25_000,
    "quora_duplicates": 25_000, "specter_train_triples": 50_000, "S2ORC_title_abstract": 100_000, "xsum": 10_000,
}
SUPERNI_TASK_SIZE = 180_000 // 300
SUPERNI_MIN_INSTANCES = 32   # a task needs enough instances for a neighbour to be a real positive
XSUM_TASK = "task1290_xsum_summarization"  # used as the xsum embedding dataset, not as a super-NI task

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

SELECTIONS = ("full", "no_superni", "symmetric_only", "asymmetric_only")  # which datasets a mixture keeps
# A variant is a selection (instructions at the detailed level), "no_instructions", an instruction level on the
# full mixture, or "<selection>:<level>" (e.g. "symmetric_only:none", paper Fig. 3 without instructions).
VARIANTS = (*SELECTIONS, "no_instructions", *LEVELS, *(f"{name}:none" for name in SELECTIONS[1:]))


def parse_variant(variant: str) -> tuple[str, str]:
    """(selection, instruction level) of a variant; an unknown one is an error listing the forms."""
    selection, _, level = str(variant).partition(":")
    if not level:
        selection, level = (("full", "none") if variant == "no_instructions" else ("full", variant)
                            if variant in LEVELS else (variant, "detailed"))
    if selection not in SELECTIONS or level not in LEVELS:
        raise ValueError(f"variant must be a selection ({', '.join(SELECTIONS)}), 'no_instructions', a level "
                         f"({', '.join(LEVELS)}) or '<selection>:<level>', got {variant!r}")
    return selection, level


def canonical_variant(variant: str) -> str:
    """The one name of a variant ("detailed" and "full:detailed" are "full"; "none" is "no_instructions")."""
    selection, level = parse_variant(variant)
    if level == "detailed":
        return selection
    if selection == "full":
        return "no_instructions" if level == "none" else level
    return f"{selection}:{level}"

@dataclass
class MediResult:
    """A built mixture: the records, one stats row per dataset, and what is needed to reproduce it.

    `stats` columns: dataset, source (data folders), kind (embedding/superni), symmetric, available (pairs
    or instances read), cap, records, given_negatives (from the data, e.g. NLI contradictions), unmined (no
    usable negative/positive), query_instruction, doc_instruction, classification (super-NI rule), notes
    (rows read but not used, and why), dropped_eval_overlap.
    `overlap`: per evaluation task, how many distinct training texts also occur in its test data.
    """

    records: list[dict]
    stats: "pandas.DataFrame"
    overlap: "pandas.DataFrame"
    config: dict
    data_hashes: dict[str, str]
    versions: dict[str, str]
    excluded: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> "pandas.DataFrame":
        """The stats table with the super-NI tasks folded into one row."""
        import pandas as pd

        embedding = self.stats[self.stats["kind"] == "embedding"]
        superni = self.stats[self.stats["kind"] == "superni"]
        rows = [embedding]
        if len(superni):
            rows.append(pd.DataFrame([{
                "dataset": f"super-NI ({len(superni)} tasks)", "source": "superni", "kind": "superni",
                "symmetric": "symmetric",
                "available": int(superni["available"].sum()), "cap": int(superni["cap"].sum()),
                "records": int(superni["records"].sum()), "given_negatives": 0, "unmined": int(superni["unmined"].sum()),
                "dropped_eval_overlap": int(superni["dropped_eval_overlap"].sum()),
                "query_instruction": superni["query_instruction"].iloc[0][:60] + "...",
                "doc_instruction": "(same)", "notes": f"{int(superni['classification'].sum())} classification tasks"}]))
        return pd.concat(rows, ignore_index=True)

    def write(self, out: str | os.PathLike) -> Path:
        """Write the records (`out`, official MEDI json), the stats (`.stats.csv`) and the metadata (`.meta.json`)."""
        out = write_medi(self.records, out)
        atomic_write_text(out.with_suffix(".stats.csv"), self.stats.to_csv(index=False))
        config_sha256 = sha256_json(self.config)
        meta = {"config": self.config, "config_sha256": config_sha256, "data_hashes": self.data_hashes,
                "versions": self.versions, "excluded": self.excluded, "records_sha256": sha256_file(out),
                "build_seconds": self.seconds,
                "overlap": self.overlap.to_dict(orient="records")}
        atomic_write_text(out.with_suffix(".meta.json"), json.dumps(meta, indent=2, sort_keys=True) + "\n")
        return out


def build_medi(preset_or_scale: str | float = "cpu", variant: str = "full", data_dir=None, seed: int = 0,
               out=None, cache_dir=None, eval_tasks=None, model=None, superni_tasks: int | None = None,
               drop_eval_overlap: bool = True, show_progress_bar: bool | None = None) -> MediResult:
    """Build the MEDI mixture from the real data under `<data_dir>/train`.

    Args:
        preset_or_scale: "smoke" (tiny random miner, a few hundred records, seconds), "cpu" (the default
            backbone as miner, float32, a few thousand records, minutes), "paper" (every available example),
            or a float `scale` (the cpu preset's settings with caps ceil(scale * reference size)).
        variant: a selection "full" / "no_superni" / "symmetric_only" / "asymmetric_only" (detailed
            instructions); "no_instructions" (= level "none"); an instruction level "none"/"tag"/"simple"/
            "detailed" on the full mixture; or "<selection>:<level>" (see `parse_variant`).
        data_dir: folder holding train/ and eval/ (see `instructor_lib.config.data_dir`).
        seed: sampling seed; the same seed and inputs give byte-identical output.
        out: optional path; the result is also written there (see MediResult.write).
        cache_dir: where mined embeddings are cached by content hash (default: `$INSTRUCTOR_CACHE/medi`).
        eval_tasks: evaluation task names in the suite, for the leakage guard; None = every task folder
            under <data_dir>/eval; [] disables the guard.
        model: the miner (an Instructor); None = the preset's miner.
        superni_tasks: number of super-NI tasks (default: the preset's; 300 for paper, 30 for cpu).
        drop_eval_overlap: skip pairs holding an evaluation test text while sampling (the next pair is taken, so
            caps still fill); False keeps them. The overlap table reports them either way.
        show_progress_bar: progress over datasets (None = when stderr is a terminal).
    """
    import pandas as pd

    selection, level = parse_variant(variant)
    variant = canonical_variant(variant)
    settings = _preset(preset_or_scale)
    if superni_tasks is not None:
        settings = dataclasses.replace(settings, superni_tasks=superni_tasks)
    root = resolve_data_dir(data_dir)
    train_dir = root / "train"
    suite = sorted(p.name for p in (root / "eval").iterdir() if p.is_dir()) if eval_tasks is None and (root / "eval").is_dir() \
        else sorted(eval_tasks or [])
    cache_dir = Path(cache_dir) if cache_dir is not None else cache_dir_for("medi")
    miner = _miner(model, settings)
    fingerprint = miner.fingerprint()
    # the mined pairs (and so the records) depend on the precision: "auto" is resolved and recorded
    settings = dataclasses.replace(settings, precision=resolve_precision(settings.precision, next(miner.parameters()).device))
    started = time.time()

    excluded = {name: f"shares its pool with evaluation task(s) {sorted(tasks & set(suite))}"
                for name, tasks in LEAKY_SOURCES.items() if tasks & set(suite)}
    datasets = [name for name in EMBEDDING_SOURCES if name not in excluded and _selected(name, selection)]
    manifest = {row["task"]: row for row in read_superni_manifest(train_dir)}
    tasks = _select_superni(manifest, settings.superni_tasks, suite, excluded,
                            max(SUPERNI_MIN_INSTANCES, settings.min_cap),
                            settings.max_definition_chars) if _selected("superni", selection) else []

    show = show_progress_bar if show_progress_bar is not None else sys.stderr.isatty()
    # the leakage guard acts while sampling: a pair holding an evaluation test text is skipped and the next one
    # taken, so a dataset still fills its cap (and its training batch)
    index = overlap_index(root / "eval", suite) if drop_eval_overlap else None
    plans = [_plan_embedding(name, train_dir, settings, level, seed, index) for name in datasets]
    task_paths = superni_task_paths(train_dir)
    plans += [_plan_superni(task_paths[name], cap_for(SUPERNI_TASK_SIZE, settings.scale, settings.min_cap),
                            settings, level, seed, index) for name in progress_bar(tasks, desc="read super-NI", disable=not show)]
    embeddings = iter(embed_many(miner, [texts for to_embed, *_ in plans for texts in to_embed], cache_dir,
                                 settings.precision, fingerprint=fingerprint, show_progress_bar=show))
    records, skipped, rows, files = [], [], [], set()
    for to_embed, finish, leaky in plans:
        new, row, used = finish([next(embeddings) for _ in to_embed])
        records += new
        skipped += leaky
        rows.append({**row, "dropped_eval_overlap": len(leaky)})
        files.update(used)

    overlap, _ = eval_overlap(skipped + records, root / "eval", suite)  # what the guard skipped, or let through
    stats = pd.DataFrame(rows)
    config = {"preset": preset_or_scale, **dataclasses.asdict(settings), "variant": variant, "level": level, "seed": seed,
              "eval_tasks": suite, "drop_eval_overlap": drop_eval_overlap, "miner": getattr(miner, "name_or_path", None),
              "miner_fingerprint": fingerprint}
    hashes = {str(path.relative_to(root)) if path.is_relative_to(root) else str(path): sha256_file(path) for path in sorted(files)}
    result = MediResult(records, stats, overlap, config, hashes, library_versions(), excluded,
                        seconds=round(time.time() - started, 1))
    if out is not None:
        result.write(out)
    return result


# --------------------------------------------------------------------------------------------- helpers
def _preset(preset_or_scale) -> presets.MediBuildSettings:
    if isinstance(preset_or_scale, str):
        if preset_or_scale not in presets.PRESETS:
            raise ValueError(f"preset must be one of {sorted(presets.PRESETS)} or a float scale, got {preset_or_scale!r}")
        return presets.medi_settings(preset_or_scale)
    scale = float(preset_or_scale)
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], got {scale}")
    return dataclasses.replace(presets.medi_settings("cpu"), scale=scale)


def _miner(model, settings):
    if model is not None:
        return model
    if settings.miner == "tiny":
        from ..tiny import tiny_bert

        return tiny_bert(seed=0, max_seq_length=settings.max_tokens or 128)
    from ..model import Instructor

    miner = Instructor.from_pretrained(None)
    if settings.max_tokens:
        miner.max_seq_length = min(miner.max_seq_length, settings.max_tokens)
    return miner


def _selected(name: str, selection: str) -> bool:
    if selection == "no_superni":
        return name != "superni"
    if selection == "symmetric_only":
        return name in SYMMETRIC
    if selection == "asymmetric_only":
        return name not in SYMMETRIC
    return True


def _rng(seed: int, name: str) -> np.random.Generator:
    """A generator per (seed, dataset): one dataset's sample does not depend on which others are built."""
    return np.random.default_rng([seed, int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)])


def cap_for(reference_size: int, scale: float, min_cap: int = 1) -> int:
    """Records kept for a dataset: ceil(scale * its Table 5 size), at least min_cap (and 1)."""
    return max(1, min_cap, math.ceil(scale * reference_size))


def _pool_size(cap: int, available: int, settings: presets.MediBuildSettings) -> int:
    return min(available, max(cap * settings.pool_factor, settings.min_pool, cap))


def _clean_prefix(candidates, size: int, texts, index) -> tuple[list, list]:
    """The first `size` candidates (in their order) none of whose `texts(candidate)` leaks an evaluation test
    text (`leaks`), and the leaking ones met on the way."""
    kept, leaking = [], []
    for candidate in candidates:
        if len(kept) == size:
            break
        (leaking if leaks(texts(candidate), index) else kept).append(candidate)
    return kept, leaking


def _plan_embedding(name, train_dir, settings, level, seed, index=None):
    """Plan one embedding dataset: a seeded sample of `cap` pairs whose negatives are mined in a larger pool,
    skipping pairs that hold an evaluation test text (`index`: `overlap_index`; None: no guard).

    Returns (lists of texts to embed, finish, skipped records), where finish(embeddings of those lists) gives
    (records, stats row, files read). Planning first keeps the seeded sampling apart from the embedding, whose
    lists `embed_many` embeds (and caches) one by one.
    """
    data = read_source(name, train_dir)
    cap = cap_for(REFERENCE_SIZES[name], settings.scale, settings.min_cap)
    order = _rng(seed, name).permutation(len(data.pairs))
    pool, leaking = _clean_prefix((data.pairs[i] for i in order), _pool_size(cap, len(data.pairs), settings),
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
    return to_embed, finish, skipped


def _select_superni(manifest: dict[str, dict], count: int, suite: list[str], excluded: dict,
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
        leaks = {source for source in row.get("source", []) if LEAKY_SUPERNI_SOURCES.get(source, set()) & set(suite)}
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


def _plan_superni(path, cap, settings, level, seed, index=None):
    """Plan one super-NI task: a seeded pool of instances (skipping those whose input holds an evaluation test
    text); the first `cap` get pairs from `superni_pairs`.

    Returns (lists of texts to embed, finish, skipped records) like `_plan_embedding`; a classification task
    embeds no outputs.
    """
    task = read_superni_task(path)
    order = _rng(seed, task.name).permutation(len(task.inputs))
    kept, leaking = _clean_prefix(order, _pool_size(cap, len(task.inputs), settings), lambda i: (task.inputs[i],), index)
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
    return [inputs] if classification else [inputs, outputs], finish, skipped


# ------------------------------------------------------------------------------------------ leakage check
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

# ---------------------------------------------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> MediResult:
    """Command line: build the mixture, optionally write it, print the stats and overlap tables."""
    import argparse

    import pandas as pd

    parser = argparse.ArgumentParser(prog="python -m instructor_lib.medi", description=main.__doc__)
    parser.add_argument("--preset", default="cpu", help="smoke, cpu, paper, or a float scale")
    parser.add_argument("--variant", default="full", choices=VARIANTS)
    parser.add_argument("--out", default=None, help="write the MEDI json here (+ .stats.csv, .meta.json)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-tasks", nargs="*", default=None, help="evaluation suite for the leakage guard")
    args = parser.parse_args(argv)
    try:
        preset = args.preset if args.preset in presets.PRESETS else float(args.preset)
    except ValueError:
        parser.error(f"--preset must be one of {sorted(presets.PRESETS)} or a float scale in (0, 1], got {args.preset!r}")
    result = build_medi(preset, args.variant, data_dir=args.data_dir, seed=args.seed, out=args.out,
                        cache_dir=args.cache_dir, eval_tasks=args.eval_tasks)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_colwidth", 48,
                           "display.max_rows", 100):
        print(result.summary().drop(columns=["kind", "doc_instruction", "classification"]).to_string(index=False))
        print(f"\n{len(result.records)} records, built in {result.seconds} s")
        flagged = result.overlap[result.overlap["overlapping_texts"] > 0]
        print("\nexact-text overlap with evaluation test sets:" if len(flagged) else "\nno exact-text overlap with evaluation test sets")
        if len(flagged):
            print(flagged.to_string(index=False))
        for name, reason in result.excluded.items():
            print(f"excluded {name}: {reason}")
    return result
