"""Golden strings of torch.Tensor.__repr__ (PyTorch 1.13) for Ember's Tensor.ToString tests.

Run with the system Python that has torch:  /usr/bin/python3 tests/golden/core_gen.py
Writes tests/golden/core/format.json: a list of {name, dtype, shape, values, requires_grad, expected}.
Values are stored exactly (floats as repr strings, so nan/inf and every bit survive JSON).
"""
import json, math, os
import torch

torch.manual_seed(0)
cases = []

def add(name, t, requires_grad=False):
    if requires_grad:
        t = t.clone().requires_grad_(True)
    flat = t.detach().reshape(-1).tolist()
    if t.dtype.is_floating_point:
        values = [repr(float(v)) for v in flat]
    else:
        values = [repr(int(v)) if not isinstance(v, bool) else ("1" if v else "0") for v in flat]
    cases.append({
        "name": name,
        "dtype": str(t.dtype).replace("torch.", ""),
        "shape": list(t.shape),
        "values": values,
        "requires_grad": requires_grad,
        "expected": repr(t),
    })

add("int_mode_2x2", torch.tensor([[1., 2.], [3., 4.]]))
add("randn_3x4", torch.randn(3, 4))
add("randn_3x4_f64", torch.randn(3, 4, dtype=torch.float64))
add("fractions_f64", torch.arange(12, dtype=torch.float64).reshape(3, 4) / 7)
add("large_sci", torch.tensor([1.0e10, 2.5, -3.0]))
add("int_mode_sci", torch.tensor([1.0e9, 1.0, 2.0]))
add("small_sci", torch.tensor([1.0e-5, 0.5, 0.25]))
add("ratio_sci", torch.tensor([0.001, 1.5, 2000.0]))
add("nonfinite", torch.tensor([float("nan"), float("inf"), -float("inf"), 1.5, 0.0]))
add("nonfinite_int_mode", torch.tensor([float("nan"), 2.0, -float("inf")]))
add("all_zero", torch.zeros(2, 3))
add("negative_zero", torch.tensor([-0.0, 1.25]))
add("float32_tenth", torch.tensor([0.1, 0.2, 0.3]))
add("int64", torch.tensor([[1, -20, 300], [4, 5, 6]]))
add("int32", torch.tensor([7, -8, 9], dtype=torch.int32))
add("bool", torch.tensor([[True, False], [False, True]]))
add("scalar", torch.tensor(3.5))
add("scalar_f64", torch.tensor(-2.0, dtype=torch.float64))
add("scalar_int", torch.tensor(42))
add("empty", torch.zeros(0))
add("empty_2x0", torch.zeros(2, 0))
add("empty_int64", torch.zeros(0, dtype=torch.int64))
add("empty_f64_0x3", torch.zeros(0, 3, dtype=torch.float64))
add("long_vector_wraps", torch.randn(30))
add("long_int_vector_wraps", torch.arange(40) * 1000)
add("summarized_1d", torch.arange(1500, dtype=torch.float32) / 3)
add("summarized_2d", torch.arange(2000).reshape(40, 50))
add("summarized_3d", torch.randn(10, 10, 20))
add("summarized_small_dim", torch.randn(2, 600))
add("four_dims", torch.arange(24, dtype=torch.float64).reshape(2, 3, 2, 2) - 10)
add("requires_grad", torch.tensor([1.0, 2.5]), requires_grad=True)
add("requires_grad_f64", torch.tensor([[1.0, 2.0]], dtype=torch.float64), requires_grad=True)
add("wide_values_wrap", torch.tensor([123456.789] * 12, dtype=torch.float64))

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "core", "format.json")
with open(out, "w") as f:
    json.dump(cases, f, indent=1)
print(f"wrote {len(cases)} cases to {out}")
