"""MEDI records: the official json format, validated, read and written (the ground floor of the training data).

A MEDI record is `{"query": [instruction, text], "pos": [instruction, text], "neg": [instruction, text],
"task_name": str}`; the released `medi-data.json` may name the dataset `task_id` and add a 0/1 flag after
each text.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .files import atomic_write_text

RECORD_FIELDS = ("query", "pos", "neg")


def validate_record(record, index: int, source: str = "records") -> dict:
    """Check one MEDI record and return it in canonical form (`task_name`, lists of two strings).

    Args:
        record: the parsed record.
        index: its position in the file, named in every error.
        source: the file or object it came from, named in every error.
    """
    where = f"{source}: record {index}"
    if not isinstance(record, dict):
        raise ValueError(f"{where} must be an object with query/pos/neg/task_name, got {type(record).__name__}")
    task = record.get("task_name", record.get("task_id"))
    if task is None:
        raise ValueError(f"{where} has no 'task_name' (or official 'task_id') field")
    if not isinstance(task, (str, int)) or isinstance(task, bool):
        raise ValueError(f"{where} field 'task_name' must be a string, got {type(task).__name__}")
    canonical = {}
    for field in RECORD_FIELDS:
        if field not in record:
            raise ValueError(f"{where} has no '{field}' field")
        value = record[field]
        # The released file also carries a third element (0 for queries, 1 for documents); it is dropped.
        if not isinstance(value, (list, tuple)) or len(value) not in (2, 3):
            raise ValueError(f"{where} field '{field}' must be a list [instruction, text], got {value!r:.80}")
        for position, name in enumerate(("instruction", "text")):
            if not isinstance(value[position], str):
                raise ValueError(f"{where} field '{field}' {name} must be a string, got {type(value[position]).__name__}")
        canonical[field] = [value[0], value[1]]
    canonical["task_name"] = str(task)
    return canonical


def load_medi(path: str | os.PathLike) -> list[dict]:
    """Read a MEDI json file (ours, or the official `medi-data.json`, possibly from a URL) and validate it.

    Args:
        path: a local file path, or an http(s) URL (needs internet) of a json list of records.
    Returns the records with `task_name` set (copied from `task_id` for the official file).
    """
    text, source = _read_text(path)
    try:
        records = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{source}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})") from err
    if not isinstance(records, list):
        raise ValueError(f"{source}: a MEDI file is a JSON list of records, got {type(records).__name__}")
    return [validate_record(record, index, source) for index, record in enumerate(records)]


def write_medi(records: list[dict], path: str | os.PathLike) -> Path:
    """Validate `records` and write them as the official MEDI json list (UTF-8, one record per line).

    The output is deterministic: same records in the same order give byte-identical files.
    """
    path = Path(path)
    canonical = [validate_record(record, index, "write_medi") for index, record in enumerate(records)]
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({field: record[field] for field in (*RECORD_FIELDS, "task_name")}, ensure_ascii=False)
             for record in canonical]
    atomic_write_text(path, "[\n" + ",\n".join(lines) + "\n]\n")
    return path


def _read_text(path) -> tuple[str, str]:
    source = str(path)
    if source.startswith(("http://", "https://")):
        from urllib.request import urlopen

        with urlopen(source) as response:  # the official file is ~1 GB; streaming it is the caller's choice
            return response.read().decode("utf-8"), source
    return Path(path).read_text(encoding="utf-8"), source
