"""Golden gradients (PyTorch 1.13) of small compositions for Ember's autograd tests.

Run with the system Python that has torch:  /usr/bin/python3 tests/golden/autograd_gen.py
Writes tests/golden/autograd/compositions.json: a list of
  {name, inputs: [{shape, values}], grads: [values], second: [values] | null}
where grads are d(loss)/d(input) of the scalar loss, and second (when present) are d(sum(grads[0]))/d(input),
i.e. the gradient of the first input's gradient (create_graph=True). Floats are repr strings, so every bit
(and inf/nan) survives JSON. The C# test holds the same compositions under the same names.
"""
import json, os
import torch

torch.manual_seed(1234)
D = torch.float64
cases = []


def t(values, *shape):
    return torch.tensor(values, dtype=D).reshape(*shape) if shape else torch.tensor(values, dtype=D)


def rnd(*shape, lo=-1.0, hi=1.0):
    return torch.rand(*shape, dtype=D) * (hi - lo) + lo


def enc(x):
    return [repr(float(v)) for v in x.detach().reshape(-1).tolist()]


def add(name, fn, inputs, second=False):
    xs = [x.clone().requires_grad_(True) for x in inputs]
    loss = fn(*xs)
    assert loss.dim() == 0, name
    grads = torch.autograd.grad(loss, xs, create_graph=second, allow_unused=True)
    entry = {
        "name": name,
        "inputs": [{"shape": list(x.shape), "values": enc(x)} for x in inputs],
        "loss": repr(float(loss)),
        "grads": [enc(g) if g is not None else None for g in grads],
        "second": None,
    }
    if second:
        gg = torch.autograd.grad(grads[0].sum(), xs, allow_unused=True)
        entry["second"] = [enc(g) if g is not None else None for g in gg]
    cases.append(entry)


add("mlp_logsoftmax",
    lambda x, w1, b1, w2: torch.log_softmax(torch.tanh(x @ w1 + b1) @ w2, 1).mean(),
    [rnd(4, 3), rnd(3, 5), rnd(5), rnd(5, 2)])
add("cross_entropy_like",
    lambda z: -(torch.log_softmax(z, 1) * torch.tensor([[1., 0, 0], [0, 0, 1]], dtype=D)).sum() / 2,
    [rnd(2, 3)])
add("softmax_weighted", lambda z: (torch.softmax(z, 0) * torch.arange(6, dtype=D).reshape(3, 2)).sum(), [rnd(3, 2)], second=True)
add("maximum_minimum_ties",
    lambda a, b: (torch.maximum(a, b) * 2 + torch.minimum(a, b) * 3).sum(),
    [t([1., 2, 3, -1]), t([1., 5, 0, -1])])
add("amax_max_ties", lambda x: x.amax(1).sum() + x.max() * 2 + x.amin(0).sum(), [t([1., 3, 3, 2, 3, 0], 2, 3)])
add("max_dim_ties", lambda x: x.max(1).values.sum() + 2 * x.min(0).values.sum(), [t([1., 3, 3, 2, 2, 0], 2, 3)])
add("pow_zero_conventions", lambda x, y: (x ** y).sum() + (x ** 0).sum() + (torch.tensor(0., dtype=D) ** y).sum(),
    [t([0., 0, 2, 0.5]), t([0., 2, 0, 1.5])])
add("prod_with_zeros", lambda x: x.prod(1).sum() + x[0].prod(), [t([0., 2, 3, 0, 0, 2, 1.5, 2, 4], 3, 3)])
add("clamp_relu_abs_at_kinks",
    lambda x: x.clamp(0, 1).sum() + torch.relu(x).sum() * 2 + x.abs().sum() * 3
    + torch.nn.functional.leaky_relu(x, 0.1).sum() * 5 + torch.nn.functional.elu(x, 1.3).sum() * 7,
    [t([-1., 0, 0.5, 1, 2])])
add("smooth_activations",
    lambda x: (torch.nn.functional.gelu(x) + torch.nn.functional.gelu(x, approximate="tanh") * 2
               + torch.nn.functional.silu(x) * 3 + torch.nn.functional.softplus(x, 2, 1) * 5 + torch.erf(x) * 7).sum(),
    [t([-2., -0.5, 0.1, 0.45, 0.6, 3])], second=True)
add("indexing_mix",
    lambda x: (torch.where(x > 0, x, x * 3) * torch.arange(6, dtype=D).reshape(2, 3)).sum()
    + x.gather(1, torch.tensor([[0, 0], [2, 1]])).sum() * 2
    + x.index_select(1, torch.tensor([2, 2, 0])).exp().sum()
    + torch.cat([x[:, ::2], x[:, 1:2] ** 2], 1).sum() * 5
    + x.masked_fill(x < 0, 0.5).square().sum(),
    [rnd(2, 3)])
add("broadcast_ops",
    lambda a, b, c: ((a + b) * c - a / (c + 2) + (a - c) ** 2).sum() + a.remainder(c + 3).sum(),
    [rnd(2, 1, 3), rnd(4, 1), rnd(3, lo=0.2, hi=1.0)])
add("var_std_logsumexp",
    lambda x: x.var(1).sum() + x.std() * 2 + torch.logsumexp(x, 0).sum() * 3 + x.norm() * 5 + x.mean(),
    [rnd(3, 4)])
add("tanh_times_x_second", lambda x: (torch.tanh(x) * x).sum(), [rnd(5)], second=True)
add("bmm_triangular",
    lambda a, b: (torch.bmm(a, b).tril() * 2 + torch.bmm(a, b).triu(1)).sum() + (a @ b).exp().sum(),
    [rnd(2, 2, 3), rnd(2, 3, 2)], second=True)
add("scatter_index_add",
    lambda x, s: x.scatter(1, torch.tensor([[2, 0], [1, 0]]), s).square().sum()
    + x.scatter_add(1, torch.tensor([[0, 0], [2, 2]]), s).exp().sum()
    + x.index_add(0, torch.tensor([1, 1]), s.repeat(1, 2)[:, :3], alpha=2).square().sum(),
    [rnd(2, 3), rnd(2, 2)])

os.makedirs(os.path.join(os.path.dirname(__file__), "autograd"), exist_ok=True)
with open(os.path.join(os.path.dirname(__file__), "autograd", "compositions.json"), "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f, indent=1)
print(f"{len(cases)} cases written")
