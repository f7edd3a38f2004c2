"""CPU dropout: the mask's drop rate, forward and gradient by hand, attention by hand, and that the trainer's
forward passes draw no mask with torch's own (slower) dropout."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

from instructor_lib.data import collate
from instructor_lib.dropout import LEVELS, attention, cpu_dropout, drop_mask, dropout
from instructor_lib.loss import instructor_loss
from instructor_lib.tiny import tiny_bert, tiny_t5
from instructor_lib.training import loss_and_backward

from helpers import make_records, one_thread  # noqa: F401 (one_thread: autouse fixture)


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5])
def test_each_element_is_dropped_with_probability_p_rounded_to_sixteen_bits(p):
    torch.manual_seed(0)
    n = 1 << 22
    dropped = drop_mask((n // 4, 4), p).double()  # column j: the j-th 16 bits of each 64-bit draw
    expected = round(p * LEVELS) / LEVELS
    assert abs(expected - p) <= 0.5 / LEVELS
    sd = math.sqrt(expected * (1 - expected) / n)
    assert abs(dropped.mean().item() - expected) < 5 * sd  # 5 binomial sds: fails 1 time in 1.7 million
    for lane in dropped.T:  # every 16-bit lane of the draw is uniform, not only their average
        assert abs(lane.mean().item() - expected) < 5 * 2 * sd
    # consecutive elements are independent: both dropped with probability p^2
    both = (dropped[:, :-1] * dropped[:, 1:]).mean().item()
    assert abs(both - expected ** 2) < 5 * math.sqrt(expected ** 2 * (1 - expected ** 2) / (3 * n // 4))


def test_masks_follow_torchs_seed_and_generator_state():
    torch.manual_seed(7)
    first, second = drop_mask((33, 5), 0.1), drop_mask((33, 5), 0.1)
    torch.manual_seed(7)
    assert torch.equal(drop_mask((33, 5), 0.1), first)  # an odd element count uses part of the last draw
    assert not torch.equal(first, second)
    state = torch.get_rng_state()
    again = drop_mask((33, 5), 0.1)
    torch.set_rng_state(state)  # what gradient caching replays
    assert torch.equal(drop_mask((33, 5), 0.1), again)


def test_dropout_and_its_gradient_by_hand():
    x = torch.randn(6, 50, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(6, 50, dtype=torch.float64)
    torch.manual_seed(3)
    out = dropout(x, 0.25)
    (out * weights).sum().backward()
    torch.manual_seed(3)
    keep = ~drop_mask(x.shape, 0.25)
    assert 0 < keep.sum() < keep.numel()
    scale = 1 / 0.75  # inverted dropout multiplies by 1/(1-p), as torch's does
    assert torch.equal(out, torch.where(keep, x.detach() * scale, 0.0))
    assert torch.equal(x.grad, torch.where(keep, weights * scale, 0.0))
    assert dropout(x, 0.0) is x
    assert torch.equal(dropout(x, 1.0), torch.zeros_like(x))
    with pytest.raises(ValueError, match="must be in"):
        dropout(x, 1.5)


@pytest.mark.parametrize("mask_kind", ["bool", "additive", "none"])
def test_attention_with_dropout_by_hand(mask_kind):
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 3, 5, 4, dtype=torch.float64) for _ in range(3))
    attend = torch.rand(2, 1, 1, 5) > 0.3
    attend[..., 0] = True
    mask = {"bool": attend, "additive": torch.where(attend, 0.0, -1e9).double(), "none": None}[mask_kind]
    torch.manual_seed(11)
    with cpu_dropout():  # the route transformers' "sdpa" attention takes
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=0.2, scale=0.4)
    torch.manual_seed(11)
    keep = ~drop_mask((2, 3, 5, 5), 0.2)
    scores = torch.einsum("bhqd,bhkd->bhqk", q, k) * 0.4
    if mask_kind != "none":
        scores = scores.masked_fill(~attend, -math.inf)
    expected = torch.einsum("bhqk,bhkd->bhqd", torch.where(keep, scores.softmax(-1) / 0.8, 0.0), v)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e3 * torch.finfo(torch.float64).eps)
    torch.manual_seed(11)
    assert torch.equal(attention(q, k, v, mask, 0.2, 0.4), out)
    with cpu_dropout():  # without dropout: torch's own kernel, untouched
        plain = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert torch.equal(plain, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))


def test_dropout_modules_use_it_in_training_only():
    layer = torch.nn.Dropout(0.1)
    x = torch.randn(40, 30)
    with cpu_dropout():
        torch.manual_seed(5)
        out = layer(x)
        assert torch.equal(layer.eval()(x), x)
    torch.manual_seed(5)
    assert torch.equal(out, dropout(x, 0.1))


@pytest.mark.parametrize("make_model", [tiny_bert, tiny_t5], ids=["bert", "t5"])
def test_a_cpu_training_step_draws_every_mask_here(make_model):
    model = make_model().train()
    batch = collate(make_records(1, 4))
    with profile(activities=[ProfilerActivity.CPU]) as trace:
        loss_and_backward(model, batch, instructor_loss, 0.01, chunk_size=5)
    ops = {event.name for event in trace.events()}
    assert "aten::random_" in ops  # our masks were drawn ...
    assert not ops & {"aten::bernoulli_", "aten::native_dropout", "aten::dropout"}  # ... and no torch dropout ran
