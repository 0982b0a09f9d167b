"""Capture backend on the self-contained Llama forward (llama_torch.py): needs torch, numpy and h5py only."""
import os

import numpy as np
import torch

from .llama_torch import LlamaTorch, bits_per_token


class TorchBackend:
    name = "capture:torch"

    def __init__(self, model_dir, device="cpu", chunk=512):
        self.model = LlamaTorch.load(model_dir, device)
        self.chunk = chunk
        c = self.model.cfg
        self.info = dict(model_name=os.path.basename(os.path.normpath(model_dir)), num_layers=c.num_layers,
                         num_q_heads=c.num_q_heads, num_kv_heads=c.num_kv_heads, head_dim=c.head_dim,
                         rope_theta=c.rope_theta, rope_scaling=c.rope_scaling_text(),
                         softmax_scale=self.model.scale, model_dtype="float32", vocab_size=c.vocab_size,
                         weights_dtype=c.torch_dtype, library=f"torch {torch.__version__}")
        self.cache = None

    def prefill(self, tokens, capacity, prompt_query_positions=()):
        """Runs the prompt; returns (logits of its last position, mean bits per token of tokens[1:], prompt
        queries [layers, q_heads, len(prompt_query_positions), D]: the post-rotary queries at those positions)."""
        c = self.model.cfg
        self.cache = self.model.new_cache(capacity)
        wanted = np.asarray(prompt_query_positions, dtype=np.int64)
        pq = np.zeros((c.num_layers, c.num_q_heads, len(wanted), c.head_dim), np.float32)
        cache = self.cache

        def observe(layer, q_rot, k_rot, v, attn_out):
            # q_rot [q_heads, S, D] holds positions cache.length .. cache.length + S - 1 (length grows after).
            start, s = cache.length, q_rot.shape[1]
            inside = (wanted >= start) & (wanted < start + s)
            if inside.any():
                pq[layer][:, inside] = q_rot[:, torch.as_tensor(wanted[inside] - start)].float().cpu().numpy()

        logits = self.model.prefill(tokens, self.cache, self.chunk, observe=observe if len(wanted) else None)
        bits = bits_per_token(logits[:-1], tokens[1:]) if len(tokens) > 1 else float("nan")
        return logits[-1], bits, pq

    def decode(self, token):
        """One decode step; returns (logits, q [layers, q_heads, D], out [layers, q_heads, D]) as numpy."""
        c = self.model.cfg
        q = np.zeros((c.num_layers, c.num_q_heads, c.head_dim), np.float32)
        out = np.zeros_like(q)

        def observe(layer, q_rot, k_rot, v, attn_out):
            q[layer] = q_rot[:, 0].float().cpu().numpy()
            out[layer] = attn_out[:, 0].float().cpu().numpy()

        logits = self.model.forward([token], self.cache, observe=observe)
        return logits[0], q, out

    def kv(self, layer):
        """Post-rotary keys and values of every cached position: [kv_heads, positions, D] each."""
        n = self.cache.length
        return (self.cache.keys[layer][:, :n].cpu().numpy(), self.cache.values[layer][:, :n].cpu().numpy())
