using Ember.Ilgpu;

namespace Ember.Backends.Tests.Ilgpu;

public class GemmTests
{
    /// <summary>Uniform values in [-1, 1) from a seeded System.Random.</summary>
    internal static float[] RandomArray(int n, int seed)
    {
        var rng = new System.Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }

    /// <summary>Runs one (batched) SGEMM on <paramref name="device"/> (default ilgpu-cpu) and compares every element with a float64 reference.</summary>
    internal static void Check(bool ta, bool tb, int m, int n, int k, GemmAlgorithm algo,
        int batch = 1, int pad = 0, int offset = 0, float alpha = 1f, float beta = 0f, bool broadcastB = false, bool alignRows = false,
        IlgpuDevice? device = null)
    {
        var dev = device ?? IlgpuTestDevice.Cpu;
        // alignRows: leading dimensions rounded up to multiples of 4 (16-byte aligned rows for odd sizes).
        int Ld(int cols) => alignRows ? (cols + pad + 3) & ~3 : cols + pad;
        int lda = Ld(ta ? m : k), ldb = Ld(tb ? k : n), ldc = Ld(n);
        long sa = (long)(ta ? k : m) * lda + pad, sb = broadcastB ? 0 : (long)(tb ? n : k) * ldb + 3, sc = (long)m * ldc + 1;
        long lenA = offset + sa * batch, lenB = offset + (broadcastB ? (long)(tb ? n : k) * ldb : sb * batch), lenC = offset + sc * batch;
        var ha = RandomArray((int)lenA, 1); var hb = RandomArray((int)lenB, 2); var hc = RandomArray((int)lenC, 3);
        using var ba = dev.Allocator.Allocate(4 * lenA);
        using var bb = dev.Allocator.Allocate(4 * lenB);
        using var bc = dev.Allocator.Allocate(4 * lenC);
        IlgpuTestDevice.FromHost(ba.View<float>(lenA), ha);
        IlgpuTestDevice.FromHost(bb.View<float>(lenB), hb);
        IlgpuTestDevice.FromHost(bc.View<float>(lenC), hc);
        var va = ba.View<float>(lenA).SubView(offset); var vb = bb.View<float>(lenB).SubView(offset); var vc = bc.View<float>(lenC).SubView(offset);
        IlgpuGemm.Sgemm(dev, ta, tb, m, n, k, alpha, va, lda, sa, vb, ldb, sb, beta, vc, ldc, sc, batch, algo);
        dev.Synchronize();
        var got = IlgpuTestDevice.ToHost(bc.View<float>(lenC));
        var expected = (float[])hc.Clone();
        for (int z = 0; z < batch; z++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double dot = 0, mag = 0;
                    for (int q = 0; q < k; q++)
                    {
                        double av = ta ? ha[offset + z * sa + (long)q * lda + i] : ha[offset + z * sa + (long)i * lda + q];
                        double bv = tb ? hb[offset + z * sb + (long)j * ldb + q] : hb[offset + z * sb + (long)q * ldb + j];
                        dot += av * bv; mag += Math.Abs(av * bv);
                    }
                    long ci = offset + z * sc + (long)i * ldc + j;
                    double want = alpha * dot + (beta == 0 ? 0 : beta * (double)hc[ci]);
                    Assert.That(got[ci], Is.EqualTo(want).Within(1e-5 * (mag + 1)), $"C[{z}][{i},{j}] ta={ta} tb={tb}");
                    expected[ci] = got[ci];
                }
        // Nothing outside the C matrices (padding, gaps between batch entries) may change.
        Assert.That(got, Is.EqualTo(expected), "elements outside C were written");
    }

    [TestCase(false, false)]
    [TestCase(false, true)]
    [TestCase(true, false)]
    [TestCase(true, true)]
    public void NaiveMatchesReference(bool ta, bool tb) => Check(ta, tb, 13, 7, 9, GemmAlgorithm.Naive);

    // Odd sizes: partial 128-tiles in M and N, K not a multiple of 8, K below 8, single rows/columns.
    [TestCase(false, false, 37, 45, 19)]
    [TestCase(false, true, 37, 45, 19)]
    [TestCase(true, false, 37, 45, 19)]
    [TestCase(true, true, 37, 45, 19)]
    [TestCase(false, false, 130, 129, 17)]
    [TestCase(true, true, 130, 129, 17)]
    [TestCase(false, true, 1, 33, 5)]
    [TestCase(true, false, 33, 1, 3)]
    [TestCase(false, false, 3, 2, 1)]
    [TestCase(true, false, 64, 64, 64)]
    public void TiledMatchesReference(bool ta, bool tb, int m, int n, int k) => Check(ta, tb, m, n, k, GemmAlgorithm.Tiled);

    [TestCase(false, false)]
    [TestCase(false, true)]
    [TestCase(true, false)]
    [TestCase(true, true)]
    public void TiledWholeTilesUseVectorLoads(bool ta, bool tb) => Check(ta, tb, 128, 128, 24, GemmAlgorithm.Tiled);

    [TestCase(false, false)]
    [TestCase(true, true)]
    public void TiledUnalignedOffsetAndPaddedLeadingDimensions(bool ta, bool tb) =>
        Check(ta, tb, 40, 36, 20, GemmAlgorithm.Tiled, pad: 3, offset: 1);

    // The 16-deep kernel: K below 8, K % 16 at most 8 (second half of the last stage empty) and above 8, several
    // whole stages, partial 128-tiles in M and N, single rows/columns.
    [TestCase(false, false, 37, 45, 19)]
    [TestCase(false, true, 37, 45, 27)]
    [TestCase(true, false, 37, 45, 40)]
    [TestCase(true, true, 37, 45, 57)]
    [TestCase(false, false, 130, 129, 33)]
    [TestCase(true, true, 130, 129, 24)]
    [TestCase(false, true, 1, 33, 5)]
    [TestCase(true, false, 33, 1, 3)]
    [TestCase(false, false, 3, 2, 1)]
    [TestCase(true, false, 64, 64, 64)]
    public void TiledK16MatchesReference(bool ta, bool tb, int m, int n, int k) => Check(ta, tb, m, n, k, GemmAlgorithm.TiledK16);

    // Whole tiles, 16-byte loads, K = 3 stages (the two-stage ring wraps) plus no remainder.
    [TestCase(false, false)]
    [TestCase(false, true)]
    [TestCase(true, false)]
    [TestCase(true, true)]
    public void TiledK16WholeTilesUseVectorLoads(bool ta, bool tb) => Check(ta, tb, 128, 128, 48, GemmAlgorithm.TiledK16);

    [TestCase(false, false)]
    [TestCase(true, true)]
    public void TiledK16UnalignedOffsetAndPaddedLeadingDimensions(bool ta, bool tb) =>
        Check(ta, tb, 40, 36, 44, GemmAlgorithm.TiledK16, pad: 3, offset: 1, alpha: 0.5f, beta: -2f);

    [TestCase(false, true)]
    [TestCase(true, false)]
    public void TiledK16BatchedWithStridesAlphaBeta(bool ta, bool tb)
    {
        Check(ta, tb, 20, 24, 28, GemmAlgorithm.TiledK16, batch: 3, pad: 4, alpha: 0.5f, beta: -2f);
        Check(ta, tb, 16, 12, 10, GemmAlgorithm.TiledK16, batch: 2, broadcastB: true);
    }

    [Test]
    public void TiledK16SplitsLongKOnTheCpuDevice()
    {
        // One tile of C, long K: split into slabs of 16-deep products whenever the CPU accelerator counts two or
        // more multiprocessors (each slab 300 deep: 18 stages and a partial one).
        Check(false, false, 24, 16, 600, GemmAlgorithm.TiledK16, alpha: 2f, beta: 0.25f);
        Check(true, true, 24, 16, 600, GemmAlgorithm.TiledK16, pad: 1, offset: 1);
    }

    [Test]
    public void TiledK16KZeroScalesC() => Check(false, false, 5, 6, 0, GemmAlgorithm.TiledK16, beta: 0.5f);

    // The cp.async kernel (plain copies on ilgpu-cpu, same indexing, swizzle, zero fill and stage ring): K below 16,
    // partial last stages, more stages than the ring holds (K = 57: 4 stages on 3 buffers), partial 128-tiles in M and
    // N with M/N not multiples of 4 (partial 16-byte chunks), single rows/columns. Leading dimensions rounded up to
    // multiples of 4, so rows contiguous along M/N take the 16-byte copies (else TiledK16 runs, see below).
    [TestCase(false, false, 37, 45, 19)]
    [TestCase(false, true, 37, 45, 27)]
    [TestCase(true, false, 37, 45, 40)]
    [TestCase(true, true, 37, 45, 57)]
    [TestCase(false, false, 130, 129, 33)]
    [TestCase(true, true, 130, 129, 24)]
    [TestCase(false, true, 1, 33, 5)]
    [TestCase(true, false, 33, 1, 3)]
    [TestCase(false, false, 3, 2, 1)]
    [TestCase(true, false, 64, 64, 64)]
    public void TiledK16AsyncMatchesReference(bool ta, bool tb, int m, int n, int k) =>
        Check(ta, tb, m, n, k, GemmAlgorithm.TiledK16Async, alignRows: true);

    // Leading dimensions that are multiples of 4 (so rows contiguous along M/N take the 16-byte copies), with padding
    // and M/N not multiples of 4, five stages, alpha/beta.
    [TestCase(false, false)]
    [TestCase(false, true)]
    [TestCase(true, false)]
    [TestCase(true, true)]
    public void TiledK16AsyncAlignedPaddedRows(bool ta, bool tb)
    {
        Check(ta, tb, 128, 128, 80, GemmAlgorithm.TiledK16Async);
        Check(ta, tb, 38, 42, 70, GemmAlgorithm.TiledK16Async, pad: 2, alpha: 0.5f, beta: -2f);
    }

    // An unaligned start: the rows contiguous along M/N cannot take 16-byte copies, so TiledK16 runs instead (K-major
    // operands alone would not need it: NT still runs the cp.async kernel).
    [TestCase(false, false)]
    [TestCase(false, true)]
    [TestCase(true, true)]
    public void TiledK16AsyncUnalignedOffsetAndPaddedLeadingDimensions(bool ta, bool tb) =>
        Check(ta, tb, 40, 36, 44, GemmAlgorithm.TiledK16Async, pad: 3, offset: 1, alpha: 0.5f, beta: -2f);

    [TestCase(false, true)]
    [TestCase(true, true)]
    public void TiledK16AsyncBatchedWithStridesAlphaBeta(bool ta, bool tb)
    {
        // pad 4 keeps A's leading dimension and stride multiples of 4 (transposed A takes 16-byte copies); B's stride is
        // odd (Check adds 3), which a K-major B (transposed) takes element by element.
        Check(ta, tb, 20, 24, 28, GemmAlgorithm.TiledK16Async, batch: 3, pad: 4, alpha: 0.5f, beta: -2f);
        Check(ta, tb, 16, 12, 20, GemmAlgorithm.TiledK16Async, batch: 2, broadcastB: true);
    }

    [Test]
    public void TiledK16AsyncSplitsLongK()
    {
        // One tile of C, long K: split into slabs of cp.async products whenever the CPU accelerator counts two or more
        // multiprocessors (then each slab is a batch entry: strides of K elements along rows).
        Check(false, false, 24, 16, 600, GemmAlgorithm.TiledK16Async, alpha: 2f, beta: 0.25f);
        Check(true, false, 24, 16, 600, GemmAlgorithm.TiledK16Async);
    }

    // Rows contiguous along N (and M, transposed A) with 16-byte aligned leading dimensions but N, M not multiples of 4:
    // the 16-byte loads of the last group of four clamped it to the last whole group (columns 8, 9 of 10 read 4, 5).
    [TestCase(GemmAlgorithm.Tiled)]
    [TestCase(GemmAlgorithm.TiledK16)]
    [TestCase(GemmAlgorithm.TiledK16Async)]
    public void PaddedAlignedRowsOfOddLength(GemmAlgorithm algo)
    {
        Check(false, false, 8, 10, 24, algo, pad: 2);
        Check(true, true, 10, 8, 24, algo, pad: 2);
    }

    [Test]
    public void TiledK16AsyncKZeroScalesC() => Check(false, false, 5, 6, 0, GemmAlgorithm.TiledK16Async, beta: 0.5f);

    // K cut into slabs summed by a second kernel; odd M/N, padded leading dimensions, unaligned start, alpha/beta.
    [TestCase(false, false)]
    [TestCase(false, true)]
    [TestCase(true, false)]
    [TestCase(true, true)]
    public void SplitKMatchesReference(bool ta, bool tb)
    {
        Check(ta, tb, 37, 45, 64, GemmAlgorithm.SplitK);
        Check(ta, tb, 20, 9, 48, GemmAlgorithm.SplitK, pad: 4, offset: 1, alpha: 0.5f, beta: -2f);
    }

    [Test]
    public void SplitCountFillsTheDevice()
    {
        Assert.That(IlgpuGemm.Splits(256, 1024, 784, 132, false), Is.EqualTo(7));   // 16 tiles → 112 blocks
        Assert.That(IlgpuGemm.Splits(4096, 4096, 4096, 132, false), Is.EqualTo(1)); // enough tiles already
        Assert.That(IlgpuGemm.Splits(256, 1024, 100, 132, false), Is.EqualTo(1));   // short K
        Assert.That(IlgpuGemm.Splits(32, 27, 65536, 132, false), Is.EqualTo(128));   // a weight gradient: one tile, one slab per SM
    }

    [TestCase(GemmAlgorithm.Naive)]
    [TestCase(GemmAlgorithm.Tiled)]
    public void BatchedWithStridesAlphaBeta(GemmAlgorithm algo) =>
        Check(false, true, 20, 24, 12, algo, batch: 3, pad: 4, alpha: 0.5f, beta: -2f);

    [TestCase(GemmAlgorithm.Naive)]
    [TestCase(GemmAlgorithm.Tiled)]
    public void BatchedWithBroadcastB(GemmAlgorithm algo) => Check(true, false, 16, 12, 10, algo, batch: 2, broadcastB: true);

    [TestCase(GemmAlgorithm.Naive)]
    [TestCase(GemmAlgorithm.Tiled)]
    public void KZeroScalesC(GemmAlgorithm algo) => Check(false, false, 5, 6, 0, algo, beta: 0.5f);

    [Test]
    public void BetaZeroIgnoresNaNInC()
    {
        var dev = IlgpuTestDevice.Cpu;
        using var a = dev.Allocator.Allocate(4 * 4);
        using var b = dev.Allocator.Allocate(4 * 4);
        using var c = dev.Allocator.Allocate(4 * 4);
        IlgpuTestDevice.FromHost(a.View<float>(4), new float[] { 1, 2, 3, 4 });
        IlgpuTestDevice.FromHost(b.View<float>(4), new float[] { 1, 0, 0, 1 });
        IlgpuTestDevice.FromHost(c.View<float>(4), new float[] { float.NaN, float.NaN, float.NaN, float.NaN });
        IlgpuGemm.Sgemm(dev, false, false, 2, 2, 2, a.View<float>(4), b.View<float>(4), c.View<float>(4), GemmAlgorithm.Tiled);
        Assert.That(IlgpuTestDevice.ToHost(c.View<float>(4)), Is.EqualTo(new float[] { 1, 2, 3, 4 }));
    }

    [Test]
    public void ShortViewThrowsNamingOperand()
    {
        var dev = IlgpuTestDevice.Cpu;
        using var a = dev.Allocator.Allocate(4 * 6);
        using var c = dev.Allocator.Allocate(4 * 9);
        var ex = Assert.Throws<ArgumentException>(() =>
            IlgpuGemm.Sgemm(dev, false, false, 3, 3, 3, a.View<float>(6), a.View<float>(6), c.View<float>(9)));
        Assert.That(ex!.Message, Does.Contain("A needs 9 elements"));
        ex = Assert.Throws<ArgumentException>(() =>
            IlgpuGemm.Sgemm(dev, false, false, 2, 3, 3, 1f, a.View<float>(6), 2, 0, a.View<float>(6), 3, 0, 0f, c.View<float>(9), 3, 0));
        Assert.That(ex!.Message, Does.Contain("lda=2"));
    }
}
