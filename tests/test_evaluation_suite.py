"""Local task injection: mteb's task objects with the local copies, sizes from SOURCE.md, subsampling, hub switch."""
import pytest
from datasets import Dataset, DatasetDict

from instructor_lib.config import data_dir
from instructor_lib.evaluation.suite import (SUITES, TASKS, Subsample, build_suite, build_task, read_semeval_sts,
                                             resolve_suite)
from instructor_lib.presets import PRESETS
from instructor_lib.readers import DataFormatError

# Test-set sizes stated in each folder's SOURCE.md (and MTEB's split sizes for the exact copies).
SOURCE_SIZES = {"STS12": 3108, "STS13": 1500, "STS14": 3750, "STS15": 3000, "STS16": 1186, "STSBenchmark": 1379,
                "SICK-R": 9927, "BIOSSES": 100, "Banking77Classification": 3080, "EmotionClassification": 2000,
                "TweetSentimentExtractionClassification": 3534, "TwitterURLCorpus": 9334, "TwitterSemEval2015-local": 838}


def _split(built, subset="default", split="test"):
    return built.task.dataset[subset][split]


@pytest.mark.parametrize("name", sorted(SOURCE_SIZES))
def test_full_local_copies_have_the_documented_sizes(name):
    built = build_task(name)
    assert len(_split(built)) == SOURCE_SIZES[name]
    assert built.sizes["default"]["test"] == SOURCE_SIZES[name]


def test_injected_data_has_the_columns_each_category_expects():
    sts = _split(build_task("STS15"))
    assert sts.column_names == ["sentence1", "sentence2", "score"] and 0 <= min(sts["score"]) and max(sts["score"]) <= 5
    classification = build_task("Banking77Classification").task.dataset["default"]
    assert classification["test"].column_names == ["text", "label"] and len(classification["train"]) == 10003
    assert len(set(classification["test"]["label"])) == 77
    pair = _split(build_task("TwitterURLCorpus"))
    assert pair.column_names == ["sentence1", "sentence2", "labels"] and set(pair["labels"]) == {0, 1}
    clustering = _split(build_task("TwentyNewsgroupsClustering-local"))
    assert clustering.column_names == ["sentences", "labels"] and len(clustering) == 10
    assert len(set(clustering["labels"][0])) == 20
    retrieval = _split(build_task("SciFact"))
    assert len(retrieval["queries"]) == 300 and len(retrieval["corpus"]) == 5183
    assert sum(len(docs) for docs in retrieval["relevant_docs"].values()) == 339
    assert retrieval["relevant_docs"]["36"] == {"5152028": 1, "11705328": 1}  # SOURCE.md's worked example
    assert set(retrieval["corpus"].column_names) == {"id", "title", "text"}
    reranking = _split(build_task("AskUbuntuDupQuestions-local"))
    assert len(reranking["queries"]) == 117 and all(len(docs) == 10 for docs in reranking["top_ranked"].values())


def test_amazon_counterfactual_keeps_the_english_subsets():
    built = build_task("AmazonCounterfactualClassification")
    assert built.task.hf_subsets == ["en", "en-ext"]
    assert len(built.task.dataset["en"]["test"]) == 670 and len(built.task.dataset["en-ext"]["test"]) == 1334  # SOURCE.md says 1333: its last line has no newline


def test_exact_copies_keep_official_names_and_substitutes_are_renamed():
    assert build_task("STS12").task.metadata.name == "STS12"
    substitute = build_task("ImdbClassification-local")
    assert substitute.task.metadata.name == "ImdbClassification-local"
    assert substitute.task.metadata.main_score == "accuracy"  # mteb's official evaluator settings are kept
    for name, spec in TASKS.items():
        assert name.endswith("-local") == (spec.status == "substitute")


def test_subsampling_is_deterministic_and_recorded():
    first = _split(build_task("STS12", Subsample(50), seed=1))
    again = _split(build_task("STS12", Subsample(50), seed=1))
    other = _split(build_task("STS12", Subsample(50), seed=2))
    assert first["sentence1"] == again["sentence1"] and first["sentence1"] != other["sentence1"]
    full = _split(build_task("STS12"))
    rows = set(zip(full["sentence1"], full["sentence2"]))
    assert len(first) == 50 and set(zip(first["sentence1"], first["sentence2"])) <= rows
    built = build_task("EmotionClassification", Subsample(max_test=100, max_train=300))
    assert built.sizes == {"default": {"test": 100, "train": 300}}


def test_retrieval_subsample_keeps_every_relevant_document():
    built = build_task("SciFact", Subsample(max_test=20, max_corpus=100))
    split = _split(built)
    corpus_ids = set(split["corpus"]["id"])
    assert len(split["queries"]) == 20 and len(corpus_ids) == 100
    assert set(split["relevant_docs"]) == set(split["queries"]["id"])
    assert {doc for docs in split["relevant_docs"].values() for doc in docs} <= corpus_ids


def test_named_suites_resolve_and_smoke_is_small():
    assert set(SUITES) == {"smoke", "cpu", "broad", "exact", "full"}
    assert set(resolve_suite("exact")) == {name for name, spec in TASKS.items() if spec.status == "exact"}
    # every local task but MassiveIntent, whose 316-token instruction fills the CPU models' windows
    assert set(resolve_suite("broad")) == set(TASKS) - {"MassiveIntentClassification-local"}
    # the presets' suites are the ones the notebooks score: one table, no second meaning of "cpu"
    assert resolve_suite("cpu") == PRESETS["cpu"].suite and resolve_suite("smoke") == PRESETS["smoke"].suite
    assert len(resolve_suite("smoke")) <= 3
    with pytest.raises(KeyError, match="unknown task"):
        resolve_suite(["STS99"])
    with pytest.raises(KeyError, match="unknown suite"):
        resolve_suite("everything")


def test_hub_source_uses_the_loader_and_official_names():
    calls = []

    def stub_loader(task):
        calls.append(task.metadata.name)
        task.dataset = {"default": DatasetDict({"test": Dataset.from_dict({"text": ["a", "b", "c"], "label": [0, 1, 0]}),
                                                "train": Dataset.from_dict({"text": ["d", "e"], "label": [0, 1]})})}

    suite = build_suite({"ImdbClassification-local": Subsample(max_test=2)}, source="hub", hub_loader=stub_loader)
    assert calls == ["ImdbClassification"]
    built = suite[0]
    assert built.task.metadata.name == "ImdbClassification"  # real data: not a substitute any more
    assert built.task.data_loaded and len(built.task.dataset["default"]["test"]) == 2
    assert built.data_hash.startswith("hub:")


def test_malformed_file_error_names_file_and_line(tmp_path):
    (tmp_path / "STS.input.MSRpar.txt").write_text("one\ttwo\nno tab here\n", encoding="utf-8")
    (tmp_path / "STS.gs.MSRpar.txt").write_text("1.0\n2.0\n", encoding="utf-8")
    for subset in ["MSRvid", "SMTeuroparl", "surprise.OnWN", "surprise.SMTnews"]:
        (tmp_path / f"STS.input.{subset}.txt").write_text("", encoding="utf-8")
        (tmp_path / f"STS.gs.{subset}.txt").write_text("", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"STS.input.MSRpar.txt:2"):
        read_semeval_sts(tmp_path, "STS12")
    (tmp_path / "STS.input.MSRpar.txt").write_text("one\ttwo\n", encoding="utf-8")
    (tmp_path / "STS.gs.MSRpar.txt").write_text("high\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"STS.gs.MSRpar.txt:1: score 'high'"):
        read_semeval_sts(tmp_path, "STS12")


def test_missing_local_copy_is_a_clear_error(tmp_path):
    (tmp_path / "eval").mkdir()
    with pytest.raises(FileNotFoundError, match="BIOSSES"):
        build_task("BIOSSES", data_dir=tmp_path)
    assert (data_dir() / "eval" / "BIOSSES").is_dir()
