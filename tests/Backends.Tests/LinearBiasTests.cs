using Ember.Ilgpu;

namespace Ember.Conformance;

/// <summary>
/// <see cref="IBackend.Linear"/>: on the ILGPU backend a float32 Linear with bias is one launch of the GEMM with its bias
/// epilogue (the bias added after the sum over K), equal to the CPU's bias-then-accumulate within float32 rounding.
/// </summary>
[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class LinearBiasTests(string device) : DeviceTest(device)
{
    // (m, in, out): tiny (naive kernel), tiled with partial tiles and K % 8 ≠ 0, tiled with whole 128-column tiles
    // (16-byte stores of C), a single row, and in = 0 (y = bias).
    [TestCase(5, 7, 3), TestCase(37, 45, 19), TestCase(130, 33, 256), TestCase(1, 64, 600), TestCase(4, 0, 6)]
    public void LinearMatchesTheCpu(int m, int i, int o) =>
        Conform(d => [Rnd(d, [m, i], 81), Rnd(d, [o, i], 82), Rnd(d, [o], 83), Tensor.Empty([m, o], DType.Float32, d)],
            (be, t) => be.Linear(t[0]!, t[1]!, t[2]!, t[3]!), [3], rtol: 1e-5, atol: 1e-5);

    [Test]
    public void LinearReadsATransposedInputInPlace() =>
        Conform(d => [Rnd(d, [40, 24], 84).mT, Rnd(d, [36, 40], 85), Rnd(d, [36], 86), Tensor.Empty([24, 36], DType.Float32, d)],
            (be, t) => be.Linear(t[0]!, t[1]!, t[2]!, t[3]!), [3], rtol: 1e-5, atol: 1e-5);

    [TestCase(5, 7, 3), TestCase(37, 45, 19)]
    public void Float32LinearIsOneLaunchAndMatchesTheComposite(int m, int i, int o)
    {
        var x = Rnd(Dev, [m, i], 87);
        var w = Rnd(Dev, [o, i], 88);
        var b = Rnd(Dev, [o], 89);
        var y = Tensor.Empty([m, o], DType.Float32, Dev);
        long before = IlgpuProfiler.Launches;
        x.Backend.Linear(x, w, b, y);
        Assert.That(IlgpuProfiler.Launches - before, Is.EqualTo(1), "launches");
        var composite = Tensor.Empty([m, o], DType.Float32, Dev);
        CompositeKernels.Linear(x.Backend, x, w, b, composite);
        // Bias first (composite) or last (epilogue): the same terms summed in another order, within float32 rounding.
        AssertClose(Host(y), Host(composite), 1e-5, 1e-5, "epilogue vs composite");
    }

    [Test]
    public void FunctionalLinearUsesTheEpilogueAndKeepsItsGradients()
    {
        var x = Rnd(Dev, [6, 10], 90).RequiresGrad_();
        var w = Rnd(Dev, [4, 10], 91).RequiresGrad_();
        var b = Rnd(Dev, [4], 92).RequiresGrad_();
        var y = FusedOps.Linear(x, w, b);
        var cx = Rnd(Device.Cpu, [6, 10], 90).RequiresGrad_();
        var cw = Rnd(Device.Cpu, [4, 10], 91).RequiresGrad_();
        var cb = Rnd(Device.Cpu, [4], 92).RequiresGrad_();
        var cy = FusedOps.Linear(cx, cw, cb);
        AssertClose(Host(y), Host(cy), 1e-5, 1e-5, "y");
        y.Sum().Backward();
        cy.Sum().Backward();
        AssertClose(Host(b.Grad!), Host(cb.Grad!), 1e-5, 1e-5, "bias grad");
        AssertClose(Host(w.Grad!), Host(cw.Grad!), 1e-5, 1e-5, "weight grad");
    }
}
