using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Ember.Ilgpu;

/// <summary>
/// The <c>cp.async</c> pipelined main loop of the tensor-core kernel (<see cref="MmaGemmOptions.Pipeline"/>), for
/// K-major operands with 16-byte aligned rows (what <see cref="MmaPacking"/> makes of every operand):
/// <list type="bullet">
/// <item><description>global → shared copies go through <c>cp.async.cg.shared.global</c> (16 bytes, L2 only, no
/// registers): <see cref="Stages"/> K slabs are in flight at once, so a slab's global latency is hidden behind the
/// <c>mma</c>s of the slabs before it, without the 16 prefetch registers of the register double buffering;</description></item>
/// <item><description>one barrier per slab: the barrier that makes slab s visible also proves that every warp has
/// finished slab s − 1, whose stage is the one refilled (with slab s + Stages − 1) right after it;</description></item>
/// <item><description>shared rows are 16 words unpadded (64 bytes, four 16-byte chunks); chunk j of row r is stored
/// at chunk j XOR ((r / 2) mod 4), so the fragment reads (lane 4g+q reads word q of some chunk of row g, g = 0..7)
/// still hit 32 distinct banks: rows g and g + 2 share banks unswizzled, and the XOR moves them to different chunks;</description></item>
/// <item><description>rows past M/N are clamped (they only feed outputs that are never written), the last partial
/// slab is zero-filled with <c>cp.async</c>'s source-size operand (only the bytes inside K are read);</description></item>
/// <item><description>TF32 words are rounded in shared memory once per slab, by the thread that copied them, between
/// its wait and the barrier (<c>cp.async</c> copies raw float32 bits).</description></item>
/// </list>
/// Sizes, for the H100 (228 KB shared and 64K registers per SM): the block stays 128×128 with 8 warps of 64×32 (64
/// accumulators, about 128 registers a thread, so two blocks per SM by registers). Three stages of 16 words are
/// 3 × (128 + 128) × 64 B = 48 KB, the static shared-memory limit, which ILGPU's kernels use (dynamic shared memory
/// above 48 KB needs the opt-in launch attribute, which ILGPU 1.5 does not set): two blocks per SM, 16 warps, 96 KB.
/// Larger K per stage (32 words for 16-bit types) would leave one stage within 48 KB, so the pipeline depth wins;
/// 64×64 warp tiles with 8 warps would need 128 accumulators (over 200 registers) and leave one block per SM; with 4
/// warps (128 threads) two blocks still fit: <see cref="GemmWide{T, TX, TE}"/>. Off CUDA the copies are plain 16-byte copies (commit and wait do nothing) and the <c>mma</c>s are
/// emulated per lane from the same fragment functions, so ilgpu-cpu checks the stage indexing and the swizzle.
/// <para>
/// On CUDA this kernel needs <see cref="PtxRewrite"/> (IlgpuMmaGemm loads it so): ptxas keeps every local variable of a
/// kernel containing <c>cp.async</c> in memory, and ILGPU passes each inline-PTX operand through one, so as ILGPU
/// writes it the kernel has a 1,800-byte stack and local traffic around every <c>mma</c>.
/// </para>
/// </summary>
internal static partial class MmaKernels
{
    /// <summary>K slabs in flight in <see cref="GemmPipelined{T, TX, TE}"/>.</summary>
    public const int Stages = 3;
    private const int StageW = (BM + BN) * KW;   // words per stage: A's 128 rows of 16 words, then B's
    private const int RowBytes = KW * 4;           // one stage row: 16 words
    private const uint Band = 16 * RowBytes;       // 16 stage rows (one m-tile, or two n-tiles), in bytes

    /// <summary>
    /// The pipelined kernel, both operands K-major with 16-byte aligned rows (layout <see cref="KMajorVecLayout"/>);
    /// launch, grid z and <typeparamref name="TE"/> as <see cref="Gemm{T, TA, TB, TX, TE}"/>.
    /// </summary>
    public static void GemmPipelined<T, TX, TE>(GemmParams p, ArrayView<ushort> a, ArrayView<ushort> b, ArrayView<ushort> c)
        where T : struct, IMmaType where TX : struct, IMmaPath where TE : struct, IMmaOutput
    {
        int t = Group.IdxX;
        int lane = t & 31, warp = t >> 5;
        int g = lane >> 2, q = lane & 3;
        int wm = (warp >> 2) * 64, wn = (warp & 3) * 32;
        int m0 = Grid.IdxY * BM, n0 = Grid.IdxX * BN;
        // Both operands K-major: a split's K slab starts k0 elements into each row (a whole number of slabs, so aligned).
        var o = SlabOrigin<KMajorVecLayout, KMajorVecLayout, TE>(p);
        long aBase = o.A, bBase = o.B, cBase = o.C;
        int depth = o.Depth;

        // One allocation: its shared address is taken by ILGPU's name for it (see SharedBase).
        ArrayView<uint> sh = SharedMemory.Allocate<uint>(Stages * StageW);
        uint shBase = SharedBase<TX>();
        ulong ga = p.AddressA, gb = p.AddressB;
        int slabK = KW * T.PerWord();
        int slabs = (depth + slabK - 1) / slabK;

        // This thread's chunks: word wq of rows t/4 and t/4 + 64 of both operands (four threads per row); their
        // element offsets in global memory (rows past M/N clamped) and word offsets in a stage are fixed.
        int row = t >> 2, wq = (t & 3) << 2;
        long a0 = aBase + (long)IntrinsicMath.Min(m0 + row, p.M - 1) * p.Lda, a1 = aBase + (long)IntrinsicMath.Min(m0 + row + 64, p.M - 1) * p.Lda;
        long b0 = bBase + (long)IntrinsicMath.Min(n0 + row, p.N - 1) * p.Ldb, b1 = bBase + (long)IntrinsicMath.Min(n0 + row + 64, p.N - 1) * p.Ldb;
        int sw = Swizzle(row, wq);   // row + 64 has the same swizzle: 64 · KW words further
        // The rows' global byte addresses for cp.async, fixed for the whole loop (a slab adds one K offset).
        int elementBytes = 4 / T.PerWord();
        var at = new PipeAddresses
        {
            A0 = ga + (ulong)(a0 * elementBytes), A1 = ga + (ulong)(a1 * elementBytes),
            B0 = gb + (ulong)(b0 * elementBytes), B1 = gb + (ulong)(b1 * elementBytes),
        };

        // Prologue: slabs 0 .. Stages-2, one commit group each (empty groups too, so group s is always slab s).
        for (int s = 0; s < Stages - 1; s++)
        {
            if (s < slabs) Issue<T, TX>(sh, shBase, s * StageW + sw, a, b, at, a0, a1, b0, b1, s * slabK + wq * T.PerWord(), depth);
            Commit<TX>();
        }

        // With ldmatrix: this lane's row addresses for K steps 0 and 1, byte offsets into a stage, pinned (see Pin).
        uint aStep0 = 0, aStep1 = 0, bStep0 = 0, bStep1 = 0;
        if (TX.LdMatrix())
        {
            aStep0 = Pin<TX>(StageAOffset(lane, wm, 0));
            aStep1 = Pin<TX>(StageAOffset(lane, wm, 8));
            bStep0 = Pin<TX>(StageBOffset(lane, wn, 0));
            bStep1 = Pin<TX>(StageBOffset(lane, wn, 8));
        }

        MmaAcc acc = default;
        int rd = 0, wr = Stages - 1;   // stages read (slab s) and refilled (slab s + Stages - 1)
        for (int s = 0; s < slabs; s++)
        {
            // Groups 0 .. s+Stages-2 are committed; all but the newest Stages-2 done means slab s has landed
            // (this thread's copies), and the barrier makes every thread's copies visible.
            WaitGroup<TX>();
            // TF32: cp.async copies raw float32 bits; each thread rounds the chunks it copied (its own copies are
            // visible to it after the wait), once per slab, before the barrier publishes them.
            if (T.Rounds()) RoundChunks<T, TX>(sh, shBase + (uint)((rd * StageW + sw) * 4));
            Group.Barrier();
            int nx = s + Stages - 1;
            if (nx < slabs) Issue<T, TX>(sh, shBase, wr * StageW + sw, a, b, at, a0, a1, b0, b1, nx * slabK + wq * T.PerWord(), depth);
            Commit<TX>();
            int cur = rd * StageW;
            if (TX.LdMatrix())
            {
                uint stage = shBase + (uint)(cur * 4);
                acc = PipeLdStep<T, TX>(acc, sh, stage + aStep0, stage + bStep0, lane);
                acc = PipeLdStep<T, TX>(acc, sh, stage + aStep1, stage + bStep1, lane);
            }
            else
            {
                acc = PipeStep<T, TX>(acc, sh, cur, wm, wn, g, q, 0);
                acc = PipeStep<T, TX>(acc, sh, cur, wm, wn, g, q, 8);
            }
            rd = rd == Stages - 1 ? 0 : rd + 1;
            wr = wr == Stages - 1 ? 0 : wr + 1;
        }

        int r0 = m0 + wm + g, c0 = n0 + wn + 2 * q;
        WriteTile<T, TX, TE>(c, cBase, p, r0, c0, acc);
    }

    /// <summary>Word index, within one operand's stage tile, of word <paramref name="w"/> (0..15) of row <paramref name="r"/> (swizzled chunks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Swizzle(int r, int w) => r * KW + ((((w >> 2) ^ (r >> 1)) & 3) << 2) + (w & 3);

    /// <summary>
    /// Queues this thread's four 16-byte chunks of a slab (A's rows at element offsets <paramref name="a0"/>,
    /// <paramref name="a1"/>, B's at <paramref name="b0"/>, <paramref name="b1"/>, on CUDA at the byte addresses
    /// <paramref name="at"/>; K element <paramref name="k"/>) into the stage words <paramref name="dst"/> (A, row t/4),
    /// + 64 rows, and B's tile likewise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Issue<T, TX>(ArrayView<uint> sh, uint shBase, int dst, ArrayView<ushort> a, ArrayView<ushort> b, PipeAddresses at,
        long a0, long a1, long b0, long b1, int k, int depth) where T : struct, IMmaType where TX : struct, IMmaPath
    {
        int e = T.PerWord();
        // Bytes of the chunks inside K (16 but in the last slab); 0 still needs a valid address: the row's start.
        int bytes = IntrinsicMath.Clamp((depth - k) * (4 / e), 0, 16);
        int kk = bytes > 0 ? k : 0, rem = depth - k;
        if (TX.Native())
        {
            ulong kb = (ulong)kk * (ulong)(4 / e);
            uint d = shBase + (uint)(dst * 4);
            const uint Half = 64 * RowBytes, BOff = BM * RowBytes;   // + 64 rows; B's tile
            AsyncCopy(d, at.A0 + kb, bytes);
            AsyncCopy(d + Half, at.A1 + kb, bytes);
            AsyncCopy(d + BOff, at.B0 + kb, bytes);
            AsyncCopy(d + BOff + Half, at.B1 + kb, bytes);
            return;
        }
        EmulatedChunk<T>(sh, dst, a, a0 + kk, bytes, rem);
        EmulatedChunk<T>(sh, dst + 64 * KW, a, a1 + kk, bytes, rem);
        EmulatedChunk<T>(sh, dst + BM * KW, b, b0 + kk, bytes, rem);
        EmulatedChunk<T>(sh, dst + BM * KW + 64 * KW, b, b1 + kk, bytes, rem);
    }

    /// <summary>The global byte addresses of this thread's A rows t/4, t/4 + 64 and B's (CUDA: for <c>cp.async</c>).</summary>
    private struct PipeAddresses
    {
        public ulong A0, A1, B0, B1;
    }

    /// <summary>
    /// <c>cp.async.cg</c> of 16 bytes from global address <paramref name="src"/> to shared address <paramref name="dst"/>,
    /// the bytes past <paramref name="bytes"/> zero-filled (CUDA only).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void AsyncCopy(uint dst, ulong src, int bytes)
    {
        // 32-bit operands only (see SharedBase): the 64-bit global address goes in as two halves, joined in a scoped
        // register. Device pointers are generic addresses, which for global memory are also global-window ones.
        Input<uint> d = dst, lo = (uint)src, hi = (uint)(src >> 32), n = (uint)bytes;
        // Bytes past src-size are zero-filled. ILGPU takes the PTX text only as a literal.
        CudaAsm.EmitRef("{ .reg .b64 emsrc; mov.b64 emsrc, {%1, %2}; cp.async.cg.shared.global [%0], [emsrc], 16, %3; }", ref d, ref lo, ref hi, ref n);
    }

    /// <summary>Off CUDA: what <see cref="AsyncCopy"/> does, as plain copies (element <paramref name="i"/> on to stage word <paramref name="w"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void EmulatedChunk<T>(ArrayView<uint> sh, int w, ArrayView<ushort> x, long i, int bytes, int rem) where T : struct, IMmaType
    {
        int e = T.PerWord();
        if (bytes == 16)
        {
            sh.Cast<UInt4>()[w >> 2] = x.Cast<UInt4>()[i / (4 * e)];
            return;
        }
        // The emulation of the zero fill (rem: elements of K left from the chunk's first).
        sh[w] = RawWord<T>(x, i, rem > 0, rem > 1);
        sh[w + 1] = RawWord<T>(x, i + e, rem > e, rem > e + 1);
        sh[w + 2] = RawWord<T>(x, i + 2 * e, rem > 2 * e, rem > 2 * e + 1);
        sh[w + 3] = RawWord<T>(x, i + 3 * e, rem > 3 * e, rem > 3 * e + 1);
    }

    /// <summary>Rounds this thread's four chunks of a stage (at shared byte address <paramref name="at"/>, as <see cref="Issue{T, TX}"/> placed them) in place to operand words (TF32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RoundChunks<T, TX>(ArrayView<uint> sh, uint at) where T : struct, IMmaType where TX : struct, IMmaPath
    {
        const uint Half = 64 * RowBytes, BOff = BM * RowBytes;   // + 64 rows; B's tile
        RoundChunk<T, TX>(sh, at);
        RoundChunk<T, TX>(sh, at + Half);
        RoundChunk<T, TX>(sh, at + BOff);
        RoundChunk<T, TX>(sh, at + BOff + Half);
    }

    /// <summary>
    /// <see cref="IMmaType.Convert"/> of the 16-byte chunk at shared byte address <paramref name="at"/> (off CUDA the base
    /// is 0: chunk <paramref name="at"/> / 16 of <paramref name="sh"/>); on CUDA for TF32 with 32-bit-addressed shared
    /// loads and stores around the same conversion (<see cref="MmaMath.RoundTf32"/>: to nearest, ties to even, as cuBLAS).
    /// </summary>
    /// <remarks>
    /// Until the eleventh session the words were rounded by <c>cvt.rna.tf32.f32</c> (ties away from zero; ptxas: FSETP
    /// and a predicated add of 0x1000). cuBLAS rounds ties to even (perf/gpu/tf32_rounding.py on an H100), which sm_80's
    /// <c>cvt</c> cannot, hence the integer form (a guard, a shift, an AND, a three-input add, the mask, a select). On
    /// sm_90 the default rounds in registers with <c>cvt.rn.tf32.f32</c> instead (<see cref="MmaTf32Rounding.FragmentsConvert"/>),
    /// and this pass runs only where <see cref="MmaTf32Rounding.Staged"/> is chosen.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RoundChunk<T, TX>(ArrayView<uint> sh, uint at) where T : struct, IMmaType where TX : struct, IMmaPath
    {
        if (!TX.Native() || !T.Rounds())
        {
            var v = sh.Cast<UInt4>();
            int c = (int)(at >> 4);
            v[c] = T.Convert(v[c]);
            return;
        }
        SharedStore4(at, T.Convert(SharedLoad4(at)));
    }

    /// <summary>The four words at 32-bit shared address <paramref name="at"/> (16-byte aligned), one <c>ld.shared.v4</c> (CUDA only).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static UInt4 SharedLoad4(uint at)
    {
        Output<uint> x = default, y = default, z = default, w = default;
        Input<uint> p = at;
        // ILGPU takes the PTX text only as a literal.
        CudaAsm.EmitRef("ld.shared.v4.b32 {%0, %1, %2, %3}, [%4];", ref x, ref y, ref z, ref w, ref p);
        return new UInt4(x.Value, y.Value, z.Value, w.Value);
    }

    /// <summary>Stores <paramref name="v"/> at 32-bit shared address <paramref name="at"/> (16-byte aligned), one <c>st.shared.v4</c> (CUDA only).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SharedStore4(uint at, UInt4 v)
    {
        Input<uint> p = at, x = v.X, y = v.Y, z = v.Z, w = v.W;
        // ILGPU takes the PTX text only as a literal.
        CudaAsm.EmitRef("st.shared.v4.b32 [%0], {%1, %2, %3, %4};", ref p, ref x, ref y, ref z, ref w);
    }

    /// <summary>Element <paramref name="i"/>'s word as stored (float32 bits, or two 16-bit elements), missing elements 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint RawWord<T>(ArrayView<ushort> x, long i, bool ok0, bool ok1) where T : struct, IMmaType =>
        T.PerWord() == 1 ? (ok0 ? x.Cast<uint>()[i] : 0u) : MmaMath.Pair(x, i, 1, ok0, ok1);

    /// <summary>Closes this thread's group of <c>cp.async</c> copies.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Commit<TX>() where TX : struct, IMmaPath
    {
        if (TX.Native()) CudaAsm.Emit("cp.async.commit_group;");
    }

    /// <summary>Waits until at most <see cref="Stages"/> − 2 of this thread's copy groups are still in flight.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WaitGroup<TX>() where TX : struct, IMmaPath
    {
        // The literal is Stages - 2 (ILGPU takes the PTX text only as a literal).
        if (TX.Native()) CudaAsm.Emit("cp.async.wait_group 1;");
    }

    /// <summary>A fragment of m-tile <paramref name="mi"/> for lane 4g+q (register order as <see cref="AFrag"/>), from the swizzled stage at word <paramref name="a"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static UInt4 PipeAFrag(ArrayView<uint> sh, int a, int wm, int mi, int g, int q, int kw)
    {
        int r = wm + mi * 16 + g;
        return new(sh[a + Swizzle(r, kw + q)], sh[a + Swizzle(r + 8, kw + q)], sh[a + Swizzle(r, kw + q + 4)], sh[a + Swizzle(r + 8, kw + q + 4)]);
    }

    /// <summary>Word index of lane 4g+q's B fragment register <paramref name="hi"/> (0: word q, 1: word q+4) of n-tile <paramref name="ni"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int PipeBWord(int b, int wn, int ni, int g, int q, int kw, int hi) => b + Swizzle(wn + ni * 8 + g, kw + q + 4 * hi);

    /// <summary>One <c>mma</c> K step of the pipelined loop: 4 A and 4 B fragments from stage word <paramref name="cur"/>, 16 <c>mma</c>s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static MmaAcc PipeStep<T, TX>(MmaAcc acc, ArrayView<uint> sh, int cur, int wm, int wn, int g, int q, int kw)
        where T : struct, IMmaType where TX : struct, IMmaPath
    {
        int bs = cur + BM * KW;
        if (!TX.Native()) return PipeEmulate<T>(acc, sh, cur, bs, wm, wn, g, q, kw);
        UInt4 a0 = PipeAFrag(sh, cur, wm, 0, g, q, kw), a1 = PipeAFrag(sh, cur, wm, 1, g, q, kw);
        UInt4 a2 = PipeAFrag(sh, cur, wm, 2, g, q, kw), a3 = PipeAFrag(sh, cur, wm, 3, g, q, kw);
        UInt4 b01 = new(sh[PipeBWord(bs, wn, 0, g, q, kw, 0)], sh[PipeBWord(bs, wn, 0, g, q, kw, 1)],
            sh[PipeBWord(bs, wn, 1, g, q, kw, 0)], sh[PipeBWord(bs, wn, 1, g, q, kw, 1)]);
        UInt4 b23 = new(sh[PipeBWord(bs, wn, 2, g, q, kw, 0)], sh[PipeBWord(bs, wn, 2, g, q, kw, 1)],
            sh[PipeBWord(bs, wn, 3, g, q, kw, 0)], sh[PipeBWord(bs, wn, 3, g, q, kw, 1)]);
        return Tile<T, TX>(acc, a0, a1, a2, a3, b01, b23, 0);   // native here: the lane is not used
    }

    /// <summary>
    /// One K step through <c>ldmatrix.x4</c> (with <see cref="MmaGemmOptions.LdMatrix"/>): as <see cref="LdStep{T, TX}"/>,
    /// each lane passing the start of one swizzled 16-byte chunk (a matrix row of 4 words is one whole chunk): A's
    /// m-tiles at <paramref name="aAt"/> + 16·i rows, B's n-tile pairs at <paramref name="bAt"/> + 16·i rows (shared byte
    /// addresses from <see cref="StageAOffset"/>, <see cref="StageBOffset"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static MmaAcc PipeLdStep<T, TX>(MmaAcc acc, ArrayView<uint> sh, uint aAt, uint bAt, int lane)
        where T : struct, IMmaType where TX : struct, IMmaPath
    {
        UInt4 a0 = LdMatrixAt<TX>(sh, aAt, lane), a1 = LdMatrixAt<TX>(sh, aAt + Band, lane);
        UInt4 a2 = LdMatrixAt<TX>(sh, aAt + 2 * Band, lane), a3 = LdMatrixAt<TX>(sh, aAt + 3 * Band, lane);
        UInt4 b01 = LdMatrixAt<TX>(sh, bAt, lane), b23 = LdMatrixAt<TX>(sh, bAt + Band, lane);
        return Tile<T, TX>(acc, a0, a1, a2, a3, b01, b23, lane);
    }

    /// <summary>
    /// The byte offset in a stage of the A row that lane <paramref name="lane"/> hands <c>ldmatrix.x4</c> for m-tile 0 of
    /// the warp tile at row <paramref name="wm"/>, K step words <paramref name="kw"/>..+7: lanes 8j..8j+7 give the rows
    /// of matrix j = (rows 0-7, words 0-3), (8-15, 0-3), (0-7, 4-7), (8-15, 4-7), i.e. registers a0..a3 of the fragment.
    /// m-tile i is 16·i rows further (the same swizzle).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint StageAOffset(int lane, int wm, int kw)
    {
        int j = lane >> 3;
        return (uint)(Swizzle(wm + (lane & 7) + (j & 1) * 8, kw + (j >> 1) * 4) * 4);
    }

    /// <summary>
    /// As <see cref="StageAOffset"/> for B's n-tiles 0 and 1 of the warp tile at column <paramref name="wn"/>: matrices
    /// (tile 0 words 0-3, 4-7, tile 1 words 0-3, 4-7), i.e. b0, b1 of tile 0 and of tile 1; tiles 2i, 2i+1 are 16·i rows further.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint StageBOffset(int lane, int wn, int kw)
    {
        int j = lane >> 3;
        return (uint)((BM * KW + Swizzle(wn + (j >> 1) * 8 + (lane & 7), kw + (j & 1) * 4)) * 4);
    }

    /// <summary>Off CUDA: what <see cref="PipeStep{T, TX}"/>'s 16 <c>mma</c>s leave in this lane (as <see cref="Emulate{T}"/>, other lanes' fragments recomputed).</summary>
    private static MmaAcc PipeEmulate<T>(MmaAcc acc, ArrayView<uint> sh, int a, int b, int wm, int wn, int g, int q, int kw)
        where T : struct, IMmaType
    {
        acc.C00 = PipeTile<T>(acc.C00, sh, a, b, wm, wn, 0, 0, g, q, kw); acc.C01 = PipeTile<T>(acc.C01, sh, a, b, wm, wn, 0, 1, g, q, kw);
        acc.C02 = PipeTile<T>(acc.C02, sh, a, b, wm, wn, 0, 2, g, q, kw); acc.C03 = PipeTile<T>(acc.C03, sh, a, b, wm, wn, 0, 3, g, q, kw);
        acc.C10 = PipeTile<T>(acc.C10, sh, a, b, wm, wn, 1, 0, g, q, kw); acc.C11 = PipeTile<T>(acc.C11, sh, a, b, wm, wn, 1, 1, g, q, kw);
        acc.C12 = PipeTile<T>(acc.C12, sh, a, b, wm, wn, 1, 2, g, q, kw); acc.C13 = PipeTile<T>(acc.C13, sh, a, b, wm, wn, 1, 3, g, q, kw);
        acc.C20 = PipeTile<T>(acc.C20, sh, a, b, wm, wn, 2, 0, g, q, kw); acc.C21 = PipeTile<T>(acc.C21, sh, a, b, wm, wn, 2, 1, g, q, kw);
        acc.C22 = PipeTile<T>(acc.C22, sh, a, b, wm, wn, 2, 2, g, q, kw); acc.C23 = PipeTile<T>(acc.C23, sh, a, b, wm, wn, 2, 3, g, q, kw);
        acc.C30 = PipeTile<T>(acc.C30, sh, a, b, wm, wn, 3, 0, g, q, kw); acc.C31 = PipeTile<T>(acc.C31, sh, a, b, wm, wn, 3, 1, g, q, kw);
        acc.C32 = PipeTile<T>(acc.C32, sh, a, b, wm, wn, 3, 2, g, q, kw); acc.C33 = PipeTile<T>(acc.C33, sh, a, b, wm, wn, 3, 3, g, q, kw);
        return acc;
    }

    private static Frag4 PipeTile<T>(Frag4 d, ArrayView<uint> sh, int a, int b, int wm, int wn, int mi, int ni, int g, int q, int kw)
        where T : struct, IMmaType
    {
        for (int w = 0; w < 8; w++)
        {
            int src = w & 3, hi = w >> 2;
            UInt4 f = PipeAFrag(sh, a, wm, mi, g, src, kw);          // lane 4g + src
            uint aLo = hi == 0 ? f.X : f.Z, aHi = hi == 0 ? f.Y : f.W;
            // Lanes 4·col + src hold B column col = 2q, 2q+1 of the tile.
            uint b0 = sh[PipeBWord(b, wn, ni, 2 * q, src, kw, hi)], b1 = sh[PipeBWord(b, wn, ni, 2 * q + 1, src, kw, hi)];
            d.X += T.Dot(aLo, b0);
            d.Y += T.Dot(aLo, b1);
            d.Z += T.Dot(aHi, b0);
            d.W += T.Dot(aHi, b1);
        }
        return d;
    }
}
