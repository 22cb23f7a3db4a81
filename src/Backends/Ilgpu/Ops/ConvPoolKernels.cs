using ILGPU;
using ILGPU.Algorithms;

namespace Ember.Ilgpu.Ops;

/// <summary>Convolution / pooling geometry passed to kernels (NC = batch · channels for pooling).</summary>
internal struct Geo
{
    public int N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW;
}

/// <summary>im2col / col2im (gather form, no atomics) and 2-D pooling over contiguous NCHW tensors.</summary>
internal static class ConvPoolKernels
{
    /// <summary>Thread i writes columns element i of [N, C·kH·kW, OH·OW]; x at xo, columns at co.</summary>
    public static void Im2Col<T>(Index1D i, ArrayView<T> x, ArrayView<T> col, Geo g, long xo, long co) where T : unmanaged
    {
        int t = i;     // 32-bit index arithmetic: launches hold fewer than 2^31 elements
        int q = t / g.OW, ow = t - q * g.OW; t = q;
        q = t / g.OH; int oh = t - q * g.OH; t = q;
        q = t / g.KW; int kw = t - q * g.KW; t = q;
        q = t / g.KH; int kh = t - q * g.KH; t = q;
        long nc = t;   // n·C + c
        int h = oh * g.SH - g.PH + kh * g.DH, w = ow * g.SW - g.PW + kw * g.DW;
        col[co + i] = h >= 0 && h < g.H && w >= 0 && w < g.W ? x[xo + (nc * g.H + h) * g.W + w] : default;
    }

    /// <summary>
    /// Thread i writes element i of the window rows [C·kH·kW, N·OH·OW] (im2col with the samples inside each row, so that
    /// the weight gradient of a chunk of samples is one GEMM over K = N·OH·OW); x at xo, columns at co.
    /// </summary>
    public static void Im2ColRows<T>(Index1D i, ArrayView<T> x, ArrayView<T> col, Geo g, long xo, long co) where T : unmanaged
    {
        int t = i;     // 32-bit index arithmetic: launches hold fewer than 2^31 elements
        int q = t / g.OW, ow = t - q * g.OW; t = q;
        q = t / g.OH; int oh = t - q * g.OH; t = q;
        q = t / g.N; int s = t - q * g.N; t = q;
        q = t / g.KW; int kw = t - q * g.KW; t = q;
        q = t / g.KH; int kh = t - q * g.KH; t = q;
        long c = t;
        int h = oh * g.SH - g.PH + kh * g.DH, w = ow * g.SW - g.PW + kw * g.DW;
        col[co + i] = h >= 0 && h < g.H && w >= 0 && w < g.W ? x[xo + ((s * (long)g.C + c) * g.H + h) * g.W + w] : default;
    }

    /// <summary>
    /// Thread i computes x element i of [N, C, H, W] as the sum of every column entry that reads it (16-bit storage:
    /// summed in float32, rounded once).
    /// </summary>
    public static void Col2Im<TS, T, R, S>(Index1D i, ArrayView<TS> col, ArrayView<TS> x, Geo g, long co, long xo)
        where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T>
    {
        int t = i;
        int q = t / g.W, w = t - q * g.W; t = q;
        q = t / g.H; int h = t - q * g.H; t = q;
        long nc = t;
        long l = (long)g.OH * g.OW;
        T sum = R.FromD(0.0);
        for (int kh = 0; kh < g.KH; kh++)
        {
            int hh = h + g.PH - kh * g.DH;
            if (hh < 0 || hh % g.SH != 0) continue;
            int oh = hh / g.SH;
            if (oh >= g.OH) continue;
            for (int kw = 0; kw < g.KW; kw++)
            {
                int ww = w + g.PW - kw * g.DW;
                if (ww < 0 || ww % g.SW != 0) continue;
                int ow = ww / g.SW;
                if (ow >= g.OW) continue;
                sum = R.Add(sum, S.Load(col[co + ((nc * g.KH + kh) * g.KW + kw) * l + (long)oh * g.OW + ow]));
            }
        }
        x[xo + i] = S.Store(sum);
    }

    /// <summary>Max pooling: thread i handles output i of [NC, OH, OW]; index = h·W + w of the first maximum (NaN wins).</summary>
    public static void MaxPool<T, R>(Index1D i, ArrayView<T> x, ArrayView<T> y, ArrayView<long> idx, Geo g, TensorOffsets o) where T : unmanaged where R : struct, IReal<T>
    {
        y[o.B + i] = MaxWindow<T, R, Elements<T>>(i, new Elements<T>(x), g, o.A, out long bi);
        idx[o.C + i] = bi;
    }

    /// <summary>The elements of a view as they are (<see cref="MaxWindow{T, R, TX}"/>'s source for float32/float64).</summary>
    public readonly struct Elements<T>(ArrayView<T> x) : IElementSource<T> where T : unmanaged
    {
        /// <inheritdoc/>
        public T At(long index) => x[index];
    }

    /// <summary>
    /// The maximum of output i's window (NaN wins, the first one on ties) and its index h·W + w in
    /// <paramref name="index"/> (0 for a window with no element inside the input); elements read from source at offset a.
    /// </summary>
    public static T MaxWindow<T, R, TX>(long i, TX source, Geo g, long a, out long index)
        where T : unmanaged where R : struct, IReal<T> where TX : struct, IElementSource<T>
    {
        long t = i;
        int ow = (int)(t % g.OW); t /= g.OW;
        int oh = (int)(t % g.OH); t /= g.OH;
        long nc = t;
        int hs = oh * g.SH - g.PH, ws = ow * g.SW - g.PW;
        T best = R.NegInf();
        long bi = -1;
        for (int kh = 0; kh < g.KH; kh++)
        {
            int h = hs + kh;
            if (h < 0 || h >= g.H) continue;
            for (int kw = 0; kw < g.KW; kw++)
            {
                int w = ws + kw;
                if (w < 0 || w >= g.W) continue;
                T v = source.At(a + (nc * g.H + h) * g.W + w);
                if (bi < 0 || R.Lt(best, v) || (R.IsNaN(v) && !R.IsNaN(best))) { best = v; bi = (long)h * g.W + w; }
            }
        }
        index = bi < 0 ? 0 : bi;
        return best;
    }

    /// <summary>Max-pool backward: gradInput (zeroed first) at o.C receives grad[i] at the saved index (atomic).</summary>
    public static void MaxPoolBackward<T, N>(Index1D i, ArrayView<T> grad, ArrayView<long> idx, ArrayView<T> gi, Geo g, TensorOffsets o) where T : unmanaged where N : struct, INum<T>
    {
        long nc = i / ((long)g.OH * g.OW);
        N.AtomicAdd(gi, o.C + nc * g.H * g.W + idx[o.B + i], grad[o.A + i]);
    }

    /// <summary>
    /// Max-pool backward for windows that do not overlap (stride ≥ kernel): thread i writes element i of the contiguous
    /// gradInput (at o.C): the gradient of the one window that holds it where that window's saved index points at it,
    /// else 0. One launch, with no zero fill and no atomics.
    /// </summary>
    public static void MaxPoolBackwardDisjoint<T, R>(Index1D i, ArrayView<T> grad, ArrayView<long> idx, ArrayView<T> gi, Geo g, TensorOffsets o)
        where T : unmanaged where R : struct, IReal<T>
    {
        long t = i;
        int w = (int)(t % g.W); t /= g.W;
        int h = (int)(t % g.H); t /= g.H;
        long nc = t;
        int hp = h + g.PH, wp = w + g.PW, oh = hp / g.SH, ow = wp / g.SW;
        T v = R.FromD(0.0);
        if (oh < g.OH && ow < g.OW && hp - oh * g.SH < g.KH && wp - ow * g.SW < g.KW)
        {
            long j = (nc * g.OH + oh) * g.OW + ow;
            // 0 + grad, as the scatter's sum onto the zeroed gradient: a −0 gradient lands as +0 on every path.
            if (idx[o.B + j] == (long)h * g.W + w) v = R.Add(v, grad[o.A + j]);
        }
        gi[o.C + i] = v;
    }

    /// <summary>The window [h0, h1) × [w0, w1) (clipped to the input) and PyTorch's divisor of output (oh, ow).</summary>
    private static long Window(Geo g, int oh, int ow, int countIncludePad, out int h0, out int h1, out int w0, out int w1)
    {
        h0 = oh * g.SH - g.PH; w0 = ow * g.SW - g.PW;
        h1 = h0 + g.KH; if (h1 > g.H + g.PH) h1 = g.H + g.PH;
        w1 = w0 + g.KW; if (w1 > g.W + g.PW) w1 = g.W + g.PW;
        long pool = (long)(h1 - h0) * (w1 - w0);
        if (h0 < 0) h0 = 0;
        if (w0 < 0) w0 = 0;
        if (h1 > g.H) h1 = g.H;
        if (w1 > g.W) w1 = g.W;
        return countIncludePad != 0 ? pool : (long)(h1 - h0) * (w1 - w0);
    }

    /// <summary>Average pooling: thread i handles output i; x at o.A, y at o.B.</summary>
    public static void AvgPool<T, R>(Index1D i, ArrayView<T> x, ArrayView<T> y, Geo g, TensorOffsets o, int countIncludePad) where T : unmanaged where R : struct, IReal<T>
    {
        long t = i;
        int ow = (int)(t % g.OW); t /= g.OW;
        int oh = (int)(t % g.OH); t /= g.OH;
        long nc = t;
        long div = Window(g, oh, ow, countIncludePad, out int h0, out int h1, out int w0, out int w1);
        T sum = R.FromD(0.0);
        for (int h = h0; h < h1; h++)
            for (int w = w0; w < w1; w++)
                sum = R.Add(sum, x[o.A + (nc * g.H + h) * g.W + w]);
        y[o.B + i] = R.Div(sum, R.FromL(div));
    }

    /// <summary>Average-pool backward: gradInput (zeroed first) at o.B receives grad[i] / divisor over the window (atomic).</summary>
    public static void AvgPoolBackward<T, R>(Index1D i, ArrayView<T> grad, ArrayView<T> gi, Geo g, TensorOffsets o, int countIncludePad) where T : unmanaged where R : struct, IReal<T>
    {
        long t = i;
        int ow = (int)(t % g.OW); t /= g.OW;
        int oh = (int)(t % g.OH); t /= g.OH;
        long nc = t;
        long div = Window(g, oh, ow, countIncludePad, out int h0, out int h1, out int w0, out int w1);
        T v = R.Div(grad[o.A + i], R.FromL(div));
        for (int h = h0; h < h1; h++)
            for (int w = w0; w < w1; w++)
                R.AtomicAdd(gi, o.B + (nc * g.H + h) * g.W + w, v);
    }
}

/// <summary>Where a kernel reads element values from (a plain view, or 16-bit storage widened to float32).</summary>
internal interface IElementSource<T> where T : unmanaged
{
    /// <summary>The value of element <paramref name="index"/>.</summary>
    T At(long index);
}
