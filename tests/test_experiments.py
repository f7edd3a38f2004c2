"""instructor_lib.workbench.experiments: the hand-checkable pieces behind the research notebooks."""
import dataclasses
import math
import json
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from transformers import BertModel, T5EncoderModel

from instructor_lib import presets, training
from instructor_lib.workbench import experiments
from instructor_lib.workbench.experiments import (compare, configs, data_ablation, main_effect, mixture, paraphrases,
                                                  runs, scale_pilot, sizes)
from instructor_lib.data import MediDataset
from instructor_lib.medi import canonical_variant
from instructor_lib.model import Instructor
from instructor_lib.presets import PRESETS
from instructor_lib.provenance import config_hash
from instructor_lib.tiny import tiny_bert, tiny_t5

from helpers import make_records, replace_preset


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
    assert full["train"] == {**training.TrainConfig(**full["train"]).__dict__}  # a valid TrainConfig
    assert full["train"]["steps"] == PRESETS["smoke"].train.steps and full["train"]["model"] == "tiny-bert"
    names = {experiments.run_dir_for(config, "/runs").name for config in (full, ablated, cut)}
    assert names == {f"smoke-full-s1-{config_hash(full)}", f"smoke-no_superni-s1-{config_hash(ablated)}",
                     f"smoke-full-L1-s1-{config_hash(cut)}"}
    assert experiments.experiment_config("smoke", seed=2)["train"]["seed"] == 2
    assert experiments.experiment_config("smoke", "detailed") == full  # one variant, two names
    assert experiments.experiment_config("smoke", "symmetric_only:none")["train"]["name"] == "smoke-symmetric_only-none-s1"
    with pytest.raises(ValueError, match="preset must be one of"):
        experiments.experiment_config("huge")


# Written down from the code before the presets became dataclasses (and before experiments.py was split): the
# cached runs of `make reproduce` are found by these hashes. settings() (a report's recorded settings) changed once
# since, on purpose: it records the main table's seeds (`main_seeds`) too. The cpu preset's settings() and
# medi_settings() changed on purpose with issue 29's faithful mixture (superni_tasks "table5", not 30); its run names
# here do not hold the mixture, but a trained run's directory does (its data_sha256), so every cpu run is new.
RECORDED_HASHES = {  # preset: main-table run, figures' run, settings(), medi_settings(), train.preset()
    "smoke": ("smoke-full-s1-d9bc761225ed0db7", "smoke-full-s1-d9bc761225ed0db7", "f6fd52c91f120ff9", "99d8e70fab0632d8",
              "47b4aec26c32b59b"),
    "cpu": ("cpu-full-s1-b93eefb842037c27", "cpu-full-s1-b93eefb842037c27", "58792d9dbcfdb274", "369b9259635833d6",
            "4c070eb860b46b20"),
    "paper": ("paper-full-s1-081298a7ca55f339", "paper-full-s1-081298a7ca55f339", "1948d03025ca215f", "82a1a1080c8199d8",
              "5221fc284c6be557"),
}


@pytest.mark.parametrize("name", list(RECORDED_HASHES))
def test_run_names_and_settings_hash_as_recorded(name):
    main, figure = experiments.experiment_config(name, seed=1), experiments.experiment_config(name, seed=1, figure=True)
    assert (experiments.run_dir_for(main, "/runs").name, experiments.run_dir_for(figure, "/runs").name,
            config_hash(experiments.settings(name)), config_hash(dataclasses.asdict(presets.medi_settings(name))),
            config_hash(dataclasses.asdict(training.preset(name)))) == RECORDED_HASHES[name]


def test_a_size_a_pilot_candidate_a_variant_and_a_depth_name_their_runs_as_recorded():
    configs_ = [experiments.experiment_config("cpu", seed=2, size="all-mpnet-base-v2 (110M)", figure=True),
                experiments.experiment_config("cpu", seed=3, scale="40 steps, lr 1e-4"),
                experiments.experiment_config("cpu", "symmetric_only:none", seed=2, figure=True),
                experiments.experiment_config("cpu", layers=2, figure=True)]
    assert [experiments.run_dir_for(config, "/runs").name for config in configs_] == [
        "cpu-full-all-mpnet-base-v2-s2-49bc177077a4b87d", "cpu-full-40-steps-lr-1e-4-s3-2d757f92e302374a",
        "cpu-symmetric_only-none-s2-cf2d547cd0e4b232", "cpu-full-L2-s1-a25ae889187adfef"]


def test_a_training_field_a_preset_leaves_unset_keeps_the_train_config_default():
    assert "lr" not in presets.PRESETS["paper"].train.config_fields()  # the paper preset states no lr
    assert training.preset("paper").lr == training.TrainConfig().lr and training.preset("cpu").lr == presets.PRESETS["cpu"].train.lr


def test_two_seeds_give_two_runs_and_one_seed_the_same_run_twice(tmp_path):
    once = experiments.trained_model("smoke", runs_dir=tmp_path / "a", seed=1)
    twice = experiments.trained_model("smoke", runs_dir=tmp_path / "b", seed=1)  # trained again, elsewhere
    other = experiments.trained_model("smoke", runs_dir=tmp_path / "a", seed=2)
    assert once.run_dir.name == twice.run_dir.name != other.run_dir.name
    weights = [dict(run.model.state_dict()) for run in (once, twice, other)]
    assert all(torch.equal(weights[0][name], weights[1][name]) for name in weights[0])
    assert any(not torch.equal(weights[0][name], weights[2][name]) for name in weights[0])
    losses = [[json.loads(line)["loss"] for line in (run.run_dir / "metrics.jsonl").read_text().splitlines()]
              for run in (once, twice, other)]
    assert losses[0] == losses[1] != losses[2]


def test_trained_model_trains_once_per_config_hash(tmp_path, monkeypatch):
    first = experiments.trained_model("smoke", layers=1, runs_dir=tmp_path)
    assert experiments.depth(first.model) == 1 and first.summary["steps"] == PRESETS["smoke"].train.steps
    records = experiments.build_mixture("smoke").records
    config = {**experiments.experiment_config("smoke", layers=1), "data_sha256": MediDataset(records).sha256()}
    assert first.run_dir == experiments.run_dir_for(config, tmp_path)
    logged = [json.loads(line) for line in (first.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [entry["step"] for entry in logged] == list(range(1, first.summary["steps"] + 1))
    assert first.summary["final_loss"] == logged[-1]["loss"]
    # the cut backbone it started from is the tiny BERT's first layer
    start = training.TrainConfig(**first.config["train"])
    backbone = experiments.truncate_layers(training.load_model(start, experiments.starting_model(start)), 1)
    saved = Instructor.from_pretrained(first.run_dir / "backbone")
    for name, tensor in backbone.state_dict().items():
        torch.testing.assert_close(saved.state_dict()[name], tensor)

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(training, "train", no_training)
    again = experiments.trained_model("smoke", layers=1, runs_dir=tmp_path)
    assert again.run_dir == first.run_dir and again.summary == first.summary
    for name, tensor in first.model.state_dict().items():
        torch.testing.assert_close(again.model.state_dict()[name], tensor, rtol=0, atol=0)
    with pytest.raises(AssertionError, match="trained again"):  # another config is another run
        experiments.trained_model("smoke", layers=2, runs_dir=tmp_path)
    changed = MediDataset(records[:-1]).sha256()  # another mixture (e.g. a MEDI code change) is another run
    monkeypatch.setattr(runs, "mixture_sha256", lambda preset, variant: changed)
    with pytest.raises(AssertionError, match="trained again"):
        experiments.trained_model("smoke", layers=1, runs_dir=tmp_path)


@pytest.fixture
def empty_mixture_cache():
    """The process's mixture caches emptied before and after (a test's fake mixture never reaches another test)."""
    def empty():
        mixture.training_records.cache_clear()
        mixture.mixture_sha256.cache_clear()

    empty()
    yield
    empty()


def test_a_mixture_is_built_and_hashed_once_per_preset_and_variant(monkeypatch, empty_mixture_cache):
    built, hashed = [], []
    records = {variant: make_records(per_task=4, seed=seed) for seed, variant in enumerate(("full", "no_superni"))}
    monkeypatch.setattr(mixture, "build_medi", lambda preset, variant: built.append(variant) or types.SimpleNamespace(
        records=records[variant]))
    monkeypatch.setattr(mixture, "MediDataset", lambda records_: hashed.append(1) or MediDataset(records_))
    for variant in ("full", "full", "no_superni", "no_superni", "full"):  # the main table asks twice per seed
        assert mixture.mixture_sha256("smoke", variant) == MediDataset(records[variant]).sha256()
    assert built == ["full", "no_superni"] and len(hashed) == 2
    assert mixture.training_records("smoke", "no_superni") is records["no_superni"] and len(built) == 2  # the last one kept


EXPERIMENT_MODULES = (compare, main_effect, scale_pilot, data_ablation, paraphrases, sizes)


def replace(monkeypatch, **fakes):
    """Replace training, scoring or counting in every experiment module that looks the name up."""
    for module in EXPERIMENT_MODULES:
        for name, fake in fakes.items():
            if hasattr(module, name):
                monkeypatch.setattr(module, name, fake)


T_975_1 = 12.706204736174707  # Student t quantile 0.975 with 1 degree of freedom (tables; scipy.stats.t.ppf)


def _stub_runs(monkeypatch, per_variant_seed: dict, backbone: dict):
    """Stub training and scoring: trained_model(preset, variant, seed=s) is "<variant>/<s>", whose category
    scores are per_variant_seed[variant][s]; the backbone scores `backbone` (no models are trained)."""
    def fake_scores(model, preset, instructions="paper", suite=None, bootstrap=False):
        values = backbone if model == "base" else per_variant_seed[model.split("/")[0]][int(model.split("/")[1])]
        average = sum(values.values()) / len(values)
        spread = np.array([-1.0, 0.0, 1.0]) * (1 if model == "base" else 2)  # replicates: sd 1 (backbone), 2 (trained)
        offset = 1 if model == "base" else 2  # two tasks per category, at its score + offset and - offset
        tasks = {f"{category}-{name}": {"category": category, "score": value + sign * offset,
                                         "bootstrap": (value + sign * offset + spread).tolist()}
                 for category, value in values.items() for name, sign in (("a", 1), ("b", -1))}
        return {"categories": values, "average": average, "tasks": tasks, "bootstrap": {
            row: {"replicates": (value + spread).tolist()} for row, value in {**values, "Average": average}.items()}}

    def fake_trained(preset="cpu", variant="full", layers=None, runs_dir=None, seed=None, figure=False, custom=None):
        return experiments.TrainedModel(f"{canonical_variant(variant)}/{seed}", {}, Path(f"/runs/{canonical_variant(variant)}-s{seed}"),
                                        {"final_loss": 1.0})

    replace(monkeypatch, scores=fake_scores, trained_model=fake_trained, base_model=lambda *args, **kwargs: "base")


def test_main_table_reports_the_mean_over_seeds_and_the_paired_gain_with_its_t_interval(monkeypatch):
    """Seeds 1, 2 of smoke; gains over the backbone 10 and 14 (Classification): mean 12, sd 2 sqrt 2, se 2,
    95% interval 12 -+ t(0.975, 1) * 2, computed by hand."""
    backbone = {"STS": 40.0, "Classification": 30.0}
    _stub_runs(monkeypatch, {"full": {1: {"STS": 50.0, "Classification": 40.0}, 2: {"STS": 52.0, "Classification": 44.0}}},
               backbone)
    table = experiments.main_table("smoke")
    assert list(table.frame.index) == ["Classification", "STS", "Average"]  # Table 2's column order
    gain = table.metrics["gain"]["Classification"]
    assert gain["mean"] == pytest.approx(12.0) and gain["n"] == 2
    assert (gain["low"], gain["high"]) == pytest.approx((12 - 2 * T_975_1, 12 + 2 * T_975_1))
    assert table.frame.loc["Classification", "INSTRUCTOR (ours)"] == pytest.approx(42.0)
    assert table.frame.loc["Classification", "INSTRUCTOR (ours) low"] == pytest.approx(42 - 2 * T_975_1)
    assert table.metrics["gain_percent"]["Classification"] == pytest.approx(40.0)  # 12 / 30
    assert table.frame.loc["Classification", "gain % high"] == pytest.approx(100 * (12 + 2 * T_975_1) / 30)
    assert table.frame.loc["Average", "paper INSTRUCTOR-large"] == 61.6
    assert table.metrics["paper_gain_percent"]["Average"] == pytest.approx(100 * (61.6 - 58.28) / 58.28)
    ours, paper = table.figure().data  # the paired gains per row and the paper's, in points
    assert list(ours.y) == pytest.approx([12.0, 11.0, 11.5]) and list(paper.y) == pytest.approx([73.9 - 67.14, 83.2 - 78.19, 61.6 - 58.28])
    assert table.metrics["runs"] == {"full MEDI": {"1": "full-s1", "2": "full-s2"}}  # the training logs of the curves
    # paired replicates: backbone v + (-1, 0, 1), finetuned w + (-2, 0, 2): sd 1, 2, and of the difference 1
    assert table.metrics["sampling_error"]["STS"] == pytest.approx({"backbone": 1.0, "ours": 2.0, "gain": 1.0})
    claims = {claim["claim"]: claim for claim in table.metrics["claims"]}
    average = next(claim for text, claim in claims.items() if "average" in text)
    assert average["ours"] == pytest.approx(11.5) and average["seeds"] == [1, 2]
    # per task: Classification-a gains 42 - 31 = 11 and 46 - 31 = 15 (mean 13, se 2), Classification-b 9 and 13
    task = table.metrics["tasks"]["Classification-a"]
    assert (task["category"], task["backbone"], task["finetuned"]) == ("Classification", pytest.approx(31.0), pytest.approx(44.0))
    assert (task["gain"]["mean"], task["gain"]["low"]) == pytest.approx((13.0, 13.0 - 2 * T_975_1))
    assert table.metrics["tasks"]["Classification-b"]["gain"]["mean"] == pytest.approx(11.0)
    assert task["eval_sd_gain"] == pytest.approx(1.0)  # replicates v + o + (-2, 0, 2) minus v' + o' + (-1, 0, 1)
    frame = experiments.task_frame(table.metrics["tasks"])
    assert list(frame.index) == ["Classification-a", "Classification-b", "STS-a", "STS-b"]  # Table 2's order
    assert frame.loc["STS-b", "gain high"] == pytest.approx(10.0 + T_975_1)  # gains 9, 11: se 1
    assert average["verdict"] == "inconclusive"  # two seeds this far apart: the interval includes 0


def test_the_main_table_runs_the_main_seeds_and_the_figures_the_preset_seeds(monkeypatch):
    """The main effect may take more seeds than the figures; every preset's figure seeds are among them (so the
    figures' full-mixture runs are the main table's where both train at one scale)."""
    for name in presets.NAMES:
        assert set(experiments.seeds(name)) <= set(experiments.seeds(name, main=True)), name
    replace_preset(monkeypatch, "smoke", main_seeds=(1, 2, 3))
    _stub_runs(monkeypatch, {"full": {1: {"STS": 50.0}, 2: {"STS": 52.0}, 3: {"STS": 57.0}},
                             "no_superni": {1: {"STS": 49.0}, 2: {"STS": 51.0}}}, {"STS": 40.0})
    table = experiments.main_table("smoke")
    assert table.metrics["seeds"] == [1, 2, 3] and table.metrics["gain"]["STS"]["mean"] == pytest.approx(13.0)
    assert experiments.ablation("smoke", "no_superni").metrics["seeds"] == [1, 2]


def test_ablation_is_a_paired_difference_over_seeds(monkeypatch):
    full = {1: {"STS": 50.0}, 2: {"STS": 60.0}}
    _stub_runs(monkeypatch, {"full": full, "no_instructions": {1: {"STS": 45.0}, 2: {"STS": 56.0}}}, {"STS": 1.0})
    ablated = experiments.ablation("smoke", "none")  # level "none" is the variant no_instructions
    difference = ablated.metrics["difference"]["STS"]  # -5 and -4: mean -4.5, sd 1/sqrt 2, se 0.5
    assert difference["mean"] == pytest.approx(-4.5)
    assert (difference["low"], difference["high"]) == pytest.approx((-4.5 - 0.5 * T_975_1, -4.5 + 0.5 * T_975_1))
    with pytest.raises(ValueError, match="variant 'full' is the reference"):
        experiments.ablation("smoke", "detailed")  # the detailed level is the full mixture


def test_figure_claims_compare_the_right_configurations(monkeypatch):
    """Fig. 3 and Fig. 5 claims: the sign of each paired difference decides the verdict (every difference is
    the same for both seeds: sd 0, so the interval is the point and excludes 0)."""
    def runs(value):
        return {seed: {"STS": value + seed} for seed in (1, 2)}

    _stub_runs(monkeypatch, {"full": runs(60.0), "symmetric_only": runs(50.0), "asymmetric_only": runs(70.0),
                             "no_instructions": runs(40.0), "symmetric_only:none": runs(45.0),
                             "asymmetric_only:none": runs(30.0), "tag": runs(41.0), "simple": runs(39.0)}, {"STS": 35.0})
    fig3 = experiments.instructions_by_data("smoke").metrics["claims"]
    assert {claim["claim"]: claim["verdict"] for claim in fig3} == {
        "Fig. 3, with instructions: both groups minus symmetric only (average)": "reproduced",  # 60 > 50
        "Fig. 3, with instructions: both groups minus asymmetric only (average)": "contradicted",  # 60 < 70
        "Fig. 3, without instructions: both groups minus symmetric only (average)": "reproduced",  # 40 < 45
        "Fig. 3, without instructions: both groups minus asymmetric only (average)": "contradicted"}  # 40 > 30
    # the control: full MEDI with instructions (61, 62) minus the backbone (35): 26.5, an interval above 0
    assert all(claim["steps"] == 10 and claim["control"]["ours"] == pytest.approx(26.5) for claim in fig3)
    detail = experiments.instruction_detail("smoke")
    assert [claim["verdict"] for claim in detail.metrics["claims"]] == ["reproduced", "contradicted", "reproduced"]
    assert detail.metrics["control"]["mean"] == pytest.approx(26.5)  # the detailed level is full MEDI
    assert detail.frame.loc["tag", "average"] == pytest.approx(42.5)
    # a backbone that full MEDI does not beat (80 > 61, 62): every comparison of its variants is untestable
    _stub_runs(monkeypatch, {"full": runs(60.0), "symmetric_only": runs(50.0), "asymmetric_only": runs(70.0),
                             "no_instructions": runs(40.0), "symmetric_only:none": runs(45.0),
                             "asymmetric_only:none": runs(30.0), "tag": runs(41.0), "simple": runs(39.0)}, {"STS": 80.0})
    for result in (experiments.instructions_by_data("smoke"), experiments.instruction_detail("smoke")):
        assert {claim["verdict"] for claim in result.metrics["claims"]} == {"untestable"}


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

    monkeypatch.setenv("INSTRUCTOR_RUNS_DIR", str(tmp_path))
    monkeypatch.setattr(training, "train", forbidden)
    monkeypatch.setattr(runs, "mixture_sha256", forbidden)
    monkeypatch.setattr(runs, "training_records", forbidden)
    shown = experiments.notebook_model("", "cpu")
    assert "No finished cpu training run" in capsys.readouterr().out
    backbone = experiments.base_model("cpu").state_dict()
    assert all(torch.equal(shown.state_dict()[name], tensor) for name, tensor in backbone.items())

    def finished_run(name: str, config: dict, seed: int):
        run_dir = tmp_path / "experiments" / name
        tiny_bert(seed=seed).save_pretrained(run_dir / "model")
        (run_dir / experiments.FINISHED).write_text(json.dumps({"config": {**config, "data_sha256": "any"}}))
        return run_dir

    other = experiments.experiment_config("cpu")
    other["train"]["lr"] = 1.0  # another config of the same name: not the preset's model
    finished_run("cpu-full-s1-other", other, seed=1)
    finished_run("cpu-full-s1-ours", experiments.experiment_config("cpu"), seed=2)
    shown = experiments.notebook_model("", "cpu")
    assert "No finished" not in capsys.readouterr().out
    for name, tensor in tiny_bert(seed=2).state_dict().items():
        assert torch.equal(shown.state_dict()[name], tensor), name


def test_model_sizes_pair_each_seeds_gain_with_its_backbone_and_compare_the_largest_with_the_smallest(monkeypatch):
    """Gains (average) small: 2, 4; large: 5, 9 -> large minus small per seed 3, 5: mean 4, se 1 (by hand)."""
    backbone = {"small": 50.0, "large": 60.0}
    finetuned = {("small", 1): 52.0, ("small", 2): 54.0, ("large", 1): 65.0, ("large", 2): 69.0}
    replace_preset(monkeypatch, "smoke", sizes={"small": {}, "large": {}})
    replace(monkeypatch, base_model=lambda preset, seed=None, size=None: ("base", size),
            trained_model=lambda preset, seed=None, size=None, figure=False: experiments.TrainedModel(
                (size, seed), {}, Path(f"/runs/{size}-s{seed}"), {}),
            parameter_count=lambda model: {"small": 10, "large": 100}[model[0]])

    def fake_scores(model, preset, instructions="paper", suite=None, bootstrap=False):
        value = backbone[model[1]] if model[0] == "base" else finetuned[model]
        return {"categories": {"STS": value}, "average": value}

    replace(monkeypatch, scores=fake_scores)
    result = experiments.model_sizes("smoke")
    assert list(result.frame.index) == ["small", "large"]
    assert result.metrics["gain"]["large"]["mean"] == pytest.approx(7.0)
    claim = result.metrics["claims"][0]
    assert claim["ours"] == pytest.approx(4.0)
    assert (claim["ci_low"], claim["ci_high"]) == pytest.approx((4 - T_975_1, 4 + T_975_1))
    # the control is the lower of the sizes' gains: small 2, 4 (low 3 - t) and large 5, 9 (low 7 - 2t, lower); it
    # holds 0, so the claim is untestable
    assert claim["control"] == pytest.approx({"ours": 7.0, "ci_low": 7 - 2 * T_975_1, "ci_high": 7 + 2 * T_975_1})
    assert claim["verdict"] == "untestable"
    replace_preset(monkeypatch, "smoke", sizes={"large": {}, "small": {}})
    with pytest.raises(ValueError, match="smallest first"):  # the claim's words name the last size as the largest
        experiments.model_sizes("smoke")


def test_a_pilot_candidate_replaces_the_preset_settings_and_equal_settings_name_the_preset_run():
    preset_run = experiments.experiment_config("smoke", seed=1)
    same = experiments.experiment_config("smoke", seed=1, scale="10 steps")  # smoke trains 10 steps already
    shorter = experiments.experiment_config("smoke", seed=1, scale="5 steps")
    assert same == preset_run
    assert shorter["train"]["steps"] == 5 and shorter["train"]["name"] == "smoke-full-5-steps-s1"
    assert {**shorter["train"], "steps": 10, "name": "smoke-full-s1"} == preset_run["train"]  # nothing else changes
    assert configs.slug("40 steps, lr 1e-4") == "-40-steps-lr-1e-4"  # one dash per gap, none at the ends
    assert configs.slug("all-mpnet-base-v2 (110M)") == "-all-mpnet-base-v2" and configs.slug(None) == ""
    with pytest.raises(ValueError, match="scale must be one of 5 steps, 10 steps"):
        experiments.experiment_config("smoke", scale="1 step")


def test_the_figures_train_at_the_figure_scale_and_the_main_table_at_the_preset_scale(monkeypatch):
    # the cpu preset's figures train as its main table (the pilot found no smaller valid scale): the same runs
    main, figure = experiments.experiment_config("cpu", seed=2), experiments.experiment_config("cpu", seed=2, figure=True)
    assert PRESETS["cpu"].figures == {} and figure == main and main["train"]["name"] == "cpu-full-s2"
    assert experiments.figure_steps("cpu") == PRESETS["cpu"].train.steps
    # with figure settings of their own, the figures' runs say so in their names, and nothing else changes
    replace_preset(monkeypatch, "cpu", figures={"steps": 10})
    main, figure = experiments.experiment_config("cpu", seed=2), experiments.experiment_config("cpu", seed=2, figure=True)
    assert figure["train"]["steps"] == 10 != main["train"]["steps"] and figure["train"]["name"] == "cpu-full-figures-s2"
    assert {**figure["train"], "steps": main["train"]["steps"], "name": "cpu-full-s2"} == main["train"]  # nothing else
    # Fig. 6: the MiniLM size changes nothing beyond the figures' scale, so it is the figures' full run; mpnet is not
    sizes = list(PRESETS["cpu"].sizes)
    assert experiments.experiment_config("cpu", seed=2, size=sizes[0], figure=True) == figure
    mpnet = experiments.experiment_config("cpu", seed=2, size=sizes[1], figure=True)["train"]
    assert mpnet["name"] == "cpu-full-figures-all-mpnet-base-v2-s2" and mpnet["steps"] == figure["train"]["steps"]
    assert experiments.figure_steps("cpu") == 10 and experiments.figure_steps("smoke") == 10
    # a preset without figure settings trains its figures as its main table: the same runs
    assert experiments.experiment_config("smoke", "tag", figure=True) == experiments.experiment_config("smoke", "tag")


def test_every_ablation_figure_trains_its_models_at_the_figure_scale(monkeypatch):
    requested = []

    def fake_trained(preset, variant="full", layers=None, runs_dir=None, seed=None, size=None, scale=None, figure=False,
                     custom=None):
        requested.append((variant, size, figure))
        return experiments.TrainedModel("tuned", {}, Path("/runs/tuned"), {})

    def fake_scores(model, preset, instructions="paper", suite=None, bootstrap=False):
        return {"categories": {"STS": 50.0}, "average": 50.0}

    replace(monkeypatch, trained_model=fake_trained, scores=fake_scores, base_model=lambda *args, **kwargs: "base",
            parameter_count=lambda model: 1)
    replace_preset(monkeypatch, "smoke", sizes={"one": {}}, figures={"steps": 5})
    for figure in (lambda: experiments.ablation("smoke", "no_superni"), lambda: experiments.instructions_by_data("smoke"),
                   lambda: experiments.instruction_detail("smoke"), lambda: experiments.model_sizes("smoke")):
        requested.clear()
        result = figure()
        assert requested and all(flag for _, _, flag in requested), requested
        assert all(claim["steps"] == 5 for claim in result.metrics.get("claims", []))
        steps = result.metrics["steps"]
        assert set(steps.values() if isinstance(steps, dict) else [steps]) == {5}


def test_the_pilot_judges_each_candidate_by_the_main_effect_and_picks_the_narrowest_interval(monkeypatch, tmp_path):
    """Average gains per seed (1, 2): "short" 1 and 5 (mean 3, sd 2 sqrt 2, half-width 2 t), "long" 3 and 4
    (mean 3.5, sd sqrt(1/2), half-width t / 2): the rule picks "long" (by hand)."""
    replace_preset(monkeypatch, "smoke", pilot=presets.PilotSettings(
        seeds=(1, 2), candidates={"short": {"steps": 5}, "long": {"steps": 20, "lr": 0.5}}, suite="dev_suite",
        rule=presets.NARROWEST_INTERVAL))
    gains = {("short", 1): 1.0, ("short", 2): 5.0, ("long", 1): 3.0, ("long", 2): 4.0}
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "metrics.jsonl").write_text('{"pairs_per_s": 8.0}\n{"pairs_per_s": 4.0}\n')  # 16 pairs: 2 s + 4 s

    def fake_scores(model, preset, instructions="paper", suite=None, bootstrap=False):
        assert suite is presets.PRESETS["smoke"].dev_suite  # choices are made off the claims' examples
        value = 50.0 + (0.0 if model == "base" else gains[model])
        spread = np.array([-1.0, 0.0, 1.0]) * (1 if model == "base" else 3)  # paired replicates: gain sd 2
        return {"categories": {"STS": value}, "average": value,
                "bootstrap": {row: {"replicates": (value + spread).tolist()} for row in ("STS", "Average")}}

    replace(monkeypatch, scores=fake_scores, base_model=lambda *args, **kwargs: "base",
            trained_model=lambda preset, seed=None, scale=None: experiments.TrainedModel(
                (scale, seed), {"train": {"batch_size": 16}}, run_dir, {}))
    result = experiments.pilot("smoke")
    short, long = result.metrics["candidates"]["short"], result.metrics["candidates"]["long"]
    assert (short["gain"], short["half-width"]) == pytest.approx((3.0, 2 * T_975_1))
    assert (short["gain low"], short["gain high"]) == pytest.approx((3 - 2 * T_975_1, 3 + 2 * T_975_1))
    assert (long["gain"], long["half-width"], long["sd over seeds"]) == pytest.approx((3.5, T_975_1 / 2, math.sqrt(0.5)))
    assert (long["steps"], long["lr"]) == (20, 0.5)
    assert long["train s per seed"] == pytest.approx(6.0) and long["eval sd gain"] == pytest.approx(2.0)
    assert result.metrics["chosen"] == "long" and not result.metrics["target_met"]
    assert not result.metrics["preset_uses_chosen"]  # smoke trains 10 steps at lr 1e-3
    assert list(result.frame.index) == ["short", "long"]
    assert (result.metrics["suite"], result.metrics["rule"]) == ("dev_suite", presets.NARROWEST_INTERVAL)
    # neither gain's interval lies above 0 (and "long" changes the lr too): no figures' scale
    assert (result.metrics["figures_chosen"], result.metrics["figures_steps"]) == (None, None)


def test_the_figures_take_the_fewest_steps_at_which_finetuning_beats_the_backbone(monkeypatch):
    """`figures_rule`: of the candidates that change only the steps, the fewest steps whose gain's interval lies above
    0; one that changes the lr is not eligible however good, and none above 0 is None."""
    replace_preset(monkeypatch, "smoke", pilot=dataclasses.replace(presets.PRESETS["smoke"].pilot, candidates={
        "20": {"steps": 20}, "40": {"steps": 40}, "80": {"steps": 80}, "10 fast": {"steps": 10, "lr": 1e-3}}))
    rows = {"20": {"steps": 20, "gain low": -0.1}, "40": {"steps": 40, "gain low": 0.05},
            "80": {"steps": 80, "gain low": 0.3}, "10 fast": {"steps": 10, "gain low": 1.0}}
    assert scale_pilot.figures_choice("smoke", rows) == "40"
    assert scale_pilot.figures_choice("smoke", {**rows, "40": {"steps": 40, "gain low": 0.0}}) == "80"  # 0 is not above
    assert scale_pilot.figures_choice("smoke", {**rows, "40": {"steps": 40, "gain low": -1}, "80": {"steps": 80, "gain low": -1}}) is None


def test_runs_go_under_the_runs_directory_the_environment_names(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTRUCTOR_RUNS_DIR", str(tmp_path))
    run = experiments.trained_model("smoke", seed=1)
    assert run.run_dir.parent == tmp_path / "experiments" and (run.run_dir / experiments.FINISHED).exists()
    assert experiments.finished_model("smoke") is not None  # found where it was written
