"""Issue 29's faithful mixture: super-NI's share of the records follows paper Table 5 over the datasets present,
and the one-batch floor never sets it."""
import pytest

from instructor_lib.config import data_dir
from instructor_lib.medi import build_medi
from instructor_lib.medi.build import superni_count
from instructor_lib.medi.sampling import (REFERENCE_SIZES, SUPERNI_TASK_SIZE, TABLE5_RULE, cap_for, select_superni,
                                          table5_superni_share, table5_superni_tasks)
from instructor_lib.medi.sources import read_superni_manifest
from instructor_lib.presets import medi_settings
from instructor_lib.tiny import tiny_bert
from instructor_lib.workbench.experiments import mixture_metrics

# the embedding datasets of the cpu mixture: every local source but specter_train_triples (no usable pair)
CPU_PRESENT = ["AllNLI", "squad_pairs", "NQ", "fever", "pubmed", "agnews", "amazon_review_2018", "code_search",
               "simple_wiki", "flickr30k_captions", "quora_duplicates", "S2ORC_title_abstract", "xsum"]


def test_the_table5_share_by_hand():
    # Table 5: super-NI 180,000; AllNLI 50,000, flickr30k 25,000, the duplicate-question stand-in 25,000
    assert table5_superni_share(["AllNLI", "flickr30k_captions", "quora_duplicates"]) == pytest.approx(180 / 280)
    # the cpu mixture's 13 datasets: 50+25+50+75+30+45+100+15+5+25+25+100+10 = 555 thousand
    assert sum(REFERENCE_SIZES[name] for name in CPU_PRESENT) == 555_000
    assert table5_superni_share(CPU_PRESENT) == pytest.approx(180 / 735)  # 24.5%
    # over all of MEDI (1,435,000 instances) it is 12.5%; the datasets we lack are not in the sum
    assert 180_000 / 1_435_000 == pytest.approx(0.1254, abs=1e-4)
    assert table5_superni_share(REFERENCE_SIZES) == pytest.approx(180 / 785)  # 22.9%


@pytest.mark.parametrize("task_cap", [2, 16, 64, 600])
def test_the_floor_never_sets_superni_share(task_cap):
    """Raising each task to one batch only lowers the count: super-NI's records stay at Table 5's share, within
    half a task (2: Table 5's 600 a task at the cpu scale, no floor; 64: the cpu batch)."""
    records = {name: 64 for name in CPU_PRESENT} | {"amazon_review_2018": 200, "specter_train_triples": 0}
    share = table5_superni_share(CPU_PRESENT)  # specter holds no record: not present
    target = share / (1 - share) * sum(records.values())
    count = table5_superni_tasks(records, task_cap)
    assert abs(count * task_cap - target) <= task_cap / 2 or count == 1
    # a floor raising the embedding datasets raises super-NI's records with them: the share holds
    raised = table5_superni_tasks({name: count_ * 2 for name, count_ in records.items()}, task_cap)
    assert abs(raised * task_cap - 2 * target) <= task_cap / 2 or raised == 1


def test_the_rule_needs_an_embedding_dataset_and_a_count_is_used_as_given():
    with pytest.raises(ValueError, match="give `superni_tasks` a count"):
        table5_superni_tasks({"AllNLI": 0}, 64)
    assert superni_count(30, {"AllNLI": 100}, 64) == (30, {})  # smoke and paper: a count, nothing recorded
    count, rule = superni_count("table5", {"AllNLI": 100, "specter_train_triples": 0}, 64)
    assert count == round(180 / 50 * 100 / 64) == 6
    assert rule == {"superni_rule": TABLE5_RULE, "superni_share_table5": pytest.approx(180 / 230), "superni_tasks_chosen": 6}


def test_fewer_tasks_are_chosen_as_before():
    """The rule only changes how many: the tasks are the first of the same round-robin order."""
    manifest = {row["task"]: row for row in read_superni_manifest(data_dir() / "train")}
    settings = medi_settings("cpu")
    thirty = select_superni(manifest, 30, [], {}, settings.min_cap, settings.max_definition_chars)
    for count in (1, 6, 12):
        assert set(select_superni(manifest, count, [], {}, settings.min_cap, settings.max_definition_chars)) <= set(thirty)


def test_the_cpu_mixture_holds_superni_at_its_table5_share(tmp_path):
    """The cpu preset's settings on the real local data (a tiny miner: counts do not depend on it)."""
    result = build_medi("cpu", cache_dir=tmp_path, model=tiny_bert(seed=0, max_seq_length=128))
    metrics, stats = mixture_metrics(result), result.stats
    superni = stats[stats["kind"] == "superni"]
    assert set(stats.loc[(stats["kind"] == "embedding") & (stats["records"] > 0), "dataset"]) == set(CPU_PRESENT)
    assert metrics["superni_share_table5"] == pytest.approx(180 / 735)
    assert result.config["superni_share_table5"] == pytest.approx(180 / 735)
    assert result.config["superni_tasks_chosen"] == metrics["superni_tasks"] == len(superni)
    task_cap = cap_for(SUPERNI_TASK_SIZE, 0.002, 64)
    assert task_cap == 64 and (superni["records"] == task_cap).all()  # one batch each
    # within half a batch of the records at Table 5's share, so within one batch's rounding of the share
    embedding = len(result.records) - metrics["superni_records"]
    share = metrics["superni_share_table5"]
    assert abs(metrics["superni_records"] - share / (1 - share) * embedding) <= task_cap / 2
    assert abs(metrics["superni_share"] - share) <= task_cap / len(result.records)
    assert metrics["superni_share"] < 0.3  # the 30 one-batch tasks of before made it 62%
