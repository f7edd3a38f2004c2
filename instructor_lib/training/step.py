"""One training step: `loss_and_backward(model, batch, ...)` adds the gradients of the batch's loss to `.grad`.

A single-task global batch of (query, pos, neg) records -> embeddings of the 3B texts -> the INSTRUCTOR loss
over the whole global batch. The texts are embedded in chunks of similar token length (little padding); by
default all chunks keep their autograd graphs and one backward runs through them. Batches whose activations do
not fit memory use gradient caching instead (Gao et al. 2021, "GradCache"): the chunks are embedded without
autograd, the loss is backpropagated to the cached embeddings only, then each chunk is embedded again with
autograd and backpropagated with its embedding gradient. Dropout replays the same masks on the second pass (the
RNG state of each chunk is kept), so both ways give the same loss and gradients.

Data parallel: each rank embeds its slice of the global batch, the embeddings of all ranks are gathered so the
loss (and every rank's embedding gradient) covers the global batch, and DistributedDataParallel sums the
parameter gradients. The result equals one process on the same global batch.
"""
from __future__ import annotations

import contextlib

import torch
import torch.distributed as dist

from ..data import TrainBatch
from ..dropout import cpu_dropout
from ..model import Instructor


def _rng_state(device: torch.device):
    return torch.cuda.get_rng_state(device) if device.type == "cuda" else torch.get_rng_state()


def _set_rng_state(device: torch.device, state) -> None:
    if device.type == "cuda":
        torch.cuda.set_rng_state(state, device)
    else:
        torch.set_rng_state(state)


def _gather(local: torch.Tensor) -> list[torch.Tensor]:
    """The `local` tensors of all ranks in rank order (a one-element list without torch.distributed)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return [local]
    gathered = [torch.empty_like(local) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, local.contiguous())
    return gathered


def _embedding_gradients(embeddings: torch.Tensor, batch_len: int, loss_fn, temperature: float):
    """Loss over the global batch and its gradient w.r.t. this rank's embeddings (rows: query, pos, neg).

    Every rank holds `3 * batch_len` rows; the global batch is rebuilt from all ranks so negatives and
    queries span it. Returns (loss, gradient of this rank's rows).
    """
    parts = [part.detach().requires_grad_() for part in _gather(embeddings.detach())]
    query, pos, neg = (torch.cat([part[k * batch_len:(k + 1) * batch_len] for part in parts]) for k in range(3))
    loss = loss_fn(query, pos, neg, temperature)
    rank = dist.get_rank() if len(parts) > 1 else 0
    (gradient,) = torch.autograd.grad(loss, [parts[rank]])
    return loss.detach(), gradient


def length_chunks(instructor: Instructor, pairs: list[tuple[str, str]], chunk_size: int | None):
    """The encoder passes of a step: `pairs` in chunks of `chunk_size` texts of similar token length (None:
    one pass over all), shortest first; `(rows, features)` per chunk, rows being indices into `pairs`."""
    return list(instructor.tokenize_chunks(pairs, chunk_size or len(pairs)))


def loss_and_backward(model, batch: TrainBatch, loss_fn, temperature: float,
                      chunk_size: int | None = None, gradient_caching: bool = False,
                      precision: str = "float32") -> torch.Tensor:
    """Compute the loss of `batch` over the global batch and add its gradients to the model's `.grad`.

    Args:
        model: an `Instructor`, or one wrapped in DistributedDataParallel (then `batch` is this rank's slice).
        batch: this rank's records of one task.
        loss_fn, temperature: the objective, `loss_fn(query, pos, neg, temperature)` on embeddings.
        chunk_size: texts per encoder pass, grouped by token length (None: the 3B texts in one pass).
        gradient_caching: False: every chunk keeps its autograd graph and one backward runs through all of
            them (one forward per text). True: GradCache, for batches whose activations do not fit memory:
            chunks are embedded without autograd, the loss is backpropagated to the embeddings, then each
            chunk is embedded again with autograd (two forwards per text, activations of one chunk). Both give
            the same loss and gradients; dropout draws the same masks (each chunk's RNG state is replayed).
        precision: "float32", or "bfloat16" for bfloat16 autocast of the encoder (the loss stays float32).
    Returns the loss (a detached scalar, the same on every rank); gradients are those of one process on the
    global batch, also under DDP (which averages over ranks: hence the `world_size` factor below).
    """
    instructor: Instructor = getattr(model, "module", model)
    device = next(instructor.parameters()).device
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bfloat16")
    # CPU: cheaper dropout masks (instructor_lib.dropout); CUDA's own dropout is fast already
    masks = cpu_dropout if device.type == "cpu" else contextlib.nullcontext
    world_size = dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1
    pairs = batch.query + batch.pos + batch.neg
    chunks = [(rows, {k: v.to(device) for k, v in features.items()})
              for rows, features in length_chunks(instructor, pairs, chunk_size)]
    # Chunk outputs are concatenated in chunk order; `inverse` puts them back in row order.
    inverse = torch.argsort(torch.tensor([row for rows, _ in chunks for row in rows], device=device))

    if not gradient_caching or len(chunks) == 1:
        with autocast, masks():  # one forward call (DDP expects one per backward) over every chunk
            embeddings = _wide(model([features for _, features in chunks]))[inverse]
        loss, gradient = _embedding_gradients(embeddings, len(batch), loss_fn, temperature)
        embeddings.backward(gradient * world_size)
        return loss

    # Gradient caching: pass 1 without autograd, remembering each chunk's RNG state for dropout.
    embeddings, rng_states = [], []
    with torch.no_grad(), autocast, masks():
        for _, features in chunks:
            rng_states.append(_rng_state(device))
            embeddings.append(_wide(instructor(features)))
    rng_after = _rng_state(device)
    loss, gradient = _embedding_gradients(torch.cat(embeddings)[inverse], len(batch), loss_fn, temperature)
    # Pass 2: re-embed each chunk with autograd and backpropagate its slice of the embedding gradient.
    for number, ((rows, features), state) in enumerate(zip(chunks, rng_states)):
        last = number == len(chunks) - 1
        sync = contextlib.nullcontext() if last or not hasattr(model, "no_sync") else model.no_sync()
        _set_rng_state(device, state)
        with sync:
            with autocast, masks():
                chunk_embeddings = _wide(model(features))
            chunk_embeddings.backward(gradient[rows] * world_size)
    _set_rng_state(device, rng_after)
    return loss


def _wide(embeddings: torch.Tensor) -> torch.Tensor:
    """Embeddings in at least float32 for the loss (bf16 autocast outputs are widened; float64 stays)."""
    return embeddings.to(torch.promote_types(embeddings.dtype, torch.float32))
