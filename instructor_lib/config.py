"""Project-wide settings: where the project and the data live, progress bars."""
from __future__ import annotations

import os
from pathlib import Path

from .provenance import cache_dir

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RUNS_ENV = "INSTRUCTOR_RUNS_DIR"


def runs_root() -> Path:
    """Where training runs go: `$INSTRUCTOR_RUNS_DIR`, else `runs/` at the project root (read at each call, so
    the test suite can point it, and the notebook kernels it starts, at a temporary folder)."""
    return Path(os.environ.get(RUNS_ENV) or PROJECT_ROOT / "runs")


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """Resolve the data directory (holding `train/` and `eval/`).

    Order: the explicit `path`, then `$INSTRUCTOR_DATA_DIR`, then `../shared/data` next to the project, then
    the copy that `python -m instructor_lib.datadir fetch` writes (`data_cache_dir()`). An explicit setting
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
        "holding `train/` and `eval/`, or download one with `python -m instructor_lib.datadir fetch` (see docs/data.md)."
    )


def progress_bar(iterable=None, *, disable: bool = False, **kwargs):
    """A tqdm bar (a widget in notebooks) that `$TQDM_DISABLE` also turns off: tqdm itself honours the variable
    only where `disable` is not passed, and a bar left in a papermill run ends up in the committed report."""
    from tqdm.auto import tqdm

    return tqdm(iterable, disable=disable or bool(os.environ.get("TQDM_DISABLE")), **kwargs)


def data_cache_dir() -> Path:
    """Where `python -m instructor_lib.datadir fetch` writes the data directory by default."""
    return cache_dir("data")
