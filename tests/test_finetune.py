"""instructor_lib.finetune on the smoke preset (a tiny random BERT): the input formats, the bad-input errors
(file, row and column named, nothing written), the split, the scores by hand, the saved folder in
sentence-transformers with its prompts, resuming, and damaged model folders."""
import json
import random

import numpy as np
import pandas as pd
import pytest

import instructor_lib
from instructor_lib import training
from instructor_lib.finetuning import DataError, read_pairs, split_data
from instructor_lib.finetuning.scoring import ndcg_at_k, retrieval_task
from instructor_lib.finetuning.split import SPLITS
from instructor_lib.model import Instructor
from instructor_lib.provenance import sha256_file
from instructor_lib.stats import paired_difference
from instructor_lib.tiny import tiny_bert

from helpers import one_thread  # noqa: F401 (one_thread: autouse fixture)

QUERY, DOCUMENT = "Represent the question for retrieving answers: ", "Represent the answer for retrieval: "
TOPICS = ["food", "sport", "music", "science", "travel", "money"]


def pair_rows(count=60):
    return [{"query": f"question {i} about {TOPICS[i % 6]}", "positive": f"answer {i}: it is {TOPICS[i % 6]} and more {i}"}
            for i in range(count)]


def label_rows(count=60):
    return [{"text": f"a sentence {i} on {TOPICS[i % 3]}", "label": TOPICS[i % 3]} for i in range(count)]


def write(path, rows):
    """`rows` in the format the suffix of `path` says."""
    if path.suffix == ".csv":
        pd.DataFrame(rows).to_csv(path, index=False)
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    else:
        pd.DataFrame(rows).to_parquet(path)
    return path


# ------------------------------------------------------------------------------------------------- formats
@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_each_format_reads_the_same_pairs_and_labelled_texts(tmp_path, suffix):
    rows = pair_rows(5)
    rows[1]["negative"], rows[2]["negative"] = "a wrong answer", ""  # optional: an empty one is absent
    reference = read_pairs(write(tmp_path / "ref.csv", rows))
    data = read_pairs(write(tmp_path / f"pairs{suffix}", rows))
    assert data.kind == "pairs" and data.examples == reference.examples
    assert [example.negative for example in data.examples] == [None, "a wrong answer", None, None, None]
    labelled = read_pairs(write(tmp_path / f"labels{suffix}", label_rows(6)))
    assert labelled.kind == "labels" and [example.label for example in labelled.examples] == TOPICS[:3] * 2


@pytest.mark.parametrize("rows, message", [
    ([{"query": "q", "document": "d"}], r"row 1 has no column 'positive'"),
    ([{"query": "q1", "positive": "p1"}, {"query": "  ", "positive": "p2"}], r"row 2 column 'query' is empty"),
    ([{"query": "q1", "positive": "p1"}, {"query": "q2"}], r"row 2 has no column 'positive'"),
    ([{"text": "t1", "label": "a"}, {"text": "t2", "label": ""}], r"row 2 column 'label' is empty"),
    ([], r"the file has no rows"),
])
def test_bad_input_is_an_error_naming_file_row_and_column_and_writes_nothing(tmp_path, rows, message):
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / "out"
    with pytest.raises(DataError, match=rf"{path}: {message}"):
        instructor_lib.finetune(path, QUERY, preset="smoke", output_dir=out)
    assert not out.exists()


def test_a_csv_row_missing_a_value_and_an_unknown_suffix_name_the_file(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("query,positive\nq1,p1\nq2\n")
    with pytest.raises(DataError, match=rf"{path}: row 2 column 'positive' is empty"):
        read_pairs(path)
    with pytest.raises(DataError, match=r"unsupported file type '.txt'"):
        read_pairs(tmp_path / "pairs.txt")


def test_a_damaged_model_folder_is_an_error_naming_the_file_and_writes_nothing(tmp_path):
    data = write(tmp_path / "pairs.csv", pair_rows())
    for name in ("tokenizer.json", "config.json", "modules.json"):
        folder = tmp_path / f"model-{name}"
        tiny_bert(seed=0).save_pretrained(folder)
        (folder / name).write_text((folder / name).read_text()[:25])
        with pytest.raises((ValueError, OSError), match=rf"{folder / name} .*save or download the model again"):
            instructor_lib.finetune(data, QUERY, model=str(folder), preset="smoke", output_dir=tmp_path / "out")
    folder = tmp_path / "model-vocab"  # a truncated vocab.txt would tokenize into the wrong embedding rows
    model = tiny_bert(seed=0)
    model.save_pretrained(folder)
    (folder / "tokenizer.json").unlink()  # the vocabulary comes from vocab.txt alone, cut to its first 1,000 tokens
    tokens = sorted(model.tokenizer.get_vocab(), key=model.tokenizer.get_vocab().get)
    (folder / "vocab.txt").write_text("\n".join(tokens[:1000]) + "\n", encoding="utf-8")
    with pytest.raises(OSError, match=rf"{folder / 'vocab.txt'} holds 1000 tokens but .*vocab_size {len(tokens)}"):
        instructor_lib.finetune(data, QUERY, model=str(folder), preset="smoke", output_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------------------------------- split
def all_texts(pairs):
    return {text for pair in pairs for text in pair.texts()}


def test_the_split_shares_no_text_across_splits_and_does_not_depend_on_row_order(tmp_path):
    rows = pair_rows(200)
    rows += [{"query": rows[i]["query"], "positive": f"another answer {i}"} for i in range(0, 200, 7)]  # repeated queries
    rows += [{"query": f"other question {i}", "positive": rows[i]["positive"], "negative": rows[i + 1]["positive"]}
             for i in range(0, 150, 11)]  # shared documents and negatives
    split = split_data(read_pairs(write(tmp_path / "pairs.csv", rows)))
    texts = {name: all_texts(split.pairs[name]) for name in SPLITS}
    assert all(not texts[a] & texts[b] for a in SPLITS for b in SPLITS if a < b)
    assert sum(len(split.pairs[name]) for name in SPLITS) == len(rows) and min(map(len, split.pairs.values())) > 5
    shuffled = rows[:]
    random.Random(0).shuffle(shuffled)
    again = split_data(read_pairs(write(tmp_path / "shuffled.csv", shuffled)))
    assert {name: all_texts(again.pairs[name]) for name in SPLITS} == texts

    labelled = split_data(read_pairs(write(tmp_path / "labels.csv", label_rows(120))))
    texts = {name: {text for text, _ in labelled.labelled[name]} for name in SPLITS}
    assert all(not texts[a] & texts[b] for a in SPLITS for b in SPLITS if a < b)
    for name in SPLITS:  # pairs are made inside a split, of one label
        assert all_texts(labelled.pairs[name]) <= texts[name]
        label = dict(labelled.labelled[name])
        assert all(label[pair.query] == label[pair.positive] == pair.label and pair.query != pair.positive
                   for pair in labelled.pairs[name])


def test_too_few_rows_for_a_test_split_is_an_error_naming_the_file(tmp_path):
    path = write(tmp_path / "tiny.csv", pair_rows(3))
    with pytest.raises(DataError, match=rf"{path}: 3 rows give .* at least 2 test pairs"):
        split_data(read_pairs(path))


# ------------------------------------------------------------------------------------------------- scoring
def test_ndcg_at_10_by_hand():
    scores = np.array([[0.9, 0.8, 0.1], [0.1, 0.2, 0.3]])
    # query 0: relevant doc 1 ranked 2nd: 1/log2(3); query 1: relevant docs 0 and 2, ranked 3rd and 1st
    expected = [1 / np.log2(3), (1 + 1 / np.log2(4)) / (1 + 1 / np.log2(3))]
    assert ndcg_at_k(scores, [{1}, {0, 2}]) == pytest.approx(100 * np.mean(expected))


def test_retrieval_relevance_is_the_pairs_positives_or_the_label(tmp_path):
    data = read_pairs(write(tmp_path / "p.csv", [{"query": "q1", "positive": "a"}, {"query": "q1", "positive": "b"},
                                                  {"query": "q2", "positive": "c"}]))
    assert retrieval_task(list(data.examples)) == (["q1", "q2"], ["a", "b", "c"], [{0, 1}, {2}])


# ------------------------------------------------------------------------------------------- whole run
@pytest.fixture(scope="module")
def finetuned(tmp_path_factory):
    folder = tmp_path_factory.mktemp("finetune")
    data = write(folder / "pairs.csv", pair_rows())
    result = instructor_lib.finetune(data, QUERY, DOCUMENT, preset="smoke", steps=4, seeds=[1, 2], output_dir=folder / "out")
    return data, result


def test_metrics_hold_before_after_and_the_gain_paired_by_seed(finetuned):
    data, result = finetuned
    written = json.loads((result.output_dir / "finetune.metrics.json").read_text())
    assert written == result.metrics
    before = [written["before"][seed]["ndcg@10"] for seed in ("1", "2")]
    after = [written["after"][seed]["ndcg@10"] for seed in ("1", "2")]
    gain = paired_difference(after, before)
    assert written["gain"] == pytest.approx({"ours": gain.mean, "ci_low": gain.low, "ci_high": gain.high})
    assert set(written["splits"]) == set(SPLITS) and sum(written["splits"].values()) == 60
    assert written["data_sha256"] == sha256_file(data) and written["steps"] == 4
    assert written["mined_negatives"] == written["splits"]["train"]
    card = (result.model_path / "README.md").read_text()
    assert written["data_sha256"] in card and repr(QUERY) in card and "4 steps" in card and "ndcg@10" in card
    assert list(result.table().columns[:2]) == ["before", "before low"]


def test_the_saved_folder_gives_our_embeddings_in_sentence_transformers_by_prompt_name(finetuned):
    from sentence_transformers import SentenceTransformer

    _, result = finetuned
    texts = ["question 3 about music", "answer 7: it is sport and more 7"]
    ours = Instructor.from_pretrained(result.model_path)
    theirs = SentenceTransformer(str(result.model_path), device="cpu")
    assert theirs.prompts == {"query": QUERY, "document": DOCUMENT}
    for name, instruction in (("query", QUERY), ("document", DOCUMENT)):
        np.testing.assert_allclose(theirs.encode(texts, prompt_name=name), ours.encode(texts, instruction=instruction), atol=1e-5)


def test_a_finished_run_called_again_trains_nothing_and_a_killed_one_resumes(finetuned, monkeypatch, tmp_path):
    data, result = finetuned

    def no_training(*args, **kwargs):
        raise AssertionError("a finished seed was trained again")

    with monkeypatch.context() as patch:
        patch.setattr(training, "train", no_training)
        again = instructor_lib.finetune(data, QUERY, DOCUMENT, preset="smoke", steps=4, seeds=[1, 2],
                                        output_dir=result.output_dir)
    assert again.metrics["after"] == result.metrics["after"]
    # a seed killed after its checkpoint (smoke: every 10 steps): the next call resumes it from there
    calls = []
    original = training.train

    def killed_once(config, records, run_dir, model):
        calls.append(run_dir)
        if len(calls) == 1:
            original(config, records, run_dir=run_dir, model=model, on_step=stop_at_11)
        return original(config, records, run_dir=run_dir, model=model)

    def stop_at_11(step, metrics):
        if step == 11:
            raise KeyboardInterrupt

    monkeypatch.setattr(training, "train", killed_once)
    with pytest.raises(KeyboardInterrupt):
        instructor_lib.finetune(data, QUERY, DOCUMENT, preset="smoke", steps=12, seeds=[3], output_dir=tmp_path)
    assert not (tmp_path / "model").exists()
    resumed = instructor_lib.finetune(data, QUERY, DOCUMENT, preset="smoke", steps=12, seeds=[3], output_dir=tmp_path)
    run = json.loads((calls[0] / "run.json").read_text())
    assert len(calls) == 2 and run["resumed_from_step"] == 10 and resumed.metrics["seeds"] == [3]


def test_labelled_data_scores_accuracy_and_exports_onnx(tmp_path):
    from instructor_lib.onnx import load_onnx

    data = write(tmp_path / "labels.jsonl", label_rows(90))
    result = instructor_lib.finetune(data, "Represent the sentence for classifying its topic: ", preset="smoke", steps=2,
                                     seeds="1", output_dir=tmp_path / "out", onnx=True)
    assert set(result.metrics["after"]["1"]) == {"ndcg@10", "accuracy"} and result.metrics["kind"] == "labels"
    assert result.metrics["gain"]["ci_low"] is None  # one seed: no interval
    texts = ["a sentence 1 on sport"]
    np.testing.assert_allclose(load_onnx(tmp_path / "out" / "onnx").encode(texts, instruction="Represent: "),
                               Instructor.from_pretrained(result.model_path).encode(texts, instruction="Represent: "), atol=1e-4)
