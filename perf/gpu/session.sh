#!/usr/bin/env bash
# The GPU machine's programme (H100 + 16-core Xeon, PyTorch 2.11, no .NET), in steps that fit device calls of at most
# 10 minutes. Every log goes under $OUT/logs and is re-archived into $OUT/logs.tgz after each step (the device tool
# returns at most eight files, and whatever is under $OUT when a call runs out of time).
#
# Here:    ../shared/tools/gpu/stage.sh perf/Ember.Perf/Ember.Perf.csproj perf/gpu/GemmBench/GemmBench.csproj \
#              tests/Backends.Tests/Ember.Backends.Tests.csproj tests/Distributed.Worker/Ember.Distributed.Worker.csproj \
#              perf/Ember.Soak/Ember.Soak.csproj
# There:   bash perf/gpu/session.sh STEPS   (device tool, carry [".gpu"]), STEPS a comma list of
#   checks   at once: the CUDA fixtures of Ember.Backends.Tests three times with pinned staging off and three times
#            with it on, the OpenCL fixtures three times, the soak program, NCCL under mpirun -np 1, and
#            tests/golden/amp_gen.py --cuda (PyTorch's real CUDA GradScaler against the committed golden file)  ~6 min
#   gpu      row kernels and fp32 train steps against PyTorch eager; the train steps under autocast bf16 on both
#            sides; the GEMM variants against cuBLAS                                                              ~9 min
#   scaling  the CPU thread-scaling table, 1, 2, 4, 8 and 16 threads, Ember and PyTorch (quiet machine)         ~3 min
#   suites   checks' nine suite runs again (after fixes), without the rest                                      ~5 min
#   pipe     the pipelined tensor-core GEMM against the old loop and cuBLAS, its CUDA tests, autocast per-op profiles,
#            rows and fp32 train steps, the CPU mlp/gpt steps at 16 threads                                    ~9 min
#   final    GEMM variants against cuBLAS, rows/train steps (30 repeats), autocast steps, then the backend suite
#            once on CUDA and once on OpenCL                                                                     ~7 min
#   cpufinal the CPU GEMM blocking sweep at 16 threads and the 1, 2, 4, 8, 16-thread table                      ~6 min
#   more     host<->device copies (Ember pinned staging off/on, PyTorch pageable/pinned), per-op profiles of the
#            CUDA train steps, GC settings on gpt, and dotnet-trace of the CPU backend at 16 and 2 threads     ~4 min
#   syncsuite rows/train steps with both syncs, then the suite on CUDA and OpenCL in parallel (SUITE_S s)     ~9 min
#   cpuab    the CPU pool rule A/B at 16 and 1 threads, then the 2/16-thread table                            ~5 min
#   checksamp autocast steps, then the checks without re-running amp                                     ~7 min
#   final6   sixth session: GEMM stagings, small shapes, rows/steps, autocast, new CUDA tests, OpenCL NaN, CPU pool ~6 min
#   suite6   the backend suite once on CUDA and once on OpenCL, in parallel (SUITE_S s)                  ~9 min
#   suite7   seventh session: the backend suite 3× on CUDA with pinned staging off and 3× on, all at once, with the
#            soak program beside them (SUITE_S, SOAK_S seconds)                                              ~10 min
#   gemm7    the 128×256 tensor-core block (mma6) against the default and cuBLAS at 2048, 4096, 8192      ~5 min
#   sass7    SASS (cuobjdump) of every dumped tensor-core kernel, and Nsight Compute's per-instruction stall samples
#            of the default f16 and tf32 kernels at 4096                                                     ~2 min
#   final7   rows and fp32 train steps (30 repeats), autocast steps, the early-barrier GEMMs (mma6), the CUDA tests
#            named by TESTS7                                                                                   ~8 min
#   suite8   eighth session: the suite once with pinned staging off, once on, and the soak, at once, with per-test times
#            (SUITE_S, SOAK_S seconds)                                                                        ~6 min
#   final8   eighth session: CUDA tests TESTS8, fp32 and autocast steps (again with AMP8ENV set), GemmBench GEMM8V with
#            --trans, CPU 2/16-thread table of CPU8's workloads                                                ~7 min
#   final9   next session: fp32/autocast steps and per-op profiles (bias8 timed), the CPU pool rule A/B at 16 threads
#            (cpu7), the 2/16-thread table with --warmup 12                                                  ~6 min
#   call43   call42 cut to ~2.5 min: CPU split-K A/B at 16 threads, the GEMM table 1024-8192, GEMM traces, 2-thread mlp profile
#   call42   eighteenth session: TF32 packed by default on wgmma: GEMMs 1024-8192 against cuBLAS, CUDA tests; the Xeon at
#            2 threads (table, GEMM trace, mlp profile: why 2 threads trail MKL)                               ~5 min
#   cpu41    seventeenth session: CPU per-op profiles at 1/2/16 threads and what does not scale, the 2/16-thread table   ~6 min
#   call40   call39 cut to ~4 min: -pk and EMBER_WGMMA_EARLY=1 at 4096/8192 against cuBLAS, their CUDA tests
#   call39   sixteenth session: call37's GEMMs (with -pk) and CUDA tests and call38's train steps in one call          ~9.5 min
#   call37   sixteenth session: the default against -mma/cuBLAS 1024-8192, EMBER_WGMMA_EARLY=1 A/B, truncation, transposes  ~8 min
#   call38   sixteenth session: fp32/autocast train steps and rows against PyTorch, the CPU 2/16-thread table         ~7 min
#   call35   fifteenth session: wgmma by default, GemmBench against -mma and cuBLAS, truncation bound, CUDA tests  ~5 min
#   call34   fifteenth session: the wgmma kernel (GemmBench tf32/f16/bf16 -wg variants, cuBLAS), its CUDA tests      ~7 min
#   sync     rows/train steps with a device-wait sync (as PyTorch's side) and with the old one-element read, both
#            sides' row-kernel device times (ncu), gpt/mlp/sgemm on the CPU at 16 threads                      ~7 min
set -u
OUT=${OUT:-/tmp/ember-session}; L=$OUT/logs; mkdir -p "$L"
G="bash .gpu/run.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
steps=${1:?steps: checks, gpu, scaling}
want() { [[ ",$steps," == *",$1,"* ]]; }
archive() { tar czf "$OUT/logs.tgz" -C "$L" . 2>/dev/null; }
step() {   # step NAME SECONDS command...
  local name=$1 t=$2; shift 2; local s; s=$(date +%s)
  timeout "$t" "$@" > "$L/$name.txt" 2>&1; local rc=$?
  echo "$(date -u +%H:%M:%S) $name rc=$rc $(( $(date +%s) - s ))s" | tee -a "$OUT/summary.txt"; archive
}
{ nvidia-smi -L; nproc; lscpu | grep -E "Model name|Thread|Core|Socket|L2|L3"; python3 -c "import torch; print('torch', torch.__version__)"; } > "$L/machine.txt" 2>&1
$G Ember.Perf --help > /dev/null 2>&1   # unpack the runtime and programs once, before anything runs in parallel
suite_runs() {   # suite_runs PREFIX SECONDS: the backend suite 3× on CUDA with pinned staging off, 3× on, 3× on OpenCL, in background
  for i in 1 2 3; do
    ( step ${1}_cuda_pin0_$i $2 env EMBER_TEST_DEVICES=cuda:0 EMBER_ILGPU_PINNED_STAGING=0 $G Ember.Backends.Tests ) &
    ( step ${1}_cuda_pin1_$i $2 env EMBER_TEST_DEVICES=cuda:0 EMBER_ILGPU_PINNED_STAGING=1 $G Ember.Backends.Tests ) &
    ( step ${1}_opencl_$i $2 env EMBER_TEST_DEVICES=opencl:0 $G Ember.Backends.Tests ) &
  done
}
if want checks; then
  suite_runs suite 400
  ( step soak 400 $G Ember.Soak --device cuda --seconds 330 --csv "$L/soak.csv" ) &
  ( step nccl_np1 150 mpirun --oversubscribe -np 1 $G Ember.Distributed.Worker device cuda ) &
  ( step amp_gen_cuda 150 python3 tests/golden/amp_gen.py --cuda ) &
  wait
fi
if want gpu; then
  step rows 170 python3 perf/compare.py --device cuda --ember "$G Ember.Perf" \
    --workload softmax,log_softmax,layernorm,layernorm_fwd_bwd,cross_entropy,mlp,cnn,gpt
  step amp 110 python3 perf/compare.py --device cuda --amp bf16 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  step gemm 200 $G GemmBench --check --sizes 1024,2048,4096,8192 --variants simt,tf32,f16,bf16 --skinny
  step gemm_torch 80 python3 perf/gpu/gemm_torch.py --ember "$L/gemm.txt"
  step gemm_ldmatrix 120 $G GemmBench --check --sizes 4096,8192 --variants tf32,f16,bf16 --skinny --ldmatrix
  step gemm_old_layout 60 $G GemmBench --check --sizes 4096 --variants f16 --keep-layout --no-splitk --skinny
fi
if want pipe; then
  step gemm_pipe 240 $G GemmBench --check --sizes 2048,4096,8192 --no-trans \
    --variants f16,f16-pipe,f16-pipe-ld,bf16,bf16-pipe,tf32,tf32-pipe,tf32-pipe-ld
  step gemm_pipe_torch 80 python3 perf/gpu/gemm_torch.py --ember "$L/gemm_pipe.txt" --sizes 2048,4096,8192 --variants tf32,f16,bf16
  step mma_cuda_tests 150 env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~MmaGemmCudaTests"
  step amp_profiles 120 $G Ember.Perf --device cuda --workload mlp,cnn,gpt --amp bf16 --profile 5 --profile-top 30
  step rows 170 python3 perf/compare.py --device cuda --ember "$G Ember.Perf" \
    --workload softmax,log_softmax,layernorm,layernorm_fwd_bwd,cross_entropy,mlp,cnn,gpt
  step cpu16 90 $G Ember.Perf --device cpu --threads 16 --workload mlp,gpt --repeat 5 --warmup 2
fi
if want ncu; then   # ptxas -v of every GEMM kernel, the tensor-core loops timed, and Nsight Compute on one launch of each
  B=$(python3 -c "import triton,os;print(os.path.join(os.path.dirname(triton.__file__),'backends','nvidia','bin'))")
  mkdir -p "$L/ptx"; $G GemmBench --ptx "$L/ptx" > /dev/null 2>&1
  for f in "$L"/ptx/*.ptx; do echo "== $(basename "$f")"; "$B/ptxas" -arch=sm_90 -v -o /tmp/k.cubin "$f" 2>&1 | grep -E "registers|stack"; done > "$L/ptxas.txt" 2>&1
  rm -rf "$L/ptx"; archive
  step gemm_pipe2 200 $G GemmBench --check --sizes 4096,8192 --no-trans --variants f16,f16-pipe,f16-pipe-ld,bf16-pipe,tf32,tf32-pipe,tf32-pipe-ld
  step gemm_pipe2_torch 60 python3 perf/gpu/gemm_torch.py --ember "$L/gemm_pipe2.txt" --sizes 4096,8192 --variants tf32,f16,bf16
  for v in f16 f16-pipe f16-pipe-ld; do
    step ncu_$v 120 /usr/local/cuda/bin/ncu --target-processes all -k regex:Gemm --launch-skip 3 --launch-count 1 \
      --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats --section SchedulerStats \
      --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis $G GemmBench --sizes 4096 --no-trans --variants $v
  done
  step rows2 170 python3 perf/compare.py --device cuda --ember "$G Ember.Perf" \
    --workload softmax,log_softmax,layernorm,layernorm_fwd_bwd,cross_entropy,mlp,cnn,gpt
  step gpt_profile 90 $G Ember.Perf --device cuda --workload gpt,cnn --profile 5 --profile-top 40
  for sb in 0 1; do
    step cpu_sharedB$sb 90 env EMBER_GEMM_SHARED_B=$sb $G Ember.Perf --device cpu --threads 16 --workload sgemm,gpt --sizes 1024,2048,4096 --warmup 2 --repeat 5
  done
  step scaling_2_16 200 python3 perf/scaling.py --ember "$G Ember.Perf" --threads 2,16 --workload sgemm,mlp,cnn,gpt,conv2d --out "$L/scaling_2_16.md"
fi
if want final; then   # the session's closing measurements, then the suite once on CUDA and once on OpenCL
  step gemm_final 200 $G GemmBench --check --sizes 1024,2048,4096,8192 --variants ${GEMM_VARIANTS:-simt,simt16,tf32,f16,bf16} --skinny
  step gemm_final_torch 60 python3 perf/gpu/gemm_torch.py --ember "$L/gemm_final.txt"
  step rows_final 150 python3 perf/compare.py --device cuda --repeat 30 --ember "$G Ember.Perf" \
    --workload softmax,log_softmax,layernorm,layernorm_fwd_bwd,cross_entropy,mlp,cnn,gpt
  step amp_final 110 python3 perf/compare.py --device cuda --repeat 30 --amp bf16 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  ( step suite_cuda 300 env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests ) &
  ( step suite_opencl 300 env EMBER_TEST_DEVICES=opencl:0 $G Ember.Backends.Tests ) &
  wait
fi
if want cpufinal; then   # the CPU GEMM blocking sweep at 16 threads and the 1-16-thread table (nothing else running)
  for v in "" MC=224 KC=384; do
    n=${v:-default}; step cpu_block_${n/=/_} 40 env ${v:+EMBER_GEMM_$v} $G Ember.Perf --device cpu --threads 16 --workload sgemm --sizes 1024,2048,4096 --warmup 2 --repeat 5
  done
  step scaling_final_1_2_16 240 python3 perf/scaling.py --ember "$G Ember.Perf" --threads 1,2,16 --out "$L/scaling_final_1_2_16.md"
  step scaling_final_4_8 200 python3 perf/scaling.py --ember "$G Ember.Perf" --threads 4,8 --out "$L/scaling_final_4_8.md"
  step trace16_final 150 bash perf/gpu/cpu_trace.sh 16 gpt 6
  cp "$OUT"/trace_*.txt "$L"/ 2>/dev/null; archive
fi
if want suites; then
  suite_runs suite2 320
  wait
fi
if want more; then
  step transfer 120 $G Ember.Perf --device cuda --transfer 1K,64K,1M,16M,256M --repeat 10
  step transfer_torch 60 python3 perf/gpu/transfer_torch.py --sizes 1K,64K,1M,16M,256M
  step profiles 120 $G Ember.Perf --device cuda --workload mlp,cnn,gpt --profile 5 --profile-top 30
  step gc_default 60 $G Ember.Perf --device cuda --workload cnn,gpt --repeat 40 --warmup 5 --pool-stats 1
  step gc_gen0_256m 60 env DOTNET_GCgen0size=0x10000000 $G Ember.Perf --device cuda --workload cnn,gpt --repeat 40 --warmup 5 --pool-stats 1
  step gc_server 60 env DOTNET_gcServer=1 $G Ember.Perf --device cuda --workload cnn,gpt --repeat 40 --warmup 5 --pool-stats 1
  step trace16 150 bash perf/gpu/cpu_trace.sh 16 gpt,sgemm 6 2048
  step trace2 90 bash perf/gpu/cpu_trace.sh 2 sgemm 6 2048
  step trace_cuda 90 env TRACE_DEVICE=cuda OUT="$OUT/cuda" bash perf/gpu/cpu_trace.sh 2 softmax,gpt 30
  mkdir -p "$L/cuda"; cp "$OUT"/cuda/trace_*.txt "$L"/cuda/ 2>/dev/null
  cp "$OUT"/trace_*.txt "$L"/ 2>/dev/null
fi
if want syncsuite; then   # call-sized: rows/train steps with both syncs, then the backend suite on CUDA and OpenCL at once
  R=softmax,log_softmax,layernorm,layernorm_fwd_bwd,cross_entropy,mlp,cnn,gpt
  step rows_sync 150 python3 perf/compare.py --device cuda --repeat 20 --ember "$G Ember.Perf" --workload $R
  step rows_read 80 $G Ember.Perf --device cuda --sync read --repeat 20 --workload $R
  ( step suite_cuda ${SUITE_S:-400} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests ) &
  ( step suite_opencl ${SUITE_S:-400} env EMBER_TEST_DEVICES=opencl:0 $G Ember.Backends.Tests ) &
  wait
fi
if want probe; then   # helpers' kernels against the defaults and cuBLAS, their CUDA tests, rows/steps with the
  # device-wait sync, gpt's GEMM shapes on both sides, the CPU at 16 threads (each step capped: one call of < 10 min)
  step gemm_probe 150 $G GemmBench --check --sizes ${PROBE_SIZES:-4096,8192} --no-trans --variants ${PROBE_VARIANTS:-simt16,simt16a,f16,f16-w64,bf16,bf16-w64,tf32,tf32-w64}
  step gemm_probe_torch 40 python3 perf/gpu/gemm_torch.py --ember "$L/gemm_probe.txt" --sizes ${PROBE_SIZES:-4096,8192}
  step rows_sync 120 python3 perf/compare.py --device cuda --repeat 20 --ember "$G Ember.Perf" \
    --workload softmax,log_softmax,layernorm,layernorm_fwd_bwd,cross_entropy,mlp,cnn,gpt
  step amp_probe 90 python3 perf/compare.py --device cuda --amp bf16 --repeat 20 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  step cuda_tests 100 env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~MmaGemmCudaTests|FullyQualifiedName~SgemmCudaTests"
  [ -n "${PROBE_SHORT:-}" ] || {
  step gemm_shapes 50 $G GemmBench --check --sizes 1024 --no-trans --variants simt16,simt16a --shapes 2048x256x1024,2048x1024x256,256x1024x2048
  step torch_shapes 30 python3 -c "
import torch
torch.backends.cuda.matmul.allow_tf32 = False
for m, n, k in [(2048, 256, 1024), (2048, 1024, 256), (256, 1024, 2048)]:
    for ta in (False, True):
        for tb in (False, True):
            a = torch.randn(k, m, device='cuda').t() if ta else torch.randn(m, k, device='cuda')
            b = torch.randn(n, k, device='cuda').t() if tb else torch.randn(k, n, device='cuda')
            for _ in range(5): a @ b
            torch.cuda.synchronize(); e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            e0.record()
            for _ in range(50): a @ b
            e1.record(); torch.cuda.synchronize(); ms = e0.elapsed_time(e1) / 50
            print(f'torch sgemm {m}x{n}x{k} {\"NT\"[ta]}{\"NT\"[tb]}: {ms*1e3:.1f} us, {2*m*n*k/ms/1e9:.0f} GFLOP/s')
"
  step cpu16 90 python3 perf/scaling.py --ember "$G Ember.Perf" --threads 16 --workload sgemm,gpt --sizes 2048,4096 --out "$L/cpu16.md"
  }
fi
if want sync; then   # rows and train steps with Ember waiting for the device as PyTorch's side does, against the old
  # one-element read; each side's row-kernel device times (Nsight Compute); gpt and sgemm on the CPU at 16 threads
  R=softmax,log_softmax,layernorm,layernorm_fwd_bwd,cross_entropy,mlp,cnn,gpt
  step rows_sync 170 python3 perf/compare.py --device cuda --repeat 30 --ember "$G Ember.Perf" --workload $R
  step rows_read 90 $G Ember.Perf --device cuda --sync read --repeat 30 --workload $R
  NCU="/usr/local/cuda/bin/ncu --target-processes all --metrics gpu__time_duration.sum --print-summary per-kernel --launch-count 300"
  step ncu_rows_ember 150 $NCU $G Ember.Perf --device cuda --workload softmax,log_softmax,layernorm,cross_entropy --repeat 3 --warmup 3
  step ncu_rows_torch 90 $NCU python3 -c "
import torch, torch.nn.functional as F
x = torch.randn(4096, 1024, device='cuda'); ln = torch.nn.LayerNorm(1024).cuda(); y = torch.randint(0, 1024, (4096,), device='cuda')
xg = x.clone().requires_grad_()
with torch.no_grad():
    for _ in range(20): x.softmax(-1); x.log_softmax(-1); ln(x)
for _ in range(20): F.cross_entropy(xg, y).backward()
torch.cuda.synchronize()"
  step cpu16 150 python3 perf/scaling.py --ember "$G Ember.Perf" --threads 16 --workload sgemm,gpt,mlp --out "$L/cpu16.md"
fi
if want cpuab; then   # the CPU pool's lent-bytes rule against the miss-only one (same build, alternating), then the 2/16 table
  P="$G Ember.Perf --device cpu --warmup 2 --repeat 5 --pool-stats 1"
  OLD="--pool-thread-budget-mb 0 --pool-lent-rule 0"
  step cpu16_new 50 $P --threads 16 --workload mlp,cnn,gpt,conv2d
  step cpu16_old 50 $P --threads 16 --workload mlp,cnn,gpt,conv2d $OLD
  step cpu1_sgemm_new 40 $P --threads 1 --workload sgemm --sizes 2048
  step cpu1_sgemm_old 40 $P --threads 1 --workload sgemm --sizes 2048 $OLD
  step scaling_2_16 230 python3 perf/scaling.py --ember "$G Ember.Perf" --threads 2,16 --workload sgemm,mlp,cnn,gpt,conv2d --out "$L/scaling_2_16.md"
fi
if want checksamp; then   # autocast steps, then checks' suite runs, soak, NCCL and PyTorch's GradScaler at once
  step amp_probe 90 python3 perf/compare.py --device cuda --amp bf16 --repeat 20 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  suite_runs suite 400
  ( step soak 400 $G Ember.Soak --device cuda --seconds ${SOAK_S:-300} --csv "$L/soak.csv" ) &
  ( step nccl_np1 150 mpirun --oversubscribe -np 1 $G Ember.Distributed.Worker device cuda ) &
  ( step amp_gen_cuda 150 python3 tests/golden/amp_gen.py --cuda ) &
  wait
fi
if want final6; then   # sixth session: the > 48 KB stagings against the default and cuBLAS, small shapes (64×64 warp heuristic),
  # rows and train steps (fp32 and autocast), the new CUDA tests, NaN on OpenCL, the CPU pool rules at 16 threads
  step gemm6 200 $G GemmBench --check --sizes 2048,4096,8192 --no-trans --variants f16,f16-s4,f16-k32,bf16,bf16-s4,bf16-k32,tf32,tf32-s4,tf32-k32
  step gemm6_torch 50 python3 perf/gpu/gemm_torch.py --ember "$L/gemm6.txt" --sizes 2048,4096,8192 --variants tf32,f16,bf16
  step gemm6_small 60 $G GemmBench --check --sizes 1024 --no-trans --variants f16,f16-w64,f16-pipe,bf16,bf16-w64,bf16-pipe \
    --shapes 256x1024x784,256x1024x1024,256x10x1024,1024x256x256,2048x768x256,2048x256x1024
  step rows6 120 python3 perf/compare.py --device cuda --repeat 20 --ember "$G Ember.Perf" \
    --workload softmax,log_softmax,layernorm,layernorm_fwd_bwd,cross_entropy,mlp,cnn,gpt
  step amp6 90 python3 perf/compare.py --device cuda --amp bf16 --repeat 20 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  step cuda_tests6 150 env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "${TESTS6:-FullyQualifiedName~MmaGemmCudaTests}"
  step opencl_nan 90 env EMBER_TEST_DEVICES=opencl:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~NanHandling|FullyQualifiedName~BitwiseIntegers"
  P="$G Ember.Perf --device cpu --threads 16 --warmup 2 --repeat 7 --pool-stats 1 --workload mlp,cnn,gpt,conv2d"
  step cpu16_miss 50 $P
  step cpu16_lent 50 $P --pool-lent-rule 1
  step cpu16_lent_budget 50 $P --pool-lent-rule 1 --pool-thread-budget-mb 64
fi
if want suite6; then   # the backend suite once on CUDA (pinned staging default) and once on OpenCL, at once
  ( step suite6_cuda ${SUITE_S:-540} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests ) &
  ( step suite6_opencl ${SUITE_S:-540} env EMBER_TEST_DEVICES=opencl:0 $G Ember.Backends.Tests ) &
  wait
fi
if want gemm7; then   # the 128×256 block of 8 warps (WideBlock and its stagings) against the default 128×128 and cuBLAS
  V7=${V7:-f16,f16-b256,f16-b256s3,f16-b256k32,f16-b256g,bf16-b256,tf32,tf32-b256,tf32-b256k32}
  step gemm7 300 $G GemmBench --check --sizes 2048,4096,8192 --no-trans --variants $V7
  step gemm7_torch 50 python3 perf/gpu/gemm_torch.py --ember "$L/gemm7.txt" --sizes 2048,4096,8192 --variants tf32,f16,bf16
fi
if want sass7; then   # SASS of the tensor-core kernels and per-instruction stall samples (for offline reading)
  mkdir -p "$L/sass"
  $G GemmBench --ptx /tmp/ptx7 > "$L/sass/ptxdump.txt" 2>&1
  for f in /tmp/ptx7/mma_{f16,tf32}_nt_{w64,b256}.ptx /tmp/ptx7/mma_f16_nt_w64_s4.ptx /tmp/ptx7/tiled_nn.ptx; do
    n=$(basename "$f" .ptx)
    /usr/local/cuda/bin/ptxas -arch sm_90 -v "$f" -o "/tmp/$n.cubin" > "$L/sass/$n.ptxas.txt" 2>&1
    /usr/local/cuda/bin/cuobjdump -sass "/tmp/$n.cubin" > "$L/sass/$n.sass" 2>&1
  done
  archive
  NCU="/usr/local/cuda/bin/ncu --target-processes all -k regex:Gemm --launch-skip 3 --launch-count 1"
  for v in f16 tf32; do
    step ncu_src_$v 100 $NCU --section SourceCounters --section WarpStateStats --page source --print-source sass --csv \
      $G GemmBench --sizes 4096 --no-trans --variants $v
    step ncu_raw_$v 100 $NCU --section WarpStateStats --section SourceCounters --page raw --csv $G GemmBench --sizes 4096 --no-trans --variants $v
  done
fi
if want final7; then   # seventh session: rows and fp32 steps, autocast steps, the helpers' new CUDA tests
  step rows7 ${T7:-100} python3 perf/compare.py --device cuda --repeat 30 --ember "$G Ember.Perf" \
    --workload softmax,log_softmax,layernorm,layernorm_fwd_bwd,cross_entropy,mlp,cnn,gpt
  step amp7 ${T7:-100} python3 perf/compare.py --device cuda --amp bf16 --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  step gemm7b ${T7:-100} $G GemmBench --check --sizes 4096,8192 --no-trans --variants ${V7B:-f16,f16-s4e,f16-b256e,f16-b256k32e,tf32,tf32-b256e}
  step gemm7b_torch 40 python3 perf/gpu/gemm_torch.py --ember "$L/gemm7b.txt" --sizes 4096,8192 --variants tf32,f16
  [ -n "${TESTS7:-}" ] && step cuda_tests7 ${T7:-100} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "$TESTS7"
fi
if want suite7; then   # six CUDA suite runs (pinned staging off ×3, on ×3) and the soak, at once
  for i in 1 2 3; do
    ( step suite7_cuda_pin0_$i ${SUITE_S:-570} env EMBER_TEST_TIMES=$L/times_pin0_$i.tsv EMBER_TEST_DEVICES=cuda:0 EMBER_ILGPU_PINNED_STAGING=0 $G Ember.Backends.Tests ) &
    ( step suite7_cuda_pin1_$i ${SUITE_S:-570} env EMBER_TEST_TIMES=$L/times_pin1_$i.tsv EMBER_TEST_DEVICES=cuda:0 EMBER_ILGPU_PINNED_STAGING=1 $G Ember.Backends.Tests ) &
  done
  ( step soak7 ${SUITE_S:-570} $G Ember.Soak --device cuda --seconds ${SOAK_S:-540} --csv "$L/soak7.csv" ) &
  wait
fi
if want suite8; then   # eighth session: the suite once with pinned staging off and once on, beside the soak, with per-test times
  for p in 0 1; do
    ( step suite8_cuda_pin$p ${SUITE_S:-360} env EMBER_TEST_TIMES=$L/times8_pin$p.tsv EMBER_TEST_DEVICES=cuda:0 EMBER_ILGPU_PINNED_STAGING=$p \
        $G Ember.Backends.Tests ) &
  done
  ( step soak8 ${SUITE_S:-360} $G Ember.Soak --device cuda --seconds ${SOAK_S:-330} --csv "$L/soak8.csv" ) &
  wait
  for f in "$L"/suite8_*.txt; do echo "== $(basename "$f")"; grep -E '^\[\+' "$f" | tail -1; grep -E 'failed:|succeeded:|total:|Test run summary' "$f"; done > "$L/suite8_summary.txt" 2>&1
  for f in "$L"/times8_*.tsv; do echo "== $(basename "$f") $(wc -l < "$f") tests, $(awk '{s+=$1} END {print s/1000}' "$f") s"; sort -rn "$f" | head -25; done >> "$L/suite8_summary.txt" 2>&1
  archive
fi
if want final8; then   # eighth session: the helpers' branches on CUDA (tests, GEMM layouts, steps with and without the new paths)
  [ -n "${TESTS8:-}" ] && step cuda_tests8 ${T8:-120} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "$TESTS8"
  step rows8 ${T8:-120} python3 perf/compare.py --device cuda --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt,layernorm,softmax
  step amp8 ${T8:-120} python3 perf/compare.py --device cuda --amp bf16 --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  [ -n "${AMP8ENV:-}" ] && step amp8_env ${T8:-120} env $AMP8ENV python3 perf/compare.py --device cuda --amp bf16 --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  [ -n "${GEMM8V:-}" ] && step gemm8 ${T8:-120} $G GemmBench --check --sizes 2048,4096 --trans --variants "$GEMM8V"
  [ -n "${CPU8:-}" ] && step cpu8 ${T8:-200} python3 perf/scaling.py --ember "$G Ember.Perf" --threads 2,16 --workload "$CPU8" --out "$L/cpu8.md"
fi
if want final9; then   # next session: bias8 and cpu7 timed, the CUDA steps' per-op profile, the CPU pool rule A/B at 16 threads
  step rows9 ${T9:-60} python3 perf/compare.py --device cuda --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt,softmax,layernorm
  step amp9 ${T9:-60} python3 perf/compare.py --device cuda --amp bf16 --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  step rows9_inner ${T9:-60} python3 perf/compare.py --device cuda --repeat 30 --inner 20 --ember "$G Ember.Perf" --workload softmax,log_softmax,layernorm,cross_entropy
  step profile9 ${T9:-60} $G Ember.Perf --device cuda --workload cnn,gpt --profile 5 --profile-top 30
  for g in 4 0; do step cpu9_pool$g ${T9:-60} $G Ember.Perf --device cpu --threads 16 --workload gpt,mlp,cnn --warmup 12 --repeat 7 --pool-stats 1 --pool-growth $g; done
  step cpu9 ${T9:-200} python3 perf/scaling.py --ember "$G Ember.Perf" --threads 2,16 --workload sgemm,mlp,cnn,gpt,conv2d --warmup 12 --out "$L/cpu9.md"
fi
if want call10a; then   # ninth session, call 1: the float32/autocast steps and row kernels on main (cpu7, bias8 in), the CPU GEMM trace and switch A/B (cpu8)
  step rows10 ${T10:-60} python3 perf/compare.py --device cuda --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt,softmax,layernorm
  step amp10 ${T10:-60} python3 perf/compare.py --device cuda --amp bf16 --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  step rows10_inner ${T10:-60} python3 perf/compare.py --device cuda --repeat 30 --inner 20 --ember "$G Ember.Perf" --workload softmax,log_softmax,layernorm,cross_entropy
  step cpu8_ab ${CPU8_S:-330} env OUT="$L/cpu8" G="$G Ember.Perf" bash perf/gpu/cpu8_ab.sh ${CPU8_SECTIONS:-info,trace,ab}
fi
if want call10; then   # ninth session, the one call: steps (bias8, gpu8 A/B), CUDA tests of the changed defaults, tensor-core variants (mma7), the CPU GEMM trace and A/B (cpu8)
  step rows10 ${T10:-50} python3 perf/compare.py --device cuda --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt,softmax,layernorm
  step amp10 ${T10:-50} python3 perf/compare.py --device cuda --amp bf16 --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  [ -n "${GPU8ENV:-}" ] && step rows10_env ${T10:-50} env $GPU8ENV python3 perf/compare.py --device cuda --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  [ -n "${TESTS10:-}" ] && step cuda_tests10 ${TESTS10_S:-80} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "$TESTS10"
  [ -n "${TESTS10B:-}" ] && step cuda_tests10b ${TESTS10_S:-80} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "$TESTS10B"
  [ -n "${MMA10V:-}" ] && step gemm10 ${GEMM10_S:-110} $G GemmBench --check --sizes 4096,8192 --no-trans --variants "$MMA10V"
  [ -n "${MMA10V:-}" ] && step gemm10_torch 40 python3 perf/gpu/gemm_torch.py --ember "$L/gemm10.txt" --sizes 4096,8192 --variants f16,bf16
  step cpu8_ab ${CPU8_S:-150} env OUT="$L/cpu8" G="$G Ember.Perf" bash perf/gpu/cpu8_ab.sh ${CPU8_SECTIONS:-info,trace,ab}
  step profile10 ${T10:-40} $G Ember.Perf --device cuda --workload cnn,gpt --profile 5 --profile-top 30 --launches 1
  step rows10_inner ${T10:-40} python3 perf/compare.py --device cuda --repeat 30 --inner 20 --ember "$G Ember.Perf" --workload softmax,log_softmax,layernorm,cross_entropy
fi
if want call10b; then   # ninth session, the last call (budget ~340 s): CUDA tests of the changed defaults first, then steps, GEMM, CPU trace
  step cuda_tests10 ${TESTS10_S:-90} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "$TESTS10"
  step rows10 40 python3 perf/compare.py --device cuda --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt,softmax,layernorm
  step rows10_env 35 env EMBER_ILGPU_CONV_LAUNCH_CUTS=0 python3 perf/compare.py --device cuda --repeat 30 --ember "$G Ember.Perf" --workload cnn
  step gemm10 80 $G GemmBench --check --sizes 4096,8192 --no-trans --variants "$MMA10V"
  step gemm10_torch 30 python3 perf/gpu/gemm_torch.py --ember "$L/gemm10.txt" --sizes 4096,8192 --variants f16,bf16
  step amp10 30 python3 perf/compare.py --device cuda --amp bf16 --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  step cpu8_trace 60 env OUT="$L/cpu8" G="$G Ember.Perf" bash perf/gpu/cpu8_ab.sh info,trace
fi
if want call10c; then   # ninth session, a last short try (~200 s): the new kernels' CUDA tests, the train steps with and without gpu8's cuts
  step cuda_tests10 ${TESTS10_S:-90} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "$TESTS10"
  step rows10 40 python3 perf/compare.py --device cuda --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt,softmax,layernorm
  step rows10_env 35 env EMBER_ILGPU_CONV_LAUNCH_CUTS=0 python3 perf/compare.py --device cuda --repeat 30 --ember "$G Ember.Perf" --workload cnn
fi
if want call11; then   # tenth session: CUDA tests of the in-place kernels with ebcfb28's K loops, default GEMMs, autocast A/B
  step cuda_tests11 ${TESTS11_S:-150} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "$TESTS11"
  step gemm11 90 $G GemmBench --check --sizes 4096,8192 --no-trans --variants "${MMA11V:-f16,bf16,tf32,f16-b256k32e-tr}"
  step amp11 30 python3 perf/compare.py --device cuda --amp bf16 --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  step amp11_cuts0 25 env EMBER_ILGPU_CONV_LAUNCH_CUTS=0 python3 perf/compare.py --device cuda --amp bf16 --repeat 30 --ember "$G Ember.Perf" --workload cnn
  step amp11_wide 30 env EMBER_MMA_WIDE=1 python3 perf/compare.py --device cuda --amp bf16 --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  step amp11_prof 30 $G Ember.Perf --device cuda --amp bf16 --workload cnn --profile 5 --launches 1
fi
if want cpu11; then   # tenth session: the CPU GEMM switches A/B at 16 threads, then at 2
  step cpu11_ab 330 env OUT="$L/cpu11" G="$G Ember.Perf" bash perf/gpu/cpu8_ab.sh ab
  step cpu11_ab2 150 env OUT="$L/cpu11" G="$G Ember.Perf" bash perf/gpu/cpu8_ab.sh ab2
fi
if want call12; then   # tenth session, last call: the default in-place kernel's CUDA tests (ebcfb28), then the CPU switches A/B
  step cuda_tests12 ${TESTS12_S:-120} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~MmaTransposedCudaTests"
  step cpu12_ab 250 env OUT="$L/cpu12" G="$G Ember.Perf" REPEAT=3 bash perf/gpu/cpu8_ab.sh ab
fi
if want call13; then   # tenth session: every layout of the 128x256 in-place kernel on CUDA (bf16; the copy paths are the f16 ones)
  step cuda_tests13 ${TESTS13_S:-250} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~MmaWideTransposedCudaTests&Name~AllLayouts&Name~BFloat16"
fi
if want call14; then   # eleventh session: the autocast cnn regression (main against eb14ac8's Ember.PerfOld, in-place off), the GEMM table,
  # how cuBLAS turns float32 into TF32, and TF32 with truncated operands
  step amp14 30 python3 perf/compare.py --device cuda --amp bf16 --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  step amp14_old 30 python3 perf/compare.py --device cuda --amp bf16 --repeat 30 --ember "$G Ember.PerfOld" --workload mlp,cnn,gpt
  step amp14_t0 20 env EMBER_MMA_TRANSPOSED=0 python3 perf/compare.py --device cuda --amp bf16 --repeat 30 --ember "$G Ember.Perf" --workload cnn
  step amp14_again 20 python3 perf/compare.py --device cuda --amp bf16 --repeat 30 --ember "$G Ember.Perf" --workload cnn
  step amp14_prof 25 $G Ember.Perf --device cuda --amp bf16 --workload cnn --profile 5 --launches 1 --profile-top 40
  step amp14_prof_old 25 $G Ember.PerfOld --device cuda --amp bf16 --workload cnn --profile 5 --launches 1 --profile-top 40
  step gemm14 ${GEMM14_S:-120} $G GemmBench --check --sizes 1024,2048,4096,8192 --no-trans --variants "${GEMM14V:-f16,bf16,tf32,f16-b256k32e-tr,bf16-b256k32e-tr}"
  step gemm14_torch 40 python3 perf/gpu/gemm_torch.py --ember "$L/gemm14.txt" --sizes 1024,2048,4096,8192 --variants f16,bf16,tf32
  step tf32_round 30 python3 perf/gpu/tf32_rounding.py
  step gemm14_trunc 60 $G GemmBench --check --sizes 4096,8192 --no-trans --variants tf32 --tf32-truncate
  step cuda_tests14 ${TESTS14_S:-90} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "Name~Tf32Truncate"
fi
if want call14b; then   # call14 and call13's CUDA tests in one call: the tests (compile-bound, tiny kernels) run beside the timed steps
  ( step cuda_tests13 ${TESTS13_S:-250} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "(FullyQualifiedName~MmaWideTransposedCudaTests&Name~AllLayouts&Name~BFloat16)|Name~Tf32Truncate" ) &
  step amp14 30 python3 perf/compare.py --device cuda --amp bf16 --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  step amp14_old 20 python3 perf/compare.py --device cuda --amp bf16 --repeat 30 --ember "$G Ember.PerfOld" --workload cnn
  step amp14_t0 20 env EMBER_MMA_TRANSPOSED=0 python3 perf/compare.py --device cuda --amp bf16 --repeat 30 --ember "$G Ember.Perf" --workload cnn
  step amp14_prof 25 $G Ember.Perf --device cuda --amp bf16 --workload cnn --profile 5 --launches 1 --profile-top 40
  step amp14_prof_old 25 $G Ember.PerfOld --device cuda --amp bf16 --workload cnn --profile 5 --launches 1 --profile-top 40
  step tf32_round 30 python3 perf/gpu/tf32_rounding.py
  step gemm14 ${GEMM14_S:-130} $G GemmBench --check --sizes 1024,2048,4096,8192 --no-trans --variants "${GEMM14V:-f16,bf16,tf32,f16-b256k32e-tr,bf16-b256k32e-tr}"
  step gemm14_trunc 50 $G GemmBench --check --sizes 4096,8192 --no-trans --variants tf32 --tf32-truncate
  step gemm14_torch 40 python3 perf/gpu/gemm_torch.py --ember "$L/gemm14.txt" --sizes 1024,2048,4096,8192 --variants f16,bf16,tf32
  wait
fi
if want call14c; then   # call14b trimmed to ~5 min (the session's last device time): tests beside, autocast A/B and profiles, TF32 rounding, 4096/8192 GEMMs
  ( step cuda_tests13 ${TESTS13_S:-240} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "(FullyQualifiedName~MmaWideTransposedCudaTests&Name~AllLayouts&Name~BFloat16)|Name~Tf32Truncate" ) &
  step amp14 30 python3 perf/compare.py --device cuda --amp bf16 --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  step amp14_old 20 python3 perf/compare.py --device cuda --amp bf16 --repeat 30 --ember "$G Ember.PerfOld" --workload cnn
  step amp14_prof 25 $G Ember.Perf --device cuda --amp bf16 --workload cnn --profile 5 --launches 1 --profile-top 40
  step amp14_prof_old 25 $G Ember.PerfOld --device cuda --amp bf16 --workload cnn --profile 5 --launches 1 --profile-top 40
  step tf32_round 30 python3 perf/gpu/tf32_rounding.py
  step gemm14 90 $G GemmBench --check --sizes 4096,8192 --no-trans --variants f16,bf16,tf32,f16-b256k32e-tr,bf16-b256k32e-tr
  step gemm14_trunc 35 $G GemmBench --check --sizes 4096,8192 --no-trans --variants tf32 --tf32-truncate
  step gemm14_torch 30 python3 perf/gpu/gemm_torch.py --ember "$L/gemm14.txt" --sizes 4096,8192 --variants f16,bf16,tf32
  wait
fi
if want call43; then   # call42 cut to the device time left (~2.5 min): CPU split-K A/B at 16 threads (gpt, mlp), the GEMM table with the new TF32 default, GEMM traces (gpt and conv2d at 16 threads, sgemm at 2), the 2-thread mlp profile, KC/MC A/B at 2 threads
  step cpu43_ab 50 sh -c "for r in 1 2; do for v in 0 1; do for w in gpt mlp; do echo \"EMBER_GEMM_SPLIT_K=\$v \$w\"; EMBER_GEMM_SPLIT_K=\$v $G Ember.Perf --device cpu --workload \$w --threads 16 --warmup 8 --repeat 7 | tail -1; done; done; done"
  step gemm43 45 $G GemmBench --check --sizes 1024,2048,4096,8192 --no-trans --variants tf32,f16,bf16
  step gemm43_torch 15 python3 perf/gpu/gemm_torch.py --ember "$L/gemm43.txt" --sizes 1024,2048,4096,8192 --variants f16,bf16,tf32
  step cpu43_trace16 25 $G Ember.Perf --device cpu --threads 16 --workload gpt,conv2d --warmup 8 --repeat 5 --gemm-trace 1
  step cpu43_trace 15 $G Ember.Perf --device cpu --threads 2 --workload sgemm --sizes 1024,2048 --warmup 3 --repeat 3 --gemm-trace 1
  step cpu43_prof 20 $G Ember.Perf --device cpu --threads 2 --workload mlp --warmup 8 --profile 5 --profile-top 20
  # KC and MC are measured on Zen (32 KB L1, 1 MB L2): with KC 512 a B micro-panel (512 x 32 floats, 64 KB) exceeds the
  # Xeon's 48 KB L1 too, and MC 84 (6 A micro-panels per B micro-panel) uses a tenth of its 2 MB L2
  step cpu43_blocking 60 sh -c "for r in 1 2; do for v in 'EMBER_GEMM_KC=512' 'EMBER_GEMM_KC=256' 'EMBER_GEMM_KC=384' 'EMBER_GEMM_MC=252' 'EMBER_GEMM_MC=504'; do echo \"\$v\"; env \$v $G Ember.Perf --device cpu --threads 2 --workload sgemm,mlp --sizes 1024,2048 --warmup 3 --repeat 5 | tail -3; done; done"
fi
if want call42; then   # eighteenth session: TF32 rounded by the packing kernel by default where wgmma runs; the Xeon's 2-thread gap  ~5 min
  step gemm42 ${GEMM42_S:-90} $G GemmBench --check --sizes 1024,2048,4096,8192 --no-trans --variants tf32,f16,bf16
  step gemm42_torch 30 python3 perf/gpu/gemm_torch.py --ember "$L/gemm42.txt" --sizes 1024,2048,4096,8192 --variants f16,bf16,tf32
  step cuda_tests42 ${TESTS42_S:-130} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~MmaWgmmaCudaTests|Name~Tf32RoundingPlacesAgree|Name~Tf32TruncateAllPaths"
  step cpu42_trace 40 $G Ember.Perf --device cpu --threads 2 --workload sgemm --sizes 1024,4096 --warmup 3 --repeat 3 --gemm-trace 1
  step cpu42_prof 40 $G Ember.Perf --device cpu --threads 2 --workload mlp --warmup 8 --profile 5 --profile-top 20
  step cpu42 ${CPU42_S:-90} python3 perf/scaling.py --ember "$G Ember.Perf" --threads 2 --workload sgemm,mlp,gpt,conv2d --warmup 12 --out "$L/cpu42.md"
fi
if want cpu41; then   # seventeenth session: the CPU per-op profiles at 1, 2 and 16 threads (which ops do not scale: issue 17's "what limits"), then the 2/16-thread table  ~6 min
  for t in 1 2 16; do
    step cpuprof41_$t ${CPUPROF41_S:-90} $G Ember.Perf --device cpu --workload mlp,cnn,gpt,conv2d --threads $t --warmup 8 --profile 5 --profile-top 80
  done
  step cpuprof41_scaling 10 sh -c "python3 perf/profile_scaling.py $L/cpuprof41_1.txt $L/cpuprof41_16.txt; python3 perf/profile_scaling.py $L/cpuprof41_2.txt $L/cpuprof41_16.txt; python3 perf/profile_scaling.py --width $L/cpuprof41_1.txt $L/cpuprof41_16.txt"
  step cpu41_attn_ab ${CPU41AB_S:-150} sh -c "for r in 1 2; do for v in 'EMBER_CPU_ATTENTION=serial EMBER_CPU_ATTENTION_BLOCK=0' 'EMBER_CPU_ATTENTION=serial' 'EMBER_CPU_ATTENTION=batch' 'EMBER_CPU_ATTENTION=auto'; do for t in 2 16; do echo \"\$v threads=\$t\"; env \$v $G Ember.Perf --device cpu --workload gpt --threads \$t --warmup 8 --repeat 7 | tail -1; done; done; done"
  step cpu41 ${CPU41_S:-220} python3 perf/scaling.py --ember "$G Ember.Perf" --threads 2,16 --workload sgemm,mlp,cnn,gpt,conv2d --warmup 12 --out "$L/cpu41.md"
fi
if want call40; then   # call39 cut to a short call (~4 min): TF32 rounded by the packing kernel (-pk) and EMBER_WGMMA_EARLY=1 at 4096/8192 against cuBLAS, then the row kernels queued (--inner 20: 20 calls per timed sample, one sync) and the CUDA tests of both  ~5.5 min
  step gemm40 70 $G GemmBench --check --sizes 4096,8192 --no-trans --variants tf32,tf32-pk,f16,bf16
  step gemm40_torch 30 python3 perf/gpu/gemm_torch.py --ember "$L/gemm40.txt" --sizes 4096,8192 --variants f16,bf16,tf32
  step gemm40_early 35 env EMBER_WGMMA_EARLY=1 $G GemmBench --check --sizes 4096,8192 --no-trans --variants tf32,tf32-pk
  step rows40 60 python3 perf/compare.py --device cuda --inner 20 --repeat 30 --ember "$G Ember.Perf" --workload softmax,log_softmax,layernorm,layernorm_fwd_bwd,cross_entropy
  step cuda_tests40 ${TESTS40_S:-170} env EMBER_WGMMA_EARLY=1 EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~MmaWgmmaCudaTests|Name~Tf32RoundingPlacesAgree|Name~Tf32TruncateAllPaths"
fi
if want call39; then   # sixteenth session, one call for what call37 and call38 hold: GEMMs 1024-8192 with TF32 rounded by the packing kernel (-pk), EMBER_WGMMA_EARLY=1 at 8192, cuBLAS, the CUDA tests of both, fp32 and autocast train steps  ~9.5 min
  step gemm39 ${GEMM39_S:-170} $G GemmBench --check --sizes 1024,2048,4096,8192 --no-trans --variants tf32,tf32-pk,tf32-mma,tf32-mma-pk,f16,bf16
  step gemm39_torch 45 python3 perf/gpu/gemm_torch.py --ember "$L/gemm39.txt" --sizes 1024,2048,4096,8192 --variants f16,bf16,tf32
  step gemm39_early 40 env EMBER_WGMMA_EARLY=1 $G GemmBench --check --sizes 8192 --no-trans --variants tf32,tf32-pk,f16
  step cuda_tests39 ${TESTS39_S:-110} env EMBER_WGMMA_EARLY=1 EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~MmaWgmmaCudaTests|Name~Tf32RoundingPlacesAgree|Name~Tf32TruncateAllPaths"
  step steps39 70 python3 perf/compare.py --device cuda --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt,softmax,layernorm
  step amp39 70 python3 perf/compare.py --device cuda --amp bf16 --repeat 60 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
fi
if want call37; then   # sixteenth session: the default (wgmma at >= 4096) against -mma and cuBLAS at 1024-8192, TF32 rounded by the packing kernel (-pk), EMBER_WGMMA_EARLY=1 (next slab landed under the running wgmmas) A/B, the truncation bound, CUDA tests of the early loop and of packed rounding, transposes  ~9 min
  step gemm37 ${GEMM37_S:-200} $G GemmBench --check --sizes 1024,2048,4096,8192 --no-trans --variants tf32,tf32-pk,tf32-mma,tf32-mma-pk,f16,f16-mma,bf16,bf16-mma
  step gemm37_early 60 env EMBER_WGMMA_EARLY=1 $G GemmBench --check --sizes 4096,8192 --no-trans --variants tf32,tf32-pk,f16
  step gemm37_trunc 30 $G GemmBench --check --sizes 8192 --no-trans --variants tf32 --tf32-truncate
  step gemm37_torch 50 python3 perf/gpu/gemm_torch.py --ember "$L/gemm37.txt" --sizes 1024,2048,4096,8192 --variants f16,bf16,tf32
  step cuda_tests37 ${TESTS37_S:-110} env EMBER_WGMMA_EARLY=1 EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~MmaWgmmaCudaTests|Name~Tf32RoundingPlacesAgree|Name~Tf32TruncateAllPaths"
  step gemm37_trans 50 $G GemmBench --check --sizes 4096 --trans --variants tf32,tf32-pk,f16
fi
if want call38; then   # sixteenth session: fp32 and autocast train steps against PyTorch eager (30/60 repeats), then the CPU 2/16-thread table  ~7 min
  step steps38 70 python3 perf/compare.py --device cuda --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt,softmax,layernorm
  step amp38 70 python3 perf/compare.py --device cuda --amp bf16 --repeat 60 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  step cpu38 ${CPU38_S:-250} python3 perf/scaling.py --ember "$G Ember.Perf" --threads 2,16 --workload sgemm,mlp,cnn,gpt,conv2d --warmup 12 --out "$L/cpu38.md"
fi
if want call36; then   # next session: the wgmma kernel's CUDA tests, GEMMs against -mma and cuBLAS (stage branch wgmma-landed first to time its next-slab rounding under the running slab), TRANS36=1 adds transposes  ~3 min
  step gemm36 60 $G GemmBench --check --sizes 4096,8192 --no-trans --variants tf32,tf32-mma,f16,bf16
  step gemm36_torch 20 python3 perf/gpu/gemm_torch.py --ember "$L/gemm36.txt" --sizes 4096,8192 --variants f16,bf16,tf32
  step cuda_tests36 ${TESTS36_S:-120} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~MmaWgmmaCudaTests"
  [ -n "${TRANS36:-}" ] && step gemm36_trans 50 $G GemmBench --check --sizes 4096 --trans --variants tf32,f16,f16-mma
fi
if want call35b; then   # call35 trimmed to the device time left: the default (wgmma at >= 4096) against -mma and cuBLAS, transposes at 4096  ~1.5 min
  step gemm35 90 $G GemmBench --check --sizes 4096,8192 --no-trans --variants tf32,tf32-mma,f16,f16-mma,bf16
  step gemm35_trans 60 $G GemmBench --check --sizes 4096 --trans --variants tf32,f16,f16-mma
  step gemm35_torch 30 python3 perf/gpu/gemm_torch.py --ember "$L/gemm35.txt" --sizes 4096,8192 --variants f16,bf16,tf32
fi
if want call35; then   # fifteenth session: wgmma by default (sm_90, M, N >= 4096) against the mma.sync kernels and cuBLAS, the TF32 truncation bound, transposes, CUDA MMA tests  ~5 min
  step gemm35 ${GEMM35_S:-150} $G GemmBench --check --sizes 1024,2048,4096,8192 --no-trans --variants "${GEMM35V:-tf32,tf32-mma,f16,f16-mma,bf16,bf16-mma}"
  step gemm35_trunc 40 $G GemmBench --check --sizes 4096,8192 --no-trans --variants tf32 --tf32-truncate
  step gemm35_trans 60 $G GemmBench --check --sizes 4096 --trans --variants tf32,f16,f16-mma
  step gemm35_torch 60 python3 perf/gpu/gemm_torch.py --ember "$L/gemm35.txt" --sizes 1024,2048,4096,8192 --variants f16,bf16,tf32
  step cuda_tests35 ${TESTS35_S:-200} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~MmaGemmCudaTests|FullyQualifiedName~MmaWgmmaCudaTests"
fi
if want call34; then   # fifteenth session: the warpgroup (wgmma) kernel against the mma.sync defaults and cuBLAS, its CUDA tests, KernelArgumentTests  ~7 min
  step gemm34 ${GEMM34_S:-170} $G GemmBench --check --sizes ${SIZES34:-2048,4096,8192} --no-trans --variants "${GEMM34V:-tf32,tf32-wg128,tf32-wg256,tf32-wg256g,f16,f16-wg128,f16-wg256,bf16,bf16-wg256}"
  step gemm34_torch 60 python3 perf/gpu/gemm_torch.py --ember "$L/gemm34.txt" --sizes ${SIZES34:-2048,4096,8192} --variants f16,bf16,tf32
  step cuda_tests34 ${TESTS34_S:-200} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~MmaWgmma|FullyQualifiedName~KernelArgument"
fi
if want call33; then   # next session: does ILGPU pass nested struct arguments intact on CUDA (the FastDivisor failure of call32)?  ~1 min
  step cuda_tests33 60 env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~KernelArgument"
fi
if want call32; then   # fourteenth session's last call: CUDA tests of FastDivisor's kernels and the 2 x 2 weight gradient, fp32 and autocast steps  ~3 min
  step cuda_tests32 90 env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~ConvWeightGradDirect|FullyQualifiedName~NarrowConv|FullyQualifiedName~NarrowPool|FullyQualifiedName~CnnStep|FullyQualifiedName~FusedPrimitiveKernels.Conv|FullyQualifiedName~NarrowColumnSum|FullyQualifiedName~MixedBinary"
  step steps32 50 python3 perf/compare.py --device cuda --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  step amp32 50 python3 perf/compare.py --device cuda --amp bf16 --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
fi
if want call31b; then   # call31 trimmed to what the device time left allows  ~3.5 min
  step cuda_tests31 120 env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~ConvWeightGradDirect|FullyQualifiedName~NarrowConv|FullyQualifiedName~NarrowColumnSum|FullyQualifiedName~Reduction|FullyQualifiedName~LinearBias|FullyQualifiedName~FusedPrimitiveKernels.Conv|FullyQualifiedName~CnnStep|FullyQualifiedName~AttentionGrouping|Name~SplitKMatchesReference|Name~SplitKAddsTheBias"
  step ncu31_wgrad 60 /usr/local/cuda/bin/ncu --target-processes all -k "regex:Kernel_Partial" --launch-skip 8 --launch-count 8 --section SpeedOfLight --section Occupancy --section WarpStateStats $G Ember.Perf --device cuda --workload cnn --repeat 2 --warmup 1
  [ -n "${SKIP31:-}" ] || step ncu31_attn_w16 60 env EMBER_ATTENTION_WARPS=16 /usr/local/cuda/bin/ncu --target-processes all -k "regex:RowsBackward|ColumnsBackward|Forward" --launch-skip 24 --launch-count 3 --section SpeedOfLight --section Occupancy $G Ember.Perf --device cuda --workload gpt --repeat 2 --warmup 1
  for v in ${PROF31:-1 0}; do step prof31_cnn_amp_d$v 30 env EMBER_ILGPU_CONV_DIRECT_WGRAD=$v $G Ember.Perf --device cuda --amp bf16 --workload cnn --profile 5 --profile-top 12; done
  step steps31 60 python3 perf/compare.py --device cuda --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  step amp31 60 python3 perf/compare.py --device cuda --amp bf16 --repeat 60 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
fi
if want call31; then   # fourteenth session: attention groups of 8 warps by default (16 measured), the CUDA tests of the strided sums, cnn per-op profiles with the direct weight gradient on and off, ncu of the GEMM path  ~5 min
  step cuda_tests31 150 env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~ConvWeightGradDirect|FullyQualifiedName~NarrowConv|FullyQualifiedName~NarrowColumnSum|FullyQualifiedName~Reduction|FullyQualifiedName~LinearBias|FullyQualifiedName~FusedPrimitiveKernels.Conv|FullyQualifiedName~CnnStep|FullyQualifiedName~AttentionGrouping|Name~SplitKMatchesReference|Name~SplitKAddsTheBias"
  for w in 8 16; do step ncu31_attn_w$w 100 env EMBER_ATTENTION_WARPS=$w /usr/local/cuda/bin/ncu --target-processes all -k "regex:RowsBackward|ColumnsBackward|Forward" --launch-skip 24 --launch-count 3 --section SpeedOfLight --section Occupancy $G Ember.Perf --device cuda --workload gpt --repeat 2 --warmup 1; done
  step ncu31_wgrad 100 /usr/local/cuda/bin/ncu --target-processes all -k "regex:Kernel_Partial" --launch-skip 8 --launch-count 8 --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats --section MemoryWorkloadAnalysis --section ComputeWorkloadAnalysis $G Ember.Perf --device cuda --workload cnn --repeat 2 --warmup 1
  step ncu31_cnn_amp_d0 150 env EMBER_ILGPU_CONV_DIRECT_WGRAD=0 /usr/local/cuda/bin/ncu --target-processes all --metrics gpu__time_duration.sum --launch-skip 100 --launch-count 100 $G Ember.Perf --device cuda --amp bf16 --workload cnn --repeat 2 --warmup 1
  step ncu31_cnn_d0 150 env EMBER_ILGPU_CONV_DIRECT_WGRAD=0 /usr/local/cuda/bin/ncu --target-processes all --metrics gpu__time_duration.sum --launch-skip 100 --launch-count 70 $G Ember.Perf --device cuda --workload cnn --repeat 2 --warmup 1
  for v in 1 0; do
    step prof31_cnn_amp_d$v 40 env EMBER_ILGPU_CONV_DIRECT_WGRAD=$v $G Ember.Perf --device cuda --amp bf16 --workload cnn --profile 5 --profile-top 12
    step prof31_cnn_d$v 40 env EMBER_ILGPU_CONV_DIRECT_WGRAD=$v $G Ember.Perf --device cuda --workload cnn --profile 5 --profile-top 12
  done
  step prof31_gpt 40 $G Ember.Perf --device cuda --workload gpt --profile 5 --profile-top 12
  step steps31 80 python3 perf/compare.py --device cuda --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  step amp31 70 python3 perf/compare.py --device cuda --amp bf16 --repeat 60 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
fi
if want call30; then   # fourteenth session: strided sums with eight reads in flight, the direct conv weight gradient's warp finish: CUDA tests, ncu per-kernel, cnn A/B, steps  ~5 min
  step cuda_tests30 150 env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~ConvWeightGradDirect|FullyQualifiedName~NarrowConv|FullyQualifiedName~NarrowColumnSum|FullyQualifiedName~Reduction|Name~Split|FullyQualifiedName~LinearBias|FullyQualifiedName~FusedPrimitiveKernels.Conv|FullyQualifiedName~CnnStep"
  step ncu30_cnn_amp 150 /usr/local/cuda/bin/ncu --target-processes all --metrics gpu__time_duration.sum --launch-skip 100 --launch-count 100 $G Ember.Perf --device cuda --amp bf16 --workload cnn --repeat 2 --warmup 1
  step ncu30_cnn 150 /usr/local/cuda/bin/ncu --target-processes all --metrics gpu__time_duration.sum --launch-skip 100 --launch-count 70 $G Ember.Perf --device cuda --workload cnn --repeat 2 --warmup 1
  for w in 2 8; do step ncu30_attn_w$w 100 env EMBER_ATTENTION_WARPS=$w /usr/local/cuda/bin/ncu --target-processes all -k "regex:RowsBackward|ColumnsBackward|Forward" --launch-skip 24 --launch-count 3 --section SpeedOfLight --section Occupancy $G Ember.Perf --device cuda --workload gpt --repeat 2 --warmup 1; done
  for v in 1 0; do
    step cnn30_amp_d$v 40 env EMBER_ILGPU_CONV_DIRECT_WGRAD=$v $G Ember.Perf --device cuda --amp bf16 --workload cnn --repeat 60
    step cnn30_d$v 40 env EMBER_ILGPU_CONV_DIRECT_WGRAD=$v $G Ember.Perf --device cuda --workload cnn --repeat 60
  done
  step steps30 80 python3 perf/compare.py --device cuda --repeat 30 --ember "$G Ember.Perf" --workload softmax,layernorm,mlp,cnn,gpt
  step amp30 70 python3 perf/compare.py --device cuda --amp bf16 --repeat 60 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
fi
if want call29; then   # fourteenth session: the direct first-layer conv weight gradient: CUDA tests, cnn profiles and steps with it on and off  ~2 min
  step cuda_tests29 120 env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~ConvWeightGradDirect|FullyQualifiedName~NarrowConv|FullyQualifiedName~CnnStep|FullyQualifiedName~FusedPrimitiveKernels.Conv"
  for v in 1 0; do
    step prof29_cnn_amp_d$v 40 env EMBER_ILGPU_CONV_DIRECT_WGRAD=$v $G Ember.Perf --device cuda --amp bf16 --workload cnn --profile 5 --profile-top 20 --launches 1
    step prof29_cnn_d$v 40 env EMBER_ILGPU_CONV_DIRECT_WGRAD=$v $G Ember.Perf --device cuda --workload cnn --profile 5 --profile-top 20 --launches 1
    step cnn29_amp_d$v 40 env EMBER_ILGPU_CONV_DIRECT_WGRAD=$v $G Ember.Perf --device cuda --amp bf16 --workload cnn --repeat 60
    step cnn29_d$v 40 env EMBER_ILGPU_CONV_DIRECT_WGRAD=$v $G Ember.Perf --device cuda --workload cnn --repeat 60
  done
  step alloc29_gpt 40 $G Ember.Perf --device cuda --workload gpt --repeat 30 --alloc-sites 25
  step alloc29_gpt_amp 40 $G Ember.Perf --device cuda --amp bf16 --workload gpt --repeat 30 --alloc-sites 25
fi
if want call28; then   # thirteenth session: attention kernels with four rows per warp: CUDA tests, ncu durations (as call22), warps per group 2/8 against the default 4, fp32 and autocast steps  ~7 min
  step cuda_tests28 150 env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~Attention"
  step ncu28_attn 150 /usr/local/cuda/bin/ncu --target-processes all -k "regex:RowsBackward|ColumnsBackward|Forward" --launch-skip 24 --launch-count 6 --section SpeedOfLight --section Occupancy $G Ember.Perf --device cuda --workload gpt --repeat 2 --warmup 1
  for w in 2 4 8; do step gpt28_w$w 60 env EMBER_ATTENTION_WARPS=$w $G Ember.Perf --device cuda --workload gpt --repeat 30; done
  step steps28 80 python3 perf/compare.py --device cuda --repeat 30 --ember "$G Ember.Perf" --workload softmax,layernorm,mlp,cnn,gpt
  step amp28 70 python3 perf/compare.py --device cuda --amp bf16 --repeat 60 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  step prof28 40 $G Ember.Perf --device cuda --workload gpt --profile 5 --profile-top 30 --launches 1
  step ncu28_cnn 150 /usr/local/cuda/bin/ncu --target-processes all --metrics gpu__time_duration.sum --launch-skip 100 --launch-count 100 $G Ember.Perf --device cuda --amp bf16 --workload cnn --repeat 2 --warmup 1
  step mem28 90 $G Ember.Perf --device cuda --memory-steps 10000 --memory-csv "$L/mem28_mlp_10000.csv"
fi
if want call27; then   # next session (refused in the twelfth for lack of time): fp32 and autocast steps with the new Ember.Perf default (compiler IR dropped after warm-up)  ~2 min
  step steps27 80 python3 perf/compare.py --device cuda --repeat 30 --ember "$G Ember.Perf" --workload softmax,layernorm,mlp,cnn,gpt
  step amp27 70 python3 perf/compare.py --device cuda --amp bf16 --repeat 60 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
fi
if want call26; then   # twelfth session: gpt's slow median steps: per-step times with and without ClearCompilerCaches after warm-up  ~3 min
  step gc26_amp 60 $G Ember.Perf --device cuda --amp bf16 --workload gpt --repeat 60 --pool-stats 1
  step gc26_amp_clear 60 $G Ember.Perf --device cuda --amp bf16 --workload gpt --repeat 60 --pool-stats 1 --clear-compiler-caches 1
  step gc26_fp32 60 $G Ember.Perf --device cuda --workload gpt --repeat 60 --pool-stats 1
  step gc26_fp32_clear 60 $G Ember.Perf --device cuda --workload gpt --repeat 60 --pool-stats 1 --clear-compiler-caches 1
  step amp26_clear 60 python3 perf/compare.py --device cuda --amp bf16 --repeat 60 --ember "$G Ember.Perf --clear-compiler-caches 1" --workload gpt
fi
if want call25; then   # twelfth session: the TF32 types folded into one generic (same PTX): CUDA tests and speed  ~2 min
  step cuda_tests25 150 env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~MmaGemmCudaTests&Name~Tf32"
  step gemm25 60 $G GemmBench --check --sizes 4096,8192 --no-trans --variants tf32,tf32-staged
  step gemm25t 40 $G GemmBench --check --sizes 4096 --no-trans --tf32-truncate --variants tf32
fi
if want call24; then   # twelfth session's final table: GEMM defaults 1024-8192 against cuBLAS, fp32 and autocast steps  ~3 min
  step gemm24 120 $G GemmBench --check --sizes 1024,2048,4096,8192 --no-trans --variants f16,bf16,tf32
  step gemm24_torch 40 python3 perf/gpu/gemm_torch.py --ember "$L/gemm24.txt" --sizes 1024,2048,4096,8192 --variants f16,bf16,tf32
  step steps24 100 python3 perf/compare.py --device cuda --repeat 30 --ember "$G Ember.Perf" --workload softmax,layernorm,mlp,cnn,gpt
  step amp24 90 python3 perf/compare.py --device cuda --amp bf16 --repeat 60 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
fi
if want call22 || want call23; then   # twelfth session (call23: again after unrolling Dot and a branch-free Accumulate): attention groups heaviest first: CUDA tests, ncu durations (as call21), fp32 and autocast steps  ~4 min
  step cuda_tests22 120 env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~Attention"
  step ncu22_attn 150 /usr/local/cuda/bin/ncu --target-processes all -k "regex:RowsBackward|ColumnsBackward|Forward" --launch-skip 24 --launch-count 6 --section SpeedOfLight --section Occupancy $G Ember.Perf --device cuda --workload gpt --repeat 2 --warmup 1
  step steps22 100 python3 perf/compare.py --device cuda --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  step amp22 90 python3 perf/compare.py --device cuda --amp bf16 --repeat 60 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
fi
if want call21; then   # twelfth session: where the fp32 gpt step's attention time goes (ncu on the attention kernels)  ~2 min
  NCU="/usr/local/cuda/bin/ncu --target-processes all -k regex:RowsBackward|ColumnsBackward|Forward --launch-skip 24 --launch-count 6 --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats --section MemoryWorkloadAnalysis"
  step ncu21_attn 150 $NCU $G Ember.Perf --device cuda --workload gpt --repeat 2 --warmup 1
fi
if want call20; then   # twelfth session: batch-norm/conv CUDA tests, gpt per-op profiles (fp32 and autocast), autocast steps with 60 repeats  ~5 min
  step cuda_tests20 ${TESTS20_S:-180} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~BatchNorm|FullyQualifiedName~CnnStep|FullyQualifiedName~Conv2d"
  step prof20_gpt 40 $G Ember.Perf --device cuda --workload gpt --profile 5 --launches 1 --profile-top 30
  step prof20_gpt_amp 40 $G Ember.Perf --device cuda --amp bf16 --workload gpt --profile 5 --launches 1 --profile-top 40
  step amp20 90 python3 perf/compare.py --device cuda --amp bf16 --repeat 60 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
fi
if want call19; then   # twelfth session: batch norm over C x chunks, more split-K slabs for one-tile products: CUDA tests, profiles, steps  ~5 min
  step cuda_tests19 ${TESTS19_S:-200} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~BatchNorm|FullyQualifiedName~CnnStep|Name~Split|FullyQualifiedName~MmaGemmCudaTests&Name~InPlace"
  step prof19 40 $G Ember.Perf --device cuda --workload cnn --profile 5 --launches 1 --profile-top 25
  step prof19_amp 40 $G Ember.Perf --device cuda --amp bf16 --workload cnn --profile 5 --launches 1 --profile-top 25
  step steps19 150 python3 perf/compare.py --device cuda --repeat 30 --ember "$G Ember.Perf" --workload softmax,layernorm,mlp,cnn,gpt
  step amp19 60 python3 perf/compare.py --device cuda --amp bf16 --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
fi
if want call18; then   # twelfth session: cvt.rn.tf32 (.target sm_90) and the register rounding in the 128x256 kernel; truncation as the bound  ~3 min
  mkdir -p "$L/sass18"
  $G GemmBench --ptx /tmp/p18 tf32_nt_w64_fcvt > "$L/sass18/ptxdump.txt" 2>&1
  /usr/local/cuda/bin/ptxas -arch sm_90 -v /tmp/p18/mma_tf32_nt_w64_fcvt.tuned.ptx -o /tmp/fcvt.cubin > "$L/sass18/fcvt.ptxas.txt" 2>&1
  /usr/local/cuda/bin/cuobjdump -sass /tmp/fcvt.cubin > /tmp/fcvt.sass 2>&1
  { grep -oE "^ +/\*[0-9a-f]+\*/ +[A-Z0-9_.]+" /tmp/fcvt.sass | awk '{print $2}' | sed 's/\..*//' | sort | uniq -c | sort -rn | head -30; } > "$L/sass18/histogram.txt"
  archive
  step cuda_tests18 ${TESTS18_S:-150} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~MmaGemmCudaTests&Name~Tf32"
  step gemm18 150 $G GemmBench --check --sizes 4096,8192 --no-trans --variants tf32,tf32-fcvt,tf32-k32-fcvt,tf32-b256k32e-frag,tf32-b256k32e-fcvt
  step gemm18_trunc 60 $G GemmBench --check --sizes 4096,8192 --no-trans --tf32-truncate --variants tf32-k32,tf32-b256k32e
  cat "$L/gemm18.txt" "$L/gemm18_trunc.txt" > "$L/gemm18_all.txt"
  step gemm18_torch 30 python3 perf/gpu/gemm_torch.py --ember "$L/gemm18_all.txt" --sizes 4096,8192 --variants tf32
fi
if want call17; then   # twelfth session: where TF32 rounds (shared pass, registers, cvt.rn.tf32): SASS, CUDA tests, GEMM;
  # the 16-bit GEMM table 1024-8192 as the library runs it by default (in place, 128x256 at >= 4096)  ~5 min
  mkdir -p "$L/sass17"
  $G GemmBench --ptx /tmp/p17 tf32_nt_w64 > "$L/sass17/ptxdump.txt" 2>&1
  for n in mma_tf32_nt_w64 mma_tf32_nt_w64_frag mma_tf32_nt_w64_fcvt; do
    /usr/local/cuda/bin/ptxas -arch sm_90 -v "/tmp/p17/$n.tuned.ptx" -o "/tmp/$n.cubin" > "$L/sass17/$n.ptxas.txt" 2>&1
    /usr/local/cuda/bin/cuobjdump -sass "/tmp/$n.cubin" > "/tmp/$n.sass" 2>&1
    { echo "== $n"; grep -oE "^ +/\*[0-9a-f]+\*/ +[A-Z0-9_.]+" "/tmp/$n.sass" | awk '{print $2}' | sed 's/\..*//' | sort | uniq -c | sort -rn | head -25; } >> "$L/sass17/histogram.txt"
    grep -B2 -A6 -m3 "F2FP\|TF32\|F2F" "/tmp/$n.sass" >> "$L/sass17/cvt_context.txt" 2>&1
  done
  archive
  step cuda_tests17 ${TESTS17_S:-150} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~MmaGemmCudaTests&Name~Tf32"
  step gemm17 150 $G GemmBench --check --sizes 2048,4096,8192 --no-trans --variants tf32,tf32-frag,tf32-fcvt,tf32-k32-frag,tf32-k32-fcvt,tf32-b256k32e-fcvt
  step gemm17_16 90 $G GemmBench --check --sizes 1024,2048,4096,8192 --no-trans --variants f16,bf16
  cat "$L/gemm17.txt" "$L/gemm17_16.txt" > "$L/gemm17_all.txt"
  step gemm17_torch 40 python3 perf/gpu/gemm_torch.py --ember "$L/gemm17_all.txt" --sizes 1024,2048,4096,8192 --variants f16,bf16,tf32
fi
if want call16; then   # next session's first call: TF32 ties-to-even on CUDA (tests, GEMM), autocast steps alone, the GEMM table 1024-8192,
  # with CPU16=1 the 2/16-thread table (oversplit default)  ~5-8 min
  step cuda_tests16 ${TESTS16_S:-100} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "Name~Tf32Truncate|Name~Tf32Rounds|(FullyQualifiedName~MmaGemmCudaTests&Name~AllTransposes&Name~Tf32)"
  step gemm16 30 $G GemmBench --check --sizes 4096,8192 --no-trans --variants tf32,f16
  step amp16 30 python3 perf/compare.py --device cuda --amp bf16 --repeat 30 --ember "$G Ember.Perf" --workload mlp,cnn,gpt
  step amp16_prof 25 $G Ember.Perf --device cuda --amp bf16 --workload cnn --profile 5 --launches 1 --profile-top 40
  step gemm16_all 90 $G GemmBench --check --sizes 1024,2048,4096,8192 --no-trans --variants f16,bf16,tf32
  step gemm16_torch 40 python3 perf/gpu/gemm_torch.py --ember "$L/gemm16_all.txt" --sizes 1024,2048,4096,8192 --variants f16,bf16,tf32
  [ -n "${CPU16:-}" ] && step cpu16 200 python3 perf/scaling.py --ember "$G Ember.Perf" --threads 2,16 --workload sgemm,mlp,cnn,gpt,conv2d --out "$L/cpu16.md"
fi
if want call15; then   # eleventh session: every layout of the 128x256 in-place kernel on CUDA (call13), the CPU GEMM oversplit A/B at 16 threads
  step cpu15_over ${CPU15_S:-200} env OUT="$L/cpu15" G="$G Ember.Perf" REPEAT=7 bash perf/gpu/cpu8_ab.sh over
  step cuda_tests13 ${TESTS13_S:-250} env EMBER_TEST_DEVICES=cuda:0 $G Ember.Backends.Tests --filter "FullyQualifiedName~MmaWideTransposedCudaTests&Name~AllLayouts&Name~BFloat16"
fi
if want scaling; then
  # two halves, so that the targets' thread counts (2 and 16) come back even if the call runs out of time
  step scaling_1_2_16 330 python3 perf/scaling.py --ember "$G Ember.Perf" --threads 1,2,16 --out "$L/scaling_1_2_16.md"
  step scaling_4_8 230 python3 perf/scaling.py --ember "$G Ember.Perf" --threads 4,8 --out "$L/scaling_4_8.md"
fi
archive
cat "$OUT/summary.txt"
