"""Shared fixtures: a small random Llama-layout model written to disk, and the real tinylm-code-8l model
when it can be found (HGCA_TINYLM_DIR, else models/tinylm-code-8l in the repository, else the developer
checkout's ../shared/models/tinylm-code-8l); tests that need it skip, saying so, when it cannot."""
import json
import os

import numpy as np
import pytest

from traces.capture import safetensors_numpy  # numpy only: the test modules skip without torch or h5py

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def tinylm_dir():
    for candidate in (os.environ.get("HGCA_TINYLM_DIR"), os.path.join(REPO, "models", "tinylm-code-8l"),
                      os.path.join(REPO, "..", "shared", "models", "tinylm-code-8l")):
        if candidate and os.path.exists(os.path.join(candidate, "model.safetensors")):
            return candidate
    return None


@pytest.fixture(scope="session")
def tinylm():
    path = tinylm_dir()
    if path is None:
        pytest.skip("tinylm-code-8l not found: set HGCA_TINYLM_DIR to its directory")
    return path


def write_random_model(path, layers=2, hidden=64, q_heads=4, kv_heads=2, head_dim=16, mlp=96, vocab=256,
                       theta=10000.0, seed=0, tie=False):
    """A Llama-layout checkpoint with random weights (scaled so activations stay O(1))."""
    rng = np.random.default_rng(seed)

    def mat(rows, cols):
        return (rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(np.float32)

    tensors = {"model.embed_tokens.weight": rng.standard_normal((vocab, hidden)).astype(np.float32),
               "model.norm.weight": (1 + 0.1 * rng.standard_normal(hidden)).astype(np.float32)}
    if not tie:
        tensors["lm_head.weight"] = mat(vocab, hidden)
    for i in range(layers):
        p = f"model.layers.{i}."
        tensors.update({
            p + "self_attn.q_proj.weight": 2 * mat(q_heads * head_dim, hidden),
            p + "self_attn.k_proj.weight": 2 * mat(kv_heads * head_dim, hidden),
            p + "self_attn.v_proj.weight": mat(kv_heads * head_dim, hidden),
            p + "self_attn.o_proj.weight": mat(hidden, q_heads * head_dim),
            p + "mlp.gate_proj.weight": mat(mlp, hidden), p + "mlp.up_proj.weight": mat(mlp, hidden),
            p + "mlp.down_proj.weight": mat(hidden, mlp),
            p + "input_layernorm.weight": (1 + 0.1 * rng.standard_normal(hidden)).astype(np.float32),
            p + "post_attention_layernorm.weight": (1 + 0.1 * rng.standard_normal(hidden)).astype(np.float32)})
    os.makedirs(path, exist_ok=True)
    safetensors_numpy.save(os.path.join(path, "model.safetensors"), tensors)
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": vocab,
              "hidden_size": hidden, "intermediate_size": mlp, "num_hidden_layers": layers,
              "num_attention_heads": q_heads, "num_key_value_heads": kv_heads, "head_dim": head_dim,
              "hidden_act": "silu", "max_position_embeddings": 4096, "rope_theta": theta, "rms_norm_eps": 1e-6,
              "tie_word_embeddings": tie, "attention_bias": False, "mlp_bias": False, "torch_dtype": "float32"}
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f)
    return path, tensors


@pytest.fixture
def random_model(tmp_path):
    path, _ = write_random_model(str(tmp_path / "random-llama"))
    return path


def held_out_text():
    """The repository's own Python (not in the model's training data): analysis/*.py, sorted."""
    data = b""
    for name in sorted(os.listdir(os.path.join(REPO, "analysis"))):
        if name.endswith(".py"):
            with open(os.path.join(REPO, "analysis", name), "rb") as f:
                data += f.read()
    return data
