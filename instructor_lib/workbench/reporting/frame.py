"""The frame around every report: navigation, the headline box (what the report found, first), its provenance (commit,
CPU, precision, date, library hash, wall time, config hash, and a "stale" mark the index sets when the code or preset
moved on), and at the end every input in full (the evaluation suite with its instructions, the configuration).

Built from the run record and the metrics file alone, so a report's headline is its `claims.json` rows by
construction."""
from __future__ import annotations

import html
import re
from pathlib import Path

from ...files import atomic_write_text
from .html import content_start
from .tables import (claim_steps, claim_text, claims_html, control_text, interval_text, mapping_html, number,
                     paper_text, seeds_text)

STYLE = """<style>
.report-frame{font-family:sans-serif;font-size:14px;line-height:1.4;max-width:1250px}
.report-nav{margin:0 0 .6em 0} .report-nav a{margin-right:.9em} .report-nav b{margin-right:.9em}
.headline{border:2px solid #2a6;border-radius:6px;padding:.5em 1em;margin:0 0 .6em 0;background:#f6fbf7}
.headline h2{margin:.2em 0 .4em 0;font-size:1.25em} .headline p{margin:.3em 0}
table.report-table{border-collapse:collapse;margin:.3em 0} table.report-table.report-table td,table.report-table.report-table th{border:1px solid #ccc;
padding:3px 7px;vertical-align:top;text-align:left;white-space:normal} table.report-table.report-table td.num{white-space:nowrap;text-align:right}
.claims .claim-text{min-width:22em} .claims .interval{white-space:nowrap}
.verdict.reproduced{color:#070;font-weight:bold} .verdict.contradicted{color:#b00;font-weight:bold}
.verdict.inconclusive{color:#850;font-weight:bold} .verdict.untestable,.verdict.not.run{color:#555;font-weight:bold}
.provenance{color:#444;font-size:12.5px;margin:.2em 0 .8em 0} .stale-mark{color:#b00;font-weight:bold}
.inputs h2{font-size:1.2em;margin-top:1.5em}
</style>"""
STALE_BLOCK = re.compile(r"<!--stale-->.*?<!--/stale-->", re.S)


def navigation(name: str, names: list[str]) -> str:
    """Links to the index and to every other report, this one in bold."""
    links = [f"<b>{html.escape(other)}</b>" if other == name else f"<a href='{html.escape(other)}.html'>{html.escape(other)}</a>"
             for other in names]
    return f"<nav class='report-nav'><a href='index.html'>&larr; index of all reports</a> {' '.join(links)}</nav>"


VERDICT_RULE = ("reproduced: the 95% interval excludes 0 on the paper's side; contradicted: on the other side; "
                "inconclusive: it holds 0; untestable: the reference model (full MEDI with instructions) does not beat "
                "the backbone at this scale, its interval not above 0, so variants of it cannot test the paper; "
                "not run: left to make reproduce-all")


def reading(claims: list[dict]) -> str:
    """One sentence of reading: the report's first claim with our number, the paper's and the verdict, the control
    it rests on, then how the others came out."""
    first = claims[0]
    counts: dict[str, int] = {}
    for claim in claims:
        counts[claim["verdict"]] = counts.get(claim["verdict"], 0) + 1
    steps = claim_steps(first)
    control = f"; control (reference minus backbone) {control_text(first)}" if first.get("control") else ""
    return (f"{claim_text(first)}: {interval_text(first)} over seeds {seeds_text(first['seeds'])}"
            + (f" at {steps} training steps" if steps else "") + f" (paper: {paper_text(first)}){control}, "
            + f"{first['verdict']}. All {len(claims)} claims here: "
            + ", ".join(f"{count} {verdict}" for verdict, count in counts.items()) + f" ({VERDICT_RULE}).")


def headline_numbers(headline: dict) -> str:
    """A report's headline numbers (no claims) as a table with readable names."""
    return mapping_html({key.replace("_", " ").replace(".", " / "): value for key, value in headline.items()})


def suite_sentence(suite: dict | None) -> str:
    """Which evaluation suite the claims were scored on, in words."""
    if not suite:
        return ""
    tasks = suite.get("tasks", {})
    return (f"<p>Scored on the <b>{html.escape(suite['name'])}</b>: {len(tasks)} tasks "
            f"({html.escape(', '.join(tasks))}); subsample sizes and instructions under <a href='#inputs'>Inputs</a>.</p>")


def headline_box(name: str, written: dict) -> str:
    """The box a report opens with: its claims in full with the verdicts and one sentence of reading, or (a
    report that tests no claim) its headline numbers and the model it ran."""
    metrics = written.get("metrics", {})
    claims = metrics.get("claims", [])
    if claims:
        body = (f"<h2>{html.escape(name)}: the paper's claims at our scale</h2><p>{html.escape(reading(claims))}</p>"
                + claims_html(claims) + suite_sentence(written.get("suite")))
    else:
        model = written.get("config", {}).get("model") or written.get("config", {}).get("model_path")
        body = (f"<h2>{html.escape(name)}: headline numbers</h2>"
                + (f"<p>Model: <code>{html.escape(str(model))}</code></p>" if model else "")
                + headline_numbers(written.get("headline", {})))
    return f"<section class='headline'>{body}</section>"


def provenance_line(record: dict, written: dict) -> str:
    """Commit, CPU and threads, precision, date, library hash, wall time and the config hash of one report."""
    precision = record.get("precision", {})
    parts = [f"commit <code>{html.escape(str(record.get('commit') or 'unknown'))}</code>",
             f"CPU {html.escape(str(record.get('cpu', 'unknown')))} ({record.get('threads', '?')} threads)",
             f"precision {html.escape(str(precision.get('resolved', '?')))}",
             f"run {html.escape(str(record.get('started_at', '?')))}",
             f"library <code>{html.escape(record.get('config', {}).get('library_sha256', '?')[:12])}</code>",
             f"preset {html.escape(str(record.get('preset')))}",
             f"wall time {number(record.get('wall_s', 0.0) / 60)} min",
             f"config <code>{html.escape(str(written.get('config_hash') or record.get('config_hash')))}</code>"]
    return f"<p class='provenance'>{' &middot; '.join(parts)} <!--stale--><!--/stale--></p>"


def inputs_section(written: dict) -> str:
    """Every input in full at the end of the report: the evaluation suite with each task's subsample sizes and
    instruction per side, the configuration, the data files' hashes and the library versions."""
    parts = []
    suite = written.get("suite")
    if suite:
        parts.append(f"<h3>Evaluation suite: {html.escape(suite['name'])}</h3>" + mapping_html(suite["tasks"]))
    if written.get("config"):
        parts.append("<h3>Configuration</h3>" + mapping_html(written["config"]))
    if written.get("data_sha256"):
        parts.append("<h3>Data files (sha256)</h3>" + mapping_html(written["data_sha256"]))
    if written.get("versions"):
        parts.append("<h3>Library versions</h3>" + mapping_html(written["versions"]))
    return f"<section class='inputs' id='inputs'><h2>Inputs</h2>{''.join(parts)}</section>" if parts else ""


def report_frame(name: str, record: dict, written: dict, names: list[str]) -> tuple[str, str]:
    """The HTML put before a report's notebook output (navigation, headline box, provenance) and after it (inputs)."""
    top = f"{STYLE}<div class='report-frame'>{navigation(name, names)}{headline_box(name, written)}{provenance_line(record, written)}</div>"
    return top, f"<div class='report-frame'>{inputs_section(written)}</div>"


def stale_reasons(record: dict, library_sha256: str, preset: str) -> list[str]:
    """Why a report no longer shows what the current code would compute: another library or another preset."""
    reasons = []
    if record.get("config", {}).get("library_sha256") != library_sha256:
        reasons.append("written by another version of the library")
    if record.get("preset") != preset:
        reasons.append(f"preset {record.get('preset')}, not this folder's {preset}")
    return reasons


def mark_stale(html_path: str | Path, reasons: list[str]) -> bool:
    """Set (or clear, with no reasons) the stale mark in a report's provenance line; True when the page changed."""
    path = Path(html_path)
    page = path.read_text(encoding="utf-8")
    mark = (f"<span class='stale-mark'>stale: {html.escape('; '.join(reasons))} (run it again to refresh)</span>"
            if reasons else "")
    block = f"<!--stale-->{mark}<!--/stale-->"
    if STALE_BLOCK.search(page):
        updated = STALE_BLOCK.sub(lambda _: block, page, count=1)
    elif reasons:  # a page drawn before the frame existed: the mark goes first in its body
        start = content_start(page)
        updated = page[:start] + f"<p>{block}</p>" + page[start:]
    else:
        updated = page
    if updated == page:
        return False
    atomic_write_text(path, updated)
    return True
