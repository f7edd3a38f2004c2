"""The front page of a reports folder: `index.html` (the claims grouped by the paper's table and figure, every
report with its status, stale mark, provenance and headline numbers with their steps and seeds, a wall-time chart),
`summary.json` (the same as data) and `claims.json` (every claim with its verdict), all rebuilt from the run records
and metrics files alone."""
from __future__ import annotations

import html
import json
import os
from datetime import datetime, timezone
from pathlib import Path

from ...files import atomic_write_json, atomic_write_text
from ...provenance import library_sha256, library_versions
from ...claims import CLAIM_FIELDS, paper_in_interval, row_interval, seeds_to_resolve, write_claims
from .budget import not_run_claims, plan
from .frame import STYLE, VERDICT_RULE, headline_numbers, mark_stale, stale_reasons
from .html import PLOTLY_JS, write_plotly_js
from .tables import claim_steps, claims_html, number, seeds_text
from .layout import CLAIMS_FILE, ON_DEMAND, REPORTS_DIR, report_order_key


def claim_group(claim: dict) -> str:
    """The table or figure of the paper a claim belongs to: the words before its first colon ("Table 2")."""
    head, colon, _ = claim["claim"].partition(":")
    return head.strip() if colon else "other"


def claims_section(claims: list[dict]) -> str:
    """The claims at the top of the index, grouped by the paper's table and figure, each with steps and seeds."""
    if not claims:
        return "<p>No claims were tested in these reports.</p>"
    groups: dict[str, list[dict]] = {}
    for claim in claims:
        groups.setdefault(claim_group(claim), []).append(claim)
    counts: dict[str, int] = {}
    for claim in claims:
        counts[claim["verdict"]] = counts.get(claim["verdict"], 0) + 1
    parts = [f"<section class='headline'><h2>The paper's claims at our scale</h2><p>{len(claims)} claims: "
             + ", ".join(f"{count} {verdict}" for verdict, count in counts.items())
             + f". Ours: the mean paired difference over training seeds with its 95% t-interval, the steps each "
             f"model was trained and the seeds; a comparison between trained variants rests on its control, the "
             f"reference model's gain over the backbone ({html.escape(VERDICT_RULE)}). <code>{CLAIMS_FILE}</code> "
             "holds the same rows.</p>"]
    for group, rows in groups.items():
        parts.append(f"<h3>{html.escape(group)}</h3>" + claims_html(rows, report_column=True))
    return "".join(parts) + "</section>"


def claim_row(claim: dict, report: str) -> dict:
    """A claim of a report's metrics as a claims-table row, with the report it comes from. A row written before the
    schema held `steps`, `control`, `paper_in_ci` and `seeds_to_resolve` (a report of an older library, marked stale)
    gets its steps from its words and the last two computed from its interval; its control shows as not recorded
    (null in claims.json)."""
    row = {**claim, "steps": claim_steps(claim), "report": report}
    if "paper_in_ci" not in claim:
        row |= {"paper_in_ci": paper_in_interval(claim["paper"], claim["ci_low"], claim["ci_high"]),
                "seeds_to_resolve": seeds_to_resolve(row_interval(claim), claim["verdict"])}
    return row


def report_claims(records: list[dict], reports_dir: Path, preset: str | None, current_library: str) -> list[dict]:
    """Every claim of the reports in `records` (in report order), then, as "not run" rows, the claims of each figure
    the preset's budget leaves on demand (`budget.plan`) that has no current report of this preset."""
    claims, current = [], set()
    for record in records:
        metrics_path = reports_dir / f"{record['name']}.metrics.json"
        written = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
        if not stale_reasons(record, current_library, preset):
            current.add(record["name"])
        claims += [claim_row(claim, record["name"]) for claim in written.get("metrics", {}).get("claims", [])]
    if preset is None:
        return claims
    left_out = [name for name in plan(preset).on_demand if name not in current]
    claims = [claim for claim in claims if claim["report"] not in left_out]
    return claims + [{**claim, "report": name} for name in left_out for claim in not_run_claims(preset, [name])]


def scale_of(written: dict) -> str:
    """The training steps and seeds a report's numbers rest on, in words ("" when it trained nothing)."""
    metrics, config = written.get("metrics", {}), written.get("config", {})
    steps = metrics.get("steps", config.get("train", {}).get("steps") if isinstance(config.get("train"), dict) else None)
    seeds = metrics.get("seeds") or ([config["train"]["seed"]] if isinstance(config.get("train"), dict) else None)
    words = ([f"{steps} steps"] if isinstance(steps, int) else []) + ([f"seeds {seeds_text(seeds)}"] if seeds else [])
    return ", ".join(words)


def report_row(record: dict, written: dict, stale: list[str]) -> str:
    """One report's row: link, status (and stale mark), commit, preset, precision, wall time, headline numbers
    with the steps and seeds they rest on, config hash."""
    name = html.escape(record["name"])
    status = record["status"] if record["status"] == "ok" else f"<span class='bad' title='{html.escape(record['error'])}'>{record['status']}</span>"
    if stale:
        status += f"<br><span class='stale-mark'>stale: {html.escape('; '.join(stale))}</span>"
    numbers = headline_numbers(written.get("headline", {})) if written.get("headline") else ""
    scale = scale_of(written)
    return (f"<tr><td><a href='{name}.html'>{name}</a></td><td>{status}</td><td><code>{html.escape(str(record.get('commit') or 'unknown'))}</code></td>"
            f"<td>{html.escape(str(record['preset']))}</td><td>{html.escape(record.get('precision', {}).get('resolved', ''))}</td>"
            f"<td>{number(record['wall_s'] / 60)} min</td><td>{numbers}{f'<p>{html.escape(scale)}</p>' if scale else ''}</td>"
            f"<td><code>{html.escape(str(written.get('config_hash') or record['config_hash']))}</code></td></tr>")


def summary_calibration(records: list[dict], new: dict | None, previous: dict | None) -> dict | None:
    """The calibration `summary.json` keeps (`estimate.calibrate`'s, as a record): that of the machine the reports'
    wall times were measured on, against which another machine's estimate scales them. `new` (this run's) when
    most reports ran on its CPU and threads, else `previous` (the one the summary held)."""
    machines = [(record.get("cpu"), record.get("threads")) for record in records]
    if new and machines and max(set(machines), key=machines.count) == (new["cpu"], new["threads"]):
        return new
    return previous


def write_index(reports_dir: str | os.PathLike = REPORTS_DIR, preset: str | None = None,
                calibration: dict | None = None) -> Path:
    """Write `index.html`, `summary.json` and `claims.json` from every `*.run.json` in `reports_dir` (in report
    order), and set each report's stale mark: a report written by another library version, or for another preset
    than `preset` (default: the one most reports were run with), says so on its page and here. `calibration`:
    this machine's, measured before the run (`summary_calibration` says whether the summary keeps it)."""
    import plotly.graph_objects as go
    import plotly.io as pio

    reports_dir = Path(reports_dir)
    records = [json.loads(path.read_text()) for path in reports_dir.glob("*.run.json")]
    records.sort(key=lambda record: report_order_key(record["name"]))
    if preset is None and records:
        presets_seen = [record["preset"] for record in records]
        preset = max(set(presets_seen), key=presets_seen.count)
    current_library = library_sha256()
    rows, summary = [], []
    claims = report_claims(records, reports_dir, preset, current_library)
    for record in records:
        metrics_path = reports_dir / f"{record['name']}.metrics.json"
        written = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
        stale = stale_reasons(record, current_library, preset)
        if (reports_dir / f"{record['name']}.html").exists():
            mark_stale(reports_dir / f"{record['name']}.html", stale)
        summary.append({key: record.get(key) for key in ("name", "preset", "status", "error", "wall_s", "config_hash", "html_bytes", "commit", "cpu", "threads")}
                       | {"precision": record.get("precision", {}).get("resolved", ""), "stale": stale,
                          "headline": written.get("headline", {}), "scale": scale_of(written)})
        rows.append(report_row(record, written, stale))
    # `make reproduce`'s total: an on-demand notebook (the pilot) is run apart, often on another day or machine
    apart = set(ON_DEMAND) | set(plan(preset).on_demand if preset else ())
    total = sum(record["wall_s"] for record in records if record["name"] not in apart)
    on_demand = "".join(f", {html.escape(record['name'])} (on demand) {number(record['wall_s'] / 60)} min" for record in records
                        if record["name"] in apart)
    if preset and plan(preset).on_demand:
        on_demand += (f". On demand (make reproduce-all): {html.escape(', '.join(plan(preset).on_demand))}, at "
                      f"{plan(preset).figure_steps} steps: {html.escape(plan(preset).why_on_demand())}")
    figure = go.Figure(go.Bar(x=[record["wall_s"] / 60 for record in records], y=[record["name"] for record in records], orientation="h"))
    figure.update_layout(title="Wall time per notebook (minutes)", height=120 + 30 * len(records), width=700,
                         yaxis={"autorange": "reversed"}, margin={"l": 120, "r": 20, "t": 40, "b": 30})
    versions = ", ".join(f"{name} {version}" for name, version in library_versions().items())
    machines = sorted({f"{record.get('cpu', 'unknown CPU')} ({record.get('threads', '?')} threads)" for record in records})
    commits = sorted({str(record.get("commit") or "unknown") for record in records})
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><script src="{PLOTLY_JS}"></script><title>INSTRUCTOR reproduction: reports</title>
<style>body{{margin:2em}} .bad{{color:#b00;font-weight:bold}}</style>{STYLE}
</head><body><div class='report-frame'>
<h1>INSTRUCTOR reproduction: reports</h1>
{claims_section(claims)}
<p class='provenance'>{len(records)} notebooks of preset {html.escape(str(preset))}, {number(total / 60)} min of `make reproduce`{on_demand}.
Commit {html.escape(', '.join(commits))}; {html.escape('; '.join(machines))}; library <code>{current_library[:12]}</code>;
index written {datetime.now(timezone.utc).isoformat(timespec="seconds")}. Versions: {html.escape(versions)}.</p>
<h2>Reports</h2>
<table class='report-table'><tr><th>report</th><th>status</th><th>commit</th><th>preset</th><th>precision</th><th>wall time</th><th>headline numbers</th><th>config hash</th></tr>
{chr(10).join(rows)}
</table>
{pio.to_html(figure, include_plotlyjs=False, full_html=False, div_id="wall-time")}
</div></body></html>
"""
    write_plotly_js(reports_dir)
    write_claims(reports_dir / CLAIMS_FILE, [{key: claim.get(key) for key in CLAIM_FIELDS} for claim in claims])
    previous = json.loads((reports_dir / "summary.json").read_text()).get("calibration") \
        if (reports_dir / "summary.json").exists() else None
    kept = summary_calibration(records, calibration, previous)
    atomic_write_json(reports_dir / "summary.json", {"total_wall_s": round(total, 2), "reports": summary}
                      | ({"plan": plan(preset).record()} if preset else {}) | ({"calibration": kept} if kept else {}),
                      indent=1)
    return atomic_write_text(reports_dir / "index.html", page)
