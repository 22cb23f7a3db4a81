namespace Ember.Hardening.Tests;

/// <summary>
/// Integer division by zero (rounding division and remainder; true division of integers gives floats, as in PyTorch)
/// throws one exception type whatever the tensor's size (no AggregateException from a parallel kernel).
/// </summary>
public class IntegerDivisionTests
{
    [Test]
    public void DivisionByZeroIsTheSameExceptionForSmallAndLargeTensors([Values(1, 1024)] int rows, [Values(DType.Int32, DType.Int64)] DType dtype)
    {
        // The large case is a [1024, 1024] strided view: 1024 rows, enough work for the kernel to split over threads.
        var a = Tensor.Ones([rows, 1024], dtype);
        var b = Tensor.Ones([rows, 2048], dtype).Slice(1, 0, 1024);
        b[rows - 1, 1023].Fill_(0);
        Assert.That(() => a.Div(b, "trunc"), Throws.TypeOf<DivideByZeroException>().With.Message.Contains("Div"));
        Assert.That(() => a.Div(b, "floor"), Throws.TypeOf<DivideByZeroException>());
        Assert.That(() => a.Remainder(b), Throws.TypeOf<DivideByZeroException>().With.Message.Contains("Remainder"));
        Assert.That(() => a.Div_(b), Throws.TypeOf<InvalidOperationException>(), "an integer tensor cannot hold a true quotient");
        Assert.That(a.Sum().Item(), Is.EqualTo(rows * 1024), "Div_ wrote nothing");
        // True division: 1 / 0 is +∞ in Float32, as torch.tensor([1]) / 0.
        Assert.That((a / 0).ToArray<float>(), Is.All.EqualTo(float.PositiveInfinity));
    }

    [Test]
    public void FloatDivisionByZeroStillGivesInfinity()
    {
        var r = Tensor.Ones(3) / Tensor.Zeros(3);
        Assert.That(r.ToArray<float>(), Is.All.EqualTo(float.PositiveInfinity));
    }

    [Test]
    public void IntegerDivisionWithoutZeroStillWorks()
    {
        var a = Tensor.FromArray(new long[] { 7, -7, 9 });
        var b = Tensor.FromArray(new long[] { 2, 2, 3 });
        Assert.That(a.Div(b, "trunc").ToArray<long>(), Is.EqualTo(new long[] { 3, -3, 3 }));
        Assert.That(a.Div(b).ToArray<float>(), Is.EqualTo(new[] { 3.5f, -3.5f, 3f }));
    }
}
