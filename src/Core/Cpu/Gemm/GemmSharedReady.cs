using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Ember.Cpu;

/// <summary>
/// One product split over several threads that pack B once between them, in one pool run with no barrier: the whole of
/// B is packed (every KC slice, every NR panel) into one buffer of the calling thread, and each panel of each slice has
/// a ready flag. A piece that needs a slice's panels for its cell of C claims the ones nobody has claimed yet, packs
/// them, waits for the ones other pieces are packing, and multiplies; it never waits for a slice it does not use, nor
/// for the other pieces to finish a slice. On with <c>EMBER_GEMM_SHARED_B=2</c>; <c>EMBER_GEMM_SHARED_B=3</c> shares the
/// packed A the same way (all of A packed once, each MR panel of each slice with its ready flag), so that no element of
/// A or B is packed twice whatever the grid.
/// </summary>
/// <remarks>
/// <para>No deadlock whatever the pool does: a piece waits only for a panel another thread has claimed, and a thread
/// that claims a panel packs it at once, without waiting for anything. When the pool runs every piece on the caller
/// (busy pool), each piece simply packs all the panels it needs.</para>
/// <para>The pieces of one column group (the GridM pieces with the same columns of C) start claiming at different
/// panels, so each packs about 1/GridM of their panels: every element of B is packed once, against GridM times when
/// each piece packs its own (the default path). Results are the same bits as on every other path: each element of C is
/// summed over the same KC slices in the same order by the same micro-kernel.</para>
/// </remarks>
internal static unsafe class GemmSharedReady<T, TK>
    where T : unmanaged, IBinaryFloatingPointIeee754<T>
    where TK : struct, IGemmKernel<T>
{
    /// <summary>Largest packed B (bytes) this path takes; larger products use the barrier-per-block shared path.</summary>
    internal const long MaxPackedBytes = 256L << 20;

    private const int Free = 0, Claimed = 1, Ready = 2;

    /// <summary>Whether the whole packed B of <paramref name="p"/> (and A, when <paramref name="shareA"/>) fits <see cref="MaxPackedBytes"/>.</summary>
    public static bool Fits(GemmProblem<T>* p, bool shareA)
        => ((long)GemmDriver<T, TK>.RoundUp(p->N, TK.NR) + (shareA ? GemmDriver<T, TK>.RoundUp(p->M, TK.MR) + 16 : 0))
            * p->K * sizeof(T) <= MaxPackedBytes;

    /// <summary>
    /// Runs <paramref name="p"/> (one entry, k &gt; 0, alpha not zero) in <paramref name="parts"/> pieces; A is packed
    /// once too when <paramref name="shareA"/>.
    /// </summary>
    public static void Execute(GemmProblem<T>* p, int parts, bool shareA)
    {
        int mr = TK.MR, nr = TK.NR;
        Plan plan = default;
        plan.P = p;
        plan.ShareA = shareA;
        plan.Kc = GemmDriver<T, TK>.Kc;
        // The private path's A block: each piece's cell of B (its columns of one slice) stays in its L2 as there.
        plan.Mc = GemmBlocking.PrivateMc(mr, plan.Kc, sizeof(T), TK.MC);
        plan.KBlocks = GemmDriver<T, TK>.CeilDiv(p->K, plan.Kc);
        plan.Panels = GemmDriver<T, TK>.CeilDiv(p->N, nr);
        plan.Tiles = shareA ? GemmDriver<T, TK>.CeilDiv(p->M, mr) : 0;
        // Slice b of B starts at b * SliceLength; within it, panel j at j * kc * NR (kc: that slice's depth). A likewise,
        // after all of B, with 16 elements of slack after each slice (PackA may write that far past its last panel).
        plan.SliceLength = (long)plan.Kc * plan.Panels * nr;
        plan.ASliceLength = (long)plan.Kc * plan.Tiles * mr + 16;
        long packedB = plan.SliceLength * plan.KBlocks, packedA = shareA ? plan.ASliceLength * plan.KBlocks : 0;
        long flagCount = (long)plan.KBlocks * (plan.Panels + plan.Tiles);
        plan.Buffer = (T*)GemmBuffers.GetShared((nuint)((packedB + packedA) * sizeof(T) + flagCount * sizeof(int)));
        plan.ABuffer = plan.Buffer + packedB;
        plan.Flags = (int*)(plan.ABuffer + packedA);
        plan.AFlags = plan.Flags + (long)plan.KBlocks * plan.Panels;
        new Span<int>(plan.Flags, (int)flagCount).Clear();
        (plan.GridM, plan.GridN) = GemmShared<T, TK>.ChooseGrid(p, parts, plan.Panels);
        GemmTraceProduct* trace = p->Trace;
        if (trace is not null)
            GemmTrace.BeginRun(trace);
        GemmWorkers.Run(parts, &Piece, &plan);
        if (trace is not null)
        {
            GemmTrace.EndRun(trace, pooled: true);
            GemmTrace.End(trace, sizeof(T), 1, p->M, p->N, p->K, p->ARow == 1, p->BCol == 1, shareA ? 'A' : 'R', plan.GridM, plan.GridN, 1,
                plan.Mc, plan.Panels * nr, plan.Kc);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Piece(void* context, int part)
    {
        var plan = (Plan*)context;
        GemmProblem<T>* p = plan->P;
        GemmTracePart* trace = p->Trace is null ? null : p->Trace->Parts + part;
        if (trace is not null)
            GemmTrace.PieceStart(trace);
        if (part < plan->GridM * plan->GridN)
            Cell(plan, part, trace);
        if (trace is not null)
            GemmTrace.PieceEnd(trace);
    }

    /// <summary>Computes piece <paramref name="part"/>'s cell of C, slice by slice, packing its share of B on the way.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Cell(Plan* plan, int part, GemmTracePart* trace)
    {
        GemmProblem<T>* p = plan->P;
        int mr = TK.MR, nr = TK.NR;
        int gi = part / plan->GridN, gj = part % plan->GridN;
        int mTiles = GemmDriver<T, TK>.CeilDiv(p->M, mr);
        int r0 = (int)((long)mTiles * gi / plan->GridM) * mr;
        int r1 = Math.Min(p->M, (int)((long)mTiles * (gi + 1) / plan->GridM) * mr);
        int j0 = (int)((long)plan->Panels * gj / plan->GridN), j1 = (int)((long)plan->Panels * (gj + 1) / plan->GridN);
        int c0 = j0 * nr, c1 = Math.Min(p->N, j1 * nr);
        if (r0 >= r1 || c0 >= c1)
            return;

        int mcBlock = plan->Mc;
        int kcMax = Math.Min(p->K, plan->Kc);
        int mcMax = Math.Min(GemmDriver<T, TK>.RoundUp(r1 - r0, mr), mcBlock);
        // PackA may write up to 16 elements past its last panel: reserve the slack, then an MR x NR tile for partial tiles.
        long aLength = GemmDriver<T, TK>.RoundUp(kcMax * mcMax, 16) + 16;
        T* packedA = (T*)GemmBuffers.Get((nuint)((aLength + mr * nr) * sizeof(T)));
        T* tile = packedA + aLength;
        long ars = p->ARow, acs = p->ACol, crs = p->CRow, ccs = p->CCol;
        int count = j1 - j0;
        // Where this piece starts claiming: the GridM pieces of a column group start a 1/GridM apart (and the GridN pieces
        // of a row group a 1/GridN apart in A's panels).
        int start = (int)((long)count * gi / plan->GridM);
        int t0 = r0 / mr, t1 = GemmDriver<T, TK>.CeilDiv(r1, mr), tiles = t1 - t0;
        int aStart = (int)((long)tiles * gj / plan->GridN);
        long t = trace is null ? 0 : Stopwatch.GetTimestamp();
        for (int block = 0; block < plan->KBlocks; block++)
        {
            int pc = block * plan->Kc, kc = Math.Min(plan->Kc, p->K - pc);
            T* slice = plan->Buffer + block * plan->SliceLength;
            int* flags = plan->Flags + (long)block * plan->Panels;
            for (int i = 0; i < count; i++)
            {
                int j = j0 + (start + i) % count;
                if (Volatile.Read(ref flags[j]) != Free || Interlocked.CompareExchange(ref flags[j], Claimed, Free) != Free)
                    continue;
                GemmPacking.PackB(slice + (long)j * kc * nr, p->B + pc * p->BRow + (long)j * nr * p->BCol, p->BRow, p->BCol,
                    kc, Math.Min(nr, p->N - j * nr), nr);
                // Release: the packed panel is visible to whoever reads Ready.
                Volatile.Write(ref flags[j], Ready);
            }
            if (trace is not null)
                trace->PackB += GemmDriver<T, TK>.Lap(ref t);
            T* aSlice = plan->ABuffer + block * plan->ASliceLength;
            int* aFlags = plan->AFlags + (long)block * plan->Tiles;
            if (plan->ShareA)
            {
                for (int i = 0; i < tiles; i++)
                {
                    int tile0 = t0 + (aStart + i) % tiles;
                    if (Volatile.Read(ref aFlags[tile0]) != Free || Interlocked.CompareExchange(ref aFlags[tile0], Claimed, Free) != Free)
                        continue;
                    PackAPanel(p, aSlice + (long)tile0 * kc * mr, tile0 * mr, pc, kc, packedA);
                    Volatile.Write(ref aFlags[tile0], Ready);
                }
                if (trace is not null)
                    trace->PackA += GemmDriver<T, TK>.Lap(ref t);
            }
            // Panels still not ready are being packed by another piece (it claimed them and packs without waiting on
            // anything). Spin, yielding the core now and then (never sleeping) in case that piece's thread is preempted.
            var spinner = default(SpinWait);
            for (int j = j0; j < j1; j++)
            {
                while (Volatile.Read(ref flags[j]) != Ready)
                    spinner.SpinOnce(sleep1Threshold: -1);
            }
            for (int i = plan->ShareA ? t0 : t1; i < t1; i++)
            {
                while (Volatile.Read(ref aFlags[i]) != Ready)
                    spinner.SpinOnce(sleep1Threshold: -1);
            }
            if (trace is not null)
                trace->Wait += GemmDriver<T, TK>.Lap(ref t);
            // Only the first k slice applies beta; later slices add to what the earlier ones wrote.
            T beta = pc == 0 ? p->Beta : T.One;
            if (plan->ShareA)
            {
                // A's panels of this slice are packed: panel i (rows i * MR...) starts at i * MR * kc.
                for (int ic = r0; ic < r1; ic += mcBlock)
                {
                    GemmDriver<T, TK>.MacroKernel(aSlice + (long)ic * kc, slice + (long)j0 * kc * nr, tile,
                        Math.Min(mcBlock, r1 - ic), c1 - c0, kc, p->C + ic * crs + c0 * ccs, crs, ccs, p->Alpha, beta);
                }
                if (trace is not null)
                    trace->Kernel += GemmDriver<T, TK>.Lap(ref t);
                continue;
            }
            for (int ic = r0; ic < r1; ic += mcBlock)
            {
                int mc = Math.Min(mcBlock, r1 - ic);
                GemmPacking.PackA(packedA, p->A + ic * ars + pc * acs, ars, acs, mc, kc, mr);
                if (trace is not null)
                    trace->PackA += GemmDriver<T, TK>.Lap(ref t);
                GemmDriver<T, TK>.MacroKernel(packedA, slice + (long)j0 * kc * nr, tile, mc, c1 - c0, kc,
                    p->C + ic * crs + c0 * ccs, crs, ccs, p->Alpha, beta);
                if (trace is not null)
                    trace->Kernel += GemmDriver<T, TK>.Lap(ref t);
            }
        }
    }

    /// <summary>
    /// Packs the MR rows of A from <paramref name="row"/> (depth [pc, pc + kc)) into their panel at <paramref name="dst"/>,
    /// through <paramref name="scratch"/> (MR x KC + 16 elements): PackA may write 16 elements past a panel, which here is
    /// the next panel, perhaps packed already by another piece.
    /// </summary>
    private static void PackAPanel(GemmProblem<T>* p, T* dst, int row, int pc, int kc, T* scratch)
    {
        int mr = TK.MR;
        int rows = Math.Min(mr, p->M - row);
        GemmPacking.PackA(scratch, p->A + row * p->ARow + pc * p->ACol, p->ARow, p->ACol, rows, kc, mr);
        new ReadOnlySpan<T>(scratch, kc * mr).CopyTo(new Span<T>(dst, kc * mr));
    }

    /// <summary>The shared state of one product, on the caller's stack, read by every piece.</summary>
    private struct Plan
    {
        public GemmProblem<T>* P;
        public T* Buffer, ABuffer;
        public int* Flags, AFlags;
        public long SliceLength, ASliceLength;
        public int Kc, Mc, KBlocks, Panels, Tiles, GridM, GridN;
        public bool ShareA;
    }
}
