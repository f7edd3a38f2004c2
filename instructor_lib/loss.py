"""Contrastive objectives on (query, positive, hard negative) embeddings.

`instructor_loss` is the objective of the original INSTRUCTOR training code (xlang-ai/instructor-embedding,
`InstructorTrainer.compute_loss`), written as two matrix products instead of the original double loop:

- query -> document: query i scores its own positive and the hard negatives of *every* example of the batch
  (B + 1 candidates); the other examples' positives are not candidates;
- document -> query: positive i scores its own query and the other B - 1 queries (B candidates);
- similarity = cosine / temperature; the two mean cross-entropies are summed.

`all_candidates_loss` is the sentence-transformers MultipleNegativesRankingLoss variant (every positive and
every hard negative of the batch is a candidate for every query, one direction), kept for ablations.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

PAPER_TEMPERATURE = 0.01  # the paper's; the one default (TrainConfig.temperature), the presets set their own


def _unit(x: torch.Tensor) -> torch.Tensor:
    """Rows scaled to unit length, in float32 at least; like nn.CosineSimilarity, a norm is clamped at 1e-8."""
    return F.normalize(x.to(torch.promote_types(x.dtype, torch.float32)), dim=-1, eps=1e-8)


def _check(query: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor, temperature: float) -> None:
    if not (query.dim() == 2 and query.shape == pos.shape == neg.shape):
        raise ValueError(f"query, pos and neg must be (B, D) tensors of one shape, got {tuple(query.shape)}, "
                         f"{tuple(pos.shape)}, {tuple(neg.shape)}")
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")


def instructor_loss(query: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor, temperature: float) -> torch.Tensor:
    """The INSTRUCTOR bidirectional in-batch contrastive loss (a scalar).

    Args:
        query, pos, neg: (B, D) embeddings; row i of each belongs to training example i. They need not be
            normalised: cosine similarity is taken here.
        temperature: similarities are divided by it. The paper uses 0.01 (`PAPER_TEMPERATURE`); the authors'
            README later used 0.1.
    """
    _check(query, pos, neg, temperature)
    query, pos, neg = _unit(query), _unit(pos), _unit(neg)
    own_positive = (query * pos).sum(dim=-1, keepdim=True)
    query_to_docs = torch.cat([own_positive, query @ neg.T], dim=1) / temperature
    first_is_right = torch.zeros(len(query), dtype=torch.long, device=query.device)
    docs_to_query = pos @ query.T / temperature
    diagonal_is_right = torch.arange(len(query), device=query.device)
    return F.cross_entropy(query_to_docs, first_is_right) + F.cross_entropy(docs_to_query, diagonal_is_right)


def all_candidates_loss(query: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor, temperature: float) -> torch.Tensor:
    """MultipleNegativesRankingLoss: query i against all B positives and all B hard negatives (a scalar).

    Args:
        query, pos, neg: (B, D) embeddings, row i of each from training example i.
        temperature: similarities are divided by it (sentence-transformers' default scale 20 is 1 / 0.05).
    """
    _check(query, pos, neg, temperature)
    scores = _unit(query) @ _unit(torch.cat([pos, neg])).T / temperature
    return F.cross_entropy(scores, torch.arange(len(query), device=query.device))


LOSSES = {"instructor": instructor_loss, "all_candidates": all_candidates_loss}
