"""Where the reports go and in what order they are read: the names the runner, the index and the pictures share."""
from __future__ import annotations

import os
from pathlib import Path

from ... import presets
from ...config import PROJECT_ROOT

REPORTS_DIR = PROJECT_ROOT / "reports"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
CACHE_DIR = PROJECT_ROOT / "runs" / "reports"  # this checkout's record of the notebooks it ran
COMMITTED_PRESET = "cpu"  # the preset whose reports are committed in reports/; the others go to reports/<preset>/
# Reading order of the reports in the index; notebooks not listed here follow, alphabetically.
REPORT_ORDER = ("build_medi", "train", "main_table", "pilot", "data_ablation", "robustness", "instruction_detail",
                "ablation", "pooling", "scaling", "embedding_viz", "playground", "finetune")
# Run only when named (`--only pilot`, `make pilot`): the scale pilot trains 16 models, more than the rest of a
# cold `make reproduce` could add within its budget; its committed report is the record of how the scale was chosen.
# finetune trains on the user's own file (`make finetune DATA=...`): not part of the paper's reproduction.
ON_DEMAND = ("pilot", "finetune")
CLAIMS_FILE = "claims.json"  # every report's claims with their verdicts, gathered by `index.write_index`


def report_order_key(name: str) -> tuple[int, str]:
    """Sort key of a report: its place in REPORT_ORDER, then (for the unlisted ones) its name."""
    return (REPORT_ORDER.index(name) if name in REPORT_ORDER else len(REPORT_ORDER), name)


def notebook_names(notebooks_dir: str | os.PathLike = NOTEBOOKS_DIR) -> list[str]:
    """Notebook names (file stems) in report order."""
    return sorted((path.stem for path in Path(notebooks_dir).glob("*.ipynb")), key=report_order_key)


def reports_dir_for(preset: str) -> Path:
    """Where a preset's reports go: `reports/` for the committed cpu preset, `reports/<preset>/` for the others."""
    presets.preset(preset)  # an unknown name fails here, listing the three
    return REPORTS_DIR if preset == COMMITTED_PRESET else REPORTS_DIR / preset
