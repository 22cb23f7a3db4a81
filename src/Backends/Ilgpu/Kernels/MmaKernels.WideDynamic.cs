using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Ember.Ilgpu;

/// <summary>
/// The 64×64-warp-tile kernel with its stages in <b>dynamic</b> shared memory above ILGPU's 48 KB static limit
/// (<see cref="MmaGemmOptions.Staging"/>): the block (128×128, 4 warps of 64×64, 128 threads), <c>cp.async</c> copies,
/// <c>ldmatrix</c> fragments and one barrier per slab of <see cref="GemmWide{T, TX, TE}"/>, with more K in flight:
/// <list type="bullet">
/// <item><description><see cref="FourStages"/>: 4 stages of 16-word slabs (64 KB): three slabs ahead of the one being
/// multiplied instead of two (<c>cp.async.wait_group 2</c>);</description></item>
/// <item><description><see cref="DeepSlabs"/>: 3 stages of 32-word slabs (96 KB): twice the K per barrier and per copy
/// round, so the look-ahead doubles in time and the barriers and waits halve. Rows are 128 bytes (8 chunks); chunk j
/// of row r is stored at chunk j XOR (r mod 8), so the 8 rows an <c>ldmatrix</c> phase reads hit 8 distinct 16-byte
/// bank groups. Thread t copies chunks t mod 8 and (t mod 8) XOR 4 of rows t/4 + 32·i: each instruction's quarter warp
/// writes chunks 0-3 of one row and 4-7 of the next (after the XOR, distinct bank groups), and reads 64 contiguous
/// bytes of each row from global memory.</description></item>
/// </list>
/// Two blocks per SM need 2 × 64 KB or 2 × 96 KB of the H100's 228 KB; CUDA only grants more than 48 KB to a kernel
/// whose <c>CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES</c> was raised (<see cref="DynamicSharedMemory"/>, done by
/// <see cref="IlgpuMmaGemm"/> before the first launch). The shared base comes from ILGPU's name for the dynamic
/// allocation, <c>__dyn_shared_alloca</c>. Off CUDA (ilgpu-cpu) the copies and K steps are emulated as in
/// <see cref="GemmWide{T, TX, TE}"/>, with the same address functions.
/// </summary>
internal static partial class MmaKernels
{
    /// <summary>The shape of <see cref="GemmWideDynamic{T, TX, TE, TS, TB}"/>'s shared stages, as a generic argument.</summary>
    internal interface IWideStages
    {
        /// <summary>K slabs in flight (the stages of the ring).</summary>
        static abstract int Stages();

        /// <summary>32-bit words of K per slab, i.e. per stage row (16 or 32).</summary>
        static abstract int RowWords();
    }

    /// <summary>3 stages of 16-word slabs in static shared memory: 3 × 256 rows × 64 B = 48 KB (<see cref="GemmWide{T, TX, TE}"/>).</summary>
    internal readonly struct StaticStages : IWideStages
    {
        public static int Stages() => MmaKernels.Stages;
        public static int RowWords() => KW;
    }

    /// <summary>4 stages of 16-word slabs: 4 × 256 rows × 64 B = 64 KB.</summary>
    internal readonly struct FourStages : IWideStages
    {
        public static int Stages() => 4;
        public static int RowWords() => 16;
    }

    /// <summary>3 stages of 32-word slabs: 3 × 256 rows × 128 B = 96 KB.</summary>
    internal readonly struct DeepSlabs : IWideStages
    {
        public static int Stages() => 3;
        public static int RowWords() => 32;
    }

    /// <summary>The dynamic shared memory a block <typeparamref name="TB"/> with stages <typeparamref name="TS"/> needs (<see cref="GemmWideDynamic{T, TX, TE, TS, TB}"/>), in bytes.</summary>
    public static int DynamicStageBytes<TS, TB>() where TS : struct, IWideStages where TB : struct, IWideBlock =>
        TS.Stages() * (BM + TB.Cols()) * TS.RowWords() * 4;

    /// <summary>
    /// The 64×64-warp-tile kernel with stages <typeparamref name="TS"/> in dynamic shared memory (launch with
    /// <see cref="DynamicStageBytes{TS, TB}"/> bytes of it) and block <typeparamref name="TB"/>: 128 rows of C by
    /// <see cref="IWideBlock.Cols"/> (<see cref="Block128x128"/>: 4 warps; <see cref="Block128x256"/>: 8 warps, see
    /// MmaKernels.WideBlock.cs), groups of <see cref="IWideBlock.Threads"/>, grid (ceil(N / Cols), ceil(M / 128), z);
    /// operands and <typeparamref name="TE"/> as <see cref="GemmWide{T, TX, TE}"/>. <typeparamref name="TX"/> is an ldmatrix path.
    /// </summary>
    public static void GemmWideDynamic<T, TX, TE, TS, TB>(GemmParams p, ArrayView<ushort> a, ArrayView<ushort> b, ArrayView<ushort> c)
        where T : struct, IMmaType where TX : struct, IMmaPath where TE : struct, IMmaOutput where TS : struct, IWideStages where TB : struct, IWideBlock
    {
        int t = Group.IdxX;
        int lane = t & 31, warp = t >> 5;
        // Warps row-major over the block: 2 × 2 (128×128) or 2 × 4 (128×256) tiles of 64×64.
        int wm = TB.Cols() == 256 ? (warp >> 2) * 64 : (warp >> 1) * 64, wn = TB.Cols() == 256 ? (warp & 3) * 64 : (warp & 1) * 64;
        int bx = Grid.IdxX, by = Grid.IdxY;
        if (TB.GroupRows() > 0) GroupedTile(TB.GroupRows(), Grid.DimX, Grid.DimY, ref bx, ref by);
        int m0 = by * BM, n0 = bx * TB.Cols();
        var o = SlabOrigin<KMajorVecLayout, KMajorVecLayout, TE>(p);
        int depth = o.Depth;
        int e = T.PerWord(), elementBytes = 4 / e;
        int words = TS.RowWords(), stages = TS.Stages(), stageW = (BM + TB.Cols()) * words;

        ArrayView<uint> sh = SharedMemory.GetDynamic<uint>();
        uint shBase = DynamicBase<TX>();
        int slabK = words * e;
        int slabs = (depth + slabK - 1) / slabK;

        // This thread's first chunk: word wq of rows t/4 + s·i of both operands (s = TB.CopyRows(): 32 or 64; 32-word
        // rows: chunk t mod 8, the second one is chunk (t mod 8) XOR 4, i.e. word wq XOR 16). Rows past M/N are clamped.
        int row = t >> 2, wq = (words == 16 ? t & 3 : t & 7) << 2;
        var rows = WideRows.Of<TB>(o, p, m0, n0, row);
        var at = WideAddresses.Of<TB>(p, rows, elementBytes);
        int sw = StageSwizzle<TS>(row, wq);   // rows + s·i have the same swizzle (it depends on the row mod 8 only)

        // This lane's ldmatrix row addresses for K steps 0 and 1 (byte offsets into a stage, pinned; see Pin). With
        // 32-word rows, steps 2 and 3 read chunks XOR 4 of the same rows: the same offsets XOR 64 bytes.
        uint aStep0 = Pin<TX>(StageRowA<TS>(lane, wm, 0)), aStep1 = Pin<TX>(StageRowA<TS>(lane, wm, 8));
        uint bStep0 = Pin<TX>(StageRowB<TS>(lane, wn, 0)), bStep1 = Pin<TX>(StageRowB<TS>(lane, wn, 8));

        // Prologue: slabs 0 .. stages-2, one commit group each (empty groups too, so group s is always slab s).
        for (int s = 0; s < stages - 1; s++)
        {
            if (s < slabs) IssueStage<T, TX, TS, TB>(sh, shBase, s * stageW + sw, a, b, rows, at, s * slabK, wq, depth);
            Commit<TX>();
        }

        WideAcc acc = default;
        int rd = 0, wr = stages - 1;   // stages read (slab s) and refilled (slab s + stages - 1)
        for (int s = 0; s < slabs; s++)
        {
            // As GemmWide: slab s has landed (this thread's copies) once all but stages-2 groups are done; the barrier
            // publishes every thread's copies and proves the stage refilled next (slab s - 1's) is no longer read.
            WaitStages<TX, TS>();
            if (T.Rounds()) RoundStage<T, TX, TS, TB>(sh, shBase, rd * stageW + sw);
            Group.Barrier();
            int nx = s + stages - 1;
            if (nx < slabs) IssueStage<T, TX, TS, TB>(sh, shBase, wr * stageW + sw, a, b, rows, at, nx * slabK, wq, depth);
            Commit<TX>();
            uint stage = shBase + (uint)(rd * stageW * 4);
            if (TX.Native())
            {
                acc = StageStep<T, TX, TS>(acc, sh, stage + aStep0, stage + bStep0, lane);
                acc = StageStep<T, TX, TS>(acc, sh, stage + aStep1, stage + bStep1, lane);
                if (words == 32)
                {
                    acc = StageStep<T, TX, TS>(acc, sh, stage + (aStep0 ^ 64u), stage + (bStep0 ^ 64u), lane);
                    acc = StageStep<T, TX, TS>(acc, sh, stage + (aStep1 ^ 64u), stage + (bStep1 ^ 64u), lane);
                }
            }
            else
            {
                for (int kw = 0; kw < words; kw += 8)
                    acc = StageEmulate<T, TS>(acc, sh, stage, wm, wn, kw, lane);
            }
            rd = rd == stages - 1 ? 0 : rd + 1;
            wr = wr == stages - 1 ? 0 : wr + 1;
        }

        int g = lane >> 2, q = lane & 3;
        int r0 = m0 + wm + g, c0 = n0 + wn + 2 * q;
        long cBase = o.C;
        WriteTile<T, TX, TE>(c, cBase, p, r0, c0, acc.L);
        WriteTile<T, TX, TE>(c, cBase, p, r0, c0 + 32, acc.R);
    }

    /// <summary>The 32-bit shared-window address of the kernel's dynamic shared memory (ILGPU's name for it; see <see cref="SharedBase{TX}"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint DynamicBase<TX>() where TX : struct, IMmaPath
    {
        if (!TX.Native()) return 0;
        // PtxCompileTests checks that ILGPU still declares the allocation under this name.
        CudaAsm.Emit("mov.u32 %0, __dyn_shared_alloca;", out uint b);
        return b;
    }

    /// <summary>
    /// Word index, within one operand's stage tile, of word <paramref name="w"/> of row <paramref name="r"/>: 16-word
    /// rows as <see cref="Swizzle"/> (chunk XOR (r/2 mod 4)), 32-word rows chunk XOR (r mod 8).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int StageSwizzle<TS>(int r, int w) where TS : struct, IWideStages =>
        TS.RowWords() == 16 ? Swizzle(r, w) : r * 32 + ((((w >> 2) ^ r) & 7) << 2) + (w & 3);

    /// <summary>As <see cref="StageAOffset"/> for rows of <typeparamref name="TS"/>: the A row lane <paramref name="lane"/> hands <c>ldmatrix.x4</c> for m-tile 0 (byte offset in a stage).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint StageRowA<TS>(int lane, int wm, int kw) where TS : struct, IWideStages
    {
        int j = lane >> 3;
        return (uint)(StageSwizzle<TS>(wm + (lane & 7) + (j & 1) * 8, kw + (j >> 1) * 4) * 4);
    }

    /// <summary>As <see cref="StageBOffset"/> for rows of <typeparamref name="TS"/>: the B row for n-tiles 0 and 1 (byte offset in a stage).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint StageRowB<TS>(int lane, int wn, int kw) where TS : struct, IWideStages
    {
        int j = lane >> 3;
        return (uint)((BM * TS.RowWords() + StageSwizzle<TS>(wn + (j >> 1) * 8 + (lane & 7), kw + (j & 1) * 4)) * 4);
    }

    /// <summary>16 stage rows of <typeparamref name="TS"/> in bytes (one m-tile, or two n-tiles).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint StageBand<TS>() where TS : struct, IWideStages => (uint)(16 * TS.RowWords() * 4);

    /// <summary>
    /// One K step of a 64×64 warp tile on CUDA (rows of <typeparamref name="TS"/>): A's 4 m-tiles from
    /// <paramref name="aAt"/> + 16·i rows, B's 8 n-tiles (two per load) from <paramref name="bAt"/> + 16·i rows (shared
    /// byte addresses of this lane's ldmatrix rows); 32 <c>mma</c>s, n-tiles 0-3 into <see cref="WideAcc.L"/>, 4-7 into
    /// <see cref="WideAcc.R"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static WideAcc StageStep<T, TX, TS>(WideAcc acc, ArrayView<uint> sh, uint aAt, uint bAt, int lane)
        where T : struct, IMmaType where TX : struct, IMmaPath where TS : struct, IWideStages
    {
        uint band = StageBand<TS>();
        UInt4 a0 = LdMatrixAt<TX>(sh, aAt, lane), a1 = LdMatrixAt<TX>(sh, aAt + band, lane);
        UInt4 a2 = LdMatrixAt<TX>(sh, aAt + 2 * band, lane), a3 = LdMatrixAt<TX>(sh, aAt + 3 * band, lane);
        UInt4 b01 = LdMatrixAt<TX>(sh, bAt, lane), b23 = LdMatrixAt<TX>(sh, bAt + band, lane);
        UInt4 b45 = LdMatrixAt<TX>(sh, bAt + 2 * band, lane), b67 = LdMatrixAt<TX>(sh, bAt + 3 * band, lane);
        acc.L = Tile<T, TX>(acc.L, a0, a1, a2, a3, b01, b23, lane);
        acc.R = Tile<T, TX>(acc.R, a0, a1, a2, a3, b45, b67, lane);
        return acc;
    }

    /// <summary>
    /// Off CUDA: what <see cref="StageStep{T, TX, TS}"/>'s 32 <c>mma</c>s at K word <paramref name="kw"/> leave in this lane, without warp shuffles (ilgpu-cpu's
    /// shuffles are barriers, which made the tests slow): every word this lane's <c>mma</c>s would take from another
    /// lane's fragment is read where that lane's <c>ldmatrix</c> would have read it, from the same address functions
    /// (<see cref="StageRowA{TS}"/>, <see cref="StageRowB{TS}"/>). ldmatrix gives lane L word L mod 4 of row L / 4 of
    /// matrix j, whose row address lane 8j + L / 4 passes; <c>mma</c> takes word w of A row g (g + 8) from lane
    /// 4g + w mod 4's register a0 (a1), or a2 (a3) for w ≥ 4, and word w of B column c from lane 4c + w mod 4's b0 (b1).
    /// </summary>
    private static WideAcc StageEmulate<T, TS>(WideAcc acc, ArrayView<uint> sh, uint stage, int wm, int wn, int kw, int lane)
        where T : struct, IMmaType where TS : struct, IWideStages
    {
        int g = lane >> 2, q = lane & 3;
        uint band = StageBand<TS>();
        for (int w = 0; w < 8; w++)
        {
            int s = w & 3, hi = w >> 2;
            // A rows g (matrix 2·hi) and g + 8 (2·hi + 1) of each m-tile; the row address comes from lane 8j + g.
            uint lo = stage + StageRowA<TS>(16 * hi + g, wm, kw), up = stage + StageRowA<TS>(16 * hi + 8 + g, wm, kw);
            WordPair r0 = Words(sh, lo, up, s), r1 = Words(sh, lo + band, up + band, s);
            WordPair r2 = Words(sh, lo + 2 * band, up + 2 * band, s), r3 = Words(sh, lo + 3 * band, up + 3 * band, s);
            // B columns 2q and 2q + 1 of the even (matrix hi) and odd (2 + hi) n-tile of each pair.
            uint e0 = stage + StageRowB<TS>(8 * hi + 2 * q, wn, kw), e1 = stage + StageRowB<TS>(8 * hi + 2 * q + 1, wn, kw);
            uint o0 = stage + StageRowB<TS>(16 + 8 * hi + 2 * q, wn, kw), o1 = stage + StageRowB<TS>(16 + 8 * hi + 2 * q + 1, wn, kw);
            WordPair c0 = Words(sh, e0, e1, s), c1 = Words(sh, o0, o1, s);
            WordPair c2 = Words(sh, e0 + band, e1 + band, s), c3 = Words(sh, o0 + band, o1 + band, s);
            WordPair c4 = Words(sh, e0 + 2 * band, e1 + 2 * band, s), c5 = Words(sh, o0 + 2 * band, o1 + 2 * band, s);
            WordPair c6 = Words(sh, e0 + 3 * band, e1 + 3 * band, s), c7 = Words(sh, o0 + 3 * band, o1 + 3 * band, s);
            acc.L = EmulatedBand<T>(acc.L, r0, r1, r2, r3, c0, c1, c2, c3);
            acc.R = EmulatedBand<T>(acc.R, r0, r1, r2, r3, c4, c5, c6, c7);
        }
        return acc;
    }

    /// <summary>Waits until at most stages − 2 of this thread's copy groups are still in flight.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WaitStages<TX, TS>() where TX : struct, IMmaPath where TS : struct, IWideStages
    {
        if (!TX.Native()) return;
        // ILGPU takes the PTX text only as a literal: one per stage count.
        if (TS.Stages() == 4) CudaAsm.Emit("cp.async.wait_group 2;");
        else CudaAsm.Emit("cp.async.wait_group 1;");
    }

    /// <summary>
    /// Queues this thread's chunks of the slab starting at K element <paramref name="k0"/>: word <paramref name="wq"/>
    /// (and with 32-word rows word <paramref name="wq"/> XOR 16) of A's rows t/4 + s·i into stage word
    /// <paramref name="dst"/> + s·i rows (the second chunk at <paramref name="dst"/> XOR 16), and B's likewise
    /// (s = <see cref="IWideBlock.CopyRows"/> of <typeparamref name="TB"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void IssueStage<T, TX, TS, TB>(ArrayView<uint> sh, uint shBase, int dst, ArrayView<ushort> a, ArrayView<ushort> b,
        WideRows rows, WideAddresses at, int k0, int wq, int depth)
        where T : struct, IMmaType where TX : struct, IMmaPath where TS : struct, IWideStages where TB : struct, IWideBlock
    {
        int e = T.PerWord();
        IssueChunks<T, TX, TS, TB>(sh, shBase, dst, a, b, rows, at, k0 + wq * e, depth);
        // The stage's words start at a multiple of 32 (whole rows), so the XOR moves to chunk j XOR 4 of the same row.
        if (TS.RowWords() == 32) IssueChunks<T, TX, TS, TB>(sh, shBase, dst ^ 16, a, b, rows, at, k0 + (wq ^ 16) * e, depth);
    }

    /// <summary>
    /// One 16-byte chunk (K element <paramref name="k"/>) of each of this thread's rows into stage word
    /// <paramref name="dst"/> + s·i rows (B's after A's 128 rows): 4 of A and 4 of B in a 128×128 block, 2 of A and 4
    /// of B in a 128×256 one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void IssueChunks<T, TX, TS, TB>(ArrayView<uint> sh, uint shBase, int dst, ArrayView<ushort> a, ArrayView<ushort> b,
        WideRows rows, WideAddresses at, int k, int depth)
        where T : struct, IMmaType where TX : struct, IMmaPath where TS : struct, IWideStages where TB : struct, IWideBlock
    {
        int e = T.PerWord();
        // Bytes of the chunk inside K (16 but near the end); 0 still needs a valid address: the row's start.
        int bytes = IntrinsicMath.Clamp((depth - k) * (4 / e), 0, 16);
        int kk = bytes > 0 ? k : 0, rem = depth - k;
        int q = TB.CopyRows() * TS.RowWords(), bw = BM * TS.RowWords();   // words of s rows; B's tile after A's 128 rows
        bool four = ACopies<TB>() == 4;
        if (TX.Native())
        {
            ulong kb = (ulong)kk * (ulong)(4 / e);
            uint d = shBase + (uint)(dst * 4), quarter = (uint)(q * 4), bOff = (uint)(bw * 4);
            AsyncCopy(d, at.A0 + kb, bytes);
            AsyncCopy(d + quarter, at.A1 + kb, bytes);
            if (four)
            {
                AsyncCopy(d + 2 * quarter, at.A2 + kb, bytes);
                AsyncCopy(d + 3 * quarter, at.A3 + kb, bytes);
            }
            AsyncCopy(d + bOff, at.B0 + kb, bytes);
            AsyncCopy(d + bOff + quarter, at.B1 + kb, bytes);
            AsyncCopy(d + bOff + 2 * quarter, at.B2 + kb, bytes);
            AsyncCopy(d + bOff + 3 * quarter, at.B3 + kb, bytes);
            return;
        }
        EmulatedChunk<T>(sh, dst, a, rows.A0 + kk, bytes, rem);
        EmulatedChunk<T>(sh, dst + q, a, rows.A1 + kk, bytes, rem);
        if (four)
        {
            EmulatedChunk<T>(sh, dst + 2 * q, a, rows.A2 + kk, bytes, rem);
            EmulatedChunk<T>(sh, dst + 3 * q, a, rows.A3 + kk, bytes, rem);
        }
        EmulatedChunk<T>(sh, dst + bw, b, rows.B0 + kk, bytes, rem);
        EmulatedChunk<T>(sh, dst + bw + q, b, rows.B1 + kk, bytes, rem);
        EmulatedChunk<T>(sh, dst + bw + 2 * q, b, rows.B2 + kk, bytes, rem);
        EmulatedChunk<T>(sh, dst + bw + 3 * q, b, rows.B3 + kk, bytes, rem);
    }

    /// <summary>Rounds the chunks this thread copied into the stage at word <paramref name="dst"/> (as <see cref="IssueStage{T, TX, TS, TB}"/> placed them) to TF32, in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RoundStage<T, TX, TS, TB>(ArrayView<uint> sh, uint shBase, int dst)
        where T : struct, IMmaType where TX : struct, IMmaPath where TS : struct, IWideStages where TB : struct, IWideBlock
    {
        RoundRows<T, TX, TS, TB>(sh, shBase + (uint)(dst * 4));
        if (TS.RowWords() == 32) RoundRows<T, TX, TS, TB>(sh, shBase + (uint)((dst ^ 16) * 4));
    }

    /// <summary>Rounds one chunk of each of this thread's rows, the first at shared byte address <paramref name="at"/> (see <see cref="RoundChunk{T, TX}"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RoundRows<T, TX, TS, TB>(ArrayView<uint> sh, uint at)
        where T : struct, IMmaType where TX : struct, IMmaPath where TS : struct, IWideStages where TB : struct, IWideBlock
    {
        uint q = (uint)(TB.CopyRows() * TS.RowWords() * 4), bOff = (uint)(BM * TS.RowWords() * 4);   // s rows; B's tile
        RoundChunk<T, TX>(sh, at);
        RoundChunk<T, TX>(sh, at + q);
        if (ACopies<TB>() == 4)
        {
            RoundChunk<T, TX>(sh, at + 2 * q);
            RoundChunk<T, TX>(sh, at + 3 * q);
        }
        RoundChunk<T, TX>(sh, at + bOff);
        RoundChunk<T, TX>(sh, at + bOff + q);
        RoundChunk<T, TX>(sh, at + bOff + 2 * q);
        RoundChunk<T, TX>(sh, at + bOff + 3 * q);
    }
}
