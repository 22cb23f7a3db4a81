#!/usr/bin/env python3
"""cuBLAS GEMM through PyTorch, timed with CUDA events, for the same variants and sizes as GemmBench.

    python3 gemm_torch.py [--sizes 1024,2048,4096,8192] [--reps 10] [--ember gemm.txt]

Variants: sgemm (float32, TF32 off), tf32 (float32, TF32 on), f16 and bf16 (16-bit operands and output, float32
accumulation as cuBLAS does by default). With --ember FILE (GemmBench's output, its "RESULT <variant> N GFLOPS"
lines), prints Ember/cuBLAS ratios per variant: GemmBench's simt, simt16, simt16a and splitk are compared with sgemm.
"""
import argparse
import statistics

import torch

DTYPES = {"sgemm": torch.float32, "tf32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}


def bench(variant, n, reps):
    torch.backends.cuda.matmul.allow_tf32 = variant == "tf32"
    dtype = DTYPES[variant]
    a = (torch.rand(n, n, device="cuda") * 2 - 1).to(dtype)
    b = (torch.rand(n, n, device="cuda") * 2 - 1).to(dtype)
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
    p.add_argument("--variants", default="sgemm,tf32,f16,bf16")
    p.add_argument("--ember", default=None)
    args = p.parse_args()
    torch.backends.cudnn.allow_tf32 = False
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}")
    sizes = [int(s) for s in args.sizes.split(",")]
    torch_gflops = {}
    for variant in args.variants.split(","):
        for n in sizes:
            ms, gf = bench(variant, n, args.reps)
            torch_gflops[(variant, n)] = gf
            print(f"torch {variant} {n}: median {ms:.3f} ms, {gf:.0f} GFLOP/s")
    ember = {}
    if args.ember:
        with open(args.ember) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 4 and parts[0] == "RESULT" and parts[2].isdigit():
                    ember[(parts[1], int(parts[2]))] = float(parts[3])
    if ember:
        print()
        print("| variant | N | Ember ILGPU GFLOP/s | cuBLAS GFLOP/s | ratio |")
        print("| --- | --- | --- | --- | --- |")
        for (variant, n), gf in sorted(ember.items()):
            ref = "sgemm" if variant in ("sgemm", "simt16", "simt16a", "splitk") else variant.split("-")[0]
            if (ref, n) in torch_gflops:
                t = torch_gflops[(ref, n)]
                print(f"| {variant} (vs cuBLAS {ref}) | {n} | {gf:.0f} | {t:.0f} | {gf / t:.2f} |")


if __name__ == "__main__":
    main()
