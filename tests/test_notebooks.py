"""The notebooks (run with papermill, smoke preset) and the report machinery (instructor_lib.workbench.reporting)."""
import ast
import html
import json
import re
import subprocess
import sys

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from plotly.offline import get_plotlyjs

from instructor_lib import presets
from instructor_lib.workbench import experiments, viz, widgets
from instructor_lib.workbench.experiments import scale_pilot
from instructor_lib.workbench.reporting import budget, html as report_html, layout, run, screenshots
from instructor_lib.workbench.reporting import progress as report_progress, record as report_record
from instructor_lib.workbench.reporting import frame as report_frame, tables as report_tables
from instructor_lib.workbench.reporting.__main__ import main as reporting_main
from instructor_lib.config import PROJECT_ROOT, data_dir
from instructor_lib.provenance import config_hash, sha256_file
from instructor_lib.claims import read_claims
from instructor_lib.tiny import tiny_bert

from helpers import replace_preset, write_notebook

NOTEBOOKS = PROJECT_ROOT / "notebooks"
PARAMETER_LINE = re.compile(r"^(?P<name>\w+): (?P<type>str|int|float|bool) = (?P<value>.+?)  # (?P<help>\S.*)$")


def parameters_cell(path):
    cells = [cell for cell in nbformat.read(path, as_version=4).cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(cells) == 1, f"{path.name}: expected exactly one cell tagged 'parameters', found {len(cells)}"
    return cells[0].source


def documented_parameters(path):
    """name -> (type, default value, help) of each `name: type = value  # help` line of the parameters cell."""
    found = {}
    for line in parameters_cell(path).splitlines():
        match = PARAMETER_LINE.match(line)
        assert match, f"{path.name}: parameters line is not `name: type = value  # help`: {line!r}"
        value = ast.literal_eval(match["value"])
        assert type(value).__name__ == match["type"], f"{path.name}: {match['name']} = {value!r} is not a {match['type']}"
        found[match["name"]] = (match["type"], value, match["help"])
    return found


@pytest.fixture(scope="module")
def smoke_reports(tmp_path_factory):
    """Every notebook (the on-demand pilot too) run once with the smoke preset into a temp reports folder (shared
    by the tests below)."""
    reports = tmp_path_factory.mktemp("reports")
    cache = tmp_path_factory.mktemp("cache")
    records = {record["name"]: record for record in run.run_all(
        "smoke", layout.notebook_names(), reports_dir=reports, cache_dir=cache, log=lambda line: None)}
    return reports, cache, records


def metrics_of(reports, name):
    return json.loads((reports / f"{name}.metrics.json").read_text())


# ------------------------------------------------------------------------------------ committed notebooks
@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda path: path.stem)
def test_committed_notebook_is_thin_and_clean(path):
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        assert cell.outputs == [] and cell.execution_count is None, f"{path.name} cell {index} is committed with outputs"
        definitions = [node for node in ast.walk(ast.parse(cell.source)) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        assert not definitions, f"{path.name} cell {index} defines {definitions[0].name}: put it in instructor_lib"
    parameters = documented_parameters(path)
    assert parameters["preset"] == ("str", "cpu", parameters["preset"][2]) and "smoke | cpu | paper" in parameters["preset"][2]
    assert parameters["metrics_path"][:2] == ("str", "")


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda path: path.stem)
def test_help_notebook_lists_the_documented_parameters(path):
    shown = subprocess.run([sys.executable, "-m", "papermill", "--help-notebook", str(path)],
                           capture_output=True, text=True, check=True).stdout
    for name, (type_name, _, help_text) in documented_parameters(path).items():
        assert re.search(rf"^  {name}: {type_name} \(default ", shown, re.MULTILINE), f"{name} missing from:\n{shown}"
        assert help_text in shown, f"help of {name} missing from:\n{shown}"


# ------------------------------------------------------------------------------------------ smoke runs
def test_every_notebook_runs_with_the_smoke_preset(smoke_reports):
    reports, _, records = smoke_reports
    assert sorted(records) == sorted(layout.notebook_names())
    for name, record in records.items():
        assert record["status"] == "ok", f"{name}: {record['error']}"
        written = metrics_of(reports, name)
        assert written["config"]["preset"] == "smoke" and written["headline"], name
        assert written["config_hash"] == config_hash(written["config"])
        assert written["versions"]["torch"].startswith("2.")
        assert written["precision"]["resolved"] in ("float32", "bfloat16") and written["precision"]["reason"], name
        if name != "playground":  # the playground's widget is the one widget a report may show
            assert "Interactive widget" not in (reports / f"{name}.html").read_text(), f"{name}: a progress bar was left"
        page = (reports / f"{name}.html").read_text()
        assert len(page.encode()) == record["html_bytes"] < report_html.HTML_LIMIT_BYTES
        assert '<script src="plotly.min.js"></script>' in page and "require.min.js" not in page
        assert "Plotly.newPlot" in page  # every notebook draws at least one figure
        executed = nbformat.read(reports / f"{name}.ipynb", as_version=4)
        streams = [o for cell in executed.cells if cell.cell_type == "code" for o in cell.outputs if o.get("name") == "stderr"]
        assert not streams, f"{name}: stderr kept in the executed notebook"


def test_embedding_viz_metrics_match_an_in_process_recomputation(smoke_reports):
    reports, _, _ = smoke_reports
    written = metrics_of(reports, "embedding_viz")
    config, metrics = written["config"], written["metrics"]
    assert config["model"] == "tiny-bert" and config["methods"] == ["tsne"]
    assert metrics["n_texts"] == 18 and metrics["n_labels"] == 3  # smoke: 6 texts of 3 labels
    assert metrics["instruction"] == "Represent an emotion sentence for classifying the emotion: "
    assert written["data_sha256"] == {"eval/EmotionClassification/test.txt": sha256_file(data_dir() / config["data_file"])}
    texts, labels = viz.load_labelled_texts("EmotionClassification", per_label=6, max_labels=3)
    model = tiny_bert(seed=0)
    for space, instruction in (("without", ""), ("with", metrics["instruction"])):
        expected = viz.separation(model.encode(texts, instruction=instruction), labels)
        assert metrics["embedding"][space]["silhouette"] == pytest.approx(expected["silhouette"], abs=1e-5)
        assert metrics["embedding"][space]["knn_accuracy"] == pytest.approx(expected["knn_accuracy"])
    assert written["headline"]["embedding.with.silhouette"] == metrics["embedding"]["with"]["silhouette"]
    assert set(metrics["maps"]) == {"tsne"}


def test_playground_metrics_match_an_in_process_recomputation(smoke_reports):
    reports, _, _ = smoke_reports
    written = metrics_of(reports, "playground")
    defaults = {name: value for name, (_, value, _) in documented_parameters(NOTEBOOKS / "playground.ipynb").items()}
    expected = widgets.compare_instructions(tiny_bert(seed=0), defaults["texts"], defaults["instruction_a"], defaults["instruction_b"])
    metrics = written["metrics"]
    assert metrics["n_texts"] == len(widgets.split_texts(defaults["texts"])) == 5
    np.testing.assert_allclose(metrics["similarity_a"], expected.similarities[0], atol=1e-5)
    np.testing.assert_allclose(metrics["similarity_b"], expected.similarities[1], atol=1e-5)
    assert metrics["mean_abs_change"] == pytest.approx(expected.metrics["mean_abs_change"], abs=1e-5)
    page = (reports / "playground.html").read_text()
    assert "Interactive widget: open the notebook in Jupyter" in page


def test_index_links_every_report_with_its_headline_numbers(smoke_reports):
    reports, cache, records = smoke_reports
    index = (reports / "index.html").read_text()
    summary = json.loads((reports / "summary.json").read_text())
    assert [entry["name"] for entry in summary["reports"]] == layout.notebook_names()
    assert summary["total_wall_s"] == pytest.approx(sum(record["wall_s"] for name, record in records.items()
                                                        if name not in layout.ON_DEMAND))
    for name in records:
        assert f"<a href='{name}.html'>{name}</a>" in index
        headline = metrics_of(reports, name)["headline"]
        assert report_frame.headline_numbers(headline) in index  # each number, to two decimals
        for value in headline.values():
            assert report_tables.cell(value) in index
    assert (reports / report_html.PLOTLY_JS).read_text() == get_plotlyjs()  # plotly.js once, beside the pages
    assert run.run_notebook("playground", "smoke", reports, cache_dir=cache)["cached"]  # same config: no rerun


def test_every_figure_notebook_writes_its_claims_with_intervals_and_the_index_lists_them(smoke_reports):
    reports, _, _ = smoke_reports
    claims = read_claims(reports / layout.CLAIMS_FILE)  # schema-checked
    expected = {"main_table": 3, "data_ablation": 4, "robustness": 1, "instruction_detail": 3,  # smoke: 2 categories
                "pooling": 1, "scaling": 1}
    gathered = []
    for name, count in expected.items():
        written = metrics_of(reports, name)["metrics"]["claims"]
        assert len(written) == count, name
        gathered += written
        for claim in written:
            assert claim["seeds"] == list(experiments.seeds("smoke")) == [1, 2]
            # two seeds give an interval (defined unless both seeds score exactly alike)
            assert claim["ci_low"] is None or claim["ci_low"] <= claim["ours"] <= claim["ci_high"]
    assert claims == gathered  # the index gathers every report's claims, in report order
    for name, specs in budget.NOTEBOOK_CLAIMS.items():  # what the index lists as "not run" are the figures' own words
        assert [claim["claim"] for claim in metrics_of(reports, name)["metrics"]["claims"]] == [spec.words for spec in specs("smoke")]
    for claim in claims:
        assert claim["steps"] == experiments.figure_steps("smoke") == 10  # smoke's figures train as its main table
        table2 = claim["claim"].startswith("Table 2")
        assert (claim["control"] is None) == table2  # a comparison of trained variants rests on its control
        assert isinstance(claim["paper_in_ci"], bool) == (table2 and claim["ci_low"] is not None)
    index = (reports / "index.html").read_text()
    assert "The paper's claims at our scale" in index
    for claim in claims:  # in full, the steps in their own column
        assert f"<td class='claim-text'>{html.escape(report_tables.claim_text(claim))}</td>" in index
    ablation = metrics_of(reports, "ablation")["metrics"]
    assert set(ablation["difference"]["Average"]) == {"mean", "low", "high", "n"}
    # evaluation sampling error beside the seeds' spread: bootstrap sds in Table 2, the noise floor in Fig. 4
    table = metrics_of(reports, "main_table")["metrics"]
    assert table["bootstrap_replicates"] == 50 and all(entry["backbone"] > 0 for entry in table["sampling_error"].values())
    # per task: a category's gain is the mean of its tasks' gains (category scores average their tasks)
    for category in set(table["sampling_error"]) - {"Average"}:
        gains = [row["gain"]["mean"] for row in table["tasks"].values() if row["category"] == category]
        assert gains and table["gain"][category]["mean"] == pytest.approx(sum(gains) / len(gains))
    assert all(row["gain"]["n"] == 2 and row["eval_sd_gain"] > 0 for row in table["tasks"].values())
    robustness = metrics_of(reports, "robustness")["metrics"]
    assert all(floor > 0 for floor in robustness["noise_floor"].values())


def headline_box(page: str) -> str:
    """The headline box of a report page: it comes first, before the notebook's own output."""
    start = page.index("<section class='headline'>")
    assert start < page.index("jp-Cell"), "the headline box is not the first thing in the report"
    return page[start:page.index("</section>", start)]


def test_each_analysis_report_opens_with_its_claims_as_claims_json_holds_them(smoke_reports):
    reports, _, _ = smoke_reports
    claims = read_claims(reports / layout.CLAIMS_FILE)
    for name in layout.notebook_names():
        written = metrics_of(reports, name)["metrics"].get("claims", [])
        box = headline_box((reports / f"{name}.html").read_text())
        for claim in written:
            assert claim in claims  # the box's rows are claims.json's rows
            steps = report_tables.claim_steps(claim)
            row = (f"<td class='claim-text'>{html.escape(report_tables.claim_text(claim))}</td>", report_tables.interval_text(claim),
                   f">{claim['verdict']}{report_tables.settle(claim)}</td>", f"<td>{steps}</td><td>{report_tables.seeds_text(claim['seeds'])}</td>")
            assert all(part in box for part in row), (name, claim)
            assert re.search(r"\[\d+ steps\]", report_tables.claim_text(claim)) is None
        assert box.count("<td class='claim-text'>") == len(written)
        if written:  # the sentence of reading starts from the first claim
            assert html.escape(report_frame.reading(written)) in box
    assert report_tables.interval_text({"ours": 0.2076, "ci_low": -0.0267, "ci_high": 0.442}) == "+0.21 [-0.03, +0.44]"


def test_every_report_shows_provenance_navigation_and_its_inputs_without_python_reprs(smoke_reports):
    reports, _, records = smoke_reports
    for name, record in records.items():
        page = (reports / f"{name}.html").read_text()
        written = metrics_of(reports, name)
        assert "<a href='index.html'>" in page and all(f"<a href='{other}.html'>" in page for other in records if other != name)
        provenance = page[page.index("<p class='provenance'>"):]
        provenance = provenance[:provenance.index("</p>")]
        for part in (f"commit <code>{record['commit']}</code>", f"{html.escape(record['cpu'])} ({record['threads']} threads)",
                     f"precision {record['precision']['resolved']}", record["config"]["library_sha256"][:12],
                     f"config <code>{written['config_hash']}</code>"):
            assert part in provenance, (name, part)
        assert record["commit"] and record["threads"] >= 1
        text = re.sub(r"<script.*?</script>", "", page, flags=re.S)
        for repr_start in ("np.float64(", "{'", "np.int64(", "OrderedDict("):
            assert repr_start not in text, (name, repr_start)
        if "suite" in written:  # each task of the suite with its instruction of each side, in full
            assert "<section class='inputs' id='inputs'>" in page
            for task, inputs in written["suite"]["tasks"].items():
                assert f"<th>{html.escape(task)}</th>" in page
                assert html.escape(inputs["query instruction"]) in page and html.escape(inputs["document instruction"]) in page
    suites = {name: metrics_of(reports, name)["suite"]["name"] for name in ("main_table", "data_ablation", "robustness", "scaling")}
    assert suites == {"main_table": "smoke preset's suite", "data_ablation": "smoke preset's ablation suite",
                      "robustness": "smoke preset's robustness suite", "scaling": "smoke preset's sizes suite"}
    table = metrics_of(reports, "main_table")
    assert table["config"]["main_seeds"] == table["metrics"]["seeds"] == list(experiments.seeds("smoke", main=True))
    viz_model = metrics_of(reports, "embedding_viz")["config"]["model"]
    assert "/" not in viz_model or viz_model.startswith("run ")  # no machine-specific path


def test_the_pilot_report_recomputes_from_its_per_seed_gains(smoke_reports):
    reports, _, _ = smoke_reports
    pilot = metrics_of(reports, "pilot")["metrics"]
    assert list(pilot["candidates"]) == list(presets.PRESETS["smoke"].pilot.candidates)
    for label, row in pilot["candidates"].items():
        gains = [per_seed["Average"] for per_seed in pilot["gain_per_seed"][label].values()]
        assert len(gains) == 2 and row["gain"] == pytest.approx(sum(gains) / 2)
        assert row["half-width"] == pytest.approx(12.706204736174707 * abs(gains[0] - gains[1]) / 2)  # t(0.975, 1) sd / sqrt 2
        assert row["eval sd gain"] > 0 and row["train s per seed"] > 0
    assert pilot["chosen"] == min(pilot["candidates"], key=lambda label: pilot["candidates"][label]["half-width"])
    assert pilot["figures_chosen"] == scale_pilot.figures_choice("smoke", pilot["candidates"])


# ------------------------------------------------------------------------------- report machinery (fast)

# Writes the metrics file by hand (the real notebooks use record.write_metrics): importing instructor_lib
# would load torch in every toy kernel and triple this test's time.
TOY_BODY = """import json, sys
import plotly.graph_objects as go
print("progress 50%|#####     |", file=sys.stderr)
go.Figure(go.Scatter(x=[1, 2, 3], y=[value, 2 * value, 3 * value])).show()
json.dump({"headline": {"score": value * 0.5}}, open(metrics_path, "w"))
"""


def test_run_notebook_caches_by_config_hash_and_records_failures(tmp_path):
    notebooks, reports, cache = tmp_path / "notebooks", tmp_path / "reports", tmp_path / "cache"
    notebooks.mkdir()
    write_notebook(notebooks / "toy.ipynb", TOY_BODY)
    write_notebook(notebooks / "broken.ipynb", 'raise RuntimeError("the data is gone")')

    def cli(*arguments):
        return reporting_main(["--preset", "smoke", "--reports-dir", str(reports), "--notebooks-dir", str(notebooks),
                               "--cache-dir", str(cache), *arguments])

    first = run.run_notebook("toy", "smoke", reports, notebooks, cache_dir=cache)
    assert first["status"] == "ok" and not first["cached"]
    assert json.loads((reports / "toy.metrics.json").read_text())["headline"] == {"score": 0.5}
    page = (reports / "toy.html").read_text()
    assert "progress 50%" not in page and 'id="figure-1"' in page and '"y":[1,2,3]' in page.replace(" ", "")
    again = run.run_notebook("toy", "smoke", reports, notebooks, cache_dir=cache)
    assert again["cached"] and again["config_hash"] == first["config_hash"] and again["wall_s"] == first["wall_s"]
    assert not run.run_notebook("toy", "smoke", reports, notebooks, cache_dir=tmp_path / "fresh")["cached"]
    started = json.loads((reports / "toy.run.json").read_text())["started_at"]
    assert cli("--only", "toy") == 0  # the command line finds the same cached run and does not run it again
    assert json.loads((reports / "toy.run.json").read_text())["started_at"] == started
    changed = run.run_notebook("toy", "smoke", reports, notebooks, parameters={"value": 4}, cache_dir=cache)
    assert not changed["cached"] and changed["config_hash"] != first["config_hash"]
    assert json.loads((reports / "toy.metrics.json").read_text())["headline"] == {"score": 2.0}

    assert cli("--only", "broken") == 1
    broken = json.loads((reports / "broken.run.json").read_text())
    assert broken["status"] == "failed" and "the data is gone" in broken["error"]
    assert "RuntimeError" in (reports / "broken.html").read_text()  # the partial report shows the traceback
    index = (reports / "index.html").read_text()
    assert "<a href='broken.html'>broken</a>" in index and ">failed</span>" in index and "<tr><th>score</th><td class='num'>2.00</td></tr>" in index
    with pytest.raises(ValueError, match=r"no notebook\(s\) \['nope'\].*available: \['broken', 'toy'\]"):
        run.run_all("smoke", ["nope"], reports, notebooks, cache_dir=cache)


def test_run_all_says_what_runs_with_a_live_progress_line(tmp_path, capsys):
    notebooks, reports = tmp_path / "notebooks", tmp_path / "reports"
    notebooks.mkdir()
    write_notebook(notebooks / "toy.ipynb", TOY_BODY)
    lines = []
    run.run_all("smoke", reports_dir=reports, notebooks_dir=notebooks, cache_dir=tmp_path / "cache", log=lines.append)
    assert lines[0] == "[1/1] toy: started" and re.fullmatch(r"\[1/1\] toy: ok in \d+s", lines[1])
    assert re.fullmatch(r"1 notebooks in \d+s", lines[2])
    progress = capsys.readouterr().err.splitlines()  # not a terminal: a line as each cell starts
    cells = len(nbformat.read(reports / "toy.ipynb", as_version=4).cells)  # with papermill's injected parameters
    assert [line.split(",")[0] for line in progress] == [f"[1/1] toy: cell {i}/{cells}" for i in range(1, cells + 1)]
    assert all(line.endswith("no earlier run to estimate the rest from") for line in progress)
    record = json.loads((reports / "toy.run.json").read_text())
    assert record["precision"]["resolved"] in ("float32", "bfloat16")  # what "auto" means on this machine
    assert f"<td>{record['precision']['resolved']}</td>" in (reports / "index.html").read_text()
    # a rerun estimates from the recorded wall time of the last run
    lines.clear()
    run.run_all("smoke", reports_dir=reports, notebooks_dir=notebooks, cache_dir=tmp_path / "other", log=lines.append)
    assert lines[0] == f"[1/1] toy: started (last run {report_progress.duration(record['wall_s'])})"


def test_on_demand_notebooks_run_only_when_named(tmp_path):
    notebooks, reports = tmp_path / "notebooks", tmp_path / "reports"
    notebooks.mkdir()
    for name in ("toy", *layout.ON_DEMAND):
        write_notebook(notebooks / f"{name}.ipynb", TOY_BODY)
    ran = run.run_all("smoke", reports_dir=reports, notebooks_dir=notebooks, cache_dir=tmp_path / "cache", log=None)
    assert [record["name"] for record in ran] == ["toy"]
    ran = run.run_all("smoke", list(layout.ON_DEMAND), reports, notebooks, cache_dir=tmp_path / "cache", log=None)
    assert [record["name"] for record in ran] == list(layout.ON_DEMAND)
    # the index's total is make reproduce's: the on-demand notebooks are listed beside it, not added in
    summary = json.loads((reports / "summary.json").read_text())
    toy = json.loads((reports / "toy.run.json").read_text())
    assert summary["total_wall_s"] == round(toy["wall_s"], 2) and len(summary["reports"]) == 1 + len(layout.ON_DEMAND)
    assert "(on demand)" in (reports / "index.html").read_text()


def test_the_progress_line_estimates_the_time_left_from_the_last_run(monkeypatch):
    clock = iter([100.0, 130.0, 400.0])
    monkeypatch.setattr(report_progress.time, "perf_counter", lambda: next(clock))
    progress = report_progress.Progress("[2/8] train", expected_s=276.0, stream=sys.stderr)
    progress.cell, progress.cells = 5, 11
    assert progress.line() == "[2/8] train: cell 5/11, 30s elapsed, ~4m06s left (last run 4m36s)"
    assert progress.line() == "[2/8] train: cell 5/11, 5m00s elapsed, longer than the last run (4m36s)"


def test_export_html_refuses_pages_over_the_size_limit(tmp_path):
    notebook = new_notebook(cells=[new_code_cell("figure")])
    huge = {"data": [{"type": "scatter", "x": list(range(150_000)), "y": list(range(150_000))}], "layout": {}}
    notebook.cells[0].outputs = [nbformat.v4.new_output("display_data", data={report_html.PLOTLY_MIME: huge})]
    nbformat.write(notebook, tmp_path / "huge.ipynb")
    with pytest.raises(ValueError, match=r"huge\.html is \d+ bytes, over the 1000000-byte limit"):
        report_html.export_html(tmp_path / "huge.ipynb", tmp_path / "huge.html")


def test_exported_pages_share_one_stylesheet(tmp_path):
    for name in ("a", "b"):
        notebook = new_notebook(cells=[new_code_cell("x")])
        notebook.cells[0].outputs = [nbformat.v4.new_output("display_data", data={"text/plain": name})]
        nbformat.write(notebook, tmp_path / f"{name}.ipynb")
        report_html.export_html(tmp_path / f"{name}.ipynb", tmp_path / f"{name}.html")
    css = (tmp_path / report_html.NOTEBOOK_CSS).read_text()
    assert len(css) > 100_000 and ".jp-OutputArea" in css  # nbconvert's JupyterLab theme
    for name in ("a", "b"):
        page = (tmp_path / f"{name}.html").read_text()
        head = page[:page.index("</head>")]
        assert '<style type="text/css">' not in head and f'<link rel="stylesheet" href="{report_html.NOTEBOOK_CSS}"/>' in head
        assert len(page) < 30_000


def png_pixels(path):
    """(width, height, decompressed scanlines) of a PNG file."""
    import struct
    import zlib

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    chunks, offset = [], 8
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if kind == b"IDAT":
            chunks.append(data[offset + 8:offset + 8 + length])
        offset += 12 + length
    return width, height, zlib.decompress(b"".join(chunks))


def test_readme_figures_are_drawn_from_the_reports(smoke_reports):
    reports, _, _ = smoke_reports
    for name, (_, width, height) in screenshots.README_FIGURES.items():
        png_width, png_height, pixels = png_pixels(reports / "figures" / f"{name}.png")
        assert (png_width, png_height) == (width, height)
        assert len(set(pixels)) > 50, f"{name}.png looks blank"  # bars/points in several colours, not one fill


def test_write_metrics_records_hashes_versions_and_headline(tmp_path):
    data_file = viz.task_file("EmotionClassification")
    record = report_record.write_metrics(tmp_path / "m.json", {"a": {"b": 0.25}, "n": 3}, {"seed": 1, "preset": "cpu"},
                                         headline=["a.b"], data_files=[data_file])
    assert json.loads((tmp_path / "m.json").read_text()) == record
    assert record["headline"] == {"a.b": 0.25}
    assert record["data_sha256"] == {"eval/EmotionClassification/test.txt": sha256_file(data_file)}
    assert record["config_hash"] == config_hash({"preset": "cpu", "seed": 1}) != config_hash({"seed": 2, "preset": "cpu"})
    assert set(record["versions"]) >= {"python", "torch", "transformers", "instructor-lib"}
    with pytest.raises(KeyError, match="headline key 'a.c'"):
        report_record.write_metrics("", {"a": {"b": 1}}, {}, headline=["a.c"])
    with pytest.raises(ValueError, match="preset must be one of"):
        experiments.notebook_model("", "huge")


def test_what_notebooks_import_to_record_results_loads_no_report_runner():
    """A notebook's `from instructor_lib.workbench.reporting import record, tables` stays light: papermill, nbconvert and
    nbformat are the runner's, loaded only by `python -m instructor_lib.workbench.reporting`."""
    heavy = ("papermill", "nbconvert", "nbformat")
    loaded = subprocess.run([sys.executable, "-c", "import sys; from instructor_lib.workbench.reporting import record, tables; "
                             f"print(sorted(name for name in sys.modules if name.split('.')[0] in {heavy!r}))"],
                            capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_a_figure_beyond_the_budget_is_listed_not_run_and_reproduce_all_runs_it(smoke_reports, monkeypatch):
    """Last in this module: it takes one report out of the shared smoke reports and makes it again. With a budget that
    holds no figure, `make reproduce` runs (here: reuses) the rest, and the index lists the missing figure's claims as
    "not run"; `--all` (make reproduce-all) runs just that figure, reusing every finished notebook."""
    reports, cache, _ = smoke_reports
    replace_preset(monkeypatch, "smoke", budget_minutes=1)
    assert budget.plan("smoke").on_demand == budget.FIGURE_PRIORITY
    for kind in run.REPORT_KINDS:
        (reports / f"instruction_detail.{kind}").unlink()
    records = run.run_all("smoke", reports_dir=reports, cache_dir=cache, log=None)
    assert not set(budget.FIGURE_PRIORITY) & {record["name"] for record in records}
    assert all(record["cached"] for record in records)
    claims = read_claims(reports / layout.CLAIMS_FILE)
    assert [claim["verdict"] for claim in claims if claim["claim"].startswith("Fig. 5")] == ["not run"] * 3
    assert [claim for claim in claims if claim["claim"].startswith("Fig. 3")][0]["verdict"] != "not run"  # a current report
    records = {record["name"]: record for record in run.run_all("smoke", reports_dir=reports, cache_dir=cache, log=None,
                                                                everything=True)}
    assert not records["instruction_detail"]["cached"] and records["instruction_detail"]["status"] == "ok"
    assert all(record["cached"] for name, record in records.items() if name != "instruction_detail")
    assert "not run" not in {claim["verdict"] for claim in read_claims(reports / layout.CLAIMS_FILE)}
