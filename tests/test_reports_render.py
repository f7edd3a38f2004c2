"""The HTML reports draw their plotly figures in a real browser (headless Debian `chromium`, no network).

Needs `chromium` on PATH (Debian: `apt-get install -y chromium`).
"""
import json
import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from instructor_lib.workbench.reporting import budget, html as report_html, index as report_index, layout, run
from instructor_lib.workbench.reporting.tables import claim_text
from instructor_lib.config import PROJECT_ROOT
from instructor_lib.provenance import library_sha256

from helpers import dump_dom, first_screen


def rendered_dom(page, tmp_path):
    """The DOM of `page` after its scripts ran (chromium --dump-dom, 10 s of virtual time for the figures)."""
    result = dump_dom(page, tmp_path)
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
    assert "<tr><th>points</th><td class=\"num\">4</td></tr>" in dom and len(re.findall(r'class="point"', dom)) == 1  # one wall-time bar


# every notebook that `make reproduce` runs has a committed report; an on-demand one (the pilot, finetune, the figures
# the budget leaves out) where run
ON_DEMAND = set(layout.ON_DEMAND) | set(budget.plan(layout.COMMITTED_PRESET).on_demand)
COMMITTED = [name for name in layout.notebook_names()
             if name not in ON_DEMAND or (PROJECT_ROOT / "reports" / f"{name}.html").exists()]


@pytest.mark.parametrize("name", ["index", *COMMITTED])
def test_committed_reports_render_their_figures(name, tmp_path):
    page = PROJECT_ROOT / "reports" / f"{name}.html"
    assert page.exists(), f"{page} is missing: run `python -m instructor_lib.workbench.reporting --preset cpu` and commit reports/"
    assert (PROJECT_ROOT / "reports" / report_html.PLOTLY_JS).exists()
    assert page.stat().st_size < report_html.HTML_LIMIT_BYTES
    assert_figures_drawn(page, tmp_path)


def test_the_first_screen_check_sees_overlapping_text_and_cut_cells(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text("<html><body><section class='headline'><table><tr><td style='width:40px;max-width:40px;"
                    "overflow:hidden;white-space:nowrap'>a claim much longer than its cell</td></tr></table></section>"
                    "<span style='position:absolute;top:300px;left:10px'>first text</span>"
                    "<span style='position:absolute;top:302px;left:14px'>second text</span></body></html>")
    seen = first_screen(page, tmp_path)
    assert seen["clipped"] == ["a claim much longer than its cell"]
    assert seen["overlaps"] == [["first text", "second text"]]


ANALYSIS_REPORTS = [name for name in COMMITTED
                    if json.loads((PROJECT_ROOT / "reports" / f"{name}.metrics.json").read_text())["metrics"].get("claims")]


@pytest.mark.parametrize("name", ANALYSIS_REPORTS)
def test_committed_analysis_report_opens_with_its_claims_in_full(name, tmp_path):
    """Each analysis report shows its headline box on the first screen (1400x900), no text overlapping, every claim
    in full: the texts of claims.json's rows of that report."""
    claims = [claim for claim in json.loads((PROJECT_ROOT / "reports" / layout.CLAIMS_FILE).read_text())]
    ours = [claim_text(claim) for claim in json.loads((PROJECT_ROOT / "reports" / f"{name}.metrics.json").read_text())["metrics"]["claims"]]
    assert all(any(claim_text(claim) == text for claim in claims) for text in ours)
    seen = first_screen(PROJECT_ROOT / "reports" / f"{name}.html", tmp_path)
    assert seen["top"] is not None and 0 <= seen["top"] < seen["height"], f"{name}: the headline box is not on the first screen"
    assert seen["claims"] == ours
    assert seen["clipped"] == [] and seen["overlaps"] == []


def test_the_index_marks_a_report_of_another_library_or_preset_stale(tmp_path):
    notebooks, reports = tmp_path / "notebooks", tmp_path / "reports"
    notebooks.mkdir()
    notebook = new_notebook(cells=[
        new_code_cell('preset: str = "cpu"  # smoke | cpu | paper\nmetrics_path: str = ""  # where to write the metrics'),
        new_code_cell("import json\njson.dump({'headline': {'points': 4}, 'metrics': {}}, open(metrics_path, 'w'))")])
    notebook.cells[0].metadata["tags"] = ["parameters"]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, notebooks / "toy.ipynb")
    run.run_all("smoke", reports_dir=reports, notebooks_dir=notebooks, cache_dir=tmp_path / "cache", log=None)
    page, record_path = reports / "toy.html", reports / "toy.run.json"
    assert "<span class='stale-mark'>" not in page.read_text() and "<a href='index.html'>" in page.read_text()

    record = json.loads(record_path.read_text())
    record["config"]["library_sha256"] = "0" * 64  # as if an older library had written it
    record_path.write_text(json.dumps(record))
    report_index.write_index(reports, "smoke")
    assert "stale: written by another version of the library" in page.read_text()
    assert "stale: written by another version of the library" in (reports / "index.html").read_text()
    assert json.loads((reports / "summary.json").read_text())["reports"][0]["stale"] == ["written by another version of the library"]

    report_index.write_index(reports, "cpu")  # another preset's folder
    assert "stale: written by another version of the library; preset smoke, not this folder&#x27;s cpu" in page.read_text()
    record["config"]["library_sha256"] = library_sha256()
    record_path.write_text(json.dumps(record))
    report_index.write_index(reports, "smoke")  # current again: the mark goes
    assert "<span class='stale-mark'>" not in page.read_text() and "<span class='stale-mark'>" not in (reports / "index.html").read_text()

    # a page drawn before the frame existed gets the mark first in its body; rerender draws it with its frame
    page.write_text("<html><body><main><p>old page</p></main></body></html>")
    record["config"]["library_sha256"] = "0" * 64
    record_path.write_text(json.dumps(record))
    report_index.write_index(reports, "smoke")
    assert page.read_text().startswith("<html><body><main><p><!--stale--><span class='stale-mark'>stale: written by another")
    assert run.rerender(reports, notebooks, preset="smoke") == ["toy"]
    redrawn = page.read_text()
    assert "<section class='headline'>" in redrawn and "old page" not in redrawn
    assert redrawn.count("<span class='stale-mark'>") == 1  # still stale: rerendering runs nothing
