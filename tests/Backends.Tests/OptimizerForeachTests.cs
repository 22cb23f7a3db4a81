namespace Ember.Conformance;

/// <summary>
/// The multi-tensor optimizer steps (<see cref="IBackend.SgdStepForeach"/>, <see cref="IBackend.AdamStepForeach"/>):
/// against the CPU backend, bit for bit against the device's own single-tensor steps, and their argument checks.
/// </summary>
public abstract class OptimizerForeachTests(string device) : DeviceTest(device)
{
    // Twelve parameters (two launches of eight slots on ILGPU), an empty one among them, sizes from 1 to 1000.
    private static readonly long[] Sizes = [37, 1, 256, 5, 1000, 3, 0, 64, 7, 129, 2, 17];
    private static int K => Sizes.Length;

    // Entry i of list l: a contiguous slice of a larger tensor, so that storage offsets differ from 0 and between lists.
    private static Tensor Entry(Device d, int l, int i, DType dtype, bool positive)
    {
        long n = Sizes[i], pad = (l + i) % 3;
        var whole = positive ? Pos(d, [n + pad], 100 * l + i, 0.01, 0.2, dtype) : Rnd(d, [n + pad], 100 * l + i, dtype, l == 2 ? 0.1 : 1);
        return whole.Narrow(0, pad, n);
    }

    // lists lists of K tensors each (list l positive where positive(l)), flattened list by list.
    private static Tensor?[] Make(Device d, int lists, DType dtype, Func<int, bool> positive) =>
        Enumerable.Range(0, lists).SelectMany(l => Enumerable.Range(0, K).Select(i => (Tensor?)Entry(d, l, i, dtype, positive(l)))).ToArray();

    private static List<Tensor> List(Tensor?[] t, int l) => t.Skip(l * K).Take(K).Select(x => x!).ToList();

    private static int[] Outputs(params int[] lists) => lists.SelectMany(l => Enumerable.Range(l * K, K)).ToArray();

    private static SgdStepArgs Sgd(double momentum, bool nesterov, bool maximize, bool first) =>
        new(Lr: 0.1, Momentum: momentum, Dampening: nesterov ? 0 : 0.1, WeightDecay: 0.01, Nesterov: nesterov, Maximize: maximize, FirstStep: first);

    private static AdamStepArgs Adam(bool decoupled, bool amsgrad, bool maximize, long step) =>
        new(Lr: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.05, DecoupledWeightDecay: decoupled, Amsgrad: amsgrad, Maximize: maximize, Step: step);

    [TestCase(0.0, false, false, false), TestCase(0.9, false, false, true), TestCase(0.9, false, true, false), TestCase(0.9, true, false, false)]
    public void SgdStepForeachMatchesCpu(double momentum, bool nesterov, bool maximize, bool first)
    {
        var args = Sgd(momentum, nesterov, maximize, first);
        int lists = momentum != 0 ? 3 : 2;
        Conform(d => Make(d, lists, DType.Float32, _ => false),
            (be, t) => be.SgdStepForeach(List(t, 0), List(t, 1), momentum != 0 ? List(t, 2) : null, args),
            momentum != 0 ? Outputs(0, 2) : Outputs(0), 1e-5, 1e-6);
    }

    [TestCase(false, false, false, 1), TestCase(true, false, false, 3), TestCase(false, true, true, 5), TestCase(true, true, false, 2)]
    public void AdamStepForeachMatchesCpu(bool decoupled, bool amsgrad, bool maximize, long step)
    {
        var args = Adam(decoupled, amsgrad, maximize, step);
        int lists = amsgrad ? 5 : 4;
        Conform(d => Make(d, lists, DType.Float32, l => l >= 3),
            (be, t) => be.AdamStepForeach(List(t, 0), List(t, 1), List(t, 2), List(t, 3), amsgrad ? List(t, 4) : null, args),
            amsgrad ? Outputs(0, 2, 3, 4) : Outputs(0, 2, 3), 1e-5, 1e-6);
    }

    [TestCase(DType.Float32, 0.9, true, false, false), TestCase(DType.Float32, 0.9, false, true, true), TestCase(DType.Float32, 0.0, false, true, false),
     TestCase(DType.Float64, 0.9, false, false, false), TestCase(DType.Float16, 0.9, true, false, false)]
    public void SgdStepForeachEqualsSingleSteps(DType dtype, double momentum, bool nesterov, bool maximize, bool first)
    {
        var args = Sgd(momentum, nesterov, maximize, first);
        int lists = momentum != 0 ? 3 : 2;
        var a = Make(Dev, lists, dtype, _ => false);
        var b = Make(Dev, lists, dtype, _ => false);
        a[0]!.Backend.SgdStepForeach(List(a, 0), List(a, 1), momentum != 0 ? List(a, 2) : null, args);
        for (int i = 0; i < K; i++) b[i]!.Backend.SgdStep(b[i]!, b[K + i]!, momentum != 0 ? b[2 * K + i] : null, args);
        foreach (int k in momentum != 0 ? Outputs(0, 2) : Outputs(0)) AssertEqual(Host(a[k]!), Host(b[k]!), $"tensor {k}");
    }

    [TestCase(DType.Float32, false, false, false, 1), TestCase(DType.Float32, true, true, true, 4), TestCase(DType.Float32, false, true, false, 7),
     TestCase(DType.Float64, true, true, false, 3), TestCase(DType.Float64, false, false, true, 1), TestCase(DType.BFloat16, true, false, false, 2)]
    public void AdamStepForeachEqualsSingleSteps(DType dtype, bool decoupled, bool amsgrad, bool maximize, long step)
    {
        var args = Adam(decoupled, amsgrad, maximize, step);
        int lists = amsgrad ? 5 : 4;
        var a = Make(Dev, lists, dtype, l => l >= 3);
        var b = Make(Dev, lists, dtype, l => l >= 3);
        a[0]!.Backend.AdamStepForeach(List(a, 0), List(a, 1), List(a, 2), List(a, 3), amsgrad ? List(a, 4) : null, args);
        for (int i = 0; i < K; i++) b[i]!.Backend.AdamStep(b[i]!, b[K + i]!, b[2 * K + i]!, b[3 * K + i]!, amsgrad ? b[4 * K + i] : null, args);
        foreach (int k in amsgrad ? Outputs(0, 2, 3, 4) : Outputs(0, 2, 3)) AssertEqual(Host(a[k]!), Host(b[k]!), $"tensor {k}");
    }

    [Test]
    public void ForeachStepsCheckEveryEntryBeforeWritingAny()
    {
        foreach (var d in new[] { Dev, Device.Cpu })
        {
            var t = Make(d, 4, DType.Float32, l => l >= 3);
            var before = Host(t[0]!);
            var args = Adam(false, false, false, 1);
            var grads = List(t, 1);
            grads[9] = Rnd(d, [Sizes[9] + 1], 7);
            var e = Assert.Throws<ArgumentException>(() => t[0]!.Backend.AdamStepForeach(List(t, 0), grads, List(t, 2), List(t, 3), null, args));
            Assert.That(e!.Message, Does.Contain("AdamStepForeach").And.Contain("grads[9]"), d.ToString());
            AssertEqual(Host(t[0]!), before, $"params[0] on {d} after the failed step");

            var bufs = List(t, 2);
            bufs[5] = bufs[5].To(DType.Float64);
            e = Assert.Throws<ArgumentException>(() => t[0]!.Backend.SgdStepForeach(List(t, 0), List(t, 1), bufs, Sgd(0.9, false, false, false)));
            Assert.That(e!.Message, Does.Contain("SgdStepForeach").And.Contain("momentumBuffers[5]"), d.ToString());
            AssertEqual(Host(t[0]!), before, $"params[0] on {d} after the failed step");

            e = Assert.Throws<ArgumentException>(() => t[0]!.Backend.SgdStepForeach(List(t, 0), List(t, 1).Take(K - 1).ToList(), null, Sgd(0, false, false, false)));
            Assert.That(e!.Message, Does.Contain("SgdStepForeach").And.Contain("grads has 11"), d.ToString());
        }
    }
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class OptimizerForeachSteps(string device) : OptimizerForeachTests(device);
