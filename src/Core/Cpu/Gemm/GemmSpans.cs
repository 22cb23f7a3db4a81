namespace Ember.Cpu;

// Safe BLAS-style overloads over spans of row-major matrices, for callers that do not hold pointers.
public static unsafe partial class Gemm
{
    /// <summary>
    /// Row-major single precision GEMM over spans, BLAS style:
    /// <c>C = alpha * op(A) * op(B) + beta * C</c>, where op(X) is X or its transpose, op(A) is [m, k], op(B) is
    /// [k, n] and C is [m, n]. A is stored as an [m, lda] (or, transposed, [k, lda]) row-major matrix, and so on.
    /// </summary>
    /// <param name="transA">Whether A is stored as its transpose ([k, m]).</param>
    /// <param name="transB">Whether B is stored as its transpose ([n, k]).</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">Stored A.</param>
    /// <param name="lda">Row length of stored A (at least its column count).</param>
    /// <param name="b">Stored B.</param>
    /// <param name="ldb">Row length of stored B (at least its column count).</param>
    /// <param name="beta">Scale of the previous C; zero means C is only written.</param>
    /// <param name="c">C, [m, ldc] row-major.</param>
    /// <param name="ldc">Row length of C (at least n).</param>
    /// <param name="threads">Most threads to use; 0 means <see cref="CpuThreads.Count"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, a leading dimension is too small, or a
    /// span is too short for the matrix it holds.</exception>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc, int threads = 0)
    {
        CheckSpans(nameof(Sgemm), transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        fixed (float* pa = a, pb = b, pc = c)
        {
            Sgemm(m, n, k, alpha, pa, transA ? 1 : lda, transA ? lda : 1, pb, transB ? 1 : ldb, transB ? ldb : 1,
                beta, pc, ldc, 1, threads);
        }
    }

    /// <summary>
    /// Row-major double precision GEMM over spans, BLAS style:
    /// <c>C = alpha * op(A) * op(B) + beta * C</c>, where op(X) is X or its transpose, op(A) is [m, k], op(B) is
    /// [k, n] and C is [m, n]. A is stored as an [m, lda] (or, transposed, [k, lda]) row-major matrix, and so on.
    /// </summary>
    /// <param name="transA">Whether A is stored as its transpose ([k, m]).</param>
    /// <param name="transB">Whether B is stored as its transpose ([n, k]).</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">Stored A.</param>
    /// <param name="lda">Row length of stored A (at least its column count).</param>
    /// <param name="b">Stored B.</param>
    /// <param name="ldb">Row length of stored B (at least its column count).</param>
    /// <param name="beta">Scale of the previous C; zero means C is only written.</param>
    /// <param name="c">C, [m, ldc] row-major.</param>
    /// <param name="ldc">Row length of C (at least n).</param>
    /// <param name="threads">Most threads to use; 0 means <see cref="CpuThreads.Count"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, a leading dimension is too small, or a
    /// span is too short for the matrix it holds.</exception>
    public static void Dgemm(bool transA, bool transB, int m, int n, int k, double alpha, ReadOnlySpan<double> a, int lda,
        ReadOnlySpan<double> b, int ldb, double beta, Span<double> c, int ldc, int threads = 0)
    {
        CheckSpans(nameof(Dgemm), transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        fixed (double* pa = a, pb = b, pc = c)
        {
            Dgemm(m, n, k, alpha, pa, transA ? 1 : lda, transA ? lda : 1, pb, transB ? 1 : ldb, transB ? ldb : 1,
                beta, pc, ldc, 1, threads);
        }
    }

    private static void CheckSpans(string name, bool transA, bool transB, int m, int n, int k,
        int aLength, int lda, int bLength, int ldb, int cLength, int ldc)
    {
        if (m < 0 || n < 0 || k < 0)
        {
            throw new ArgumentOutOfRangeException(m < 0 ? nameof(m) : n < 0 ? nameof(n) : nameof(k),
                $"{name}: sizes must be non-negative, got m={m}, n={n}, k={k}.");
        }
        CheckStored(name, "a", nameof(lda), transA ? k : m, transA ? m : k, aLength, lda, m > 0 && n > 0 && k > 0);
        CheckStored(name, "b", nameof(ldb), transB ? n : k, transB ? k : n, bLength, ldb, m > 0 && n > 0 && k > 0);
        CheckStored(name, "c", nameof(ldc), m, n, cLength, ldc, m > 0 && n > 0);
    }

    private static void CheckStored(string name, string operand, string ldName, int rows, int cols, int length, int ld, bool used)
    {
        if (ld < Math.Max(1, cols))
            throw new ArgumentOutOfRangeException(ldName, ld, $"{name}: {ldName} must be at least max(1, {cols}).");
        long needed = used ? (long)(rows - 1) * ld + cols : 0;
        if (length < needed)
        {
            throw new ArgumentOutOfRangeException(operand,
                $"{name}: {operand} holds {length} elements but a {rows} x {cols} matrix with leading dimension {ld} needs {needed}.");
        }
    }
}
