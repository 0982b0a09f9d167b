"""The Python policies against brute-force definitions, and HGCA attention against exact attention."""
import pytest

pytest.importorskip("torch", reason="torch is not installed (Debian: apt-get install python3-torch)")
pytest.importorskip("h5py", reason="h5py is not installed (Debian: apt-get install python3-h5py)")

import itertools
import math

import torch

from traces.quality.hgca_attention import HGCAAttention, merge, partial_attention
from traces.quality.policies import Block, Context, H2O, Random, TopK, TopP, Window, budget_count, make_policy


def make_case(seed=0, hq=4, hkv=2, s=5, length=60, d=8, window=8, sinks=2):
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(hq, s, d, generator=gen)
    keys = torch.randn(hkv, length, d, generator=gen)
    positions = torch.arange(length - s, length)
    group = hq // hkv
    scale = 1 / math.sqrt(d)
    scores = (q @ keys.repeat_interleave(group, 0).transpose(1, 2)) * scale
    end = torch.clamp(positions - window + 1, min=sinks)
    j = torch.arange(length).view(1, -1)
    cand = (j >= sinks) & (j < end.view(-1, 1))
    ctx = Context(layer=0, positions=positions, begin=sinks, end=end, keys=keys, q=q, scale=scale, group=group)
    return scores, cand, ctx


def test_budget_rounds_up_like_the_cpp_budget():
    n = torch.tensor([0, 1, 99, 100, 400, 401])
    assert budget_count(0.25, n).tolist() == [0, 1, 25, 25, 100, 101]
    assert budget_count(1.0, n).tolist() == n.tolist()


def test_topk_takes_the_highest_scores_among_candidates():
    scores, cand, ctx = make_case()
    sel = TopK(0.1).select(scores, cand, ctx)
    for h, s in itertools.product(range(4), range(5)):
        idx = torch.nonzero(cand[s]).flatten()
        k = math.ceil(0.1 * len(idx) - 1e-9)
        want = set(idx[torch.argsort(scores[h, s, idx], descending=True)[:k]].tolist())
        assert set(torch.nonzero(sel[h, s]).flatten().tolist()) == want


def test_topp_is_the_smallest_set_reaching_the_mass():
    scores, cand, ctx = make_case(seed=1)
    for p in (0.3, 0.9, 1.0):
        sel = TopP(p).select(scores, cand, ctx)
        for h, s in itertools.product(range(4), range(5)):
            idx = torch.nonzero(cand[s]).flatten()
            prob = torch.softmax(scores[h, s, idx].double(), 0)
            chosen = sel[h, s, idx]
            mass = float(prob[chosen].sum())
            assert mass >= p - 1e-9
            # Smallest: without its least probable member the set falls short of p.
            assert mass - float(prob[chosen].min()) < p - 1e-12
            # And it holds the most probable entries.
            rest = prob[~chosen]
            assert rest.numel() == 0 or float(prob[chosen].min()) >= float(rest.max())


def test_block_bound_is_an_upper_bound_and_picks_the_best_blocks():
    scores, cand, ctx = make_case(seed=2, length=70, window=8, sinks=3)
    size = 5
    sel = Block(size, 0.25).select(scores, cand, ctx)
    for h, s in itertools.product(range(4), range(5)):
        end = int(ctx.end[s])
        kv = ctx.keys[h // ctx.group]
        q = ctx.q[h, s]
        bounds = {}
        for b in range(ctx.begin // size, (end + size - 1) // size):
            rows = kv[b * size:min((b + 1) * size, end)]  # tail block: its CPU-resident part only
            bound = float((torch.maximum(q * rows.min(0).values, q * rows.max(0).values)).sum() * ctx.scale)
            for j in range(max(b * size, ctx.begin), min((b + 1) * size, end)):
                assert scores[h, s, j] <= bound + 1e-5  # an upper bound of every candidate's score
            bounds[b] = bound
        k = math.ceil(0.25 * len(bounds) - 1e-9)
        best = sorted(bounds, key=lambda b: (-bounds[b], b))[:k]
        want = {j for b in best for j in range(max(b * size, ctx.begin), min((b + 1) * size, end))}
        assert set(torch.nonzero(sel[h, s]).flatten().tolist()) == want


def test_h2o_accumulates_what_was_attended_and_prefers_recent_ties():
    scores, cand, ctx = make_case(seed=3)
    policy = H2O(0.1)
    first = policy.select_one(ctx, 0, cand[0])
    idx = torch.nonzero(cand[0]).flatten()
    k = math.ceil(0.1 * len(idx) - 1e-9)
    # Nothing accumulated yet: the k most recent candidates.
    assert set(torch.nonzero(first[0]).flatten().tolist()) == set(idx[-k:].tolist())
    weights = torch.zeros(4, scores.shape[-1])
    weights[:, idx[0]] = 0.5
    weights[:, idx[1]] = 0.25
    attended = weights > 0
    policy.observe(ctx, 0, attended, weights)
    second = policy.select_one(ctx, 1, cand[1])
    chosen = set(torch.nonzero(second[2]).flatten().tolist())
    assert {int(idx[0]), int(idx[1])} <= chosen  # the heavy hitters first, then recent ones
    # Weight on positions the head did not attend is not accumulated.
    policy.observe(ctx, 1, torch.zeros_like(attended), torch.ones(4, scores.shape[-1]))
    acc = ctx.state[("h2o", 0)]
    assert float(acc[0, idx[0]]) == 0.5 and float(acc[0, idx[2]]) == 0.0


def test_random_is_seeded_and_within_budget():
    scores, cand, ctx = make_case(seed=4)
    a = Random(0.2, seed=7).select(scores, cand, ctx)
    b = Random(0.2, seed=7).select(scores, cand, ctx)
    c = Random(0.2, seed=8).select(scores, cand, ctx)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert (a <= cand).all()
    assert a.sum(-1).tolist() == budget_count(0.2, cand.sum(-1)).expand(4, 5).tolist()


def test_make_policy_specs_and_errors():
    assert make_policy("block32:0.05").size == 32
    assert make_policy("block:0.05").size == 16
    assert isinstance(make_policy("window"), Window)
    for bad in ("topk:2", "topk:x", "nope:0.1", "topp:0"):
        with pytest.raises(ValueError):
            make_policy(bad)


def test_partial_attention_and_merge_are_exact():
    gen = torch.Generator().manual_seed(5)
    scores = torch.randn(2, 3, 20, generator=gen, dtype=torch.float64)
    values = torch.randn(2, 20, 4, generator=gen, dtype=torch.float64)
    left = torch.zeros(3, 20, dtype=torch.bool)
    left[:, :7] = True
    full_out, full_lse = partial_attention(scores, torch.ones(3, 20, dtype=torch.bool), values)
    a, la = partial_attention(scores, left, values)
    b, lb = partial_attention(scores, ~left, values)
    out, lse = merge(a, la, b, lb)
    torch.testing.assert_close(out, full_out)
    torch.testing.assert_close(lse, full_lse)
    empty_out, empty_lse = partial_attention(scores, torch.zeros(3, 20, dtype=torch.bool), values)
    assert torch.isinf(empty_lse).all() and (empty_out == 0).all()
    out2, lse2 = merge(a, la, empty_out, empty_lse)  # merging with the empty result is the identity
    torch.testing.assert_close(out2, a)
    torch.testing.assert_close(lse2, la)


@pytest.mark.parametrize("spec", ["topk:1.0", "topp:1.0", "block8:1.0", "h2o:1.0", "random:1.0"])
def test_hgca_with_every_candidate_selected_is_exact_attention(spec):
    gen = torch.Generator().manual_seed(6)
    q = torch.randn(4, 6, 8, generator=gen)
    keys, values = torch.randn(2, 50, 8, generator=gen), torch.randn(2, 50, 8, generator=gen)
    positions = torch.arange(44, 50)
    attention = HGCAAttention(make_policy(spec), window=10, sinks=3, scale=0.35, group=2)
    out = attention(0, q, keys, values, positions)
    scores = q @ keys.repeat_interleave(2, 0).transpose(1, 2) * 0.35
    causal = torch.arange(50).view(1, -1) <= positions.view(-1, 1)
    exact, _ = partial_attention(scores, causal.expand(4, 6, 50), values.repeat_interleave(2, 0))
    torch.testing.assert_close(out, exact, rtol=1e-5, atol=1e-6)
    summary = attention.stats.summary()
    assert summary["selected_fraction"] == pytest.approx(1.0) and summary["recall"] == pytest.approx(1.0)


def test_window_only_attends_sinks_and_window():
    gen = torch.Generator().manual_seed(7)
    q = torch.randn(2, 1, 4, generator=gen)
    keys, values = torch.randn(1, 30, 4, generator=gen), torch.randn(1, 30, 4, generator=gen)
    out = HGCAAttention(Window(), window=5, sinks=2, scale=0.5, group=2)(0, q, keys, values, torch.tensor([29]))
    idx = [0, 1, 25, 26, 27, 28, 29]
    s = (q[:, 0] @ keys[0, idx].T) * 0.5
    want = torch.softmax(s, -1) @ values[0, idx]
    torch.testing.assert_close(out[:, 0], want, rtol=1e-5, atol=1e-6)
