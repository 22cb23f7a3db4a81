using Ember.Ilgpu;
using Ember.Optim;

namespace Ember.Conformance;

/// <summary>
/// Adam, AdamW and SGD with <c>foreach</c> on and off: the same parameters and state after five steps, bit for bit, and
/// fewer kernel launches per step with foreach (the automatic choice picks it on ILGPU devices).
/// </summary>
public abstract class ForeachOptimizerTests(string device) : DeviceTest(device)
{
    private static readonly long[][] Shapes = [[4, 6], [6], [1], [3, 3, 2], [40], [2, 5], [7], [16, 4], [3], [5, 5], [2]];

    // The parameters (one float64 among float32 ones, so a group holds two dtypes) and a deterministic gradient per step.
    private List<Tensor> Parameters() =>
        Shapes.Select((s, i) => Rnd(Dev, s, i + 1, i == 4 ? DType.Float64 : DType.Float32).RequiresGrad_()).ToList();

    private void Train(Optimizer opt, IReadOnlyList<Tensor> ps, int steps, int firstSkipped = -1)
    {
        for (int step = 0; step < steps; step++)
        {
            for (int i = 0; i < ps.Count; i++)
                // One parameter skips the first steps (no gradient), so the group holds two step counts afterwards.
                ps[i].Grad = i == firstSkipped && step < 3 ? null : Rnd(Dev, Shapes[i], 1000 * step + i, ps[i].DType, 0.5);
            opt.Step();
        }
    }

    private void AssertSame(Func<IEnumerable<Tensor>, bool?, Optimizer> create, string what)
    {
        var a = Parameters(); var b = Parameters();
        var oa = create(a, true); var ob = create(b, false);
        Train(oa, a, 5, firstSkipped: 2); Train(ob, b, 5, firstSkipped: 2);
        for (int i = 0; i < a.Count; i++)
        {
            AssertEqual(Host(a[i]), Host(b[i]), $"{what}: parameter {i}");
            var sa = oa.GetState(a[i]); var sb = ob.GetState(b[i]);
            Assert.That(sa.Keys, Is.EqualTo(sb.Keys), $"{what}: state keys of parameter {i}");
            foreach (var k in sa.Keys) AssertEqual(Host(sa[k]), Host(sb[k]), $"{what}: state {k} of parameter {i}");
        }
    }

    [TestCase(false, false, 0.0), TestCase(true, false, 0.05), TestCase(false, true, 0.05), TestCase(true, true, 0.0)]
    public void AdamForeachEqualsSingleTensorSteps(bool amsgrad, bool maximize, double weightDecay) =>
        AssertSame((ps, fe) => new Adam(ps, lr: 0.01, weightDecay: weightDecay, amsgrad: amsgrad, maximize: maximize, @foreach: fe), "Adam");

    [TestCase(false, false), TestCase(true, true)]
    public void AdamWForeachEqualsSingleTensorSteps(bool amsgrad, bool maximize) =>
        AssertSame((ps, fe) => new AdamW(ps, lr: 0.01, weightDecay: 0.1, amsgrad: amsgrad, maximize: maximize, @foreach: fe), "AdamW");

    [TestCase(0.0, 0.0, false, false, 0.0), TestCase(0.9, 0.0, false, false, 0.01), TestCase(0.9, 0.1, false, true, 0.0),
     TestCase(0.9, 0.0, true, false, 0.01), TestCase(0.5, 0.0, true, true, 0.0)]
    public void SgdForeachEqualsSingleTensorSteps(double momentum, double dampening, bool nesterov, bool maximize, double weightDecay) =>
        AssertSame((ps, fe) => new SGD(ps, lr: 0.05, momentum: momentum, dampening: dampening, weightDecay: weightDecay,
            nesterov: nesterov, maximize: maximize, @foreach: fe), "SGD");

    [Test]
    public void ForeachLaunchesFewerKernelsAndIsTheAutomaticChoice()
    {
        long Launches(bool? fe, bool adam)
        {
            var ps = Parameters();
            Optimizer opt = adam ? new Adam(ps, @foreach: fe) : new SGD(ps, lr: 0.1, momentum: 0.9, @foreach: fe);
            Train(opt, ps, 1);   // creates the state
            foreach (var (p, i) in ps.Select((p, i) => (p, i))) p.Grad = Rnd(Dev, Shapes[i], 77 + i, p.DType);
            long before = IlgpuProfiler.Launches;
            opt.Step();
            return IlgpuProfiler.Launches - before;
        }
        foreach (bool adam in new[] { true, false })
        {
            long single = Launches(false, adam), multi = Launches(true, adam), auto = Launches(null, adam);
            if (Dev.Type == DeviceType.OpenCL)
            {
                // OpenCL keeps one launch per parameter (see IlgpuBackend.PrefersForeachSteps).
                Assert.That((multi, auto), Is.EqualTo((single, single)), $"adam={adam}: launches on {Dev}");
                continue;
            }
            // Ten float32 parameters in two launches plus one float64 one, against one launch per parameter.
            Assert.That(multi, Is.EqualTo(single - 8), $"adam={adam}: foreach launches {multi}, single-tensor launches {single}");
            Assert.That(auto, Is.EqualTo(multi), $"adam={adam}: the automatic choice is foreach on {Dev}");
        }
    }
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class ForeachOptimizers(string device) : ForeachOptimizerTests(device);
