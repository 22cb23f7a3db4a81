namespace Ember.NN.Tests;

public class ModuleTests
{
    private sealed class Net : Module<Tensor, Tensor>
    {
        public Net()
        {
            RegisterModule("features", new Sequential(new Linear(3, 4), new ReLU(), new Linear(4, 2, bias: false)));
            RegisterModule("bn", new BatchNorm1d(2));
            RegisterParameter("scale", Tensor.Ones(1));
            RegisterBuffer("scratch", Tensor.Zeros(1), persistent: false);
        }
        public override Tensor Forward(Tensor x) => ((BatchNorm1d)GetModule("bn")!).Forward(((Sequential)GetModule("features")!).Forward(x)) * GetParameter("scale")!;
    }

    [Test]
    public void NamesFollowPyTorch()
    {
        var n = new Net();
        Assert.That(n.NamedParameters().Select(p => p.Name), Is.EqualTo(new[] { "scale", "features.0.weight", "features.0.bias", "features.2.weight", "bn.weight", "bn.bias" }));
        Assert.That(n.StateDict().Keys, Is.EqualTo(new[] { "scale", "features.0.weight", "features.0.bias", "features.2.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked" }));
        Assert.That(n.NamedBuffers().Select(b => b.Name), Does.Contain("scratch"));
        Assert.That(n.NumParameters(), Is.EqualTo(1 + 12 + 4 + 8 + 2 + 2));
        Assert.That(n.Modules().Count(), Is.EqualTo(6));
        Assert.That(n.Parameters().All(p => p.RequiresGrad), Is.True);
    }

    [Test]
    public void ToStringLooksLikePyTorch()
    {
        var s = new Sequential(new Linear(2, 3), new ReLU(), new Sequential(new Dropout(0.1)));
        Assert.That(s.ToString(), Is.EqualTo(
            "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (1): ReLU()\n  (2): Sequential(\n    (0): Dropout(p=0.1, inplace=False)\n  )\n)"));
    }

    [Test]
    public void StateDictRoundTripAndStrictErrors()
    {
        var a = new Net(); var b = new Net();
        b.LoadStateDict(a.StateDict());
        foreach (var (k, v) in a.StateDict()) Assert.That(Golden.D(b.StateDict()[k]), Is.EqualTo(Golden.D(v)), k);
        var sd = a.StateDict();
        sd.Remove("scale"); sd["extra"] = Tensor.Zeros(1);
        var ex = Assert.Throws<ArgumentException>(() => b.LoadStateDict(sd))!;
        Assert.That(ex.Message, Does.Contain("Missing key(s) in state_dict: \"scale\"").And.Contain("Unexpected key(s) in state_dict: \"extra\""));
        var r = b.LoadStateDict(sd, strict: false);
        Assert.That(r.MissingKeys, Is.EqualTo(new[] { "scale" }));
        Assert.That(r.UnexpectedKeys, Is.EqualTo(new[] { "extra" }));
        var bad = a.StateDict(); bad["features.0.weight"] = Tensor.Zeros(5, 5);
        Assert.That(() => b.LoadStateDict(bad, strict: false), Throws.ArgumentException.With.Message.Contains("size mismatch for features.0.weight"));
    }

    [Test]
    public void TrainEvalToDTypeZeroGrad()
    {
        var n = new Net();
        n.Eval();
        Assert.That(n.Modules().All(m => !m.Training), Is.True);
        n.Train();
        n.To(DType.Float64);
        Assert.That(n.Parameters().All(p => p.DType == DType.Float64 && p.RequiresGrad && p.IsLeaf), Is.True);
        Assert.That(n.StateDict()["bn.num_batches_tracked"].DType, Is.EqualTo(DType.Int64));
        var y = n.Forward(Tensor.Randn([4, 3], DType.Float64));
        y.Sum().Backward();
        Assert.That(n.Parameters().All(p => p.Grad is not null), Is.True);
        n.ZeroGrad(setToNull: false);
        Assert.That(n.Parameters().All(p => Golden.D(p.Grad!).All(v => v == 0)), Is.True);
        n.ZeroGrad();
        Assert.That(n.Parameters().All(p => p.Grad is null), Is.True);
        n.RequiresGrad_(false);
        Assert.That(n.Parameters().Any(p => p.RequiresGrad), Is.False);
    }

    [Test]
    public void ContainersIndexAndApply()
    {
        var s = new Sequential(new Linear(2, 2), new Tanh());
        s.Add(new Linear(2, 1));
        Assert.That(s.Count, Is.EqualTo(3));
        Assert.That(s[-1], Is.InstanceOf<Linear>());
        var list = new ModuleList(new ReLU(), new Linear(1, 1));
        Assert.That(list.NamedParameters().Select(p => p.Name), Is.EqualTo(new[] { "1.weight", "1.bias" }));
        var dict = new ModuleDict(("enc", new Linear(1, 1)));
        Assert.That(dict.StateDict().Keys, Is.EqualTo(new[] { "enc.weight", "enc.bias" }));
        int count = 0;
        s.Apply(m => { if (m is Linear l) { Init.Zeros_(l.Weight); count++; } });
        Assert.That(count, Is.EqualTo(2));
        Assert.That(((Linear)s[0]).Weight.ToArray<float>(), Is.All.EqualTo(0));
    }

    [Test]
    public void DefaultInitBoundsMatchPyTorch()
    {
        Tensor.ManualSeed(3);
        var l = new Linear(16, 200);
        double bound = 1 / Math.Sqrt(16);
        Assert.That(Golden.D(l.Weight).Max(), Is.LessThanOrEqualTo(bound).And.GreaterThan(bound * 0.9));
        Assert.That(Golden.D(l.Bias!).Min(), Is.GreaterThanOrEqualTo(-bound));
        var w = Tensor.Empty([6, 4]);
        Init.Orthogonal_(w);
        var wtw = w.T.MatMul(w);
        Golden.AssertClose(wtw, Tensor.Eye(4), 1e-5, 0, "WᵀW");
        Assert.That(Init.CalculateGain(Nonlinearity.LeakyRelu, 0.2), Is.EqualTo(Math.Sqrt(2 / 1.04)).Within(1e-12));
        var k = Init.KaimingNormal_(Tensor.Empty([400, 100]), mode: FanMode.FanIn, nonlinearity: Nonlinearity.Relu);
        var std = Math.Sqrt(Golden.D(k).Select(v => v * v).Average());
        Assert.That(std, Is.EqualTo(Math.Sqrt(2.0 / 100)).Within(0.005));
    }
}
