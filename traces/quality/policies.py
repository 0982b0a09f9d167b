"""Sparsity policies in torch, with the semantics of the C++ ones (traces/policies, docs/REPLAY.md).

Every policy chooses, for each query head and decode query, a subset of the CPU-resident candidate positions
[begin, end) (older than the GPU window, after the sinks). Inputs, for one layer and a chunk of S queries:
  scores  [Hq, S, L]  scale * q . k_j for every position j (entries outside the candidates are ignored)
  cand    [S, L]      True where position j is a CPU-resident candidate of query s
  ctx     a Context with what the policy may also need (keys, positions, layer, ...)
and the result is a bool mask [Hq, S, L], a subset of `cand`. Budgets are fractions of the candidates,
rounded up (Budget::count: ceil(frac * n - 1e-9), at most n).

  topk:frac=F     the k highest scores per head among the candidates
  topp:p=P        the smallest set whose softmax mass over the candidates reaches P (largest first)
  block:size=B,frac=F  Quest-like: blocks of B absolute positions ranked by the upper bound
                  sum_d max(q_d kmin_d, q_d kmax_d) over each block's CPU-resident keys; the best
                  ceil(F * blocks) blocks, expanded and clipped to the candidates
  h2o:frac=F      heavy hitters: per head, the positions with the highest attention accumulated over past
                  decode steps (each step adds exp(score - lse) of the merged attention to every position the
                  head attended: window, sinks and its own selection); ties and zeros go to the most recent
                  positions. Stateful: decode queries are processed in order.
  random:frac=F   uniform without replacement, seeded per (seed, layer, chunk)
  window          nothing from the CPU (window-only)
"""
from dataclasses import dataclass, field

import torch


def budget_count(frac, n):
    """Budget::count for a fraction: ceil(frac * n - 1e-9) clamped to [0, n]; n is a tensor of counts."""
    return torch.clamp(torch.ceil(frac * n.double() - 1e-9), min=0).long().minimum(n)


def top_by_rank(weights, valid, k, ties_to_later=False):
    """Mask of the k[s] best entries per row of `weights` [H, S, L] among `valid` [S, L] (or [H, S, L]).
    Ties go to the lower position, or to the higher one with ties_to_later (as top_count)."""
    h, s, length = weights.shape
    w = weights.masked_fill(~valid.expand(h, s, length), float("-inf"))
    if ties_to_later:
        w = w.flip(-1)
    order = torch.sort(w, dim=-1, descending=True, stable=True).indices
    ranks = torch.empty_like(order)
    ranks.scatter_(-1, order, torch.arange(length, device=w.device).expand(h, s, length))
    if ties_to_later:
        ranks = ranks.flip(-1)
    return (ranks < k.view(1, s, 1)) & valid


@dataclass
class Context:
    layer: int
    positions: torch.Tensor      # [S] position of each query
    begin: int                   # first candidate position (= sinks)
    end: torch.Tensor            # [S] one past the last candidate of each query
    keys: torch.Tensor           # [Hkv, L, D] post-rotary keys
    q: torch.Tensor              # [Hq, S, D]
    scale: float
    group: int
    seed: int = 0
    chunk_index: int = 0
    state: dict = field(default_factory=dict)  # per-policy state across chunks (H2O accumulators), per layer


class Policy:
    name = "policy"
    stateful = False

    def select(self, scores, cand, ctx):
        raise NotImplementedError

    def observe(self, ctx, step, attended, weights):
        """After query `step` of the chunk: attended [Hq, L] bool, weights [Hq, L] = exp(score - lse)."""


class Window(Policy):
    name = "window"

    def select(self, scores, cand, ctx):
        return torch.zeros(scores.shape, dtype=torch.bool, device=scores.device)


class TopK(Policy):
    def __init__(self, frac):
        self.frac = frac
        self.name = f"topk:frac={frac:g}"

    def select(self, scores, cand, ctx):
        k = budget_count(self.frac, cand.sum(-1))
        return top_by_rank(scores, cand, k)


class TopP(Policy):
    def __init__(self, p):
        self.p = p
        self.name = f"topp:p={p:g}"

    def select(self, scores, cand, ctx):
        if self.p >= 1:  # the whole mass: every candidate, including those whose weight underflows to 0
            return cand.expand(scores.shape).clone()
        w = scores.masked_fill(~cand, float("-inf")).double()
        prob = torch.softmax(w, dim=-1).nan_to_num(0.0)  # rows without candidates: all zero
        order = torch.sort(prob, dim=-1, descending=True, stable=True)
        before = torch.cumsum(order.values, dim=-1) - order.values  # mass of the better entries
        take_sorted = (before < self.p - 1e-12) & (order.values > 0)
        take = torch.zeros_like(take_sorted)
        take.scatter_(-1, order.indices, take_sorted)
        return take & cand


class Block(Policy):
    def __init__(self, size, frac):
        self.size = size
        self.frac = frac
        self.name = f"block:size={size},frac={frac:g}"

    def select(self, scores, cand, ctx):
        b = self.size
        hkv, length, d = ctx.keys.shape
        nblocks = (length + b - 1) // b
        padded = torch.nn.functional.pad(ctx.keys, (0, 0, 0, nblocks * b - length))
        blocks = padded.view(hkv, nblocks, b, d)
        # Running min/max inside each block: entry i summarizes the block's positions up to i, so a partially
        # CPU-resident tail block is summarized over its resident part only.
        valid_pad = torch.arange(nblocks * b, device=ctx.keys.device).view(nblocks, b, 1) < length
        big = torch.finfo(ctx.keys.dtype).max
        run_max = torch.cummax(blocks.masked_fill(~valid_pad, -big), dim=2).values
        run_min = torch.cummin(blocks.masked_fill(~valid_pad, big), dim=2).values
        q = ctx.q  # [Hq, S, D]
        kv_of = torch.arange(q.shape[0], device=q.device) // ctx.group
        full_max, full_min = run_max[:, :, -1][kv_of], run_min[:, :, -1][kv_of]  # [Hq, nblocks, D]
        qp, qn = q.clamp(min=0), q.clamp(max=0)
        bounds = (qp @ full_max.transpose(1, 2) + qn @ full_min.transpose(1, 2)) * ctx.scale  # [Hq, S, nb]
        end = ctx.end
        tail = ((end - 1).clamp(min=0) // b)  # [S] block of the newest candidate
        within = ((end - 1).clamp(min=0) % b)
        tail_max = run_max[kv_of][:, tail, within]  # [Hq, S, D]
        tail_min = run_min[kv_of][:, tail, within]
        tail_bound = ((qp * tail_max).sum(-1) + (qn * tail_min).sum(-1)) * ctx.scale
        bounds.scatter_(-1, tail.view(1, -1, 1).expand(q.shape[0], -1, 1), tail_bound.unsqueeze(-1))
        block_ids = torch.arange(nblocks, device=q.device)
        b0, b1 = ctx.begin // b, (end + b - 1) // b  # resident blocks [b0, b1(s))
        resident = (block_ids.view(1, -1) >= b0) & (block_ids.view(1, -1) < b1.view(-1, 1)) & (end > ctx.begin).view(-1, 1)
        k = budget_count(self.frac, resident.sum(-1))
        chosen = top_by_rank(bounds, resident, k)  # [Hq, S, nb]
        positions = torch.arange(length, device=q.device)
        return chosen[:, :, positions // b] & cand


class H2O(Policy):
    stateful = True

    def __init__(self, frac):
        self.frac = frac
        self.name = f"h2o:frac={frac:g}"

    def accumulator(self, ctx, hq, length):
        acc = ctx.state.setdefault(("h2o", ctx.layer), torch.zeros(hq, 0, dtype=torch.float64))
        if acc.shape[1] < length:
            acc = torch.cat([acc, torch.zeros(hq, length - acc.shape[1], dtype=torch.float64)], dim=1)
            ctx.state[("h2o", ctx.layer)] = acc
        return acc

    def select_one(self, ctx, step, cand_row):
        """Selection of query `step` alone: [Hq, L] from the accumulators of the steps before it."""
        hq = ctx.q.shape[0]
        acc = self.accumulator(ctx, hq, cand_row.shape[0])
        k = budget_count(self.frac, cand_row.sum().view(1))
        return top_by_rank(acc.unsqueeze(1), cand_row.view(1, -1), k, ties_to_later=True)[:, 0]

    def observe(self, ctx, step, attended, weights):
        acc = self.accumulator(ctx, attended.shape[0], attended.shape[1])
        acc += torch.where(attended, weights.double(), torch.zeros((), dtype=torch.float64))


class Random(Policy):
    def __init__(self, frac, seed=0):
        self.frac = frac
        self.seed = seed
        self.name = f"random:frac={frac:g}"

    def select(self, scores, cand, ctx):
        gen = torch.Generator().manual_seed(self.seed * 1000003 + ctx.layer * 7919 + ctx.chunk_index)
        noise = torch.rand(scores.shape, generator=gen, dtype=torch.float64).to(scores.device)
        k = budget_count(self.frac, cand.sum(-1))
        return top_by_rank(noise.float(), cand, k)


def make_policy(spec, seed=0):
    """'window', 'topk:0.02', 'topp:0.9', 'block:0.02' (size 16) or 'block16:0.02', 'h2o:0.02', 'random:0.02'."""
    if spec == "window":
        return Window()
    name, _, value = spec.partition(":")
    try:
        x = float(value)
    except ValueError:
        raise ValueError(f"policy '{spec}': expected NAME:NUMBER (e.g. topk:0.02) or window") from None
    if name == "topp":
        if not 0 < x <= 1:
            raise ValueError(f"policy '{spec}': p must be in (0, 1]")
        return TopP(x)
    if not 0 < x <= 1:
        raise ValueError(f"policy '{spec}': the budget must be a fraction in (0, 1]")
    if name == "topk":
        return TopK(x)
    if name.startswith("block"):
        size = int(name[5:] or 16)
        return Block(size, x)
    if name == "h2o":
        return H2O(x)
    if name == "random":
        return Random(x, seed)
    raise ValueError(f"policy '{spec}': unknown policy '{name}' (window, topk, topp, block[SIZE], h2o, random)")

