"""The MEDI mixture an experiment trains on (`instructor_lib.medi.build_medi`), built and hashed once per
(preset, variant) in a process, and what the build_medi notebook shows of it: its first records, headline
numbers and records per dataset."""
from __future__ import annotations

import functools

import pandas as pd
import plotly.express as px

from ...data import MediDataset
from ...medi import MediResult, build_medi, table5_superni_share
from .configs import check_parameters


def build_mixture(preset: str = "cpu", variant: str = "full") -> MediResult:
    """The MEDI mixture of a preset and variant (`instructor_lib.medi.build_medi`; mined embeddings are cached)."""
    check_parameters(preset, variant)
    return build_medi(preset, variant=variant)


@functools.lru_cache(maxsize=1)
def training_records(preset: str, variant: str) -> list[dict]:
    """The records of `build_mixture(preset, variant)` (a canonical variant), built once and kept until another
    mixture is asked for: the experiments ask for one variant's seeds in a row, and a paper-scale mixture holds
    ~1.4M records, too many to keep every variant's."""
    return build_mixture(preset, variant).records


@functools.cache
def mixture_sha256(preset: str, variant: str) -> str:
    """The hash of the training records of MEDI `variant` (a canonical variant) of `preset`
    (`data.MediDataset.sha256`), computed once per (preset, variant) in a process: a run's config includes it, so a
    changed mixture is a new run."""
    return MediDataset(training_records(preset, variant)).sha256()


def mixture_examples(mixture: MediResult, per_dataset: int = 1, chars: int = 120) -> pd.DataFrame:
    """A table of the first `per_dataset` records of every dataset: instruction and text of query, pos and neg."""
    rows, seen = [], {}
    for record in mixture.records:
        name = record["task_name"]
        if seen.get(name, 0) >= per_dataset:
            continue
        seen[name] = seen.get(name, 0) + 1
        row = {"dataset": name, "query instruction": record["query"][0]}
        row.update({side: record[side][1][:chars] for side in ("query", "pos", "neg")})
        rows.append(row)
    return pd.DataFrame(rows)


def mixture_metrics(mixture: MediResult) -> dict:
    """Headline numbers of a mixture: records, datasets, super-NI tasks, records and share of the records beside
    the share paper Table 5 implies over the embedding datasets it holds (`superni_share_table5`; None without
    super-NI), symmetric share, build time."""
    stats = mixture.stats
    symmetric = int(stats.loc[stats["symmetric"] == "symmetric", "records"].sum())
    superni = int(stats.loc[stats["kind"] == "superni", "records"].sum())
    present = stats.loc[(stats["kind"] == "embedding") & (stats["records"] > 0), "dataset"]
    table5 = table5_superni_share(present) if (stats["kind"] == "superni").any() else None
    return {"records": len(mixture.records), "embedding_datasets": int((stats["kind"] == "embedding").sum()),
            "superni_tasks": int((stats["kind"] == "superni").sum()), "superni_records": superni,
            "superni_share": superni / max(1, len(mixture.records)), "superni_share_table5": table5,
            "symmetric_share": symmetric / max(1, len(mixture.records)),
            "dropped_eval_overlap": int(stats["dropped_eval_overlap"].sum()), "build_seconds": mixture.seconds,
            "excluded": mixture.excluded}


def mixture_figure(mixture: MediResult):
    """Records per dataset (super-NI tasks folded into one bar), coloured by symmetric / asymmetric."""
    summary = mixture.summary()
    return px.bar(summary, x="dataset", y="records", color="symmetric", title="MEDI mixture: records per dataset")
