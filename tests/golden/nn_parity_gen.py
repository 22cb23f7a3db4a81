#!/usr/bin/python3
"""Golden values for the PyTorch-parity optimizers and schedulers (issue #14, part B); run with /usr/bin/python3
(PyTorch 1.13 CPU). Writes tests/golden/nn/optimizers_parity.json and nn/schedulers_parity.json, read by
tests/NN.Tests/ParityOptimizerTests.cs and ParitySchedulerTests.cs. Same fixed problem as nn_gen.py's optimizers:
f(p) = sum c*(p - t)^2 + sin(p), grad = 2c(p - t) + cos(p), two float64 parameters.
"""
import json, os
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "nn")
os.makedirs(OUT, exist_ok=True)
torch.set_default_dtype(torch.float64)

P0 = [torch.tensor([0.5, -1.0, 2.0, 0.1, -0.3]), torch.tensor([[1.0, -2.0, 0.5], [0.0, 0.7, -1.5]])]
C = [torch.tensor([1.0, 0.5, 2.0, 1.5, 0.3]), torch.tensor([[0.2, 1.0, 0.7], [1.3, 0.4, 2.0]])]
T = [torch.tensor([1.0, 0.0, -1.0, 2.0, 0.5]), torch.tensor([[0.0, 1.0, -1.0], [0.5, -0.5, 2.0]])]


def enc(t):
    t = t.detach()
    return {"shape": list(t.shape), "dtype": "float64", "data": t.reshape(-1).tolist()}


def dump(name, obj):
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(obj, f, separators=(",", ":"))


def f_of(ps):
    return sum((C[i] * (p - T[i]) ** 2 + torch.sin(p)).sum() for i, p in enumerate(ps))


OPT = {}
def opt_case(name, cls, kw, steps=20):
    ps = [p.clone().requires_grad_() for p in P0]
    opt = cls(ps, **kw)
    traj = []
    for _ in range(steps):
        opt.zero_grad()
        for i, p in enumerate(ps):
            p.grad = 2 * C[i] * (p.detach() - T[i]) + torch.cos(p.detach())
        opt.step()
        traj.append([enc(p) for p in ps])
    OPT[name] = {"optimizer": cls.__name__, "options": kw, "trajectory": traj}


def lbfgs_case(name, kw, steps=4):
    ps = [p.clone().requires_grad_() for p in P0]
    opt = torch.optim.LBFGS(ps, **kw)
    evals = [0]
    def closure():
        opt.zero_grad()
        loss = f_of(ps)
        loss.backward()
        evals[0] += 1
        return loss
    traj, losses, counts = [], [], []
    for _ in range(steps):
        losses.append(float(opt.step(closure)))
        traj.append([enc(p) for p in ps])
        counts.append(evals[0])
    OPT[name] = {"optimizer": "LBFGS", "options": kw, "trajectory": traj, "losses": losses, "evals": counts}


opt_case("adadelta", torch.optim.Adadelta, {"lr": 1.0})
opt_case("adadelta_wd_maximize", torch.optim.Adadelta, {"lr": 0.5, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.1, "maximize": True})
opt_case("adamax", torch.optim.Adamax, {"lr": 0.05})
opt_case("adamax_wd_maximize", torch.optim.Adamax, {"lr": 0.02, "betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": 0.1, "maximize": True})


def nadam_reference(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3, steps=20, torch113_bug=False):
    # PyTorch 1.13's NAdam computes mu_product_next = mu_product * mu * mu_next, with mu already in mu_product;
    # pytorch/pytorch#92699 (PyTorch 2.0) fixed it to mu_product * mu_next. Ember follows the fix, so the golden
    # trajectory comes from this reference; with torch113_bug=True it must reproduce torch.optim.NAdam exactly.
    ps = [p.clone() for p in P0]
    m = [torch.zeros_like(p) for p in ps]; v = [torch.zeros_like(p) for p in ps]; mp = [1.0 for _ in ps]
    traj = []
    for t in range(1, steps + 1):
        for i, p in enumerate(ps):
            g = 2 * C[i] * (p - T[i]) + torch.cos(p)
            if weight_decay:
                g = g + weight_decay * p
            mu = betas[0] * (1. - 0.5 * 0.96 ** (t * momentum_decay))
            mu_next = betas[0] * (1. - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
            mp[i] *= mu
            mp_next = mp[i] * mu * mu_next if torch113_bug else mp[i] * mu_next
            m[i] = betas[0] * m[i] + (1 - betas[0]) * g
            v[i] = betas[1] * v[i] + (1 - betas[1]) * g * g
            denom = (v[i] / (1 - betas[1] ** t)).sqrt() + eps
            ps[i] = p - lr * (1 - mu) / (1 - mp[i]) * g / denom - lr * mu_next / (1 - mp_next) * m[i] / denom
        traj.append([enc(p) for p in ps])
    return traj


for name, kw in [("nadam", {"lr": 0.05}), ("nadam_wd_decay", {"lr": 0.02, "betas": (0.8, 0.9), "weight_decay": 0.1, "momentum_decay": 0.01})]:
    opt_case(name, torch.optim.NAdam, kw)
    buggy = nadam_reference(torch113_bug=True, **kw)
    for a, b in zip(OPT[name]["trajectory"], buggy):
        for x, y in zip(a, b):
            assert max(abs(p - q) for p, q in zip(x["data"], y["data"])) < 1e-12, "nadam_reference does not reproduce torch.optim.NAdam"
    OPT[name]["trajectory"] = nadam_reference(**kw)
    OPT[name]["note"] = "PyTorch >= 2.0 formula (pytorch/pytorch#92699); checked against 1.13 with its mu_product_next bug"
opt_case("radam", torch.optim.RAdam, {"lr": 0.05}, steps=12)
# beta2 = 0.9 makes rho_t exceed 5 from step 6 on: both branches of the rectification are exercised.
opt_case("radam_rectified", torch.optim.RAdam, {"lr": 0.05, "betas": (0.8, 0.9), "weight_decay": 0.1}, steps=12)
lbfgs_case("lbfgs_fixed", {"lr": 0.5, "max_iter": 5})
lbfgs_case("lbfgs_strong_wolfe", {"lr": 1.0, "max_iter": 6, "line_search_fn": "strong_wolfe"})
lbfgs_case("lbfgs_wolfe_history2", {"lr": 1.0, "max_iter": 8, "history_size": 2, "line_search_fn": "strong_wolfe"}, steps=3)
dump("optimizers_parity", OPT)

# ---------------------------------------------------------------- schedulers
import torch.optim.lr_scheduler as LRS
S = {}
def sched_case(name, make, steps=30, opt_kw=None):
    p = torch.zeros(2, requires_grad=True)
    opt = torch.optim.SGD([p], **(opt_kw or {"lr": 0.1, "momentum": 0.9}))
    s = make(opt)
    lrs = [opt.param_groups[0]["lr"]]
    moms = [opt.param_groups[0]["momentum"]]
    for _ in range(steps):
        opt.step()
        s.step()
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
    S[name] = {"lrs": lrs, "momentums": moms}

sched_case("lambda", lambda o: LRS.LambdaLR(o, lambda e: 1.0 / (1 + 0.3 * e)))
sched_case("multiplicative", lambda o: LRS.MultiplicativeLR(o, lambda e: 0.95 if e % 2 else 0.9))
sched_case("warm_restarts", lambda o: LRS.CosineAnnealingWarmRestarts(o, 5, eta_min=0.01))
sched_case("warm_restarts_mult2", lambda o: LRS.CosineAnnealingWarmRestarts(o, 3, T_mult=2, eta_min=0.001), steps=40)
sched_case("cyclic_triangular", lambda o: LRS.CyclicLR(o, 0.01, 0.1, step_size_up=4))
sched_case("cyclic_triangular2_asym", lambda o: LRS.CyclicLR(o, 0.01, 0.1, step_size_up=3, step_size_down=5, mode="triangular2"))
sched_case("cyclic_exp_range_nomom", lambda o: LRS.CyclicLR(o, 0.01, 0.1, step_size_up=4, mode="exp_range", gamma=0.95, cycle_momentum=False))
sched_case("polynomial", lambda o: LRS.PolynomialLR(o, total_iters=12, power=2.0))
sched_case("chained", lambda o: LRS.ChainedScheduler([LRS.LinearLR(o, 0.2, 1.0, 6), LRS.ExponentialLR(o, 0.95), LRS.MultiStepLR(o, [10, 20], 0.5)]))
sched_case("chained_poly_mult", lambda o: LRS.ChainedScheduler([LRS.PolynomialLR(o, total_iters=25, power=0.5), LRS.MultiplicativeLR(o, lambda e: 0.97)]))
dump("schedulers_parity", S)

# Warm restarts with a fractional epoch (step(epoch + i / iters)), as the PyTorch docs show.
p = torch.zeros(2, requires_grad=True)
opt = torch.optim.SGD([p], lr=0.1)
s = LRS.CosineAnnealingWarmRestarts(opt, 2, T_mult=2)
frac = []
for e in [0.25, 0.5, 1.75, 2.0, 2.5, 5.9, 6.0, 7.3, 13.5]:
    s.step(e)
    frac.append([e, opt.param_groups[0]["lr"]])
S["warm_restarts_fractional"] = {"points": frac}
dump("schedulers_parity", S)

# ---------------------------------------------------------------- functional ops (forward and input gradients)
import torch.nn.functional as F
torch.manual_seed(14)
FN = {}


def enc_any(t):
    if t.dtype in (torch.int64, torch.int32):
        return {"shape": list(t.shape), "dtype": "int64", "data": t.reshape(-1).tolist()}
    return enc(t)


def fcase(name, fn, inputs, aux=(), **meta):
    xs = [x.clone().requires_grad_() for x in inputs]
    out = fn(*xs, *aux)
    go = torch.randn_like(out)
    grads = torch.autograd.grad(out, xs, go, allow_unused=True)
    FN[name] = {"inputs": [enc(x) for x in xs], "aux": [enc_any(a) for a in aux], "output": enc(out), "grad_output": enc(go),
                "input_grads": [enc(g) if g is not None else None for g in grads], **meta}


R = torch.randn
fcase("cosine_similarity", lambda a, b: F.cosine_similarity(a, b, dim=1), [R(4, 5), R(4, 5)])
fcase("cosine_similarity_broadcast", lambda a, b: F.cosine_similarity(a, b, dim=-1, eps=1e-6), [R(3, 1, 4), R(2, 4)])
fcase("normalize", lambda a: F.normalize(a), [R(3, 4)])
fcase("normalize_p1_dim0", lambda a: F.normalize(a, p=1.0, dim=0), [R(3, 4)])
fcase("pairwise_distance", lambda a, b: F.pairwise_distance(a, b), [R(4, 5), R(4, 5)])
fcase("pairwise_distance_p1_keepdim", lambda a, b: F.pairwise_distance(a, b, p=1.0, keepdim=True), [R(4, 5), R(1, 5)])
fcase("interp_nearest_size", lambda a: F.interpolate(a, size=(5, 7), mode="nearest"), [R(1, 2, 3, 4)])
fcase("interp_nearest_scale", lambda a: F.interpolate(a, scale_factor=2.0, mode="nearest"), [R(2, 1, 3, 3)])
fcase("interp_nearest_down_1d", lambda a: F.interpolate(a, size=3, mode="nearest"), [R(1, 2, 7)])
fcase("interp_nearest_3d", lambda a: F.interpolate(a, size=(3, 4, 2), mode="nearest"), [R(1, 1, 2, 3, 3)])
fcase("interp_linear_1d", lambda a: F.interpolate(a, size=9, mode="linear", align_corners=False), [R(2, 2, 4)])
fcase("interp_bilinear", lambda a: F.interpolate(a, size=(5, 7), mode="bilinear", align_corners=False), [R(1, 2, 3, 4)])
fcase("interp_bilinear_align", lambda a: F.interpolate(a, size=(5, 7), mode="bilinear", align_corners=True), [R(1, 2, 3, 4)])
fcase("interp_bilinear_scale", lambda a: F.interpolate(a, scale_factor=1.5, mode="bilinear"), [R(1, 1, 3, 4)])
fcase("interp_bilinear_down", lambda a: F.interpolate(a, size=(2, 3), mode="bilinear"), [R(1, 1, 5, 7)])
fcase("interp_bicubic", lambda a: F.interpolate(a, size=(6, 7), mode="bicubic", align_corners=False), [R(1, 2, 4, 5)])
fcase("interp_bicubic_align", lambda a: F.interpolate(a, size=(6, 7), mode="bicubic", align_corners=True), [R(1, 1, 4, 5)])
fcase("interp_bicubic_down", lambda a: F.interpolate(a, size=(3, 4), mode="bicubic"), [R(1, 1, 6, 7)])
fcase("interp_trilinear", lambda a: F.interpolate(a, size=(3, 4, 5), mode="trilinear", align_corners=False), [R(1, 1, 2, 3, 3)])
fcase("unfold", lambda a: F.unfold(a, (2, 3), dilation=(1, 2), padding=(1, 0), stride=(2, 1)), [R(2, 3, 5, 6)])
fcase("fold", lambda a: F.fold(a, (5, 6), (2, 3), dilation=(1, 2), padding=(1, 0), stride=(2, 1)), [R(2, 18, 6)])
fcase("pixel_shuffle", lambda a: F.pixel_shuffle(a, 2), [R(2, 8, 3, 3)])
fcase("pixel_unshuffle", lambda a: F.pixel_unshuffle(a, 2), [R(1, 2, 4, 6)])
# Away from the kinks at ±3 (and 0 for prelu), where the one-sided derivatives differ.
away = torch.tensor([-5.0, -3.5, -2.9, -1.0, -0.2, 0.3, 1.7, 2.95, 3.2, 6.0])
fcase("hardswish", lambda a: F.hardswish(a), [away])
fcase("hardsigmoid", lambda a: F.hardsigmoid(a), [away])
fcase("prelu_channels", lambda a, w: F.prelu(a, w), [R(2, 3, 4), torch.tensor([0.25, -0.5, 1.5])])
fcase("prelu_shared", lambda a, w: F.prelu(a, w), [R(2, 3, 4), torch.tensor([0.1])])
fcase("instance_norm_1d", lambda a, w, b: F.instance_norm(a, weight=w, bias=b), [R(2, 3, 5), R(3), R(3)])
fcase("instance_norm_2d", lambda a: F.instance_norm(a), [R(2, 3, 4, 4)])
fcase("conv3d", lambda a, w, b: F.conv3d(a, w, b, stride=(2, 1, 2), padding=(1, 0, 1), dilation=(1, 2, 1), groups=2), [R(2, 4, 5, 6, 5), R(6, 2, 3, 2, 3), R(6)])
fcase("conv3d_plain", lambda a, w: F.conv3d(a, w), [R(1, 2, 3, 4, 4), R(3, 2, 2, 2, 2)])
ebw = R(10, 3)
fcase("embedding_bag_sum_offsets_psw", lambda w, psw, i, o: F.embedding_bag(i, w, o, mode="sum", per_sample_weights=psw), [ebw, R(7)],
      aux=[torch.tensor([1, 2, 4, 5, 4, 3, 2]), torch.tensor([0, 2, 2, 5])])
fcase("embedding_bag_mean_2d", lambda w, i: F.embedding_bag(i, w, mode="mean"), [ebw], aux=[torch.tensor([[1, 2, 4], [4, 3, 9]])])
fcase("embedding_bag_max_offsets", lambda w, i, o: F.embedding_bag(i, w, o, mode="max"), [ebw], aux=[torch.tensor([1, 2, 4, 5, 4, 3, 2]), torch.tensor([0, 3])])
fcase("embedding_bag_mean_padding_last", lambda w, i, o: F.embedding_bag(i, w, o, mode="mean", padding_idx=2, include_last_offset=True), [ebw],
      aux=[torch.tensor([1, 2, 4, 2, 4, 3, 2]), torch.tensor([0, 2, 4, 7])])


# RMSNorm is not in PyTorch 1.13 (added in 2.4): its reference is the formula of the 2.4 docs, differentiated by autograd.
def rms_norm_reference(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * w


fcase("rms_norm_reference", lambda a, w: rms_norm_reference(a, w, 1e-6), [R(2, 3, 4), R(4)], note="PyTorch 2.4 formula (not in 1.13)")

# Running statistics of instance norm after one training call.
x = R(2, 3, 5)
rm, rv = torch.zeros(3), torch.ones(3)
F.instance_norm(x, rm, rv, use_input_stats=True, momentum=0.2)
FN["instance_norm_running_stats"] = {"input": enc(x), "running_mean": enc(rm), "running_var": enc(rv),
                                    "eval_output": enc(F.instance_norm(x, rm, rv, use_input_stats=False))}
dump("functional_parity", FN)

# ---------------------------------------------------------------- utils: weight_norm, spectral_norm, pad_sequence
U = {}
W0, b0, x0 = R(3, 4), R(3), R(5, 4)
for dim in [0, None]:
    lin = torch.nn.Linear(4, 3)
    with torch.no_grad():
        lin.weight.copy_(W0); lin.bias.copy_(b0)
    torch.nn.utils.weight_norm(lin, dim=dim)
    out = lin(x0)
    go = torch.randn_like(out)
    out.backward(go)
    U["weight_norm_" + str(dim)] = {"weight": enc(W0), "bias": enc(b0), "x": enc(x0), "output": enc(out), "grad_output": enc(go),
                                     "weight_g": enc(lin.weight_g), "grad_g": enc(lin.weight_g.grad), "grad_v": enc(lin.weight_v.grad)}
lin = torch.nn.Linear(4, 3)
with torch.no_grad():
    lin.weight.copy_(W0); lin.bias.copy_(b0)
torch.nn.utils.spectral_norm(lin, n_power_iterations=2)
u0, v0 = F.normalize(R(3), dim=0), F.normalize(R(4), dim=0)
with torch.no_grad():
    lin.weight_u.copy_(u0); lin.weight_v.copy_(v0)
out = lin(x0)
go = torch.randn_like(out)
out.backward(go)
U["spectral_norm"] = {"weight": enc(W0), "bias": enc(b0), "x": enc(x0), "u0": enc(u0), "v0": enc(v0), "output": enc(out), "grad_output": enc(go),
                      "u": enc(lin.weight_u), "v": enc(lin.weight_v), "grad_orig": enc(lin.weight_orig.grad)}
seqs = [R(3, 2), R(1, 2), R(2, 2)]
U["pad_sequence"] = {"seqs": [enc(s) for s in seqs], "padded": enc(torch.nn.utils.rnn.pad_sequence(seqs, padding_value=-1.0)),
                     "padded_batch_first": enc(torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True))}
torch.manual_seed(16)
padded = R(4, 3, 3)
lengths = [2, 4, 1]
packed = torch.nn.utils.rnn.pack_padded_sequence(padded, lengths, enforce_sorted=False)
U["pack_padded"] = {"padded": enc(padded), "lengths": lengths, "data": enc(packed.data), "batch_sizes": packed.batch_sizes.tolist(),
                    "sorted_indices": packed.sorted_indices.tolist()}
gru = torch.nn.GRU(3, 4, num_layers=2, bidirectional=True)
x = padded.clone().requires_grad_()
out, h = gru(torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False))
out_padded, out_lengths = torch.nn.utils.rnn.pad_packed_sequence(out)
go = torch.randn_like(out_padded)
(out_padded * go).sum().backward()
U["gru_packed"] = {"state": {k: enc(v) for k, v in gru.state_dict().items()}, "output": enc(out_padded), "hidden": enc(h),
                   "grad_output": enc(go), "input_grad": enc(x.grad), "lengths": out_lengths.tolist()}
lstm = torch.nn.LSTM(3, 4, batch_first=True)
xb = R(3, 4, 3)
out, (hn, cn) = lstm(torch.nn.utils.rnn.pack_padded_sequence(xb, [4, 3, 1], batch_first=True))
U["lstm_packed_batch_first"] = {"state": {k: enc(v) for k, v in lstm.state_dict().items()}, "x": enc(xb),
                                "output": enc(torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True)[0]), "h": enc(hn), "c": enc(cn)}
dump("utils_parity", U)

# ---------------------------------------------------------------- linear algebra (tests/golden/autograd/linalg_parity.json)
LA = {}
FN = LA   # fcase writes into FN
torch.manual_seed(15)
spd = lambda x: x @ x.mT + 4 * torch.eye(x.shape[-1])
fcase("addmm", lambda c, a, b: torch.addmm(c, a, b, beta=0.5, alpha=2.0), [R(3), R(3, 4), R(4, 3)])
fcase("baddbmm", lambda c, a, b: torch.baddbmm(c, a, b, beta=1.5, alpha=-1.0), [R(2, 3, 2), R(2, 3, 4), R(2, 4, 2)])
fcase("addbmm", lambda c, a, b: torch.addbmm(c, a, b), [R(3, 2), R(2, 3, 4), R(2, 4, 2)])
fcase("diag_vector_offset", lambda v: torch.diag(v, 1), [R(3)])
fcase("diag_matrix_offset", lambda a: torch.diag(a, -1), [R(3, 4)])
fcase("diagonal_3d", lambda a: torch.diagonal(a, 1, 0, 2), [R(3, 2, 4)])
fcase("trace", lambda a: torch.trace(a), [R(3, 4)])
fcase("vector_norm_3_dim1", lambda a: torch.linalg.vector_norm(a, 3, dim=1), [R(3, 4)])
fcase("vector_norm_inf", lambda a: torch.linalg.vector_norm(a, float("inf")), [R(3, 4)])
fcase("matrix_norm_fro", lambda a: torch.linalg.matrix_norm(a), [R(2, 3, 4)])
fcase("matrix_norm_nuc", lambda a: torch.linalg.matrix_norm(a, "nuc"), [R(3, 4)])
fcase("matrix_norm_2", lambda a: torch.linalg.matrix_norm(a, 2), [R(4, 3)])
fcase("matrix_norm_1", lambda a: torch.linalg.matrix_norm(a, 1), [R(3, 4)])
fcase("matrix_norm_neg_inf", lambda a: torch.linalg.matrix_norm(a, float("-inf")), [R(3, 4)])
fcase("norm_default", lambda a: torch.linalg.norm(a), [R(2, 3, 4)])
fcase("inv", lambda a: torch.linalg.inv(a), [R(2, 3, 3) + 3 * torch.eye(3)])
fcase("det", lambda a: torch.linalg.det(a), [R(2, 3, 3)])
fcase("slogdet", lambda a: torch.linalg.slogdet(a)[1], [R(2, 3, 3)])
fcase("solve_matrix", lambda a, b: torch.linalg.solve(a, b), [R(3, 3) + 3 * torch.eye(3), R(3, 2)])
fcase("solve_vector_batched", lambda a, b: torch.linalg.solve(a, b), [R(2, 3, 3) + 3 * torch.eye(3), R(2, 3)])
fcase("cholesky", lambda x: torch.linalg.cholesky(spd(x)), [R(3, 3)])
fcase("eigh_values", lambda x: torch.linalg.eigh(x + x.mT)[0], [R(2, 4, 4)])
fcase("eigh_vectors_squared", lambda x: torch.linalg.eigh(x + x.mT)[1] ** 2, [R(4, 4)])
fcase("svd_values", lambda a: torch.linalg.svd(a, full_matrices=False)[1], [R(2, 4, 3)])
fcase("svd_u_vh", lambda a: (lambda u, s, vh: u @ vh)(*torch.linalg.svd(a, full_matrices=False)), [R(4, 3)])
fcase("svd_u_vh_wide", lambda a: (lambda u, s, vh: u @ vh)(*torch.linalg.svd(a, full_matrices=False)), [R(3, 5)])
fcase("qr_abs_r", lambda a: torch.linalg.qr(a)[1].abs(), [R(4, 3)])
fcase("qr_q_squared", lambda a: torch.linalg.qr(a)[0] ** 2, [R(4, 3)])
fcase("pinv", lambda a: torch.linalg.pinv(a), [R(4, 3)])
fcase("qr_wide_abs_r", lambda a: torch.linalg.qr(a)[1].abs(), [R(3, 5)])
fcase("qr_wide_q_squared", lambda a: torch.linalg.qr(a)[0] ** 2, [R(3, 5)])
fcase("qr_complete_square", lambda a: (lambda q, r: (q ** 2) @ r.abs())(*torch.linalg.qr(a, mode="complete")), [R(2, 3, 3)])
fcase("qr_complete_wide", lambda a: torch.linalg.qr(a, mode="complete")[0] ** 2, [R(3, 4)])
fcase("svd_full_values", lambda a: torch.linalg.svd(a)[1], [R(4, 3)])
fcase("svd_full_u_vh_tall", lambda a: (lambda u, s, vh: u[..., :3] @ vh[..., :3, :])(*torch.linalg.svd(a)), [R(2, 5, 3)])
fcase("svd_full_u_vh_wide", lambda a: (lambda u, s, vh: u[..., :3] @ vh[..., :3, :])(*torch.linalg.svd(a)), [R(3, 5)])
signs, logs = torch.linalg.slogdet(torch.tensor([[[0.0, 2.0], [3.0, 1.0]], [[1e-200, 0.0], [0.0, 1e-200]]]))
LA["slogdet_signs"] = {"sign": signs.tolist(), "logabsdet": logs.tolist()}
OUT = os.path.join(HERE, "autograd")
dump("linalg_parity", LA)
