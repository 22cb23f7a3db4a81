using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Ember.Cpu;

/// <summary>
/// One product split over several threads that share the packed B: for each (KC, NC) block of B the threads pack its NR
/// panels cooperatively, once, into a buffer of the calling thread; then every thread multiplies its cell of C (a 2-D
/// grid of whole MR x NR tiles, so no cache line of C is written by two threads except at a row's ends) against the
/// whole shared block, packing its own rows of A into its L2-sized private buffer.
/// </summary>
/// <remarks>
/// The worker pool's run is the barrier between packing and compute. Two buffers alternate so that one run both
/// computes block i (packed by the previous run) and packs block i + 1: a product of b blocks takes b + 1 runs. The
/// caller's own pieces and the pool's fallback (all pieces on the caller when the pool is busy) follow the same order,
/// so the split never changes a result: every element of C is summed over the same KC slices in the same order.
/// </remarks>
internal static unsafe class GemmShared<T, TK>
    where T : unmanaged, IBinaryFloatingPointIeee754<T>
    where TK : struct, IGemmKernel<T>
{
    /// <summary>Runs <paramref name="p"/> (one entry, k &gt; 0, alpha not zero) in <paramref name="parts"/> pieces.</summary>
    public static void Execute(GemmProblem<T>* p, int parts)
    {
        int mr = TK.MR, nr = TK.NR;
        Plan plan = default;
        plan.P = p;
        plan.Parts = parts;
        plan.Kc = GemmDriver<T, TK>.Kc;
        plan.Nc = Math.Min(GemmBlocking.SharedNc(nr, plan.Kc, sizeof(T), TK.NC), GemmDriver<T, TK>.RoundUp(p->N, nr));
        plan.Mc = GemmBlocking.SharedMc(mr, plan.Kc, sizeof(T));
        plan.KBlocks = GemmDriver<T, TK>.CeilDiv(p->K, plan.Kc);
        plan.Blocks = plan.KBlocks * GemmDriver<T, TK>.CeilDiv(p->N, plan.Nc);
        // Each buffer holds one packed block: whole NR panels (zero-padded) of at most Kc rows.
        long kcMax = Math.Min(p->K, plan.Kc);
        plan.BufferLength = GemmDriver<T, TK>.RoundUp((int)(kcMax * plan.Nc), 16);
        plan.Buffer0 = (T*)GemmBuffers.GetShared((nuint)(2 * plan.BufferLength * sizeof(T)));
        plan.Buffer1 = plan.Buffer0 + plan.BufferLength;
        PlanGrid(&plan);
        GemmTraceProduct* trace = p->Trace;
        for (int step = 0; step <= plan.Blocks; step++)
        {
            plan.Step = step;
            if (trace is not null)
                GemmTrace.BeginRun(trace);
            GemmWorkers.Run(parts, &Piece, &plan);
            if (trace is not null)
                GemmTrace.EndRun(trace, pooled: true);
        }
        if (trace is not null)
        {
            GemmTrace.End(trace, sizeof(T), 1, p->M, p->N, p->K, p->ARow == 1, p->BCol == 1, 'S', plan.GridM, plan.GridN, 1,
                plan.Mc, plan.Nc, plan.Kc);
        }
    }

    /// <summary>Chooses the GridM x GridN split of a block's tiles over the pieces that minimizes a cell's work.</summary>
    private static void PlanGrid(Plan* plan)
    {
        GemmProblem<T>* p = plan->P;
        (plan->GridM, plan->GridN) = ChooseGrid(p, plan->Parts, GemmDriver<T, TK>.CeilDiv(plan->Nc, TK.NR));
    }

    /// <summary>
    /// The GridM x GridN split of <paramref name="nPanels"/> NR panels of a shared B block (all of p's rows) over
    /// <paramref name="parts"/> pieces that minimizes a cell's work, when B is packed once for all pieces.
    /// </summary>
    internal static (int GridM, int GridN) ChooseGrid(GemmProblem<T>* p, int parts, int nPanels)
    {
        int mr = TK.MR, nr = TK.NR;
        int mTiles = GemmDriver<T, TK>.CeilDiv(p->M, mr);
        // Packing one element of A costs about as much as 10 (contiguous runs) to 56 (scalar scatter) multiply-adds of
        // the kernel (see GemmDriver.PlanGrid); every piece packs the rows of its cell once per block, so splitting N
        // repeats that work, while splitting M does not.
        long scatter = typeof(T) == typeof(float) && GemmPackTranspose.IsSupported ? 12 : 56;
        long packA = p->ARow == 1 ? 10 : scatter;
        long best = long.MaxValue;
        (int GridM, int GridN) grid = (1, 1);
        for (int gm = 1; gm <= parts; gm++)
        {
            if (parts % gm != 0)
                continue;
            int gn = parts / gm;
            long cellM = (long)GemmDriver<T, TK>.CeilDiv(mTiles, gm) * mr;
            long cellN = (long)GemmDriver<T, TK>.CeilDiv(nPanels, gn) * nr;
            long cost = cellM * cellN + packA * cellM;
            if (cost < best)
            {
                best = cost;
                grid = (Math.Min(gm, mTiles), Math.Min(gn, nPanels));
            }
        }
        return grid;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Piece(void* context, int part)
    {
        var plan = (Plan*)context;
        GemmTracePart* trace = plan->P->Trace is null ? null : plan->P->Trace->Parts + part;
        if (trace is not null)
            GemmTrace.PieceStart(trace);
        if (plan->Step < plan->Blocks)
            PackShare(plan, plan->Step, part, trace);
        if (plan->Step > 0)
            Compute(plan, plan->Step - 1, part, trace);
        if (trace is not null)
            GemmTrace.PieceEnd(trace);
    }

    /// <summary>Packs piece <paramref name="part"/>'s share of the NR panels of block <paramref name="block"/>.</summary>
    private static void PackShare(Plan* plan, int block, int part, GemmTracePart* trace)
    {
        GemmProblem<T>* p = plan->P;
        int nr = TK.NR;
        Locate(plan, block, out int jc, out int nc, out int pc, out int kc);
        int panels = GemmDriver<T, TK>.CeilDiv(nc, nr);
        int first = (int)((long)panels * part / plan->Parts), last = (int)((long)panels * (part + 1) / plan->Parts);
        if (first >= last)
            return;
        T* buffer = (block & 1) == 0 ? plan->Buffer0 : plan->Buffer1;
        int c0 = first * nr, c1 = Math.Min(nc, last * nr);
        long t = trace is null ? 0 : Stopwatch.GetTimestamp();
        GemmPacking.PackB(buffer + (long)c0 * kc, p->B + pc * p->BRow + (jc + c0) * p->BCol, p->BRow, p->BCol, kc, c1 - c0, nr);
        if (trace is not null)
            trace->PackB += GemmDriver<T, TK>.Lap(ref t);
    }

    /// <summary>Multiplies piece <paramref name="part"/>'s cell of C by the packed block <paramref name="block"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Compute(Plan* plan, int block, int part, GemmTracePart* trace)
    {
        int cells = plan->GridM * plan->GridN;
        if (part >= cells)
            return;
        GemmProblem<T>* p = plan->P;
        int mr = TK.MR, nr = TK.NR;
        Locate(plan, block, out int jc, out int nc, out int pc, out int kc);
        int gi = part / plan->GridN, gj = part % plan->GridN;
        int mTiles = GemmDriver<T, TK>.CeilDiv(p->M, mr), nPanels = GemmDriver<T, TK>.CeilDiv(nc, nr);
        int r0 = (int)((long)mTiles * gi / plan->GridM) * mr;
        int r1 = Math.Min(p->M, (int)((long)mTiles * (gi + 1) / plan->GridM) * mr);
        int c0 = (int)((long)nPanels * gj / plan->GridN) * nr;
        int c1 = Math.Min(nc, (int)((long)nPanels * (gj + 1) / plan->GridN) * nr);
        if (r0 >= r1 || c0 >= c1)
            return;

        int mcBlock = plan->Mc;
        int mcMax = Math.Min(GemmDriver<T, TK>.RoundUp(r1 - r0, mr), mcBlock);
        // PackA may write up to 16 elements past its last panel: reserve the slack, then an MR x NR tile for partial tiles.
        long aLength = GemmDriver<T, TK>.RoundUp(kc * mcMax, 16) + 16;
        T* packedA = (T*)GemmBuffers.Get((nuint)((aLength + mr * nr) * sizeof(T)));
        T* tile = packedA + aLength;
        T* packedB = ((block & 1) == 0 ? plan->Buffer0 : plan->Buffer1) + (long)c0 * kc;
        // Only the first k slice applies beta; later slices add to what the earlier ones wrote.
        T beta = pc == 0 ? p->Beta : T.One;
        long ars = p->ARow, acs = p->ACol, crs = p->CRow, ccs = p->CCol;
        long t = trace is null ? 0 : Stopwatch.GetTimestamp();
        for (int ic = r0; ic < r1; ic += mcBlock)
        {
            int mc = Math.Min(mcBlock, r1 - ic);
            GemmPacking.PackA(packedA, p->A + ic * ars + pc * acs, ars, acs, mc, kc, mr);
            if (trace is not null)
                trace->PackA += GemmDriver<T, TK>.Lap(ref t);
            GemmDriver<T, TK>.MacroKernel(packedA, packedB, tile, mc, c1 - c0, kc, p->C + ic * crs + (jc + c0) * ccs,
                crs, ccs, p->Alpha, beta);
            if (trace is not null)
                trace->Kernel += GemmDriver<T, TK>.Lap(ref t);
        }
    }

    /// <summary>Columns [jc, jc + nc) and depth [pc, pc + kc) of block <paramref name="block"/> (k slices innermost).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Locate(Plan* plan, int block, out int jc, out int nc, out int pc, out int kc)
    {
        GemmProblem<T>* p = plan->P;
        jc = block / plan->KBlocks * plan->Nc;
        pc = block % plan->KBlocks * plan->Kc;
        nc = Math.Min(plan->Nc, p->N - jc);
        kc = Math.Min(plan->Kc, p->K - pc);
    }

    /// <summary>The shared state of one product, on the caller's stack, read by every piece.</summary>
    private struct Plan
    {
        public GemmProblem<T>* P;
        public T* Buffer0, Buffer1;
        public long BufferLength;
        public int Parts, Kc, Mc, Nc, KBlocks, Blocks, GridM, GridN;

        /// <summary>The current run: it computes block Step - 1 (when Step &gt; 0) and packs block Step (when Step &lt; Blocks).</summary>
        public int Step;
    }
}
