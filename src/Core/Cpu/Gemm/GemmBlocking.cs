using System.Globalization;

namespace Ember.Cpu;

/// <summary>
/// Cache blocking of the GEMM driver on this machine (GotoBLAS/BLIS terms), derived from the cache sizes read at start
/// (<see cref="CpuTopology"/>): KC (depth of a packed block), MC (rows of one thread's packed A block, kept in that
/// core's L2) and NC (columns of the packed B panel that all threads share, kept in the shared L3).
/// </summary>
/// <remarks>
/// <para>Each value can be set through an environment variable read once at start (<c>EMBER_GEMM_KC</c>,
/// <c>EMBER_GEMM_MC</c>, <c>EMBER_GEMM_NC</c>, <c>EMBER_GEMM_PRIVATE_NC</c>, <c>EMBER_GEMM_MIN_WORK</c>;
/// <c>EMBER_GEMM_SHARED_B=1|2|3</c> turns a shared packed B (with barriers, with ready flags, A too) on;
/// <c>EMBER_GEMM_LOOP=ir</c> the macro-kernel's row-first tile order, <c>EMBER_GEMM_SPLIT_K</c>), so the blocking can be tuned on a new machine
/// without a rebuild (perf/gemm_notes.md lists them). Tests set the internal fields directly.</para>
/// <para>KC is the only value that changes results: every element of C is summed in KC slices, so KC must not depend on
/// the thread count or the path taken (it does not: it depends only on the kernel and the machine).</para>
/// </remarks>
internal static class GemmBlocking
{
    /// <summary>Environment variable that overrides KC.</summary>
    public const string KcVariable = "EMBER_GEMM_KC";

    /// <summary>Environment variable that overrides MC.</summary>
    public const string McVariable = "EMBER_GEMM_MC";

    /// <summary>Environment variable that overrides NC.</summary>
    public const string NcVariable = "EMBER_GEMM_NC";

    /// <summary>Environment variable that turns the shared packed B panels on when "1".</summary>
    public const string SharedVariable = "EMBER_GEMM_SHARED_B";

    /// <summary>Environment variable that sets the private path's NC: a column count, or "l2" for a quarter of L2.</summary>
    public const string PrivateNcVariable = "EMBER_GEMM_PRIVATE_NC";

    /// <summary>Environment variable that runs the macro-kernel A micro-panel outermost when "ir" (see <see cref="TilesByRow"/>).</summary>
    public const string LoopVariable = "EMBER_GEMM_LOOP";

    /// <summary>Environment variable that sets the number of grid cells per thread of a single product (see <see cref="Oversplit"/>).</summary>
    public const string OversplitVariable = "EMBER_GEMM_OVERSPLIT";

    /// <summary>Environment variable that sets split-K (see <see cref="SplitK"/>): 0 off, 1 where cheaper, 2 always.</summary>
    public const string SplitKVariable = "EMBER_GEMM_SPLIT_K";

    /// <summary>Environment variable that sets the multiply-adds below which one more thread is not used.</summary>
    public const string MinWorkVariable = "EMBER_GEMM_MIN_WORK";

    /// <summary>KC when positive (else the kernel's own); rounded to a multiple of 8 where used.</summary>
    internal static int KcOverride = ReadInt(KcVariable);

    /// <summary>MC when positive (else derived from L2); rounded to whole MR tiles where used.</summary>
    internal static int McOverride = ReadInt(McVariable);

    /// <summary>NC when positive (else derived from L3); rounded to whole NR panels where used.</summary>
    internal static int NcOverride = ReadInt(NcVariable);

    /// <summary>
    /// Whether single products split over several threads share one packed B panel per (KC, NC) block. Off unless
    /// <c>EMBER_GEMM_SHARED_B=1</c>: on the 16-core Xeon of the GPU machine (one call, medians of 5, 16 threads) the shared
    /// panels were slower than each thread packing its own (sgemm 1024 / 2048 / 4096: 2.50 / 16.82 / 131.6 ms against
    /// 2.20 / 15.99 / 121.0 ms).
    /// </summary>
    internal static bool SharedPanels = Environment.GetEnvironmentVariable(SharedVariable) == "1";

    /// <summary>
    /// Whether single products split over several threads pack all of B once between them with a ready flag per panel, in
    /// one pool run (<see cref="GemmSharedReady{T, TK}"/>); on with <c>EMBER_GEMM_SHARED_B=2</c>. Takes precedence over
    /// <see cref="SharedPanels"/> where the packed B fits its buffer limit.
    /// </summary>
    internal static bool SharedReady = Environment.GetEnvironmentVariable(SharedVariable) is "2" or "3";

    /// <summary>
    /// With <see cref="SharedReady"/>, whether A is packed once between the pieces as well (each MR panel of each KC slice
    /// with its ready flag); on with <c>EMBER_GEMM_SHARED_B=3</c>.
    /// </summary>
    internal static bool SharedA = Environment.GetEnvironmentVariable(SharedVariable) == "3";

    /// <summary>
    /// NC of the private path (each thread packs its own B) when positive; -1 derives it from L2 (<see cref="PrivateNc"/>);
    /// 0 (the default) keeps the kernel's NC, so a thread's cell of B is packed in one piece per KC slice.
    /// </summary>
    internal static int PrivateNcOverride = ReadPrivateNc();

    /// <summary>
    /// Whether the macro-kernel walks C tile rows outermost (one A micro-panel, MR x KC, stays in L1 while the B micro-panels
    /// of the block stream from L2) instead of tile columns outermost (the default: one B micro-panel, KC x NR, is reused
    /// down the A block). With KC = 512 a float B micro-panel is 64 KiB, more than a 48 KiB L1, while an A micro-panel is
    /// 28 KiB. Only the order of whole tiles changes, so results are the same bits. On with <c>EMBER_GEMM_LOOP=ir</c>.
    /// </summary>
    internal static bool TilesByRow = Environment.GetEnvironmentVariable(LoopVariable) == "ir";

    /// <summary>
    /// Multiply-adds per thread below which one more thread is not worth waking: 2^19 unless <c>EMBER_GEMM_MIN_WORK</c>
    /// says otherwise. Smaller products (gpt's per-head and per-layer GEMMs) then use fewer, larger pieces.
    /// </summary>
    internal static long MinWorkPerThread = ReadInt(MinWorkVariable) is > 0 and var work ? work : 1L << 19;

    /// <summary>
    /// Grid cells per thread of a single product on the private path; 0 (the default) chooses: 4 when the product is
    /// split over 16 or more threads, else 1 (one cell per thread). <c>EMBER_GEMM_OVERSPLIT</c> = 1–8 sets it. More,
    /// smaller cells than threads, claimed from the pool's counter, let a thread that finishes early take another cell
    /// instead of waiting for the slowest (the 16-thread trace measured 26–29 % of piece time in that wait), at the price
    /// of packing each operand block more often. Measured (eleventh session, three interleaved rounds, 7 repeats): at 16
    /// threads on the H100 machine's Xeon, sgemm 2048 / 4096 0.79–0.88 / 0.76–0.89 of the default's time with 4 cells
    /// per thread, 1024 and mlp within the spread, 2 cells no gain; at 2 threads on the 2-core VM 4 cells were 3 % slower.
    /// </summary>
    internal static int Oversplit = Math.Clamp(ReadInt(OversplitVariable), 0, 8);

    /// <summary>
    /// Split-K for single products (<see cref="GemmSplitK{T, TK}"/>): 0 never (the default); 1 where its cost model
    /// expects at least 10 % less time per thread than the plain grid (products with a small C and a long K, the weight
    /// gradients, at many threads); 2 wherever K has two KC slices or more (tests). Results are the same bits either way.
    /// Set by <c>EMBER_GEMM_SPLIT_K</c>. Off until timed on a many-core machine: on this project's 2-core VM it takes
    /// only gpt's [256, 2048] x [2048, 256] at 2 threads, and 16 threads there are oversubscribed, so its gain at 16 real
    /// cores (the profile's worst-scaling ops are these products, 4.7–6.2× of 16) is unmeasured.
    /// </summary>
    internal static int SplitK = Environment.GetEnvironmentVariable(SplitKVariable) is { Length: > 0 } v
        && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int mode) ? Math.Clamp(mode, 0, 2) : 0;

    /// <summary>The most bytes a split-K product's partials may take (S · M · N elements); larger products are not split.</summary>
    internal static long SplitKBytes = 64L << 20;

    /// <summary>The cells per thread <see cref="Oversplit"/> gives a product split over <paramref name="threads"/> threads.</summary>
    internal static int OversplitFor(int threads) => Oversplit > 0 ? Oversplit : threads >= 16 ? 4 : 1;

    /// <summary>
    /// Depth of a packed block. The kernel's measured value (512 for AVX-512: every KC slice costs one more pass over the C
    /// tile, which a deeper slice amortizes) unless overridden.
    /// </summary>
    public static int Kc(int kernelKc) => KcOverride > 0 ? Math.Max(8, KcOverride / 8 * 8) : kernelKc;

    /// <summary>
    /// Rows of the packed A block one thread keeps per KC slice when B is its own: the kernel's MC, lowered (in whole MR
    /// tiles) where half of L2 cannot hold an MC x KC block.
    /// </summary>
    public static int PrivateMc(int mr, int kc, int elementSize, int kernelMc)
    {
        if (McOverride > 0)
            return Math.Max(mr, McOverride / mr * mr);
        return Math.Max(mr, Math.Min(kernelMc, (int)(CpuTopology.L2Bytes / 2 / ((long)kc * elementSize)) / mr * mr));
    }

    /// <summary>
    /// Rows of the packed A block one thread keeps per KC slice when B is shared: as many whole MR tiles as half of the
    /// core's L2 holds (the other half streams the shared B micro-panels and C), at most 32 tiles. A taller block reuses
    /// each B micro-panel, which now comes from the shared L3, for more tiles.
    /// </summary>
    public static int SharedMc(int mr, int kc, int elementSize)
    {
        if (McOverride > 0)
            return Math.Max(mr, McOverride / mr * mr);
        int rows = (int)(CpuTopology.L2Bytes / 2 / ((long)kc * elementSize)) / mr * mr;
        return Math.Clamp(rows, mr, 32 * mr);
    }

    /// <summary>
    /// Columns of the shared packed B panel: whole NR panels filling at most a quarter of the last-level cache (the
    /// threads' A blocks, C and other processes use the rest), between 8 NR panels and <paramref name="kernelNc"/>.
    /// </summary>
    public static int SharedNc(int nr, int kc, int elementSize, int kernelNc)
    {
        if (NcOverride > 0)
            return Math.Max(nr, NcOverride / nr * nr);
        int cols = (int)Math.Min(int.MaxValue, CpuTopology.L3Bytes / 4 / ((long)kc * elementSize)) / nr * nr;
        return Math.Clamp(cols, 8 * nr, Math.Max(8 * nr, kernelNc));
    }

    /// <summary>
    /// Columns of the B block one thread packs per KC slice on the private path: the kernel's NC unless
    /// <see cref="PrivateNcOverride"/> is set; from L2 (-1), as many whole NR panels as a quarter of the core's L2 holds
    /// (the rest holds the A block and C), at least 2 panels, so a thread's packed B stays in its L2 at many threads.
    /// </summary>
    public static int PrivateNc(int nr, int kc, int elementSize, int kernelNc)
    {
        if (PrivateNcOverride > 0)
            return Math.Max(nr, PrivateNcOverride / nr * nr);
        if (PrivateNcOverride == 0)
            return kernelNc;
        int cols = (int)Math.Min(int.MaxValue, CpuTopology.L2Bytes / 4 / ((long)kc * elementSize)) / nr * nr;
        return Math.Clamp(cols, 2 * nr, Math.Max(2 * nr, kernelNc));
    }

    /// <summary>A short description of every switch that differs from its default, for logs ("default" when none does).</summary>
    public static string Describe()
    {
        var parts = new List<string>();
        if (KcOverride > 0) parts.Add($"KC={KcOverride}");
        if (McOverride > 0) parts.Add($"MC={McOverride}");
        if (NcOverride > 0) parts.Add($"NC={NcOverride}");
        if (SharedPanels) parts.Add("shared B");
        if (SharedReady) parts.Add(SharedA ? "shared A and B ready flags" : "shared B ready flags");
        if (PrivateNcOverride != 0) parts.Add(PrivateNcOverride > 0 ? $"private NC={PrivateNcOverride}" : "private NC=l2");
        if (TilesByRow) parts.Add("loop ir");
        if (MinWorkPerThread != 1L << 19) parts.Add($"min work={MinWorkPerThread}");
        if (Oversplit != 0) parts.Add($"oversplit={Oversplit}");
        if (SplitK != 0) parts.Add($"split-K={SplitK}");
        if (GemmWorkers.SpinMicroseconds != 250) parts.Add($"spin={GemmWorkers.SpinMicroseconds}us");
        if (CpuAttention.Split != AttentionSplit.Auto) parts.Add($"attention {CpuAttention.Split}");
        if (CpuAttention.CausalBlockRows != CpuAttention.DefaultBlockRows) parts.Add($"attention block={CpuAttention.CausalBlockRows}");
        return parts.Count == 0 ? "default" : string.Join(", ", parts);
    }

    private static int ReadPrivateNc()
        => Environment.GetEnvironmentVariable(PrivateNcVariable) is "l2" or "L2" ? -1 : Math.Max(0, ReadInt(PrivateNcVariable));

    private static int ReadInt(string variable)
        => int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            ? value : 0;
}
