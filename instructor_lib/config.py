"""Project-wide settings: where the data lives and what the default backbone is."""
from __future__ import annotations

import hashlib
import os
import platform
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """Resolve the data directory (holding `train/` and `eval/`).

    Order: the explicit `path`, then `$INSTRUCTOR_DATA_DIR`, then `../shared/data` next to the project, then
    the copy that `python -m instructor_lib.datasets fetch` writes (`data_cache_dir()`). An explicit setting
    (argument or environment variable) that is not a folder is an error, never a fallback.
    Raises FileNotFoundError naming the places it looked.
    """
    if path is not None:
        candidates = [("argument", Path(path))]
    elif os.environ.get("INSTRUCTOR_DATA_DIR"):
        candidates = [("INSTRUCTOR_DATA_DIR", Path(os.environ["INSTRUCTOR_DATA_DIR"]))]
    else:
        candidates = [("default", PROJECT_ROOT.parent / "shared" / "data"), ("fetched copy", data_cache_dir())]
    for _, candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    looked = ", ".join(f"{how}: {p}" for how, p in candidates)
    raise FileNotFoundError(
        f"No data directory found (looked at {looked}). Set INSTRUCTOR_DATA_DIR (or pass data_dir) to a folder "
        "holding `train/` and `eval/`, or download one with `python -m instructor_lib.datasets fetch` (see README, 'Data')."
    )


def progress_bar(iterable=None, *, disable: bool = False, **kwargs):
    """A tqdm bar (a widget in notebooks) that `$TQDM_DISABLE` also turns off: tqdm itself honours the variable
    only where `disable` is not passed, and a bar left in a papermill run ends up in the committed report."""
    from tqdm.auto import tqdm

    return tqdm(iterable, disable=disable or bool(os.environ.get("TQDM_DISABLE")), **kwargs)


def cache_root() -> Path:
    """The cache root: `$INSTRUCTOR_CACHE`, else ~/.cache/instructor_lib."""
    return Path(os.environ.get("INSTRUCTOR_CACHE", "~/.cache/instructor_lib")).expanduser()


def data_cache_dir() -> Path:
    """Where `python -m instructor_lib.datasets fetch` writes the data directory by default."""
    return cache_root() / "data"


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cpu_name() -> str:
    """The CPU model (from /proc/cpuinfo on Linux), for benchmark and result records."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape a result, recorded next to every result.

    `data-manifest` is the sha256 of instructor_lib/data_manifest.json, the data directory the code expects.
    """
    import importlib.metadata as md

    from .datasets import manifest_sha256

    versions = {"python": platform.python_version()}
    for name in ("torch", "transformers", "sentence-transformers", "mteb", "numpy", "scikit-learn", "instructor-lib"):
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = "not installed"
    versions["data-manifest"] = manifest_sha256()
    return versions
