using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Ember.Ilgpu;

/// <summary>
/// The 64×64-warp-tile kernel (<see cref="GemmWide{T, TX, TE}"/>) for 16-bit operands in any layout
/// (<see cref="MmaGemmOptions.TransposedOperands"/>): an M-major A (<c>transA</c>) or N-major B (<c>!transB</c>) is read
/// straight from global memory instead of first being packed K-major by a separate launch.
/// <list type="bullet">
/// <item><description>A K-major operand is staged exactly as in <see cref="GemmWide{T, TX, TE}"/> (128 rows of 16 words,
/// <see cref="Swizzle"/>) and read with <c>ldmatrix.x4</c>.</description></item>
/// <item><description>An M/N-major operand's slab is staged as it lies in memory: 32 K rows of 128 elements (256 bytes,
/// 16 chunks of 8 elements), the same 8 KB as the K-major tile. Chunk j of K row r is stored at chunk j XOR (r mod 8)
/// (<see cref="LineOffset"/>): the 8 K rows one <c>ldmatrix</c> phase reads at one chunk then hit 8 distinct 16-byte
/// bank groups (unswizzled, rows 256 bytes apart would all hit the same ones). Thread t copies chunk t mod 16 of K rows
/// t/16 + 8·i (i = 0..3), which share one swizzle: a warp writes two whole rows, and reads 256 contiguous bytes of each
/// from global memory.</description></item>
/// <item><description>Its fragments come from <c>ldmatrix.x4.trans</c>: each lane names a stored K row of 8 M (or N)
/// elements, and the transposed load gives lane 4g + q the elements (M g; K 2q, 2q + 1) of each 8×8 matrix: the A
/// (<c>.row</c>) and B (<c>.col</c>) fragment words of <c>mma.m16n8k16</c>. The next m-tile (n-tile pair) is 16
/// elements, two chunks, further along the row; under the XOR that is the lane's row offset XOR 32·i bytes (the
/// swizzle only touches chunk bits 0-2 and 2·i only bits 1-2), so one pinned offset a K step still serves every tile.</description></item>
/// <item><description>Edges: chunks past M/N copy only the bytes inside (the rest zero-filled by <c>cp.async</c>'s source
/// size), chunks wholly past M/N and K rows past K copy nothing (zeros) from a valid address, the operand's first row.</description></item>
/// </list>
/// <c>ldmatrix</c> moves 16-bit elements only: TF32 operands keep being packed. Every row of an M/N-major operand must
/// start 16-byte aligned (leading dimension, batch stride and view offset multiples of 8 elements), as
/// <see cref="IlgpuMmaGemm"/> checks. Off CUDA the copies are plain copies and each K step is emulated without warp
/// shuffles through the same lane address functions (as <see cref="StageEmulate{T, TS}"/>), so ilgpu-cpu checks them.
/// </summary>
internal static partial class MmaKernels
{
    /// <summary>Bytes of one stored K row of an M/N-major operand's stage tile: 128 16-bit elements.</summary>
    private const int LineBytes = BM * 2;

    /// <summary>Byte offset of B's tile in a stage (after A's 128 rows of 16 words).</summary>
    private const uint StageBBytes = BM * KW * 4;

    /// <summary>Bytes between a thread's copied chunks: 32 rows of 16 words (K-major), or 8 K rows of 256 bytes (M/N-major).</summary>
    private const uint CopyStep = 32 * KW * 4;

    /// <summary>
    /// The 64×64-warp-tile kernel for 16-bit operands with A (<typeparamref name="TA"/>) K-major or M-major and B
    /// (<typeparamref name="TB"/>) K-major or N-major (<see cref="KMajorVecLayout"/> or <see cref="RMajorVecLayout"/>; not
    /// both K-major: that is <see cref="GemmWide{T, TX, TE}"/>), every row 16-byte aligned; grid, groups of
    /// <see cref="WideThreads"/> and <typeparamref name="TE"/> as <see cref="GemmWide{T, TX, TE}"/>.
    /// <typeparamref name="TX"/> is an ldmatrix path.
    /// </summary>
    public static void GemmWideTransposed<T, TX, TE, TA, TB>(GemmParams p, ArrayView<ushort> a, ArrayView<ushort> b, ArrayView<ushort> c)
        where T : struct, IMmaType where TX : struct, IMmaPath where TE : struct, IMmaOutput
        where TA : struct, IOperandLayout where TB : struct, IOperandLayout
    {
        int t = Group.IdxX;
        int lane = t & 31, warp = t >> 5;
        int wm = (warp >> 1) * 64, wn = (warp & 1) * 64;
        int m0 = Grid.IdxY * BM, n0 = Grid.IdxX * BN;
        // Split-K moves an M/N-major operand's origin by whole K rows (SlabOrigin's k0 · ld).
        var o = SlabOrigin<TA, TB, TE>(p);
        int depth = o.Depth;

        ArrayView<uint> sh = SharedMemory.Allocate<uint>(Stages * StageW);
        uint shBase = SharedBase<TX>();
        const int SlabK = 2 * KW;   // 16-bit elements: two a word
        int slabs = (depth + SlabK - 1) / SlabK;

        var ca = OperandCopy.Of<TA>(t, o.A, p.Lda, m0, p.M, p.AddressA);
        var cb = OperandCopy.Of<TB>(t, o.B, p.Ldb, n0, p.N, p.AddressB);

        // This lane's ldmatrix row offsets in a stage for K steps 0 and 1 (pinned, see Pin): the K-major ones of
        // GemmWide, or the M/N-major rows of the transposed loads.
        uint aStep0 = Pin<TX>(TA.KMajor() ? StageAOffset(lane, wm, 0) : TransRowA(lane, wm, 0));
        uint aStep1 = Pin<TX>(TA.KMajor() ? StageAOffset(lane, wm, 8) : TransRowA(lane, wm, 8));
        uint bStep0 = Pin<TX>(TB.KMajor() ? StageBOffset(lane, wn, 0) : TransRowB(lane, wn, 0));
        uint bStep1 = Pin<TX>(TB.KMajor() ? StageBOffset(lane, wn, 8) : TransRowB(lane, wn, 8));

        // Prologue: slabs 0 .. Stages-2, one commit group each (empty groups too, so group s is always slab s).
        for (int s = 0; s < Stages - 1; s++)
        {
            if (s < slabs)
            {
                uint stage = shBase + (uint)(s * StageW * 4);
                IssueOperand<T, TX, TA>(sh, stage, a, ca, p.Lda, s * SlabK, depth, false);
                IssueOperand<T, TX, TB>(sh, stage + StageBBytes, b, cb, p.Ldb, s * SlabK, depth, false);
            }
            Commit<TX>();
        }

        // Two loops of the same body: while the slab refilled (s + Stages - 1) lies wholly inside K its copies need no K
        // tests, then the last ones with them (in one loop ptxas predicates both copy paths and issues both).
        var st = new TransposedLoop { Wr = Stages - 1 };   // stages read (slab s) and refilled (slab s + Stages - 1)
        var rows = new StepRows(aStep0, aStep1, bStep0, bStep1);
        int split = IntrinsicMath.Clamp(depth / SlabK - (Stages - 1), 0, slabs);
        for (int s = 0; s < split; s++)
            st = TransposedSlab<T, TX, TA, TB>(st, sh, shBase, a, b, ca, cb, p.Lda, p.Ldb, s, slabs, depth, rows, wm, wn, lane, true);
        for (int s = split; s < slabs; s++)
            st = TransposedSlab<T, TX, TA, TB>(st, sh, shBase, a, b, ca, cb, p.Lda, p.Ldb, s, slabs, depth, rows, wm, wn, lane, false);
        WideAcc acc = st.Acc;

        int g = lane >> 2, q = lane & 3;
        int r0 = m0 + wm + g, c0 = n0 + wn + 2 * q;
        long cBase = o.C;
        WriteTile<T, TX, TE>(c, cBase, p, r0, c0, acc.L);
        WriteTile<T, TX, TE>(c, cBase, p, r0, c0 + 32, acc.R);
    }

    /// <summary>
    /// One trip of <see cref="GemmWideTransposed{T, TX, TE, TA, TB}"/>'s K loop, slab <paramref name="s"/>: as
    /// <see cref="GemmWide{T, TX, TE}"/>'s, wait for and publish slab s, refill the stage of slab s - 1 with slab
    /// s + Stages - 1 (<paramref name="whole"/>: a constant, true where that slab lies wholly inside K), 2 K steps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TransposedLoop TransposedSlab<T, TX, TA, TB>(TransposedLoop st, ArrayView<uint> sh, uint shBase, ArrayView<ushort> a, ArrayView<ushort> b,
        OperandCopy ca, OperandCopy cb, int lda, int ldb, int s, int slabs, int depth, StepRows rows, int wm, int wn, int lane, bool whole)
        where T : struct, IMmaType where TX : struct, IMmaPath where TA : struct, IOperandLayout where TB : struct, IOperandLayout
    {
        const int SlabK = 2 * KW;
        // As GemmWide: slab s has landed (this thread's copies) once all but Stages-2 groups are done, the barrier
        // publishes every thread's copies and proves the stage refilled next (slab s - 1's) is no longer read.
        WaitGroup<TX>();
        Group.Barrier();
        int nx = s + Stages - 1;
        if (whole || nx < slabs)
        {
            uint fill = shBase + (uint)(st.Wr * StageW * 4);
            IssueOperand<T, TX, TA>(sh, fill, a, ca, lda, nx * SlabK, depth, whole);
            IssueOperand<T, TX, TB>(sh, fill + StageBBytes, b, cb, ldb, nx * SlabK, depth, whole);
        }
        Commit<TX>();
        uint stage = shBase + (uint)(st.Rd * StageW * 4);
        WideAcc acc = st.Acc;
        if (TX.Native())
        {
            acc = TransposedStep<T, TX, TA, TB>(acc, sh, stage, rows, 0, lane);
            acc = TransposedStep<T, TX, TA, TB>(acc, sh, stage, rows, 1, lane);
        }
        else
        {
            acc = TransposedEmulate<T, TA, TB>(acc, sh, stage, wm, wn, 0, lane);
            acc = TransposedEmulate<T, TA, TB>(acc, sh, stage, wm, wn, 8, lane);
        }
        return new TransposedLoop { Acc = acc, Rd = st.Rd == Stages - 1 ? 0 : st.Rd + 1, Wr = st.Wr == Stages - 1 ? 0 : st.Wr + 1 };
    }

    /// <summary>What <see cref="TransposedSlab{T, TX, TA, TB}"/> carries from one slab to the next: accumulators, the stages read and refilled.</summary>
    private struct TransposedLoop
    {
        public WideAcc Acc;
        public int Rd, Wr;
    }

    /// <summary>
    /// Byte offset, within an M/N-major operand's stage tile, of element <paramref name="col"/> (0..127) of stored K row
    /// <paramref name="kr"/> (0..31): chunk <paramref name="col"/>/8 XOR (<paramref name="kr"/> mod 8).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int LineOffset(int kr, int col) => kr * LineBytes + (((((col >> 3) ^ kr) & 7) | ((col >> 3) & 8)) << 4) + (col & 7) * 2;

    /// <summary>
    /// The byte offset in a stage of the stored K row that lane <paramref name="lane"/> hands <c>ldmatrix.x4.trans</c>
    /// for m-tile 0 of the warp tile at row <paramref name="wm"/>, K step words <paramref name="kw"/>..+7: lanes 8j..8j+7
    /// give K rows 2·kw + 8·(j / 2) + 0..7 at M columns 8·(j mod 2), i.e. matrices (M 0-7, K 0-7), (8-15, 0-7),
    /// (0-7, 8-15), (8-15, 8-15): registers a0..a3 of the fragment. m-tile i is this XOR 32·i.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint TransRowA(int lane, int wm, int kw)
    {
        int j = lane >> 3;
        return (uint)LineOffset(2 * kw + (lane & 7) + (j >> 1) * 8, wm + (j & 1) * 8);
    }

    /// <summary>
    /// As <see cref="TransRowA"/> for an N-major B's n-tiles 0 and 1 of the warp tile at column <paramref name="wn"/>:
    /// matrices (tile 0 K 0-7, K 8-15, tile 1 K 0-7, K 8-15), i.e. b0, b1 of tile 0 and of tile 1; tiles 2i, 2i+1 are
    /// this XOR 32·i. Includes B's offset in the stage.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint TransRowB(int lane, int wn, int kw)
    {
        int j = lane >> 3;
        return StageBBytes + (uint)LineOffset(2 * kw + (j & 1) * 8 + (lane & 7), wn + (j >> 1) * 8);
    }

    /// <summary>
    /// What one thread copies of an operand per slab: four chunks, <see cref="CopyStep"/> bytes apart in the stage tile
    /// from <see cref="Dst"/>. K-major: word 4·(t mod 4) of rows t/4 + 32·i (rows past the end clamped), whose element
    /// offsets and global byte addresses are <see cref="E0"/>.., <see cref="G0"/>..; M/N-major: chunk t mod 16 of K rows
    /// t/16 + 8·i, whose K row 0 is at <see cref="E0"/> / <see cref="G0"/> (the operand's first column where the chunk
    /// is wholly past the end), <see cref="Bytes"/> of each inside M/N.
    /// </summary>
    private struct OperandCopy
    {
        public long E0, E1, E2, E3;
        public ulong G0, G1, G2, G3;
        /// <summary>K-major: the chunk's first K element in a slab; M/N-major: the first K row.</summary>
        public int K;
        /// <summary>M/N-major: bytes of each chunk inside M/N (0 to 16).</summary>
        public int Bytes;
        /// <summary>Byte offset of the first chunk in the operand's stage tile.</summary>
        public uint Dst;

        /// <summary>
        /// The copies of thread <paramref name="t"/> for an operand of layout <typeparamref name="TL"/> at element
        /// <paramref name="origin"/> (global byte address <paramref name="address"/> of element 0), leading dimension
        /// <paramref name="ld"/>, whose block starts at row (M or N) <paramref name="r0"/> of <paramref name="rows"/>.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static OperandCopy Of<TL>(int t, long origin, int ld, int r0, int rows, ulong address) where TL : struct, IOperandLayout
        {
            if (TL.KMajor())
            {
                int row = t >> 2, wq = (t & 3) << 2;
                long e0 = origin + (long)IntrinsicMath.Min(r0 + row, rows - 1) * ld, e1 = origin + (long)IntrinsicMath.Min(r0 + row + 32, rows - 1) * ld;
                long e2 = origin + (long)IntrinsicMath.Min(r0 + row + 64, rows - 1) * ld, e3 = origin + (long)IntrinsicMath.Min(r0 + row + 96, rows - 1) * ld;
                return new()
                {
                    E0 = e0, E1 = e1, E2 = e2, E3 = e3,
                    G0 = address + (ulong)(e0 * 2), G1 = address + (ulong)(e1 * 2), G2 = address + (ulong)(e2 * 2), G3 = address + (ulong)(e3 * 2),
                    K = wq * 2, Dst = (uint)(Swizzle(row, wq) * 4),   // rows + 32·i have row's swizzle
                };
            }
            int kr = t >> 4, col = r0 + ((t & 15) << 3);
            bool inside = col < rows;
            long e = origin + (inside ? col : 0);
            return new()
            {
                E0 = e, G0 = address + (ulong)(e * 2), K = kr,
                Bytes = inside ? IntrinsicMath.Min((rows - col) * 2, 16) : 0,
                Dst = (uint)LineOffset(kr, (t & 15) << 3),   // K rows + 8·i have kr's swizzle
            };
        }
    }

    /// <summary>
    /// Queues this thread's four chunks of one operand's slab starting at K element <paramref name="k0"/> into the
    /// operand's stage tile at shared byte address <paramref name="tile"/> (off CUDA the base is 0);
    /// <paramref name="whole"/> (a constant at each call): the slab lies wholly inside K, so no chunk is tested.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void IssueOperand<T, TX, TL>(ArrayView<uint> sh, uint tile, ArrayView<ushort> x, OperandCopy cp, int ld, int k0, int depth, bool whole)
        where T : struct, IMmaType where TX : struct, IMmaPath where TL : struct, IOperandLayout
    {
        uint d = tile + cp.Dst;
        if (TL.KMajor())
        {
            // As GemmWide's copies: bytes of the chunk inside K (0 still needs a valid address: the row's start); a
            // whole slab has all 16.
            int k = k0 + cp.K;
            int bytes = whole ? 16 : IntrinsicMath.Clamp((depth - k) * 2, 0, 16);
            int kk = bytes > 0 ? k : 0, rem = depth - k;
            if (TX.Native())
            {
                ulong kb = (ulong)kk * 2;
                AsyncCopy(d, cp.G0 + kb, bytes);
                AsyncCopy(d + CopyStep, cp.G1 + kb, bytes);
                AsyncCopy(d + 2 * CopyStep, cp.G2 + kb, bytes);
                AsyncCopy(d + 3 * CopyStep, cp.G3 + kb, bytes);
                return;
            }
            int w = (int)(d >> 2), step = (int)(CopyStep >> 2);
            EmulatedChunk<T>(sh, w, x, cp.E0 + kk, bytes, rem);
            EmulatedChunk<T>(sh, w + step, x, cp.E1 + kk, bytes, rem);
            EmulatedChunk<T>(sh, w + 2 * step, x, cp.E2 + kk, bytes, rem);
            EmulatedChunk<T>(sh, w + 3 * step, x, cp.E3 + kk, bytes, rem);
            return;
        }
        int r = k0 + cp.K;
        if (TX.Native() && whole)
        {
            // A whole slab: every K row inside K, so no test and one multiply a slab; each next chunk 8 K rows further.
            ulong g = cp.G0 + (ulong)((long)r * ld * 2), rowStep = (ulong)((long)8 * ld * 2);
            AsyncCopy(d, g, cp.Bytes);
            g += rowStep;
            AsyncCopy(d + CopyStep, g, cp.Bytes);
            g += rowStep;
            AsyncCopy(d + 2 * CopyStep, g, cp.Bytes);
            g += rowStep;
            AsyncCopy(d + 3 * CopyStep, g, cp.Bytes);
            return;
        }
        LineChunk<TX>(sh, d, x, cp, ld, r, depth);
        LineChunk<TX>(sh, d + CopyStep, x, cp, ld, r + 8, depth);
        LineChunk<TX>(sh, d + 2 * CopyStep, x, cp, ld, r + 16, depth);
        LineChunk<TX>(sh, d + 3 * CopyStep, x, cp, ld, r + 24, depth);
    }

    /// <summary>
    /// One chunk of K row <paramref name="kr"/> of an M/N-major operand into shared byte address <paramref name="d"/>:
    /// <see cref="OperandCopy.Bytes"/> bytes, none past K (from K row 0's address, which always exists), the rest zeros.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LineChunk<TX>(ArrayView<uint> sh, uint d, ArrayView<ushort> x, OperandCopy cp, int ld, int kr, int depth)
        where TX : struct, IMmaPath
    {
        bool ok = kr < depth;
        int bytes = ok ? cp.Bytes : 0;
        long rowOff = ok ? (long)kr * ld : 0;
        if (TX.Native())
        {
            AsyncCopy(d, cp.G0 + (ulong)(rowOff * 2), bytes);
            return;
        }
        long i = cp.E0 + rowOff;
        int w = (int)(d >> 2);
        if (bytes == 16)
        {
            // Element i is a multiple of 8 (aligned leading dimension, stride and origin): one 16-byte copy.
            sh.Cast<UInt4>()[w >> 2] = x.Cast<UInt4>()[i / 8];
            return;
        }
        int n = bytes >> 1;   // elements inside M/N; the zero fill of the rest
        sh[w] = MmaMath.Pair(x, i, 1, n > 0, n > 1);
        sh[w + 1] = MmaMath.Pair(x, i + 2, 1, n > 2, n > 3);
        sh[w + 2] = MmaMath.Pair(x, i + 4, 1, n > 4, n > 5);
        sh[w + 3] = MmaMath.Pair(x, i + 6, 1, n > 6, n > 7);
    }

    /// <summary>
    /// <c>ldmatrix.x4.trans</c> (CUDA only): this lane's word of each of four transposed 8×8 matrices of 16-bit elements,
    /// whose stored rows start at the shared byte addresses lanes 8j..8j+7 pass as <paramref name="at"/> for matrix j:
    /// lane 4g + q receives elements g of stored rows 2q (low half) and 2q + 1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static UInt4 LdMatrixTrans(uint at)
    {
        Output<uint> r0 = default, r1 = default, r2 = default, r3 = default;
        Input<uint> p = at;
        // ILGPU takes the PTX text only as a literal.
        CudaAsm.EmitRef("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];", ref r0, ref r1, ref r2, ref r3, ref p);
        return new UInt4(r0.Value, r1.Value, r2.Value, r3.Value);
    }

    /// <summary>
    /// K step <paramref name="ks"/> (0 or 1) on CUDA from the stage at shared byte address <paramref name="stage"/>, this
    /// lane's row offsets <paramref name="rows"/>: A's 4 m-tiles and B's 4 n-tile pairs each through <c>ldmatrix.x4</c>
    /// (K-major: step ks's offset, 16 rows further a tile) or <c>ldmatrix.x4.trans</c> (M/N-major: step 0's offset XOR
    /// 32 bytes a tile, then 16 K rows (4096 bytes) a step; the XOR only touches bits below the add's, so the 4 tile
    /// addresses serve both steps and the step is an <c>ldmatrix</c> immediate); 32 <c>mma</c>s.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static WideAcc TransposedStep<T, TX, TA, TB>(WideAcc acc, ArrayView<uint> sh, uint stage, StepRows rows, int ks, int lane)
        where T : struct, IMmaType where TX : struct, IMmaPath where TA : struct, IOperandLayout where TB : struct, IOperandLayout
    {
        UInt4 a0, a1, a2, a3, b01, b23, b45, b67;
        uint k = (uint)ks * 16 * LineBytes;
        if (TA.KMajor())
        {
            uint aAt = ks == 0 ? rows.A0 : rows.A1;
            a0 = LdMatrixAt<TX>(sh, stage + aAt, lane); a1 = LdMatrixAt<TX>(sh, stage + aAt + Band, lane);
            a2 = LdMatrixAt<TX>(sh, stage + aAt + 2 * Band, lane); a3 = LdMatrixAt<TX>(sh, stage + aAt + 3 * Band, lane);
        }
        else
        {
            a0 = LdMatrixTrans(stage + rows.A0 + k); a1 = LdMatrixTrans(stage + (rows.A0 ^ 32u) + k);
            a2 = LdMatrixTrans(stage + (rows.A0 ^ 64u) + k); a3 = LdMatrixTrans(stage + (rows.A0 ^ 96u) + k);
        }
        if (TB.KMajor())
        {
            uint bAt = ks == 0 ? rows.B0 : rows.B1;
            b01 = LdMatrixAt<TX>(sh, stage + bAt, lane); b23 = LdMatrixAt<TX>(sh, stage + bAt + Band, lane);
            b45 = LdMatrixAt<TX>(sh, stage + bAt + 2 * Band, lane); b67 = LdMatrixAt<TX>(sh, stage + bAt + 3 * Band, lane);
        }
        else
        {
            b01 = LdMatrixTrans(stage + rows.B0 + k); b23 = LdMatrixTrans(stage + (rows.B0 ^ 32u) + k);
            b45 = LdMatrixTrans(stage + (rows.B0 ^ 64u) + k); b67 = LdMatrixTrans(stage + (rows.B0 ^ 96u) + k);
        }
        acc.L = Tile<T, TX>(acc.L, a0, a1, a2, a3, b01, b23, lane);
        acc.R = Tile<T, TX>(acc.R, a0, a1, a2, a3, b45, b67, lane);
        return acc;
    }

    /// <summary>
    /// Off CUDA: what <see cref="TransposedStep{T, TX, TA, TB}"/>'s 32 <c>mma</c>s at K word <paramref name="kw"/> leave
    /// in this lane, without warp shuffles (as <see cref="StageEmulate{T, TS}"/>): every word is read where the lane
    /// holding it would have had <c>ldmatrix</c> read it. For an M/N-major operand, word w = 4·hi + s of A row g (+8)
    /// is element g of the stored K rows 2s and 2s + 1 of matrix hi·2 (+1), whose addresses lanes 8j + 2s and
    /// 8j + 2s + 1 pass (<see cref="TransRowA"/>); of B column c (n-tile 2i + o) element c of matrix 2·o + hi's
    /// (<see cref="TransRowB"/>), m-tile or pair i XOR 32·i.
    /// </summary>
    private static WideAcc TransposedEmulate<T, TA, TB>(WideAcc acc, ArrayView<uint> sh, uint stage, int wm, int wn, int kw, int lane)
        where T : struct, IMmaType where TA : struct, IOperandLayout where TB : struct, IOperandLayout
    {
        int g = lane >> 2, q = lane & 3;
        for (int w = 0; w < 8; w++)
        {
            int s = w & 3, hi = w >> 2;
            WordPair r0, r1, r2, r3, c0, c1, c2, c3, c4, c5, c6, c7;
            if (TA.KMajor())
            {
                uint lo = stage + StageAOffset(16 * hi + g, wm, kw), up = stage + StageAOffset(16 * hi + 8 + g, wm, kw);
                r0 = Words(sh, lo, up, s); r1 = Words(sh, lo + Band, up + Band, s);
                r2 = Words(sh, lo + 2 * Band, up + 2 * Band, s); r3 = Words(sh, lo + 3 * Band, up + 3 * Band, s);
            }
            else
            {
                int j = 2 * hi;   // rows g: matrix 2·hi; rows g + 8: 2·hi + 1
                uint l0 = TransRowA(8 * j + 2 * s, wm, kw), l1 = TransRowA(8 * j + 2 * s + 1, wm, kw);
                uint u0 = TransRowA(8 * j + 8 + 2 * s, wm, kw), u1 = TransRowA(8 * j + 9 + 2 * s, wm, kw);
                r0 = TransPair(sh, stage, l0, l1, u0, u1, 0, g, g);
                r1 = TransPair(sh, stage, l0, l1, u0, u1, 32, g, g);
                r2 = TransPair(sh, stage, l0, l1, u0, u1, 64, g, g);
                r3 = TransPair(sh, stage, l0, l1, u0, u1, 96, g, g);
            }
            if (TB.KMajor())
            {
                uint e0 = stage + StageBOffset(8 * hi + 2 * q, wn, kw), e1 = stage + StageBOffset(8 * hi + 2 * q + 1, wn, kw);
                uint o0 = stage + StageBOffset(16 + 8 * hi + 2 * q, wn, kw), o1 = stage + StageBOffset(16 + 8 * hi + 2 * q + 1, wn, kw);
                c0 = Words(sh, e0, e1, s); c1 = Words(sh, o0, o1, s);
                c2 = Words(sh, e0 + Band, e1 + Band, s); c3 = Words(sh, o0 + Band, o1 + Band, s);
                c4 = Words(sh, e0 + 2 * Band, e1 + 2 * Band, s); c5 = Words(sh, o0 + 2 * Band, o1 + 2 * Band, s);
                c6 = Words(sh, e0 + 3 * Band, e1 + 3 * Band, s); c7 = Words(sh, o0 + 3 * Band, o1 + 3 * Band, s);
            }
            else
            {
                // Even n-tiles: matrix hi; odd ones: matrix 2 + hi. Columns 2q and 2q + 1 of each.
                uint e0 = TransRowB(8 * hi + 2 * s, wn, kw), e1 = TransRowB(8 * hi + 2 * s + 1, wn, kw);
                uint o0 = TransRowB(16 + 8 * hi + 2 * s, wn, kw), o1 = TransRowB(17 + 8 * hi + 2 * s, wn, kw);
                c0 = TransPair(sh, stage, e0, e1, e0, e1, 0, 2 * q, 2 * q + 1); c1 = TransPair(sh, stage, o0, o1, o0, o1, 0, 2 * q, 2 * q + 1);
                c2 = TransPair(sh, stage, e0, e1, e0, e1, 32, 2 * q, 2 * q + 1); c3 = TransPair(sh, stage, o0, o1, o0, o1, 32, 2 * q, 2 * q + 1);
                c4 = TransPair(sh, stage, e0, e1, e0, e1, 64, 2 * q, 2 * q + 1); c5 = TransPair(sh, stage, o0, o1, o0, o1, 64, 2 * q, 2 * q + 1);
                c6 = TransPair(sh, stage, e0, e1, e0, e1, 96, 2 * q, 2 * q + 1); c7 = TransPair(sh, stage, o0, o1, o0, o1, 96, 2 * q, 2 * q + 1);
            }
            acc.L = EmulatedBand<T>(acc.L, r0, r1, r2, r3, c0, c1, c2, c3);
            acc.R = EmulatedBand<T>(acc.R, r0, r1, r2, r3, c4, c5, c6, c7);
        }
        return acc;
    }

    /// <summary>
    /// Two words of the emulated transposed loads: X = element <paramref name="x"/> of the stored rows at stage offsets
    /// <paramref name="lo0"/> (low half) and <paramref name="lo1"/> (high half), Y = element <paramref name="y"/> of those
    /// at <paramref name="hi0"/>, <paramref name="hi1"/>; every offset XOR <paramref name="tile"/> (the tile's chunk move).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static WordPair TransPair(ArrayView<uint> sh, uint stage, uint lo0, uint lo1, uint hi0, uint hi1, uint tile, int x, int y)
    {
        var h = sh.Cast<ushort>();
        uint xl = h[(int)((stage + (lo0 ^ tile)) >> 1) + x], xh = h[(int)((stage + (lo1 ^ tile)) >> 1) + x];
        uint yl = h[(int)((stage + (hi0 ^ tile)) >> 1) + y], yh = h[(int)((stage + (hi1 ^ tile)) >> 1) + y];
        return new() { X = xl | (xh << 16), Y = yl | (yh << 16) };
    }
}
