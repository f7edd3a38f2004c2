"""Executed notebooks as small static HTML pages: inputs hidden, plotly figures drawn against one shared
plotly.js, the theme's styles in one shared stylesheet, widgets replaced by a note."""
from __future__ import annotations

import os
import re
from pathlib import Path

from ...files import atomic_write_text

PLOTLY_JS = "plotly.min.js"
NOTEBOOK_CSS = "notebook.css"  # nbconvert's JupyterLab theme (~270 KB), written once instead of into every page
HTML_LIMIT_BYTES = 1_000_000
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
PLOTLY_MIME = "application/vnd.plotly.v1+json"


def static_outputs(outputs: list, figure_ids: list[int]) -> list:
    """A cell's outputs for a static page: stderr dropped, plotly JSON drawn as HTML, widgets replaced by a note.

    `figure_ids` is a one-element counter shared across the notebook, so figure div ids are stable.
    """
    import plotly.io as pio

    kept = []
    for output in outputs:
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            continue
        data = output.get("data", {})
        if PLOTLY_MIME in data:
            figure_ids[0] += 1
            output["data"] = {"text/html": pio.to_html(data[PLOTLY_MIME], include_plotlyjs=False, full_html=False,
                                                       validate=False, div_id=f"figure-{figure_ids[0]}")}
        elif WIDGET_MIME in data:
            output["data"] = {"text/html": "<p><em>Interactive widget: open the notebook in Jupyter to use it.</em></p>"}
        kept.append(output)
    return kept


def export_html(notebook_path: str | os.PathLike, html_path: str | os.PathLike, plotly_src: str = PLOTLY_JS,
                frame: tuple[str, str] = ("", "")) -> int:
    """Write the static HTML of an executed notebook (inputs hidden); return its size in bytes.

    `frame` is HTML put before and after the notebook's output (see `frame.report_frame`).

    Plotly figures load `plotly_src` (relative to the HTML file) instead of embedding plotly.js, and the page's
    theme styles move to NOTEBOOK_CSS beside it (the same for every page). Raises
    ValueError when the page is larger than HTML_LIMIT_BYTES (the file is still written, to be looked at).
    """
    import nbformat
    from nbconvert import HTMLExporter

    notebook = nbformat.read(notebook_path, as_version=4)
    figure_ids = [0]
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = static_outputs(cell.outputs, figure_ids)
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    page, _ = exporter.from_notebook_node(notebook)
    # No widgets are left to need require.js, and plotly.js must load before any AMD loader or it hides from `window`.
    page = page.replace(f'<script src="{exporter.require_js_url}"></script>', "")
    page = page.replace("<head>", f'<head>\n<script src="{plotly_src}"></script>', 1)
    page = _wrap(page, *frame)
    html_path = Path(html_path)
    page = _share_styles(page, html_path.parent / NOTEBOOK_CSS)
    atomic_write_text(html_path, page)
    size = html_path.stat().st_size
    if size > HTML_LIMIT_BYTES:
        raise ValueError(f"{html_path} is {size} bytes, over the {HTML_LIMIT_BYTES}-byte limit: plot fewer points")
    return size


def content_start(page: str) -> int:
    """Where a page's content begins: just inside JupyterLab's <main> when there is one, else inside <body>."""
    opening = re.search(r"<main[^>]*>", page) or re.search(r"<body[^>]*>", page)
    return opening.end()


def _wrap(page: str, top: str, bottom: str) -> str:
    """Put `top` first in the page's content (see `content_start`) and `bottom` last."""
    start = content_start(page)
    closing = page.rindex("</main>") if "</main>" in page else page.rindex("</body>")
    return page[:start] + top + page[start:closing] + bottom + page[closing:]


def _share_styles(page: str, css_path: Path) -> str:
    """Move the `<style type="text/css">` blocks of the page's head into `css_path` and link it instead."""
    head_end = page.index("</head>")
    pattern = re.compile(r'<style type="text/css">(.*?)</style>\s*', re.S)
    css = "\n".join(match.group(1) for match in pattern.finditer(page, 0, head_end))
    if not css:
        return page
    if not css_path.exists() or css_path.read_text(encoding="utf-8") != css:
        atomic_write_text(css_path, css)
    head = pattern.sub("", page[:head_end])
    return head + f'<link rel="stylesheet" href="{css_path.name}"/>\n' + page[head_end:]


def write_plotly_js(reports_dir: str | os.PathLike) -> Path:
    """Write the bundled plotly.js into `reports_dir` once (rewritten only when the plotly version changed)."""
    from plotly.offline import get_plotlyjs

    path = Path(reports_dir) / PLOTLY_JS
    source = get_plotlyjs()
    if not path.exists() or path.read_text(encoding="utf-8") != source:
        atomic_write_text(path, source)
    return path
