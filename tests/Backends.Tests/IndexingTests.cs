namespace Ember.Conformance;

/// <summary>Gather, scatter, index-select, index-add and triangular masks on the device against the CPU backend.</summary>
public abstract class IndexingTests(string device) : DeviceTest(device)
{
    [TestCase(0), TestCase(1), TestCase(2)]
    public void Gather(int dim)
    {
        long[] xs = [4, 5, 6];
        long[] shape = [3, 4, 5];
        Conform(d => [Rnd(d, xs, 1), Ints(d, shape, 2, 0, xs[dim]), Tensor.Empty(shape, DType.Float32, d)],
            (be, t) => be.Gather(t[0]!, dim, t[1]!, t[2]!), [2], 0, 0);
    }

    [Test]
    public void GatherStridedInputAndInt64Values()
    {
        Conform(d => [Ints(d, [6, 4], 1, -50, 50).T, Ints(d, [4, 3], 2, 0, 6), Tensor.Empty([4, 3], DType.Int64, d)],
            (be, t) => be.Gather(t[0]!, 1, t[1]!, t[2]!), [2], 0, 0);
    }

    [TestCase(0), TestCase(1)]
    public void ScatterAccumulate(int dim)
    {
        // Repeated indices: accumulation must add every contribution (atomics on the device).
        foreach (var dt in new[] { DType.Float32, DType.Float64, DType.Int64 })
            Conform(d => [Tensor.Zeros(dim == 0 ? [4, 5] : [6, 4], dt, d), Ints(d, [6, 5], 3, 0, 4), Ints(d, [6, 5], 4, -9, 9).To(dt)],
                (be, t) => be.Scatter(t[0]!, dim, t[1]!, t[2]!, accumulate: true), [0], 1e-6, 1e-6);
    }

    [Test]
    public void ScatterWithoutAccumulateUniqueIndices()
    {
        // A permutation per column, so the result does not depend on write order.
        Tensor Index(Device d) => Tensor.FromArray(new long[] { 2, 0, 1, 3, 1, 3, 0, 2, 0, 1, 3, 2, 3, 2, 1, 0 }, 4, 4).To(d).T;
        Conform(d => [Tensor.Zeros([4, 4], DType.Float32, d), Index(d), Rnd(d, [4, 4], 5)],
            (be, t) => be.Scatter(t[0]!, 0, t[1]!, t[2]!, accumulate: false), [0], 0, 0);
    }

    [TestCase(0), TestCase(1), TestCase(2)]
    public void IndexSelect(int dim)
    {
        Conform(d =>
        {
            var x = Rnd(d, [4, 5, 6], 6);
            var idx = Ints(d, [7], 7, 0, x.Shape[dim]);
            var shape = x.Shape.ToArray(); shape[dim] = 7;
            return [x, idx, Tensor.Empty(shape, DType.Float32, d)];
        }, (be, t) => be.IndexSelect(t[0]!, dim, t[1]!, t[2]!), [2], 0, 0);
    }

    [TestCase(0), TestCase(1)]
    public void IndexAddRepeated(int dim)
    {
        Conform(d =>
        {
            var target = Rnd(d, [5, 6], 8);
            var idx = Tensor.FromArray(new long[] { 1, 3, 1, 0, 1 }).To(d);
            long[] srcShape = dim == 0 ? [5, 6] : [5, 5];
            return [target, idx, Rnd(d, srcShape, 9)];
        }, (be, t) => be.IndexAdd(t[0]!, dim, t[1]!, t[2]!, 0.5), [0], 1e-6, 1e-6);
    }

    [TestCase(0, false), TestCase(1, false), TestCase(-1, true), TestCase(2, true), TestCase(0, true)]
    public void Triangular(long diagonal, bool upper)
    {
        foreach (var dt in new[] { DType.Float32, DType.Int64, DType.Bool })
            Conform(d => [Ints(d, [2, 5, 7], 10, 1, 9).To(dt), Tensor.Empty([2, 5, 7], dt, d)],
                (be, t) => be.Triangular(t[0]!, t[1]!, diagonal, upper), [1], 0, 0);
    }
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class Indexing(string device) : IndexingTests(device);
