namespace Ember.Hardening.Tests;

/// <summary>Shapes whose element count overflows Int64 or exceeds what one array can hold are refused with the op and the shape named.</summary>
public class ShapeOverflowTests
{
    private const long Huge = 1L << 62;

    private static void AssertRefused(TestDelegate action, string op)
    {
        var ex = Assert.Throws<ArgumentException>(action);
        Assert.That(ex!.Message, Does.Contain(op));
    }

    [Test]
    public void ZerosWithOverflowingShape() => AssertRefused(() => Tensor.Zeros(Huge, 4), "Zeros");

    [Test]
    public void EmptyAndFullWithOverflowingShape()
    {
        AssertRefused(() => Tensor.Empty(Huge, 8), "Empty");
        AssertRefused(() => Tensor.Full([4, Huge], 1.0), "Full");
        AssertRefused(() => Tensor.Ones(1L << 32, 1L << 32), "Ones");
    }

    [Test]
    public void MoreElementsThanAnArrayHoldsIsAnArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tensor.Zeros(Array.MaxLength + 1L));
        Assert.That(ex!.Message, Does.Contain(Array.MaxLength.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Throws<ArgumentException>(() => Tensor.Empty([(long)Array.MaxLength + 1], DType.Bool));
    }

    [Test]
    public void ReshapeOfAnEmptyTensorToAnOverflowingShape()
    {
        AssertRefused(() => Tensor.Zeros(0).Reshape(Huge, 4, 0), "Reshape");
        AssertRefused(() => Tensor.Zeros(0).Reshape(Huge, 4, -1), "Reshape");
        AssertRefused(() => Tensor.Zeros(0).View(Huge, 8, 0), "View");
    }

    [Test]
    public void ExpandToAnOverflowingShape() => AssertRefused(() => Tensor.Zeros(1, 4).Expand(Huge, 4), "Expand");

    [Test]
    public void FromArrayWithOverflowingShape() => AssertRefused(() => Tensor.FromArray(Array.Empty<float>(), Huge, 4, 0), "FromArray");

    [Test]
    public void ArangeOfHugeSize()
    {
        AssertRefused(() => Tensor.Arange(0, 1e300), "Arange");
        AssertRefused(() => Tensor.Arange(0, double.PositiveInfinity), "Arange");
        AssertRefused(() => Tensor.Arange(0, 1, 1e-300), "Arange");
    }

    [Test]
    public void EyeOfHugeSize()
    {
        AssertRefused(() => Tensor.Eye(1L << 32), "Eye");
        AssertRefused(() => Tensor.Eye(100_000), "Eye");
        AssertRefused(() => Tensor.Eye(-1), "Eye");
    }

    [Test]
    public void LinspaceAndRandpermOfHugeSize()
    {
        AssertRefused(() => Tensor.Linspace(0, 1, Huge), "Linspace");
        AssertRefused(() => Tensor.Randperm(Huge), "Randperm");
    }

    [Test]
    public void OrdinaryShapesStillWork()
    {
        Assert.That(Tensor.Zeros(0).Reshape(0, 4).Shape, Is.EqualTo(new Shape(0, 4)));
        Assert.That(Tensor.Eye(3).Sum().Item(), Is.EqualTo(3));
        Assert.That(Tensor.Arange(0, 10).Numel, Is.EqualTo(10));
        Assert.That(Tensor.Zeros(1, 4).Expand(5, 4).Numel, Is.EqualTo(20));
    }
}
