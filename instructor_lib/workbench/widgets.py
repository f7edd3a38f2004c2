"""The playground: similarity heatmaps of a few texts under two instructions, live in Jupyter (ipywidgets).

`Playground` is the live widget (type instructions and texts, the heatmaps follow; load any saved model by
path). `compare_instructions` is the same comparison as a plain result with a static figure and metrics, for
reports and tests.
"""
from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..model import Instructor

# Heatmap titles: wrapped lines short enough that, even at one em per glyph, a line fits above its half of the
# figure (38 x 13 px < 509 px, the width of one heatmap), so two long instructions never run into each other.
TITLE_FONT_SIZE = 13
TITLE_LINE_CHARS = 38
TITLE_MAX_LINES = 6


def heatmap_title(side: str, instruction: str) -> str:
    """The side letter and the quoted instruction, wrapped onto lines of at most TITLE_LINE_CHARS characters
    (joined by plotly's <br>) and shortened with " …" past TITLE_MAX_LINES lines."""
    if not instruction:
        return f"{side}: (no instruction)"
    lines = textwrap.wrap(f"{side}: {instruction!r}", TITLE_LINE_CHARS, max_lines=TITLE_MAX_LINES, placeholder=" …")
    return "<br>".join(html.escape(line, quote=False) for line in lines)


def split_texts(texts: str | list[str]) -> list[str]:
    """Texts from a list, or from a string with one text per line; blank lines are not texts."""
    lines = texts.splitlines() if isinstance(texts, str) else list(texts)
    return [line.strip() for line in lines if line.strip()]


def similarity_matrix(model: Instructor, texts: list[str], instruction: str = "", precision: str = "auto") -> np.ndarray:
    """Cosine similarities (N, N) of `texts` all embedded with `instruction` ("" = none)."""
    embeddings = model.encode(texts, instruction=instruction, precision=precision)
    return model.similarity(embeddings, embeddings)


@dataclass
class InstructionComparison:
    """Similarity matrices of the same texts under instruction A and instruction B."""

    texts: list[str]
    instructions: tuple[str, str]
    similarities: tuple[np.ndarray, np.ndarray]

    @property
    def metrics(self) -> dict:
        """Both matrices, their mean off-diagonal similarity, and the mean absolute change from A to B."""
        off_diagonal = ~np.eye(len(self.texts), dtype=bool)
        a, b = self.similarities
        return {"n_texts": len(self.texts), "instruction_a": self.instructions[0], "instruction_b": self.instructions[1],
                "similarity_a": np.round(a, 6).tolist(), "similarity_b": np.round(b, 6).tolist(),
                "mean_similarity_a": float(a[off_diagonal].mean()) if len(self.texts) > 1 else float("nan"),
                "mean_similarity_b": float(b[off_diagonal].mean()) if len(self.texts) > 1 else float("nan"),
                "mean_abs_change": float(np.abs(b - a)[off_diagonal].mean()) if len(self.texts) > 1 else 0.0}

    def figure(self, label_chars: int = 28):
        """Two heatmaps side by side on one colour scale, each cell annotated with its similarity."""
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        # Numbered labels: heatmap axes are categorical, so two equal texts would otherwise share one row.
        names = [f"{index}. {text if len(text) <= label_chars else text[:label_chars - 1] + '…'}"
                 for index, text in enumerate(self.texts, start=1)]
        low = float(min(matrix.min() for matrix in self.similarities))
        titles = [heatmap_title(side, instruction) for side, instruction in zip("AB", self.instructions)]
        title_lines = max(title.count("<br>") + 1 for title in titles)
        figure = make_subplots(rows=1, cols=2, subplot_titles=titles, shared_yaxes=True, horizontal_spacing=0.04)
        figure.update_annotations(font_size=TITLE_FONT_SIZE)
        for col, matrix in enumerate(self.similarities, start=1):
            figure.add_trace(go.Heatmap(z=np.round(matrix, 3), x=names, y=names, zmin=low, zmax=1.0, colorscale="Viridis",
                                        texttemplate="%{z:.2f}", showscale=col == 2,
                                        hovertemplate="%{y}<br>%{x}<br>cosine %{z:.3f}<extra></extra>"), row=1, col=col)
        figure.update_yaxes(autorange="reversed")
        top = 30 + round(1.5 * TITLE_FONT_SIZE * title_lines)  # room for the wrapped titles above the plots
        figure.update_layout(height=220 + top + 40 * len(names), width=1100, margin={"t": top, "l": 20, "r": 20, "b": 20})
        return figure


def compare_instructions(model: Instructor, texts: str | list[str], instruction_a: str = "", instruction_b: str = "",
                         precision: str = "auto") -> InstructionComparison:
    """Similarity matrices of `texts` (a list, or one per line) under two instructions ("" = no instruction)."""
    texts = split_texts(texts)
    if not texts:
        raise ValueError("no texts to compare: give at least one non-blank text")
    matrices = tuple(similarity_matrix(model, texts, instruction, precision) for instruction in (instruction_a, instruction_b))
    return InstructionComparison(texts, (instruction_a, instruction_b), matrices)


class Playground:
    """Live widget: edit instruction A, instruction B or the texts and both heatmaps update; load a model by path.

    Args:
        model: the Instructor to start with.
        texts: the starting texts, a list or one per line.
        instruction_a, instruction_b: the starting instructions ("" = no instruction).
        precision: encode precision: "auto" (bfloat16 only where this machine runs it faster), "float32", "bfloat16".
    The last comparison is kept in `comparison`; `status` shows what happened (errors included).
    """

    def __init__(self, model: Instructor, texts: str | list[str], instruction_a: str = "", instruction_b: str = "",
                 precision: str = "auto"):
        import ipywidgets as w

        self.model, self.precision, self.comparison = model, precision, None
        wide, label = w.Layout(width="95%"), {"description_width": "100px"}  # the default width cuts "instruction A"
        self.instruction_a = w.Text(value=instruction_a, description="instruction A", layout=wide, style=label)
        self.instruction_b = w.Text(value=instruction_b, description="instruction B", layout=wide, style=label)
        self.texts = w.Textarea(value=texts if isinstance(texts, str) else "\n".join(texts),
                                description="texts", placeholder="one text per line", rows=8, layout=wide, style=label)
        self.model_path = w.Text(value="", description="model", placeholder="folder of a saved model",
                                 layout=w.Layout(width="70%"), style=label)
        self.load_button = w.Button(description="Load model")
        self.status = w.HTML()
        self.output = w.Output()
        for box in (self.instruction_a, self.instruction_b, self.texts):
            box.observe(lambda change: self.refresh(), names="value")
        self.load_button.on_click(lambda button: self.load(self.model_path.value))
        self.widget = w.VBox([w.HBox([self.model_path, self.load_button]), self.instruction_a, self.instruction_b,
                              self.texts, self.status, self.output])
        self.refresh()

    def refresh(self) -> None:
        """Re-embed the texts under both instructions and redraw; problems go to `status`, not exceptions."""
        from IPython.display import display

        try:
            self.comparison = compare_instructions(self.model, self.texts.value, self.instruction_a.value,
                                                   self.instruction_b.value, self.precision)
        except (ValueError, TypeError) as err:
            self.status.value = f"<span style='color:#b00'>{type(err).__name__}: {html.escape(str(err))}</span>"
            return
        metrics = self.comparison.metrics
        self.status.value = (f"model <code>{html.escape(str(self.model.name_or_path))}</code> · {metrics['n_texts']} texts · "
                             f"mean similarity A {metrics['mean_similarity_a']:.3f}, B {metrics['mean_similarity_b']:.3f}")
        self.output.clear_output(wait=True)
        with self.output:
            display(self.comparison.figure())

    def load(self, path: str) -> None:
        """Swap in the model saved in folder `path` (see Instructor.from_pretrained) and redraw; keep the old one on error."""
        try:
            if not path.strip() or not Path(path.strip()).is_dir():
                raise FileNotFoundError(f"{path!r} is not a folder")
            self.model = Instructor.from_pretrained(path.strip())
        except (OSError, ValueError) as err:
            self.status.value = f"<span style='color:#b00'>could not load {html.escape(repr(path))}: {html.escape(str(err))}</span>"
            return
        self.refresh()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
