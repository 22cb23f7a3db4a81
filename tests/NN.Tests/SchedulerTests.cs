using Ember.Optim;

namespace Ember.NN.Tests;

public class SchedulerTests
{
    public static IEnumerable<string> Cases => Golden.Names("schedulers");

    [TestCaseSource(nameof(Cases))]
    public void LrSequenceMatchesPyTorch(string name)
    {
        var c = Golden.Case("schedulers", name);
        var expected = c["lrs"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray();
        var p = Tensor.Zeros(2);
        Optimizer opt = name == "onecycle_adam" ? new Adam([p], lr: 0.001) : new SGD([p], lr: 0.1, momentum: 0.9);
        var lrs = new List<double>();
        var moms = new List<double>();
        double Mom() => opt.ParamGroups[0].Options.CycleMomentum!.Value;
        if (name.StartsWith("plateau", StringComparison.Ordinal))
        {
            var metrics = c["metrics"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray();
            var s = name == "plateau"
                ? new ReduceLROnPlateau(opt, factor: 0.5, patience: 2, cooldown: 1, minLr: 0.01)
                : new ReduceLROnPlateau(opt, PlateauMode.Max, factor: 0.3, patience: 1, threshold: 0.05, thresholdMode: ThresholdMode.Abs);
            lrs.Add(opt.ParamGroups[0].Options.Lr);
            foreach (var m in metrics) { s.Step(m); lrs.Add(s.GetLastLr()[0]); }
        }
        else
        {
            LRScheduler s = name switch
            {
                "step" => new StepLR(opt, 7, 0.5),
                "multistep" => new MultiStepLR(opt, [3, 10, 11], 0.3),
                "exponential" => new ExponentialLR(opt, 0.9),
                "cosine" => new CosineAnnealingLR(opt, 10, 0.01),
                "linear" => new LinearLR(opt, 0.2, 1.0, 8),
                "sequential" => new SequentialLR(opt, [new LinearLR(opt, 0.1, 1.0, 5), new CosineAnnealingLR(opt, 20, 0.001)], [5]),
                "onecycle_cos" => new OneCycleLR(opt, 0.5, totalSteps: 30),
                "onecycle_linear_3phase" => new OneCycleLR(opt, 0.5, epochs: 3, stepsPerEpoch: 10, annealStrategy: AnnealStrategy.Linear, threePhase: true, pctStart: 0.25),
                "onecycle_adam" => new OneCycleLR(opt, 0.01, totalSteps: 30, baseMomentum: 0.8, maxMomentum: 0.9),
                _ => throw new ArgumentException(name),
            };
            lrs.Add(s.GetLastLr()[0]); moms.Add(Mom());
            for (int i = 0; i < expected.Length - 1; i++) { s.Step(); lrs.Add(s.GetLastLr()[0]); moms.Add(Mom()); }
            if (name.StartsWith("onecycle", StringComparison.Ordinal))
            {
                var em = c["momentums"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray();
                Assert.That(moms, Is.EqualTo(em).Within(1e-12), "momentum");
            }
        }
        Assert.That(lrs, Is.EqualTo(expected).Within(1e-12));
    }

    [Test]
    public void StateDictRoundTrip()
    {
        var opt = new SGD([Tensor.Zeros(2)], lr: 0.1);
        var s = new StepLR(opt, 3, 0.5);
        for (int i = 0; i < 4; i++) s.Step();
        var sd = s.StateDict();
        var opt2 = new SGD([Tensor.Zeros(2)], lr: 0.1);
        var s2 = new StepLR(opt2, 3, 0.5);
        s2.LoadStateDict(sd);
        Assert.That(s2.LastEpoch, Is.EqualTo(4));
        s.Step(); s2.Step(); s.Step(); s2.Step();
        Assert.That(s2.GetLastLr(), Is.EqualTo(s.GetLastLr()));
    }

    [Test]
    public void OneCycleRejectsStepsBeyondTotal()
    {
        var s = new OneCycleLR(new SGD([Tensor.Zeros(1)], lr: 0.1, momentum: 0.9), 1.0, totalSteps: 2);
        s.Step(); s.Step();
        Assert.That(() => s.Step(), Throws.InvalidOperationException.With.Message.Contains("total steps is 2"));
    }
}
