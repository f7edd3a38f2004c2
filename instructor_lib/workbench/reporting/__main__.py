"""Run the notebooks with papermill and turn them into small static HTML reports with an index.

The command line of `instructor_lib.workbench.reporting` (see the package's docstring for what it writes):
`python -m instructor_lib.workbench.reporting --preset cpu [--only NAME ...] [--all] [--force] [--no-estimate]`; it first
prints its estimate of the run's wall time on this machine (`estimate`; `--no-estimate` skips it and the calibration
it may need); `--rerender` draws the reports' pages again from their records without running anything (after the
report views changed); `--all` also runs the figures the preset's budget leaves on demand (`make reproduce-all`).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ... import presets
from .layout import CACHE_DIR, NOTEBOOKS_DIR, reports_dir_for
from .run import data_or_fetch, rerender, run_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m instructor_lib.workbench.reporting", description=__doc__.split("\n")[0])
    parser.add_argument("--preset", choices=presets.NAMES, default="cpu", help="size of every run (default: cpu)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these notebooks (names without .ipynb)")
    parser.add_argument("--all", action="store_true", dest="everything",
                        help="also run the figures the preset's budget leaves on demand (make reproduce-all)")
    parser.add_argument("--force", action="store_true", help="run even when a report with the same config hash exists")
    parser.add_argument("--no-estimate", action="store_true",
                        help="start at once, without the estimate of the run's time (and the ~30 s calibration it may need)")
    parser.add_argument("--rerender", action="store_true",
                        help="draw the existing reports' HTML and the index again from their records; run nothing")
    parser.add_argument("--reports-dir", default=None,
                        help="output folder (default: reports/ for the cpu preset, reports/<preset>/ for the others)")
    parser.add_argument("--notebooks-dir", default=str(NOTEBOOKS_DIR))
    parser.add_argument("--cache-dir", default=str(CACHE_DIR), help="this machine's record of finished runs")
    args = parser.parse_args(argv)
    reports_dir = Path(args.reports_dir) if args.reports_dir else reports_dir_for(args.preset)
    if args.rerender:
        drawn = rerender(reports_dir, args.notebooks_dir, args.only, args.preset)
        print(f"drew {len(drawn)} reports again: {', '.join(drawn)}; index: {reports_dir / 'index.html'}")
        return 0
    if not data_or_fetch():
        return 1
    records = run_all(args.preset, args.only, reports_dir, args.notebooks_dir, args.force, args.cache_dir,
                      estimate=not args.no_estimate, everything=args.everything)
    print(f"index: {reports_dir / 'index.html'}; total {sum(r['wall_s'] for r in records):.0f} s")
    return 0 if all(record["status"] == "ok" for record in records) else 1


if __name__ == "__main__":
    sys.exit(main())
