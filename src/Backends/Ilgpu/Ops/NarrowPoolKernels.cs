using ILGPU;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// Max pooling of Float16/BFloat16 storage in one launch: <see cref="ConvPoolKernels.MaxPool{T, R}"/>'s window scan on
/// the exact float32 values of the 16-bit elements, so the maximum and its index are those of the float32 kernel
/// between two conversions (the former path), and the result is rounded back exactly.
/// </summary>
internal static class NarrowPoolKernels
{
    /// <summary>Thread i handles output i: the maximum of its window (NaN wins, the first one on ties) and its index.</summary>
    public static void MaxPool<TN>(Index1D i, ArrayView<ushort> x, ArrayView<ushort> y, ArrayView<long> idx, Geo g, TensorOffsets o)
        where TN : struct, INarrow
    {
        long t = i;
        int ow = (int)(t % g.OW); t /= g.OW;
        int oh = (int)(t % g.OH); t /= g.OH;
        long nc = t;
        int hs = oh * g.SH - g.PH, ws = ow * g.SW - g.PW;
        float best = F32.NegInf();
        long bi = -1;
        for (int kh = 0; kh < g.KH; kh++)
        {
            int h = hs + kh;
            if (h < 0 || h >= g.H) continue;
            for (int kw = 0; kw < g.KW; kw++)
            {
                int w = ws + kw;
                if (w < 0 || w >= g.W) continue;
                float v = TN.ToF(x[o.A + (nc * g.H + h) * g.W + w]);
                if (bi < 0 || F32.Lt(best, v) || (F32.IsNaN(v) && !F32.IsNaN(best))) { best = v; bi = (long)h * g.W + w; }
            }
        }
        // Exact for every value (it is one of the inputs); a NaN comes out quiet, as the conversion kernel makes it.
        y[o.B + i] = TN.FromF(best);
        idx[o.C + i] = bi < 0 ? 0 : bi;
    }
}
