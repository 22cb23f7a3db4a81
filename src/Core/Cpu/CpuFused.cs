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
        int threads = CpuThreads.Count;
        long work = n * Math.Max(1, workPerItem);
        if (threads <= 1 || n < 2 || work <= 2 * Chunk) { body(0, (int)n); return; }
        int chunks = (int)Math.Min(Math.Min(threads * 4, n), (work + Chunk - 1) / Chunk);
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, c =>
        {
            long s = n * c / chunks, e = n * (c + 1) / chunks;
            body((int)s, (int)(e - s));
        });
    }

    private static bool IsCpuFloat(Tensor t) => t.Device.Type == DeviceType.Cpu && t.DType is DType.Float32 or DType.Float64;

    /// <summary>g·GELU′(x) (exact GELU) for same-shape CPU tensors; null otherwise.</summary>
    public static Tensor? GeluBackward(Tensor g, Tensor x)
    {
        if (!IsCpuFloat(x) || g.DType != x.DType || g.Device != x.Device || !g.shape.AsSpan().SequenceEqual(x.shape)) return null;
        var gc = g.ContiguousRaw(); var xc = x.ContiguousRaw();
        var r = Tensor.Alloc((long[])x.shape.Clone(), x.DType, x.Device);
        long n = r.Numel;
        if (x.DType == DType.Float32)
        {
            float[] gd = CpuBackend.Data<float>(gc), xd = CpuBackend.Data<float>(xc), rd = CpuBackend.Data<float>(r);
            long go = gc.offset, xo = xc.offset;
            ForChunks(n, (s, len) => FastMath.GeluBackward(gd.AsSpan((int)go + s, len), xd.AsSpan((int)xo + s, len), rd.AsSpan(s, len)));
        }
        else
        {
            double[] gd = CpuBackend.Data<double>(gc), xd = CpuBackend.Data<double>(xc), rd = CpuBackend.Data<double>(r);
            long go = gc.offset, xo = xc.offset;
            ForChunks(n, (s, len) => FastMath.GeluBackward(gd.AsSpan((int)go + s, len), xd.AsSpan((int)xo + s, len), rd.AsSpan(s, len)));
        }
        return r;
    }

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
            var acc = new double[w];
            var tmp = new T[w];
            for (int i0 = 0; i0 < m; i0 += Block)
            {
                Array.Clear(tmp);
                int i1 = Math.Min(m, i0 + Block);
                for (int i = i0; i < i1; i++)
                    System.Numerics.Tensors.TensorPrimitives.Add<T>(tmp, g.AsSpan((int)(go + (long)i * n + j0), w), tmp);
                for (int j = 0; j < w; j++) acc[j] += double.CreateTruncating(tmp[j]);
            }
            for (int j = 0; j < w; j++) result[ro + j0 + j] = T.CreateTruncating(acc[j]);
        }
        int threads = CpuThreads.Count;
        if (threads <= 1 || colChunks < 2 || (long)m * n < 65536) { for (int c = 0; c < colChunks; c++) Body(c); return; }
        Parallel.For(0, colChunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, Body);
    }

    /// <summary>ReLU's backward g·[y &gt; 0] (y the saved result) in one vectorized pass; null when not CPU float of equal shapes.</summary>
    public static Tensor? ReluBackward(Tensor g, Tensor y)
    {
        if (!IsCpuFloat(y) || g.DType != y.DType || g.Device != y.Device || !g.shape.AsSpan().SequenceEqual(y.shape)) return null;
        var gc = g.ContiguousRaw(); var yc = y.ContiguousRaw();
        var r = Tensor.Alloc((long[])y.shape.Clone(), y.DType, y.Device);
        if (y.DType == DType.Float32) Mask(CpuBackend.Data<float>(gc), gc.offset, CpuBackend.Data<float>(yc), yc.offset, CpuBackend.Data<float>(r), r.Numel);
        else Mask(CpuBackend.Data<double>(gc), gc.offset, CpuBackend.Data<double>(yc), yc.offset, CpuBackend.Data<double>(r), r.Numel);
        return r;
    }

    private static void Mask<T>(T[] g, long go, T[] y, long yo, T[] r, long n) where T : unmanaged, System.Numerics.INumber<T>
    {
        ForChunks(n, (s, len) =>
        {
            var gs = g.AsSpan((int)go + s, len); var ys = y.AsSpan((int)yo + s, len); var rs = r.AsSpan(s, len);
            int i = 0, w = System.Numerics.Vector<T>.Count;
            for (; i <= len - w; i += w)
            {
                var keep = System.Numerics.Vector.GreaterThan(new System.Numerics.Vector<T>(ys.Slice(i)), System.Numerics.Vector<T>.Zero);
                System.Numerics.Vector.ConditionalSelect(keep, new System.Numerics.Vector<T>(gs.Slice(i)), System.Numerics.Vector<T>.Zero).CopyTo(rs.Slice(i));
            }
            for (; i < len; i++) rs[i] = ys[i] > T.Zero ? gs[i] : T.Zero;
        });
    }
}
