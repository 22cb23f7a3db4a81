namespace Ember.Data.Tests;

public class SamplerTests
{
    [Test]
    public void SequentialYieldsInOrder() =>
        Assert.That(new SequentialSampler(5).ToArray(), Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));

    [Test]
    public void RandomSamplerIsAPermutationNewEachEpochAndReproducible()
    {
        var s = new RandomSampler(50, generator: new Generator(7));
        var e1 = s.ToArray(); var e2 = s.ToArray();
        Assert.That(e1.OrderBy(i => i), Is.EqualTo(Enumerable.Range(0, 50)));
        Assert.That(e2.OrderBy(i => i), Is.EqualTo(Enumerable.Range(0, 50)));
        Assert.That(e1, Is.Not.EqualTo(e2));
        var again = new RandomSampler(50, generator: new Generator(7));
        Assert.That(again.ToArray(), Is.EqualTo(e1));
        Assert.That(again.ToArray(), Is.EqualTo(e2));
    }

    [Test]
    public void RandomSamplerNumSamplesBeyondCountConcatenatesPermutations()
    {
        var s = new RandomSampler(4, numSamples: 10, generator: new Generator(1));
        var order = s.ToArray();
        Assert.That(order, Has.Length.EqualTo(10));
        Assert.That(order[..4].OrderBy(i => i), Is.EqualTo(new[] { 0, 1, 2, 3 }));
        Assert.That(order[4..8].OrderBy(i => i), Is.EqualTo(new[] { 0, 1, 2, 3 }));
    }

    [Test]
    public void RandomSamplerWithReplacementStaysInRangeAndRepeats()
    {
        var s = new RandomSampler(5, replacement: true, numSamples: 200, generator: new Generator(3));
        var order = s.ToArray();
        Assert.That(order, Has.Length.EqualTo(200));
        Assert.That(order.All(i => i is >= 0 and < 5));
        Assert.That(order.Distinct().Count(), Is.EqualTo(5));
    }

    [Test]
    public void SubsetRandomSamplerPermutesTheGivenIndices()
    {
        var s = new SubsetRandomSampler([10, 20, 30, 40], new Generator(2));
        Assert.That(s.ToArray().OrderBy(i => i), Is.EqualTo(new[] { 10, 20, 30, 40 }));
        Assert.That(s.Count, Is.EqualTo(4));
    }

    [Test]
    public void WeightedSamplerFollowsTheWeights()
    {
        var s = new WeightedRandomSampler([0.0, 1.0, 3.0], 4000, generator: new Generator(5));
        var counts = new int[3];
        foreach (var i in s) counts[i]++;
        Assert.That(counts[0], Is.Zero);
        Assert.That(counts[2] / (double)counts[1], Is.EqualTo(3.0).Within(0.4));
    }

    [Test]
    public void WeightedSamplerWithoutReplacementIsDistinctAndSkipsZeroWeights()
    {
        var s = new WeightedRandomSampler([1.0, 0.0, 2.0, 5.0, 1.0], 4, replacement: false, generator: new Generator(9));
        var order = s.ToArray();
        Assert.That(order.Distinct().Count(), Is.EqualTo(4));
        Assert.That(order, Does.Not.Contain(1));
        Assert.Throws<ArgumentException>(() => new WeightedRandomSampler([1.0, 0.0], 2, replacement: false));
    }

    [Test]
    public void BatchSamplerMatchesPyTorch()
    {
        foreach (var c in Golden.Load("batch_sampler.json").EnumerateArray())
        {
            int n = c.GetProperty("n").GetInt32(), b = c.GetProperty("batchSize").GetInt32();
            bool drop = c.GetProperty("dropLast").GetBoolean();
            var expected = c.GetProperty("batches").EnumerateArray().Select(Golden.Ints).ToArray();
            var bs = new BatchSampler(new SequentialSampler(n), b, drop);
            Assert.That(bs.ToArray(), Is.EqualTo(expected), $"n={n} b={b} dropLast={drop}");
            Assert.That(bs.Count, Is.EqualTo(expected.Length));
        }
    }

    [Test]
    public void DistributedSamplerMatchesPyTorchPartitions()
    {
        foreach (var c in Golden.Load("distributed_sampler.json").EnumerateArray())
        {
            int n = c.GetProperty("n").GetInt32(), r = c.GetProperty("replicas").GetInt32();
            bool drop = c.GetProperty("dropLast").GetBoolean();
            var expected = c.GetProperty("ranks").EnumerateArray().Select(Golden.Ints).ToArray();
            for (int rank = 0; rank < r; rank++)
            {
                var s = new DistributedSampler(n, r, rank, shuffle: false, dropLast: drop);
                Assert.That(s.ToArray(), Is.EqualTo(expected[rank]), $"n={n} replicas={r} rank={rank} dropLast={drop}");
                Assert.That(s.Count, Is.EqualTo(expected[rank].Length));
            }
        }
    }

    [Test]
    public void ShuffledDistributedSamplerIsTheSamePartitionOfAPermutation()
    {
        foreach (var c in Golden.Load("distributed_sampler.json").EnumerateArray())
        {
            int n = c.GetProperty("n").GetInt32(), r = c.GetProperty("replicas").GetInt32();
            bool drop = c.GetProperty("dropLast").GetBoolean();
            if (n == 0) continue;
            var positions = c.GetProperty("ranks").EnumerateArray().Select(Golden.Ints).ToArray();
            var perm = Tensor.RandpermArray(n, new Generator(11 + 3));   // seed + epoch
            var seen = new List<int>();
            for (int rank = 0; rank < r; rank++)
            {
                var s = new DistributedSampler(n, r, rank, shuffle: true, seed: 11, dropLast: drop);
                s.SetEpoch(3);
                var mine = s.ToArray();
                Assert.That(mine, Is.EqualTo(positions[rank].Select(p => (int)perm[p]).ToArray()), $"n={n} replicas={r} rank={rank}");
                seen.AddRange(mine);
            }
            if (drop) Assert.That(seen.Distinct().Count(), Is.EqualTo(seen.Count), "dropLast partitions are disjoint");
            else Assert.That(seen.Distinct().Count(), Is.EqualTo(n), "padded partitions cover every index");
        }
    }

    [Test]
    public void DistributedSamplerEpochChangesTheShuffleButRanksAgree()
    {
        var a = new DistributedSampler(20, 2, 0, seed: 1);
        var b = new DistributedSampler(20, 2, 1, seed: 1);
        var e0 = a.ToArray().Concat(b.ToArray()).ToArray();
        a.SetEpoch(1); b.SetEpoch(1);
        var e1 = a.ToArray().Concat(b.ToArray()).ToArray();
        Assert.That(e0.OrderBy(i => i), Is.EqualTo(Enumerable.Range(0, 20)));
        Assert.That(e1.OrderBy(i => i), Is.EqualTo(Enumerable.Range(0, 20)));
        Assert.That(e0, Is.Not.EqualTo(e1));
    }

    [Test]
    public void DistributedSamplerRejectsABadRank() =>
        Assert.Throws<ArgumentException>(() => new DistributedSampler(10, 2, 2));
}
