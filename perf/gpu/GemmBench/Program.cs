// GemmBench: times Ember's ILGPU SGEMM on a GPU and checks it against a sampled float64 reference.
//
//   dotnet GemmBench.dll [--device cuda:0] [--sizes 1024,2048,4096,8192] [--reps 10] [--no-trans]
//   dotnet GemmBench.dll --ptx DIR      (writes the tiled kernels' PTX for sm_90; needs no GPU)
//
// Each sample launches the kernel `inner` times back to back and synchronizes once (inner chosen so a
// sample lasts >= ~20 ms); the time per GEMM is the median over --reps samples after a warm-up.
// Lines starting with "RESULT" are read by perf/gpu/gemm_torch.py to print ratios against cuBLAS.
using System.Diagnostics;
using System.Globalization;
using Ember;
using Ember.Ilgpu;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
string deviceName = "cuda:0";
int[] sizes = [1024, 2048, 4096, 8192];
int reps = 10;
bool trans = true;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--ptx": DumpPtx(args[++i]); return 0;
        case "--device": deviceName = args[++i]; break;
        case "--sizes": sizes = args[++i].Split(',').Select(int.Parse).ToArray(); break;
        case "--reps": reps = int.Parse(args[++i]); break;
        case "--no-trans": trans = false; break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}

var ctx = IlgpuContext.Shared;
Console.WriteLine("devices: " + string.Join("; ", ctx.Devices));
var device = ctx.Get(Ember.Device.Parse(deviceName));
Console.WriteLine($"using {device.Device}: {device.Accelerator.Name}, {device.Accelerator.NumMultiprocessors} SMs");
if (device.Accelerator is CudaAccelerator cuda)
    Console.WriteLine($"cuda: arch {cuda.Architecture}, ISA {cuda.InstructionSet}, driver {cuda.DriverVersion}");

int failures = 0;
foreach (int n in sizes)
{
    failures += Run(device, n, n, n, false, false, reps) ? 0 : 1;
}
if (trans)
{
    int n = sizes.Contains(4096) ? 4096 : sizes[^1];
    failures += Run(device, n, n, n, false, true, reps) ? 0 : 1;
    failures += Run(device, n, n, n, true, false, reps) ? 0 : 1;
    failures += Run(device, n, n, n, true, true, reps) ? 0 : 1;
    failures += Run(device, 4000, 4000, 4000, false, false, reps) ? 0 : 1;   // edge tiles, scalar loads
}
Console.WriteLine($"allocator: reserved {device.Allocator.MemoryReserved >> 20} MiB, peak allocated {device.Allocator.MaxMemoryAllocated >> 20} MiB, driver allocations {device.Allocator.DriverAllocations}");
Console.WriteLine(failures == 0 ? "all results checked OK" : $"{failures} CHECK FAILURES");
return failures == 0 ? 0 : 1;

static bool Run(IlgpuDevice device, int m, int n, int k, bool ta, bool tb, int reps)
{
    var alloc = device.Allocator;
    using var ab = alloc.Allocate(4L * m * k);
    using var bb = alloc.Allocate(4L * k * n);
    using var cb = alloc.Allocate(4L * m * n);
    var a = ab.View<float>(); var b = bb.View<float>(); var c = cb.View<float>();
    PhiloxKernels.FillUniform(device, a, 1234, 0, -1f, 1f);
    PhiloxKernels.FillUniform(device, b, 1234, 1UL << 40, -1f, 1f);
    int lda = ta ? m : k, ldb = tb ? k : n;
    void Launch() => IlgpuGemm.Sgemm(device, ta, tb, m, n, k, 1f, a, lda, 0, b, ldb, 0, 0f, c, n, 0, 1, GemmAlgorithm.Tiled);

    Launch(); device.Synchronize();                               // compile + warm up
    var sw = Stopwatch.StartNew(); Launch(); device.Synchronize();
    double once = sw.Elapsed.TotalMilliseconds;
    int inner = Math.Max(1, (int)Math.Ceiling(20.0 / Math.Max(once, 1e-3)));
    for (int i = 0; i < inner; i++) Launch();
    device.Synchronize();
    var times = new double[reps];
    for (int r = 0; r < reps; r++)
    {
        sw.Restart();
        for (int i = 0; i < inner; i++) Launch();
        device.Synchronize();
        times[r] = sw.Elapsed.TotalMilliseconds / inner;
    }
    Array.Sort(times);
    double ms = times[reps / 2];
    double gflops = 2.0 * m * n * k / (ms * 1e-3) / 1e9;

    // Check 256 sampled entries against a float64 dot product.
    var ha = new float[(long)m * k]; var hb = new float[(long)k * n]; var hc = new float[(long)m * n];
    // ILGPU's CopyToCPU(ref T) wants pinned memory (a compacting GC between its taking the address and copying would
    // move the arrays), so the copies run with the arrays fixed.
    unsafe
    {
        fixed (float* pa = ha, pb = hb, pc = hc)
        {
            a.CopyToCPU(ref *pa, ha.Length); b.CopyToCPU(ref *pb, hb.Length); c.CopyToCPU(ref *pc, hc.Length);
        }
    }
    var rng = new System.Random(7);
    double worst = 0;
    for (int s = 0; s < 256; s++)
    {
        int i = s == 0 ? m - 1 : rng.Next(m), j = s == 0 ? n - 1 : rng.Next(n);
        double dot = 0, mag = 0;
        for (int q = 0; q < k; q++)
        {
            double av = ta ? ha[(long)q * lda + i] : ha[(long)i * lda + q];
            double bv = tb ? hb[(long)j * ldb + q] : hb[(long)q * ldb + j];
            dot += av * bv; mag += Math.Abs(av * bv);
        }
        worst = Math.Max(worst, Math.Abs(hc[(long)i * n + j] - dot) / (mag + 1e-30));
    }
    bool ok = worst < 1e-5;
    string tag = $"{(ta ? 'T' : 'N')}{(tb ? 'T' : 'N')}";
    Console.WriteLine($"sgemm {m}x{n}x{k} {tag}: median {ms:F3} ms over {reps} samples x {inner}, {gflops:F0} GFLOP/s, " +
                      $"max err/sum|ab| {worst:E1} {(ok ? "OK" : "FAIL")}");
    if (m == n && n == k && !ta && !tb) Console.WriteLine($"RESULT sgemm {n} {gflops:F1}");
    else Console.WriteLine($"RESULT sgemm_{tag}_{m} {gflops:F1}");
    return ok;
}

static void DumpPtx(string dir)
{
    Directory.CreateDirectory(dir);
    using var context = Context.Create(b => b.Default().EnableAlgorithms().Optimize(OptimizationLevel.O2));
    var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90),
        CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null);
    void One(string name, Action<GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>> kernel)
    {
        var compiled = (PTXCompiledKernel)backend.Compile(
            EntryPointDescription.FromExplicitlyGroupedKernel(kernel.Method), new KernelSpecialization());
        File.WriteAllText(Path.Combine(dir, name + ".ptx"), compiled.PTXAssembly);
        Console.WriteLine($"{name}: {compiled.PTXAssembly.Length} chars");
    }
    One("tiled_nn", GemmKernels.Tiled<KMajorVecLayout, RMajorVecLayout>);
    One("tiled_nn_scalar", GemmKernels.Tiled<KMajorLayout, RMajorLayout>);
    One("tiled_nt", GemmKernels.Tiled<KMajorVecLayout, KMajorVecLayout>);
    One("tiled_tn", GemmKernels.Tiled<RMajorVecLayout, RMajorVecLayout>);
    One("tiled_tt", GemmKernels.Tiled<RMajorVecLayout, KMajorVecLayout>);
}
