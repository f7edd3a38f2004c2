"""The INSTRUCTOR objective against a literal port of the original double loop, and hand-computed values."""
import math

import pytest
import torch
from torch import nn

from instructor_lib.loss import all_candidates_loss, instructor_loss


def original_loop_loss(query, pos, neg, temperature):
    """Line-by-line port of InstructorTrainer.compute_loss (xlang-ai/instructor-embedding, train.py)."""
    similarity = nn.CosineSimilarity(dim=-1)
    num = len(query)
    all_scores = None
    for i in range(num):
        anchor, positive = query[i].unsqueeze(0), pos[i].unsqueeze(0)
        score = similarity(anchor, positive) / temperature
        for j in range(num):
            score = torch.cat([score, similarity(anchor, neg[j].unsqueeze(0)) / temperature], dim=-1)
        all_scores = score.unsqueeze(0) if all_scores is None else torch.cat([all_scores, score.unsqueeze(0)])
    loss = nn.CrossEntropyLoss()(all_scores, torch.zeros(num, dtype=torch.long))
    all_another = None
    for i in range(num):
        anchor, positive = pos[i].unsqueeze(0), query[i].unsqueeze(0)
        score = similarity(anchor, positive) / temperature
        for j in range(num):
            if i == j:
                continue
            score = torch.cat([score, similarity(anchor, query[j].unsqueeze(0)) / temperature], dim=-1)
        all_another = score.unsqueeze(0) if all_another is None else torch.cat([all_another, score.unsqueeze(0)])
    return loss + nn.CrossEntropyLoss()(all_another, torch.zeros(num, dtype=torch.long))


def embeddings(batch=6, dim=5, seed=0, dtype=torch.float64):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, dim, generator=generator, dtype=dtype).requires_grad_() for _ in range(3)]


@pytest.mark.parametrize("temperature", [0.01, 0.1, 1.0])
@pytest.mark.parametrize("batch", [1, 2, 7])
def test_instructor_loss_equals_the_original_loop_in_value_and_gradients(temperature, batch):
    ours_inputs, loop_inputs = embeddings(batch, seed=batch), embeddings(batch, seed=batch)
    ours, loop = instructor_loss(*ours_inputs, temperature), original_loop_loss(*loop_inputs, temperature)
    ours.backward()
    loop.backward()
    assert abs(ours.item() - loop.item()) <= 1e-6 * max(1.0, abs(loop.item()))
    for a, b in zip(ours_inputs, loop_inputs):
        torch.testing.assert_close(a.grad, b.grad, atol=1e-6, rtol=1e-6)


def test_instructor_loss_float32_matches_the_loop_within_1e_6_relative():
    inputs = embeddings(16, 32, dtype=torch.float32)
    ours, loop = instructor_loss(*inputs, 0.05), original_loop_loss(*inputs, 0.05)
    assert abs(ours.item() - loop.item()) <= 1e-6 * abs(loop.item())


def test_identical_embeddings_give_log_of_the_candidate_counts():
    # every logit equal: query side has B + 1 candidates, document side B.
    batch = 5
    same = torch.ones(batch, 4)
    assert instructor_loss(same, same, same, 0.01).item() == pytest.approx(math.log(batch + 1) + math.log(batch), rel=1e-6)
    assert all_candidates_loss(same, same, same, 0.05).item() == pytest.approx(math.log(2 * batch), rel=1e-6)


def test_all_candidates_loss_equals_a_hand_loop():
    query, pos, neg = embeddings(4, 3, seed=7)
    expected = 0
    for i in range(4):
        candidates = torch.cat([pos, neg])
        scores = nn.functional.cosine_similarity(query[i:i + 1], candidates, dim=-1) / 0.05
        expected = expected - torch.log_softmax(scores, 0)[i] / 4
    assert all_candidates_loss(query, pos, neg, 0.05).item() == pytest.approx(expected.item(), rel=1e-9)


def test_bad_shapes_and_temperature_are_rejected():
    query, pos, neg = embeddings(3, 4)
    with pytest.raises(ValueError, match="one shape"):
        instructor_loss(query, pos[:2], neg, 0.01)
    with pytest.raises(ValueError, match="temperature"):
        instructor_loss(query, pos, neg, 0.0)
