using Ember.Cpu;

namespace Ember.Data.Tests;

/// <summary>
/// Background workers allocate batches from the CPU memory pool while the main thread computes, allocates and drops
/// tensors of the very same size: no batch may ever see another tensor's values (the cross-thread reuse hazard the
/// pool's dependent handles exist for).
/// </summary>
[NonParallelizable]
public class PooledBatchesTests
{
    [Test]
    public void WorkerBatchesKeepTheirValuesWhileTheMainThreadRecycles()
    {
        const int N = 96, Features = 12_000;   // 48 KB rows of float32: every batch is a pooled array
        var x = Tensor.Arange(N, DType.Float32).Reshape(N, 1).Expand(N, Features).Contiguous();
        var loader = new DataLoader(new TensorDataset(x, Tensor.Arange(N)), batchSize: 4, shuffle: true, numWorkers: 2,
            generator: new Generator(7));
        long hits = CpuMemoryPool.Hits;
        int bad = 0, batches = 0;
        for (int epoch = 0; epoch < 3; epoch++)
            foreach (var (images, labels) in loader)
            {
                // Same-size temporaries made and dropped on this thread, with collections, while workers fill the next batches.
                var tmp = images * 2;
                if (batches % 4 == 0) GC.Collect();
                var expect = labels.ToArray<long>();
                var got = (tmp / 2).ToArray<float>();
                for (int i = 0; i < expect.Length; i++)
                    if (got[i * Features] != expect[i] || got[i * Features + Features - 1] != expect[i]) bad++;
                batches++;
            }
        Assert.That(batches, Is.EqualTo(3 * N / 4));
        Assert.That(bad, Is.EqualTo(0));
        Assert.That(CpuMemoryPool.Hits, Is.GreaterThan(hits), "the pool was exercised");
    }
}
