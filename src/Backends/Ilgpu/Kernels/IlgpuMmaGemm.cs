using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Ember.Ilgpu;

/// <summary>
/// Tensor-core (batched) matrix multiplication, <c>C[i] = alpha · op(A[i]) · op(B[i]) + beta · C[i]</c>, row-major
/// storage, float32 accumulation: TF32 for float32 operands, F16 and BF16 for 16-bit operands (passed as their bit
/// patterns). On CUDA devices of compute capability 8.0 or newer (<see cref="IsSupported"/>) it runs <c>mma.sync</c>
/// through inline PTX; on any other device (older GPUs included) the same kernel runs with each <c>mma</c> K step emulated per lane (exact
/// float32 products of the rounded operands: a slow reference, used by the tests on ilgpu-cpu).
/// </summary>
public static class IlgpuMmaGemm
{
    /// <summary>True when <paramref name="device"/> runs the tensor-core kernels natively (CUDA, compute capability ≥ 8.0).</summary>
    public static bool IsSupported(IlgpuDevice device) =>
        device.Accelerator is CudaAccelerator cuda && cuda.Architecture.Major >= 8;

    /// <summary>
    /// Whether float32 products on CUDA may use TF32 tensor cores (PyTorch's <c>torch.backends.cuda.matmul.allow_tf32</c>;
    /// off by default). Starts from the environment variable <c>EMBER_ALLOW_TF32=1</c>.
    /// </summary>
    internal static bool AllowTf32 { get; set; } = Environment.GetEnvironmentVariable("EMBER_ALLOW_TF32") == "1";

    /// <summary>
    /// Queues a TF32 tensor-core SGEMM: operands rounded to TF32 (to nearest, ties away), products summed in float32.
    /// Arguments as <see cref="IlgpuGemm.Sgemm(IlgpuDevice, bool, bool, int, int, int, float, ArrayView{float}, int, long, ArrayView{float}, int, long, float, ArrayView{float}, int, long, int, GemmAlgorithm)"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A size, leading dimension, stride or view length is inconsistent; the message names it.</exception>
    public static void Tf32(IlgpuDevice device, bool transA, bool transB, int m, int n, int k,
        float alpha, ArrayView<float> a, int lda, long strideA,
        ArrayView<float> b, int ldb, long strideB,
        float beta, ArrayView<float> c, int ldc, long strideC, int batch = 1)
    {
        ArgumentNullException.ThrowIfNull(device);
        Validate("Tf32Gemm", transA, transB, m, n, k, lda, strideA, a.Length, ldb, strideB, b.Length, ldc, strideC, c.Length, batch);
        if (m == 0 || n == 0) return;
        Launch<Tf32Mma>(device, transA, transB, m, n, k, alpha, a.Cast<ushort>(), lda, strideA, Aligned(a),
            b.Cast<ushort>(), ldb, strideB, Aligned(b), beta, c.Cast<ushort>(), ldc, strideC, batch, 4);
    }

    /// <summary>
    /// Queues a 16-bit tensor-core GEMM: A, B and C hold IEEE half (<see cref="MmaPrecision.Float16"/>) or bfloat16
    /// (<see cref="MmaPrecision.BFloat16"/>) bit patterns; products are summed in float32 and C is rounded to the type
    /// (nearest even). Other arguments as <see cref="Tf32"/>, counted in 16-bit elements.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="precision"/> is not a 16-bit type, or a size, leading dimension,
    /// stride or view length is inconsistent; the message names it.</exception>
    public static void Gemm16(IlgpuDevice device, MmaPrecision precision, bool transA, bool transB, int m, int n, int k,
        float alpha, ArrayView<ushort> a, int lda, long strideA,
        ArrayView<ushort> b, int ldb, long strideB,
        float beta, ArrayView<ushort> c, int ldc, long strideC, int batch = 1)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (precision == MmaPrecision.Tf32)
            throw new ArgumentException("Gemm16: precision must be Float16 or BFloat16 (16-bit views); use Tf32 for float32 views.", nameof(precision));
        Validate("Gemm16", transA, transB, m, n, k, lda, strideA, a.Length, ldb, strideB, b.Length, ldc, strideC, c.Length, batch);
        if (m == 0 || n == 0) return;
        bool va = Aligned(a), vb = Aligned(b);
        if (precision == MmaPrecision.Float16)
            Launch<F16Mma>(device, transA, transB, m, n, k, alpha, a, lda, strideA, va, b, ldb, strideB, vb, beta, c, ldc, strideC, batch, 8);
        else
            Launch<Bf16Mma>(device, transA, transB, m, n, k, alpha, a, lda, strideA, va, b, ldb, strideB, vb, beta, c, ldc, strideC, batch, 8);
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

    /// <summary>Picks the layout specialization and launches; <paramref name="perChunk"/> elements make 16 bytes.</summary>
    private static void Launch<T>(IlgpuDevice device, bool transA, bool transB, int m, int n, int k, float alpha,
        ArrayView<ushort> a, int lda, long strideA, bool alignedA, ArrayView<ushort> b, int ldb, long strideB, bool alignedB,
        float beta, ArrayView<ushort> c, int ldc, long strideC, int batch, int perChunk) where T : struct, IMmaType
    {
        var p = new GemmParams
        {
            M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc,
            StrideA = strideA, StrideB = strideB, StrideC = strideC, Alpha = alpha, Beta = beta,
            TransA = transA ? 1 : 0, TransB = transB ? 1 : 0,
        };
        // 16-byte loads only for K-contiguous operands (A not transposed, B transposed) whose rows all start aligned.
        bool vecA = !transA && alignedA && lda % perChunk == 0 && (batch == 1 || strideA % perChunk == 0);
        bool vecB = transB && alignedB && ldb % perChunk == 0 && (batch == 1 || strideB % perChunk == 0);
        var config = new KernelConfig(
            new Index3D((n + MmaKernels.BN - 1) / MmaKernels.BN, (m + MmaKernels.BM - 1) / MmaKernels.BM, batch),
            new Index3D(MmaKernels.Threads, 1, 1));
        var kernels = device.Kernels;
        var launch = IsSupported(device) ? PickA<T, MmaKernels.NativePath>(kernels, transA, vecA, transB, vecB)
            : PickA<T, MmaKernels.EmulatedPath>(kernels, transA, vecA, transB, vecB);
        launch(config, p, a, b, c);
    }

    private static Action<KernelConfig, GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> PickA<T, TX>(
        KernelCache kernels, bool transA, bool vecA, bool transB, bool vecB) where T : struct, IMmaType where TX : struct, MmaKernels.IMmaPath =>
        (transA, vecA) switch
        {
            (false, false) => PickB<T, KMajorLayout, TX>(kernels, transB, vecB),
            (false, true) => PickB<T, KMajorVecLayout, TX>(kernels, transB, vecB),
            _ => PickB<T, RMajorLayout, TX>(kernels, transB, vecB),
        };

    private static Action<KernelConfig, GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>> PickB<T, TA, TX>(
        KernelCache kernels, bool transB, bool vecB) where T : struct, IMmaType where TA : struct, IOperandLayout where TX : struct, MmaKernels.IMmaPath =>
        (transB, vecB) switch
    {
        (false, _) => kernels.Grouped<GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>>(MmaKernels.Gemm<T, TA, RMajorLayout, TX>),
        (true, false) => kernels.Grouped<GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>>(MmaKernels.Gemm<T, TA, KMajorLayout, TX>),
        (true, true) => kernels.Grouped<GemmParams, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>>(MmaKernels.Gemm<T, TA, KMajorVecLayout, TX>),
    };
}
