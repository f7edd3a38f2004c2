"""The HTML reports draw their plotly figures in a real browser (headless Debian `chromium`, no network).

Needs `chromium` on PATH (Debian: `apt-get install -y chromium`).
"""
import re
import shutil
import subprocess

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from instructor_lib.workbench.reporting import html as report_html, layout, run, screenshots
from instructor_lib.config import PROJECT_ROOT

CHROMIUM_FLAGS = screenshots.CHROMIUM_FLAGS


def rendered_dom(page, tmp_path):
    """The DOM of `page` after its scripts ran (chromium --dump-dom, 10 s of virtual time for the figures)."""
    chromium = shutil.which("chromium")
    assert chromium, "chromium is not installed: `make test` installs it (target `browser`)"
    result = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}",
                             "--virtual-time-budget=10000", "--dump-dom", page.resolve().as_uri()],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "</html>" in result.stdout, f"chromium failed on {page}: {result.stderr[-2000:]}"
    return result.stdout


def assert_figures_drawn(page, tmp_path):
    """Every figure of `page` became a plotly plot with its SVG; returns the DOM."""
    figures = len(re.findall(r"Plotly\.newPlot\(", page.read_text()))
    assert figures > 0, f"{page} has no plotly figure"
    dom = rendered_dom(page, tmp_path)
    drawn = len(re.findall(r'class="[^"]*\bjs-plotly-plot\b', dom))
    assert drawn == figures, f"{page}: {drawn} of {figures} figures drawn"
    assert dom.count('class="main-svg"') >= figures
    return dom


def test_fresh_report_and_index_render_their_figures(tmp_path):
    notebooks, reports = tmp_path / "notebooks", tmp_path / "reports"
    notebooks.mkdir()
    notebook = new_notebook(cells=[
        new_code_cell('preset: str = "cpu"  # smoke | cpu | paper\nmetrics_path: str = ""  # where to write the metrics'),
        new_code_cell("import json\nimport plotly.graph_objects as go\n"
                      "go.Figure(go.Scatter(x=[1, 2, 3, 4], y=[4, 1, 3, 2], mode='markers')).show()\n"
                      "json.dump({'headline': {'points': 4}}, open(metrics_path, 'w'))")])
    notebook.cells[0].metadata["tags"] = ["parameters"]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, notebooks / "scatter.ipynb")
    records = run.run_all("smoke", reports_dir=reports, notebooks_dir=notebooks, cache_dir=tmp_path / "cache", log=lambda line: None)
    assert records[0]["status"] == "ok"

    dom = assert_figures_drawn(reports / "scatter.html", tmp_path)
    assert len(re.findall(r'class="point"', dom)) == 4  # the 4 markers are in the SVG
    dom = assert_figures_drawn(reports / "index.html", tmp_path)
    assert "points: <b>4</b>" in dom and len(re.findall(r'class="point"', dom)) == 1  # one wall-time bar


@pytest.mark.parametrize("name", ["index", *layout.notebook_names()])
def test_committed_reports_render_their_figures(name, tmp_path):
    page = PROJECT_ROOT / "reports" / f"{name}.html"
    assert page.exists(), f"{page} is missing: run `python -m instructor_lib.workbench.reporting --preset cpu` and commit reports/"
    assert (PROJECT_ROOT / "reports" / report_html.PLOTLY_JS).exists()
    assert page.stat().st_size < report_html.HTML_LIMIT_BYTES
    assert_figures_drawn(page, tmp_path)
