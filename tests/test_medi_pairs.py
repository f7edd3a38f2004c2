"""Pair-mining rules of paper §2.3 on hand-built tasks where the right positive / negative is known."""

import numpy as np
import pytest

from instructor_lib.medi.pairs import NONE, embed_cached, embed_many, is_classification, mine_negatives, superni_pairs
from instructor_lib.tiny import tiny_bert


def unit(*rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_is_classification():
    assert is_classification(["yes", "no", "yes", "no"])
    assert not is_classification(["a", "b", "c"])                       # every output distinct: generation
    assert not is_classification([str(i % 11) for i in range(50)])      # 11 classes > MAX_CLASSES


def test_classification_rule_same_label_positive_other_label_negative():
    # x0 is closest to x1 (different label) and to x2 (same label) next: the positive must be x2 and the
    # hard negative x1, the most similar input with another label.
    x = unit([1, 0, 0], [0.95, 0.3, 0], [0.8, 0.6, 0], [0, 0.3, 0.95])
    labels = ["pos", "neg", "pos", "neg"]
    positive, negative, classification = superni_pairs(x, x, ["a", "b", "c", "d"], labels)
    assert classification
    assert positive.tolist() == [2, 3, 0, 1]
    assert negative.tolist() == [1, 0, 1, 2]


def test_classification_without_a_same_label_neighbour_gives_none():
    x = unit([1, 0], [0, 1], [1, 1])
    positive, negative, _ = superni_pairs(x, x, ["a", "b", "c"], ["y", "n", "n"])
    assert positive[0] == NONE and negative[0] in (1, 2)


def test_generation_rule_matches_a_brute_force_reference():
    rng = np.random.default_rng(0)
    x, y = unit(*rng.normal(size=(7, 5))), unit(*rng.normal(size=(7, 5)))
    inputs, outputs = [f"in {i}" for i in range(7)], [f"out {i}" for i in range(7)]
    positive, negative, classification = superni_pairs(x, y, inputs, outputs)
    assert not classification
    for i in range(7):
        others = [j for j in range(7) if j != i]
        s_pos = {j: float(x[i] @ x[j] + y[i] @ y[j]) for j in others}
        best_pos = max(s_pos, key=s_pos.get)
        s_neg = {j: float(x[i] @ x[j] - y[i] @ y[j]) for j in others if j != best_pos}
        assert positive[i] == best_pos
        assert negative[i] == max(s_neg, key=s_neg.get)


def test_generation_rule_hand_example():
    # x1 is the input nearest x0 but with an opposite output -> hard negative; x2 has a near input AND a
    # near output -> positive.
    x = unit([1, 0], [1, 0.1], [1, 0.3], [0, 1])
    y = unit([1, 0], [-1, 0], [1, 0.1], [0, 1])
    positive, negative, _ = superni_pairs(x, y, ["a", "b", "c", "d"], ["p", "q", "r", "s"])
    assert positive[0] == 2 and negative[0] == 1


def test_identical_inputs_are_never_their_own_positive():
    x = unit([1, 0], [1, 0], [0.9, 0.1], [0, 1])
    positive, _, _ = superni_pairs(x, x, ["same", "same", "near", "far"], ["1", "2", "3", "4"])
    assert positive[0] == 2 and positive[1] == 2


def test_mine_negatives_skips_positive_copies_and_groups():
    queries = unit([1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0.1, 0])
    docs = ["d0", "d1", "d2", "d0"]  # pair 3 has the same positive text as pair 0
    doc_emb = unit([1, 0, 0], [0.9, 0.2, 0], [0, 0, 1], [1, 0, 0])
    negatives = mine_negatives(queries, doc_emb, docs, ["", "", "", ""])
    assert negatives[0] == 1  # doc 3 is a copy of the positive d0: skipped even though it scores highest
    assert negatives[3] == 1
    grouped = mine_negatives(queries, doc_emb, docs, ["g", "g", "", ""])
    assert grouped[0] == 2  # doc 1 is from the same group (e.g. the same image) as pair 0


def test_mine_negatives_chunked_equals_unchunked():
    rng = np.random.default_rng(1)
    q, d = unit(*rng.normal(size=(9, 4))), unit(*rng.normal(size=(9, 4)))
    docs, groups = [f"d{i % 5}" for i in range(9)], ["a", "a", "b", "", "", "b", "c", "", ""]
    assert mine_negatives(q, d, docs, groups, chunk=2).tolist() == mine_negatives(q, d, docs, groups).tolist()


def test_embed_cached_reuses_the_file_and_keys_on_content(tmp_path, monkeypatch):
    model = tiny_bert(seed=0)
    first = embed_cached(model, ["a cat", "a dog"], tmp_path)
    assert len(list(tmp_path.glob("emb-*.npy"))) == 1
    monkeypatch.setattr(model, "encode", lambda *a, **k: pytest.fail("cache miss"))
    np.testing.assert_array_equal(embed_cached(model, ["a cat", "a dog"], tmp_path), first)
    monkeypatch.undo()
    embed_cached(model, ["a cat", "a bird"], tmp_path)
    embed_cached(tiny_bert(seed=1), ["a cat", "a dog"], tmp_path)  # another miner: another key
    assert len(list(tmp_path.glob("emb-*.npy"))) == 3
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1, rtol=1e-5)


def test_a_lists_embeddings_do_not_depend_on_the_other_lists_or_the_cache(tmp_path):
    """In bfloat16 an embedding moves with its batch-mates: each list is embedded on its own, so a mixture
    built from a warm, partly warm or cold cache mines the same pairs."""
    model = tiny_bert(seed=0)
    short = [f"text number {i}" for i in range(12)]
    other = ["a much longer sentence that would pad every other text of its batch quite a lot"]
    alone = embed_many(model, [short], None, "bfloat16", batch_size=16)[0]
    padded = model.encode(short + other, batch_size=16, precision="bfloat16")[:12]  # one batch with the long text
    assert np.abs(padded - alone).max() > 1e-5  # the effect this guards against is real
    together = embed_many(model, [other, short], tmp_path, "bfloat16", batch_size=16)
    np.testing.assert_array_equal(together[1], alone)
    np.testing.assert_array_equal(embed_many(model, [short, other], tmp_path, "bfloat16", batch_size=16)[0], alone)


def test_real_miner_on_a_small_sentiment_task():
    """With the default backbone as miner, a hand-built 2-class task gets the pairs a reader expects."""
    from instructor_lib import Instructor

    model = Instructor.from_pretrained(None)
    inputs = ["I loved this movie, what a great film.", "An absolutely wonderful movie, I loved it.",
              "I hated this movie, what a terrible film.", "The pasta at this restaurant was awful.",
              "Delicious pasta and friendly staff at this restaurant."]
    labels = ["positive", "positive", "negative", "negative", "positive"]
    emb = model.encode(inputs)
    positive, negative, classification = superni_pairs(emb, emb, inputs, labels)
    assert classification
    assert positive[0] == 1 and negative[0] == 2  # same topic, opposite sentiment is the hard negative
    assert positive[3] == 2 and negative[3] == 4


def test_mine_negatives_accepts_extra_candidates():
    queries = unit([1, 0], [0, 1])
    docs, doc_emb = ["q0 doc", "q1 doc", "extra"], unit([1, 0], [0, 1], [1, 0.2])
    assert mine_negatives(queries, doc_emb, docs, ["", "", ""]).tolist() == [2, 2]
