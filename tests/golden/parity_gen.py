"""Golden values of the PyTorch-parity ops (issue #14) from PyTorch 1.13, for tests/Autograd.Tests/ParityGoldenTests.cs.

Run with the system Python that has torch:  /usr/bin/python3 tests/golden/parity_gen.py
Writes tests/golden/autograd/parity.json: {name: {inputs, outputs, cotangent, grads}}. Every tensor is
{dtype, shape, values} with values as repr strings (so nan/inf and every bit survive JSON). For a differentiable case,
grads are d(sum(outputs[0] * cotangent))/d(input) of each floating-point input.
"""
import json, os
import torch

torch.manual_seed(0)
cases = {}

def enc(t):
    t = t.detach()
    flat = t.reshape(-1).tolist()
    if t.dtype.is_floating_point:
        vals = [repr(float(v)) for v in flat]
    elif t.dtype == torch.bool:
        vals = ["1" if v else "0" for v in flat]
    else:
        vals = [repr(int(v)) for v in flat]
    return {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "values": vals}

def add(name, f, *inputs, grad=True):
    ins = [x.clone().requires_grad_(grad and x.dtype.is_floating_point) for x in inputs]
    out = f(*ins)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    case = {"inputs": [enc(x) for x in inputs], "outputs": [enc(o) for o in outs]}
    if grad and outs[0].dtype.is_floating_point and any(x.requires_grad for x in ins):
        cot = torch.randn(outs[0].shape, dtype=outs[0].dtype)
        gs = torch.autograd.grad((outs[0] * cot).sum(), [x for x in ins if x.requires_grad], allow_unused=True)
        it = iter(gs)
        case["cotangent"] = enc(cot)
        case["grads"] = [None if not x.requires_grad else (lambda g: enc(g) if g is not None else enc(torch.zeros_like(x)))(next(it)) for x in ins]
    cases[name] = case

d = torch.float64
x = torch.randn(3, 4, dtype=d)
y = torch.randn(3, 4, dtype=d)
z = torch.rand(3, 4, dtype=d) + 0.5
ties = torch.tensor([[3., 1., 2., 1., 3.], [0., 5., 5., -1., 0.], [2., 2., 2., 2., 2.]], dtype=d)
nanrow = torch.tensor([[1., float("nan"), 3., 0.5], [4., 2., 8., 6.], [float("nan")] * 4], dtype=d)

# ---- pointwise ----
add("lerp_scalar", lambda a, b: torch.lerp(a, b, 0.3), x, y)
add("lerp_tensor", lambda a, b, w: torch.lerp(a, b, w), x, y, torch.rand(4, dtype=d))
add("addcmul", lambda a, b, c: torch.addcmul(a, b, c, value=0.5), x, y, z)
add("addcdiv", lambda a, b, c: torch.addcdiv(a, b, c, value=2.0), x, y, z)
add("nan_to_num", lambda a: torch.nan_to_num(a), torch.tensor([1.0, float("nan"), float("inf"), -float("inf"), -2.5], dtype=d))
add("nan_to_num_args", lambda a: torch.nan_to_num(a, nan=7.0, posinf=100.0, neginf=-100.0), torch.tensor([1.0, float("nan"), float("inf"), -float("inf")], dtype=d))
add("nan_to_num_f32", lambda a: torch.nan_to_num(a), torch.tensor([float("inf"), -float("inf"), 1.5]), grad=False)
add("trunc", torch.trunc, x * 3)
add("frac", torch.frac, x * 3)
add("fmod", torch.fmod, x * 3, z)
add("fmod_neg_divisor", torch.fmod, x * 3, -z)
add("fmod_int", torch.fmod, torch.tensor([7, -7, 7, -7, 0]), torch.tensor([3, 3, -3, -3, 2]), grad=False)
add("remainder", torch.remainder, x * 3, -z)
add("remainder_int", torch.remainder, torch.tensor([7, -7, 7, -7, 0]), torch.tensor([3, 3, -3, -3, 2]), grad=False)
add("floor_divide", torch.floor_divide, x * 3, z, grad=False)
add("floor_divide_int", torch.floor_divide, torch.tensor([7, -7, 7, -7, 0, 6]), torch.tensor([3, 3, -3, -3, 2, 3]), grad=False)
add("isfinite", torch.isfinite, torch.tensor([1.0, float("nan"), float("inf"), -float("inf")], dtype=d), grad=False)
add("isclose", lambda a, b: torch.isclose(a, b, rtol=1e-3, atol=1e-2), torch.tensor([1.0, 2.0, float("inf"), float("nan"), 100.0], dtype=d),
    torch.tensor([1.005, 2.1, float("inf"), float("nan"), 100.05], dtype=d), grad=False)
add("isclose_equal_nan", lambda a, b: torch.isclose(a, b, equal_nan=True), torch.tensor([float("nan"), 1.0], dtype=d), torch.tensor([float("nan"), 1.0], dtype=d), grad=False)
add("bitwise", lambda a, b: (a & b, a | b, a ^ b, ~a), torch.tensor([12, -7, 0, 255]), torch.tensor([10, 3, -1, 15]), grad=False)
add("clip", lambda a: torch.clip(a, -0.5, 0.5), x)

# ---- reductions and scans ----
add("cumsum_dim1", lambda a: torch.cumsum(a, 1), x)
add("cumsum_dim0", lambda a: torch.cumsum(a, 0), x)
add("cumsum_long", lambda a: torch.cumsum(a, 0), torch.arange(1, 8), grad=False)
add("cumprod_dim1", lambda a: torch.cumprod(a, 1), x)
add("cumprod_zero", lambda a: torch.cumprod(a, 0), torch.tensor([2.0, 0.0, 3.0, -1.5, 0.0, 4.0], dtype=d))
add("count_nonzero", lambda a: torch.count_nonzero(a, dim=1), torch.tensor([[0., 1., 2.], [0., 0., 3.]], dtype=d), grad=False)
add("nansum", lambda a: torch.nansum(a, dim=1), nanrow)
add("nanmean", lambda a: torch.nanmean(a, dim=1), nanrow[:2])
# An all-NaN row: the mean is NaN; its gradient (NaN in PyTorch, from 0·∞) is not compared: Ember's is 0 there.
add("nanmean_all_nan_row", lambda a: torch.nanmean(a, dim=1), nanrow, grad=False)
add("median_dim", lambda a: torch.median(a, 1), x)
add("median_all", lambda a: torch.median(a), x)
add("median_even_ties", lambda a: torch.median(a, 1), ties)
add("median_nan", lambda a: torch.median(a, 1), nanrow, grad=False)
add("nanmedian", lambda a: torch.nanmedian(a, 1), nanrow[:2], grad=False)  # an all-NaN row's index is unspecified
add("mode", lambda a: torch.mode(a, 1), ties)
add("quantile", lambda a: torch.quantile(a, 0.3, dim=1), x)
add("quantile_keepdim", lambda a: torch.quantile(a, 0.75, dim=0, keepdim=True), x)
add("quantile_many", lambda a: torch.quantile(a, torch.tensor([0.1, 0.5, 0.9], dtype=d), dim=1), x)
add("quantile_all", lambda a: torch.quantile(a, 0.5), x)
add("quantile_nan", lambda a: torch.quantile(a, 0.4, dim=1), nanrow, grad=False)
add("nanquantile", lambda a: torch.nanquantile(a, 0.4, dim=1), nanrow, grad=False)
add("unique", lambda a: torch.unique(a, sorted=True, return_inverse=True, return_counts=True), torch.tensor([[3, 1, 2], [1, 3, 5]]), grad=False)

# ---- sorting ----
add("sort", lambda a: torch.sort(a, 1), x)
add("sort_desc_dim0", lambda a: torch.sort(a, 0, descending=True), x)
add("sort_stable_ties", lambda a: torch.sort(a, dim=1, stable=True), ties)
add("sort_stable_ties_desc", lambda a: torch.sort(a, dim=1, descending=True, stable=True), ties)
add("sort_nan", lambda a: torch.sort(a, 1), nanrow, grad=False)
add("sort_nan_desc", lambda a: torch.sort(a, 1, descending=True), nanrow, grad=False)
add("argsort", lambda a: torch.argsort(a, 1), x, grad=False)
add("topk", lambda a: torch.topk(a, 2, 1), x)
add("topk_smallest_dim0", lambda a: torch.topk(a, 2, 0, largest=False), x)
add("kthvalue", lambda a: torch.kthvalue(a, 2, 1), x)
add("kthvalue_keepdim", lambda a: torch.kthvalue(a, 3, 0, keepdim=True), x)
add("msort", torch.msort, x)

# ---- indexing ----
x34 = torch.randn(3, 4, dtype=d)
add("index_mask", lambda a: a[a.detach() > 0], x34)
add("index_mask_leading", lambda a: a[torch.tensor([True, False, True])], x34)
add("index_long", lambda a: a[torch.tensor([[2, 0], [-1, 1]])], x34)
add("index_put", lambda a, v: a.index_put((torch.tensor([0, 2]), torch.tensor([1, -1])), v), x34, torch.randn(2, dtype=d))
add("index_put_accumulate", lambda a, v: a.index_put((torch.tensor([0, 0, 2]),), v, accumulate=True), x34, torch.randn(3, 4, dtype=d))
add("index_put_mask", lambda a, v: a.index_put((a.detach() > 0,), v), x34, torch.tensor(5.0, dtype=d))
add("masked_select", lambda a: torch.masked_select(a, torch.tensor([True, False, True, True])), x34)
add("nonzero", torch.nonzero, torch.tensor([[0, 1, 0], [2, 0, 3]]), grad=False)
add("take", lambda a: torch.take(a, torch.tensor([[0, 5], [-1, 7]])), x34)

# ---- shape ----
x234 = torch.randn(2, 3, 4, dtype=d)
add("movedim", lambda a: torch.movedim(a, 0, 2), x234)
add("movedim_many", lambda a: torch.movedim(a, (0, 1), (2, 0)), x234)
add("repeat", lambda a: a.repeat(2, 1, 3), x34)
add("tile", lambda a: torch.tile(a, (2,)), x34)
add("repeat_interleave", lambda a: torch.repeat_interleave(a, 2, dim=1), x34)
add("repeat_interleave_flat", lambda a: torch.repeat_interleave(a, 2), x34)
add("repeat_interleave_tensor", lambda a: torch.repeat_interleave(a, torch.tensor([1, 0, 2]), dim=0), x34)
add("flip", lambda a: torch.flip(a, (0, 2)), x234)
add("fliplr", torch.fliplr, x34)
add("flipud", torch.flipud, x34)
add("roll", lambda a: torch.roll(a, (1, -2), (0, 1)), x34)
add("roll_flat", lambda a: torch.roll(a, 5), x34)
add("rot90_1", lambda a: torch.rot90(a, 1, (0, 1)), x34)
add("rot90_2", lambda a: torch.rot90(a, 2, (0, 1)), x34)
add("rot90_3", lambda a: torch.rot90(a, 3, (1, 2)), x234)
add("rot90_neg", lambda a: torch.rot90(a, -1, (0, 1)), x34)
add("unbind", lambda a: torch.unbind(a, 1), x34)
add("hstack_1d", lambda a, b: torch.hstack((a, b)), torch.randn(3, dtype=d), torch.randn(2, dtype=d))
add("hstack_2d", lambda a, b: torch.hstack((a, b)), x34, torch.randn(3, 2, dtype=d))
add("vstack", lambda a, b: torch.vstack((a, b)), torch.randn(4, dtype=d), x34)
add("dstack", lambda a, b: torch.dstack((a, b)), x34, x34 * 2)
add("unflatten", lambda a: a.unflatten(1, (2, 2)), x34)
add("einsum_bmm", lambda a, b: torch.einsum("bij,bjk->bik", a, b), torch.randn(2, 3, 4, dtype=d), torch.randn(2, 4, 5, dtype=d))
add("einsum_implicit", lambda a, b: torch.einsum("ij,jk", a, b), x34, torch.randn(4, 2, dtype=d))
add("einsum_dot", lambda a, b: torch.einsum("i,i->", a, b), torch.randn(5, dtype=d), torch.randn(5, dtype=d))
add("einsum_transpose", lambda a: torch.einsum("ij->ji", a), x34)
add("einsum_attention", lambda a, b: torch.einsum("bhqd,bhkd->bhqk", a, b), torch.randn(2, 2, 3, 4, dtype=d), torch.randn(2, 2, 5, 4, dtype=d))
add("einsum_chain", lambda a, b, c: torch.einsum("ij,jk,kl->il", a, b, c), x34, torch.randn(4, 5, dtype=d), torch.randn(5, 2, dtype=d))
add("einsum_outer", lambda a, b: torch.einsum("i,j->ij", a, b), torch.randn(3, dtype=d), torch.randn(4, dtype=d))
add("einsum_sum", lambda a: torch.einsum("ijk->j", a), x234)
add("einsum_lonely", lambda a, b: torch.einsum("ij,kl->ik", a, b), x34, torch.randn(2, 5, dtype=d))

# ---- advanced indexing mixed with ints, slices, None and ellipsis (parity-c) ----
x567 = torch.randn(5, 6, 7, dtype=d)
i3 = torch.tensor([0, 2, -1])
i21 = torch.tensor([[0], [4]])
j3 = torch.tensor([1, 3, 6])
m6 = torch.tensor([True, False, True, False, True, True])
m5 = torch.tensor([False, True, False, False, True])
def put(idx):
    def f(a, v):
        c = a.clone()
        c[idx] = v
        return c
    return f
add("adv_int_slice_tensor", lambda a: a[0, :, i3], x567)
add("adv_tensor_slice_int", lambda a: a[i3, :, 0], x567)
add("adv_separated_broadcast", lambda a: a[i21, :, j3], x567)
add("adv_adjacent_middle", lambda a: a[:, i3, j3], x567)
add("adv_ellipsis", lambda a: a[..., i21], x567)
add("adv_newaxis_separated", lambda a: a[None, i3, None, 1:3, j3], x567)
add("adv_mask_middle", lambda a: a[:, m6], x567)
add("adv_mask2d_int", lambda a: a[a.detach()[:, :, 0] > 0.3, 2], torch.randn(5, 6, 6, dtype=d))   # PyTorch: the 2 selects dim 1; the mask covers dims 0 and 2
add("adv_mask2d_slice_int", lambda a: a[a.detach()[:, :, 0, 0] > 0.3, :, 1], torch.randn(5, 6, 7, 2, dtype=d))
add("adv_int0d_tensor", lambda a: a[torch.tensor(1), :, j3], x567)
add("adv_mask_slice_tensor", lambda a: a[m5, 1:4, torch.tensor([0, 6])], x567)
add("adv_duplicates", lambda a: a[torch.tensor([0, 0, 1]), ::2, torch.tensor([2, 2, 2])], x567)
add("adv_bool_scalar", lambda a: a[torch.tensor(True), 1], x567)
add("adv_put_scalar_ellipsis", lambda a: put((Ellipsis, 0))(a, 5), x567, grad=False)
add("adv_put_scalar_slice", lambda a: put((slice(None), slice(1, 3)))(a, -2.5), x567, grad=False)
add("adv_put_adjacent", put((slice(None), i3, j3)), x567, torch.randn(3, dtype=d), grad=False)
add("adv_put_separated", put((i21, slice(None), j3)), x567, torch.randn(3, 1, dtype=d), grad=False)
add("adv_put_int_slice_tensor", put((0, slice(None), i3)), x567, torch.randn(6, 3, dtype=d), grad=False)
add("adv_put_mask_slice", lambda a: put((m5, slice(1, 3)))(a, 0.0), x567, grad=False)
add("adv_put_long_ellipsis", lambda a: put((Ellipsis, 1))(a, 7), torch.arange(12).reshape(3, 4), grad=False)

# ---- unique over a dim, unique_consecutive (parity-c) ----
u = torch.tensor([[1, 3, 1, 2], [0, 5, 0, 5], [1, 3, 1, 2], [0, 4, 0, 9]])
add("unique_dim0", lambda a: torch.unique(a, return_inverse=True, return_counts=True, dim=0), u, grad=False)
add("unique_dim1", lambda a: torch.unique(a, return_inverse=True, return_counts=True, dim=1), u, grad=False)
add("unique_dim_float", lambda a: torch.unique(a, return_inverse=True, return_counts=True, dim=1), torch.tensor([[1.5, -2.0, 1.5], [0.25, 7.0, 0.25]], dtype=d), grad=False)
add("unique_consecutive", lambda a: torch.unique_consecutive(a, return_inverse=True, return_counts=True), torch.tensor([[1, 1, 2], [2, 3, 1], [1, 1, 1]]), grad=False)
add("unique_consecutive_dim0", lambda a: torch.unique_consecutive(a, return_inverse=True, return_counts=True, dim=0), torch.tensor([[1, 2], [1, 2], [3, 4], [1, 2], [1, 2]]), grad=False)
add("unique_consecutive_dim1", lambda a: torch.unique_consecutive(a, return_counts=True, dim=1), torch.tensor([[1., 1., 2., 2.], [0., 0., 0., 1.]], dtype=d), grad=False)

# ---- einsum: diagonals and ellipsis (parity-c) ----
sq = torch.randn(4, 4, dtype=d)
add("einsum_diag", lambda a: torch.einsum("ii->i", a), sq)
add("einsum_trace", lambda a: torch.einsum("ii->", a), sq)
add("einsum_trace_implicit", lambda a: torch.einsum("ii", a), sq)
add("einsum_batch_diag", lambda a: torch.einsum("bii->bi", a), torch.randn(2, 3, 3, dtype=d))
add("einsum_triple_diag", lambda a, b: torch.einsum("iij,jk->ik", a, b), torch.randn(3, 3, 2, dtype=d), torch.randn(2, 4, dtype=d))
add("einsum_ellipsis_bmm", lambda a, b: torch.einsum("...ij,...jk->...ik", a, b), torch.randn(2, 1, 2, 3, dtype=d), torch.randn(4, 3, 5, dtype=d))
add("einsum_ellipsis_implicit", lambda a, b: torch.einsum("i...,i", a, b), torch.randn(3, 2, 4, dtype=d), torch.randn(3, dtype=d))
add("einsum_ellipsis_summed", lambda a: torch.einsum("...ij->ij", a), torch.randn(2, 3, 4, dtype=d))
add("einsum_ellipsis_middle", lambda a, b: torch.einsum("i...j,jk->k...i", a, b), torch.randn(2, 3, 4, dtype=d), torch.randn(4, 5, dtype=d))
add("einsum_ellipsis_diag", lambda a: torch.einsum("...ii->...i", a), torch.randn(2, 3, 3, dtype=d))

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "autograd", "parity.json")
with open(out, "w") as fh:
    json.dump(cases, fh, indent=0)
print(f"wrote {len(cases)} cases to {out}")
