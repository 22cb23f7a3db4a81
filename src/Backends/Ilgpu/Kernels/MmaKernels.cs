using System.Runtime.CompilerServices;
using ILGPU;

namespace Ember.Ilgpu;

/// <summary>
/// Tensor-core GEMM (<c>mma.sync</c> through inline PTX on CUDA; off CUDA an emulation of each K step, so ilgpu-cpu
/// runs the same staging, fragment addressing and epilogue):
/// <list type="bullet">
/// <item><description>a group of 256 threads (8 warps, 2 along M × 4 along N) computes a 128×128 tile of C; each warp
/// 64×32 as 4×4 <c>m16n8</c> tiles, 64 float32 accumulators per thread;</description></item>
/// <item><description>K advances in slabs of 16 words (16 TF32 or 32 F16/BF16 elements), staged in shared memory as
/// <c>tile[row][word]</c> for both operands (A by M, B by N), rows padded to 20 words so the fragment reads (lane 4g+t
/// reads row g, word t) hit 32 distinct banks;</description></item>
/// <item><description>register double buffering: the next slab is loaded from global memory while the current one is
/// multiplied, then stored to the other shared buffer; one barrier per slab;</description></item>
/// <item><description>K-contiguous operands are read with 16-byte loads where aligned and the slab is whole; others
/// element by element (coalesced along M/N), with bounds checks and zero fill, so any M, N, K and transpose works.</description></item>
/// </list>
/// </summary>
internal static partial class MmaKernels
{
    public const int BM = 128, BN = 128, Threads = 256;
    /// <summary>32-bit words of K per slab.</summary>
    public const int KW = 16;
    private const int RowW = KW + 4;       // words per shared row (padding: conflict-free fragment reads)
    private const int Buf = BM * RowW;     // words per shared buffer of one operand

    /// <summary>
    /// Launch with grid (ceil(N/128), ceil(M/128), batch) and groups of 256 threads. Element views are 16-bit
    /// (float32 ones reinterpreted for TF32); <paramref name="c"/> is float32 for TF32, else the operand type.
    /// With <see cref="SplitOutput"/> grid z is instead the K slab <c>[z · KChunk, (z + 1) · KChunk)</c> of one
    /// product, and <paramref name="c"/> receives its float32 partial product (alpha, beta not applied).
    /// </summary>
    public static void Gemm<T, TA, TB, TX, TE>(GemmParams p, ArrayView<ushort> a, ArrayView<ushort> b, ArrayView<ushort> c)
        where T : struct, IMmaType where TA : struct, IOperandLayout where TB : struct, IOperandLayout
        where TX : struct, IMmaPath where TE : struct, IMmaOutput
    {
        int t = Group.IdxX;
        int lane = t & 31, warp = t >> 5;
        int g = lane >> 2, q = lane & 3;
        int wm = (warp >> 2) * 64, wn = (warp & 3) * 32;
        int m0 = Grid.IdxY * BM, n0 = Grid.IdxX * BN;
        var o = SlabOrigin<TA, TB, TE>(p);
        long aBase = o.A, bBase = o.B, cBase = o.C;
        int depth = o.Depth;

        ArrayView<uint> As, Bs, all = default;
        uint shBase = 0;
        if (TX.LdMatrix())
        {
            // One allocation (A's buffers, then B's) whose shared address the ldmatrix path takes by name.
            all = SharedMemory.Allocate<uint>(4 * Buf);
            As = all.SubView(0, 2 * Buf);
            Bs = all.SubView(2 * Buf, 2 * Buf);
            shBase = SharedBase<TX>();
        }
        else
        {
            As = SharedMemory.Allocate<uint>(2 * Buf);
            Bs = SharedMemory.Allocate<uint>(2 * Buf);
        }

        int slabK = KW * T.PerWord();
        int slabs = (depth + slabK - 1) / slabK;
        MmaAcc acc = default;
        if (slabs > 0)
        {
            Stage<T, TA>(As, 0, t, a, aBase, p.Lda, m0, p.M, 0, depth);
            Stage<T, TB>(Bs, 0, t, b, bBase, p.Ldb, n0, p.N, 0, depth);
        }
        for (int s = 0; s < slabs; s++)
        {
            Group.Barrier();
            int k1 = (s + 1) * slabK;
            bool more = s + 1 < slabs;
            // The next slab's words (zeros past the last slab: never stored).
            UInt4 ra0 = default, ra1 = default, rb0 = default, rb1 = default;
            if (more)
            {
                ra0 = Load<T, TA>(a, aBase, p.Lda, m0, p.M, k1, depth, t);
                ra1 = Load<T, TA>(a, aBase, p.Lda, m0, p.M, k1, depth, t + Threads);
                rb0 = Load<T, TB>(b, bBase, p.Ldb, n0, p.N, k1, depth, t);
                rb1 = Load<T, TB>(b, bBase, p.Ldb, n0, p.N, k1, depth, t + Threads);
            }
            int cur = (s & 1) * Buf;
            if (TX.LdMatrix())
            {
                acc = LdStep<T, TX>(acc, all, shBase, cur, wm, wn, lane, 0);
                acc = LdStep<T, TX>(acc, all, shBase, cur, wm, wn, lane, 8);
            }
            else
            {
                acc = Step<T, TX>(acc, As, Bs, cur, wm, wn, g, q, 0);
                acc = Step<T, TX>(acc, As, Bs, cur, wm, wn, g, q, 8);
            }
            if (more)
            {
                int nxt = ((s + 1) & 1) * Buf;
                Put<TA>(As, nxt, t, ra0);
                Put<TA>(As, nxt, t + Threads, ra1);
                Put<TB>(Bs, nxt, t, rb0);
                Put<TB>(Bs, nxt, t + Threads, rb1);
            }
        }

        int r0 = m0 + wm + g, c0 = n0 + wn + 2 * q;
        WriteTile<T, TX, TE>(c, cBase, p, r0, c0, acc);
    }

    /// <summary>Where grid z's product starts in A, B and C (element offsets) and how deep its K is.</summary>
    private readonly record struct Origin(long A, long B, long C, int Depth);

    /// <summary>
    /// Grid z's <see cref="Origin"/>: batch entry z (strides), or with <see cref="SplitOutput"/> the K slab
    /// [z · KChunk, (z + 1) · KChunk) of one product, its depth what is left of K, at most one chunk.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Origin SlabOrigin<TA, TB, TE>(GemmParams p)
        where TA : struct, IOperandLayout where TB : struct, IOperandLayout where TE : struct, IMmaOutput
    {
        long z = Grid.IdxZ;
        if (!TE.Split()) return new Origin(z * p.StrideA, z * p.StrideB, z * p.StrideC, p.K);
        long k0 = z * p.KChunk;
        return new Origin(TA.KMajor() ? k0 : k0 * p.Lda, TB.KMajor() ? k0 : k0 * p.Ldb, z * p.StrideC, IntrinsicMath.Min(p.K - (int)k0, p.KChunk));
    }

    /// <summary>Loads a whole slab of one operand into shared buffer 0 (the prologue).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Stage<T, TL>(ArrayView<uint> sh, int buf, int t, ArrayView<ushort> x, long xBase, int ld, int r0, int rows, int k0, int depth)
        where T : struct, IMmaType where TL : struct, IOperandLayout
    {
        Put<TL>(sh, buf, t, Load<T, TL>(x, xBase, ld, r0, rows, k0, depth, t));
        Put<TL>(sh, buf, t + Threads, Load<T, TL>(x, xBase, ld, r0, rows, k0, depth, t + Threads));
    }

    /// <summary>
    /// Chunk <paramref name="c"/> (0..511) of a slab: four consecutive words of one row. K-major operands map
    /// chunks row by row (four threads per row, 16-byte loads), others column by column (consecutive threads read
    /// consecutive rows of one K, coalesced).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ChunkPlace<TL>(int c, out int row, out int wq) where TL : struct, IOperandLayout
    {
        if (TL.KMajor()) { row = c >> 2; wq = (c & 3) << 2; }
        else { row = c & 127; wq = (c >> 7) << 2; }
    }

    /// <summary>The four operand words of chunk <paramref name="c"/> of the slab starting at element <paramref name="k0"/> of K.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static UInt4 Load<T, TL>(ArrayView<ushort> x, long xBase, int ld, int r0, int rows, int k0, int depth, int c)
        where T : struct, IMmaType where TL : struct, IOperandLayout
    {
        ChunkPlace<TL>(c, out int row, out int wq);
        int e = T.PerWord();
        int r = r0 + row, k = k0 + wq * e;
        if (TL.KMajor())
        {
            if (TL.Vec() && k0 + KW * e <= depth)
            {
                // Whole slab: rows past the end are clamped (they only feed outputs that are never written).
                long i = xBase + (long)IntrinsicMath.Min(r, rows - 1) * ld + k;
                return T.Convert(x.Cast<UInt4>()[i / (4 * e)]);
            }
            bool ok = r < rows;
            long j = xBase + (long)r * ld + k;
            return new UInt4(
                T.Word(x, j, 1, ok && k < depth, ok && k + 1 < depth),
                T.Word(x, j + e, 1, ok && k + e < depth, ok && k + e + 1 < depth),
                T.Word(x, j + 2 * e, 1, ok && k + 2 * e < depth, ok && k + 2 * e + 1 < depth),
                T.Word(x, j + 3 * e, 1, ok && k + 3 * e < depth, ok && k + 3 * e + 1 < depth));
        }
        else
        {
            bool ok = r < rows;
            long j = xBase + (long)k * ld + r, step = ld, w = e * step;
            return new UInt4(
                T.Word(x, j, step, ok && k < depth, ok && k + 1 < depth),
                T.Word(x, j + w, step, ok && k + e < depth, ok && k + e + 1 < depth),
                T.Word(x, j + 2 * w, step, ok && k + 2 * e < depth, ok && k + 2 * e + 1 < depth),
                T.Word(x, j + 3 * w, step, ok && k + 3 * e < depth, ok && k + 3 * e + 1 < depth));
        }
    }

    /// <summary>Stores chunk <paramref name="c"/> into shared buffer (word offset) <paramref name="buf"/> with one 16-byte store.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put<TL>(ArrayView<uint> sh, int buf, int c, UInt4 v) where TL : struct, IOperandLayout
    {
        ChunkPlace<TL>(c, out int row, out int wq);
        sh.Cast<UInt4>()[(buf + row * RowW + wq) >> 2] = v;
    }

    /// <summary>One <c>mma</c> K step (8 words at word offset <paramref name="kw"/> of the slab): 4 A and 4 B fragments, 16 <c>mma</c>s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static MmaAcc Step<T, TX>(MmaAcc acc, ArrayView<uint> As, ArrayView<uint> Bs, int buf, int wm, int wn, int g, int q, int kw)
        where T : struct, IMmaType where TX : struct, IMmaPath
    {
        if (!TX.Native()) return Emulate<T>(acc, As, Bs, buf, wm, wn, g, q, kw);
        UInt4 a0 = AFrag(As, buf, wm, 0, g, q, kw), a1 = AFrag(As, buf, wm, 1, g, q, kw);
        UInt4 a2 = AFrag(As, buf, wm, 2, g, q, kw), a3 = AFrag(As, buf, wm, 3, g, q, kw);
        int b0w = BWord(buf, wn, 0, g, q, kw), b1w = BWord(buf, wn, 1, g, q, kw);
        int b2w = BWord(buf, wn, 2, g, q, kw), b3w = BWord(buf, wn, 3, g, q, kw);
        uint b00 = Bs[b0w], b01 = Bs[b0w + 4], b10 = Bs[b1w], b11 = Bs[b1w + 4];
        uint b20 = Bs[b2w], b21 = Bs[b2w + 4], b30 = Bs[b3w], b31 = Bs[b3w + 4];
        acc.C00 = T.Mma(acc.C00, a0, b00, b01); acc.C01 = T.Mma(acc.C01, a0, b10, b11);
        acc.C02 = T.Mma(acc.C02, a0, b20, b21); acc.C03 = T.Mma(acc.C03, a0, b30, b31);
        acc.C10 = T.Mma(acc.C10, a1, b00, b01); acc.C11 = T.Mma(acc.C11, a1, b10, b11);
        acc.C12 = T.Mma(acc.C12, a1, b20, b21); acc.C13 = T.Mma(acc.C13, a1, b30, b31);
        acc.C20 = T.Mma(acc.C20, a2, b00, b01); acc.C21 = T.Mma(acc.C21, a2, b10, b11);
        acc.C22 = T.Mma(acc.C22, a2, b20, b21); acc.C23 = T.Mma(acc.C23, a2, b30, b31);
        acc.C30 = T.Mma(acc.C30, a3, b00, b01); acc.C31 = T.Mma(acc.C31, a3, b10, b11);
        acc.C32 = T.Mma(acc.C32, a3, b20, b21); acc.C33 = T.Mma(acc.C33, a3, b30, b31);
        return acc;
    }

    /// <summary>
    /// The A fragment lane 4g+q holds for m-tile <paramref name="mi"/>: words (row g, word q), (g+8, q), (g, q+4),
    /// (g+8, q+4) of the 16×8-word tile, the register order of <c>mma .row</c> A operands.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static UInt4 AFrag(ArrayView<uint> As, int buf, int wm, int mi, int g, int q, int kw)
    {
        int w = buf + (wm + mi * 16 + g) * RowW + kw + q;
        return new(As[w], As[w + 8 * RowW], As[w + 4], As[w + 8 * RowW + 4]);
    }

    /// <summary>Where lane 4g+q's B fragment of n-tile <paramref name="ni"/> starts: b0 = (word q, column g), b1 = (q+4, g) four words on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BWord(int buf, int wn, int ni, int g, int q, int kw) => buf + (wn + ni * 8 + g) * RowW + kw + q;

    /// <summary>
    /// Off CUDA: what the 16 <c>mma</c>s of <see cref="Step{T, TX}"/> leave in this lane's accumulators, without inline PTX.
    /// Lane 4g+q owns D at (g, 2q), (g, 2q+1), (g+8, 2q), (g+8, 2q+1); word w of K comes from the fragments lane
    /// 4g + (w mod 4) (A) and lane 4·col + (w mod 4) (B) would hold, recomputed here with the same fragment functions
    /// (so their addressing is what the tests check) instead of exchanged between lanes.
    /// </summary>
    private static MmaAcc Emulate<T>(MmaAcc acc, ArrayView<uint> As, ArrayView<uint> Bs, int buf, int wm, int wn, int g, int q, int kw)
        where T : struct, IMmaType
    {
        acc.C00 = Tile<T>(acc.C00, As, Bs, buf, wm, wn, 0, 0, g, q, kw); acc.C01 = Tile<T>(acc.C01, As, Bs, buf, wm, wn, 0, 1, g, q, kw);
        acc.C02 = Tile<T>(acc.C02, As, Bs, buf, wm, wn, 0, 2, g, q, kw); acc.C03 = Tile<T>(acc.C03, As, Bs, buf, wm, wn, 0, 3, g, q, kw);
        acc.C10 = Tile<T>(acc.C10, As, Bs, buf, wm, wn, 1, 0, g, q, kw); acc.C11 = Tile<T>(acc.C11, As, Bs, buf, wm, wn, 1, 1, g, q, kw);
        acc.C12 = Tile<T>(acc.C12, As, Bs, buf, wm, wn, 1, 2, g, q, kw); acc.C13 = Tile<T>(acc.C13, As, Bs, buf, wm, wn, 1, 3, g, q, kw);
        acc.C20 = Tile<T>(acc.C20, As, Bs, buf, wm, wn, 2, 0, g, q, kw); acc.C21 = Tile<T>(acc.C21, As, Bs, buf, wm, wn, 2, 1, g, q, kw);
        acc.C22 = Tile<T>(acc.C22, As, Bs, buf, wm, wn, 2, 2, g, q, kw); acc.C23 = Tile<T>(acc.C23, As, Bs, buf, wm, wn, 2, 3, g, q, kw);
        acc.C30 = Tile<T>(acc.C30, As, Bs, buf, wm, wn, 3, 0, g, q, kw); acc.C31 = Tile<T>(acc.C31, As, Bs, buf, wm, wn, 3, 1, g, q, kw);
        acc.C32 = Tile<T>(acc.C32, As, Bs, buf, wm, wn, 3, 2, g, q, kw); acc.C33 = Tile<T>(acc.C33, As, Bs, buf, wm, wn, 3, 3, g, q, kw);
        return acc;
    }

    private static Frag4 Tile<T>(Frag4 d, ArrayView<uint> As, ArrayView<uint> Bs, int buf, int wm, int wn, int mi, int ni, int g, int q, int kw)
        where T : struct, IMmaType
    {
        for (int w = 0; w < 8; w++)
        {
            int src = w & 3;
            UInt4 a = AFrag(As, buf, wm, mi, g, src, kw);               // lane 4g + src
            uint aLo = w < 4 ? a.X : a.Z, aHi = w < 4 ? a.Y : a.W;
            int c0 = BWord(buf, wn, ni, 2 * q, src, kw), c1 = BWord(buf, wn, ni, 2 * q + 1, src, kw);   // lanes 4·col + src
            uint b0 = w < 4 ? Bs[c0] : Bs[c0 + 4], b1 = w < 4 ? Bs[c1] : Bs[c1 + 4];
            d.X += T.Dot(aLo, b0);
            d.Y += T.Dot(aLo, b1);
            d.Z += T.Dot(aHi, b0);
            d.W += T.Dot(aHi, b1);
        }
        return d;
    }

    /// <summary>
    /// Writes a warp's 64×32 accumulator tile: this lane's rows <paramref name="r0"/> + 16·i (i = 0..3) from column
    /// <paramref name="c0"/> (each row four n-tiles, see <see cref="WriteRow{T, TX, TE}"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteTile<T, TX, TE>(ArrayView<ushort> c, long cBase, GemmParams p, int r0, int c0, MmaAcc acc)
        where T : struct, IMmaType where TX : struct, IMmaPath where TE : struct, IMmaOutput
    {
        WriteRow<T, TX, TE>(c, cBase, p, r0, c0, acc.C00, acc.C01, acc.C02, acc.C03);
        WriteRow<T, TX, TE>(c, cBase, p, r0 + 16, c0, acc.C10, acc.C11, acc.C12, acc.C13);
        WriteRow<T, TX, TE>(c, cBase, p, r0 + 32, c0, acc.C20, acc.C21, acc.C22, acc.C23);
        WriteRow<T, TX, TE>(c, cBase, p, r0 + 48, c0, acc.C30, acc.C31, acc.C32, acc.C33);
    }

    /// <summary>Writes the four n-tiles of one 16-row band: rows r and r+8, columns c + 8·ni and +1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteRow<T, TX, TE>(ArrayView<ushort> c, long cBase, GemmParams p, int r, int col, Frag4 f0, Frag4 f1, Frag4 f2, Frag4 f3)
        where T : struct, IMmaType where TX : struct, IMmaPath where TE : struct, IMmaOutput
    {
        WriteFrag<T, TX, TE>(c, cBase, p, r, col, f0);
        WriteFrag<T, TX, TE>(c, cBase, p, r, col + 8, f1);
        WriteFrag<T, TX, TE>(c, cBase, p, r, col + 16, f2);
        WriteFrag<T, TX, TE>(c, cBase, p, r, col + 24, f3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteFrag<T, TX, TE>(ArrayView<ushort> c, long cBase, GemmParams p, int r, int col, Frag4 f)
        where T : struct, IMmaType where TX : struct, IMmaPath where TE : struct, IMmaOutput
    {
        if (col >= p.N) return;
        bool col1 = col + 1 < p.N;
        if (r < p.M)
        {
            long i = cBase + (long)r * p.Ldc + col;
            Output<T, TX, TE>(c, i, f.X, p);
            if (col1) Output<T, TX, TE>(c, i + 1, f.Y, p);
        }
        if (r + 8 < p.M)
        {
            long i = cBase + (long)(r + 8) * p.Ldc + col;
            Output<T, TX, TE>(c, i, f.Z, p);
            if (col1) Output<T, TX, TE>(c, i + 1, f.W, p);
        }
    }

    /// <summary>Stores one accumulator: a float32 partial product (split-K), or alpha·v + beta·C in the output type.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Output<T, TX, TE>(ArrayView<ushort> c, long i, float v, GemmParams p)
        where T : struct, IMmaType where TX : struct, IMmaPath where TE : struct, IMmaOutput
    {
        if (TE.Split()) c.Cast<float>()[i] = v;
        else T.Store<TX>(c, i, v, p.Alpha, p.Beta);
    }

    /// <summary>Whether a kernel instantiation runs the inline-PTX <c>mma</c> (chosen on the host, so the other path is not compiled).</summary>
    internal interface IMmaPath
    {
        /// <summary>True: <c>mma.sync</c> (CUDA, compute capability ≥ 8.0); false: the per-lane emulation.</summary>
        static abstract bool Native();

        /// <summary>True: fragments are read with <c>ldmatrix</c> (see MmaKernels.LdMatrix.cs); false: with 32-bit shared loads.</summary>
        static abstract bool LdMatrix();
    }

    /// <summary>The inline-PTX path.</summary>
    internal readonly struct NativePath : IMmaPath
    {
        public static bool Native() => true;
        public static bool LdMatrix() => false;
    }

    /// <summary>The emulation (any accelerator).</summary>
    internal readonly struct EmulatedPath : IMmaPath
    {
        public static bool Native() => false;
        public static bool LdMatrix() => false;
    }

    /// <summary>What the kernel writes (chosen on the host): C itself, or float32 partial products of K slabs.</summary>
    internal interface IMmaOutput
    {
        /// <summary>True: grid z is a K slab and C a float32 workspace (split-K); false: grid z is the batch entry.</summary>
        static abstract bool Split();
    }

    /// <summary>Writes alpha·AB + beta·C in the output type.</summary>
    internal readonly struct DirectOutput : IMmaOutput
    {
        public static bool Split() => false;
    }

    /// <summary>Writes each K slab's float32 partial product to a workspace (summed by <see cref="MmaPackKernels.SumSplits{T, TX}"/>).</summary>
    internal readonly struct SplitOutput : IMmaOutput
    {
        public static bool Split() => true;
    }

    /// <summary>A thread's accumulators: Cij is m-tile i (rows 16·i of the warp tile) by n-tile j (columns 8·j).</summary>
    private struct MmaAcc
    {
        public Frag4 C00, C01, C02, C03, C10, C11, C12, C13, C20, C21, C22, C23, C30, C31, C32, C33;
    }
}
