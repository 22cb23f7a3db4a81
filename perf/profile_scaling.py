#!/usr/bin/env python3
"""Which ops of a training step do not scale with threads (issue 17).

Reads two `Ember.Perf --device cpu --profile N` outputs of the same workloads, one at few threads and one at many, and
prints per workload the ops that lose the most time against perfect scaling: lost = t_many - t_few * few / many (ms per
step). The step's time outside the backend (autograd, tensor layer) is one row too.

    Ember.Perf --device cpu --workload gpt,cnn --threads 1  --warmup 8 --profile 5 --profile-top 80 > p1.txt
    Ember.Perf --device cpu --workload gpt,cnn --threads 16 --warmup 8 --profile 5 --profile-top 80 > p16.txt
    python3 perf/profile_scaling.py p1.txt p16.txt [--top 15]
"""
import argparse
import re


def parse(path):
    """{workload: (threads, step ms, {op: ms per step})} from one profile output."""
    out, cur = {}, None
    for line in open(path):
        m = re.match(r"== profile (\S+): ([\d.]+) ms/step synchronized, threads=(\d+)", line)
        if m:
            cur = m.group(1)
            out[cur] = (int(m.group(3)), float(m.group(2)), {})
            continue
        m = re.match(r"  (.*?)\s+([\d.]+)\s+([\d.]+)\s+(-?[\d.]+)$", line)
        if cur and m and not m.group(1).startswith("total"):
            out[cur][2][m.group(1).strip()] = float(m.group(4))
            continue
        m = re.match(r"  (outside the backend.*?)\s+(-?[\d.]+)$", line)
        if cur and m:
            out[cur][2]["(outside the backend)"] = float(m.group(2))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("few")
    p.add_argument("many")
    p.add_argument("--top", type=int, default=15)
    a = p.parse_args()
    few, many = parse(a.few), parse(a.many)
    for w, (t1, s1, ops1) in few.items():
        if w not in many:
            continue
        t2, s2, ops2 = many[w]
        ideal = t1 / t2
        print(f"== {w}: {s1:.2f} ms at {t1} threads, {s2:.2f} ms at {t2} (speedup {s1 / s2:.2f} of {t2 / t1:.0f}); "
              f"lost = ms at {t2} minus perfect scaling of the {t1}-thread ms")
        print(f"  {'op':70} {f'{t1} thr ms':>10} {f'{t2} thr ms':>10} {'speedup':>8} {'lost ms':>8} {'% step':>7}")
        rows = [(k, v, ops2.get(k, 0.0)) for k, v in ops1.items()]
        rows.sort(key=lambda r: -(r[2] - r[1] * ideal))
        for k, x, y in rows[:a.top]:
            sp = f"{x / y:8.2f}" if y > 0 else f"{'-':>8}"
            print(f"  {k[:70]:70} {x:10.3f} {y:10.3f} {sp} {y - x * ideal:8.3f} {100 * y / s2:7.1f}")


if __name__ == "__main__":
    main()
