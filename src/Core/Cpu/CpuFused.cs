using System.Buffers;

namespace Ember.Cpu;

/// <summary>
/// Fused CPU kernels behind the CPU backend's members and the elementwise backward formulas (one pass and one
/// allocation instead of a chain of elementwise ops). Each returns null (or false) when it does not apply
/// (another device or dtype), and the caller falls back to its composite formula.
/// </summary>
internal static class CpuFused
{
    private const int Chunk = 1 << 14;

    /// <summary>
    /// Runs body(start, length) over [0, n) in chunks, in parallel over <see cref="CpuThreads.Count"/> when
    /// n·workPerItem is large (items are elements, or rows of workPerItem elements).
    /// </summary>
    internal static void ForChunks(long n, Action<int, int> body, long workPerItem = 1)
    {
        long work = n * Math.Max(1, workPerItem);
        if (n < 2 || work <= 2 * Chunk) { body(0, (int)n); return; }
        CpuParallel.For(n, workPerItem, (s, count) => body((int)s, (int)count));
    }

    private static bool IsCpuFloat(Tensor t) => t.Device.Type == DeviceType.Cpu && t.DType is DType.Float32 or DType.Float64;

    /// <summary>
    /// Column sums of a contiguous CPU float matrix g [m, n] into result [n] (the bias gradient of Linear): rows are added
    /// in float over blocks of 64, the block sums in double. False (nothing written) when g is not a contiguous CPU float
    /// matrix or result is not contiguous.
    /// </summary>
    public static bool ColumnSum(Tensor g, Tensor result)
    {
        if (!IsCpuFloat(g) || g.Dim != 2 || !g.IsContiguous || !result.IsContiguous || result.DType != g.DType) return false;
        int m = (int)g.shape[0], n = (int)g.shape[1];
        if (g.DType == DType.Float32) ColumnSumT(CpuBackend.Data<float>(g), g.offset, m, n, n, CpuBackend.Data<float>(result), result.offset);
        else ColumnSumT(CpuBackend.Data<double>(g), g.offset, m, n, n, CpuBackend.Data<double>(result), result.offset);
        return true;
    }

    /// <summary>
    /// A sum over the inner dim of the 2-D reduction view x [outer, inner] (the reduced dims last) whose outer dim is
    /// contiguous (a sum over leading dims: sum(0) of a matrix, a broadcast's gradient): summed as the column sums of the
    /// matrix whose rows are x's inner index, each row a contiguous run of the outer outputs, instead of gathering every
    /// output's strided inputs. False (nothing written) when x is not a float view of that form with at least 16 outputs
    /// and 2 terms, or values is not a contiguous vector of x's dtype.
    /// </summary>
    public static bool StridedSum(Tensor x, Tensor values)
    {
        if (!IsCpuFloat(x) || x.Dim != 2 || values.DType != x.DType) return false;
        long outer = x.shape[0], inner = x.shape[1];
        if (x.strides[0] != 1 || outer < 16 || inner < 2 || outer > int.MaxValue || inner > int.MaxValue) return false;
        if (values.Numel != outer || (values.Dim == 1 && values.strides[0] != 1) || values.Dim > 1) return false;
        if (x.DType == DType.Float32)
            ColumnSumT(CpuBackend.Data<float>(x), x.offset, (int)inner, (int)outer, x.strides[1], CpuBackend.Data<float>(values), values.offset);
        else
            ColumnSumT(CpuBackend.Data<double>(x), x.offset, (int)inner, (int)outer, x.strides[1], CpuBackend.Data<double>(values), values.offset);
        return true;
    }

    /// <summary>
    /// Rows per block of a blocked sum over <paramref name="rows"/> rows of <paramref name="cols"/> columns whose block
    /// sums are kept in a scratch of (blocks × cols): 64, more where that scratch would pass 4,096 blocks or 2^24 values.
    /// The block depends only on the shape, never on the thread count.
    /// </summary>
    internal static long SumBlockRows(long rows, long cols)
    {
        long slots = Math.Clamp((1L << 24) / Math.Max(1, cols), 1, 4096);
        return Math.Max(64, (rows + slots - 1) / slots);
    }

    // Column sums of the m x n matrix g[go + i·ld + j] (rows contiguous) into result[ro + j].
    private static void ColumnSumT<T>(T[] g, long go, int m, int n, long ld, T[] result, long ro) where T : unmanaged, System.Numerics.INumber<T>
    {
        // Each 64-row block's column sums are added in T, row after row (elementwise, so the column split does not change
        // them); the block sums are then added in double, block after block. Blocks and column chunks are independent
        // items of one parallel loop (a bias gradient [2048, 1024] is 32 items, not 2 column chunks as before), and
        // the order of every sum is fixed, so the result is the same bits at any thread count. Very tall or wide matrices
        // take longer blocks (SumBlockRows), to bound the scratch.
        const int Width = 1024;
        int block = (int)SumBlockRows(m, n);
        int blocks = (m + block - 1) / block, chunks = (n + Width - 1) / Width;
        T[] sums = ArrayPool<T>.Shared.Rent(blocks * n);
        void BlockSums(long item)
        {
            int b = (int)(item / chunks), j0 = (int)(item % chunks) * Width, w = Math.Min(Width, n - j0);
            var dst = sums.AsSpan(b * n + j0, w);
            dst.Clear();
            for (int i = b * block, i1 = Math.Min(m, i + block); i < i1; i++)
                System.Numerics.Tensors.TensorPrimitives.Add<T>(dst, g.AsSpan((int)(go + i * ld + j0), w), dst);
        }
        void Total(long chunk)
        {
            int j0 = (int)chunk * Width, w = Math.Min(Width, n - j0);
            double[] accArray = ArrayPool<double>.Shared.Rent(w);
            Span<double> acc = accArray.AsSpan(0, w);
            acc.Clear();
            for (int b = 0; b < blocks; b++)
            {
                var row = sums.AsSpan(b * n + j0, w);
                for (int j = 0; j < w; j++) acc[j] += double.CreateTruncating(row[j]);
            }
            for (int j = 0; j < w; j++) result[ro + j0 + j] = T.CreateTruncating(acc[j]);
            ArrayPool<double>.Shared.Return(accArray);
        }
        try
        {
            if ((long)m * n < 65536)
            {
                for (long item = 0; item < (long)blocks * chunks; item++) BlockSums(item);
                for (long c = 0; c < chunks; c++) Total(c);
                return;
            }
            CpuParallel.For((long)blocks * chunks, (long)block * Width, (i0, count) => { for (long i = i0; i < i0 + count; i++) BlockSums(i); });
            CpuParallel.For(chunks, (long)blocks * Width, (c0, count) => { for (long c = c0; c < c0 + count; c++) Total(c); });
        }
        finally
        {
            ArrayPool<T>.Shared.Return(sums);
        }
    }
}
