"""A Llama-family decoder in plain torch, loaded from a Hugging Face `config.json` + `model.safetensors`.

Needs only torch and numpy (Debian's python3-torch is enough; no transformers). Computes in float32 and
follows transformers' LlamaForCausalLM step for step: RMSNorm (x * rsqrt(mean(x^2) + eps) * weight), rotary
embedding in the "rotate half" convention with inverse frequencies theta^(-2i/head_dim), grouped-query
attention (query head h reads KV head h // (q_heads / kv_heads)), SwiGLU MLP (down(silu(gate(x)) * up(x))),
no biases, final norm and LM head (tied to the embedding when the config says so).

The model keeps a KV cache of post-rotary keys and values, so a prompt can be run in chunks and then decoded
one token at a time. Two optional callbacks let callers see or replace attention:
  observe(layer, q, k, v, out)           q/out [q_heads, S, D] and k/v [kv_heads, S, D] of the S new tokens
  attend(layer, q, keys, values, pos)    replaces attention: keys/values [kv_heads, L, D] hold every cached
                                         position 0..L-1 (the new ones included), pos [S] the queries'
                                         positions; returns [q_heads, S, D]
"""
import json
import math
import os
from dataclasses import dataclass

import numpy as np
import torch

from . import safetensors_numpy


class ModelError(ValueError):
    """A model directory this code cannot load; the message names the file and the key."""


@dataclass
class LlamaConfig:
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_q_heads: int
    num_kv_heads: int
    head_dim: int
    rope_theta: float
    rms_norm_eps: float
    rope_scaling: dict | None
    tie_word_embeddings: bool
    max_position_embeddings: int
    torch_dtype: str

    @staticmethod
    def from_file(path):
        with open(path) as f:
            c = json.load(f)

        def need(key):
            if key not in c:
                raise ModelError(f"{path}: key '{key}' is missing")
            return c[key]

        if c.get("model_type", "llama") not in ("llama", "mistral"):
            raise ModelError(f"{path}: model_type '{c.get('model_type')}' is not a Llama-layout model")
        if c.get("hidden_act", "silu") != "silu":
            raise ModelError(f"{path}: hidden_act '{c['hidden_act']}' is not supported (expected silu)")
        for bias in ("attention_bias", "mlp_bias"):
            if c.get(bias, False):
                raise ModelError(f"{path}: '{bias}' is true; this implementation has no biases")
        heads = need("num_attention_heads")
        hidden = need("hidden_size")
        cfg = LlamaConfig(
            vocab_size=need("vocab_size"), hidden_size=hidden, intermediate_size=need("intermediate_size"),
            num_layers=need("num_hidden_layers"), num_q_heads=heads,
            num_kv_heads=c.get("num_key_value_heads") or heads,
            head_dim=c.get("head_dim") or hidden // heads, rope_theta=float(c.get("rope_theta", 10000.0)),
            rms_norm_eps=float(c.get("rms_norm_eps", 1e-6)), rope_scaling=c.get("rope_scaling"),
            tie_word_embeddings=bool(c.get("tie_word_embeddings", False)),
            max_position_embeddings=int(c.get("max_position_embeddings", 0)),
            torch_dtype=str(c.get("torch_dtype", "unknown")))
        if cfg.num_q_heads % cfg.num_kv_heads:
            raise ModelError(f"{path}: num_attention_heads {heads} is not a multiple of num_key_value_heads "
                             f"{cfg.num_kv_heads}")
        kind = (cfg.rope_scaling or {}).get("rope_type", (cfg.rope_scaling or {}).get("type"))
        if cfg.rope_scaling is not None and kind not in ("default", "linear", "llama3"):
            raise ModelError(f"{path}: rope_scaling type '{kind}' is not supported (default, linear, llama3)")
        return cfg

    def rope_scaling_text(self):
        if not self.rope_scaling:
            return "none"
        return " ".join(f"{k}={v}" for k, v in sorted(self.rope_scaling.items()))


def rope_inverse_frequencies(cfg):
    """Inverse frequencies of the rotary embedding, as transformers computes them (float32)."""
    d = cfg.head_dim
    inv = 1.0 / (cfg.rope_theta ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
    scaling = cfg.rope_scaling or {}
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    if kind == "linear":
        inv = inv / float(scaling["factor"])
    elif kind == "llama3":
        factor = float(scaling["factor"])
        low, high = float(scaling["low_freq_factor"]), float(scaling["high_freq_factor"])
        old_len = float(scaling["original_max_position_embeddings"])
        wavelen = 2 * math.pi / inv
        low_wavelen, high_wavelen = old_len / low, old_len / high
        scaled = torch.where(wavelen > low_wavelen, inv / factor, inv)
        smooth = (old_len / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = (wavelen >= high_wavelen) & (wavelen <= low_wavelen)
        inv = torch.where(medium, smoothed, scaled)
    return inv


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rope(x, cos, sin):
    """x [heads, S, D]; cos/sin [S, D]."""
    return x * cos + rotate_half(x) * sin


def rms_norm(x, weight, eps):
    variance = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(variance + eps))


def causal_attention(q, keys, values, positions, scale, group):
    """Exact attention of queries q [Hq, S, D] at `positions` over keys/values [Hkv, L, D] at 0..L-1,
    each query attending to positions <= its own. Softmax in float32."""
    k = keys.repeat_interleave(group, dim=0)
    v = values.repeat_interleave(group, dim=0)
    scores = torch.matmul(q, k.transpose(1, 2)) * scale
    key_pos = torch.arange(keys.shape[1], device=q.device)
    mask = key_pos[None, :] > positions[:, None]
    scores = scores.masked_fill(mask[None], float("-inf"))
    return torch.matmul(torch.softmax(scores, dim=-1), v)


class KVCache:
    """Post-rotary keys and values of every layer, [kv_heads, capacity, D] each, filled up to `length`."""

    def __init__(self, cfg, capacity, device):
        shape = (cfg.num_kv_heads, capacity, cfg.head_dim)
        self.keys = [torch.zeros(shape, device=device) for _ in range(cfg.num_layers)]
        self.values = [torch.zeros(shape, device=device) for _ in range(cfg.num_layers)]
        self.length = 0
        self.capacity = capacity


class LlamaTorch:
    def __init__(self, cfg, weights, device="cpu"):
        self.cfg = cfg
        self.device = torch.device(device)

        def w(name):
            if name not in weights:
                raise ModelError(f"weight '{name}' is missing")
            return torch.from_numpy(np.ascontiguousarray(weights[name], dtype=np.float32)).to(self.device)

        self.embed = w("model.embed_tokens.weight")
        self.layers = []
        for i in range(cfg.num_layers):
            p = f"model.layers.{i}."
            self.layers.append({name: w(p + full) for name, full in (
                ("q", "self_attn.q_proj.weight"), ("k", "self_attn.k_proj.weight"),
                ("v", "self_attn.v_proj.weight"), ("o", "self_attn.o_proj.weight"),
                ("gate", "mlp.gate_proj.weight"), ("up", "mlp.up_proj.weight"), ("down", "mlp.down_proj.weight"),
                ("norm1", "input_layernorm.weight"), ("norm2", "post_attention_layernorm.weight"))})
        self.norm = w("model.norm.weight")
        self.lm_head = self.embed if cfg.tie_word_embeddings and "lm_head.weight" not in weights \
            else w("lm_head.weight")
        self.inv_freq = rope_inverse_frequencies(cfg).to(self.device)
        self.scale = 1.0 / math.sqrt(cfg.head_dim)
        self._check_shapes()

    @staticmethod
    def load(model_dir, device="cpu"):
        cfg = LlamaConfig.from_file(os.path.join(model_dir, "config.json"))
        weights = safetensors_numpy.load(os.path.join(model_dir, "model.safetensors"))
        return LlamaTorch(cfg, weights, device)

    def _check_shapes(self):
        c = self.cfg
        want = {"q": (c.num_q_heads * c.head_dim, c.hidden_size), "k": (c.num_kv_heads * c.head_dim, c.hidden_size),
                "v": (c.num_kv_heads * c.head_dim, c.hidden_size), "o": (c.hidden_size, c.num_q_heads * c.head_dim),
                "gate": (c.intermediate_size, c.hidden_size), "up": (c.intermediate_size, c.hidden_size),
                "down": (c.hidden_size, c.intermediate_size), "norm1": (c.hidden_size,), "norm2": (c.hidden_size,)}
        for i, layer in enumerate(self.layers):
            for name, shape in want.items():
                if tuple(layer[name].shape) != shape:
                    raise ModelError(f"layer {i} weight '{name}' has shape {tuple(layer[name].shape)}, "
                                     f"expected {shape} (config.json)")
        if tuple(self.embed.shape) != (c.vocab_size, c.hidden_size):
            raise ModelError(f"embed_tokens has shape {tuple(self.embed.shape)}, expected "
                             f"{(c.vocab_size, c.hidden_size)}")

    def new_cache(self, capacity):
        return KVCache(self.cfg, capacity, self.device)

    @torch.no_grad()
    def forward(self, tokens, cache, observe=None, attend=None):
        """Runs the new `tokens` (1-D) at positions cache.length.. and returns their logits [S, vocab]."""
        c = self.cfg
        tokens = torch.as_tensor(tokens, dtype=torch.long, device=self.device)
        s = tokens.shape[0]
        start = cache.length
        if start + s > cache.capacity:
            raise ValueError(f"KV cache holds {cache.capacity} positions; {start + s} needed")
        positions = torch.arange(start, start + s, device=self.device)
        freqs = positions[:, None].float() * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        group = c.num_q_heads // c.num_kv_heads
        x = self.embed[tokens]
        for i, p in enumerate(self.layers):
            h = rms_norm(x, p["norm1"], c.rms_norm_eps)
            q = (h @ p["q"].T).view(s, c.num_q_heads, c.head_dim).transpose(0, 1)
            k = (h @ p["k"].T).view(s, c.num_kv_heads, c.head_dim).transpose(0, 1)
            v = (h @ p["v"].T).view(s, c.num_kv_heads, c.head_dim).transpose(0, 1)
            q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
            cache.keys[i][:, start:start + s] = k
            cache.values[i][:, start:start + s] = v
            keys, values = cache.keys[i][:, :start + s], cache.values[i][:, :start + s]
            if attend is None:
                out = causal_attention(q, keys, values, positions, self.scale, group)
            else:
                out = attend(i, q, keys, values, positions)
            if observe is not None:
                observe(i, q, k, v, out)
            x = x + out.transpose(0, 1).reshape(s, c.num_q_heads * c.head_dim) @ p["o"].T
            h = rms_norm(x, p["norm2"], c.rms_norm_eps)
            x = x + (torch.nn.functional.silu(h @ p["gate"].T) * (h @ p["up"].T)) @ p["down"].T
        cache.length = start + s
        return rms_norm(x, self.norm, c.rms_norm_eps) @ self.lm_head.T

    def prefill(self, tokens, cache, chunk=512, observe=None, attend=None):
        """Runs `tokens` in chunks (memory ~ chunk x context per layer); returns logits [len(tokens), vocab]."""
        logits = []
        for begin in range(0, len(tokens), chunk):
            logits.append(self.forward(tokens[begin:begin + chunk], cache, observe, attend))
        return torch.cat(logits) if logits else torch.zeros((0, self.cfg.vocab_size), device=self.device)


def bits_per_token(logits, targets):
    """Mean cross-entropy in bits of `targets` [S] under `logits` [S, vocab] (float64 accumulation)."""
    logp = torch.log_softmax(logits.double(), dim=-1)
    nll = -logp.gather(1, torch.as_tensor(targets, device=logits.device).long()[:, None]).squeeze(1)
    return float(nll.mean() / math.log(2))
