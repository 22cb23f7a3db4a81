using Ember.Ilgpu;

namespace Ember.Conformance;

/// <summary>
/// A Float16/BFloat16 operand beside a Float32 one (autocast's residual add): the ILGPU backend computes the Float32
/// result in one launch reading the 16-bit operand in place, equal to the Float32 op on a widened copy; under autocast
/// Add and Sub record no cast and return the 16-bit input's gradient in its dtype.
/// </summary>
[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class MixedBinaryTests(string device) : DeviceTest(device)
{
    [TestCase(DType.Float16, BinaryOp.Add), TestCase(DType.BFloat16, BinaryOp.Sub), TestCase(DType.BFloat16, BinaryOp.Mul)]
    public void MixedBinaryIsOneLaunchAndEqualsTheFloat32Op(DType dt, BinaryOp op)
    {
        var narrow = Rnd(Dev, [3, 5], 71, dt);
        var wide = Rnd(Dev, [5], 72).ExpandAs(narrow);   // a broadcast operand
        foreach (var (a, b) in new[] { (narrow, wide), (wide, narrow) })
        {
            var result = Tensor.Zeros([3, 5], DType.Float32, Dev);
            long before = IlgpuProfiler.Launches;
            a.Backend.MixedBinary(op, a, b, result);
            Assert.That(IlgpuProfiler.Launches - before, Is.EqualTo(1), "launches");
            var expected = Tensor.Zeros([3, 5], DType.Float32, Dev);
            a.Backend.Binary(op, a.To(DType.Float32), b.To(DType.Float32), expected);
            AssertEqual(Host(result), Host(expected), $"{op} {a.DType} {b.DType}");
        }
    }

    [Test]
    public void MixedBinaryMatchesTheCpu() =>
        Conform(d => [Rnd(d, [4, 6], 73), Rnd(d, [4, 6], 74, DType.BFloat16), Tensor.Zeros([4, 6], DType.Float32, d)],
            (be, t) => be.MixedBinary(BinaryOp.Sub, t[0]!, t[1]!, t[2]!), [2], rtol: 0, atol: 0);

    [Test]
    public void AutocastResidualAddCastsNothingAndMatchesTheCastPath()
    {
        var h = Rnd(Dev, [4, 6], 75).RequiresGrad_();
        var w = Rnd(Dev, [6, 6], 76).RequiresGrad_();
        var g = Rnd(Dev, [4, 6], 77);
        Tensor y;
        using (Autocast.Enable(Dev, DType.BFloat16))
        {
            var branch = h.MatMul(w);   // BFloat16 under autocast
            Assert.That(branch.DType, Is.EqualTo(DType.BFloat16));
            y = h + branch;
        }
        Assert.That(y.DType, Is.EqualTo(DType.Float32));
        Assert.That(y.GradFn!.Name, Is.EqualTo("AddBackward"));
        y.Backward(g);
        // The cast path: the BFloat16 branch cast to Float32, then a Float32 add.
        var h2 = h.Detach().RequiresGrad_();
        var w2 = w.Detach().RequiresGrad_();
        var y2 = h2 + h2.To(DType.BFloat16).MatMul(w2.To(DType.BFloat16)).To(DType.Float32);
        y2.Backward(g);
        AssertEqual(Host(y), Host(y2), "y");
        AssertEqual(Host(h.Grad!), Host(h2.Grad!), "h.grad");
        AssertEqual(Host(w.Grad!), Host(w2.Grad!), "w.grad");
    }
}
