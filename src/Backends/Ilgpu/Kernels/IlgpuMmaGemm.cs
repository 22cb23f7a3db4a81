using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Ember.Ilgpu;

/// <summary>
/// Tensor-core (batched) matrix multiplication, <c>C[i] = alpha · op(A[i]) · op(B[i]) + beta · C[i]</c>, row-major
/// storage, float32 accumulation: TF32 for float32 operands, F16 and BF16 for 16-bit operands (passed as their bit
/// patterns). On CUDA devices of compute capability 8.0 or newer (<see cref="IsSupported"/>) it runs <c>mma.sync</c>
/// through inline PTX; on any other device (older GPUs included) the same kernel runs with each <c>mma</c> K step emulated per lane (exact
/// float32 products of the rounded operands: a slow reference, used by the tests on ilgpu-cpu). Operands that are not
/// K-contiguous with aligned rows are packed K-major first (<see cref="MmaPackKernels"/>; with
/// <see cref="MmaGemmOptions.TransposedOperands"/> aligned 16-bit ones are read in place instead), and skinny products
/// split K (<see cref="MmaGemmOptions"/>).
/// </summary>
public static class IlgpuMmaGemm
{
    /// <summary>True when <paramref name="device"/> runs the tensor-core kernels natively (CUDA, compute capability ≥ 8.0).</summary>
    public static bool IsSupported(IlgpuDevice device) =>
        device.Accelerator is CudaAccelerator cuda && cuda.Architecture.Major >= 8;

    /// <summary>
    /// Queues a TF32 tensor-core SGEMM: operands rounded to TF32 (to nearest, ties to even, as cuBLAS), products summed in float32.
    /// Arguments as <see cref="IlgpuGemm.Sgemm(IlgpuDevice, bool, bool, int, int, int, float, ArrayView{float}, int, long, ArrayView{float}, int, long, float, ArrayView{float}, int, long, int, GemmAlgorithm)"/>.
    /// </summary>
    /// <remarks>
    /// Operands that are not K-contiguous with 16-byte aligned rows (A transposed, B not transposed, odd leading
    /// dimensions) are first copied K-major into scratch memory; unbatched products with few 128×128 tiles of C and a
    /// long K are split along K. <c>options</c> overrides both (the default chooses automatically).
    /// </remarks>
    /// <exception cref="ArgumentException">A size, leading dimension, stride or view length is inconsistent; the message names it.</exception>
    public static void Tf32(IlgpuDevice device, bool transA, bool transB, int m, int n, int k,
        float alpha, ArrayView<float> a, int lda, long strideA,
        ArrayView<float> b, int ldb, long strideB,
        float beta, ArrayView<float> c, int ldc, long strideC, int batch = 1, MmaGemmOptions options = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        Validate("Tf32Gemm", transA, transB, m, n, k, lda, strideA, a.Length, ldb, strideB, b.Length, ldc, strideC, c.Length, batch);
        if (m == 0 || n == 0) return;
        if (options.Tf32Truncate)
        {
            Run<Tf32FragmentMma<TruncatingTf32Rounder>>();
            return;
        }
        switch (Tf32RoundingFor(device, options.Tf32Rounding, UsesWgmma(device, IsSupported(device), options, m, n, k)))
        {
            case MmaTf32Rounding.Fragments: Run<Tf32FragmentMma<IntegerTf32Rounder>>(); break;
            case MmaTf32Rounding.FragmentsConvert: Run<Tf32FragmentMma<CvtTf32Rounder>>(); break;
            // Rounded by the packing kernel: the GEMM kernels then take the words as they are (as if truncating).
            case MmaTf32Rounding.Packed when !options.KeepLayout:
                options = options with { Tf32Truncate = true };
                Run<Tf32FragmentMma<TruncatingTf32Rounder>>(roundPacked: true);
                break;
            default: Run<Tf32Mma>(); break;
        }

        void Run<TT>(bool roundPacked = false) where TT : struct, IMmaType =>
            Launch<TT>(device, transA, transB, m, n, k, alpha, a.Cast<ushort>(), lda, strideA, Aligned(a),
                b.Cast<ushort>(), ldb, strideB, Aligned(b), beta, c.Cast<ushort>(), ldc, strideC, batch, 4, options, roundPacked);
    }

    /// <summary><see cref="MmaGemmOptions.Tf32Rounding"/>'s <see cref="MmaTf32Rounding.Auto"/> as EMBER_TF32_ROUNDING names it (null: not set).</summary>
    private static readonly MmaTf32Rounding? Tf32RoundingFromEnvironment = Environment.GetEnvironmentVariable("EMBER_TF32_ROUNDING") switch
    {
        "staged" => MmaTf32Rounding.Staged,
        "fragments" => MmaTf32Rounding.Fragments,
        "convert" => MmaTf32Rounding.FragmentsConvert,
        "packed" => MmaTf32Rounding.Packed,
        _ => null,
    };

    /// <summary>
    /// The rounding <paramref name="requested"/> resolves to on <paramref name="device"/>. <see cref="MmaTf32Rounding.Auto"/>:
    /// EMBER_TF32_ROUNDING if set, else <see cref="MmaTf32Rounding.Packed"/> where the product runs the warpgroup kernel
    /// (<paramref name="wgmma"/>), <see cref="MmaTf32Rounding.FragmentsConvert"/> elsewhere on sm_90 and newer and
    /// <see cref="MmaTf32Rounding.Staged"/> elsewhere. The warpgroup kernel's own rounding (each staged word rounded in
    /// shared memory by the thread that copied it, before the fence) cost a quarter of its time: on an H100 (eighteenth
    /// session, GemmBench NN, one call against cuBLAS TF32) 170k / 191k GFLOP/s at 4096 / 8192 (0.44 / 0.47 of cuBLAS)
    /// against 213k / 254k (0.55 / 0.63) when the packing kernel rounds both operands on their way to K-major copies,
    /// packing included. For the <c>mma.sync</c> kernels (twelfth session, NN 4096 / 8192, one call):
    /// 162k / 166k GFLOP/s in registers with <c>cvt.rn.tf32</c> (one F2FP a word), against 115k / 122k staged and 112k /
    /// 117k in registers with integer instructions; feeding unrounded words gave 185k / 195k in the 128×256 kernel.
    /// <see cref="MmaTf32Rounding.FragmentsConvert"/> needs sm_90 (elsewhere, and in the emulation, the integer form runs:
    /// the same bits).
    /// </summary>
    internal static MmaTf32Rounding Tf32RoundingFor(IlgpuDevice device, MmaTf32Rounding requested, bool wgmma = false)
    {
        bool sm90 = device.Accelerator is CudaAccelerator cuda && cuda.Architecture.Major >= 9;
        var r = requested != MmaTf32Rounding.Auto ? requested
            : Tf32RoundingFromEnvironment ?? (wgmma ? MmaTf32Rounding.Packed : sm90 ? MmaTf32Rounding.FragmentsConvert : MmaTf32Rounding.Staged);
        return r == MmaTf32Rounding.FragmentsConvert && !sm90 ? MmaTf32Rounding.Fragments : r;
    }

    /// <summary>
    /// Queues a 16-bit tensor-core GEMM: A, B and C hold IEEE half (<see cref="MmaPrecision.Float16"/>) or bfloat16
    /// (<see cref="MmaPrecision.BFloat16"/>) bit patterns; products are summed in float32 and C is rounded to the type
    /// (nearest even). Other arguments as <see cref="Tf32"/>, counted in 16-bit elements; packing and split-K as there.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="precision"/> is not a 16-bit type, or a size, leading dimension,
    /// stride or view length is inconsistent; the message names it.</exception>
    public static void Gemm16(IlgpuDevice device, MmaPrecision precision, bool transA, bool transB, int m, int n, int k,
        float alpha, ArrayView<ushort> a, int lda, long strideA,
        ArrayView<ushort> b, int ldb, long strideB,
        float beta, ArrayView<ushort> c, int ldc, long strideC, int batch = 1, MmaGemmOptions options = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (precision == MmaPrecision.Tf32)
            throw new ArgumentException("Gemm16: precision must be Float16 or BFloat16 (16-bit views); use Tf32 for float32 views.", nameof(precision));
        Validate("Gemm16", transA, transB, m, n, k, lda, strideA, a.Length, ldb, strideB, b.Length, ldc, strideC, c.Length, batch);
        if (m == 0 || n == 0) return;
        bool va = Aligned(a), vb = Aligned(b);
        if (precision == MmaPrecision.Float16)
            Launch<F16Mma>(device, transA, transB, m, n, k, alpha, a, lda, strideA, va, b, ldb, strideB, vb, beta, c, ldc, strideC, batch, 8, options);
        else
            Launch<Bf16Mma>(device, transA, transB, m, n, k, alpha, a, lda, strideA, va, b, ldb, strideB, vb, beta, c, ldc, strideC, batch, 8, options);
    }

    private static void Validate(string op, bool transA, bool transB, int m, int n, int k, int lda, long strideA, long lenA,
        int ldb, long strideB, long lenB, int ldc, long strideC, long lenC, int batch)
    {
        if (m < 0 || n < 0 || k < 0 || batch < 1)
            throw new ArgumentException($"{op}: sizes must be non-negative and batch at least 1, got m={m}, n={n}, k={k}, batch={batch}.");
        IlgpuGemm.Check(op, "A", transA ? k : m, transA ? m : k, lda, strideA, batch, lenA, transA);
        IlgpuGemm.Check(op, "B", transB ? n : k, transB ? k : n, ldb, strideB, batch, lenB, transB);
        IlgpuGemm.Check(op, "C", m, n, ldc, strideC, batch, lenC, false);
        if (batch > 1 && strideC < (long)(m - 1) * ldc + n && m > 0 && n > 0)
            throw new ArgumentException($"{op}: strideC={strideC} makes batch entries of C ({m}x{n}, ldc={ldc}) overlap.");
        if (batch > 65535 || (m + MmaKernels.BM - 1) / MmaKernels.BM > 65535)
            throw new ArgumentException($"{op}: grid too large (batch {batch}, m {m}); at most 65535 batch entries and 65535 row tiles.");
    }

    /// <summary>True when the view starts 16-byte aligned (a 16-bit or float32 view).</summary>
    private static bool Aligned<T>(ArrayView<T> v) where T : unmanaged => ((IContiguousArrayView)v).IndexInBytes % 16 == 0;

    /// <summary>
    /// Packs operands that are not K-contiguous with aligned rows, picks split-K for skinny products, picks the layout
    /// specialization and launches; <paramref name="perChunk"/> elements make 16 bytes. Scratch blocks go back to the
    /// allocator once the launches are queued: reuse is ordered by the device's default stream.
    /// </summary>
    private static void Launch<T>(IlgpuDevice device, bool transA, bool transB, int m, int n, int k, float alpha,
        ArrayView<ushort> a, int lda, long strideA, bool alignedA, ArrayView<ushort> b, int ldb, long strideB, bool alignedB,
        float beta, ArrayView<ushort> c, int ldc, long strideC, int batch, int perChunk, MmaGemmOptions options,
        bool roundPacked = false) where T : struct, IMmaType
    {
        // 16-byte loads only for K-contiguous operands (A not transposed, B transposed) whose rows all start aligned.
        bool vecA = !transA && alignedA && lda % perChunk == 0 && (batch == 1 || strideA % perChunk == 0);
        bool vecB = transB && alignedB && ldb % perChunk == 0 && (batch == 1 || strideB % perChunk == 0);
        bool native = IsSupported(device);
        // The warpgroup kernel (sm_90) where chosen, else the mma.sync kernels (the 128x256 one for large 16-bit products).
        bool wg = UsesWgmma(device, native, options, m, n, k);
        bool wgWide = wg && (IsWideBlock(options.Staging) || options.Staging == MmaStaging.Default && WgmmaWide(m, n));
        bool wgGrouped = wg && (options.GroupedBlocks || options.Staging == MmaStaging.Default && wgWide);
        if (!wg) options = Widen(options, native, perChunk, m, n);
        // 16-bit operands whose rows run along M (A) or N (B), 16-byte aligned, read in place by the 64x64 kernels.
        // The warpgroup kernel reads K-major operands only (TF32 wgmma has no transposed form): the others are packed.
        bool mnA = !wg && InPlace(native, perChunk, k, options, transA, alignedA, lda, strideA, batch);
        bool mnB = !wg && InPlace(native, perChunk, k, options, !transB, alignedB, ldb, strideB, batch);
        DeviceBlock? packA = null, packB = null, work = null;
        try
        {
            if (!options.KeepLayout && k > 0)
            {
                // An operand the kernel would read element by element is first copied K-major with aligned rows; with
                // roundPacked (TF32, MmaTf32Rounding.Packed) both are, rounded on the way.
                if (!vecA && !mnA || roundPacked)
                {
                    packA = MmaPacking.Pack(device, a, transA, m, k, lda, strideA, batch, perChunk, out a, out lda, out strideA, roundPacked);
                    transA = false;
                    vecA = true;
                }
                if (!vecB && !mnB || roundPacked)
                {
                    packB = MmaPacking.Pack(device, b, !transB, n, k, ldb, strideB, batch, perChunk, out b, out ldb, out strideB, roundPacked);
                    transB = true;
                    vecB = true;
                }
            }
            var p = new GemmParams
            {
                M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc,
                StrideA = strideA, StrideB = strideB, StrideC = strideC, Alpha = alpha, Beta = beta,
                TransA = transA ? 1 : 0, TransB = transB ? 1 : 0,
            };
            var kernels = device.Kernels;
            bool ld = options.LdMatrix ?? native;   // the emulation (ilgpu-cpu) is cheaper with plain loads
            // 64×64 warp tiles on CUDA (see MmaGemmOptions.WarpTile64), on small grids too: measured faster than the 8 warps
            // of 64×32 also where the grid has fewer blocks than SMs (256×1024×1024: 28k against 24k GFLOP/s).
            bool wide = options.WarpTile64 ?? (native || options.Staging != MmaStaging.Default);
            // The cp.async loops read operands K-major with 16-byte aligned rows, or (the 64x64 one, 16-bit) M/N-major ones.
            bool pipe = (options.Pipeline ?? (native || wide)) && (mnA || !transA && vecA) && (mnB || transB && vecB);
            wide &= pipe;
            // Stages in dynamic shared memory: only where the device grants the size (else the 48 KB kernel).
            var staging = wide ? options.Staging : MmaStaging.Default;
            if (staging != MmaStaging.Default && !DynamicSharedMemory.Fits(device.Accelerator, StagingBytes(staging))) staging = MmaStaging.Default;
            int slabK = (wg || staging is MmaStaging.DeepSlabs or MmaStaging.WideBlockDeepSlabs ? 2 * MmaKernels.KW : MmaKernels.KW) * T.PerWord();
            int chunk = batch == 1 ? MmaPacking.SplitChunk(m, n, k, device.Accelerator.NumMultiprocessors, slabK, options.SplitK) : 0;
            if ((pipe || wg) && native)
            {
                // cp.async takes raw addresses; ILGPU gives kernels no view's address, the host does.
                p.AddressA = (ulong)a.LoadEffectiveAddressAsPtr().ToInt64();
                p.AddressB = (ulong)b.LoadEffectiveAddressAsPtr().ToInt64();
            }
            if (chunk > 0)
            {
                // Split-K: grid z runs the K slabs, each writing its float32 partial product to the workspace; a
                // second kernel sums them in slab order and applies alpha and beta in the output type.
                int splits = (k + chunk - 1) / chunk;
                long mn = (long)m * n;
                work = device.Allocator.Allocate(4 * mn * splits);
                var w = work.View<float>(mn * splits);
                var sp = p;
                sp.KChunk = chunk;
                sp.Ldc = n;
                sp.StrideC = mn;
                var split = wg ? Wgmma<T, MmaKernels.SplitOutput>(kernels, native, wgWide, wgGrouped, options)
                    : staging != MmaStaging.Default ? WideDynamic<T, MmaKernels.SplitOutput>(kernels, native, staging, options, mnA, mnB)
                    : mnA || mnB ? Transposed<T, MmaKernels.SplitOutput>(kernels, native, mnA, mnB)
                    : wide ? Wide<T, MmaKernels.SplitOutput>(kernels, native)
                    : pipe ? Pipelined<T, MmaKernels.SplitOutput>(kernels, native, ld)
                    : Pick<T, MmaKernels.SplitOutput>(kernels, native, ld, transA, vecA, transB, vecB);
                split(wg ? WgmmaConfig(m, n, splits, wgWide) : Config(m, n, splits, wide, staging), sp, a, b, w.Cast<ushort>());
                var rp = p;
                rp.K = splits;
                var sum = native
                    ? kernels.AutoGrouped<Index1D, GemmParams, ArrayView<float>, ArrayView<ushort>>(MmaPackKernels.SumSplits<T, MmaKernels.NativePath>)
                    : kernels.AutoGrouped<Index1D, GemmParams, ArrayView<float>, ArrayView<ushort>>(MmaPackKernels.SumSplits<T, MmaKernels.EmulatedPath>);
                sum(checked((int)mn), rp, w, c);
                return;
            }
            var launch = wg ? Wgmma<T, MmaKernels.DirectOutput>(kernels, native, wgWide, wgGrouped, options)
                : staging != MmaStaging.Default ? WideDynamic<T, MmaKernels.DirectOutput>(kernels, native, staging, options, mnA, mnB)
                : mnA || mnB ? Transposed<T, MmaKernels.DirectOutput>(kernels, native, mnA, mnB)
                : wide ? Wide<T, MmaKernels.DirectOutput>(kernels, native)
                : pipe ? Pipelined<T, MmaKernels.DirectOutput>(kernels, native, ld)
                : Pick<T, MmaKernels.DirectOutput>(kernels, native, ld, transA, vecA, transB, vecB);
            launch(wg ? WgmmaConfig(m, n, batch, wgWide) : Config(m, n, batch, wide, staging), p, a, b, c);
        }
        finally
        {
            packA?.Dispose();
            packB?.Dispose();
            work?.Dispose();
        }
    }

    /// <summary>
    /// <see cref="MmaGemmOptions.TransposedOperands"/> where the options leave it null: on, unless EMBER_MMA_TRANSPOSED=0
    /// (the packing path, for an A/B).
    /// </summary>
    private static readonly bool TransposedFromEnvironment = Environment.GetEnvironmentVariable("EMBER_MMA_TRANSPOSED") != "0";

    /// <summary>
    /// True when a product with <paramref name="options"/> reads 16-bit M/N-major operands in place
    /// (<see cref="MmaGemmOptions.TransposedOperands"/>): 16-bit elements (<paramref name="perChunk"/> 8), K above 0,
    /// no <see cref="MmaGemmOptions.KeepLayout"/>, and the kernel chosen is the 64x64 one with the default staging or the
    /// 128×256 early-barrier one with 32-word slabs.
    /// </summary>
    internal static bool ReadsTransposed(bool native, int perChunk, int k, MmaGemmOptions options) =>
        perChunk == 8 && k > 0 && !options.KeepLayout && (options.TransposedOperands ?? TransposedFromEnvironment)
        && (options.WarpTile64 ?? (native || options.Staging != MmaStaging.Default)) && options.Pipeline != false
        && (options.Staging == MmaStaging.Default || options.Staging == MmaStaging.WideBlockDeepSlabs && options.EarlyBarrier);

    /// <summary><see cref="MmaGemmOptions.WideForLarge"/> where the options leave it null: on unless EMBER_MMA_WIDE=0.</summary>
    private static readonly bool WideFromEnvironment = Environment.GetEnvironmentVariable("EMBER_MMA_WIDE") != "0";

    /// <summary>
    /// <paramref name="options"/> with the 128×256 early-barrier kernel chosen (<see cref="MmaGemmOptions.WideForLarge"/>)
    /// for a 16-bit product (<paramref name="perChunk"/> 8) of M and N at least 4096 on CUDA whose options leave the
    /// kernel to the default (staging, 64×64 warps, cp.async loop, layout); else unchanged.
    /// </summary>
    internal static MmaGemmOptions Widen(MmaGemmOptions options, bool native, int perChunk, int m, int n) =>
        native && perChunk == 8 && m >= 4096 && n >= 4096 && (options.WideForLarge ?? WideFromEnvironment)
        && options.Staging == MmaStaging.Default && options.WarpTile64 != false && options.Pipeline != false && !options.KeepLayout
            ? options with { Staging = MmaStaging.WideBlockDeepSlabs, EarlyBarrier = true }
            : options;

    /// <summary>
    /// True when an operand whose rows run along M or N (<paramref name="mnMajor"/>: A transposed, B not) is read in
    /// place (<see cref="ReadsTransposed"/>): only with every row 16-byte aligned (the view start
    /// <paramref name="aligned"/>, <paramref name="ld"/> and, batched, <paramref name="stride"/> multiples of
    /// <paramref name="perChunk"/>), which <c>cp.async</c> of 16 bytes needs; else it is packed.
    /// </summary>
    internal static bool InPlace(bool native, int perChunk, int k, MmaGemmOptions options, bool mnMajor, bool aligned, int ld, long stride, int batch) =>
        mnMajor && aligned && ld % perChunk == 0 && (batch == 1 || stride % perChunk == 0) && ReadsTransposed(native, perChunk, k, options);

    /// <summary>
    /// The 64x64-warp-tile kernel for operands read in place M-major (<paramref name="mnA"/>) and/or N-major
    /// (<paramref name="mnB"/>), loaded as <see cref="Wide{T, TE}"/>'s (launch bounds 128 threads x 2 blocks per SM).
    /// </summary>
    private static Action<KernelConfig, GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> Transposed<T, TE>(
        KernelCache kernels, bool native, bool mnA, bool mnB) where T : struct, IMmaType where TE : struct, MmaKernels.IMmaOutput
    {
        return native ? Path<MmaKernels.NativeLdMatrixPath>() : Path<MmaKernels.EmulatedLdMatrixPath>();

        Action<KernelConfig, GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> Path<TX>() where TX : struct, MmaKernels.IMmaPath =>
            (mnA, mnB) switch
            {
                (true, false) => Load(kernels, MmaKernels.GemmWideTransposed<T, TX, TE, RMajorVecLayout, KMajorVecLayout>, MmaKernels.WideThreads),
                (false, true) => Load(kernels, MmaKernels.GemmWideTransposed<T, TX, TE, KMajorVecLayout, RMajorVecLayout>, MmaKernels.WideThreads),
                _ => Load(kernels, MmaKernels.GemmWideTransposed<T, TX, TE, RMajorVecLayout, RMajorVecLayout>, MmaKernels.WideThreads),
            };
    }

    /// <summary><see cref="MmaGemmOptions.Wgmma"/> where the options leave it null: EMBER_MMA_WGMMA=1 (every product) or 0 (none); null when unset.</summary>
    private static readonly bool? WgmmaFromEnvironment = Environment.GetEnvironmentVariable("EMBER_MMA_WGMMA") switch
    {
        "1" => true,
        "0" => false,
        _ => null,
    };

    /// <summary>
    /// True when a product runs <see cref="MmaKernels.GemmWgmma{T, TW, TX, TE, TB}"/> (<see cref="MmaGemmOptions.Wgmma"/>):
    /// natively on a compute capability 9.x device that grants its 192 KB of shared memory, where the options or
    /// EMBER_MMA_WGMMA ask for it, else for M and N of at least 4096 (where it measured faster than the <c>mma.sync</c>
    /// kernels: see <see cref="MmaGemmOptions.Wgmma"/>) unless the options choose an <c>mma.sync</c> kernel or its
    /// operand handling (<see cref="ChoosesMmaSync"/>); emulated only where the options ask for it; never with
    /// <see cref="MmaGemmOptions.KeepLayout"/> or K = 0.
    /// </summary>
    internal static bool UsesWgmma(IlgpuDevice device, bool native, MmaGemmOptions options, int m, int n, int k)
    {
        if (options.KeepLayout || k == 0) return false;
        if (!native) return options.Wgmma == true;
        return (options.Wgmma ?? WgmmaFromEnvironment ?? (m >= 4096 && n >= 4096 && !ChoosesMmaSync(options)))
            && device.Accelerator is CudaAccelerator { Architecture.Major: 9 }
            && DynamicSharedMemory.Fits(device.Accelerator, MmaKernels.WgmmaStageBytes<MmaKernels.Block128x256>());
    }

    /// <summary>
    /// True when the options <paramref name="o"/> pick something only the <c>mma.sync</c> kernels have (a staging, warp tile,
    /// loop, fragment load, early barrier, in-place or 128×256 choice, or where TF32 rounds), so the size rule of
    /// <see cref="UsesWgmma"/> leaves them to those kernels (GemmBench's A/B variants, the tests of each path).
    /// </summary>
    internal static bool ChoosesMmaSync(MmaGemmOptions o) =>
        o.Staging != MmaStaging.Default || o.WarpTile64 != null || o.Pipeline != null || o.LdMatrix != null || o.EarlyBarrier
        || o.TransposedOperands != null || o.WideForLarge != null || o.Tf32Rounding is not (MmaTf32Rounding.Auto or MmaTf32Rounding.Packed);

    /// <summary>Whether the warpgroup kernel runs 128×256 blocks (M and N at least 4096) rather than 128×128 (GemmBench's -wg128 / -wg256 force either through the staging).</summary>
    internal static bool WgmmaWide(int m, int n) => m >= 4096 && n >= 4096;

    /// <summary>The warpgroup kernel's grid (blocks of 128 rows by 256 or 128 columns, z entries) and group.</summary>
    private static KernelConfig WgmmaConfig(int m, int n, int z, bool wide)
    {
        int cols = wide ? 2 * MmaKernels.BN : MmaKernels.BN;
        return new(new Index3D((n + cols - 1) / cols, (m + MmaKernels.BM - 1) / MmaKernels.BM, z), new Index3D(MmaKernels.WgmmaThreads, 1, 1));
    }

    /// <summary>
    /// The warpgroup kernel for operand type <typeparamref name="T"/> (its <c>wgmma</c> form chosen here: F16, BF16, TF32
    /// rounded, or TF32 truncated with <see cref="MmaGemmOptions.Tf32Truncate"/>), loaded through
    /// <see cref="DynamicSharedMemory.Grouped{T1, T2, T3, T4}"/> with launch bounds of 256 threads × 2 blocks per SM
    /// (128×128) or × 1 (128×256, its tiles in groups of 8 block rows where <paramref name="grouped"/>).
    /// </summary>
    private static Action<KernelConfig, GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> Wgmma<T, TE>(
        KernelCache kernels, bool native, bool wide, bool grouped, MmaGemmOptions options) where T : struct, IMmaType where TE : struct, MmaKernels.IMmaOutput
    {
        return native ? Op<MmaKernels.NativePath>() : Op<MmaKernels.EmulatedPath>();

        Action<KernelConfig, GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> Op<TX>() where TX : struct, MmaKernels.IMmaPath =>
            typeof(T) == typeof(F16Mma) ? Block<WgmmaF16, TX>()
            : typeof(T) == typeof(Bf16Mma) ? Block<WgmmaBf16, TX>()
            : options.Tf32Truncate ? Block<WgmmaTf32Truncate, TX>() : Block<WgmmaTf32, TX>();

        Action<KernelConfig, GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> Block<TW, TX>()
            where TW : struct, IWgmmaOp where TX : struct, MmaKernels.IMmaPath =>
            !wide ? Of<TW, TX, MmaKernels.Block128x128>(2)
            : grouped ? Of<TW, TX, MmaKernels.Block128x256Grouped>(1) : Of<TW, TX, MmaKernels.Block128x256>(1);

        Action<KernelConfig, GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> Of<TW, TX, TB>(int blocks)
            where TW : struct, IWgmmaOp where TX : struct, MmaKernels.IMmaPath where TB : struct, MmaKernels.IWideBlock =>
            DynamicSharedMemory.Grouped<GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>>(kernels, MmaKernels.GemmWgmma<T, TW, TX, TE, TB>, MmaKernels.WgmmaStageBytes<TB>() / 4, MmaKernels.WgmmaThreads, blocks);
    }

    /// <summary>The grid and group of the chosen kernel: blocks of 128 rows by 256 columns (<see cref="IsWideBlock"/>, 256 threads) or 128 (128 threads for 64×64 warps, else 256).</summary>
    private static KernelConfig Config(int m, int n, int z, bool wide, MmaStaging staging)
    {
        bool block = IsWideBlock(staging);
        int cols = block ? 2 * MmaKernels.BN : MmaKernels.BN;
        int threads = block ? MmaKernels.WideBlockThreads : wide ? MmaKernels.WideThreads : MmaKernels.Threads;
        return new(new Index3D((n + cols - 1) / cols, (m + MmaKernels.BM - 1) / MmaKernels.BM, z), new Index3D(threads, 1, 1));
    }

    /// <summary>True for the stagings of the 128×256 block of 8 warps (<see cref="MmaKernels.GemmWideDynamic{T, TX, TE, TS, TB}"/>).</summary>
    internal static bool IsWideBlock(MmaStaging staging) =>
        staging is MmaStaging.WideBlock or MmaStaging.WideBlockThreeStages or MmaStaging.WideBlockDeepSlabs;

    /// <summary>
    /// Loads a GEMM kernel; on CUDA with its PTX rewritten (<see cref="KernelCache.GroupedTuned{T1, T2, T3, T4}"/>): the
    /// inline-PTX operand depots in registers (ptxas leaves them in local memory in the cp.async kernel) and launch bounds
    /// of <paramref name="threads"/> threads, two blocks per SM (256 threads: at most 128 registers a thread).
    /// </summary>
    private static Action<KernelConfig, GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> Load(
        KernelCache kernels, Action<GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> kernel, int threads = MmaKernels.Threads) =>
        kernels.GroupedTuned(kernel, threads, 2);

    /// <summary>
    /// The 64×64-warp-tile kernel (always with ldmatrix), its PTX rewritten as <see cref="Load"/>'s but with launch bounds
    /// of 128 threads × 2 blocks per SM: at most 255 registers for its 128 accumulators a thread.
    /// </summary>
    private static Action<KernelConfig, GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> Wide<T, TE>(
        KernelCache kernels, bool native) where T : struct, IMmaType where TE : struct, MmaKernels.IMmaOutput => native
        ? Load(kernels, MmaKernels.GemmWide<T, MmaKernels.NativeLdMatrixPath, TE>, MmaKernels.WideThreads)
        : Load(kernels, MmaKernels.GemmWide<T, MmaKernels.EmulatedLdMatrixPath, TE>, MmaKernels.WideThreads);

    /// <summary>Dynamic shared memory of the 64×64-warp-tile kernel with <paramref name="staging"/>, in bytes.</summary>
    internal static int StagingBytes(MmaStaging staging) => staging switch
    {
        MmaStaging.FourStages => MmaKernels.DynamicStageBytes<MmaKernels.FourStages, MmaKernels.Block128x128>(),
        MmaStaging.DeepSlabs => MmaKernels.DynamicStageBytes<MmaKernels.DeepSlabs, MmaKernels.Block128x128>(),
        MmaStaging.WideBlock => MmaKernels.DynamicStageBytes<MmaKernels.FourStages, MmaKernels.Block128x256>(),
        MmaStaging.WideBlockThreeStages => MmaKernels.DynamicStageBytes<MmaKernels.ThreeStages, MmaKernels.Block128x256>(),
        MmaStaging.WideBlockDeepSlabs => MmaKernels.DynamicStageBytes<MmaKernels.DeepSlabs, MmaKernels.Block128x256>(),
        _ => MmaKernels.Stages * (MmaKernels.BM + MmaKernels.BN) * MmaKernels.KW * 4,
    };

    /// <summary>
    /// The 64×64-warp-tile kernel with its stages in dynamic shared memory (any <see cref="MmaStaging"/> but the
    /// default), loaded through <see cref="DynamicSharedMemory.Grouped{T1, T2, T3, T4}"/>: PTX rewritten as
    /// <see cref="Wide{T, TE}"/>'s, the size opted in on CUDA. Launch bounds: 128 × 2 for the 128×128 block, 256 × 1 for
    /// the 128×256 one (at most 255 registers a thread either way), whose tiles and K loop follow
    /// <see cref="MmaGemmOptions.GroupedBlocks"/> and <see cref="MmaGemmOptions.EarlyBarrier"/> of <paramref name="options"/>.
    /// An operand read in place M-major (<paramref name="mnA"/>) or N-major (<paramref name="mnB"/>) runs
    /// <see cref="MmaKernels.GemmWideEarlyTransposed{T, TX, TE, TA, TB, TG}"/> (only with the deep-slab early-barrier
    /// 128×256 kernel, see <see cref="ReadsTransposed"/>).
    /// </summary>
    private static Action<KernelConfig, GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> WideDynamic<T, TE>(
        KernelCache kernels, bool native, MmaStaging staging, MmaGemmOptions options, bool mnA, bool mnB)
        where T : struct, IMmaType where TE : struct, MmaKernels.IMmaOutput
    {
        int words = StagingBytes(staging) / 4;
        return native ? Path<MmaKernels.NativeLdMatrixPath>() : Path<MmaKernels.EmulatedLdMatrixPath>();

        Action<KernelConfig, GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> Path<TX>() where TX : struct, MmaKernels.IMmaPath =>
            mnA || mnB
                ? (options.GroupedBlocks ? InPlace<TX, MmaKernels.Block128x256Grouped>() : InPlace<TX, MmaKernels.Block128x256>())
                : options.GroupedBlocks ? Of<TX, MmaKernels.Block128x256Grouped>() : Of<TX, MmaKernels.Block128x256>();

        Action<KernelConfig, GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> InPlace<TX, TB>()
            where TX : struct, MmaKernels.IMmaPath where TB : struct, MmaKernels.IWideBlock => (mnA, mnB) switch
        {
            (true, false) => Block(MmaKernels.GemmWideEarlyTransposed<T, TX, TE, RMajorVecLayout, KMajorVecLayout, TB>),
            (false, true) => Block(MmaKernels.GemmWideEarlyTransposed<T, TX, TE, KMajorVecLayout, RMajorVecLayout, TB>),
            _ => Block(MmaKernels.GemmWideEarlyTransposed<T, TX, TE, RMajorVecLayout, RMajorVecLayout, TB>),
        };

        // TB: the 128×256 block's kind (the 128×128 stagings ignore it).
        Action<KernelConfig, GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> Of<TX, TB>()
            where TX : struct, MmaKernels.IMmaPath where TB : struct, MmaKernels.IWideBlock => staging switch
        {
            MmaStaging.FourStages => options.EarlyBarrier
                ? Square(MmaKernels.GemmWideEarly<T, TX, TE, MmaKernels.FourStages, MmaKernels.Block128x128>)
                : Square(MmaKernels.GemmWideDynamic<T, TX, TE, MmaKernels.FourStages, MmaKernels.Block128x128>),
            MmaStaging.DeepSlabs => options.EarlyBarrier
                ? Square(MmaKernels.GemmWideEarly<T, TX, TE, MmaKernels.DeepSlabs, MmaKernels.Block128x128>)
                : Square(MmaKernels.GemmWideDynamic<T, TX, TE, MmaKernels.DeepSlabs, MmaKernels.Block128x128>),
            MmaStaging.WideBlockThreeStages => options.EarlyBarrier
                ? Block(MmaKernels.GemmWideEarly<T, TX, TE, MmaKernels.ThreeStages, TB>) : Block(MmaKernels.GemmWideDynamic<T, TX, TE, MmaKernels.ThreeStages, TB>),
            MmaStaging.WideBlockDeepSlabs => options.EarlyBarrier
                ? Block(MmaKernels.GemmWideEarly<T, TX, TE, MmaKernels.DeepSlabs, TB>) : Block(MmaKernels.GemmWideDynamic<T, TX, TE, MmaKernels.DeepSlabs, TB>),
            _ => options.EarlyBarrier
                ? Block(MmaKernels.GemmWideEarly<T, TX, TE, MmaKernels.FourStages, TB>) : Block(MmaKernels.GemmWideDynamic<T, TX, TE, MmaKernels.FourStages, TB>),
        };

        Action<KernelConfig, GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> Square(
            Action<GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> kernel) =>
            DynamicSharedMemory.Grouped(kernels, kernel, words, MmaKernels.WideThreads, 2);

        Action<KernelConfig, GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> Block(
            Action<GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> kernel) =>
            DynamicSharedMemory.Grouped(kernels, kernel, words, MmaKernels.WideBlockThreads, 1);
    }

    private static Action<KernelConfig, GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> Pipelined<T, TE>(
        KernelCache kernels, bool native, bool ldMatrix) where T : struct, IMmaType where TE : struct, MmaKernels.IMmaOutput => (native, ldMatrix) switch
        {
            (true, false) => Load(kernels, MmaKernels.GemmPipelined<T, MmaKernels.NativePath, TE>),
            (true, true) => Load(kernels, MmaKernels.GemmPipelined<T, MmaKernels.NativeLdMatrixPath, TE>),
            (false, false) => Load(kernels, MmaKernels.GemmPipelined<T, MmaKernels.EmulatedPath, TE>),
            (false, true) => Load(kernels, MmaKernels.GemmPipelined<T, MmaKernels.EmulatedLdMatrixPath, TE>),
        };

    private static Action<KernelConfig, GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> Pick<T, TE>(
        KernelCache kernels, bool native, bool ldMatrix, bool transA, bool vecA, bool transB, bool vecB)
        where T : struct, IMmaType where TE : struct, MmaKernels.IMmaOutput => (native, ldMatrix) switch
        {
            (true, false) => PickA<T, MmaKernels.NativePath, TE>(kernels, transA, vecA, transB, vecB),
            (true, true) => PickA<T, MmaKernels.NativeLdMatrixPath, TE>(kernels, transA, vecA, transB, vecB),
            (false, false) => PickA<T, MmaKernels.EmulatedPath, TE>(kernels, transA, vecA, transB, vecB),
            (false, true) => PickA<T, MmaKernels.EmulatedLdMatrixPath, TE>(kernels, transA, vecA, transB, vecB),
        };

    private static Action<KernelConfig, GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> PickA<T, TX, TE>(
        KernelCache kernels, bool transA, bool vecA, bool transB, bool vecB)
        where T : struct, IMmaType where TX : struct, MmaKernels.IMmaPath where TE : struct, MmaKernels.IMmaOutput =>
        (transA, vecA) switch
        {
            (false, false) => PickB<T, KMajorLayout, TX, TE>(kernels, transB, vecB),
            (false, true) => PickB<T, KMajorVecLayout, TX, TE>(kernels, transB, vecB),
            _ => PickB<T, RMajorLayout, TX, TE>(kernels, transB, vecB),
        };

    private static Action<KernelConfig, GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> PickB<T, TA, TX, TE>(
        KernelCache kernels, bool transB, bool vecB)
        where T : struct, IMmaType where TA : struct, IOperandLayout where TX : struct, MmaKernels.IMmaPath where TE : struct, MmaKernels.IMmaOutput =>
        (transB, vecB) switch
    {
        (false, _) => Load(kernels, MmaKernels.Gemm<T, TA, RMajorLayout, TX, TE>),
        (true, false) => Load(kernels, MmaKernels.Gemm<T, TA, KMajorLayout, TX, TE>),
        (true, true) => Load(kernels, MmaKernels.Gemm<T, TA, KMajorVecLayout, TX, TE>),
    };
}
