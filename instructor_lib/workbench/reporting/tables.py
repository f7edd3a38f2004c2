"""How a report shows a table: every text in full, numbers to two decimals, nested settings as nested tables, never a
Python repr. `show` is what notebooks call; `claims_html` is the claims table that the notebooks, the headline box
of each report and the index share. Light on purpose, like `record`: it loads no papermill, nbconvert or nbformat."""
from __future__ import annotations

import html
import math
import re

STEPS_TAG = re.compile(r"\s*\[(\d+) steps\]$")  # how `experiments.compare.claim` ends a claim's words


class Table:
    """An HTML table a notebook displays (Jupyter calls `_repr_html_`)."""

    def __init__(self, markup: str):
        self.markup = markup

    def _repr_html_(self) -> str:
        return self.markup

    def __repr__(self) -> str:  # the text a terminal shows: the cells without markup
        return re.sub(r"<[^>]+>", " ", self.markup)


def number(value, signed: bool = False) -> str:
    """A number as reports print it: two decimals; a small nonzero value (a learning rate) in 2 significant digits;
    "n/a" for None or nan."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, bool) or isinstance(value, int):
        return str(value)
    value = float(value)
    if value != 0 and abs(value) < 0.01:
        return f"{value:+.2g}" if signed else f"{value:.2g}"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def cell(value) -> str:
    """One value as table-cell HTML: numbers by `number`, lists joined, dicts as nested tables, text escaped."""
    if isinstance(value, dict):
        return mapping_html(value) if value else "none"
    if isinstance(value, (list, tuple)):
        return ", ".join(cell(item) for item in value) if value else "none"
    if value is None:
        return "none"
    if isinstance(value, (int, float)) or type(value).__module__ == "numpy":
        return number(value.item() if hasattr(value, "item") else value)
    return html.escape(str(value))


def td(value) -> str:
    """A table cell; a number's cell does not wrap (a narrow column must not split "-1.00" over two lines)."""
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool) or type(value).__module__ == "numpy"
    return f"<td class='num'>{cell(value)}</td>" if numeric else f"<td>{cell(value)}</td>"


def mapping_html(mapping: dict) -> str:
    """A dict as a table: one row per key; a dict of dicts that share their keys (e.g. a suite: task -> limits) as
    one table with those keys as columns."""
    values = list(mapping.values())
    if values and all(isinstance(value, dict) and value for value in values):
        columns = list(dict.fromkeys(key for value in values for key in value))
        if all(not isinstance(item, dict) for value in values for item in value.values()):
            head = "".join(f"<th>{html.escape(str(column))}</th>" for column in columns)
            rows = "".join(f"<tr><th>{html.escape(str(key))}</th>" + "".join(td(value.get(column)) for column in columns)
                           + "</tr>" for key, value in mapping.items())
            return f"<table class='report-table'><tr><th></th>{head}</tr>{rows}</table>"
    rows = "".join(f"<tr><th>{html.escape(str(key))}</th>{td(value)}</tr>" for key, value in mapping.items())
    return f"<table class='report-table'>{rows}</table>"


def frame_html(frame) -> str:
    """A pandas DataFrame as a table: its index as the first column, every cell by `cell`."""
    head = "".join(f"<th>{html.escape(str(column))}</th>" for column in frame.columns)
    rows = "".join(f"<tr><th>{html.escape(str(index))}</th>" + "".join(td(value) for value in row)
                   + "</tr>" for index, row in zip(frame.index, frame.itertuples(index=False)))
    return f"<table class='report-table'><tr><th>{html.escape(str(frame.index.name or ''))}</th>{head}</tr>{rows}</table>"


def show(value) -> Table:
    """A DataFrame, a dict or a list of dicts as a readable table (full texts, two decimals)."""
    if hasattr(value, "itertuples"):
        return Table(frame_html(value))
    if isinstance(value, dict):
        return Table(mapping_html(value))
    if isinstance(value, (list, tuple)) and all(isinstance(item, dict) for item in value):
        return Table(mapping_html({index + 1: item for index, item in enumerate(value)}))
    raise TypeError(f"show takes a DataFrame, a dict or a list of dicts, got {type(value).__name__}")


def claim_text(claim: dict) -> str:
    """The claim's words without the steps tag the experiments append."""
    return STEPS_TAG.sub("", claim["claim"])


def claim_steps(claim: dict) -> int | None:
    """The training steps of the claim's models: its `steps` field, else the tag its words end with."""
    if claim.get("steps") is not None:
        return claim["steps"]
    tag = STEPS_TAG.search(claim["claim"])
    return int(tag.group(1)) if tag else None


def seeds_text(seeds) -> str:
    """Seeds as "1-5" when consecutive, else listed."""
    seeds = list(seeds)
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}-{seeds[-1]}"
    return ", ".join(str(seed) for seed in seeds) or "none"


def interval_text(claim: dict) -> str:
    """Ours with its 95% interval: "+0.21 [-0.03, +0.44]" ("not run" for a claim left to `make reproduce-all`)."""
    if claim["ours"] is None:
        return "not run"
    if claim.get("ci_low") is None:
        return f"{number(claim['ours'], signed=True)} [interval undefined]"
    return f"{number(claim['ours'], signed=True)} [{number(claim['ci_low'], signed=True)}, {number(claim['ci_high'], signed=True)}]"


def paper_text(claim: dict) -> str:
    """The paper's number or direction; a number with where it lies against our interval ("above ours")."""
    paper = claim["paper"]
    if not isinstance(paper, (int, float)):
        return str(paper)
    where = {True: "within ours", False: "above ours" if claim["ci_high"] is not None and paper > claim["ci_high"]
             else "below ours"}.get(claim.get("paper_in_ci"))
    return number(paper) + (f" ({where})" if where else "")


def control_text(claim: dict) -> str:
    """The reference model's gain over the backbone that a comparison of trained variants rests on, or why none."""
    if "control" not in claim:  # a row written before claims held their controls
        return "not recorded"
    control = claim["control"]
    if control is None:
        return "not run" if claim["ours"] is None else "none needed"
    return interval_text(control)


def settle(claim: dict) -> str:
    """Under an inconclusive verdict, the seeds that would settle it at the spread observed (`claims.seeds_to_resolve`)."""
    seeds = claim.get("seeds_to_resolve")
    return f"<br><span class='settle'>~{seeds} seeds would settle it</span>" if seeds else ""


def claims_html(claims: list[dict], report_column: bool = False) -> str:
    """The claims as a table: the claim in full, the paper's number (and whether our interval holds it) or direction,
    ours with its 95% interval, the control (the reference's gain over the backbone, for comparisons between trained
    variants), the verdict, steps and seeds (and, on the index, the report it comes from)."""
    head = ("<tr><th>claim</th><th>paper</th><th>ours [95% CI]</th><th>control: reference minus backbone</th>"
            "<th>verdict</th><th>steps</th><th>seeds</th>" + ("<th>report</th>" if report_column else "") + "</tr>")
    rows = []
    for claim in claims:
        report = (f"<td><a href='{html.escape(claim['report'])}.html'>{html.escape(claim['report'])}</a></td>"
                  if report_column else "")
        rows.append(f"<tr><td class='claim-text'>{html.escape(claim_text(claim))}</td>"
                    f"<td>{html.escape(paper_text(claim))}</td>"
                    f"<td class='interval'>{interval_text(claim)}</td><td class='interval'>{control_text(claim)}</td>"
                    f"<td class='verdict {html.escape(claim['verdict'])}'>{html.escape(claim['verdict'])}{settle(claim)}</td>"
                    f"<td>{claim_steps(claim) or 'n/a'}</td><td>{seeds_text(claim['seeds'])}</td>{report}</tr>")
    return f"<table class='report-table claims'>{head}{''.join(rows)}</table>"


def claims_table(claims: list[dict]) -> Table:
    """A report's claims (`stats.claim_record` rows) as a table, each in full (see `claims_html`)."""
    return Table(claims_html(claims))
