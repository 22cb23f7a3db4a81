using System.Numerics;
using System.Runtime.Intrinsics;

namespace Ember.Cpu;

/// <summary>
/// General matrix multiply on the CPU (BLAS <c>?gemm</c>) over strided views:
/// <c>C = alpha * A * B + beta * C</c> with A of shape [m, k], B of shape [k, n] and C of shape [m, n].
/// </summary>
/// <remarks>
/// <para>Every operand is addressed by a row stride and a column stride in elements: element (i, j) of A is
/// <c>a[i * aRowStride + j * aColStride]</c>. A transposed operand is therefore only a swap of its strides
/// (a row-major A^T is <c>rowStride = 1, colStride = lda</c>), and views with padded leading dimensions or
/// non-unit column strides need no copy. Strides may be negative. The operands must not overlap C.</para>
/// <para>When <c>beta</c> is zero C is write-only: its previous contents, NaN and infinity included, are ignored.
/// When <c>alpha</c> is zero or k is zero, A and B are not read.</para>
/// <para>The implementation packs blocks of A and B into per-thread cached buffers (no allocation in the steady
/// state; a single product split over several threads packs each block of B once, shared by all threads, see
/// <see cref="GemmBlocking"/> for the cache blocking and its environment overrides) and runs an AVX-512 or AVX2 FMA register-tiled micro-kernel (a portable 128-bit kernel elsewhere),
/// split over up to <c>threads</c> threads. Results do not depend on the thread count: every element of C is
/// summed in the same order whatever the split.</para>
/// </remarks>
public static unsafe partial class Gemm
{
    /// <summary>
    /// Single precision: <c>C[i, j] = alpha * sum_p A[i, p] * B[p, j] + beta * C[i, j]</c> for i &lt; m, j &lt; n.
    /// </summary>
    /// <param name="m">Rows of A and C.</param>
    /// <param name="n">Columns of B and C.</param>
    /// <param name="k">Columns of A, rows of B.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">Element (0, 0) of A.</param>
    /// <param name="aRowStride">Elements between A[i, p] and A[i + 1, p].</param>
    /// <param name="aColStride">Elements between A[i, p] and A[i, p + 1].</param>
    /// <param name="b">Element (0, 0) of B.</param>
    /// <param name="bRowStride">Elements between B[p, j] and B[p + 1, j].</param>
    /// <param name="bColStride">Elements between B[p, j] and B[p, j + 1].</param>
    /// <param name="beta">Scale of the previous C; zero means C is only written.</param>
    /// <param name="c">Element (0, 0) of C.</param>
    /// <param name="cRowStride">Elements between C[i, j] and C[i + 1, j].</param>
    /// <param name="cColStride">Elements between C[i, j] and C[i, j + 1].</param>
    /// <param name="threads">Most threads to use; 0 means <see cref="CpuThreads.Count"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">m, n, k or threads is negative.</exception>
    /// <exception cref="ArgumentNullException">A needed operand pointer is null.</exception>
    public static void Sgemm(int m, int n, int k, float alpha, float* a, long aRowStride, long aColStride,
        float* b, long bRowStride, long bColStride, float beta, float* c, long cRowStride, long cColStride,
        int threads = 0)
        => Run(nameof(Sgemm), 1, m, n, k, alpha, a, 0, aRowStride, aColStride, b, 0, bRowStride, bColStride,
            beta, c, 0, cRowStride, cColStride, threads);

    /// <summary>
    /// Double precision: <c>C[i, j] = alpha * sum_p A[i, p] * B[p, j] + beta * C[i, j]</c> for i &lt; m, j &lt; n.
    /// </summary>
    /// <param name="m">Rows of A and C.</param>
    /// <param name="n">Columns of B and C.</param>
    /// <param name="k">Columns of A, rows of B.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">Element (0, 0) of A.</param>
    /// <param name="aRowStride">Elements between A[i, p] and A[i + 1, p].</param>
    /// <param name="aColStride">Elements between A[i, p] and A[i, p + 1].</param>
    /// <param name="b">Element (0, 0) of B.</param>
    /// <param name="bRowStride">Elements between B[p, j] and B[p + 1, j].</param>
    /// <param name="bColStride">Elements between B[p, j] and B[p, j + 1].</param>
    /// <param name="beta">Scale of the previous C; zero means C is only written.</param>
    /// <param name="c">Element (0, 0) of C.</param>
    /// <param name="cRowStride">Elements between C[i, j] and C[i + 1, j].</param>
    /// <param name="cColStride">Elements between C[i, j] and C[i, j + 1].</param>
    /// <param name="threads">Most threads to use; 0 means <see cref="CpuThreads.Count"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">m, n, k or threads is negative.</exception>
    /// <exception cref="ArgumentNullException">A needed operand pointer is null.</exception>
    public static void Dgemm(int m, int n, int k, double alpha, double* a, long aRowStride, long aColStride,
        double* b, long bRowStride, long bColStride, double beta, double* c, long cRowStride, long cColStride,
        int threads = 0)
        => Run(nameof(Dgemm), 1, m, n, k, alpha, a, 0, aRowStride, aColStride, b, 0, bRowStride, bColStride,
            beta, c, 0, cRowStride, cColStride, threads);

    /// <summary>
    /// Batched single precision: for every batch entry t &lt; batch,
    /// <c>C_t = alpha * A_t * B_t + beta * C_t</c>, where operand X_t starts at <c>x + t * xBatchStride</c>.
    /// </summary>
    /// <remarks>
    /// A batch stride of 0 for A or B broadcasts that operand to every entry. A batch stride of 0 for C (with
    /// batch &gt; 1) accumulates instead: <c>C = alpha * sum_t A_t * B_t + beta * C</c>.
    /// </remarks>
    /// <param name="batch">Number of products.</param>
    /// <param name="m">Rows of A and C.</param>
    /// <param name="n">Columns of B and C.</param>
    /// <param name="k">Columns of A, rows of B.</param>
    /// <param name="alpha">Scale of the products.</param>
    /// <param name="a">Element (0, 0) of A_0.</param>
    /// <param name="aBatchStride">Elements between A_t and A_(t+1); 0 broadcasts A.</param>
    /// <param name="aRowStride">Elements between A[i, p] and A[i + 1, p].</param>
    /// <param name="aColStride">Elements between A[i, p] and A[i, p + 1].</param>
    /// <param name="b">Element (0, 0) of B_0.</param>
    /// <param name="bBatchStride">Elements between B_t and B_(t+1); 0 broadcasts B.</param>
    /// <param name="bRowStride">Elements between B[p, j] and B[p + 1, j].</param>
    /// <param name="bColStride">Elements between B[p, j] and B[p, j + 1].</param>
    /// <param name="beta">Scale of the previous C; zero means C is only written.</param>
    /// <param name="c">Element (0, 0) of C_0.</param>
    /// <param name="cBatchStride">Elements between C_t and C_(t+1); 0 sums the products into one C.</param>
    /// <param name="cRowStride">Elements between C[i, j] and C[i + 1, j].</param>
    /// <param name="cColStride">Elements between C[i, j] and C[i, j + 1].</param>
    /// <param name="threads">Most threads to use; 0 means <see cref="CpuThreads.Count"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">batch, m, n, k or threads is negative.</exception>
    /// <exception cref="ArgumentNullException">A needed operand pointer is null.</exception>
    public static void SgemmBatched(int batch, int m, int n, int k, float alpha,
        float* a, long aBatchStride, long aRowStride, long aColStride,
        float* b, long bBatchStride, long bRowStride, long bColStride, float beta,
        float* c, long cBatchStride, long cRowStride, long cColStride, int threads = 0)
        => Run(nameof(SgemmBatched), batch, m, n, k, alpha, a, aBatchStride, aRowStride, aColStride,
            b, bBatchStride, bRowStride, bColStride, beta, c, cBatchStride, cRowStride, cColStride, threads);

    /// <summary>
    /// Batched double precision: for every batch entry t &lt; batch,
    /// <c>C_t = alpha * A_t * B_t + beta * C_t</c>, where operand X_t starts at <c>x + t * xBatchStride</c>.
    /// </summary>
    /// <remarks>
    /// A batch stride of 0 for A or B broadcasts that operand to every entry. A batch stride of 0 for C (with
    /// batch &gt; 1) accumulates instead: <c>C = alpha * sum_t A_t * B_t + beta * C</c>.
    /// </remarks>
    /// <param name="batch">Number of products.</param>
    /// <param name="m">Rows of A and C.</param>
    /// <param name="n">Columns of B and C.</param>
    /// <param name="k">Columns of A, rows of B.</param>
    /// <param name="alpha">Scale of the products.</param>
    /// <param name="a">Element (0, 0) of A_0.</param>
    /// <param name="aBatchStride">Elements between A_t and A_(t+1); 0 broadcasts A.</param>
    /// <param name="aRowStride">Elements between A[i, p] and A[i + 1, p].</param>
    /// <param name="aColStride">Elements between A[i, p] and A[i, p + 1].</param>
    /// <param name="b">Element (0, 0) of B_0.</param>
    /// <param name="bBatchStride">Elements between B_t and B_(t+1); 0 broadcasts B.</param>
    /// <param name="bRowStride">Elements between B[p, j] and B[p + 1, j].</param>
    /// <param name="bColStride">Elements between B[p, j] and B[p, j + 1].</param>
    /// <param name="beta">Scale of the previous C; zero means C is only written.</param>
    /// <param name="c">Element (0, 0) of C_0.</param>
    /// <param name="cBatchStride">Elements between C_t and C_(t+1); 0 sums the products into one C.</param>
    /// <param name="cRowStride">Elements between C[i, j] and C[i + 1, j].</param>
    /// <param name="cColStride">Elements between C[i, j] and C[i, j + 1].</param>
    /// <param name="threads">Most threads to use; 0 means <see cref="CpuThreads.Count"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">batch, m, n, k or threads is negative.</exception>
    /// <exception cref="ArgumentNullException">A needed operand pointer is null.</exception>
    public static void DgemmBatched(int batch, int m, int n, int k, double alpha,
        double* a, long aBatchStride, long aRowStride, long aColStride,
        double* b, long bBatchStride, long bRowStride, long bColStride, double beta,
        double* c, long cBatchStride, long cRowStride, long cColStride, int threads = 0)
        => Run(nameof(DgemmBatched), batch, m, n, k, alpha, a, aBatchStride, aRowStride, aColStride,
            b, bBatchStride, bRowStride, bColStride, beta, c, cBatchStride, cRowStride, cColStride, threads);

    private static void Run<T>(string name, int batch, int m, int n, int k, T alpha,
        T* a, long aBatch, long aRow, long aCol, T* b, long bBatch, long bRow, long bCol, T beta,
        T* c, long cBatch, long cRow, long cCol, int threads)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (batch < 0 || m < 0 || n < 0 || k < 0)
        {
            throw new ArgumentOutOfRangeException(batch < 0 ? nameof(batch) : m < 0 ? nameof(m) : n < 0 ? nameof(n) : nameof(k),
                $"{name}: sizes must be non-negative, got batch={batch}, m={m}, n={n}, k={k}.");
        }
        if (threads < 0)
            throw new ArgumentOutOfRangeException(nameof(threads), threads, $"{name}: threads must be 0 (the default) or positive.");
        if (batch == 0 || m == 0 || n == 0)
            return;
        if (c is null)
            throw new ArgumentNullException(nameof(c), $"{name}: C is null for a {m} x {n} result.");
        if (k > 0 && alpha != T.Zero && (a is null || b is null))
            throw new ArgumentNullException(a is null ? nameof(a) : nameof(b), $"{name}: an operand is null with m={m}, n={n}, k={k}.");

        // A column-major C (unit row stride) is computed as C^T = B^T * A^T, so the kernel writes along rows.
        if (cCol != 1 && cRow == 1)
        {
            (m, n) = (n, m);
            T* swap = a;
            a = b;
            b = swap;
            (aBatch, bBatch) = (bBatch, aBatch);
            (aRow, aCol, bRow, bCol) = (bCol, bRow, aCol, aRow);
            (cRow, cCol) = (cCol, cRow);
        }

        GemmProblem<T> problem = default;
        problem.Batch = batch; problem.M = m; problem.N = n; problem.K = k;
        problem.Alpha = alpha; problem.Beta = beta;
        problem.A = a; problem.ABatch = aBatch; problem.ARow = aRow; problem.ACol = aCol;
        problem.B = b; problem.BBatch = bBatch; problem.BRow = bRow; problem.BCol = bCol;
        problem.C = c; problem.CBatch = cBatch; problem.CRow = cRow; problem.CCol = cCol;
        int count = threads == 0 ? CpuThreads.Count : threads;

        // A single row or column of output is a matrix-vector product: stream it instead of packing.
        if (m == 1 || n == 1)
        {
            GemmVector<T>.Execute(&problem, count);
            return;
        }
        if (typeof(T) == typeof(float))
            RunSingle((GemmProblem<float>*)&problem, count);
        else
            RunDouble((GemmProblem<double>*)&problem, count);
    }

    private static void RunSingle(GemmProblem<float>* problem, int threads)
    {
        if (Kernel512<float, Avx512SingleShape>.IsSupported)
            GemmDriver<float, Kernel512<float, Avx512SingleShape>>.Execute(problem, threads);
        else if (Kernel256<float, Avx2SingleShape>.IsSupported)
            GemmDriver<float, Kernel256<float, Avx2SingleShape>>.Execute(problem, threads);
        else
            GemmDriver<float, Kernel128<float, PortableShape>>.Execute(problem, threads);
    }

    private static void RunDouble(GemmProblem<double>* problem, int threads)
    {
        if (Kernel512<double, Avx512DoubleShape>.IsSupported)
            GemmDriver<double, Kernel512<double, Avx512DoubleShape>>.Execute(problem, threads);
        else if (Kernel256<double, Avx2DoubleShape>.IsSupported)
            GemmDriver<double, Kernel256<double, Avx2DoubleShape>>.Execute(problem, threads);
        else
            GemmDriver<double, Kernel128<double, PortableShape>>.Execute(problem, threads);
    }
}
