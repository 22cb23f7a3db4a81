using System.Numerics;

namespace Ember.Cpu;

// Fused optimizer steps: one pass over contiguous parameters in PyTorch's order of operations (torch/optim/sgd.py
// and adam.py / adamw.py, single-tensor path), in the parameter's precision. Large tensors are split into chunks
// processed in parallel (the update is elementwise).
public sealed partial class CpuBackend
{
    private const int OptimChunk = 1 << 14;

    private static void ForChunks(long n, Action<int, int> body)
    {
        if (n <= OptimChunk) { body(0, (int)n); return; }
        int chunks = (int)((n + OptimChunk - 1) / OptimChunk);
        Parallel.For(0, chunks, c =>
        {
            int s = c * OptimChunk;
            body(s, (int)Math.Min(OptimChunk, n - s));
        });
    }

    /// <inheritdoc/>
    public void SgdStep(Tensor param, Tensor grad, Tensor? momentumBuffer, SgdStepArgs args)
    {
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
        ForChunks(param.Numel, (s, len) =>
        {
            for (int i = s; i < s + len; i++)
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
        ForChunks(param.Numel, (s, len) =>
        {
            for (int i = s; i < s + len; i++)
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
