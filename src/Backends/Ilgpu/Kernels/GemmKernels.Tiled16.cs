using System.Runtime.CompilerServices;
using ILGPU;

namespace Ember.Ilgpu;

/// <summary>
/// The 16-deep variant of the tiled SGEMM (<see cref="GemmAlgorithm.TiledK16"/>): the same 128×128 block, 8×8 outputs
/// per thread and 32×64 warp tiles as <see cref="Tiled{TA, TB}"/>, but each shared stage holds 16 of K instead of 8,
/// so one barrier (and one trip of global address math) pays for 16 k steps of 64 multiply-adds. Shared memory doubles
/// to 2 stages × 2 operands × 16 × 132 floats ≈ 33 KB (two blocks still fit an SM), and the register prefetch of the
/// next slice doubles from 8 to 16 floats; the k-step loops (see remarks) keep it within 128 registers.
/// </summary>
internal static partial class GemmKernels
{
    /// <summary>K per shared stage of <see cref="Tiled16{TA, TB}"/>.</summary>
    public const int BK16 = 2 * BK;

    /// <summary>
    /// <see cref="Tiled{TA, TB}"/> with 16-deep K slices; launch the same way (grid (ceil(N/128), ceil(M/128), batch),
    /// groups of 256 threads).
    /// </summary>
    /// <remarks>
    /// A 16-deep slice is two 8-deep halves as the 8-deep kernel loads, stores and multiplies them: half h of stage s
    /// is the 8-deep buffer 2s + h, so the shared layout (k-major rows of 132 floats) and its bank behaviour are
    /// unchanged. As there, rows past M/N are clamped and the barrier sits at the top of the main loop; the last partial
    /// slice (K % 16, up to 15) is loaded with bounds checks and zero fill, both halves.
    /// <para>Registers: the k steps of a stage are a C# loop (two steps a trip in the main loop, one after it), which
    /// ILGPU keeps rolled. Unrolled, the loop body is one basic block in which ILGPU puts every shared load first and
    /// sinks the multiply-adds to the end; ptxas 12.8 then needed 160-168 registers (one block of 256 per SM). Rolled,
    /// each trip's 4-8 shared loads sit next to their 64-128 multiply-adds: 120-124 registers, 0 stack, so two blocks
    /// fit an SM (128 at most). Four steps a trip reach 126-128, the unrolled epilogue stages 128-134.</para>
    /// </remarks>
    public static void Tiled16<TA, TB>(GemmParams p, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c)
        where TA : struct, IOperandLayout where TB : struct, IOperandLayout =>
        Tiled16Core<TA, TB, NoBias>(p, a, b, c, c);

    /// <summary>The body of <see cref="Tiled16{TA, TB}"/> and <see cref="Tiled16Bias{TA, TB}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tiled16Core<TA, TB, TE>(GemmParams p, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias)
        where TA : struct, IOperandLayout where TB : struct, IOperandLayout where TE : struct, IGemmBias
    {
        int t = Group.IdxX;
        int lane = t & 31, warp = t >> 5;
        int tyM = ((warp >> 1) << 2) + (lane >> 3);
        int txN = ((warp & 1) << 3) + (lane & 7);
        int m0 = Grid.IdxY * BM, n0 = Grid.IdxX * BN;
        long z = Grid.IdxZ;
        long aBase = z * p.StrideA, bBase = z * p.StrideB, cBase = z * p.StrideC;
        var a4 = a.Cast<Float4>();
        var b4 = b.Cast<Float4>();

        var As = SharedMemory.Allocate<float>(4 * Buf);
        var Bs = SharedMemory.Allocate<float>(4 * Buf);
        var As4 = As.Cast<Float4>();
        var Bs4 = Bs.Cast<Float4>();

        int fullTiles = p.K / BK16;
        // The main loop's global indices: this thread's element of slice 0 (rows clamped, as LoadFull), then a fixed
        // step per slice, so the loop keeps two 64-bit indices instead of bases, sizes and leading dimensions.
        long ia = Origin<TA>(aBase, p.Lda, m0, p.M, t), ib = Origin<TB>(bBase, p.Ldb, n0, p.N, t);
        long stepA = TA.KMajor() ? BK : (long)BK * p.Lda, stepB = TB.KMajor() ? BK : (long)BK * p.Ldb;
        Acc acc = default;
        if (fullTiles > 0)
        {
            StoreTile<TA>(As, 0, t, LoadAt<TA>(a, a4, ia, aBase, p.Lda, m0, p.M, 0, t));
            StoreTile<TA>(As, 1, t, LoadAt<TA>(a, a4, ia + stepA, aBase, p.Lda, m0, p.M, BK, t));
            StoreTile<TB>(Bs, 0, t, LoadAt<TB>(b, b4, ib, bBase, p.Ldb, n0, p.N, 0, t));
            StoreTile<TB>(Bs, 1, t, LoadAt<TB>(b, b4, ib + stepB, bBase, p.Ldb, n0, p.N, BK, t));
        }
        for (int tile = 0; tile + 1 < fullTiles; tile++)
        {
            Group.Barrier();
            ia += 2 * stepA;
            ib += 2 * stepB;
            int k1 = (tile + 1) * BK16;
            Float4 ra0 = LoadAt<TA>(a, a4, ia, aBase, p.Lda, m0, p.M, k1, t);
            Float4 ra1 = LoadAt<TA>(a, a4, ia + stepA, aBase, p.Lda, m0, p.M, k1 + BK, t);
            Float4 rb0 = LoadAt<TB>(b, b4, ib, bBase, p.Ldb, n0, p.N, k1, t);
            Float4 rb1 = LoadAt<TB>(b, b4, ib + stepB, bBase, p.Ldb, n0, p.N, k1 + BK, t);
            int cur = tile & 1, nxt = cur ^ 1;
            int s0 = 2 * cur * BK * Row4;
            for (int s = 0; s < BK16; s += 2)
            {
                acc = Step(acc, As4, Bs4, s0 + s * Row4, tyM, txN);
                acc = Step(acc, As4, Bs4, s0 + (s + 1) * Row4, tyM, txN);
            }
            StoreTile<TA>(As, 2 * nxt, t, ra0);
            StoreTile<TA>(As, 2 * nxt + 1, t, ra1);
            StoreTile<TB>(Bs, 2 * nxt, t, rb0);
            StoreTile<TB>(Bs, 2 * nxt + 1, t, rb1);
        }
        Group.Barrier();
        if (fullTiles > 0)
        {
            int s0 = 2 * ((fullTiles - 1) & 1) * BK * Row4;
            for (int s = 0; s < BK16; s++)
                acc = Step(acc, As4, Bs4, s0 + s * Row4, tyM, txN);
        }
        if (fullTiles * BK16 < p.K)
        {
            // The stage not read last: no thread still reads it after the barrier above.
            int k0 = fullTiles * BK16, buf = fullTiles & 1;
            StoreTile<TA>(As, 2 * buf, t, LoadEdge<TA>(a, aBase, p.Lda, m0, p.M, k0, p.K, t));
            StoreTile<TA>(As, 2 * buf + 1, t, LoadEdge<TA>(a, aBase, p.Lda, m0, p.M, k0 + BK, p.K, t));
            StoreTile<TB>(Bs, 2 * buf, t, LoadEdge<TB>(b, bBase, p.Ldb, n0, p.N, k0, p.K, t));
            StoreTile<TB>(Bs, 2 * buf + 1, t, LoadEdge<TB>(b, bBase, p.Ldb, n0, p.N, k0 + BK, p.K, t));
            Group.Barrier();
            // Only the k steps inside K: the rest of the stage is zeros.
            int s0 = 2 * buf * BK * Row4;
            for (int s = 0; s < p.K - k0; s++)
                acc = Step(acc, As4, Bs4, s0 + s * Row4, tyM, txN);
        }

        WriteTile<TE>(c, bias, cBase, p, m0, n0, tyM, txN, acc);
    }

    /// <summary>The index of this thread's first element of the K slice at 0, as <see cref="LoadFull{TL}"/> computes it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Origin<TL>(long xBase, int ld, int r0, int rows, int t) where TL : struct, IOperandLayout
    {
        if (TL.KMajor()) return xBase + (long)IntrinsicMath.Min(r0 + (t >> 1), rows - 1) * ld + ((t & 1) << 2);
        int r = r0 + ((t & 31) << 2);
        // 16-byte loads clamp to the last aligned group of four, scalar ones element by element (in LoadAt).
        return xBase + (long)(t >> 5) * ld + (TL.Vec() ? IntrinsicMath.Min(r, (rows - 4) & ~3) : r);
    }

    /// <summary>
    /// This thread's four elements of the K slice at <paramref name="k0"/>, whose first is at <paramref name="i"/>
    /// (<see cref="Origin{TL}"/> plus whole steps): one 16-byte load or four scalar ones. R-major scalar loads clamp
    /// each row separately, so they take <see cref="LoadFull{TL}"/>'s path (the other arguments are only for it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Float4 LoadAt<TL>(ArrayView<float> x, ArrayView<Float4> x4, long i, long xBase, int ld, int r0, int rows, int k0, int t)
        where TL : struct, IOperandLayout
    {
        if (TL.Vec()) return x4[i >> 2];
        if (!TL.KMajor()) return LoadFull<TL>(x, x4, xBase, ld, r0, rows, k0, t);
        return new Float4(x[i], x[i + 1], x[i + 2], x[i + 3]);
    }
}
