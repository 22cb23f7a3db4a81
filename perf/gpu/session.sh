#!/usr/bin/env bash
# One device call on the GPU machine (H100 + 16-core Xeon, PyTorch 2.11, no .NET): the CUDA backend suite, NCCL under
# mpirun, the CPU thread-scaling table against PyTorch, the GEMM variants against cuBLAS and the row kernels / train
# steps against PyTorch eager. Every log goes under $OUT/logs and is re-archived into $OUT/logs.tgz after each step
# (the device tool returns at most eight files, and whatever is under $OUT when a call runs out of time).
#
# Here:    ../shared/tools/gpu/stage.sh perf/Ember.Perf/Ember.Perf.csproj perf/gpu/GemmBench/GemmBench.csproj \
#              tests/Backends.Tests/Ember.Backends.Tests.csproj tests/Distributed.Worker/Ember.Distributed.Worker.csproj
# There:   bash perf/gpu/session.sh [steps]   (device tool, carry [".gpu"]; steps default to all, in this order:
#          phase1 = suite + nccl beside scaling at 1,2,4,8 threads; scaling16; gemm; rows)
set -u
OUT=${OUT:-/tmp/ember-session}; L=$OUT/logs; mkdir -p "$L"
G="bash .gpu/run.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
steps=${1:-phase1,scaling16,gemm,rows}
want() { [[ ",$steps," == *",$1,"* ]]; }
archive() { tar czf "$OUT/logs.tgz" -C "$L" . 2>/dev/null; }
step() {   # step NAME SECONDS command...
  local name=$1 t=$2; shift 2; local s; s=$(date +%s)
  timeout "$t" "$@" > "$L/$name.txt" 2>&1; local rc=$?
  echo "$(date -u +%H:%M:%S) $name rc=$rc $(( $(date +%s) - s ))s" | tee -a "$OUT/summary.txt"; archive
}
{ nvidia-smi -L; nproc; lscpu | grep -E "Model name|Thread|Core|Socket|L2|L3"; python3 -c "import torch; print('torch', torch.__version__)"; } > "$L/machine.txt" 2>&1
$G Ember.Perf --help > /dev/null 2>&1   # unpack the runtime and programs once, before anything runs in parallel
if want phase1; then
  ( step suite_cuda 260 env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests ) &
  ( step nccl_np1 120 mpirun --oversubscribe -np 1 $G Ember.Distributed.Worker device cuda ) &
  step scaling_1_8 330 python3 perf/scaling.py --ember "$G Ember.Perf" --threads 1,2,4,8 --out "$L/scaling_1_8.md"
  wait
fi
want scaling16 && step scaling_16 150 python3 perf/scaling.py --ember "$G Ember.Perf" --threads 16 --out "$L/scaling_16.md"
if want gemm; then
  step gemm 180 $G GemmBench --check --sizes 1024,2048,4096,8192 --variants simt,tf32,f16,bf16 --skinny
  step gemm_torch 90 python3 perf/gpu/gemm_torch.py --ember "$L/gemm.txt"
fi
want rows && step rows 200 python3 perf/compare.py --device cuda --ember "$G Ember.Perf" \
  --workload softmax,log_softmax,layernorm,layernorm_fwd_bwd,cross_entropy,mlp,cnn,gpt
archive
cat "$OUT/summary.txt"
