using Ember.Cpu;

namespace Ember.Core.Tests;

/// <summary>The CPU's fused Adam/AdamW and SGD steps (vector body and scalar tail) against scalar loops of PyTorch's formulas, bit for bit.</summary>
public class OptimizerStepTests
{
    [TestCase(false, 0.0, false, false), TestCase(false, 0.05, false, false), TestCase(true, 0.05, false, false),
     TestCase(false, 0.0, true, false), TestCase(true, 0.01, false, true)]
    public void MatchesTheScalarFormulaExactly(bool decoupled, double wd, bool maximize, bool amsgrad)
    {
        foreach (int n in new[] { 1, 15, 16, 1000 + 7, 70_001 })
        {
            var r = new System.Random(n);
            float[] Rand(double scale) => Enumerable.Range(0, n).Select(_ => (float)((r.NextDouble() - 0.5) * scale)).ToArray();
            float[] p = Rand(2), g = Rand(1), m = Rand(0.1), v = Rand(0.01).Select(Math.Abs).ToArray(), vm = v.Select(x => x * 1.5f).ToArray();
            var args = new AdamStepArgs(Lr: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: wd, DecoupledWeightDecay: decoupled,
                Amsgrad: amsgrad, Maximize: maximize, Step: 3);
            var tp = Tensor.FromArray(p); var tm = Tensor.FromArray(m); var tv = Tensor.FromArray(v);
            var tvm = amsgrad ? Tensor.FromArray(vm) : null;
            CpuBackend.Instance.AdamStep(tp, Tensor.FromArray(g), tm, tv, tvm, args);

            float b1 = 0.9f, b2 = 0.999f, omb1 = 1 - b1, omb2 = 1 - b2;
            float step = (float)(0.01 / (1 - Math.Pow(0.9, 3))), bc2 = (float)Math.Sqrt(1 - Math.Pow(0.999, 3)), eps = 1e-8f;
            float wdf = (float)wd, decay = (float)(1 - 0.01 * wd);
            for (int i = 0; i < n; i++)
            {
                float gi = maximize ? -g[i] : g[i], pi = p[i];
                if (wd != 0) { if (decoupled) pi *= decay; else gi += wdf * pi; }
                float mi = m[i] * b1 + gi * omb1, vi = v[i] * b2 + gi * gi * omb2;
                m[i] = mi; v[i] = vi;
                if (amsgrad) { vi = Math.Max(vm[i], vi); vm[i] = vi; }
                p[i] = pi - step * (mi / (MathF.Sqrt(vi) / bc2 + eps));
            }
            Assert.That(tp.ToArray<float>(), Is.EqualTo(p), $"param, n = {n}");
            Assert.That(tm.ToArray<float>(), Is.EqualTo(m), $"exp_avg, n = {n}");
            Assert.That(tv.ToArray<float>(), Is.EqualTo(v), $"exp_avg_sq, n = {n}");
            if (amsgrad) Assert.That(tvm!.ToArray<float>(), Is.EqualTo(vm), $"max_exp_avg_sq, n = {n}");
        }
    }

    [TestCase(0.0, 0.0, false, false, false), TestCase(0.9, 0.0, false, true, false), TestCase(0.9, 0.1, false, false, false),
     TestCase(0.9, 0.0, true, false, false), TestCase(0.5, 0.0, false, false, true)]
    public void SgdMatchesTheScalarFormulaExactly(double momentum, double dampening, bool nesterov, bool firstStep, bool maximize)
    {
        foreach (int n in new[] { 1, 15, 16, 1000 + 7, 70_001 })
        {
            var r = new System.Random(n);
            float[] Rand() => Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() - 0.5)).ToArray();
            float[] p = Rand(), g = Rand(), b = Rand();
            var args = new SgdStepArgs(Lr: 0.05, Momentum: momentum, Dampening: dampening, WeightDecay: 0.01, Nesterov: nesterov,
                Maximize: maximize, FirstStep: firstStep);
            var tp = Tensor.FromArray(p); var tb = Tensor.FromArray(b);
            CpuBackend.Instance.SgdStep(tp, Tensor.FromArray(g), momentum != 0 ? tb : null, args);
            float lr = 0.05f, mu = (float)momentum, damp = 1 - (float)dampening, wd = 0.01f;
            for (int i = 0; i < n; i++)
            {
                float d = maximize ? -g[i] : g[i];
                d += wd * p[i];
                if (momentum != 0)
                {
                    float m = firstStep ? d : mu * b[i] + damp * d;
                    b[i] = m;
                    d = nesterov ? d + mu * m : m;
                }
                p[i] -= lr * d;
            }
            Assert.That(tp.ToArray<float>(), Is.EqualTo(p), $"param, n = {n}");
            if (momentum != 0) Assert.That(tb.ToArray<float>(), Is.EqualTo(b), $"momentum buffer, n = {n}");
        }
    }
}
