using System.Runtime.CompilerServices;
using ILGPU;
using RR = Ember.Ilgpu.Ops.RegisterRowKernels;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// float32 fused cross-entropy (see <see cref="IBackend.CrossEntropy"/> and <see cref="CrossEntropyKernels"/>, whose
/// formulas these follow) for the rows <see cref="RegisterRowKernels"/> takes: one warp per row, the logits (and the
/// class weights) held in registers as <see cref="Float4"/>, sums by warp shuffles, no shared memory or barrier.
/// Offsets: x o.A, weight o.C, gradX o.F in vectors; target o.B, loss/grad o.D, lse o.E in elements; o.G the
/// backward's grad stride (0 for a sum's gradient expanded over the rows).
/// </summary>
internal static class RegisterCrossEntropyKernels
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Sum(Float4 a, Float4 b, Float4 c, Float4 d, Float4 e, Float4 f, Float4 g, Float4 h) =>
        RR.Sum4(a, 0f) + RR.Sum4(b, 0f) + RR.Sum4(c, 0f) + RR.Sum4(d, 0f) + RR.Sum4(e, 0f) + RR.Sum4(f, 0f) + RR.Sum4(g, 0f) + RR.Sum4(h, 0f);

    /// <summary>Σ w·x over the lanes' vectors (w = 1 without weights; padding has x = 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float WX(Float4 v, ArrayView<Float4> w, int i, int n, int hasW, float s) =>
        hasW != 0 && i < n ? RR.Dot4(v, w[i], s) : RR.Sum4(v, s);

    /// <summary>Per-row loss (times k.Scale) and log-sum-exp of [rows, 4·n] float32 logits; k.Eps = label smoothing.</summary>
    public static void Forward(ArrayView<float> x, ArrayView<long> target, ArrayView<float> w, ArrayView<float> loss, ArrayView<float> lse,
        long rows, int n, TensorOffsets o, long ignoreIndex, CrossEntropyScalars<float> k, int hasW)
    {
        float eps = k.Eps;
        long row = RR.WarpRow(rows);
        if (row < 0) return;
        int l = Warp.LaneIdx;
        var xr = x.Cast<Float4>().SubView(o.A + row * n, n);
        var wr = w.Cast<Float4>().SubView(hasW != 0 ? o.C : 0, hasW != 0 ? n : 1);
        float ni = float.NegativeInfinity;
        Float4 v0 = RR.Ld(xr, l, n, ni), v1 = RR.Ld(xr, l + 32, n, ni), v2 = RR.Ld(xr, l + 64, n, ni), v3 = RR.Ld(xr, l + 96, n, ni);
        Float4 v4 = RR.Ld(xr, l + 128, n, ni), v5 = RR.Ld(xr, l + 160, n, ni), v6 = RR.Ld(xr, l + 192, n, ni), v7 = RR.Ld(xr, l + 224, n, ni);
        float m = RR.WarpMax(RR.Max4(v7, RR.Max4(v6, RR.Max4(v5, RR.Max4(v4, RR.Max4(v3, RR.Max4(v2, RR.Max4(v1, RR.Max4(v0, ni)))))))));
        // As CrossEntropyKernels: shift by the max unless it is NaN or ±∞ (then 0, so NaN/∞ propagate as on the CPU).
        float shift = float.IsNaN(m) || m == ni || m == float.PositiveInfinity ? 0f : m;
        // Padding is −∞: e^(−∞ − shift) = 0 for a finite shift; shift is finite here.
        float s = RR.WarpSum(Sum(RR.ExpSub(v0, shift), RR.ExpSub(v1, shift), RR.ExpSub(v2, shift), RR.ExpSub(v3, shift),
            RR.ExpSub(v4, shift), RR.ExpSub(v5, shift), RR.ExpSub(v6, shift), RR.ExpSub(v7, shift)));
        float wx = 0f;
        if (eps != 0f)
        {
            // Σ w·x is needed only with label smoothing; padding must add nothing, so reload it as 0.
            wx = WX(RR.Ld(xr, l, n, 0f), wr, l, n, hasW, wx); wx = WX(RR.Ld(xr, l + 32, n, 0f), wr, l + 32, n, hasW, wx);
            wx = WX(RR.Ld(xr, l + 64, n, 0f), wr, l + 64, n, hasW, wx); wx = WX(RR.Ld(xr, l + 96, n, 0f), wr, l + 96, n, hasW, wx);
            wx = WX(RR.Ld(xr, l + 128, n, 0f), wr, l + 128, n, hasW, wx); wx = WX(RR.Ld(xr, l + 160, n, 0f), wr, l + 160, n, hasW, wx);
            wx = WX(RR.Ld(xr, l + 192, n, 0f), wr, l + 192, n, hasW, wx); wx = WX(RR.Ld(xr, l + 224, n, 0f), wr, l + 224, n, hasW, wx);
            wx = RR.WarpSum(wx);
        }
        float wsum = WeightSum(wr, n, hasW);
        if (l != 0) return;
        float lv = shift + F32.Log(s);
        lse[o.E + row] = lv;
        long t = target[o.B + row];
        if (t == ignoreIndex) { loss[o.D + row] = 0f; return; }
        // A bad class index (reported by the index check at the next synchronisation): NaN, no read out of bounds.
        if (t < 0 || t >= 4L * n) { loss[o.D + row] = float.NaN; return; }
        var xs = x.SubView(o.A * 4 + row * 4L * n, 4L * n);
        float wt = hasW != 0 ? w[o.C * 4 + t] : 1f;
        float keep = 1f - eps, perClass = eps / (4f * n);
        loss[o.D + row] = (keep * wt * (lv - xs[t]) + perClass * (lv * wsum - wx)) * k.Scale;
    }

    /// <summary>W = Σ_c w[c] (C without weights), summed by the warp.</summary>
    private static float WeightSum(ArrayView<Float4> wr, int n, int hasW)
    {
        if (hasW == 0) return 4f * n;
        int l = Warp.LaneIdx;
        float s = RR.Sum4(RR.Ld(wr, l, n, 0f), 0f) + RR.Sum4(RR.Ld(wr, l + 32, n, 0f), 0f) + RR.Sum4(RR.Ld(wr, l + 64, n, 0f), 0f)
            + RR.Sum4(RR.Ld(wr, l + 96, n, 0f), 0f) + RR.Sum4(RR.Ld(wr, l + 128, n, 0f), 0f) + RR.Sum4(RR.Ld(wr, l + 160, n, 0f), 0f)
            + RR.Sum4(RR.Ld(wr, l + 192, n, 0f), 0f) + RR.Sum4(RR.Ld(wr, l + 224, n, 0f), 0f);
        return RR.WarpSum(s);
    }

    /// <summary>One vector of gradX: a·e^(x − lse) − gp·w_j, minus gt at the target column.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Grad(ArrayView<Float4> xr, ArrayView<Float4> wr, ArrayView<Float4> rr, int i, int n, float lv, float a, float gp, float gt, long t, int hasW)
    {
        if (i >= n) return;
        var v = xr[i];
        var k = hasW != 0 ? wr[i] : new Float4(1f);
        var r = new Float4
        {
            X = a * F32.Exp(v.X - lv) - gp * k.X, Y = a * F32.Exp(v.Y - lv) - gp * k.Y,
            Z = a * F32.Exp(v.Z - lv) - gp * k.Z, W = a * F32.Exp(v.W - lv) - gp * k.W,
        };
        long j = 4L * i;
        if (t == j) r.X -= gt; else if (t == j + 1) r.Y -= gt; else if (t == j + 2) r.Z -= gt; else if (t == j + 3) r.W -= gt;
        rr[i] = r;
    }

    /// <summary>gradX of [rows, 4·n] float32 logits: g·a·e^(x − lse) − g·(ε/C)·w_j − [j = t]·g·(1 − ε)·w[t].</summary>
    public static void Backward(ArrayView<float> grad, ArrayView<float> x, ArrayView<long> target, ArrayView<float> w, ArrayView<float> lse,
        ArrayView<float> gradX, long rows, int n, TensorOffsets o, long ignoreIndex, CrossEntropyScalars<float> k, int hasW)
    {
        float eps = k.Eps;
        long row = RR.WarpRow(rows);
        if (row < 0) return;
        int l = Warp.LaneIdx;
        var xr = x.Cast<Float4>().SubView(o.A + row * n, n);
        var wr = w.Cast<Float4>().SubView(hasW != 0 ? o.C : 0, hasW != 0 ? n : 1);
        var rr = gradX.Cast<Float4>().SubView(o.F + row * n, n);
        float wsum = WeightSum(wr, n, hasW);   // the whole warp, before any lane may leave
        long t = target[o.B + row];
        if (t == ignoreIndex || t < 0 || t >= 4L * n)
        {
            // Ignored rows get 0; a bad class index (reported by the index check) NaN.
            var fill = new Float4(t == ignoreIndex ? 0f : float.NaN);
            for (int i = l; i < n; i += 32) rr[i] = fill;
            return;
        }
        float g = grad[o.D + row * o.G] * k.Scale, lv = lse[o.E + row];
        float wt = hasW != 0 ? w[o.C * 4 + t] : 1f;
        float keep = 1f - eps, perClass = eps / (4f * n);
        float a = g * (keep * wt + perClass * wsum), gp = g * perClass, gt = g * keep * wt;
        Grad(xr, wr, rr, l, n, lv, a, gp, gt, t, hasW); Grad(xr, wr, rr, l + 32, n, lv, a, gp, gt, t, hasW);
        Grad(xr, wr, rr, l + 64, n, lv, a, gp, gt, t, hasW); Grad(xr, wr, rr, l + 96, n, lv, a, gp, gt, t, hasW);
        Grad(xr, wr, rr, l + 128, n, lv, a, gp, gt, t, hasW); Grad(xr, wr, rr, l + 160, n, lv, a, gp, gt, t, hasW);
        Grad(xr, wr, rr, l + 192, n, lv, a, gp, gt, t, hasW); Grad(xr, wr, rr, l + 224, n, lv, a, gp, gt, t, hasW);
    }
}
