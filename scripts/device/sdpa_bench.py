#!/usr/bin/env python3
"""PyTorch's scaled_dot_product_attention on the decode shapes of hgca_cuda_bench: the peer figures.

One query per sequence, K/V [batch, kv_heads, window, head_dim] in fp16 or bf16, enable_gqa=True, each SDPA
backend forced in turn (flash, cuDNN, efficient; unsupported ones are reported as such). GB/s counts the K
and V bytes read once. Median of --reps CUDA-event timings after warm-up, inputs rotating over enough copies
to exceed the L2 cache. One JSON object per line on stdout.

    python3 scripts/device/sdpa_bench.py [--shapes 1x1024,16x4096,...] [--dtype fp16,bf16] [--reps 50]
"""
import argparse
import json
import statistics
import sys
import warnings

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

DEFAULT_SHAPES = ("1x1024,1x32768,8x4096,8x32768,16x4096,32x4096,32x32768,64x1024,64x4096,64x16384,64x32768,"
                  "128x4096")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shapes", default=DEFAULT_SHAPES)
    p.add_argument("--dtype", default="fp16,bf16")
    p.add_argument("--q-heads", type=int, default=32)
    p.add_argument("--kv-heads", type=int, default=8)
    p.add_argument("--head-dim", type=int, default=128)
    p.add_argument("--reps", type=int, default=50)
    a = p.parse_args()
    warnings.filterwarnings("ignore")  # a refused backend warns at every call; the row records the refusal
    if not torch.cuda.is_available():
        print("sdpa_bench: no CUDA device", file=sys.stderr)
        return 1
    dev = torch.device("cuda")
    props = torch.cuda.get_device_properties(dev)
    l2 = getattr(props, "L2_cache_size", 50 << 20)
    print(json.dumps({"bench": "info", "device": props.name, "torch": torch.__version__,
                      "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version()}), flush=True)
    backends = {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION,
                "efficient": SDPBackend.EFFICIENT_ATTENTION}
    for dname in a.dtype.split(","):
        dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}[dname]
        for shape in a.shapes.split(","):
            b, w = (int(x) for x in shape.split("x"))
            kv_bytes = 2 * b * a.kv_heads * w * a.head_dim * 2
            copies = max(1, min(32, (8 * l2) // kv_bytes + 1))
            g = torch.Generator(device=dev).manual_seed(1)
            ks = [torch.randn(b, a.kv_heads, w, a.head_dim, device=dev, dtype=dtype, generator=g) for _ in range(copies)]
            vs = [torch.randn(b, a.kv_heads, w, a.head_dim, device=dev, dtype=dtype, generator=g) for _ in range(copies)]
            q = torch.randn(b, a.q_heads, 1, a.head_dim, device=dev, dtype=dtype, generator=g)
            for name, backend in backends.items():
                row = {"bench": "sdpa", "backend": name, "dtype": dname, "batch": b, "window": w,
                       "q_heads": a.q_heads, "kv_heads": a.kv_heads, "head_dim": a.head_dim, "kv_bytes": kv_bytes}
                try:
                    with sdpa_kernel(backend):
                        for i in range(3):
                            F.scaled_dot_product_attention(q, ks[i % copies], vs[i % copies], enable_gqa=True)
                        times = []
                        for i in range(a.reps):
                            e0 = torch.cuda.Event(enable_timing=True)
                            e1 = torch.cuda.Event(enable_timing=True)
                            e0.record()
                            F.scaled_dot_product_attention(q, ks[i % copies], vs[i % copies], enable_gqa=True)
                            e1.record()
                            e1.synchronize()
                            times.append(e0.elapsed_time(e1) * 1e3)
                    us = statistics.median(times)
                    row.update({"time_us": round(us, 2), "gbs": round(kv_bytes / (us * 1e-6) / 1e9, 1)})
                except Exception as e:  # a backend refusing the shape is a result, not a failure
                    row["error"] = str(e).splitlines()[0][:160]
                print(json.dumps(row), flush=True)
            del ks, vs, q
            torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
