#!/usr/bin/env python3
"""PyTorch's host<->device copies beside `Ember.Perf --device cuda --transfer ...`: pageable and pinned host memory,
H2D (`.to("cuda")`) and D2H (`.cpu()`, or `copy_` into a pinned tensor), medians in GB/s (1e9 bytes/s).

    python3 perf/gpu/transfer_torch.py --sizes 1K,64K,1M,16M,256M [--repeat 10]
"""
import argparse, statistics, time

import torch


def parse(sizes):
    unit = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return [int(s[:-1]) * unit[s[-1]] if s[-1] in unit else int(s) for s in sizes.upper().split(",")]


def median_s(repeat, f):
    for _ in range(2):
        f()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="1K,64K,1M,16M,256M")
    p.add_argument("--repeat", type=int, default=10)
    a = p.parse_args()
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}")
    print("| bytes | H2D pageable GB/s | H2D pinned GB/s | D2H pageable GB/s | D2H pinned GB/s |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    sync = torch.cuda.synchronize
    for b in parse(a.sizes):
        n = max(1, b // 4)
        host, pinned = torch.randn(n), torch.randn(n).pin_memory()
        dev, back = torch.randn(n, device="cuda"), torch.empty(n).pin_memory()
        h2d = [b / median_s(a.repeat, lambda h=h: (h.to("cuda"), sync())) / 1e9 for h in (host, pinned)]
        d2h_pageable = b / median_s(a.repeat, lambda: dev.cpu()) / 1e9
        d2h_pinned = b / median_s(a.repeat, lambda: (back.copy_(dev, non_blocking=True), sync())) / 1e9
        print(f"| {b} | {h2d[0]:.2f} | {h2d[1]:.2f} | {d2h_pageable:.2f} | {d2h_pinned:.2f} |")


if __name__ == "__main__":
    main()
