"""Table-2 aggregation on a hand-made result set."""
import pytest

from instructor_lib.evaluation.report import PAPER_TABLE2, aggregate, table2_markdown, tasks_markdown


def hand_made():
    return {
        "STS12": {"category": "STS", "score": 70.0},
        "STS13": {"category": "STS", "score": 80.0},
        "SciFact": {"category": "Retrieval", "score": 60.0},
        "Banking77Classification": {"category": "Classification", "score": 81.0},
        "EmotionClassification": {"category": "Classification", "score": 45.0},
        "AmazonCounterfactualClassification": {"category": "Classification", "score": 66.0},
    }


def test_category_and_overall_averages_match_hand_computation():
    result = aggregate(hand_made())
    assert result["categories"] == pytest.approx({"STS": 75.0, "Retrieval": 60.0, "Classification": 64.0})
    assert result["counts"] == {"Retrieval": 1, "Classification": 3, "STS": 2}
    # overall = mean over the 6 tasks (as in the paper), not the mean of the 3 category averages (66.33)
    assert result["average"] == pytest.approx((70 + 80 + 60 + 81 + 45 + 66) / 6)
    assert list(result["categories"]) == ["Retrieval", "Classification", "STS"]  # Table 2 column order


def test_unknown_category_is_rejected():
    with pytest.raises(ValueError, match="Bitext"):
        aggregate({"Tatoeba": {"category": "BitextMining", "score": 1.0}})


def test_markdown_tables_show_ours_next_to_published():
    scores = hand_made()
    results = {**aggregate(scores), "metadata": {"model": "m", "instructions": {"name": "none"}},
               "tasks": {name: {**entry, "status": "exact", "main_score": "x", "sizes": {"default": {"test": 3}}}
                         for name, entry in scores.items()}}
    table = table2_markdown(results)
    assert "| 75.00 |" in table and f"{PAPER_TABLE2['INSTRUCTOR-large (335M)']['STS']:.2f}" in table
    assert "STS (2)" in table
    rows = tasks_markdown(results, {"STS12": 72.5}).splitlines()
    assert "| STS12 | STS | exact | x | test 3 | 70.00 | 72.50 | -2.50 |" in rows
