"""Embedding maps (instructor_lib.workbench.viz) and the similarity playground (instructor_lib.workbench.widgets)."""
import numpy as np
import pytest
from sklearn.metrics import silhouette_score
from sklearn.neighbors import KNeighborsClassifier

from instructor_lib.workbench import viz, widgets
from instructor_lib.config import data_dir
from instructor_lib.tiny import tiny_bert


def write_task(root, task, name, content):
    folder = root / "eval" / task
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(content)


# ------------------------------------------------------------------------------------------------ reading
def test_read_labelled_file_names_file_and_line_of_bad_records(tmp_path):
    write_task(tmp_path, "EmotionClassification", "test.txt", "text;label_name\ni feel fine;joy\nno separator here\n")
    with pytest.raises(ValueError, match=r"test\.txt:3: expected 2 fields"):
        viz.load_labelled_texts("EmotionClassification", per_label=1, data_dir=tmp_path)
    write_task(tmp_path, "EmotionClassification", "test.txt", "text;label_name\ni feel fine;joy\n;sadness\n")
    with pytest.raises(ValueError, match=r"test\.txt:3: empty text"):
        viz.load_labelled_texts("EmotionClassification", per_label=1, data_dir=tmp_path)
    write_task(tmp_path, "Banking77Classification", "test.csv", 'text,category\n"Where is my card, please?",card_arrival\nhello,\n')
    with pytest.raises(ValueError, match=r"test\.csv:3: empty label"):
        viz.load_labelled_texts("Banking77Classification", per_label=1, data_dir=tmp_path)
    write_task(tmp_path, "Banking77Classification", "test.csv", 'text,category\n"Where is my card, please?",card_arrival\n')
    assert viz.load_labelled_texts("Banking77Classification", per_label=1, data_dir=tmp_path) == (
        ["Where is my card, please?"], ["card_arrival"])
    with pytest.raises(ValueError, match="not a labelled task"):
        viz.task_file("STS12")


def test_load_labelled_texts_draws_seeded_samples_of_the_chosen_labels():
    path = viz.task_file("EmotionClassification")
    records = set(viz.read_labelled_file(path))
    assert len(records) <= 2000 and {label for _, label in records} == {"sadness", "joy", "love", "anger", "fear", "surprise"}
    texts, labels = viz.load_labelled_texts("EmotionClassification", "fear, joy", per_label=5, seed=3)
    assert labels == ["fear"] * 5 + ["joy"] * 5
    assert all((text, label) in records for text, label in zip(texts, labels)) and len(set(texts)) == 10
    assert viz.load_labelled_texts("EmotionClassification", ["fear", "joy"], per_label=5, seed=3) == (texts, labels)
    assert viz.load_labelled_texts("EmotionClassification", "fear,joy", per_label=5, seed=4)[0] != texts
    _, labels = viz.load_labelled_texts("EmotionClassification", per_label=2, max_labels=3)
    assert labels == ["anger", "anger", "fear", "fear", "joy", "joy"]  # first labels in sorted order
    with pytest.raises(ValueError, match=r"no label\(s\) \['calm'\]"):
        viz.load_labelled_texts("EmotionClassification", "joy,calm", per_label=1)
    with pytest.raises(ValueError, match="'surprise' has 66 texts"):  # SOURCE.md: 66 surprise texts in test
        viz.load_labelled_texts("EmotionClassification", "surprise", per_label=67)


def test_task_instruction_is_the_official_string():
    # The exact strings of eval/INSTRUCTIONS.md (instructor-large), trailing space included.
    assert viz.task_instruction("EmotionClassification") == "Represent an emotion sentence for classifying the emotion: "
    assert viz.task_instruction("Banking77Classification") == "Represent the bank purpose for classification: "
    with pytest.raises(KeyError, match="has sides"):
        viz.task_instruction("SciFact")
    config = viz.settings("smoke")
    assert config["methods"] == ["tsne"] and config["per_label"] == 6 and config["max_labels"] == 3
    assert config["data_file"] == "eval/EmotionClassification/test.txt" and (data_dir() / config["data_file"]).is_file()
    assert viz.settings("cpu", per_label=7, methods="umap")["per_label"] == 7
    with pytest.raises(ValueError, match="methods must be"):
        viz.settings("cpu", methods="pca")


# ---------------------------------------------------------------------------------------------- measuring
def test_knn_accuracy_by_hand_and_against_sklearn():
    line = np.array([[0.0], [1.0], [2.0], [10.0], [11.0], [12.0]])
    assert viz.knn_accuracy(line, list("aaabbb"), k=2, metric="euclidean") == 1.0
    # k=1: point 2 (label b) has point 1 (label a) nearest, every other point a neighbour of its own label.
    assert viz.knn_accuracy(line, list("aabbbb"), k=1, metric="euclidean") == pytest.approx(5 / 6)
    # Tie (one a, one b among the 2 nearest): the label of the nearest one wins.
    assert viz.knn_accuracy(np.array([[0.0], [1.0], [3.0]]), list("aab"), k=2, metric="euclidean") == pytest.approx(2 / 3)

    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(0, 1, (30, 4)), rng.normal(0.8, 1, (30, 4))])
    labels = ["x"] * 30 + ["y"] * 30
    expected = np.mean([KNeighborsClassifier(n_neighbors=5).fit(np.delete(points, i, 0), np.delete(labels, i, 0))
                        .predict(points[i:i + 1])[0] == labels[i] for i in range(60)])
    assert viz.knn_accuracy(points, labels, k=5, metric="euclidean") == pytest.approx(expected)
    assert 0.5 < expected < 1.0  # overlapping blobs: a real test, not a trivially perfect score


def test_project_is_deterministic_and_keeps_separate_clusters_apart():
    rng = np.random.default_rng(1)
    centres = rng.normal(0, 1, (2, 16))
    points = np.concatenate([centres[0] + 0.05 * rng.normal(size=(20, 16)), centres[1] + 0.05 * rng.normal(size=(20, 16))])
    labels = ["a"] * 20 + ["b"] * 20
    for method in viz.METHODS:
        coords = viz.project(points, method, seed=0)
        assert coords.shape == (40, 2)
        np.testing.assert_allclose(viz.project(points, method, seed=0), coords)
        assert viz.knn_accuracy(coords, labels, metric="euclidean") == 1.0
    with pytest.raises(ValueError, match="at least 4 points"):
        viz.project(points[:3])


def test_compare_projections_measures_what_it_plots():
    model = tiny_bert(seed=0)
    texts, labels = viz.load_labelled_texts("EmotionClassification", "joy,anger", per_label=6)
    instruction = viz.task_instruction("EmotionClassification")
    result = viz.compare_projections(model, texts, labels, instruction, methods=["tsne"], seed=0)
    plain, instructed = model.encode(texts), model.encode(texts, instruction=instruction)
    np.testing.assert_allclose(result.embeddings["without"], plain, atol=1e-6)
    np.testing.assert_allclose(result.embeddings["with"], instructed, atol=1e-6)
    assert not np.allclose(plain, instructed, atol=1e-3)  # the instruction changes the embeddings
    for space, embeddings in (("without", plain), ("with", instructed)):
        assert result.metrics["embedding"][space]["silhouette"] == pytest.approx(silhouette_score(embeddings, labels, metric="cosine"), abs=1e-5)
        assert result.metrics["embedding"][space]["knn_accuracy"] == viz.knn_accuracy(embeddings, labels)
        coords = result.maps["tsne"][space]
        assert result.metrics["maps"]["tsne"][space]["silhouette"] == pytest.approx(silhouette_score(coords, labels))
    gain = result.metrics["embedding"]["with"]["silhouette"] - result.metrics["embedding"]["without"]["silhouette"]
    assert result.metrics["silhouette_gain"] == pytest.approx(gain)
    assert result.metrics["n_texts"] == 12 and result.metrics["n_labels"] == 2

    figure = result.figure()
    assert len(figure.data) == 2 * 2  # one trace per label in each of the 2 panels
    assert [trace.name for trace in figure.data if trace.showlegend] == ["joy", "anger"]
    joy_with = [trace for trace in figure.data if trace.name == "joy"][1]
    np.testing.assert_allclose(joy_with.x, np.round(result.maps["tsne"]["with"][:6, 0], 3))
    table = result.table()
    assert table.loc[("with instruction", "silhouette"), "embedding (cosine)"] == round(result.metrics["embedding"]["with"]["silhouette"], 3)


# ------------------------------------------------------------------------------------------------ widgets
def test_compare_instructions_matches_a_hand_computation():
    model = tiny_bert(seed=0)
    texts = "A man is eating food.\n\n  A man is eating pasta.  \nThe stock market fell."
    assert widgets.split_texts(texts) == ["A man is eating food.", "A man is eating pasta.", "The stock market fell."]
    comparison = widgets.compare_instructions(model, texts, "Represent the statement: ", "")
    for instruction, matrix in zip(("Represent the statement: ", ""), comparison.similarities):
        embeddings = model.encode(widgets.split_texts(texts), instruction=instruction)
        embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
        np.testing.assert_allclose(matrix, embeddings @ embeddings.T, atol=1e-5)
    a, b = comparison.similarities
    metrics = comparison.metrics
    assert metrics["mean_similarity_a"] == pytest.approx((a.sum() - np.trace(a)) / 6, abs=1e-6)
    assert metrics["mean_abs_change"] == pytest.approx(np.abs(b - a).sum() / 6, abs=1e-6)
    assert metrics["mean_abs_change"] > 0
    figure = comparison.figure()
    np.testing.assert_allclose(np.asarray(figure.data[1].z), np.round(b, 3))
    assert list(figure.data[0].y) == ["1. A man is eating food.", "2. A man is eating pasta.", "3. The stock market fell."]
    with pytest.raises(ValueError, match="no texts"):
        widgets.compare_instructions(model, " \n ")


def test_long_instructions_get_wrapped_titles_that_fit_their_half():
    words = "Represent the long and detailed scientific passage about proteins for retrieving supporting documents "
    long_a, long_b = (words * 2)[:150], ("Given a question, " + words * 2)[:150]
    comparison = widgets.compare_instructions(tiny_bert(seed=0), ["a dog", "a cat"], long_a, long_b)
    figure = comparison.figure()
    titles = [annotation for annotation in figure.layout.annotations if annotation.text.startswith(("A: ", "B: "))]
    assert len(titles) == 2
    plot_width = figure.layout.width - figure.layout.margin.l - figure.layout.margin.r
    for annotation, instruction, axis in zip(titles, (long_a, long_b), (figure.layout.xaxis, figure.layout.xaxis2)):
        lines = annotation.text.split("<br>")
        assert 1 < len(lines) <= widgets.TITLE_MAX_LINES
        assert " ".join(lines) == f"{annotation.text[0]}: {instruction!r}"  # wrapped at spaces, nothing lost
        # even at one em per glyph, the widest line stays inside its own subplot's width
        widest = max(len(line) for line in lines) * annotation.font.size
        assert widest <= (axis.domain[1] - axis.domain[0]) * plot_width
    assert figure.layout.margin.t >= 1.2 * widgets.TITLE_FONT_SIZE * max(len(t.text.split("<br>")) for t in titles)
    very_long = widgets.heatmap_title("A", "word " * 200)
    assert very_long.count("<br>") == widgets.TITLE_MAX_LINES - 1 and very_long.endswith(" …")
    assert widgets.heatmap_title("B", "") == "B: (no instruction)"
    assert widgets.heatmap_title("A", "<b>x</b>") == "A: '&lt;b&gt;x&lt;/b&gt;'"


def test_playground_follows_edits_and_loads_saved_models(tmp_path):
    model = tiny_bert(seed=0)
    playground = widgets.Playground(model, ["A man is eating food.", "A man is eating pasta."], "", "")
    assert playground.comparison.metrics["n_texts"] == 2
    playground.instruction_a.value = "Represent the statement: "
    expected = widgets.compare_instructions(model, playground.texts.value, "Represent the statement: ", "")
    np.testing.assert_allclose(playground.comparison.similarities[0], expected.similarities[0])
    playground.texts.value += "\nThe stock market fell."
    assert playground.comparison.metrics["n_texts"] == 3 and "3 texts" in playground.status.value

    other = tiny_bert(seed=1)
    other.save_pretrained(tmp_path / "other")
    playground.model_path.value = str(tmp_path / "other")
    playground.load_button.click()
    expected = widgets.compare_instructions(other, playground.texts.value, "Represent the statement: ", "")
    np.testing.assert_allclose(playground.comparison.similarities[0], expected.similarities[0], atol=1e-6)

    loaded = playground.model
    playground.load(str(tmp_path / "missing"))
    assert playground.model is loaded and "could not load" in playground.status.value
    playground.texts.value = ""
    assert "no texts" in playground.status.value
    assert "application/vnd.jupyter.widget-view+json" in playground._repr_mimebundle_()
