using System.Runtime.CompilerServices;
using ILGPU;

namespace Ember.Ilgpu;

/// <summary>
/// The copies of <see cref="GemmWideEarlyTransposed{T, TX, TE, TA, TB, TG}"/>: per slab (64 elements of K) each of the
/// 256 threads queues 4 chunks of A's tile and 8 of B's, K-major or M/N-major (see the kernel's summary for the places).
/// </summary>
internal static partial class MmaKernels
{
    /// <summary>
    /// What one thread copies of one operand per slab. K-major: words <see cref="K"/> and <see cref="K"/> XOR 16 of rows
    /// t/4 + 64·i (rows past the end clamped; element offsets <see cref="E0"/>.., global byte addresses <see cref="G0"/>..);
    /// M/N-major: chunk t mod C of K rows <see cref="K"/> + (256/C)·i, whose K row 0 is at <see cref="E0"/> /
    /// <see cref="G0"/> (the operand's first column where the chunk is wholly past the end), <see cref="Bytes"/> of each
    /// inside M/N.
    /// </summary>
    private struct WideCopy
    {
        public long E0, E1, E2, E3;
        public ulong G0, G1, G2, G3;
        /// <summary>K-major: the first chunk's word in a slab row; M/N-major: the first K row.</summary>
        public int K;
        /// <summary>M/N-major: bytes of each chunk inside M/N (0 to 16).</summary>
        public int Bytes;
        /// <summary>Byte offset of the first chunk in the operand's tile.</summary>
        public uint Dst;

        /// <summary>
        /// The copies of thread <paramref name="t"/> for an operand of layout <typeparamref name="TL"/> whose tile has
        /// <paramref name="tile"/> rows (128 for A, 256 for B), at element <paramref name="origin"/> (global byte address
        /// <paramref name="address"/> of element 0), leading dimension <paramref name="ld"/>, the block's rows (M or N)
        /// from <paramref name="r0"/> of <paramref name="rows"/>.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static WideCopy Of<TL>(int t, int tile, long origin, int ld, int r0, int rows, ulong address) where TL : struct, IOperandLayout
        {
            if (TL.KMajor())
            {
                int row = t >> 2, wq = (t & 7) << 2;
                bool four = tile == 256;
                long e0 = origin + (long)IntrinsicMath.Min(r0 + row, rows - 1) * ld;
                long e1 = origin + (long)IntrinsicMath.Min(r0 + row + 64, rows - 1) * ld;
                long e2 = four ? origin + (long)IntrinsicMath.Min(r0 + row + 128, rows - 1) * ld : 0;
                long e3 = four ? origin + (long)IntrinsicMath.Min(r0 + row + 192, rows - 1) * ld : 0;
                return new()
                {
                    E0 = e0, E1 = e1, E2 = e2, E3 = e3,
                    G0 = address + (ulong)(e0 * 2), G1 = address + (ulong)(e1 * 2),
                    G2 = four ? address + (ulong)(e2 * 2) : 0, G3 = four ? address + (ulong)(e3 * 2) : 0,
                    K = wq, Dst = (uint)(StageSwizzle<DeepSlabs>(row, wq) * 4),   // rows + 64·i have row's swizzle
                };
            }
            int chunks = tile >> 3;   // 16-byte chunks a K row
            int kr = t / chunks, chunk = t & (chunks - 1), col = r0 + 8 * chunk;
            bool inside = col < rows;
            long e = origin + (inside ? col : 0);
            return new()
            {
                E0 = e, G0 = address + (ulong)(e * 2), K = kr,
                Bytes = inside ? IntrinsicMath.Min((rows - col) * 2, 16) : 0,
                Dst = (uint)WideLine(kr, 8 * chunk, 2 * tile),   // K rows + (256/C)·i have kr's swizzle
            };
        }
    }

    /// <summary>
    /// Queues this thread's chunks of the slab starting at K element <paramref name="k0"/> into the stage at shared byte
    /// address <paramref name="stage"/> (off CUDA 0-based). <paramref name="whole"/> (a constant at each call): the slab
    /// lies wholly inside K, so no chunk is tested against it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void IssueWideSlab<T, TX, TA, TB>(ArrayView<uint> sh, uint stage, ArrayView<ushort> a, ArrayView<ushort> b,
        WideCopy ca, WideCopy cb, int lda, int ldb, int k0, int depth, bool whole)
        where T : struct, IMmaType where TX : struct, IMmaPath where TA : struct, IOperandLayout where TB : struct, IOperandLayout
    {
        IssueWideOperand<T, TX, TA>(sh, stage, a, ca, BM, lda, k0, depth, whole);
        IssueWideOperand<T, TX, TB>(sh, stage + WideTileA, b, cb, 2 * BN, ldb, k0, depth, whole);
    }

    /// <summary>
    /// Queues this thread's chunks of one operand's slab (tile of <paramref name="tile"/> rows at shared byte address
    /// <paramref name="at"/>): K-major 2 chunks of each of its tile / 64 rows, M/N-major one chunk of each of its
    /// tile / 32 K rows; <paramref name="whole"/> as <see cref="IssueWideSlab{T, TX, TA, TB}"/>'s.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void IssueWideOperand<T, TX, TL>(ArrayView<uint> sh, uint at, ArrayView<ushort> x, WideCopy cp, int tile, int ld, int k0, int depth, bool whole)
        where T : struct, IMmaType where TX : struct, IMmaPath where TL : struct, IOperandLayout
    {
        if (TL.KMajor())
        {
            // The tile's rows start at multiples of 128 bytes, so the XOR moves to chunk j XOR 4 of the same row. A whole
            // slab has every chunk inside K: no clamp.
            KMajorChunks<T, TX>(sh, at + cp.Dst, x, cp, tile, k0 + 2 * cp.K, depth, whole);
            KMajorChunks<T, TX>(sh, at + (cp.Dst ^ 64u), x, cp, tile, k0 + 2 * (cp.K ^ 16), depth, whole);
            return;
        }
        // 4096 bytes: 16 K rows of 256 bytes (A) or 8 of 512 (B), the K rows between one thread's chunks.
        int step = 2048 / tile;
        int kr = k0 + cp.K;
        uint d = at + cp.Dst;
        if (TX.Native() && whole)
        {
            // A whole slab: every K row inside K, so no test and one multiply a slab; each next
            // chunk is the same number of bytes further (ptxas keeps the one 64-bit step).
            ulong g = cp.G0 + (ulong)((long)kr * ld * 2), rowStep = (ulong)((long)step * ld * 2);
            AsyncCopy(d, g, cp.Bytes);
            g += rowStep;
            AsyncCopy(d + 4096, g, cp.Bytes);
            g += rowStep;
            AsyncCopy(d + 2 * 4096, g, cp.Bytes);
            g += rowStep;
            AsyncCopy(d + 3 * 4096, g, cp.Bytes);
            if (tile == 256)
            {
                g += rowStep;
                AsyncCopy(d + 4 * 4096, g, cp.Bytes);
                g += rowStep;
                AsyncCopy(d + 5 * 4096, g, cp.Bytes);
                g += rowStep;
                AsyncCopy(d + 6 * 4096, g, cp.Bytes);
                g += rowStep;
                AsyncCopy(d + 7 * 4096, g, cp.Bytes);
            }
            return;
        }
        var line = new OperandCopy { E0 = cp.E0, G0 = cp.G0, Bytes = cp.Bytes };
        LineChunk<TX>(sh, d, x, line, ld, kr, depth);
        LineChunk<TX>(sh, d + 4096, x, line, ld, kr + step, depth);
        LineChunk<TX>(sh, d + 2 * 4096, x, line, ld, kr + 2 * step, depth);
        LineChunk<TX>(sh, d + 3 * 4096, x, line, ld, kr + 3 * step, depth);
        if (tile == 256)
        {
            LineChunk<TX>(sh, d + 4 * 4096, x, line, ld, kr + 4 * step, depth);
            LineChunk<TX>(sh, d + 5 * 4096, x, line, ld, kr + 5 * step, depth);
            LineChunk<TX>(sh, d + 6 * 4096, x, line, ld, kr + 6 * step, depth);
            LineChunk<TX>(sh, d + 7 * 4096, x, line, ld, kr + 7 * step, depth);
        }
    }

    /// <summary>
    /// One 16-byte chunk (K element <paramref name="k"/>) of each of a K-major operand's rows of this thread into shared
    /// byte address <paramref name="d"/> + 64 rows (8192 bytes)·i; bytes past K zero-filled, from the row's start where
    /// none is inside (<paramref name="whole"/>: the slab is inside K).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void KMajorChunks<T, TX>(ArrayView<uint> sh, uint d, ArrayView<ushort> x, WideCopy cp, int tile, int k, int depth, bool whole)
        where T : struct, IMmaType where TX : struct, IMmaPath
    {
        int bytes = whole ? 16 : IntrinsicMath.Clamp((depth - k) * 2, 0, 16);
        int kk = bytes > 0 ? k : 0, rem = depth - k;
        const uint Rows64 = 64 * 128;
        if (TX.Native())
        {
            ulong kb = (ulong)kk * 2;
            AsyncCopy(d, cp.G0 + kb, bytes);
            AsyncCopy(d + Rows64, cp.G1 + kb, bytes);
            if (tile == 256)
            {
                AsyncCopy(d + 2 * Rows64, cp.G2 + kb, bytes);
                AsyncCopy(d + 3 * Rows64, cp.G3 + kb, bytes);
            }
            return;
        }
        int w = (int)(d >> 2);
        const int Words64 = (int)(Rows64 >> 2);
        EmulatedChunk<T>(sh, w, x, cp.E0 + kk, bytes, rem);
        EmulatedChunk<T>(sh, w + Words64, x, cp.E1 + kk, bytes, rem);
        if (tile == 256)
        {
            EmulatedChunk<T>(sh, w + 2 * Words64, x, cp.E2 + kk, bytes, rem);
            EmulatedChunk<T>(sh, w + 3 * Words64, x, cp.E3 + kk, bytes, rem);
        }
    }
}
