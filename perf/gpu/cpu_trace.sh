#!/usr/bin/env bash
# On the GPU machine (no .NET SDK): where Ember's CPU backend spends its time at a given thread count, with
# dotnet-trace (carried as .gpu/trace.tar.xz: `dotnet tool install --tool-path /tmp/tools dotnet-trace`, then the
# tool's tools/net8.0/any folder without other platforms' runtimes, tar cJf) and perf/speedscope_top.py.
#   [TRACE_DEVICE=cuda] bash perf/gpu/cpu_trace.sh THREADS WORKLOAD[,WORKLOAD] [repeat] [sgemm sizes]  → $OUT/trace_<workload>_<threads>.txt
set -eu
threads=$1; workloads=$2; repeat=${3:-8}; sizes=${4:-2048}
OUT=${OUT:-/tmp/ember-trace}; mkdir -p "$OUT" /tmp/ember-trace-tool
bash .gpu/run.sh Ember.Perf --help > /dev/null 2>&1 || true      # unpacks the runtime and the programs
[ -f /tmp/ember-trace-tool/dotnet-trace.dll ] || tar -C /tmp/ember-trace-tool -xJf .gpu/trace.tar.xz
app=$(ls -d /tmp/ember-gpu-apps/*/app/Ember.Perf/Ember.Perf.dll 2>/dev/null | head -1)
[ -n "$app" ] || app=.gpu/app/Ember.Perf/Ember.Perf.dll
export DOTNET_ROOT=/tmp/dotnet DOTNET_ROLL_FORWARD=Major EMBER_NUM_THREADS=$threads
for w in ${workloads//,/ }; do
  t=/tmp/ember-trace/${w}_$threads
  mkdir -p /tmp/ember-trace
  /tmp/dotnet/dotnet /tmp/ember-trace-tool/dotnet-trace.dll collect --show-child-io --profile dotnet-sampled-thread-time --format Speedscope \
    -o "$t.nettrace" -- /tmp/dotnet/dotnet "$app" --device "${TRACE_DEVICE:-cpu}" --threads "$threads" --workload "$w" --sizes "$sizes" --warmup 2 --repeat "$repeat" \
    > "$t.log" 2>&1 || { tail -20 "$t.log"; continue; }
  { grep -A3 "median ms" "$t.log" || true; python3 perf/speedscope_top.py "$t.speedscope.json" Ember. 50 || true; } > "$OUT/trace_${w}_$threads.txt" 2>&1
done
