namespace Ember.Data.Tests;

public class TransformTests
{
    [Test]
    public void ToTensorMakesChwInUnitRange()
    {
        // 1×2 image with 3 channels, HWC bytes.
        var t = ToTensor.FromBytes([0, 51, 255, 102, 153, 204], height: 1, width: 2, channels: 3);
        Assert.That(t.Shape.ToArray(), Is.EqualTo(new long[] { 3, 1, 2 }));
        Assert.That(t.ToArray<float>(), Is.EqualTo(new[] { 0f, 0.4f, 0.2f, 0.6f, 1f, 0.8f }).Within(1e-6));
        var fromTensor = new ToTensor().Apply(Tensor.FromArray(new long[] { 0, 51, 255, 102, 153, 204 }, 1, 2, 3));
        Assert.That(fromTensor.ToArray<float>(), Is.EqualTo(t.ToArray<float>()).Within(1e-6));
    }

    [Test]
    public void NormalizeIsPerChannel()
    {
        var x = Tensor.Ones([2, 2, 2]);
        var y = new Normalize([0.5, 1.0], [0.25, 2.0]).Apply(x).ToArray<float>();
        Assert.That(y, Is.EqualTo(new[] { 2f, 2, 2, 2, 0, 0, 0, 0 }));
        Assert.Throws<ArgumentException>(() => new Normalize([0, 0, 0], [1, 1, 1]).Apply(x));
        Assert.Throws<ArgumentException>(() => new Normalize([0], [0]));
    }

    [Test]
    public void RandomCropWithPaddingKeepsTheImageInsideZeros()
    {
        var x = Tensor.Ones([1, 4, 4]);
        var crop = new RandomCrop(4, padding: 2, generator: new Generator(1));
        var positions = new HashSet<float>();
        for (int i = 0; i < 40; i++)
        {
            var y = crop.Apply(x);
            Assert.That(y.Shape.ToArray(), Is.EqualTo(new long[] { 1, 4, 4 }));
            var sum = y.ToArray<float>().Sum();
            Assert.That(sum, Is.InRange(4f, 16f)); // at least a 2×2 corner of ones survives a shift of ≤ 2
            positions.Add(sum);
        }
        Assert.That(positions.Count, Is.GreaterThan(3), "different offsets are drawn");
        Assert.Throws<ArgumentException>(() => new RandomCrop(9).Apply(x));
    }

    [Test]
    public void RandomCropIsReproducibleWithAGenerator()
    {
        var x = Tensor.Arange(0, 36, 1, DType.Float32).Reshape(1, 6, 6);
        var a = new RandomCrop(3, generator: new Generator(8));
        var b = new RandomCrop(3, generator: new Generator(8));
        for (int i = 0; i < 5; i++) Assert.That(a.Apply(x).ToArray<float>(), Is.EqualTo(b.Apply(x).ToArray<float>()));
    }

    [Test]
    public void HorizontalFlip()
    {
        var x = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 1, 2, 3);
        Assert.That(new RandomHorizontalFlip(1.0).Apply(x).ToArray<float>(), Is.EqualTo(new float[] { 3, 2, 1, 6, 5, 4 }));
        Assert.That(new RandomHorizontalFlip(0.0).Apply(x).ToArray<float>(), Is.EqualTo(x.ToArray<float>()));
        var flip = new RandomHorizontalFlip(0.5, new Generator(2));
        int flipped = Enumerable.Range(0, 200).Count(_ => flip.Apply(x).ToArray<float>()[0] == 3);
        Assert.That(flipped, Is.InRange(70, 130));
    }

    [Test]
    public void ComposeAndLambdaRunInOrder()
    {
        var t = new Compose(new Lambda(v => v + 1.0), new Lambda(v => v * 3.0));
        Assert.That(t.Apply(Tensor.Zeros([2])).ToArray<float>(), Is.EqualTo(new float[] { 3, 3 }));
        Func<Tensor, Tensor> f = t;
        Assert.That(f(Tensor.Ones([1])).Item<float>(), Is.EqualTo(6f));
    }
}
