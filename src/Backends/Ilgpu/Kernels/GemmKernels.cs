using System.Runtime.CompilerServices;
using ILGPU;
using Ember.Ilgpu.Ops;

namespace Ember.Ilgpu;

/// <summary>
/// SGEMM kernels. The tiled kernel follows the classic register-blocked design:
/// <list type="bullet">
/// <item><description>a group of 256 threads computes a 128×128 tile of C; each thread an 8×8 sub-tile held
/// in 64 registers, as two 4-row × two 4-column blocks 64 apart, so its shared-memory reads are four
/// 16-byte loads per k step;</description></item>
/// <item><description>per 8-wide K slice the group stages a 128×8 slice of op(A) and an 8×128 slice of op(B) in
/// shared memory, both k-major (<c>tile[k][m]</c>), rows padded to 132 floats so the transposing stores are
/// free of bank conflicts;</description></item>
/// <item><description>double buffering: the next slice is loaded from global memory into registers while the
/// current one is multiplied, then written to the other shared buffer; one barrier per slice;</description></item>
/// <item><description>each warp covers 32×64 outputs (4×8 threads), so each of its 16-byte shared reads touches
/// at most 128 distinct bytes (one wavefront);</description></item>
/// <item><description>global loads are 16 bytes wide where the layout allows it and the tile is whole; edge tiles
/// load element by element with bounds checks and zero fill, so any M, N, K works.</description></item>
/// </list>
/// </summary>
internal static partial class GemmKernels
{
    public const int BM = 128, BN = 128, BK = 8, Threads = 256;
    private const int Row = BM + 4;        // floats per k-row of a shared tile (padding: no bank conflicts)
    private const int Row4 = Row / 4;      // the same in Float4s
    private const int Buf = BK * Row;      // floats per shared buffer

    /// <summary>One thread per element of C: <c>idx = (n, m, batch)</c>. Accumulates in float.</summary>
    public static void Naive(Index3D idx, GemmParams p, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c) =>
        NaiveCore<NoBias>(idx, p, a, b, c, c);

    /// <summary>The body of <see cref="Naive"/> and <see cref="NaiveBias"/>: <typeparamref name="TE"/> says whether <paramref name="bias"/> is added.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void NaiveCore<TE>(Index3D idx, GemmParams p, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias)
        where TE : struct, IGemmBias
    {
        int n = idx.X, m = idx.Y;
        long z = idx.Z;
        long aBase = z * p.StrideA, bBase = z * p.StrideB, cIndex = z * p.StrideC + (long)m * p.Ldc + n;
        float acc = 0f;
        for (int k = 0; k < p.K; k++)
        {
            float av = p.TransA != 0 ? a[aBase + (long)k * p.Lda + m] : a[aBase + (long)m * p.Lda + k];
            float bv = p.TransB != 0 ? b[bBase + (long)n * p.Ldb + k] : b[bBase + (long)k * p.Ldb + n];
            acc += av * bv;
        }
        c[cIndex] = TE.Add(p.Beta == 0f ? p.Alpha * acc : p.Alpha * acc + p.Beta * c[cIndex], bias, m, n);
    }

    /// <summary>
    /// Split-K epilogue: element i of the M×N product is <c>Alpha · Σ_s w[s·M·N + i] + Beta · C</c>, with
    /// <c>p.LoadKernel</c> holding the number of slabs.
    /// </summary>
    public static void SumSplits(Index1D i, GemmParams p, ArrayView<float> w, ArrayView<float> c) =>
        SumSplitsCore<NoBias>(i, p, w, c, c);

    /// <summary>The body of <see cref="SumSplits"/> and <see cref="SumSplitsBias"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SumSplitsCore<TE>(Index1D i, GemmParams p, ArrayView<float> w, ArrayView<float> c, ArrayView<float> bias)
        where TE : struct, IGemmBias
    {
        int row = i / p.N, col = i - row * p.N;
        long mn = (long)p.M * p.N;
        // Slabs in order, eight reads in flight (StridedSum: the same sum as one read at a time).
        float acc = StridedSum.Floats(w, i, mn, p.K);
        long ci = (long)row * p.Ldc + col;
        // The bias is added here, once, after the slabs are summed (the slab products are written without it).
        c[ci] = TE.Add(p.Beta == 0f ? p.Alpha * acc : p.Alpha * acc + p.Beta * c[ci], bias, row, col);
    }

    /// <summary>
    /// The tiled kernel; launch with grid (ceil(N/128), ceil(M/128), batch) and groups of 256 threads.
    /// <typeparamref name="TA"/>/<typeparamref name="TB"/> say how A and B are stored and loaded.
    /// </summary>
    /// <remarks>
    /// The main loop runs over whole 8-wide K slices and is one basic block: rows past M (or N) are
    /// clamped to the last row instead of branching (they only feed outputs that are never written), and
    /// the barrier sits at the top. ILGPU sinks the multiply-adds to the end of the block (next to their use
    /// in the loop phi), so a branch or barrier after them would serialize the loop; in one block the PTX
    /// assembler schedules them between the global loads and the shared stores that wait for those loads.
    /// A last partial slice (K % 8) is loaded with bounds checks and zero fill.
    /// </remarks>
    public static void Tiled<TA, TB>(GemmParams p, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c)
        where TA : struct, IOperandLayout where TB : struct, IOperandLayout =>
        TiledCore<TA, TB, NoBias>(p, a, b, c, c);

    /// <summary>The body of <see cref="Tiled{TA, TB}"/> and <see cref="TiledBias{TA, TB}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TiledCore<TA, TB, TE>(GemmParams p, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias)
        where TA : struct, IOperandLayout where TB : struct, IOperandLayout where TE : struct, IGemmBias
    {
        int t = Group.IdxX;
        int lane = t & 31, warp = t >> 5;
        int tyM = ((warp >> 1) << 2) + (lane >> 3);   // 0..15: rows tyM*4.. and 64+tyM*4..
        int txN = ((warp & 1) << 3) + (lane & 7);     // 0..15: cols txN*4.. and 64+txN*4..
        int m0 = Grid.IdxY * BM, n0 = Grid.IdxX * BN;
        long z = Grid.IdxZ;
        // Batch offsets stay separate 64-bit indices: a SubView with a run-time offset would hide the
        // views' 16-byte alignment from ILGPU, which then splits Float4 accesses into scalar ones.
        long aBase = z * p.StrideA, bBase = z * p.StrideB, cBase = z * p.StrideC;
        var a4 = a.Cast<Float4>();
        var b4 = b.Cast<Float4>();

        var As = SharedMemory.Allocate<float>(2 * Buf);
        var Bs = SharedMemory.Allocate<float>(2 * Buf);
        var As4 = As.Cast<Float4>();
        var Bs4 = Bs.Cast<Float4>();

        int fullTiles = p.K / BK;
        Acc acc = default;
        if (fullTiles > 0)
        {
            StoreTile<TA>(As, 0, t, LoadFull<TA>(a, a4, aBase, p.Lda, m0, p.M, 0, t));
            StoreTile<TB>(Bs, 0, t, LoadFull<TB>(b, b4, bBase, p.Ldb, n0, p.N, 0, t));
        }
        for (int tile = 0; tile + 1 < fullTiles; tile++)
        {
            Group.Barrier();
            int k1 = (tile + 1) * BK;
            Float4 ra = LoadFull<TA>(a, a4, aBase, p.Lda, m0, p.M, k1, t);
            Float4 rb = LoadFull<TB>(b, b4, bBase, p.Ldb, n0, p.N, k1, t);
            acc = Slice(acc, As4, Bs4, (tile & 1) * BK * Row4, tyM, txN);
            StoreTile<TA>(As, (tile & 1) ^ 1, t, ra);
            StoreTile<TB>(Bs, (tile & 1) ^ 1, t, rb);
        }
        Group.Barrier();
        if (fullTiles > 0)
            acc = Slice(acc, As4, Bs4, ((fullTiles - 1) & 1) * BK * Row4, tyM, txN);
        if (fullTiles * BK < p.K)
        {
            int k0 = fullTiles * BK, buf = fullTiles & 1;
            StoreTile<TA>(As, buf, t, LoadEdge<TA>(a, aBase, p.Lda, m0, p.M, k0, p.K, t));
            StoreTile<TB>(Bs, buf, t, LoadEdge<TB>(b, bBase, p.Ldb, n0, p.N, k0, p.K, t));
            Group.Barrier();
            acc = Slice(acc, As4, Bs4, buf * BK * Row4, tyM, txN);
        }

        WriteTile<TE>(c, bias, cBase, p, m0, n0, tyM, txN, acc);
    }

    /// <summary>Writes this thread's 8×8 accumulators (rows tyM·4 + {0..3, 64..67}, columns txN·4 + {0..3, 64..67}) of the block at (m0, n0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteTile<TE>(ArrayView<float> c, ArrayView<float> bias, long cBase, GemmParams p, int m0, int n0, int tyM, int txN, Acc acc)
        where TE : struct, IGemmBias
    {
        bool vecC = p.VecC != 0 && n0 + BN <= p.N;
        int mA = m0 + (tyM << 2), mB = mA + 64;
        int nA = n0 + (txN << 2), nB = nA + 64;
        WriteRow<TE>(c, bias, cBase, p, mA, nA, nB, acc.R0, vecC);
        WriteRow<TE>(c, bias, cBase, p, mA + 1, nA, nB, acc.R1, vecC);
        WriteRow<TE>(c, bias, cBase, p, mA + 2, nA, nB, acc.R2, vecC);
        WriteRow<TE>(c, bias, cBase, p, mA + 3, nA, nB, acc.R3, vecC);
        WriteRow<TE>(c, bias, cBase, p, mB, nA, nB, acc.R4, vecC);
        WriteRow<TE>(c, bias, cBase, p, mB + 1, nA, nB, acc.R5, vecC);
        WriteRow<TE>(c, bias, cBase, p, mB + 2, nA, nB, acc.R6, vecC);
        WriteRow<TE>(c, bias, cBase, p, mB + 3, nA, nB, acc.R7, vecC);
    }

    /// <summary>The eight k steps of one shared slice starting at Float4 index <paramref name="s"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Acc Slice(Acc acc, ArrayView<Float4> As4, ArrayView<Float4> Bs4, int s, int tyM, int txN)
    {
        acc = Step(acc, As4, Bs4, s, tyM, txN);
        acc = Step(acc, As4, Bs4, s + Row4, tyM, txN);
        acc = Step(acc, As4, Bs4, s + 2 * Row4, tyM, txN);
        acc = Step(acc, As4, Bs4, s + 3 * Row4, tyM, txN);
        acc = Step(acc, As4, Bs4, s + 4 * Row4, tyM, txN);
        acc = Step(acc, As4, Bs4, s + 5 * Row4, tyM, txN);
        acc = Step(acc, As4, Bs4, s + 6 * Row4, tyM, txN);
        return Step(acc, As4, Bs4, s + 7 * Row4, tyM, txN);
    }

    /// <summary>One k step: four 16-byte shared loads, 64 multiply-adds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Acc Step(Acc acc, ArrayView<Float4> As4, ArrayView<Float4> Bs4, int row4, int tyM, int txN)
    {
        Float4 a0 = As4[row4 + tyM];
        Float4 a1 = As4[row4 + 16 + tyM];
        Float4 b0 = Bs4[row4 + txN];
        Float4 b1 = Bs4[row4 + 16 + txN];
        return Outer(acc, a0, a1, b0, b1);
    }

    /// <summary>acc += (a0, a1) ⊗ (b0, b1): this thread's 8×8 outer product of one k step (64 multiply-adds).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Acc Outer(Acc acc, Float4 a0, Float4 a1, Float4 b0, Float4 b1)
    {
        acc.R0 = Row8.Fma(acc.R0, a0.X, b0, b1);
        acc.R1 = Row8.Fma(acc.R1, a0.Y, b0, b1);
        acc.R2 = Row8.Fma(acc.R2, a0.Z, b0, b1);
        acc.R3 = Row8.Fma(acc.R3, a0.W, b0, b1);
        acc.R4 = Row8.Fma(acc.R4, a1.X, b0, b1);
        acc.R5 = Row8.Fma(acc.R5, a1.Y, b0, b1);
        acc.R6 = Row8.Fma(acc.R6, a1.Z, b0, b1);
        acc.R7 = Row8.Fma(acc.R7, a1.W, b0, b1);
        return acc;
    }

    /// <summary>
    /// This thread's four elements of the whole slice (rows r0..r0+127, k0..k0+7) of an operand: K-major
    /// operands as (row t/2, k 4·(t%2)..+3), others as (k t/32, rows 4·(t%32)..+3). Rows past the end are
    /// clamped (no branch); K must be in range.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Float4 LoadFull<TL>(ArrayView<float> x, ArrayView<Float4> x4, long xBase, int ld, int r0, int rows, int k0, int t)
        where TL : struct, IOperandLayout
    {
        if (TL.KMajor())
        {
            int r = IntrinsicMath.Min(r0 + (t >> 1), rows - 1), k = k0 + ((t & 1) << 2);
            long i = xBase + r * ld + k;
            if (TL.Vec()) return x4[i >> 2];
            return new Float4(x[i], x[i + 1], x[i + 2], x[i + 3]);
        }
        else
        {
            int k = k0 + (t >> 5), r = r0 + ((t & 31) << 2);
            long i = xBase + k * ld;
            if (TL.Vec()) return x4[(i + IntrinsicMath.Min(r, (rows - 4) & ~3)) >> 2];
            int last = rows - 1;
            return new Float4(x[i + IntrinsicMath.Min(r, last)], x[i + IntrinsicMath.Min(r + 1, last)],
                x[i + IntrinsicMath.Min(r + 2, last)], x[i + IntrinsicMath.Min(r + 3, last)]);
        }
    }

    /// <summary>Like <see cref="LoadFull{TL}"/> for the last, partial K slice: bounds-checked, zero fill.</summary>
    private static Float4 LoadEdge<TL>(ArrayView<float> x, long xBase, int ld, int r0, int rows, int k0, int depth, int t)
        where TL : struct, IOperandLayout
    {
        if (TL.KMajor())
        {
            int r = r0 + (t >> 1), k = k0 + ((t & 1) << 2);
            bool rowOk = r < rows;
            long i = xBase + r * ld + k;
            return new Float4(
                rowOk && k < depth ? x[i] : 0f,
                rowOk && k + 1 < depth ? x[i + 1] : 0f,
                rowOk && k + 2 < depth ? x[i + 2] : 0f,
                rowOk && k + 3 < depth ? x[i + 3] : 0f);
        }
        else
        {
            int k = k0 + (t >> 5), r = r0 + ((t & 31) << 2);
            bool kOk = k < depth;
            long i = xBase + k * ld + r;
            return new Float4(
                kOk && r < rows ? x[i] : 0f,
                kOk && r + 1 < rows ? x[i + 1] : 0f,
                kOk && r + 2 < rows ? x[i + 2] : 0f,
                kOk && r + 3 < rows ? x[i + 3] : 0f);
        }
    }

    /// <summary>Writes what <see cref="LoadFull{TL}"/> loaded into shared buffer <paramref name="buf"/> as <c>tile[k][r]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTile<TL>(ArrayView<float> sh, int buf, int t, Float4 v) where TL : struct, IOperandLayout
    {
        int b = buf * Buf;
        if (TL.KMajor())
        {
            int r = t >> 1, k = (t & 1) << 2;
            int i = b + k * Row + r;
            sh[i] = v.X;
            sh[i + Row] = v.Y;
            sh[i + 2 * Row] = v.Z;
            sh[i + 3 * Row] = v.W;
        }
        else
        {
            int k = t >> 5, r = (t & 31) << 2;
            sh.Cast<Float4>()[(b + k * Row + r) >> 2] = v;
        }
    }

    /// <summary>Stores one row of the thread's tile: columns nA..nA+3 and nB..nB+3 of row m.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteRow<TE>(ArrayView<float> c, ArrayView<float> bias, long cBase, GemmParams p, int m, int nA, int nB, Row8 r, bool vec)
        where TE : struct, IGemmBias
    {
        if (m >= p.M) return;
        long i = cBase + m * p.Ldc;
        if (vec)
        {
            var c4 = c.Cast<Float4>();
            Float4 lo = new(p.Alpha * r.C0, p.Alpha * r.C1, p.Alpha * r.C2, p.Alpha * r.C3);
            Float4 hi = new(p.Alpha * r.C4, p.Alpha * r.C5, p.Alpha * r.C6, p.Alpha * r.C7);
            long iA = (i + nA) >> 2, iB = (i + nB) >> 2;
            if (p.Beta != 0f)
            {
                Float4 oa = c4[iA], ob = c4[iB];
                lo = new(lo.X + p.Beta * oa.X, lo.Y + p.Beta * oa.Y, lo.Z + p.Beta * oa.Z, lo.W + p.Beta * oa.W);
                hi = new(hi.X + p.Beta * ob.X, hi.Y + p.Beta * ob.Y, hi.Z + p.Beta * ob.Z, hi.W + p.Beta * ob.W);
            }
            // A whole tile's columns are in range here (vec), so the bias's eight elements are too.
            c4[iA] = TE.Add(lo, bias, m, nA);
            c4[iB] = TE.Add(hi, bias, m, nB);
            return;
        }
        Put<TE>(c, bias, p, m, i, nA, r.C0); Put<TE>(c, bias, p, m, i, nA + 1, r.C1); Put<TE>(c, bias, p, m, i, nA + 2, r.C2); Put<TE>(c, bias, p, m, i, nA + 3, r.C3);
        Put<TE>(c, bias, p, m, i, nB, r.C4); Put<TE>(c, bias, p, m, i, nB + 1, r.C5); Put<TE>(c, bias, p, m, i, nB + 2, r.C6); Put<TE>(c, bias, p, m, i, nB + 3, r.C7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put<TE>(ArrayView<float> c, ArrayView<float> bias, GemmParams p, int m, long rowStart, int n, float v)
        where TE : struct, IGemmBias
    {
        if (n >= p.N) return;
        long i = rowStart + n;
        c[i] = TE.Add(p.Beta == 0f ? p.Alpha * v : p.Alpha * v + p.Beta * c[i], bias, m, n);
    }

    /// <summary>A thread's 8×8 accumulators: rows 0-3 are tyM*4.., rows 4-7 are 64+tyM*4...</summary>
    internal struct Acc
    {
        public Row8 R0, R1, R2, R3, R4, R5, R6, R7;
    }
}
