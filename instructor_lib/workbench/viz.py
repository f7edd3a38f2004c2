"""Where texts land with and without an instruction (paper Fig. 7): t-SNE / UMAP maps coloured by label.

The paper's point is that an instruction moves texts of the same label closer together. Besides the pictures
this module measures it: the cosine silhouette and the leave-one-out k-nearest-neighbour accuracy of the labels,
in the embedding space and in each 2-D map, with and without the instruction.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import presets, readers
from ..config import data_dir as resolve_data_dir

# Labelled evaluation tasks we can read, with the file of each split (formats in each folder's SOURCE.md).
LABELLED_TASKS = {
    "EmotionClassification": {"train": "train.txt", "validation": "val.txt", "test": "test.txt"},
    "Banking77Classification": {"train": "train.csv", "test": "test.csv"},
}
METHODS = ("tsne", "umap")
SPACES = ("without", "with")


def task_file(task: str, split: str = "test", data_dir: str | Path | None = None) -> Path:
    """Path of one split of a labelled evaluation task under `<data_dir>/eval/<task>/`."""
    if task not in LABELLED_TASKS:
        raise ValueError(f"task {task!r} is not a labelled task we can read; use one of {sorted(LABELLED_TASKS)}")
    if split not in LABELLED_TASKS[task]:
        raise ValueError(f"task {task} has no split {split!r}; it has {sorted(LABELLED_TASKS[task])}")
    path = resolve_data_dir(data_dir) / "eval" / task / LABELLED_TASKS[task][split]
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist (task {task}, split {split})")
    return path


def read_labelled_file(path: str | Path) -> list[tuple[str, str]]:
    """All (text, label) records of an Emotion (`text;label_name`) or Banking77 (`text,category` CSV) file, each
    stripped of surrounding whitespace; a malformed line is an error naming file and line (see `readers`)."""
    path = Path(path)
    records = readers.banking77_records(path) if path.suffix == ".csv" else readers.emotion_records(path)
    return [(text.strip(), label.strip()) for text, label in records]


def load_labelled_texts(task: str = "EmotionClassification", labels: str | list[str] = "", per_label: int = 100,
                        seed: int = 0, split: str = "test", max_labels: int | None = None,
                        data_dir: str | Path | None = None) -> tuple[list[str], list[str]]:
    """Sample `per_label` texts of each chosen label of a labelled evaluation task.

    Args:
        task: a key of LABELLED_TASKS (its files are read from the data dir, see `instructor_lib.config.data_dir`).
        labels: the labels to keep, a list or a comma-separated string; "" keeps all labels, in sorted order,
            cut to the first `max_labels` when that is given. An unknown label is an error.
        per_label: texts drawn without replacement (seeded) per label; more than a label has is an error.
        seed: seeds the draw, so the same arguments always give the same texts.
    Returns (texts, labels), grouped by label in the order of the chosen labels.
    """
    records = read_labelled_file(task_file(task, split, data_dir))
    by_label: dict[str, list[str]] = {}
    for text, label in records:
        by_label.setdefault(label, []).append(text)
    chosen = [name.strip() for name in labels.split(",") if name.strip()] if isinstance(labels, str) else list(labels)
    unknown = [name for name in chosen if name not in by_label]
    if unknown:
        raise ValueError(f"{task} ({split}) has no label(s) {unknown}; it has {sorted(by_label)}")
    if not chosen:
        chosen = sorted(by_label)[:max_labels]
    if per_label < 1:
        raise ValueError(f"per_label must be at least 1, got {per_label}")
    rng = random.Random(seed)
    texts, text_labels = [], []
    for label in chosen:
        if per_label > len(by_label[label]):
            raise ValueError(f"{task} ({split}) label {label!r} has {len(by_label[label])} texts, fewer than per_label={per_label}")
        texts += rng.sample(by_label[label], per_label)
        text_labels += [label] * per_label
    return texts, text_labels


def task_instruction(task: str, instruction_set: str = "hkunlp/instructor-large", data_dir: str | Path | None = None) -> str:
    """The official single-text evaluation instruction of `task` (eval/INSTRUCTIONS.json, via the `paper` set)."""
    from ..evaluation.instruction_sets import paper_instructions

    return paper_instructions(instruction_set, data_dir).instruction(task, "text")


def settings(preset: str = "cpu", task: str = "EmotionClassification", labels: str = "", per_label: int = 0,
             instruction_set: str = "hkunlp/instructor-large", methods: str = "", seed: int = 0,
             model_path: str = "", data_dir: str | Path | None = None) -> dict:
    """The embedding-map configuration: the arguments, with a 0 `per_label` or "" `methods` set by the preset.

    The result is what a run records (and hashes): it names the data file (relative to the data dir, so the
    hash does not depend on where the data lives) and the instruction used.
    `model_path` is only recorded here (load it with `instructor_lib.workbench.experiments.notebook_model`).
    """
    sizes = presets.preset(preset).viz  # what the preset draws where a setting is left at 0 or ""
    chosen_methods = [name.strip() for name in (methods or sizes.methods).split(",") if name.strip()]
    bad = [name for name in chosen_methods if name not in METHODS]
    if bad or not chosen_methods:
        raise ValueError(f"methods must be a comma-separated subset of {METHODS}, got {methods!r}")
    return {"preset": preset, "task": task, "labels": labels, "max_labels": sizes.max_labels,
            "per_label": per_label or sizes.per_label, "instruction_set": instruction_set,
            "instruction": task_instruction(task, instruction_set, data_dir), "methods": chosen_methods,
            "seed": seed, "model_path": model_path,
            "data_file": str(task_file(task, "test", data_dir).relative_to(resolve_data_dir(data_dir)))}


# --------------------------------------------------------------------------------------------- measuring
def project(embeddings: np.ndarray, method: str = "tsne", seed: int = 0) -> np.ndarray:
    """2-D map of `embeddings` (N, D) by cosine distance: t-SNE (sklearn, PCA init) or UMAP; seeded, deterministic."""
    count = len(embeddings)
    if count < 4:
        raise ValueError(f"a 2-D map needs at least 4 points, got {count}")
    if method == "tsne":
        from sklearn.manifold import TSNE

        mapper = TSNE(n_components=2, perplexity=min(30.0, (count - 1) / 3), init="pca", metric="cosine", random_state=seed)
    elif method == "umap":
        import umap

        # random_state makes UMAP single-threaded and reproducible; n_neighbors must stay below the point count.
        mapper = umap.UMAP(n_components=2, n_neighbors=min(15, count - 1), metric="cosine", random_state=seed, n_jobs=1)
    else:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    from threadpoolctl import threadpool_limits

    # One thread: on a busy machine sklearn's OpenMP threads spin-wait, and a 20-point t-SNE took 80 s instead of 0.1 s.
    with threadpool_limits(1):
        return np.asarray(mapper.fit_transform(np.asarray(embeddings, dtype=np.float32)), dtype=np.float64)


def knn_accuracy(points: np.ndarray, labels: list[str], k: int = 5, metric: str = "cosine") -> float:
    """Leave-one-out k-nearest-neighbour accuracy: each point takes the majority label of its k nearest others.

    Ties go to the tied label whose nearest member is closest. `metric` is "cosine" or "euclidean".
    """
    points = np.asarray(points, dtype=np.float64)
    if metric == "cosine":
        unit = points / np.linalg.norm(points, axis=1, keepdims=True).clip(min=1e-12)
        distance = 1.0 - unit @ unit.T
    elif metric == "euclidean":
        distance = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=-1)
    else:
        raise ValueError(f"metric must be 'cosine' or 'euclidean', got {metric!r}")
    np.fill_diagonal(distance, np.inf)
    labels = np.asarray(labels)
    correct = 0
    for row in range(len(points)):
        nearest = np.argsort(distance[row], kind="stable")[:k]
        names, counts = np.unique(labels[nearest], return_counts=True)
        tied = set(names[counts == counts.max()])
        vote = next(labels[index] for index in nearest if labels[index] in tied)  # nearest first
        correct += vote == labels[row]
    return correct / len(points)


def separation(points: np.ndarray, labels: list[str], metric: str = "cosine", k: int = 5) -> dict[str, float]:
    """How well `labels` separate in `points`: silhouette score and leave-one-out kNN accuracy (same metric)."""
    from sklearn.metrics import silhouette_score
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # small matrices: threads only add spin-waiting on a busy machine (see `project`)
        return {"silhouette": float(silhouette_score(points, labels, metric=metric)),
                "knn_accuracy": float(knn_accuracy(points, labels, k=k, metric=metric))}


@dataclass
class ProjectionResult:
    """Embeddings, 2-D maps and separation metrics of the same texts without and with an instruction."""

    texts: list[str]
    labels: list[str]
    instruction: str
    embeddings: dict[str, np.ndarray]  # space ("without" | "with") -> (N, D)
    maps: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # method -> space -> (N, 2)
    metrics: dict = field(default_factory=dict)

    def figure(self, hover_chars: int = 80):
        """Interactive plotly figure: one row per method, columns without / with the instruction, colour = label."""
        return projection_figure(self, hover_chars)

    def table(self):
        """The separation metrics as a pandas table: one row per space and measure, one column per view."""
        import pandas as pd

        rows = {}
        for space in SPACES:
            for measure in ("silhouette", "knn_accuracy"):
                row = {"embedding (cosine)": self.metrics["embedding"][space][measure]}
                row |= {f"{method} map": self.metrics["maps"][method][space][measure] for method in self.maps}
                rows[(f"{space} instruction", measure)] = row
        return pd.DataFrame.from_dict(rows, orient="index").round(3)


def compare_projections(model, texts: list[str], labels: list[str], instruction: str, methods=METHODS, seed: int = 0,
                        batch_size: int = 32, precision: str = "auto") -> ProjectionResult:
    """Embed `texts` without and with `instruction`, map both with each method, and measure label separation.

    `metrics` holds, per space, the silhouette and kNN accuracy in the embedding space (cosine), per method and
    space the same in the 2-D map (euclidean), and `silhouette_gain` = with minus without (embedding space).
    """
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    embeddings = {space: model.encode(texts, instruction=instruction if space == "with" else "",
                                      batch_size=batch_size, precision=precision) for space in SPACES}
    result = ProjectionResult(list(texts), list(labels), instruction, embeddings)
    result.metrics = {"n_texts": len(texts), "n_labels": len(set(labels)), "instruction": instruction,
                      "embedding": {space: separation(embeddings[space], labels) for space in SPACES}, "maps": {}}
    for method in methods:
        result.maps[method] = {space: project(embeddings[space], method, seed) for space in SPACES}
        result.metrics["maps"][method] = {space: separation(result.maps[method][space], labels, metric="euclidean")
                                          for space in SPACES}
    embedding = result.metrics["embedding"]
    result.metrics["silhouette_gain"] = embedding["with"]["silhouette"] - embedding["without"]["silhouette"]
    return result


def projection_figure(result: ProjectionResult, hover_chars: int = 80):
    """The plotly figure of a ProjectionResult; a legend click on a label hides it in every panel."""
    import plotly.graph_objects as go
    from plotly.colors import qualitative
    from plotly.subplots import make_subplots

    methods = list(result.maps)
    titles = [f"{method.upper()}, {'no instruction' if space == 'without' else 'with instruction'} "
              f"(kNN acc {result.metrics['maps'][method][space]['knn_accuracy']:.2f})"
              for method in methods for space in SPACES]
    figure = make_subplots(rows=len(methods), cols=2, subplot_titles=titles, horizontal_spacing=0.06, vertical_spacing=0.1)
    labels = np.asarray(result.labels)
    short = np.asarray([text if len(text) <= hover_chars else text[:hover_chars - 1] + "…" for text in result.texts])
    palette = qualitative.Plotly + qualitative.Dark24
    for row, method in enumerate(methods, start=1):
        for col, space in enumerate(SPACES, start=1):
            coords = np.round(result.maps[method][space], 3)  # 3 decimals: invisible on screen, halves the HTML
            for index, label in enumerate(dict.fromkeys(result.labels)):
                chosen = labels == label
                figure.add_trace(go.Scatter(
                    x=coords[chosen, 0], y=coords[chosen, 1], mode="markers", name=label, legendgroup=label,
                    showlegend=row == 1 and col == 1, text=short[chosen], hovertemplate="%{text}<extra>" + label + "</extra>",
                    marker={"size": 5, "color": palette[index % len(palette)], "opacity": 0.8}), row=row, col=col)
    figure.update_xaxes(showticklabels=False)
    figure.update_yaxes(showticklabels=False)
    figure.update_layout(height=420 * len(methods), width=980, legend_title_text="label", margin={"t": 60, "l": 20, "r": 20, "b": 20},
                         title=f"Instruction: {result.instruction!r}")
    return figure
