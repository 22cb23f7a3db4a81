using ILGPU;
using ILGPU.Runtime;

namespace Ember.Ilgpu;

/// <summary>
/// Single-precision (batched) matrix multiplication on an ILGPU device:
/// <c>C[i] = alpha · op(A[i]) · op(B[i]) + beta · C[i]</c> for i in 0..batch-1, row-major storage.
/// The work is queued on the device's default stream; call <see cref="IlgpuDevice.Synchronize"/> to wait.
/// </summary>
public static partial class IlgpuGemm
{
    /// <summary>Problems with fewer multiply-adds than this (per batch entry) use the naive kernel under <see cref="GemmAlgorithm.Auto"/>.</summary>
    public const long NaiveThreshold = 32L * 32 * 32;

    /// <summary>
    /// Queues <c>C = alpha · op(A) · op(B) + beta · C</c> for <paramref name="batch"/> matrices.
    /// </summary>
    /// <param name="device">The device the views belong to.</param>
    /// <param name="transA">False: A is stored M×K (element (m, k) at <c>m·lda + k</c>); true: stored K×M (at <c>k·lda + m</c>).</param>
    /// <param name="transB">False: B is stored K×N (element (k, n) at <c>k·ldb + n</c>); true: stored N×K (at <c>n·ldb + k</c>).</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">A's elements (first matrix at index 0).</param>
    /// <param name="lda">Leading dimension of A as stored (at least its column count).</param>
    /// <param name="strideA">Elements between batch entries of A (0 reuses one A).</param>
    /// <param name="b">B's elements.</param>
    /// <param name="ldb">Leading dimension of B as stored.</param>
    /// <param name="strideB">Elements between batch entries of B (0 reuses one B).</param>
    /// <param name="beta">Scale of the old C; 0 means C is only written.</param>
    /// <param name="c">C's elements.</param>
    /// <param name="ldc">Leading dimension of C (at least n).</param>
    /// <param name="strideC">Elements between batch entries of C.</param>
    /// <param name="batch">Number of matrices (at least 1).</param>
    /// <param name="algorithm">Which kernel to use.</param>
    /// <exception cref="ArgumentException">A size, leading dimension, stride or view length is inconsistent; the message names it.</exception>
    public static void Sgemm(IlgpuDevice device, bool transA, bool transB, int m, int n, int k,
        float alpha, ArrayView<float> a, int lda, long strideA,
        ArrayView<float> b, int ldb, long strideB,
        float beta, ArrayView<float> c, int ldc, long strideC,
        int batch = 1, GemmAlgorithm algorithm = GemmAlgorithm.Auto) =>
        Run(device, transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch, algorithm, default, GemmEpilogue.None);

    /// <summary>
    /// Queues <c>C = alpha · op(A) · op(B) + beta · C + bias</c> (bias [n] broadcast along the rows of C) in one launch
    /// (two with split-K: the bias is added once, in the reduction), as Linear's forward with bias. The bias is added
    /// after the sum over K, as cuBLAS's epilogue does for PyTorch's addmm, so the result may differ from starting the
    /// sum at the bias by float32 rounding. Returns false, having queued nothing, when the kernel
    /// <paramref name="algorithm"/> resolves to has no bias epilogue (<see cref="GemmAlgorithm.Tf32"/>).
    /// </summary>
    /// <param name="device">The device the views belong to.</param>
    /// <param name="transA">As <see cref="Sgemm(IlgpuDevice, bool, bool, int, int, int, float, ArrayView{float}, int, long, ArrayView{float}, int, long, float, ArrayView{float}, int, long, int, GemmAlgorithm)"/>.</param>
    /// <param name="transB">As for Sgemm.</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C, and the bias's length.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">A's elements.</param>
    /// <param name="lda">Leading dimension of A as stored.</param>
    /// <param name="strideA">Elements between batch entries of A.</param>
    /// <param name="b">B's elements.</param>
    /// <param name="ldb">Leading dimension of B as stored.</param>
    /// <param name="strideB">Elements between batch entries of B.</param>
    /// <param name="beta">Scale of the old C; 0 means C is only written.</param>
    /// <param name="c">C's elements.</param>
    /// <param name="ldc">Leading dimension of C.</param>
    /// <param name="strideC">Elements between batch entries of C.</param>
    /// <param name="bias">The bias row: element j is added to column j of every row (at least n elements, contiguous).</param>
    /// <param name="batch">Number of matrices (at least 1); every batch entry gets the same bias.</param>
    /// <param name="algorithm">Which kernel to use (<see cref="GemmAlgorithm.TiledK16Async"/> runs as <see cref="GemmAlgorithm.TiledK16"/>).</param>
    /// <returns>True when the product was queued; false when the algorithm has no bias epilogue.</returns>
    /// <exception cref="ArgumentException">A size, leading dimension, stride or view length is inconsistent; the message names it.</exception>
    public static bool SgemmBias(IlgpuDevice device, bool transA, bool transB, int m, int n, int k,
        float alpha, ArrayView<float> a, int lda, long strideA,
        ArrayView<float> b, int ldb, long strideB,
        float beta, ArrayView<float> c, int ldc, long strideC, ArrayView<float> bias,
        int batch = 1, GemmAlgorithm algorithm = GemmAlgorithm.Auto)
    {
        if (n > 0 && bias.Length < n)
            throw new ArgumentException($"SgemmBias: the bias needs {n} elements but its view has {bias.Length}.");
        return Run(device, transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch, algorithm, bias, GemmEpilogue.RowBias);
    }

    /// <summary>Sgemm with or without a bias epilogue (<paramref name="epilogue"/>); false when the algorithm has none (nothing queued).</summary>
    private static bool Run(IlgpuDevice device, bool transA, bool transB, int m, int n, int k,
        float alpha, ArrayView<float> a, int lda, long strideA,
        ArrayView<float> b, int ldb, long strideB,
        float beta, ArrayView<float> c, int ldc, long strideC,
        int batch, GemmAlgorithm algorithm, ArrayView<float> bias, GemmEpilogue epilogue)
    {
        bool hasBias = epilogue != GemmEpilogue.None, column = epilogue == GemmEpilogue.ColumnBias;
        ArgumentNullException.ThrowIfNull(device);
        if (m < 0 || n < 0 || k < 0 || batch < 1)
            throw new ArgumentException($"Sgemm: sizes must be non-negative and batch at least 1, got m={m}, n={n}, k={k}, batch={batch}.");
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        Check("A", aRows, aCols, lda, strideA, batch, a.Length, transA);
        Check("B", bRows, bCols, ldb, strideB, batch, b.Length, transB);
        Check("C", m, n, ldc, strideC, batch, c.Length, false);
        if (batch > 1 && strideC < (long)(m - 1) * ldc + n && m > 0 && n > 0)
            throw new ArgumentException($"Sgemm: strideC={strideC} makes batch entries of C ({m}x{n}, ldc={ldc}) overlap.");
        if (m == 0 || n == 0) return true;

        var p = new GemmParams
        {
            M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc,
            StrideA = strideA, StrideB = strideB, StrideC = strideC, Alpha = alpha, Beta = beta,
            VecC = Vectorizable(c, ldc, strideC, batch) ? 1 : 0,
            TransA = transA ? 1 : 0, TransB = transB ? 1 : 0,
        };
        if (algorithm == GemmAlgorithm.Auto)
            algorithm = (long)m * n * k < NaiveThreshold ? GemmAlgorithm.Naive
                : IlgpuBackend.UseTF32(device) && IlgpuMmaGemm.IsSupported(device) ? GemmAlgorithm.Tf32
                // The 16-deep stages on CUDA (H100, 4096/8192: 40.8k/41.0k against 37.1k/37.0k GFLOP/s); elsewhere the
                // 8-deep kernel, which is what OpenCL and the CPU accelerator were measured and tested with most.
                : device.Accelerator.AcceleratorType == ILGPU.Runtime.AcceleratorType.Cuda ? GemmAlgorithm.TiledK16 : GemmAlgorithm.Tiled;
        if (algorithm == GemmAlgorithm.Tf32)
        {
            if (hasBias) return false;
            IlgpuMmaGemm.Tf32(device, transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch);
            return true;
        }
        // The cp.async kernel has no bias variant: its register-prefetch sibling takes the bias.
        if (hasBias && algorithm == GemmAlgorithm.TiledK16Async) algorithm = GemmAlgorithm.TiledK16;

        var kernels = device.Kernels;
        if (algorithm != GemmAlgorithm.Naive && batch == 1 && k > 0)
        {
            int splits = Splits(m, n, k, device.Accelerator.NumMultiprocessors, algorithm == GemmAlgorithm.SplitK);
            if (splits > 1)
            {
                // Split-K: the K range is cut into `splits` slabs run as a batch of independent products into a
                // workspace, then summed (with alpha, beta) into C. Fills the device when C has few 128×128 tiles.
                int kc = k / splits;
                long mn = (long)m * n;
                using var ws = device.Allocator.Allocate(4 * mn * splits);
                var w = ws.View<float>(mn * splits);
                Sgemm(device, transA, transB, m, n, kc, 1f, a, lda, transA ? (long)kc * lda : kc,
                    b, ldb, transB ? kc : (long)kc * ldb, 0f, w, n, mn, splits,
                    algorithm is GemmAlgorithm.TiledK16 or GemmAlgorithm.TiledK16Async ? algorithm : GemmAlgorithm.Tiled);
                var sp = p;
                sp.K = splits;
                if (hasBias)
                    kernels.AutoGrouped<Index1D, GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>>(
                        column ? GemmKernels.SumSplitsColumnBias : GemmKernels.SumSplitsBias)(checked((int)mn), sp, w, c, bias);
                else
                    kernels.AutoGrouped<Index1D, GemmParams, ArrayView<float>, ArrayView<float>>(GemmKernels.SumSplits)(
                        checked((int)mn), sp, w, c);
                return true;
            }
        }
        if (algorithm == GemmAlgorithm.Naive)
        {
            if (hasBias)
                kernels.AutoGrouped<Index3D, GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(
                    column ? GemmKernels.NaiveColumnBias : GemmKernels.NaiveBias)(new Index3D(n, m, batch), p, a, b, c, bias);
            else
                kernels.AutoGrouped<Index3D, GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GemmKernels.Naive)(
                    new Index3D(n, m, batch), p, a, b, c);
            return true;
        }
        var config = new KernelConfig(
            new Index3D((n + GemmKernels.BN - 1) / GemmKernels.BN, (m + GemmKernels.BM - 1) / GemmKernels.BM, batch),
            new Index3D(GemmKernels.Threads, 1, 1));
        // A is K-major unless transposed, B is K-major when transposed; 16-byte loads need alignment and, for operands
        // contiguous along M/N, a multiple of 4 rows: the loads past the last whole group of four are clamped to it, so
        // with 10 rows (padded to 12) rows 8, 9 would read rows 4, 5.
        bool vecA = Vectorizable(a, lda, strideA, batch) && (!transA || m % 4 == 0);
        bool vecB = Vectorizable(b, ldb, strideB, batch) && (transB || n % 4 == 0);
        if (algorithm == GemmAlgorithm.TiledK16Async)
        {
            // Operands contiguous along M/N are copied in 16-byte chunks (aligned rows needed); K-contiguous ones
            // element by element (any alignment). Otherwise, and on CUDA devices without cp.async (compute capability
            // below 8.0), the register-prefetch kernel runs.
            bool cuda = device.Accelerator.AcceleratorType == ILGPU.Runtime.AcceleratorType.Cuda;
            bool native = IlgpuMmaGemm.IsSupported(device);
            if ((!transA || Vectorizable(a, lda, strideA, batch)) && (transB || Vectorizable(b, ldb, strideB, batch)) && native == cuda)
            {
                if (native)
                {
                    // cp.async takes raw addresses; ILGPU gives kernels no view's address, the host does.
                    p.AddressA = (ulong)a.LoadEffectiveAddressAsPtr().ToInt64();
                    p.AddressB = (ulong)b.LoadEffectiveAddressAsPtr().ToInt64();
                }
                PickAsync(kernels, transA, transB, native)(config, p, a, b, c);
                return true;
            }
            algorithm = GemmAlgorithm.TiledK16;
        }
        bool k16 = algorithm == GemmAlgorithm.TiledK16;
        if (hasBias)
        {
            LaunchBias(kernels, transA, vecA, transB, vecB, k16, column)(config, p, a, b, c, bias);
            return true;
        }
        var launch = (transA, vecA) switch
        {
            (false, false) => PickB<KMajorLayout>(kernels, transB, vecB, k16),
            (false, true) => PickB<KMajorVecLayout>(kernels, transB, vecB, k16),
            (true, false) => PickB<RMajorLayout>(kernels, transB, vecB, k16),
            (true, true) => PickB<RMajorVecLayout>(kernels, transB, vecB, k16),
        };
        launch(config, p, a, b, c);
        return true;
    }

    /// <summary>Unbatched <c>C = op(A) · op(B)</c> with dense leading dimensions.</summary>
    /// <exception cref="ArgumentException">The views are too short for the sizes.</exception>
    public static void Sgemm(IlgpuDevice device, bool transA, bool transB, int m, int n, int k,
        ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmAlgorithm algorithm = GemmAlgorithm.Auto) =>
        Sgemm(device, transA, transB, m, n, k, 1f, a, transA ? m : k, 0, b, transB ? k : n, 0, 0f, c, n, 0, 1, algorithm);

    /// <summary>Split-K workspaces hold at most this many floats (16 MB).</summary>
    internal const long WorkspaceFloats = 1L << 22;

    /// <summary>The most K slabs an M×N product's split-K workspace (M·N·slabs floats) allows, at least 2.</summary>
    internal static long WorkspaceSlabs(int m, int n) => Math.Max(2, WorkspaceFloats / ((long)m * n));

    /// <summary>
    /// How many K slabs an unbatched product is split into: more than one only when its 128×128 tiles fill at most
    /// half of the <paramref name="multiprocessors"/> and K is long, so each slab keeps at least 64 of K (a multiple
    /// of 4, for aligned 16-byte loads). <paramref name="force"/> (<see cref="GemmAlgorithm.SplitK"/>) splits whenever K allows.
    /// </summary>
    internal static int Splits(int m, int n, int k, int multiprocessors, bool force)
    {
        long tiles = (long)((m + GemmKernels.BM - 1) / GemmKernels.BM) * ((n + GemmKernels.BN - 1) / GemmKernels.BN);
        if (!force && (tiles * 2 > multiprocessors || k < 256)) return 1;
        // One slab per multiprocessor: a weight gradient's [O, K]·[K, C·kH·kW] (one tile, K = batch·H·W in the 10⁴–10⁵)
        // needs ~130 slabs to fill an H100 (capped at 32 until the twelfth session, which left 100 SMs idle); the
        // workspace (M·N·slabs floats) is at most WorkspaceFloats.
        long target = force ? 4 : Math.Min(Math.Min(256, multiprocessors / tiles), WorkspaceSlabs(m, n));
        for (long s = target; s >= 2; s--)
            if (k % s == 0 && k / s % 4 == 0 && (force || k / s >= 64)) return (int)s;
        return 1;
    }

    private static Action<KernelConfig, GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>> PickB<TA>(
        KernelCache kernels, bool transB, bool vecB, bool k16) where TA : struct, IOperandLayout => (transB, vecB) switch
    {
        (false, false) => Pick<TA, RMajorLayout>(kernels, k16),
        (false, true) => Pick<TA, RMajorVecLayout>(kernels, k16),
        (true, false) => Pick<TA, KMajorLayout>(kernels, k16),
        (true, true) => Pick<TA, KMajorVecLayout>(kernels, k16),
    };

    private static Action<KernelConfig, GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>> Pick<TA, TB>(KernelCache kernels, bool k16)
        where TA : struct, IOperandLayout where TB : struct, IOperandLayout =>
        k16 ? kernels.Grouped<GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GemmKernels.Tiled16<TA, TB>)
            : kernels.Grouped<GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GemmKernels.Tiled<TA, TB>);

    /// <summary>
    /// The <c>cp.async</c> kernel for the transposes (<paramref name="native"/>: CUDA's copies, else plain ones), loaded
    /// with its PTX rewritten on CUDA (operand slots in registers, launch bounds of 256 threads × 2 blocks per SM).
    /// </summary>
    private static Action<KernelConfig, GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>> PickAsync(
        KernelCache kernels, bool transA, bool transB, bool native) => native
        ? PickAsync<NativeAsyncCopy>(kernels, transA, transB)
        : PickAsync<EmulatedAsyncCopy>(kernels, transA, transB);

    private static Action<KernelConfig, GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>> PickAsync<TX>(
        KernelCache kernels, bool transA, bool transB) where TX : struct, IAsyncCopy => (transA, transB) switch
    {
        (false, false) => kernels.GroupedTuned<GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>>(
            GemmKernels.Tiled16Async<KMajorLayout, RMajorLayout, TX>, GemmKernels.Threads, 2),
        (false, true) => kernels.GroupedTuned<GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>>(
            GemmKernels.Tiled16Async<KMajorLayout, KMajorLayout, TX>, GemmKernels.Threads, 2),
        (true, false) => kernels.GroupedTuned<GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>>(
            GemmKernels.Tiled16Async<RMajorLayout, RMajorLayout, TX>, GemmKernels.Threads, 2),
        (true, true) => kernels.GroupedTuned<GemmParams, ArrayView<float>, ArrayView<float>, ArrayView<float>>(
            GemmKernels.Tiled16Async<RMajorLayout, KMajorLayout, TX>, GemmKernels.Threads, 2),
    };

    private static void Check(string name, int rows, int cols, int ld, long stride, int batch, long length, bool trans) =>
        Check("Sgemm", name, rows, cols, ld, stride, batch, length, trans);

    /// <summary>Validates one operand of <paramref name="op"/>: leading dimension, stride and view length (in elements).</summary>
    /// <exception cref="ArgumentException">The message names the op, the operand and what was expected.</exception>
    internal static void Check(string op, string name, int rows, int cols, int ld, long stride, int batch, long length, bool trans)
    {
        if (rows == 0 || cols == 0) return;
        if (ld < cols)
            throw new ArgumentException($"{op}: ld{name.ToLowerInvariant()}={ld} is less than the {cols} columns of {name} as stored ({rows}x{cols}{(trans ? ", transposed" : "")}).");
        if (stride < 0)
            throw new ArgumentException($"{op}: stride{name}={stride} is negative.");
        long last = (long)(rows - 1) * ld + cols - 1;
        if (last >= int.MaxValue)
            throw new ArgumentException($"{op}: one {name} matrix spans {last + 1} elements; at most {int.MaxValue} are supported.");
        long need = (batch - 1) * stride + last + 1;
        if (need > length)
            throw new ArgumentException($"{op}: {name} needs {need} elements ({batch} x {rows}x{cols}, ld={ld}, stride={stride}) but its view has {length}.");
    }

    private static bool Vectorizable(ArrayView<float> v, int ld, long stride, int batch) =>
        ((IContiguousArrayView)v).IndexInBytes % 16 == 0 && ld % 4 == 0 && (batch == 1 || stride % 4 == 0);
}
