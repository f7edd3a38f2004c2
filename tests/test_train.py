"""The trainer: gradient caching equivalence, dropout replay, a smoke run, NaN stop, SIGKILL resume, 2-process DDP."""
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from instructor_lib.data import collate
from instructor_lib.loss import LOSSES, instructor_loss
from instructor_lib.medi import write_medi
from instructor_lib.model import Instructor
from instructor_lib.testing import tiny_bert, tiny_t5
from instructor_lib.train import load_model, loss_and_backward, preset, train

PROJECT = Path(__file__).resolve().parent.parent
# One intra-op thread: tiny models on a shared 2-core machine run ~20x faster than with spinning OMP threads.
SUBPROCESS_ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
WORDS = "the man woman dog cat eating food news science review question document sentence statement query passage".split()


def make_records(tasks=2, per_task=16, seed=0):
    """Records whose positive shares words with the query (learnable) and texts of varied lengths."""
    rng, records = random.Random(seed), []
    for task in range(tasks):
        for _ in range(per_task):
            topic = rng.sample(WORDS, rng.randint(1, 4))
            records.append({"query": [f"Represent the task {task} query: ", " ".join(topic)],
                            "pos": [f"Represent the task {task} document: ", " ".join(topic + rng.sample(WORDS, 2))],
                            "neg": [f"Represent the task {task} document: ", " ".join(rng.sample(WORDS, 5))],
                            "task_name": f"task{task}"})
    return records


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def gradients(model):
    return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}


def step_gradients(model, batch, chunk_size, seed=0):
    model.zero_grad(set_to_none=True)
    torch.manual_seed(seed)
    loss = loss_and_backward(model, batch, instructor_loss, 0.01, chunk_size=chunk_size)
    return loss.item(), gradients(model)


@pytest.mark.parametrize("make_model", [tiny_bert, lambda: tiny_t5(dense_dim=16)], ids=["bert", "t5+dense"])
def test_gradient_caching_gives_the_loss_and_gradients_of_the_uncached_step(make_model):
    model = make_model().eval()  # no dropout: both paths see the same function
    batch = collate(make_records(1, 10))
    loss, reference = step_gradients(model, batch, chunk_size=None)
    cached_loss, cached = step_gradients(model, batch, chunk_size=7)  # 30 texts in 5 chunks
    assert abs(cached_loss - loss) <= 1e-5
    assert reference.keys() == cached.keys() and len(reference) > 10
    for name in reference:
        torch.testing.assert_close(cached[name], reference[name], atol=1e-5, rtol=1e-5, msg=name)


def test_gradient_caching_replays_each_chunks_dropout_masks():
    model = tiny_bert().train()
    batch = collate(make_records(1, 6))
    cached_loss, cached = step_gradients(model, batch, chunk_size=5, seed=1)
    # Reference: the same chunks (sorted by characters, as documented) embedded once, with autograd kept.
    pairs = batch.query + batch.pos + batch.neg
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
    model.zero_grad(set_to_none=True)
    torch.manual_seed(1)
    embeddings = torch.empty(len(pairs), model.embedding_dim)
    for start in range(0, len(order), 5):
        rows = order[start:start + 5]
        embeddings = embeddings.index_put((torch.tensor(rows),), model(model.tokenize([pairs[i] for i in rows])))
    loss = instructor_loss(embeddings[:6], embeddings[6:12], embeddings[12:], 0.01)
    loss.backward()
    assert abs(cached_loss - loss.item()) <= 1e-5
    for name, grad in gradients(model).items():
        torch.testing.assert_close(cached[name], grad, atol=1e-5, rtol=1e-5, msg=name)


def test_gradient_checkpointing_and_bf16_steps():
    batch = collate(make_records(1, 4))
    plain, checkpointed = tiny_bert().eval(), tiny_bert().eval()
    checkpointed.encoder.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    loss, reference = step_gradients(plain, batch, chunk_size=None)
    checkpointed_loss, grads = step_gradients(checkpointed, batch, chunk_size=None)
    assert abs(loss - checkpointed_loss) <= 1e-6
    for name in reference:
        torch.testing.assert_close(grads[name], reference[name], atol=1e-6, rtol=1e-6)
    plain.zero_grad()
    bf16_loss = loss_and_backward(plain, batch, instructor_loss, 0.01, chunk_size=5, bf16=True).item()
    assert abs(bf16_loss - loss) < 0.1 * loss  # bf16 encoder, float32 loss: close, not equal


def test_smoke_run_loss_goes_down_and_the_run_is_recorded(tmp_path):
    config = preset("smoke", steps=24, batch_size=8, chunk_size=10, checkpoint_every=100)
    result = train(config, make_records(2, 24), run_dir=tmp_path)
    losses = [json.loads(line)["loss"] for line in result.metrics_path.read_text().splitlines()]
    assert len(losses) == 24
    assert sum(losses[-6:]) / 6 < 0.7 * sum(losses[:6]) / 6
    info = json.loads((tmp_path / "run.json").read_text())
    assert info["config_hash"] == config.hash() and len(info["data_hash"]) == 64
    assert info["library_versions"]["torch"] == torch.__version__
    assert info["records_dropped_per_epoch"] == 0 and info["batches_per_epoch"] == 6
    reloaded = Instructor.from_pretrained(result.model_path)
    pair = [["Represent the task 0 query: ", "dog food"]]
    start = load_model(config)  # the untrained start differs from the saved model
    assert not torch.allclose(torch.as_tensor(reloaded.encode(pair)), torch.as_tensor(start.encode(pair)))


def test_a_non_finite_loss_stops_naming_the_step_and_task(tmp_path, monkeypatch):
    monkeypatch.setitem(LOSSES, "nan", lambda query, pos, neg, temperature: (query * float("nan")).sum())
    with pytest.raises(FloatingPointError, match=r"at step 1 \(task 'task\d'\)"):
        train(preset("smoke", loss="nan", batch_size=4), make_records(2, 4), run_dir=tmp_path)


def test_resuming_with_another_config_is_refused(tmp_path):
    records = make_records(1, 8)
    train(preset("smoke", steps=2, batch_size=4, checkpoint_every=1), records, run_dir=tmp_path)
    with pytest.raises(ValueError, match="another config"):
        train(preset("smoke", steps=3, batch_size=4, lr=5e-4), records, run_dir=tmp_path)


KILLABLE_RUN = """
import json, os, signal, sys
from instructor_lib.train import TrainConfig, train
config, run_dir, kill_at = TrainConfig(**json.loads(sys.argv[1])), sys.argv[2], int(sys.argv[3])
train(config, run_dir=run_dir, on_step=lambda step, m: os.kill(os.getpid(), signal.SIGKILL) if step == kill_at else None)
"""


def state_dict(path):
    return Instructor.from_pretrained(path).state_dict()


def test_a_run_killed_with_sigkill_resumes_to_the_weights_of_an_uninterrupted_run(tmp_path):
    write_medi(make_records(2, 12), tmp_path / "medi.json")
    # dropout on and gradient caching on: resuming must restore the RNG stream and the sampler position
    config = preset("smoke", data=str(tmp_path / "medi.json"), steps=7, batch_size=4, chunk_size=5, checkpoint_every=2)
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

    uninterrupted = train(config, run_dir=tmp_path / "straight")
    resumed, straight = state_dict(tmp_path / "resumed/model"), state_dict(uninterrupted.model_path)
    start = load_model(config).state_dict()["encoder.embeddings.word_embeddings.weight"]
    assert not torch.equal(straight["encoder.embeddings.word_embeddings.weight"], start)
    for name in straight:
        torch.testing.assert_close(resumed[name], straight[name], atol=1e-6, rtol=0, msg=name)


def test_two_gloo_processes_train_like_one_process_on_the_same_global_batch(tmp_path):
    write_medi(make_records(2, 16), tmp_path / "medi.json")
    fields = dict(data=str(tmp_path / "medi.json"), steps=3, batch_size=8, chunk_size=6, dropout=0.0, lr=1e-4)
    (tmp_path / "config.json").write_text(json.dumps(fields))
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                          "-m", "instructor_lib.train", "--preset", "smoke", "--config", str(tmp_path / "config.json"),
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
