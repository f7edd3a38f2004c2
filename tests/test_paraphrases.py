"""Fig. 4's paired noise floor from fake evaluation results: per task the gap, the floor of the five scorings'
paired bootstrap replicates and whether the gap lies above it, by hand; the robustness experiment with scoring
and training stubbed (no model is trained or scored)."""
from pathlib import Path

import pytest

from instructor_lib.stats import Interval
from instructor_lib.workbench import experiments
from instructor_lib.workbench.experiments import paraphrases


def results(tasks: dict[str, tuple[float, list[float]]]) -> dict:
    """An `evaluate(..., bootstrap=B)` result reduced to what the floor reads: per task its score and replicates."""
    return {"tasks": {task: {"score": score, "bootstrap": replicates} for task, (score, replicates) in tasks.items()}}


# STS: every set's replicates centred are -1 1 0 0, 0 0 1 -1 and 0 0 0 0: each replicate's range is 1, so the
# floor is 1 everywhere and the gap 80 - 77.5 = 2.5 lies above it. Emotion: centred -5 5 -10 10, 3 -3 0 0 and
# 0 0 -8 8, ranges 8 8 10 10: floor 9, quantiles 8 and 10, and the gap 46 - 40 = 6 lies inside it.
BY_SET = {
    "paraphrase-1": results({"STS": (80.0, [79.0, 81.0, 80.0, 80.0]), "Emotion": (40.0, [35.0, 45.0, 30.0, 50.0])}),
    "paraphrase-2": results({"STS": (77.5, [77.5, 77.5, 78.5, 76.5]), "Emotion": (46.0, [49.0, 43.0, 46.0, 46.0])}),
    "paraphrase-3": results({"STS": (79.0, [79.0, 79.0, 79.0, 79.0]), "Emotion": (41.0, [41.0, 41.0, 33.0, 49.0])})}


def test_task_floors_by_hand():
    floors = experiments.task_floors(BY_SET)
    assert floors["STS"] == (2.5, Interval(1.0, 1.0, 1.0, 4)) and floors["STS"].above_floor
    emotion = floors["Emotion"]
    assert emotion.gap == 6.0 and emotion.floor == Interval(9.0, 8.0, 10.0, 4) and not emotion.above_floor
    entries = paraphrases.floor_metrics(floors)
    assert entries == {"gap": {"STS": 2.5, "Emotion": 6.0}, "noise_floor": {"STS": 1.0, "Emotion": 9.0},
                       "noise_floor_high": {"STS": 1.0, "Emotion": 10.0},
                       "gap_above_floor": {"STS": True, "Emotion": False}}


def test_a_shared_draw_of_examples_leaves_the_floor_as_it_was():
    shared = [20.0, -20.0, 0.0, 5.0]  # a resample that moves every scoring of Emotion alike
    moved = {name: results({task: (entry["score"], [value + shift for value, shift in zip(entry["bootstrap"], shared)])
                            for task, entry in result["tasks"].items()})
             for name, result in BY_SET.items()}
    assert experiments.task_floors(moved) == experiments.task_floors(BY_SET)


def test_task_floors_need_every_sets_replicates():
    unpaired = {**BY_SET, "paraphrase-2": {"tasks": {"STS": {"score": 77.5}, "Emotion": {"score": 46.0}}}}
    with pytest.raises(ValueError, match="STS under paraphrase-2 has no bootstrap replicates: .* bootstrap=True"):
        experiments.task_floors(unpaired)


def test_floor_table_counts_the_seeds_above_the_floor():
    above = {"gap": {"STS": 3.0}, "noise_floor": {"STS": 1.0}, "noise_floor_high": {"STS": 2.0},
             "gap_above_floor": {"STS": True}}
    inside = {"gap": {"STS": 1.0}, "noise_floor": {"STS": 2.0}, "noise_floor_high": {"STS": 3.0},
              "gap_above_floor": {"STS": False}}
    per_seed = {"1": above, "2": inside, "3": above}
    assert paraphrases.seeds_above_floor(per_seed) == {"STS": 2}
    table = experiments.floor_table({"per_seed": {"with super-NI": per_seed, "without super-NI": {"1": inside}}})
    assert list(table.index) == ["STS", "STS"] and list(table["model"]) == ["with super-NI", "without super-NI"]
    assert list(table["gap"]) == pytest.approx([7 / 3, 1.0])
    assert list(table["floor high"]) == pytest.approx([7 / 3, 3.0])
    assert list(table["seeds above floor"]) == ["2 of 3", "0 of 1"]


def test_robustness_takes_each_floor_from_all_five_sets_replicates(monkeypatch):
    """Smoke's seeds 1 and 2. Per set i (1-5) and model, STS scores 70 + i * spread, with the replicates score + i *
    own * (-1, 1) + a shared draw (-10, 10): centred, the shared draw cancels in each replicate's range over the five
    sets, 5 * own - 1 * own, so the floor is 4 * own everywhere; the gap is 4 * spread."""
    spread = {"full": 0.5, "no_superni": 3.0}  # gaps 2 and 12
    own = {"full": 2.0, "no_superni": 1.0}  # floors 8 and 4
    requested = []

    def fake_scores(model, preset, instructions="paper", suite=None, bootstrap=False):
        if instructions == "paper":  # the control: full MEDI with the paper's instructions
            return {"categories": {"STS": 75.0}, "average": 75.0}
        requested.append((instructions.name, bootstrap))
        index = int(instructions.name.split("-")[1])
        score = 70.0 + index * spread[model]
        return results({"STS": (score, [score + index * own[model] * sign + 10.0 * sign for sign in (-1, 1)])})

    def fake_trained(preset, variant, seed=None, figure=False):
        return experiments.TrainedModel(variant, {}, Path(f"/runs/{variant}-s{seed}"), {})

    monkeypatch.setattr(paraphrases, "scores", fake_scores)
    monkeypatch.setattr(paraphrases, "trained_model", fake_trained)
    monkeypatch.setattr(paraphrases, "backbone_scores", lambda preset, suite=None: {"STS": 60.0, "Average": 60.0})
    metrics = experiments.robustness("smoke").metrics
    assert metrics["control"] == {"mean": 15.0, "low": 15.0, "high": 15.0, "n": 2}  # 75 - 60 with both seeds
    assert metrics["claims"][0]["control"] == {"ours": 15.0, "ci_low": 15.0, "ci_high": 15.0}
    assert sorted(set(requested)) == [(f"paraphrase-{index}", True) for index in range(1, 6)]  # replicates of every set
    assert metrics["noise_floor"] == pytest.approx({"with super-NI": 8.0, "without super-NI": 4.0})
    gaps = (metrics["gap"]["with super-NI"]["STS"], metrics["gap"]["without super-NI"]["STS"])
    assert gaps == pytest.approx((2.0, 12.0))
    assert metrics["per_seed"]["with super-NI"]["1"]["noise_floor_high"] == {"STS": 8.0}
    assert metrics["gap_above_floor"] == {"with super-NI": {"STS": 0}, "without super-NI": {"STS": 2}}
