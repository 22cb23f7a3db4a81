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
