using Ember.Cpu;

namespace Ember.Core.Tests;

/// <summary>
/// Attention split over its batch entries or its (entry, head) pairs (<see cref="CpuAttention.Split"/>,
/// <c>EMBER_CPU_ATTENTION</c>) gives the same bits as entries in turn with each kernel split over all threads, forward and
/// backward, at 1, 3 and 16 threads, on the model's permuted qkv layout and on a contiguous one, with and without causal
/// row blocks.
/// </summary>
[TestFixture]
[NonParallelizable]
public class CpuAttentionSplitTests
{
    private int threads;
    private AttentionSplit split;
    private int blockRows;

    [SetUp]
    public void Save() => (threads, split, blockRows) = (Threads.Count, CpuAttention.Split, CpuAttention.CausalBlockRows);

    [TearDown]
    public void Restore() => (Threads.Count, CpuAttention.Split, CpuAttention.CausalBlockRows) = (threads, split, blockRows);

    [TestCase(false, 0)]
    [TestCase(true, 0)]
    [TestCase(false, 16)]
    [TestCase(true, 12)]
    public void EverySplitGivesTheSerialBits(bool permuted, int causalBlock)
    {
        CpuAttention.CausalBlockRows = causalBlock;
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

        CpuAttention.Split = AttentionSplit.Serial;
        Threads.Count = 1;
        float[][] expected = Run();
        foreach (var mode in Enum.GetValues<AttentionSplit>())
        {
            CpuAttention.Split = mode;
            foreach (int count in new[] { 1, 3, 16 })
            {
                Threads.Count = count;
                float[][] actual = Run();
                for (int i = 0; i < expected.Length; i++)
                    Assert.That(actual[i], Is.EqualTo(expected[i]), $"result {i}, split {mode}, {count} threads");
            }
        }
    }

    [Test]
    public void AutoRunsHeadsAsTasksWhenThereAreEnoughForTheThreads()
    {
        CpuAttention.Split = AttentionSplit.Auto;
        Threads.Count = 16;
        Assert.That(CpuAttention.SplitFor(16, 4), Is.EqualTo(AttentionSplit.Heads), "gpt: 64 tasks for 16 threads");
        Assert.That(CpuAttention.SplitFor(1, 8), Is.EqualTo(AttentionSplit.Serial), "8 tasks for 16 threads");
        Threads.Count = 1;
        Assert.That(CpuAttention.SplitFor(16, 4), Is.EqualTo(AttentionSplit.Serial), "one thread");
        Threads.Count = 4;
        CpuAttention.Split = AttentionSplit.Entries;
        Assert.That(CpuAttention.SplitFor(1, 4), Is.EqualTo(AttentionSplit.Serial), "one entry cannot be split over entries");
    }
}
