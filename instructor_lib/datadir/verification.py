"""`verify`: a data directory against the manifest, file by file (missing, extra, changed)."""
from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..config import data_dir as resolve_data_dir
from ..provenance import sha256_file
from .manifest import load_manifest


def file_matches(file: Path, entry: dict) -> bool:
    """Whether a file is the one its manifest entry describes (for a `decompressed` entry: its content)."""
    if entry["sha256_of"] == "decompressed":
        return hashlib.sha256(gzip.decompress(file.read_bytes())).hexdigest() == entry["content_sha256"]
    return file.stat().st_size == entry["size"] and sha256_file(file) == entry["sha256"]


@dataclass
class VerifyReport:
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.changed)

    def lines(self) -> list[str]:
        return [f"{kind}: {path}" for kind in ("missing", "extra", "changed") for path in getattr(self, kind)]


def verify(data_dir: str | os.PathLike | None = None, manifest: dict | None = None,
           reproducible_only: bool = False) -> VerifyReport:
    """Compare a data directory with the manifest: files missing, extra (not in the manifest) and changed.

    `reproducible_only`: a missing file that `fetch` cannot reproduce is not a problem (a fetched directory).
    """
    root = resolve_data_dir(data_dir)
    entries = {entry["path"]: entry for entry in (manifest or load_manifest())["files"]}
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    missing = [path for path in sorted(set(entries) - present)
               if entries[path]["reproducible"] or not reproducible_only]
    report = VerifyReport(missing=missing, extra=sorted(present - set(entries)))
    report.changed = [path for path in sorted(present & set(entries)) if not file_matches(root / path, entries[path])]
    return report
