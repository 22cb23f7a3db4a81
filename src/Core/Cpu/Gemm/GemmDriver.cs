using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Ember.Cpu;

/// <summary>
/// The GotoBLAS/BLIS loop nest around a micro-kernel <typeparamref name="TK"/>: for each NC-wide column panel
/// of B and KC-deep slice, pack B; for each MC-tall row block of A, pack A; then run the kernel over the
/// NR x MR tiles. Also splits a problem over threads (by batch entries or by a 2-D grid of C) so that every
/// thread owns a disjoint part of C and no synchronization is needed inside the loops.
/// </summary>
internal static unsafe class GemmDriver<T, TK>
    where T : unmanaged, IBinaryFloatingPointIeee754<T>
    where TK : struct, IGemmKernel<T>
{
    /// <summary>Depth of a packed block on this machine (<see cref="GemmBlocking.Kc"/>); the same on every path, so results do not depend on the split.</summary>
    internal static int Kc => GemmBlocking.Kc(TK.KC);

    /// <summary>Columns of the B block a thread packs per KC slice on the private path (<see cref="GemmBlocking.PrivateNc"/>).</summary>
    internal static int PrivateNc => GemmBlocking.PrivateNc(TK.NR, Kc, sizeof(T), TK.NC);

    /// <summary>Plans the thread split and runs the problem, using at most <paramref name="threads"/> threads.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Execute(GemmProblem<T>* p, int threads)
    {
        long flops = (long)p->M * p->N * p->K;
        long total = flops * p->Batch;
        long workPerThread = GemmBlocking.MinWorkPerThread;
        int parts = (int)Math.Clamp(total / workPerThread, 1, threads);
        p->KGroups = 1;   // no split along K unless GemmSplitK plans one
        // Separate outputs (C batch stride not 0) can be split by entry: whole entries per piece when there are enough
        // of them to balance; fewer entries than pieces (many threads, a small batch of small matrices) split each entry
        // into a grid as well, so all threads work instead of only the few a single small matrix would keep busy.
        bool separate = p->CBatch != 0 && p->Batch > 1;
        bool sharedFlags = GemmBlocking.SharedPanels || GemmBlocking.SharedReady;
        if (separate && p->Batch >= parts && (p->Batch % parts == 0 || p->Batch >= 4 * parts))
        {
            p->BatchGroups = parts;
            p->GridM = p->GridN = 1;
            p->CellM = p->M;
            p->CellN = p->N;
            p->Parts = parts;
        }
        else if (separate && p->Batch < parts)
        {
            p->BatchGroups = p->Batch;
            PlanGrid(p, (int)Math.Clamp(flops / workPerThread, 1, parts / p->Batch));
            p->Parts *= p->Batch;
        }
        else
        {
            p->BatchGroups = 1;
            int cells = (int)Math.Clamp(flops / workPerThread, 1, parts);
            // Oversplit: more cells than threads, claimed dynamically (the shared paths keep one cell per thread).
            bool mayShare = p->Batch == 1 && sharedFlags;
            int planned = cells > 1 && !mayShare ? cells * GemmBlocking.OversplitFor(cells) : cells;
            if (mayShare || cells < 2)
                PlanGrid(p, planned);
            else
                GemmSplitK<T, TK>.Plan(p, cells, planned);   // the plain grid, or a split along K where cheaper
        }
        p->Threads = Math.Min(p->Parts, parts);
        bool shared = p->Parts > 1 && p->Batch == 1 && p->K > 0 && p->Alpha != T.Zero && sharedFlags && p->KGroups <= 1;
        if (!GemmTrace.Enabled)
        {
            p->Trace = null;
            Run(p, shared);
            return;
        }
        // Each piece's slot on its own cache lines (64-byte aligned, 128 bytes each).
        byte* raw = stackalloc byte[(p->Parts + 1) * sizeof(GemmTracePart)];
        var slots = (GemmTracePart*)(((nint)raw + 63) & ~(nint)63);
        GemmTraceProduct product;
        GemmTrace.Begin(&product, slots, p->Parts);
        p->Trace = &product;
        Run(p, shared);
        if (!shared)
        {
            // Path K (split-K) reports its groups of KC slices where the others report their batch groups.
            char path = p->KGroups > 1 ? 'K' : p->Parts == 1 ? '1' : p->GridM * p->GridN == 1 ? 'B' : 'G';
            GemmTrace.End(&product, sizeof(T), p->Batch, p->M, p->N, p->K, p->ARow == 1, p->BCol == 1, path, p->GridM,
                p->GridN, p->KGroups > 1 ? p->KGroups : p->BatchGroups, GemmBlocking.PrivateMc(TK.MR, Kc, sizeof(T), TK.MC), PrivateNc, Kc);
        }
        p->Trace = null;
    }

    private static void Run(GemmProblem<T>* p, bool shared)
    {
        if (shared)
        {
            if (GemmBlocking.SharedReady && GemmSharedReady<T, TK>.Fits(p, GemmBlocking.SharedA))
                GemmSharedReady<T, TK>.Execute(p, p->Parts, GemmBlocking.SharedA);
            else
                GemmShared<T, TK>.Execute(p, p->Parts);
        }
        else if (p->KGroups > 1)
        {
            if (p->Trace is not null)
                GemmTrace.BeginRun(p->Trace);
            GemmSplitK<T, TK>.Execute(p);
            if (p->Trace is not null)
                GemmTrace.EndRun(p->Trace, pooled: true);
        }
        else if (p->Parts == 1)
        {
            if (p->Trace is not null)
                GemmTrace.BeginRun(p->Trace);
            Part(p, 0);
            if (p->Trace is not null)
                GemmTrace.EndRun(p->Trace, pooled: false);
        }
        else
        {
            if (p->Trace is not null)
                GemmTrace.BeginRun(p->Trace);
            GemmWorkers.Run(p->Parts, &Part, p, p->Threads);
            if (p->Trace is not null)
                GemmTrace.EndRun(p->Trace, pooled: true);
        }
    }

    /// <summary>Chooses the GridM x GridN split of one matrix over <paramref name="parts"/> threads that minimizes a cell's work.</summary>
    internal static void PlanGrid(GemmProblem<T>* p, int parts)
    {
        int mr = TK.MR, nr = TK.NR;
        PackCosts(p, out long packA, out long packB);
        int ncBlock = PrivateNc;
        long bestCost = long.MaxValue;
        for (int gm = 1; gm <= parts; gm++)
        {
            if (parts % gm != 0)
                continue;
            int gn = parts / gm;
            int cellM = RoundUp(CeilDiv(p->M, gm), mr);
            int cellN = RoundUp(CeilDiv(p->N, gn), nr);
            long cost = (long)cellM * cellN + packA * cellM * CeilDiv(cellN, ncBlock) + packB * cellN;
            if (cost < bestCost)
            {
                bestCost = cost;
                p->CellM = cellM;
                p->CellN = cellN;
            }
        }
        p->GridM = CeilDiv(p->M, p->CellM);
        p->GridN = CeilDiv(p->N, p->CellN);
        p->Parts = p->GridM * p->GridN;
    }

    /// <summary>Cost of packing one element of A and of B, in kernel multiply-adds, for <paramref name="p"/>'s layouts.</summary>
    internal static void PackCosts(GemmProblem<T>* p, out long packA, out long packB)
    {
        // Cost of packing one element of a panel, in kernel multiply-adds: a contiguous run copies at about
        // 0.3 cycles per element, a scalar scatter (the source runs across the packed direction) at about 1.7,
        // the AVX-512 float register transpose at about 0.4, while the kernel retires about 2 x 16 multiply-adds
        // per cycle (AVX-512 float, Zen 5). Each thread packs its rows of A once per NC column panel and its
        // columns of B once.
        long scatter = typeof(T) == typeof(float) && GemmPackTranspose.IsSupported ? 12 : 56;
        packA = p->ARow == 1 ? 10 : scatter;
        packB = p->BCol == 1 ? 10 : scatter;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Part(void* context, int part)
    {
        var p = (GemmProblem<T>*)context;
        int cells = p->GridM * p->GridN, group = part / cells, cell = part % cells;
        int first = (int)((long)p->Batch * group / p->BatchGroups);
        int last = (int)((long)p->Batch * (group + 1) / p->BatchGroups);
        int m0 = cell / p->GridN * p->CellM;
        int n0 = cell % p->GridN * p->CellN;
        int m1 = Math.Min(p->M, m0 + p->CellM);
        int n1 = Math.Min(p->N, n0 + p->CellN);
        GemmTracePart* trace = p->Trace is null ? null : p->Trace->Parts + part;
        if (trace is not null)
            GemmTrace.PieceStart(trace);
        for (int i = first; i < last; i++)
        {
            // With a broadcast C (batch stride 0) the products accumulate: C = alpha * sum_b A_b B_b + beta * C.
            T beta = i > 0 && p->CBatch == 0 ? T.One : p->Beta;
            Block(p, i, m0, m1, n0, n1, beta, trace);
        }
        if (trace is not null)
            GemmTrace.PieceEnd(trace);
    }

    /// <summary>
    /// Computes rows [m0, m1) and columns [n0, n1) of batch entry <paramref name="index"/> on this thread, timing its
    /// packing and kernel into <paramref name="trace"/> when not null.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block(GemmProblem<T>* p, int index, int m0, int m1, int n0, int n1, T beta, GemmTracePart* trace)
    {
        int m = m1 - m0, n = n1 - n0, k = p->K;
        T* a = p->A + index * p->ABatch + m0 * p->ARow;
        T* b = p->B + index * p->BBatch + n0 * p->BCol;
        T* c = p->C + index * p->CBatch + m0 * p->CRow + n0 * p->CCol;
        if (k == 0 || p->Alpha == T.Zero)
        {
            Scale(c, p->CRow, p->CCol, m, n, beta);
            return;
        }
        Slices(p, a, b, c, p->CRow, p->CCol, m, n, 0, k, beta, trace);
    }

    /// <summary>
    /// C = alpha · A[:, k0..k1) · B[k0..k1, :] + beta · C for an m x n cell whose A rows start at <paramref name="a"/>
    /// and B columns at <paramref name="b"/> (the problem's strides), in KC slices from <paramref name="k0"/> (a multiple
    /// of KC, so every slice is the one the whole product has); only the first slice applies beta.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Slices(GemmProblem<T>* p, T* a, T* b, T* c, long crs, long ccs, int m, int n, int k0, int k1, T beta,
        GemmTracePart* trace)
    {
        long ars = p->ARow, acs = p->ACol, brs = p->BRow, bcs = p->BCol;
        T alpha = p->Alpha;
        int mr = TK.MR, nr = TK.NR, kcBlock = Kc, mcBlock = GemmBlocking.PrivateMc(mr, kcBlock, sizeof(T), TK.MC);
        int ncBlock = PrivateNc;
        int kcMax = Math.Min(k1 - k0, kcBlock);
        int mcMax = Math.Min(RoundUp(m, mr), mcBlock);
        int ncMax = Math.Min(RoundUp(n, nr), ncBlock);
        long aLength = RoundUp(kcMax * mcMax, 16) + 16, bLength = RoundUp(kcMax * ncMax, 16);
        T* packedA = (T*)GemmBuffers.Get((nuint)((aLength + bLength + mr * nr) * sizeof(T)));
        T* packedB = packedA + aLength;
        T* tile = packedB + bLength;

        long t = trace is null ? 0 : Stopwatch.GetTimestamp();
        for (int jc = 0; jc < n; jc += ncBlock)
        {
            int nc = Math.Min(ncBlock, n - jc);
            for (int pc = k0; pc < k1; pc += kcBlock)
            {
                int kc = Math.Min(kcBlock, k1 - pc);
                // Only the first k slice applies beta; later slices add to what the first wrote.
                T betaNow = pc == k0 ? beta : T.One;
                GemmPacking.PackB(packedB, b + pc * brs + jc * bcs, brs, bcs, kc, nc, nr);
                if (trace is not null)
                    trace->PackB += Lap(ref t);
                for (int ic = 0; ic < m; ic += mcBlock)
                {
                    int mc = Math.Min(mcBlock, m - ic);
                    GemmPacking.PackA(packedA, a + ic * ars + pc * acs, ars, acs, mc, kc, mr);
                    if (trace is not null)
                        trace->PackA += Lap(ref t);
                    MacroKernel(packedA, packedB, tile, mc, nc, kc, c + ic * crs + jc * ccs, crs, ccs, alpha, betaNow);
                    if (trace is not null)
                        trace->Kernel += Lap(ref t);
                }
            }
        }
    }

    /// <summary>
    /// Multiplies a packed <paramref name="mc"/> x <paramref name="kc"/> A block by a packed <paramref name="kc"/> x
    /// <paramref name="nc"/> B block into C (row stride <paramref name="crs"/>, column stride <paramref name="ccs"/>):
    /// <c>C = alpha * A * B + beta * C</c>, partial tiles through <paramref name="tile"/> (MR x NR scratch).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MacroKernel(T* packedA, T* packedB, T* tile, int mc, int nc, int kc, T* c, long crs, long ccs,
        T alpha, T beta)
    {
        int mr = TK.MR, nr = TK.NR;
        bool betaZero = beta == T.Zero;
        if (GemmBlocking.TilesByRow)
        {
            // The same tiles in another order: each A micro-panel stays in L1 while the block's B micro-panels stream by.
            for (int ir = 0; ir < mc; ir += mr)
            {
                int mrNow = Math.Min(mr, mc - ir);
                T* pa = packedA + (long)ir * kc;
                T* cRow = c + ir * crs;
                for (int jr = 0; jr < nc; jr += nr)
                    Tile(pa, packedB + (long)jr * kc, tile, kc, cRow + jr * ccs, crs, ccs, mrNow, Math.Min(nr, nc - jr), alpha, beta, betaZero);
            }
            return;
        }
        for (int jr = 0; jr < nc; jr += nr)
        {
            int nrNow = Math.Min(nr, nc - jr);
            T* pb = packedB + (long)jr * kc;
            T* cCol = c + jr * ccs;
            for (int ir = 0; ir < mc; ir += mr)
            {
                int mrNow = Math.Min(mr, mc - ir);
                Tile(packedA + (long)ir * kc, pb, tile, kc, cCol + ir * crs, crs, ccs, mrNow, nrNow, alpha, beta, betaZero);
            }
        }
    }

    /// <summary>One register tile of C (<paramref name="mrNow"/> x <paramref name="nrNow"/> valid), partial tiles through <paramref name="tile"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile(T* pa, T* pb, T* tile, int kc, T* cTile, long crs, long ccs, int mrNow, int nrNow, T alpha, T beta,
        bool betaZero)
    {
        int mr = TK.MR, nr = TK.NR;
        if (mrNow == mr && nrNow == nr && ccs == 1)
        {
            TK.Run(kc, pa, pb, cTile, crs, alpha, beta, betaZero);
        }
        else
        {
            TK.Run(kc, pa, pb, tile, nr, T.One, T.Zero, true);
            Merge(tile, nr, cTile, crs, ccs, mrNow, nrNow, alpha, beta, betaZero);
        }
    }

    /// <summary>Ticks since <paramref name="t"/>, which moves to now.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static long Lap(ref long t)
    {
        long now = Stopwatch.GetTimestamp();
        long elapsed = now - t;
        t = now;
        return elapsed;
    }

    /// <summary>C[0..mr, 0..nr] = alpha * tile + beta * C (C not read when betaZero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Merge(T* tile, int ldt, T* c, long crs, long ccs, int mr, int nr, T alpha, T beta, bool betaZero)
    {
        for (int i = 0; i < mr; i++)
        {
            T* t = tile + i * ldt;
            T* ci = c + i * crs;
            if (betaZero)
            {
                for (int j = 0; j < nr; j++)
                    ci[j * ccs] = alpha * t[j];
            }
            else
            {
                for (int j = 0; j < nr; j++)
                    ci[j * ccs] = alpha * t[j] + beta * ci[j * ccs];
            }
        }
    }

    /// <summary>C = beta * C, or C = 0 when beta is zero (so NaN in C does not survive).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scale(T* c, long crs, long ccs, int m, int n, T beta)
    {
        if (beta == T.One)
            return;
        for (int i = 0; i < m; i++)
        {
            T* ci = c + i * crs;
            for (int j = 0; j < n; j++)
                ci[j * ccs] = beta == T.Zero ? T.Zero : beta * ci[j * ccs];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int CeilDiv(int x, int y) => (x + y - 1) / y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int RoundUp(int x, int y) => (x + y - 1) / y * y;
}
