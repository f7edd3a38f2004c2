"""Run the notebooks with papermill and turn them into small static HTML reports with an index.

`python -m instructor_lib.workbench.reporting --preset cpu [--only NAME ...] [--force]` runs every notebook of
`notebooks/` (or the named ones) with parameters `preset` and `metrics_path`, and writes to `reports/` (the
committed cpu reports; any other preset writes to `reports/<preset>/`, git-ignored, so a smoke run never
touches them). A notebook runs in a temporary folder and its files replace the old ones only once it has
finished, so an interrupted run leaves the reports as they were:
- `NAME.ipynb`, the executed notebook (stderr, i.e. progress bars and warnings, removed);
- `NAME.html`, inputs hidden, plotly figures drawn by one shared `plotly.min.js` and styled by one shared
  `notebook.css` (each file < 1 MB);
- `NAME.metrics.json`, written by the notebook itself through `write_metrics` (metrics, headline numbers,
  config and its hash, data hashes, library versions);
- `NAME.run.json`, the run record (config hash, status, wall time); a later run on the same machine with the
  same config hash (same notebook, parameters, preset and library sources) reuses it instead of running again
  (the checkout's record of finished runs is in `runs/reports/`, not committed: a fresh clone runs everything);
- `index.html` and `summary.json`, every report with its status, wall time and headline numbers;
- `figures/NAME.png`, a picture of one figure of some reports for the README (needs `chromium` on PATH).
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

from ..config import PROJECT_ROOT, data_dir as resolve_data_dir
from .. import presets
from ..provenance import config_hash, library_sha256, library_versions, sha256_file
from ..precision import precision_record
from ..files import atomic_write_json, atomic_write_text, fsync_dir
from ..stats import CLAIM_FIELDS, write_claims

REPORTS_DIR = PROJECT_ROOT / "reports"
COMMITTED_PRESET = "cpu"  # the preset whose reports are committed in reports/; the others go to reports/<preset>/
STAGING_PREFIX = ".running-"  # a notebook executes in reports_dir/.running-*/ (git-ignored) until it has finished
# Reading order of the reports in the index; notebooks not listed here follow, alphabetically.
REPORT_ORDER = ("build_medi", "train", "main_table", "pilot", "data_ablation", "robustness", "instruction_detail",
                "ablation", "scaling", "embedding_viz", "playground")
# Run only when named (`--only pilot`, `make pilot`): the scale pilot trains 16 models, more than the rest of a
# cold `make reproduce` could add within its budget; its committed report is the record of how the scale was chosen.
ON_DEMAND = ("pilot",)
CLAIMS_FILE = "claims.json"  # every report's claims with their verdicts, gathered by `write_index`
CACHE_DIR = PROJECT_ROOT / "runs" / "reports"  # this checkout's record of the notebooks it ran
PLOTLY_JS = "plotly.min.js"
NOTEBOOK_CSS = "notebook.css"  # nbconvert's JupyterLab theme (~270 KB), written once instead of into every page
# report -> (index of its plotly figure, width, height): pictured in reports/figures/ for the README
README_FIGURES = {"main_table": (0, 900, 450), "embedding_viz": (0, 1000, 500)}
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
HTML_LIMIT_BYTES = 1_000_000
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
# The notebook kernel inherits these: figures as plain plotly JSON (turned into HTML here, against the shared
# plotly.js), and no progress bars.
KERNEL_ENV = {"PLOTLY_RENDERER": "plotly_mimetype", "TQDM_DISABLE": "1",
              "HF_DATASETS_DISABLE_PROGRESS_BARS": "1"}  # mteb's retrieval tasks map HF datasets with their own bars


# ---------------------------------------------------------------------------------- used by the notebooks
def lookup(metrics: dict, dotted_key: str):
    """`metrics["a"]["b"]` for the key "a.b"; a missing part is a KeyError naming the whole key."""
    value = metrics
    for part in dotted_key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(f"headline key {dotted_key!r}: no {part!r} in the metrics")
        value = value[part]
    return value


def write_metrics(path: str | os.PathLike, metrics: dict, config: dict, headline: list[str] | tuple[str, ...] = (),
                  data_files: list[str] | tuple[str, ...] = ()) -> dict:
    """Record a notebook's results with what is needed to reproduce them; write JSON to `path` ("" = don't write).

    Args:
        metrics: the results (JSON-able).
        config: every setting that shaped them (seeds included); its hash is stored beside it. What precision
            "auto" resolves to on this machine is recorded too.
        headline: dotted keys into `metrics` shown in the report index, e.g. "embedding.with.silhouette".
        data_files: input files whose sha256 is recorded: absolute paths, or paths relative to the data dir
            (`instructor_lib.config.data_dir`); files under the data dir are named relative to it.
    Returns the record.
    """
    record = {"metrics": metrics, "headline": {key: lookup(metrics, key) for key in headline}, "config": config,
              "config_hash": config_hash(config), "data_sha256": data_hashes(data_files),
              "precision": precision_record(), "versions": library_versions(), "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if path:
        atomic_write_json(path, record, indent=1)
    return record


def claims_table(claims: list[dict]):
    """The claims of a report (`stats.claim_record` rows) as a table: claim, the paper's number or direction,
    our mean difference with its 95% interval, the seeds, the verdict."""
    import pandas as pd

    frame = pd.DataFrame(claims, columns=list(CLAIM_FIELDS))
    frame["seeds"] = frame["seeds"].map(lambda seeds: ", ".join(str(seed) for seed in seeds))
    return frame.round({"ours": 2, "ci_low": 2, "ci_high": 2})


def data_hashes(files) -> dict[str, str]:
    """sha256 of each file (absolute, or relative to the data dir), named relative to the data dir when under it."""
    hashes = {}
    for file in files:
        path = Path(file) if Path(file).is_absolute() else resolve_data_dir() / file
        try:
            name = str(path.resolve().relative_to(resolve_data_dir()))
        except (ValueError, FileNotFoundError):  # outside the data dir, or no data dir at all
            name = str(path)
        hashes[name] = sha256_file(path)
    return hashes


# ------------------------------------------------------------------------------------------ HTML export
def static_outputs(outputs: list, figure_ids: list[int]) -> list:
    """A cell's outputs for a static page: stderr dropped, plotly JSON drawn as HTML, widgets replaced by a note.

    `figure_ids` is a one-element counter shared across the notebook, so figure div ids are stable.
    """
    import plotly.io as pio

    kept = []
    for output in outputs:
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            continue
        data = output.get("data", {})
        if PLOTLY_MIME in data:
            figure_ids[0] += 1
            output["data"] = {"text/html": pio.to_html(data[PLOTLY_MIME], include_plotlyjs=False, full_html=False,
                                                       validate=False, div_id=f"figure-{figure_ids[0]}")}
        elif WIDGET_MIME in data:
            output["data"] = {"text/html": "<p><em>Interactive widget: open the notebook in Jupyter to use it.</em></p>"}
        kept.append(output)
    return kept


def export_html(notebook_path: str | os.PathLike, html_path: str | os.PathLike, plotly_src: str = PLOTLY_JS) -> int:
    """Write the static HTML of an executed notebook (inputs hidden); return its size in bytes.

    Plotly figures load `plotly_src` (relative to the HTML file) instead of embedding plotly.js, and the page's
    theme styles move to NOTEBOOK_CSS beside it (the same for every page). Raises
    ValueError when the page is larger than HTML_LIMIT_BYTES (the file is still written, to be looked at).
    """
    import nbformat
    from nbconvert import HTMLExporter

    notebook = nbformat.read(notebook_path, as_version=4)
    figure_ids = [0]
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = static_outputs(cell.outputs, figure_ids)
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    page, _ = exporter.from_notebook_node(notebook)
    # No widgets are left to need require.js, and plotly.js must load before any AMD loader or it hides from `window`.
    page = page.replace(f'<script src="{exporter.require_js_url}"></script>', "")
    page = page.replace("<head>", f'<head>\n<script src="{plotly_src}"></script>', 1)
    html_path = Path(html_path)
    page = _share_styles(page, html_path.parent / NOTEBOOK_CSS)
    atomic_write_text(html_path, page)
    size = html_path.stat().st_size
    if size > HTML_LIMIT_BYTES:
        raise ValueError(f"{html_path} is {size} bytes, over the {HTML_LIMIT_BYTES}-byte limit: plot fewer points")
    return size


def _share_styles(page: str, css_path: Path) -> str:
    """Move the `<style type="text/css">` blocks of the page's head into `css_path` and link it instead."""
    head_end = page.index("</head>")
    pattern = re.compile(r'<style type="text/css">(.*?)</style>\s*', re.S)
    css = "\n".join(match.group(1) for match in pattern.finditer(page, 0, head_end))
    if not css:
        return page
    if not css_path.exists() or css_path.read_text(encoding="utf-8") != css:
        atomic_write_text(css_path, css)
    head = pattern.sub("", page[:head_end])
    return head + f'<link rel="stylesheet" href="{css_path.name}"/>\n' + page[head_end:]


def write_plotly_js(reports_dir: str | os.PathLike) -> Path:
    """Write the bundled plotly.js into `reports_dir` once (rewritten only when the plotly version changed)."""
    from plotly.offline import get_plotlyjs

    path = Path(reports_dir) / PLOTLY_JS
    source = get_plotlyjs()
    if not path.exists() or path.read_text(encoding="utf-8") != source:
        atomic_write_text(path, source)
    return path


def figure_json(notebook_path: str | os.PathLike, index: int = 0) -> dict:
    """The `index`-th plotly figure (its JSON) among the outputs of an executed notebook."""
    import nbformat

    figures = [output["data"][PLOTLY_MIME] for cell in nbformat.read(notebook_path, as_version=4).cells
               if cell.cell_type == "code" for output in cell.outputs if PLOTLY_MIME in output.get("data", {})]
    if not -len(figures) <= index < len(figures):
        raise ValueError(f"{notebook_path} has {len(figures)} plotly figure(s); figure {index} does not exist")
    return figures[index]


def picture(figure: dict, png_path: str | os.PathLike, width: int, height: int, plotly_js: str | os.PathLike) -> Path:
    """Draw a plotly figure (JSON) into a PNG of `width` x `height` pixels with headless chromium."""
    import plotly.io as pio

    chromium = shutil.which("chromium")
    if chromium is None:
        raise FileNotFoundError("chromium is not on PATH (Debian: apt-get install -y chromium)")
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    figure = {**figure, "layout": {**figure.get("layout", {}), "width": width, "height": height}}
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "figure.html"
        page.write_text(f'<html><head><script src="{Path(plotly_js).resolve().as_uri()}"></script></head>'
                        f'<body style="margin:0">{pio.to_html(figure, include_plotlyjs=False, full_html=False, validate=False, config={"displayModeBar": False})}'
                        "</body></html>", encoding="utf-8")
        result = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={Path(tmp) / 'profile'}",
                                 "--allow-file-access-from-files", f"--window-size={width},{height}",
                                 "--virtual-time-budget=10000", f"--screenshot={png_path.resolve()}", page.as_uri()],
                                capture_output=True, text=True, timeout=120)
    if result.returncode != 0 or not png_path.exists():
        raise RuntimeError(f"chromium could not draw {png_path}: {result.stderr[-2000:]}")
    return png_path


def write_figures(reports_dir: str | os.PathLike = REPORTS_DIR, figures: dict = README_FIGURES, log=print) -> list[Path]:
    """Picture one figure of each report in `figures` (name -> (index, width, height)) into `figures/NAME.png`.

    Reports that were not run are skipped with a message; without chromium nothing is drawn, and it says so.
    """
    reports_dir = Path(reports_dir)
    if shutil.which("chromium") is None:
        log("figures: chromium is not on PATH, README pictures in reports/figures/ were not redrawn")
        return []
    written, plotly_js = [], write_plotly_js(reports_dir)  # once: it compares the 4.8 MB bundle with the file
    for name, (index, width, height) in figures.items():
        notebook = reports_dir / f"{name}.ipynb"
        if not notebook.exists():
            log(f"figures: no {notebook.name} in {reports_dir}, {name}.png not drawn")
            continue
        written.append(picture(figure_json(notebook, index), reports_dir / "figures" / f"{name}.png", width, height,
                               plotly_js))
    return written


# ------------------------------------------------------------------------------------------------ running
def notebook_names(notebooks_dir: str | os.PathLike = PROJECT_ROOT / "notebooks") -> list[str]:
    """Notebook names (file stems) in report order."""
    names = sorted(path.stem for path in Path(notebooks_dir).glob("*.ipynb"))
    rank = {name: index for index, name in enumerate(REPORT_ORDER)}
    return sorted(names, key=lambda name: (rank.get(name, len(rank)), name))


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


# ------------------------------------------------------------------------------------------ progress
def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Progress:
    """A live status line for a notebook run: which cell, time elapsed, and time left as estimated from the
    last run of the same notebook (`expected_s`; None: no estimate). On a terminal the line is redrawn every
    second; elsewhere (logs, CI) a line is printed when a cell starts and at least every `every` seconds."""

    def __init__(self, label: str, expected_s: float | None, stream=None, every: float = 60.0):
        import threading

        self.label, self.expected_s, self.stream = label, expected_s, stream or sys.stderr
        self.tty = self.stream.isatty()
        self.cell, self.cells, self.started = 0, 0, time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, args=(1.0 if self.tty else every,), daemon=True)

    def line(self) -> str:
        elapsed = time.perf_counter() - self.started
        cell = f"cell {self.cell}/{self.cells}, " if self.cells else ""
        if self.expected_s is None:
            left = "no earlier run to estimate the rest from"
        elif elapsed < self.expected_s:
            left = f"~{_duration(self.expected_s - elapsed)} left (last run {_duration(self.expected_s)})"
        else:
            left = f"longer than the last run ({_duration(self.expected_s)})"
        return f"{self.label}: {cell}{_duration(elapsed)} elapsed, {left}"

    def on_cell(self, index: int, count: int) -> None:
        self.cell, self.cells = index + 1, count
        if not self.tty:
            self._emit()

    def _emit(self) -> None:
        text = self.line()
        self.stream.write(f"\r{text:<110}" if self.tty else text + "\n")
        self.stream.flush()

    def _tick(self, every: float) -> None:
        while not self._stop.wait(every):
            self._emit()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        if self.tty:
            self.stream.write("\r" + " " * 110 + "\r")
            self.stream.flush()


def _progress_engine():
    """papermill's nbclient engine, also telling the `on_cell` engine argument when each cell starts."""
    from papermill.engines import NBClientEngine, papermill_engines

    class ProgressEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, on_cell=None, **kwargs):
            if on_cell is not None:
                start = nb_man.cell_start

                def cell_start(cell, cell_index=None, **cell_kwargs):
                    on_cell(cell_index, len(nb_man.nb.cells))
                    return start(cell, cell_index, **cell_kwargs)

                nb_man.cell_start = cell_start
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    papermill_engines.register("instructor_progress", ProgressEngine)
    return "instructor_progress"


def reports_dir_for(preset: str) -> Path:
    """Where a preset's reports go: `reports/` for the committed cpu preset, `reports/<preset>/` for the others."""
    presets.preset(preset)  # an unknown name fails here, listing the three
    return REPORTS_DIR if preset == COMMITTED_PRESET else REPORTS_DIR / preset


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
                 notebooks_dir: str | os.PathLike = PROJECT_ROOT / "notebooks", parameters: dict | None = None,
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
    presets.preset(preset)  # an unknown name fails here, listing the three
    notebooks_dir = Path(notebooks_dir).resolve()
    reports_dir = Path(reports_dir if reports_dir is not None else reports_dir_for(preset)).resolve()
    source = notebooks_dir / f"{name}.ipynb"
    if not source.is_file():
        raise FileNotFoundError(f"no notebook {source}; available: {notebook_names(notebooks_dir)}")
    reports_dir.mkdir(parents=True, exist_ok=True)
    paths = {kind: reports_dir / f"{name}.{kind}" for kind in REPORT_KINDS}
    all_parameters = {"preset": preset, "metrics_path": os.path.relpath(paths["metrics.json"], notebooks_dir), **(parameters or {})}
    config = {"notebook": name, "notebook_sha256": sha256_file(source), "library_sha256": library_sha256(),
              "preset": preset, "parameters": all_parameters, "precision": precision_record()["resolved"]}
    marker = Path(cache_dir) / f"{name}-{config_hash(config)}.done"
    previous = _previous_record(paths["run.json"])
    if (not force and marker.exists() and previous and previous.get("config_hash") == config_hash(config)
            and previous.get("status") == "ok" and all(paths[kind].exists() for kind in ("html", "metrics.json"))):
        return {**previous, "cached": True}

    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{name}-", dir=reports_dir))
    try:
        record = _execute(name, source, staging, config, progress)
        _move_into_place(staging, reports_dir, name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if record["status"] == "ok":
        marker.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(marker, str(paths["run.json"]) + "\n")
    return record


REPORT_KINDS = ("ipynb", "html", "metrics.json", "run.json")


def _execute(name: str, source: Path, staging: Path, config: dict, progress: Progress | None = None) -> dict:
    """Run the notebook with its outputs in `staging` (the metrics path pointed there); return the run record."""
    import nbformat
    import papermill

    notebooks_dir, parameters = source.parent, config["parameters"]
    staged = {kind: staging / f"{name}.{kind}" for kind in REPORT_KINDS}
    staged_metrics = os.path.relpath(staged["metrics.json"], notebooks_dir)
    record = {"name": name, "preset": config["preset"], "config": config, "config_hash": config_hash(config),
              "precision": precision_record(),  # "auto" as the notebook's kernel resolves it on this machine
              "status": "ok", "error": "", "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "cached": False}
    start = time.perf_counter()
    try:
        with _environment(KERNEL_ENV):
            papermill.execute_notebook(str(source), str(staged["ipynb"]), parameters={**parameters, "metrics_path": staged_metrics},
                                       kernel_name="python3", progress_bar=False, cwd=str(notebooks_dir), log_output=False,
                                       engine_name=_progress_engine(), on_cell=progress.on_cell if progress else None)
    except Exception as err:  # the notebook's own failure: record it, keep going with the other notebooks
        record.update(status="failed", error=f"{type(err).__name__}: {str(err).strip()[-2000:]}")
    record["wall_s"] = round(time.perf_counter() - start, 2)
    if staged["ipynb"].exists():
        executed = nbformat.read(staged["ipynb"], as_version=4)
        papermill_meta = executed.metadata.papermill
        papermill_meta["input_path"] = os.path.relpath(source, staging.parent)  # machine-specific: keep relative
        papermill_meta["output_path"] = f"{name}.ipynb"
        papermill_meta.get("parameters", {})["metrics_path"] = parameters["metrics_path"]
        for cell in executed.cells:
            if cell.cell_type != "code":
                continue
            if "injected-parameters" in cell.metadata.get("tags", []):  # the final path, not the staging folder
                cell.source = cell.source.replace(repr(staged_metrics), repr(parameters["metrics_path"])) \
                    .replace(json.dumps(staged_metrics), json.dumps(parameters["metrics_path"]))
            # progress bars and warnings are noise in a committed report
            cell.outputs = [o for o in cell.outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
        nbformat.write(executed, staged["ipynb"])
        try:
            record["html_bytes"] = export_html(staged["ipynb"], staged["html"])
        except ValueError as err:
            record.update(status="failed", error=str(err), html_bytes=staged["html"].stat().st_size)
    if record["status"] == "ok" and not staged["metrics.json"].exists():
        record.update(status="failed", error=f"the notebook wrote no metrics to {parameters['metrics_path']}")
    atomic_write_json(staged["run.json"], record, indent=1)
    return record


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


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def write_index(reports_dir: str | os.PathLike = REPORTS_DIR) -> Path:
    """Write `index.html` and `summary.json` from every `*.run.json` in `reports_dir` (in report order)."""
    import plotly.graph_objects as go
    import plotly.io as pio

    reports_dir = Path(reports_dir)
    rank = {name: index for index, name in enumerate(REPORT_ORDER)}
    records = [json.loads(path.read_text()) for path in reports_dir.glob("*.run.json")]
    records.sort(key=lambda record: (rank.get(record["name"], len(rank)), record["name"]))
    rows, summary, claims = [], [], []
    for record in records:
        metrics_path = reports_dir / f"{record['name']}.metrics.json"
        written = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
        headline = written.get("headline", {})
        claims += [{**claim, "report": record["name"]} for claim in written.get("metrics", {}).get("claims", [])]
        precision = record.get("precision", {}).get("resolved", "")
        summary.append({key: record.get(key) for key in ("name", "preset", "status", "error", "wall_s", "config_hash", "html_bytes")}
                       | {"precision": precision}
                       | {"headline": headline})
        numbers = "<br>".join(f"{html.escape(key)}: <b>{_format(value)}</b>" for key, value in headline.items())
        status = record["status"] if record["status"] == "ok" else f"<span class='bad' title='{html.escape(record['error'])}'>{record['status']}</span>"
        rows.append(f"<tr><td><a href='{record['name']}.html'>{record['name']}</a></td><td>{status}</td>"
                    f"<td>{record['preset']}</td><td>{precision}</td><td>{record['wall_s']:.0f} s</td><td>{numbers}</td>"
                    f"<td><code>{record['config_hash']}</code></td></tr>")
    # `make reproduce`'s total: an on-demand notebook (the pilot) is run apart, often on another day or machine
    total = sum(record["wall_s"] for record in records if record["name"] not in ON_DEMAND)
    on_demand = "".join(f", {record['name']} (on demand) {record['wall_s']:.0f} s" for record in records
                        if record["name"] in ON_DEMAND)
    figure = go.Figure(go.Bar(x=[record["wall_s"] for record in records], y=[record["name"] for record in records], orientation="h"))
    figure.update_layout(title="Wall time per notebook (s)", height=120 + 30 * len(records), width=700,
                         yaxis={"autorange": "reversed"}, margin={"l": 120, "r": 20, "t": 40, "b": 30})
    versions = ", ".join(f"{name} {version}" for name, version in library_versions().items())
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><script src="{PLOTLY_JS}"></script><title>INSTRUCTOR reproduction: reports</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}} .bad{{color:#b00;font-weight:bold}}
.reproduced{{color:#070}} .contradicted{{color:#b00;font-weight:bold}} .inconclusive{{color:#850}}</style>
</head><body>
<h1>INSTRUCTOR reproduction: reports</h1>
<p>{len(records)} notebooks, total wall time {total:.0f} s{on_demand}. Written {datetime.now(timezone.utc).isoformat(timespec="seconds")}.
Versions: {html.escape(versions)}.</p>
{_claims_html(claims)}
<table><tr><th>report</th><th>status</th><th>preset</th><th>precision</th><th>wall time</th><th>headline numbers</th><th>config hash</th></tr>
{chr(10).join(rows)}
</table>
{pio.to_html(figure, include_plotlyjs=False, full_html=False, div_id="wall-time")}
</body></html>
"""
    write_plotly_js(reports_dir)
    write_claims(reports_dir / CLAIMS_FILE, [{key: claim[key] for key in CLAIM_FIELDS} for claim in claims])
    atomic_write_json(reports_dir / "summary.json", {"total_wall_s": round(total, 2), "reports": summary}, indent=1)
    return atomic_write_text(reports_dir / "index.html", page)


def _claims_html(claims: list[dict]) -> str:
    """The claims table at the top of the index: each of the paper's claims, our interval, the verdict."""
    if not claims:
        return "<p>No claims were tested in these reports.</p>"

    def bound(value):
        return "undefined" if value is None else f"{value:.2f}"

    rows = [f"<tr><td>{html.escape(claim['claim'])}</td><td>{html.escape(str(claim['paper']))}</td>"
            f"<td>{claim['ours']:.2f}</td><td>[{bound(claim['ci_low'])}, {bound(claim['ci_high'])}]</td>"
            f"<td>{len(claim['seeds'])}</td><td class='{claim['verdict']}'>{claim['verdict']}</td>"
            f"<td><a href='{claim['report']}.html'>{claim['report']}</a></td></tr>" for claim in claims]
    counts = {verdict: sum(claim["verdict"] == verdict for claim in claims) for verdict in ("reproduced", "inconclusive", "contradicted")}
    return (f"<h2>The paper's claims at our scale</h2><p>{len(claims)} claims: " + ", ".join(f"{n} {v}" for v, n in counts.items())
            + f". Ours: the mean difference over training seeds with its 95% t-interval; <code>{CLAIMS_FILE}</code> holds the "
            "same table.</p><table><tr><th>claim</th><th>paper</th><th>ours</th><th>95% CI</th><th>seeds</th><th>verdict</th>"
            "<th>report</th></tr>" + "".join(rows) + "</table>")


def run_all(preset: str = "cpu", only: list[str] | None = None, reports_dir: str | os.PathLike | None = None,
            notebooks_dir: str | os.PathLike = PROJECT_ROOT / "notebooks", force: bool = False,
            cache_dir: str | os.PathLike = CACHE_DIR, log=functools.partial(print, flush=True)) -> list[dict]:
    """Run the named notebooks (all but the `ON_DEMAND` ones when `only` is empty) in report order, then rewrite
    the index of `reports_dir` (default `reports_dir_for(preset)`: only the cpu preset writes the committed reports).

    `log` gets a line as each notebook starts (with the wall time of its last run) and ends; while one runs,
    a `Progress` line on stderr shows its cell, elapsed and estimated remaining time (`log=None`: silent).
    """
    reports_dir = Path(reports_dir if reports_dir is not None else reports_dir_for(preset))
    available = notebook_names(notebooks_dir)
    unknown = [name for name in only or [] if name not in available]
    if unknown:
        raise ValueError(f"no notebook(s) {unknown} in {notebooks_dir}; available: {available}")
    names = [name for name in available if (name in only if only else name not in ON_DEMAND)]
    records, started = [], time.perf_counter()
    for number, name in enumerate(names, 1):
        label = f"[{number}/{len(names)}] {name}"
        expected = _last_wall_time(Path(reports_dir) / f"{name}.run.json")
        if log:
            log(f"{label}: started" + (f" (last run {_duration(expected)})" if expected else ""))
        with Progress(label, expected) if log else contextlib.nullcontext() as progress:
            record = run_notebook(name, preset, reports_dir, notebooks_dir, force=force, cache_dir=cache_dir,
                                  progress=progress)
        if log:
            log(f"{label}: {record['status']}{' (cached)' if record['cached'] else ''} in {_duration(record['wall_s'])}"
                + (f" - {record['error'][:300]}" if record["error"] else ""))
        records.append(record)
    if log:
        log(f"{len(names)} notebooks in {_duration(time.perf_counter() - started)}")
    write_index(reports_dir)
    write_figures(reports_dir, log=log or (lambda line: None))
    return records


def _last_wall_time(run_record: Path) -> float | None:
    """Wall time of the last finished run recorded in `run_record` (None when there is none)."""
    record = _previous_record(run_record)
    return record["wall_s"] if record and record.get("status") == "ok" and not record.get("cached") else None


def data_or_fetch() -> bool:
    """A fresh clone has no data directory: fetch the public one into the cache first (README, 'Data')."""
    try:
        resolve_data_dir()
        return True
    except FileNotFoundError:
        print("no data directory found: fetching it from its public sources (python -m instructor_lib.datadir fetch)")
    from ..datadir import fetch

    return fetch().ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m instructor_lib.workbench.reporting", description=__doc__.split("\n")[0])
    parser.add_argument("--preset", choices=presets.NAMES, default="cpu", help="size of every run (default: cpu)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these notebooks (names without .ipynb)")
    parser.add_argument("--force", action="store_true", help="run even when a report with the same config hash exists")
    parser.add_argument("--reports-dir", default=None,
                        help="output folder (default: reports/ for the cpu preset, reports/<preset>/ for the others)")
    parser.add_argument("--notebooks-dir", default=str(PROJECT_ROOT / "notebooks"))
    parser.add_argument("--cache-dir", default=str(CACHE_DIR), help="this machine's record of finished runs")
    args = parser.parse_args(argv)
    if not data_or_fetch():
        return 1
    reports_dir = Path(args.reports_dir) if args.reports_dir else reports_dir_for(args.preset)
    records = run_all(args.preset, args.only, reports_dir, args.notebooks_dir, args.force, args.cache_dir)
    print(f"index: {reports_dir / 'index.html'}; total {sum(r['wall_s'] for r in records):.0f} s")
    return 0 if all(record["status"] == "ok" for record in records) else 1


if __name__ == "__main__":
    sys.exit(main())
