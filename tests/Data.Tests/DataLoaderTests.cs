namespace Ember.Data.Tests;

public class DataLoaderTests
{
    private static TensorDataset Numbers(int n) =>
        new(Tensor.Arange(n, DType.Float32).Reshape(n, 1), Tensor.Arange(n));

    private static long[][] Targets<TB>(IEnumerable<TB> batches, Func<TB, Tensor> target) =>
        batches.Select(b => target(b).ToArray<long>()).ToArray();

    [Test]
    public void BatchesInOrderWithDeconstruction()
    {
        var loader = new DataLoader(Numbers(10), batchSize: 4);
        Assert.That(loader.Count, Is.EqualTo(3));
        var seen = new List<long[]>();
        foreach (var (x, y) in loader)
        {
            Assert.That(x.Shape[1], Is.EqualTo(1));
            Assert.That(x.Shape[0], Is.EqualTo(y.Shape[0]));
            seen.Add(y.ToArray<long>());
        }
        Assert.That(seen, Is.EqualTo(new[] { new long[] { 0, 1, 2, 3 }, [4, 5, 6, 7], [8, 9] }));
    }

    [Test]
    public void DropLastDropsTheIncompleteBatch()
    {
        var loader = new DataLoader(Numbers(10), batchSize: 4, dropLast: true);
        Assert.That(loader.Count, Is.EqualTo(2));
        Assert.That(loader.Select(b => b.Target.Shape[0]), Is.EqualTo(new long[] { 4, 4 }));
    }

    [Test]
    public void ShuffleIsSeededAndNewEachEpoch()
    {
        var a = new DataLoader(Numbers(40), batchSize: 8, shuffle: true, generator: new Generator(42));
        var b = new DataLoader(Numbers(40), batchSize: 8, shuffle: true, generator: new Generator(42));
        var a1 = Targets(a, t => t.Target).SelectMany(x => x).ToArray();
        var a2 = Targets(a, t => t.Target).SelectMany(x => x).ToArray();
        Assert.That(a1.OrderBy(i => i), Is.EqualTo(Enumerable.Range(0, 40).Select(i => (long)i)));
        Assert.That(a1, Is.Not.EqualTo(a2), "a new order each epoch");
        Assert.That(Targets(b, t => t.Target).SelectMany(x => x), Is.EqualTo(a1));
        Assert.That(Targets(b, t => t.Target).SelectMany(x => x), Is.EqualTo(a2));
    }

    [Test]
    public void WorkersGiveTheSameBatchesInTheSameOrder([Values(1, 3)] int workers)
    {
        var reference = new DataLoader(Numbers(50), batchSize: 4, shuffle: true, generator: new Generator(9));
        var threaded = new DataLoader(Numbers(50), batchSize: 4, shuffle: true, numWorkers: workers, prefetchFactor: 1, generator: new Generator(9));
        for (int epoch = 0; epoch < 2; epoch++)
            Assert.That(Targets(threaded, t => t.Target), Is.EqualTo(Targets(reference, t => t.Target)));
    }

    [Test]
    public void RandomTransformsAreDeterministicWhateverTheWorkers()
    {
        var ds = new TensorDataset(Tensor.Arange(16 * 4 * 4, DType.Float32).Reshape(16, 1, 4, 4), Tensor.Arange(16));
        var aug = new Compose(new RandomCrop(4, padding: 1), new RandomHorizontalFlip());
        var mapped = ds.Map(p => (aug.Apply(p.Input), p.Target));
        float[] Run(int workers) => new DataLoader(mapped, batchSize: 4, numWorkers: workers, generator: new Generator(3))
            .SelectMany(b => b.Input.ToArray<float>()).ToArray();
        var r0 = Run(0);
        Assert.That(Run(2), Is.EqualTo(r0));
        Assert.That(Run(3), Is.EqualTo(r0));
    }

    private sealed class Failing(int badIndex) : Dataset<Tensor>
    {
        public override int Count => 20;
        public override Tensor this[int index] =>
            index == badIndex ? throw new InvalidOperationException($"bad item {index}") : Tensor.Scalar(index);
    }

    [Test]
    public void WorkerExceptionsAreRethrownWithTheOriginalInside()
    {
        var loader = DataLoader.Create(new Failing(9), batchSize: 4, numWorkers: 2);
        var ex = Assert.Throws<DataLoaderWorkerException>(() => { foreach (var _ in loader) { } });
        Assert.That(ex!.InnerException, Is.TypeOf<InvalidOperationException>());
        Assert.That(ex.InnerException!.Message, Is.EqualTo("bad item 9"));
        Assert.That(ex.BatchIndex, Is.EqualTo(2));
    }

    [Test]
    public void WithoutWorkersExceptionsPropagateUnwrapped()
    {
        var loader = DataLoader.Create(new Failing(0), batchSize: 4);
        Assert.Throws<InvalidOperationException>(() => { foreach (var _ in loader) { } });
    }

    private sealed class ThreadCountProbe : Dataset<Tensor>
    {
        public readonly System.Collections.Concurrent.ConcurrentBag<int> Seen = [];
        public override int Count => 12;
        public override Tensor this[int index] { get { Seen.Add(Threads.Count); return Tensor.Scalar(index); } }
    }

    [Test]
    public void BackgroundWorkersFetchWithOneKernelThread([Values(0, 2)] int workers)
    {
        int saved = Threads.Count;
        try
        {
            Threads.Count = 4;
            var ds = new ThreadCountProbe();
            foreach (var _ in DataLoader.Create(ds, batchSize: 3, numWorkers: workers)) { }
            // numWorkers = 0 fetches on the consumer's thread with the global count; background workers use one thread.
            Assert.That(ds.Seen.Distinct(), Is.EqualTo(new[] { workers == 0 ? 4 : 1 }));
            Assert.That(Threads.Count, Is.EqualTo(4), "the limit ends with the fetch");
        }
        finally { Threads.Count = saved; }
    }

    private sealed class Slow(int count) : Dataset<Tensor>
    {
        public int Fetched;
        public override int Count => count;
        public override Tensor this[int index] { get { Interlocked.Increment(ref Fetched); Thread.Sleep(1); return Tensor.Scalar(index); } }
    }

    [Test]
    public void CancellationStopsTheEpoch([Values(0, 2)] int workers)
    {
        var ds = new Slow(1000);
        var loader = DataLoader.Create(ds, batchSize: 2, numWorkers: workers, prefetchFactor: 2);
        using var cts = new CancellationTokenSource();
        int batches = 0;
        Assert.That(() =>
        {
            foreach (var _ in loader.Iterate(cts.Token)) { if (++batches == 3) cts.Cancel(); }
        }, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(batches, Is.EqualTo(3));
        // The workers stopped: bounded prefetch, nowhere near the 1000 items.
        Assert.That(ds.Fetched, Is.LessThan(100));
    }

    [Test]
    public void BreakingOutStopsTheWorkers()
    {
        var ds = new Slow(1000);
        var loader = DataLoader.Create(ds, batchSize: 2, numWorkers: 2, prefetchFactor: 1);
        foreach (var _ in loader) break;
        int after = ds.Fetched;
        Thread.Sleep(20);
        Assert.That(ds.Fetched, Is.EqualTo(after));
        Assert.That(after, Is.LessThan(20));
    }

    [Test]
    public async Task AsyncEnumerationMatchesSync()
    {
        var loader = new DataLoader(Numbers(10), batchSize: 3, shuffle: true, generator: new Generator(5));
        var sync = Targets(new DataLoader(Numbers(10), batchSize: 3, shuffle: true, generator: new Generator(5)), t => t.Target);
        var got = new List<long[]>();
        await foreach (var (_, y) in loader) got.Add(y.ToArray<long>());
        Assert.That(got, Is.EqualTo(sync));
    }

    [Test]
    public void IterableDatasetIsBatchedInStreamOrder([Values(0, 1)] int workers)
    {
        var stream = IterableDataset<Tensor>.From(Enumerable.Range(0, 7).Select(i => Tensor.Scalar(i, DType.Int64)));
        var loader = new DataLoader<Tensor, Tensor>(stream, batchSize: 3, numWorkers: workers);
        Assert.That(loader.Select(b => b.ToArray<long>()), Is.EqualTo(new[] { new long[] { 0, 1, 2 }, [3, 4, 5], [6] }));
        Assert.Throws<NotSupportedException>(() => _ = loader.Count);
        var dropping = new DataLoader<Tensor, Tensor>(stream, batchSize: 3, dropLast: true);
        Assert.That(dropping.Count(), Is.EqualTo(2));
    }

    [Test]
    public void CustomSamplersAndBatchSamplers()
    {
        var bySampler = new DataLoader(Numbers(6), batchSize: 2, sampler: new SubsetRandomSampler([5, 4], new Generator(1)));
        Assert.That(bySampler.Single().Target.ToArray<long>().OrderBy(i => i), Is.EqualTo(new long[] { 4, 5 }));
        var byBatches = new DataLoader(Numbers(6), batchSampler: new BatchSampler(new SequentialSampler(6), 5, dropLast: false));
        Assert.That(byBatches.Count, Is.EqualTo(2));
        Assert.Throws<ArgumentException>(() => new DataLoader(Numbers(6), shuffle: true, sampler: new SequentialSampler(6)));
        Assert.Throws<ArgumentException>(() => new DataLoader(Numbers(6), batchSize: 2, batchSampler: new BatchSampler(new SequentialSampler(6), 2, false)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(Numbers(6), batchSize: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(Numbers(6), numWorkers: -1));
    }

    [Test]
    public void CustomCollate()
    {
        var loader = new DataLoader<(Tensor Input, Tensor Target), int>(Numbers(10), batchSize: 4, collate: items => items.Count);
        Assert.That(loader.ToArray(), Is.EqualTo(new[] { 4, 4, 2 }));
    }

    [Test]
    public void TensorArrayBatchesDeconstruct()
    {
        var loader = DataLoader.Create(new TensorArrayDataset(Tensor.Arange(5), Tensor.Arange(5) * 2, Tensor.Ones([5, 3])), batchSize: 5);
        foreach (var (a, b, c) in loader)
        {
            Assert.That(b.ToArray<long>(), Is.EqualTo(a.ToArray<long>().Select(v => v * 2)));
            Assert.That(c.Shape.ToArray(), Is.EqualTo(new long[] { 5, 3 }));
        }
    }
}
