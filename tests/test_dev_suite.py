"""The dev suite (issue 29): choices are made on examples that none of the claims' suites scores.

On the real local data, each preset's dev suite shares no example (text, sentence pair, query text or id) with its
suite, ablation, robustness or sizes suite; the claims' test parts and their cache-key records stay as they were.
"""
import pytest

from instructor_lib import presets
from instructor_lib.evaluation.suite import build_task, part_description, part_examples
from instructor_lib.presets import FULL, PRESETS, Subsample, dev_part
from instructor_lib.workbench import experiments

CLAIMS_SUITES = ("suite", "ablation_suite", "robustness_suite", "sizes_suite")


def _claims_examples(preset) -> dict[str, dict[str, set]]:
    """Per task, every example any claims suite of `preset` scores."""
    union = {}
    for attribute in CLAIMS_SUITES:
        for task, examples in part_examples(getattr(preset, attribute)).items():
            held = union.setdefault(task, {"texts": set(), "ids": set()})
            held["texts"] |= examples["texts"]
            held["ids"] |= examples["ids"]
    return union


@pytest.mark.parametrize("name", ["smoke", "cpu"])
def test_the_dev_suite_shares_no_example_with_any_claims_suite(name):
    chosen = PRESETS[name]
    claims, dev = _claims_examples(chosen), part_examples(chosen.dev_suite)
    assert set(dev) <= set(claims)  # the dev suite scores the claims' tasks (those with examples left)
    for task, examples in dev.items():
        limits = chosen.dev_suite[task]
        assert len(examples["texts"]) >= 2 and limits.part == "dev", task
        assert not examples["texts"] & claims[task]["texts"], task
        assert not examples["ids"] & claims[task]["ids"], task
        for attribute in CLAIMS_SUITES:  # every claims suite's test subsample of the task is held out
            suite = getattr(chosen, attribute)
            assert task not in suite or suite[task].max_test in limits.held_out, (task, attribute)


def test_the_cpu_dev_suite_draws_each_task_from_its_validation_split_or_the_test_data_left():
    sources = {task: build_task(task, limits).sizes["default"]["dev_source"]
               for task, limits in PRESETS["cpu"].dev_suite.items()}
    assert sources == {"STSBenchmark": "validation", "EmotionClassification": "validation", "SICK-R": "test",
                       "Banking77Classification": "test", "TwitterURLCorpus": "test", "SciFact": "test",
                       "TwentyNewsgroupsClustering-local": "test", "AskUbuntuDupQuestions-local": "test"}
    assert "BIOSSES" not in PRESETS["cpu"].dev_suite  # all 100 pairs are in the claims' suites


def test_the_test_part_is_todays_and_records_as_before():
    """A test subsample's record (cache keys, results, settings) has no part: keys of test evaluations are unchanged."""
    assert Subsample(300, 600).record() == {"max_test": 300, "max_train": 600, "max_corpus": None}
    dev = Subsample(300, part="dev", held_out=(200, 300))
    assert dev.record() == {"max_test": 300, "max_train": None, "max_corpus": None, "part": "dev", "held_out": [200, 300]}
    before = build_task("SICK-R", Subsample(300))
    assert before.split == "test" and before.sizes == {"default": {"test": 300}}
    dev_built = build_task("SICK-R", Subsample(300, part="dev", held_out=(300,)))
    assert dev_built.split == "dev" and dev_built.task.metadata.eval_splits == ["dev"]
    assert dev_built.sizes == {"default": {"dev_source": "test", "dev": 300}}
    assert len(dev_built.task.dataset["default"]["test"]) == 9927  # the full test split is left untouched beside it


def test_dev_part_holds_out_every_claims_suites_test_size():
    claims = ({"A": Subsample(300), "B": FULL}, {"A": Subsample(200)})
    assert dev_part({"A": Subsample(100), "C": Subsample(50)}, *claims) == {
        "A": Subsample(100, part="dev", held_out=(200, 300)), "C": Subsample(50, part="dev")}
    assert dev_part({"B": FULL}, *claims)["B"].held_out == (None,)


def test_a_dev_part_with_no_examples_left_is_a_clear_error():
    with pytest.raises(ValueError, match="BIOSSES: the claims' test subsamples leave 0 example"):
        build_task("BIOSSES", Subsample(40, part="dev", held_out=(None,)))


@pytest.mark.parametrize("fields, message", [({"part": "train"}, "part must be one of test, dev"),
                                              ({"held_out": (40,)}, "give it with part='dev'"),
                                              ({"part": "dev", "held_out": (1,)}, "held_out must be None")])
def test_bad_parts_are_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        Subsample(40, **fields)


def test_suite_inputs_name_the_part_of_each_task():
    dev = experiments.suite_inputs("cpu", "dev_suite")
    assert dev["name"] == "cpu preset's dev suite" and set(dev["tasks"]) == set(PRESETS["cpu"].dev_suite)
    assert dev["tasks"]["STSBenchmark"]["part"] == part_description("STSBenchmark", PRESETS["cpu"].dev_suite["STSBenchmark"])
    assert dev["tasks"]["STSBenchmark"]["part"].startswith("dev: its local validation split")
    assert dev["tasks"]["SICK-R"]["part"].startswith("dev: its test split, without any example")
    assert experiments.suite_inputs("cpu")["tasks"]["SICK-R"]["part"] == "test: the test split"


def test_every_preset_pilot_scores_its_dev_suite_by_the_rule_written_before():
    for chosen in PRESETS.values():
        assert chosen.pilot.suite == "dev_suite" and chosen.pilot.rule == presets.NARROWEST_INTERVAL
        assert chosen.pilot.figures_rule == presets.FEWEST_STEPS_ABOVE_ZERO
