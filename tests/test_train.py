"""The trainer: gradient caching equivalence, dropout replay, a smoke run, NaN stop, SIGKILL resume, 2-process DDP."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from instructor_lib.data import collate
from instructor_lib.loss import LOSSES, instructor_loss
from instructor_lib.medi import write_medi
from instructor_lib.model import Instructor
from instructor_lib.tiny import tiny_bert, tiny_t5
from instructor_lib.training import length_chunks, load_model, loss_and_backward, preset, train

from helpers import make_records, one_thread  # noqa: F401 (one_thread: autouse fixture)

PROJECT = Path(__file__).resolve().parent.parent
# One intra-op thread: tiny models on a shared 2-core machine run ~20x faster than with spinning OMP threads.
SUBPROCESS_ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def gradients(model):
    return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}


def step_gradients(model, batch, chunk_size, seed=0, gradient_caching=False, temperature=0.01):
    model.zero_grad(set_to_none=True)
    torch.manual_seed(seed)
    loss = loss_and_backward(model, batch, instructor_loss, temperature, chunk_size=chunk_size,
                             gradient_caching=gradient_caching)
    return loss.item(), gradients(model)


def assert_same_gradients(actual: dict, expected: dict):
    """Equal up to float64 rounding: every tensor within 1000 float64 epsilons of the whole gradient's norm
    (rounding scales with the whole computation; some gradients are exactly 0 in theory, e.g. attention key biases)."""
    assert actual.keys() == expected.keys() and len(expected) > 10
    tolerance = 1e3 * torch.finfo(torch.float64).eps * torch.cat([g.flatten() for g in expected.values()]).norm()
    for name in expected:
        assert (actual[name] - expected[name]).norm() <= tolerance, name


@pytest.mark.parametrize("make_model", [tiny_bert, lambda: tiny_t5(dense_dim=16)], ids=["bert", "t5+dense"])
def test_chunked_and_gradient_cached_steps_give_the_loss_and_gradients_of_one_pass(make_model):
    model = make_model().eval().double()  # no dropout: every path computes the same function; float64: exact maths
    batch = collate(make_records(1, 10))
    loss, reference = step_gradients(model, batch, chunk_size=None)
    for caching in (False, True):  # 30 texts in 5 chunks, kept graphs or re-embedded
        chunked_loss, chunked = step_gradients(model, batch, chunk_size=7, gradient_caching=caching)
        assert chunked_loss == pytest.approx(loss, rel=1e3 * torch.finfo(torch.float64).eps)
        assert_same_gradients(chunked, reference)
    # The check is sharp: a step whose objective is off by one part in a million fails it.
    _, wrong = step_gradients(model, batch, chunk_size=7, gradient_caching=True, temperature=0.01 * (1 + 1e-6))
    with pytest.raises(AssertionError):
        assert_same_gradients(wrong, reference)


def test_gradient_caching_replays_each_chunks_dropout_masks():
    model = tiny_bert().train().double()
    batch = collate(make_records(1, 6))
    cached_loss, cached = step_gradients(model, batch, chunk_size=5, seed=1, gradient_caching=True)
    # Reference: the same chunks embedded once with autograd kept (the path without caching).
    kept_loss, kept = step_gradients(model, batch, chunk_size=5, seed=1, gradient_caching=False)
    assert cached_loss == pytest.approx(kept_loss, rel=1e3 * torch.finfo(torch.float64).eps)
    assert_same_gradients(cached, kept)
    _, other_masks = step_gradients(model, batch, chunk_size=5, seed=2, gradient_caching=True)
    with pytest.raises(AssertionError):  # dropout is on: other masks, other gradients
        assert_same_gradients(other_masks, kept)


def test_chunks_group_texts_of_similar_token_length():
    model = tiny_bert()
    pairs = [("Represent the query: ", " ".join(["dog"] * n)) for n in (9, 1, 5, 3, 7, 2)]
    chunks = length_chunks(model, pairs, chunk_size=2)
    assert [rows for rows, _ in chunks] == [[1, 5], [3, 2], [4, 0]]  # by length: 1, 2 | 3, 5 | 7, 9 words
    for rows, features in chunks:
        expected = model.tokenize([pairs[i] for i in rows])
        for key in expected:
            assert torch.equal(features[key], expected[key])


def test_gradient_checkpointing_and_bf16_steps():
    batch = collate(make_records(1, 4))
    plain, checkpointed = tiny_bert().eval().double(), tiny_bert().eval().double()
    checkpointed.encoder.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    loss, reference = step_gradients(plain, batch, chunk_size=None)
    checkpointed_loss, grads = step_gradients(checkpointed, batch, chunk_size=None)
    assert checkpointed_loss == pytest.approx(loss, rel=1e3 * torch.finfo(torch.float64).eps)
    assert_same_gradients(grads, reference)
    plain = plain.float()
    plain.zero_grad()
    bf16_loss = loss_and_backward(plain, batch, instructor_loss, 0.01, chunk_size=5, precision="bfloat16").item()
    assert abs(bf16_loss - loss) < 0.1 * loss  # bf16 encoder, float32 loss: close, not equal


def test_auto_precision_is_resolved_forced_both_ways_and_recorded(tmp_path, monkeypatch):
    for forced in ("float32", "bfloat16"):
        monkeypatch.setenv("INSTRUCTOR_PRECISION", forced)
        config = preset("smoke", precision="auto", steps=1, batch_size=4)
        assert config.resolved_precision() == forced
        train(config, make_records(1, 4), run_dir=tmp_path / forced, model=tiny_bert(seed=config.seed))
        record = json.loads((tmp_path / forced / "run.json").read_text())["precision"]
        assert record == {"requested": "auto", "resolved": forced, "reason": "forced by $INSTRUCTOR_PRECISION"}
    # the resolved precision is part of the run's identity: a bf16 run is never resumed as a float32 one
    monkeypatch.setenv("INSTRUCTOR_PRECISION", "float32")
    as_float32 = preset("smoke", precision="auto").hash()
    monkeypatch.setenv("INSTRUCTOR_PRECISION", "bfloat16")
    assert preset("smoke", precision="auto").hash() != as_float32
    with pytest.raises(ValueError, match="precision"):
        preset("smoke", precision="float16")


def test_smoke_run_loss_goes_down_and_the_run_is_recorded(tmp_path):
    config = preset("smoke", steps=24, batch_size=8, chunk_size=10, checkpoint_every=100)
    result = train(config, make_records(2, 24), run_dir=tmp_path, model=tiny_bert(seed=config.seed))
    losses = [json.loads(line)["loss"] for line in result.metrics_path.read_text().splitlines()]
    assert len(losses) == 24
    assert sum(losses[-6:]) / 6 < 0.7 * sum(losses[:6]) / 6
    info = json.loads((tmp_path / "run.json").read_text())
    assert info["config_hash"] == config.hash() and len(info["data_hash"]) == 64
    assert info["library_versions"]["torch"] == torch.__version__
    assert info["records_dropped_per_epoch"] == 0 and info["batches_per_epoch"] == 6
    reloaded = Instructor.from_pretrained(result.model_path)
    pair = [["Represent the task 0 query: ", "dog food"]]
    start = load_model(config, tiny_bert(seed=config.seed))  # the untrained start differs from the saved model
    assert not torch.allclose(torch.as_tensor(reloaded.encode(pair)), torch.as_tensor(start.encode(pair)))


def test_a_non_finite_loss_stops_naming_the_step_and_task(tmp_path, monkeypatch):
    monkeypatch.setitem(LOSSES, "nan", lambda query, pos, neg, temperature: (query * float("nan")).sum())
    with pytest.raises(FloatingPointError, match=r"at step 1 \(task 'task\d'\)"):
        train(preset("smoke", loss="nan", batch_size=4), make_records(2, 4), run_dir=tmp_path, model=tiny_bert(seed=42))


def test_resuming_with_another_config_is_refused(tmp_path):
    records = make_records(1, 8)
    train(preset("smoke", steps=2, batch_size=4, checkpoint_every=1), records, run_dir=tmp_path, model=tiny_bert(seed=42))
    with pytest.raises(ValueError, match="another config"):
        train(preset("smoke", steps=3, batch_size=4, lr=5e-4), records, run_dir=tmp_path, model=tiny_bert(seed=42))


KILLABLE_RUN = """
import json, os, signal, sys
from instructor_lib.tiny import tiny_bert
from instructor_lib.training import TrainConfig, train
config, run_dir, kill_at = TrainConfig(**json.loads(sys.argv[1])), sys.argv[2], int(sys.argv[3])
train(config, run_dir=run_dir, on_step=lambda step, m: os.kill(os.getpid(), signal.SIGKILL) if step == kill_at else None,
      model=tiny_bert(seed=config.seed))
"""


def state_dict(path):
    return Instructor.from_pretrained(path).state_dict()


def test_a_run_killed_with_sigkill_resumes_to_the_weights_of_an_uninterrupted_run(tmp_path):
    write_medi(make_records(2, 12), tmp_path / "medi.json")
    # dropout on and gradient caching on: resuming must restore the RNG stream and the sampler position
    config = preset("smoke", data=str(tmp_path / "medi.json"), steps=7, batch_size=4, chunk_size=5,
                    gradient_caching=True, checkpoint_every=2)
    run = lambda run_dir, kill_at: subprocess.run(  # noqa: E731
        [sys.executable, "-c", KILLABLE_RUN, json.dumps(config.__dict__), str(run_dir), str(kill_at)],
        cwd=PROJECT, env=SUBPROCESS_ENV, capture_output=True, text=True, timeout=120)
    killed = run(tmp_path / "resumed", 5)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert torch.load(tmp_path / "resumed/checkpoint/state.pt", weights_only=True)["step"] == 4
    finished = run(tmp_path / "resumed", 0)
    assert finished.returncode == 0, finished.stderr[-2000:]
    steps = [json.loads(line)["step"] for line in (tmp_path / "resumed/metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 8))
    assert json.loads((tmp_path / "resumed/run.json").read_text())["resumed_from_step"] == 4

    uninterrupted = train(config, run_dir=tmp_path / "straight", model=tiny_bert(seed=config.seed))
    resumed, straight = state_dict(tmp_path / "resumed/model"), state_dict(uninterrupted.model_path)
    start = load_model(config, tiny_bert(seed=config.seed)).state_dict()["encoder.embeddings.word_embeddings.weight"]
    assert not torch.equal(straight["encoder.embeddings.word_embeddings.weight"], start)
    for name in straight:
        torch.testing.assert_close(resumed[name], straight[name], atol=1e-6, rtol=0, msg=name)


def test_two_gloo_processes_train_like_one_process_on_the_same_global_batch(tmp_path):
    write_medi(make_records(2, 16), tmp_path / "medi.json")
    tiny_bert(seed=42).save_pretrained(tmp_path / "tiny-bert")  # the command line starts from a folder or hub id
    fields = dict(model=str(tmp_path / "tiny-bert"), data=str(tmp_path / "medi.json"), steps=3, batch_size=8,
                  chunk_size=6, dropout=0.0, lr=1e-4)
    (tmp_path / "config.json").write_text(json.dumps(fields))
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                          "-m", "instructor_lib.training", "--preset", "smoke", "--config", str(tmp_path / "config.json"),
                          "--run-dir", str(tmp_path / "two")], cwd=PROJECT, env=SUBPROCESS_ENV, capture_output=True, text=True,
                         timeout=180)
    assert two.returncode == 0, two.stderr[-3000:]
    assert json.loads((tmp_path / "two/run.json").read_text())["world_size"] == 2
    one = train(preset("smoke", **fields), run_dir=tmp_path / "one")
    read = lambda path: [json.loads(line) for line in path.read_text().splitlines()]  # noqa: E731
    for two_step, one_step in zip(read(tmp_path / "two/metrics.jsonl"), read(one.metrics_path), strict=True):
        assert abs(two_step["loss"] - one_step["loss"]) <= 1e-5
        assert two_step["grad_norm"] == pytest.approx(one_step["grad_norm"], rel=1e-5)  # Adam hides a scale error
    weights_two, weights_one = state_dict(tmp_path / "two/model"), state_dict(one.model_path)
    start = load_model(preset("smoke", **fields)).state_dict()["encoder.encoder.layer.0.output.dense.weight"]
    assert (weights_one["encoder.encoder.layer.0.output.dense.weight"] - start).abs().max() > 1e-5
    for name in weights_one:
        torch.testing.assert_close(weights_two[name], weights_one[name], atol=1e-6, rtol=0, msg=name)
