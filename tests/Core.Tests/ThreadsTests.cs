using Ember.Cpu;

namespace Ember.Core.Tests;

/// <summary>
/// <see cref="Threads"/>: the public thread count (torch.set_num_threads), its validation, the EMBER_NUM_THREADS parsing,
/// the per-thread limit DataLoader workers use, the physical-core and cache reading, and that CPU kernels give
/// bitwise the same results with one thread as with several.
/// </summary>
[TestFixture]
[NonParallelizable]
public class ThreadsTests
{
    private int saved;

    [SetUp]
    public void Save() => saved = Threads.Count;

    [TearDown]
    public void Restore() => Threads.Count = saved;

    [TestCase(0)]
    [TestCase(-4)]
    public void CountRejectsLessThanOneWithAClearMessage(int value)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Threads.Count = value);
        Assert.That(error!.Message, Does.Contain("Threads.Count must be at least 1").And.Contain($"got {value}"));
        Assert.That(Threads.Count, Is.EqualTo(saved), "a rejected value must not be applied");
    }

    [Test]
    public void CountIsSharedWithCpuThreads()
    {
        Threads.Count = 5;
        Assert.That(CpuThreads.Count, Is.EqualTo(5));
        CpuThreads.Count = 2;
        Assert.That(Threads.Count, Is.EqualTo(2));
        Assert.That(CpuThreads.EnvironmentVariable, Is.EqualTo("EMBER_NUM_THREADS"));
    }

    [Test]
    public void EnvironmentVariableParsing()
    {
        Assert.That(Threads.DefaultCount(null, 6), Is.EqualTo(6));
        Assert.That(Threads.DefaultCount("  ", 6), Is.EqualTo(6));
        Assert.That(Threads.DefaultCount(" 12 ", 6), Is.EqualTo(12));
        Assert.That(Threads.DefaultCount(null, 0), Is.EqualTo(1));
        foreach (string bad in new[] { "0", "-3", "four", "2.5" })
        {
            var error = Assert.Throws<InvalidOperationException>(() => Threads.DefaultCount(bad, 6), bad);
            Assert.That(error!.Message, Does.Contain("EMBER_NUM_THREADS").And.Contain($"'{bad}'").And.Contain("positive integer"));
        }
    }

    [Test]
    public void LimitCurrentThreadAppliesToThisThreadOnlyAndNests()
    {
        Threads.Count = 4;
        using (Threads.LimitCurrentThread(2))
        {
            Assert.That(Threads.Count, Is.EqualTo(2));
            int other = 0;
            var t = new Thread(() => other = Threads.Count);
            t.Start();
            t.Join();
            Assert.That(other, Is.EqualTo(4), "another thread keeps the global count");
            using (Threads.LimitCurrentThread(1))
                Assert.That(Threads.Count, Is.EqualTo(1));
            Assert.That(Threads.Count, Is.EqualTo(2));
            using (Threads.LimitCurrentThread(8))
                Assert.That(Threads.Count, Is.EqualTo(4), "a limit above the global count does not raise it");
        }
        Assert.That(Threads.Count, Is.EqualTo(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => Threads.LimitCurrentThread(0));
    }

    [Test]
    public void PhysicalCoresFromAFakeSysfs()
    {
        string root = Path.Combine(Path.GetTempPath(), "ember-topology-" + Guid.NewGuid().ToString("N"));
        try
        {
            // 8 logical CPUs: 4 cores with 2 hardware threads each (cpu i and i+4 are siblings).
            File.WriteAllText(Path.Combine(Directory.CreateDirectory(root).FullName, "online"), "0-7\n");
            for (int cpu = 0; cpu < 8; cpu++)
            {
                string topo = Directory.CreateDirectory(Path.Combine(root, $"cpu{cpu}", "topology")).FullName;
                File.WriteAllText(Path.Combine(topo, "physical_package_id"), "0\n");
                File.WriteAllText(Path.Combine(topo, "core_id"), $"{cpu % 4}\n");
            }
            Assert.That(CpuTopology.ReadPhysicalCores(root, 8), Is.EqualTo(4));
            Assert.That(CpuTopology.ReadPhysicalCores(root, 3), Is.EqualTo(2), "3 usable logical CPUs on 2-way SMT: 2 cores");
            string cache = Path.Combine(root, "cpu0", "cache");
            (int Level, string Type, string Size)[] caches = [(1, "Data", "48K"), (1, "Instruction", "32K"), (2, "Unified", "2048K"), (3, "Unified", "105M")];
            for (int i = 0; i < caches.Length; i++)
            {
                string dir = Directory.CreateDirectory(Path.Combine(cache, $"index{i}")).FullName;
                File.WriteAllText(Path.Combine(dir, "level"), $"{caches[i].Level}\n");
                File.WriteAllText(Path.Combine(dir, "type"), $"{caches[i].Type}\n");
                File.WriteAllText(Path.Combine(dir, "size"), $"{caches[i].Size}\n");
            }
            Assert.That(CpuTopology.ReadCacheBytes(root, 1), Is.EqualTo(48L << 10));
            Assert.That(CpuTopology.ReadCacheBytes(root, 2), Is.EqualTo(2048L << 10));
            Assert.That(CpuTopology.ReadCacheBytes(root, 3), Is.EqualTo(105L << 20));
            Assert.That(CpuTopology.ReadCacheBytes(root, 4), Is.Null);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
        Assert.That(CpuTopology.ReadPhysicalCores(root, 6), Is.EqualTo(6), "no topology: the logical count");
        Assert.That(CpuTopology.ReadCacheBytes(root, 2), Is.Null);
        Assert.That(CpuTopology.ParseCpuList("0-3,8,10-11"), Is.EqualTo(new[] { 0, 1, 2, 3, 8, 10, 11 }));
        Assert.That(Threads.PhysicalCores, Is.InRange(1, Environment.ProcessorCount));
        Assert.That(CpuTopology.L2Bytes, Is.GreaterThan(0));
    }

    [TestCase(1, 190)]
    [TestCase(4, 190)]
    [TestCase(4, 256)]
    [TestCase(16, 256)]
    [TestCase(3, 48)]
    public void IndexAddRowsMatchesTheSerialSumWithRepeatedIndices(int threads, int width)
    {
        // The embedding backward's shape: 1000 rows into 300. Width 190 is not a multiple of a cache line (blocks from the
        // row start); 256 and 48 are (blocks on the target's cache lines, from the first boundary in the row).
        Threads.Count = threads;
        const int rows = 1000, targets = 300;
        var r = new System.Random(3);
        long[] ids = Enumerable.Range(0, rows).Select(_ => (long)r.Next(targets)).ToArray();
        float[] src = Enumerable.Range(0, rows * width).Select(_ => (float)(r.NextDouble() * 4 - 2)).ToArray();
        float[] expected = new float[targets * width];
        for (int i = 0; i < rows; i++)
            for (int c = 0; c < width; c++)
                expected[ids[i] * width + c] += 0.5f * src[i * width + c];
        var result = Tensor.Zeros([targets, width]).IndexAdd(0, Tensor.FromArray(ids), Tensor.FromArray(src, rows, width), alpha: 0.5);
        Assert.That(result.ToArray<float>(), Is.EqualTo(expected));
    }

    [Test]
    public void OneThreadGivesBitwiseTheSameResultsAsSeveral()
    {
        // Sizes large enough that every kernel below splits its work at 4 threads.
        Tensor.ManualSeed(7);
        var a = Tensor.Randn([300, 257]);
        var b = Tensor.Randn([257, 190]);
        var q = Tensor.Randn([4, 4, 96, 32]);
        var k = Tensor.Randn([4, 4, 96, 32]);
        var v = Tensor.Randn([4, 4, 96, 32]);
        var logits = Tensor.Randn([512, 300]);
        var target = Tensor.FromArray(Enumerable.Range(0, 512).Select(i => (long)(i * 37 % 300)).ToArray(), 512);
        var w = Tensor.Randn([300]);
        var big = Tensor.Randn([700_001]);
        var rowsToSelect = Tensor.FromArray(Enumerable.Range(0, 12000).Select(i => (long)(i * 7 % 512)).ToArray());

        float[][] Run()
        {
            var att = FusedOps.Attention(q, k, v, 0.125, causal: true);
            return
            [
                a.MatMul(b).ToArray<float>(),
                logits.Softmax(1).ToArray<float>(),
                FusedOps.LayerNorm(logits, 300, w, null, 1e-5).ToArray<float>(),
                FusedOps.CrossEntropy(logits, target, null, new CrossEntropyArgs(-100, 0.1)).ToArray<float>(),
                logits.Sum(1).ToArray<float>(),
                att.ToArray<float>(),
                big.Sum().ToArray<float>(),
                a.MatMul(b).Unsqueeze(0).Expand(3, 300, 190).MatMul(Tensor.Randn([3, 190, 120], generator: new Generator(5))).ToArray<float>(),
                logits.IndexSelect(0, rowsToSelect).ToArray<float>(),
                ColumnSums(logits),
                logits.Sum(0).ToArray<float>(),
                big.Narrow(0, 0, 700_000).Reshape(7, 100_000).Narrow(1, 0, 99_999).Sum(0).ToArray<float>(),
            ];
        }

        static float[] ColumnSums(Tensor g)
        {
            var sums = Tensor.Empty([g.Shape[1]]);
            ((CpuBackend)g.Backend).ColumnSum(g, sums);
            return sums.ToArray<float>();
        }

        Threads.Count = 1;
        float[][] one = Run();
        Threads.Count = 4;
        float[][] four = Run();
        for (int i = 0; i < one.Length; i++)
            Assert.That(four[i], Is.EqualTo(one[i]), $"result {i} differs between 1 and 4 threads");
        double reference = big.ToArray<float>().Sum(v => (double)v);
        Assert.That(one[6][0], Is.EqualTo(reference).Within(1e-6 * big.Numel), "parallel block sum against the float64 sum");
        float[] lg = logits.ToArray<float>();
        double[] columns = Enumerable.Range(0, 300).Select(j => Enumerable.Range(0, 512).Sum(i => (double)lg[i * 300 + j])).ToArray();
        Assert.That(one[9], Is.EqualTo(columns).Within(1e-4), "column sums against the float64 sums");
        Assert.That(one[10], Is.EqualTo(columns).Within(1e-4), "a sum over the leading dim (strided terms) against the float64 sums");
        float[] bg = big.ToArray<float>();
        double[] strided = Enumerable.Range(0, 99_999).Select(j => Enumerable.Range(0, 7).Sum(i => (double)bg[i * 100_000 + j])).ToArray();
        Assert.That(one[11], Is.EqualTo(strided).Within(1e-5), "a padded view's sum over its leading dim");
    }

    [TestCase(704, 96)]
    [TestCase(2048, 256)]
    public void NormalizationGradientsAreTheSameBitsAtAnyThreadCount(int rows, int cols)
    {
        // LayerNorm's and BatchNorm's parameter gradients are sums over rows: fixed blocks, whatever the split.
        var gen = new Generator(31);
        var x = Tensor.Randn([rows, cols], generator: gen);
        var g = Tensor.Randn([rows, cols], generator: gen);
        var w = Tensor.Randn([cols], generator: gen);
        var b = Tensor.Randn([cols], generator: gen);
        var be = (CpuBackend)x.Backend;

        double[][] Run()
        {
            Tensor y = Tensor.Empty([rows, cols]), mean = Tensor.Empty([rows]), rstd = Tensor.Empty([rows]);
            be.LayerNorm(x, w, b, 1e-5, y, mean, rstd);
            Tensor gx = Tensor.Empty([rows, cols]), gw = Tensor.Empty([cols]), gb = Tensor.Empty([cols]);
            be.LayerNormBackward(g, x, mean, rstd, w, gx, gw, gb);
            // The same rows as a batch-norm input [rows / 16, 16, cols / 8, 8]: sums over N, H, W per channel.
            var x4 = x.Reshape(rows / 16, 16, cols / 8, 8);
            var g4 = g.Reshape(rows / 16, 16, cols / 8, 8);
            Tensor w4 = w.Narrow(0, 0, 16).Contiguous(), b4 = b.Narrow(0, 0, 16).Contiguous();
            // Batch statistics are kept in float64.
            Tensor y4 = Tensor.Empty(x4.Shape.ToArray()), m4 = Tensor.Empty([16], DType.Float64), v4 = Tensor.Empty([16], DType.Float64),
                r4 = Tensor.Empty([16], DType.Float64);
            be.BatchNorm(x4, w4, b4, 1e-5, y4, m4, v4, r4);
            Tensor gx4 = Tensor.Empty(x4.Shape.ToArray()), gw4 = Tensor.Empty([16]), gb4 = Tensor.Empty([16]);
            be.BatchNormBackward(g4, x4, w4, m4, r4, gx4, gw4, gb4);
            return [.. new[] { y, gx, gw, gb, y4, m4, v4, gx4, gw4, gb4 }.Select(t => t.To(DType.Float64).ToArray<double>())];
        }

        Threads.Count = 1;
        double[][] one = Run();
        foreach (int count in new[] { 2, 3, 7, 16 })
        {
            Threads.Count = count;
            double[][] many = Run();
            for (int i = 0; i < one.Length; i++)
                Assert.That(many[i], Is.EqualTo(one[i]), $"result {i} differs between 1 and {count} threads");
        }
    }
}
