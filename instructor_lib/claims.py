"""The claims table: a verdict on each of the paper's claims from the interval of our measured difference, and the
rows of `reports/claims.json`.

A row says what the paper claims, its number or direction, ours with its 95% interval, the seeds and training steps
it rests on, and its verdict. Two more fields make a verdict evidence rather than a sign (issue 29):
- `control`: for a comparison between trained variants (Figs. 3-6, the ablation notebook), the gain of its
  reference model (full MEDI with instructions, same steps, seeds and suite) over the backbone. Where that
  interval does not lie above 0, finetuning at this scale does not improve the backbone, so comparing variants of
  it cannot test the paper: the verdict is `untestable`. Table 2's claims are the finetuning effect itself (null).
- `paper_in_ci`: where the paper gives a number (Table 2), whether our interval holds it; "smaller than the
  paper's at this scale" is a finding. Null where the paper gives a direction only or the interval is undefined.
- `seeds_to_resolve`: for an inconclusive claim, the seeds at which the interval's half-width would fall to the
  observed difference if seeds kept spreading as they did: the scale that would settle it, at about even odds if
  the difference holds. Null for a decided, untestable or undefined one.
A claim whose experiment the default run leaves out (on demand: `make reproduce-all`) is listed as `not run`, with
no numbers, rather than run at a scale that cannot test it.
"""
from __future__ import annotations

import math
import os
from typing import Sequence

from .files import atomic_write_json, read_json
from .stats import Interval, interval_sd, seeds_needed

VERDICTS = ("reproduced", "inconclusive", "contradicted", "untestable", "not run")
CLAIM_FIELDS = ("claim", "paper", "ours", "ci_low", "ci_high", "seeds", "steps", "control", "paper_in_ci",
                "seeds_to_resolve", "verdict")
MOST_SEEDS = 1000  # beyond this, seeds_to_resolve is null: no affordable number of seeds settles the claim
CONTROL_FIELDS = ("ours", "ci_low", "ci_high")


def control_holds(control: Interval | dict | None) -> bool:
    """Whether a positive control passes: its 95% interval lies strictly above 0 (an Interval or a `control` dict)."""
    if isinstance(control, dict):
        return control["ci_low"] is not None and control["ci_low"] > 0
    return control is not None and control.defined and control.low > 0


def verdict(interval: Interval, paper_direction: int, control: Interval | None = None) -> str:
    """The verdict on a paper's claim, from the interval of our measured difference.

    Args:
        interval: the interval of the difference the claim is about (e.g. finetuned minus backbone).
        paper_direction: +1 when the paper says the difference is positive, -1 when negative.
        control: for a comparison between trained variants, the interval of the reference model's gain over the
            backbone (None: the claim is the finetuning effect itself, Table 2).
    Returns "untestable" when a control is given and its interval does not lie above 0; otherwise "reproduced"
    (the interval excludes 0 on the paper's side), "contradicted" (it excludes 0 on the other side) or
    "inconclusive" (it includes 0, touches it with a bound exactly 0, or is undefined).
    """
    if isinstance(paper_direction, bool) or paper_direction not in (1, -1):
        raise ValueError(f"paper_direction must be +1 or -1, got {paper_direction!r}")
    if control is not None and not control_holds(control):
        return "untestable"
    if not interval.excludes_zero():
        return "inconclusive"
    ours = 1 if interval.low > 0 else -1
    return "reproduced" if ours == paper_direction else "contradicted"


def seeds_to_resolve(interval: Interval, verdict_: str) -> int | None:
    """For an inconclusive verdict on a defined interval: the seeds whose 95% t-interval would be as narrow as the
    observed difference is far from 0, at the spread these seeds showed (None when the verdict is another, the
    interval undefined, the difference 0, or more than MOST_SEEDS would be needed)."""
    if verdict_ != "inconclusive" or not interval.defined or interval.mean == 0:
        return None
    return seeds_needed(interval_sd(interval), abs(interval.mean), MOST_SEEDS)


def paper_in_interval(paper, low: float | None, high: float | None) -> bool | None:
    """Whether [low, high] holds the paper's number (None: the paper gives a direction, or no interval)."""
    return low <= paper <= high if _is_number(paper) and low is not None else None


def row_interval(record: dict) -> Interval:
    """The interval a claims row rests on: ours, its bounds (nan where null) and the number of seeds."""
    low, high = (record["ci_low"], record["ci_high"]) if record["ci_low"] is not None else (math.nan, math.nan)
    return Interval(record["ours"], low, high, len(record["seeds"]))


def interval_fields(interval: Interval) -> dict:
    """{"ours", "ci_low", "ci_high"} of an interval as a claims row holds them (undefined bounds: None)."""
    return {"ours": float(interval.mean), "ci_low": float(interval.low) if interval.defined else None,
            "ci_high": float(interval.high) if interval.defined else None}


def claim_record(claim: str, paper, interval: Interval, seeds: Sequence[int], paper_direction: int, steps: int,
                 control: Interval | None = None) -> dict:
    """One row of the claims table.

    Args:
        claim: what the paper claims, in words (e.g. "Table 2: finetuning raises the average score").
        paper: the paper's number (e.g. 3.4) or direction in words (e.g. "mixed > either group").
        interval: our interval of the difference the claim is about.
        seeds: the training seeds the interval rests on.
        paper_direction: +1 / -1, the sign of the difference the paper reports (see `verdict`).
        steps: the training steps of the claim's models.
        control: the reference model's gain over the backbone, for a comparison between trained variants.
    Returns a dict with exactly the keys of CLAIM_FIELDS; undefined bounds are None (JSON null).
    """
    fields = interval_fields(interval)
    in_interval = paper_in_interval(paper, fields["ci_low"], fields["ci_high"])
    verdict_ = verdict(interval, paper_direction, control)
    record = {"claim": claim, "paper": paper, **fields, "seeds": [int(seed) for seed in seeds], "steps": steps,
              "control": interval_fields(control) if control is not None else None, "paper_in_ci": in_interval,
              "seeds_to_resolve": seeds_to_resolve(interval, verdict_), "verdict": verdict_}
    check_claim(record, f"claim {claim!r}")
    return record


def not_run_record(claim: str, paper, seeds: Sequence[int], steps: int) -> dict:
    """The row of a claim whose experiment the default run leaves out (on demand): its words, the paper's number or
    direction, the seeds and steps it would run with, no numbers, verdict "not run"."""
    record = {"claim": claim, "paper": paper, "ours": None, "ci_low": None, "ci_high": None,
              "seeds": [int(seed) for seed in seeds], "steps": steps, "control": None, "paper_in_ci": None,
              "seeds_to_resolve": None, "verdict": "not run"}
    check_claim(record, f"claim {claim!r}")
    return record


def write_claims(path: str | os.PathLike, records: Sequence[dict]) -> None:
    """Validate every record (see `read_claims`) and write the list as JSON to `path` atomically."""
    records = list(records)
    for index, record in enumerate(records):
        check_claim(record, f"claims record {index}")
    atomic_write_json(path, records)


def read_claims(path: str | os.PathLike) -> list[dict]:
    """Read a claims table written by `write_claims`; a bad record is a ValueError naming the file, record and field.

    Schema (a JSON list of objects, exactly the keys of CLAIM_FIELDS): claim (non-empty string), paper (number or
    string), ours (finite number; null only when not run), ci_low / ci_high (both numbers with ci_low <= ci_high,
    or both null), seeds (non-empty list of distinct integers), steps (positive integer), control (null or
    {"ours", "ci_low", "ci_high"} like ours), paper_in_ci (null, or whether the interval holds the paper's number),
    seeds_to_resolve (`seeds_to_resolve` of the interval over len(seeds) seeds),
    verdict (one of VERDICTS: "untestable" exactly when a control is given and its interval does not lie above 0;
    otherwise "inconclusive" exactly when the interval is null or includes 0; "not run" with no numbers).
    """
    records = read_json(path, advice="rewrite it with instructor_lib.claims.write_claims")
    if not isinstance(records, list):
        raise ValueError(f"{path}: a claims table is a JSON list of records, got {type(records).__name__}")
    for index, record in enumerate(records):
        try:
            check_claim(record, f"claims record {index}")
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
    return records


def check_claim(record, where: str) -> None:
    """Raise ValueError starting with `where` (e.g. "claims record 3") and naming the field when `record`
    breaks the claims schema (see `read_claims`)."""
    def fail(field: str, problem: str):
        raise ValueError(f"{where}: field {field!r} {problem}")

    if not isinstance(record, dict):
        raise ValueError(f"{where}: must be an object with keys {', '.join(CLAIM_FIELDS)}, "
                         f"got {type(record).__name__}")
    for field in CLAIM_FIELDS:
        if field not in record:
            fail(field, "is missing")
    for field in record:
        if field not in CLAIM_FIELDS:
            fail(field, f"is not part of the schema ({', '.join(CLAIM_FIELDS)})")
    if not isinstance(record["claim"], str) or not record["claim"].strip():
        fail("claim", f"must be a non-empty string, got {record['claim']!r}")
    if not (isinstance(record["paper"], str) or _is_number(record["paper"])):
        fail("paper", f"must be the paper's number or a string, got {record['paper']!r}")
    seeds = record["seeds"]
    if (not isinstance(seeds, list) or not seeds or not all(_is_int(seed) for seed in seeds)
            or len(set(seeds)) != len(seeds)):
        fail("seeds", f"must be a non-empty list of distinct integers, got {seeds!r}")
    if not _is_int(record["steps"]) or record["steps"] < 1:
        fail("steps", f"must be a positive integer (the training steps of the claim's models), got {record['steps']!r}")
    if record["verdict"] not in VERDICTS:
        fail("verdict", f"must be one of {', '.join(VERDICTS)}, got {record['verdict']!r}")
    if record["verdict"] == "not run":
        for field in ("ours", "ci_low", "ci_high", "control", "paper_in_ci", "seeds_to_resolve"):
            if record[field] is not None:
                fail(field, f"must be null for a claim that was not run, got {record[field]!r}")
        return
    _check_interval(record, "", fail)
    control = record["control"]
    if control is not None:
        if not isinstance(control, dict) or set(control) != set(CONTROL_FIELDS):
            fail("control", f"must be null or an object with keys {', '.join(CONTROL_FIELDS)}, got {control!r}")
        _check_interval(control, "control.", fail)
    _check_paper_in_ci(record, fail)
    _check_verdict(record, fail)
    expected = seeds_to_resolve(row_interval(record), record["verdict"])
    if record["seeds_to_resolve"] != expected or isinstance(record["seeds_to_resolve"], bool):
        fail("seeds_to_resolve", f"must be {expected} (from the interval over {len(record['seeds'])} seeds and the "
                                 f"verdict {record['verdict']!r}), got {record['seeds_to_resolve']!r}")


def _check_interval(values: dict, prefix: str, fail) -> None:
    """`ours` a finite number, `ci_low`/`ci_high` both numbers in order or both null."""
    if not _is_number(values["ours"]):
        fail(f"{prefix}ours", f"must be a finite number, got {values['ours']!r}")
    low, high = values["ci_low"], values["ci_high"]
    for field, bound in (("ci_low", low), ("ci_high", high)):
        if bound is not None and not _is_number(bound):
            fail(f"{prefix}{field}", f"must be a finite number or null, got {bound!r}")
    if (low is None) != (high is None):
        fail(f"{prefix}{'ci_low' if low is None else 'ci_high'}", "is null but the other bound is not (both or neither)")
    if low is not None and low > high:
        fail(f"{prefix}ci_low", f"is above ci_high ({low} > {high})")


def _check_paper_in_ci(record: dict, fail) -> None:
    low, high, paper = record["ci_low"], record["ci_high"], record["paper"]
    expected = paper_in_interval(paper, low, high)
    if record["paper_in_ci"] is not expected:
        fail("paper_in_ci", f"must be {expected} (the paper's {paper!r} against the interval "
                            f"{'null' if low is None else f'[{low}, {high}]'}), got {record['paper_in_ci']!r}")


def _check_verdict(record: dict, fail) -> None:
    control = record["control"]
    if control is not None and not control_holds(control):
        if record["verdict"] != "untestable":
            fail("verdict", f"must be 'untestable': the control's interval [{control['ci_low']}, {control['ci_high']}] "
                            f"does not lie above 0, got {record['verdict']!r}")
        return
    if record["verdict"] == "untestable":
        fail("verdict", "is 'untestable' but " + ("no control is given" if control is None else
                                                  "the control's interval lies above 0"))
    low, high = record["ci_low"], record["ci_high"]
    excludes_zero = low is not None and (low > 0 or high < 0)
    if (record["verdict"] == "inconclusive") == excludes_zero:
        interval = "null" if low is None else f"[{low}, {high}]"
        fail("verdict", f"is {record['verdict']!r} but the interval {interval} "
                        f"{'excludes' if excludes_zero else 'does not exclude'} 0")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
