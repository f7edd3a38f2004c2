"""How reports show tables and claims (instructor_lib.workbench.reporting.tables): texts in full, two decimals, no
Python reprs, the steps of a claim in their own column."""
import numpy as np
import pandas as pd

from instructor_lib.workbench.reporting import tables

LONG = "Represent the Wikipedia question for retrieving supporting documents, a text longer than pandas' 50 characters: "


def test_numbers_print_to_two_decimals_and_small_ones_to_two_significant_digits():
    assert [tables.number(value) for value in (0.234567, 70.5, 5e-05, 0.0, 3, None, float("nan"))] == \
        ["0.23", "70.50", "5e-05", "0.00", "3", "n/a", "n/a"]
    assert tables.number(0.2076, signed=True) == "+0.21" and tables.number(-0.0267, signed=True) == "-0.03"
    assert tables.cell(np.float64(0.234567)) == "0.23" and tables.cell(np.int64(7)) == "7"


def test_show_keeps_every_text_and_nests_settings_without_reprs():
    frame = pd.DataFrame({"instruction": [LONG], "score": [np.float64(81.23456)]}, index=["NQ"])
    markup = tables.show(frame)._repr_html_()
    assert f"<td>{LONG.replace(chr(39), '&#x27;')}</td>" in markup and "<td class='num'>81.23</td>" in markup
    settings = {"lr": 5e-05, "seeds": [1, 2, 3], "suite": {"STSBenchmark": {"max_test": 300, "max_train": None},
                                                           "SciFact": {"max_test": 50, "max_train": None}},
                "train": {"steps": 65, "temperature": np.float64(0.05)}}
    markup = tables.show(settings)._repr_html_()
    assert "<tr><th>lr</th><td class='num'>5e-05</td></tr>" in markup and "<td>1, 2, 3</td>" in markup
    # a dict of dicts that share their keys is one table: a row per task, a column per limit
    assert "<th>max_test</th><th>max_train</th>" in markup and "<tr><th>SciFact</th><td class='num'>50</td><td>none</td></tr>" in markup
    assert "<tr><th>temperature</th><td class='num'>0.05</td></tr>" in markup
    for repr_start in ("np.float64(", "{'", "[1, 2, 3]"):
        assert repr_start not in markup


def test_claims_show_in_full_with_steps_seeds_and_interval():
    claim = {"claim": f"Table 2: {LONG} [65 steps]", "paper": 3.32, "ours": 0.20763, "ci_low": -0.02669, "ci_high": 0.44197,
             "seeds": [1, 2, 3, 4, 5], "verdict": "inconclusive"}
    markup = tables.claims_table([claim])._repr_html_()
    assert tables.claim_text(claim) == f"Table 2: {LONG}".rstrip() and tables.claim_steps(claim) == 65
    assert "<td class='interval'>+0.21 [-0.03, +0.44]</td>" in markup
    assert "<td class='verdict inconclusive'>inconclusive</td><td>65</td><td>1-5</td>" in markup
    assert "[65 steps]" not in markup and "<td>3.32</td>" in markup
    undefined = tables.interval_text({**claim, "ci_low": None, "ci_high": None})
    assert undefined == "+0.21 [interval undefined]"
    assert tables.seeds_text([1, 3]) == "1, 3" and tables.seeds_text([2, 3, 4]) == "2-4"
