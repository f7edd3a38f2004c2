"""An example file in the format `finetune` reads, exported from the local data directory as a user would
export their own: SciFact's training claims, each with the abstract it cites (query = claim, positive = title
and abstract). SciFact is an evaluation set here, not a MEDI training source, so the cpu mixture never trained
on it; its test claims (the evaluation suite's) are another file and are not used."""
from __future__ import annotations

import csv
from pathlib import Path

from ..config import data_dir as resolve_data_dir, runs_root
from ..files import atomic_path
from ..readers import scifact_claims, scifact_corpus

SCIFACT = Path("eval") / "SciFact"
SMOKE_ROWS = 200  # the smoke preset's example: seconds, not a minute


def example_data(path: str | Path | None = None, preset: str = "cpu", data_dir: str | Path | None = None) -> Path:
    """Write the example CSV (columns query, positive) to `path` (None: `<runs root>/finetune-example-<preset>.csv`);
    every pair, or the first SMOKE_ROWS for the smoke preset. Returns the path."""
    rows = SMOKE_ROWS if preset == "smoke" else None
    path = Path(path) if path else runs_root() / f"finetune-example-{preset}.csv"
    root = resolve_data_dir(data_dir) / SCIFACT
    abstracts = {doc_id: f"{title}. {text}" for doc_id, title, text in scifact_corpus(root / "corpus_train.csv.gz")}
    pairs = list(dict.fromkeys((claim, abstracts[doc_id]) for _, claim, cited in scifact_claims(root / "claims_train.csv")
                               for doc_id in cited if doc_id in abstracts))
    with atomic_path(path) as temporary, open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["query", "positive"])
        writer.writerows(pairs[:rows])
    return path
