"""Run the notebooks with papermill and turn them into small static HTML reports with an index.

`python -m instructor_lib.workbench.reporting --preset cpu [--only NAME ...] [--force]` first prints how long the
run will take on this machine (from this machine's last run, else a ~30 s calibration against the committed run's;
`--no-estimate` skips it), then runs every notebook of
`notebooks/` (or the named ones) with parameters `preset` and `metrics_path`, and writes to `reports/` (the
committed cpu reports; any other preset writes to `reports/<preset>/`, git-ignored, so a smoke run never
touches them). A notebook runs in a temporary folder and its files replace the old ones only once it has
finished, so an interrupted run leaves the reports as they were:
- `NAME.ipynb`, the executed notebook (stderr, i.e. progress bars and warnings, removed);
- `NAME.html`, inputs hidden, plotly figures drawn by one shared `plotly.min.js` and styled by one shared
  `notebook.css` (each file < 1 MB), in a frame: links to the index and the other reports, the headline box (the
  report's claims in full with their verdicts, or its headline numbers), the provenance line (commit, CPU and
  threads, precision, date, library hash, wall time, config hash, and a stale mark when the code or preset moved
  on) and, at the end, every input (the evaluation suite with its instructions, the configuration);
- `NAME.metrics.json`, written by the notebook itself through `record.write_metrics` (metrics, headline numbers,
  config and its hash, data hashes, library versions);
- `NAME.run.json`, the run record (config hash, status, wall time); a later run on the same machine with the
  same config hash (same notebook, parameters, preset and library sources) reuses it instead of running again
  (the checkout's record of finished runs is in `runs/reports/`, not committed: a fresh clone runs everything);
- `index.html` and `summary.json`: the claims grouped by the paper's table and figure, every report with its status,
  stale mark, commit, wall time and headline numbers with the steps and seeds they rest on; the summary also keeps
  the calibration of the machine the reports ran on (`estimate`), which other machines' estimates scale against;
- `figures/NAME.png`, a picture of one figure of some reports for the README (needs `chromium` on PATH).

One job per module, and this file imports none of them, so a notebook's `from instructor_lib.workbench.reporting
import record, tables` loads no runner: `record` (what the notebooks call to record results), `tables` (how they
show tables), `layout` (where reports go, in what order), `run` (executing notebooks into place), `estimate` (the
whole run's time before it starts), `progress` (the live status line), `html` (static pages), `frame` (the headline
box, provenance, stale mark and inputs around each), `screenshots` (README pictures), `index` (the index, summary and claims), `__main__` (the command line).
"""
