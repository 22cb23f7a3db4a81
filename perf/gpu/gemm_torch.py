#!/usr/bin/env python3
"""cuBLAS float32 SGEMM (TF32 off) timed with CUDA events, same sizes as GemmBench.

    python3 gemm_torch.py [--sizes 1024,2048,4096,8192] [--reps 10] [--ember gemm.txt]

With --ember FILE (GemmBench's output, its "RESULT sgemm N GFLOPS" lines), prints Ember/cuBLAS ratios.
"""
import argparse
import statistics

import torch


def bench(n, reps, trans=""):
    a = torch.rand(n, n, device="cuda") * 2 - 1
    b = torch.rand(n, n, device="cuda") * 2 - 1
    if "A" in trans:
        a = a.t()
    if "B" in trans:
        b = b.t()
    for _ in range(3):
        torch.matmul(a, b)
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        torch.matmul(a, b)
        stop.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(stop))
    ms = statistics.median(times)
    return ms, 2.0 * n ** 3 / (ms * 1e-3) / 1e9


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="1024,2048,4096,8192")
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--ember", default=None)
    args = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}, allow_tf32={torch.backends.cuda.matmul.allow_tf32}")
    torch_gflops = {}
    for n in [int(s) for s in args.sizes.split(",")]:
        ms, gf = bench(n, args.reps)
        torch_gflops[n] = gf
        print(f"torch sgemm {n}: median {ms:.3f} ms, {gf:.0f} GFLOP/s")
    ember = {}
    if args.ember:
        with open(args.ember) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 4 and parts[0] == "RESULT" and parts[1] == "sgemm":
                    ember[int(parts[2])] = float(parts[3])
    if ember:
        print()
        print("| N | Ember ILGPU GFLOP/s | cuBLAS fp32 GFLOP/s | ratio |")
        print("| --- | --- | --- | --- |")
        for n, gf in torch_gflops.items():
            if n in ember:
                print(f"| {n} | {ember[n]:.0f} | {gf:.0f} | {ember[n] / gf:.2f} |")


if __name__ == "__main__":
    main()
