namespace Ember.Cpu;

/// <summary>
/// A 3-D strided window [count, rows, cols] of a tensor's storage: what the CPU attention kernels hand to the GEMM for
/// one batch of heads, without making a <see cref="Tensor"/> view per batch (perf's gpt made about 1,800 views and
/// their shape arrays per step this way).
/// </summary>
internal readonly struct Block3(Tensor source, long offset, long count, long rows, long cols, long batchStride, long rowStride, long colStride)
{
    /// <summary>The tensor whose storage the window reads.</summary>
    public readonly Tensor Source = source;
    /// <summary>Offset of element [0, 0, 0] in the storage, in elements.</summary>
    public readonly long Offset = offset;
    /// <summary>Number of matrices.</summary>
    public readonly long Count = count;
    /// <summary>Rows of each matrix.</summary>
    public readonly long Rows = rows;
    /// <summary>Columns of each matrix.</summary>
    public readonly long Cols = cols;
    /// <summary>Element strides of the three dims.</summary>
    public readonly long BatchStride = batchStride, RowStride = rowStride, ColStride = colStride;

    /// <summary>The transposed window (the last two dims swapped), as <see cref="Tensor.mT"/>.</summary>
    public Block3 T => new(Source, Offset, Count, Cols, Rows, BatchStride, ColStride, RowStride);

    /// <summary>The same window moved by <paramref name="elements"/>.</summary>
    public Block3 Shifted(long elements) => new(Source, Offset + elements, Count, Rows, Cols, BatchStride, RowStride, ColStride);

    /// <summary>Matrix <paramref name="index"/> alone (a window of count 1), or the whole window when index is negative.</summary>
    public Block3 Matrix(long index) => index < 0 ? this : new(Source, Offset + index * BatchStride, 1, Rows, Cols, BatchStride, RowStride, ColStride);

    /// <summary>Rows [<paramref name="start"/>, start + <paramref name="count"/>) of every matrix.</summary>
    public Block3 RowRange(long start, long count) => new(Source, Offset + start * RowStride, Count, count, Cols, BatchStride, RowStride, ColStride);

    /// <summary>Columns [<paramref name="start"/>, start + <paramref name="count"/>) of every matrix.</summary>
    public Block3 ColRange(long start, long count) => new(Source, Offset + start * ColStride, Count, Rows, count, BatchStride, RowStride, ColStride);
}

/// <summary>
/// Splits tensors of one leading shape [..., rows, cols] jointly into batches of <see cref="Block3"/> windows and runs
/// the CPU GEMM on them: one batch when every tensor's leading dims merge into one stride, else one per index of the
/// outer dims that do not (row-major), exactly the batches and GEMM arguments the earlier tensor-view code made.
/// </summary>
internal static class AttentionBlocks
{
    /// <summary>
    /// The first leading dim from which every tensor's leading dims merge into one (count, stride); dims before it are
    /// iterated. 0 when all merge.
    /// </summary>
    public static int SplitDim(ReadOnlySpan<Tensor> ts)
    {
        int lead = ts[0].Dim - 2;
        for (int from = 0; from < lead; from++)
        {
            bool all = true;
            foreach (var t in ts) all &= TryMerge(t, from, out _, out _);
            if (all) return from;
        }
        return Math.Max(lead, 0);
    }

    /// <summary>The window of t over its leading dims [from, lead) merged (TryMerge must have succeeded).</summary>
    public static Block3 Merged(Tensor t, int from)
    {
        TryMerge(t, from, out long count, out long stride);
        var s = t.ShapeSpan; var st = t.StridesSpan;
        return new Block3(t, t.StorageOffset, count, s[^2], s[^1], stride, st[^2], st[^1]);
    }

    /// <summary>Number of batches: the product of the leading dims before <paramref name="split"/>.</summary>
    public static long Batches(Tensor t, int split)
    {
        long n = 1;
        for (int i = 0; i < split; i++) n *= t.ShapeSpan[i];
        return n;
    }

    /// <summary>
    /// The window of t for batch <paramref name="entry"/> (<see cref="BatchOffset"/>) and, when <paramref name="matrix"/>
    /// is not negative, only that matrix of it (<see cref="Block3.Matrix"/>).
    /// </summary>
    public static Block3 Window(in Block3 merged, Tensor t, int split, long entry, long matrix) =>
        merged.Shifted(BatchOffset(t, split, entry)).Matrix(matrix);

    /// <summary>Element offset of batch <paramref name="index"/> (row-major over the dims before <paramref name="split"/>) in t.</summary>
    public static long BatchOffset(Tensor t, int split, long index)
    {
        var s = t.ShapeSpan; var st = t.StridesSpan;
        long off = 0;
        for (int i = split - 1; i >= 0; i--)
        {
            off += index % s[i] * st[i];
            index /= s[i];
        }
        return off;
    }

    /// <summary>c ← a·b over the windows' batches (float32 or float64), as <see cref="CpuBackend.MatMul"/> on views.</summary>
    public static unsafe void MatMul(in Block3 a, in Block3 b, in Block3 c)
    {
        int batch = checked((int)c.Count), m = checked((int)c.Rows), n = checked((int)c.Cols), k = checked((int)a.Cols);
        if (batch == 0 || m == 0 || n == 0) return;
        if (c.Source.DType == DType.Float32)
        {
            fixed (float* pa = CpuBackend.Data<float>(a.Source), pb = CpuBackend.Data<float>(b.Source), pc = CpuBackend.Data<float>(c.Source))
                Gemm.SgemmBatched(batch, m, n, k, 1f, pa + a.Offset, a.BatchStride, a.RowStride, a.ColStride,
                    pb + b.Offset, b.BatchStride, b.RowStride, b.ColStride, 0f, pc + c.Offset, c.BatchStride, c.RowStride, c.ColStride);
        }
        else
        {
            fixed (double* pa = CpuBackend.Data<double>(a.Source), pb = CpuBackend.Data<double>(b.Source), pc = CpuBackend.Data<double>(c.Source))
                Gemm.DgemmBatched(batch, m, n, k, 1.0, pa + a.Offset, a.BatchStride, a.RowStride, a.ColStride,
                    pb + b.Offset, b.BatchStride, b.RowStride, b.ColStride, 0.0, pc + c.Offset, c.BatchStride, c.RowStride, c.ColStride);
        }
    }

    /// <summary>Sets every element of the window to <paramref name="value"/> (float32 or float64 storage, any strides).</summary>
    public static void Fill(in Block3 w, double value)
    {
        if (w.Source.DType == DType.Float32) Fill(w, CpuBackend.Data<float>(w.Source), (float)value);
        else Fill(w, CpuBackend.Data<double>(w.Source), value);
    }

    private static void Fill<T>(in Block3 w, T[] data, T value)
    {
        if (w.Cols <= 0) return;
        for (long b = 0; b < w.Count; b++)
            for (long r = 0; r < w.Rows; r++)
            {
                long at = w.Offset + b * w.BatchStride + r * w.RowStride;
                if (w.ColStride == 1)
                {
                    data.AsSpan((int)at, (int)w.Cols).Fill(value);
                    continue;
                }
                for (long c = 0; c < w.Cols; c++)
                    data[at + c * w.ColStride] = value;
            }
    }

    // Leading dims [from, lead) of t as one (count, stride), or false when they do not form one stride (dims of size 1
    // are skipped; a single non-1 dim gives its own stride, none gives count 1 and stride 0).
    private static bool TryMerge(Tensor t, int from, out long count, out long stride)
    {
        var s = t.ShapeSpan; var st = t.StridesSpan;
        int lead = s.Length - 2;
        long nb = 1, bs = 0, expect = -1;
        count = 0; stride = 0;
        for (int i = lead - 1; i >= from; i--)
        {
            if (s[i] == 1) continue;
            if (expect >= 0 && st[i] != expect) return false;
            if (expect < 0) bs = st[i];
            expect = st[i] * s[i];
            nb *= s[i];
        }
        count = nb; stride = bs;
        return true;
    }
}
