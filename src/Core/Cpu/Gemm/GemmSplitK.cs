using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Ember.Cpu;

/// <summary>
/// Split-K for a single product whose C is too small to give every thread a cell large enough to amortize its packing:
/// the weight gradients of training (C is a layer's weight, M x N; K is the batch's tokens, 2,048 in gpt). A grid of
/// 16 or 64 cells over a 768 x 256 C leaves each cell 96 x 32 or so, and a thread then packs almost as many A and B
/// elements as it multiplies. Here the pieces are (cell of a coarser grid, group of KC slices): each slice s of the
/// piece is multiplied into its own partial buffer P_s = alpha · A[:, s] · B[s, :], and a second parallel pass adds the
/// partials into C in slice order, C = ((beta · C + P_0) + P_1) + …, which is exactly what the unsplit loop computes
/// (its first slice stores alpha · acc + beta · C, each later one alpha · acc + C, every product and sum rounded alone).
/// So the result is the same bits as without the split, at any thread count (tests/Core.Tests/Gemm/GemmVariantTests).
/// </summary>
/// <remarks>
/// <see cref="GemmBlocking.SplitK"/> chooses: 0 never (the default until it is timed on a many-core machine), 1 where the
/// cost model below says a split is cheaper than the plain grid, 2 always where possible (for tests). The partials take S · M · N elements (S = ⌈K / KC⌉),
/// at most <see cref="GemmBlocking.SplitKBytes"/>, in the calling thread's shared scratch.
/// </remarks>
internal static unsafe class GemmSplitK<T, TK>
    where T : unmanaged, IBinaryFloatingPointIeee754<T>
    where TK : struct, IGemmKernel<T>
{
    /// <summary>
    /// Adding one partial element into C, in kernel multiply-adds: a streamed load, add and store (about 16 elements a
    /// cycle from L2) against 32 multiply-adds a cycle, doubled for partials that come from L3.
    /// </summary>
    private const long ReduceCost = 4;

    /// <summary>The second pool run's wake-up and barrier, in kernel multiply-adds per thread (a few microseconds).</summary>
    private const long RunCost = 1 << 17;

    /// <summary>
    /// Plans <paramref name="p"/> (one product, not shared) over <paramref name="threads"/> threads: the plain grid of
    /// <paramref name="plainCells"/> cells, or a split whose estimated time per thread is lower. Either way the grid
    /// fields are set; returns true (and sets <see cref="GemmProblem{T}.KGroups"/> &gt; 1) when it chose a split.
    /// </summary>
    public static bool Plan(GemmProblem<T>* p, int threads, int plainCells)
    {
        GemmDriver<T, TK>.PlanGrid(p, plainCells);
        int kc = GemmDriver<T, TK>.Kc, slices = GemmDriver<T, TK>.CeilDiv(p->K, kc);
        int mode = GemmBlocking.SplitK;
        if (mode == 0 || threads < 2 || slices < 2 || p->Batch != 1 || p->Alpha == T.Zero
            || (long)slices * p->M * p->N * sizeof(T) > GemmBlocking.SplitKBytes)
            return false;
        // By the model (1), only where C is small for the thread count (under 64K elements a thread): there the plain grid's
        // cells are thin and their packing is a large part of the work. Larger products keep the grid and its oversplit,
        // which balances the threads' tails (the model counts rounds, not how unevenly pieces finish). And only for a
        // long K (at least twice M and N), as the weight gradients have.
        if (mode == 1 && ((long)p->M * p->N >= 65536L * threads || p->K < 2 * Math.Max(p->M, p->N)))
            return false;
        var plain = (p->GridM, p->GridN, p->CellM, p->CellN, p->Parts);
        int bestGroups = 1, bestCells = 0;
        if (mode == 2)
        {
            // Always: the most groups, one cell per thread's share.
            bestGroups = Math.Min(slices, threads);
            bestCells = Math.Max(1, threads / bestGroups);
        }
        else
        {
            long plainCost = Estimate(p, p->Parts, p->K, threads), best = plainCost;
            for (int groups = 2; groups <= Math.Min(slices, threads); groups++)
            {
                int perThread = Math.Max(1, threads / groups);
                for (int cells = perThread; cells <= 4 * perThread; cells *= 2)   // 1, 2 or 4 cells per thread's share
                {
                    GemmDriver<T, TK>.PlanGrid(p, cells);
                    int depth = GemmDriver<T, TK>.CeilDiv(slices, groups) * kc;
                    long cost = Estimate(p, p->Parts * groups, Math.Min(depth, p->K), threads)
                        + (slices + 1L) * p->M * p->N * ReduceCost / threads + RunCost;
                    // A split must save a tenth: the model is rough, and a near tie is not worth a second pool run.
                    if (cost < best && cost * 10 < plainCost * 9)
                        (best, bestGroups, bestCells) = (cost, groups, cells);
                }
            }
        }
        if (bestGroups == 1)
        {
            (p->GridM, p->GridN, p->CellM, p->CellN, p->Parts) = plain;
            return false;
        }
        GemmDriver<T, TK>.PlanGrid(p, bestCells);
        p->KGroups = bestGroups;
        p->Slices = slices;
        p->Parts *= bestGroups;
        return true;
    }

    /// <summary>
    /// Time of the slowest thread in kernel multiply-adds: the rounds of <paramref name="pieces"/> over the threads, each
    /// a cell's multiply-adds and packing over <paramref name="depth"/> (the cost model of <see cref="GemmDriver{T, TK}.PlanGrid"/>).
    /// </summary>
    private static long Estimate(GemmProblem<T>* p, int pieces, int depth, int threads)
    {
        GemmDriver<T, TK>.PackCosts(p, out long packA, out long packB);
        long cell = (long)p->CellM * p->CellN + packA * p->CellM * GemmDriver<T, TK>.CeilDiv(p->CellN, GemmDriver<T, TK>.PrivateNc)
            + packB * p->CellN;
        return (long)GemmDriver<T, TK>.CeilDiv(pieces, threads) * depth * cell;
    }

    /// <summary>Runs a planned split: the pieces into the partials, then the partials into C.</summary>
    public static void Execute(GemmProblem<T>* p)
    {
        p->Partials = (T*)GemmBuffers.GetShared((nuint)((long)p->Slices * p->M * p->N * sizeof(T)));
        GemmWorkers.Run(p->Parts, &Piece, p, p->Threads);
        int rows = (int)Math.Clamp((long)p->Slices * p->M * p->N / 16384, 1, Math.Min(p->Threads, p->M));
        p->ReduceParts = rows;
        GemmWorkers.Run(rows, &Reduce, p, p->Threads);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Piece(void* context, int part)
    {
        var p = (GemmProblem<T>*)context;
        int cells = p->GridM * p->GridN, group = part / cells, cell = part % cells;
        int first = (int)((long)p->Slices * group / p->KGroups), last = (int)((long)p->Slices * (group + 1) / p->KGroups);
        int m0 = cell / p->GridN * p->CellM, n0 = cell % p->GridN * p->CellN;
        int m = Math.Min(p->M, m0 + p->CellM) - m0, n = Math.Min(p->N, n0 + p->CellN) - n0;
        GemmTracePart* trace = p->Trace is null ? null : p->Trace->Parts + part;
        if (trace is not null)
            GemmTrace.PieceStart(trace);
        int kc = GemmDriver<T, TK>.Kc;
        long plane = (long)p->M * p->N;
        for (int s = first; s < last; s++)
        {
            // Slice s alone, stored as alpha · acc (beta 0: the partial is not read), exactly what the unsplit loop adds.
            T* partial = p->Partials + s * plane + (long)m0 * p->N + n0;
            GemmDriver<T, TK>.Slices(p, p->A + m0 * p->ARow, p->B + n0 * p->BCol, partial, p->N, 1, m, n,
                s * kc, Math.Min(p->K, (s + 1) * kc), T.Zero, trace);
        }
        if (trace is not null)
            GemmTrace.PieceEnd(trace);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Reduce(void* context, int part)
    {
        var p = (GemmProblem<T>*)context;
        int r0 = (int)((long)p->M * part / p->ReduceParts), r1 = (int)((long)p->M * (part + 1) / p->ReduceParts);
        int n = p->N;
        long plane = (long)p->M * n;
        T beta = p->Beta;
        for (int i = r0; i < r1; i++)
        {
            T* c = p->C + i * p->CRow;
            T* row = p->Partials + (long)i * n;
            if (p->CCol == 1)
            {
                var cRow = new Span<T>(c, n);
                // The first slice: alpha · acc + beta · C, C not read when beta is 0 (as the kernel's store).
                if (beta == T.Zero)
                    new ReadOnlySpan<T>(row, n).CopyTo(cRow);
                else
                {
                    if (beta != T.One)
                        TensorPrimitives.Multiply(cRow, beta, cRow);
                    TensorPrimitives.Add(cRow, new ReadOnlySpan<T>(row, n), cRow);
                }
                for (int s = 1; s < p->Slices; s++)
                    TensorPrimitives.Add(cRow, new ReadOnlySpan<T>(row + s * plane, n), cRow);
            }
            else
            {
                long ccs = p->CCol;
                for (int j = 0; j < n; j++)
                {
                    T v = beta == T.Zero ? row[j] : row[j] + beta * c[j * ccs];
                    for (int s = 1; s < p->Slices; s++)
                        v += row[s * plane + j];
                    c[j * ccs] = v;
                }
            }
        }
    }
}
