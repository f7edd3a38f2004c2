"""The estimate `make reproduce` prints before it starts (instructor_lib.workbench.reporting.estimate): its
arithmetic on hand-made records and throughputs, the calibration on a tiny model, and the runner's use of both."""
import json

import pytest

from instructor_lib import training
from instructor_lib.tiny import tiny_bert
from instructor_lib.workbench.reporting import estimate, index as report_index, run

from helpers import replace_preset, write_notebook

HERE = estimate.Machine("Slow CPU", 2, "float32")
THERE = estimate.Calibration("Fast CPU", 2, train_pairs_per_s=20.0, encode_texts_per_s=300.0)
SLOW = estimate.Calibration("Slow CPU", 2, train_pairs_per_s=5.0, encode_texts_per_s=100.0)


def record(wall_s: float, cpu: str = "Fast CPU", precision: str = "bfloat16", **extra) -> dict:
    return {"status": "ok", "cached": False, "wall_s": wall_s, "cpu": cpu, "threads": 2,
            "precision": {"resolved": precision}, **extra}


def test_scaling_applies_each_part_its_own_throughput_ratio():
    # training 4x slower here, encoding 3x: a notebook that trains 3/4 of its time takes 0.75*4 + 0.25*3 = 3.75x
    assert estimate.scaled_seconds(100.0, 0.75, THERE, SLOW) == pytest.approx(375.0)
    assert estimate.scaled_seconds(100.0, 0.0, THERE, SLOW) == pytest.approx(300.0)
    assert estimate.scaled_seconds(100.0, 1.0, THERE, THERE) == pytest.approx(100.0)


def test_each_notebook_counts_its_own_basis():
    records = {"train": record(100.0), "main_table": record(50.0, cpu="Slow CPU", precision="float32"),
               "ablation": record(80.0), "new": None, "failed": record(10.0, status="failed")}
    names = list(records)
    cached = {"ablation"}
    assert estimate.needs_calibration(names, records, cached, HERE)
    rows = estimate.parts(names, records, cached, HERE, THERE, SLOW)
    assert [(row.name, row.basis) for row in rows] == [("train", "scaled"), ("main_table", "this machine"),
                                                       ("ablation", "cached"), ("new", "no record"), ("failed", "no record")]
    share = estimate.TRAIN_SHARE["train"]
    assert rows[0].seconds == pytest.approx(100.0 * (share * 4 + (1 - share) * 3))
    assert [row.seconds for row in rows[1:]] == [50.0, 0.0, None, None]
    # without a calibration another machine's time is not counted
    assert [row.basis for row in estimate.parts(names, records, cached, HERE, THERE, None)][0] == "no record"
    # a notebook not in the fixed split takes the default share
    other = estimate.parts(["other"], {"other": record(100.0)}, set(), HERE, THERE, SLOW)[0]
    assert other.seconds == pytest.approx(100.0 * (estimate.DEFAULT_TRAIN_SHARE * 4 + (1 - estimate.DEFAULT_TRAIN_SHARE) * 3))


def test_a_machine_is_its_cpu_threads_and_precision():
    assert HERE.ran(record(1.0, cpu="Slow CPU", precision="float32"))
    assert not HERE.ran(record(1.0, cpu="Slow CPU", precision="bfloat16"))  # e.g. another VM of the same name
    assert not HERE.ran({**record(1.0, cpu="Slow CPU", precision="float32"), "threads": 4})
    assert not HERE.ran({**record(1.0, cpu="Slow CPU", precision="float32"), "cached": True})
    assert not HERE.ran(None) and not HERE.ran({"status": "ok", "wall_s": 3.0})  # records before cpu was recorded
    same = {"train": record(100.0, cpu="Slow CPU", precision="float32")}
    assert not estimate.needs_calibration(["train"], same, set(), HERE)
    assert not estimate.needs_calibration(["train"], {"train": record(100.0)}, {"train"}, HERE)  # cached: not run
    assert not estimate.needs_calibration(["new"], {"new": None}, set(), HERE)  # nothing to scale


def test_the_line_says_what_the_estimate_rests_on():
    rows = [estimate.Part("train", 9000.0, "scaled"), estimate.Part("main_table", 600.0, "this machine"),
            estimate.Part("ablation", 0.0, "cached"), estimate.Part("new", None, "no record")]
    line = estimate.estimate_line(rows, HERE, THERE, SLOW, 31.4)
    assert line == ("estimate: 2 h 40 min on this Slow CPU (2 threads): training 5.0 pairs/s vs 20.0, encoding 100 "
                    "texts/s vs 300 on the committed run's CPU (Fast CPU, 2 threads; calibrated in 31 s); 1 notebooks "
                    "from their last run here; 1 cached; not counted, no record to go by: new")
    mine = estimate.estimate_line([estimate.Part("train", 2100.0, "this machine")], HERE, THERE, None, None)
    assert mine == "estimate: 35 min on this Slow CPU (2 threads): the last run's wall times on this machine (1 notebooks)"
    cached = estimate.estimate_line([estimate.Part("train", 0.0, "cached")], HERE, THERE, None, None)
    assert cached == "estimate: nothing to run, all 1 notebooks are cached"
    assert [estimate.hours(s) for s in (40, 61, 3599, 9000)] == ["40 s", "1 min", "1 h 0 min", "2 h 30 min"]


def test_the_reference_is_the_summary_calibration_else_the_written_one(tmp_path):
    summary = tmp_path / "summary.json"
    assert estimate.committed_calibration(summary) == estimate.REFERENCE  # no summary
    summary.write_text(json.dumps({"total_wall_s": 1, "reports": []}))
    assert estimate.committed_calibration(summary) == estimate.REFERENCE  # a summary without a calibration
    summary.write_text(json.dumps({"reports": [], "calibration": THERE.record()}))
    assert estimate.committed_calibration(summary) == THERE


def test_the_summary_keeps_the_calibration_of_the_machine_its_reports_ran_on():
    new, old = SLOW.record(), THERE.record()
    slow, fast = {"cpu": "Slow CPU", "threads": 2}, {"cpu": "Fast CPU", "threads": 2}
    assert report_index.summary_calibration([slow, slow, fast], new, old) == new
    assert report_index.summary_calibration([fast, fast, slow], new, old) == old  # a partial rerun elsewhere
    assert report_index.summary_calibration([fast], None, old) == old  # a run that did not calibrate keeps it
    assert report_index.summary_calibration([], new, None) is None


def test_the_calibration_trains_and_encodes_the_config_it_is_given():
    config = training.TrainConfig(name="calibration", model="tiny-bert", batch_size=4, chunk_size=4, max_seq_length=32,
                                  precision="float32", lr=1e-3)
    measured = estimate.calibrate(config, model=tiny_bert(seed=1), steps=2, texts=20)
    assert measured.train_pairs_per_s > 0 and measured.encode_texts_per_s > 0
    assert measured.threads >= 1 and measured.cpu
    assert estimate.Calibration.from_record(measured.record()) == measured
    records = estimate.synthetic_records(5)
    assert {record["task_name"] for record in records} == {"calibration"} and records == estimate.synthetic_records(5)
    assert all(1 <= len(record["pos"][1].split()) <= estimate.MAX_WORDS for record in records)


def test_run_all_prints_the_estimate_first_and_records_the_calibration(tmp_path, monkeypatch):
    notebooks, reports, cache = tmp_path / "notebooks", tmp_path / "reports", tmp_path / "cache"
    notebooks.mkdir()
    reports.mkdir()
    write_notebook(notebooks / "toy.ipynb", "import json\njson.dump({'headline': {}}, open(metrics_path, 'w'))")
    (reports / "toy.run.json").write_text(json.dumps({**record(600.0), "name": "toy", "preset": "cpu"}))
    measured = estimate.Calibration(estimate.this_machine().cpu, estimate.this_machine().threads, 10.0, 150.0)
    calls = []
    monkeypatch.setattr(estimate, "calibrate", lambda config: calls.append(config) or measured)
    lines = []
    run.run_all("cpu", reports_dir=reports, notebooks_dir=notebooks, cache_dir=cache, log=lines.append)
    assert calls == [training.preset("cpu")] and lines[0].startswith("estimate: calibrating")
    scaled = 600.0 * (0.5 * estimate.REFERENCE.train_pairs_per_s / 10 + 0.5 * estimate.REFERENCE.encode_texts_per_s / 150)
    assert lines[1].startswith(f"estimate: {estimate.hours(scaled)} on this ") and lines[2].startswith("[1/1] toy: started")
    assert json.loads((reports / "summary.json").read_text())["calibration"] == measured.record()
    # run again: the notebook is cached, so nothing is calibrated and the line says so
    lines.clear()
    run.run_all("cpu", reports_dir=reports, notebooks_dir=notebooks, cache_dir=cache, log=lines.append)
    assert len(calls) == 1 and lines[0] == "estimate: nothing to run, all 1 notebooks are cached"
    assert json.loads((reports / "summary.json").read_text())["calibration"] == measured.record()  # kept
    # forced: this machine's own time, no calibration; --no-estimate: no line at all
    lines.clear()
    run.run_all("cpu", reports_dir=reports, notebooks_dir=notebooks, cache_dir=cache, log=lines.append, force=True)
    assert len(calls) == 1 and lines[0].endswith("the last run's wall times on this machine (1 notebooks)")
    lines.clear()
    run.run_all("cpu", reports_dir=reports, notebooks_dir=notebooks, cache_dir=cache, log=lines.append, estimate=False)
    assert lines[0].startswith("[1/1] toy: started")


def test_a_figure_recorded_at_other_steps_is_estimated_from_the_budget_plan(monkeypatch):
    """After the figures' steps change, a figure's last wall time no longer describes its work: the estimate takes
    the plan's cost on the reference machine instead, as that machine's record (scaled here like any other)."""
    from instructor_lib.workbench.reporting import budget

    replace_preset(monkeypatch, "cpu", figures={"steps": 40})
    minutes = budget.plan("cpu").minutes
    records = {"data_ablation": record(1000.0, figure_steps=10), "robustness": record(500.0, figure_steps=40),
               "main_table": record(1300.0, figure_steps=10), "scaling": None}
    planned = run.planned_records("cpu", records, THERE)
    assert planned["data_ablation"]["wall_s"] == pytest.approx(minutes["data_ablation"] * 60)
    assert (planned["data_ablation"]["cpu"], planned["data_ablation"]["threads"]) == ("Fast CPU", 2)
    assert planned["robustness"] == records["robustness"]  # recorded at the steps it would run now
    assert planned["main_table"] == records["main_table"] and planned["scaling"] is None  # not a figure; no record
