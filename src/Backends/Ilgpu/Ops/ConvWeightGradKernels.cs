using System.Runtime.CompilerServices;
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
/// R window rows in shared memory as float32, and each thread adds 2 × 2 blocks of gradients (two channels by two window
/// rows) over the tile into shared float32 accumulators that only it touches. <see cref="Finish{TS, S}"/> adds the
/// groups' partial sums (a warp per gradient) and rounds once. Every sum runs in a fixed order, so results do not depend
/// on timing.
/// </para>
/// </summary>
internal static class ConvWeightGradKernels
{
    /// <summary>Float32 elements of the staged tile: (O + R + 2)·(tile + 1) ≤ this (with the ones and zeros rows).</summary>
    public const int TileFloats = 8192;

    /// <summary>At most this many gradients (O·(R + 1)), each with one shared float32 accumulator.</summary>
    public const int MaxOutputs = 1024;

    /// <summary>At most this many positions per tile (the per-position offsets are staged in shared memory).</summary>
    public const int MaxTile = 256;

    /// <summary>
    /// Group b (of <c>parts</c>, any group size): partials[b·outputs + j] = the float32 sum of gradient j over tiles b,
    /// b + parts, … of <paramref name="tile"/> positions (a power of two), with outputs = O·(R + 1). x is contiguous
    /// [N, C, H, W] from <paramref name="xo"/>, grad contiguous [N, O, OH, OW] from <paramref name="go"/>.
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
        // Rows tile + 1 floats apart: the lanes of a warp read one position of consecutive rows, and an odd row stride
        // puts those 32 reads in 32 different shared-memory banks.
        int stride = tile + 1;
        long l = (long)g.OH * g.OW, positions = g.N * l;
        for (int j = t; j < outputs; j += gs) acc[j] = 0f;
        // The ones row: the bias gradient's "window"; positions past the end have zero gradients, so it stays 1. After
        // it a row of zeros, which stands in for the rows past the last in a thread's 2 × 2 block.
        for (int p = t; p < tile; p += gs)
        {
            sh[rows * stride + p] = 1f;
            sh[(rows + 1) * stride + p] = 0f;
        }
        // Thread t owns the 2 × 2 blocks q = t, t + group, … of gradients: channels 2·(q / rBlocks) + {0, 1} by window
        // rows 2·(q % rBlocks) + {0, 1} (the ones row included): four loads per four multiply-adds instead of eight.
        int rBlocks = (r + 2) / 2, blocks = (o + 1) / 2 * rBlocks, zero = rows + 1;
        // Staging: `lanes` threads per row (one position each, or several when the group is smaller than the tile),
        // `rowStep` rows at once; four rows per pass, their reads issued before their stores.
        int lanes = gs < tile ? gs : tile, rowStep = gs / lanes, tp = t % lanes, tr = t / lanes;
        for (long first = (long)b * tile; first < positions; first += (long)parts * tile)
        {
            for (int p = t; p < tile; p += gs)
            {
                long pos = first + p;
                if (pos < positions)
                {
                    long n = pos / l;
                    int rem = (int)(pos - n * l), oh = rem / g.OW, ow = rem - oh * g.OW;
                    xBase[p] = xo + n * g.C * (long)g.H * g.W;
                    gBase[p] = go + n * o * l + rem;
                    h0[p] = oh * g.SH - g.PH;
                    w0[p] = ow * g.SW - g.PW;
                }
                else xBase[p] = -1;
            }
            // Also: every thread is done reading the previous tile's rows.
            Group.Barrier();
            if (tr < rowStep)
            {
                for (int row = tr; row < rows; row += 4 * rowStep)
                {
                    for (int p = tp; p < tile; p += lanes)
                    {
                        // The position's offsets, read once for its four rows.
                        long xb = xBase[p], gb = gBase[p];
                        int hs = h0[p], ws = w0[p];
                        float v0 = Value<TS, S>(x, grad, g, row, o, l, xb, gb, hs, ws, rows);
                        float v1 = Value<TS, S>(x, grad, g, row + rowStep, o, l, xb, gb, hs, ws, rows);
                        float v2 = Value<TS, S>(x, grad, g, row + 2 * rowStep, o, l, xb, gb, hs, ws, rows);
                        float v3 = Value<TS, S>(x, grad, g, row + 3 * rowStep, o, l, xb, gb, hs, ws, rows);
                        sh[row * stride + p] = v0;
                        if (row + rowStep < rows) sh[(row + rowStep) * stride + p] = v1;
                        if (row + 2 * rowStep < rows) sh[(row + 2 * rowStep) * stride + p] = v2;
                        if (row + 3 * rowStep < rows) sh[(row + 3 * rowStep) * stride + p] = v3;
                    }
                }
            }
            Group.Barrier();
            for (int q = t; q < blocks; q += gs)
            {
                int qo = q / rBlocks, o0 = 2 * qo, r0 = 2 * (q - qo * rBlocks);
                int g0 = o0 * stride, g1 = (o0 + 1 < o ? o0 + 1 : zero) * stride;
                int v0 = (o + r0) * stride, v1 = (r0 + 1 <= r ? o + r0 + 1 : zero) * stride;
                float s00 = 0f, s01 = 0f, s10 = 0f, s11 = 0f;
                for (int p = 0; p < tile; p++)
                {
                    float a0 = sh[g0 + p], a1 = sh[g1 + p], b0 = sh[v0 + p], b1 = sh[v1 + p];
                    s00 += a0 * b0;
                    s01 += a0 * b1;
                    s10 += a1 * b0;
                    s11 += a1 * b1;
                }
                int j = o0 * (r + 1) + r0;
                acc[j] += s00;
                if (r0 + 1 <= r) acc[j + 1] += s01;
                if (o0 + 1 < o)
                {
                    acc[j + r + 1] += s10;
                    if (r0 + 1 <= r) acc[j + r + 2] += s11;
                }
            }
        }
        Group.Barrier();
        for (int j = t; j < outputs; j += gs) partials[(long)b * outputs + j] = acc[j];
    }

    // Staged row `row` at a position whose sample starts at xb in x (−1: past the last position), whose grad element of
    // channel 0 is gb and whose window starts at (hs, ws): grad channel row (row < O), window row row − O (zero outside
    // the padded input), 0 for a position past the end or a row past the last.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Value<TS, S>(ArrayView<TS> x, ArrayView<TS> grad, Geo g, int row, int o, long l, long xb, long gb, int hs, int ws, int rows)
        where TS : unmanaged where S : struct, IElementStorage<TS, float>
    {
        if (xb < 0 || row >= rows) return 0f;
        if (row < o) return S.Load(grad[gb + row * l]);
        int kk = g.KH * g.KW, wr = row - o, c = wr / kk, k = wr - c * kk, kh = k / g.KW, kw = k - kh * g.KW;
        int h = hs + kh * g.DH, w = ws + kw * g.DW;
        return h >= 0 && h < g.H && w >= 0 && w < g.W ? S.Load(x[xb + ((long)c * g.H + h) * g.W + w]) : 0f;
    }

    /// <summary>
    /// Warp w of group b: gradient j = b·(warps per group) + w (none past the last). Lane l adds partials[p·outputs + j]
    /// for p = l, l + 32, … in order (eight reads in flight, <see cref="StridedSum"/>), then the lanes' sums meet in a
    /// butterfly of shuffles (the same order every run); the total is rounded once into gradWeight[o·R + r] (r &lt; R) or,
    /// where <paramref name="hasBias"/> is 1, gradBias[o] (r = R). Both contiguous from element 0 of their views. A warp
    /// per gradient instead of a thread: one thread reading ~500 partials in turn took ~200 µs on an H100.
    /// </summary>
    public static void Finish<TS, S>(ArrayView<float> partials, ArrayView<TS> gradWeight, ArrayView<TS> gradBias,
        int r, int outputs, int parts, int hasBias)
        where TS : unmanaged where S : struct, IElementStorage<TS, float>
    {
        int ws = Warp.WarpSize, lane = Warp.LaneIdx;
        int j = Grid.IdxX * (Group.DimX / ws) + Group.IdxX / ws;
        int count = j < outputs && lane < parts ? (parts - lane + ws - 1) / ws : 0;
        float s = StridedSum.Floats(partials, (long)lane * outputs + j, (long)ws * outputs, count);
        for (int off = ws / 2; off > 0; off >>= 1) s += Warp.ShuffleXor(s, off);
        if (lane != 0 || j >= outputs) return;
        int oi = j / (r + 1), wr = j - oi * (r + 1);
        if (wr < r) gradWeight[(long)oi * r + wr] = S.Store(s);
        else if (hasBias != 0) gradBias[oi] = S.Store(s);
    }

    /// <summary>
    /// Positions per tile for O output channels and R window rows: the largest power of two from 32 to
    /// <see cref="MaxTile"/> whose rows (O + R + 2 of them, tile + 1 floats apart) fit <see cref="TileFloats"/>. 0 when
    /// the kernel does not apply (not even 32 positions fit, or more than <see cref="MaxOutputs"/> gradients).
    /// </summary>
    public static int Tile(long o, long r)
    {
        if (o * (r + 1) > MaxOutputs) return 0;
        for (int tile = MaxTile; tile >= 32; tile /= 2)
            if ((o + r + 2) * (tile + 1) <= TileFloats) return tile;
        return 0;
    }
}
