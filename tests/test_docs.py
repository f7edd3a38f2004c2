"""The front door stays small and every door in the docs opens: the README fits on a screen (at most 1,500 words),
keeps its two set-up commands and a ten-line example that runs, and every relative link in README.md and docs/*.md
reaches an existing file (and, with a #fragment, one of its headings)."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MAX_README_WORDS = 1500
FENCED = re.compile(r"^```.*?^```", re.S | re.M)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def documents() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.S | re.M)


def anchor(heading: str) -> str:
    """GitHub's id for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCED.sub("", path.read_text(encoding="utf-8"))
    return {anchor(line.lstrip("#")) for line in text.splitlines() if re.match(r"#{1,6} ", line)}


def relative_links(path: Path) -> list[str]:
    text = FENCED.sub("", path.read_text(encoding="utf-8"))
    return [target for target in LINK.findall(text) if not re.match(r"[a-z]+:", target)]


def test_the_readme_has_at_most_1500_words():
    words = len(README.read_text(encoding="utf-8").split())  # what `wc -w` counts
    assert words <= MAX_README_WORDS, f"README.md has {words} words: move detail into docs/"


@pytest.mark.parametrize("path", documents(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_reaches_a_file_and_heading(path):
    broken = []
    for target in relative_links(path):
        file_part, _, fragment = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no file {linked.relative_to(ROOT) if linked.is_relative_to(ROOT) else linked}")
        elif fragment and linked.suffix == ".md" and fragment not in anchors(linked):
            broken.append(f"{target}: no heading #{fragment} in {linked.relative_to(ROOT)}")
    assert not broken, f"{path.relative_to(ROOT)}: " + "; ".join(broken)


def test_the_readme_has_exactly_two_set_up_commands_and_ci_runs_its_test_command():
    text = README.read_text(encoding="utf-8")
    assert "exactly two set-up commands" in text
    commands = [line.split("#")[0].strip() for line in code_blocks(text, "bash")[0].splitlines()]
    assert commands == ["make reproduce", "make test"]
    assert (ROOT / ".ci" / "run").read_text().rstrip().endswith("\nmake test")


def test_the_readme_example_has_ten_lines_at_most_and_runs(tmp_path, monkeypatch, capsys):
    example = code_blocks(README.read_text(encoding="utf-8"), "python")[0]
    assert len(example.splitlines()) <= 10
    monkeypatch.chdir(tmp_path)  # it saves a model folder into the working directory
    exec(compile(example, "README.md", "exec"), {})
    similarities = capsys.readouterr().out
    assert similarities.startswith("[[") and (tmp_path / "my-model" / "modules.json").exists()


def architecture_layers() -> list[tuple[str, set[str]]]:
    """docs/architecture.md's layer table as (layer, modules), lowest first: the shape of test_layers.LAYERS."""
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    table = re.search(r"^\| layer \| modules \|\n\|---\|---\|\n((?:\|.*\|\n)+)", text, re.M)
    assert table, "docs/architecture.md has no '| layer | modules |' table"
    rows = [line.strip("|").split("|") for line in table.group(1).splitlines()]
    return [(layer.strip(), set(re.findall(r"`([^`]+)`", modules))) for layer, modules in rows]


def test_the_architecture_table_names_each_layer_and_module_once():
    layers = architecture_layers()
    names = [name for name, _ in layers]
    modules = [module for _, members in layers for module in members]
    assert names[0] == "ground" and names[-1] == "entry points" and len(set(names)) == len(names)
    assert all(members for _, members in layers) and len(set(modules)) == len(modules)


def test_the_architecture_table_is_test_layers_order_both_ways():
    from test_layers import LAYERS

    assert architecture_layers() == [(name, set(members)) for name, members in LAYERS]


def test_the_architecture_describes_every_module_and_package():
    package = ROOT / "instructor_lib"
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    names = [f"`{path.name}`" for path in package.glob("*.py")]
    names += [f"`{path.name}/`" for path in package.iterdir() if (path / "__init__.py").exists()]
    names += [f"`{path.relative_to(package)}`" for path in (package / "workbench").glob("*.py") if path.stem != "__init__"]
    names += [f"`{path.relative_to(package)}/`" for path in (package / "workbench").iterdir() if (path / "__init__.py").exists()]
    missing = [name for name in names if name not in text]
    assert not missing, f"docs/architecture.md does not describe {', '.join(sorted(missing))}"
