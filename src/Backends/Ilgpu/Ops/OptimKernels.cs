using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;

namespace Ember.Ilgpu.Ops;

/// <summary>Scalars of one fused optimizer step (already combined on the host where possible).</summary>
internal struct OptimParams
{
    public double Lr, Momentum, Dampening, WeightDecay, Beta1, Beta2, Eps, StepSize, Bc2Sqrt;
    public int Nesterov, Maximize, FirstStep, Decoupled, Amsgrad, HasBuffer;
}

/// <summary>
/// Fused SGD and Adam/AdamW steps (PyTorch's single-tensor formulas), one thread per element, math in double. The
/// per-element updates (<see cref="SgdElement"/>, <see cref="AdamElement"/>) are shared with the multi-tensor kernels of
/// <see cref="OptimForeachKernels"/>, so both give the same bits.
/// </summary>
internal static class OptimKernels
{
    /// <summary>param o.A, grad o.B, momentum buffer o.C.</summary>
    public static void Sgd<T, R>(Index1D i, ArrayView<T> p, ArrayView<T> g, ArrayView<T> buf, OptimParams a, TensorOffsets o) where T : unmanaged where R : struct, IReal<T> =>
        SgdElement<T, R>(p, o.A + i, g, o.B + i, buf, o.C + i, a);

    /// <summary>param o.A, grad o.B, exp_avg o.C, exp_avg_sq o.D, max_exp_avg_sq o.E.</summary>
    public static void Adam<T, R>(Index1D i, ArrayView<T> p, ArrayView<T> g, ArrayView<T> m, ArrayView<T> v, ArrayView<T> vmax, OptimParams a, TensorOffsets o)
        where T : unmanaged where R : struct, IReal<T> =>
        AdamElement<T, R>(p, o.A + i, g, o.B + i, m, o.C + i, v, o.D + i, vmax, o.E + i, a);

    /// <summary>The SGD update of one element: param p[ip], grad g[ig], momentum buffer buf[ib] (unused without one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SgdElement<T, R>(ArrayView<T> p, long ip, ArrayView<T> g, long ig, ArrayView<T> buf, long ib, OptimParams a)
        where T : unmanaged where R : struct, IReal<T>
    {
        double pv = R.ToD(p[ip]);
        double d = R.ToD(g[ig]);
        if (a.Maximize != 0) d = -d;
        if (a.WeightDecay != 0) d += a.WeightDecay * pv;
        if (a.Momentum != 0 && a.HasBuffer != 0)
        {
            double bv = a.FirstStep != 0 ? d : a.Momentum * R.ToD(buf[ib]) + (1 - a.Dampening) * d;
            T bt = R.FromD(bv);
            buf[ib] = bt;
            // Continue with the stored (rounded) buffer, as PyTorch does with its T-typed buffer.
            bv = R.ToD(bt);
            d = a.Nesterov != 0 ? d + a.Momentum * bv : bv;
        }
        p[ip] = R.FromD(pv - a.Lr * d);
    }

    /// <summary>
    /// The Adam/AdamW update of one element: param p[ip], grad g[ig], exp_avg m[im], exp_avg_sq v[iv], max_exp_avg_sq
    /// vmax[ix] (read and written only with amsgrad).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AdamElement<T, R>(ArrayView<T> p, long ip, ArrayView<T> g, long ig, ArrayView<T> m, long im,
        ArrayView<T> v, long iv, ArrayView<T> vmax, long ix, OptimParams a) where T : unmanaged where R : struct, IReal<T>
    {
        double pv = R.ToD(p[ip]);
        double gv = R.ToD(g[ig]);
        if (a.Maximize != 0) gv = -gv;
        if (a.WeightDecay != 0)
        {
            if (a.Decoupled != 0) pv *= 1 - a.Lr * a.WeightDecay;
            else gv += a.WeightDecay * pv;
        }
        double mv = R.ToD(m[im]);
        mv += (1 - a.Beta1) * (gv - mv);
        double vv = a.Beta2 * R.ToD(v[iv]) + (1 - a.Beta2) * gv * gv;
        // The moments are stored in T and the update uses the stored values, as PyTorch's T-typed state does.
        T mt = R.FromD(mv), vt = R.FromD(vv);
        m[im] = mt; v[iv] = vt;
        double vd = R.ToD(vt);
        if (a.Amsgrad != 0)
        {
            double mx = R.ToD(vmax[ix]);
            if (vd > mx || XMath.IsNaN(mx)) mx = vd;
            T mxt = R.FromD(mx);
            vmax[ix] = mxt;
            vd = R.ToD(mxt);
        }
        double denom = R.ToD(R.Sqrt(R.FromD(vd))) / a.Bc2Sqrt + a.Eps;
        p[ip] = R.FromD(pv - a.StepSize * R.ToD(mt) / denom);
    }

    /// <summary>
    /// GradScaler's unscale of one gradient (offset o.A): flags a non-finite element in found[o.B] (every writer stores
    /// the same 1, so the race is benign and needs no atomic) and scales it by inv.
    /// </summary>
    public static void NonFiniteCheckAndUnscale<T, R>(Index1D i, ArrayView<T> g, ArrayView<float> found, double inv, TensorOffsets o)
        where T : unmanaged where R : struct, IReal<T>
    {
        double x = R.ToD(g[o.A + i]);
        if (XMath.IsNaN(x) || XMath.IsInfinity(x)) found[o.B] = 1f;
        g[o.A + i] = R.FromD(x * inv);
    }
}
