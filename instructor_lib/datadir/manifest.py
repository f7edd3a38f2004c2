"""The manifest, `instructor_lib/data_manifest.json`: one entry per file of the data directory (relative path,
size, sha256, source and steps), built from the files and the tables of `upstream.py`, written one entry per line,
loaded, and hashed."""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import struct
from pathlib import Path

from ..provenance import DATA_MANIFEST, sha256_file
from .steps import apply_steps
from .upstream import (CONVERSIONS, CURATED_REASON, FOLDERS, GITHUB_ARCHIVE, GITHUB_RAW, MULTI_FILE_SOURCES,
                       RECORD_STEPS, SUPERNI_MAX_INSTANCES, UNREPRODUCIBLE, ZIP_FOLDERS)

MANIFEST_PATH = DATA_MANIFEST
MANIFEST_FORMAT = 1
# The manifest's "regenerate" field, as the committed manifest records it. The command is now
# `python -m instructor_lib.datadir manifest`; changing the field changes the manifest's sha256, which every result
# records as its `data-manifest` version.
REGENERATE = "python -m instructor_lib.datasets manifest --data-dir DIR"
UPSTREAM_TABLES = Path(__file__).with_name("upstream.py")  # where a new folder's source is declared


def _gzip_header(data: bytes) -> dict:
    flags, mtime, xfl, os_code = data[3], struct.unpack("<I", data[4:8])[0], data[8], data[9]
    if flags & ~8:
        raise ValueError(f"gzip header flags {flags:#x}: only FNAME is supported")
    filename = data[10:data.index(b"\0", 10)].decode("latin-1") if flags & 8 else None
    return {"mtime": mtime, "filename": filename, "os_code": os_code, "level": {2: 9, 4: 1}.get(xfl, 6)}


def _gzip_step(committed: bytes, content: bytes) -> tuple[dict, bool]:
    """The gzip step that rebuilds `committed` from `content`, and whether it does so bit for bit."""
    header = _gzip_header(committed)
    for deflate in ("zlib", "gnu-gzip"):
        step = {"op": "gzip", **header, "deflate": deflate}
        if apply_steps(content, [step]) == committed:
            return step, True
    return {"op": "gzip", **header, "deflate": "zlib"}, False


def superni_cut_tasks(root: Path) -> set[str]:
    """Tasks whose instances were cut (from the curators' train/superni/manifest.jsonl)."""
    rows = (json.loads(line) for line in (root / "train/superni/manifest.jsonl").read_text().splitlines())
    return {row["task"] for row in rows if row["instances_original"] > row["instances_kept"]}


def _source(relpath: str) -> dict | None:
    if relpath in MULTI_FILE_SOURCES:  # several upstream files make one file: `paths` and `urls` instead of one
        repo, commit, paths = MULTI_FILE_SOURCES[relpath]
        return {"repo": repo, "commit": commit, "paths": list(paths),
                "urls": [GITHUB_RAW.format(repo=repo, commit=commit, path=path) for path in paths]}
    folder, name = relpath.rsplit("/", 1)
    if folder not in FOLDERS:
        return None
    repo, commit, where = FOLDERS[folder]
    upstream_name = name[:-3] if name.endswith(".gz") else name
    if isinstance(where, dict):
        if upstream_name not in where:
            return None
        path = where[upstream_name]
    else:
        path = where.format(name=upstream_name)
    url = (GITHUB_ARCHIVE if relpath in CONVERSIONS else GITHUB_RAW).format(repo=repo, commit=commit, path=path)
    return {"repo": repo, "commit": commit, "path": path, "url": url}


def _unreproducible_reason(relpath: str) -> str | None:
    if relpath.endswith(("/SOURCE.md", "/INDEX.md")) or relpath == "eval/INSTRUCTIONS.md":
        return CURATED_REASON
    return UNREPRODUCIBLE.get(relpath)


def _steps_before_gzip(relpath: str, source: dict, cut_tasks: set[str]) -> list[dict]:
    steps = []
    if relpath.rsplit("/", 1)[0] in ZIP_FOLDERS:
        steps.append({"op": "zip_member", "member": Path(relpath).name.removesuffix(".gz")})
    if relpath in CONVERSIONS:  # a tarball's folder, or the bundle of a multi-file source with its repo and commit
        if "paths" in source:
            where = {"repo": source["repo"], "commit": source["commit"]}
        else:
            where = {"folder": source["path"]}
        steps.append({"op": "convert", "function": CONVERSIONS[relpath], **where})
    if relpath in RECORD_STEPS:
        steps.append(RECORD_STEPS[relpath])
    if relpath.startswith("train/superni/tasks/") and Path(relpath).name.removesuffix(".json.gz") in cut_tasks:
        steps.append({"op": "first_n_records", "format": "superni_task_json", "n": SUPERNI_MAX_INSTANCES})
    return steps


def manifest_entry(root: Path, relpath: str, cut_tasks: set[str]) -> dict:
    """One file's manifest entry: size and sha256 from the file, its source and steps from `upstream.py`'s tables.

    A `.gz` file gets the gzip step that rebuilds it bit for bit (tried here); when none does, the entry is
    checked by the hash of its decompressed content (`"sha256_of": "decompressed"`).
    """
    file = root / relpath
    entry = {"path": relpath, "size": file.stat().st_size, "sha256": sha256_file(file), "sha256_of": "file"}
    source = _source(relpath)
    reason = _unreproducible_reason(relpath)
    if reason:  # the source, where one is known, says what the file was made from
        known = {"source": source} if source and relpath in UNREPRODUCIBLE else {}
        return {**entry, **known, "reproducible": False, "reason": reason}
    if source is None:
        raise ValueError(f"{relpath}: no source known; add its folder to FOLDERS in {UPSTREAM_TABLES}")
    steps = _steps_before_gzip(relpath, source, cut_tasks)
    entry.update(source=source, reproducible=True)
    if relpath.endswith(".gz"):
        committed = file.read_bytes()
        content = gzip.decompress(committed)
        step, exact = _gzip_step(committed, content)
        steps.append(step)
        entry.update(content_sha256=hashlib.sha256(content).hexdigest(), sha256_of="file" if exact else "decompressed")
    entry["steps"] = steps or [{"op": "copy"}]
    return entry


def build_manifest(data_dir: str | os.PathLike) -> dict:
    """The manifest of a data directory: every file, with sizes and hashes read from the files."""
    root = Path(data_dir)
    cut_tasks = superni_cut_tasks(root)
    paths = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    return {"format": MANIFEST_FORMAT,
            "regenerate": REGENERATE,
            "files": [manifest_entry(root, relpath, cut_tasks) for relpath in paths]}


def write_manifest(data_dir: str | os.PathLike, path: str | os.PathLike = MANIFEST_PATH) -> dict:
    """Write the manifest of `data_dir` to `path`, one file entry per line (small diffs when data change)."""
    manifest = build_manifest(data_dir)
    head = json.dumps({key: value for key, value in manifest.items() if key != "files"}, ensure_ascii=False)
    lines = ",\n".join(json.dumps(entry, ensure_ascii=False) for entry in manifest["files"])
    Path(path).write_text(f'{head[:-1]}, "files": [\n{lines}\n]}}\n', encoding="utf-8")
    return manifest


def load_manifest(path: str | os.PathLike = MANIFEST_PATH) -> dict:
    manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    if manifest.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"{path}: manifest format {manifest.get('format')!r}, expected {MANIFEST_FORMAT}")
    return manifest


def manifest_sha256(path: str | os.PathLike = MANIFEST_PATH) -> str:
    """sha256 of the manifest file: records which data directory a result was computed on."""
    return sha256_file(path)

