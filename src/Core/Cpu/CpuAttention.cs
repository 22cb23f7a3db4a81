using System.Numerics;
using System.Numerics.Tensors;

namespace Ember.Cpu;

/// <summary>
/// Row kernels of the CPU backend's <see cref="CpuBackend.Attention"/> and <see cref="CpuBackend.AttentionBackward"/>:
/// they work in place on contiguous windows of CPU tensors (<see cref="Block3"/>).
/// </summary>
internal static class CpuAttention
{
    /// <summary>Environment variable that sets <see cref="Split"/>: "serial", "batch" (entries) or "heads".</summary>
    public const string SplitVariable = "EMBER_CPU_ATTENTION";

    /// <summary>
    /// How attention spreads over the CPU threads (<c>EMBER_CPU_ATTENTION</c>; default <see cref="AttentionSplit.Auto"/>).
    /// Results are the same bits in every mode and at every thread count (no kernel's result depends on its thread count).
    /// </summary>
    internal static AttentionSplit Split = ReadSplit();

    /// <summary>
    /// The mode <see cref="Split"/> gives for <paramref name="entries"/> batch entries of <paramref name="heads"/> heads
    /// (the windows' merged leading dims) at the current thread count.
    /// </summary>
    public static AttentionSplit SplitFor(long entries, long heads)
    {
        int threads = CpuThreads.Count;
        if (threads < 2 || entries * heads < 2) return AttentionSplit.Serial;
        return Split switch
        {
            AttentionSplit.Auto => entries * heads >= threads ? AttentionSplit.Heads : AttentionSplit.Serial,
            AttentionSplit.Entries when entries < 2 => AttentionSplit.Serial,
            var mode => mode,
        };
    }

    private static AttentionSplit ReadSplit() => Environment.GetEnvironmentVariable(SplitVariable) switch
    {
        null or "" or "auto" => AttentionSplit.Auto,
        "serial" => AttentionSplit.Serial,
        "batch" => AttentionSplit.Entries,
        "heads" => AttentionSplit.Heads,
        var other => throw new ArgumentException($"{SplitVariable} must be auto, serial, batch or heads; got '{other}'."),
    };

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

    /// <summary>The default of <see cref="CausalBlockRows"/>.</summary>
    public const int DefaultBlockRows = 64;

    /// <summary>The row block causal attention over <paramref name="l"/> query rows uses: 0 (no blocking) unless it splits them.</summary>
    public static long BlockRowsFor(long l, bool causal)
    {
        long rows = Math.Max(2, CausalBlockRows);
        return causal && CausalBlockRows > 0 && l > rows ? rows : 0;
    }

    /// <summary>
    /// Length of the block that starts at <paramref name="start"/> of <paramref name="total"/> with blocks of
    /// <paramref name="block"/> (≥ 2; 0: one block of everything): the block, or the rest, where a single row or column
    /// would be left over it takes that too. A one-row or one-column product would take the GEMM's matrix-vector path,
    /// whose sums are rounded in another order, and the blocked results would no longer be the unblocked ones bit for bit.
    /// </summary>
    public static long BlockLength(long start, long total, long block)
    {
        if (block == 0) return total - start;
        long length = Math.Min(block, total - start);
        return total - start - length == 1 ? length + 1 : length;
    }

    /// <summary>
    /// The keys the query rows [<paramref name="r0"/>, r0 + <paramref name="rows"/>) attend to, [0, result), of
    /// <paramref name="s"/>: all of them unblocked (<paramref name="block"/> 0), else those a causal mask leaves to the
    /// block's last row.
    /// </summary>
    public static long KeysSeen(long r0, long rows, long s, long block) => block == 0 ? s : Math.Min(r0 + rows, s);

    private static int ReadBlockRows()
    {
        string? text = Environment.GetEnvironmentVariable(BlockVariable);
        return text is null ? DefaultBlockRows
            : int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int rows) && rows >= 0
                ? rows
                : throw new ArgumentException($"{BlockVariable} must be a row count (0 turns causal blocking off); got '{text}'.");
    }

    /// <summary>
    /// Runs <paramref name="body"/>(entry, head) over <paramref name="entries"/> batch entries of <paramref name="heads"/>
    /// heads as <see cref="SplitFor"/> says: <see cref="AttentionSplit.Heads"/>, every (entry, head) a task and the tasks
    /// in parallel, each on one thread (head ≥ 0: one head); <see cref="AttentionSplit.Entries"/>, every entry a task
    /// (head −1: all heads); <see cref="AttentionSplit.Serial"/>, entry after entry (head −1), each entry's kernels split
    /// over all threads. <paramref name="workPerHead"/> is a head's multiply-adds (small totals stay on one thread).
    /// </summary>
    public static void ForTasks(long entries, long heads, long workPerHead, Action<long, long> body)
    {
        var mode = SplitFor(entries, heads);
        if (mode == AttentionSplit.Serial)
        {
            for (long i = 0; i < entries; i++)
                body(i, -1);
            return;
        }
        bool perHead = mode == AttentionSplit.Heads;
        CpuParallel.For(perHead ? entries * heads : entries, perHead ? workPerHead : workPerHead * heads, (start, count) =>
        {
            // Each task's GEMMs and softmax on this thread alone (a nested split would only run its pieces here in turn).
            using (Threads.LimitCurrentThread(1))
            {
                for (long t = start; t < start + count; t++)
                {
                    if (perHead) body(t / heads, t % heads);
                    else body(t, -1);
                }
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

/// <summary>How CPU attention spreads its batch entries and heads over the threads (<c>EMBER_CPU_ATTENTION</c>).</summary>
internal enum AttentionSplit
{
    /// <summary>
    /// <see cref="Heads"/> when there are at least as many (entry, head) tasks as threads, else <see cref="Serial"/>.
    /// Split per kernel, gpt's 4 × 128 × 128 × 64 heads (a few million multiply-adds per GEMM, fewer in causal row
    /// blocks) used at most 4 of 16 threads per GEMM (the GEMM's minimum work per thread) and ran 5 pool runs per entry
    /// and layer forward, 8 backward; as tasks, one pool run per call keeps every thread busy.
    /// </summary>
    Auto,
    /// <summary>Entry after entry, each entry's GEMMs and softmax split over all threads (the default until the seventeenth session).</summary>
    Serial,
    /// <summary>The batch entries in parallel, each entry's heads on one thread (<c>EMBER_CPU_ATTENTION=batch</c>).</summary>
    Entries,
    /// <summary>Every (entry, head) pair a task, in parallel, each on one thread (<c>EMBER_CPU_ATTENTION=heads</c>).</summary>
    Heads,
}
