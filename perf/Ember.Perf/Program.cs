// Ember.Perf: runs DESIGN.md's benchmark workloads and prints median and spread, optionally as JSON.
//   dotnet run -c Release --project perf/Ember.Perf -- --workload all --threads 2 --json out.json
//   --device cpu|cuda|ilgpu-cpu   --workload sgemm|hgemm|bgemm|gelu|mlp|cnn|gpt|conv2d|softmax|layernorm|log_softmax|layernorm_fwd_bwd|cross_entropy|all (comma list); sort, hgemm, bgemm, gelu only when named
//   --sizes 256,512,1024,2048 (sgemm, hgemm, bgemm)  --warmup 3  --repeat 10
//   --sync device|read   (device: wait for the device as PyTorch's torch.cuda.synchronize(); read: copy one element to the host)
//   --small 1   (mlp, cnn, gpt with the same layers at small sizes: counts launches and host reads on ilgpu-cpu quickly)
//   --profile 5 [--profile-top 30] [--launches 1]   (per-op synchronized timing table per workload. ILGPU: with kernel
//               launches per op; --launches 1 adds the ops ordered by launches. CPU: with the time outside the backend;
//               compare --threads 1 and N for the ops that do not scale. --warmup N sets the warm-up steps, default 2)
//   --alloc-sites 30   (the types allocated most per timed step, from the runtime's allocation-tick events)
//   --pool-growth 3   (CpuMemoryPool.GrowthFactor; 0: the plain miss-threshold rule of before)
//   --kernel-rate [1]   (CPU: GFLOP/s per core of the float GEMM micro-kernel in L1 and macro-kernel in L2 at 1, 2, 4, 8
//                        and --threads threads at once: does the kernel itself slow down at many threads?)
//   --gemm-trace [1]   (CPU: per GEMM shape, time packing A / B, in the kernel and waiting, and the split, over the timed steps;
//                     the CPU GEMM switches are environment variables, EMBER_GEMM_*: see perf/README "CPU GEMM trace")
//   --memory-steps 10000 --memory-csv mem.csv   (GPU: allocator curve over mlp_train_step, no Dispose)
using System.Text.Json;
using Ember;
using Ember.Cpu;
using Ember.Perf;

var opts = new Dictionary<string, string>();
if (args.Length > 0 && args[0] == "--bdn")
{
    // BenchmarkDotNet micro benchmarks of single kernels (MemoryDiagnoser: bytes allocated per op).
    BenchmarkDotNet.Running.BenchmarkSwitcher.FromTypes([typeof(KernelBenchmarks)]).Run(args[1..]);
    return 0;
}
for (int i = 0; i < args.Length; i++)
{
    if (args[i] is "--help" or "-h")
    {
        Console.WriteLine("Ember.Perf --device cpu|cuda --workload sgemm,hgemm,bgemm,gelu,mlp,cnn,gpt,conv2d,softmax,layernorm,log_softmax,layernorm_fwd_bwd,cross_entropy,sort|all --threads N --sizes 256,512 --warmup 3 --repeat 10 --json file [--amp bf16|fp16] [--sync device|read] [--inner N: N steps per timed sample, one sync] [--clear-compiler-caches 0: keep ILGPU's compiler IR after warm-up (default: drop it, then a full GC)]");
        Console.WriteLine("Ember.Perf --device cuda --transfer 1K,64K,1M,16M,256M [--repeat 10]   (host<->device bandwidth and a DataLoader-fed step, pinned staging off/on)");
        Console.WriteLine("Ember.Perf --bdn [BenchmarkDotNet options, e.g. --filter *Softmax*]   (kernel micro benchmarks with allocations)");
        return 0;
    }
    // "--name value"; a flag followed by another flag (or by nothing) means "--name 1" (e.g. a bare --gemm-trace).
    if (args[i].StartsWith("--")) opts[args[i][2..]] = i + 1 < args.Length && !args[i + 1].StartsWith("--") ? args[++i] : "1";
}
var device = Device.Parse(opts.GetValueOrDefault("device", "cpu"));
if (device.Type != DeviceType.Cpu) Ember.Ilgpu.IlgpuBackend.Register();
if (opts.TryGetValue("threads", out var th)) CpuThreads.Count = int.Parse(th);
if (opts.TryGetValue("pool-threshold-mb", out var pt)) CpuMemoryPool.CollectThresholdBytes = long.Parse(pt) << 20;
if (opts.TryGetValue("pool-thread-budget-mb", out var pb)) CpuMemoryPool.CollectBudgetPerThreadBytes = long.Parse(pb) << 20;
if (opts.TryGetValue("pool-lent-rule", out var lr)) CpuMemoryPool.CollectOnLentBytes = lr != "0";
if (opts.TryGetValue("pool-growth", out var pg)) CpuMemoryPool.GrowthFactor = double.Parse(pg, System.Globalization.CultureInfo.InvariantCulture);
if (opts.TryGetValue("amp", out var amp))
{
    TrainStepWorkload.Amp = amp switch { "bf16" => DType.BFloat16, "fp16" => DType.Float16, "off" => null, _ => throw new ArgumentException($"--amp: bf16, fp16 or off, not {amp}") };
    Console.WriteLine($"train steps under autocast {TrainStepWorkload.Amp?.ToString() ?? "off"}");
}
// --small 1: mlp, cnn, gpt at small widths and batches (launch and host-read counts on ilgpu-cpu; not for timing).
TrainStepWorkload.Small = opts.GetValueOrDefault("small", "0") == "1";
Workload.SyncByRead = opts.GetValueOrDefault("sync", "device") switch
{
    "device" => false, "read" => true, var v => throw new ArgumentException($"--sync: device or read, not {v}"),
};
int warmup = int.Parse(opts.GetValueOrDefault("warmup", "3"));
// --clear-compiler-caches (default 1 on ILGPU devices since the twelfth session; 0: off): IlgpuContext.Shared.
// ClearCompilerCaches() and a full collection after each warm-up, so the timed steps run in the steady state a long
// training run reaches after its first full collection. Without it, gpt's steps on an H100 took 6-7 ms until the first
// gen-2 collection (a 179 ms step) and 4.0 ms after it (perf/README.md, twelfth session, call26).
bool clearCompilerCaches = opts.GetValueOrDefault("clear-compiler-caches", "1") == "1" && device.Type != DeviceType.Cpu;
int repeat = int.Parse(opts.GetValueOrDefault("repeat", "10"));
// --inner N: each timed sample runs N steps back to back and syncs once (per-step time = sample / N; see Stats.Time).
int inner = int.Parse(opts.GetValueOrDefault("inner", "1"));
var which = opts.GetValueOrDefault("workload", "all").Split(',');
bool All(string w) => which.Contains("all") || which.Contains(w);
var sizes = opts.GetValueOrDefault("sizes", device.Type == DeviceType.Cpu ? "256,512,1024,2048" : "1024,2048,4096,8192")
    .Split(',').Select(int.Parse).ToArray();

Tensor.ManualSeed(0);
if (opts.TryGetValue("memory-steps", out var ms))
{
    MemoryCurve.Run(device, int.Parse(ms), int.Parse(opts.GetValueOrDefault("memory-every", "100")),
        double.Parse(opts.GetValueOrDefault("memory-seconds", "240"), System.Globalization.CultureInfo.InvariantCulture),
        opts.GetValueOrDefault("memory-csv", "memory.csv"));
    return 0;
}
if (opts.TryGetValue("transfer", out var transferSizes))
{
    TransferBench.Run(device, TransferBench.ParseSizes(transferSizes), int.Parse(opts.GetValueOrDefault("repeat", "10")));
    return 0;
}
if (opts.GetValueOrDefault("kernel-rate", "0") == "1")
{
    Console.WriteLine($"float GEMM kernels, GFLOP/s per thread with that many threads running them at once ({GemmBlocking.Describe()}):");
    Console.WriteLine($"{"threads",8} {"micro (L1, MRxNRx128)",22} {"macro (L2, MC x 512 x KC)",26}");
    foreach (int n in new[] { 1, 2, 4, 8, CpuThreads.Count }.Where(n => n <= CpuThreads.Count).Distinct())
    {
        GemmKernelRate.Measure(n, macro: false, 0.05); // warm the JIT and wake the workers
        Console.WriteLine($"{n,8} {GemmKernelRate.Measure(n, macro: false, 0.25),22:F1} {GemmKernelRate.Measure(n, macro: true, 0.25),26:F1}");
    }
    return 0;
}
var workloads = new List<Func<Workload>>();
if (All("sgemm")) foreach (var n in sizes) workloads.Add(() => new SgemmWorkload(n, device));
// The reduced-precision workloads run only when named (not part of "all").
if (which.Contains("hgemm")) foreach (var n in sizes) workloads.Add(() => new SgemmWorkload(n, device, DType.Float16));
if (which.Contains("bgemm")) foreach (var n in sizes) workloads.Add(() => new SgemmWorkload(n, device, DType.BFloat16));
if (which.Contains("gelu")) foreach (var dt in new[] { DType.Float32, DType.Float16, DType.BFloat16 }) workloads.Add(() => new GeluWorkload(device, dt));
if (All("mlp")) workloads.Add(() => new MlpWorkload(device));
if (All("cnn")) workloads.Add(() => new CnnWorkload(device));
if (All("gpt")) workloads.Add(() => new GptWorkload(device));
if (All("conv2d")) workloads.Add(() => new Conv2dWorkload(device));
if (All("softmax")) workloads.Add(() => new SoftmaxWorkload(device));
if (All("layernorm")) workloads.Add(() => new LayerNormWorkload(device));
if (All("log_softmax")) workloads.Add(() => new LogSoftmaxWorkload(device));
if (All("layernorm_fwd_bwd")) workloads.Add(() => new LayerNormBackwardWorkload(device));
if (All("cross_entropy")) workloads.Add(() => new CrossEntropyWorkload(device));
// Not part of "all" (DESIGN.md's table): only when named.
if (which.Contains("sort")) { workloads.Add(() => new SortWorkload(device, host: false)); workloads.Add(() => new SortWorkload(device, host: true)); }

if (opts.TryGetValue("profile", out var profSteps))
{
    // Per-op table (synchronized around every backend call) for each selected workload: the ILGPU backend's profiler
    // on a GPU device, the CPU backend's on the CPU (run at 1 and at N threads, it shows which ops do not scale).
    bool cpu = device.Type == DeviceType.Cpu;
    int top = int.Parse(opts.GetValueOrDefault("profile-top", "30"));
    foreach (var make in workloads)
    {
        if (cpu) CpuProfiler.Enable(); else Ember.Ilgpu.IlgpuProfiler.Enable();
        var w = make();
        int warm = opts.TryGetValue("warmup", out var pw) ? int.Parse(pw) : 2;
        // As for the timed runs below: at least the warm-up steps and at least about a second (2 s on the CPU, where
        // every kernel is managed code), so the JIT's tiered compilation has promoted the kernels before the table
        // starts; CPU tables taken after 6 steps of a fast workload timed tier-0 code, up to 5x slower for some kernels.
        var warmClock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < warm || (warmClock.Elapsed.TotalSeconds < (cpu ? 2.0 : 1.0) && i < 500); i++) { w.Step(); w.Sync(); }
        CpuProfiler.Reset(); Ember.Ilgpu.IlgpuProfiler.Reset();
        int steps = int.Parse(profSteps);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) { w.Step(); w.Sync(); }
        double stepMs = sw.Elapsed.TotalMilliseconds / steps;
        Console.WriteLine($"== profile {w.Name}: {stepMs:F3} ms/step synchronized, threads={CpuThreads.Count}");
        if (cpu)
        {
            Console.Write(CpuProfiler.Report(steps, top));
            Console.WriteLine($"  {"outside the backend (autograd, tensor layer)",-60} {"",10} {"",10} {"",11} {stepMs - CpuProfiler.OuterSeconds / steps * 1e3,9:F3}");
        }
        else
        {
            Console.Write(Ember.Ilgpu.IlgpuProfiler.Report(steps, top));
            if (opts.GetValueOrDefault("launches", "0") == "1")
            {
                Console.WriteLine($"== launches {w.Name} (per op, most first)");
                Console.Write(Ember.Ilgpu.IlgpuProfiler.LaunchReport(steps, top));
            }
        }
        CpuProfiler.Disable(); Ember.Ilgpu.IlgpuProfiler.Disable();
        CpuProfiler.Reset(); Ember.Ilgpu.IlgpuProfiler.Reset();
    }
    return 0;
}
var results = new List<Dictionary<string, object>>();
// --alloc-sites N: the N types that allocate most per timed step (GCAllocationTick samples; see AllocSites).
using var allocSites = opts.ContainsKey("alloc-sites") ? new AllocSites() : null;
bool gemmTrace = opts.GetValueOrDefault("gemm-trace", "0") == "1";
Console.WriteLine($"Ember.Perf device={device} threads={CpuThreads.Count} warmup={warmup} repeat={repeat} inner={inner}" +
    (device.Type == DeviceType.Cpu ? $" cpu-gemm={GemmBlocking.Describe()}" : ""));
Console.WriteLine($"{"workload",-18} {"median ms",10} {"min ms",9} {"max ms",9} {"GFLOP/s",9} {"alloc KB/step",14} {"GC ms/step",11} {"gen2/step",10} {"pool hit %",10} {"forced GC/step",14} {"launches/step",13} {"host reads/step",15}");
foreach (var make in workloads)
{
    var w = make();
    long alloc0 = 0;
    // Warm-up: at least --warmup steps and at least about a second, so the JIT's tiered compilation has promoted the
    // kernels to optimized code before timing (PyTorch's kernels are native from the first call).
    var warm = System.Diagnostics.Stopwatch.StartNew();
    for (int i = 0; i < warmup || (warm.Elapsed.TotalSeconds < 1.0 && i < 500); i++) { w.Step(); w.Sync(); }
    if (clearCompilerCaches)
    {
        // What README advises a long-running program: drop ILGPU's compiler IR once its kernels are warm, so later
        // gen-2 collections do not mark it; one full collection here, before the timed steps.
        Ember.Ilgpu.IlgpuContext.Shared.ClearCompilerCaches();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
    double[] times;
    alloc0 = GC.GetTotalAllocatedBytes(true);
    var pause0 = GC.GetTotalPauseDuration(); int gen2 = GC.CollectionCount(2);
    long hits0 = CpuMemoryPool.Hits, misses0 = CpuMemoryPool.Misses, forced0 = ForcedCollections();
    long launches0 = Ember.Ilgpu.IlgpuProfiler.Launches, reads0 = Ember.Ilgpu.IlgpuBackend.HostReads;
    if (allocSites is not null) { allocSites.Reset(); allocSites.Counting = true; }
    if (gemmTrace) { GemmTrace.Reset(); GemmTrace.Enabled = true; }
    times = Stats.Time(w.Step, w.Sync, 0, repeat, inner);
    GemmTrace.Enabled = false;
    int steps = repeat * inner;
    if (allocSites is not null) allocSites.Counting = false;
    // Kernel launches of the ILGPU backend per step (0 on the CPU backend), the Sync's host read included.
    double launchesPerStep = (Ember.Ilgpu.IlgpuProfiler.Launches - launches0) / (double)steps;
    // Device → host reads per step (each one a full wait for the device inside the step; with --sync read, the Sync's too).
    double readsPerStep = (Ember.Ilgpu.IlgpuBackend.HostReads - reads0) / (double)steps;
    double allocKb = (GC.GetTotalAllocatedBytes(true) - alloc0) / 1024.0 / steps;
    double gcMs = (GC.GetTotalPauseDuration() - pause0).TotalMilliseconds / steps;
    double gen2PerStep = (GC.CollectionCount(2) - gen2) / (double)steps;
    long rents = CpuMemoryPool.Hits - hits0 + CpuMemoryPool.Misses - misses0;
    double hitPct = rents > 0 ? 100.0 * (CpuMemoryPool.Hits - hits0) / rents : 0;
    double forcedPerStep = (ForcedCollections() - forced0) / (double)steps;
    double med = Stats.Median(times);
    var (mn, mx) = Stats.Spread(times);
    double gf = w.Flops > 0 ? w.Flops / med / 1e9 : 0;
    Console.WriteLine($"{w.Name,-18} {med * 1e3,10:F3} {mn * 1e3,9:F3} {mx * 1e3,9:F3} {(gf > 0 ? gf.ToString("F1") : "-"),9} {allocKb,14:F1} {gcMs,11:F1} {gen2PerStep,10:F1} {hitPct,10:F1} {forcedPerStep,14:F2} {launchesPerStep,13:F1} {readsPerStep,15:F1}");
    if (allocSites is not null) Console.Write(allocSites.Report(steps, int.Parse(opts["alloc-sites"])));
    if (gemmTrace) Console.Write(GemmTrace.Report(steps));
    if (opts.ContainsKey("pool-stats"))
        Console.WriteLine($"  pool: cached {CpuMemoryPool.CachedBytes >> 20} MiB, lent {CpuMemoryPool.LentBytes >> 20} MiB, hits {CpuMemoryPool.Hits}, misses {CpuMemoryPool.Misses}, forced {CpuMemoryPool.ForcedCollections}; GCs gen0/1/2 {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}; steps ms: {string.Join(" ", times.Select(t => (t * 1e3).ToString(t < 0.1 ? "F2" : "F0")))}");
    results.Add(new() { ["workload"] = w.Name, ["median_s"] = med, ["min_s"] = mn, ["max_s"] = mx, ["gflops"] = gf, ["alloc_kb_per_step"] = allocKb, ["gc_pause_ms_per_step"] = gcMs, ["gen2_per_step"] = gen2PerStep, ["pool_hit_pct"] = hitPct, ["pool_forced_gc_per_step"] = forcedPerStep, ["launches_per_step"] = launchesPerStep, ["host_reads_per_step"] = readsPerStep });
}
// Collections forced by the CPU pool and, on an ILGPU device, by its caching allocator (each a blocking collection).
long ForcedCollections() => CpuMemoryPool.ForcedCollections
    + (device.Type == DeviceType.Cpu ? 0 : Ember.Ilgpu.IlgpuBackend.Open(device).Allocator.ForcedCollections);
if (opts.TryGetValue("json", out var path))
    File.WriteAllText(path, JsonSerializer.Serialize(new { device = device.ToString(), threads = CpuThreads.Count, results }, new JsonSerializerOptions { WriteIndented = true }));
return 0;
