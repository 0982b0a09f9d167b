"""Model-level quality of HGCA attention (docs/QUALITY.md): sparsity policies and bits per byte."""
