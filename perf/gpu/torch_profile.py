#!/usr/bin/env python3
"""PyTorch's side of a per-op look at a train step on CUDA: torch.profiler over a few steps of compare.py's workloads,
the top CUDA kernels by device time and the step's total device time (what PyTorch spends on the GPU, as opposed to
its wall time, which also holds launch overhead). Beside `Ember.Perf --profile N` (Ember's synchronized per-op table).

    python3 perf/gpu/torch_profile.py --workload cnn,gpt [--amp bf16] [--steps 5]
"""
import argparse, os, sys

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from compare import torch_workloads  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--workload", default="mlp,cnn,gpt")
    p.add_argument("--amp", default="off", choices=["off", "bf16", "fp16"])
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--top", type=int, default=25)
    a = p.parse_args()
    amp = {"off": None, "bf16": torch.bfloat16, "fp16": torch.float16}[a.amp]
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    work, sync = torch_workloads(torch.device("cuda"), [], a.workload.split(","), amp)
    for name, step, _ in work:
        for _ in range(3):
            step()
        sync()
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            for _ in range(a.steps):
                step()
            sync()
        events = prof.key_averages()
        device_us = sum(e.self_device_time_total for e in events) / a.steps
        kernels = sum(e.count for e in events if e.self_device_time_total > 0) / a.steps
        print(f"== {name} amp={a.amp}: device time {device_us / 1e3:.3f} ms/step, {kernels:.0f} device ops/step")
        print(events.table(sort_by="self_cuda_time_total", row_limit=a.top))


if __name__ == "__main__":
    main()
