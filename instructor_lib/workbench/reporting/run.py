"""Executing the notebooks into reports: each runs with papermill in a staging folder and its files replace the
old report only once it has finished; a run this machine already made with the same config is reused."""
from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import tempfile
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

from ... import presets
from ...config import data_dir as resolve_data_dir
from ...files import atomic_write_json, atomic_write_text, fsync_dir
from ...precision import precision_record
from ...provenance import config_hash, cpu_name, git_commit, library_sha256, sha256_file
from ..experiments.configs import figure_steps
from .budget import plan
from .estimate import Calibration, announce, committed_calibration
from .frame import report_frame
from .html import NOTEBOOK_CSS, export_html
from .index import write_index
from .layout import CACHE_DIR, NOTEBOOKS_DIR, ON_DEMAND, notebook_names, reports_dir_for
from .progress import Progress, duration, progress_engine
from .screenshots import write_figures

STAGING_PREFIX = ".running-"  # a notebook executes in reports_dir/.running-*/ (git-ignored) until it has finished
REPORT_KINDS = ("ipynb", "html", "metrics.json", "run.json")
# The notebook kernel inherits these: figures as plain plotly JSON (turned into HTML here, against the shared
# plotly.js), and no progress bars.
KERNEL_ENV = {"PLOTLY_RENDERER": "plotly_mimetype", "TQDM_DISABLE": "1",
              "HF_DATASETS_DISABLE_PROGRESS_BARS": "1"}  # mteb's retrieval tasks map HF datasets with their own bars


@contextlib.contextmanager
def _environment(overrides: dict[str, str]):
    saved = {key: os.environ.get(key) for key in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _previous_record(path: Path) -> dict | None:
    """The run record of the last run, or None (with a warning when the file does not parse: it runs again)."""
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError as err:
        warnings.warn(f"{path} is damaged ({err}); running the notebook again")
        return None


def run_notebook(name: str, preset: str = "cpu", reports_dir: str | os.PathLike | None = None,
                 notebooks_dir: str | os.PathLike = NOTEBOOKS_DIR, parameters: dict | None = None,
                 force: bool = False, cache_dir: str | os.PathLike = CACHE_DIR, progress: Progress | None = None) -> dict:
    """Execute `notebooks_dir/NAME.ipynb` and export it to `reports_dir` (default `reports_dir_for(preset)`),
    unless this machine already did so with the same config (a marker in `cache_dir`) and the report is still
    there (`force` runs anyway).

    The notebook runs in `notebooks_dir` with parameters `preset`, `metrics_path` (where it writes its metrics,
    relative to `notebooks_dir`) and `parameters`; its outputs are written into a temporary folder of
    `reports_dir` and moved over the old report once it has finished, so an interrupted run changes nothing.
    `progress` (see `Progress`) is told when each cell starts.
    A failure is recorded (status "failed", the error, the partial report) rather than raised, so one broken
    notebook does not stop the others. Returns the run record.
    """
    reports_dir = Path(reports_dir if reports_dir is not None else reports_dir_for(preset)).resolve()
    config = notebook_config(name, preset, reports_dir, notebooks_dir, parameters)
    previous = None if force else cached_record(name, config, reports_dir, cache_dir)
    if previous:
        return {**previous, "cached": True}

    reports_dir.mkdir(parents=True, exist_ok=True)
    source = Path(notebooks_dir).resolve() / f"{name}.ipynb"
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{name}-", dir=reports_dir))
    try:
        record = _execute(name, source, staging, config, progress)
        _move_into_place(staging, reports_dir, name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if record["status"] == "ok":
        marker = _marker(name, config, cache_dir)
        marker.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(marker, str(reports_dir / f"{name}.run.json") + "\n")
    return record


def notebook_config(name: str, preset: str, reports_dir: Path, notebooks_dir: str | os.PathLike = NOTEBOOKS_DIR,
                    parameters: dict | None = None) -> dict:
    """What a notebook's run is keyed by (its hash names the cached run): notebook and library sources, preset,
    parameters (the metrics path under `reports_dir` included) and the precision "auto" resolves to here."""
    presets.preset(preset)  # an unknown name fails here, listing the three
    notebooks_dir = Path(notebooks_dir).resolve()
    source = notebooks_dir / f"{name}.ipynb"
    if not source.is_file():
        raise FileNotFoundError(f"no notebook {source}; available: {notebook_names(notebooks_dir)}")
    metrics_path = os.path.relpath(Path(reports_dir).resolve() / f"{name}.metrics.json", notebooks_dir)
    all_parameters = {"preset": preset, "metrics_path": metrics_path, **(parameters or {})}
    return {"notebook": name, "notebook_sha256": sha256_file(source), "library_sha256": library_sha256(),
            "preset": preset, "parameters": all_parameters, "precision": precision_record()["resolved"]}


def _marker(name: str, config: dict, cache_dir: str | os.PathLike) -> Path:
    return Path(cache_dir) / f"{name}-{config_hash(config)}.done"


def cached_record(name: str, config: dict, reports_dir: Path, cache_dir: str | os.PathLike = CACHE_DIR) -> dict | None:
    """The run record of this machine's finished run of `config` (see `notebook_config`) when its report is still
    in `reports_dir`, so running it again can be skipped; else None."""
    previous = _previous_record(Path(reports_dir) / f"{name}.run.json")
    done = (_marker(name, config, cache_dir).exists() and previous and previous.get("config_hash") == config_hash(config)
            and previous.get("status") == "ok"
            and all((Path(reports_dir) / f"{name}.{kind}").exists() for kind in ("html", "metrics.json")))
    return previous if done else None


def _execute(name: str, source: Path, staging: Path, config: dict, progress: Progress | None = None) -> dict:
    """Run the notebook with its outputs in `staging` (the metrics path pointed there); return the run record."""
    import papermill

    notebooks_dir, parameters = source.parent, config["parameters"]
    staged = {kind: staging / f"{name}.{kind}" for kind in REPORT_KINDS}
    staged_metrics = os.path.relpath(staged["metrics.json"], notebooks_dir)
    record = {"name": name, "preset": config["preset"], "config": config, "config_hash": config_hash(config),
              "precision": precision_record(),  # "auto" as the notebook's kernel resolves it on this machine
              "status": "ok", "error": "", "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "cached": False, "commit": git_commit(), "cpu": cpu_name(), "threads": torch_threads(),
              "figure_steps": figure_steps(config["preset"])}
    start = time.perf_counter()
    try:
        with _environment(KERNEL_ENV):
            papermill.execute_notebook(str(source), str(staged["ipynb"]), parameters={**parameters, "metrics_path": staged_metrics},
                                       kernel_name="python3", progress_bar=False, cwd=str(notebooks_dir), log_output=False,
                                       engine_name=progress_engine(), on_cell=progress.on_cell if progress else None)
    except Exception as err:  # the notebook's own failure: record it, keep going with the other notebooks
        record.update(status="failed", error=f"{type(err).__name__}: {str(err).strip()[-2000:]}")
    record["wall_s"] = round(time.perf_counter() - start, 2)
    if staged["ipynb"].exists():
        _unstage(staging, name, source, staged_metrics, parameters["metrics_path"])
        try:
            record["html_bytes"] = draw_report(name, staged, record, notebook_names(notebooks_dir))
        except ValueError as err:
            record.update(status="failed", error=str(err), html_bytes=staged["html"].stat().st_size)
    if record["status"] == "ok" and not staged["metrics.json"].exists():
        record.update(status="failed", error=f"the notebook wrote no metrics to {parameters['metrics_path']}")
    atomic_write_json(staged["run.json"], record, indent=1)
    return record


def torch_threads() -> int:
    """The threads torch computes with here (the notebook kernels inherit the same environment)."""
    import torch

    return torch.get_num_threads()


def draw_report(name: str, paths: dict[str, Path], record: dict, names: list[str]) -> int:
    """Export `paths["ipynb"]` to `paths["html"]` in its frame, built from the run `record` and the metrics file
    beside it (`names`: the reports the navigation links); return the page's size in bytes."""
    written = json.loads(paths["metrics.json"].read_text()) if paths["metrics.json"].exists() else {}
    return export_html(paths["ipynb"], paths["html"], frame=report_frame(name, record, written, names))


def _unstage(staging: Path, name: str, source: Path, staged_metrics: str, metrics_path: str) -> None:
    """Rewrite the executed notebook in `staging` as if it had run in place: relative paths, the final metrics
    path instead of the staging folder's, and no stderr (progress bars and warnings are noise in a report)."""
    import nbformat

    executed_path = staging / f"{name}.ipynb"
    executed = nbformat.read(executed_path, as_version=4)
    papermill_meta = executed.metadata.papermill
    papermill_meta["input_path"] = os.path.relpath(source, staging.parent)  # machine-specific: keep relative
    papermill_meta["output_path"] = f"{name}.ipynb"
    papermill_meta.get("parameters", {})["metrics_path"] = metrics_path
    for cell in executed.cells:
        if cell.cell_type != "code":
            continue
        if "injected-parameters" in cell.metadata.get("tags", []):  # the final path, not the staging folder
            cell.source = cell.source.replace(repr(staged_metrics), repr(metrics_path)) \
                .replace(json.dumps(staged_metrics), json.dumps(metrics_path))
        cell.outputs = [o for o in cell.outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    nbformat.write(executed, executed_path)


def _move_into_place(staging: Path, reports_dir: Path, name: str) -> None:
    """Replace the report's files with the finished run's (the run record last); a file the run did not write
    (e.g. the metrics of a failed run) is removed, so no report shows the results of an older run."""
    css = staging / NOTEBOOK_CSS
    if css.exists():
        os.replace(css, reports_dir / NOTEBOOK_CSS)
    for kind in REPORT_KINDS:
        staged, final = staging / f"{name}.{kind}", reports_dir / f"{name}.{kind}"
        if staged.exists():
            os.replace(staged, final)
        else:
            final.unlink(missing_ok=True)
    fsync_dir(reports_dir)


def run_all(preset: str = "cpu", only: list[str] | None = None, reports_dir: str | os.PathLike | None = None,
            notebooks_dir: str | os.PathLike = NOTEBOOKS_DIR, force: bool = False,
            cache_dir: str | os.PathLike = CACHE_DIR, log=functools.partial(print, flush=True),
            estimate: bool = True, everything: bool = False) -> list[dict]:
    """Run the named notebooks in report order, then rewrite the index of `reports_dir` (default
    `reports_dir_for(preset)`: only the cpu preset writes the committed reports). When `only` is empty: all but the
    `ON_DEMAND` ones and the figures the preset's budget leaves on demand (`budget.plan`); `everything` (`make
    reproduce-all`) runs those figures too. Finished notebooks are reused, so a killed run resumes.

    First, unless `estimate` is False, the preset is smoke (seconds) or `log` is None, `log` gets the estimate
    of the whole run's wall time on this machine (`estimate.announce`, which may calibrate this machine first:
    ~30 s on the cpu preset; the calibration is recorded in the summary).

    `log` gets a line as each notebook starts (with the wall time of its last run) and ends; while one runs,
    a `Progress` line on stderr shows its cell, elapsed and estimated remaining time (`log=None`: silent).
    """
    reports_dir = Path(reports_dir if reports_dir is not None else reports_dir_for(preset))
    available = notebook_names(notebooks_dir)
    unknown = [name for name in only or [] if name not in available]
    if unknown:
        raise ValueError(f"no notebook(s) {unknown} in {notebooks_dir}; available: {available}")
    left_out = set(ON_DEMAND) | (set() if everything else set(plan(preset).on_demand))
    names = [name for name in available if (name in only if only else name not in left_out)]
    calibration = _announce(preset, names, reports_dir, notebooks_dir, force, cache_dir, log) \
        if estimate and log and preset != "smoke" else None
    skipped = [name for name in available if name in plan(preset).on_demand and not only and not everything]
    if log and skipped:
        log(f"on demand (make reproduce-all): {', '.join(skipped)}: {plan(preset).why_on_demand()}")
    records, started = [], time.perf_counter()
    for number, name in enumerate(names, 1):
        label = f"[{number}/{len(names)}] {name}"
        expected = _last_wall_time(Path(reports_dir) / f"{name}.run.json")
        if log:
            log(f"{label}: started" + (f" (last run {duration(expected)})" if expected else ""))
        with Progress(label, expected) if log else contextlib.nullcontext() as progress:
            record = run_notebook(name, preset, reports_dir, notebooks_dir, force=force, cache_dir=cache_dir,
                                  progress=progress)
        if log:
            log(f"{label}: {record['status']}{' (cached)' if record['cached'] else ''} in {duration(record['wall_s'])}"
                + (f" - {record['error'][:300]}" if record["error"] else ""))
        records.append(record)
    if log:
        log(f"{len(names)} notebooks in {duration(time.perf_counter() - started)}")
    write_index(reports_dir, preset, calibration=calibration.record() if calibration else None)
    write_figures(reports_dir, log=log or (lambda line: None))
    return records


def _announce(preset: str, names: list[str], reports_dir: Path, notebooks_dir, force: bool, cache_dir, log):
    """The estimate before a run (`estimate.announce`), from the notebooks' last run records and which are cached."""
    reports_dir = reports_dir.resolve()
    records = planned_records(preset, {name: _previous_record(reports_dir / f"{name}.run.json") for name in names},
                              committed_calibration(reports_dir / "summary.json"))
    cached = set() if force else {name for name in names if cached_record(
        name, notebook_config(name, preset, reports_dir, notebooks_dir), reports_dir, cache_dir)}
    return announce(preset, names, records, cached, reports_dir / "summary.json", log)


def planned_records(preset: str, records: dict[str, dict | None], reference: Calibration) -> dict[str, dict | None]:
    """`records` with each figure notebook's last run replaced where it trained at other figure steps than the
    preset's now: by its cost in the budget plan, as a run of the `reference` machine (`budget.plan`: measured
    there), so the estimate scales it to this machine like any other machine's record."""
    steps, minutes = figure_steps(preset), plan(preset).minutes
    return {name: {"status": "ok", "cached": False, "wall_s": minutes[name] * 60, "cpu": reference.cpu,
                   "threads": reference.threads, "precision": {"resolved": "bfloat16"}, "figure_steps": steps}
            if name in minutes and record is not None and record.get("figure_steps") != steps else record
            for name, record in records.items()}


def rerender(reports_dir: str | os.PathLike, notebooks_dir: str | os.PathLike = NOTEBOOKS_DIR,
             names: list[str] | None = None, preset: str | None = None) -> list[str]:
    """Draw the HTML of finished reports again from their executed notebooks and records, without running them
    (after the report views changed), then rebuild the index; the numbers and records stay as they were, and a
    report of older code keeps its stale mark. Returns the names drawn."""
    reports_dir, drawn = Path(reports_dir), []
    for name in names or notebook_names(notebooks_dir):
        paths = {kind: reports_dir / f"{name}.{kind}" for kind in REPORT_KINDS}
        if not all(paths[kind].exists() for kind in ("ipynb", "run.json")):
            continue
        record = json.loads(paths["run.json"].read_text())
        record["html_bytes"] = draw_report(name, paths, record, notebook_names(notebooks_dir))
        atomic_write_json(paths["run.json"], record, indent=1)
        drawn.append(name)
    write_index(reports_dir, preset)
    return drawn


def _last_wall_time(run_record: Path) -> float | None:
    """Wall time of the last finished run recorded in `run_record` (None when there is none)."""
    record = _previous_record(run_record)
    return record["wall_s"] if record and record.get("status") == "ok" and not record.get("cached") else None


def data_or_fetch() -> bool:
    """A fresh clone has no data directory: fetch the public one into the cache first (docs/data.md)."""
    try:
        resolve_data_dir()
        return True
    except FileNotFoundError:
        print("no data directory found: fetching it from its public sources (python -m instructor_lib.datadir fetch)")
    from ...datadir import fetch

    return fetch().ok
