using System.Text.Json.Nodes;
using Ember.Optim;

namespace Ember.NN.Tests;

/// <summary>Adadelta, Adamax, NAdam, RAdam and LBFGS against PyTorch 1.13 trajectories (tests/golden/nn_parity_gen.py).</summary>
public class ParityOptimizerTests
{
    private static double O(JsonObject o, string k, double d) => o[k] is { } v ? v.GetValue<double>() : d;
    private static bool B(JsonObject o, string k) => o[k] is { } v && v.GetValue<bool>();
    private static (double, double) Betas(JsonObject o) =>
        o["betas"] is JsonArray a ? (a[0]!.GetValue<double>(), a[1]!.GetValue<double>()) : (0.9, 0.999);

    private static Optimizer Make(string kind, JsonObject o, Tensor[] ps)
    {
        var (b1, b2) = Betas(o);
        return kind switch
        {
            "Adadelta" => new Adadelta(ps, O(o, "lr", 1.0), O(o, "rho", 0.9), O(o, "eps", 1e-6), O(o, "weight_decay", 0), B(o, "maximize")),
            "Adamax" => new Adamax(ps, O(o, "lr", 2e-3), b1, b2, O(o, "eps", 1e-8), O(o, "weight_decay", 0), B(o, "maximize")),
            "NAdam" => new NAdam(ps, O(o, "lr", 2e-3), b1, b2, O(o, "eps", 1e-8), O(o, "weight_decay", 0), O(o, "momentum_decay", 4e-3)),
            "RAdam" => new RAdam(ps, O(o, "lr", 1e-3), b1, b2, O(o, "eps", 1e-8), O(o, "weight_decay", 0)),
            "LBFGS" => new LBFGS(ps, O(o, "lr", 1), (int)O(o, "max_iter", 20), historySize: (int)O(o, "history_size", 100),
                lineSearchFn: o["line_search_fn"]?.GetValue<string>()),
            _ => throw new ArgumentException(kind),
        };
    }

    // f(p) = Σ c·(p − t)² + sin p, differentiated by autograd: the closure L-BFGS re-evaluates.
    private static Func<Tensor> Closure(Optimizer opt, Tensor[] ps, Action onEval) => () =>
    {
        opt.ZeroGrad();
        Tensor loss = Tensor.Scalar(0.0, DType.Float64);
        for (int i = 0; i < ps.Length; i++)
        {
            var c = Tensor.FromArray(OptimizerTests.C[i]).Reshape(OptimizerTests.Shapes[i]);
            var t = Tensor.FromArray(OptimizerTests.Tg[i]).Reshape(OptimizerTests.Shapes[i]);
            loss = loss + ((ps[i] - t).Square() * c + ps[i].Sin()).Sum();
        }
        loss.Backward();
        onEval();
        return loss;
    };

    public static IEnumerable<string> Cases => Golden.Names("optimizers_parity");

    [TestCaseSource(nameof(Cases))]
    public void TrajectoryMatchesPyTorch(string name)
    {
        var c = Golden.Case("optimizers_parity", name);
        var kind = c["optimizer"]!.GetValue<string>();
        var ps = OptimizerTests.MakeParams();
        foreach (var p in ps) p.RequiresGrad_();
        var opt = Make(kind, c["options"]!.AsObject(), ps);
        var traj = c["trajectory"]!.AsArray();
        int evals = 0;
        var closure = Closure(opt, ps, () => evals++);
        for (int step = 0; step < traj.Count; step++)
        {
            if (kind == "LBFGS")
            {
                double loss = opt.Step(closure).Item();
                Assert.That(loss, Is.EqualTo(c["losses"]![step]!.GetValue<double>()).Within(1e-9), $"{name} step {step + 1} loss");
                Assert.That(evals, Is.EqualTo(c["evals"]![step]!.GetValue<int>()), $"{name} step {step + 1} closure evaluations");
            }
            else
            {
                opt.ZeroGrad();
                for (int i = 0; i < ps.Length; i++) ps[i].Grad = OptimizerTests.GradOf(i, ps[i].Detach());
                opt.Step();
            }
            for (int i = 0; i < ps.Length; i++)
                Golden.AssertClose(ps[i], Golden.T(traj[step]![i]), 1e-9, 1e-7, $"{name} step {step + 1} param {i}");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void StateDictResumesTheSameTrajectory(string name)
    {
        var c = Golden.Case("optimizers_parity", name);
        var kind = c["optimizer"]!.GetValue<string>();
        var o = c["options"]!.AsObject();
        var ps = OptimizerTests.MakeParams();
        foreach (var p in ps) p.RequiresGrad_();
        var opt = Make(kind, o, ps);
        void Steps(Optimizer op, Tensor[] p, int n)
        {
            for (int s = 0; s < n; s++)
            {
                if (kind == "LBFGS") { op.Step(Closure(op, p, () => { })); continue; }
                op.ZeroGrad();
                for (int i = 0; i < p.Length; i++) p[i].Grad = OptimizerTests.GradOf(i, p[i].Detach());
                op.Step();
            }
        }
        int first = kind == "LBFGS" ? 1 : 5;
        Steps(opt, ps, first);
        var sd = opt.StateDict();
        var ps2 = ps.Select(p => p.Detach().Clone().RequiresGrad_()).ToArray();
        var o2 = (JsonObject)o.DeepClone();
        o2["lr"] = 123.0;   // overwritten by the loaded options
        var opt2 = Make(kind, o2, ps2);
        opt2.LoadStateDict(sd);
        Steps(opt, ps, 2); Steps(opt2, ps2, 2);
        for (int i = 0; i < ps.Length; i++) Golden.AssertClose(ps2[i], ps[i], 1e-12, 0, $"{name} resumed param {i}");
    }

    [Test]
    public void ConstructorValidationUsesPyTorchMessages()
    {
        var p = new[] { Tensor.Zeros(2) };
        Assert.That(() => new Adadelta(p, lr: -1), Throws.ArgumentException.With.Message.EqualTo("Invalid learning rate: -1"));
        Assert.That(() => new Adadelta(p, rho: 1.5), Throws.ArgumentException.With.Message.EqualTo("Invalid rho value: 1.5"));
        Assert.That(() => new Adadelta(p, eps: -1), Throws.ArgumentException.With.Message.EqualTo("Invalid epsilon value: -1"));
        Assert.That(() => new Adamax(p, beta2: 1), Throws.ArgumentException.With.Message.EqualTo("Invalid beta parameter at index 1: 1"));
        Assert.That(() => new Adamax(p, weightDecay: -0.5), Throws.ArgumentException.With.Message.EqualTo("Invalid weight_decay value: -0.5"));
        Assert.That(() => new NAdam(p, momentumDecay: -1), Throws.ArgumentException.With.Message.EqualTo("Invalid momentum_decay value: -1"));
        Assert.That(() => new NAdam(p, beta1: -0.1), Throws.ArgumentException.With.Message.EqualTo("Invalid beta parameter at index 0: -0.1"));
        Assert.That(() => new RAdam(p, eps: -1e-3), Throws.ArgumentException.With.Message.EqualTo("Invalid epsilon value: -0.001"));
        Assert.That(() => new LBFGS(p, lineSearchFn: "armijo"), Throws.ArgumentException.With.Message.EqualTo("only 'strong_wolfe' is supported"));
        Assert.That(() => new LBFGS([new ParamGroup(p), new ParamGroup([Tensor.Zeros(1)])], new LBFGSOptions { Lr = 1 }),
            Throws.ArgumentException.With.Message.EqualTo("LBFGS doesn't support per-parameter options (parameter groups)"));
        Assert.That(() => new LBFGS(p).Step(), Throws.InvalidOperationException.With.Message.Contains("closure"));
    }

    [Test]
    public void LbfgsMinimizesARosenbrockValleyOnFloat32()
    {
        // The classic test of a quasi-Newton method: f = (1 − x)² + 100(y − x²)², minimum at (1, 1).
        var xy = Tensor.FromArray([-1.5f, 2f]).RequiresGrad_();
        var opt = new LBFGS([xy], lr: 1, maxIter: 100, lineSearchFn: "strong_wolfe");
        Tensor Closure()
        {
            opt.ZeroGrad();
            var x = xy[0]; var y = xy[1];
            var f = (1.0 - x).Square() + (y - x.Square()).Square() * 100.0;
            f.Backward();
            return f;
        }
        for (int i = 0; i < 5; i++) opt.Step(Closure);
        Assert.That(xy.Detach().ToArray<float>(), Is.EqualTo(new[] { 1f, 1f }).Within(1e-3));
        Assert.That(opt.GetState(xy)["n_iter"].Item(), Is.GreaterThan(5));
    }

    [Test]
    public void LbfgsStrongWolfeStepSatisfiesBothConditions()
    {
        // A 1-D quartic along d = 1 from x = 0: f(t) = (t − 3)⁴, f'(t) = 4(t − 3)³.
        static (double, double[]) Obj(double t, double[] d) => (Math.Pow(t - 3, 4), [4 * Math.Pow(t - 3, 3)]);
        double f0 = 81, g0 = -108;
        // 0.1 is too short (extrapolation phase), 10 overshoots (zoom phase).
        foreach (double t0 in new[] { 0.1, 10.0 })
        {
            var (f, _, t, evals) = LBFGS.StrongWolfe(Obj, t0, [1.0], f0, [g0], g0);
            Assert.That(f, Is.LessThanOrEqualTo(f0 + 1e-4 * t * g0), $"t0 {t0}: sufficient decrease (Armijo)");
            Assert.That(Math.Abs(4 * Math.Pow(t - 3, 3)), Is.LessThanOrEqualTo(0.9 * Math.Abs(g0)), $"t0 {t0}: strong curvature");
            Assert.That(evals, Is.GreaterThan(1), $"t0 {t0}: the first trial is rejected");
        }
    }
}
