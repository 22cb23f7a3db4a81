"""Golden values for Ember's reduced-precision dtypes (Float16, BFloat16, UInt8, Int8, Int16) from PyTorch 1.13.

Run with the system Python that has torch:  /usr/bin/python3 tests/golden/half_gen.py
Writes tests/golden/core/half.json:
  promote:   [a, b, torch.promote_types(a, b)] for every pair of the ten dtypes Ember has;
  from_f32:  float32 inputs (as uint32 bit patterns) and their float16 and bfloat16 bit patterns after .half() and
             .bfloat16(): ties to even, subnormals, overflow to inf, NaN, signed zeros, random values;
  from_f64:  float64 inputs (as repr strings) and their float16/bfloat16 bits (PyTorch rounds through float32);
  to_int:    float32 values converted to uint8/int8/int16 (truncation, then wrap);
  format:    repr() of float16/bfloat16/uint8/int8/int16 tensors, with their values stored exactly.
"""
import json, os, struct
import torch

names = ["float32", "float64", "int32", "int64", "bool", "float16", "bfloat16", "uint8", "int8", "int16"]
dt = {n: getattr(torch, n) for n in names}
out = {"promote": [[a, b, str(torch.promote_types(dt[a], dt[b])).replace("torch.", "")] for a in names for b in names]}

def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]

def bits16(t):
    return [int(v) & 0xFFFF for v in t.view(torch.int16).tolist()]

special = [0.0, -0.0, 1.0, -1.0, 0.1, 1.0 / 3.0, 65504.0, 65519.0, 65520.0, 65536.0, -70000.0, 1e-8,
           2.0 ** -24, 2.0 ** -25, 1.5 * 2.0 ** -25, 2.0 ** -14, 2.0 ** -15 * 3.0, 6.1e-5, 3.3895e38, 3.4e38,
           float("inf"), -float("inf"), float("nan"), 1e-40, -1e-45, 1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11,
           1.0 + 2.0 ** -8, 1.0 + 3 * 2.0 ** -8, 2049.0, 2051.0, 257.0, 259.0, 255.5, 65.5]
bits = [f32_bits(x) for x in special]
# Exact half-way cases between neighbouring float16 / bfloat16 values (ties, both parities) and their neighbours.
for base in [0x3F800000, 0x40490FDB, 0x00800000, 0x7F7F0000, 0x33800000, 0x38800000]:
    for low in [0x8000, 0x18000, 0x7FFF, 0x8001, 0x1000, 0x1001, 0x0FFF, 0x3000]:
        bits.append((base + low) & 0xFFFFFFFF)
g = torch.Generator().manual_seed(0)
bits += [int(v) & 0xFFFFFFFF for v in (torch.randn(64, generator=g) * torch.exp(torch.randn(64, generator=g) * 8)).view(torch.int32).tolist()]
bits = [b for b in bits if b not in (0x7FC00001,)]
f32 = torch.tensor([struct.unpack("<i", struct.pack("<I", b))[0] for b in bits], dtype=torch.int32).view(torch.float32)
out["from_f32"] = {"input": bits, "float16": bits16(f32.half()), "bfloat16": bits16(f32.bfloat16())}

f64 = torch.tensor([1.0 + 2.0 ** -11 + 2.0 ** -40, 1.0 + 2.0 ** -8 + 2.0 ** -30, 0.1, 1e300, -1e-300, 65519.99999999999,
                    1.0000000596046448], dtype=torch.float64)
out["from_f64"] = {"input": [repr(float(v)) for v in f64.tolist()], "float16": bits16(f64.half()), "bfloat16": bits16(f64.bfloat16())}

ints = torch.tensor([0.0, 1.9, -1.9, 127.5, 128.0, 200.0, 255.0, -1.0, -128.0, -129.0, 300.7, 32767.0, -32768.0, 40000.0])
out["to_int"] = {"input": [repr(float(v)) for v in ints.tolist()],
                 "uint8": ints.to(torch.uint8).tolist(), "int8": ints.to(torch.int8).tolist(), "int16": ints.to(torch.int16).tolist()}

fmt = []
def add(name, t):
    flat = t.reshape(-1)
    values = [repr(float(v)) for v in flat.float().tolist()] if t.dtype.is_floating_point else [repr(int(v)) for v in flat.tolist()]
    fmt.append({"name": name, "dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "values": values, "expected": repr(t)})
r = torch.randn(3, 4, generator=g)
add("randn_f16", r.half())
add("randn_bf16", r.bfloat16())
add("ints_f16", torch.tensor([[1., 2.], [3., 4.]]).half())
add("sci_bf16", torch.tensor([1.0e10, 2.5, -3.0]).bfloat16())
add("nonfinite_f16", torch.tensor([float("nan"), float("inf"), -float("inf"), 1.5, 0.0]).half())
add("scalar_bf16", torch.tensor(0.1).bfloat16())
add("big_f16", (torch.randn(40, 40, generator=g) * 100).half())
add("u8", torch.tensor([[0, 255], [7, 128]], dtype=torch.uint8))
add("i8", torch.tensor([-128, 0, 127], dtype=torch.int8))
add("i16", torch.tensor([-300, 20000], dtype=torch.int16))
add("empty_f16", torch.zeros(0, 3).half())
out["format"] = fmt

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "core", "half.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", path, len(out["promote"]), "promotions,", len(bits), "f32 conversions,", len(fmt), "format cases")
