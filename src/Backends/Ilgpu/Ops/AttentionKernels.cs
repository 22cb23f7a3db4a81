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
/// Four values of the compute type, one for each of a warp's <see cref="AttentionKernels.RowsPerWarp"/> rows: a lane's
/// scores, weights or statistics for the four rows, or its accumulators of one column (c = lane + 32m) for them.
/// </summary>
internal struct Quad<T> where T : unmanaged
{
    public T A, B, C, D;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Quad(T a, T b, T c, T d) { A = a; B = b; C = c; D = d; }

    /// <summary>The value of row <paramref name="r"/> (0..3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly T At(int r) => r == 0 ? A : r == 1 ? B : r == 2 ? C : D;
}

/// <summary>
/// Scaled dot-product attention in three kernels: <see cref="Forward{TS, T, R, S}"/> (scores, causal mask,
/// max-subtracted softmax, P written, output = P·V), and the backward pass from the saved P in two:
/// <see cref="RowsBackward{TS, T, R, S}"/> (per query row: dP = g·Vᵀ, dS = P ⊙ (dP − Σ dP ⊙ P)·scale, dQ = dS·K) and
/// <see cref="ColumnsBackward{TS, T, R, S}"/> (per key row: dV = Pᵀ·g, dK = dSᵀ·Q).
/// <para>
/// A warp owns <see cref="RowsPerWarp"/> consecutive rows (query rows; key rows in the columns kernel), a group
/// Group.DimX / 32 warps of one batch entry. The group stages each chunk of <see cref="Chunk"/> key (or value, query,
/// gradient) rows in shared memory once for all its warps. Dot products: a lane owns one key of the chunk (padded
/// rows: no bank conflicts) and computes its score for the warp's four rows at once, the rows' values (held in
/// registers, a lane holding columns lane + 32m) broadcast by shuffles: one shared load and four shuffles per four
/// multiply-adds, where one row per warp took two shared loads per multiply-add. Weighted sums: a lane owns columns
/// lane + 32m of the four rows and takes the four weights of each chunk row from the owning lane by shuffles, one
/// shared load per four multiply-adds. Every sum runs in the order the one-row kernel summed (over c, then over the
/// keys in order), so results do not depend on how rows are grouped. Head widths up to <see cref="MaxHeadDim"/>; warp
/// size 32.
/// </para>
/// </summary>
internal static class AttentionKernels
{
    /// <summary>Keys per staged chunk: one per lane.</summary>
    public const int Chunk = 32;
    /// <summary>Widest D and Dv (four columns per lane).</summary>
    public const int MaxHeadDim = 128;
    /// <summary>Rows of one warp (register tile height).</summary>
    public const int RowsPerWarp = 4;

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

    /// <summary>a + w·v for each of the four rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Quad<T> Madd<T, R>(Quad<T> a, Quad<T> w, T v) where T : unmanaged where R : struct, IReal<T> =>
        new(R.Add(a.A, R.Mul(w.A, v)), R.Add(a.B, R.Mul(w.B, v)), R.Add(a.C, R.Mul(w.C, v)), R.Add(a.D, R.Mul(w.D, v)));

    /// <summary>Lane <paramref name="t"/>'s four values, to every lane (the whole warp must take part).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Quad<T> Broadcast<T>(Quad<T> x, int t) where T : unmanaged =>
        new(Warp.Shuffle(x.A, t), Warp.Shuffle(x.B, t), Warp.Shuffle(x.C, t), Warp.Shuffle(x.D, t));

    /// <summary>
    /// Adds Σ_{c &lt; end} x[c]·chunk[k + c] to the four rows' sums, x[c] being column 32m + c of each row (lane c
    /// holds it in <paramref name="x"/>). In order of c, unrolled by four.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Quad<T> DotBlock<T, R>(Quad<T> s, Quad<T> x, ArrayView<T> chunk, int k, int end)
        where T : unmanaged where R : struct, IReal<T>
    {
        int c = 0;
        for (; c + 4 <= end; c += 4, k += 4)
        {
            s = Madd<T, R>(s, Broadcast(x, c), chunk[k]);
            s = Madd<T, R>(s, Broadcast(x, c + 1), chunk[k + 1]);
            s = Madd<T, R>(s, Broadcast(x, c + 2), chunk[k + 2]);
            s = Madd<T, R>(s, Broadcast(x, c + 3), chunk[k + 3]);
        }
        for (; c < end; c++, k++) s = Madd<T, R>(s, Broadcast(x, c), chunk[k]);
        return s;
    }

    /// <summary>
    /// Σ_c row_r[c]·chunk[k + c] over c &lt; <paramref name="width"/> for the warp's four rows, whose columns
    /// lane + 32m are x0..x3 (m = 0..3); the chunk row at <paramref name="k"/> is this lane's. Whole warp.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Quad<T> Dot<T, R>(Quad<T> x0, Quad<T> x1, Quad<T> x2, Quad<T> x3, ArrayView<T> chunk, int k, int width)
        where T : unmanaged where R : struct, IReal<T>
    {
        T z = R.FromD(0.0);
        var s = DotBlock<T, R>(new Quad<T>(z, z, z, z), x0, chunk, k, width < 32 ? width : 32);
        if (width > 32) s = DotBlock<T, R>(s, x1, chunk, k + 32, width < 64 ? width - 32 : 32);
        if (width > 64) s = DotBlock<T, R>(s, x2, chunk, k + 64, width < 96 ? width - 64 : 32);
        if (width > 96) s = DotBlock<T, R>(s, x3, chunk, k + 96, width - 96);
        return s;
    }

    /// <summary>
    /// Adds w_r(t)·chunk[t, lane + 32m] for t &lt; n to column m's accumulators c_m of the four rows (w(t) from lane t).
    /// Only the column blocks the width needs are read; columns past the width in the last block are read (inside the
    /// chunk: (n − 1)·width + 127 &lt; <see cref="ChunkElements"/>) into sums nobody writes. Whole warp.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate<T, R>(Quad<T> w, int n, ArrayView<T> chunk, int width, ref Quad<T> c0, ref Quad<T> c1, ref Quad<T> c2, ref Quad<T> c3)
        where T : unmanaged where R : struct, IReal<T>
    {
        int lane = Warp.LaneIdx;
        Quad<T> s0 = c0, s1 = c1, s2 = c2, s3 = c3;
        if (width <= 32)
            for (int t = 0, b = lane; t < n; t++, b += width) s0 = Madd<T, R>(s0, Broadcast(w, t), chunk[b]);
        else if (width <= 64)
            for (int t = 0, b = lane; t < n; t++, b += width)
            {
                var wt = Broadcast(w, t);
                s0 = Madd<T, R>(s0, wt, chunk[b]);
                s1 = Madd<T, R>(s1, wt, chunk[b + 32]);
            }
        else
            for (int t = 0, b = lane; t < n; t++, b += width)
            {
                var wt = Broadcast(w, t);
                s0 = Madd<T, R>(s0, wt, chunk[b]);
                s1 = Madd<T, R>(s1, wt, chunk[b + 32]);
                s2 = Madd<T, R>(s2, wt, chunk[b + 64]);
                s3 = Madd<T, R>(s3, wt, chunk[b + 96]);
            }
        c0 = s0; c1 = s1; c2 = s2; c3 = s3;
    }

    /// <summary>Columns lane + 32m of rows first..first + 3 (zero past <paramref name="rows"/> or the width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Quad<T> LoadBlock<TS, T, R, S>(ArrayView<TS> src, AttentionOperand a, long outer, long inner, long first, long rows, int width, int m)
        where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T>
    {
        int c = Warp.LaneIdx + 32 * m;
        T z = R.FromD(0.0);
        if (c >= width) return new Quad<T>(z, z, z, z);
        return new Quad<T>(
            first < rows ? S.Load(src[a.At(outer, inner, first, c)]) : z,
            first + 1 < rows ? S.Load(src[a.At(outer, inner, first + 1, c)]) : z,
            first + 2 < rows ? S.Load(src[a.At(outer, inner, first + 2, c)]) : z,
            first + 3 < rows ? S.Load(src[a.At(outer, inner, first + 3, c)]) : z);
    }

    /// <summary>Writes column block m (c = lane + 32m) of rows first..first + 3 below <paramref name="rows"/> (each rounded once to the storage).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteBlock<TS, T, S>(ArrayView<TS> dst, AttentionOperand a, long outer, long inner, long first, long rows, int width, int m, Quad<T> x)
        where TS : unmanaged where T : unmanaged where S : struct, IElementStorage<TS, T>
    {
        int c = Warp.LaneIdx + 32 * m;
        if (c >= width) return;
        for (int r = 0; r < RowsPerWarp; r++)
            if (first + r < rows) dst[a.At(outer, inner, first + r, c)] = S.Store(x.At(r));
    }

    /// <summary>Writes the four column blocks of rows first..first + 3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteRows<TS, T, S>(ArrayView<TS> dst, AttentionOperand a, long outer, long inner, long first, long rows, int width,
        Quad<T> c0, Quad<T> c1, Quad<T> c2, Quad<T> c3) where TS : unmanaged where T : unmanaged where S : struct, IElementStorage<TS, T>
    {
        WriteBlock<TS, T, S>(dst, a, outer, inner, first, rows, width, 0, c0);
        WriteBlock<TS, T, S>(dst, a, outer, inner, first, rows, width, 1, c1);
        WriteBlock<TS, T, S>(dst, a, outer, inner, first, rows, width, 2, c2);
        WriteBlock<TS, T, S>(dst, a, outer, inner, first, rows, width, 3, c3);
    }

    /// <summary>
    /// This group's batch entry (outer, inner), its first row and the first of this warp's rows. Groups are numbered
    /// row block first (every batch entry's block 0, then every entry's block 1, ...), and with
    /// <paramref name="descending"/> from the last row block: causal query rows near the end see the most keys, so the
    /// longest groups start first and the last wave is made of short ones (an H100 ran 1.29 waves of the one-row-per-
    /// warp kernels with the heavy blocks spread through the grid; ncu: 55 % achieved occupancy against 75 % possible).
    /// Key rows (<c>ColumnsBackward</c>) are heaviest first in ascending order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Place(AttentionGeometry g, bool descending, out long outer, out long inner, out long first, out long row)
    {
        long gi = Grid.IdxX, batch = Grid.DimX / g.Blocks, rb = gi / batch, b = gi - rb * batch;
        if (descending) rb = g.Blocks - 1 - rb;
        outer = b / g.Inner;
        inner = b - outer * g.Inner;
        first = rb * (Group.DimX / Warp.WarpSize * RowsPerWarp);
        row = first + Warp.WarpIdx * RowsPerWarp;
    }

    /// <summary>
    /// Where this warp's query rows i..i + 3 are (<see cref="Place"/>, heaviest causal blocks first), the keys its group
    /// visits (the union over the group's rows), the keys each row sees (v0..v3, 0 past L) and their most, and the
    /// rows' column blocks m = 0..3 of <paramref name="src"/> (width <paramref name="width"/>) in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void QueryRows<TS, T, R, S>(ArrayView<TS> src, AttentionOperand a, AttentionGeometry g, int width, out long outer, out long inner,
        out long i, out long keys, out long v0, out long v1, out long v2, out long v3, out long most,
        out Quad<T> x0, out Quad<T> x1, out Quad<T> x2, out Quad<T> x3)
        where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T>
    {
        Place(g, g.Causal != 0, out outer, out inner, out long first, out i);
        long last = XMin(first + Group.DimX / Warp.WarpSize * RowsPerWarp, g.L) - 1;
        keys = g.Causal != 0 ? XMin(g.S, last + 1) : g.S;
        v0 = Visible(g, i);
        v1 = Visible(g, i + 1);
        v2 = Visible(g, i + 2);
        v3 = Visible(g, i + 3);
        most = XMax(XMax(v0, v1), XMax(v2, v3));
        x0 = LoadBlock<TS, T, R, S>(src, a, outer, inner, i, g.L, width, 0);
        x1 = LoadBlock<TS, T, R, S>(src, a, outer, inner, i, g.L, width, 1);
        x2 = LoadBlock<TS, T, R, S>(src, a, outer, inner, i, g.L, width, 2);
        x3 = LoadBlock<TS, T, R, S>(src, a, outer, inner, i, g.L, width, 3);
    }

    /// <summary>Keys query row i sees: S, or i + 1 when causal; 0 past the last row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Visible(AttentionGeometry g, long i) => i >= g.L ? 0 : g.Causal != 0 ? XMin(g.S, i + 1) : g.S;

    /// <summary>Folds score <paramref name="sc"/> into a running (max, Σ e^(s − max)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Online<T, R>(ref T m, ref T s, T sc) where T : unmanaged where R : struct, IReal<T>
    {
        if (R.Lt(m, sc)) { s = R.Add(R.Mul(s, Weight<T, R>(m, sc)), R.FromD(1.0)); m = sc; }
        else s = R.Add(s, Weight<T, R>(sc, m));
    }

    /// <summary>Butterfly merge of the lanes' (max, sum): symmetric, so every lane ends with the row's values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MergeLanes<T, R>(ref T m, ref T s) where T : unmanaged where R : struct, IReal<T>
    {
        for (int off = Warp.WarpSize / 2; off > 0; off >>= 1)
        {
            T m2 = Warp.ShuffleXor(m, off), s2 = Warp.ShuffleXor(s, off);
            T mn = R.Lt(m, m2) || R.IsNaN(m2) ? m2 : m;
            s = R.Add(R.Mul(s, Weight<T, R>(m, mn)), R.Mul(s2, Weight<T, R>(m2, mn)));
            m = mn;
        }
    }

    /// <summary>Σ over the warp's lanes (butterfly: every lane ends with it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T SumLanes<T, R>(T x) where T : unmanaged where R : struct, IReal<T>
    {
        for (int off = Warp.WarpSize / 2; off > 0; off >>= 1) x = R.Add(x, Warp.ShuffleXor(x, off));
        return x;
    }

    /// <summary>Pass 2 of the forward for one row: P[i, j] = e^(s − m)/Σ for a visible key (written), else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Normalize<TS, T, R, S>(ArrayView<T> p, ArrayView<TS> probabilities, AttentionOperand a, long outer, long inner, long i, long j,
        long visible, T m, T inv) where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T>
    {
        if (j >= visible) return R.FromD(0.0);
        long at = a.At(outer, inner, i, j);
        T pj = R.Mul(Weight<T, R>(p[at], m), inv);
        // o sums the unrounded pj (one rounding of o, as the float32 kernel between conversions gave).
        if (S.Narrow) probabilities[at] = S.Store(pj);
        else p[at] = pj;
        return pj;
    }

    /// <summary>Zeroes P[i, j] for the keys row i does not see (j ≥ <paramref name="visible"/>), rows below L only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ZeroTail<TS, T, R, S>(ArrayView<T> p, ArrayView<TS> probabilities, AttentionOperand a, AttentionGeometry g,
        long outer, long inner, long i, long visible) where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T>
    {
        if (i >= g.L) return;
        for (long j = visible + Warp.LaneIdx; j < g.S; j += Warp.WarpSize)
        {
            if (S.Narrow) probabilities[a.At(outer, inner, i, j)] = S.Store(R.FromD(0.0));
            else p[a.At(outer, inner, i, j)] = R.FromD(0.0);
        }
    }

    /// <summary>
    /// Forward: P[i, j] = softmax_j(scale·q_i·k_j) (0 for causal j &gt; i), o_i = Σ_j P[i, j]·v_j. A warp per
    /// <see cref="RowsPerWarp"/> query rows, groups = batch · <see cref="AttentionGeometry.Blocks"/>. q, k, v, o and
    /// <paramref name="probabilities"/> are stored as <typeparamref name="S"/> says; <paramref name="p"/> holds the
    /// raw scores in the compute type (for plain storage it is <paramref name="probabilities"/> itself; for 16-bit
    /// storage a float32 scratch of the same layout, so the scores are never rounded and P and o are rounded once).
    /// </summary>
    public static void Forward<TS, T, R, S>(ArrayView<TS> q, ArrayView<TS> k, ArrayView<TS> v, ArrayView<T> p, ArrayView<TS> probabilities,
        ArrayView<TS> o, AttentionGeometry g, AttentionOperands x, T scale)
        where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T>
    {
        var chunk = SharedMemory.Allocate<T>(ChunkElements);
        QueryRows<TS, T, R, S>(q, x.Q, g, (int)g.D, out long outer, out long inner, out long i, out long keys, out long v0, out long v1, out long v2,
            out long v3, out long most, out var q0, out var q1, out var q2, out var q3);
        int lane = Warp.LaneIdx, d = (int)g.D, dv = (int)g.Dv;

        // Pass 1: raw scaled scores into P, and each lane's running (max, Σ e^(s − max)) per row.
        T ninf = R.NegInf(), zero = R.FromD(0.0);
        T m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf, s0 = zero, s1 = zero, s2 = zero, s3 = zero;
        for (long j0 = 0; j0 < keys; j0 += Chunk)
        {
            long n = XMin(Chunk, keys - j0);
            Group.Barrier();
            Stage<TS, T, S>(k, x.K, outer, inner, j0, n, d, d + 1, chunk);
            Group.Barrier();
            if (j0 >= most) continue;   // the same for the whole warp, as the shuffles need
            var sc = Dot<T, R>(q0, q1, q2, q3, chunk, lane * (d + 1), d);
            long j = j0 + lane;
            if (j < v0) { T t = R.Mul(sc.A, scale); p[x.P.At(outer, inner, i, j)] = t; Online<T, R>(ref m0, ref s0, t); }
            if (j < v1) { T t = R.Mul(sc.B, scale); p[x.P.At(outer, inner, i + 1, j)] = t; Online<T, R>(ref m1, ref s1, t); }
            if (j < v2) { T t = R.Mul(sc.C, scale); p[x.P.At(outer, inner, i + 2, j)] = t; Online<T, R>(ref m2, ref s2, t); }
            if (j < v3) { T t = R.Mul(sc.D, scale); p[x.P.At(outer, inner, i + 3, j)] = t; Online<T, R>(ref m3, ref s3, t); }
        }
        MergeLanes<T, R>(ref m0, ref s0);
        MergeLanes<T, R>(ref m1, ref s1);
        MergeLanes<T, R>(ref m2, ref s2);
        MergeLanes<T, R>(ref m3, ref s3);
        T one = R.FromD(1.0), i0 = R.Div(one, s0), i1 = R.Div(one, s1), i2 = R.Div(one, s2), i3 = R.Div(one, s3);

        // Pass 2: normalize P in place (each lane rereads only what it wrote), o = Σ_j P[i, j]·v_j.
        Quad<T> c0 = new(zero, zero, zero, zero), c1 = c0, c2 = c0, c3 = c0;
        for (long j0 = 0; j0 < keys; j0 += Chunk)
        {
            long n = XMin(Chunk, keys - j0);
            Group.Barrier();
            Stage<TS, T, S>(v, x.V, outer, inner, j0, n, dv, dv, chunk);
            Group.Barrier();
            if (j0 >= most) continue;
            long j = j0 + lane;
            var w = new Quad<T>(
                Normalize<TS, T, R, S>(p, probabilities, x.P, outer, inner, i, j, v0, m0, i0),
                Normalize<TS, T, R, S>(p, probabilities, x.P, outer, inner, i + 1, j, v1, m1, i1),
                Normalize<TS, T, R, S>(p, probabilities, x.P, outer, inner, i + 2, j, v2, m2, i2),
                Normalize<TS, T, R, S>(p, probabilities, x.P, outer, inner, i + 3, j, v3, m3, i3));
            Accumulate<T, R>(w, (int)XMin(n, most - j0), chunk, dv, ref c0, ref c1, ref c2, ref c3);
        }
        ZeroTail<TS, T, R, S>(p, probabilities, x.P, g, outer, inner, i, v0);
        ZeroTail<TS, T, R, S>(p, probabilities, x.P, g, outer, inner, i + 1, v1);
        ZeroTail<TS, T, R, S>(p, probabilities, x.P, g, outer, inner, i + 2, v2);
        ZeroTail<TS, T, R, S>(p, probabilities, x.P, g, outer, inner, i + 3, v3);
        WriteRows<TS, T, S>(o, x.O, outer, inner, i, g.L, dv, c0, c1, c2, c3);
    }

    /// <summary>One row's weight in pass 2 of <see cref="RowsBackward{TS, T, R, S}"/>: dS = P·(dP − δ)·scale, written over dP.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T ScoreGrad<TS, T, R, S>(ArrayView<TS> p, ArrayView<T> ds, AttentionOperands x, long outer, long inner, long i, long j,
        long visible, T delta, T scale) where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T>
    {
        if (j >= visible) return R.FromD(0.0);
        long at = x.DS.At(outer, inner, i, j);
        T w = R.Mul(R.Mul(S.Load(p[x.P.At(outer, inner, i, j)]), R.Sub(ds[at], delta)), scale);
        ds[at] = w;
        return w;
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
        QueryRows<TS, T, R, S>(grad, x.O, g, (int)g.Dv, out long outer, out long inner, out long i, out long keys, out long v0, out long v1, out long v2,
            out long v3, out long most, out var g0, out var g1, out var g2, out var g3);
        int lane = Warp.LaneIdx, d = (int)g.D, dv = (int)g.Dv;

        // Pass 1: dP into ds (scratch), δ partial sums per lane and row.
        T zero = R.FromD(0.0), d0 = zero, d1 = zero, d2 = zero, d3 = zero;
        for (long j0 = 0; j0 < keys; j0 += Chunk)
        {
            long n = XMin(Chunk, keys - j0);
            Group.Barrier();
            Stage<TS, T, S>(v, x.V, outer, inner, j0, n, dv, dv + 1, chunk);
            Group.Barrier();
            if (j0 >= most) continue;
            var dp = Dot<T, R>(g0, g1, g2, g3, chunk, lane * (dv + 1), dv);
            long j = j0 + lane;
            if (j < v0) { ds[x.DS.At(outer, inner, i, j)] = dp.A; d0 = R.Add(d0, R.Mul(dp.A, S.Load(p[x.P.At(outer, inner, i, j)]))); }
            if (j < v1) { ds[x.DS.At(outer, inner, i + 1, j)] = dp.B; d1 = R.Add(d1, R.Mul(dp.B, S.Load(p[x.P.At(outer, inner, i + 1, j)]))); }
            if (j < v2) { ds[x.DS.At(outer, inner, i + 2, j)] = dp.C; d2 = R.Add(d2, R.Mul(dp.C, S.Load(p[x.P.At(outer, inner, i + 2, j)]))); }
            if (j < v3) { ds[x.DS.At(outer, inner, i + 3, j)] = dp.D; d3 = R.Add(d3, R.Mul(dp.D, S.Load(p[x.P.At(outer, inner, i + 3, j)]))); }
        }
        d0 = SumLanes<T, R>(d0);
        d1 = SumLanes<T, R>(d1);
        d2 = SumLanes<T, R>(d2);
        d3 = SumLanes<T, R>(d3);

        // Pass 2: dS from dP (each lane rereads its own writes), dq = Σ_j dS_ij·k_j.
        Quad<T> c0 = new(zero, zero, zero, zero), c1 = c0, c2 = c0, c3 = c0;
        for (long j0 = 0; j0 < keys; j0 += Chunk)
        {
            long n = XMin(Chunk, keys - j0);
            Group.Barrier();
            Stage<TS, T, S>(k, x.K, outer, inner, j0, n, d, d, chunk);
            Group.Barrier();
            if (j0 >= most) continue;
            long j = j0 + lane;
            var w = new Quad<T>(
                ScoreGrad<TS, T, R, S>(p, ds, x, outer, inner, i, j, v0, d0, scale),
                ScoreGrad<TS, T, R, S>(p, ds, x, outer, inner, i + 1, j, v1, d1, scale),
                ScoreGrad<TS, T, R, S>(p, ds, x, outer, inner, i + 2, j, v2, d2, scale),
                ScoreGrad<TS, T, R, S>(p, ds, x, outer, inner, i + 3, j, v3, d3, scale));
            Accumulate<T, R>(w, (int)XMin(n, most - j0), chunk, d, ref c0, ref c1, ref c2, ref c3);
        }
        WriteRows<TS, T, S>(dq, x.DQ, outer, inner, i, g.L, d, c0, c1, c2, c3);
    }

    /// <summary>P and dS of query row <paramref name="il"/> at key <paramref name="j"/>, 0 where the key is not seen (or out of range).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadColumn<TS, T, R, S>(ArrayView<TS> p, ArrayView<T> ds, AttentionOperands x, AttentionGeometry g, long outer, long inner,
        long il, bool rowOk, long j, out T pl, out T dl) where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T>
    {
        pl = R.FromD(0.0);
        dl = pl;
        if (!rowOk || j >= g.S || g.Causal != 0 && il < j) return;
        pl = S.Load(p[x.P.At(outer, inner, il, j)]);
        dl = ds[x.DS.At(outer, inner, il, j)];
    }

    /// <summary>
    /// Backward per key row j (launched as <see cref="Forward{TS, T, R, S}"/> over S rows, a warp per
    /// <see cref="RowsPerWarp"/> keys): dv_j = Σ_i P_ij·g_i, dk_j = Σ_i dS_ij·q_i over the rows i that see key j. The
    /// group's warps walk the query rows in chunks of <see cref="Chunk"/>, staging the chunk's g rows, then its q rows,
    /// in shared memory once for all warps; each lane loads P and dS of one row i of the chunk for the warp's keys and
    /// the warp broadcasts them. Causal: the walk starts at the group's first key, and rows i &lt; j weigh 0 (P is 0
    /// there; dS was not written by <see cref="RowsBackward{TS, T, R, S}"/>).
    /// </summary>
    public static void ColumnsBackward<TS, T, R, S>(ArrayView<TS> grad, ArrayView<TS> q, ArrayView<TS> p, ArrayView<T> ds,
        ArrayView<TS> dk, ArrayView<TS> dv, AttentionGeometry g, AttentionOperands x)
        where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T>
    {
        var chunk = SharedMemory.Allocate<T>(Chunk * MaxHeadDim);
        Place(g, false, out long outer, out long inner, out long first, out long j);
        int lane = Warp.LaneIdx, d = (int)g.D, w = (int)g.Dv;
        long start = g.Causal != 0 ? first : 0;
        T zero = R.FromD(0.0);
        Quad<T> k0 = new(zero, zero, zero, zero), k1 = k0, k2 = k0, k3 = k0, v0 = k0, v1 = k0, v2 = k0, v3 = k0;
        for (long i0 = start; i0 < g.L; i0 += Chunk)
        {
            long n = XMin(Chunk, g.L - i0);
            long il = i0 + lane;
            bool rowOk = lane < n;
            LoadColumn<TS, T, R, S>(p, ds, x, g, outer, inner, il, rowOk, j, out T pa, out T da);
            LoadColumn<TS, T, R, S>(p, ds, x, g, outer, inner, il, rowOk, j + 1, out T pb, out T db);
            LoadColumn<TS, T, R, S>(p, ds, x, g, outer, inner, il, rowOk, j + 2, out T pc, out T dc);
            LoadColumn<TS, T, R, S>(p, ds, x, g, outer, inner, il, rowOk, j + 3, out T pd, out T dd);
            Group.Barrier();
            Stage<TS, T, S>(grad, x.O, outer, inner, i0, n, w, w, chunk);
            Group.Barrier();
            Accumulate<T, R>(new Quad<T>(pa, pb, pc, pd), (int)n, chunk, w, ref v0, ref v1, ref v2, ref v3);
            Group.Barrier();
            Stage<TS, T, S>(q, x.Q, outer, inner, i0, n, d, d, chunk);
            Group.Barrier();
            Accumulate<T, R>(new Quad<T>(da, db, dc, dd), (int)n, chunk, d, ref k0, ref k1, ref k2, ref k3);
        }
        WriteRows<TS, T, S>(dv, x.DV, outer, inner, j, g.S, w, v0, v1, v2, v3);
        WriteRows<TS, T, S>(dk, x.DK, outer, inner, j, g.S, d, k0, k1, k2, k3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long XMin(long a, long b) => a < b ? a : b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long XMax(long a, long b) => a > b ? a : b;
}
