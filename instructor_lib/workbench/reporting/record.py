"""What a notebook calls to record its results: `write_metrics`, the metrics file a report is built from (its
headline box, provenance and inputs too; see `frame`). Light on purpose: a notebook importing it loads no papermill, nbconvert
or nbformat, so running a notebook by hand does not pull in the report runner."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from ...config import data_dir as resolve_data_dir
from ...files import atomic_write_json
from ...precision import precision_record
from ...provenance import config_hash, library_versions, sha256_file


def lookup(metrics: dict, dotted_key: str):
    """`metrics["a"]["b"]` for the key "a.b"; a missing part is a KeyError naming the whole key."""
    value = metrics
    for part in dotted_key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(f"headline key {dotted_key!r}: no {part!r} in the metrics")
        value = value[part]
    return value


def write_metrics(path: str | os.PathLike, metrics: dict, config: dict, headline: list[str] | tuple[str, ...] = (),
                  data_files: list[str] | tuple[str, ...] = (), suite: dict | None = None) -> dict:
    """Record a notebook's results with what is needed to reproduce them; write JSON to `path` ("" = don't write).

    Args:
        metrics: the results (JSON-able).
        config: every setting that shaped them (seeds included); its hash is stored beside it. What precision
            "auto" resolves to on this machine is recorded too.
        headline: dotted keys into `metrics` shown in the report index, e.g. "embedding.with.silhouette".
        data_files: input files whose sha256 is recorded: absolute paths, or paths relative to the data dir
            (`instructor_lib.config.data_dir`); files under the data dir are named relative to it.
        suite: the evaluation suite the claims were scored on, as `experiments.suite_inputs` gives it (its name,
            and per task the subsample sizes and the instruction of each side); the report lists it in full.
    Returns the record.
    """
    record = {"metrics": metrics, "headline": {key: lookup(metrics, key) for key in headline}, "config": config,
              "config_hash": config_hash(config), "data_sha256": data_hashes(data_files),
              "precision": precision_record(), "versions": library_versions(), "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if suite is not None:
        record["suite"] = suite
    if path:
        atomic_write_json(path, record, indent=1)
    return record


def data_hashes(files) -> dict[str, str]:
    """sha256 of each file (absolute, or relative to the data dir), named relative to the data dir when under it."""
    hashes = {}
    for file in files:
        path = Path(file) if Path(file).is_absolute() else resolve_data_dir() / file
        try:
            name = str(path.resolve().relative_to(resolve_data_dir()))
        except (ValueError, FileNotFoundError):  # outside the data dir, or no data dir at all
            name = str(path)
        hashes[name] = sha256_file(path)
    return hashes
