"""HGCA attention as a drop-in for the attention of llama_torch.LlamaTorch (its `attend` callback).

For a decode query at position p: the GPU part attends densely to the attention sinks (positions < sinks)
and the window of the W most recent positions (p-W+1 .. p, itself included); the CPU part attends to the
positions a sparsity policy selects among the CPU-resident candidates [sinks, p-W+1); the two partial
results (normalized output and natural-log LSE each) are merged exactly by log-sum-exp, as the GPU merge
kernel does. With every candidate selected the result is exact attention.
"""
from dataclasses import dataclass

import torch

from .policies import Context


def partial_attention(scores, mask, values):
    """Softmax attention restricted to `mask`: (out [H, S, D], lse [H, S]); empty rows give (0, -inf)."""
    w = scores.masked_fill(~mask, float("-inf"))
    m = w.amax(-1, keepdim=True)
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    e = torch.exp(w - m)
    total = e.sum(-1, keepdim=True)
    out = (e @ values) / total.clamp_min(torch.finfo(total.dtype).tiny)
    lse = (m + torch.log(total)).squeeze(-1)  # log(0) = -inf for empty rows
    return out, lse


def merge(out_a, lse_a, out_b, lse_b):
    """Exact merge of two partial results over disjoint position sets."""
    m = torch.maximum(lse_a, lse_b)
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    wa, wb = torch.exp(lse_a - m), torch.exp(lse_b - m)
    total = (wa + wb).clamp_min(torch.finfo(wa.dtype).tiny)
    out = (wa.unsqueeze(-1) * out_a + wb.unsqueeze(-1) * out_b) / total.unsqueeze(-1)
    return out, m + torch.log(wa + wb)


@dataclass
class Stats:
    """Sums over (layer, query head, query) of decode queries that had CPU-resident candidates."""
    rows: int = 0
    candidates: int = 0     # CPU-resident entries
    selected: int = 0       # entries the policy selected
    recall: float = 0.0     # selected share of the exact attention mass that lies on the candidates
    cpu_mass: float = 0.0   # share of the exact attention mass that lies on the candidates

    def summary(self):
        rows = max(self.rows, 1)
        return dict(selected_fraction=self.selected / max(self.candidates, 1), mean_candidates=self.candidates / rows,
                    mean_selected=self.selected / rows, recall=self.recall / rows, cpu_mass=self.cpu_mass / rows)


class HGCAAttention:
    def __init__(self, policy, window, sinks, scale, group, seed=0):
        if window < 1 or sinks < 0:
            raise ValueError("window must be >= 1 and sinks >= 0")
        self.policy, self.window, self.sinks = policy, window, sinks
        self.scale, self.group, self.seed = scale, group, seed
        self.state = {}
        self.calls = {}
        self.stats = Stats()

    def __call__(self, layer, q, keys, values, positions):
        k = keys.repeat_interleave(self.group, dim=0)
        v = values.repeat_interleave(self.group, dim=0)
        scores = (q @ k.transpose(1, 2)) * self.scale  # [Hq, S, L]
        j = torch.arange(keys.shape[1], device=q.device).view(1, -1)
        p = positions.view(-1, 1)
        causal = j <= p
        gpu = causal & ((j < self.sinks) | (j > p - self.window))
        end = torch.clamp(positions - self.window + 1, min=self.sinks)
        cand = (j >= self.sinks) & (j < end.view(-1, 1))
        ctx = Context(layer=layer, positions=positions, begin=self.sinks, end=end, keys=keys, q=q,
                      scale=self.scale, group=self.group, seed=self.seed,
                      chunk_index=self.calls.get(layer, 0), state=self.state)
        self.calls[layer] = ctx.chunk_index + 1
        out_g, lse_g = partial_attention(scores, gpu, v)
        if self.policy.stateful:
            sel = torch.zeros(scores.shape, dtype=torch.bool, device=q.device)
            out = torch.empty_like(out_g)
            for s in range(q.shape[1]):  # in decode order: each step learns from the ones before
                sel[:, s] = self.policy.select_one(ctx, s, cand[s])
                out_c, lse_c = partial_attention(scores[:, s:s + 1], sel[:, s:s + 1], v)
                merged, lse = merge(out_g[:, s:s + 1], lse_g[:, s:s + 1], out_c, lse_c)
                out[:, s] = merged[:, 0]
                attended = gpu[s].unsqueeze(0) | sel[:, s]
                self.policy.observe(ctx, s, attended, torch.exp(scores[:, s] - lse))
        else:
            sel = self.policy.select(scores, cand, ctx)
            out_c, lse_c = partial_attention(scores, sel, v)
            out, _ = merge(out_g, lse_g, out_c, lse_c)
        self._count(scores, causal, cand, sel)
        return out

    def _count(self, scores, causal, cand, sel):
        has = cand.any(-1)  # [S]
        if not bool(has.any()):
            return
        prob = torch.softmax(scores.masked_fill(~causal, float("-inf")).double(), dim=-1)
        cpu_mass = (prob * cand).sum(-1)  # [Hq, S]
        sel_mass = (prob * sel).sum(-1)
        rows = has.expand_as(cpu_mass)
        self.stats.rows += int(rows.sum())
        self.stats.candidates += int(cand.sum(-1).expand_as(cpu_mass)[rows].sum())
        self.stats.selected += int(sel.sum(-1)[rows].sum())
        self.stats.cpu_mass += float(cpu_mass[rows].sum())
        self.stats.recall += float((sel_mass / cpu_mass.clamp_min(1e-300))[rows].sum())
