#!/usr/bin/env python3
"""Thread scaling of Ember's CPU backend against PyTorch's, in one invocation: for every thread count it runs
perf/Ember.Perf (one process per count, EMBER_NUM_THREADS and --threads set) and then the same workloads in PyTorch
(torch.set_num_threads), and prints one markdown table: times per thread count, GFLOP/s for sgemm, and the ratio
Ember/PyTorch (time; < 1 means Ember is faster), plus each framework's speed-up over its own 1-thread time.

  /usr/bin/python3 perf/scaling.py --threads 1,2                                  # this machine (2 cores)
  python3 perf/scaling.py --ember "bash .gpu/run.sh Ember.Perf" --out scaling.md  # 16-core machine: 1,2,4,8,16

The workloads, shapes and optimizer settings are compare.py's (imported from it). Repeats default to 5 (medians)
after 2 warm-up steps; Ember.Perf also warms up for about a second per workload so tiered JIT has finished.
"""
import argparse, json, os, shlex, statistics, subprocess, sys, tempfile, time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import blas_library, timeit, torch_workloads  # noqa: E402

DEFAULT_WORKLOADS = "sgemm,mlp,cnn,gpt,conv2d"


def run_ember(cmd, threads, workload, sizes, warmup, repeat):
    with tempfile.TemporaryDirectory() as td:
        jpath = os.path.join(td, "ember.json")
        full = shlex.split(cmd) + ["--device", "cpu", "--threads", str(threads), "--workload", workload,
                                   "--sizes", sizes, "--warmup", str(warmup), "--repeat", str(repeat), "--json", jpath]
        print(f"[{time.strftime('%H:%M:%S')}] Ember, {threads} threads: {' '.join(full)}", flush=True)
        r = subprocess.run(full, env=dict(os.environ, EMBER_NUM_THREADS=str(threads)))
        if r.returncode != 0:
            sys.exit(f"Ember.Perf failed with exit code {r.returncode}")
        return {x["workload"]: x["median_s"] for x in json.load(open(jpath))["results"]}


def run_torch(threads, work, warmup, repeat):
    print(f"[{time.strftime('%H:%M:%S')}] PyTorch, {threads} threads", flush=True)
    torch.set_num_threads(threads)
    out = {}
    for name, step, sync, _ in work:
        out[name] = statistics.median(timeit(step, sync, warmup, repeat))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", default="1,2,4,8,16", help="comma list of thread counts")
    p.add_argument("--workload", default=DEFAULT_WORKLOADS)
    p.add_argument("--sizes", default="512,1024,2048,4096", help="sgemm sizes")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--ember", default="dotnet perf/Ember.Perf/bin/Release/net10.0/Ember.Perf.dll",
                   help="command that starts Ember.Perf (build it first: dotnet build perf/Ember.Perf -c Release)")
    p.add_argument("--out", default=None, help="also write the table (markdown) here")
    a = p.parse_args()
    counts = [int(t) for t in a.threads.split(",")]
    which = a.workload.split(",")
    start = time.time()
    torch.manual_seed(0)
    work, sync = torch_workloads(torch.device("cpu"), [int(s) for s in a.sizes.split(",")], which)
    work = [(name, step, sync, flops) for name, step, flops in work]
    flops = {name: f for name, _, _, f in work}
    ember, pt = {}, {}
    for t in counts:
        ember[t] = run_ember(a.ember, t, a.workload, a.sizes, a.warmup, a.repeat)
        pt[t] = run_torch(t, work, a.warmup, a.repeat)

    cpu = "unknown"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else ["?"] * 3
    head = "| workload | " + " | ".join(f"{t} thr Ember / PyTorch ms (ratio)" for t in counts) \
        + f" | speed-up {counts[0]}→{counts[-1]} Ember / PyTorch |"
    lines = [f"CPU: {cpu}, {os.cpu_count()} logical CPUs; torch={torch.__version__} blas={blas_library()}; "
             f"medians of {a.repeat} after {a.warmup} warm-up; {time.time() - start:.0f} s; load average at the end "
             f"{' '.join(load)}. Ratio = Ember time / PyTorch time (< 1: Ember faster); sgemm cells add GFLOP/s.", "",
             head, "| --- |" + " ---: |" * (len(counts) + 1)]
    for name, _, _, f in work:
        cells = []
        for t in counts:
            e, q = ember[t].get(name, float("nan")), pt[t][name]
            cell = f"{e * 1e3:.2f} / {q * 1e3:.2f} ({e / q:.2f})"
            if name.startswith("sgemm") and f:
                cell += f" [{f / e / 1e9:.0f} / {f / q / 1e9:.0f} GF/s]"
            cells.append(cell)
        e0, e1 = ember[counts[0]].get(name, float("nan")), ember[counts[-1]].get(name, float("nan"))
        sp = f"{e0 / e1:.1f}× / {pt[counts[0]][name] / pt[counts[-1]][name]:.1f}×"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {sp} |")
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
