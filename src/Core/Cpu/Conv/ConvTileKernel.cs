using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ember.Cpu;

/// <summary>The number of output channels one direct-convolution tile computes (a compile-time constant per instantiation).</summary>
internal interface IConvRows
{
    /// <summary>Output channels of the tile, 1 to <see cref="ConvTileKernel.MaxRows"/>.</summary>
    static abstract int Rows { get; }
}

internal readonly struct ConvRows1 : IConvRows { public static int Rows => 1; }
internal readonly struct ConvRows2 : IConvRows { public static int Rows => 2; }
internal readonly struct ConvRows3 : IConvRows { public static int Rows => 3; }
internal readonly struct ConvRows4 : IConvRows { public static int Rows => 4; }
internal readonly struct ConvRows5 : IConvRows { public static int Rows => 5; }
internal readonly struct ConvRows6 : IConvRows { public static int Rows => 6; }
internal readonly struct ConvRows7 : IConvRows { public static int Rows => 7; }
internal readonly struct ConvRows8 : IConvRows { public static int Rows => 8; }
internal readonly struct ConvRows9 : IConvRows { public static int Rows => 9; }
internal readonly struct ConvRows10 : IConvRows { public static int Rows => 10; }
internal readonly struct ConvRows11 : IConvRows { public static int Rows => 11; }
internal readonly struct ConvRows12 : IConvRows { public static int Rows => 12; }
internal readonly struct ConvRows13 : IConvRows { public static int Rows => 13; }
internal readonly struct ConvRows14 : IConvRows { public static int Rows => 14; }

/// <summary>
/// The direct-convolution micro-kernel (AVX-512, float): a tile of up to 14 output channels by 32 output positions,
/// one zmm accumulator per channel and 16 positions (28 of the 32 registers), the GEMM micro-kernel's shape with the
/// B panel read straight from a zero-padded input plane instead of packed im2col columns.
/// </summary>
/// <remarks>
/// For stride 1 and dilation 1 the 16 outputs (oy, ox … ox + 15) of channel o need, for reduction index
/// k = (c, ki, kj), the inputs xpad[c, oy + ki, ox + kj … ox + kj + 15]: 16 consecutive floats of the padded plane.
/// With <c>offsets[k] = (c·Hp + ki)·Wp + kj</c> the kernel loads them from <c>x + offsets[k]</c>, where x points at
/// padded position (oy, ox). A tile's 32 positions are two such runs of 16 (x0, x1), which may lie on different rows.
/// </remarks>
internal static unsafe class ConvTileKernel
{
    /// <summary>Most output channels per tile.</summary>
    public const int MaxRows = 14;

    /// <summary>Positions per tile (two runs of 16).</summary>
    public const int Columns = 32;

    /// <summary>
    /// y[r, 0..32) = bias[r] + Σ_p w[p·rows + r] · (x0[offsets[p] + 0..16) ‖ x1[offsets[p] + 0..16)) for r &lt; rows.
    /// Row r of y starts at y + r·ldy; when <paramref name="both"/> is false only the first 16 columns are stored.
    /// </summary>
    public static void Run(int rows, int k, float* w, float* x0, float* x1, int* offsets, float* bias, float* y, long ldy, bool both)
    {
        switch (rows)
        {
            case 1: Tile<ConvRows1>(k, w, x0, x1, offsets, bias, y, ldy, both); break;
            case 2: Tile<ConvRows2>(k, w, x0, x1, offsets, bias, y, ldy, both); break;
            case 3: Tile<ConvRows3>(k, w, x0, x1, offsets, bias, y, ldy, both); break;
            case 4: Tile<ConvRows4>(k, w, x0, x1, offsets, bias, y, ldy, both); break;
            case 5: Tile<ConvRows5>(k, w, x0, x1, offsets, bias, y, ldy, both); break;
            case 6: Tile<ConvRows6>(k, w, x0, x1, offsets, bias, y, ldy, both); break;
            case 7: Tile<ConvRows7>(k, w, x0, x1, offsets, bias, y, ldy, both); break;
            case 8: Tile<ConvRows8>(k, w, x0, x1, offsets, bias, y, ldy, both); break;
            case 9: Tile<ConvRows9>(k, w, x0, x1, offsets, bias, y, ldy, both); break;
            case 10: Tile<ConvRows10>(k, w, x0, x1, offsets, bias, y, ldy, both); break;
            case 11: Tile<ConvRows11>(k, w, x0, x1, offsets, bias, y, ldy, both); break;
            case 12: Tile<ConvRows12>(k, w, x0, x1, offsets, bias, y, ldy, both); break;
            case 13: Tile<ConvRows13>(k, w, x0, x1, offsets, bias, y, ldy, both); break;
            case 14: Tile<ConvRows14>(k, w, x0, x1, offsets, bias, y, ldy, both); break;
            default: throw new ArgumentOutOfRangeException(nameof(rows), rows, "ConvTileKernel: 1 to 14 rows.");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TR>(int k, float* w, float* x0, float* x1, int* offsets, float* bias, float* y, long ldy, bool both)
        where TR : struct, IConvRows
    {
        Vector512<float> a0 = Vector512<float>.Zero, b0 = Vector512<float>.Zero,
            a1 = Vector512<float>.Zero, b1 = Vector512<float>.Zero,
            a2 = Vector512<float>.Zero, b2 = Vector512<float>.Zero,
            a3 = Vector512<float>.Zero, b3 = Vector512<float>.Zero,
            a4 = Vector512<float>.Zero, b4 = Vector512<float>.Zero,
            a5 = Vector512<float>.Zero, b5 = Vector512<float>.Zero,
            a6 = Vector512<float>.Zero, b6 = Vector512<float>.Zero,
            a7 = Vector512<float>.Zero, b7 = Vector512<float>.Zero,
            a8 = Vector512<float>.Zero, b8 = Vector512<float>.Zero,
            a9 = Vector512<float>.Zero, b9 = Vector512<float>.Zero,
            a10 = Vector512<float>.Zero, b10 = Vector512<float>.Zero,
            a11 = Vector512<float>.Zero, b11 = Vector512<float>.Zero,
            a12 = Vector512<float>.Zero, b12 = Vector512<float>.Zero,
            a13 = Vector512<float>.Zero, b13 = Vector512<float>.Zero;
        // Accumulators start at the bias, so y = bias + Σ in one pass (as the im2col path's GEMM accumulates onto it).
        { a0 = Vector512.Create(bias[0]); b0 = a0; }
        if (TR.Rows > 1) { a1 = Vector512.Create(bias[1]); b1 = a1; }
        if (TR.Rows > 2) { a2 = Vector512.Create(bias[2]); b2 = a2; }
        if (TR.Rows > 3) { a3 = Vector512.Create(bias[3]); b3 = a3; }
        if (TR.Rows > 4) { a4 = Vector512.Create(bias[4]); b4 = a4; }
        if (TR.Rows > 5) { a5 = Vector512.Create(bias[5]); b5 = a5; }
        if (TR.Rows > 6) { a6 = Vector512.Create(bias[6]); b6 = a6; }
        if (TR.Rows > 7) { a7 = Vector512.Create(bias[7]); b7 = a7; }
        if (TR.Rows > 8) { a8 = Vector512.Create(bias[8]); b8 = a8; }
        if (TR.Rows > 9) { a9 = Vector512.Create(bias[9]); b9 = a9; }
        if (TR.Rows > 10) { a10 = Vector512.Create(bias[10]); b10 = a10; }
        if (TR.Rows > 11) { a11 = Vector512.Create(bias[11]); b11 = a11; }
        if (TR.Rows > 12) { a12 = Vector512.Create(bias[12]); b12 = a12; }
        if (TR.Rows > 13) { a13 = Vector512.Create(bias[13]); b13 = a13; }
        for (int p = 0; p < k; p++)
        {
            int off = offsets[p];
            Vector512<float> v0 = Vector512.Load(x0 + off);
            Vector512<float> v1 = Vector512.Load(x1 + off);
            { Vector512<float> s = Vector512.Create(w[0]); a0 = Vector512.FusedMultiplyAdd(s, v0, a0); b0 = Vector512.FusedMultiplyAdd(s, v1, b0); }
            if (TR.Rows > 1) { Vector512<float> s = Vector512.Create(w[1]); a1 = Vector512.FusedMultiplyAdd(s, v0, a1); b1 = Vector512.FusedMultiplyAdd(s, v1, b1); }
            if (TR.Rows > 2) { Vector512<float> s = Vector512.Create(w[2]); a2 = Vector512.FusedMultiplyAdd(s, v0, a2); b2 = Vector512.FusedMultiplyAdd(s, v1, b2); }
            if (TR.Rows > 3) { Vector512<float> s = Vector512.Create(w[3]); a3 = Vector512.FusedMultiplyAdd(s, v0, a3); b3 = Vector512.FusedMultiplyAdd(s, v1, b3); }
            if (TR.Rows > 4) { Vector512<float> s = Vector512.Create(w[4]); a4 = Vector512.FusedMultiplyAdd(s, v0, a4); b4 = Vector512.FusedMultiplyAdd(s, v1, b4); }
            if (TR.Rows > 5) { Vector512<float> s = Vector512.Create(w[5]); a5 = Vector512.FusedMultiplyAdd(s, v0, a5); b5 = Vector512.FusedMultiplyAdd(s, v1, b5); }
            if (TR.Rows > 6) { Vector512<float> s = Vector512.Create(w[6]); a6 = Vector512.FusedMultiplyAdd(s, v0, a6); b6 = Vector512.FusedMultiplyAdd(s, v1, b6); }
            if (TR.Rows > 7) { Vector512<float> s = Vector512.Create(w[7]); a7 = Vector512.FusedMultiplyAdd(s, v0, a7); b7 = Vector512.FusedMultiplyAdd(s, v1, b7); }
            if (TR.Rows > 8) { Vector512<float> s = Vector512.Create(w[8]); a8 = Vector512.FusedMultiplyAdd(s, v0, a8); b8 = Vector512.FusedMultiplyAdd(s, v1, b8); }
            if (TR.Rows > 9) { Vector512<float> s = Vector512.Create(w[9]); a9 = Vector512.FusedMultiplyAdd(s, v0, a9); b9 = Vector512.FusedMultiplyAdd(s, v1, b9); }
            if (TR.Rows > 10) { Vector512<float> s = Vector512.Create(w[10]); a10 = Vector512.FusedMultiplyAdd(s, v0, a10); b10 = Vector512.FusedMultiplyAdd(s, v1, b10); }
            if (TR.Rows > 11) { Vector512<float> s = Vector512.Create(w[11]); a11 = Vector512.FusedMultiplyAdd(s, v0, a11); b11 = Vector512.FusedMultiplyAdd(s, v1, b11); }
            if (TR.Rows > 12) { Vector512<float> s = Vector512.Create(w[12]); a12 = Vector512.FusedMultiplyAdd(s, v0, a12); b12 = Vector512.FusedMultiplyAdd(s, v1, b12); }
            if (TR.Rows > 13) { Vector512<float> s = Vector512.Create(w[13]); a13 = Vector512.FusedMultiplyAdd(s, v0, a13); b13 = Vector512.FusedMultiplyAdd(s, v1, b13); }
            w += TR.Rows;
        }
        Store(y + 0 * ldy, a0, b0, both);
        if (TR.Rows > 1) Store(y + 1 * ldy, a1, b1, both);
        if (TR.Rows > 2) Store(y + 2 * ldy, a2, b2, both);
        if (TR.Rows > 3) Store(y + 3 * ldy, a3, b3, both);
        if (TR.Rows > 4) Store(y + 4 * ldy, a4, b4, both);
        if (TR.Rows > 5) Store(y + 5 * ldy, a5, b5, both);
        if (TR.Rows > 6) Store(y + 6 * ldy, a6, b6, both);
        if (TR.Rows > 7) Store(y + 7 * ldy, a7, b7, both);
        if (TR.Rows > 8) Store(y + 8 * ldy, a8, b8, both);
        if (TR.Rows > 9) Store(y + 9 * ldy, a9, b9, both);
        if (TR.Rows > 10) Store(y + 10 * ldy, a10, b10, both);
        if (TR.Rows > 11) Store(y + 11 * ldy, a11, b11, both);
        if (TR.Rows > 12) Store(y + 12 * ldy, a12, b12, both);
        if (TR.Rows > 13) Store(y + 13 * ldy, a13, b13, both);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* y, Vector512<float> a, Vector512<float> b, bool both)
    {
        Vector512.Store(a, y);
        if (both) Vector512.Store(b, y + 16);
    }
}
