namespace Ember.Conformance;

/// <summary>
/// Fused SGD and Adam/AdamW steps on the device against the CPU backend and float64 host versions of PyTorch's formulas.
/// </summary>
public abstract class OptimizerTests(string device) : DeviceTest(device)
{
    private const int N = 37;

    [TestCase(0.0, 0.0, false, false, false), TestCase(0.9, 0.0, false, false, true), TestCase(0.9, 0.1, false, true, false),
     TestCase(0.9, 0.0, true, false, false), TestCase(0.0, 0.0, false, false, false)]
    public void SgdStep(double momentum, double dampening, bool nesterov, bool maximize, bool firstStep)
    {
        var args = new SgdStepArgs(Lr: 0.1, Momentum: momentum, Dampening: dampening, WeightDecay: 0.01, Nesterov: nesterov, Maximize: maximize, FirstStep: firstStep);
        Conform(d => [Rnd(d, [N], 1), Rnd(d, [N], 2), momentum != 0 ? Rnd(d, [N], 3) : null],
            (be, t) => be.SgdStep(t[0]!, t[1]!, t[2], args), momentum != 0 ? [0, 2] : [0], 1e-5, 1e-6,
            reference: t =>
            {
                var p = Host(t[0]!); var g = Host(t[1]!); var buf = t[2] is null ? null : Host(t[2]!);
                for (int i = 0; i < N; i++)
                {
                    double dp = maximize ? -g[i] : g[i];
                    dp += args.WeightDecay * p[i];
                    if (buf != null)
                    {
                        buf[i] = firstStep ? dp : momentum * buf[i] + (1 - dampening) * dp;
                        dp = nesterov ? dp + momentum * buf[i] : buf[i];
                    }
                    p[i] -= args.Lr * dp;
                }
                return buf is null ? [p] : [p, buf];
            });
    }

    [TestCase(false, false, false, 1), TestCase(true, false, false, 3), TestCase(false, true, false, 5), TestCase(true, true, true, 2)]
    public void AdamStep(bool decoupled, bool amsgrad, bool maximize, long step)
    {
        var args = new AdamStepArgs(Lr: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.05, DecoupledWeightDecay: decoupled,
            Amsgrad: amsgrad, Maximize: maximize, Step: step);
        Conform(d => [Rnd(d, [N], 1), Rnd(d, [N], 2), Rnd(d, [N], 3, scale: 0.1), Pos(d, [N], 4, 0.01, 0.2), amsgrad ? Pos(d, [N], 5, 0.01, 0.2) : null],
            (be, t) => be.AdamStep(t[0]!, t[1]!, t[2]!, t[3]!, t[4], args), amsgrad ? [0, 2, 3, 4] : [0, 2, 3], 1e-5, 1e-6,
            reference: t =>
            {
                var p = Host(t[0]!); var g = Host(t[1]!); var m = Host(t[2]!); var v = Host(t[3]!); var vmax = t[4] is null ? null : Host(t[4]!);
                double bc1 = 1 - Math.Pow(args.Beta1, step), bc2 = 1 - Math.Pow(args.Beta2, step);
                for (int i = 0; i < N; i++)
                {
                    double gi = maximize ? -g[i] : g[i];
                    if (decoupled) p[i] *= 1 - args.Lr * args.WeightDecay; else gi += args.WeightDecay * p[i];
                    m[i] += (1 - args.Beta1) * (gi - m[i]);
                    v[i] = args.Beta2 * v[i] + (1 - args.Beta2) * gi * gi;
                    double vv = v[i];
                    if (vmax != null) { vmax[i] = Math.Max(vmax[i], v[i]); vv = vmax[i]; }
                    p[i] -= args.Lr / bc1 * m[i] / (Math.Sqrt(vv) / Math.Sqrt(bc2) + args.Eps);
                }
                return vmax is null ? [p, m, v] : [p, m, v, vmax];
            });
    }
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class OptimizerSteps(string device) : OptimizerTests(device);
