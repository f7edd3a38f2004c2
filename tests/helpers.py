"""Helpers shared by several test modules: toy training records, one torch thread, toy notebooks, a preset
replaced for one test."""
import dataclasses
import random

import nbformat
import pytest
import torch
from nbformat.v4 import new_code_cell, new_notebook

from instructor_lib import presets

# instruction/text pairs covering the pooling cases: a plain one, stripped text, no instruction, a long text
INSTRUCTION = "Represent the statement: "
PAIRS = [
    [INSTRUCTION, "A man is eating food."],
    ["Represent the question for retrieving supporting documents: ", "  who wrote the iliad?  "],
    ["", "a dog"],
    [INSTRUCTION, "The cat sat on the mat while the dog slept by the fire, and nobody said a word."],
    ["Represent the news title for classification: ", "Stocks rally"],
]
WORDS = "the man woman dog cat eating food news science review question document sentence statement query passage".split()


def make_records(tasks=2, per_task=16, seed=0):
    """Records whose positive shares words with the query (learnable) and texts of varied lengths."""
    rng, records = random.Random(seed), []
    for task in range(tasks):
        for _ in range(per_task):
            topic = rng.sample(WORDS, rng.randint(1, 4))
            records.append({"query": [f"Represent the task {task} query: ", " ".join(topic)],
                            "pos": [f"Represent the task {task} document: ", " ".join(topic + rng.sample(WORDS, 2))],
                            "neg": [f"Represent the task {task} document: ", " ".join(rng.sample(WORDS, 5))],
                            "task_name": f"task{task}"})
    return records


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One intra-op thread: tiny models on a shared 2-core machine run ~20x faster than with spinning OMP threads."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def write_notebook(path, body):
    """A toy notebook: a documented parameters cell (preset, value, metrics_path), then `body`."""
    notebook = new_notebook(cells=[new_code_cell('preset: str = "cpu"  # smoke | cpu | paper\nvalue: int = 1  # a number\n'
                                                 'metrics_path: str = ""  # where to write the metrics'), new_code_cell(body)])
    notebook.cells[0].metadata["tags"] = ["parameters"]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)


# Run in the page by `first_screen`: where the headline box is, the claim texts it shows, cells whose text is cut,
# and pairs of text lines (outside the figures' SVG) that overlap on the first screen.
FIRST_SCREEN_SCRIPT = """<script>
window.addEventListener('load', () => setTimeout(() => {
  const box = document.querySelector('.headline');
  const out = {top: box ? box.getBoundingClientRect().top : null, width: innerWidth, height: innerHeight,
               claims: [...document.querySelectorAll('.headline .claim-text')].map(e => e.textContent),
               clipped: [...document.querySelectorAll('.headline td, .headline th, .headline p, .headline h2')]
                 .filter(e => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1)
                 .map(e => e.textContent.slice(0, 80)),
               overlaps: []};
  const lines = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim() || node.parentElement.closest('svg, script, style')) continue;
    const range = document.createRange(); range.selectNodeContents(node);
    for (const rect of range.getClientRects())
      if (rect.width > 0 && rect.height > 0 && rect.top < innerHeight && rect.left < innerWidth)
        lines.push({node, rect, text: node.textContent.trim().slice(0, 40)});
  }
  for (let i = 0; i < lines.length; i++) for (let j = i + 1; j < lines.length; j++) {
    const a = lines[i].rect, b = lines[j].rect;
    const w = Math.min(a.right, b.right) - Math.max(a.left, b.left), h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    if (lines[i].node !== lines[j].node && w > 1 && h > 2) out.overlaps.push([lines[i].text, lines[j].text]);
  }
  const pre = document.createElement('pre'); pre.id = 'first-screen'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
}, 300));
</script>"""


def dump_dom(page, tmp_path, *flags):
    """chromium's DOM of `page` after 10 s of virtual time for its scripts (`flags`: e.g. a window size): the
    finished process, its stdout the DOM."""
    import shutil
    import subprocess

    from instructor_lib.workbench.reporting.screenshots import CHROMIUM_FLAGS

    chromium = shutil.which("chromium")
    assert chromium, "chromium is not installed: `make test` installs it (target `browser`)"
    return subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}", *flags,
                           "--virtual-time-budget=10000", "--dump-dom", page.resolve().as_uri()],
                          capture_output=True, text=True, timeout=120)


def first_screen(page, tmp_path, width=1400, height=900):
    """What a reader sees first of the report `page` in a `width` x `height` chromium window (see
    FIRST_SCREEN_SCRIPT): a copy of the page with the script runs beside the original, so its links resolve."""
    import html
    import json
    import re

    copy = page.with_name(f".first-screen-{page.name}")
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", FIRST_SCREEN_SCRIPT + "</body>"), encoding="utf-8")
    try:
        result = dump_dom(copy, tmp_path, f"--window-size={width},{height}")
    finally:
        copy.unlink()
    found = re.search(r'<pre id="first-screen">(.*?)</pre>', result.stdout, re.S)
    assert found, f"chromium did not run the check on {page}: {result.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1)))


def replace_preset(monkeypatch, name: str, **fields):
    """Preset `name` with some fields replaced, for one test."""
    monkeypatch.setitem(presets.PRESETS, name, dataclasses.replace(presets.PRESETS[name], **fields))
