"""instructor_lib.experiments: the hand-checkable pieces behind the research notebooks."""
import json
import types

import pandas as pd
import pytest
import torch
from transformers import BertModel, T5EncoderModel

from instructor_lib import experiments, train
from instructor_lib.data import MediDataset
from instructor_lib.model import Instructor
from instructor_lib.presets import PRESETS
from instructor_lib.provenance import config_hash
from instructor_lib.tiny import tiny_bert, tiny_t5


def test_relative_gain_by_hand():
    assert experiments.relative_gain(50.0, 40.0) == pytest.approx(25.0)
    assert experiments.relative_gain(30.0, 40.0) == pytest.approx(-25.0)
    # the paper's Table 2 average: INSTRUCTOR-large 61.6 over its backbone GTR-large 58.28
    assert experiments.relative_gain(61.6, 58.28) == pytest.approx(100 * 3.32 / 58.28)


def test_best_worst_gap_by_hand():
    scores = {"paraphrase-1": {"STS": 80.0, "Emotion": 40.0}, "paraphrase-2": {"STS": 77.5, "Emotion": 46.0},
              "paraphrase-3": {"STS": 79.0, "Emotion": 41.0}}
    assert experiments.best_worst_gap(scores) == pytest.approx({"STS": 2.5, "Emotion": 6.0})
    assert experiments.best_worst_gap({"only": {"STS": 70.0}}) == {"STS": 0.0}


@pytest.mark.parametrize("make, model_class", [(tiny_bert, BertModel), (tiny_t5, T5EncoderModel)], ids=["bert", "t5"])
def test_truncate_layers_keeps_the_first_layers_weights(make, model_class):
    model = make(seed=3, layers=3)
    original = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    cut = experiments.truncate_layers(model, 2)
    assert experiments.depth(cut) == 2 and experiments.depth(model) == 3  # the original is untouched
    assert {name: tensor for name, tensor in model.state_dict().items()}.keys() == original.keys()
    kept = cut.state_dict()
    dropped = [name for name in original if name not in kept]
    assert dropped and all(".2." in name for name in dropped)  # only layer index 2 is gone
    for name, tensor in kept.items():
        torch.testing.assert_close(tensor, original[name], rtol=0, atol=0)
    # reference: a fresh 2-layer encoder of the same config loaded with the original weights gives the same output
    config = model.encoder.config.to_dict() | ({"num_layers": 2} if model_class is T5EncoderModel else {"num_hidden_layers": 2})
    reference = model_class(type(model.encoder.config).from_dict(config)).eval()
    missing, _ = reference.load_state_dict(model.encoder.state_dict(), strict=False)
    assert not missing
    features = cut.tokenize([("Represent the sentence: ", "a dog eats food"), ("", "the cat")])
    with torch.no_grad():
        expected = reference(input_ids=features["input_ids"], attention_mask=features["attention_mask"]).last_hidden_state
        got = cut.encoder(input_ids=features["input_ids"], attention_mask=features["attention_mask"]).last_hidden_state
    torch.testing.assert_close(got, expected)
    assert experiments.parameter_count(cut) < experiments.parameter_count(model)
    with pytest.raises(ValueError, match="layers must be between 1 and 3"):
        experiments.truncate_layers(model, 4)


def test_experiment_config_hash_names_the_run():
    full, ablated, cut = (experiments.experiment_config("smoke", "full"), experiments.experiment_config("smoke", "no_superni"),
                          experiments.experiment_config("smoke", "full", layers=1))
    assert full["train"] == {**train.TrainConfig(**full["train"]).__dict__}  # a valid TrainConfig
    assert full["train"]["steps"] == PRESETS["smoke"]["train"]["steps"] and full["train"]["model"] == "tiny-bert"
    names = {experiments.run_dir_for(config, "/runs").name for config in (full, ablated, cut)}
    assert names == {f"smoke-full-{config_hash(full)}", f"smoke-no_superni-{config_hash(ablated)}",
                     f"smoke-full-L1-{config_hash(cut)}"}
    with pytest.raises(ValueError, match="preset must be one of"):
        experiments.experiment_config("huge")


def test_trained_model_trains_once_per_config_hash(tmp_path, monkeypatch):
    first = experiments.trained_model("smoke", layers=1, runs_dir=tmp_path)
    assert experiments.depth(first.model) == 1 and first.summary["steps"] == PRESETS["smoke"]["train"]["steps"]
    records = experiments.build_mixture("smoke").records
    config = {**experiments.experiment_config("smoke", layers=1), "data_sha256": MediDataset(records).sha256()}
    assert first.run_dir == experiments.run_dir_for(config, tmp_path)
    logged = [json.loads(line) for line in (first.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [entry["step"] for entry in logged] == list(range(1, first.summary["steps"] + 1))
    assert first.summary["final_loss"] == logged[-1]["loss"]
    # the cut backbone it started from is the tiny BERT's first layer
    backbone = experiments.truncate_layers(train.load_model(train.TrainConfig(**first.config["train"])), 1)
    saved = Instructor.from_pretrained(first.run_dir / "backbone")
    for name, tensor in backbone.state_dict().items():
        torch.testing.assert_close(saved.state_dict()[name], tensor)

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(train, "train", no_training)
    again = experiments.trained_model("smoke", layers=1, runs_dir=tmp_path)
    assert again.run_dir == first.run_dir and again.summary == first.summary
    for name, tensor in first.model.state_dict().items():
        torch.testing.assert_close(again.model.state_dict()[name], tensor, rtol=0, atol=0)
    with pytest.raises(AssertionError, match="trained again"):  # another config is another run
        experiments.trained_model("smoke", layers=2, runs_dir=tmp_path)
    changed = types.SimpleNamespace(records=records[:-1])  # another mixture (e.g. a MEDI code change) is another run
    monkeypatch.setattr(experiments, "build_mixture", lambda preset, variant: changed)
    with pytest.raises(AssertionError, match="trained again"):
        experiments.trained_model("smoke", layers=1, runs_dir=tmp_path)


def test_comparison_tables_follow_their_scores(monkeypatch):
    """main_table and ablation put the right numbers in the right columns (scores stubbed, models not trained)."""
    fake = {"backbone": {"STS": 40.0, "Classification": 20.0}, "finetuned": {"STS": 50.0, "Classification": 30.0}}

    def fake_scores(model, preset, instructions="paper", suite=None):
        values = fake["backbone" if model == "base" or instructions == "none" else "finetuned"]
        return {"categories": values, "average": sum(values.values()) / len(values)}

    stub = experiments.TrainedModel("trained", {}, None, {"final_loss": 1.0})
    monkeypatch.setattr(experiments, "scores", fake_scores)
    monkeypatch.setattr(experiments, "trained_model", lambda *args, **kwargs: stub)
    monkeypatch.setattr(experiments, "base_model", lambda *args, **kwargs: "base")
    table = experiments.main_table("smoke")
    assert list(table.frame.index) == ["Classification", "STS", "Average"]  # Table 2's column order
    assert table.metrics["gain_percent"] == pytest.approx({"Classification": 50.0, "STS": 25.0, "Average": 100 / 3})
    assert table.frame.loc["Average", "paper INSTRUCTOR-large"] == 61.6
    assert table.metrics["paper_gain_percent"]["Average"] == pytest.approx(100 * (61.6 - 58.28) / 58.28)
    assert table.figure().data[1].y.tolist() == [30.0, 50.0, 40.0]
    ablated = experiments.ablation("smoke", "no_instructions")  # evaluated without instructions: backbone numbers here
    assert ablated.metrics["difference"] == pytest.approx({"Classification": -10.0, "STS": -10.0, "Average": -10.0})
    with pytest.raises(ValueError, match="variant 'full' is the reference"):
        experiments.ablation("smoke", "full")


def test_training_metrics_compare_each_dataset_with_itself():
    curves = pd.DataFrame({"step": [1, 2, 3, 4, 5], "task": ["a", "b", "a", "c", "b"],
                           "loss": [4.0, 1.0, 2.0, 9.0, 0.5], "pairs_per_s": [10.0, 30.0, 20.0, 5.0, 40.0]})
    trained = experiments.TrainedModel(tiny_bert(seed=0), {}, None, {"steps": 5})
    metrics = experiments.training_metrics(trained, curves)
    assert (metrics["first_loss"], metrics["last_loss"]) == (4.0, 0.5)  # a and b: two datasets, not one
    assert metrics["tasks_visited_twice"] == 2  # a and b; c once
    assert metrics["first_visit_loss"] == (4.0 + 1.0) / 2 and metrics["last_visit_loss"] == (2.0 + 0.5) / 2
    assert metrics["median_pairs_per_s"] == 20.0 and metrics["steps"] == 5


def test_the_notebook_model_never_trains_and_says_when_it_shows_the_backbone(tmp_path, monkeypatch, capsys):
    def forbidden(*args, **kwargs):
        raise AssertionError("opening a notebook model started training or a MEDI build")

    monkeypatch.setattr(experiments, "RUNS_DIR", tmp_path)
    monkeypatch.setattr(train, "train", forbidden)
    monkeypatch.setattr(experiments, "build_mixture", forbidden)
    shown = experiments.notebook_model("", "cpu")
    assert "No finished cpu training run" in capsys.readouterr().out
    backbone = experiments.base_model("cpu").state_dict()
    assert all(torch.equal(shown.state_dict()[name], tensor) for name, tensor in backbone.items())

    def finished_run(name: str, config: dict, seed: int):
        run_dir = tmp_path / name
        tiny_bert(seed=seed).save_pretrained(run_dir / "model")
        (run_dir / experiments.FINISHED).write_text(json.dumps({"config": {**config, "data_sha256": "any"}}))
        return run_dir

    other = experiments.experiment_config("cpu")
    other["train"]["lr"] = 1.0  # another config of the same name: not the preset's model
    finished_run("cpu-full-other", other, seed=1)
    finished_run("cpu-full-ours", experiments.experiment_config("cpu"), seed=2)
    shown = experiments.notebook_model("", "cpu")
    assert "No finished" not in capsys.readouterr().out
    for name, tensor in tiny_bert(seed=2).state_dict().items():
        assert torch.equal(shown.state_dict()[name], tensor), name
