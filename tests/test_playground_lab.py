"""The playground notebook in a real JupyterLab, driven by headless Chromium (Debian's package) through playwright.

The server runs on 127.0.0.1 (free port, token, temp root holding a copy of the notebook with the smoke preset
injected as papermill does), with a kernel spec that points at this interpreter and this checkout.
"""
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

from instructor_lib.workbench import widgets
from instructor_lib.config import PROJECT_ROOT
from instructor_lib.tiny import tiny_bert

pytestmark = pytest.mark.slow  # starts JupyterLab, a kernel and a browser: about a minute

NOTEBOOK = PROJECT_ROOT / "notebooks" / "playground.ipynb"
STARTUP_S = 120
LONG_A = ("Represent the long and detailed scientific passage about protein folding and enzyme kinetics "
          "for retrieving the supporting documents that answer the question: ")[:150]
LONG_B = ("Given a question about the financial performance of a company, represent the news article "
          "for retrieving the passages that answer the question well and fully: ")[:150]
# The Playground cell's first plotly figure: its traces' z matrices, its title annotations, its row labels.
FIGURE_STATE = """cell => {
    const plot = cell.querySelector('.js-plotly-plot');
    if (!plot || !plot._fullData) return null;
    // _fullData: the traces as drawn, with plotly.py's base64 arrays decoded
    return {z: plot._fullData.map(trace => Array.from(trace.z, row => Array.from(row))),
            y: Array.from(plot._fullData[0].y),
            titles: (plot.layout.annotations || []).map(annotation => annotation.text)};
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_notebook_copy(root):
    """The committed notebook with `preset = "smoke"` injected after its parameters cell (papermill's own way)."""
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    notebook = parameterize_notebook(load_notebook_node(str(NOTEBOOK)), {"preset": "smoke"})
    nbformat.write(notebook, root / NOTEBOOK.name)
    return json.loads((root / NOTEBOOK.name).read_text())


def isolated_jupyter_dirs(base) -> dict:
    """Config, data and runtime dirs of our own: a python3 kernel spec for this interpreter and checkout, and the
    news pop-up off (it would fetch from the internet and cover the page)."""
    kernel = base / "data" / "kernels" / "python3"
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "Python 3",
        "language": "python", "env": {"PYTHONPATH": str(PROJECT_ROOT), "OMP_NUM_THREADS": "1"}}))
    labconfig = base / "config" / "labconfig"
    labconfig.mkdir(parents=True)
    (labconfig / "page_config.json").write_text(json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    return {"JUPYTER_CONFIG_DIR": str(base / "config"), "JUPYTER_DATA_DIR": str(base / "data"),
            "JUPYTER_RUNTIME_DIR": str(base / "runtime"), "IPYTHONDIR": str(base / "ipython")}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A running JupyterLab serving a temp root with the notebook copy; yields (base url, token)."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    root.mkdir()
    write_notebook_copy(root)
    port, token = free_port(), secrets.token_hex(16)
    log = open(base / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         f"--LabApp.workspaces_dir={base / 'workspaces'}", f"--LabApp.user_settings_dir={base / 'settings'}"],
        env=os.environ | isolated_jupyter_dirs(base), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_S
    while True:
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"JupyterLab did not start:\n{(base / 'server.log').read_text()[-3000:]}")
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    yield url, token
    server.terminate()
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture(scope="module")
def page(lab):
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "chromium is not on PATH (Debian: apt-get install -y chromium)"
    url, token = lab
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(STARTUP_S * 1000)
        page.goto(f"{url}/lab/tree/{NOTEBOOK.name}?token={token}")
        page.wait_for_selector(".jp-Notebook .jp-CodeCell")
        page.wait_for_selector("#jp-main-statusbar >> text=Idle")  # the kernel is up
        yield page
        browser.close()


def wait_for_figure(cell, condition, what: str, timeout_s: float = 60):
    """The Playground figure's state once `condition(state)` holds (the kernel redraws after each keystroke)."""
    deadline, state = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        state = cell.evaluate(FIGURE_STATE)
        if state is not None and condition(state):
            return state
        time.sleep(0.2)
    raise AssertionError(f"the playground figure did not {what} in {timeout_s} s; last state: {state}")


def titles_show(state, fragment: str) -> bool:
    return any(fragment in title.replace("<br>", " ") for title in state["titles"])


def expected_z(texts: str, instruction_a: str, instruction_b: str):
    """The heatmaps the kernel should draw, computed here with the same smoke model."""
    comparison = widgets.compare_instructions(tiny_bert(seed=0), texts, instruction_a, instruction_b)
    return [np.round(matrix, 3) for matrix in comparison.similarities]


def test_playground_notebook_runs_and_follows_typing_in_jupyterlab(page):
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.locator('li[data-command="runmenu:run-all"]').click()
    prompts = page.locator(".jp-CodeCell .jp-InputPrompt")
    page.wait_for_function("""() => {
        const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
        return prompts.length > 0 && prompts.every(prompt => /\\[\\d+\\]/.test(prompt.textContent));
    }""")
    assert prompts.count() == 8  # the seven notebook cells and the injected parameters

    cell = page.locator(".jp-CodeCell").filter(has=page.locator(".jp-InputArea", has_text="widgets.Playground("))
    cell.scroll_into_view_if_needed()
    defaults = {"a": cell.locator(".widget-text", has_text="instruction A").locator("input").input_value(),
                "b": cell.locator(".widget-text", has_text="instruction B").locator("input").input_value(),
                "texts": cell.locator(".widget-textarea textarea").input_value()}
    before = wait_for_figure(cell, lambda state: True, "appear")
    assert len(before["y"]) == len(widgets.split_texts(defaults["texts"])) == 5

    # Type a new instruction A, key by key: heatmap A follows, heatmap B stays.
    instruction_a = "Represent the news headline for clustering: "
    box_a = cell.locator(".widget-text", has_text="instruction A").locator("input")
    box_a.fill("")
    box_a.press_sequentially(instruction_a, delay=10)
    typed = wait_for_figure(cell, lambda state: titles_show(state, repr(instruction_a)), "show the typed instruction")
    want_a, want_b = expected_z(defaults["texts"], instruction_a, defaults["b"])
    np.testing.assert_allclose(np.asarray(typed["z"][0]), want_a, atol=2e-3)
    np.testing.assert_allclose(np.asarray(typed["z"][1]), np.asarray(before["z"][1]), atol=0)
    assert np.abs(np.asarray(typed["z"][0]) - np.asarray(before["z"][0])).max() > 1e-3

    # Type a sixth text: both heatmaps grow a row.
    textarea = cell.locator(".widget-textarea textarea")
    textarea.click()
    textarea.press("Control+End")
    textarea.press_sequentially("\nA dog barks at the mailman.", delay=10)
    grown = wait_for_figure(cell, lambda state: state["y"][-1] == "6. A dog barks at the mailman.", "show the typed text")
    texts = defaults["texts"] + "\nA dog barks at the mailman."
    for got, want in zip(grown["z"], expected_z(texts, instruction_a, defaults["b"])):
        np.testing.assert_allclose(np.asarray(got), want, atol=2e-3)
    assert "6 texts" in cell.locator(".widget-html").first.inner_text()

    # Two 150-character instructions: the two titles, as drawn, do not overlap and sit above the heatmaps.
    cell.locator(".widget-text", has_text="instruction A").locator("input").fill(LONG_A)
    cell.locator(".widget-text", has_text="instruction B").locator("input").fill(LONG_B)
    wait_for_figure(cell, lambda state: titles_show(state, LONG_A[-20:]) and titles_show(state, LONG_B[-20:]), "show both long titles")
    plot = cell.locator(".js-plotly-plot").first
    plot.scroll_into_view_if_needed()
    titles = [plot.locator("g.annotation").nth(index).bounding_box() for index in range(2)]
    left, right = sorted(titles, key=lambda box: box["x"])
    assert left["x"] + left["width"] <= right["x"], f"titles overlap: {titles}"
    heatmaps_top = min(box["y"] for box in (plot.locator("g.heatmaplayer image").nth(i).bounding_box() for i in range(2)))
    assert max(box["y"] + box["height"] for box in titles) <= heatmaps_top, "a title runs into its heatmap"

    errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    assert errors.count() == 0, errors.all_inner_texts()
    assert "Error" not in cell.locator(".widget-html").first.inner_text()
