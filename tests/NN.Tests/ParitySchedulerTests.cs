using Ember.Optim;

namespace Ember.NN.Tests;

/// <summary>LambdaLR, MultiplicativeLR, CosineAnnealingWarmRestarts, CyclicLR, PolynomialLR and ChainedScheduler against PyTorch 1.13 (tests/golden/nn_parity_gen.py).</summary>
public class ParitySchedulerTests
{
    private static LRScheduler Make(string name, Optimizer o) => name switch
    {
        "lambda" => new LambdaLR(o, e => 1.0 / (1 + 0.3 * e)),
        "multiplicative" => new MultiplicativeLR(o, e => e % 2 == 1 ? 0.95 : 0.9),
        "warm_restarts" => new CosineAnnealingWarmRestarts(o, 5, etaMin: 0.01),
        "warm_restarts_mult2" => new CosineAnnealingWarmRestarts(o, 3, tMult: 2, etaMin: 0.001),
        "cyclic_triangular" => new CyclicLR(o, 0.01, 0.1, stepSizeUp: 4),
        "cyclic_triangular2_asym" => new CyclicLR(o, 0.01, 0.1, stepSizeUp: 3, stepSizeDown: 5, mode: CyclicMode.Triangular2),
        "cyclic_exp_range_nomom" => new CyclicLR(o, 0.01, 0.1, stepSizeUp: 4, mode: CyclicMode.ExpRange, gamma: 0.95, cycleMomentum: false),
        "polynomial" => new PolynomialLR(o, totalIters: 12, power: 2.0),
        "chained" => new ChainedScheduler([new LinearLR(o, 0.2, 1.0, 6), new ExponentialLR(o, 0.95), new MultiStepLR(o, [10, 20], 0.5)]),
        "chained_poly_mult" => new ChainedScheduler([new PolynomialLR(o, totalIters: 25, power: 0.5), new MultiplicativeLR(o, _ => 0.97)]),
        _ => throw new ArgumentException(name),
    };

    public static IEnumerable<string> Cases => Golden.Names("schedulers_parity").Where(n => n != "warm_restarts_fractional");

    [TestCaseSource(nameof(Cases))]
    public void LrAndMomentumSequencesMatchPyTorch(string name)
    {
        var c = Golden.Case("schedulers_parity", name);
        var expected = c["lrs"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray();
        var expectedMom = c["momentums"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray();
        var opt = new SGD([Tensor.Zeros(2)], lr: 0.1, momentum: 0.9);
        var s = Make(name, opt);
        var lrs = new List<double> { opt.ParamGroups[0].Options.Lr };
        var moms = new List<double> { opt.ParamGroups[0].Options.CycleMomentum!.Value };
        for (int i = 0; i < expected.Length - 1; i++)
        {
            s.Step();
            lrs.Add(opt.ParamGroups[0].Options.Lr);
            moms.Add(opt.ParamGroups[0].Options.CycleMomentum!.Value);
            Assert.That(s.GetLastLr()[0], Is.EqualTo(lrs[^1]), "GetLastLr is the lr set");
        }
        Assert.That(lrs, Is.EqualTo(expected).Within(1e-12), "lr");
        Assert.That(moms, Is.EqualTo(expectedMom).Within(1e-12), "momentum");
    }

    [Test]
    public void WarmRestartsWithFractionalEpochsMatchPyTorch()
    {
        var opt = new SGD([Tensor.Zeros(2)], lr: 0.1);
        var s = new CosineAnnealingWarmRestarts(opt, 2, tMult: 2);
        foreach (var pt in Golden.Case("schedulers_parity", "warm_restarts_fractional")["points"]!.AsArray())
        {
            double e = pt![0]!.GetValue<double>();
            s.Step(e);
            Assert.That(opt.ParamGroups[0].Options.Lr, Is.EqualTo(pt[1]!.GetValue<double>()).Within(1e-12), $"epoch {e}");
            Assert.That(s.LastEpoch, Is.EqualTo((int)Math.Floor(e)));
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void StateDictResumes(string name)
    {
        var opt = new SGD([Tensor.Zeros(2)], lr: 0.1, momentum: 0.9);
        var s = Make(name, opt);
        for (int i = 0; i < 7; i++) s.Step();
        var sd = s.StateDict();
        var optSd = opt.StateDict();
        var opt2 = new SGD([Tensor.Zeros(2)], lr: 0.1, momentum: 0.9);
        var s2 = Make(name, opt2);
        opt2.LoadStateDict(optSd);
        s2.LoadStateDict(sd);
        for (int i = 0; i < 5; i++)
        {
            s.Step(); s2.Step();
            Assert.That(opt2.ParamGroups[0].Options.Lr, Is.EqualTo(opt.ParamGroups[0].Options.Lr).Within(1e-15), $"step {i}");
        }
    }

    [Test]
    public void ConstructorValidationUsesPyTorchMessages()
    {
        SGD Opt() => new([new ParamGroup([Tensor.Zeros(1)]), new ParamGroup([Tensor.Zeros(1)])], new SgdOptions { Lr = 0.1 });
        Assert.That(() => new LambdaLR(Opt(), [_ => 1.0, _ => 1.0, _ => 1.0]), Throws.ArgumentException.With.Message.EqualTo("Expected 2 lr_lambdas, but got 3"));
        Assert.That(() => new MultiplicativeLR(Opt(), [_ => 1.0, _ => 1.0, _ => 1.0]), Throws.ArgumentException.With.Message.EqualTo("Expected 2 lr_lambdas, but got 3"));
        Assert.That(() => new CosineAnnealingWarmRestarts(Opt(), 0), Throws.ArgumentException.With.Message.EqualTo("Expected positive integer T_0, but got 0"));
        Assert.That(() => new CosineAnnealingWarmRestarts(Opt(), 3, tMult: 0), Throws.ArgumentException.With.Message.EqualTo("Expected integer T_mult >= 1, but got 0"));
        Assert.That(() => new CosineAnnealingWarmRestarts(Opt(), 3).Step(-1.0), Throws.ArgumentException.With.Message.EqualTo("Expected non-negative epoch, but got -1"));
        Assert.That(() => new CyclicLR(Opt(), [0.1, 0.1, 0.1], [1.0], 4, null, _ => 1.0), Throws.ArgumentException.With.Message.EqualTo("expected 2 values for base_lr, got 3"));
        Assert.That(() => new CyclicLR(new Adagrad([Tensor.Zeros(1)]), 0.01, 0.1), Throws.ArgumentException.With.Message.EqualTo("optimizer must support momentum with `cycle_momentum` option enabled"));
        var a = new SGD([Tensor.Zeros(1)], lr: 0.1);
        var b = new SGD([Tensor.Zeros(1)], lr: 0.1);
        Assert.That(() => new ChainedScheduler([new StepLR(a, 2), new StepLR(b, 2)]),
            Throws.ArgumentException.With.Message.EqualTo("ChainedScheduler expects all schedulers to belong to the same optimizer, but got schedulers at index 0 and 1 to be different"));
    }

    [Test]
    public void CyclicLrCustomScaleFunctionPerGroup()
    {
        // Two groups with their own bounds; scale halves every iteration ('iterations' mode).
        var opt = new SGD([new ParamGroup([Tensor.Zeros(1)]), new ParamGroup([Tensor.Zeros(1)])], new SgdOptions { Lr = 0.5, Momentum = 0.9 });
        var s = new CyclicLR(opt, [0.0, 0.1], [1.0, 0.3], 2, null, it => Math.Pow(0.5, it), scaleByCycle: false, cycleMomentum: false);
        s.Step();   // iteration 1: phase 1/2, scale 1/2
        Assert.That(opt.ParamGroups[0].Options.Lr, Is.EqualTo(0.25).Within(1e-15));
        Assert.That(opt.ParamGroups[1].Options.Lr, Is.EqualTo(0.1 + 0.2 * 0.25).Within(1e-15));
        Assert.That(((SgdOptions)opt.ParamGroups[0].Options).Momentum, Is.EqualTo(0.9), "momentum untouched");
    }
}
