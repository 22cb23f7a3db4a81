#!/usr/bin/python3
"""Checkpoint files written by torch.save for tests/NN.Tests/PyTorchCheckpointTests.cs.

Run with /usr/bin/python3 and PyTorch 1.13 (Debian's python3-torch). Writes tests/golden/nn/pytorch/:
  *.pt               files written by torch.save (zip layout unless the name says legacy)
  expected.json      for every file: each tensor's dotted key -> {dtype, shape, data (row-major), strides}, plus
                     the non-tensor values of nested.pt and the model's input/output for model.pt.
Every file is a few hundred bytes to a few KB. Values are seeded, so a rerun writes the same tensors (the zip
files differ only in their archive timestamps). The malicious files are written with torch.save too (it pickles
any object); they are never loaded here.
"""
import json, math, os, pickle
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "nn", "pytorch")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(15)
NAMES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64", torch.int32: "int32", torch.bool: "bool"}
expected = {}


def enc(t):
    t = t.detach()
    data = t.reshape(-1).tolist()
    if t.dtype == torch.bool:
        data = [1 if x else 0 for x in data]
    if t.dtype.is_floating_point:  # JSON has no infinities: those are written as strings
        data = [x if math.isfinite(x) else str(x) for x in data]
    return {"dtype": NAMES[t.dtype], "shape": list(t.shape), "strides": list(t.stride()), "data": data}


def flatten(obj, prefix, out):
    """The tensors of nested dicts/lists under dotted keys (what PyTorchCheckpoint.Load returns)."""
    if isinstance(obj, torch.Tensor):
        out[prefix] = enc(obj)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            flatten(v, f"{prefix}.{i}" if prefix else str(i), out)


def save(name, obj, legacy=False, record=True, check=True):
    path = os.path.join(OUT, name + ".pt")
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    if record:
        tensors = {}
        flatten(obj, "", tensors)
        expected[name] = {"tensors": tensors}
    # The files must load back in PyTorch's own restricted mode. 1.13's restricted unpickler lacks the float opcode
    # (BINFLOAT; later versions accept it), so the file with floats (optimizer hyperparameters) is not checked.
    if check:
        torch.load(path, weights_only=True)


# 1. Every dtype Ember has, with a 0-dim tensor, an empty tensor and extreme values.
dtypes = {
    "f32": torch.randn(2, 3),
    "f64": torch.randn(4, dtype=torch.float64),
    "i64": torch.tensor([0, -1, 2**62, -2**63, 2**63 - 1], dtype=torch.int64),
    "i32": torch.tensor([[1, -2], [2**31 - 1, -2**31]], dtype=torch.int32),
    "bool": torch.tensor([True, False, True, True]),
    "scalar": torch.tensor(2.5),
    "empty": torch.zeros(0, 3),
    "special": torch.tensor([float("inf"), float("-inf"), -0.0, 1e-45]),
}
save("dtypes", dtypes)
save("dtypes_legacy", dtypes, legacy=True)

# 2. Dtypes Ember does not have: each in its own file, refused with "dtype not supported".
for name, dt in [("float16", torch.float16), ("bfloat16", torch.bfloat16), ("uint8", torch.uint8), ("int8", torch.int8),
                 ("int16", torch.int16), ("complex64", torch.complex64)]:
    torch.save({"w": torch.ones(3, dtype=dt)}, os.path.join(OUT, f"dtype_{name}.pt"))

# 3. Shared storage: views of one storage are saved once, with offsets and strides.
base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
shared = {"base": base, "row1": base[1], "col2": base[:, 2], "tail": base.view(-1)[5:], "block": base[1:, 1:3]}
assert len({t.storage().data_ptr() for t in shared.values()}) == 1
save("shared", shared)
save("shared_legacy", shared, legacy=True)

# 4. Non-contiguous tensors saved as they are (strides kept in the file), including a stride-0 expansion.
x = torch.randn(3, 4, dtype=torch.float64)
noncontig = {"transposed": x.t(), "stepped": x[:, ::2], "expanded": torch.arange(3).expand(4, 3),
             "permuted": torch.arange(24, dtype=torch.int32).reshape(2, 3, 4).permute(2, 0, 1)}
assert not noncontig["transposed"].is_contiguous() and noncontig["expanded"].stride() == (0, 1)
save("noncontig", noncontig)

# 5. Nested dicts: a training checkpoint with a model, an optimizer state (int keys, floats, lists) and metadata.
model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
opt = torch.optim.Adam(model.parameters(), lr=0.01)
for _ in range(3):
    opt.zero_grad()
    model(torch.randn(16, 4)).pow(2).mean().backward()
    opt.step()
model.eval()
nested = {
    "epoch": 7,
    "model": model.state_dict(),
    "optimizer": opt.state_dict(),
    "meta": {"name": "ember", "values": [1, 2.5, "s", None, True], "pair": (3, -4), "big": 2**70},
    "param": nn.Parameter(torch.randn(2, 2)),
}
save("nested", nested, check=False)
expected["nested"]["values"] = {"epoch": 7, "name": "ember", "values": [1, 2.5, "s", None, True], "pair": [3, -4],
                                "big": str(2**70), "lr": 0.01, "param_requires_grad": True}

# 6. A model state dict to load into Ember's identical model (eval mode, so BatchNorm uses the loaded running stats).
save("model", model.state_dict())
inp = torch.randn(5, 4)
with torch.no_grad():
    expected["model"]["input"] = enc(inp)
    expected["model"]["output"] = enc(model(inp))


# 7. Malicious pickles: unpickling them with plain pickle would run a shell command. Never loaded here.
class Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/ember_pytorch_pwned",))


class EvilTensorSubclass:
    """A global that looks like torch but is not on the allow list."""
    def __reduce__(self):
        return (torch.load, ("/etc/passwd",))


torch.save({"weight": torch.ones(2), "payload": Evil()}, os.path.join(OUT, "evil.pt"))
torch.save({"weight": torch.ones(2), "payload": Evil()}, os.path.join(OUT, "evil_legacy.pt"), _use_new_zipfile_serialization=False)
torch.save({"payload": EvilTensorSubclass()}, os.path.join(OUT, "evil_torch_load.pt"))
# A bare pickle (not a torch.save file) whose first object is the payload.
with open(os.path.join(OUT, "evil_raw.pkl"), "wb") as f:
    pickle.dump(Evil(), f, protocol=2)
for name in ["evil.pt", "evil_legacy.pt", "evil_torch_load.pt"]:
    try:
        torch.load(os.path.join(OUT, name), weights_only=True)
        raise SystemExit(f"{name} loaded in weights_only mode")
    except pickle.UnpicklingError:
        pass

with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
print("wrote", sorted(os.listdir(OUT)))
