using System.Numerics;
using System.Numerics.Tensors;

namespace Ember.Cpu;

/// <summary>
/// Row kernels of the CPU backend's <see cref="CpuBackend.Attention"/> and <see cref="CpuBackend.AttentionBackward"/>:
/// they work in place on contiguous windows of CPU tensors (<see cref="Block3"/>).
/// </summary>
internal static class CpuAttention
{
    /// <summary>Environment variable that splits attention over its batch entries when "batch" (see <see cref="SplitBatches"/>).</summary>
    public const string SplitVariable = "EMBER_CPU_ATTENTION";

    /// <summary>
    /// Whether attention runs its batch entries (the leading dims its GEMMs cannot merge: the batch of the model's permuted
    /// qkv buffer) in parallel, each entry's GEMMs and softmax on one thread, instead of one entry after another with each
    /// GEMM and softmax split over all threads. gpt's attention is 16 entries of 4 heads x 128 x 128 x 64: split per
    /// kernel that is 5 pool runs per entry and layer in the forward pass and 8 in the backward, each a few microseconds of
    /// work per thread; split per entry it is one run, and each entry's probabilities stay in its core's cache between its
    /// GEMMs and softmax. Results are the same bits (no kernel's result depends on its thread count). On with
    /// <c>EMBER_CPU_ATTENTION=batch</c>.
    /// </summary>
    internal static bool SplitBatches = Environment.GetEnvironmentVariable(SplitVariable) == "batch";

    /// <summary>Environment variable that sets <see cref="CausalBlockRows"/> (a row count; 0 turns the blocking off).</summary>
    public const string BlockVariable = "EMBER_CPU_ATTENTION_BLOCK";

    /// <summary>
    /// Rows per block of causal attention's GEMMs (default 64; <c>EMBER_CPU_ATTENTION_BLOCK</c>, 0 = off). With a causal
    /// mask, row i of P = softmax(q·kᵀ) is zero after column i, so the rows [r, r + B) need q·kᵀ, P·v and the gradient
    /// GEMMs only over the first min(r + B, s) columns (keys), and the key block [c, c + B) gets gradient only from the
    /// query rows from c on. Blocks of B rows skip the fully masked blocks: (n + 1) / 2n of the full GEMMs' work for n
    /// blocks (gpt's 128 rows in 2 blocks: 3/4). The skipped products are exact zeros, so every result is the unblocked
    /// one bit for bit (zero signs aside); the price is n times the GEMM calls, each packing its operands.
    /// </summary>
    internal static int CausalBlockRows = ReadBlockRows();

    /// <summary>The row block causal attention over <paramref name="l"/> query rows uses: 0 (no blocking) unless it splits them.</summary>
    public static long BlockRowsFor(long l, bool causal)
    {
        long rows = Math.Max(2, CausalBlockRows);
        return causal && CausalBlockRows > 0 && l > rows ? rows : 0;
    }

    /// <summary>
    /// Length of the block that starts at <paramref name="start"/> of <paramref name="total"/> with blocks of
    /// <paramref name="block"/> (≥ 2): the block, or the rest, where a single row or column would be left over it takes
    /// that too. A one-row or one-column product would take the GEMM's matrix-vector path, whose sums are rounded in
    /// another order, and the blocked results would no longer be the unblocked ones bit for bit.
    /// </summary>
    public static long BlockLength(long start, long total, long block)
    {
        long length = Math.Min(block, total - start);
        return total - start - length == 1 ? length + 1 : length;
    }

    private static int ReadBlockRows()
    {
        string? text = Environment.GetEnvironmentVariable(BlockVariable);
        return text is null ? 64
            : int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int rows) && rows >= 0
                ? rows
                : throw new ArgumentException($"{BlockVariable} must be a row count (0 turns causal blocking off); got '{text}'.");
    }

    /// <summary>
    /// Zeroes columns [<paramref name="from"/>, cols) of rows [<paramref name="r0"/>, r0 + <paramref name="rows"/>) of every
    /// matrix of a contiguous [count, l, cols] block (the part of dP a causal row block did not compute).
    /// </summary>
    public static void ClearColumns(in Block3 p, long r0, long rows, long from)
    {
        if (from >= p.Cols) return;
        if (p.Source.DType == DType.Float32) ClearColumns<float>(p, r0, rows, from);
        else ClearColumns<double>(p, r0, rows, from);
    }

    private static void ClearColumns<T>(in Block3 p, long r0, long rows, long from) where T : unmanaged
    {
        var d = CpuBackend.Data<T>(p.Source);
        int width = (int)(p.Cols - from);
        for (long b = 0; b < p.Count; b++)
            for (long r = r0; r < r0 + rows; r++)
                d.AsSpan((int)(p.Offset + b * p.BatchStride + r * p.RowStride + from), width).Clear();
    }

    /// <summary>
    /// Runs <paramref name="body"/> for every entry in [0, <paramref name="entries"/>): in parallel over the entries, each
    /// on one thread, when <see cref="SplitBatches"/> is on and there are several; else in order, each entry's kernels
    /// split over all threads. <paramref name="workPerEntry"/> is an entry's multiply-adds (small totals stay serial).
    /// </summary>
    public static void ForBatches(long entries, long workPerEntry, Action<long> body)
    {
        if (!SplitBatches || entries < 2 || CpuThreads.Count < 2)
        {
            for (long i = 0; i < entries; i++)
                body(i);
            return;
        }
        CpuParallel.For(entries, workPerEntry, (start, count) =>
        {
            // Each entry's GEMMs and softmax on this thread alone (a nested split would only run its pieces here in turn).
            using (Threads.LimitCurrentThread(1))
            {
                for (long i = start; i < start + count; i++)
                    body(i);
            }
        });
    }

    /// <summary>
    /// In place on a contiguous [b, l, s] block: row i ← softmax(scale·row), with the columns after i zeroed
    /// (−∞ before the softmax) when <paramref name="causal"/>.
    /// </summary>
    public static void ScaledSoftmaxRows(in Block3 p, long l, long s, double scale, bool causal)
    {
        if (p.Source.DType == DType.Float32) ScaledSoftmaxRows<float>(p, l, s, scale, causal);
        else ScaledSoftmaxRows<double>(p, l, s, scale, causal);
    }

    private static void ScaledSoftmaxRows<T>(in Block3 p, long l, long s, double scale, bool causal)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var d = CpuBackend.Data<T>(p.Source);
        long rows = p.Count * l, off = p.Offset;
        int cols = (int)s;
        T sc = T.CreateTruncating(scale);
        CpuFused.ForChunks(rows, (r0, len) =>
        {
            for (long r = r0; r < r0 + len; r++)
            {
                var row = d.AsSpan((int)(off + r * cols), cols);
                int valid = causal ? (int)Math.Min(r % l + 1, s) : cols;
                var x = row[..valid];
                TensorPrimitives.Multiply(x, sc, x);
                T m = TensorPrimitives.Max<T>(x);           // subtract the row max: exp never overflows
                TensorPrimitives.Subtract(x, m, x);
                T sum = FastMath.ExpNonPositiveSum(x);   // exp and its sum in one pass (every x − m ≤ 0 here)
                TensorPrimitives.Multiply(x, T.One / sum, x);
                row[valid..].Clear();
            }
        }, cols);
    }

    /// <summary>In place: dp ← p ⊙ (dp − Σ dp ⊙ p)·scale, row by row (p and dp contiguous [b, l, s]).</summary>
    public static void ScaledSoftmaxGradRows(in Block3 dp, in Block3 p, double scale)
    {
        if (p.Source.DType == DType.Float32) ScaledSoftmaxGradRows<float>(dp, p, scale);
        else ScaledSoftmaxGradRows<double>(dp, p, scale);
    }

    private static void ScaledSoftmaxGradRows<T>(in Block3 dp, in Block3 p, double scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] dd = CpuBackend.Data<T>(dp.Source), pd = CpuBackend.Data<T>(p.Source);
        int cols = (int)p.Cols;
        long rows = p.Count * p.Rows, doff = dp.Offset, poff = p.Offset;
        T sc = T.CreateTruncating(scale);
        CpuFused.ForChunks(rows, (r0, len) =>
        {
            for (long r = r0; r < r0 + len; r++)
            {
                var x = dd.AsSpan((int)(doff + r * cols), cols);
                var y = pd.AsSpan((int)(poff + r * cols), cols);
                T dot = TensorPrimitives.Dot<T>(x, y);
                TensorPrimitives.Subtract(x, dot, x);
                TensorPrimitives.Multiply(x, y, x);
                TensorPrimitives.Multiply(x, sc, x);
            }
        }, cols);
    }
}
