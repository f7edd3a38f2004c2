"""Bootstrap over test examples: per-example statistics agree with mteb's scores, resampling is seeded and paired."""
import math

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score

from instructor_lib.evaluation import InstructorEncoder, evaluate, run_task
from instructor_lib.evaluation.bootstrap import (average_precision_at_k, cosine_ap_statistic, mean_statistic,
                                                 ndcg_at_k, per_example, replicates, resample_indices,
                                                 spearman_statistic, statistic_for, summarize, task_bootstrap,
                                                 task_seed)
from instructor_lib.evaluation.suite import Subsample, build_task
from instructor_lib.stats import bootstrap_interval
from instructor_lib.tiny import tiny_bert

# one small task per type; tolerance of full-sample statistic vs mteb's score (0-100 scale)
TASK_TYPES = {
    "STS": ("BIOSSES", Subsample(40), 1e-9),
    "PairClassification": ("TwitterURLCorpus", Subsample(100), 1e-9),  # against mteb's cosine_ap (see below)
    # mteb rounds retrieval metrics to 5 decimals of the 0-1 scale: |diff| <= 0.0005 on 0-100
    "Retrieval": ("SciFact", Subsample(max_test=30, max_corpus=100), 6e-4),
    "Reranking": ("AskUbuntuDupQuestions-local", Subsample(30), 6e-4),
    "Classification": ("EmotionClassification", Subsample(60, 200), 1e-9),
    "Clustering": ("TwentyNewsgroupsClustering-local", Subsample(60), 1e-9),
}


@pytest.fixture(scope="module")
def model():
    return tiny_bert(seed=0)


@pytest.fixture(scope="module")
def runs(model):
    """Each task type run once through mteb with a remembering encoder: (suite task, entry, scores, memo)."""
    out = {}
    for kind, (name, limits, _) in TASK_TYPES.items():
        suite_task = build_task(name, limits)
        memo = {}
        entry, scores = run_task(InstructorEncoder(model, "paper", precision="float32", memo=memo), suite_task, 64)
        out[kind] = (suite_task, entry, scores[suite_task.spec.published_subset], memo)
    return out


@pytest.mark.parametrize("kind", list(TASK_TYPES))
def test_full_sample_statistic_equals_mteb_score(runs, kind):
    suite_task, entry, scores, memo = runs[kind]
    assert suite_task.task.metadata.type == kind
    examples = per_example(suite_task.task, memo, suite_task.spec.published_subset, entry["split"], scores)
    full = statistic_for(kind)(examples)
    if kind == "PairClassification":
        # mteb's main score is max_ap over similarity functions; the bootstrap uses cosine AP
        assert full == pytest.approx(100 * scores["cosine_ap"], abs=TASK_TYPES[kind][2])
        assert full <= entry["score"] + 1e-9
    else:
        assert full == pytest.approx(entry["score"], abs=TASK_TYPES[kind][2])


def test_classification_replays_every_experiment_of_mteb(runs):
    """Per-example correctness averaged over experiments: its mean is mteb's mean accuracy, and each experiment's
    accuracy is a multiple of 1/n, so the per-example values are multiples of 1/n_experiments."""
    suite_task, entry, scores, memo = runs["Classification"]
    correct = per_example(suite_task.task, memo, "default", "test", scores)
    n_experiments = suite_task.task.n_experiments
    assert np.allclose(correct * n_experiments, np.round(correct * n_experiments))
    assert np.mean(correct) == pytest.approx(np.mean([e["accuracy"] for e in scores["scores_per_experiment"]]), abs=1e-12)


def test_clustering_resamples_whole_sets(runs):
    suite_task, entry, scores, memo = runs["Clustering"]
    per_set = per_example(suite_task.task, memo, "default", "test", scores)
    assert len(per_set) == len(suite_task.task.dataset["default"]["test"])  # one value per set
    draws = replicates(per_set, mean_statistic, 5, 3)
    rows = resample_indices(len(per_set), 5, 3)
    np.testing.assert_allclose(draws, 100 * per_set[rows].mean(axis=1))


def test_same_seed_same_replicates_other_seed_different(runs):
    suite_task, entry, scores, memo = runs["STS"]
    first = task_bootstrap(suite_task.task, memo, "default", "test", scores, 30, seed=0)
    again = task_bootstrap(suite_task.task, memo, "default", "test", scores, 30, seed=0)
    other = task_bootstrap(suite_task.task, memo, "default", "test", scores, 30, seed=1)
    assert first["replicates"] == again["replicates"]
    assert first["replicates"] != other["replicates"]
    assert first["full_sample"] == pytest.approx(entry["score"], abs=1e-9)
    assert task_seed(0, "BIOSSES") != task_seed(0, "STS12") and task_seed(0, "BIOSSES") != task_seed(1, "BIOSSES")


@pytest.mark.parametrize("statistic, make", [
    (spearman_statistic, lambda rng: np.column_stack([rng.integers(0, 5, 40), rng.normal(size=40)])),
    (cosine_ap_statistic, lambda rng: np.column_stack([rng.integers(0, 2, 40), np.round(rng.normal(size=40), 1)])),
    (mean_statistic, lambda rng: rng.random(40)),
])
def test_replicates_are_the_statistic_of_the_resamples_and_match_stats_bootstrap(statistic, make):
    examples = make(np.random.default_rng(5))
    draws = replicates(examples, statistic, 50, seed=11)
    rows = resample_indices(len(examples), 50, 11)
    reference = {spearman_statistic: lambda x: 100 * spearmanr(x[:, 0], x[:, 1])[0],
                 cosine_ap_statistic: lambda x: 100 * average_precision_score(x[:, 0], x[:, 1]),
                 mean_statistic: lambda x: 100 * x.mean()}[statistic]
    np.testing.assert_allclose(draws, [reference(examples[r]) for r in rows], rtol=1e-10, atol=1e-10)
    interval = bootstrap_interval(examples, statistic, 50, seed=11)  # the same resampling scheme as stats
    assert (interval.low, interval.high) == pytest.approx(tuple(np.quantile(draws, [0.025, 0.975])), abs=1e-9)


def test_two_models_get_paired_replicates_and_the_cache_holds_them(tmp_path):
    suite = {"BIOSSES": Subsample(40)}
    results = {}
    for seed in (0, 1):
        results[seed] = evaluate(tiny_bert(seed=seed), suite, "paper", precision="float32", cache_dir=tmp_path,
                                 bootstrap=20, bootstrap_seed=7)
    rows = resample_indices(40, 20, task_seed(7, "BIOSSES"))
    for seed, result in results.items():
        task = result["tasks"]["BIOSSES"]
        assert len(task["bootstrap"]) == 20 and result["metadata"]["bootstrap"] == {"replicates": 20, "seed": 7}
        # rebuild the examples of this model and check each replicate is the statistic of the same rows
        suite_task = build_task("BIOSSES", Subsample(40))
        memo = {}
        encoder = InstructorEncoder(tiny_bert(seed=seed), "paper", precision="float32", memo=memo)
        entry, scores = run_task(encoder, suite_task, 64)
        examples = per_example(suite_task.task, memo, "default", "test", scores["default"])
        np.testing.assert_allclose(task["bootstrap"], [spearman_statistic(examples[r]) for r in rows], atol=1e-9)
        assert result["bootstrap"]["replicates"] == 20
        assert result["bootstrap"]["STS"]["replicates"] == pytest.approx(task["bootstrap"])
        assert result["bootstrap"]["Average"]["sd"] == pytest.approx(np.std(task["bootstrap"], ddof=1))
    assert results[0]["tasks"]["BIOSSES"]["bootstrap"] != results[1]["tasks"]["BIOSSES"]["bootstrap"]
    # a rerun is served from the cache, replicates included
    again = evaluate(tiny_bert(seed=0), suite, "paper", precision="float32", cache_dir=tmp_path, bootstrap=20,
                     bootstrap_seed=7)
    assert again["tasks"]["BIOSSES"]["bootstrap"] == results[0]["tasks"]["BIOSSES"]["bootstrap"]
    assert again["tasks"]["BIOSSES"]["finished_utc"] == results[0]["tasks"]["BIOSSES"]["finished_utc"]
    # without bootstrap nothing of it appears
    plain = evaluate(tiny_bert(seed=0), suite, "paper", precision="float32", cache_dir=tmp_path)
    assert "bootstrap" not in plain and "bootstrap" not in plain["tasks"]["BIOSSES"]


def test_summary_by_hand():
    replicate_scores = {"a": [10.0, 20.0, 30.0, 40.0], "b": [20.0, 20.0, 50.0, 10.0], "c": [60.0, 70.0, 80.0, 90.0]}
    categories = {"a": "STS", "b": "STS", "c": "Retrieval"}
    summary = summarize(replicate_scores, categories)
    assert summary["replicates"] == 4
    assert summary["STS"]["replicates"] == [15.0, 20.0, 40.0, 25.0]
    mean = (15 + 20 + 40 + 25) / 4
    assert summary["STS"]["sd"] == pytest.approx(math.sqrt(sum((x - mean) ** 2 for x in (15, 20, 40, 25)) / 3))
    # linear-interpolated quantiles of sorted 15, 20, 25, 40: position 0.075 and 2.925
    assert summary["STS"]["low"] == pytest.approx(15 + 0.075 * 5)
    assert summary["STS"]["high"] == pytest.approx(25 + 0.925 * 15)
    assert summary["Retrieval"]["replicates"] == [60.0, 70.0, 80.0, 90.0]
    assert summary["Average"]["replicates"] == pytest.approx([30.0, 110 / 3, 160 / 3, 140 / 3])  # over tasks
    assert "Clustering" not in summary


def test_ranking_metrics_by_hand():
    qrels = {"d1": 2, "d3": 1, "d9": 1}  # d9 is never retrieved
    ranked = ["d3", "d2", "d1", "d4"]
    dcg = 1 / math.log2(2) + 2 / math.log2(4)
    idcg = 2 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(ranked, qrels, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(ranked, qrels, 1) == pytest.approx(1 / 2)
    assert average_precision_at_k(ranked, qrels, 1000) == pytest.approx((1 / 1 + 2 / 3) / 3)
    assert average_precision_at_k(ranked, {"d2": 0}, 1000) == 0.0 and ndcg_at_k(ranked, {}, 10) == 0.0


def test_encoder_memo_remembers_each_task_side_and_text(runs):
    suite_task, entry, scores, memo = runs["Retrieval"]
    sides = {side for (task, side, _) in memo}
    assert sides == {"query", "document"} and {task for task, _, _ in memo} == {"SciFact"}
    suite_task, entry, scores, memo = runs["STS"]
    rows = suite_task.task.dataset["default"]["test"]
    assert all(("BIOSSES", "text", text) in memo for text in list(rows["sentence1"]) + list(rows["sentence2"]))
