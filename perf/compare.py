#!/usr/bin/env python3
"""Runs DESIGN.md's workloads in PyTorch and in Ember (perf/Ember.Perf) in one run, same shapes,
same optimizer settings, same thread count, and prints Ember time, PyTorch time and the ratio.

  /usr/bin/python3 perf/compare.py --threads 2                      # CPU, this machine
  python3 .gpu/compare.py --device cuda --ember "bash .gpu/run.sh Ember.Perf"   # GPU machine
Ratio = Ember median / PyTorch median (time): < 1 means Ember is faster. For sgemm the table also
gives GFLOP/s and the throughput ratio Ember/PyTorch (> 1 means Ember is faster).
"""
import argparse, json, os, shlex, statistics, subprocess, sys, tempfile, time

import torch
import torch.nn as nn
import torch.nn.functional as F


def timeit(step, sync, warmup, repeat, inner=1):
    """Seconds per step: repeat samples, each `inner` steps back to back and one sync (as Ember.Perf's --inner)."""
    for _ in range(warmup):
        step(); sync()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(inner):
            step()
        sync(); ts.append((time.perf_counter() - t0) / inner)
    return ts


class Block(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).reshape(b, t, 3, self.h, d // self.h).permute(2, 0, 3, 1, 4)
        if hasattr(F, "scaled_dot_product_attention"):
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # PyTorch 1.13 (Debian) has no SDPA: the same math, explicit
            s = (q @ k.transpose(-2, -1)) / (d // self.h) ** 0.5
            mask = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
            a = s.masked_fill(~mask, float("-inf")).softmax(-1) @ v
        x = x + self.proj(a.transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(F.gelu(self.fc(self.ln2(x))))


class MiniGpt(nn.Module):
    def __init__(self, vocab=256, context=128, d=256, h=4, layers=4):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(context, d)
        self.blocks = nn.ModuleList([Block(d, h) for _ in range(layers)])
        self.ln_f, self.head = nn.LayerNorm(d), nn.Linear(d, vocab, bias=False)

    def forward(self, idx):
        h = self.tok(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device))
        for b in self.blocks:
            h = b(h)
        return self.head(self.ln_f(h))


def torch_workloads(dev, sizes, which, amp=None):
    """amp: None, or a torch dtype under which every train step's forward pass and loss run (torch.autocast)."""
    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    def train(model, opt, x, y, lossf):
        def step():
            if amp is None:
                loss = lossf(model, x, y)
            else:
                with torch.autocast(dev.type, dtype=amp):
                    loss = lossf(model, x, y)
            opt.zero_grad(); loss.backward(); opt.step()
        return step

    out = []
    if "sgemm" in which:
        for n in sizes:
            a, b = torch.randn(n, n, device=dev), torch.randn(n, n, device=dev)
            out.append((f"sgemm {n}", lambda a=a, b=b: a @ b, 2.0 * n ** 3))
    ce = lambda m, x, y: F.cross_entropy(m(x), y)
    if "mlp" in which:
        m = nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10)).to(dev)
        out.append(("mlp_train_step", train(m, torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9),
                    torch.randn(256, 784, device=dev), torch.randint(0, 10, (256,), device=dev), ce), 0))
    if "cnn" in which:
        m = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4096, 256), nn.ReLU(), nn.Linear(256, 10)).to(dev)
        out.append(("cnn_train_step", train(m, torch.optim.Adam(m.parameters(), lr=1e-3),
                    torch.randn(64, 3, 32, 32, device=dev), torch.randint(0, 10, (64,), device=dev), ce), 0))
    if "gpt" in which:
        m = MiniGpt().to(dev)
        lossf = lambda m, x, y: F.cross_entropy(m(x).reshape(-1, 256), y.reshape(-1))
        out.append(("gpt_train_step", train(m, torch.optim.AdamW(m.parameters(), lr=3e-4),
                    torch.randint(0, 256, (16, 128), device=dev), torch.randint(0, 256, (16, 128), device=dev), lossf), 0))
    if "conv2d" in which:
        conv = nn.Conv2d(32, 64, 3, padding=1).to(dev)
        x = torch.randn(64, 32, 32, 32, device=dev, requires_grad=True)
        out.append(("conv2d_fwd_bwd", lambda conv=conv, x=x: conv(x).sum().backward(), 3 * 2.0 * 64 * 64 * 32 * 32 * 32 * 9))
    if "softmax" in which:
        x = torch.randn(4096, 1024, device=dev)
        out.append(("softmax", lambda x=x: x.softmax(-1), 0))
    if "layernorm" in which:
        ln = nn.LayerNorm(1024).to(dev); x = torch.randn(4096, 1024, device=dev)
        def lnf(ln=ln, x=x):
            with torch.no_grad():
                ln(x)
        out.append(("layernorm", lnf, 0))
    if "log_softmax" in which:
        x = torch.randn(4096, 1024, device=dev)
        out.append(("log_softmax", lambda x=x: x.log_softmax(-1), 0))
    if "layernorm_fwd_bwd" in which:
        ln = nn.LayerNorm(1024).to(dev)
        x = torch.randn(4096, 1024, device=dev, requires_grad=True); g = torch.randn(4096, 1024, device=dev)
        def lnb(ln=ln, x=x, g=g):
            x.grad = None; ln.zero_grad()
            (ln(x) * g).sum().backward()
        out.append(("layernorm_fwd_bwd", lnb, 0))
    if "cross_entropy" in which:
        x = torch.randn(4096, 1024, device=dev, requires_grad=True); y = torch.randint(0, 1024, (4096,), device=dev)
        def ceb(x=x, y=y):
            x.grad = None
            F.cross_entropy(x, y).backward()
        out.append(("cross_entropy_fwd_bwd", ceb, 0))
    return out, sync


def blas_library():
    """The BLAS shared library PyTorch's CPU matmul runs on (read from this process's memory maps after a matmul)."""
    torch.randn(64, 64) @ torch.randn(64, 64)
    try:
        libs = {os.path.basename(l.split()[-1]) for l in open("/proc/self/maps") if "blas" in l.lower() or "mkl" in l.lower()}
    except OSError:
        return "unknown"
    return ", ".join(sorted(libs)) or "none found"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workload", default="sgemm,mlp,cnn,gpt,conv2d,softmax,layernorm")
    p.add_argument("--sizes", default=None)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--inner", type=int, default=1,
                   help="steps per timed sample, one sync at its end (both sides): 1 = latency, >1 = queued throughput")
    p.add_argument("--ember", default="dotnet run -c Release --project perf/Ember.Perf --")
    p.add_argument("--out", default=None, help="write the table as markdown here")
    p.add_argument("--amp", default="off", choices=["off", "bf16", "fp16"],
                   help="train steps' forward and loss under autocast in this dtype, both sides (no GradScaler)")
    a = p.parse_args()
    amp = {"off": None, "bf16": torch.bfloat16, "fp16": torch.float16}[a.amp]
    sizes = a.sizes or ("256,512,1024,2048" if a.device == "cpu" else "1024,2048,4096,8192")
    which = a.workload.split(",")
    torch.set_num_threads(a.threads)
    if a.device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda" if a.device == "cuda" else "cpu")
    torch.manual_seed(0)
    blas = blas_library() if a.device == "cpu" else "cuBLAS"
    if a.device == "cpu" and "openblas" not in blas.lower() and "mkl" not in blas.lower():
        # Debian's python3-torch alone pulls in the reference (netlib) BLAS, ~30x slower than OpenBLAS: not a fair peer.
        print(f"warning: PyTorch runs on {blas}, not OpenBLAS; install libopenblas0-pthread for a fair comparison", file=sys.stderr)

    with tempfile.TemporaryDirectory() as td:
        jpath = os.path.join(td, "ember.json")
        cmd = shlex.split(a.ember) + ["--device", a.device, "--threads", str(a.threads), "--workload", a.workload,
                                      "--sizes", sizes, "--warmup", str(a.warmup), "--repeat", str(a.repeat), "--inner", str(a.inner), "--json", jpath]
        if amp is not None:
            cmd += ["--amp", a.amp]
        print("running:", " ".join(cmd), flush=True)
        env = dict(os.environ, EMBER_NUM_THREADS=str(a.threads))
        r = subprocess.run(cmd, env=env)
        if r.returncode != 0:
            sys.exit(f"Ember.Perf failed with exit code {r.returncode}")
        ember = {x["workload"]: x for x in json.load(open(jpath))["results"]}

    rows = []
    work, sync = torch_workloads(dev, [int(s) for s in sizes.split(",")], which, amp)
    for name, step, flops in work:
        ts = timeit(step, sync, a.warmup, a.repeat, a.inner)
        med = statistics.median(ts)
        e = ember.get(name)
        rows.append((name, e["median_s"] if e else float("nan"), med, flops,
                     e["min_s"] if e else float("nan"), min(ts), e["alloc_kb_per_step"] if e else float("nan"),
                     e.get("launches_per_step", float("nan")) if e else float("nan"),
                     e.get("host_reads_per_step", float("nan")) if e else float("nan")))

    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else ["?"] * 3
    lines = [f"device={a.device} threads={a.threads} amp={a.amp} torch={torch.__version__} blas={blas} repeat={a.repeat} inner={a.inner} warmup={a.warmup} "
             f"load average at the end {' '.join(load)} (medians; min = fastest step, less sensitive to a loaded machine)", "",
             "| workload | Ember ms | PyTorch ms | time ratio (Ember/PyTorch) | Ember min ms | PyTorch min ms | min ratio | Ember GFLOP/s | PyTorch GFLOP/s | Ember alloc KB/step | Ember launches/step | Ember host reads/step |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, em, pm, flops, emin, pmin, alloc, launches, reads in rows:
        gf = f"{flops/em/1e9:.1f} | {flops/pm/1e9:.1f}" if flops else " | "
        lines.append(f"| {name} | {em*1e3:.3f} | {pm*1e3:.3f} | {em/pm:.2f} | {emin*1e3:.3f} | {pmin*1e3:.3f} | {emin/pmin:.2f} | {gf} | {alloc:.0f} | {launches:.0f} | {reads:.0f} |")
    text = "\n".join(lines)
    print(text)
    if a.out:
        open(a.out, "w").write(text + "\n")


if __name__ == "__main__":
    main()
