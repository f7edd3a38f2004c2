"""Readers on the real data (counts from each SOURCE.md) and on small malformed copies (clear errors)."""
import gzip
import json

import pytest

from instructor_lib.config import data_dir
from instructor_lib.medi import sources


@pytest.fixture(scope="module")
def train_dir():
    return data_dir() / "train"


# pairs expected from SOURCE.md counts: all rows, or the rows a reader documents it leaves out
EXPECTED_PAIRS = {
    "squad_pairs": 22_447,            # 10,570 dev + 11,877 test
    "NQ": 7_179,                      # 3,610 + 1,800 + 1,769
    "fever": 19_998 - 6_666,          # NOT ENOUGH INFO claims have no evidence pages
    "pubmed": 1_000,
    "agnews": 11_600,
    "amazon_review_2018": 12_600,
    "simple_wiki": 2_359,
    "flickr30k_captions": 10_070,     # one pair per caption
    "quora_duplicates": 10_000,       # 5,000 duplicates in each of dev and test
    "xsum": 1_100,
}


@pytest.mark.parametrize("name", sorted(EXPECTED_PAIRS))
def test_reader_counts_match_source_md(train_dir, name):
    data = sources.read_source(name, train_dir)
    assert len(data.pairs) == EXPECTED_PAIRS[name]
    assert all(pair.query.strip() and pair.pos.strip() for pair in data.pairs)
    assert all(path.exists() for path in data.files)


def test_first_rows_are_read_as_stored(train_dir):
    squad = sources.read_squad(train_dir).pairs[0]
    assert squad.query == "which nfl team represented the afc at super bowl 50 ?"
    assert squad.pos.startswith("the american football conference -lrb- afc -rrb- champion denver broncos")
    nq = sources.read_nq(train_dir).pairs[0]
    assert (nq.query, nq.pos) == ("when was the last time anyone was on the moon", "14 December 1972 UTC")
    flickr = sources.read_flickr(train_dir).pairs
    assert flickr[0].pos == "Men are standing on and about a truck carrying a white substance ."
    assert flickr[4].pos == flickr[0].query  # the 5th caption's positive wraps to the 1st caption of the image
    assert flickr[0].group == flickr[4].group != flickr[5].group


def test_nli_uses_the_contradiction_of_the_same_premise(train_dir):
    first = sources.read_nli(train_dir).pairs[0]  # s1/s2/labels.dev lines 1-3: neutral, entailment, contradiction
    assert first.query == "Two women are embracing while holding to go packages ."
    assert first.pos == "Two woman are holding packages ."
    assert first.neg == "The men are fighting outside a deli ."


def test_codesearch_keeps_label_1_and_counts_the_rest(train_dir):
    data = sources.read_codesearch(train_dir)
    assert len(data.pairs) + data.notes["label_0_pairs"] == 604  # all CoSQA dev rows are accounted for
    assert data.pairs[0].query == "python split strings into list of lines"


def test_quora_counts_invalid_utf8_lines(train_dir):
    data = sources.read_quora(train_dir)
    assert data.notes["non_duplicate_pairs"] == 10_000
    replaced = sum("\ufffd" in pair.query + pair.pos for pair in data.pairs)
    assert data.notes["invalid_utf8_lines"] >= replaced > 0


def test_superni_task_and_manifest(train_dir):
    task = sources.read_superni_task(train_dir / "superni" / "tasks" / "task1565_triviaqa_classification.json.gz")
    assert task.definition.startswith("This task involves asking a question, providing a set of 2 options.")
    assert len(task.inputs) == len(task.outputs) == 108  # manifest: instances_kept 108
    assert set(task.outputs) <= {"A", "B"}
    manifest = sources.read_superni_manifest(train_dir)
    assert len(manifest) == 687
    paths = sources.superni_task_paths(train_dir)
    assert len(paths) == 690 and paths["task1290_xsum_summarization"].is_dir()  # 687 + 3 SAPT supplement tasks


# ------------------------------------------------------------------------------------ malformed copies
def test_quora_replaces_bad_bytes_and_names_bad_lines(tmp_path):
    folder = tmp_path / "quora_duplicates"
    folder.mkdir()
    (folder / "dev.tsv").write_bytes(b"1\tWhat is caf\xe9?\tWhat is a cafe?\t7\n0\ta\tb\t8\n")
    (folder / "test.tsv").write_bytes(b"1\tonly three\tfields\n")
    with pytest.raises(ValueError, match=r"test\.tsv:1: expected 4 tab-separated fields"):
        sources.read_quora(tmp_path)
    (folder / "test.tsv").write_bytes(b"2\tq1\tq2\t9\n")
    with pytest.raises(ValueError, match=r"test\.tsv:1: field 'label' must be 0 or 1"):
        sources.read_quora(tmp_path)
    (folder / "test.tsv").write_bytes(b"")
    data = sources.read_quora(tmp_path)
    assert [pair.query for pair in data.pairs] == ["What is caf\ufffd?"]
    assert data.notes == {"invalid_utf8_lines": 1, "non_duplicate_pairs": 1}


def test_nq_names_the_bad_line(tmp_path):
    folder = tmp_path / "nq_open"
    folder.mkdir()
    good = json.dumps({"question": "q", "answer": ["a"]})
    (folder / "NQ-open.dev.jsonl").write_text(good + "\n" + good + "\n")
    (folder / "NQ-open.efficientqa.dev.1.1.jsonl").write_text(good + "\n{broken\n")
    (folder / "NQ-open.efficientqa.test.1.1.jsonl").write_text("")
    with pytest.raises(ValueError, match=r"efficientqa\.dev\.1\.1\.jsonl:2: invalid JSON"):
        sources.read_nq(tmp_path)
    (folder / "NQ-open.efficientqa.dev.1.1.jsonl").write_text(json.dumps({"question": "q", "answer": []}) + "\n")
    with pytest.raises(ValueError, match=r"jsonl:1: field 'answer' must be a non-empty list"):
        sources.read_nq(tmp_path)


def test_olora_and_flickr_errors_name_record_and_field(tmp_path):
    folder = tmp_path / "agnews_olora"
    folder.mkdir()
    (folder / "train.json").write_text(json.dumps([{"sentence": "Title: t\nText: body", "label": "World"},
                                                   {"sentence": "Title: no text part", "label": "World"}]))
    (folder / "dev.json").write_text("[]")
    with pytest.raises(ValueError, match=r"train\.json: record 1: field 'sentence' has no"):
        sources.read_olora_title_text(tmp_path, "agnews_olora")
    flickr = tmp_path / "flickr30k_captions"
    flickr.mkdir()
    (flickr / "dev_caps.txt").write_text("a\nb\nc\n")
    with pytest.raises(ValueError, match="3 lines is not a multiple of 5"):
        sources.read_flickr(tmp_path)


def test_superni_reader_accepts_gzip_and_names_bad_instances(tmp_path):
    task = {"Definition": ["Say hi."], "Domains": ["Dialogue"], "Categories": ["Misc."], "Source": ["x"],
            "Instances": [{"id": "1", "input": "hello", "output": ["hi", "hey"]}]}
    path = tmp_path / "task9_hi.json.gz"
    path.write_bytes(gzip.compress(json.dumps(task).encode()))
    read = sources.read_superni_task(path)
    assert (read.name, read.inputs, read.outputs, read.domains) == ("task9_hi", ("hello",), ("hi",), ("Dialogue",))
    task["Instances"].append({"id": "2", "input": "x", "output": []})
    (tmp_path / "task10.json").write_text(json.dumps(task))
    with pytest.raises(ValueError, match=r"task10\.json: Instances\[1\]: field 'output'"):
        sources.read_superni_task(tmp_path / "task10.json")
