using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Ember.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// Float32/Float64 go through <see cref="MatMulKernel(int, int, int, float, float*, long, long, float*, long, long, float, float*, long, long, int)"/>
    /// per batch (a blocked, packed kernel; the fast GEMM of Ember.Cpu.Gemm replaces its body). Integer
    /// dtypes use a plain triple loop. Batches run in parallel when there are several.
    /// </remarks>
    public void MatMul(Tensor a, Tensor b, Tensor c, bool accumulate = false)
    {
        int batch = checked((int)c.shape[0]), m = checked((int)c.shape[1]), n = checked((int)c.shape[2]);
        int k = checked((int)a.shape[2]);
        if (batch == 0 || m == 0 || n == 0) return;
        switch (a.DType)
        {
            case DType.Float32: MatMulF32(a, b, c, accumulate, batch, m, n, k); break;
            case DType.Float64: MatMulF64(a, b, c, accumulate, batch, m, n, k); break;
            case DType.Int32: MatMulNaive<int>(a, b, c, accumulate); break;
            case DType.Int64: MatMulNaive<long>(a, b, c, accumulate); break;
            default: throw new NotSupportedException("CPU MatMul: Bool tensors are not supported.");
        }
    }

    // Batches run in parallel when there are several; a single batch gives all threads to the kernel.
    private static (bool Parallel, int InnerThreads) BatchPlan(int batch, long flopsPerBatch)
    {
        int threads = CpuThreads.Count;
        bool big = flopsPerBatch * batch >= 1 << 18;
        if (!big || threads == 1) return (false, 1);
        return batch > 1 ? (true, 1) : (false, threads);
    }

    private static unsafe void MatMulF32(Tensor a, Tensor b, Tensor c, bool accumulate, int batch, int m, int n, int k)
    {
        var ad = Data<float>(a); var bd = Data<float>(b); var cd = Data<float>(c);
        var (par, inner) = BatchPlan(batch, (long)m * n * k);
        void One(long i)
        {
            fixed (float* pa = ad, pb = bd, pc = cd)
                MatMulKernel(m, n, k, 1f, pa + a.offset + i * a.strides[0], a.strides[1], a.strides[2],
                    pb + b.offset + i * b.strides[0], b.strides[1], b.strides[2],
                    accumulate ? 1f : 0f, pc + c.offset + i * c.strides[0], c.strides[1], c.strides[2], inner);
        }
        if (par) Parallel.For(0L, batch, new ParallelOptions { MaxDegreeOfParallelism = CpuThreads.Count }, One);
        else for (long i = 0; i < batch; i++) One(i);
    }

    private static unsafe void MatMulF64(Tensor a, Tensor b, Tensor c, bool accumulate, int batch, int m, int n, int k)
    {
        var ad = Data<double>(a); var bd = Data<double>(b); var cd = Data<double>(c);
        var (par, inner) = BatchPlan(batch, (long)m * n * k);
        void One(long i)
        {
            fixed (double* pa = ad, pb = bd, pc = cd)
                MatMulKernel(m, n, k, 1.0, pa + a.offset + i * a.strides[0], a.strides[1], a.strides[2],
                    pb + b.offset + i * b.strides[0], b.strides[1], b.strides[2],
                    accumulate ? 1.0 : 0.0, pc + c.offset + i * c.strides[0], c.strides[1], c.strides[2], inner);
        }
        if (par) Parallel.For(0L, batch, new ParallelOptions { MaxDegreeOfParallelism = CpuThreads.Count }, One);
        else for (long i = 0; i < batch; i++) One(i);
    }

    /// <summary>
    /// c = alpha·a·b + beta·c for one [m,k]·[k,n] product with arbitrary element strides (beta = 0 never reads c).
    /// Swapping in the packed GEMM is a one-line change: <c>Gemm.Sgemm(m, n, k, alpha, a, …, threads)</c>.
    /// </summary>
    private static unsafe void MatMulKernel(int m, int n, int k, float alpha, float* a, long aRowStride, long aColStride,
        float* b, long bRowStride, long bColStride, float beta, float* c, long cRowStride, long cColStride, int threads) =>
        BlockedGemm<float>.Run(m, n, k, alpha, a, aRowStride, aColStride, b, bRowStride, bColStride, beta, c, cRowStride, cColStride, threads);

    /// <summary>Float64 version of <see cref="MatMulKernel(int, int, int, float, float*, long, long, float*, long, long, float, float*, long, long, int)"/>.</summary>
    private static unsafe void MatMulKernel(int m, int n, int k, double alpha, double* a, long aRowStride, long aColStride,
        double* b, long bRowStride, long bColStride, double beta, double* c, long cRowStride, long cColStride, int threads) =>
        BlockedGemm<double>.Run(m, n, k, alpha, a, aRowStride, aColStride, b, bRowStride, bColStride, beta, c, cRowStride, cColStride, threads);

    private static void MatMulNaive<T>(Tensor a, Tensor b, Tensor c, bool accumulate) where T : unmanaged, INumber<T>
    {
        var ad = Data<T>(a); var bd = Data<T>(b); var cd = Data<T>(c);
        long batch = c.shape[0], m = c.shape[1], n = c.shape[2], k = a.shape[2];
        for (long q = 0; q < batch; q++)
            for (long i = 0; i < m; i++)
                for (long j = 0; j < n; j++)
                {
                    T s = T.Zero;
                    for (long p = 0; p < k; p++)
                        s += ad[a.offset + q * a.strides[0] + i * a.strides[1] + p * a.strides[2]]
                           * bd[b.offset + q * b.strides[0] + p * b.strides[1] + j * b.strides[2]];
                    long ci = c.offset + q * c.strides[0] + i * c.strides[1] + j * c.strides[2];
                    cd[ci] = accumulate ? cd[ci] + s : s;
                }
    }
}

/// <summary>
/// A simple blocked GEMM: blocks of A (MC×KC, packed in groups of 4 rows) and B (KC×NC, packed row-major)
/// feed a 4 × 2·Vector&lt;T&gt;.Count register tile with FMA. Correct for any strides; tasks are blocks of C.
/// </summary>
internal static unsafe class BlockedGemm<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int MC = 64, KC = 256, NC = 256, MR = 4;

    public static void Run(int m, int n, int k, T alpha, T* a, long ars, long acs, T* b, long brs, long bcs,
        T beta, T* c, long crs, long ccs, int threads)
    {
        if (k == 0 || alpha == T.Zero)
        {
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    T* p = c + i * crs + j * ccs;
                    *p = beta == T.Zero ? T.Zero : beta * *p;
                }
            return;
        }
        int mBlocks = (m + MC - 1) / MC, nBlocks = (n + NC - 1) / NC;
        int tasks = mBlocks * nBlocks;
        nint pa = (nint)a, pb = (nint)b, pc = (nint)c;
        void Task(int t)
        {
            int ib = t / nBlocks, jb = t % nBlocks;
            Block((T*)pa, ars, acs, (T*)pb, brs, bcs, (T*)pc, crs, ccs, alpha, beta,
                ib * MC, Math.Min(MC, m - ib * MC), jb * NC, Math.Min(NC, n - jb * NC), k);
        }
        if (threads <= 1 || tasks == 1)
            for (int t = 0; t < tasks; t++) Task(t);
        else
            Parallel.For(0, tasks, new ParallelOptions { MaxDegreeOfParallelism = threads }, Task);
    }

    private static void Block(T* a, long ars, long acs, T* b, long brs, long bcs, T* c, long crs, long ccs,
        T alpha, T beta, int i0, int mc, int j0, int nc, int k)
    {
        int groups = (mc + MR - 1) / MR;
        var apBuf = ArrayPool<T>.Shared.Rent(groups * MR * KC);
        var bpBuf = ArrayPool<T>.Shared.Rent(KC * NC);
        fixed (T* ap = apBuf, bp = bpBuf)
        {
            for (int p0 = 0; p0 < k; p0 += KC)
            {
                int kc = Math.Min(KC, k - p0);
                // Pack A: ap[(g·kc + p)·MR + r] = alpha · A[i0 + g·MR + r, p0 + p] (zero rows past the edge).
                for (int g = 0; g < groups; g++)
                    for (int p = 0; p < kc; p++)
                        for (int r = 0; r < MR; r++)
                        {
                            int i = g * MR + r;
                            ap[(g * kc + p) * MR + r] = i < mc ? alpha * a[(i0 + i) * ars + (p0 + p) * acs] : T.Zero;
                        }
                // Pack B: bp[p·nc + j] = B[p0 + p, j0 + j].
                for (int p = 0; p < kc; p++)
                {
                    T* src = b + (p0 + p) * brs + j0 * bcs;
                    T* dst = bp + p * nc;
                    if (bcs == 1) new ReadOnlySpan<T>(src, nc).CopyTo(new Span<T>(dst, nc));
                    else for (int j = 0; j < nc; j++) dst[j] = src[j * bcs];
                }
                bool first = p0 == 0;
                T bta = first ? beta : T.One;
                for (int g = 0; g < groups; g++)
                {
                    int rows = Math.Min(MR, mc - g * MR);
                    T* c0 = c + (i0 + g * MR) * crs + j0 * ccs;
                    Micro(ap + g * kc * MR, bp, kc, nc, rows, c0, crs, ccs, bta);
                }
            }
        }
        ArrayPool<T>.Shared.Return(apBuf);
        ArrayPool<T>.Shared.Return(bpBuf);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Micro(T* ap, T* bp, int kc, int nc, int rows, T* c, long crs, long ccs, T beta)
    {
        int vl = Vector<T>.Count, w = 2 * vl;
        int j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; j + w <= nc; j += w)
            {
                Vector<T> c00 = default, c01 = default, c10 = default, c11 = default,
                          c20 = default, c21 = default, c30 = default, c31 = default;
                T* bq = bp + j;
                T* aq = ap;
                for (int p = 0; p < kc; p++, bq += nc, aq += MR)
                {
                    var b0 = Unsafe.ReadUnaligned<Vector<T>>(bq);
                    var b1 = Unsafe.ReadUnaligned<Vector<T>>(bq + vl);
                    var a0 = new Vector<T>(aq[0]); c00 = Fma(a0, b0, c00); c01 = Fma(a0, b1, c01);
                    var a1 = new Vector<T>(aq[1]); c10 = Fma(a1, b0, c10); c11 = Fma(a1, b1, c11);
                    var a2 = new Vector<T>(aq[2]); c20 = Fma(a2, b0, c20); c21 = Fma(a2, b1, c21);
                    var a3 = new Vector<T>(aq[3]); c30 = Fma(a3, b0, c30); c31 = Fma(a3, b1, c31);
                }
                Store(c, crs, ccs, j, vl, beta, rows, c00, c01, c10, c11, c20, c21, c30, c31);
            }
        }
        // Column tail (and the whole tile without SIMD): scalar dot products over the packed panels.
        for (; j < nc; j++)
            for (int r = 0; r < rows; r++)
            {
                T s = T.Zero;
                for (int p = 0; p < kc; p++) s += ap[p * MR + r] * bp[p * nc + j];
                T* q = c + r * crs + j * ccs;
                *q = beta == T.Zero ? s : beta * *q + s;
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> Fma(Vector<T> x, Vector<T> y, Vector<T> acc)
    {
        if (typeof(T) == typeof(float))
        {
            var r = Vector.FusedMultiplyAdd(Unsafe.As<Vector<T>, Vector<float>>(ref x), Unsafe.As<Vector<T>, Vector<float>>(ref y), Unsafe.As<Vector<T>, Vector<float>>(ref acc));
            return Unsafe.As<Vector<float>, Vector<T>>(ref r);
        }
        if (typeof(T) == typeof(double))
        {
            var r = Vector.FusedMultiplyAdd(Unsafe.As<Vector<T>, Vector<double>>(ref x), Unsafe.As<Vector<T>, Vector<double>>(ref y), Unsafe.As<Vector<T>, Vector<double>>(ref acc));
            return Unsafe.As<Vector<double>, Vector<T>>(ref r);
        }
        return x * y + acc;
    }

    private static void Store(T* c, long crs, long ccs, int j, int vl, T beta, int rows,
        Vector<T> c00, Vector<T> c01, Vector<T> c10, Vector<T> c11, Vector<T> c20, Vector<T> c21, Vector<T> c30, Vector<T> c31)
    {
        StoreRow(c, ccs, j, vl, beta, c00, c01);
        if (rows > 1) StoreRow(c + crs, ccs, j, vl, beta, c10, c11);
        if (rows > 2) StoreRow(c + 2 * crs, ccs, j, vl, beta, c20, c21);
        if (rows > 3) StoreRow(c + 3 * crs, ccs, j, vl, beta, c30, c31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(T* row, long ccs, int j, int vl, T beta, Vector<T> v0, Vector<T> v1)
    {
        if (ccs == 1)
        {
            T* q = row + j;
            if (beta == T.Zero)
            {
                Unsafe.WriteUnaligned(q, v0); Unsafe.WriteUnaligned(q + vl, v1);
            }
            else
            {
                var bv = new Vector<T>(beta);
                Unsafe.WriteUnaligned(q, bv * Unsafe.ReadUnaligned<Vector<T>>(q) + v0);
                Unsafe.WriteUnaligned(q + vl, bv * Unsafe.ReadUnaligned<Vector<T>>(q + vl) + v1);
            }
            return;
        }
        for (int e = 0; e < vl; e++)
        {
            T* q0 = row + (j + e) * ccs, q1 = row + (j + vl + e) * ccs;
            *q0 = beta == T.Zero ? v0[e] : beta * *q0 + v0[e];
            *q1 = beta == T.Zero ? v1[e] : beta * *q1 + v1[e];
        }
    }
}
