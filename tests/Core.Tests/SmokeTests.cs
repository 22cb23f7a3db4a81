namespace Ember.Core.Tests;
public class SmokeTests
{
    [Test]
    public void BroadcastAddAndViews()
    {
        var a = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        var b = Tensor.FromArray(new float[] { 10, 20, 30 }, 3);
        var c = a + b;
        Assert.That(c.ToArray<float>(), Is.EqualTo(new float[] { 11, 22, 33, 14, 25, 36 }));
        Assert.That(a.T.Contiguous().ToArray<float>(), Is.EqualTo(new float[] { 1, 4, 2, 5, 3, 6 }));
        Assert.That(a[.., 1..3].ToArray<float>(), Is.EqualTo(new float[] { 2, 3, 5, 6 }));
        Assert.That(a[^1].ToArray<float>(), Is.EqualTo(new float[] { 4, 5, 6 }));
        var z = Tensor.Zeros([2, 3], DType.Float64);
        Assert.That(z.DType, Is.EqualTo(DType.Float64));
        var r = Tensor.Randn(1000);
        var v = r.ToArray<float>();
        Assert.That(v.Average(), Is.EqualTo(0).Within(0.1));
        Assert.That((a.T * 2.0).Exp().Shape, Is.EqualTo(new Shape(3, 2)));
    }
}
