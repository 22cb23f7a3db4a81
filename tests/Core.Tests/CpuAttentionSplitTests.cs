using Ember.Cpu;

namespace Ember.Core.Tests;

/// <summary>
/// Attention split over its batch entries (<see cref="CpuAttention.SplitBatches"/>, <c>EMBER_CPU_ATTENTION=batch</c>)
/// gives the same bits as the default (entries in turn, each kernel split over all threads), forward and backward, at
/// 1, 3 and 16 threads, on the model's permuted qkv layout and on a contiguous one.
/// </summary>
[TestFixture]
[NonParallelizable]
public class CpuAttentionSplitTests
{
    private int threads;
    private bool split;

    [SetUp]
    public void Save() => (threads, split) = (Threads.Count, CpuAttention.SplitBatches);

    [TearDown]
    public void Restore() => (Threads.Count, CpuAttention.SplitBatches) = (threads, split);

    [TestCase(false)]
    [TestCase(true)]
    public void SplitOverEntriesGivesTheDefaultBits(bool permuted)
    {
        const int b = 5, h = 3, l = 40, d = 16;
        var gen = new Generator(23);
        Tensor q, k, v;
        if (permuted)
        {
            // The model's q/k/v: one [b, l, 3, h, d] buffer permuted, so b and h do not merge and attention loops over b.
            var qkv = Tensor.Randn([b, l, 3, h, d], generator: gen).Permute(2, 0, 3, 1, 4);
            (q, k, v) = (qkv.Select(0, 0), qkv.Select(0, 1), qkv.Select(0, 2));
        }
        else
        {
            (q, k, v) = (Tensor.Randn([b, h, l, d], generator: gen), Tensor.Randn([b, h, l, d], generator: gen),
                Tensor.Randn([b, h, l, d], generator: gen));
        }
        var g = Tensor.Randn([b, h, l, d], generator: gen);
        var backend = (CpuBackend)q.Backend;

        float[][] Run()
        {
            var p = Tensor.Empty([b, h, l, l]);
            var o = Tensor.Empty([b, h, l, d]);
            backend.Attention(q, k, v, 0.25, true, p, o);
            Tensor dq = Tensor.Empty([b, h, l, d]), dk = Tensor.Empty([b, h, l, d]), dv = Tensor.Empty([b, h, l, d]);
            backend.AttentionBackward(g, q, k, v, p, 0.25, true, dq, dk, dv);
            return [p.ToArray<float>(), o.ToArray<float>(), dq.ToArray<float>(), dk.ToArray<float>(), dv.ToArray<float>()];
        }

        CpuAttention.SplitBatches = false;
        Threads.Count = 1;
        float[][] expected = Run();
        foreach (bool on in new[] { false, true })
        {
            CpuAttention.SplitBatches = on;
            foreach (int count in new[] { 1, 3, 16 })
            {
                Threads.Count = count;
                float[][] actual = Run();
                for (int i = 0; i < expected.Length; i++)
                    Assert.That(actual[i], Is.EqualTo(expected[i]), $"result {i}, split {on}, {count} threads");
            }
        }
    }
}
