"""What a result was computed from: hashes of files, folders and configs, library versions, the machine, and the
one cache root (`$INSTRUCTOR_CACHE`, else ~/.cache/instructor_lib) under which every cache lives."""
from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_MANIFEST = PACKAGE_DIR / "data_manifest.json"  # the data directory the code expects (instructor_lib.datadir)


def cache_root() -> Path:
    """The cache root: `$INSTRUCTOR_CACHE`, else ~/.cache/instructor_lib."""
    return Path(os.environ.get("INSTRUCTOR_CACHE", "~/.cache/instructor_lib")).expanduser()


def cache_dir(kind: str) -> Path:
    """The cache of one kind of work (`eval`, `medi`, `data`, `models`) under the cache root."""
    return cache_root() / kind


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_json(value) -> str:
    """sha256 of the canonical JSON of `value`: key order and whitespace do not matter, paths are strings."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def config_hash(config: dict) -> str:
    """Short stable name of a JSON-able config: the first 16 hex digits of `sha256_json`."""
    return sha256_json(config)[:16]


def folder_hash(folder: str | os.PathLike, pattern: str = "*") -> str:
    """sha256 over the relative name and sha256 of every file matching `pattern` under `folder`, in name order."""
    folder = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob(pattern) if p.is_file()):
        digest.update(f"{path.relative_to(folder)}\0{sha256_file(path)}\n".encode())
    return digest.hexdigest()


def library_sha256() -> str:
    """Hash of the library's Python sources: a code change invalidates cached reports."""
    return folder_hash(PACKAGE_DIR, "*.py")


def cpu_name() -> str:
    """The CPU model (from /proc/cpuinfo on Linux), for benchmark and result records."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit(root: str | os.PathLike = PACKAGE_DIR.parent) -> str | None:
    """The short commit hash of the checkout at `root`, with "-dirty" when its library or notebooks have
    uncommitted changes (reports are written beside them, so their own changes do not count); None outside git."""
    def git(*args):
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30)

    try:
        head = git("rev-parse", "--short=12", "HEAD")
    except (OSError, subprocess.TimeoutExpired):
        return None
    if head.returncode != 0:
        return None
    changed = git("status", "--porcelain", "--", "instructor_lib", "notebooks").stdout.strip()
    return head.stdout.strip() + ("-dirty" if changed else "")


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape a result, recorded next to every result.

    `data-manifest` is the sha256 of instructor_lib/data_manifest.json, the data directory the code expects.
    """
    import importlib.metadata as md

    versions = {"python": platform.python_version()}
    for name in ("torch", "transformers", "sentence-transformers", "mteb", "numpy", "scikit-learn", "instructor-lib"):
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = "not installed"
    versions["data-manifest"] = sha256_file(DATA_MANIFEST)
    return versions
