"""MEDI json I/O, caps, task selection, variants, determinism and the leakage guard (smoke preset)."""
import json

import pytest

from instructor_lib.config import data_dir
from instructor_lib.instructions import SYMMETRIC, embedding_instructions
from instructor_lib.presets import medi_settings
from instructor_lib.medi import build_medi, canonical_variant, eval_overlap, load_medi, parse_variant, write_medi
from instructor_lib.medi.build import preset_settings
from instructor_lib.medi.leakage import eval_test_texts, normalise_text
from instructor_lib.medi.sampling import REFERENCE_SIZES, SUPERNI_TASK_SIZE, cap_for, select_superni
from instructor_lib.medi.sources import EMBEDDING_SOURCES

RECORD = {"query": ["Represent the q: ", "what is a cat"], "pos": ["Represent the d: ", "a cat is a pet"],
          "neg": ["Represent the d: ", "a car is a vehicle"], "task_name": "toy"}


# --------------------------------------------------------------------------------------------- json I/O
def test_round_trip_is_exact(tmp_path):
    path = write_medi([RECORD, {**RECORD, "task_name": "other"}], tmp_path / "medi.json")
    assert load_medi(path) == [RECORD, {**RECORD, "task_name": "other"}]
    first = path.read_bytes()
    write_medi(load_medi(path), path)
    assert path.read_bytes() == first


def test_reads_the_official_format(tmp_path):
    # medi-data.json as released: task_id, and a third 0/1 element after each text
    official = [{"query": ["Represent the Amazon title for retrieving relevant reviews; Input: ", "Nice", 0],
                 "pos": ["Represent the Amazon review for retrieval; Input: ", "Loved it.", 1],
                 "neg": ["Represent the Amazon review for retrieval; Input: ", "Broke fast.", 1], "task_id": 7}]
    path = tmp_path / "medi-data.json"
    path.write_text(json.dumps(official))
    assert load_medi(path) == [{"query": [official[0]["query"][0], "Nice"], "pos": [official[0]["pos"][0], "Loved it."],
                                "neg": [official[0]["neg"][0], "Broke fast."], "task_name": "7"}]


@pytest.mark.parametrize("broken, message", [
    ({k: v for k, v in RECORD.items() if k != "neg"}, "record 1 has no 'neg' field"),
    ({**RECORD, "pos": ["only one"]}, "record 1 field 'pos' must be a list"),
    ({**RECORD, "query": ["instr", 3]}, "record 1 field 'query' text must be a string"),
    ({k: v for k, v in RECORD.items() if k != "task_name"}, "record 1 has no 'task_name'"),
])
def test_validation_names_record_and_field(tmp_path, broken, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([RECORD, broken]))
    with pytest.raises(ValueError, match=message):
        load_medi(path)
    with pytest.raises(ValueError, match=message):
        write_medi([RECORD, broken], tmp_path / "out.json")


def test_not_a_list_or_not_json(tmp_path):
    (tmp_path / "a.json").write_text('{"query": 1}')
    with pytest.raises(ValueError, match="JSON list"):
        load_medi(tmp_path / "a.json")
    (tmp_path / "b.json").write_text("[{,]")
    with pytest.raises(ValueError, match="line 1"):
        load_medi(tmp_path / "b.json")


# ------------------------------------------------------------------------------------------- caps, choice
def test_caps_are_proportional_to_reference_sizes():
    assert cap_for(87_599, 0.001) == 88               # ceil(87.599)
    # paper Table 5 at scale 1: AllNLI 50,000, fever 75,000, simple_wiki 5,000; super-NI 180,000 over 300 tasks
    assert [REFERENCE_SIZES[name] for name in ("AllNLI", "fever", "simple_wiki")] == [50_000, 75_000, 5_000]
    assert SUPERNI_TASK_SIZE == 600 and cap_for(REFERENCE_SIZES["amazon_review_2018"], 0.002) == 200
    assert cap_for(500, 0.0001) == 1                  # never zero
    assert cap_for(87_599, 0.001, min_cap=64) == 88 and cap_for(500, 0.0001, min_cap=64) == 64  # a floor only
    assert set(REFERENCE_SIZES) == set(EMBEDDING_SOURCES)
    assert preset_settings(0.01).scale == 0.01 and preset_settings(0.01).miner == "default"  # a float scale: cpu settings
    with pytest.raises(ValueError, match="scale must be in"):
        preset_settings(2.0)
    with pytest.raises(ValueError, match="preset must be one of"):
        preset_settings("huge")


def test_superni_selection_round_robins_over_categories():
    manifest = {name: {"task": name, "instances_kept": kept, "categories": [category], "source": [source], "definition_chars": 100}
                for name, kept, category, source in [
                    ("task1_qa", 600, "QA", "squad"), ("task2_qa", 600, "QA", "squad"), ("task3_qa", 600, "QA", "x"),
                    ("task4_sent", 600, "Sentiment", "imdb"), ("task5_sent", 10, "Sentiment", "imdb"),
                    ("task6_emo", 600, "Sentiment", "emotion"), ("task1290_xsum_summarization", 600, "Sum", "xsum")]}
    excluded = {}
    # QA and Sentiment alternate: task1, task4, task2, then task6 (task5 is too small, xsum is ours) ...
    assert select_superni(manifest, 4, [], {}) == ["task1_qa", "task2_qa", "task4_sent", "task6_emo"]
    # ... unless task6 leaks into an evaluation task of the suite: then QA's next task comes in
    chosen = select_superni(manifest, 4, ["EmotionClassification"], excluded)
    assert chosen == ["task1_qa", "task2_qa", "task3_qa", "task4_sent"]
    assert list(excluded) == ["task6_emo"]
    # a larger floor (the preset's min_cap) also drops tasks too small to fill it
    manifest["task2_qa"]["instances_kept"] = 40
    assert select_superni(manifest, 4, [], {}, min_instances=64) == ["task1_qa", "task3_qa", "task4_sent", "task6_emo"]
    # ... and a length limit drops tasks whose Definition (the whole instruction) would fill the training window
    manifest["task3_qa"]["definition_chars"] = 900
    assert select_superni(manifest, 4, [], {}, max_definition_chars=200) == ["task1_qa", "task2_qa", "task4_sent", "task6_emo"]


@pytest.mark.parametrize("name", ["smoke", "cpu"])
def test_every_dataset_of_a_preset_fills_a_training_batch(name):
    """Batches come from one dataset and partial ones are dropped: a dataset below the batch size never trains."""
    from instructor_lib import training

    batch_size, medi = training.preset(name).batch_size, medi_settings(name)
    assert all(cap_for(size, medi.scale, medi.min_cap) >= batch_size for size in [1, *REFERENCE_SIZES.values()])


# ------------------------------------------------------------------------------------------- building
@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("medi-cache")


def smoke(cache, **kwargs):
    return build_medi("smoke", cache_dir=cache, superni_tasks=kwargs.pop("superni_tasks", 6), **kwargs)


@pytest.fixture(scope="module")
def full(cache, tmp_path_factory):
    out = tmp_path_factory.mktemp("medi") / "full.json"
    return smoke(cache, out=out), out


def test_smoke_build_respects_caps_and_labels(full):
    result, out = full
    stats = result.stats.set_index("dataset")
    for name, row in stats.iterrows():
        assert row["records"] <= row["cap"], name
        assert row["records"] == sum(r["task_name"] == name for r in result.records), name
    for name in EMBEDDING_SOURCES:
        # a pair holding an evaluation test text is skipped and the next one taken: the cap still fills
        expected = min(cap_for(REFERENCE_SIZES[name], 0.0002, min_cap=16),
                       stats.loc[name, "available"] - stats.loc[name, "dropped_eval_overlap"])
        assert stats.loc[name, "records"] + stats.loc[name, "unmined"] == expected, name
        assert stats.loc[name, "symmetric"] == ("symmetric" if name in SYMMETRIC else "asymmetric")
    assert (stats["kind"] == "superni").sum() == 6
    assert 100 <= len(result.records) <= 1000
    assert load_medi(out) == result.records
    assert out.with_suffix(".stats.csv").exists()
    meta = json.loads(out.with_suffix(".meta.json").read_text())
    assert meta["config"]["seed"] == 0 and meta["versions"]["torch"] and meta["data_hashes"]


def test_records_are_well_formed_triples(full):
    result, _ = full
    for record in result.records:
        assert record["pos"][1] != record["neg"][1]
        assert record["query"][1].strip() and record["neg"][1].strip()
    nq = [r for r in result.records if r["task_name"] == "NQ"]
    assert nq and all([r["query"][0], r["pos"][0]] == list(embedding_instructions("NQ")) for r in nq)
    superni = [r for r in result.records if r["task_name"].startswith("task")]
    assert superni and all(r["query"][0].startswith("Represent the example for the following task: ") for r in superni)
    assert all(r["query"][0] == r["pos"][0] == r["neg"][0] for r in superni)


def test_same_seed_is_byte_identical_other_seed_differs(full, cache, tmp_path):
    _, out = full
    again = smoke(cache, out=tmp_path / "again.json")
    assert (tmp_path / "again.json").read_bytes() == out.read_bytes()
    other = smoke(cache, seed=1, eval_tasks=[], variant="no_superni")
    assert other.records != [r for r in again.records if not r["task_name"].startswith("task")]


@pytest.mark.parametrize("variant", ["no_superni", "symmetric_only", "asymmetric_only", "no_instructions", "tag",
                                     "symmetric_only:none"])
def test_variants(cache, full, variant):
    result = smoke(cache, variant=variant, eval_tasks=[])
    names = {record["task_name"] for record in result.records}
    superni = {name for name in names if name.startswith("task")}
    if variant == "no_superni":
        assert not superni and names
    elif variant == "symmetric_only":
        assert superni and names - superni <= SYMMETRIC
    elif variant == "asymmetric_only":
        assert not superni and not names & SYMMETRIC
    elif variant == "symmetric_only:none":  # the symmetric group's triples, without instructions
        instructed = smoke(cache, variant="symmetric_only", eval_tasks=[]).records
        assert [[r[side][1] for side in ("query", "pos", "neg")] for r in result.records] == \
            [[r[side][1] for side in ("query", "pos", "neg")] for r in instructed]
        assert all(r[side][0] == "" for r in result.records for side in ("query", "pos", "neg"))
    elif variant == "no_instructions":
        assert all(r[side][0] == "" for r in result.records for side in ("query", "pos", "neg"))
        # the same triples as the full mixture under the same (empty) suite, only without instructions
        instructed = smoke(cache, eval_tasks=[]).records
        assert [[r[side][1] for side in ("query", "pos", "neg")] for r in result.records] == \
            [[r[side][1] for side in ("query", "pos", "neg")] for r in instructed]
    else:
        nq = next(r for r in result.records if r["task_name"] == "NQ")
        assert nq["query"][0] == "Natural Questions: "


def test_leakage_guard_excludes_sources_sharing_an_eval_pool(cache):
    result = smoke(cache, eval_tasks=["NQRetrieval", "QuoraRetrieval"], variant="no_superni")
    names = {record["task_name"] for record in result.records}
    assert "NQ" not in names and "quora_duplicates" not in names and "fever" in names
    assert set(result.excluded) == {"NQ", "quora_duplicates"}
    assert result.overlap["example"].tolist() == ["(no local data: not checked)"] * 2


def test_eval_overlap_finds_exact_text_after_normalising(tmp_path):
    task = tmp_path / "STSToy"
    task.mkdir()
    (task / "sts-test.csv").write_text('score,sentence1,sentence2\n4.0,"A man is playing a guitar.","Short"\n')
    (task / "sts-train.csv").write_text('score,sentence1,sentence2\n1.0,"A woman slices an onion now",x\n')
    (task / "SOURCE.md").write_text("Two dogs run in the park today\n")
    records = [{**RECORD, "query": ["", "a man is playing a guitar ."]},         # test text, other tokenisation
               {**RECORD, "pos": ["", "A woman slices an onion now"]},           # train split: not test data
               {**RECORD, "neg": ["", "Two dogs run in the park today"]}]        # documentation: not data
    table, flagged = eval_overlap(records, tmp_path, ["STSToy"])
    assert flagged == {0}
    assert table.loc[0, "overlapping_texts"] == 1 and table.loc[0, "test_texts"] == 1
    assert normalise_text("A man , is: PLAYING") == "a man is playing"


def test_eval_overlap_finds_a_long_test_text_inside_a_training_text(tmp_path):
    """super-NI prompts embed test sentences ("Sentence 1: ..."): a test text of >= 8 words inside a training
    text is found, on word boundaries only; a short one inside is a common phrase and is not."""
    task = tmp_path / "STSToy"
    task.mkdir()
    (task / "sts-test.csv").write_text('score,sentence1,sentence2\n'
                                       '4.0,"The company said its quarterly profit rose by ten percent.","A cat sat down"\n')
    records = [{**RECORD, "query": ["", "Sentence 1: The company said its quarterly profit rose by ten percent. "
                                        "Sentence 2: Profits grew."]},
               {**RECORD, "pos": ["", "Yesterday a cat sat down on the mat"]},              # short: exact only
               {**RECORD, "neg": ["", "The company said its quarterly profit rose by ten percentage points"]}]
    table, flagged = eval_overlap(records, tmp_path, ["STSToy"])
    assert flagged == {0}
    assert table.loc[0, "overlapping_texts"] == 1 and table.loc[0, "training_datasets"] == RECORD["task_name"]
    assert table.loc[0, "example"].startswith("the company said")


def test_real_overlap_is_reported_and_dropped(full):
    """flickr30k captions overlap the STS 'images' subsets (both from Flickr photos): found, reported, skipped."""
    result, _ = full
    tasks = sorted(p.name for p in (data_dir() / "eval").iterdir() if p.is_dir())
    assert set(result.overlap["eval_task"]) == set(tasks)
    eval_texts = set()
    for task in tasks:
        eval_texts |= eval_test_texts(data_dir() / "eval" / task)
    assert not any(normalise_text(r[s][1]) in eval_texts for r in result.records for s in ("query", "pos", "neg"))
    assert eval_overlap(result.records, data_dir() / "eval", tasks)[1] == set()  # nor contained in one
    skipped = result.stats.set_index("dataset")["dropped_eval_overlap"]
    assert skipped.sum() == 0 or result.overlap["overlapping_texts"].sum() > 0  # what was skipped is reported


@pytest.mark.slow
def test_cpu_preset_builds_a_few_thousand_records(tmp_path):
    """The default mixture (`make reproduce` scale): the real miner in float32, super-NI tasks of one batch each, as
    many as give super-NI its Table 5 share (tests/test_medi_share.py)."""
    result = build_medi("cpu", out=tmp_path / "cpu.json")
    summary = result.summary().set_index("dataset")
    assert 1_000 <= len(result.records) <= 10_000
    superni = result.stats[result.stats["kind"] == "superni"]
    assert len(superni) == result.config["superni_tasks_chosen"]
    assert summary.loc[f"super-NI ({len(superni)} tasks)", "records"] == superni["records"].sum()
    assert (superni["records"] >= 64).all()  # every task fills a training batch of the cpu preset
    assert (result.stats["records"] <= result.stats["cap"]).all()


def test_a_variant_is_a_selection_and_an_instruction_level():
    assert parse_variant("full") == ("full", "detailed") and parse_variant("no_instructions") == ("full", "none")
    assert parse_variant("tag") == ("full", "tag") and parse_variant("asymmetric_only:none") == ("asymmetric_only", "none")
    assert [canonical_variant(v) for v in ("detailed", "full:detailed", "none", "full:none", "symmetric_only:detailed")] == \
        ["full", "full", "no_instructions", "no_instructions", "symmetric_only"]
    for bad in ("everything", "full:loud", "symmetric:none"):
        with pytest.raises(ValueError, match="variant must be a selection"):
            parse_variant(bad)
