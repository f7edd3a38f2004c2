"""The MEDI build driver: `build_medi` and its command line (the record format itself: `instructor_lib.records`).

`build_medi` turns the real sources (sources.py) into records: a seeded sample per dataset capped in proportion
to the paper's sizes, and as many super-NI tasks as the preset names or Table 5's share gives (sampling.py),
negatives mined with pairs.py, instructions from instructions.py, sources that share a pool with an evaluation test
set left out and pairs holding an evaluation test text skipped (leakage.py), for a variant's selection and
instruction level (variants.py).
"""
from __future__ import annotations

import json
import os
import sys
import time
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from .. import presets
from ..config import data_dir as resolve_data_dir, progress_bar
from ..provenance import cache_dir as cache_dir_for, library_versions, sha256_file, sha256_json
from ..files import atomic_write_text
from ..records import write_medi
from ..precision import resolve_precision
from .leakage import eval_overlap, leaky_sources, overlap_index
from .pairs import embed_many
from .sampling import (SUPERNI_MIN_INSTANCES, SUPERNI_TASK_SIZE, TABLE5_RULE, TABLE5_SHARE, cap_for, plan_embedding,
                       plan_superni, select_superni, table5_superni_share, table5_superni_tasks)
from .sources import EMBEDDING_SOURCES, read_superni_manifest, superni_task_paths
from .variants import VARIANTS, canonical_variant, in_selection, parse_variant


@dataclass
class MediResult:
    """A built mixture: the records, one stats row per dataset, and what is needed to reproduce it.

    `stats` columns: dataset, source (data folders), kind (embedding/superni), symmetric, available (pairs
    or instances read), cap, records, given_negatives (from the data, e.g. NLI contradictions), unmined (no
    usable negative/positive), query_instruction, doc_instruction, classification (super-NI rule), notes
    (rows read but not used, and why), dropped_eval_overlap.
    `overlap`: per evaluation task, how many distinct training texts also occur in its test data.
    """

    records: list[dict]
    stats: "pandas.DataFrame"
    overlap: "pandas.DataFrame"
    config: dict
    data_hashes: dict[str, str]
    versions: dict[str, str]
    excluded: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> "pandas.DataFrame":
        """The stats table with the super-NI tasks folded into one row."""
        import pandas as pd

        embedding = self.stats[self.stats["kind"] == "embedding"]
        superni = self.stats[self.stats["kind"] == "superni"]
        rows = [embedding]
        if len(superni):
            rows.append(pd.DataFrame([{
                "dataset": f"super-NI ({len(superni)} tasks)", "source": "superni", "kind": "superni",
                "symmetric": "symmetric",
                "available": int(superni["available"].sum()), "cap": int(superni["cap"].sum()),
                "records": int(superni["records"].sum()), "given_negatives": 0, "unmined": int(superni["unmined"].sum()),
                "dropped_eval_overlap": int(superni["dropped_eval_overlap"].sum()),
                "query_instruction": superni["query_instruction"].iloc[0][:60] + "...",
                "doc_instruction": "(same)", "notes": f"{int(superni['classification'].sum())} classification tasks"}]))
        return pd.concat(rows, ignore_index=True)

    def write(self, out: str | os.PathLike) -> Path:
        """Write the records (`out`, official MEDI json), the stats (`.stats.csv`) and the metadata (`.meta.json`)."""
        out = write_medi(self.records, out)
        atomic_write_text(out.with_suffix(".stats.csv"), self.stats.to_csv(index=False))
        config_sha256 = sha256_json(self.config)
        meta = {"config": self.config, "config_sha256": config_sha256, "data_hashes": self.data_hashes,
                "versions": self.versions, "excluded": self.excluded, "records_sha256": sha256_file(out),
                "build_seconds": self.seconds,
                "overlap": self.overlap.to_dict(orient="records")}
        atomic_write_text(out.with_suffix(".meta.json"), json.dumps(meta, indent=2, sort_keys=True) + "\n")
        return out


def build_medi(preset_or_scale: str | float = "cpu", variant: str = "full", data_dir=None, seed: int = 0,
               out=None, cache_dir=None, eval_tasks=None, model=None, superni_tasks: int | str | None = None,
               drop_eval_overlap: bool = True, show_progress_bar: bool | None = None) -> MediResult:
    """Build the MEDI mixture from the real data under `<data_dir>/train`.

    Args:
        preset_or_scale: "smoke" (tiny random miner, a few hundred records, seconds), "cpu" (the default
            backbone as miner, float32, a few thousand records, minutes), "paper" (every available example),
            or a float `scale` (the cpu preset's settings with caps ceil(scale * reference size)).
        variant: a selection "full" / "no_superni" / "symmetric_only" / "asymmetric_only" (detailed
            instructions); "no_instructions" (= level "none"); an instruction level "none"/"tag"/"simple"/
            "detailed" on the full mixture; or "<selection>:<level>" (see `parse_variant`).
        data_dir: folder holding train/ and eval/ (see `instructor_lib.config.data_dir`).
        seed: sampling seed; the same seed and inputs give byte-identical output.
        out: optional path; the result is also written there (see MediResult.write).
        cache_dir: where mined embeddings are cached by content hash (default: `$INSTRUCTOR_CACHE/medi`).
        eval_tasks: evaluation task names in the suite, for the leakage guard; None = every task folder
            under <data_dir>/eval; [] disables the guard.
        model: the miner (an Instructor); None = the preset's miner.
        superni_tasks: number of super-NI tasks (default: the preset's; 300 for paper; for cpu "table5", the count
            that gives super-NI its Table 5 share of the records, see `sampling.table5_superni_tasks`).
        drop_eval_overlap: skip pairs holding an evaluation test text while sampling (the next pair is taken, so
            caps still fill); False keeps them. The overlap table reports them either way.
        show_progress_bar: progress over datasets (None = when stderr is a terminal).
    """
    import pandas as pd

    selection, level = parse_variant(variant)
    variant = canonical_variant(variant)
    settings = preset_settings(preset_or_scale)
    if superni_tasks is not None:
        settings = dataclasses.replace(settings, superni_tasks=superni_tasks)
    root = resolve_data_dir(data_dir)
    train_dir = root / "train"
    suite = sorted(p.name for p in (root / "eval").iterdir() if p.is_dir()) if eval_tasks is None and (root / "eval").is_dir() \
        else sorted(eval_tasks or [])
    cache_dir = Path(cache_dir) if cache_dir is not None else cache_dir_for("medi")
    miner = _miner(model, settings)
    fingerprint = miner.fingerprint()
    # the mined pairs (and so the records) depend on the precision: "auto" is resolved and recorded
    settings = dataclasses.replace(settings, precision=resolve_precision(settings.precision, next(miner.parameters()).device))
    started = time.time()

    excluded = leaky_sources(suite)
    datasets = [name for name in EMBEDDING_SOURCES if name not in excluded and in_selection(name, selection)]
    show = show_progress_bar if show_progress_bar is not None else sys.stderr.isatty()
    # the leakage guard acts while sampling: a pair holding an evaluation test text is skipped and the next one
    # taken, so a dataset still fills its cap (and its training batch)
    index = overlap_index(root / "eval", suite) if drop_eval_overlap else None
    plans = [plan_embedding(name, train_dir, settings, level, seed, index) for name in datasets]
    task_cap = cap_for(SUPERNI_TASK_SIZE, settings.scale, settings.min_cap)
    with_superni = in_selection("superni", selection)
    count, rule = superni_count(settings.superni_tasks, {name: plan.sampled for name, plan in zip(datasets, plans)},
                                task_cap) if with_superni else (0, {})
    manifest = {row["task"]: row for row in read_superni_manifest(train_dir)}
    tasks = select_superni(manifest, count, suite, excluded, max(SUPERNI_MIN_INSTANCES, settings.min_cap),
                           settings.max_definition_chars) if with_superni else []
    task_paths = superni_task_paths(train_dir)
    plans += [plan_superni(task_paths[name], task_cap, settings, level, seed, index)
              for name in progress_bar(tasks, desc="read super-NI", disable=not show)]
    embeddings = iter(embed_many(miner, [texts for plan in plans for texts in plan.to_embed], cache_dir,
                                 settings.precision, fingerprint=fingerprint, show_progress_bar=show))
    records, skipped, rows, files = [], [], [], set()
    for plan in plans:
        new, row, used = plan.finish([next(embeddings) for _ in plan.to_embed])
        records += new
        skipped += plan.skipped
        rows.append({**row, "dropped_eval_overlap": len(plan.skipped)})
        files.update(used)

    overlap, _ = eval_overlap(skipped + records, root / "eval", suite)  # what the guard skipped, or let through
    stats = pd.DataFrame(rows)
    config = {"preset": preset_or_scale, **dataclasses.asdict(settings), "variant": variant, "level": level, "seed": seed,
              "eval_tasks": suite, "drop_eval_overlap": drop_eval_overlap, "miner": getattr(miner, "name_or_path", None),
              "miner_fingerprint": fingerprint, **rule}
    hashes = {str(path.relative_to(root)) if path.is_relative_to(root) else str(path): sha256_file(path) for path in sorted(files)}
    result = MediResult(records, stats, overlap, config, hashes, library_versions(), excluded,
                        seconds=round(time.time() - started, 1))
    if out is not None:
        result.write(out)
    return result


def superni_count(superni_tasks: int | str, embedding_records: dict[str, int], task_cap: int) -> tuple[int, dict]:
    """The number of super-NI tasks and, under the Table 5 rule (`superni_tasks` "table5"), what the build's config
    records of it: the rule, the share Table 5 implies over the embedding datasets present, the tasks it gives.
    A count is used as given (and recorded as the preset's `superni_tasks` alone)."""
    if superni_tasks != TABLE5_SHARE:
        return int(superni_tasks), {}
    count = table5_superni_tasks(embedding_records, task_cap)
    share = table5_superni_share(name for name, sampled in embedding_records.items() if sampled)
    return count, {"superni_rule": TABLE5_RULE, "superni_share_table5": share, "superni_tasks_chosen": count}


def preset_settings(preset_or_scale) -> presets.MediBuildSettings:
    """The MEDI settings of a preset name, or the cpu preset's with a float `scale` in (0, 1]."""
    if isinstance(preset_or_scale, str):
        if preset_or_scale not in presets.PRESETS:
            raise ValueError(f"preset must be one of {sorted(presets.PRESETS)} or a float scale, got {preset_or_scale!r}")
        return presets.medi_settings(preset_or_scale)
    scale = float(preset_or_scale)
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], got {scale}")
    return dataclasses.replace(presets.medi_settings("cpu"), scale=scale)


def _miner(model, settings):
    """The model that mines negatives: `model`, else the preset's (a tiny random BERT, or the default backbone
    cut to the preset's `max_tokens`)."""
    if model is not None:
        return model
    if settings.miner == "tiny":
        from ..tiny import tiny_bert

        return tiny_bert(seed=0, max_seq_length=settings.max_tokens or 128)
    from ..model import Instructor

    miner = Instructor.from_pretrained(None)
    if settings.max_tokens:
        miner.max_seq_length = min(miner.max_seq_length, settings.max_tokens)
    return miner


# ---------------------------------------------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> MediResult:
    """Command line: build the mixture, optionally write it, print the stats and overlap tables."""
    import argparse

    import pandas as pd

    parser = argparse.ArgumentParser(prog="python -m instructor_lib.medi", description=main.__doc__)
    parser.add_argument("--preset", default="cpu", help="smoke, cpu, paper, or a float scale")
    parser.add_argument("--variant", default="full", choices=VARIANTS)
    parser.add_argument("--out", default=None, help="write the MEDI json here (+ .stats.csv, .meta.json)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-tasks", nargs="*", default=None, help="evaluation suite for the leakage guard")
    args = parser.parse_args(argv)
    try:
        preset = args.preset if args.preset in presets.PRESETS else float(args.preset)
    except ValueError:
        parser.error(f"--preset must be one of {sorted(presets.PRESETS)} or a float scale in (0, 1], got {args.preset!r}")
    result = build_medi(preset, args.variant, data_dir=args.data_dir, seed=args.seed, out=args.out,
                        cache_dir=args.cache_dir, eval_tasks=args.eval_tasks)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_colwidth", 48,
                           "display.max_rows", 100):
        print(result.summary().drop(columns=["kind", "doc_instruction", "classification"]).to_string(index=False))
        print(f"\n{len(result.records)} records, built in {result.seconds} s")
        flagged = result.overlap[result.overlap["overlapping_texts"] > 0]
        print("\nexact-text overlap with evaluation test sets:" if len(flagged) else "\nno exact-text overlap with evaluation test sets")
        if len(flagged):
            print(flagged.to_string(index=False))
        for name, reason in result.excluded.items():
            print(f"excluded {name}: {reason}")
    return result
