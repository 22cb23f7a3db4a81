using System.Runtime.CompilerServices;
using ILGPU;

namespace Ember.Ilgpu;

/// <summary>
/// The tensor-core kernel with 64×64 warp tiles (<see cref="MmaGemmOptions.WarpTile64"/>): the same 128×128 block,
/// 16-word K slabs, three <c>cp.async</c> stages in one 48 KB allocation and swizzle as
/// <see cref="GemmPipelined{T, TX, TE}"/>, but 4 warps (2 × 2) of 64×64 instead of 8 of 64×32:
/// <list type="bullet">
/// <item><description>per warp and K step 8 <c>ldmatrix.x4</c> (4 for A's m-tiles, 4 for B's 8 n-tiles) feed 32
/// <c>mma</c>s, against 6 for 16 with 64×32 tiles: a third fewer shared-memory bytes per <c>mma</c> (0.25 ldmatrix against 0.375), which the
/// profile of the 64×32 loop named as its limit (L1/shared throughput 76 %);</description></item>
/// <item><description>128 float32 accumulators a thread; the launch bounds are 128 threads × 2 blocks per SM (at most
/// 255 registers), so an SM runs 8 warps of 2 blocks, which must hide the <c>mma</c> latency with 32 independent
/// <c>mma</c>s per warp and K step (instead of 16 warps with 16);</description></item>
/// <item><description>each of the 128 threads copies 8 chunks per slab (rows t/4 + 32·i, i = 0..3, of A and of B; the
/// swizzle of row r + 32 is row r's, so one stage offset serves all eight);</description></item>
/// <item><description>fewer integer instructions per slab: the global addresses of the thread's 8 rows are 64-bit byte
/// addresses fixed before the loop (a slab adds one K byte offset), and the shared addresses of every <c>ldmatrix</c>
/// are one per-thread offset per K step, computed before the loop, plus constants (row + 16·i has row's swizzle).</description></item>
/// </list>
/// Fragments are always read with <c>ldmatrix</c>. Off CUDA each K step is emulated without warp shuffles: every word
/// a lane's <c>mma</c>s take is read from where the lane holding it would have had <c>ldmatrix</c> read it, through the
/// same address functions, so ilgpu-cpu checks the lane addresses, the swizzle and the staging.
/// </summary>
internal static partial class MmaKernels
{
    /// <summary>Threads per group of <see cref="GemmWide{T, TX, TE}"/>: 4 warps of 64×64.</summary>
    public const int WideThreads = 128;

    /// <summary>
    /// The 64×64-warp-tile kernel; operands, grid and <typeparamref name="TE"/> as <see cref="GemmPipelined{T, TX, TE}"/>
    /// (K-major, 16-byte aligned rows), groups of <see cref="WideThreads"/>. <typeparamref name="TX"/> is an ldmatrix path.
    /// </summary>
    public static void GemmWide<T, TX, TE>(GemmParams p, ArrayView<ushort> a, ArrayView<ushort> b, ArrayView<ushort> c)
        where T : struct, IMmaType where TX : struct, IMmaPath where TE : struct, IMmaOutput
    {
        int t = Group.IdxX;
        int lane = t & 31, warp = t >> 5;
        int wm = (warp >> 1) * 64, wn = (warp & 1) * 64;
        int m0 = Grid.IdxY * BM, n0 = Grid.IdxX * BN;
        var o = SlabOrigin<KMajorVecLayout, KMajorVecLayout, TE>(p);
        int depth = o.Depth;
        int e = T.PerWord(), elementBytes = 4 / e;

        ArrayView<uint> sh = SharedMemory.Allocate<uint>(Stages * StageW);
        uint shBase = SharedBase<TX>();
        int slabK = KW * e;
        int slabs = (depth + slabK - 1) / slabK;

        // This thread's chunks: word wq of rows t/4 + 32·i (i = 0..3) of both operands, rows past M/N clamped. Element
        // offsets (for the emulation) and global byte addresses (for cp.async), fixed for the whole loop.
        int row = t >> 2, wq = (t & 3) << 2;
        var rows = WideRows.Of<Block128x128>(o, p, m0, n0, row);
        var at = WideAddresses.Of<Block128x128>(p, rows, elementBytes);
        int sw = Swizzle(row, wq);   // rows + 32, 64, 96 have the same swizzle

        // The ldmatrix row addresses of this lane for K steps 0 and 1, as byte offsets into a stage (pinned: computed
        // once here, where ILGPU would otherwise recompute them in every trip of the loop).
        uint aStep0 = Pin<TX>(StageAOffset(lane, wm, 0)), aStep1 = Pin<TX>(StageAOffset(lane, wm, 8));
        uint bStep0 = Pin<TX>(StageBOffset(lane, wn, 0)), bStep1 = Pin<TX>(StageBOffset(lane, wn, 8));

        // Prologue: slabs 0 .. Stages-2, one commit group each (empty groups too, so group s is always slab s).
        for (int s = 0; s < Stages - 1; s++)
        {
            if (s < slabs) IssueStage<T, TX, StaticStages, Block128x128>(sh, shBase, s * StageW + sw, a, b, rows, at, s * slabK, wq, depth);
            Commit<TX>();
        }

        WideAcc acc = default;
        int rd = 0, wr = Stages - 1;   // stages read (slab s) and refilled (slab s + Stages - 1)
        for (int s = 0; s < slabs; s++)
        {
            // As GemmPipelined: slab s has landed (this thread's copies) once all but Stages-2 groups are done, the barrier
            // publishes every thread's copies and proves the stage refilled next (slab s - 1's) is no longer read.
            WaitGroup<TX>();
            if (T.Rounds()) RoundStage<T, TX, StaticStages, Block128x128>(sh, shBase, rd * StageW + sw);
            Group.Barrier();
            int nx = s + Stages - 1;
            if (nx < slabs) IssueStage<T, TX, StaticStages, Block128x128>(sh, shBase, wr * StageW + sw, a, b, rows, at, nx * slabK, wq, depth);
            Commit<TX>();
            uint stage = shBase + (uint)(rd * StageW * 4);
            if (TX.Native())
            {
                acc = StageStep<T, TX, StaticStages>(acc, sh, stage + aStep0, stage + bStep0, lane);
                acc = StageStep<T, TX, StaticStages>(acc, sh, stage + aStep1, stage + bStep1, lane);
            }
            else
            {
                acc = StageEmulate<T, StaticStages>(acc, sh, stage, wm, wn, 0, lane);
                acc = StageEmulate<T, StaticStages>(acc, sh, stage, wm, wn, 8, lane);
            }
            rd = rd == Stages - 1 ? 0 : rd + 1;
            wr = wr == Stages - 1 ? 0 : wr + 1;
        }

        int g = lane >> 2, q = lane & 3;
        int r0 = m0 + wm + g, c0 = n0 + wn + 2 * q;
        long cBase = o.C;
        WriteTile<T, TX, TE>(c, cBase, p, r0, c0, acc.L);
        WriteTile<T, TX, TE>(c, cBase, p, r0, c0 + 32, acc.R);
    }

    /// <summary>Word <paramref name="s"/> of the two ldmatrix rows at byte offsets <paramref name="x"/>, <paramref name="y"/> (the emulation's base is 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static WordPair Words(ArrayView<uint> sh, uint x, uint y, int s) =>
        new() { X = sh[(int)(x >> 2) + s], Y = sh[(int)(y >> 2) + s] };

    /// <summary>One word of K of a 64×32 half warp tile: every m-tile's rows (<paramref name="r0"/>..<paramref name="r3"/>) times every n-tile's columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static MmaAcc EmulatedBand<T>(MmaAcc d, WordPair r0, WordPair r1, WordPair r2, WordPair r3, WordPair c0, WordPair c1, WordPair c2, WordPair c3)
        where T : struct, IMmaType
    {
        d.C00 = Fma<T>(d.C00, r0, c0); d.C01 = Fma<T>(d.C01, r0, c1); d.C02 = Fma<T>(d.C02, r0, c2); d.C03 = Fma<T>(d.C03, r0, c3);
        d.C10 = Fma<T>(d.C10, r1, c0); d.C11 = Fma<T>(d.C11, r1, c1); d.C12 = Fma<T>(d.C12, r1, c2); d.C13 = Fma<T>(d.C13, r1, c3);
        d.C20 = Fma<T>(d.C20, r2, c0); d.C21 = Fma<T>(d.C21, r2, c1); d.C22 = Fma<T>(d.C22, r2, c2); d.C23 = Fma<T>(d.C23, r2, c3);
        d.C30 = Fma<T>(d.C30, r3, c0); d.C31 = Fma<T>(d.C31, r3, c1); d.C32 = Fma<T>(d.C32, r3, c2); d.C33 = Fma<T>(d.C33, r3, c3);
        return d;
    }

    /// <summary>Lane 4g+q's four outputs (rows g, g+8 × columns 2q, 2q+1) plus one word of K's products.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Frag4 Fma<T>(Frag4 d, WordPair row, WordPair col) where T : struct, IMmaType =>
        new(d.X + T.Dot(row.X, col.X), d.Y + T.Dot(row.X, col.Y), d.Z + T.Dot(row.Y, col.X), d.W + T.Dot(row.Y, col.Y));

    /// <summary>Two words one lane takes in the emulation: of rows g and g + 8, or of columns 2q and 2q + 1.</summary>
    private struct WordPair
    {
        public uint X, Y;
    }

    /// <summary>A thread's accumulators of a 64×64 warp tile: n-tiles 0-3 (columns 0-31) and 4-7 (32-63), each as <see cref="MmaAcc"/>.</summary>
    private struct WideAcc
    {
        public MmaAcc L, R;
    }

    /// <summary>
    /// Element offsets of the starts of this thread's A rows t/4 + s·i and B rows likewise (rows clamped), s =
    /// <see cref="IWideBlock.CopyRows"/>: four of each in a 128×128 block (s = 32); in a 128×256 block (s = 64) two of A
    /// (<see cref="A2"/>, <see cref="A3"/> unused, 0) and four of B.
    /// </summary>
    private struct WideRows
    {
        public long A0, A1, A2, A3, B0, B1, B2, B3;

        /// <summary>Rows m0 + row + s·i of A and n0 + row + s·i of B from origin <paramref name="o"/> (s and the counts as <typeparamref name="TB"/> copies them), clamped to M/N.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static WideRows Of<TB>(Origin o, GemmParams p, int m0, int n0, int row) where TB : struct, IWideBlock
        {
            int s = TB.CopyRows();
            bool four = ACopies<TB>() == 4;
            return new()
            {
                A0 = o.A + (long)IntrinsicMath.Min(m0 + row, p.M - 1) * p.Lda,
                A1 = o.A + (long)IntrinsicMath.Min(m0 + row + s, p.M - 1) * p.Lda,
                A2 = four ? o.A + (long)IntrinsicMath.Min(m0 + row + 2 * s, p.M - 1) * p.Lda : 0,
                A3 = four ? o.A + (long)IntrinsicMath.Min(m0 + row + 3 * s, p.M - 1) * p.Lda : 0,
                B0 = o.B + (long)IntrinsicMath.Min(n0 + row, p.N - 1) * p.Ldb,
                B1 = o.B + (long)IntrinsicMath.Min(n0 + row + s, p.N - 1) * p.Ldb,
                B2 = o.B + (long)IntrinsicMath.Min(n0 + row + 2 * s, p.N - 1) * p.Ldb,
                B3 = o.B + (long)IntrinsicMath.Min(n0 + row + 3 * s, p.N - 1) * p.Ldb,
            };
        }
    }

    /// <summary>The global byte addresses of the rows of <see cref="WideRows"/> (CUDA: for <c>cp.async</c>).</summary>
    private struct WideAddresses
    {
        public ulong A0, A1, A2, A3, B0, B1, B2, B3;

        /// <summary>The byte addresses of <paramref name="rows"/> (elements of <paramref name="elementBytes"/> bytes) in A and B (A2, A3 only where <typeparamref name="TB"/> copies four A rows).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static WideAddresses Of<TB>(GemmParams p, WideRows rows, int elementBytes) where TB : struct, IWideBlock
        {
            bool four = ACopies<TB>() == 4;
            return new()
            {
                A0 = p.AddressA + (ulong)(rows.A0 * elementBytes), A1 = p.AddressA + (ulong)(rows.A1 * elementBytes),
                A2 = four ? p.AddressA + (ulong)(rows.A2 * elementBytes) : 0, A3 = four ? p.AddressA + (ulong)(rows.A3 * elementBytes) : 0,
                B0 = p.AddressB + (ulong)(rows.B0 * elementBytes), B1 = p.AddressB + (ulong)(rows.B1 * elementBytes),
                B2 = p.AddressB + (ulong)(rows.B2 * elementBytes), B3 = p.AddressB + (ulong)(rows.B3 * elementBytes),
            };
        }
    }
}
