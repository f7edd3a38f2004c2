"""Faults and bad input (issue 15): nothing overwritten, nothing clobbered, nothing silently wrong.

One test per defect of the issue (numbered as there), the atomic-write and cache-recovery rules, and the
fault-injection runs (SIGKILL at seeded random moments, then restart) for training and evaluation.
"""
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from instructor_lib import config as config_module, files, training
from instructor_lib.workbench import experiments, widgets
from instructor_lib.workbench.experiments import compare, runs, sizes
from instructor_lib.workbench.reporting import layout, run
from instructor_lib.workbench.reporting.__main__ import main as reporting_main
from instructor_lib.evaluation import evaluate
from instructor_lib.evaluation.instruction_sets import get_instruction_set
from instructor_lib.evaluation.suite import FULL, Subsample, resolve_suite
from instructor_lib.medi import build as medi_build
from instructor_lib.medi.pairs import embed_many
from instructor_lib.model import Instructor
from instructor_lib.tiny import tiny_bert
from instructor_lib.training import TrainConfig, loop as train_loop, preset, read_metrics, train
from instructor_lib.training.__main__ import main as train_main

from helpers import make_records, one_thread, write_notebook  # noqa: F401 (one_thread: autouse fixture)

PROJECT = Path(__file__).resolve().parent.parent
SUBPROCESS_ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(PROJECT)}


def small(**fields):
    return preset("smoke", **{"steps": 4, "batch_size": 4, "chunk_size": 5, "checkpoint_every": 2, **fields})


def tiny_start(config):
    """The smoke preset's starting model ("tiny-bert"), which the workbench builds and passes to `train`."""
    return tiny_bert(seed=config.seed)


# ---------------------------------------------------------------- 1. reports of other presets, killed runs
TOY_BODY = """import json, os, signal
if value < 0:  # stands for a kill of `make reproduce` in the middle of this notebook
    os.kill(os.getppid(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
json.dump({"headline": {"score": value * 0.5}}, open(metrics_path, "w"))
"""


def test_1_a_smoke_report_run_writes_to_its_own_folder_not_the_committed_reports(tmp_path, monkeypatch):
    notebooks, committed = tmp_path / "notebooks", tmp_path / "reports"
    notebooks.mkdir()
    write_notebook(notebooks / "toy.ipynb", TOY_BODY)
    monkeypatch.setattr(layout, "REPORTS_DIR", committed)
    assert layout.reports_dir_for("cpu") == committed and layout.reports_dir_for("smoke") == committed / "smoke"
    assert reporting_main(["--preset", "smoke", "--only", "toy", "--notebooks-dir", str(notebooks),
                           "--cache-dir", str(tmp_path / "cache")]) == 0
    assert sorted(path.name for path in committed.iterdir()) == ["smoke"]  # nothing beside the committed reports
    smoke = committed / "smoke"
    assert {"toy.ipynb", "toy.html", "toy.metrics.json", "toy.run.json", "index.html", "summary.json"} <= \
        {path.name for path in smoke.iterdir()}
    assert json.loads((smoke / "toy.run.json").read_text())["preset"] == "smoke"
    executed = nbformat.read(smoke / "toy.ipynb", as_version=4)  # the final metrics path, not the staging folder
    assert run.STAGING_PREFIX not in json.dumps(executed)
    assert not list(smoke.glob(f"{run.STAGING_PREFIX}*"))


def test_1_a_reporting_run_killed_inside_a_notebook_leaves_the_reports_as_they_were(tmp_path):
    notebooks, reports, cache = tmp_path / "notebooks", tmp_path / "reports", tmp_path / "cache"
    notebooks.mkdir()
    write_notebook(notebooks / "toy.ipynb", TOY_BODY)
    assert run.run_notebook("toy", "cpu", reports, notebooks, cache_dir=cache)["status"] == "ok"
    before = {path.name: path.read_bytes() for path in reports.iterdir() if path.is_file()}
    assert {"toy.ipynb", "toy.metrics.json", "toy.run.json", "toy.html"} <= set(before)
    killed = subprocess.run([sys.executable, "-c", "import sys; from instructor_lib.workbench.reporting import run; "
                             "run.run_notebook('toy', 'cpu', sys.argv[1], sys.argv[2], parameters={'value': -1}, "
                             "cache_dir=sys.argv[3])", str(reports), str(notebooks), str(cache)],
                            cwd=PROJECT, env=SUBPROCESS_ENV, capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    after = {path.name: path.read_bytes() for path in reports.iterdir() if path.is_file()}
    assert after == before  # the metrics are still there, the notebook and its record not rewritten


# ---------------------------------------------------------------------------------- 2. the run lock
HOLD_LOCK = """
import sys, time
from instructor_lib.files import run_lock
with run_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_2_a_second_run_on_a_locked_run_directory_fails_at_once_naming_the_holder(tmp_path):
    run_dir = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(run_dir)], cwd=PROJECT, env=SUBPROCESS_ENV,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.perf_counter()
        with pytest.raises(files.RunLockedError, match=rf"{run_dir} is in use by process {holder.pid}"):
            train(small(), make_records(per_task=8), run_dir=run_dir, model=tiny_start(small()))
        assert time.perf_counter() - started < 5
        assert sorted(path.name for path in run_dir.iterdir()) == [".lock"]  # nothing written by the refused run
    finally:
        holder.kill()
        holder.wait()
    # the holder died: its lock is taken over (the file still names it until then)
    assert files.lock_holder(run_dir) == holder.pid
    result = train(small(), make_records(per_task=8), run_dir=run_dir, model=tiny_start(small()))
    assert [json.loads(line)["step"] for line in result.metrics_path.read_text().splitlines()] == [1, 2, 3, 4]
    assert files.lock_holder(run_dir) == os.getpid()


def test_2_the_lock_is_exclusive_within_one_process_too(tmp_path):
    with files.run_lock(tmp_path):
        with pytest.raises(files.RunLockedError, match=str(os.getpid())):
            with files.run_lock(tmp_path):
                pass
    with files.run_lock(tmp_path):  # released at the end of the block
        pass


# ------------------------------------------------------------------------- 3. missing tokenizer files
def test_3_a_model_folder_without_tokenizer_files_is_refused(tmp_path):
    tiny_bert(seed=0).save_pretrained(tmp_path / "model")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (tmp_path / "model" / name).unlink()
    with pytest.raises(FileNotFoundError, match=rf"{tmp_path / 'model'} has no tokenizer vocabulary.*\[UNK\]"):
        Instructor.from_pretrained(tmp_path / "model")
    playground = widgets.Playground(tiny_bert(seed=0), "a\nb")
    playground.load(str(tmp_path / "model"))
    assert "no tokenizer vocabulary" in playground.status.value


# ------------------------------------------------------------------- 4. notebook parameters first
def test_4_a_bad_variant_fails_before_any_training(monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("trained or built a mixture before checking the parameters")

    for module in (compare, sizes):  # where the ablation and the scaling look training up
        monkeypatch.setattr(module, "trained_model", no_work)
    monkeypatch.setattr(runs, "mixture_sha256", no_work)
    monkeypatch.setattr(runs, "training_records", no_work)
    for call in (lambda: experiments.ablation("smoke", "bogus"), lambda: experiments.settings("smoke", variant="bogus"),
                 lambda: experiments.experiment_config("smoke", "bogus"), lambda: experiments.scaling("smoke", [0]),
                 lambda: experiments.experiment_config("smoke", "symmetric_only:verbose")):
        with pytest.raises(ValueError, match=r"(variant must be a selection \(full, no_superni.*got '(bogus|symmetric_only:verbose)'"
                                             r"|layers must be)"):
            call()
    with pytest.raises(ValueError, match="preset must be one of"):
        experiments.ablation("smok", "no_superni")


# ---------------------------------------------------------------------------- 5. a torn metrics line
def test_5_a_torn_last_metrics_line_is_dropped_with_a_warning_on_resume(tmp_path):
    records, config = make_records(per_task=8), small()

    def stop_at_3(step, metrics):
        if step == 3:
            raise KeyboardInterrupt  # after the checkpoint of step 2, with step 3 logged
    with pytest.raises(KeyboardInterrupt):
        train(config, records, run_dir=tmp_path, on_step=stop_at_3, model=tiny_start(config))
    with open(tmp_path / "metrics.jsonl", "a") as metrics:
        metrics.write('{"step": 4, "loss": 0.7')  # killed in the middle of a line
    with pytest.warns(UserWarning, match=r"metrics.jsonl:4: dropped a torn last line"):
        result = train(config, records, run_dir=tmp_path, model=tiny_start(config))
    assert result.resumed_from_step == 2
    assert [json.loads(line)["step"] for line in result.metrics_path.read_text().splitlines()] == [1, 2, 3, 4]


def test_5_a_damaged_metrics_line_before_the_last_is_an_error_naming_it(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1, "loss": 1.0}\n{"step": 2, "lo\n{"step": 3, "loss": 1.0}\n')
    with pytest.raises(ValueError, match=rf"{path}:2 is damaged"):
        read_metrics(path)


# ---------------------------------------------------------------------- 6. corrupt files name themselves
def test_6_truncated_weights_and_modules_json_are_errors_naming_the_file(tmp_path):
    tiny_bert(seed=0).save_pretrained(tmp_path / "model")
    weights = tmp_path / "model" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(OSError, match=rf"{weights} cannot be read \(SafetensorError.*save or download the model again"):
        Instructor.from_pretrained(tmp_path / "model")
    playground = widgets.Playground(tiny_bert(seed=0), "a\nb")
    playground.load(str(tmp_path / "model"))  # shown in the playground, not raised
    assert "model.safetensors cannot be read" in playground.status.value

    tiny_bert(seed=0).save_pretrained(tmp_path / "other")
    modules = tmp_path / "other" / "modules.json"
    modules.write_text(modules.read_text()[:30])
    with pytest.raises(ValueError, match=rf"{modules} is not valid JSON .*save or download the model again"):
        Instructor.from_pretrained(tmp_path / "other")


def test_6_a_truncated_checkpoint_is_an_error_naming_it_with_advice(tmp_path):
    records, config = make_records(per_task=8), small()
    train(config, records, run_dir=tmp_path, model=tiny_start(config))
    state = tmp_path / "checkpoint" / "state.pt"
    state.write_bytes(state.read_bytes()[:2000])
    with pytest.raises(RuntimeError, match=rf"{state} cannot be read .*delete {tmp_path / 'checkpoint'}"):
        train(config, records, run_dir=tmp_path, model=tiny_start(config))


# --------------------------------------------------------------------------- 7. explicit data dir
def test_7_a_mistyped_data_dir_is_an_error_even_when_the_default_exists(tmp_path, monkeypatch):
    (tmp_path / "shared" / "data").mkdir(parents=True)
    monkeypatch.setattr(config_module, "PROJECT_ROOT", tmp_path / "project")
    monkeypatch.delenv("INSTRUCTOR_DATA_DIR", raising=False)
    assert config_module.data_dir() == (tmp_path / "shared" / "data").resolve()  # the default, when nothing is set
    monkeypatch.setenv("INSTRUCTOR_DATA_DIR", str(tmp_path / "shraed"))
    with pytest.raises(FileNotFoundError, match=rf"looked at INSTRUCTOR_DATA_DIR: {tmp_path / 'shraed'}\)"):
        config_module.data_dir()


# ------------------------------------------------------------------------------- 8. unencodable text
def test_8_unencodable_text_is_an_error_naming_its_index():
    with pytest.raises(ValueError, match=r"inputs\[1\] text is not valid Unicode: surrogates not allowed at character 3"):
        tiny_bert(seed=0).encode(["ok", "abc\ud800"])
    with pytest.raises(ValueError, match=r"inputs\[0\] instruction is not valid Unicode"):
        tiny_bert(seed=0).encode([["\udc80 Represent: ", "text"]])


# ------------------------------------------------------------------ 9. inputs resolved before any work
def test_9_an_unreachable_model_fails_before_the_mixture_is_built(tmp_path, monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("built the training data before resolving the model")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(train_loop, "load_records", no_work)
    with pytest.raises(SystemExit, match="'sentence-transformers/gtr-t5-large' is not a local folder and could not be downloaded"):
        train_main(["--preset", "paper", "--steps", "1", "--run-dir", str(tmp_path / "run")])
    with pytest.raises(OSError, match="'sentence-transformers/gtr-t5-large' is not a local folder"):
        train(preset("paper", steps=1), run_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists()
    with pytest.raises(FileNotFoundError, match=r"training data .*missing.json .*is not a file"):
        train(small(data=str(tmp_path / "missing.json")), run_dir=tmp_path / "run", model=tiny_start(small()))


def test_9_long_steps_say_what_they_do_on_stderr(tmp_path, capsys):
    from instructor_lib.medi import write_medi

    write_medi(make_records(per_task=8), tmp_path / "medi.json")
    train(small(data=str(tmp_path / "medi.json")), run_dir=tmp_path / "run", model=tiny_start(small()))
    err = capsys.readouterr().err
    assert f"train smoke: reading the training data ({tmp_path / 'medi.json'})" in err
    assert "train smoke: loading the model tiny-bert (16 records, 2 tasks)" in err


# ---------------------------------------------------------------------------------- 10. smaller ones
def test_10_a_bogus_medi_preset_names_the_choices(capsys):
    with pytest.raises(SystemExit):
        medi_build.main(["--preset", "bogus"])
    assert "--preset must be one of ['cpu', 'paper', 'smoke'] or a float scale in (0, 1], got 'bogus'" in capsys.readouterr().err


def test_10_subsample_limits_and_suite_values_are_checked():
    for bad in (dict(max_test=0), dict(max_test=1), dict(max_train=1), dict(max_corpus=-5), dict(max_test="10")):
        with pytest.raises(ValueError, match=rf"Subsample {next(iter(bad))} must be None \(keep all\) or an integer >= 2"):
            Subsample(**bad)
    with pytest.raises(TypeError, match=r"suite\['BIOSSES'\] must be a Subsample .*got dict"):
        resolve_suite({"BIOSSES": {"max_test": 40}})
    with pytest.raises(ValueError, match="the suite is empty"):
        resolve_suite({})
    with pytest.raises(ValueError, match="the suite is empty"):
        evaluate(tiny_bert(seed=0), suite={})
    assert resolve_suite({"BIOSSES": Subsample(2)}) == {"BIOSSES": Subsample(2)}
    assert resolve_suite(["BIOSSES"]) == {"BIOSSES": FULL}


def test_10_a_misspelt_paper_instruction_set_is_an_error():
    with pytest.raises(ValueError, match=r"no paper instruction set for 'hkunlp/instructor-bse': choose one of"):
        get_instruction_set("paper:hkunlp/instructor-bse")
    assert get_instruction_set("paper:hkunlp/instructor-base").name == "paper:hkunlp/instructor-base"


def test_10_bad_training_values_are_refused_before_a_run_directory_exists(tmp_path, capsys):
    for field, value in (("lr", "fast"), ("temperature", 0), ("temperature", -1.0), ("warmup_ratio", 2.0),
                         ("dropout", 1.5), ("gradient_caching", "yes"), ("precision", "fp16"), ("max_seq_length", 2.5), ("lr", float("nan"))):
        with pytest.raises(ValueError, match=rf"{field} must be"):
            TrainConfig(**{field: value})
    config_file = tmp_path / "config.json"
    for fields in ({"lr": "fast"}, {"temperature": 0}):
        config_file.write_text(json.dumps(fields))
        with pytest.raises(SystemExit):
            train_main(["--preset", "smoke", "--config", str(config_file), "--run-dir", str(tmp_path / "run")])
        assert f"must be a number > 0.0, got {fields[next(iter(fields))]!r}" in capsys.readouterr().err
    config_file.write_text('{"lr": 1e-3,')
    with pytest.raises(SystemExit):
        train_main(["--preset", "smoke", "--config", str(config_file), "--run-dir", str(tmp_path / "run")])
    assert f"{config_file} is not valid JSON" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


# ------------------------------------------------------------------------ atomic writes, caches
def test_an_atomic_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "record.json"
    files.atomic_write_json(target, {"v": 1})
    with pytest.raises(RuntimeError):
        with files.atomic_path(target) as temporary:
            temporary.write_text('{"v": 2, "half')
            raise RuntimeError("killed")
    assert json.loads(target.read_text()) == {"v": 1}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["record.json"]


def test_a_damaged_evaluation_cache_entry_is_recomputed_with_a_warning(tmp_path):
    model, suite = tiny_bert(seed=0), {"BIOSSES": Subsample(30)}
    first = evaluate(model, suite=suite, precision="float32", cache_dir=tmp_path)
    (entry,) = tmp_path.glob("*.json")
    entry.write_text(entry.read_text()[:40])
    with pytest.warns(UserWarning, match=rf"evaluation cache entry {entry} is damaged"):
        again = evaluate(model, suite=suite, precision="float32", cache_dir=tmp_path)
    assert again["tasks"]["BIOSSES"]["score"] == first["tasks"]["BIOSSES"]["score"]
    assert json.loads(entry.read_text())["score"] == first["tasks"]["BIOSSES"]["score"]  # rewritten whole


def test_a_damaged_medi_embedding_cache_entry_is_recomputed_with_a_warning(tmp_path):
    model, texts = tiny_bert(seed=0), ["a cat", "a dog", "the news"]
    (first,) = embed_many(model, [texts], tmp_path)
    (entry,) = tmp_path.glob("*.npy")
    entry.write_bytes(entry.read_bytes()[:60])
    with pytest.warns(UserWarning, match=rf"MEDI embedding cache {entry} cannot be read"):
        (again,) = embed_many(model, [texts], tmp_path)
    np.testing.assert_array_equal(again, first)
    np.testing.assert_array_equal(np.load(entry), first)


# ------------------------------------------------------------------------------ fault injection
KILLABLE_TRAIN = """
import json, sys
from instructor_lib.tiny import tiny_bert
from instructor_lib.training import TrainConfig, train
config = TrainConfig(**json.loads(sys.argv[1]))
print("ready", flush=True)
train(config, run_dir=sys.argv[2], on_step=lambda step, metrics: print(f"step {step}", flush=True),
      model=tiny_bert(seed=config.seed))
"""


def start(script, arguments, env):
    """Start `script` and wait until it prints "ready" (its imports done); returns the process."""
    process = subprocess.Popen([sys.executable, "-c", script, *arguments], cwd=PROJECT, env={**SUBPROCESS_ENV, **env},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready", process.stderr.read()[-2000:]
    return process


def line_times(script, arguments):
    """An uninterrupted run of `script`: seconds from "ready" to each line it prints, and to its exit."""
    process = start(script, arguments, {})
    started, times = time.perf_counter(), {}
    for line in process.stdout:
        times[line.strip()] = time.perf_counter() - started
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr[-3000:]
    return times, time.perf_counter() - started


def kill_and_restart(script, arguments, kills, seed, wait, progress, extra_env=lambda attempt: {}, timeout=900):
    """Start `script` again and again and SIGKILL it once `wait(rng, process)` returns (a seeded random moment
    after it printed "ready"), until `kills` kills have landed; then let it finish. `extra_env(attempt)` adds
    environment variables to an attempt (e.g. to make the script kill itself at a chosen point). Returns
    `progress()` after each kill."""
    rng, observed, attempt = random.Random(seed), [], 0
    deadline = time.monotonic() + timeout
    while len(observed) < kills:
        assert time.monotonic() < deadline, f"only {len(observed)} kills landed"
        process = start(script, arguments, extra_env(attempt))
        wait(rng, process)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        _, stderr = process.communicate()
        assert process.returncode in (0, -signal.SIGKILL), stderr[-3000:]
        if process.returncode == -signal.SIGKILL:
            observed.append(progress())
        attempt += 1
    finished = subprocess.run([sys.executable, "-c", script, *arguments], cwd=PROJECT, env=SUBPROCESS_ENV,
                              capture_output=True, text=True, timeout=timeout)
    assert finished.returncode == 0, finished.stderr[-3000:]
    return observed


def logged_lines(path):
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.mark.slow
def test_a_training_run_killed_at_20_random_moments_ends_bit_identical_with_every_step_once(tmp_path):
    from instructor_lib.medi import write_medi

    write_medi(make_records(3, 12), tmp_path / "medi.json")
    config = small(data=str(tmp_path / "medi.json"), steps=40, checkpoint_every=3)
    uninterrupted = train(config, run_dir=tmp_path / "straight", model=tiny_start(config))
    arguments = [json.dumps(config.__dict__), str(tmp_path / "killed")]
    times, _ = line_times(KILLABLE_TRAIN, [arguments[0], str(tmp_path / "timing")])
    startup, step_seconds = times["step 1"], (times["step 40"] - times["step 1"]) / 39

    def wait(rng, process):
        if rng.random() < 0.25:  # in the start-up: lock, checkpoint load, metrics repair, run.json
            time.sleep(rng.uniform(0, startup))
            return
        for _ in range(rng.randint(1, 4)):  # after a few steps of this attempt, inside a step or a checkpoint write
            if not process.stdout.readline():
                return
        time.sleep(rng.uniform(0, 2 * step_seconds))

    observed = kill_and_restart(KILLABLE_TRAIN, arguments, kills=20, seed=15, wait=wait,
                                progress=lambda: logged_lines(tmp_path / "killed/metrics.jsonl"))
    assert len(observed) == 20 and len(set(observed)) >= 8, observed  # the kills hit many different steps
    metrics = [json.loads(line) for line in (tmp_path / "killed/metrics.jsonl").read_text().splitlines()]
    straight = [json.loads(line) for line in uninterrupted.metrics_path.read_text().splitlines()]
    assert [m["step"] for m in metrics] == list(range(1, 41))  # every step exactly once: 0 steps lost
    assert [m["loss"] for m in metrics] == [m["loss"] for m in straight]
    killed_weights = Instructor.from_pretrained(tmp_path / "killed/model").state_dict()
    straight_weights = Instructor.from_pretrained(uninterrupted.model_path).state_dict()
    assert killed_weights.keys() == straight_weights.keys()
    for name, tensor in straight_weights.items():
        assert torch.equal(killed_weights[name], tensor), name
    print(f"training fault injection: 20 kills survived (metrics lines at each kill: {observed}), 0 steps lost")


KILLABLE_EVALUATION = """
import json, os, signal, sys
from instructor_lib import files
from instructor_lib.evaluation import evaluate
from instructor_lib.evaluation.suite import Subsample
from instructor_lib.tiny import tiny_bert
model = tiny_bert(seed=0)
rename, when = files.os.replace, os.environ.get("KILL_AT_CACHE_WRITE")


def replace(source, target):  # die inside this attempt's first cache write, before or after its rename
    if when == "before" and str(target).startswith(sys.argv[1]):
        os.kill(os.getpid(), signal.SIGKILL)
    rename(source, target)
    if when == "after" and str(target).startswith(sys.argv[1]):
        os.kill(os.getpid(), signal.SIGKILL)


files.os.replace = replace
print("ready", flush=True)
results = evaluate(model, suite={"BIOSSES": Subsample(30), "STSBenchmark": Subsample(40), "SICK-R": Subsample(40)},
                   precision="float32", cache_dir=sys.argv[1], output_dir=sys.argv[2])
"""


@pytest.mark.slow
def test_an_evaluation_killed_while_it_writes_its_cache_resumes_to_the_same_scores(tmp_path):
    line_times(KILLABLE_EVALUATION, [str(tmp_path / "cache1"), str(tmp_path / "out1")])
    # each attempt dies in its first cache write: with the temporary file written but not renamed ("before"), or
    # just after the rename; at most two "after"s, so one of the three tasks is left for the final run
    schedule = ["before"] * 4 + ["after"] * 2
    random.Random(15).shuffle(schedule)
    observed = kill_and_restart(KILLABLE_EVALUATION, [str(tmp_path / "cache2"), str(tmp_path / "out2")], kills=6,
                                seed=15, wait=lambda rng, process: process.wait(timeout=300),
                                progress=lambda: len(list((tmp_path / "cache2").glob("*.json"))),
                                extra_env=lambda attempt: {"KILL_AT_CACHE_WRITE": schedule[attempt]})
    assert len(observed) == 6 and observed[-1] == 2, observed
    expected = json.loads((tmp_path / "out1/results.json").read_text())
    resumed = json.loads((tmp_path / "out2/results.json").read_text())
    assert {n: t["score"] for n, t in resumed["tasks"].items()} == {n: t["score"] for n, t in expected["tasks"].items()}
    assert resumed["average"] == expected["average"]
    for entry in (tmp_path / "cache2").glob("*.json"):  # every entry whole (a killed write leaves only a temporary)
        assert json.loads(entry.read_text())["score"] in {t["score"] for t in expected["tasks"].values()}
    print(f"evaluation fault injection: 6 kills ({schedule}) survived with {observed} cache entries, scores unchanged")
