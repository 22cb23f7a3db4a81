// GemmBench: times Ember's ILGPU GEMM kernels on a GPU and checks each against a sampled float64 reference.
//
//   dotnet GemmBench.dll [--device cuda:0] [--sizes 1024,2048,4096,8192] [--reps 10] [--no-trans|--trans]
//                        [--variants simt,simt16,simt16a,splitk,tf32,f16,bf16,tf32-pipe,f16-pipe,bf16-pipe,f16-pipe-ld,...]
//                        [--shapes MxNxK,...] [--skinny] [--keep-layout] [--no-splitk] [--ldmatrix|--no-ldmatrix] [--pipeline|--no-pipeline]
//   dotnet GemmBench.dll --ptx DIR [FILTER]   (writes the kernels' PTX for sm_90; needs no GPU; FILTER: comma-separated
//                                              substrings of the kernel names to write, e.g. b256k32e,w64_tr)
//
// Variants: simt = the fp32 register-tiled kernel (GemmAlgorithm.Tiled); simt16 = the same with 16 of K per shared
// stage (GemmAlgorithm.TiledK16); simt16a = that with cp.async stages (GemmAlgorithm.TiledK16Async); splitk = the same with K forced into slabs
// (GemmAlgorithm.SplitK; meant for skinny shapes, --skinny adds 256x256xK cases); tf32/f16/bf16 = the tensor-core
// kernels (IlgpuMmaGemm; native mma.sync only on CUDA with compute capability >= 8.0, else a slow emulation).
// Tensor-core variants pack operands that are not K-contiguous into a K-major scratch copy first and split K for
// skinny shapes; --keep-layout reads such operands in place (the kernel before packing), --no-splitk never splits,
// --ldmatrix reads the fragments with ldmatrix.x4 (the default on CUDA; --no-ldmatrix for 32-bit shared loads), --pipeline runs the cp.async
// 3-stage main loop (experimental, MmaGemmOptions.Pipeline) for every tensor-core variant; a variant named with
// "-pipe" (f16-pipe, ...) runs it for that variant only, so old and new loops are timed in one run; "-ld" after a
// tensor-core variant adds --ldmatrix for it (f16-ld, f16-pipe-ld); "-w64" runs the cp.async loop with 4 warps of 64x64
// (MmaGemmOptions.WarpTile64: 128 threads, always ldmatrix) for that variant (f16-w64, bf16-w64, tf32-w64); it is the
// default on CUDA since the fifth session, so "-pipe" now names the 64x32-warp cp.async loop explicitly. "-s4" and
// "-k32" run the 64x64 kernel with its stages in dynamic shared memory above 48 KB (MmaGemmOptions.Staging): 4 stages
// of 16 words (64 KB; f16-s4, bf16-s4, tf32-s4) or 3 stages of 32 words (96 KB; f16-k32, bf16-k32, tf32-k32).
// "-b256" runs the 128x256 block of 8 warps of 64x64 (MmaStaging.WideBlock: 256 threads, one block per SM) with 4
// stages of 16 words (96 KB; f16-b256, bf16-b256, tf32-b256); "-b256s3" with 3 stages of 16 words (72 KB),
// "-b256k32" with 3 stages of 32 words (144 KB); "-b256g" is "-b256" with C's tiles visited in groups of 8 block rows
// (MmaGemmOptions.GroupedBlocks: L2 reuse at 8192). A trailing "e" on a -b256, -s4 or -k32 variant adds the early-barrier
// K loop (MmaGemmOptions.EarlyBarrier: slab s+1 published before slab s's last K step): f16-b256e, bf16-b256ge, f16-s4e.
// "-tr" (f16-tr, bf16-tr; last, after the others: f16-b256k32e-tr) reads an M-major A / N-major B in place instead of
// packing it (MmaGemmOptions.TransposedOperands: cp.async along M/N, ldmatrix.trans; 16-bit only; of the dynamic-shared
// kernels only -b256k32e does, the others still pack); "-pack" packs them (TransposedOperands = false, whatever
// EMBER_MMA_TRANSPOSED says); a plain f16/bf16 runs what the library does by default (in place, and the 128x256 kernel at
// M, N >= 4096: MmaGemmOptions.WideForLarge). Until the twelfth session the plain 16-bit variants packed. TF32 variants
// take a last "-frag", "-fcvt", "-staged" or "-pk" (rounded by the packing kernel) for where the operands are rounded (MmaGemmOptions.Tf32Rounding). "-wg" (tf32-wg,
// f16-wg, bf16-wg) runs the warpgroup wgmma kernel (MmaGemmOptions.Wgmma, sm_90): blocks by size, "-wg256" 128x256,
// "-wg256g" 128x256 with grouped tiles, "-wg128" 128x128 (a plain variant runs it where the library does: sm_90, M and N
// >= 4096); "-mma" keeps the mma.sync kernels (Wgmma = false). --trans times NT, TN and TT at every size of --sizes (without it: at 4096 or the last size).
// Each sample launches the kernel `inner` times back to back and synchronizes once (inner chosen so a sample lasts
// >= ~20 ms); the time per GEMM is the median over --reps samples after a warm-up. Every result is checked on 256
// sampled entries (error relative to sum |a*b|; limits: 1e-5 fp32, 1e-3 tf32/f16 incl. output rounding, 8e-3 bf16).
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
bool trans = true, skinny = false, transEvery = false;
(int M, int N, int K)[] shapes = [];
var mma = new MmaGemmOptions();
string[] variants = ["simt", "tf32", "f16", "bf16"];
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--ptx": DumpPtx(args[++i], i + 1 < args.Length ? args[++i].Split(',') : []); return 0;
        case "--device": deviceName = args[++i]; break;
        case "--sizes": sizes = args[++i].Split(',').Select(int.Parse).ToArray(); break;
        case "--reps": reps = int.Parse(args[++i]); break;
        case "--no-trans": trans = false; break;
        case "--trans": trans = true; transEvery = true; break;
        case "--skinny": skinny = true; break;
        case "--shapes":   // MxNxK list, each timed with all four transposes (NN, NT, TN, TT)
            shapes = args[++i].Split(',').Select(t => t.Split('x').Select(int.Parse).ToArray()).Select(d => (d[0], d[1], d[2])).ToArray();
            break;
        case "--keep-layout": mma = mma with { KeepLayout = true }; break;
        case "--no-splitk": mma = mma with { SplitK = 1 }; break;
        case "--tf32-truncate": mma = mma with { Tf32Truncate = true }; break;
        case "--ldmatrix": mma = mma with { LdMatrix = true }; break;
        case "--no-ldmatrix": mma = mma with { LdMatrix = false }; break;
        case "--pipeline": mma = mma with { Pipeline = true }; break;
        case "--no-pipeline": mma = mma with { Pipeline = false }; break;
        case "--check": break;   // results are always checked; accepted for readability of the command line
        case "--variants": variants = args[++i].Split(','); break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}
foreach (var v in variants)
{
    string bare = v;   // the last suffixes ("-frag"/"-fcvt"/"-staged"/"-pk", then "-tr"/"-pack") stripped first, as Run does
    foreach (var last in new[] { "-frag", "-fcvt", "-staged", "-pk", "-tr", "-pack" })
        if (bare.EndsWith(last, StringComparison.Ordinal)) bare = bare[..^last.Length];
    string kind = (Early(bare) ? bare[..^1] : bare).Replace("-mma", "").Replace("-wg256g", "").Replace("-wg256", "").Replace("-wg128", "").Replace("-wg", "").Replace("-b256k32", "").Replace("-ld", "").Replace("-pipe", "").Replace("-w64", "").Replace("-s4", "").Replace("-k32", "").Replace("-b256s3", "").Replace("-b256g", "").Replace("-b256", "");   // the suffixes apply to tensor-core variants only
    if (kind is not ("simt" or "simt16" or "simt16a" or "splitk" or "tf32" or "f16" or "bf16") || (kind != v && kind is "simt" or "simt16" or "simt16a" or "splitk")) { Console.Error.WriteLine($"unknown variant {v}"); return 2; }
}

var ctx = IlgpuContext.Shared;
Console.WriteLine("devices: " + string.Join("; ", ctx.Devices));
var device = ctx.Get(Ember.Device.Parse(deviceName));
Console.WriteLine($"using {device.Device}: {device.Accelerator.Name}, {device.Accelerator.NumMultiprocessors} SMs");
if (device.Accelerator is CudaAccelerator cuda)
{
    Console.WriteLine($"cuda: arch {cuda.Architecture}, ISA {cuda.InstructionSet}, driver {cuda.DriverVersion}");
    // Variants -s4 / -k32 / -b256 / -b256k32 need 64 / 96 / 96 / 144 KB of dynamic shared memory per block; below that they run the 48 KB kernel.
    Console.WriteLine($"shared memory per block with opt-in: {DynamicSharedMemory.MaxBytesPerBlock(cuda)} bytes");
}
Console.WriteLine($"tensor-core mma natively: {IlgpuMmaGemm.IsSupported(device)}; options: {mma}");

int failures = 0;
foreach (string v in variants)
{
    foreach (int n in sizes)
    {
        failures += Run(device, mma, v, n, n, n, false, false, reps) ? 0 : 1;
        if (transEvery)
        {
            failures += Run(device, mma, v, n, n, n, false, true, reps) ? 0 : 1;
            failures += Run(device, mma, v, n, n, n, true, false, reps) ? 0 : 1;
            failures += Run(device, mma, v, n, n, n, true, true, reps) ? 0 : 1;
        }
    }
    if (trans)
    {
        int n = sizes.Contains(4096) ? 4096 : sizes[^1];
        if (!transEvery)
        {
            failures += Run(device, mma, v, n, n, n, false, true, reps) ? 0 : 1;
            failures += Run(device, mma, v, n, n, n, true, false, reps) ? 0 : 1;
            failures += Run(device, mma, v, n, n, n, true, true, reps) ? 0 : 1;
        }
        failures += Run(device, mma, v, 4000, 4000, 4000, false, false, reps) ? 0 : 1;   // edge tiles, scalar loads
    }
    foreach (var (sm, sn, sk) in shapes)
        foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
            failures += Run(device, mma, v, sm, sn, sk, ta, tb, reps) ? 0 : 1;
    if (skinny)
        foreach (int k in new[] { 8192, 32768 })
            failures += Run(device, mma, v, 256, 256, k, false, false, reps) ? 0 : 1;
}
Console.WriteLine($"allocator: reserved {device.Allocator.MemoryReserved >> 20} MiB, peak allocated {device.Allocator.MaxMemoryAllocated >> 20} MiB, driver allocations {device.Allocator.DriverAllocations}");
Console.WriteLine(failures == 0 ? "all results checked OK" : $"{failures} CHECK FAILURES");
return failures == 0 ? 0 : 1;

static bool Run(IlgpuDevice device, MmaGemmOptions mma, string variant, int m, int n, int k, bool ta, bool tb, int reps)
{
    // "-pipe" / "-ld": the same product through the cp.async loop / ldmatrix, reported under its own name.
    string label = variant == "simt" ? "sgemm" : variant;
    // TF32 rounding (last in the name): "-frag" in registers (MmaTf32Rounding.Fragments), "-fcvt" with cvt.rn.tf32,
    // "-staged" in shared memory; without one, the library's choice.
    foreach (var (suffix, rounding) in new[] { ("-frag", MmaTf32Rounding.Fragments), ("-fcvt", MmaTf32Rounding.FragmentsConvert), ("-staged", MmaTf32Rounding.Staged), ("-pk", MmaTf32Rounding.Packed) })
        if (variant.EndsWith(suffix, StringComparison.Ordinal)) { mma = mma with { Tf32Rounding = rounding }; variant = variant[..^suffix.Length]; }
    // "-tr": 16-bit operands read in place M/N-major; "-pack": packed K-major first; neither: the library's default.
    bool? inPlace = variant.EndsWith("-tr", StringComparison.Ordinal) ? true : variant.EndsWith("-pack", StringComparison.Ordinal) ? false : null;
    mma = mma with { TransposedOperands = inPlace };
    if (inPlace == true) variant = variant[..^3];
    if (inPlace == false) variant = variant[..^5];
    if (Early(variant)) { mma = mma with { EarlyBarrier = true }; variant = variant[..^1]; }
    // The warpgroup (wgmma) kernel: "-wg" blocks by size, "-wg256" 128x256, "-wg256g" with grouped tiles, "-wg128" 128x128.
    if (variant.EndsWith("-mma", StringComparison.Ordinal)) { mma = mma with { Wgmma = false }; variant = variant[..^4]; }
    if (variant.EndsWith("-wg256g", StringComparison.Ordinal)) { mma = mma with { Wgmma = true, Staging = MmaStaging.WideBlock, GroupedBlocks = true }; variant = variant[..^7]; }
    if (variant.EndsWith("-wg256", StringComparison.Ordinal)) { mma = mma with { Wgmma = true, Staging = MmaStaging.WideBlock }; variant = variant[..^6]; }
    if (variant.EndsWith("-wg128", StringComparison.Ordinal)) { mma = mma with { Wgmma = true, Staging = MmaStaging.DeepSlabs }; variant = variant[..^6]; }
    if (variant.EndsWith("-wg", StringComparison.Ordinal)) { mma = mma with { Wgmma = true }; variant = variant[..^3]; }
    if (variant.EndsWith("-ld", StringComparison.Ordinal)) { mma = mma with { LdMatrix = true }; variant = variant[..^3]; }
    if (variant.EndsWith("-pipe", StringComparison.Ordinal)) { mma = mma with { Pipeline = true, WarpTile64 = false }; variant = variant[..^5]; }
    if (variant.EndsWith("-w64", StringComparison.Ordinal)) { mma = mma with { Pipeline = true, WarpTile64 = true }; variant = variant[..^4]; }
    if (variant.EndsWith("-s4", StringComparison.Ordinal)) { mma = mma with { Pipeline = true, WarpTile64 = true, Staging = MmaStaging.FourStages }; variant = variant[..^3]; }
    if (variant.EndsWith("-b256k32", StringComparison.Ordinal)) { mma = mma with { Pipeline = true, WarpTile64 = true, Staging = MmaStaging.WideBlockDeepSlabs }; variant = variant[..^8]; }
    if (variant.EndsWith("-k32", StringComparison.Ordinal)) { mma = mma with { Pipeline = true, WarpTile64 = true, Staging = MmaStaging.DeepSlabs }; variant = variant[..^4]; }
    if (variant.EndsWith("-b256s3", StringComparison.Ordinal)) { mma = mma with { Pipeline = true, WarpTile64 = true, Staging = MmaStaging.WideBlockThreeStages }; variant = variant[..^7]; }
    if (variant.EndsWith("-b256g", StringComparison.Ordinal)) { mma = mma with { Pipeline = true, WarpTile64 = true, Staging = MmaStaging.WideBlock, GroupedBlocks = true }; variant = variant[..^6]; }
    if (variant.EndsWith("-b256", StringComparison.Ordinal)) { mma = mma with { Pipeline = true, WarpTile64 = true, Staging = MmaStaging.WideBlock }; variant = variant[..^5]; }
    var alloc = device.Allocator;
    bool half = variant is "f16" or "bf16";
    int es = half ? 2 : 4;
    using var ab = alloc.Allocate((long)es * m * k);
    using var bb = alloc.Allocate((long)es * k * n);
    using var cb = alloc.Allocate((long)es * m * n);
    var ha = Uniform((long)m * k, 1234); var hb = Uniform((long)k * n, 4321);
    var prec = variant == "f16" ? MmaPrecision.Float16 : MmaPrecision.BFloat16;
    if (half)
    {
        // 16-bit operands: the reference uses exactly the values the kernel reads.
        Upload(ab.View<ushort>(), To16(ha, prec)); Upload(bb.View<ushort>(), To16(hb, prec));
    }
    else { Upload(ab.View<float>(), ha); Upload(bb.View<float>(), hb); }
    int lda = ta ? m : k, ldb = tb ? k : n;
    void Launch()
    {
        switch (variant)
        {
            case "simt": IlgpuGemm.Sgemm(device, ta, tb, m, n, k, 1f, ab.View<float>(), lda, 0, bb.View<float>(), ldb, 0, 0f, cb.View<float>(), n, 0, 1, GemmAlgorithm.Tiled); break;
            case "simt16": IlgpuGemm.Sgemm(device, ta, tb, m, n, k, 1f, ab.View<float>(), lda, 0, bb.View<float>(), ldb, 0, 0f, cb.View<float>(), n, 0, 1, GemmAlgorithm.TiledK16); break;
            case "simt16a": IlgpuGemm.Sgemm(device, ta, tb, m, n, k, 1f, ab.View<float>(), lda, 0, bb.View<float>(), ldb, 0, 0f, cb.View<float>(), n, 0, 1, GemmAlgorithm.TiledK16Async); break;
            case "splitk": IlgpuGemm.Sgemm(device, ta, tb, m, n, k, 1f, ab.View<float>(), lda, 0, bb.View<float>(), ldb, 0, 0f, cb.View<float>(), n, 0, 1, GemmAlgorithm.SplitK); break;
            case "tf32": IlgpuMmaGemm.Tf32(device, ta, tb, m, n, k, 1f, ab.View<float>(), lda, 0, bb.View<float>(), ldb, 0, 0f, cb.View<float>(), n, 0, 1, mma); break;
            default: IlgpuMmaGemm.Gemm16(device, prec, ta, tb, m, n, k, 1f, ab.View<ushort>(), lda, 0, bb.View<ushort>(), ldb, 0, 0f, cb.View<ushort>(), n, 0, 1, mma); break;
        }
    }

    var sw = Stopwatch.StartNew();
    Launch(); device.Synchronize();                               // compile + warm up
    double compile = sw.Elapsed.TotalMilliseconds;
    sw.Restart(); Launch(); device.Synchronize();
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

    // Check 256 sampled entries against a float64 dot product of the operands as stored (16-bit values for f16/bf16).
    double[] hc = half ? From16(Download(cb.View<ushort>()), prec) : Download(cb.View<float>()).Select(x => (double)x).ToArray();
    double[] da = half ? From16(To16(ha, prec), prec) : ha.Select(x => (double)x).ToArray();
    double[] db = half ? From16(To16(hb, prec), prec) : hb.Select(x => (double)x).ToArray();
    var rng = new System.Random(7);
    double worst = 0;
    for (int s = 0; s < 256; s++)
    {
        int i = s == 0 ? m - 1 : rng.Next(m), j = s == 0 ? n - 1 : rng.Next(n);
        double dot = 0, mag = 0;
        for (int q = 0; q < k; q++)
        {
            double av = ta ? da[(long)q * lda + i] : da[(long)i * lda + q];
            double bv = tb ? db[(long)j * ldb + q] : db[(long)q * ldb + j];
            dot += av * bv; mag += Math.Abs(av * bv);
        }
        worst = Math.Max(worst, Math.Abs(hc[(long)i * n + j] - dot) / (mag + 1e-30));
    }
    double limit = variant switch { "simt" or "simt16" or "simt16a" or "splitk" => 1e-5, "bf16" => 8e-3, _ => 1e-3 };
    bool ok = worst < limit;
    string tag = $"{(ta ? 'T' : 'N')}{(tb ? 'T' : 'N')}";
    string name = label;
    Console.WriteLine($"{name} {m}x{n}x{k} {tag}: median {ms:F3} ms over {reps} samples x {inner}, {gflops:F0} GFLOP/s, " +
                      $"max err/sum|ab| {worst:E1} (limit {limit:E0}) {(ok ? "OK" : "FAIL")}, first call {compile:F0} ms");
    if (m == n && n == k && !ta && !tb) Console.WriteLine($"RESULT {name} {n} {gflops:F1}");
    else Console.WriteLine($"RESULT {name}_{tag}_{m}x{n}x{k} {gflops:F1}");
    return ok;
}

// A trailing "e" on a dynamic-shared variant (-b256..., -s4, -k32): the early-barrier K loop.
static bool Early(string v) => v.EndsWith('e') && (v.Contains("-b256", StringComparison.Ordinal) || v.EndsWith("-s4e", StringComparison.Ordinal) || v.EndsWith("-k32e", StringComparison.Ordinal));

static ushort[] To16(float[] x, MmaPrecision p)
{
    var r = new ushort[x.Length];
    for (long i = 0; i < x.Length; i++)
        r[i] = p == MmaPrecision.Float16 ? BitConverter.HalfToUInt16Bits((System.Half)x[i]) : BFloat16Bits(x[i]);
    return r;
}

static ushort BFloat16Bits(float f)
{
    uint b = BitConverter.SingleToUInt32Bits(f);
    return (ushort)((b + 0x7FFFu + ((b >> 16) & 1u)) >> 16);   // round to nearest even (inputs are finite)
}

static double[] From16(ushort[] x, MmaPrecision p) =>
    x.Select(h => p == MmaPrecision.Float16 ? (double)BitConverter.UInt16BitsToHalf(h) : BitConverter.UInt32BitsToSingle((uint)h << 16)).ToArray();

static unsafe T[] Download<T>(ArrayView<T> view) where T : unmanaged
{
    // ILGPU's CopyToCPU(ref T) wants pinned memory (a compacting GC between its taking the address and copying would
    // move the array), so the copy runs with the array fixed.
    var host = new T[view.Length];
    fixed (T* p = host) view.CopyToCPU(ref *p, host.Length);
    return host;
}

static void DumpPtx(string dir, string[] only)
{
    Directory.CreateDirectory(dir);
    using var context = Context.Create(b => b.Default().EnableAlgorithms().Optimize(OptimizationLevel.O2));
    var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90),
        CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null);
    // Compiles one kernel (any signature) and writes its PTX as NAME.ptx.
    string Write(string name, Delegate kernel)
    {
        if (only.Length > 0 && !only.Any(name.Contains)) return "";
        var compiled = (PTXCompiledKernel)backend.Compile(
            EntryPointDescription.FromExplicitlyGroupedKernel(kernel.Method), new KernelSpecialization());
        File.WriteAllText(Path.Combine(dir, name + ".ptx"), compiled.PTXAssembly);
        return compiled.PTXAssembly;
    }
    void One(string name, Action<GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>> kernel) =>
        Console.WriteLine($"{name}: {Write(name, kernel).Length} chars");
    One("tiled_nn", GemmKernels.Tiled<KMajorVecLayout, RMajorVecLayout>);
    One("tiled_nn_scalar", GemmKernels.Tiled<KMajorLayout, RMajorLayout>);
    One("tiled_nt", GemmKernels.Tiled<KMajorVecLayout, KMajorVecLayout>);
    One("tiled_tn", GemmKernels.Tiled<RMajorVecLayout, RMajorVecLayout>);
    One("tiled_tt", GemmKernels.Tiled<RMajorVecLayout, KMajorVecLayout>);
    One("tiled16_nn", GemmKernels.Tiled16<KMajorVecLayout, RMajorVecLayout>);
    One("tiled16_nn_scalar", GemmKernels.Tiled16<KMajorLayout, RMajorLayout>);
    One("tiled16_nt", GemmKernels.Tiled16<KMajorVecLayout, KMajorVecLayout>);
    One("tiled16_tn", GemmKernels.Tiled16<RMajorVecLayout, RMajorVecLayout>);
    One("tiled16_tt", GemmKernels.Tiled16<RMajorVecLayout, KMajorVecLayout>);
    void Bias(string name, Action<GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> kernel) =>
        Console.WriteLine($"{name}: {Write(name, kernel).Length} chars");
    // Linear's forward with bias: x [m, in] · weightᵀ is the NT layout.
    Bias("tiled_nt_bias", GemmKernels.TiledBias<KMajorVecLayout, KMajorVecLayout>);
    Bias("tiled16_nt_bias", GemmKernels.Tiled16Bias<KMajorVecLayout, KMajorVecLayout>);
    void Async(string name, Action<GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>> kernel)
    {
        string ptx = Write(name, kernel);
        if (ptx.Length == 0) return;   // not in the filter
        // What CUDA loads (IlgpuGemm: depots promoted to registers, launch bounds 256 threads x 2 blocks per SM).
        string tuned = PtxRewrite.Tune(ptx, GemmKernels.Threads, 2);
        File.WriteAllText(Path.Combine(dir, name + ".tuned.ptx"), tuned);
        Console.WriteLine($"{name}: {ptx.Length} chars ({name}.tuned.ptx: {tuned.Length})");
    }
    Async("tiled16a_nn", GemmKernels.Tiled16Async<KMajorLayout, RMajorLayout, NativeAsyncCopy>);
    Async("tiled16a_nt", GemmKernels.Tiled16Async<KMajorLayout, KMajorLayout, NativeAsyncCopy>);
    Async("tiled16a_tn", GemmKernels.Tiled16Async<RMajorLayout, RMajorLayout, NativeAsyncCopy>);
    Async("tiled16a_tt", GemmKernels.Tiled16Async<RMajorLayout, KMajorLayout, NativeAsyncCopy>);
    void Mma(string name, Action<GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> kernel, int threads = MmaKernels.Threads)
    {
        string ptx = Write(name, kernel);
        if (ptx.Length == 0) return;   // not in the filter
        // What CUDA loads (IlgpuMmaGemm: depots promoted to registers, launch bounds `threads` x 2 blocks per SM).
        string tuned = PtxRewrite.Tune(ptx, threads, 2);
        File.WriteAllText(Path.Combine(dir, name + ".tuned.ptx"), tuned);
        Console.WriteLine($"{name}: {ptx.Length} chars ({name}.tuned.ptx: {tuned.Length})");
    }
    Mma("mma_tf32_nt", MmaKernels.Gemm<Tf32Mma, KMajorVecLayout, KMajorVecLayout, MmaKernels.NativePath, MmaKernels.DirectOutput>);
    Mma("mma_tf32_nn", MmaKernels.Gemm<Tf32Mma, KMajorVecLayout, RMajorLayout, MmaKernels.NativePath, MmaKernels.DirectOutput>);
    Mma("mma_f16_nt", MmaKernels.Gemm<F16Mma, KMajorVecLayout, KMajorVecLayout, MmaKernels.NativePath, MmaKernels.DirectOutput>);
    Mma("mma_bf16_tn", MmaKernels.Gemm<Bf16Mma, RMajorLayout, RMajorLayout, MmaKernels.NativePath, MmaKernels.DirectOutput>);
    Mma("mma_f16_nt_ldmatrix", MmaKernels.Gemm<F16Mma, KMajorVecLayout, KMajorVecLayout, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput>);
    Mma("mma_tf32_nt_ldmatrix", MmaKernels.Gemm<Tf32Mma, KMajorVecLayout, KMajorVecLayout, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput>);
    Mma("mma_f16_nt_pipeline", MmaKernels.GemmPipelined<F16Mma, MmaKernels.NativePath, MmaKernels.DirectOutput>);
    Mma("mma_tf32_nt_pipeline", MmaKernels.GemmPipelined<Tf32Mma, MmaKernels.NativePath, MmaKernels.DirectOutput>);
    Mma("mma_f16_nt_pipeline_ldmatrix", MmaKernels.GemmPipelined<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput>);
    Mma("mma_bf16_nt_pipeline_ldmatrix", MmaKernels.GemmPipelined<Bf16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput>);
    Mma("mma_f16_nt_w64", MmaKernels.GemmWide<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput>, MmaKernels.WideThreads);
    Mma("mma_bf16_nt_w64", MmaKernels.GemmWide<Bf16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput>, MmaKernels.WideThreads);
    Mma("mma_tf32_nt_w64", MmaKernels.GemmWide<Tf32Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput>, MmaKernels.WideThreads);
    Mma("mma_tf32_nt_w64_frag", MmaKernels.GemmWide<Tf32FragmentMma<IntegerTf32Rounder>, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput>, MmaKernels.WideThreads);
    Mma("mma_tf32_nt_w64_fcvt", MmaKernels.GemmWide<Tf32FragmentMma<CvtTf32Rounder>, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput>, MmaKernels.WideThreads);
    Mma("mma_f16_nt_w64_splitk", MmaKernels.GemmWide<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.SplitOutput>, MmaKernels.WideThreads);
    // 16-bit operands read in place (-tr): A M-major ("t"), B N-major ("n"); what the NT kernel reads is K-major.
    Mma("mma_f16_tt_w64_tr", MmaKernels.GemmWideTransposed<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, RMajorVecLayout, KMajorVecLayout>, MmaKernels.WideThreads);
    Mma("mma_f16_nn_w64_tr", MmaKernels.GemmWideTransposed<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, KMajorVecLayout, RMajorVecLayout>, MmaKernels.WideThreads);
    Mma("mma_f16_tn_w64_tr", MmaKernels.GemmWideTransposed<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, RMajorVecLayout, RMajorVecLayout>, MmaKernels.WideThreads);
    Mma("mma_bf16_tt_w64_tr", MmaKernels.GemmWideTransposed<Bf16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, RMajorVecLayout, KMajorVecLayout>, MmaKernels.WideThreads);
    Mma("mma_bf16_nn_w64_tr", MmaKernels.GemmWideTransposed<Bf16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, KMajorVecLayout, RMajorVecLayout>, MmaKernels.WideThreads);
    Mma("mma_bf16_tn_w64_tr", MmaKernels.GemmWideTransposed<Bf16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, RMajorVecLayout, RMajorVecLayout>, MmaKernels.WideThreads);
    Mma("mma_f16_tn_w64_tr_splitk", MmaKernels.GemmWideTransposed<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.SplitOutput, RMajorVecLayout, RMajorVecLayout>, MmaKernels.WideThreads);
    // Stages in dynamic shared memory (what CUDA loads also has its dynamic array aligned to 128 bytes).
    void Dynamic(string name, Action<GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> kernel, int threads = MmaKernels.WideThreads, int blocks = 2)
    {
        string ptx = Write(name, kernel);
        if (ptx.Length == 0) return;   // not in the filter
        string tuned = DynamicSharedMemory.AlignDynamic(PtxRewrite.Tune(ptx, threads, blocks));
        File.WriteAllText(Path.Combine(dir, name + ".tuned.ptx"), tuned);
        Console.WriteLine($"{name}: {ptx.Length} chars ({name}.tuned.ptx: {tuned.Length})");
    }
    Dynamic("mma_f16_nt_w64_s4", MmaKernels.GemmWideDynamic<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, MmaKernels.FourStages, MmaKernels.Block128x128>);
    Dynamic("mma_bf16_nt_w64_s4", MmaKernels.GemmWideDynamic<Bf16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, MmaKernels.FourStages, MmaKernels.Block128x128>);
    Dynamic("mma_tf32_nt_w64_s4", MmaKernels.GemmWideDynamic<Tf32Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, MmaKernels.FourStages, MmaKernels.Block128x128>);
    Dynamic("mma_f16_nt_w64_s4_splitk", MmaKernels.GemmWideDynamic<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.SplitOutput, MmaKernels.FourStages, MmaKernels.Block128x128>);
    Dynamic("mma_f16_nt_w64_k32", MmaKernels.GemmWideDynamic<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, MmaKernels.DeepSlabs, MmaKernels.Block128x128>);
    Dynamic("mma_bf16_nt_w64_k32", MmaKernels.GemmWideDynamic<Bf16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, MmaKernels.DeepSlabs, MmaKernels.Block128x128>);
    Dynamic("mma_tf32_nt_w64_k32", MmaKernels.GemmWideDynamic<Tf32Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, MmaKernels.DeepSlabs, MmaKernels.Block128x128>);
    Dynamic("mma_f16_nt_w64_k32_splitk", MmaKernels.GemmWideDynamic<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.SplitOutput, MmaKernels.DeepSlabs, MmaKernels.Block128x128>);
    // The 128x256 block of 8 warps: launch bounds 256 threads x 1 block per SM.
    void Block(string name, Action<GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> kernel) => Dynamic(name, kernel, MmaKernels.WideBlockThreads, 1);
    Block("mma_f16_nt_b256", MmaKernels.GemmWideDynamic<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, MmaKernels.FourStages, MmaKernels.Block128x256>);
    Block("mma_bf16_nt_b256", MmaKernels.GemmWideDynamic<Bf16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, MmaKernels.FourStages, MmaKernels.Block128x256>);
    Block("mma_tf32_nt_b256", MmaKernels.GemmWideDynamic<Tf32Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, MmaKernels.FourStages, MmaKernels.Block128x256>);
    Block("mma_f16_nt_b256_splitk", MmaKernels.GemmWideDynamic<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.SplitOutput, MmaKernels.FourStages, MmaKernels.Block128x256>);
    Block("mma_f16_nt_b256s3", MmaKernels.GemmWideDynamic<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, MmaKernels.ThreeStages, MmaKernels.Block128x256>);
    Block("mma_tf32_nt_b256s3", MmaKernels.GemmWideDynamic<Tf32Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, MmaKernels.ThreeStages, MmaKernels.Block128x256>);
    Block("mma_f16_nt_b256k32", MmaKernels.GemmWideDynamic<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, MmaKernels.DeepSlabs, MmaKernels.Block128x256>);
    Block("mma_bf16_nt_b256k32", MmaKernels.GemmWideDynamic<Bf16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, MmaKernels.DeepSlabs, MmaKernels.Block128x256>);
    Block("mma_f16_nt_b256g", MmaKernels.GemmWideDynamic<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, MmaKernels.FourStages, MmaKernels.Block128x256Grouped>);
    Block("mma_f16_nt_b256e", MmaKernels.GemmWideEarly<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, MmaKernels.FourStages, MmaKernels.Block128x256>);
    Block("mma_bf16_nt_b256e", MmaKernels.GemmWideEarly<Bf16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, MmaKernels.FourStages, MmaKernels.Block128x256>);
    Block("mma_tf32_nt_b256e", MmaKernels.GemmWideEarly<Tf32Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, MmaKernels.FourStages, MmaKernels.Block128x256>);
    Block("mma_f16_nt_b256e_splitk", MmaKernels.GemmWideEarly<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.SplitOutput, MmaKernels.FourStages, MmaKernels.Block128x256>);
    Block("mma_f16_nt_b256k32e", MmaKernels.GemmWideEarly<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, MmaKernels.DeepSlabs, MmaKernels.Block128x256>);
    Block("mma_tf32_nt_b256k32e", MmaKernels.GemmWideEarly<Tf32Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, MmaKernels.DeepSlabs, MmaKernels.Block128x256>);
    Dynamic("mma_f16_nt_w64_s4e", MmaKernels.GemmWideEarly<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, MmaKernels.FourStages, MmaKernels.Block128x128>);
    Dynamic("mma_tf32_nt_w64_k32e", MmaKernels.GemmWideEarly<Tf32Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, MmaKernels.DeepSlabs, MmaKernels.Block128x128>);
    // The 128x256 early-barrier kernel reading M-major A ("t") / N-major B ("n") in place.
    Block("mma_f16_nn_b256k32e_tr", MmaKernels.GemmWideEarlyTransposed<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, KMajorVecLayout, RMajorVecLayout, MmaKernels.Block128x256>);
    Block("mma_f16_tt_b256k32e_tr", MmaKernels.GemmWideEarlyTransposed<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, RMajorVecLayout, KMajorVecLayout, MmaKernels.Block128x256>);
    Block("mma_f16_tn_b256k32e_tr", MmaKernels.GemmWideEarlyTransposed<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, RMajorVecLayout, RMajorVecLayout, MmaKernels.Block128x256>);
    Block("mma_bf16_nn_b256k32e_tr", MmaKernels.GemmWideEarlyTransposed<Bf16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, KMajorVecLayout, RMajorVecLayout, MmaKernels.Block128x256>);
    Block("mma_f16_nn_b256k32e_tr_splitk", MmaKernels.GemmWideEarlyTransposed<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.SplitOutput, KMajorVecLayout, RMajorVecLayout, MmaKernels.Block128x256>);
    Block("mma_f16_nt_b256ge", MmaKernels.GemmWideEarly<F16Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, MmaKernels.FourStages, MmaKernels.Block128x256Grouped>);
    Block("mma_tf32_nt_b256k32", MmaKernels.GemmWideDynamic<Tf32Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput, MmaKernels.DeepSlabs, MmaKernels.Block128x256>);
    Mma("mma_tf32_nt_pipeline_ldmatrix", MmaKernels.GemmPipelined<Tf32Mma, MmaKernels.NativeLdMatrixPath, MmaKernels.DirectOutput>);
    Mma("mma_f16_nt_splitk", MmaKernels.Gemm<F16Mma, KMajorVecLayout, KMajorVecLayout, MmaKernels.NativePath, MmaKernels.SplitOutput>);
    void Pack<T>(string name, Action<PackParams, ArrayView<T>, ArrayView<T>> kernel) where T : unmanaged =>
        Console.WriteLine($"{name}: {Write(name, kernel).Length} chars");
    Pack<ushort>("pack16_transpose", MmaPackKernels.Pack<ushort, RMajorLayout, PackCopy<ushort>>);
    Pack<ushort>("pack16_copy", MmaPackKernels.Pack<ushort, KMajorLayout, PackCopy<ushort>>);
    Pack<uint>("pack32_transpose", MmaPackKernels.Pack<uint, RMajorLayout, PackCopy<uint>>);
    Pack<uint>("pack32_transpose_tf32", MmaPackKernels.Pack<uint, RMajorLayout, PackTf32>);
}

static float[] Uniform(long n, int seed)
{
    var rng = new System.Random(seed);
    var x = new float[n];
    for (long i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
    return x;
}

static unsafe void Upload<T>(ArrayView<T> view, T[] host) where T : unmanaged
{
    fixed (T* p = host) view.CopyFromCPU(ref *p, host.Length);
}
