"""Your own variant, without editing the library: a data selection (a list of MEDI datasets), a training
instruction map (dataset -> instruction), evaluation instructions (task -> instruction) and the pooling
("text": INSTRUCTOR's mean over the text tokens; "all": over instruction and text).

`custom_variant(...)` turns the notebook parameters (a JSON text, a JSON file's path, a comma-separated list)
into a checked dict holding only the settings that differ from the built-in variant: {} for the defaults, so
a default run's config, hash and run directory stay exactly as they were. A non-empty dict joins the
experiment config under "custom" (its hash names the run), and is applied to the records (`custom_records`),
the starting model (`apply_pooling`) and the evaluation instructions (`eval_instructions`).
"""
from __future__ import annotations

import json
from pathlib import Path

from ...evaluation.instruction_sets import InstructionSet, get_instruction_set
from ...files import read_json
from ...medi.sources import EMBEDDING_SOURCES
from ...model import POOLINGS
from ...provenance import sha256_json

SUPERNI = "superni"  # stands for every super-NI task of the mixture
DATASETS = (*EMBEDDING_SOURCES, SUPERNI)
SIDES = ("query", "document")


def mapping(value, what: str) -> dict:
    """A dict from a dict, a JSON object text, or the path of a JSON file holding one ("" or None: {})."""
    if not value:
        return {}
    if isinstance(value, str):
        value = json.loads(value) if value.lstrip().startswith("{") else read_json(Path(value), f"fix the {what} file")
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a JSON object (name -> instruction), got {type(value).__name__}")
    return value


def dataset_list(value) -> list[str]:
    """MEDI dataset names from a list or a comma-separated text, checked and sorted ("" or None: [])."""
    names = [name.strip() for name in value.split(",")] if isinstance(value, str) else list(value or [])
    names = [name for name in names if name]
    unknown = [name for name in names if name not in DATASETS]
    if unknown:
        raise ValueError(f"unknown MEDI dataset(s) {unknown}; choose from {', '.join(DATASETS)}")
    return sorted(set(names))


def instruction_pair(dataset: str, value) -> list[str]:
    """[query instruction, document instruction] of a map entry: one string for both, or a [query, document] pair."""
    if isinstance(value, str):
        return [value, value]
    if isinstance(value, dict):
        value = [value.get(side) for side in SIDES]
    if not (isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(text, str) for text in value)):
        raise ValueError(f"training instruction of {dataset!r} must be a string or [query, document] strings, got {value!r}")
    return list(value)


def custom_variant(training_instructions="", datasets="", eval_instructions="", pooling: str = "text") -> dict:
    """The checked settings of your own variant that differ from the built-in one ({} for the defaults).

    Args:
        training_instructions: dataset -> instruction (or [query, document] instructions), as a dict, JSON text
            or a JSON file's path; the datasets it names train with these instead of the variant's.
        datasets: the MEDI datasets to train on (a list, or comma-separated; "superni" for its tasks); empty:
            the variant's selection.
        eval_instructions: task -> instruction (or {"query", "document"}), as a dict, JSON text or path; they
            replace the evaluation instructions of the tasks named.
        pooling: "text" (INSTRUCTOR's) or "all" (instruction tokens pooled too).
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    train_map = {name: instruction_pair(name, value) for name, value in mapping(training_instructions, "training instructions").items()}
    unknown = [name for name in train_map if name not in DATASETS]
    if unknown:
        raise ValueError(f"training instructions name unknown MEDI dataset(s) {unknown}; choose from {', '.join(DATASETS)}")
    eval_map = mapping(eval_instructions, "evaluation instructions")
    get_instruction_set(eval_map)  # a malformed entry fails here, naming its task
    custom = {"datasets": dataset_list(datasets), "training_instructions": dict(sorted(train_map.items())),
              "eval_instructions": dict(sorted(eval_map.items())), "pooling": pooling}
    return {key: value for key, value in custom.items() if value and value != "text"}


def name_suffix(custom: dict) -> str:
    """The run-name part of a custom variant: "-pooling-all", and "-custom-<hash>" when data or instructions change."""
    rest = {key: value for key, value in custom.items() if key != "pooling"}
    return ("-pooling-all" if custom.get("pooling") == "all" else "") + (f"-custom-{sha256_json(rest)[:8]}" if rest else "")


def dataset_of(task_name: str) -> str:
    """The MEDI dataset of a record: its task name, or "superni" for a super-NI task."""
    return task_name if task_name in EMBEDDING_SOURCES else SUPERNI


def custom_records(records: list[dict], custom: dict) -> list[dict]:
    """The records of the variant's mixture kept by the data selection, with the training instructions replaced."""
    keep = set(custom.get("datasets") or DATASETS)
    instructions = custom.get("training_instructions", {})
    out = []
    for record in records:
        dataset = dataset_of(record["task_name"])
        if dataset not in keep:
            continue
        if dataset in instructions:
            query, document = instructions[dataset]
            record = {**record, "query": [query, record["query"][1]], "pos": [document, record["pos"][1]],
                      "neg": [document, record["neg"][1]]}
        out.append(record)
    if not out:
        raise ValueError(f"the data selection {custom.get('datasets')} keeps no record of this mixture")
    return out


def apply_pooling(model, custom: dict):
    """`model` with the custom pooling set (in place; the default "text" otherwise)."""
    model.pooling = custom.get("pooling", "text")
    return model


def eval_instructions(base, custom: dict):
    """The instruction set to evaluate with: `base` (a set name) with the custom tasks' instructions replacing its own."""
    if not custom.get("eval_instructions"):
        return base
    base_set, user = get_instruction_set(base), get_instruction_set(custom["eval_instructions"])
    return InstructionSet(name=f"{base_set.name}+custom", table={**base_set.table, **user.table},
                          source=f"{base_set.source}+user {sha256_json(custom['eval_instructions'])[:12]}")
