using System.Text.Json.Nodes;
using Ember.Optim;

namespace Ember.NN.Tests;

public class OptimizerTests
{
    // Same fixed problem as nn_gen.py: f(p) = Σ c·(p − t)² + sin p, ∇f = 2c(p − t) + cos p, for two float64 parameters.
    private static readonly double[][] P0 = [[0.5, -1.0, 2.0, 0.1, -0.3], [1.0, -2.0, 0.5, 0.0, 0.7, -1.5]];
    internal static readonly double[][] C = [[1.0, 0.5, 2.0, 1.5, 0.3], [0.2, 1.0, 0.7, 1.3, 0.4, 2.0]];
    internal static readonly double[][] Tg = [[1.0, 0.0, -1.0, 2.0, 0.5], [0.0, 1.0, -1.0, 0.5, -0.5, 2.0]];
    internal static readonly long[][] Shapes = [[5], [2, 3]];

    internal static Tensor[] MakeParams() =>
        [.. Enumerable.Range(0, 2).Select(i => Tensor.FromArray((double[])P0[i].Clone()).Reshape(Shapes[i]))];

    internal static Tensor GradOf(int i, Tensor p)
    {
        var c = Tensor.FromArray(C[i]).Reshape(Shapes[i]);
        var t = Tensor.FromArray(Tg[i]).Reshape(Shapes[i]);
        return (p - t) * c * 2.0 + p.Cos();
    }

    private static double O(JsonObject o, string k, double d) => o[k] is { } v ? v.GetValue<double>() : d;
    private static bool B(JsonObject o, string k) => o[k] is { } v && v.GetValue<bool>();
    private static (double, double) Betas(JsonObject o) =>
        o["betas"] is JsonArray a ? (a[0]!.GetValue<double>(), a[1]!.GetValue<double>()) : (0.9, 0.999);

    private static Optimizer Make(string kind, JsonObject o, Tensor[] ps, JsonArray? groups)
    {
        var (b1, b2) = Betas(o);
        switch (kind)
        {
            case "SGD":
                var d = new SgdOptions { Lr = O(o, "lr", 1e-3), Momentum = O(o, "momentum", 0), Dampening = O(o, "dampening", 0), WeightDecay = O(o, "weight_decay", 0), Nesterov = B(o, "nesterov"), Maximize = B(o, "maximize") };
                if (groups == null) return new SGD([new ParamGroup(ps)], d);
                var gs = groups.Select((g, i) => new ParamGroup([ps[i]], d with { Lr = O(g!.AsObject(), "lr", d.Lr), Momentum = O(g!.AsObject(), "momentum", d.Momentum) }));
                return new SGD(gs, d);
            case "Adam": return new Adam(ps, O(o, "lr", 1e-3), b1, b2, O(o, "eps", 1e-8), O(o, "weight_decay", 0), B(o, "amsgrad"), B(o, "maximize"));
            case "AdamW": return new AdamW(ps, O(o, "lr", 1e-3), b1, b2, O(o, "eps", 1e-8), O(o, "weight_decay", 1e-2), B(o, "amsgrad"), B(o, "maximize"));
            case "RMSprop": return new RMSprop(ps, O(o, "lr", 1e-2), O(o, "alpha", 0.99), O(o, "eps", 1e-8), O(o, "weight_decay", 0), O(o, "momentum", 0), B(o, "centered"), B(o, "maximize"));
            case "Adagrad": return new Adagrad(ps, O(o, "lr", 1e-2), O(o, "lr_decay", 0), O(o, "weight_decay", 0), O(o, "initial_accumulator_value", 0), O(o, "eps", 1e-10), B(o, "maximize"));
            case "LAMB":
                double? clamp = o.ContainsKey("max_trust_ratio") ? o["max_trust_ratio"]?.GetValue<double>() : 10;
                return new Lamb(ps, O(o, "lr", 1e-3), b1, b2, O(o, "eps", 1e-6), O(o, "weight_decay", 0), clamp, o["bias_correction"]?.GetValue<bool>() ?? true);
            default: throw new ArgumentException(kind);
        }
    }

    public static IEnumerable<string> Cases => Golden.Names("optimizers");

    [TestCaseSource(nameof(Cases))]
    public void TrajectoryMatchesPyTorch(string name)
    {
        var c = Golden.Case("optimizers", name);
        var ps = MakeParams();
        var opt = Make(c["optimizer"]!.GetValue<string>(), c["options"]!.AsObject(), ps, c["groups"] as JsonArray);
        var traj = c["trajectory"]!.AsArray();
        for (int step = 0; step < traj.Count; step++)
        {
            opt.ZeroGrad();
            for (int i = 0; i < ps.Length; i++) ps[i].Grad = GradOf(i, ps[i]);
            opt.Step();
            for (int i = 0; i < ps.Length; i++)
                Golden.AssertClose(ps[i], Golden.T(traj[step]![i]), 1e-5, 0, $"{name} step {step + 1} param {i}");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void StateDictResumesTheSameTrajectory(string name)
    {
        var c = Golden.Case("optimizers", name);
        var kind = c["optimizer"]!.GetValue<string>();
        var ps = MakeParams();
        var opt = Make(kind, c["options"]!.AsObject(), ps, c["groups"] as JsonArray);
        void Steps(Optimizer o, Tensor[] p, int n)
        {
            for (int s = 0; s < n; s++) { o.ZeroGrad(); for (int i = 0; i < p.Length; i++) p[i].Grad = GradOf(i, p[i]); o.Step(); }
        }
        Steps(opt, ps, 5);
        var sd = opt.StateDict();
        var ps2 = ps.Select(p => p.Clone()).ToArray();
        var opt2 = Make(kind, new JsonObject { ["lr"] = 123.0 }, ps2, c["groups"] is JsonArray g ? (JsonArray)g.DeepClone() : null);
        opt2.LoadStateDict(sd);
        Steps(opt, ps, 5); Steps(opt2, ps2, 5);
        for (int i = 0; i < ps.Length; i++) Golden.AssertClose(ps2[i], ps[i], 1e-12, 0, $"{name} resumed param {i}");
    }

    [Test]
    public void ConstructorValidationUsesPyTorchMessages()
    {
        var p = new[] { Tensor.Zeros(2) };
        Assert.That(() => new SGD(p, lr: -1), Throws.ArgumentException.With.Message.EqualTo("Invalid learning rate: -1"));
        Assert.That(() => new SGD(p, momentum: -0.5), Throws.ArgumentException.With.Message.EqualTo("Invalid momentum value: -0.5"));
        Assert.That(() => new SGD(p, nesterov: true), Throws.ArgumentException.With.Message.EqualTo("Nesterov momentum requires a momentum and zero dampening"));
        Assert.That(() => new Adam(p, beta1: 1.0), Throws.ArgumentException.With.Message.EqualTo("Invalid beta parameter at index 0: 1"));
        Assert.That(() => new Adam(p, eps: -1e-3), Throws.ArgumentException.With.Message.EqualTo("Invalid epsilon value: -0.001"));
        Assert.That(() => new AdamW(p, weightDecay: -1), Throws.ArgumentException.With.Message.EqualTo("Invalid weight_decay value: -1"));
        Assert.That(() => new RMSprop(p, alpha: -1), Throws.ArgumentException.With.Message.EqualTo("Invalid alpha value: -1"));
        Assert.That(() => new Adagrad(p, lrDecay: -1), Throws.ArgumentException.With.Message.EqualTo("Invalid lr_decay value: -1"));
        Assert.That(() => new SGD(Array.Empty<Tensor>()), Throws.ArgumentException.With.Message.EqualTo("optimizer got an empty parameter list"));
        Assert.That(() => new SGD([new ParamGroup(p), new ParamGroup(p)], new SgdOptions { Lr = 0.1 }),
            Throws.ArgumentException.With.Message.EqualTo("some parameters appear in more than one parameter group"));
    }

    [Test]
    public void ZeroGradSetsToNullOrZeroes()
    {
        var p = Tensor.Ones(3);
        var opt = new SGD([p], lr: 0.1);
        p.Grad = Tensor.Ones(3);
        opt.ZeroGrad(setToNull: false);
        Assert.That(p.Grad!.ToArray<float>(), Is.EqualTo(new float[3]));
        opt.ZeroGrad();
        Assert.That(p.Grad, Is.Null);
        opt.Step();  // no gradient: parameter untouched
        Assert.That(p.ToArray<float>(), Is.EqualTo(new float[] { 1, 1, 1 }));
    }

    [Test]
    public void Float32ParametersUseTheFusedKernels()
    {
        var p = Tensor.FromArray([1f, -2f, 3f]);
        var opt = new Adam([p], lr: 0.1);
        p.Grad = Tensor.FromArray([0.5f, -0.5f, 1f]);
        opt.Step();
        // First Adam step moves every element by lr·sign(g) (up to ε).
        Golden.AssertClose(p, Tensor.FromArray([0.9f, -1.9f, 2.9f]), 1e-6, 0, "adam step 1");
    }

    [Test]
    public void ForeachOptionGivesTheSameStepsAndSurvivesTheStateDict()
    {
        // On the CPU the foreach members loop over the single-tensor ones: the same bits, and a non-contiguous
        // parameter (a transposed leaf) takes the single-tensor path with its contiguous copy.
        Tensor[] Params() => [Tensor.FromArray([1f, -2f, 3f]), Tensor.FromArray([0.5f, 1f, -1f, 2f, 0f, 3f]).Reshape(2, 3).T];
        var a = Params(); var b = Params();
        Assert.That(a[1].IsContiguous, Is.False);
        var oa = new AdamW(a, lr: 0.1, amsgrad: true, @foreach: true);
        var ob = new AdamW(b, lr: 0.1, amsgrad: true, @foreach: false);
        for (int step = 0; step < 3; step++)
            foreach (var (o, ps) in new[] { (oa, a), (ob, b) })
            {
                for (int i = 0; i < ps.Length; i++) ps[i].Grad = Tensor.FromArray([.. Enumerable.Range(0, (int)ps[i].Numel).Select(k => (float)Math.Sin(k + step + i))]).Reshape(ps[i].ShapeSpan.ToArray());
                o.Step();
            }
        for (int i = 0; i < a.Length; i++) Assert.That(a[i].ToArray<float>(), Is.EqualTo(b[i].ToArray<float>()), $"parameter {i}");
        var sd = oa.StateDict();
        Assert.That(sd.ParamGroups[0]!["Foreach"]!.GetValue<bool>(), Is.True);
        var oc = new AdamW(b, lr: 0.1);
        oc.LoadStateDict(sd);
        Assert.That(((AdamOptions)oc.ParamGroups[0].Options).Foreach, Is.True);
        // A state dict saved before the option existed (no "Foreach" key) loads as automatic.
        var old = new SGD(b, lr: 0.1, momentum: 0.9).StateDict();
        old.ParamGroups[0]!.AsObject().Remove("Foreach");
        var od = new SGD(b, lr: 0.1, momentum: 0.9, @foreach: false);
        od.LoadStateDict(old);
        Assert.That(((SgdOptions)od.ParamGroups[0].Options).Foreach, Is.Null);
    }

    public static IEnumerable<string> ClipCases => Golden.Names("clipgrad");

    [TestCaseSource(nameof(ClipCases))]
    public void ClipGradNormMatchesPyTorch(string name)
    {
        var c = Golden.Case("clipgrad", name);
        var ps = MakeParams();
        for (int i = 0; i < ps.Length; i++) ps[i].Grad = GradOf(i, ps[i]);
        double nt = c["norm_type"]!.GetValueKind() == System.Text.Json.JsonValueKind.String ? double.PositiveInfinity : c["norm_type"]!.GetValue<double>();
        var total = ClipGrad.ClipGradNorm(ps, 1.5, nt);
        Assert.That(total.Item(), Is.EqualTo(c["total"]!.GetValue<double>()).Within(1e-10));
        for (int i = 0; i < ps.Length; i++) Golden.AssertClose(ps[i].Grad!, Golden.T(c["grads"]![i]), 1e-10, 1e-8, $"grad {i}");
    }

    [Test]
    public void ClipGradValueClamps()
    {
        var p = Tensor.Zeros(3);
        p.Grad = Tensor.FromArray([-3f, 0.5f, 2f]);
        ClipGrad.ClipGradValue([p], 1);
        Assert.That(p.Grad.ToArray<float>(), Is.EqualTo(new[] { -1f, 0.5f, 1f }));
    }
}
