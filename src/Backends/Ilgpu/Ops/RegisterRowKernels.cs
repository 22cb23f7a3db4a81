using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;
using RK = Ember.Ilgpu.Ops.RowKernels;

namespace Ember.Ilgpu.Ops;

/// <summary>Four consecutive float32 elements, loaded and stored as one 128-bit access (PTX ld/st.global.v4.f32).</summary>
internal struct Float4
{
    public float X, Y, Z, W;

    public Float4(float v) { X = v; Y = v; Z = v; W = v; }
}

/// <summary>
/// float32 row kernels for contiguous rows of at most <see cref="MaxCols"/> columns that are a multiple of 4, with
/// 16-byte-aligned row starts: one warp per row, each lane holding its part of the row in registers (8 named
/// <see cref="Float4"/> locals, vectors lane, lane + 32, …, lane + 224), so the row is read once with 128-bit loads,
/// reduced with warp shuffles, and written once — no shared memory, no barrier, no second read. ILGPU does not unroll
/// loops or keep indexed arrays in registers, hence the eight spelled-out locals. Rows that do not fit keep
/// <see cref="WarpRowKernels"/> / <see cref="RowKernels"/>.
/// </summary>
internal static class RegisterRowKernels
{
    /// <summary>Vectors per lane (each lane holds up to 8 × 4 floats).</summary>
    public const int VectorsPerLane = 8;

    /// <summary>Longest row these kernels take: 32 lanes × 8 vectors × 4 floats.</summary>
    public const int MaxCols = 32 * VectorsPerLane * 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Float4 Ld(ArrayView<Float4> row, int i, int n, float fill) => i < n ? row[i] : new Float4(fill);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void St(ArrayView<Float4> row, int i, int n, Float4 v) { if (i < n) row[i] = v; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Max4(Float4 v, float m) => RK.Max<float, F32>(RK.Max<float, F32>(RK.Max<float, F32>(RK.Max<float, F32>(m, v.X), v.Y), v.Z), v.W);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Sum4(Float4 v, float s) => s + ((v.X + v.Y) + (v.Z + v.W));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Float4 ExpSub(Float4 v, float m) =>
        new() { X = F32.Exp(v.X - m), Y = F32.Exp(v.Y - m), Z = F32.Exp(v.Z - m), W = F32.Exp(v.W - m) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Float4 Mul(Float4 v, float k) => new() { X = v.X * k, Y = v.Y * k, Z = v.Z * k, W = v.W * k };

    /// <summary>(v − m) − ls: the CPU backend's order of operations for log-softmax.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Float4 LogOut(Float4 v, float m, float ls) => new() { X = v.X - m - ls, Y = v.Y - m - ls, Z = v.Z - m - ls, W = v.W - m - ls };

    internal static float WarpMax(float v)
    {
        for (int lane = Warp.WarpSize / 2; lane > 0; lane >>= 1) v = RK.Max<float, F32>(v, Warp.ShuffleXor(v, lane));
        return v;
    }

    internal static float WarpSum(float v)
    {
        for (int lane = Warp.WarpSize / 2; lane > 0; lane >>= 1) v += Warp.ShuffleXor(v, lane);
        return v;
    }

    /// <summary>The row of this warp (groups hold Group.DimX / warp size rows), or −1 past the last row.</summary>
    internal static long WarpRow(long rows)
    {
        long row = (long)Grid.IdxX * (Group.DimX / Warp.WarpSize) + Warp.WarpIdx;
        return row < rows ? row : -1;
    }

    /// <summary>
    /// Softmax (log = 0) or log-softmax of [rows, 4·n] float32 rows, offsets in vectors: x o.A, y o.B.
    /// max and Σ e^(x − max) from the registers (padding is −∞, so it adds e^(−∞) = 0); an all −∞ row gives NaN
    /// (e^(−∞ − (−∞))), +∞ or NaN in a row gives NaN, as on the CPU.
    /// </summary>
    public static void Softmax(ArrayView<float> x, ArrayView<float> y, long rows, int n, TensorOffsets o, int log)
    {
        long row = WarpRow(rows);
        if (row < 0) return;   // the whole warp leaves together, so no shuffle runs with missing lanes
        int l = Warp.LaneIdx;
        var xr = x.Cast<Float4>().SubView(o.A + row * n, n);
        var yr = y.Cast<Float4>().SubView(o.B + row * n, n);
        float ni = float.NegativeInfinity;
        Float4 v0 = Ld(xr, l, n, ni), v1 = Ld(xr, l + 32, n, ni), v2 = Ld(xr, l + 64, n, ni), v3 = Ld(xr, l + 96, n, ni);
        Float4 v4 = Ld(xr, l + 128, n, ni), v5 = Ld(xr, l + 160, n, ni), v6 = Ld(xr, l + 192, n, ni), v7 = Ld(xr, l + 224, n, ni);
        float m = Max4(v7, Max4(v6, Max4(v5, Max4(v4, Max4(v3, Max4(v2, Max4(v1, Max4(v0, ni))))))));
        m = WarpMax(m);
        if (log != 0)
        {
            float s = Sum4(ExpSub(v0, m), 0f) + Sum4(ExpSub(v1, m), 0f) + Sum4(ExpSub(v2, m), 0f) + Sum4(ExpSub(v3, m), 0f)
                + Sum4(ExpSub(v4, m), 0f) + Sum4(ExpSub(v5, m), 0f) + Sum4(ExpSub(v6, m), 0f) + Sum4(ExpSub(v7, m), 0f);
            float ls = F32.Log(WarpSum(s));
            St(yr, l, n, LogOut(v0, m, ls)); St(yr, l + 32, n, LogOut(v1, m, ls)); St(yr, l + 64, n, LogOut(v2, m, ls)); St(yr, l + 96, n, LogOut(v3, m, ls));
            St(yr, l + 128, n, LogOut(v4, m, ls)); St(yr, l + 160, n, LogOut(v5, m, ls)); St(yr, l + 192, n, LogOut(v6, m, ls)); St(yr, l + 224, n, LogOut(v7, m, ls));
        }
        else
        {
            // The exponentials stay in the registers: one e^x per element.
            v0 = ExpSub(v0, m); v1 = ExpSub(v1, m); v2 = ExpSub(v2, m); v3 = ExpSub(v3, m);
            v4 = ExpSub(v4, m); v5 = ExpSub(v5, m); v6 = ExpSub(v6, m); v7 = ExpSub(v7, m);
            float s = Sum4(v0, 0f) + Sum4(v1, 0f) + Sum4(v2, 0f) + Sum4(v3, 0f) + Sum4(v4, 0f) + Sum4(v5, 0f) + Sum4(v6, 0f) + Sum4(v7, 0f);
            float inv = 1f / WarpSum(s);
            St(yr, l, n, Mul(v0, inv)); St(yr, l + 32, n, Mul(v1, inv)); St(yr, l + 64, n, Mul(v2, inv)); St(yr, l + 96, n, Mul(v3, inv));
            St(yr, l + 128, n, Mul(v4, inv)); St(yr, l + 160, n, Mul(v5, inv)); St(yr, l + 192, n, Mul(v6, inv)); St(yr, l + 224, n, Mul(v7, inv));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Dot4(Float4 a, Float4 b, float s) => s + ((a.X * b.X + a.Y * b.Y) + (a.Z * b.Z + a.W * b.W));

    /// <summary>g − e^y·s (log-softmax) or y·(g − s) (softmax).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Float4 Back(Float4 g, Float4 y, float s, int log) => log != 0
        ? new() { X = g.X - F32.Exp(y.X) * s, Y = g.Y - F32.Exp(y.Y) * s, Z = g.Z - F32.Exp(y.Z) * s, W = g.W - F32.Exp(y.W) * s }
        : new() { X = y.X * (g.X - s), Y = y.Y * (g.Y - s), Z = y.Z * (g.Z - s), W = y.W * (g.W - s) };

    /// <summary>
    /// Softmax backward of [rows, 4·n] float32 rows, offsets in vectors: grad o.A, the forward's output o.B, the result
    /// o.C; s = Σ g (log-softmax) or Σ g·y (softmax) from the registers (padding 0 adds nothing).
    /// </summary>
    public static void SoftmaxBackward(ArrayView<float> grad, ArrayView<float> output, ArrayView<float> result, long rows, int n,
        TensorOffsets o, int log)
    {
        long row = WarpRow(rows);
        if (row < 0) return;
        int l = Warp.LaneIdx;
        var gr = grad.Cast<Float4>().SubView(o.A + row * n, n);
        var yr = output.Cast<Float4>().SubView(o.B + row * n, n);
        var rr = result.Cast<Float4>().SubView(o.C + row * n, n);
        Float4 g0 = Ld(gr, l, n, 0f), g1 = Ld(gr, l + 32, n, 0f), g2 = Ld(gr, l + 64, n, 0f), g3 = Ld(gr, l + 96, n, 0f);
        Float4 g4 = Ld(gr, l + 128, n, 0f), g5 = Ld(gr, l + 160, n, 0f), g6 = Ld(gr, l + 192, n, 0f), g7 = Ld(gr, l + 224, n, 0f);
        Float4 y0 = Ld(yr, l, n, 0f), y1 = Ld(yr, l + 32, n, 0f), y2 = Ld(yr, l + 64, n, 0f), y3 = Ld(yr, l + 96, n, 0f);
        Float4 y4 = Ld(yr, l + 128, n, 0f), y5 = Ld(yr, l + 160, n, 0f), y6 = Ld(yr, l + 192, n, 0f), y7 = Ld(yr, l + 224, n, 0f);
        float s = log != 0
            ? Sum4(g0, 0f) + Sum4(g1, 0f) + Sum4(g2, 0f) + Sum4(g3, 0f) + Sum4(g4, 0f) + Sum4(g5, 0f) + Sum4(g6, 0f) + Sum4(g7, 0f)
            : Dot4(g0, y0, 0f) + Dot4(g1, y1, 0f) + Dot4(g2, y2, 0f) + Dot4(g3, y3, 0f) + Dot4(g4, y4, 0f) + Dot4(g5, y5, 0f) + Dot4(g6, y6, 0f) + Dot4(g7, y7, 0f);
        s = WarpSum(s);
        St(rr, l, n, Back(g0, y0, s, log)); St(rr, l + 32, n, Back(g1, y1, s, log)); St(rr, l + 64, n, Back(g2, y2, s, log)); St(rr, l + 96, n, Back(g3, y3, s, log));
        St(rr, l + 128, n, Back(g4, y4, s, log)); St(rr, l + 160, n, Back(g5, y5, s, log)); St(rr, l + 192, n, Back(g6, y6, s, log)); St(rr, l + 224, n, Back(g7, y7, s, log));
    }

    /// <summary>Σ (v − μ)² over the lanes of v that are inside the row (padding must not add μ²).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float SqDev(Float4 v, float mu, bool inside, float s)
    {
        if (!inside) return s;
        float a = v.X - mu, b = v.Y - mu, c = v.Z - mu, d = v.W - mu;
        return s + ((a * a + b * b) + (c * c + d * d));
    }

    /// <summary>(v − μ)·rstd·w + b, w and b optional.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Float4 Norm(Float4 v, float mu, float rs, ArrayView<Float4> w, ArrayView<Float4> b, int i, int n, int hasW, int hasB)
    {
        var r = new Float4 { X = (v.X - mu) * rs, Y = (v.Y - mu) * rs, Z = (v.Z - mu) * rs, W = (v.W - mu) * rs };
        if (i >= n) return r;
        if (hasW != 0) { var k = w[i]; r.X *= k.X; r.Y *= k.Y; r.Z *= k.Z; r.W *= k.W; }
        if (hasB != 0) { var k = b[i]; r.X += k.X; r.Y += k.Y; r.Z += k.Z; r.W += k.W; }
        return r;
    }

    /// <summary>
    /// Layer norm of [rows, 4·n] float32 rows (vector offsets: x o.A, weight o.B, bias o.C, y o.D; element offsets:
    /// mean o.E, rstd o.F). Mean, then Σ (x − μ)² from the registers (two passes over registers, not memory: no
    /// E[x²] − μ² cancellation), rstd = 1/√(var + eps).
    /// </summary>
    public static void LayerNorm(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, ArrayView<float> mean,
        ArrayView<float> rstd, long rows, int n, float eps, TensorOffsets o, int hasW, int hasB)
    {
        long row = WarpRow(rows);
        if (row < 0) return;
        int l = Warp.LaneIdx;
        var xr = x.Cast<Float4>().SubView(o.A + row * n, n);
        var yr = y.Cast<Float4>().SubView(o.D + row * n, n);
        var wr = w.Cast<Float4>().SubView(hasW != 0 ? o.B : 0, hasW != 0 ? n : 1);
        var br = bias.Cast<Float4>().SubView(hasB != 0 ? o.C : 0, hasB != 0 ? n : 1);
        Float4 v0 = Ld(xr, l, n, 0f), v1 = Ld(xr, l + 32, n, 0f), v2 = Ld(xr, l + 64, n, 0f), v3 = Ld(xr, l + 96, n, 0f);
        Float4 v4 = Ld(xr, l + 128, n, 0f), v5 = Ld(xr, l + 160, n, 0f), v6 = Ld(xr, l + 192, n, 0f), v7 = Ld(xr, l + 224, n, 0f);
        float cols = 4f * n;
        float mu = WarpSum(Sum4(v0, 0f) + Sum4(v1, 0f) + Sum4(v2, 0f) + Sum4(v3, 0f) + Sum4(v4, 0f) + Sum4(v5, 0f) + Sum4(v6, 0f) + Sum4(v7, 0f)) / cols;
        float q = SqDev(v0, mu, l < n, 0f);
        q = SqDev(v1, mu, l + 32 < n, q); q = SqDev(v2, mu, l + 64 < n, q); q = SqDev(v3, mu, l + 96 < n, q);
        q = SqDev(v4, mu, l + 128 < n, q); q = SqDev(v5, mu, l + 160 < n, q); q = SqDev(v6, mu, l + 192 < n, q); q = SqDev(v7, mu, l + 224 < n, q);
        float rs = 1f / XMath.Sqrt(WarpSum(q) / cols + eps);
        St(yr, l, n, Norm(v0, mu, rs, wr, br, l, n, hasW, hasB)); St(yr, l + 32, n, Norm(v1, mu, rs, wr, br, l + 32, n, hasW, hasB));
        St(yr, l + 64, n, Norm(v2, mu, rs, wr, br, l + 64, n, hasW, hasB)); St(yr, l + 96, n, Norm(v3, mu, rs, wr, br, l + 96, n, hasW, hasB));
        St(yr, l + 128, n, Norm(v4, mu, rs, wr, br, l + 128, n, hasW, hasB)); St(yr, l + 160, n, Norm(v5, mu, rs, wr, br, l + 160, n, hasW, hasB));
        St(yr, l + 192, n, Norm(v6, mu, rs, wr, br, l + 192, n, hasW, hasB)); St(yr, l + 224, n, Norm(v7, mu, rs, wr, br, l + 224, n, hasW, hasB));
        if (l == 0) { mean[o.E + row] = mu; rstd[o.F + row] = rs; }
    }

    /// <summary>g·w (the weight's vector i, or g itself without a weight; 0 past the row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Float4 GW(ArrayView<Float4> g, ArrayView<Float4> w, int i, int n, int hasW)
    {
        var v = Ld(g, i, n, 0f);
        if (hasW == 0 || i >= n) return v;
        var k = w[i];
        return new Float4 { X = v.X * k.X, Y = v.Y * k.Y, Z = v.Z * k.Z, W = v.W * k.W };
    }

    /// <summary>x̂ = (x − μ)·rstd.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Float4 Hat(Float4 v, float mu, float rs) => new() { X = (v.X - mu) * rs, Y = (v.Y - mu) * rs, Z = (v.Z - mu) * rs, W = (v.W - mu) * rs };

    /// <summary>rstd·((gw − m1) − x̂·m2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Float4 GX(Float4 gw, Float4 xh, float rs, float m1, float m2) => new()
    {
        X = rs * ((gw.X - m1) - xh.X * m2), Y = rs * ((gw.Y - m1) - xh.Y * m2), Z = rs * ((gw.Z - m1) - xh.Z * m2), W = rs * ((gw.W - m1) - xh.W * m2),
    };

    /// <summary>
    /// gradX of layer norm for [rows, 4·n] float32 rows (vector offsets: grad o.A, x o.B, weight o.E, gradX o.F;
    /// element offsets: mean o.C, rstd o.D): m1 = mean of g·w, m2 = mean of g·w·x̂, gx = rstd·(g·w − m1 − x̂·m2).
    /// </summary>
    public static void LayerNormBackward(ArrayView<float> grad, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> rstd,
        ArrayView<float> w, ArrayView<float> gx, long rows, int n, TensorOffsets o, int hasW)
    {
        long row = WarpRow(rows);
        if (row < 0) return;
        int l = Warp.LaneIdx;
        var gr = grad.Cast<Float4>().SubView(o.A + row * n, n);
        var xr = x.Cast<Float4>().SubView(o.B + row * n, n);
        var wr = w.Cast<Float4>().SubView(hasW != 0 ? o.E : 0, hasW != 0 ? n : 1);
        var rr = gx.Cast<Float4>().SubView(o.F + row * n, n);
        float mu = mean[o.C + row], rs = rstd[o.D + row];
        Float4 g0 = GW(gr, wr, l, n, hasW), g1 = GW(gr, wr, l + 32, n, hasW), g2 = GW(gr, wr, l + 64, n, hasW), g3 = GW(gr, wr, l + 96, n, hasW);
        Float4 g4 = GW(gr, wr, l + 128, n, hasW), g5 = GW(gr, wr, l + 160, n, hasW), g6 = GW(gr, wr, l + 192, n, hasW), g7 = GW(gr, wr, l + 224, n, hasW);
        Float4 h0 = Hat(Ld(xr, l, n, 0f), mu, rs), h1 = Hat(Ld(xr, l + 32, n, 0f), mu, rs), h2 = Hat(Ld(xr, l + 64, n, 0f), mu, rs), h3 = Hat(Ld(xr, l + 96, n, 0f), mu, rs);
        Float4 h4 = Hat(Ld(xr, l + 128, n, 0f), mu, rs), h5 = Hat(Ld(xr, l + 160, n, 0f), mu, rs), h6 = Hat(Ld(xr, l + 192, n, 0f), mu, rs), h7 = Hat(Ld(xr, l + 224, n, 0f), mu, rs);
        float cols = 4f * n;
        // Padding has g = 0, so it adds nothing to either sum (its x̂ is −μ·rstd, multiplied by 0).
        float m1 = WarpSum(Sum4(g0, 0f) + Sum4(g1, 0f) + Sum4(g2, 0f) + Sum4(g3, 0f) + Sum4(g4, 0f) + Sum4(g5, 0f) + Sum4(g6, 0f) + Sum4(g7, 0f)) / cols;
        float m2 = WarpSum(Dot4(g0, h0, 0f) + Dot4(g1, h1, 0f) + Dot4(g2, h2, 0f) + Dot4(g3, h3, 0f) + Dot4(g4, h4, 0f) + Dot4(g5, h5, 0f) + Dot4(g6, h6, 0f) + Dot4(g7, h7, 0f)) / cols;
        St(rr, l, n, GX(g0, h0, rs, m1, m2)); St(rr, l + 32, n, GX(g1, h1, rs, m1, m2)); St(rr, l + 64, n, GX(g2, h2, rs, m1, m2)); St(rr, l + 96, n, GX(g3, h3, rs, m1, m2));
        St(rr, l + 128, n, GX(g4, h4, rs, m1, m2)); St(rr, l + 160, n, GX(g5, h5, rs, m1, m2)); St(rr, l + 192, n, GX(g6, h6, rs, m1, m2)); St(rr, l + 224, n, GX(g7, h7, rs, m1, m2));
    }
}
