"""instructor_lib.claims: the verdict rule's branches (positive control included), the claims schema, and the
paper's number against our interval."""
import json
import math

import pytest

from instructor_lib.claims import (CLAIM_FIELDS, check_claim, claim_record, control_holds, not_run_record, read_claims,
                                   seeds_to_resolve, verdict, write_claims)
from instructor_lib.stats import Interval, t_interval

ABOVE, HOLDS_ZERO, TOUCHES_ZERO = Interval(0.6, 0.2, 1.0, 3), Interval(0.1, -0.3, 0.5, 3), Interval(0.4, 0.0, 0.8, 3)


@pytest.mark.parametrize("low, high, direction, expected", [
    (0.1, 0.5, +1, "reproduced"), (-0.5, -0.1, -1, "reproduced"),
    (-0.5, -0.1, +1, "contradicted"), (0.1, 0.5, -1, "contradicted"),
    (-0.1, 0.5, +1, "inconclusive"), (-0.1, 0.5, -1, "inconclusive"),
    (0.0, 0.5, +1, "inconclusive"), (-0.5, 0.0, -1, "inconclusive"),  # touching 0 does not exclude it
    (math.nan, math.nan, +1, "inconclusive"),
])
def test_verdict_rule_without_a_control(low, high, direction, expected):
    assert verdict(Interval(0.3, low, high, 3), direction) == expected


@pytest.mark.parametrize("control", [HOLDS_ZERO, TOUCHES_ZERO, Interval(-0.6, -1.0, -0.2, 3), t_interval([0.8])])
@pytest.mark.parametrize("low, high", [(0.1, 0.5), (-0.5, -0.1), (-0.1, 0.5)])
def test_a_control_not_above_zero_makes_any_comparison_untestable(control, low, high):
    """Finetuning that does not beat the backbone (interval holding 0, touching it, below it, or undefined) cannot
    test a comparison of its variants, whatever that comparison's interval says."""
    assert not control_holds(control)
    assert verdict(Interval(0.3, low, high, 3), +1, control) == "untestable"


@pytest.mark.parametrize("low, high, expected", [(0.1, 0.5, "reproduced"), (-0.5, -0.1, "contradicted"),
                                                 (-0.1, 0.5, "inconclusive")])
def test_a_control_above_zero_leaves_the_rule_as_it_was(low, high, expected):
    assert control_holds(ABOVE) and control_holds({"ours": 0.6, "ci_low": 0.2, "ci_high": 1.0})
    assert verdict(Interval(0.3, low, high, 3), +1, ABOVE) == expected


@pytest.mark.parametrize("direction", [0, 2, True, "+1"])
def test_verdict_rejects_a_direction_that_is_not_a_sign(direction):
    with pytest.raises(ValueError, match="paper_direction"):
        verdict(Interval(0.3, 0.1, 0.5, 3), direction)


def good_records():
    return [claim_record("Table 2: finetuning raises the average", 3.4, Interval(0.39, -0.74, 1.51, 3), [1, 2, 3], +1, 65),
            claim_record("Fig. 4: super-NI narrows the gap", "smaller gap", Interval(-0.5, -0.9, -0.1, 3), [1, 2, 3], -1, 10,
                         ABOVE),
            claim_record("Fig. 6: one seed for mpnet", 1.2, t_interval([0.8]), [1], +1, 10),
            claim_record("Fig. 5: tag minus N/A", "tag > N/A", Interval(-0.3, -0.6, -0.1, 3), [1, 2, 3], +1, 10, HOLDS_ZERO),
            not_run_record("Fig. 3: both minus symmetric", "both > symmetric", [1, 2, 3], 40)]


def test_claim_record_has_exactly_the_schema_keys():
    table2, fig4, single, fig5, fig3 = good_records()
    assert table2 == {"claim": "Table 2: finetuning raises the average", "paper": 3.4, "ours": 0.39, "ci_low": -0.74,
                      "ci_high": 1.51, "seeds": [1, 2, 3], "steps": 65, "control": None, "paper_in_ci": False,
                      "seeds_to_resolve": 8, "verdict": "inconclusive"}
    assert fig4["verdict"] == "reproduced" and fig4["control"] == {"ours": 0.6, "ci_low": 0.2, "ci_high": 1.0}
    assert fig4["paper_in_ci"] is None  # the paper gives a direction, no number
    assert single["ci_low"] is None and single["ci_high"] is None and single["verdict"] == "inconclusive"
    assert single["paper_in_ci"] is None  # no interval to hold the paper's number
    assert fig5["verdict"] == "untestable"  # its own interval excludes 0, but the reference does not beat the backbone
    assert fig3 == {"claim": "Fig. 3: both minus symmetric", "paper": "both > symmetric", "ours": None, "ci_low": None,
                    "ci_high": None, "seeds": [1, 2, 3], "steps": 40, "control": None, "paper_in_ci": None,
                    "seeds_to_resolve": None, "verdict": "not run"}
    assert all(list(record) == list(CLAIM_FIELDS) for record in good_records())


def test_seeds_to_resolve_an_inconclusive_claim_by_hand():
    """[-0.74, 1.51] over 3 seeds: half-width 1.125 = t(0.975, 2) sd / sqrt 3, so sd = 1.125 sqrt 3 / 4.303 = 0.4528;
    t(0.975, n-1) 0.4528 / sqrt n first falls to 0.39 at n = 8 (2.365 x 0.4528 / 2.828 = 0.379; n = 7: 0.419)."""
    assert claim_record("x", 3.4, Interval(0.39, -0.74, 1.51, 3), [1, 2, 3], +1, 65)["seeds_to_resolve"] == 8
    assert claim_record("x", 3.4, Interval(0.6, 0.2, 1.0, 3), [1, 2, 3], +1, 65)["seeds_to_resolve"] is None  # decided
    assert claim_record("x", 3.4, Interval(0.0, -0.5, 0.5, 3), [1, 2, 3], +1, 65)["seeds_to_resolve"] is None  # no effect
    assert claim_record("x", 3.4, Interval(1e-4, -0.5, 0.5, 3), [1, 2, 3], +1, 65)["seeds_to_resolve"] is None  # > 1000
    untestable = claim_record("x", "x > y", Interval(0.39, -0.74, 1.51, 3), [1, 2, 3], +1, 10, HOLDS_ZERO)
    assert untestable["verdict"] == "untestable" and untestable["seeds_to_resolve"] is None


@pytest.mark.parametrize("paper, expected", [(0.39, True), (-0.74, True), (1.51, True), (1.52, False), (-0.75, False)])
def test_paper_in_ci_says_whether_our_interval_holds_the_papers_number(paper, expected):
    assert claim_record("Table 2: x", paper, Interval(0.39, -0.74, 1.51, 3), [1, 2, 3], +1, 65)["paper_in_ci"] is expected


def test_claims_round_trip(tmp_path):
    path = tmp_path / "reports" / "claims.json"
    write_claims(path, good_records())
    assert read_claims(path) == good_records()
    assert json.loads(path.read_text())[2]["ci_low"] is None  # strict JSON: null, never NaN


@pytest.mark.parametrize("index, field, value", [
    (1, "claim", ""), (1, "claim", 3), (1, "paper", None), (1, "paper", True), (1, "ours", float("nan")),
    (1, "ours", "0.4"), (1, "ci_low", "low"), (1, "ci_high", None), (1, "ci_low", 2.0), (1, "seeds", []),
    (1, "seeds", [1, 1]), (1, "seeds", [1.5]), (1, "seeds", 3), (1, "verdict", "proven"), (1, "verdict", "reproduced"),
    (1, "steps", 0), (1, "steps", None), (1, "steps", 10.0), (1, "control", {"ours": 1.0}),
    (1, "control", {"ours": 0.6, "ci_low": 0.9, "ci_high": 0.2}), (1, "paper_in_ci", True),
    (0, "paper_in_ci", True), (0, "paper_in_ci", None),  # the paper's 3.4 is outside [-0.74, 1.51]: must be False
    (3, "verdict", "reproduced"),  # a control holding 0: must be untestable
    (2, "verdict", "untestable"),  # no control: untestable is not an option
    (4, "ours", 0.3), (4, "control", {"ours": 0.6, "ci_low": 0.2, "ci_high": 1.0}),  # not run: no numbers
    (0, "seeds_to_resolve", 7), (0, "seeds_to_resolve", None), (1, "seeds_to_resolve", 3),  # must match the interval
])
def test_a_bad_record_is_named_by_index_and_field(tmp_path, index, field, value):
    records = good_records()
    if index == 1:  # an inconclusive interval for the fields checked against it
        records[1] = {**records[1], "verdict": "inconclusive", "ci_low": -0.9, "ci_high": 0.2,
                      "seeds_to_resolve": seeds_to_resolve(Interval(-0.5, -0.9, 0.2, 3), "inconclusive")}
        check_claim(records[1], "a valid record before the bad field")
    records[index] = {**records[index], field: value}
    with pytest.raises(ValueError, match=f"claims record {index}: field '{field}"):
        write_claims(tmp_path / "claims.json", records)
    raw = tmp_path / "raw.json"
    raw.write_text(json.dumps(records))
    with pytest.raises(ValueError, match=f"raw.json: claims record {index}: field '{field}"):
        read_claims(raw)
    assert not (tmp_path / "claims.json").exists()  # nothing written when a record is bad


def test_missing_and_unknown_fields_are_named(tmp_path):
    records = good_records()
    del records[0]["seeds"]
    with pytest.raises(ValueError, match="claims record 0: field 'seeds' is missing"):
        write_claims(tmp_path / "claims.json", records)
    records = good_records()
    records[2]["note"] = "extra"
    with pytest.raises(ValueError, match="claims record 2: field 'note' is not part of the schema"):
        write_claims(tmp_path / "claims.json", records)
    with pytest.raises(ValueError, match="claims record 0: must be an object"):
        write_claims(tmp_path / "claims.json", ["not a record"])
    (tmp_path / "object.json").write_text("{}")
    with pytest.raises(ValueError, match="JSON list"):
        read_claims(tmp_path / "object.json")
