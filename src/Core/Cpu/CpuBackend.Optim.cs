using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Ember.Cpu;

// Fused optimizer steps: one pass over contiguous parameters in PyTorch's order of operations (torch/optim/sgd.py
// and adam.py / adamw.py, single-tensor path), in the parameter's precision: a Vector512 body and a scalar tail that
// do the same operations in the same order, split over the GEMM worker threads (CpuParallel) for large tensors.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void SgdStep(Tensor param, Tensor grad, Tensor? momentumBuffer, SgdStepArgs args)
    {
        if (ReducedPrecision.Any(param, grad, momentumBuffer)) { CompositeKernels.SgdStep(this, param, grad, momentumBuffer, args); return; }
        RequireFloat("SgdStep", param);
        if (param.DType == DType.Float32) SgdT<float>(param, grad, momentumBuffer, args);
        else SgdT<double>(param, grad, momentumBuffer, args);
    }

    // d = ±g + wd·p; buf = d (first step) or μ·buf + (1 − τ)·d; d = d + μ·buf (Nesterov) or buf; p −= lr·d.
    private static void SgdT<T>(Tensor param, Tensor grad, Tensor? buf, SgdStepArgs a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] p = Data<T>(param), g = Data<T>(grad);
        T[]? b = buf is null ? null : Data<T>(buf);
        long po = param.offset, go = grad.offset, bo = buf?.offset ?? 0;
        T lr = T.CreateTruncating(a.Lr), mu = T.CreateTruncating(a.Momentum), damp = T.One - T.CreateTruncating(a.Dampening),
            wd = T.CreateTruncating(a.WeightDecay);
        bool useMomentum = a.Momentum != 0 && b != null;
        CpuParallel.For(param.Numel, 4, (s0, n0) =>
        {
            int s = (int)s0, len = (int)n0, i = s;
            // Vector body: the scalar loop's operations in the same order (no fused multiply-adds): bit-identical results.
            if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            {
                ref T pr = ref MemoryMarshal.GetArrayDataReference(p), gr = ref MemoryMarshal.GetArrayDataReference(g);
                ref T br = ref b is null ? ref pr : ref MemoryMarshal.GetArrayDataReference(b);
                Vector512<T> vlr = Vector512.Create(lr), vmu = Vector512.Create(mu), vdamp = Vector512.Create(damp), vwd = Vector512.Create(wd);
                for (; i + Vector512<T>.Count <= s + len; i += Vector512<T>.Count)
                {
                    var d = Vector512.LoadUnsafe(ref gr, (nuint)(go + i));
                    if (a.Maximize) d = -d;
                    var pv = Vector512.LoadUnsafe(ref pr, (nuint)(po + i));
                    if (a.WeightDecay != 0) d += vwd * pv;
                    if (useMomentum)
                    {
                        var m = a.FirstStep ? d : vmu * Vector512.LoadUnsafe(ref br, (nuint)(bo + i)) + vdamp * d;
                        m.StoreUnsafe(ref br, (nuint)(bo + i));
                        d = a.Nesterov ? d + vmu * m : m;
                    }
                    (pv - vlr * d).StoreUnsafe(ref pr, (nuint)(po + i));
                }
            }
            for (; i < s + len; i++)
            {
                T d = a.Maximize ? -g[go + i] : g[go + i];
                if (a.WeightDecay != 0) d += wd * p[po + i];
                if (useMomentum)
                {
                    T m = a.FirstStep ? d : mu * b![bo + i] + damp * d;
                    b![bo + i] = m;
                    d = a.Nesterov ? d + mu * m : m;
                }
                p[po + i] -= lr * d;
            }
        });
    }

    /// <inheritdoc/>
    public void AdamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor? maxExpAvgSq, AdamStepArgs args)
    {
        if (ReducedPrecision.Any(param, grad, expAvg, expAvgSq, maxExpAvgSq)) { CompositeKernels.AdamStep(this, param, grad, expAvg, expAvgSq, maxExpAvgSq, args); return; }
        RequireFloat("AdamStep", param);
        if (param.DType == DType.Float32) AdamT<float>(param, grad, expAvg, expAvgSq, maxExpAvgSq, args);
        else AdamT<double>(param, grad, expAvg, expAvgSq, maxExpAvgSq, args);
    }

    // g = ±grad (+ wd·p for Adam); p ·= 1 − lr·wd (AdamW); m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²;
    // v̂ = max(v̂, v) (amsgrad); p −= lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε).
    private static void AdamT<T>(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor? maxSq, AdamStepArgs a)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] p = Data<T>(param), g = Data<T>(grad), m = Data<T>(expAvg), v = Data<T>(expAvgSq);
        T[]? vm = maxSq is null ? null : Data<T>(maxSq);
        long po = param.offset, go = grad.offset, mo = expAvg.offset, vo = expAvgSq.offset, vmo = maxSq?.offset ?? 0;
        double bc1 = 1 - Math.Pow(a.Beta1, a.Step), bc2 = 1 - Math.Pow(a.Beta2, a.Step);
        T b1 = T.CreateTruncating(a.Beta1), b2 = T.CreateTruncating(a.Beta2), omb1 = T.One - b1, omb2 = T.One - b2;
        T stepSize = T.CreateTruncating(a.Lr / bc1), bc2Sqrt = T.CreateTruncating(Math.Sqrt(bc2)), eps = T.CreateTruncating(a.Eps);
        T wd = T.CreateTruncating(a.WeightDecay), decay = T.CreateTruncating(1 - a.Lr * a.WeightDecay);
        bool ams = a.Amsgrad && vm != null;
        CpuParallel.For(param.Numel, 8, (s0, n0) =>
        {
            int s = (int)s0, len = (int)n0, i = s;
            // Vector body (not amsgrad): the scalar loop's operations in the same order, with no fused multiply-adds,
            // so every element gets bit-identical results either way.
            if (!ams && Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            {
                ref T pr = ref MemoryMarshal.GetArrayDataReference(p), gr = ref MemoryMarshal.GetArrayDataReference(g);
                ref T mr = ref MemoryMarshal.GetArrayDataReference(m), vr = ref MemoryMarshal.GetArrayDataReference(v);
                Vector512<T> vb1 = Vector512.Create(b1), vb2 = Vector512.Create(b2), vomb1 = Vector512.Create(omb1), vomb2 = Vector512.Create(omb2);
                Vector512<T> vstep = Vector512.Create(stepSize), vbc2 = Vector512.Create(bc2Sqrt), veps = Vector512.Create(eps);
                Vector512<T> vwd = Vector512.Create(wd), vdecay = Vector512.Create(decay);
                for (; i + Vector512<T>.Count <= s + len; i += Vector512<T>.Count)
                {
                    var gi = Vector512.LoadUnsafe(ref gr, (nuint)(go + i));
                    if (a.Maximize) gi = -gi;
                    var pi = Vector512.LoadUnsafe(ref pr, (nuint)(po + i));
                    if (a.WeightDecay != 0)
                    {
                        if (a.DecoupledWeightDecay) pi *= vdecay;
                        else gi += vwd * pi;
                    }
                    var mi = Vector512.LoadUnsafe(ref mr, (nuint)(mo + i)) * vb1 + gi * vomb1;
                    var vi = Vector512.LoadUnsafe(ref vr, (nuint)(vo + i)) * vb2 + gi * gi * vomb2;
                    mi.StoreUnsafe(ref mr, (nuint)(mo + i)); vi.StoreUnsafe(ref vr, (nuint)(vo + i));
                    var denom = Vector512.Sqrt(vi) / vbc2 + veps;
                    (pi - vstep * (mi / denom)).StoreUnsafe(ref pr, (nuint)(po + i));
                }
            }
            for (; i < s + len; i++)
            {
                T gi = a.Maximize ? -g[go + i] : g[go + i];
                T pi = p[po + i];
                if (a.WeightDecay != 0)
                {
                    if (a.DecoupledWeightDecay) pi *= decay;
                    else gi += wd * pi;
                }
                T mi = m[mo + i] * b1 + gi * omb1;
                T vi = v[vo + i] * b2 + gi * gi * omb2;
                m[mo + i] = mi; v[vo + i] = vi;
                if (ams) { vi = T.Max(vm![vmo + i], vi); vm[vmo + i] = vi; }
                T denom = T.Sqrt(vi) / bc2Sqrt + eps;
                p[po + i] = pi - stepSize * (mi / denom);
            }
        });
    }
}
