using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ember.Cpu;

/// <summary>
/// The matrix-vector shapes of GEMM (m == 1 or n == 1), which are bound by memory bandwidth: packing would
/// double the traffic and a register tile would be mostly padding, so they stream the matrix once instead.
/// </summary>
/// <remarks>
/// Both shapes become y = alpha * M x + beta * y with M of shape [rows, cols]: for n == 1, M = A and x is B's
/// column; for m == 1, M = B^T and x is A's row. Rows with unit column stride use dot products; columns with unit
/// row stride use axpy updates of y; anything else uses a strided dot product.
/// </remarks>
internal static unsafe class GemmVector<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Matrix elements below which splitting over threads is not worth it.</summary>
    private const long ElementsPerThread = 1L << 18;

    /// <summary>Rows of y updated together by the axpy form (fits L1 with room for the streamed columns).</summary>
    private const int AxpyBlock = 2048;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Execute(GemmProblem<T>* p, int threads)
    {
        long elements = (long)p->M * p->N * p->K;
        int rows = p->N == 1 ? p->M : p->N;
        int parts = (int)Math.Clamp(elements * p->Batch / ElementsPerThread, 1, Math.Min(threads, Math.Max(1, rows / 64)));
        p->Parts = parts;
        if (parts == 1)
            Part(p, 0);
        else
            GemmWorkers.Run(parts, &Part, p);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Part(void* context, int part)
    {
        var p = (GemmProblem<T>*)context;
        bool column = p->N == 1;
        int rows = column ? p->M : p->N;
        // Split y into contiguous chunks, 64-element aligned so vectors stay whole.
        int chunk = (rows / p->Parts + 63) & ~63;
        int r0 = Math.Min(rows, part * chunk), r1 = part == p->Parts - 1 ? rows : Math.Min(rows, r0 + chunk);
        if (r0 >= r1)
            return;
        for (int t = 0; t < p->Batch; t++)
        {
            T beta = t > 0 && p->CBatch == 0 ? T.One : p->Beta;
            T* a = p->A + t * p->ABatch, b = p->B + t * p->BBatch, c = p->C + t * p->CBatch;
            if (column)
                Gemv(r1 - r0, p->K, p->Alpha, a + r0 * p->ARow, p->ARow, p->ACol, b, p->BRow, beta, c + r0 * p->CRow, p->CRow);
            else
                Gemv(r1 - r0, p->K, p->Alpha, b + r0 * p->BCol, p->BCol, p->BRow, a, p->ACol, beta, c + r0 * p->CCol, p->CCol);
        }
    }

    /// <summary>y = alpha * M x + beta * y (y only written when beta is zero).</summary>
    private static void Gemv(int rows, int cols, T alpha, T* m, long mrs, long mcs, T* x, long xs, T beta, T* y, long ys)
    {
        if (cols == 0 || alpha == T.Zero)
        {
            for (int i = 0; i < rows; i++)
                y[i * ys] = beta == T.Zero ? T.Zero : beta * y[i * ys];
            return;
        }
        if (mrs == 1 && mcs != 1 && ys == 1)
        {
            Axpy(rows, cols, alpha, m, mcs, x, xs, beta, y);
            return;
        }
        for (int i = 0; i < rows; i++)
        {
            T* row = m + i * mrs;
            T dot = mcs == 1 && xs == 1 ? Dot(row, x, cols) : StridedDot(row, mcs, x, xs, cols);
            y[i * ys] = beta == T.Zero ? alpha * dot : alpha * dot + beta * y[i * ys];
        }
    }

    /// <summary>Column form: y = beta * y, then y += (alpha * x[p]) * M[:, p] for every p, a block of y at a time.</summary>
    private static void Axpy(int rows, int cols, T alpha, T* m, long mcs, T* x, long xs, T beta, T* y)
    {
        for (int i0 = 0; i0 < rows; i0 += AxpyBlock)
        {
            int count = Math.Min(AxpyBlock, rows - i0);
            T* yb = y + i0;
            for (int i = 0; i < count; i++)
                yb[i] = beta == T.Zero ? T.Zero : beta * yb[i];
            for (int p = 0; p < cols; p++)
            {
                T s = alpha * x[p * xs];
                T* col = m + p * mcs + i0;
                int i = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    Vector256<T> vs = Vector256.Create(s);
                    for (; i <= count - Vector256<T>.Count; i += Vector256<T>.Count)
                        Vector256.Store(Vector256.Load(yb + i) + vs * Vector256.Load(col + i), yb + i);
                }
                for (; i < count; i++)
                    yb[i] += s * col[i];
            }
        }
    }

    private static T Dot(T* u, T* v, int n)
    {
        int i = 0;
        T sum = T.Zero;
        if (Vector256.IsHardwareAccelerated && n >= 4 * Vector256<T>.Count)
        {
            int w = Vector256<T>.Count;
            Vector256<T> s0 = Vector256<T>.Zero, s1 = s0, s2 = s0, s3 = s0;
            for (; i <= n - 4 * w; i += 4 * w)
            {
                s0 += Vector256.Load(u + i) * Vector256.Load(v + i);
                s1 += Vector256.Load(u + i + w) * Vector256.Load(v + i + w);
                s2 += Vector256.Load(u + i + 2 * w) * Vector256.Load(v + i + 2 * w);
                s3 += Vector256.Load(u + i + 3 * w) * Vector256.Load(v + i + 3 * w);
            }
            for (; i <= n - w; i += w)
                s0 += Vector256.Load(u + i) * Vector256.Load(v + i);
            sum = Vector256.Sum((s0 + s1) + (s2 + s3));
        }
        for (; i < n; i++)
            sum += u[i] * v[i];
        return sum;
    }

    private static T StridedDot(T* u, long us, T* v, long vs, int n)
    {
        T sum = T.Zero;
        for (int i = 0; i < n; i++)
            sum += u[i * us] * v[i * vs];
        return sum;
    }
}
