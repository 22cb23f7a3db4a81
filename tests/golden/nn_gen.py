#!/usr/bin/python3
"""Golden values for tests/NN.Tests (run with /usr/bin/python3, PyTorch 1.13 CPU).

Writes tests/golden/nn/*.json (layers, losses, optimizers, schedulers) and nn/from_torch.safetensors (written by
hand with struct+json, since the safetensors package may be missing). When nn/from_ember.safetensors exists
(written by the C# test SafetensorsTests.WriteFileForPyTorch), it is parsed here and compared with the values the
C# test is documented to write; a mismatch makes this script fail.
"""
import json, math, os, struct
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "nn")
os.makedirs(OUT, exist_ok=True)
torch.set_default_dtype(torch.float64)


def enc(t):
    t = t.detach()
    dt = {torch.float64: "float64", torch.float32: "float32", torch.int64: "int64", torch.int32: "int32", torch.bool: "bool"}[t.dtype]
    data = t.reshape(-1).tolist()
    if t.dtype == torch.bool:
        data = [1 if x else 0 for x in data]
    return {"shape": list(t.shape), "dtype": dt, "data": data}


def dump(name, obj):
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(obj, f, separators=(",", ":"))


def flat_outputs(out):
    if isinstance(out, torch.Tensor):
        return [out]
    res = []
    for o in out:
        res.extend(flat_outputs(o) if o is not None else [])
    return res


def run_case(module, inputs, options, grad_inputs=True, train=True, forward=None):
    module.train(train)
    xs = [x.clone().requires_grad_(grad_inputs and x.is_floating_point()) for x in inputs]
    params = {k: v.detach().clone() for k, v in module.state_dict().items()}
    out = forward(module, *xs) if forward else module(*xs)
    outs = flat_outputs(out)
    gs = [torch.randn_like(o) for o in outs]
    loss = sum((o * g).sum() for o, g in zip(outs, gs))
    loss.backward()
    return {
        "options": options,
        "inputs": [enc(x) for x in xs],
        "params": {k: enc(v) for k, v in params.items()},
        "outputs": [enc(o) for o in outs],
        "grad_outputs": [enc(g) for g in gs],
        "input_grads": [enc(x.grad) if x.grad is not None else None for x in xs],
        "param_grads": {k: enc(p.grad) for k, p in module.named_parameters() if p.grad is not None},
        "state_after": {k: enc(v) for k, v in module.state_dict().items()},
    }


# ---------------------------------------------------------------- layers
torch.manual_seed(0)
L = {}
L["linear"] = run_case(nn.Linear(4, 3), [torch.randn(2, 4)], {})
L["linear_nobias_3d"] = run_case(nn.Linear(4, 3, bias=False), [torch.randn(2, 2, 4)], {})
L["bilinear"] = run_case(nn.Bilinear(3, 2, 4), [torch.randn(5, 3), torch.randn(5, 2)], {})
for name, m in [("relu", nn.ReLU()), ("relu6", nn.ReLU6()), ("leaky_relu", nn.LeakyReLU(0.2)), ("elu", nn.ELU(0.7)),
                ("selu", nn.SELU()), ("gelu", nn.GELU()), ("gelu_tanh", nn.GELU(approximate="tanh")), ("silu", nn.SiLU()),
                ("mish", nn.Mish()), ("sigmoid", nn.Sigmoid()), ("tanh", nn.Tanh()), ("softplus", nn.Softplus(2.0, 1.0)),
                ("hardtanh", nn.Hardtanh(-0.5, 0.8)), ("softmax", nn.Softmax(1)), ("log_softmax", nn.LogSoftmax(-1))]:
    x = torch.randn(3, 5) * 3
    L["act_" + name] = run_case(m, [x], {})
L["conv1d"] = run_case(nn.Conv1d(2, 3, 3, stride=2, padding=1), [torch.randn(2, 2, 7)], {"in": 2, "out": 3, "k": 3, "stride": 2, "padding": 1})
L["conv1d_same_dil"] = run_case(nn.Conv1d(2, 4, 3, padding="same", dilation=2, groups=2), [torch.randn(1, 2, 6)], {})
L["conv2d"] = run_case(nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 0)), [torch.randn(2, 2, 5, 4)], {})
L["conv2d_groups_dil_nobias"] = run_case(nn.Conv2d(4, 4, 3, padding=2, dilation=2, groups=2, bias=False), [torch.randn(1, 4, 5, 5)], {})
L["conv2d_same"] = run_case(nn.Conv2d(2, 2, (2, 3), padding="same"), [torch.randn(1, 2, 4, 5)], {})
L["conv_transpose2d"] = run_case(nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1), [torch.randn(2, 2, 3, 4)], {})
L["conv_transpose2d_groups"] = run_case(nn.ConvTranspose2d(4, 2, 2, stride=1, groups=2, dilation=2), [torch.randn(1, 4, 3, 3)], {})
L["maxpool2d"] = run_case(nn.MaxPool2d(3, stride=2, padding=1), [torch.randn(2, 2, 5, 6)], {})
L["maxpool2d_ceil"] = run_case(nn.MaxPool2d(2, ceil_mode=True), [torch.randn(1, 2, 5, 5)], {})
L["maxpool1d"] = run_case(nn.MaxPool1d(2), [torch.randn(2, 3, 7)], {})
L["avgpool2d"] = run_case(nn.AvgPool2d(3, stride=2, padding=1), [torch.randn(2, 2, 5, 6)], {})
L["avgpool2d_nopad_count"] = run_case(nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), [torch.randn(1, 2, 5, 5)], {})
L["avgpool1d"] = run_case(nn.AvgPool1d(3, stride=2), [torch.randn(2, 2, 8)], {})
L["adaptive_avgpool2d"] = run_case(nn.AdaptiveAvgPool2d((2, 3)), [torch.randn(2, 2, 5, 7)], {})
bn = nn.BatchNorm1d(3, momentum=0.2)
L["batchnorm1d_train"] = run_case(bn, [torch.randn(4, 3)], {})
L["batchnorm1d_3d_train"] = run_case(nn.BatchNorm1d(3), [torch.randn(4, 3, 5)], {})
bn2 = nn.BatchNorm2d(2)
with torch.no_grad():
    bn2.running_mean.copy_(torch.randn(2)); bn2.running_var.copy_(torch.rand(2) + 0.5)
    bn2.weight.copy_(torch.randn(2)); bn2.bias.copy_(torch.randn(2))
L["batchnorm2d_eval"] = run_case(bn2, [torch.randn(2, 2, 3, 3)], {}, train=False)
bn3 = nn.BatchNorm2d(2)
with torch.no_grad():
    bn3.weight.copy_(torch.randn(2)); bn3.bias.copy_(torch.randn(2))
L["batchnorm2d_train"] = run_case(bn3, [torch.randn(3, 2, 3, 4)], {})
ln = nn.LayerNorm([3, 4])
with torch.no_grad():
    ln.weight.copy_(torch.randn(3, 4)); ln.bias.copy_(torch.randn(3, 4))
L["layernorm"] = run_case(ln, [torch.randn(2, 3, 4) * 2 + 1], {})
L["layernorm_noaffine"] = run_case(nn.LayerNorm(5, elementwise_affine=False), [torch.randn(3, 5)], {})
gn = nn.GroupNorm(2, 4)
with torch.no_grad():
    gn.weight.copy_(torch.randn(4)); gn.bias.copy_(torch.randn(4))
L["groupnorm"] = run_case(gn, [torch.randn(2, 4, 3, 2)], {})
L["embedding"] = run_case(nn.Embedding(6, 3, padding_idx=1), [torch.tensor([[0, 1, 5], [1, 2, 0]])], {}, grad_inputs=False)
L["unflatten"] = run_case(nn.Unflatten(1, (2, 3)), [torch.randn(2, 6)], {})
L["flatten"] = run_case(nn.Flatten(), [torch.randn(2, 2, 3)], {})
L["rnn_tanh"] = run_case(nn.RNN(3, 4, num_layers=2), [torch.randn(5, 2, 3)], {})
L["rnn_relu_bi_bf"] = run_case(nn.RNN(3, 4, nonlinearity="relu", bidirectional=True, batch_first=True), [torch.randn(2, 5, 3), torch.randn(2, 2, 4)], {})
L["lstm"] = run_case(nn.LSTM(3, 4, num_layers=2, bidirectional=True), [torch.randn(4, 2, 3)], {},
                     forward=lambda m, x: m(x))
L["lstm_h0_bf"] = run_case(nn.LSTM(3, 2, batch_first=True), [torch.randn(2, 4, 3), torch.randn(1, 2, 2), torch.randn(1, 2, 2)], {},
                           forward=lambda m, x, h, c: m(x, (h, c)))
L["gru"] = run_case(nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True), [torch.randn(2, 4, 3)], {})
mha = nn.MultiheadAttention(8, 2)
L["mha"] = run_case(mha, [torch.randn(4, 2, 8), torch.randn(5, 2, 8), torch.randn(5, 2, 8)], {},
                    forward=lambda m, q, k, v: m(q, k, v))
kpm = torch.tensor([[False, False, False, True, True], [False, False, False, False, False]])
L["mha_masks_bf"] = run_case(nn.MultiheadAttention(6, 3, batch_first=True), [torch.randn(2, 5, 6)], {"key_padding_mask": enc(kpm)},
                             forward=lambda m, x: m(x, x, x, key_padding_mask=kpm, attn_mask=torch.triu(torch.ones(5, 5, dtype=torch.bool), 1)))
L["encoder_layer"] = run_case(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), [torch.randn(5, 2, 8)], {})
L["encoder_layer_normfirst_gelu_bf"] = run_case(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu", norm_first=True, batch_first=True),
                                                [torch.randn(2, 5, 8)], {})
L["decoder_layer"] = run_case(nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0), [torch.randn(4, 2, 8), torch.randn(5, 2, 8)], {},
                              forward=lambda m, t, mem: m(t, mem, tgt_mask=nn.Transformer.generate_square_subsequent_mask(4)))
L["transformer"] = run_case(nn.Transformer(8, 2, 2, 1, 16, dropout=0.0, batch_first=True), [torch.randn(2, 5, 8), torch.randn(2, 4, 8)], {},
                            forward=lambda m, s, t: m(s, t, tgt_mask=nn.Transformer.generate_square_subsequent_mask(4)))
dump("layers", L)

# ---------------------------------------------------------------- functional
Fn = {}
q, k, v = torch.randn(2, 2, 4, 3), torch.randn(2, 2, 5, 3), torch.randn(2, 2, 5, 3)
def sdpa(q, k, v, mask=None, causal=False):
    # PyTorch 1.13 has no public F.scaled_dot_product_attention: the reference formula.
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        mask = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril()
    if mask is not None:
        s = s.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else s + mask
    return torch.softmax(s, -1) @ v
for name, kw in [("sdpa", {}), ("sdpa_causal", {"causal": True}),
                 ("sdpa_boolmask", {"mask": torch.rand(4, 5) > 0.3}), ("sdpa_floatmask", {"mask": torch.randn(4, 5)})]:
    qq, kk, vv = [t.clone().requires_grad_() for t in (q, k, v)]
    o = sdpa(qq, kk, vv, **kw)
    g = torch.randn_like(o)
    (o * g).sum().backward()
    Fn[name] = {"inputs": [enc(qq), enc(kk), enc(vv)], "mask": enc(kw["mask"]) if "mask" in kw else None,
                "output": enc(o), "grad_output": enc(g), "input_grads": [enc(qq.grad), enc(kk.grad), enc(vv.grad)]}
dump("functional", Fn)

# ---------------------------------------------------------------- losses
LS = {}
def loss_case(name, fn, inputs, opts, ngrad=2):
    xs = [x.clone().requires_grad_(x.is_floating_point() and i < ngrad) for i, x in enumerate(inputs)]
    out = fn(*xs)
    g = torch.randn_like(out) if out.dim() > 0 else torch.tensor(1.0)
    (out * g).sum().backward()
    LS[name] = {"options": opts, "inputs": [enc(x) for x in xs], "output": enc(out), "grad_output": enc(g),
                "input_grads": [enc(x.grad) if x.grad is not None else None for x in xs]}

logits = torch.randn(4, 5); tgt = torch.tensor([1, 0, 4, 2]); tgt_ign = torch.tensor([1, -100, 4, 2])
w5 = torch.rand(5) + 0.5
for red in ["mean", "sum", "none"]:
    loss_case(f"ce_{red}", lambda x, t: F.cross_entropy(x, t, reduction=red), [logits, tgt], {"reduction": red})
    loss_case(f"ce_w_ign_ls_{red}", lambda x, t, w: F.cross_entropy(x, t, weight=w, ignore_index=-100, label_smoothing=0.2, reduction=red),
              [logits, tgt_ign, w5], {"reduction": red, "label_smoothing": 0.2})
    loss_case(f"ce_ign_ls_{red}", lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1, reduction=red), [logits, tgt_ign], {"reduction": red, "label_smoothing": 0.1})
    loss_case(f"ce_prob_w_ls_{red}", lambda x, t, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.1, reduction=red),
              [logits, torch.softmax(torch.randn(4, 5), 1), w5], {"reduction": red, "label_smoothing": 0.1})
    loss_case(f"nll_w_{red}", lambda x, t, w: F.nll_loss(x, t, weight=w, reduction=red), [torch.log_softmax(logits, 1), tgt_ign, w5], {"reduction": red})
    loss_case(f"mse_{red}", lambda x, t: F.mse_loss(x, t, reduction=red), [torch.randn(3, 4), torch.randn(3, 4)], {"reduction": red})
    loss_case(f"l1_{red}", lambda x, t: F.l1_loss(x, t, reduction=red), [torch.randn(3, 4), torch.randn(3, 4)], {"reduction": red})
    loss_case(f"smoothl1_{red}", lambda x, t: F.smooth_l1_loss(x, t, reduction=red, beta=0.5), [torch.randn(3, 4), torch.randn(3, 4)], {"reduction": red, "beta": 0.5})
    loss_case(f"huber_{red}", lambda x, t: F.huber_loss(x, t, reduction=red, delta=0.7), [torch.randn(3, 4), torch.randn(3, 4)], {"reduction": red, "delta": 0.7})
    loss_case(f"bce_w_{red}", lambda x, t, w: F.binary_cross_entropy(x, t, weight=w, reduction=red),
              [torch.rand(3, 4) * 0.9 + 0.05, torch.rand(3, 4), torch.rand(4)], {"reduction": red})
    loss_case(f"bcelogits_pw_{red}", lambda x, t, w, pw: F.binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=pw, reduction=red),
              [torch.randn(3, 4) * 3, torch.rand(3, 4), torch.rand(4), torch.rand(4) * 2], {"reduction": red})
    loss_case(f"cosemb_{red}", lambda a, b, y: F.cosine_embedding_loss(a, b, y, margin=0.2, reduction=red),
              [torch.randn(4, 3), torch.randn(4, 3), torch.tensor([1.0, -1.0, -1.0, 1.0])], {"reduction": red, "margin": 0.2})
    loss_case(f"marginrank_{red}", lambda a, b, y: F.margin_ranking_loss(a, b, y, margin=0.1, reduction=red),
              [torch.randn(5), torch.randn(5), torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0])], {"reduction": red, "margin": 0.1})
loss_case("ce_nd_mean", lambda x, t: F.cross_entropy(x, t), [torch.randn(2, 3, 2, 2), torch.tensor([[[0, 2], [1, 1]], [[2, 0], [-100, 1]]])], {"reduction": "mean"})
loss_case("bcelogits_plain_mean", lambda x, t: F.binary_cross_entropy_with_logits(x, t), [torch.randn(3, 4) * 3, torch.rand(3, 4)], {"reduction": "mean"})
for red in ["mean", "sum", "none", "batchmean"]:
    loss_case(f"kldiv_{red}", lambda x, t: F.kl_div(x, t, reduction=red), [torch.log_softmax(torch.randn(3, 4), 1), torch.softmax(torch.randn(3, 4), 1) * (torch.rand(3, 4) > 0.2)], {"reduction": red}, ngrad=1)
loss_case("kldiv_logtarget_sum", lambda x, t: F.kl_div(x, t, reduction="sum", log_target=True), [torch.log_softmax(torch.randn(3, 4), 1), torch.log_softmax(torch.randn(3, 4), 1)], {"reduction": "sum"})
dump("losses", LS)

# ---------------------------------------------------------------- optimizers
P0 = [torch.tensor([0.5, -1.0, 2.0, 0.1, -0.3]), torch.tensor([[1.0, -2.0, 0.5], [0.0, 0.7, -1.5]])]
C = [torch.tensor([1.0, 0.5, 2.0, 1.5, 0.3]), torch.tensor([[0.2, 1.0, 0.7], [1.3, 0.4, 2.0]])]
T = [torch.tensor([1.0, 0.0, -1.0, 2.0, 0.5]), torch.tensor([[0.0, 1.0, -1.0], [0.5, -0.5, 2.0]])]


def grad_of(i, p):
    # f(p) = Σ c·(p − t)² + sin(p)  →  ∇f = 2c(p − t) + cos(p)   (the C# test computes the same)
    return 2 * C[i] * (p - T[i]) + torch.cos(p)


def lamb_reference(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0, max_trust_ratio=10.0, bias_correction=True, steps=20):
    ps = [p.clone() for p in params]
    m = [torch.zeros_like(p) for p in ps]; v = [torch.zeros_like(p) for p in ps]
    traj = []
    for t in range(1, steps + 1):
        for i, p in enumerate(ps):
            g = grad_of(i, p)
            m[i] = betas[0] * m[i] + (1 - betas[0]) * g
            v[i] = betas[1] * v[i] + (1 - betas[1]) * g * g
            bc1 = 1 - betas[0] ** t if bias_correction else 1.0
            bc2 = 1 - betas[1] ** t if bias_correction else 1.0
            u = (m[i] / bc1) / ((v[i] / bc2).sqrt() + eps) + weight_decay * p
            wn, un = p.norm().item(), u.norm().item()
            r = wn / un if wn > 0 and un > 0 else 1.0
            if max_trust_ratio is not None:
                r = min(r, max_trust_ratio)
            ps[i] = p - lr * r * u
        traj.append([enc(p) for p in ps])
    return traj


OPT = {}
def opt_case(name, cls, kw, groups=None, steps=20):
    ps = [p.clone().requires_grad_() for p in P0]
    opt = cls([{"params": [ps[0]], **groups[0]}, {"params": [ps[1]], **groups[1]}], **kw) if groups else cls(ps, **kw)
    traj = []
    for _ in range(steps):
        opt.zero_grad()
        for i, p in enumerate(ps):
            p.grad = grad_of(i, p.detach())
        opt.step()
        traj.append([enc(p) for p in ps])
    OPT[name] = {"optimizer": cls.__name__, "options": kw, "groups": groups, "trajectory": traj}

opt_case("sgd_plain", torch.optim.SGD, {"lr": 0.1})
opt_case("sgd_momentum", torch.optim.SGD, {"lr": 0.05, "momentum": 0.9})
opt_case("sgd_dampening_wd", torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1})
opt_case("sgd_nesterov", torch.optim.SGD, {"lr": 0.05, "momentum": 0.8, "nesterov": True})
opt_case("sgd_maximize", torch.optim.SGD, {"lr": 0.01, "momentum": 0.5, "maximize": True})
opt_case("sgd_groups", torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}, groups=[{"lr": 0.1}, {"momentum": 0.5}])
opt_case("adam", torch.optim.Adam, {"lr": 0.05})
opt_case("adam_amsgrad_wd", torch.optim.Adam, {"lr": 0.05, "betas": (0.8, 0.9), "eps": 1e-6, "weight_decay": 0.1, "amsgrad": True})
opt_case("adam_maximize", torch.optim.Adam, {"lr": 0.01, "maximize": True})
opt_case("adamw", torch.optim.AdamW, {"lr": 0.05})
opt_case("adamw_amsgrad", torch.optim.AdamW, {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True})
opt_case("rmsprop", torch.optim.RMSprop, {"lr": 0.01})
opt_case("rmsprop_centered_momentum_wd", torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.9, "centered": True, "momentum": 0.5, "weight_decay": 0.1})
opt_case("rmsprop_momentum_maximize", torch.optim.RMSprop, {"lr": 0.005, "momentum": 0.9, "maximize": True})
opt_case("adagrad", torch.optim.Adagrad, {"lr": 0.1})
opt_case("adagrad_decay_init_wd", torch.optim.Adagrad, {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.1, "weight_decay": 0.1, "eps": 1e-8})
opt_case("adagrad_maximize", torch.optim.Adagrad, {"lr": 0.05, "maximize": True})
for name, kw in [("lamb", {"lr": 0.05}), ("lamb_wd_noclamp", {"lr": 0.05, "weight_decay": 0.01, "max_trust_ratio": None}),
                 ("lamb_nobiascorr_clamp", {"lr": 0.05, "bias_correction": False, "max_trust_ratio": 0.5, "betas": (0.8, 0.99)})]:
    OPT[name] = {"optimizer": "LAMB", "options": kw, "groups": None, "trajectory": lamb_reference(P0, **kw)}
dump("optimizers", OPT)

# ---------------------------------------------------------------- clip grad
CG = {}
for nt in [2.0, 1.0, float("inf")]:
    ps = [p.clone().requires_grad_() for p in P0]
    for i, p in enumerate(ps):
        p.grad = grad_of(i, p.detach())
    total = torch.nn.utils.clip_grad_norm_(ps, 1.5, norm_type=nt)
    CG["norm_" + str(nt)] = {"norm_type": nt if nt != float("inf") else "inf", "total": total.item(), "grads": [enc(p.grad) for p in ps]}
dump("clipgrad", CG)

# ---------------------------------------------------------------- schedulers
S = {}
def sched_case(name, make, steps=30, opt_cls=torch.optim.SGD, opt_kw=None, metrics=None):
    p = torch.zeros(2, requires_grad=True)
    opt = opt_cls([p], **(opt_kw or {"lr": 0.1, "momentum": 0.9}))
    s = make(opt)
    lrs = [s.get_last_lr()[0] if hasattr(s, "get_last_lr") else opt.param_groups[0]["lr"]]
    moms = [opt.param_groups[0].get("momentum", opt.param_groups[0].get("betas", (None,))[0])]
    for i in range(steps):
        opt.step()
        if metrics is not None:
            s.step(metrics[i])
            lrs.append(opt.param_groups[0]["lr"])
        else:
            s.step()
            lrs.append(s.get_last_lr()[0])
        moms.append(opt.param_groups[0].get("momentum", opt.param_groups[0].get("betas", (None,))[0]))
    S[name] = {"lrs": lrs, "momentums": moms}

import torch.optim.lr_scheduler as LRS
sched_case("step", lambda o: LRS.StepLR(o, 7, 0.5))
sched_case("multistep", lambda o: LRS.MultiStepLR(o, [3, 10, 11], 0.3))
sched_case("exponential", lambda o: LRS.ExponentialLR(o, 0.9))
sched_case("cosine", lambda o: LRS.CosineAnnealingLR(o, 10, 0.01))
sched_case("linear", lambda o: LRS.LinearLR(o, 0.2, 1.0, 8))
sched_case("sequential", lambda o: LRS.SequentialLR(o, [LRS.LinearLR(o, 0.1, 1.0, 5), LRS.CosineAnnealingLR(o, 20, 0.001)], [5]))
sched_case("onecycle_cos", lambda o: LRS.OneCycleLR(o, 0.5, total_steps=30))
sched_case("onecycle_linear_3phase", lambda o: LRS.OneCycleLR(o, 0.5, epochs=3, steps_per_epoch=10, anneal_strategy="linear", three_phase=True, pct_start=0.25))
sched_case("onecycle_adam", lambda o: LRS.OneCycleLR(o, 0.01, total_steps=30, base_momentum=0.8, max_momentum=0.9), opt_cls=torch.optim.Adam, opt_kw={"lr": 0.001})
plateau_metrics = [1.0, 0.9, 0.95, 0.95, 0.96, 0.97, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.49999, 0.4, 0.41, 0.42, 0.43, 0.44, 0.45, 0.46, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]
sched_case("plateau", lambda o: LRS.ReduceLROnPlateau(o, factor=0.5, patience=2, cooldown=1, min_lr=0.01), metrics=plateau_metrics)
sched_case("plateau_max_abs", lambda o: LRS.ReduceLROnPlateau(o, mode="max", factor=0.3, patience=1, threshold=0.05, threshold_mode="abs"), metrics=[-m for m in plateau_metrics])
S["plateau"]["metrics"] = plateau_metrics
S["plateau_max_abs"]["metrics"] = [-m for m in plateau_metrics]
dump("schedulers", S)

# ---------------------------------------------------------------- safetensors (hand-written, no package needed)
DT = {torch.float32: "F32", torch.float64: "F64", torch.int32: "I32", torch.int64: "I64", torch.bool: "BOOL", torch.float16: "F16", torch.bfloat16: "BF16"}
DT_INV = {v: k for k, v in DT.items()}


def st_write(path, tensors, metadata=None):
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        t = t.contiguous()
        b = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": DT[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b); off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h)
        for b in blobs:
            f.write(b)


def st_read(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        dt = DT_INV[info["dtype"]]
        buf = bytearray(data[b:e])
        if dt == torch.bfloat16:
            t = torch.frombuffer(buf, dtype=torch.int16).view(torch.bfloat16)
        else:
            t = torch.frombuffer(buf, dtype=dt) if len(buf) else torch.empty(0, dtype=dt)
        out[name] = t.reshape(info["shape"]).clone()
    return out, meta


torch.manual_seed(1)
st_tensors = {
    "f32": torch.randn(2, 3, dtype=torch.float32),
    "f64": torch.randn(4, dtype=torch.float64),
    "i32": torch.arange(-3, 3, dtype=torch.int32).reshape(3, 2),
    "i64": torch.tensor([1 << 40, -5, 7], dtype=torch.int64),
    "bool": torch.tensor([[True, False], [False, True]]),
    "scalar": torch.tensor(3.5, dtype=torch.float32),
    "empty": torch.zeros(0, 3, dtype=torch.float32),
    "f16": torch.tensor([0.5, -1.25, 65504.0, 1e-3], dtype=torch.float16),
    "bf16": torch.tensor([1.0, -2.5, 3.1415], dtype=torch.bfloat16),
    "linear.weight": torch.randn(3, 4, dtype=torch.float32),
}
st_write(os.path.join(OUT, "from_torch.safetensors"), st_tensors, {"format": "pt", "producer": "nn_gen.py"})
expect = {k: enc(v.to(torch.float32) if v.dtype in (torch.float16, torch.bfloat16) else v) for k, v in st_tensors.items()}
for k in expect:
    if expect[k]["dtype"] == "float32":
        pass
dump("safetensors_expected", {"tensors": expect, "metadata": {"format": "pt", "producer": "nn_gen.py"}})

ember_path = os.path.join(OUT, "from_ember.safetensors")
if os.path.exists(ember_path):
    got, meta = st_read(ember_path)
    # The C# test SafetensorsTests.WriteFileForPyTorch writes exactly these values.
    want = {
        "a": torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4,
        "b": torch.tensor([1.5, -2.25], dtype=torch.float64),
        "c": torch.tensor([[1, -2], [3, 4]], dtype=torch.int32),
        "d": torch.tensor([10000000000, -1], dtype=torch.int64),
        "e": torch.tensor([True, False, True]),
    }
    assert set(got) == set(want), (sorted(got), sorted(want))
    for k, w in want.items():
        assert got[k].dtype == w.dtype and torch.equal(got[k], w), (k, got[k], w)
    assert meta == {"producer": "ember"}, meta
    print("from_ember.safetensors: loads in PyTorch with identical values")
else:
    print("from_ember.safetensors not found: run the NN tests first to check the Ember-written file")
print("wrote", OUT)

# ---------------------------------------------------------------- attention / transformer / recurrent extras (own seed)
torch.manual_seed(2)
SQ = {}
kpm2 = torch.tensor([[False, False, True, False, True], [False, False, False, False, False]])
fmask = torch.randn(2 * 2, 3, 5)
SQ["mha_floatmask_perhead"] = run_case(nn.MultiheadAttention(8, 2), [torch.randn(3, 2, 8), torch.randn(5, 2, 8), torch.randn(5, 2, 8)],
                                       {"key_padding_mask": enc(kpm2), "attn_mask": enc(fmask), "average_attn_weights": False},
                                       forward=lambda m, q, k, v: m(q, k, v, key_padding_mask=kpm2, attn_mask=fmask, average_attn_weights=False))
SQ["mha_cross_bf_noweights_nobias"] = run_case(nn.MultiheadAttention(6, 2, bias=False, batch_first=True), [torch.randn(2, 3, 6), torch.randn(2, 4, 6)],
                                               {"need_weights": False},
                                               forward=lambda m, q, kv: m(q, kv, kv, need_weights=False))
bmask3 = torch.rand(3 * 2, 4, 4) > 0.7
for i in range(4):
    bmask3[:, i, i] = False
SQ["mha_unbatched_boolmask3d"] = run_case(nn.MultiheadAttention(6, 3), [torch.randn(4, 6)], {"attn_mask": enc(bmask3[:3]), "average_attn_weights": False},
                                          forward=lambda m, x: m(x, x, x, attn_mask=bmask3[:3], average_attn_weights=False))
SQ["rnn_unbatched_h0_nobias"] = run_case(nn.RNN(3, 4, bias=False), [torch.randn(5, 3), torch.randn(1, 4)], {})
SQ["gru_h0"] = run_case(nn.GRU(3, 4), [torch.randn(5, 2, 3), torch.randn(1, 2, 4)], {})
SQ["lstm_bi2_bf_h0"] = run_case(nn.LSTM(3, 2, num_layers=2, bidirectional=True, batch_first=True),
                                [torch.randn(2, 4, 3), torch.randn(4, 2, 2), torch.randn(4, 2, 2)], {},
                                forward=lambda m, x, h, c: m(x, (h, c)))
SQ["lstm_proj_bi2_h0"] = run_case(nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2),
                                  [torch.randn(3, 2, 3), torch.randn(4, 2, 2), torch.randn(4, 2, 4)], {},
                                  forward=lambda m, x, h, c: m(x, (h, c)))
kpm3 = torch.tensor([[False, True, False, False], [False, False, False, True]])
SQ["mha_kdim_vdim_kpm"] = run_case(nn.MultiheadAttention(6, 2, kdim=4, vdim=5), [torch.randn(3, 2, 6), torch.randn(4, 2, 4), torch.randn(4, 2, 5)],
                                   {"key_padding_mask": enc(kpm3)}, forward=lambda m, q, k, v: m(q, k, v, key_padding_mask=kpm3))
skpm = torch.tensor([[False, False, False, False, True], [False, False, False, False, False]])
SQ["encoder_stack_kpm"] = run_case(nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), 2, norm=nn.LayerNorm(8)),
                                   [torch.randn(5, 2, 8)], {"src_key_padding_mask": enc(skpm)},
                                   forward=lambda m, x: m(x, src_key_padding_mask=skpm))
tkpm = torch.tensor([[False, False, False, True], [False, False, False, False]])
SQ["decoder_layer_normfirst_gelu_bf_kpm"] = run_case(
    nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, activation="gelu", norm_first=True, batch_first=True),
    [torch.randn(2, 4, 8), torch.randn(2, 5, 8)], {"tgt_key_padding_mask": enc(tkpm), "memory_key_padding_mask": enc(skpm)},
    forward=lambda m, t, mem: m(t, mem, tgt_mask=nn.Transformer.generate_square_subsequent_mask(4), tgt_key_padding_mask=tkpm,
                                memory_key_padding_mask=skpm))
ssm = nn.Transformer.generate_square_subsequent_mask(4)  # JSON has no -inf: store where it is -inf, and that the rest is 0
SQ["square_subsequent_mask"] = {"is_neg_inf": enc(ssm == float("-inf")), "rest_zero": bool((ssm[ssm != float("-inf")] == 0).all())}
dump("sequence", SQ)
print("wrote sequence.json")
