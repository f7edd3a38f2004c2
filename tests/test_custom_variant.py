"""Your own variant in the analysis notebooks (workbench.experiments.custom_variant) and pooling "all" in the
embedder: the defaults leave every config as it was, the parameters reach the run config, the records, the
model and the evaluation instructions, and pooling "all" equals a hand computation and round-trips."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from instructor_lib.model import Instructor
from instructor_lib.provenance import config_hash
from instructor_lib.tiny import tiny_bert, tiny_t5
from instructor_lib.workbench import experiments
from instructor_lib.workbench.experiments import compare, custom, data_ablation, runs

from helpers import make_records, one_thread  # noqa: F401 (one_thread: autouse fixture)

INSTRUCTION = "Represent the sentence for retrieval: "


# ------------------------------------------------------------------------------------------ pooling "all"
@pytest.mark.parametrize("build", [tiny_bert, tiny_t5], ids=["bert", "t5"])
def test_pooling_all_is_the_mean_over_every_token_by_hand(build):
    model = build(seed=1)
    model.pooling = "all"
    texts = ["a dog eats food", "the cat"]
    features = model.tokenize([(INSTRUCTION, text) for text in texts])
    with torch.no_grad():
        hidden = model.encoder(input_ids=features["input_ids"], attention_mask=features["attention_mask"]).last_hidden_state
    mask = features["attention_mask"].unsqueeze(-1).float()
    expected = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    np.testing.assert_allclose(model.encode(texts, instruction=INSTRUCTION), expected, atol=1e-6)
    model.pooling = "text"  # the default still leaves the instruction out
    assert not np.allclose(model.encode(texts, instruction=INSTRUCTION), expected, atol=1e-3)
    with pytest.raises(ValueError, match="pooling must be one of"):
        model.pooling = "cls"


def test_pooling_all_round_trips_through_the_folder_and_sentence_transformers(tmp_path):
    from sentence_transformers import SentenceTransformer

    text_model, all_model = tiny_bert(seed=2), tiny_bert(seed=2)
    all_model.pooling = "all"
    assert text_model.fingerprint() != all_model.fingerprint()  # another model for every cache
    all_model.save_pretrained(tmp_path / "all", instructions={"query": INSTRUCTION})
    text_model.save_pretrained(tmp_path / "text")
    loaded = Instructor.from_pretrained(tmp_path / "all")
    assert loaded.pooling == "all" and Instructor.from_pretrained(tmp_path / "text").pooling == "text"
    assert "instructor_pooling" not in json.loads((tmp_path / "text" / "config_sentence_transformers.json").read_text())
    texts = ["a dog eats food", "the cat"]
    ours = all_model.encode(texts, instruction=INSTRUCTION)
    np.testing.assert_allclose(loaded.encode(texts, instruction=INSTRUCTION), ours, atol=1e-6)
    np.testing.assert_allclose(SentenceTransformer(str(tmp_path / "all"), device="cpu").encode(texts, prompt_name="query"),
                               ours, atol=1e-5)


# ------------------------------------------------------------------------------------------ custom variant
def test_default_parameters_make_no_custom_variant_and_leave_configs_as_they_were():
    assert experiments.custom_variant() == {} and experiments.custom_variant("", "", "", "text") == {}
    plain = experiments.experiment_config("cpu", "no_superni", seed=2, figure=True)
    assert experiments.experiment_config("cpu", "no_superni", seed=2, figure=True, custom={}) == plain
    assert "custom" not in plain
    assert config_hash(experiments.settings("cpu", variant="full", custom={})) == config_hash(experiments.settings("cpu", variant="full"))


def test_custom_parameters_are_parsed_checked_and_reach_the_run_config(tmp_path):
    path = tmp_path / "eval.json"
    path.write_text(json.dumps({"BIOSSES": "Represent the biomedical sentence: "}))
    variant = experiments.custom_variant('{"AllNLI": "Represent the NLI sentence: ", "NQ": ["Q: ", "D: "]}',
                                         "NQ, AllNLI", str(path), "all")
    assert variant == {"datasets": ["AllNLI", "NQ"], "eval_instructions": {"BIOSSES": "Represent the biomedical sentence: "},
                       "pooling": "all", "training_instructions": {"AllNLI": ["Represent the NLI sentence: "] * 2,
                                                                    "NQ": ["Q: ", "D: "]}}
    config = experiments.experiment_config("smoke", "full", seed=1, custom=variant)
    assert config["custom"] == variant and config["train"]["name"].startswith("smoke-full-pooling-all-custom-")
    assert experiments.run_dir_for(config, "/runs").name != experiments.run_dir_for(experiments.experiment_config("smoke"), "/runs").name
    assert experiments.settings("smoke", variant="full", custom=variant)["custom"] == variant
    for bad, message in ((dict(datasets="NQ,nope"), "unknown MEDI dataset"), (dict(pooling="max"), "pooling must be one of"),
                         (dict(training_instructions='{"nope": "x"}'), "unknown MEDI dataset"),
                         (dict(training_instructions='{"NQ": 3}'), "must be a string or"),
                         (dict(eval_instructions='{"BIOSSES": 3}'), "BIOSSES")):
        with pytest.raises((ValueError, TypeError), match=message):
            experiments.custom_variant(**bad)


def test_custom_records_keep_the_selection_and_replace_the_instructions():
    records = [{"query": ["q-old: ", "q"], "pos": ["d-old: ", "p"], "neg": ["d-old: ", "n"], "task_name": name}
               for name in ("AllNLI", "NQ", "task001_some_superni_task")]
    variant = experiments.custom_variant('{"NQ": ["Q: ", "D: "]}', "NQ,superni")
    out = custom.custom_records(records, variant)
    assert [record["task_name"] for record in out] == ["NQ", "task001_some_superni_task"]
    assert out[0]["query"] == ["Q: ", "q"] and out[0]["pos"] == ["D: ", "p"] and out[0]["neg"] == ["D: ", "n"]
    assert out[1] == records[2] and records[1]["query"] == ["q-old: ", "q"]  # the mixture itself is untouched


def test_a_custom_variant_trains_its_own_run_with_its_records_and_pooling(tmp_path, monkeypatch):
    seen = {}
    original = runs.training.train

    def recording_train(config, records=None, run_dir=None, on_step=None, model=None):
        seen.update(tasks={record["task_name"] for record in records}, pooling=model.pooling)
        return original(config, records, run_dir=run_dir, model=model)

    monkeypatch.setattr(runs.training, "train", recording_train)
    mixture = [{**record, "task_name": name} for name, part in zip(("AllNLI", "NQ", "quora_duplicates"),
                                                                   (make_records(1, 16, seed) for seed in range(3)))
               for record in part]  # a small stand-in for the smoke mixture: seconds, not a MEDI build
    monkeypatch.setattr(runs, "training_records", lambda preset, variant: mixture)
    variant = experiments.custom_variant(datasets="AllNLI,quora_duplicates", pooling="all")
    trained = experiments.trained_model("smoke", runs_dir=tmp_path, custom=variant)
    assert seen == {"tasks": {"AllNLI", "quora_duplicates"}, "pooling": "all"}
    assert trained.model.pooling == "all" and trained.config["custom"] == variant
    recorded = json.loads((trained.run_dir / runs.FINISHED).read_text())["config"]
    assert recorded["custom"] == variant and trained.run_dir.name.startswith("smoke-full-pooling-all-custom-")


def test_custom_evaluation_instructions_overlay_the_paper_set(monkeypatch):
    asked = []
    monkeypatch.setattr(compare, "trained_model", lambda *args, **kwargs: experiments.TrainedModel("m", {}, Path("/runs/m-s1"), {}))
    monkeypatch.setattr(compare, "scores", lambda model, preset, instructions, suite: asked.append(instructions) or
                        {"categories": {"STS": 1.0}, "average": 1.0})
    compare.seed_scores("smoke", "full", custom=experiments.custom_variant(eval_instructions='{"BIOSSES": "Bio: "}'))
    chosen = asked[0]
    assert chosen.instruction("BIOSSES") == "Bio: " and chosen.instruction("STSBenchmark").lower().startswith("represent")
    asked.clear()
    compare.seed_scores("smoke", "full")
    assert asked[0] == "paper"


def test_the_pooling_claim_is_text_minus_all_paired_by_seed(monkeypatch):
    def fake_seed_scores(preset, variant="full", suite=None, custom=None):
        pooled_all = (custom or {}).get("pooling") == "all"
        scores = {1: {"STS": 50.0, "Average": 50.0 - 2 * pooled_all}, 2: {"STS": 52.0, "Average": 52.0 - 3 * pooled_all}}
        return compare.SeedRuns(scores, {"1": f"{variant}-s1", "2": f"{variant}-s2"})

    monkeypatch.setattr(data_ablation, "seed_scores", fake_seed_scores)
    monkeypatch.setattr(data_ablation, "backbone_scores", lambda preset, suite=None: {"STS": 40.0, "Average": 40.0})
    comparison = experiments.pooling_claim("smoke")
    (claim,) = comparison.metrics["claims"]
    assert claim["ours"] == pytest.approx(2.5) and claim["seeds"] == [1, 2]
    assert claim["control"]["ours"] == pytest.approx(11.0)  # full MEDI 50, 52 minus the backbone's 40
    assert claim["claim"].startswith("Pooling over the text tokens only beats") and comparison.metrics["custom"] == {"pooling": "all"}
    assert "claims" not in experiments.ablation("smoke", "no_superni").metrics  # other variants make no claim
    with pytest.raises(ValueError, match="reference"):
        experiments.ablation("smoke", "full")
