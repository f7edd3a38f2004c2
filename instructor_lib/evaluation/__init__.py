"""MTEB evaluation with per-task instructions, offline on the local benchmark copies.

    from instructor_lib.evaluation import evaluate
    results = evaluate(model, suite="cpu", instructions="paper", output_dir="runs/eval")

`results` is a dict: per-task scores ("tasks"), category averages ("categories"), the overall average
("average") and "metadata" (model fingerprint, instruction set, data hashes, subsample sizes, library
versions, timing, and "generated_instructions": the tasks the instruction set did not hold, with the
instructions generated for them from their mteb metadata). With `bootstrap=B`, each task also gets B replicate
scores on resampled test examples ("bootstrap" per task; per category and overall in results["bootstrap"]),
computed per example from the one mteb run (see `evaluation.bootstrap`). Finished results are cached by a hash of
model + suite + instructions + settings + data, task by task, so a rerun with the same inputs is free and an
interrupted run resumes.
"""
from __future__ import annotations

import json
import logging
import time
import warnings
from pathlib import Path

from ..provenance import cache_dir, library_versions, sha256_json
from ..files import atomic_write_json
from ..model import Instructor
from ..precision import precision_record
from .adapter import InstructorEncoder
from .bootstrap import summarize, task_bootstrap
from .instruction_sets import InstructionSet, generated_instruction, get_instruction_set
from .report import aggregate
from .suite import SUITES, TASKS, Subsample, build_suite, resolve_suite, suite_fingerprint

__all__ = ["evaluate", "run_task", "InstructorEncoder", "InstructionSet", "get_instruction_set", "SUITES", "TASKS",
           "Subsample", "build_suite"]

logger = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    return cache_dir("eval")


def _main_scores(task_result, split: str) -> dict[str, float]:
    return {entry["hf_subset"]: 100.0 * float(entry["main_score"]) for entry in task_result.scores[split]}


def evaluate(model: Instructor | str | None = None, suite: str | dict | list = "cpu", instructions="paper",
             output_dir: str | Path | None = None, *, precision: str = "auto", batch_size: int = 64,
             seed: int = 42, data_dir: str | Path | None = None, source: str = "local", hub_loader=None,
             cache_dir: str | Path | None = None, use_cache: bool = True, strict_instructions: bool = False,
             bootstrap: int = 0, bootstrap_seed: int = 0) -> dict:
    """Evaluate `model` on a suite of MTEB tasks with an instruction set; return (and save) the results.

    Args:
        model: an `Instructor`, a path / hub id for `Instructor.from_pretrained`, or None (default backbone).
        suite: a suite name ("smoke", "cpu", "exact", "full"), a list of task names, or {task: Subsample}; a
            `Subsample(part="dev", ...)` scores the task's dev part (a preset's `dev_suite`; docs/evaluation.md).
        instructions: "paper", "paper:<model>", "none", "paraphrase-1".."paraphrase-5", a dict, or an InstructionSet.
        output_dir: if given, results are written to `<output_dir>/results.json` (and a cached copy is kept).
        precision: "auto" (bfloat16 only where this machine runs it faster), "float32" or "bfloat16"; the
            resolved precision keys the cache and is recorded with the results.
        batch_size: encode batch size.
        seed: subsampling and mteb's few-shot sampling seed.
        data_dir: folder holding `eval/` (default `instructor_lib.config.data_dir()`).
        source: "local" (local copies) or "hub" (mteb's downloads; needs internet or `hub_loader`).
        hub_loader: stub for mteb's downloader in hub mode (see `suite.build_task`).
        cache_dir: where finished task results are cached (default `$INSTRUCTOR_CACHE/eval` or ~/.cache/instructor_lib/eval).
        use_cache: False recomputes even when a cached result exists (and refreshes it).
        strict_instructions: raise for a task the instruction set does not hold, instead of generating its
            instruction from the task's mteb metadata (see `InstructorEncoder`).
        bootstrap: when > 0, also compute this many replicate scores of every task on its test examples resampled
            with replacement (`evaluation.bootstrap`: per-example statistics from the embeddings of the one mteb
            run; pair classification bootstraps cosine AP, classification replays mteb's few-shot protocol,
            clustering resamples whole sets). Per task in `results["tasks"][name]["bootstrap"]` (0-100 scale),
            per category and overall in `results["bootstrap"]` ({"replicates": B, category: {"sd", "low",
            "high", "replicates"}, "Average": ...}: replicate r of a group is the mean of its tasks' replicate r,
            low/high its 2.5%/97.5% quantiles, sd with ddof=1). Cached beside each task's score.
        bootstrap_seed: seed of the resampling; the same seed gives every model the same resample indices on a
            task, so two models' replicates are paired.
    """
    if not isinstance(model, Instructor):
        model = Instructor.from_pretrained(model)
    instruction_set = get_instruction_set(instructions, data_dir)
    limits = resolve_suite(suite)
    tasks = build_suite(limits, seed=seed, data_dir=data_dir, source=source, hub_loader=hub_loader)
    fingerprint = model.fingerprint()
    cache = Path(cache_dir or default_cache_dir())
    precision_used = precision_record(precision, next(model.parameters()).device)
    precision = precision_used["resolved"]
    task_entries = {}
    for suite_task in tasks:
        key = _task_cache_key(fingerprint, suite_task, instruction_set, precision, seed, source)
        cache_file = cache / f"{key}.json"
        cached = _read_cache_entry(cache_file, key) if use_cache and cache_file.exists() else None
        boot_key = sha256_json({"task": key, "bootstrap": bootstrap, "seed": bootstrap_seed}) if bootstrap else None
        boot_file = cache / f"{key}.bootstrap-{boot_key}.json" if bootstrap else None
        boot_cached = _read_bootstrap_entry(boot_file, boot_key) if bootstrap and use_cache and boot_file.exists() else None
        if cached is not None and (not bootstrap or boot_cached is not None):
            task_entries[suite_task.spec.name] = cached if not bootstrap else {**cached, **boot_cached}
            logger.info("%s: loaded from cache %s", suite_task.spec.name, cache_file)
            continue
        memo = {} if bootstrap else None  # this task's embeddings, for its bootstrap
        encoder = InstructorEncoder(model, instruction_set, precision=precision, batch_size=batch_size,
                                    strict=strict_instructions, memo=memo, fingerprint=fingerprint)
        entry, scores = run_task(encoder, suite_task, batch_size)
        entry["cache_key"] = key
        atomic_write_json(cache_file, entry)
        task_entries[suite_task.spec.name] = entry
        if bootstrap:
            tick = time.time()
            entry["bootstrap"] = _bootstrap_task(memo, suite_task, entry, scores, bootstrap, bootstrap_seed)
            entry["bootstrap_seconds"] = round(time.time() - tick, 3)
            atomic_write_json(boot_file, {"cache_key": boot_key, "replicates": entry["bootstrap"],
                                          "seconds": entry["bootstrap_seconds"]})
        logger.info("%s: %.2f (%.1fs)", suite_task.spec.name, entry["score"], entry["seconds"])
    summary = aggregate({name: {"category": e["category"], "score": e["score"]} for name, e in task_entries.items()})
    boot_summary = {"bootstrap": summarize({name: e["bootstrap"] for name, e in task_entries.items()},
                                           {name: e["category"] for name, e in task_entries.items()})} if bootstrap else {}
    results = {
        "tasks": task_entries, **summary, **boot_summary,
        "metadata": {
            "model": model.name_or_path, "model_fingerprint": fingerprint,
            "suite": suite if isinstance(suite, str) else "custom", "suite_limits": suite_fingerprint(limits),
            "instructions": {"name": instruction_set.name, "source": instruction_set.source},
            "precision": precision_used, "batch_size": batch_size, "seed": seed, "source": source,
            "bootstrap": {"replicates": bootstrap, "seed": bootstrap_seed},
            "data_hashes": {t.spec.name: t.data_hash for t in tasks}, "library_versions": library_versions(),
            "task_seconds": round(sum(e["seconds"] for e in task_entries.values()), 1),
            "generated_instructions": {name: e["generated_instructions"] for name, e in task_entries.items()
                                       if e.get("generated_instructions")},
        },
    }
    _save(results, output_dir)
    return results


def _read_cache_entry(path: Path, key: str) -> dict | None:
    """A cached task result; one that does not parse (or is not this key's) is recomputed with a warning."""
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(entry, dict) or entry.get("cache_key") != key or not isinstance(entry.get("score"), float):
            raise ValueError("not a task result of this cache key")
    except (ValueError, UnicodeDecodeError) as err:
        warnings.warn(f"evaluation cache entry {path} is damaged ({err}); recomputing it")
        return None
    return entry


def _read_bootstrap_entry(path: Path, key: str) -> dict | None:
    """Cached bootstrap replicates of a task; a damaged entry is recomputed (with the task) with a warning."""
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(entry, dict) or entry.get("cache_key") != key or not isinstance(entry.get("replicates"), list):
            raise ValueError("not bootstrap replicates of this cache key")
    except (ValueError, UnicodeDecodeError) as err:
        warnings.warn(f"evaluation cache entry {path} is damaged ({err}); recomputing it")
        return None
    return {"bootstrap": entry["replicates"], "bootstrap_seconds": entry.get("seconds")}


def _bootstrap_task(memo: dict, suite_task, entry: dict, scores: dict, n_resamples: int, seed: int) -> list[float]:
    """The task's replicate scores from `memo`, the embeddings its encoder remembered during its mteb run."""
    subset = suite_task.spec.published_subset
    boot = task_bootstrap(suite_task.task, memo, subset, entry["split"], scores[subset], n_resamples, seed)
    if abs(boot["full_sample"] - entry["score"]) > 0.05 and entry["category"] != "PairClassification":
        logger.warning("%s: the bootstrap's full-sample statistic %.4f differs from mteb's score %.4f",
                       suite_task.spec.name, boot["full_sample"], entry["score"])
    return boot["replicates"]


def _task_cache_key(fingerprint: str, suite_task, instruction_set: InstructionSet, precision: str, seed: int,
                    source: str) -> str:
    """Hash of everything that determines one task's score (the batch size does not: embeddings are batch-invariant)."""
    spec = suite_task.spec
    if instruction_set.has_task(spec.name):
        instructions = {side: instruction_set.instruction(spec.name, side) if _has_side(instruction_set, spec.name, side) else None
                        for side in ("text", "query", "document")}
    else:  # the adapter will generate them from the task's metadata
        instructions = {side: generated_instruction(suite_task.task.metadata, side) for side in ("text", "query", "document")}
    key_source = {"model": fingerprint, "task": spec.name, "limits": suite_task.limits.record(), "data": suite_task.data_hash,
                  "instructions": instructions, "precision": precision, "seed": seed, "source": source}
    return sha256_json(key_source)


def _has_side(instruction_set: InstructionSet, task: str, side: str) -> bool:
    try:
        instruction_set.instruction(task, side)
    except KeyError:
        return False
    return True


def run_task(encoder: InstructorEncoder, suite_task, batch_size: int) -> tuple[dict, dict]:
    """Run one task through mteb: its result entry and mteb's score entries of its split ({subset: scores}).

    The entry's instructions are those `encoder` logged for this task; `evaluate` builds one encoder per task,
    so a memo handed to it holds that task's embeddings only.
    """
    import mteb

    task, spec = suite_task.task, suite_task.spec
    tick = time.time()
    run = mteb.evaluate(encoder, task, cache=None, raise_error=True, show_progress_bar=False,
                        encode_kwargs={"batch_size": batch_size, "show_progress_bar": False})
    split = suite_task.split
    subset_scores = _main_scores(run.task_results[0], split)
    scores = {entry["hf_subset"]: entry for entry in run.task_results[0].scores[split]}
    return {
        "official_task": spec.official, "category": task.metadata.type, "status": spec.status,
        "main_score": task.metadata.main_score, "split": split, "score": subset_scores[spec.published_subset],
        "subset_scores": subset_scores, "sizes": suite_task.sizes, "limits": suite_task.limits.record(),
        "data_hash": suite_task.data_hash, "seconds": round(time.time() - tick, 2),
        "instructions": {side: text for (name, side), text in encoder.used_instructions.items() if name == task.metadata.name},
        "generated_instructions": {side: text for (name, side), text in encoder.generated_instructions.items()
                                   if name == task.metadata.name},
        "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }, scores


def _save(results: dict, output_dir: str | Path | None) -> None:
    if output_dir is not None:
        atomic_write_json(Path(output_dir) / "results.json", results)
