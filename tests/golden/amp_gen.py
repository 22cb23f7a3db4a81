#!/usr/bin/python3
"""Golden values for mixed precision (tests/NN.Tests/GradScalerTests.cs and AutocastTests.cs).

Run with /usr/bin/python3 and PyTorch 1.13 (Debian's python3-torch). Writes tests/golden/nn/:
  amp_scaler.json    GradScaler runs: per step the scale used, whether optimizer.step() ran, the scale and growth
                     tracker after update(), and the parameters after the step; plus state_dict() at the end.
  autocast_cpu.json  the dtype each op produces inside torch.autocast("cpu", dtype=torch.bfloat16), for float32
                     inputs and for bfloat16 inputs (ops that raise there are left out).

GradScaler: PyTorch 1.13's torch.cuda.amp.GradScaler is used as it is (its unscale_/step/update state machine and
its choice to skip a step), except for what 1.13 does not run on a CPU: its constructor disables itself without CUDA
(re-enabled here), scale() asserts a CUDA tensor (the scale is initialised and multiplied here the way scale() does
it), and its two kernels, _amp_foreach_non_finite_check_and_unscale_ and _amp_update_scale_, have no CPU
implementation in 1.13: they are replaced by Python transcriptions of their CUDA code (aten/src/ATen/native/cuda/
AmpKernels.cu). With CUDA available (e.g. PyTorch 2.x on a GPU machine), `--cuda` runs the real scaler and kernels
on the GPU and compares with the committed file instead of writing it.
"""
import json, os, sys
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "nn")
CUDA = "--cuda" in sys.argv


# ---- GradScaler --------------------------------------------------------------------------------------------------

def non_finite_check_and_unscale_(grads, found_inf, inv_scale):
    # AmpKernels.cu: found_inf = 1 when any element is not finite (checked before scaling); g = g * inv_scale
    # computed in float (opmath) and stored in g's dtype.
    for g in grads:
        if not torch.isfinite(g).all():
            found_inf.fill_(1.0)
        g.copy_((g.float() * inv_scale.float()).to(g.dtype))


def update_scale_(scale, growth_tracker, found_inf, growth_factor, backoff_factor, growth_interval):
    # AmpKernels.cu amp_update_scale_cuda_kernel, on float scale and int growth tracker.
    if found_inf.item():
        scale.copy_(scale * backoff_factor)
        growth_tracker.fill_(0)
    else:
        successful = int(growth_tracker.item()) + 1
        if successful == growth_interval:
            new_scale = (scale * growth_factor).float()
            if torch.isfinite(new_scale).all():
                scale.copy_(new_scale)
            growth_tracker.fill_(0)
        else:
            growth_tracker.fill_(successful)
    return scale


if not CUDA:
    torch._amp_foreach_non_finite_check_and_unscale_ = non_finite_check_and_unscale_
    torch._amp_update_scale_ = update_scale_
    import torch.cuda.amp.grad_scaler as _gs
    _gs.amp_definitely_not_available = lambda: False   # the constructor would disable the scaler without CUDA

    def _replicator_init(self, master_tensor):   # the same as 1.13's, less its assertion that the tensor is on CUDA
        self.master = master_tensor
        self._per_device_tensors = {}
    _gs._MultiDeviceReplicator.__init__ = _replicator_init

DEV = torch.device("cuda" if CUDA else "cpu")


def scaler_run(name, steps, bad, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
               unscale_first=False):
    """SGD(lr=0.1) on w [4] with loss Σ w·x_t; at the steps in `bad` one gradient element becomes Inf or NaN."""
    torch.manual_seed(0)
    w = torch.tensor([0.5, -1.0, 2.0, 0.25], dtype=torch.float32, device=DEV, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1)
    scaler = torch.cuda.amp.GradScaler(init_scale=init_scale, growth_factor=growth_factor, backoff_factor=backoff_factor,
                                       growth_interval=growth_interval)
    assert scaler.is_enabled()
    records = []
    for t in range(steps):
        x = torch.tensor([1.0, 2.0, -3.0, 0.5], dtype=torch.float32, device=DEV) * ((t % 7) + 1) / 8
        opt.zero_grad()
        loss = (w * x).sum()
        if CUDA:
            scaled = scaler.scale(loss)
        else:
            if scaler._scale is None:
                scaler._lazy_init_scale_growth_tracker(DEV)
            scaled = loss * scaler._scale
        used = float(scaler._scale.item())
        scaled.backward()
        if t in bad:
            with torch.no_grad():
                w.grad[t % 4] = float("nan") if bad[t] == "nan" else float("inf") if bad[t] == "inf" else float("-inf")
        before = w.detach().clone()
        if unscale_first:
            scaler.unscale_(opt)
        scaler.step(opt)
        stepped = not torch.equal(before, w.detach())
        scaler.update()
        records.append({"step": t, "scale_used": used, "stepped": stepped, "scale": float(scaler.get_scale()),
                        "growth_tracker": int(scaler._get_growth_tracker()), "param": w.detach().cpu().tolist()})
    sd = scaler.state_dict()
    return name, {"init_scale": init_scale, "growth_factor": growth_factor, "backoff_factor": backoff_factor,
                  "growth_interval": growth_interval, "unscale_first": unscale_first, "steps": steps,
                  "bad": {str(k): v for k, v in bad.items()}, "records": records,
                  "state_dict": {k: (float(v) if isinstance(v, float) else v) for k, v in sd.items()}}


bad50 = {3: "inf", 4: "inf", 10: "nan", 17: "-inf", 18: "inf", 19: "inf", 31: "nan", 44: "inf", 49: "inf"}
runs = dict([
    scaler_run("interval3", 50, bad50, growth_interval=3),
    scaler_run("interval4_factors", 50, bad50, init_scale=1024.0, growth_factor=4.0, backoff_factor=0.25, growth_interval=4,
               unscale_first=True),
    scaler_run("defaults", 50, {7: "inf", 8: "nan"}),
    # The scale reaches 2^127; doubling it would overflow float32, so it stays (amp_update_scale_ keeps only a finite scale).
    scaler_run("overflow", 6, {}, init_scale=2.0 ** 126, growth_interval=1),
])

if CUDA:
    with open(os.path.join(OUT, "amp_scaler.json")) as f:
        committed = json.load(f)
    bad_runs = [k for k in runs if json.dumps(runs[k], sort_keys=True) != json.dumps(committed[k], sort_keys=True)]
    for k in runs:
        for a, b in zip(runs[k]["records"], committed[k]["records"]):
            if a != b:
                print(k, "first difference at step", a["step"], a, b)
                break
    print("CUDA GradScaler matches amp_scaler.json" if not bad_runs else f"MISMATCH in {bad_runs}")
    sys.exit(1 if bad_runs else 0)

with open(os.path.join(OUT, "amp_scaler.json"), "w") as f:
    json.dump(runs, f, indent=1)
print("wrote", os.path.join(OUT, "amp_scaler.json"))


# ---- autocast("cpu", bfloat16): the dtype each op produces ---------------------------------------------------------
# Each case is built from float32 values, cast to `d` (the "inputs" dtype); "_mixed" cases take one bfloat16 and one
# float32 operand whatever d is. tests/NN.Tests/AutocastTests.cs builds the same cases by name.

f32, bf = torch.float32, torch.bfloat16


def r(*shape, d=f32, pos=False):
    g = torch.Generator().manual_seed(sum(shape) + len(shape))
    t = torch.rand(*shape, generator=g) + 0.1 if pos else torch.randn(*shape, generator=g)
    return t.to(d)


def probs(*shape, d=f32):
    return (torch.rand(*shape, generator=torch.Generator().manual_seed(7)) * 0.8 + 0.1).to(d)


idx = torch.tensor([0, 2, 1])
CASES = {
    "matmul": lambda d: torch.matmul(r(3, 4, d=d), r(4, 5, d=d)),
    "mm": lambda d: torch.mm(r(3, 4, d=d), r(4, 5, d=d)),
    "bmm": lambda d: torch.bmm(r(2, 3, 4, d=d), r(2, 4, 5, d=d)),
    "baddbmm": lambda d: torch.baddbmm(r(2, 3, 5, d=d), r(2, 3, 4, d=d), r(2, 4, 5, d=d)),
    "addmm": lambda d: torch.addmm(r(3, 5, d=d), r(3, 4, d=d), r(4, 5, d=d)),
    "linear": lambda d: F.linear(r(3, 4, d=d), r(5, 4, d=d), r(5, d=d)),
    "linear_nobias": lambda d: F.linear(r(3, 4, d=d), r(5, 4, d=d)),
    "conv1d": lambda d: F.conv1d(r(1, 2, 8, d=d), r(3, 2, 3, d=d), r(3, d=d)),
    "conv2d": lambda d: F.conv2d(r(1, 2, 5, 5, d=d), r(3, 2, 3, 3, d=d), r(3, d=d)),
    "conv_transpose2d": lambda d: F.conv_transpose2d(r(1, 2, 4, 4, d=d), r(2, 3, 3, 3, d=d)),
    "softmax": lambda d: F.softmax(r(3, 4, d=d), -1),
    "log_softmax": lambda d: F.log_softmax(r(3, 4, d=d), -1),
    "cross_entropy": lambda d: F.cross_entropy(r(3, 4, d=d), idx),
    "cross_entropy_probs": lambda d: F.cross_entropy(r(3, 4, d=d), probs(3, 4, d=d)),
    "nll_loss": lambda d: F.nll_loss(r(3, 4, d=d), idx),
    "mse_loss": lambda d: F.mse_loss(r(3, 4, d=d), r(3, 4, 1, d=d).reshape(3, 4)),
    "l1_loss": lambda d: F.l1_loss(r(3, 4, d=d), r(3, 4, 1, d=d).reshape(3, 4)),
    "smooth_l1_loss": lambda d: F.smooth_l1_loss(r(3, 4, d=d), r(3, 4, 1, d=d).reshape(3, 4)),
    "huber_loss": lambda d: F.huber_loss(r(3, 4, d=d), r(3, 4, 1, d=d).reshape(3, 4)),
    "binary_cross_entropy": lambda d: F.binary_cross_entropy(probs(3, 4, d=d), probs(3, 4, d=d).flip(0)),
    "binary_cross_entropy_with_logits": lambda d: F.binary_cross_entropy_with_logits(r(3, 4, d=d), probs(3, 4, d=d)),
    "kl_div": lambda d: F.kl_div(r(3, 4, d=d), probs(3, 4, d=d), reduction="batchmean"),
    "layer_norm": lambda d: F.layer_norm(r(3, 4, d=d), (4,), r(4, d=d), r(4, 1, d=d).reshape(4)),
    "batch_norm": lambda d: F.batch_norm(r(3, 4, d=d), None, None, r(4, d=d), r(4, 1, d=d).reshape(4), training=True),
    "batch_norm_mixed": lambda d: F.batch_norm(r(3, 4, d=bf), None, None, r(4), r(4, 1).reshape(4), training=True),
    "group_norm": lambda d: F.group_norm(r(2, 4, 3, d=d), 2, r(4, d=d), r(4, 1, d=d).reshape(4)),
    "exp": lambda d: torch.exp(r(3, d=d)),
    "log": lambda d: torch.log(r(3, d=d, pos=True)),
    "pow": lambda d: torch.pow(r(3, d=d), 2),
    "pow_tensor": lambda d: torch.pow(r(3, d=d, pos=True), r(3, 1, d=d).reshape(3)),
    "sum": lambda d: torch.sum(r(3, 4, d=d)),
    "sum_dim": lambda d: torch.sum(r(3, 4, d=d), 1),
    "mean": lambda d: torch.mean(r(3, 4, d=d)),
    "cumsum": lambda d: torch.cumsum(r(3, d=d), 0),
    "prod": lambda d: torch.prod(r(3, d=d)),
    "logsumexp": lambda d: torch.logsumexp(r(3, 4, d=d), 1),
    "softplus": lambda d: F.softplus(r(3, d=d)),
    "rsqrt": lambda d: torch.rsqrt(r(3, d=d, pos=True)),
    "relu": lambda d: F.relu(r(3, d=d)),
    "gelu": lambda d: F.gelu(r(3, d=d)),
    "tanh": lambda d: torch.tanh(r(3, d=d)),
    "sigmoid": lambda d: torch.sigmoid(r(3, d=d)),
    "max_pool2d": lambda d: F.max_pool2d(r(1, 1, 4, 4, d=d), 2),
    "avg_pool2d": lambda d: F.avg_pool2d(r(1, 1, 4, 4, d=d), 2),
    "embedding": lambda d: F.embedding(idx, r(3, 4, d=d)),
    "add_mixed": lambda d: r(3, d=bf) + r(3),
    "mul_mixed": lambda d: r(3, d=bf) * r(3),
    "sub_mixed": lambda d: r(3) - r(3, d=bf),
    "where_mixed": lambda d: torch.where(torch.tensor([True, False, True]), r(3, d=bf), r(3)),
    "maximum_mixed": lambda d: torch.maximum(r(3, d=bf), r(3)),
    "cat_mixed": lambda d: torch.cat([r(3, d=bf), r(3)]),
    "stack_mixed": lambda d: torch.stack([r(3, d=bf), r(3)]),
    "matmul_mixed": lambda d: torch.matmul(r(3, 4, d=bf), r(4, 5)),
    "linear_mixed": lambda d: F.linear(r(3, 4, d=bf), r(5, 4), r(5)),
    "mse_loss_mixed": lambda d: F.mse_loss(r(3, 4, d=bf), r(3, 4, 1).reshape(3, 4)),
}

table = {}
for name, fn in CASES.items():
    row = {}
    for key, d in (("float32", f32), ("bfloat16", bf)):
        try:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                row[key] = str(fn(d).dtype).replace("torch.", "")
        except RuntimeError as e:   # e.g. layer_norm with mixed dtypes: left out
            row[key + "_error"] = str(e).split("\n")[0]
    table[name] = row

if not CUDA:
    with open(os.path.join(OUT, "autocast_cpu.json"), "w") as f:
        json.dump({"torch": torch.__version__, "dtype": "bfloat16", "ops": table}, f, indent=1)
    print("wrote", os.path.join(OUT, "autocast_cpu.json"))
