using ILGPU;
using ILGPU.Runtime;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// A convolution's weight and bias gradient for few outputs (a network's first layer: O·(C·kH·kW + 1) ≤
/// <see cref="MaxOutputs"/>), straight from x and the output gradient, in two launches: no im2col, no copy of the
/// gradient, no GEMM. Such a layer's gradient is a product with M = O and N = C·kH·kW tiny and K = N·OH·OW huge (32 × 27 ×
/// 65,536 for a CIFAR-sized batch), which a tiled GEMM covers with mostly empty tiles and a split over K.
/// <para>
/// With R = C·kH·kW window rows, gradient j = o·(R + 1) + r is Σ_positions grad[o, position]·window[r, position], where
/// window row R is all ones (the bias gradient Σ grad[o, ·]). Group b of <see cref="Partial{TS, S}"/> sums tiles b,
/// b + parts, … of <c>tile</c> positions (positions = samples·OH·OW in order): it stages the tile's O gradient rows and
/// R window rows in shared memory as float32, and thread t adds gradients t, t + group, … over the tile into a shared
/// float32 accumulator that only it touches. <see cref="Finish{TS, S}"/> adds the groups' partial sums in group order
/// and rounds once. Every sum runs in a fixed order, so results do not depend on timing.
/// </para>
/// </summary>
internal static class ConvWeightGradKernels
{
    /// <summary>Float32 elements of the staged tile: (O + R + 1)·tile ≤ this.</summary>
    public const int TileFloats = 8192;

    /// <summary>At most this many gradients (O·(R + 1)), each with one shared float32 accumulator.</summary>
    public const int MaxOutputs = 1024;

    /// <summary>At most this many positions per tile (the per-position offsets are staged in shared memory).</summary>
    public const int MaxTile = 256;

    /// <summary>
    /// Group b (of <c>parts</c>, any group size): partials[b·outputs + j] = the float32 sum of gradient j over tiles b,
    /// b + parts, … of <paramref name="tile"/> positions, with outputs = O·(R + 1). x is contiguous [N, C, H, W] from
    /// <paramref name="xo"/>, grad contiguous [N, O, OH, OW] from <paramref name="go"/>.
    /// </summary>
    public static void Partial<TS, S>(ArrayView<TS> x, ArrayView<TS> grad, ArrayView<float> partials, Geo g, long xo, long go,
        int o, int tile, int parts)
        where TS : unmanaged where S : struct, IElementStorage<TS, float>
    {
        var sh = SharedMemory.Allocate<float>(TileFloats);
        var acc = SharedMemory.Allocate<float>(MaxOutputs);
        var xBase = SharedMemory.Allocate<long>(MaxTile);   // the position's sample in x, or −1 past the last position
        var gBase = SharedMemory.Allocate<long>(MaxTile);   // the position's element of grad's channel 0
        var h0 = SharedMemory.Allocate<int>(MaxTile);
        var w0 = SharedMemory.Allocate<int>(MaxTile);
        int t = Group.IdxX, gs = Group.DimX, b = Grid.IdxX;
        int kk = g.KH * g.KW, r = g.C * kk, outputs = o * (r + 1), rows = o + r;
        int l = g.OH * g.OW;
        long positions = (long)g.N * l, plane = (long)g.C * g.H * g.W, gradPlane = (long)o * l;
        for (int j = t; j < outputs; j += gs) acc[j] = 0f;
        // The ones row: the bias gradient's "window"; positions past the end have zero gradients, so it stays 1.
        for (int p = t; p < tile; p += gs) sh[rows * tile + p] = 1f;
        for (long first = (long)b * tile; first < positions; first += (long)parts * tile)
        {
            for (int p = t; p < tile; p += gs)
            {
                long pos = first + p;
                if (pos < positions)
                {
                    long n = pos / l;
                    int rem = (int)(pos - n * l), oh = rem / g.OW, ow = rem - oh * g.OW;
                    xBase[p] = xo + n * plane;
                    gBase[p] = go + n * gradPlane + rem;
                    h0[p] = oh * g.SH - g.PH;
                    w0[p] = ow * g.SW - g.PW;
                }
                else xBase[p] = -1;
            }
            // Also: every thread is done reading the previous tile's rows.
            Group.Barrier();
            for (int e = t; e < rows * tile; e += gs)
            {
                int row = e / tile, p = e - row * tile;
                float v = 0f;
                long xb = xBase[p];
                if (xb >= 0)
                {
                    if (row < o) v = S.Load(grad[gBase[p] + (long)row * l]);
                    else
                    {
                        int wr = row - o, c = wr / kk, k = wr - c * kk, kh = k / g.KW, kw = k - kh * g.KW;
                        int h = h0[p] + kh * g.DH, w = w0[p] + kw * g.DW;
                        if (h >= 0 && h < g.H && w >= 0 && w < g.W) v = S.Load(x[xb + ((long)c * g.H + h) * g.W + w]);
                    }
                }
                sh[e] = v;
            }
            Group.Barrier();
            for (int j = t; j < outputs; j += gs)
            {
                int oi = j / (r + 1), wr = j - oi * (r + 1);
                int gRow = oi * tile, wRow = (o + wr) * tile;
                float s = 0f;
                for (int p = 0; p < tile; p++) s += sh[gRow + p] * sh[wRow + p];
                acc[j] += s;
            }
        }
        Group.Barrier();
        for (int j = t; j < outputs; j += gs) partials[(long)b * outputs + j] = acc[j];
    }

    /// <summary>
    /// Thread j &lt; outputs = O·(R + 1): the sum of partials[b·outputs + j] over b = 0 … parts − 1 in order, rounded once into
    /// gradWeight[o·R + r] (r &lt; R) or, where <paramref name="hasBias"/> is 1, gradBias[o] (r = R). Both contiguous
    /// from element 0 of their views.
    /// </summary>
    public static void Finish<TS, S>(Index1D j, ArrayView<float> partials, ArrayView<TS> gradWeight, ArrayView<TS> gradBias,
        int r, int outputs, int parts, int hasBias)
        where TS : unmanaged where S : struct, IElementStorage<TS, float>
    {
        float s = 0f;
        for (int b = 0; b < parts; b++) s += partials[(long)b * outputs + j];
        int oi = j / (r + 1), wr = j - oi * (r + 1);
        if (wr < r) gradWeight[(long)oi * r + wr] = S.Store(s);
        else if (hasBias != 0) gradBias[oi] = S.Store(s);
    }

    /// <summary>
    /// Positions per tile for O output channels and R window rows: the most that fit <see cref="TileFloats"/> with
    /// the ones row, at most <see cref="MaxTile"/>, and ≡ 1 (mod 32) so that the 32 lanes reading one position of
    /// consecutive window rows hit 32 different shared-memory banks. 0 when the kernel does not apply (fewer than 33
    /// positions would fit, or more than <see cref="MaxOutputs"/> gradients).
    /// </summary>
    public static int Tile(long o, long r)
    {
        if (o * (r + 1) > MaxOutputs) return 0;
        long fit = Math.Min(MaxTile, TileFloats / (o + r + 1));
        return fit < 33 ? 0 : (int)((fit - 1) / 32 * 32 + 1);
    }
}
