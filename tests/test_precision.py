"""precision="auto": the decision (measured, forced both ways), its plumbing and its record in every result."""
import json

import numpy as np
import pytest
import torch

from instructor_lib import precision as prec
from instructor_lib.evaluation import evaluate
from instructor_lib.evaluation.suite import Subsample
from instructor_lib.medi import build_medi
from instructor_lib.workbench.reporting.record import write_metrics
from instructor_lib.tiny import tiny_bert

TEXTS = ["a dog eats food", "the market closes early", "a cat sleeps on the warm roof of the house"]


@pytest.fixture(autouse=True)
def no_override(monkeypatch):
    monkeypatch.delenv(prec.ENV_VAR, raising=False)


@pytest.mark.parametrize("speedup, expected", [(3.0, "bfloat16"), (prec.MIN_SPEEDUP, "bfloat16"), (1.0, "float32"),
                                               (0.01, "float32")])
def test_auto_follows_the_measured_bf16_speedup_on_cpu(monkeypatch, speedup, expected):
    monkeypatch.setattr(prec, "cpu_bf16_speedup", lambda: speedup)
    assert prec.resolve_precision("auto") == expected
    assert prec.resolve_precision("auto", "cpu") == expected
    record = prec.precision_record("auto")
    assert record["resolved"] == expected and record["reason"].startswith(f"measured: a bf16 matmul runs {speedup:.3g}x")


@pytest.mark.parametrize("forced", ["float32", "bfloat16"])
def test_the_environment_forces_either_path_and_explicit_values_pass_through(monkeypatch, forced):
    monkeypatch.setattr(prec, "cpu_bf16_speedup", lambda: pytest.fail("a forced precision must not measure"))
    monkeypatch.setenv(prec.ENV_VAR, forced)
    assert prec.resolve_precision("auto") == forced
    assert prec.precision_record()["reason"] == "forced by $INSTRUCTOR_PRECISION"
    other = "float32" if forced == "bfloat16" else "bfloat16"
    assert prec.resolve_precision(other) == other  # an explicit argument beats the environment


def test_bad_precisions_are_refused_naming_where_they_came_from(monkeypatch):
    with pytest.raises(ValueError, match="precision must be one of .*'float16'"):
        prec.resolve_precision("float16")
    monkeypatch.setenv(prec.ENV_VAR, "fp16")
    with pytest.raises(ValueError, match=r"\$INSTRUCTOR_PRECISION must be one of .*'fp16'"):
        prec.resolve_precision("auto")


def test_the_probe_times_a_real_matmul_once_per_process():
    assert 0 < prec.matmul_seconds(torch.float32, (32, 32, 32), min_seconds=0.001) < 1
    prec.cpu_bf16_speedup.cache_clear()
    first = prec.cpu_bf16_speedup()
    assert first > 0 and prec.cpu_bf16_speedup() == first  # cached: the same number, not a new measurement


@pytest.mark.parametrize("forced", ["float32", "bfloat16"])
def test_encode_with_auto_runs_the_resolved_path(monkeypatch, forced):
    model = tiny_bert(seed=0)
    monkeypatch.setenv(prec.ENV_VAR, forced)
    np.testing.assert_array_equal(model.encode(TEXTS), model.encode(TEXTS, precision=forced))
    if forced == "bfloat16":  # the two paths really differ, so the equality above tells them apart
        assert not np.array_equal(model.encode(TEXTS, precision="float32"), model.encode(TEXTS, precision="bfloat16"))


def test_evaluation_medi_and_metrics_record_the_resolved_precision(monkeypatch, tmp_path):
    model = tiny_bert(seed=0)
    results = {}
    for forced in ("float32", "bfloat16"):
        monkeypatch.setenv(prec.ENV_VAR, forced)
        results[forced] = evaluate(model, suite={"BIOSSES": Subsample(20)}, instructions="paper",
                                   cache_dir=tmp_path / "cache")
        assert results[forced]["metadata"]["precision"] == {"requested": "auto", "resolved": forced,
                                                            "reason": "forced by $INSTRUCTOR_PRECISION"}
        assert write_metrics("", {"x": 1}, {})["precision"]["resolved"] == forced
    # the resolved precision keys the evaluation cache: a bf16 score is never served as a float32 one
    keys = {forced: result["tasks"]["BIOSSES"]["cache_key"] for forced, result in results.items()}
    assert keys["float32"] != keys["bfloat16"]

    monkeypatch.setenv(prec.ENV_VAR, "float32")
    medi = build_medi("smoke", cache_dir=tmp_path / "medi-cache")
    medi.write(tmp_path / "medi.json")
    meta = json.loads((tmp_path / "medi.meta.json").read_text())
    assert medi.config["precision"] == "float32" and meta["config"]["precision"] == "float32"
