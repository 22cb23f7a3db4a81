using System.Runtime.CompilerServices;
using ILGPU;

namespace Ember.Ilgpu;

/// <summary>
/// The 128×256 early-barrier kernel (<see cref="GemmWideEarly{T, TX, TE, TS, TB}"/> with <see cref="DeepSlabs"/>: 8 warps
/// of 64×64, 3 stages of 32 words, 144 KB) for 16-bit operands in any layout: an M-major A (<c>transA</c>) or N-major B
/// (<c>!transB</c>) is read straight from global memory, as <see cref="GemmWideTransposed{T, TX, TE, TA, TB}"/> does
/// for the 128×128 block, instead of being packed K-major by a launch of its own.
/// <list type="bullet">
/// <item><description>A stage is A's tile (16 KB) then B's (32 KB). A K-major tile is that of the K-major kernel (rows of
/// 128 bytes, chunk j of row r at j XOR (r mod 8), <see cref="StageSwizzle{TS}"/>); an M/N-major one holds the slab's 64
/// K rows as they lie in memory, 128 elements of M (256 bytes) or 256 of N (512 bytes) each, chunk j of K row r at
/// chunk j XOR (r mod 8) within its group of 8 (<see cref="WideLine"/>): the 8 K rows an <c>ldmatrix.trans</c> phase reads
/// at one chunk hit 8 distinct 16-byte bank groups. Both sizes are the K-major tile's, so the stage and the launch are
/// those of the K-major kernel.</description></item>
/// <item><description>Copies, 256 threads: K-major as the K-major kernel (chunks t mod 8 and its XOR 4 of rows t/4 + 64·i);
/// M/N-major chunk t mod C of K rows t/C + (256/C)·i, C = 16 (A) or 32 (B) chunks a K row, so a warp reads whole 256-
/// or 512-byte runs of a row from global memory, and each thread's chunks share one swizzle, 4096 bytes apart.</description></item>
/// <item><description>Fragments: K-major through <c>ldmatrix.x4</c> (K steps 2 and 3 at offsets XOR 64 bytes of steps 0
/// and 1), M/N-major through <c>ldmatrix.x4.trans</c> (K step s 16·s K rows on; m-tile or n-tile pair i at the lane's
/// offset XOR 32·i, as in <see cref="TransRowA"/>).</description></item>
/// </list>
/// Every M/N-major row must start 16-byte aligned (<see cref="IlgpuMmaGemm"/> checks). Off CUDA the copies are plain
/// copies and each K step is emulated from the logical elements' places in the stage (<see cref="WideElementA{TL}"/>,
/// <see cref="WideElementB{TL}"/>), the functions the lane row addresses are tested against.
/// </summary>
internal static partial class MmaKernels
{
    /// <summary>Bytes of A's tile in a stage of <see cref="GemmWideEarlyTransposed{T, TX, TE, TA, TB, TG}"/> (B's starts there).</summary>
    internal const uint WideTileA = BM * 128;

    /// <summary>Bytes of one stage of <see cref="GemmWideEarlyTransposed{T, TX, TE, TA, TB, TG}"/>: A's tile and B's, twice as large.</summary>
    internal const uint WideStage = 3 * WideTileA;

    /// <summary>16-bit elements of K per slab (32 words).</summary>
    private const int WideSlabK = 64;

    /// <summary>
    /// The 128×256 early-barrier kernel for 16-bit operands with A (<typeparamref name="TA"/>) K-major or M-major and B
    /// (<typeparamref name="TB"/>) K-major or N-major (<see cref="KMajorVecLayout"/> or <see cref="RMajorVecLayout"/>),
    /// every row 16-byte aligned; block <typeparamref name="TG"/> (<see cref="Block128x256"/> or its grouped visit order),
    /// groups of <see cref="WideBlockThreads"/>, grid (ceil(N / 256), ceil(M / 128), z), 3 × <see cref="WideStage"/>
    /// bytes of dynamic shared memory, <typeparamref name="TE"/> as <see cref="GemmWide{T, TX, TE}"/>.
    /// <typeparamref name="TX"/> is an ldmatrix path.
    /// </summary>
    public static void GemmWideEarlyTransposed<T, TX, TE, TA, TB, TG>(GemmParams p, ArrayView<ushort> a, ArrayView<ushort> b, ArrayView<ushort> c)
        where T : struct, IMmaType where TX : struct, IMmaPath where TE : struct, IMmaOutput
        where TA : struct, IOperandLayout where TB : struct, IOperandLayout where TG : struct, IWideBlock
    {
        int t = Group.IdxX;
        int lane = t & 31, warp = t >> 5;
        int wm = (warp >> 2) * 64, wn = (warp & 3) * 64;   // 2 × 4 warp tiles of 64×64
        int bx = Grid.IdxX, by = Grid.IdxY;
        if (TG.GroupRows() > 0) GroupedTile(TG.GroupRows(), Grid.DimX, Grid.DimY, ref bx, ref by);
        int m0 = by * BM, n0 = bx * 2 * BN;
        // Split-K moves an M/N-major operand's origin by whole K rows (SlabOrigin's k0 · ld).
        var o = SlabOrigin<TA, TB, TE>(p);
        int depth = o.Depth;

        ArrayView<uint> sh = SharedMemory.GetDynamic<uint>();
        uint shBase = DynamicBase<TX>();
        int slabs = (depth + WideSlabK - 1) / WideSlabK;

        var ca = WideCopy.Of<TA>(t, BM, o.A, p.Lda, m0, p.M, p.AddressA);
        var cb = WideCopy.Of<TB>(t, 2 * BN, o.B, p.Ldb, n0, p.N, p.AddressB);
        // This lane's ldmatrix row offsets in a stage (pinned, see Pin): K steps 0 and 1 of a K-major operand, step 0 of
        // an M/N-major one (its other steps are whole K rows further).
        var steps = new StepRows(Pin<TX>(WideRowA<TA>(lane, wm, 0)), TA.KMajor() ? Pin<TX>(WideRowA<TA>(lane, wm, 8)) : 0,
            Pin<TX>(WideRowB<TB>(lane, wn, 0)), TB.KMajor() ? Pin<TX>(WideRowB<TB>(lane, wn, 8)) : 0);

        // Prologue: slabs 0 and 1, one commit group each (empty groups too, so group s is always slab s).
        for (int s = 0; s < 2; s++)
        {
            if (s < slabs) IssueWideSlab<T, TX, TA, TB>(sh, shBase + (uint)s * WideStage, a, b, ca, cb, p.Lda, p.Ldb, s * WideSlabK, depth, false);
            Commit<TX>();
        }

        // The loop of EarlyBarrierSlabs (see there why the ring stays correct): slab s + 1 is waited for and published
        // before slab s's last K step, whose mma run under the next slab's first ldmatrix. Two loops of the same body:
        // while the slab refilled (s + 2) lies wholly inside K its copies need no K tests, then the last ones with them
        // (in one loop ptxas predicated both copy paths, issuing the tested copies' instructions on every slab).
        WaitStages<TX, DeepSlabs>();
        Group.Barrier();
        var st = new WideLoop { Frag = WideFragsAt<TX, TA, TB>(sh, shBase, steps, 0, lane), Rd = 0, Wr = 2 };
        int split = IntrinsicMath.Clamp(depth / WideSlabK - 2, 0, slabs);
        for (int s = 0; s < split; s++)
            st = WideSlab<T, TX, TA, TB>(st, sh, shBase, a, b, ca, cb, p.Lda, p.Ldb, s, slabs, depth, steps, wm, wn, lane, true);
        for (int s = split; s < slabs; s++)
            st = WideSlab<T, TX, TA, TB>(st, sh, shBase, a, b, ca, cb, p.Lda, p.Ldb, s, slabs, depth, steps, wm, wn, lane, false);
        WideAcc acc = st.Acc;

        int g = lane >> 2, q = lane & 3;
        int r0 = m0 + wm + g, c0 = n0 + wn + 2 * q;
        WriteTile<T, TX, TE>(c, o.C, p, r0, c0, acc.L);
        WriteTile<T, TX, TE>(c, o.C, p, r0, c0 + 32, acc.R);
    }

    /// <summary>
    /// One trip of <see cref="GemmWideEarlyTransposed{T, TX, TE, TA, TB, TG}"/>'s K loop, slab <paramref name="s"/>:
    /// refill stage <see cref="WideLoop.Wr"/> with slab s + 2 (<paramref name="whole"/>: a constant, true where that
    /// slab lies wholly inside K), K steps 0-2 of stage <see cref="WideLoop.Rd"/> with the next step's fragments loading
    /// under each, wait for and publish slab s + 1, load its first fragments under step 3.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static WideLoop WideSlab<T, TX, TA, TB>(WideLoop st, ArrayView<uint> sh, uint shBase, ArrayView<ushort> a, ArrayView<ushort> b,
        WideCopy ca, WideCopy cb, int lda, int ldb, int s, int slabs, int depth, StepRows steps, int wm, int wn, int lane, bool whole)
        where T : struct, IMmaType where TX : struct, IMmaPath where TA : struct, IOperandLayout where TB : struct, IOperandLayout
    {
        int nx = s + 2;
        if (whole || nx < slabs) IssueWideSlab<T, TX, TA, TB>(sh, shBase + (uint)st.Wr * WideStage, a, b, ca, cb, lda, ldb, nx * WideSlabK, depth, whole);
        Commit<TX>();
        uint stage = shBase + (uint)st.Rd * WideStage;
        WideAcc acc = st.Acc;
        WideFrags frag = st.Frag;
        WideFrags next = WideFragsAt<TX, TA, TB>(sh, stage, steps, 1, lane);
        acc = WideMma<T, TX, TA, TB>(acc, sh, frag, wm, wn, lane);
        frag = next;
        next = WideFragsAt<TX, TA, TB>(sh, stage, steps, 2, lane);
        acc = WideMma<T, TX, TA, TB>(acc, sh, frag, wm, wn, lane);
        frag = next;
        next = WideFragsAt<TX, TA, TB>(sh, stage, steps, 3, lane);
        acc = WideMma<T, TX, TA, TB>(acc, sh, frag, wm, wn, lane);
        frag = next;
        // Off CUDA the emulation reads the stage itself: its last step before another thread may refill it.
        if (!TX.Native()) acc = WideMma<T, TX, TA, TB>(acc, sh, frag, wm, wn, lane);

        int rn = st.Rd == 2 ? 0 : st.Rd + 1;
        WaitStages<TX, DeepSlabs>();
        Group.Barrier();
        // Slab s + 1's first fragments (after the last slab a stale stage, never used) load under slab s's last mma.
        next = WideFragsAt<TX, TA, TB>(sh, shBase + (uint)rn * WideStage, steps, 0, lane);
        if (TX.Native()) acc = WideMma<T, TX, TA, TB>(acc, sh, frag, wm, wn, lane);
        return new WideLoop { Acc = acc, Frag = next, Rd = rn, Wr = st.Wr == 2 ? 0 : st.Wr + 1 };
    }

    /// <summary>What <see cref="WideSlab{T, TX, TA, TB}"/> carries from one slab to the next: accumulators, the next step's fragments, the stages read and refilled.</summary>
    private struct WideLoop
    {
        public WideAcc Acc;
        public WideFrags Frag;
        public int Rd, Wr;
    }

    /// <summary>
    /// Byte offset, within an M/N-major tile of K rows of <paramref name="rowBytes"/> bytes, of element
    /// <paramref name="col"/> of K row <paramref name="kr"/>: chunk <paramref name="col"/>/8 with its low 3 bits XOR
    /// (<paramref name="kr"/> mod 8).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int WideLine(int kr, int col, int rowBytes) => kr * rowBytes + ((col >> 3) ^ (kr & 7)) * 16 + (col & 7) * 2;

    /// <summary>Byte offset in a stage of A's element (row <paramref name="m"/>, K <paramref name="k"/> of the slab), either layout.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint WideElementA<TL>(int m, int k) where TL : struct, IOperandLayout =>
        (uint)(TL.KMajor() ? StageSwizzle<DeepSlabs>(m, k >> 1) * 4 + (k & 1) * 2 : WideLine(k, m, 2 * BM));

    /// <summary>Byte offset in a stage of B's element (column <paramref name="n"/>, K <paramref name="k"/> of the slab), either layout.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint WideElementB<TL>(int n, int k) where TL : struct, IOperandLayout =>
        WideTileA + (uint)(TL.KMajor() ? StageSwizzle<DeepSlabs>(n, k >> 1) * 4 + (k & 1) * 2 : WideLine(k, n, 4 * BN));

    /// <summary>
    /// The stage offset of the row lane <paramref name="lane"/> hands <c>ldmatrix</c> for m-tile 0 of the warp tile at
    /// row <paramref name="wm"/>, K words <paramref name="kw"/>..+7: K-major as <see cref="StageRowA{TS}"/>; M-major as
    /// <see cref="TransRowA"/> (lanes 8j..8j+7: K rows 2·kw + 8·(j / 2) + 0..7 at M 8·(j mod 2)).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint WideRowA<TL>(int lane, int wm, int kw) where TL : struct, IOperandLayout
    {
        if (TL.KMajor()) return StageRowA<DeepSlabs>(lane, wm, kw);
        int j = lane >> 3;
        return WideElementA<TL>(wm + (j & 1) * 8, 2 * kw + (j >> 1) * 8 + (lane & 7));
    }

    /// <summary>
    /// As <see cref="WideRowA{TL}"/> for B's n-tiles 0 and 1 of the warp tile at column <paramref name="wn"/>: K-major as
    /// <see cref="StageRowB{TS}"/>; N-major as <see cref="TransRowB"/> (lanes 8j..8j+7: K rows 2·kw + 8·(j mod 2) + 0..7
    /// at N 8·(j / 2)). Includes B's offset in the stage.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint WideRowB<TL>(int lane, int wn, int kw) where TL : struct, IOperandLayout
    {
        if (TL.KMajor()) return StageRowB<DeepSlabs>(lane, wn, kw);
        int j = lane >> 3;
        return WideElementB<TL>(wn + (j >> 1) * 8, 2 * kw + (j & 1) * 8 + (lane & 7));
    }

    /// <summary>
    /// The lane's row offset for K step <paramref name="ks"/> (0..3) from those of steps 0 and 1
    /// (<paramref name="s0"/>, <paramref name="s1"/>): K-major steps 2 and 3 read chunks XOR 4 of steps 0 and 1's rows;
    /// M/N-major step s is 16·s K rows of <paramref name="rowBytes"/> further (same swizzle: it depends on K row mod 8).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint WideStep<TL>(uint s0, uint s1, int ks, uint rowBytes) where TL : struct, IOperandLayout =>
        TL.KMajor() ? ((ks & 1) == 0 ? s0 : s1) ^ (ks >= 2 ? 64u : 0u) : s0 + (uint)ks * 16 * rowBytes;

    /// <summary>
    /// K step <paramref name="ks"/>'s fragments of a 64×64 warp tile from the stage at shared byte address
    /// <paramref name="stage"/>: per operand 4 <c>ldmatrix.x4</c> 16 rows (2048 bytes) apart, or 4 <c>ldmatrix.x4.trans</c>
    /// at the offset XOR 32·i; off CUDA only the stage and step, for <see cref="WideEmulate{T, TA, TB}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static WideFrags WideFragsAt<TX, TA, TB>(ArrayView<uint> sh, uint stage, StepRows steps, int ks, int lane)
        where TX : struct, IMmaPath where TA : struct, IOperandLayout where TB : struct, IOperandLayout
    {
        WideFrags f = default;
        if (!TX.Native())
        {
            f.Stage = stage;
            f.Kw = ks;
            return f;
        }
        const uint Band = 16 * 128;
        if (TA.KMajor())
        {
            // Tiles 16 rows apart: constant offsets, which ptxas folds into ldmatrix's immediate.
            uint aAt = stage + WideStep<TA>(steps.A0, steps.A1, ks, 0);
            f.A0 = LdMatrixAt<TX>(sh, aAt, lane); f.A1 = LdMatrixAt<TX>(sh, aAt + Band, lane);
            f.A2 = LdMatrixAt<TX>(sh, aAt + 2 * Band, lane); f.A3 = LdMatrixAt<TX>(sh, aAt + 3 * Band, lane);
        }
        else
        {
            // The XOR on step 0's offset and the step's K rows added after it (equal to XOR after the add, which only
            // moves bits above the XOR's): the 4 tile addresses are then the slab's for all 4 steps, each step a
            // constant further (an immediate), instead of 4 XOR and 4 adds a step.
            uint k = (uint)ks * 16 * 2 * BM;
            f.A0 = LdMatrixTrans(stage + steps.A0 + k); f.A1 = LdMatrixTrans(stage + (steps.A0 ^ 32u) + k);
            f.A2 = LdMatrixTrans(stage + (steps.A0 ^ 64u) + k); f.A3 = LdMatrixTrans(stage + (steps.A0 ^ 96u) + k);
        }
        if (TB.KMajor())
        {
            uint bAt = stage + WideStep<TB>(steps.B0, steps.B1, ks, 0);
            f.B01 = LdMatrixAt<TX>(sh, bAt, lane); f.B23 = LdMatrixAt<TX>(sh, bAt + Band, lane);
            f.B45 = LdMatrixAt<TX>(sh, bAt + 2 * Band, lane); f.B67 = LdMatrixAt<TX>(sh, bAt + 3 * Band, lane);
        }
        else
        {
            uint k = (uint)ks * 16 * 4 * BN;
            f.B01 = LdMatrixTrans(stage + steps.B0 + k); f.B23 = LdMatrixTrans(stage + (steps.B0 ^ 32u) + k);
            f.B45 = LdMatrixTrans(stage + (steps.B0 ^ 64u) + k); f.B67 = LdMatrixTrans(stage + (steps.B0 ^ 96u) + k);
        }
        return f;
    }

    /// <summary>The 32 <c>mma</c>s of one K step on fragments <paramref name="f"/>; off CUDA their emulation, reading the stage.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static WideAcc WideMma<T, TX, TA, TB>(WideAcc acc, ArrayView<uint> sh, WideFrags f, int wm, int wn, int lane)
        where T : struct, IMmaType where TX : struct, IMmaPath where TA : struct, IOperandLayout where TB : struct, IOperandLayout
    {
        if (!TX.Native()) return WideEmulate<T, TA, TB>(acc, sh, f.Stage, wm, wn, f.Kw, lane);
        acc.L = Tile<T, TX>(acc.L, f.A0, f.A1, f.A2, f.A3, f.B01, f.B23, lane);
        acc.R = Tile<T, TX>(acc.R, f.A0, f.A1, f.A2, f.A3, f.B45, f.B67, lane);
        return acc;
    }

    /// <summary>
    /// Off CUDA: what K step <paramref name="ks"/>'s 32 <c>mma</c>s leave in this lane (4g + q: rows g, g + 8 of each
    /// m-tile, columns 2q, 2q + 1 of each n-tile), each word built from its two elements where the stage holds them.
    /// </summary>
    private static WideAcc WideEmulate<T, TA, TB>(WideAcc acc, ArrayView<uint> sh, uint stage, int wm, int wn, int ks, int lane)
        where T : struct, IMmaType where TA : struct, IOperandLayout where TB : struct, IOperandLayout
    {
        int g = lane >> 2, q = lane & 3;
        var h = sh.Cast<ushort>();
        for (int w = 0; w < 8; w++)
        {
            int k = 16 * ks + 2 * w;
            WordPair r0 = RowWords<TA>(h, stage, wm + g, k), r1 = RowWords<TA>(h, stage, wm + 16 + g, k);
            WordPair r2 = RowWords<TA>(h, stage, wm + 32 + g, k), r3 = RowWords<TA>(h, stage, wm + 48 + g, k);
            int n = wn + 2 * q;
            WordPair c0 = ColWords<TB>(h, stage, n, k), c1 = ColWords<TB>(h, stage, n + 8, k);
            WordPair c2 = ColWords<TB>(h, stage, n + 16, k), c3 = ColWords<TB>(h, stage, n + 24, k);
            WordPair c4 = ColWords<TB>(h, stage, n + 32, k), c5 = ColWords<TB>(h, stage, n + 40, k);
            WordPair c6 = ColWords<TB>(h, stage, n + 48, k), c7 = ColWords<TB>(h, stage, n + 56, k);
            acc.L = EmulatedBand<T>(acc.L, r0, r1, r2, r3, c0, c1, c2, c3);
            acc.R = EmulatedBand<T>(acc.R, r0, r1, r2, r3, c4, c5, c6, c7);
        }
        return acc;
    }

    /// <summary>A's words (K <paramref name="k"/>, <paramref name="k"/> + 1) of rows <paramref name="m"/> (X) and <paramref name="m"/> + 8 (Y).</summary>
    private static WordPair RowWords<TL>(ArrayView<ushort> h, uint stage, int m, int k) where TL : struct, IOperandLayout => new()
    {
        X = h[(int)((stage + WideElementA<TL>(m, k)) >> 1)] | ((uint)h[(int)((stage + WideElementA<TL>(m, k + 1)) >> 1)] << 16),
        Y = h[(int)((stage + WideElementA<TL>(m + 8, k)) >> 1)] | ((uint)h[(int)((stage + WideElementA<TL>(m + 8, k + 1)) >> 1)] << 16),
    };

    /// <summary>B's words (K <paramref name="k"/>, <paramref name="k"/> + 1) of columns <paramref name="n"/> (X) and <paramref name="n"/> + 1 (Y).</summary>
    private static WordPair ColWords<TL>(ArrayView<ushort> h, uint stage, int n, int k) where TL : struct, IOperandLayout => new()
    {
        X = h[(int)((stage + WideElementB<TL>(n, k)) >> 1)] | ((uint)h[(int)((stage + WideElementB<TL>(n, k + 1)) >> 1)] << 16),
        Y = h[(int)((stage + WideElementB<TL>(n + 1, k)) >> 1)] | ((uint)h[(int)((stage + WideElementB<TL>(n + 1, k + 1)) >> 1)] << 16),
    };
}
