#!/usr/bin/env bash
# Where the CPU GEMM's time goes at 16 threads, and an A/B of the candidate switches, in one device call (~2.5-3 min):
#   bash perf/gpu/cpu8_ab.sh [sections]      sections: any of info,trace,ab,ab2,scaling (default: all five), over (oversplit A/B)
# Needs the staged Ember.Perf (G, default "bash .gpu/run.sh Ember.Perf"); writes logs and JSON to $OUT (default /tmp/cpu8)
# and prints a table of median ms per workload and switch, each against the mean of the two default runs.
set -u
G=${G:-bash .gpu/run.sh Ember.Perf}
OUT=${OUT:-/tmp/cpu8}; mkdir -p "$OUT"
T=${THREADS:-16}
sections=${1:-info,trace,ab,ab2,scaling}
want() { [[ ",$sections," == *",$1,"* ]]; }
P="--device cpu --warmup 2 --repeat ${REPEAT:-5}"
S="--sizes ${SIZES:-1024,2048,4096}"
stamp() { echo "[$(date -u +%H:%M:%S)] $*"; }
# table PREFIX THREADS NAME...: median ms per workload (rows: the runs $OUT/PREFIX_NAME.json in the given order) and the
# ratio to the mean of the runs whose name starts with "default".
table() {
  python3 - "$OUT" "$@" <<'EOF'
import glob, json, os, sys
out, prefix, threads, order = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
runs = {}
for f in sorted(glob.glob(os.path.join(out, prefix + "_*.json"))):
    runs[os.path.basename(f)[len(prefix) + 1:-5]] = {r["workload"]: r["median_s"] * 1e3 for r in json.load(open(f))["results"]}
base = {}
for w in set().union(*[set(r) for r in runs.values()]):
    xs = [runs[d][w] for d in runs if d.startswith("default") and w in runs[d]]
    if xs: base[w] = sum(xs) / len(xs)
names = [n for n in order if n in runs]
works = sorted(base, key=lambda w: (not w.startswith("sgemm"), len(w), w))
print("\nmedian ms at %s threads (ratio to the mean of the default runs; < 1 faster)" % threads)
print("| switch | " + " | ".join(works) + " |")
print("| --- | " + " | ".join("---:" for _ in works) + " |")
for n in names:
    if n not in runs: continue
    cells = [("%.2f (%.3f)" % (runs[n][w], runs[n][w] / base[w])) if w in runs[n] else "" for w in works]
    print("| %s | %s |" % (n, " | ".join(cells)))
EOF
}

if want info; then
  stamp "machine"
  { nproc; lscpu | grep -E "Model name|Thread|Core|Socket|L1d|L2|L3|MHz|NUMA node0"
    echo "thread siblings: $(cat /sys/devices/system/cpu/cpu*/topology/thread_siblings_list 2>/dev/null | sort -u | tr '\n' ' ')"
    uptime; } 2>&1 | tee "$OUT/machine.txt"
  # The kernels alone on every core at once (no packing, no split): does the kernel itself slow down at 16 threads?
  stamp "kernel rate per core at 1..$T threads (default, then the macro-kernel by tile rows)"
  $G --device cpu --threads "$T" --kernel-rate 2>&1 | tee "$OUT/kernel_rate.txt"
  EMBER_GEMM_LOOP=ir $G --device cpu --threads "$T" --kernel-rate 2>&1 | tee "$OUT/kernel_rate_ir.txt"
fi

if want trace; then
  # Per shape and piece: pack A / pack B / kernel / waits, the grid, pool wakes; 1 thread gives the kernel's own rate.
  stamp "trace, default, $T threads"
  $G $P --threads "$T" --workload sgemm,gpt,mlp $S --gemm-trace 1 2>&1 | tee "$OUT/trace_default_$T.txt"
  stamp "trace, default, 1 thread (the kernel's rate without contention)"
  $G $P --threads 1 --workload sgemm --sizes 1024,2048 --gemm-trace 1 2>&1 | tee "$OUT/trace_default_1.txt"
  stamp "trace, A and B packed once (EMBER_GEMM_SHARED_B=3), $T threads"
  EMBER_GEMM_SHARED_B=3 $G $P --threads "$T" --workload sgemm,gpt --sizes 1024,2048 --gemm-trace 1 2>&1 | tee "$OUT/trace_shared3_$T.txt"
  stamp "trace, attention by batch entry and 5 ms spin, $T threads"
  EMBER_CPU_ATTENTION=batch EMBER_GEMM_SPIN_US=5000 $G $P --threads "$T" --workload gpt --gemm-trace 1 2>&1 | tee "$OUT/trace_attn_spin_$T.txt"
fi

if want ab; then
  # name|environment|workloads (sgemm sizes 1024,2048,4096); the default runs first and last to show the drift.
  variants=(
    "default||sgemm,gpt,mlp"
    "sharedB2|EMBER_GEMM_SHARED_B=2|sgemm,gpt,mlp"
    "sharedAB3|EMBER_GEMM_SHARED_B=3|sgemm,gpt,mlp"
    "sharedB1|EMBER_GEMM_SHARED_B=1|sgemm"
    "privNC_l2|EMBER_GEMM_PRIVATE_NC=l2|sgemm,gpt"
    "loop_ir|EMBER_GEMM_LOOP=ir|sgemm,gpt"
    "l2+ir|EMBER_GEMM_PRIVATE_NC=l2 EMBER_GEMM_LOOP=ir|sgemm"
    "spin5ms|EMBER_GEMM_SPIN_US=5000|gpt,mlp"
    "attn_batch|EMBER_CPU_ATTENTION=batch|gpt"
    "attn+spin|EMBER_CPU_ATTENTION=batch EMBER_GEMM_SPIN_US=5000|gpt,mlp"
    "minwork1M|EMBER_GEMM_MIN_WORK=1048576|gpt,mlp"
    "all3|EMBER_GEMM_SHARED_B=3 EMBER_CPU_ATTENTION=batch EMBER_GEMM_SPIN_US=5000|sgemm,gpt,mlp"
    "default2||sgemm,gpt,mlp"
  )
  order=""
  for v in "${variants[@]}"; do
    IFS='|' read -r name envs work <<< "$v"
    order="$order $name"
    stamp "A/B $name ($envs) $work"
    env $envs $G $P --threads "$T" --workload "$work" $S --json "$OUT/ab_$name.json" 2>&1 | grep -E "Ember.Perf|sgemm|step" | tee "$OUT/ab_$name.txt"
  done
  table ab "$T" $order
fi

if want ab2; then
  # The two likeliest candidates against the default at 2 threads (no slower at 2 threads?), alternated twice.
  order=""
  for round in a b; do
    for v in "default_$round|" "sharedAB3_$round|EMBER_GEMM_SHARED_B=3" "attn_batch_$round|EMBER_CPU_ATTENTION=batch"; do
      IFS='|' read -r name envs <<< "$v"
      order="$order $name"
      stamp "2 threads $name ($envs)"
      env $envs $G $P --threads 2 --workload sgemm,gpt,mlp --sizes 1024,2048 --json "$OUT/ab2_$name.json" 2>&1 | grep -E "sgemm|step" | tee "$OUT/ab2_$name.txt"
    done
  done
  table ab2 2 $order
fi

if want over; then
  # Oversplit (more grid cells than threads, claimed dynamically) against the default, three interleaved rounds, then
  # the traces of oversplit 2 and 4 (wait after the piece: does the tail shrink?).
  order=""
  for round in a b c; do
    for v in "default_$round|" "over2_$round|EMBER_GEMM_OVERSPLIT=2" "over4_$round|EMBER_GEMM_OVERSPLIT=4"; do
      IFS='|' read -r name envs <<< "$v"
      order="$order $name"
      stamp "oversplit $name ($envs)"
      env $envs $G $P --threads "$T" --workload sgemm,mlp $S --json "$OUT/over_$name.json" 2>&1 | grep -E "sgemm|step" | tee "$OUT/over_$name.txt"
    done
  done
  table over "$T" $order
  for o in 2 4; do
    EMBER_GEMM_OVERSPLIT=$o $G $P --threads "$T" --workload sgemm --sizes 2048,4096 --gemm-trace 1 2>&1 | tee "$OUT/trace_over$o.txt"
  done
fi

if want scaling; then
  stamp "scaling 2,$T sgemm,gpt against PyTorch (defaults)"
  python3 perf/scaling.py --ember "$G" --threads "2,$T" --workload sgemm,gpt --sizes 1024,2048,4096 --out "$OUT/scaling.md"
fi
stamp "done"
