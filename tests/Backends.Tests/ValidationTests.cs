using Ember.NN;
using Ember.Optim;

namespace Ember.Conformance;

/// <summary>
/// The hardening checks (issue 12) hold on every device: they run at the Tensor level before any kernel, so a GPU
/// kernel never sees a zero integer divisor, an overlapping destination, a released input or a gradient of another shape.
/// </summary>
public abstract class ValidationTests(string device) : DeviceTest(device)
{
    [Test]
    public void IntegerDivisionByZeroThrowsBeforeTheKernel([Values(DType.Int32, DType.Int64)] DType dtype)
    {
        var a = Tensor.Ones([1000], dtype, Dev);
        var b = Tensor.Ones([1000], dtype, Dev);
        b[999].Fill_(0);
        Assert.Throws<DivideByZeroException>(() => a.Div(b, "trunc"));
        Assert.Throws<InvalidOperationException>(() => a.Div_(b));
        Assert.That(a.Cpu().To(DType.Int64).ToArray<long>(), Is.All.EqualTo(1L), "Div_ wrote nothing");
        var two = Tensor.Full([1000], 2, dtype, Dev);
        Assert.That(a.Div(two, "trunc").Cpu().To(DType.Int64).ToArray<long>(), Is.All.EqualTo(0L), "1 // 2 truncates to 0");
        Assert.That(a.Div(two).Cpu().ToArray<float>(), Is.All.EqualTo(0.5f), "1 / 2 is true division");
    }

    [Test]
    public void WriteThroughAnExpandedViewIsRefused()
    {
        var row = Tensor.Ones([1, 3], DType.Float32, Dev);
        Assert.Throws<InvalidOperationException>(() => row.Expand(4, 3).Add_(1.0));
        Assert.Throws<InvalidOperationException>(() => row.Expand(4, 3).Copy_(Tensor.Zeros([4, 3], DType.Float32, Dev)));
        Assert.That(row.Cpu().ToArray<float>(), Is.All.EqualTo(1f));
    }

    [Test]
    public void ReleasedTensorIsUnreadable()
    {
        Tensor released;
        using (Tensor.Scope()) released = Tensor.Full([256], 3, DType.Float32, Dev);
        Assert.Throws<ObjectDisposedException>(() => released.Cpu());
        Assert.Throws<ObjectDisposedException>(() => released.ToArray<float>());
        Assert.Throws<ObjectDisposedException>(() => _ = released + 1);
    }

    [Test]
    public void GradientOfAnotherShapeOrDeviceIsRefused()
    {
        var p = Tensor.Zeros([64], DType.Float32, Dev).RequiresGrad_();
        var opt = new Adam([p], lr: 0.1);
        Assert.Throws<ArgumentException>(() => p.Grad = Tensor.Ones([16], DType.Float32, Dev));
        Assert.Throws<ArgumentException>(() => p.Grad = Tensor.Ones([64]));   // on the CPU
        opt.Step();                                                              // no gradient: nothing to do
        Assert.That(p.Detach().Cpu().ToArray<float>(), Is.All.EqualTo(0f));
    }

    [Test]
    public void BinaryCrossEntropyChecksTheRange()
    {
        var x = Tensor.FromArray(new float[] { 0.5f, 1.5f }).To(Dev);
        var y = Tensor.FromArray(new float[] { 0, 1 }).To(Dev);
        Assert.That(() => Functional.BinaryCrossEntropy(x, y), Throws.ArgumentException.With.Message.Contains("all elements of input should be between 0 and 1"));
    }
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class ValidationTestsOnDevice(string device) : ValidationTests(device);
