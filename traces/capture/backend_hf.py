"""Capture backend on Hugging Face transformers: any Llama-family causal LM (Llama, Mistral, Qwen2, ...).

What is recorded, and from where (so that the trace is the model's own computation, not a re-implementation):
  queries  the query states returned by the model's own `apply_rotary_pos_emb` (looked up in the module that
           defines the attention class and wrapped, there and as the modules' `rotary_fn`), at every step, and
           in the prefill at the requested prompt positions (prompt queries);
  outputs  the input of each layer's `o_proj` (attention output with heads concatenated), at every step;
  keys, values  the model's KV cache after the last decode step (post-rotary keys, as the model attends).
The layer a rotary call belongs to is known from a forward pre-hook on each attention module.
"""
import os
import sys

import numpy as np
import torch


def _cache_layer(cache, layer):
    """(keys, values) [batch, kv_heads, positions, D] of one layer, across transformers' cache APIs."""
    if hasattr(cache, "layers"):  # transformers >= 4.56: Cache.layers[i].keys / .values
        entry = cache.layers[layer]
        return entry.keys, entry.values
    if hasattr(cache, "key_cache"):  # DynamicCache of 4.36 .. 4.55
        return cache.key_cache[layer], cache.value_cache[layer]
    return cache[layer][0], cache[layer][1]  # legacy tuple of tuples


def _rope_theta(config):
    theta = getattr(config, "rope_theta", None)
    if theta is None:  # transformers 5 keeps rotary settings in rope_parameters
        theta = (getattr(config, "rope_parameters", None) or {}).get("rope_theta", 0.0)
    return float(theta)


def _rope_scaling_text(config):
    scaling = getattr(config, "rope_scaling", None)
    if scaling is None:
        params = dict(getattr(config, "rope_parameters", None) or {})
        params.pop("rope_theta", None)
        scaling = params if params.get("rope_type", "default") != "default" else None
    if not scaling:
        return "none"
    return " ".join(f"{k}={v}" for k, v in sorted(scaling.items()))


class HFBackend:
    name = "capture:transformers"

    def __init__(self, model_dir, device="cuda", attn_implementation="eager"):
        import transformers
        from transformers import AutoModelForCausalLM

        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
        dtype_key = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
        self.model = AutoModelForCausalLM.from_pretrained(
            model_dir, **{dtype_key: torch.float32}, attn_implementation=attn_implementation).to(device).eval()
        self.device = torch.device(device)
        cfg = self.model.config
        self.layers = self.model.model.layers
        attn = self.layers[0].self_attn
        heads = cfg.num_attention_heads
        self.num_q_heads = heads
        self.num_kv_heads = getattr(cfg, "num_key_value_heads", None) or heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // heads
        self.info = dict(model_name=os.path.basename(os.path.normpath(model_dir)), num_layers=len(self.layers),
                         num_q_heads=self.num_q_heads, num_kv_heads=self.num_kv_heads, head_dim=self.head_dim,
                         rope_theta=_rope_theta(cfg), rope_scaling=_rope_scaling_text(cfg),
                         softmax_scale=float(getattr(attn, "scaling", self.head_dim ** -0.5)),
                         model_dtype="float32", vocab_size=cfg.vocab_size,
                         weights_dtype=str(getattr(cfg, "torch_dtype", None) or getattr(cfg, "dtype", "unknown")),
                         library=f"torch {torch.__version__}, transformers {transformers.__version__}")
        self._install_hooks(attn)
        self.cache = None

    def _install_hooks(self, attn):
        self.current_layer = None
        self.recording = False
        self.q = np.zeros((len(self.layers), self.num_q_heads, self.head_dim), np.float32)
        self.out = np.zeros_like(self.q)
        self.seen_q = set()
        self.seen_out = set()
        self.prompt_rows = None  # during a prefill that records prompt queries: the positions (a tensor)
        self.pq = None
        module = sys.modules[type(attn).__module__]
        if not hasattr(module, "apply_rotary_pos_emb"):
            raise RuntimeError(f"{module.__name__} has no apply_rotary_pos_emb: this transformers version "
                               "computes rotary embeddings elsewhere; the capture must be adapted")
        original = module.apply_rotary_pos_emb
        backend = self

        def recording_rope(q, k, *args, **kwargs):
            q_embed, k_embed = original(q, k, *args, **kwargs)
            if backend.prompt_rows is not None and backend.current_layer is not None:
                # Prefill: [batch, q_heads, prompt_length, D]; keep the requested positions.
                rows = backend.prompt_rows.to(q_embed.device)
                backend.pq[backend.current_layer] = q_embed[0][:, rows].float().cpu().numpy()
                backend.seen_q.add(backend.current_layer)
            if backend.recording and backend.current_layer is not None:
                # [batch, q_heads, seq, D]: the one new token of this decode step.
                backend.q[backend.current_layer] = q_embed[0, :, -1].float().cpu().numpy()
                backend.seen_q.add(backend.current_layer)
            return q_embed, k_embed

        module.apply_rotary_pos_emb = recording_rope
        for i, layer in enumerate(self.layers):
            # Recent versions also keep the function on each attention module (self.rotary_fn); a forward
            # that calls it instead of the module-level name must be recorded too.
            if hasattr(layer.self_attn, "rotary_fn"):
                layer.self_attn.rotary_fn = recording_rope
            def enter(mod, args, kwargs=None, i=i):
                backend.current_layer = i

            def o_proj_input(mod, args, i=i):
                if backend.recording:
                    x = args[0]  # [batch, seq, q_heads * D]
                    backend.out[i] = x[0, -1].float().view(backend.num_q_heads, backend.head_dim).cpu().numpy()
                    backend.seen_out.add(i)

            layer.self_attn.register_forward_pre_hook(enter)
            layer.self_attn.o_proj.register_forward_pre_hook(o_proj_input)

    @torch.no_grad()
    def prefill(self, tokens, capacity, prompt_query_positions=()):
        """As TorchBackend.prefill: (last logits, prompt bits per token, prompt queries [L, Hq, P, D])."""
        from .llama_torch import bits_per_token

        ids = torch.tensor([tokens], dtype=torch.long, device=self.device)
        self.recording = False
        wanted = list(prompt_query_positions)
        self.pq = np.zeros((len(self.layers), self.num_q_heads, len(wanted), self.head_dim), np.float32)
        self.prompt_rows = torch.tensor(wanted, dtype=torch.long) if wanted else None
        self.seen_q.clear()
        try:
            result = self.model(input_ids=ids, use_cache=True)
        finally:
            self.prompt_rows = None
        if wanted and len(self.seen_q) != len(self.layers):
            missing = min(set(range(len(self.layers))) - self.seen_q)
            raise RuntimeError(f"prefill recorded no prompt queries for layer {missing}: the hooks did not fire "
                               "(unsupported attention implementation?)")
        self.cache = result.past_key_values
        logits = result.logits[0].float()
        bits = bits_per_token(logits[:-1], tokens[1:]) if len(tokens) > 1 else float("nan")
        return logits[-1], bits, self.pq.copy()

    @torch.no_grad()
    def decode(self, token):
        ids = torch.tensor([[token]], dtype=torch.long, device=self.device)
        self.recording = True
        self.seen_q.clear()
        self.seen_out.clear()
        try:
            result = self.model(input_ids=ids, past_key_values=self.cache, use_cache=True)
        finally:
            self.recording = False
        missing = set(range(len(self.layers))) - (self.seen_q & self.seen_out)
        if missing:
            raise RuntimeError(f"decode step recorded no query/output for layer {min(missing)}: the hooks did not "
                               "fire (unsupported attention implementation?)")
        self.cache = result.past_key_values
        return result.logits[0, -1].float(), self.q.copy(), self.out.copy()

    def kv(self, layer):
        keys, values = _cache_layer(self.cache, layer)
        return keys[0].float().cpu().numpy(), values[0].float().cpu().numpy()
