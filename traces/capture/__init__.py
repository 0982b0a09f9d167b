"""Attention-trace capture from Llama-family models (traces/FORMAT.md): self-contained torch and transformers backends."""
