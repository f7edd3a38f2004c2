"""The front page of a reports folder: `index.html` (the claims table, every report with its status, wall time
and headline numbers, a wall-time chart), `summary.json` (the same as data) and `claims.json` (every claim with
its verdict), all rebuilt from the run records and metrics files alone."""
from __future__ import annotations

import html
import json
import os
from datetime import datetime, timezone
from pathlib import Path

from ...files import atomic_write_json, atomic_write_text
from ...provenance import library_versions
from ...stats import CLAIM_FIELDS, write_claims
from .html import PLOTLY_JS, write_plotly_js
from .layout import CLAIMS_FILE, ON_DEMAND, REPORTS_DIR, report_order_key


def format_value(value) -> str:
    """A headline number as the index shows it: floats to 4 significant digits, anything else escaped."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def write_index(reports_dir: str | os.PathLike = REPORTS_DIR) -> Path:
    """Write `index.html` and `summary.json` from every `*.run.json` in `reports_dir` (in report order)."""
    import plotly.graph_objects as go
    import plotly.io as pio

    reports_dir = Path(reports_dir)
    records = [json.loads(path.read_text()) for path in reports_dir.glob("*.run.json")]
    records.sort(key=lambda record: report_order_key(record["name"]))
    rows, summary, claims = [], [], []
    for record in records:
        metrics_path = reports_dir / f"{record['name']}.metrics.json"
        written = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
        headline = written.get("headline", {})
        claims += [{**claim, "report": record["name"]} for claim in written.get("metrics", {}).get("claims", [])]
        precision = record.get("precision", {}).get("resolved", "")
        summary.append({key: record.get(key) for key in ("name", "preset", "status", "error", "wall_s", "config_hash", "html_bytes")}
                       | {"precision": precision}
                       | {"headline": headline})
        numbers = "<br>".join(f"{html.escape(key)}: <b>{format_value(value)}</b>" for key, value in headline.items())
        status = record["status"] if record["status"] == "ok" else f"<span class='bad' title='{html.escape(record['error'])}'>{record['status']}</span>"
        rows.append(f"<tr><td><a href='{record['name']}.html'>{record['name']}</a></td><td>{status}</td>"
                    f"<td>{record['preset']}</td><td>{precision}</td><td>{record['wall_s']:.0f} s</td><td>{numbers}</td>"
                    f"<td><code>{record['config_hash']}</code></td></tr>")
    # `make reproduce`'s total: an on-demand notebook (the pilot) is run apart, often on another day or machine
    total = sum(record["wall_s"] for record in records if record["name"] not in ON_DEMAND)
    on_demand = "".join(f", {record['name']} (on demand) {record['wall_s']:.0f} s" for record in records
                        if record["name"] in ON_DEMAND)
    figure = go.Figure(go.Bar(x=[record["wall_s"] for record in records], y=[record["name"] for record in records], orientation="h"))
    figure.update_layout(title="Wall time per notebook (s)", height=120 + 30 * len(records), width=700,
                         yaxis={"autorange": "reversed"}, margin={"l": 120, "r": 20, "t": 40, "b": 30})
    versions = ", ".join(f"{name} {version}" for name, version in library_versions().items())
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><script src="{PLOTLY_JS}"></script><title>INSTRUCTOR reproduction: reports</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}} .bad{{color:#b00;font-weight:bold}}
.reproduced{{color:#070}} .contradicted{{color:#b00;font-weight:bold}} .inconclusive{{color:#850}}</style>
</head><body>
<h1>INSTRUCTOR reproduction: reports</h1>
<p>{len(records)} notebooks, total wall time {total:.0f} s{on_demand}. Written {datetime.now(timezone.utc).isoformat(timespec="seconds")}.
Versions: {html.escape(versions)}.</p>
{_claims_html(claims)}
<table><tr><th>report</th><th>status</th><th>preset</th><th>precision</th><th>wall time</th><th>headline numbers</th><th>config hash</th></tr>
{chr(10).join(rows)}
</table>
{pio.to_html(figure, include_plotlyjs=False, full_html=False, div_id="wall-time")}
</body></html>
"""
    write_plotly_js(reports_dir)
    write_claims(reports_dir / CLAIMS_FILE, [{key: claim[key] for key in CLAIM_FIELDS} for claim in claims])
    atomic_write_json(reports_dir / "summary.json", {"total_wall_s": round(total, 2), "reports": summary}, indent=1)
    return atomic_write_text(reports_dir / "index.html", page)


def _claims_html(claims: list[dict]) -> str:
    """The claims table at the top of the index: each of the paper's claims, our interval, the verdict."""
    if not claims:
        return "<p>No claims were tested in these reports.</p>"

    def bound(value):
        return "undefined" if value is None else f"{value:.2f}"

    rows = [f"<tr><td>{html.escape(claim['claim'])}</td><td>{html.escape(str(claim['paper']))}</td>"
            f"<td>{claim['ours']:.2f}</td><td>[{bound(claim['ci_low'])}, {bound(claim['ci_high'])}]</td>"
            f"<td>{len(claim['seeds'])}</td><td class='{claim['verdict']}'>{claim['verdict']}</td>"
            f"<td><a href='{claim['report']}.html'>{claim['report']}</a></td></tr>" for claim in claims]
    counts = {verdict: sum(claim["verdict"] == verdict for claim in claims) for verdict in ("reproduced", "inconclusive", "contradicted")}
    return (f"<h2>The paper's claims at our scale</h2><p>{len(claims)} claims: " + ", ".join(f"{n} {v}" for v, n in counts.items())
            + f". Ours: the mean difference over training seeds with its 95% t-interval; <code>{CLAIMS_FILE}</code> holds the "
            "same table.</p><table><tr><th>claim</th><th>paper</th><th>ours</th><th>95% CI</th><th>seeds</th><th>verdict</th>"
            "<th>report</th></tr>" + "".join(rows) + "</table>")
