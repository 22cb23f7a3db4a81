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
        if (g.DType == DType.Float32) ColumnSumT(CpuBackend.Data<float>(g), g.offset, m, n, CpuBackend.Data<float>(result), result.offset);
        else ColumnSumT(CpuBackend.Data<double>(g), g.offset, m, n, CpuBackend.Data<double>(result), result.offset);
        return true;
    }

    private static void ColumnSumT<T>(T[] g, long go, int m, int n, T[] result, long ro) where T : unmanaged, System.Numerics.INumber<T>
    {
        const int Block = 64, Width = 512;
        int colChunks = (n + Width - 1) / Width;
        void Body(int cc)
        {
            int j0 = cc * Width, w = Math.Min(Width, n - j0);
            // Scratch from the shared array pool (no arrays per call and chunk), cut to w; acc starts from zero.
            double[] accArray = ArrayPool<double>.Shared.Rent(w);
            T[] tmpArray = ArrayPool<T>.Shared.Rent(w);
            Span<double> acc = accArray.AsSpan(0, w);
            Span<T> tmp = tmpArray.AsSpan(0, w);
            acc.Clear();
            for (int i0 = 0; i0 < m; i0 += Block)
            {
                tmp.Clear();
                int i1 = Math.Min(m, i0 + Block);
                for (int i = i0; i < i1; i++)
                    System.Numerics.Tensors.TensorPrimitives.Add<T>(tmp, g.AsSpan((int)(go + (long)i * n + j0), w), tmp);
                for (int j = 0; j < w; j++) acc[j] += double.CreateTruncating(tmp[j]);
            }
            for (int j = 0; j < w; j++) result[ro + j0 + j] = T.CreateTruncating(acc[j]);
            ArrayPool<double>.Shared.Return(accArray);
            ArrayPool<T>.Shared.Return(tmpArray);
        }
        if (colChunks < 2 || (long)m * n < 65536) { for (int c = 0; c < colChunks; c++) Body(c); return; }
        CpuParallel.For(colChunks, (long)m * Width, (c0, count) => { for (long c = c0; c < c0 + count; c++) Body((int)c); });
    }
}
