using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ILGPU;

namespace Ember.Ilgpu;

/// <summary>
/// The scalars of one (batched) operand packing: a Rows×Depth operand (Depth = the GEMM's K) stored K-major
/// (element (r, k) at <c>r · Ld + k</c>) or R-major (at <c>k · Ld + r</c>) is copied to a K-major matrix with
/// leading dimension <see cref="LdOut"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PackParams
{
    /// <summary>Rows of the operand (M for A, N for B).</summary>
    public int Rows;
    /// <summary>Its K extent.</summary>
    public int Depth;
    /// <summary>Leading dimension of the source as stored.</summary>
    public int Ld;
    /// <summary>Leading dimension of the packed copy (a multiple of 16 bytes).</summary>
    public int LdOut;
    /// <summary>32×32 tiles along K (the grid's X index is tile row · TilesK + tile column).</summary>
    public int TilesK;
    /// <summary>Elements between batch entries of the source.</summary>
    public long SrcStride;
    /// <summary>Elements between batch entries of the packed copy.</summary>
    public long DstStride;
}

/// <summary>
/// Helper kernels of <see cref="IlgpuMmaGemm"/>: packing an operand K-major (so the tensor-core kernel reads it with
/// 16-byte loads), and summing split-K partial products into C.
/// </summary>
internal static class MmaPackKernels
{
    /// <summary>Side of the square tile one group packs.</summary>
    public const int Tile = 32;
    /// <summary>Threads per packing group (32 along the contiguous index × 8).</summary>
    public const int Threads = 256;
    private const int Stride = Tile + 1;   // shared row padding: the column reads of the transpose hit distinct banks

    /// <summary>
    /// Copies one 32×32 tile of a Rows×Depth operand (layout <typeparamref name="TL"/>) to the K-major packed copy, each
    /// element passed through <typeparamref name="TR"/> (a plain copy, or TF32 rounding).
    /// Launch with grid (ceil(Rows/32) · TilesK, 1, batch) and groups of 256 threads. R-major sources are transposed
    /// through shared memory so both the reads (along rows) and the writes (along K) are coalesced.
    /// </summary>
    public static void Pack<T, TL, TR>(PackParams p, ArrayView<T> src, ArrayView<T> dst)
        where T : unmanaged where TL : struct, IOperandLayout where TR : struct, IPackTransform<T>
    {
        int t = Group.IdxX;
        int tx = t & 31, ty = t >> 5;
        int tileR = Grid.IdxX / p.TilesK, tileK = Grid.IdxX - tileR * p.TilesK;
        int r0 = tileR * Tile, k0 = tileK * Tile;
        long sBase = Grid.IdxZ * p.SrcStride, dBase = Grid.IdxZ * p.DstStride;
        var tile = SharedMemory.Allocate<T>(Tile * Stride);   // tile[kk · Stride + rr]
        for (int j = 0; j < Tile; j += 8)
        {
            // Consecutive threads read consecutive addresses: along K for K-major sources, along rows otherwise.
            int kk = TL.KMajor() ? tx : ty + j, rr = TL.KMajor() ? ty + j : tx;
            int r = r0 + rr, k = k0 + kk;
            if (r < p.Rows && k < p.Depth)
                tile[kk * Stride + rr] = src[sBase + (TL.KMajor() ? (long)r * p.Ld + k : (long)k * p.Ld + r)];
        }
        Group.Barrier();
        for (int j = 0; j < Tile; j += 8)
        {
            int r = r0 + ty + j, k = k0 + tx;
            if (r < p.Rows && k < p.Depth) dst[dBase + (long)r * p.LdOut + k] = TR.Apply(tile[tx * Stride + ty + j]);
        }
    }

    /// <summary>
    /// Element i of C (row-major M×N, i = row · N + col): <c>alpha · Σ_s W[s][i] + beta · C</c>, rounded to the output
    /// type by <typeparamref name="T"/>. W holds <c>p.K</c> float32 partial products of M·N elements each (the split-K slabs).
    /// </summary>
    public static void SumSplits<T, TX>(Index1D i, GemmParams p, ArrayView<float> w, ArrayView<ushort> c)
        where T : struct, IMmaType where TX : struct, MmaKernels.IMmaPath
    {
        int row = i / p.N, col = i - row * p.N;
        long mn = (long)p.M * p.N;
        float acc = 0f;
        for (int s = 0; s < p.K; s++) acc += w[s * mn + i];
        T.Store<TX>(c, (long)row * p.Ldc + col, acc, p.Alpha, p.Beta);
    }

    /// <summary>Rounds <paramref name="x"/> up to a multiple of <paramref name="q"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RoundUp(int x, int q) => (x + q - 1) / q * q;
}

/// <summary>What <see cref="MmaPackKernels.Pack{T, TL, TR}"/> does to each element on its way to the packed copy.</summary>
internal interface IPackTransform<T> where T : unmanaged
{
    /// <summary>The packed element for source element <paramref name="x"/>.</summary>
    static abstract T Apply(T x);
}

/// <summary>A plain copy.</summary>
internal readonly struct PackCopy<T> : IPackTransform<T> where T : unmanaged
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply(T x) => x;
}

/// <summary>
/// float32 bits rounded to TF32 (<see cref="MmaMath.RoundTf32"/>: to nearest, ties to even, low 13 bits cleared), for
/// <see cref="MmaTf32Rounding.Packed"/>: the tensor core then reads the packed words exactly. A NaN is made quiet, so
/// that dropping its low 13 bits cannot turn it into Inf.
/// </summary>
internal readonly struct PackTf32 : IPackTransform<uint>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Apply(uint x) => (x & 0x7FFFFFFFu) > 0x7F800000u ? x | 0x00400000u : MmaMath.RoundTf32(x);
}
