#!/usr/bin/env python3
"""Which ops of a training step do not scale with threads (issue 17).

Reads two `Ember.Perf --device cpu --profile N` outputs of the same workloads, one at few threads and one at many, and
prints per workload the ops that lose the most time against perfect scaling: lost = t_many - t_few * few / many (ms per
step), and the threads per pool run each op's parallel loops were given at the many-thread count (thr/run; 1 for an op
that never split). The step's time outside the backend (autograd, tensor layer) is one row too.

    Ember.Perf --device cpu --workload gpt,cnn --threads 1  --warmup 8 --profile 5 --profile-top 80 > p1.txt
    Ember.Perf --device cpu --workload gpt,cnn --threads 16 --warmup 8 --profile 5 --profile-top 80 > p16.txt
    python3 perf/profile_scaling.py p1.txt p16.txt [--top 15]
"""
import argparse
import re


def parse(path):
    """{workload: (threads, step ms, {op: (ms per step, threads per pool run)})} from one profile output."""
    out, cur, pooled = {}, None, False
    for line in open(path):
        m = re.match(r"== profile (\S+): ([\d.]+) ms/step synchronized, threads=(\d+)", line)
        if m:
            cur = m.group(1)
            out[cur] = (int(m.group(3)), float(m.group(2)), {})
            continue
        if cur is None or not line.startswith("  "):
            continue
        text = line.rstrip("\n")
        if text.strip().startswith("op "):
            pooled = "threads/run" in text
            continue
        m = re.match(r"  (outside the backend.*?)\s+(-?[\d.]+)$", text)
        if m:
            out[cur][2]["(outside the backend)"] = (float(m.group(2)), 1.0)
            continue
        # name, calls, [runs, threads/run | launches], ms: the name is everything before the numbers.
        numbers = 4 if pooled else 3
        parts = text.split()
        if len(parts) <= numbers or parts[0] == "total":
            continue
        try:
            values = [float(v) for v in parts[-numbers:]]
        except ValueError:
            continue
        name = " ".join(parts[:-numbers])
        out[cur][2][name] = (values[-1], values[-2] if pooled else 1.0)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("few")
    p.add_argument("many")
    p.add_argument("--top", type=int, default=15)
    p.add_argument("--width", action="store_true",
                   help="rank by the parallel width alone: the few-thread table's ms (run it at 1 thread) divided by the "
                        "many-thread table's threads per run, against that ms divided by the many-thread count; for a "
                        "many-thread table taken on a machine with fewer cores, whose times mean nothing")
    a = p.parse_args()
    few, many = parse(a.few), parse(a.many)
    if a.width:
        for w, (t1, s1, ops1) in few.items():
            if w not in many:
                continue
            t2, _, ops2 = many[w]
            rows = []
            for k, (ms, _) in ops1.items():
                width = ops2.get(k, (0.0, 1.0))[1]
                rows.append((k, ms, width, ms / width - ms / t2))
            rows.sort(key=lambda r: -r[3])
            print(f"== {w}: {s1:.2f} ms at {t1} thread(s); at {t2} threads, if every op scaled to its own width: "
                  f"{sum(r[1] / r[2] for r in rows):.2f} ms (perfect: {sum(r[1] for r in rows) / t2:.2f} ms)")
            print(f"  {'op':70} {f'{t1} thr ms':>10} {'thr/run':>8} {'lost ms':>8}")
            for k, ms, width, lost in rows[:a.top]:
                print(f"  {k[:70]:70} {ms:10.3f} {width:8.1f} {lost:8.3f}")
        return
    for w, (t1, s1, ops1) in few.items():
        if w not in many:
            continue
        t2, s2, ops2 = many[w]
        ideal = t1 / t2
        print(f"== {w}: {s1:.2f} ms at {t1} threads, {s2:.2f} ms at {t2} (speedup {s1 / s2:.2f} of {t2 / t1:.0f}); "
              f"lost = ms at {t2} minus perfect scaling of the {t1}-thread ms")
        print(f"  {'op':70} {f'{t1} thr ms':>10} {f'{t2} thr ms':>10} {'speedup':>8} {'lost ms':>8} {'% step':>7} {'thr/run':>8}")
        rows = [(k, v[0], ops2.get(k, (0.0, 1.0))[0], ops2.get(k, (0.0, 1.0))[1]) for k, v in ops1.items()]
        rows.sort(key=lambda r: -(r[2] - r[1] * ideal))
        for k, x, y, width in rows[:a.top]:
            sp = f"{x / y:8.2f}" if y > 0 else f"{'-':>8}"
            print(f"  {k[:70]:70} {x:10.3f} {y:10.3f} {sp} {y - x * ideal:8.3f} {100 * y / s2:7.1f} {width:8.1f}")


if __name__ == "__main__":
    main()
