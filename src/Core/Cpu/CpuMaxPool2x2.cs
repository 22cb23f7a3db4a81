using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ember.Cpu;

/// <summary>
/// The 2×2, stride-2, unpadded float32 max pool with AVX-512: 16 windows per step, branch-free (random data makes the
/// scalar compare chain mispredict about every other window). Same results as the scalar loop: the first NaN of the
/// window order (0, 0), (0, 1), (1, 0), (1, 1) wins, ties keep the first position.
/// </summary>
internal static unsafe class CpuMaxPool2x2
{
    /// <summary>Whether the vector kernels run on this machine.</summary>
    public static bool IsSupported => Avx512F.IsSupported;

    private static readonly Vector512<int> Evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    private static readonly Vector512<int> Odds = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    private static readonly Vector512<int> InterleaveLow = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    private static readonly Vector512<int> InterleaveHigh = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    private static readonly Vector512<long> LaneLo = Vector512.Create(0L, 2, 4, 6, 8, 10, 12, 14);
    private static readonly Vector512<int> TwiceLane = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14);

    /// <summary>
    /// Planes [planes, H, W] → y, idx [planes, OutH, OutW] with y = the window max and idx its flat position in the plane.
    /// Groups of 16 consecutive outputs are two runs of 8 windows: when OutW is a multiple of 8 and a plane holds a
    /// multiple of 16 outputs every output is covered (returns OutW); otherwise the groups that fit in each row are
    /// (returns OutW rounded down to 16) and the caller does the rest.
    /// </summary>
    public static int Forward(float[] x, long xo, float[] y, long[] idx, long yo, long io, long planes, int h, int w, int outH, int outW)
    {
        bool flat = outW % 8 == 0 && (long)outH * outW % 16 == 0;
        int vecCols = flat ? outW : outW / 16 * 16;
        if (vecCols == 0) return 0;
        CpuParallel.For(planes, (long)outH * outW * 4, (p0, count) =>
        {
            fixed (float* xp = x, yp = y)
            fixed (long* ip = idx)
            {
                for (long p = p0; p < p0 + count; p++)
                {
                    float* xb = xp + xo + p * h * w;
                    long ob = p * outH * outW;
                    if (flat)
                    {
                        for (int q = 0; q < outH * outW; q += 16)
                            Group(xb, w, Run(q, outW, w), Run(q + 8, outW, w), yp + yo + ob + q, ip + io + ob + q);
                        continue;
                    }
                    for (int oy = 0; oy < outH; oy++)
                        for (int ox = 0; ox < vecCols; ox += 16)
                        {
                            int first = 2 * oy * w + 2 * ox;
                            long o = ob + (long)oy * outW + ox;
                            Group(xb, w, first, first + 16, yp + yo + o, ip + io + o);
                        }
                }
            }
        });
        return vecCols;
    }

    // Flat input position of the top-left element of output q's window.
    private static int Run(int q, int outW, int w) => 2 * (q / outW) * w + 2 * (q % outW);

    // 16 windows: 8 whose top-left corners are at x + first0 + 2·i, 8 at x + first1 + 2·i (i < 8).
    private static void Group(float* xb, int w, int first0, int first1, float* y, long* idx)
    {
        Vector512<int> at = Argmax(xb, w, first0, first1, out Vector512<float> best);
        Vector512.Store(best, y);
        Vector512<int> flat = at + TwiceLane + Vector512.Create(Vector256.Create(first0), Vector256.Create(first1));
        var (lo, hi) = Vector512.Widen(flat);
        Vector512.Store(lo, idx);
        Vector512.Store(hi, idx + 8);
    }

    // Max and argmax of Group's 16 windows; the argmax as the offset inside the window: 0, 1, w or w + 1.
    private static Vector512<int> Argmax(float* xb, int w, int first0, int first1, out Vector512<float> best)
    {
        float* r0 = xb + first0, r1 = xb + first1;
        Vector512<float> a0 = Vector512.Load(r0), a1 = Vector512.Load(r1);
        Vector512<float> b0 = Vector512.Load(r0 + w), b1 = Vector512.Load(r1 + w);
        // Lanes 0–7 of an even/odd permute come from a0 (or b0), lanes 8–15 from a1 (or b1).
        best = Avx512F.PermuteVar16x32x2(a0, Evens, a1);
        Vector512<int> at = Vector512<int>.Zero;
        Step(ref best, ref at, Avx512F.PermuteVar16x32x2(a0, Odds, a1), Vector512.Create(1));
        Step(ref best, ref at, Avx512F.PermuteVar16x32x2(b0, Evens, b1), Vector512.Create(w));
        Step(ref best, ref at, Avx512F.PermuteVar16x32x2(b0, Odds, b1), Vector512.Create(w + 1));
        return at;
    }

    // Take v where it is larger or NaN, unless the best so far is already NaN (NaN propagates, the first one wins).
    private static void Step(ref Vector512<float> best, ref Vector512<int> at, Vector512<float> v, Vector512<int> offset)
    {
        Vector512<float> take = (Vector512.GreaterThan(v, best) | ~Vector512.Equals(v, v)) & Vector512.Equals(best, best);
        best = Vector512.ConditionalSelect(take, v, best);
        at = Vector512.ConditionalSelect(take.AsInt32(), offset, at);
    }

    /// <summary>
    /// gx [planes, 2·OutH, 2·OutW] = g scattered to the positions idx (from the index-writing <c>Forward</c> or the scalar loop: each
    /// index lies in its own window), every other element 0. Writes every element of gx (no clearing pass).
    /// </summary>
    public static void Backward(float[] g, long go, long[] idx, long io, float[] gx, long xo, long planes, int outH, int outW)
    {
        int w = 2 * outW;
        bool flat = outW % 8 == 0 && (long)outH * outW % 16 == 0;
        int vecCols = flat ? outW : outW / 16 * 16;
        CpuParallel.For(planes, (long)outH * outW * 4, (p0, count) =>
        {
            fixed (float* gp = g, xp = gx)
            fixed (long* ip = idx)
            {
                for (long p = p0; p < p0 + count; p++)
                {
                    float* xb = xp + xo + p * 4L * outH * outW;
                    long ob = p * outH * outW;
                    if (flat)
                    {
                        for (int q = 0; q < outH * outW; q += 16)
                            Scatter(xb, w, Run(q, outW, w), Run(q + 8, outW, w), gp + go + ob + q, ip + io + ob + q);
                        continue;
                    }
                    for (int oy = 0; oy < outH; oy++)
                    {
                        float* r0 = xb + 2L * oy * w, r1 = r0 + w;
                        int rowFlat = 2 * oy * w;
                        for (int ox = 0; ox < vecCols; ox += 16)
                        {
                            long o = ob + (long)oy * outW + ox;
                            Scatter(xb, w, rowFlat + 2 * ox, rowFlat + 2 * ox + 16, gp + go + o, ip + io + o);
                        }
                        for (int ox = vecCols; ox < outW; ox++)
                        {
                            long o = ob + (long)oy * outW + ox;
                            long at = ip[io + o] - (rowFlat + 2 * ox);
                            float v = gp[go + o];
                            r0[2 * ox] = at == 0 ? v : 0; r0[2 * ox + 1] = at == 1 ? v : 0;
                            r1[2 * ox] = at == w ? v : 0; r1[2 * ox + 1] = at == w + 1 ? v : 0;
                        }
                    }
                }
            }
        });
    }

    // The 16 windows of Group: each gets g at its argmax and 0 at its other three positions.
    private static void Scatter(float* xb, int w, int first0, int first1, float* g, long* idx)
    {
        // Position inside the window: idx − top-left corner.
        Vector512<long> corner0 = Vector512.Create((long)first0) + LaneLo, corner1 = Vector512.Create((long)first1) + LaneLo;
        Vector512<int> at = Vector512.Narrow(Vector512.Load(idx) - corner0, Vector512.Load(idx + 8) - corner1);
        Spread(xb, w, first0, first1, Vector512.Load(g), at);
    }

    private static void Spread(float* xb, int w, int first0, int first1, Vector512<float> v, Vector512<int> at)
    {
        Vector512<float> e0 = Vector512.ConditionalSelect(Vector512.Equals(at, Vector512<int>.Zero).AsSingle(), v, Vector512<float>.Zero);
        Vector512<float> d0 = Vector512.ConditionalSelect(Vector512.Equals(at, Vector512.Create(1)).AsSingle(), v, Vector512<float>.Zero);
        Vector512<float> e1 = Vector512.ConditionalSelect(Vector512.Equals(at, Vector512.Create(w)).AsSingle(), v, Vector512<float>.Zero);
        Vector512<float> d1 = Vector512.ConditionalSelect(Vector512.Equals(at, Vector512.Create(w + 1)).AsSingle(), v, Vector512<float>.Zero);
        float* r0 = xb + first0, r1 = xb + first1;
        Vector512.Store(Avx512F.PermuteVar16x32x2(e0, InterleaveLow, d0), r0);
        Vector512.Store(Avx512F.PermuteVar16x32x2(e0, InterleaveHigh, d0), r1);
        Vector512.Store(Avx512F.PermuteVar16x32x2(e1, InterleaveLow, d1), r0 + w);
        Vector512.Store(Avx512F.PermuteVar16x32x2(e1, InterleaveHigh, d1), r1 + w);
    }

    /// <summary>
    /// Whether <see cref="Forward(Tensor, PoolGeometry, Tensor)"/> and <see cref="Backward(Tensor, Tensor, PoolGeometry, Tensor)"/>
    /// apply: a contiguous float32 CPU tensor, 2×2 windows with stride 2 and no padding that tile the plane exactly, and
    /// OutW a multiple of 8 with a multiple of 16 outputs per plane (so every window is in a vector group).
    /// </summary>
    public static bool Applies(Tensor x, PoolGeometry g) =>
        IsSupported && x.Device.Type == DeviceType.Cpu && x.DType == DType.Float32 && x.IsContiguous
        && g.KernelH == 2 && g.KernelW == 2 && g.StrideH == 2 && g.StrideW == 2 && g.PadH == 0 && g.PadW == 0
        && g.Height == 2 * g.OutH && g.Width == 2 * g.OutW && g.OutW % 8 == 0 && (long)g.OutH * g.OutW % 16 == 0;

    /// <summary>y [N, C, OutH, OutW] = the max of every 2×2 window of x [N, C, H, W] (no indices: the backward recomputes them from x).</summary>
    public static void Forward(Tensor x, PoolGeometry g, Tensor y)
    {
        float[] xd = CpuBackend.Data<float>(x), yd = CpuBackend.Data<float>(y);
        long xo = x.offset, yo = y.offset, planes = x.Numel / ((long)g.Height * g.Width);
        int w = g.Width, outW = g.OutW, plane = g.OutH * g.OutW;
        CpuParallel.For(planes, (long)plane * 4, (p0, count) =>
        {
            fixed (float* xp = xd, yp = yd)
                for (long p = p0; p < p0 + count; p++)
                {
                    float* xb = xp + xo + p * 4 * plane, yb = yp + yo + p * plane;
                    for (int q = 0; q < plane; q += 16)
                    {
                        Argmax(xb, w, Run(q, outW, w), Run(q + 8, outW, w), out Vector512<float> best);
                        Vector512.Store(best, yb + q);
                    }
                }
        });
    }

    /// <summary>
    /// gx [N, C, H, W] = gy at the argmax of each window of x (recomputed with the forward's NaN and tie rules), 0 elsewhere.
    /// </summary>
    public static void Backward(Tensor gy, Tensor x, PoolGeometry g, Tensor gx)
    {
        float[] xd = CpuBackend.Data<float>(x), gd = CpuBackend.Data<float>(gy), gxd = CpuBackend.Data<float>(gx);
        long xo = x.offset, go = gy.offset, gxo = gx.offset, planes = x.Numel / ((long)g.Height * g.Width);
        int w = g.Width, outW = g.OutW, plane = g.OutH * g.OutW;
        CpuParallel.For(planes, (long)plane * 4, (p0, count) =>
        {
            fixed (float* xp = xd, gp = gd, gxp = gxd)
                for (long p = p0; p < p0 + count; p++)
                {
                    float* xb = xp + xo + p * 4 * plane, gb = gp + go + p * plane, gxb = gxp + gxo + p * 4 * plane;
                    for (int q = 0; q < plane; q += 16)
                    {
                        int first0 = Run(q, outW, w), first1 = Run(q + 8, outW, w);
                        Vector512<int> at = Argmax(xb, w, first0, first1, out _);
                        Spread(gxb, w, first0, first1, Vector512.Load(gb + q), at);
                    }
                }
        });
    }
}
