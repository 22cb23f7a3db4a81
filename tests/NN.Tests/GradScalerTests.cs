using System.Text.Json.Nodes;
using Ember.Amp;
using Ember.Optim;

namespace Ember.NN.Tests;

/// <summary>GradScaler against PyTorch 1.13's (tests/golden/amp_gen.py → golden/nn/amp_scaler.json) and its contract.</summary>
public class GradScalerTests
{
    /// <summary>
    /// The scenario of amp_gen.py's scaler_run: SGD(lr 0.1) on w [4] with loss Σ w·x_t, one gradient element made
    /// Inf/−Inf/NaN at the listed steps. Returns per step (scale used, stepped, scale after, tracker after, w after).
    /// </summary>
    internal static List<(double Used, bool Stepped, double Scale, int Tracker, float[] W)> Run(Device device, int steps,
        IReadOnlyDictionary<int, string> bad, double initScale = 65536, double growthFactor = 2, double backoffFactor = 0.5,
        int growthInterval = 2000, bool unscaleFirst = false) => Run(device, steps, bad, out _, initScale, growthFactor, backoffFactor, growthInterval, unscaleFirst);

    internal static List<(double Used, bool Stepped, double Scale, int Tracker, float[] W)> Run(Device device, int steps,
        IReadOnlyDictionary<int, string> bad, out JsonObject finalState, double initScale = 65536, double growthFactor = 2,
        double backoffFactor = 0.5, int growthInterval = 2000, bool unscaleFirst = false)
    {
        var w = Tensor.FromArray(new[] { 0.5f, -1f, 2f, 0.25f }).To(device).RequiresGrad_();
        var opt = new SGD([w], lr: 0.1);
        var scaler = new GradScaler(initScale, growthFactor, backoffFactor, growthInterval);
        var result = new List<(double, bool, double, int, float[])>();
        for (int t = 0; t < steps; t++)
        {
            var x = Tensor.FromArray(new[] { 1f, 2f, -3f, 0.5f }).To(device) * ((t % 7) + 1) / 8.0;
            opt.ZeroGrad();
            var loss = (w * x).Sum();
            double used = scaler.GetScale();
            scaler.Scale(loss).Backward();
            if (bad.TryGetValue(t, out var kind))
                using (Autograd.NoGrad())
                    w.Grad!.Narrow(0, t % 4, 1).Fill_(kind == "nan" ? double.NaN : kind == "inf" ? double.PositiveInfinity : double.NegativeInfinity);
            if (unscaleFirst) scaler.Unscale(opt);
            bool stepped = scaler.Step(opt);
            scaler.Update();
            result.Add((used, stepped, scaler.GetScale(), scaler.GrowthTracker, w.Detach().Cpu().ToArray<float>()));
        }
        finalState = scaler.StateDict();
        return result;
    }

    public static IEnumerable<string> GoldenRuns() => Golden.Names("amp_scaler");

    [TestCaseSource(nameof(GoldenRuns))]
    public void TrajectoryMatchesPyTorch(string name)
    {
        var g = Golden.Case("amp_scaler", name);
        var bad = g["bad"]!.AsObject().ToDictionary(kv => int.Parse(kv.Key), kv => kv.Value!.GetValue<string>());
        var records = g["records"]!.AsArray();
        var run = Run(Device.Cpu, g["steps"]!.GetValue<int>(), bad, out var state, g["init_scale"]!.GetValue<double>(), g["growth_factor"]!.GetValue<double>(),
            g["backoff_factor"]!.GetValue<double>(), g["growth_interval"]!.GetValue<int>(), g["unscale_first"]!.GetValue<bool>());
        Assert.That(run, Has.Count.EqualTo(records.Count));
        for (int t = 0; t < run.Count; t++)
        {
            var r = records[t]!.AsObject();
            Assert.That(run[t].Used, Is.EqualTo(r["scale_used"]!.GetValue<double>()), $"step {t}: scale used");
            Assert.That(run[t].Stepped, Is.EqualTo(r["stepped"]!.GetValue<bool>()), $"step {t}: stepped");
            Assert.That(run[t].Scale, Is.EqualTo(r["scale"]!.GetValue<double>()), $"step {t}: scale after update");
            Assert.That(run[t].Tracker, Is.EqualTo(r["growth_tracker"]!.GetValue<int>()), $"step {t}: growth tracker");
            var p = r["param"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
            for (int i = 0; i < 4; i++)
                Assert.That(run[t].W[i], Is.EqualTo(p[i]).Within(2e-6), $"step {t}: w[{i}]");
        }
        var sd = g["state_dict"]!.AsObject();
        Assert.That(state.Select(kv => kv.Key), Is.EqualTo(sd.Select(kv => kv.Key)), "state dict keys");
        foreach (var (key, value) in sd)
            Assert.That(double.Parse(state[key]!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(value!.GetValue<double>()), $"state_dict[{key}]");
    }

    [Test]
    public void InjectedInfSkipsExactlyThatStepAndHalvesTheScale()
    {
        var clean = Run(Device.Cpu, 6, new Dictionary<int, string>());
        var run = Run(Device.Cpu, 6, new Dictionary<int, string> { [2] = "inf" });
        for (int t = 0; t < 6; t++)
        {
            Assert.That(run[t].Stepped, Is.EqualTo(t != 2), $"step {t}");
            Assert.That(run[t].Scale, Is.EqualTo(t < 2 ? 65536 : 32768), $"scale after step {t}");
        }
        Assert.That(run[2].W, Is.EqualTo(run[1].W), "the skipped step left the parameters as they were");
        Assert.That(run[1].W, Is.EqualTo(clean[1].W), "steps before the Inf are the clean run's");
        Assert.That(run[3].W, Is.Not.EqualTo(run[2].W), "the step after the Inf runs");
    }

    [Test]
    public void UnscaleDividesTheGradientsBeforeTheStep()
    {
        var w = Tensor.FromArray(new[] { 1f, 2f }).RequiresGrad_();
        var opt = new SGD([w], lr: 0.1);
        var scaler = new GradScaler(initScale: 1024);
        scaler.Scale((w * w).Sum()).Backward();
        Assert.That(w.Grad!.ToArray<float>(), Is.EqualTo(new[] { 2048f, 4096f }));
        scaler.Unscale(opt);
        Assert.That(w.Grad!.ToArray<float>(), Is.EqualTo(new[] { 2f, 4f }));
        var ex = Assert.Throws<InvalidOperationException>(() => scaler.Unscale(opt));
        Assert.That(ex!.Message, Does.Contain("Unscale() has already been called"));
        Assert.That(scaler.Step(opt), Is.True);
        Assert.That(w.ToArray<float>(), Is.EqualTo(new[] { 0.8f, 1.6f }).Within(1e-6));
        Assert.That(Assert.Throws<InvalidOperationException>(() => scaler.Step(opt))!.Message, Does.Contain("Step() has already been called"));
        Assert.That(Assert.Throws<InvalidOperationException>(() => scaler.Unscale(opt))!.Message, Does.Contain("after Step()"));
        scaler.Update();
        Assert.That(Assert.Throws<InvalidOperationException>(() => scaler.Update())!.Message, Does.Contain("No inf checks were recorded"));
    }

    [Test]
    public void ArgumentsAndDisabledScalerFollowPyTorch()
    {
        var s = new GradScaler();
        Assert.That((s.GetScale(), s.GrowthFactor, s.BackoffFactor, s.GrowthInterval, s.IsEnabled), Is.EqualTo((65536.0, 2.0, 0.5, 2000, true)));
        Assert.That(Assert.Throws<ArgumentException>(() => new GradScaler(growthFactor: 1.0))!.Message, Does.Contain("The growth factor must be > 1.0."));
        Assert.That(Assert.Throws<ArgumentException>(() => new GradScaler(backoffFactor: 1.0))!.Message, Does.Contain("The backoff factor must be < 1.0."));
        Assert.That(Assert.Throws<InvalidOperationException>(() => s.Update())!.Message, Does.Contain("Scale(loss)"));

        var off = new GradScaler(enabled: false);
        var w = Tensor.FromArray(new[] { 1f }).RequiresGrad_();
        var opt = new SGD([w], lr: 0.5);
        var loss = (w * 3.0).Sum();
        Assert.That(off.Scale(loss), Is.SameAs(loss));
        loss.Backward();
        Assert.That(off.Step(opt), Is.True);
        off.Update();
        Assert.That(w.ToArray<float>()[0], Is.EqualTo(-0.5f));
        Assert.That((off.GetScale(), off.StateDict().Count), Is.EqualTo((1.0, 0)));
        Assert.That(Assert.Throws<InvalidOperationException>(() => new GradScaler().LoadStateDict(off.StateDict()))!.Message,
            Does.Contain("saved from a disabled instance"));
    }

    [Test]
    public void StateDictRoundTrips()
    {
        var run = new GradScaler(initScale: 256, growthFactor: 3, backoffFactor: 0.25, growthInterval: 5);
        var w = Tensor.FromArray(new[] { 1f, -1f }).RequiresGrad_();
        var opt = new SGD([w], lr: 0.01);
        for (int t = 0; t < 7; t++)
        {
            opt.ZeroGrad();
            run.Scale((w * w).Sum()).Backward();
            run.Step(opt);
            run.Update();
        }
        var sd = run.StateDict();
        Assert.That(sd.ToJsonString(), Is.EqualTo("{\"scale\":768,\"growth_factor\":3,\"backoff_factor\":0.25,\"growth_interval\":5,\"_growth_tracker\":2}"));
        var copy = new GradScaler();
        copy.LoadStateDict(JsonNode.Parse(sd.ToJsonString())!.AsObject());
        Assert.That((copy.GetScale(), copy.GrowthFactor, copy.BackoffFactor, copy.GrowthInterval, copy.GrowthTracker), Is.EqualTo((768.0, 3.0, 0.25, 5, 2)));
        Assert.That(copy.StateDict().ToJsonString(), Is.EqualTo(sd.ToJsonString()));
        Assert.Throws<ArgumentException>(() => copy.LoadStateDict(new JsonObject { ["scale"] = 1.0 }));
        Assert.That(copy.GetScale(), Is.EqualTo(768.0), "a failed load changes nothing");
    }
}
