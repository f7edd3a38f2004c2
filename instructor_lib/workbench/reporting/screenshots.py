"""Pictures of report figures for the README: a plotly figure of an executed notebook drawn into a PNG by
headless chromium (needs `chromium` on PATH; without it the pictures are left as they are)."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .html import PLOTLY_MIME, write_plotly_js
from .layout import REPORTS_DIR

# report -> (index of its plotly figure, width, height): pictured in reports/figures/ for the README
README_FIGURES = {"main_table": (0, 900, 450), "embedding_viz": (0, 1000, 500)}
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def figure_json(notebook_path: str | os.PathLike, index: int = 0) -> dict:
    """The `index`-th plotly figure (its JSON) among the outputs of an executed notebook."""
    import nbformat

    figures = [output["data"][PLOTLY_MIME] for cell in nbformat.read(notebook_path, as_version=4).cells
               if cell.cell_type == "code" for output in cell.outputs if PLOTLY_MIME in output.get("data", {})]
    if not -len(figures) <= index < len(figures):
        raise ValueError(f"{notebook_path} has {len(figures)} plotly figure(s); figure {index} does not exist")
    return figures[index]


def picture(figure: dict, png_path: str | os.PathLike, width: int, height: int, plotly_js: str | os.PathLike) -> Path:
    """Draw a plotly figure (JSON) into a PNG of `width` x `height` pixels with headless chromium."""
    import plotly.io as pio

    chromium = shutil.which("chromium")
    if chromium is None:
        raise FileNotFoundError("chromium is not on PATH (Debian: apt-get install -y chromium)")
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    figure = {**figure, "layout": {**figure.get("layout", {}), "width": width, "height": height}}
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "figure.html"
        page.write_text(f'<html><head><script src="{Path(plotly_js).resolve().as_uri()}"></script></head>'
                        f'<body style="margin:0">{pio.to_html(figure, include_plotlyjs=False, full_html=False, validate=False, config={"displayModeBar": False})}'
                        "</body></html>", encoding="utf-8")
        result = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={Path(tmp) / 'profile'}",
                                 "--allow-file-access-from-files", f"--window-size={width},{height}",
                                 "--virtual-time-budget=10000", f"--screenshot={png_path.resolve()}", page.as_uri()],
                                capture_output=True, text=True, timeout=120)
    if result.returncode != 0 or not png_path.exists():
        raise RuntimeError(f"chromium could not draw {png_path}: {result.stderr[-2000:]}")
    return png_path


def write_figures(reports_dir: str | os.PathLike = REPORTS_DIR, figures: dict = README_FIGURES, log=print) -> list[Path]:
    """Picture one figure of each report in `figures` (name -> (index, width, height)) into `figures/NAME.png`.

    Reports that were not run are skipped with a message; without chromium nothing is drawn, and it says so.
    """
    reports_dir = Path(reports_dir)
    if shutil.which("chromium") is None:
        log("figures: chromium is not on PATH, README pictures in reports/figures/ were not redrawn")
        return []
    written, plotly_js = [], write_plotly_js(reports_dir)  # once: it compares the 4.8 MB bundle with the file
    for name, (index, width, height) in figures.items():
        notebook = reports_dir / f"{name}.ipynb"
        if not notebook.exists():
            log(f"figures: no {notebook.name} in {reports_dir}, {name}.png not drawn")
            continue
        written.append(picture(figure_json(notebook, index), reports_dir / "figures" / f"{name}.png", width, height,
                               plotly_js))
    return written
