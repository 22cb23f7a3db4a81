"""Golden values for tests/Data.Tests, from PyTorch (run with /usr/bin/python3, which has torch).

Writes tests/golden/data/*.json:
  distributed_sampler.json: DistributedSampler partitions (shuffle=False) for several sizes, replica counts, drop_last;
                            a shuffled run is the same positions applied to the permutation, which the test checks.
  batch_sampler.json:       BatchSampler batches for several sizes / batch sizes / drop_last.
  random_split.json:        the lengths random_split gives for fractions.
  default_collate.json:     dtypes and shapes default_collate gives for ints, floats, bools and tensors.
"""
import json, os, torch
from torch.utils.data import DistributedSampler, BatchSampler, SequentialSampler, random_split
from torch.utils.data._utils.collate import default_collate

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
os.makedirs(out, exist_ok=True)

def dump(name, obj):
    with open(os.path.join(out, name), "w") as f:
        json.dump(obj, f, indent=1)

cases = []
for n in [0, 1, 5, 10, 11, 17, 100, 101]:
    for replicas in [1, 2, 3, 4, 7]:
        for drop_last in [False, True]:
            ranks = [list(DistributedSampler(range(n), num_replicas=replicas, rank=r, shuffle=False, drop_last=drop_last))
                     for r in range(replicas)]
            cases.append({"n": n, "replicas": replicas, "dropLast": drop_last, "ranks": ranks})
dump("distributed_sampler.json", cases)

cases = []
for n in [0, 1, 7, 10, 64]:
    for b in [1, 3, 4, 10, 100]:
        for drop_last in [False, True]:
            batches = list(BatchSampler(SequentialSampler(range(n)), b, drop_last))
            cases.append({"n": n, "batchSize": b, "dropLast": drop_last, "batches": batches})
dump("batch_sampler.json", cases)

cases = []
for n, fr in [(10, [0.5, 0.5]), (11, [0.7, 0.3]), (1797, [0.8, 0.2]), (7, [0.2, 0.3, 0.5]), (3, [0.34, 0.33, 0.33])]:
    parts = random_split(range(n), fr, generator=torch.Generator().manual_seed(0))
    cases.append({"n": n, "fractions": fr, "lengths": [len(p) for p in parts]})
dump("random_split.json", cases)

def desc(t):
    return {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "values": t.flatten().tolist()}
collate = {
    "ints": desc(default_collate([1, 2, 3])),
    "floats": desc(default_collate([0.5, 1.5])),
    "bools": desc(default_collate([True, False])),
    "tensors": desc(default_collate([torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])])),
    "tuple_second": desc(default_collate([(torch.tensor([1.0]), 4), (torch.tensor([2.0]), 5)])[1]),
}
dump("default_collate.json", collate)
print("wrote", sorted(os.listdir(out)))
