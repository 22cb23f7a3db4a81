using ILGPU;
using ILGPU.Runtime;
using Ember.Ilgpu.Ops;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// Float32 operands that are row-major or transposed matrices (one unit stride each, C row-major) go to
    /// <see cref="IlgpuGemm"/> (register-blocked tiles); everything else, and Float64, to a shared-memory tiled
    /// kernel over arbitrary strides. Transposed views and stride-0 broadcast batches are read in place.
    /// </remarks>
    public void MatMul(Tensor a, Tensor b, Tensor c, bool accumulate = false)
    {
        // The tiled kernel is floating-point only. Integer products run in float64, exactly while every partial sum stays
        // below 2^53 (always for the 8/16-bit integers: |a·b| ≤ 2^30, so up to 2^23 terms), and wrap back to the dtype.
        if (a.DType.IsInteger()) { MatMulViaFloat64(a, b, c, accumulate); return; }
        // Float16/BFloat16: the float32 GEMM on widened copies, rounded once (a tensor-core kernel will replace this on CUDA).
        // Float16/BFloat16 on CUDA ≥ sm_80: the tensor-core GEMM (float32 accumulation, rounded once), where the layouts allow.
        if ((c.DType == DType.Float16 || c.DType == DType.BFloat16) && a.DType == c.DType && b.DType == c.DType
            && IlgpuMmaGemm.IsSupported(Dev(c)) && TryGemm16(Dev(c), a, b, c, accumulate)) return;
        // Without accumulation the float32 product writes all of c, so c's stand-in needs no widened copy of c.
        if (ReducedPrecision.Any(a, b, c))
        {
            ReducedPrecision.ViaFloat32(this, [a, b], [c], (i, o) => MatMul(i[0]!, i[1]!, o[0]!, accumulate), overwritten: !accumulate && a.ShapeSpan[2] > 0);
            return;
        }
        long batch = c.ShapeSpan[0], m = c.ShapeSpan[1], n = c.ShapeSpan[2], k = a.ShapeSpan[2];
        if (batch == 0 || m == 0 || n == 0) return;
        var d = Dev(c);
        if (c.DType == DType.Float32 && TrySgemm(d, a, b, c, batch, m, n, k, accumulate)) return;
        var p = new MatMulParams
        {
            M = m, N = n, K = k,
            A0 = a.ShapeSpan[0] == 1 ? 0 : a.StridesSpan[0], A1 = a.StridesSpan[1], A2 = a.StridesSpan[2],
            B0 = b.ShapeSpan[0] == 1 ? 0 : b.StridesSpan[0], B1 = b.StridesSpan[1], B2 = b.StridesSpan[2],
            C0 = c.StridesSpan[0], C1 = c.StridesSpan[1], C2 = c.StridesSpan[2],
            AOff = a.StorageOffset, BOff = b.StorageOffset, COff = c.StorageOffset,
        };
        int ts = d.Accelerator.AcceleratorType == AcceleratorType.CPU ? 4 : 16;
        while (ts > 1 && ts * ts > d.Accelerator.MaxNumThreadsPerGroup) ts /= 2;
        if (batch > 65535 || (m + ts - 1) / ts > 65535) throw new NotSupportedException($"ILGPU backend: MatMul grid too large (batch {batch}, M {m}).");
        var cfg = new KernelConfig(
            new Index3D(checked((int)((n + ts - 1) / ts)), (int)((m + ts - 1) / ts), (int)batch),
            new Index3D(ts, ts, 1));
        int acc = accumulate ? 1 : 0;
        if (c.DType == DType.Float32)
            LoadGroupedKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, MatMulParams, int>(d, MatMulKernels.Tiled<float, F32>)(
                cfg, ViewOf<float>(a), ViewOf<float>(b), ViewOf<float>(c), p, acc);
        else
            LoadGroupedKernel<ArrayView<double>, ArrayView<double>, ArrayView<double>, MatMulParams, int>(d, MatMulKernels.Tiled<double, F64>)(
                cfg, ViewOf<double>(a), ViewOf<double>(b), ViewOf<double>(c), p, acc);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Float32 with BLAS layouts: one launch of <see cref="IlgpuGemm.SgemmBias"/> (the bias added in the GEMM's epilogue,
    /// after the sum over K, as cuBLAS's epilogue for PyTorch's addmm; split-K adds it once, in its reduction) instead of
    /// a broadcast copy of the bias and an accumulating GEMM. Other dtypes and layouts, and the TF32 kernel, run the composite.
    /// </remarks>
    public void Linear(Tensor x, Tensor weight, Tensor bias, Tensor y)
    {
        if (x.DType == DType.Float32 && weight.DType == DType.Float32 && bias.DType == DType.Float32 && y.DType == DType.Float32
            && bias.IsContiguous && y.ShapeSpan[0] > 0 && y.ShapeSpan[1] > 0)
        {
            Tensor a = x.Unsqueeze(0), b = weight.T.Unsqueeze(0), c = y.Unsqueeze(0);
            long m = c.ShapeSpan[1], n = c.ShapeSpan[2], k = a.ShapeSpan[2];
            if (Blas(a, b, c, out var l) && IlgpuGemm.SgemmBias(Dev(y), l.TransA, l.TransB, (int)m, (int)n, (int)k,
                    1f, ViewAt<float>(a), l.Lda, l.StrideA, ViewAt<float>(b), l.Ldb, l.StrideB,
                    0f, ViewAt<float>(c), l.Ldc, l.StrideC, ViewAt<float>(bias)))
                return;
        }
        CompositeKernels.Linear(this, x, weight, bias, y);
    }

    private void MatMulViaFloat64(Tensor a, Tensor b, Tensor c, bool accumulate)
    {
        var wide = new[] { a, b, c }.Select(t => { var w = Tensor.Empty(t.Shape, DType.Float64, t.Device); Copy(t, w); return w; }).ToArray();
        MatMul(wide[0], wide[1], wide[2], accumulate);
        // Through Int64 so that a result beyond the dtype's range wraps as the CPU's integer arithmetic does.
        var exact = Tensor.Empty(c.Shape, DType.Int64, c.Device);
        Copy(wide[2], exact);
        Copy(exact, c);
    }

    /// <summary>Runs the product through <see cref="IlgpuGemm.Sgemm(IlgpuDevice, bool, bool, int, int, int, float, ArrayView{float}, int, long, ArrayView{float}, int, long, float, ArrayView{float}, int, long, int, GemmAlgorithm)"/> when the layouts allow it.</summary>
    private static bool TrySgemm(IlgpuDevice d, Tensor a, Tensor b, Tensor c, long batch, long m, long n, long k, bool accumulate)
    {
        if (!Blas(a, b, c, out var l)) return false;
        IlgpuGemm.Sgemm(d, l.TransA, l.TransB, (int)m, (int)n, (int)k,
            1f, ViewAt<float>(a), l.Lda, l.StrideA,
            ViewAt<float>(b), l.Ldb, l.StrideB,
            accumulate ? 1f : 0f, ViewAt<float>(c), l.Ldc, l.StrideC, (int)batch);
        return true;
    }

    /// <summary>Runs a Float16/BFloat16 product through <see cref="IlgpuMmaGemm.Gemm16"/> (tensor cores) when the layouts allow it.</summary>
    private static bool TryGemm16(IlgpuDevice d, Tensor a, Tensor b, Tensor c, bool accumulate)
    {
        if (!Blas(a, b, c, out var l)) return false;
        long batch = c.ShapeSpan[0], m = c.ShapeSpan[1], n = c.ShapeSpan[2], k = a.ShapeSpan[2];
        if (batch == 0 || batch > 65535 || (m + MmaKernels.BM - 1) / MmaKernels.BM > 65535) return false;   // grid limits
        var precision = c.DType == DType.Float16 ? MmaPrecision.Float16 : MmaPrecision.BFloat16;
        IlgpuMmaGemm.Gemm16(d, precision, l.TransA, l.TransB, (int)m, (int)n, (int)k,
            1f, ViewAt<ushort>(a), l.Lda, l.StrideA,
            ViewAt<ushort>(b), l.Ldb, l.StrideB,
            accumulate ? 1f : 0f, ViewAt<ushort>(c), l.Ldc, l.StrideC, (int)batch);
        return true;
    }

    /// <summary>Leading dimensions, transposes and batch strides of a BLAS-style (batched) product.</summary>
    private readonly record struct BlasLayout(bool TransA, int Lda, long StrideA, bool TransB, int Ldb, long StrideB, int Ldc, long StrideC);

    /// <summary>
    /// Describes <c>c = a · b</c> ([batch, m, k] · [batch, k, n]) as BLAS storage: each operand row-major or transposed
    /// (one unit stride), C row-major, sizes within int, batch entries of C not overlapping. False otherwise.
    /// </summary>
    private static bool Blas(Tensor a, Tensor b, Tensor c, out BlasLayout layout)
    {
        layout = default;
        long batch = c.ShapeSpan[0], m = c.ShapeSpan[1], n = c.ShapeSpan[2], k = a.ShapeSpan[2];
        if (c.StridesSpan[2] != 1 && n > 1) return false;
        if (!Operand(a, m, k, out bool ta, out long lda) || !Operand(b, k, n, out bool tb, out long ldb)) return false;
        long ldc = m > 1 ? c.StridesSpan[1] : n;
        long sa = a.ShapeSpan[0] == 1 ? 0 : a.StridesSpan[0], sb = b.ShapeSpan[0] == 1 ? 0 : b.StridesSpan[0], sc = c.StridesSpan[0];
        if (ldc < n || sa < 0 || sb < 0 || sc < 0 || batch > int.MaxValue || m > int.MaxValue || n > int.MaxValue || k > int.MaxValue
            || lda > int.MaxValue || ldb > int.MaxValue || ldc > int.MaxValue) return false;
        if (batch > 1 && sc < (m - 1) * ldc + n) return false;
        layout = new BlasLayout(ta, (int)lda, sa, tb, (int)ldb, sb, (int)ldc, sc);
        return true;
    }

    /// <summary>Describes a [rows, cols] matrix view as BLAS storage: row-major (ld = row stride) or transposed (ld = column stride).</summary>
    private static bool Operand(Tensor t, long rows, long cols, out bool trans, out long ld)
    {
        long rs = t.StridesSpan[1], cs = t.StridesSpan[2];
        trans = false; ld = 0;
        if (cs == 1 || cols == 1) { ld = rows > 1 ? rs : cols; if (ld >= cols && ld >= 1) return true; }
        if (rs == 1 || rows == 1) { trans = true; ld = cols > 1 ? cs : rows; if (ld >= rows && ld >= 1) return true; }
        return false;
    }
}
