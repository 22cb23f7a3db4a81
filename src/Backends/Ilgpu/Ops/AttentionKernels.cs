using System.Runtime.CompilerServices;
using ILGPU;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// Where one attention operand [*, rows, cols] is: the leading dims coalesced on the host into at most two (outer,
/// inner), each with its stride, then the row and column strides (in elements), so permuted views need no copy.
/// </summary>
internal struct AttentionOperand
{
    /// <summary>Storage offset of element [0, 0, 0, 0].</summary>
    public long Offset;
    /// <summary>Stride of the outer leading dim.</summary>
    public long Outer;
    /// <summary>Stride of the inner leading dim.</summary>
    public long Inner;
    /// <summary>Stride of a row (dim −2).</summary>
    public long Row;
    /// <summary>Stride of a column (dim −1).</summary>
    public long Col;

    /// <summary>Storage index of [outer, inner, r, c].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly long At(long outer, long inner, long r, long c) => Offset + outer * Outer + inner * Inner + r * Row + c * Col;
}

/// <summary>The operands of the attention kernels (forward: Q, K, V, P, O = output; backward: O = incoming gradient).</summary>
internal struct AttentionOperands
{
    /// <summary>Queries [*, L, D].</summary>
    public AttentionOperand Q;
    /// <summary>Keys [*, S, D].</summary>
    public AttentionOperand K;
    /// <summary>Values [*, S, Dv].</summary>
    public AttentionOperand V;
    /// <summary>Probabilities [*, L, S].</summary>
    public AttentionOperand P;
    /// <summary>The output [*, L, Dv] (forward) or its gradient (backward).</summary>
    public AttentionOperand O;
    /// <summary>dS [*, L, S], the scores' gradient (backward scratch).</summary>
    public AttentionOperand DS;
    /// <summary>Gradient of the queries [*, L, D].</summary>
    public AttentionOperand DQ;
    /// <summary>Gradient of the keys [*, S, D].</summary>
    public AttentionOperand DK;
    /// <summary>Gradient of the values [*, S, Dv].</summary>
    public AttentionOperand DV;
}

/// <summary>Sizes of one attention call.</summary>
internal struct AttentionGeometry
{
    /// <summary>Size of the inner leading dim (batch index b = outer·Inner + inner).</summary>
    public long Inner;
    /// <summary>Query rows L, key rows S, query/key width D, value width Dv.</summary>
    public long L, S, D, Dv;
    /// <summary>Groups per batch entry (row blocks of Group.DimX / warp size rows).</summary>
    public long Blocks;
    /// <summary>1 when key j is visible to query i only for j ≤ i.</summary>
    public int Causal;
}

/// <summary>
/// Scaled dot-product attention in three kernels: <see cref="Forward{TS, T, R, S}"/> (one warp per query row: scores, causal
/// mask, max-subtracted softmax, P written, output = P·V), and the backward pass from the saved P in two:
/// <see cref="RowsBackward{TS, T, R, S}"/> (per query row: dP = g·Vᵀ, dS = P ⊙ (dP − Σ dP ⊙ P)·scale, dQ = dS·K) and
/// <see cref="ColumnsBackward{TS, T, R, S}"/> (per key row: dV = Pᵀ·g, dK = dSᵀ·Q). Rows of one group belong to one batch
/// entry and stage each chunk of <see cref="Chunk"/> key (or value, query, gradient) rows in shared memory once for all
/// its warps; a lane
/// owns one key of the chunk for dot products (padded rows: no bank conflicts) and one column of D for the sums, whose
/// weights it takes from the owning lane by a shuffle. Head widths up to <see cref="MaxHeadDim"/>; warp size 32.
/// </summary>
internal static class AttentionKernels
{
    /// <summary>Keys per staged chunk: one per lane.</summary>
    public const int Chunk = 32;
    /// <summary>Widest D and Dv (four columns per lane).</summary>
    public const int MaxHeadDim = 128;
    /// <summary>Most warps per group (rows staged in shared memory).</summary>
    public const int MaxWarps = 8;

    private const int ChunkElements = Chunk * (MaxHeadDim + 1);

    /// <summary>
    /// e^(a − m) for a running max m ≥ a, exactly 1 when a = m (also when both are −∞, so a prefix of −∞ scores keeps
    /// its count and a row of only −∞ ends as NaN, as on the CPU), NaN when a = m = +∞.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Weight<T, R>(T a, T m) where T : unmanaged where R : struct, IReal<T>
    {
        if (!R.Eq(a, m)) return R.Exp(R.Sub(a, m));
        T d = R.Sub(a, m);
        return R.IsNaN(d) && R.Lt(R.FromD(0.0), a) ? d : R.FromD(1.0);
    }

    /// <summary>
    /// Copies rows [first, first + n) × [0, width) of <paramref name="src"/> to shared rows of <paramref name="stride"/>,
    /// widened to the compute type (16-bit storage is staged as float32, exactly).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Stage<TS, T, S>(ArrayView<TS> src, AttentionOperand a, long outer, long inner, long first, long n, int width, int stride,
        ArrayView<T> shared) where TS : unmanaged where T : unmanaged where S : struct, IElementStorage<TS, T>
    {
        int count = (int)n * width;
        for (int e = Group.IdxX; e < count; e += Group.DimX)
        {
            int t = e / width, c = e - t * width;
            shared[t * stride + c] = S.Load(src[a.At(outer, inner, first + t, c)]);
        }
    }

    /// <summary>
    /// Σ_c row[c]·chunk[lane, c] over a row staged at <paramref name="rowBase"/> and the chunk's padded row of this lane,
    /// summed in order of c. Unrolled by four (the loop's compare, branch and index arithmetic were most of its
    /// instructions: 18 PTX instructions per product).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Dot<T, R>(ArrayView<T> rows, int rowBase, ArrayView<T> chunk, int chunkBase, int width)
        where T : unmanaged where R : struct, IReal<T>
    {
        T acc = R.FromD(0.0);
        int c = 0, r = rowBase, k = chunkBase;
        for (; c + 4 <= width; c += 4, r += 4, k += 4)
        {
            acc = R.Add(acc, R.Mul(rows[r], chunk[k]));
            acc = R.Add(acc, R.Mul(rows[r + 1], chunk[k + 1]));
            acc = R.Add(acc, R.Mul(rows[r + 2], chunk[k + 2]));
            acc = R.Add(acc, R.Mul(rows[r + 3], chunk[k + 3]));
        }
        for (; c < width; c++, r++, k++) acc = R.Add(acc, R.Mul(rows[r], chunk[k]));
        return acc;
    }

    /// <summary>
    /// Adds w_t·chunk[t, lane + 32m] for t &lt; n into the four column accumulators (w_t from lane t). Columns past the
    /// width are still loaded (inside the chunk's allocation: (n − 1)·width + 127 &lt; <see cref="ChunkElements"/>) and
    /// their sums discarded by a select, so the loop has no branches but its own.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate<T, R>(T w, int n, ArrayView<T> chunk, int width, ref T a0, ref T a1, ref T a2, ref T a3)
        where T : unmanaged where R : struct, IReal<T>
    {
        int lane = Warp.LaneIdx;
        bool h0 = lane < width, h1 = lane + 32 < width, h2 = lane + 64 < width, h3 = lane + 96 < width;
        T s0 = a0, s1 = a1, s2 = a2, s3 = a3;
        for (int t = 0, b = lane; t < n; t++, b += width)
        {
            T wt = Warp.Shuffle(w, t);
            T n0 = R.Add(s0, R.Mul(wt, chunk[b])), n1 = R.Add(s1, R.Mul(wt, chunk[b + 32]));
            T n2 = R.Add(s2, R.Mul(wt, chunk[b + 64])), n3 = R.Add(s3, R.Mul(wt, chunk[b + 96]));
            s0 = h0 ? n0 : s0;
            s1 = h1 ? n1 : s1;
            s2 = h2 ? n2 : s2;
            s3 = h3 ? n3 : s3;
        }
        a0 = s0; a1 = s1; a2 = s2; a3 = s3;
    }

    /// <summary>Writes the four column accumulators of this lane to row r of <paramref name="dst"/> (each rounded once to the storage).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteRow<TS, T, S>(ArrayView<TS> dst, AttentionOperand a, long outer, long inner, long r, int width, T a0, T a1, T a2, T a3)
        where TS : unmanaged where T : unmanaged where S : struct, IElementStorage<TS, T>
    {
        int lane = Warp.LaneIdx;
        if (lane < width) dst[a.At(outer, inner, r, lane)] = S.Store(a0);
        if (lane + 32 < width) dst[a.At(outer, inner, r, lane + 32)] = S.Store(a1);
        if (lane + 64 < width) dst[a.At(outer, inner, r, lane + 64)] = S.Store(a2);
        if (lane + 96 < width) dst[a.At(outer, inner, r, lane + 96)] = S.Store(a3);
    }

    /// <summary>
    /// This group's batch entry (outer, inner), its first row and the row of this warp. Groups are numbered row block
    /// first (every batch entry's block 0, then every entry's block 1, ...), and with <paramref name="descending"/> from
    /// the last row block: causal query rows near the end see the most keys, so the longest groups start first and the
    /// last wave is made of short ones (an H100 ran 1.29 waves of these kernels with the heavy blocks spread through
    /// the grid; ncu: 55 % achieved occupancy against 75 % possible). Key rows (<c>ColumnsBackward</c>) are heaviest
    /// first in ascending order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Place(AttentionGeometry g, bool descending, out long outer, out long inner, out long first, out long row)
    {
        long gi = Grid.IdxX, batch = Grid.DimX / g.Blocks, rb = gi / batch, b = gi - rb * batch;
        if (descending) rb = g.Blocks - 1 - rb;
        outer = b / g.Inner;
        inner = b - outer * g.Inner;
        first = rb * (Group.DimX / Warp.WarpSize);
        row = first + Warp.WarpIdx;
    }

    /// <summary>
    /// Forward: P[i, j] = softmax_j(scale·q_i·k_j) (0 for causal j &gt; i), o_i = Σ_j P[i, j]·v_j. One warp per query row,
    /// Group.DimX / 32 rows per group, groups = batch · <see cref="AttentionGeometry.Blocks"/>. q, k, v, o and
    /// <paramref name="probabilities"/> are stored as <typeparamref name="S"/> says; <paramref name="p"/> holds the
    /// raw scores in the compute type (for plain storage it is <paramref name="probabilities"/> itself; for 16-bit
    /// storage a float32 scratch of the same layout, so the scores are never rounded and P and o are rounded once).
    /// </summary>
    public static void Forward<TS, T, R, S>(ArrayView<TS> q, ArrayView<TS> k, ArrayView<TS> v, ArrayView<T> p, ArrayView<TS> probabilities,
        ArrayView<TS> o, AttentionGeometry g, AttentionOperands x, T scale)
        where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T>
    {
        var chunk = SharedMemory.Allocate<T>(ChunkElements);
        var rows = SharedMemory.Allocate<T>(MaxWarps * MaxHeadDim);
        Place(g, g.Causal != 0, out long outer, out long inner, out long first, out long i);
        int lane = Warp.LaneIdx, warps = Group.DimX / Warp.WarpSize, d = (int)g.D, dv = (int)g.Dv, rowBase = Warp.WarpIdx * MaxHeadDim;
        bool active = i < g.L;
        long last = XMin(first + warps, g.L) - 1;
        // Keys the group visits (the union over its rows) and keys this row sees.
        long keys = g.Causal != 0 ? XMin(g.S, last + 1) : g.S;
        long mine = !active ? 0 : g.Causal != 0 ? XMin(g.S, i + 1) : g.S;
        if (active)
            for (int c = lane; c < d; c += Warp.WarpSize) rows[rowBase + c] = S.Load(q[x.Q.At(outer, inner, i, c)]);

        // Pass 1: raw scaled scores into P, and each lane's running (max, Σ e^(s − max)).
        T m = R.NegInf(), s = R.FromD(0.0);
        for (long j0 = 0; j0 < keys; j0 += Chunk)
        {
            long n = XMin(Chunk, keys - j0);
            Group.Barrier();
            Stage<TS, T, S>(k, x.K, outer, inner, j0, n, d, d + 1, chunk);
            Group.Barrier();
            long j = j0 + lane;
            if (j < mine)
            {
                T sc = R.Mul(Dot<T, R>(rows, rowBase, chunk, lane * (d + 1), d), scale);
                p[x.P.At(outer, inner, i, j)] = sc;
                if (R.Lt(m, sc)) { s = R.Add(R.Mul(s, Weight<T, R>(m, sc)), R.FromD(1.0)); m = sc; }
                else s = R.Add(s, Weight<T, R>(sc, m));
            }
        }
        // Butterfly merge of the lanes' (max, sum): symmetric, so every lane ends with the row's values.
        for (int off = Warp.WarpSize / 2; off > 0; off >>= 1)
        {
            T m2 = Warp.ShuffleXor(m, off), s2 = Warp.ShuffleXor(s, off);
            T mn = R.Lt(m, m2) || R.IsNaN(m2) ? m2 : m;
            s = R.Add(R.Mul(s, Weight<T, R>(m, mn)), R.Mul(s2, Weight<T, R>(m2, mn)));
            m = mn;
        }
        T inv = R.Div(R.FromD(1.0), s);

        // Pass 2: normalize P in place (each lane rereads only what it wrote), o = Σ_j P[i, j]·v_j.
        T a0 = R.FromD(0.0), a1 = a0, a2 = a0, a3 = a0;
        for (long j0 = 0; j0 < keys; j0 += Chunk)
        {
            long n = XMin(Chunk, keys - j0);
            Group.Barrier();
            Stage<TS, T, S>(v, x.V, outer, inner, j0, n, dv, dv, chunk);
            Group.Barrier();
            long j = j0 + lane;
            T pj = R.FromD(0.0);
            if (j < mine)
            {
                long at = x.P.At(outer, inner, i, j);
                pj = R.Mul(Weight<T, R>(p[at], m), inv);
                // o below sums the unrounded pj (one rounding of o, as the float32 kernel between conversions gave).
                if (S.Narrow) probabilities[at] = S.Store(pj);
                else p[at] = pj;
            }
            long visible = XMin(n, mine - j0);
            if (visible > 0) Accumulate<T, R>(pj, (int)visible, chunk, dv, ref a0, ref a1, ref a2, ref a3);
        }
        if (!active) return;
        for (long j = mine + lane; j < g.S; j += Warp.WarpSize)
        {
            if (S.Narrow) probabilities[x.P.At(outer, inner, i, j)] = S.Store(R.FromD(0.0));
            else p[x.P.At(outer, inner, i, j)] = R.FromD(0.0);
        }
        WriteRow<TS, T, S>(o, x.O, outer, inner, i, dv, a0, a1, a2, a3);
    }

    /// <summary>
    /// Backward per query row i (launched as <see cref="Forward{TS, T, R, S}"/>): dP_ij = g_i·v_j, δ_i = Σ_j dP_ij·P_ij,
    /// dS_ij = P_ij·(dP_ij − δ_i)·scale (written to ds), dq_i = Σ_j dS_ij·k_j. Every operand but the scratch ds (always
    /// in the compute type) is stored as <typeparamref name="S"/> says.
    /// </summary>
    public static void RowsBackward<TS, T, R, S>(ArrayView<TS> grad, ArrayView<TS> k, ArrayView<TS> v, ArrayView<TS> p, ArrayView<T> ds,
        ArrayView<TS> dq, AttentionGeometry g, AttentionOperands x, T scale)
        where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T>
    {
        var chunk = SharedMemory.Allocate<T>(ChunkElements);
        var rows = SharedMemory.Allocate<T>(MaxWarps * MaxHeadDim);
        Place(g, g.Causal != 0, out long outer, out long inner, out long first, out long i);
        int lane = Warp.LaneIdx, warps = Group.DimX / Warp.WarpSize, d = (int)g.D, dv = (int)g.Dv, rowBase = Warp.WarpIdx * MaxHeadDim;
        bool active = i < g.L;
        long last = XMin(first + warps, g.L) - 1;
        long keys = g.Causal != 0 ? XMin(g.S, last + 1) : g.S;
        long mine = !active ? 0 : g.Causal != 0 ? XMin(g.S, i + 1) : g.S;
        if (active)
            for (int c = lane; c < dv; c += Warp.WarpSize) rows[rowBase + c] = S.Load(grad[x.O.At(outer, inner, i, c)]);

        // Pass 1: dP into ds (scratch), δ partial sums per lane.
        T delta = R.FromD(0.0);
        for (long j0 = 0; j0 < keys; j0 += Chunk)
        {
            long n = XMin(Chunk, keys - j0);
            Group.Barrier();
            Stage<TS, T, S>(v, x.V, outer, inner, j0, n, dv, dv + 1, chunk);
            Group.Barrier();
            long j = j0 + lane;
            if (j < mine)
            {
                T dp = Dot<T, R>(rows, rowBase, chunk, lane * (dv + 1), dv);
                ds[x.DS.At(outer, inner, i, j)] = dp;
                delta = R.Add(delta, R.Mul(dp, S.Load(p[x.P.At(outer, inner, i, j)])));
            }
        }
        for (int off = Warp.WarpSize / 2; off > 0; off >>= 1) delta = R.Add(delta, Warp.ShuffleXor(delta, off));

        // Pass 2: dS from dP (each lane rereads its own writes), dq = Σ_j dS_ij·k_j.
        T a0 = R.FromD(0.0), a1 = a0, a2 = a0, a3 = a0;
        for (long j0 = 0; j0 < keys; j0 += Chunk)
        {
            long n = XMin(Chunk, keys - j0);
            Group.Barrier();
            Stage<TS, T, S>(k, x.K, outer, inner, j0, n, d, d, chunk);
            Group.Barrier();
            long j = j0 + lane;
            T w = R.FromD(0.0);
            if (j < mine)
            {
                long at = x.DS.At(outer, inner, i, j);
                w = R.Mul(R.Mul(S.Load(p[x.P.At(outer, inner, i, j)]), R.Sub(ds[at], delta)), scale);
                ds[at] = w;
            }
            long visible = XMin(n, mine - j0);
            if (visible > 0) Accumulate<T, R>(w, (int)visible, chunk, d, ref a0, ref a1, ref a2, ref a3);
        }
        if (active) WriteRow<TS, T, S>(dq, x.DQ, outer, inner, i, d, a0, a1, a2, a3);
    }

    /// <summary>
    /// Backward per key row j (launched as <see cref="Forward{TS, T, R, S}"/> over S rows): dv_j = Σ_i P_ij·g_i,
    /// dk_j = Σ_i dS_ij·q_i over the rows i that see key j. The group's warps (consecutive keys) walk the query rows in
    /// chunks of <see cref="Chunk"/>, staging the chunk's g rows, then its q rows, in shared memory once for all warps;
    /// each lane loads P and dS of one row i of the chunk and the warp broadcasts them. Causal: the walk starts at the
    /// group's first key, and rows i &lt; j weigh 0 (P is 0 there; dS was not written by <see cref="RowsBackward{TS, T, R, S}"/>).
    /// </summary>
    public static void ColumnsBackward<TS, T, R, S>(ArrayView<TS> grad, ArrayView<TS> q, ArrayView<TS> p, ArrayView<T> ds,
        ArrayView<TS> dk, ArrayView<TS> dv, AttentionGeometry g, AttentionOperands x)
        where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T>
    {
        var chunk = SharedMemory.Allocate<T>(Chunk * MaxHeadDim);
        Place(g, false, out long outer, out long inner, out long first, out long j);
        int lane = Warp.LaneIdx, d = (int)g.D, w = (int)g.Dv;
        // Warps past the last key stay for the barriers and add nothing.
        bool active = j < g.S;
        long start = g.Causal != 0 ? first : 0;
        T k0 = R.FromD(0.0), k1 = k0, k2 = k0, k3 = k0, v0 = k0, v1 = k0, v2 = k0, v3 = k0;
        for (long i0 = start; i0 < g.L; i0 += Chunk)
        {
            long n = XMin(Chunk, g.L - i0);
            long il = i0 + lane;
            T pl = R.FromD(0.0), dl = pl;
            if (active && lane < n && (g.Causal == 0 || il >= j)) { pl = S.Load(p[x.P.At(outer, inner, il, j)]); dl = ds[x.DS.At(outer, inner, il, j)]; }
            Group.Barrier();
            Stage<TS, T, S>(grad, x.O, outer, inner, i0, n, w, w, chunk);
            Group.Barrier();
            Accumulate<T, R>(pl, (int)n, chunk, w, ref v0, ref v1, ref v2, ref v3);
            Group.Barrier();
            Stage<TS, T, S>(q, x.Q, outer, inner, i0, n, d, d, chunk);
            Group.Barrier();
            Accumulate<T, R>(dl, (int)n, chunk, d, ref k0, ref k1, ref k2, ref k3);
        }
        if (!active) return;
        WriteRow<TS, T, S>(dv, x.DV, outer, inner, j, w, v0, v1, v2, v3);
        WriteRow<TS, T, S>(dk, x.DK, outer, inner, j, d, k0, k1, k2, k3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long XMin(long a, long b) => a < b ? a : b;
}
