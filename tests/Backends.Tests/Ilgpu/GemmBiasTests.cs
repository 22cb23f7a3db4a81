using Ember.Ilgpu;

namespace Ember.Backends.Tests.Ilgpu;

/// <summary>
/// <see cref="IlgpuGemm.SgemmBias"/> (a bias row) and <see cref="IlgpuGemm.SgemmColumnBias"/> (a bias column) on the
/// ILGPU CPU accelerator against a float64 reference, for every kernel path (naive, tiled, 16-deep tiled, split-K,
/// batched), and the bias kernels' compilation for CUDA.
/// </summary>
public class GemmBiasTests
{
    /// <summary>
    /// Runs one SgemmBias (SgemmColumnBias when <paramref name="column"/>) and compares every element of C with
    /// alpha·Σ + beta·C + bias (float64); the bias itself must not change. <paramref name="shareA"/>: one A for every
    /// batch entry (stride 0, a convolution's weight).
    /// </summary>
    private static void Check(bool ta, bool tb, int m, int n, int k, GemmAlgorithm algo, int batch = 1, float beta = 0f, int biasOffset = 0,
        bool column = false, bool shareA = false)
    {
        var dev = IlgpuTestDevice.Cpu;
        int lda = ta ? m : k, ldb = tb ? k : n, ldc = n;
        long sa = shareA ? 0 : (long)m * k, sb = (long)k * n, sc = (long)m * n;
        var ha = GemmTests.RandomArray((int)((long)m * k * (shareA ? 1 : batch)), 11);
        var hb = GemmTests.RandomArray((int)(sb * batch), 12);
        var hc = GemmTests.RandomArray((int)(sc * batch), 13);
        var hbias = GemmTests.RandomArray((column ? m : n) + biasOffset, 14);
        using var ba = dev.Allocator.Allocate(4 * Math.Max(1, ha.Length));
        using var bb = dev.Allocator.Allocate(4 * Math.Max(1, hb.Length));
        using var bc = dev.Allocator.Allocate(4 * hc.Length);
        using var bbias = dev.Allocator.Allocate(4 * hbias.Length);
        IlgpuTestDevice.FromHost(ba.View<float>(ha.Length), ha);
        IlgpuTestDevice.FromHost(bb.View<float>(hb.Length), hb);
        IlgpuTestDevice.FromHost(bc.View<float>(hc.Length), hc);
        IlgpuTestDevice.FromHost(bbias.View<float>(hbias.Length), hbias);
        // A bias view at an odd offset is not 16-byte aligned: the epilogue's loads must not assume it is.
        var biasView = bbias.View<float>(hbias.Length).SubView(biasOffset);
        bool queued = column
            ? IlgpuGemm.SgemmColumnBias(dev, ta, tb, m, n, k, 1f, ba.View<float>(ha.Length), lda, sa, bb.View<float>(hb.Length), ldb, sb,
                beta, bc.View<float>(hc.Length), ldc, sc, biasView, batch, algo)
            : IlgpuGemm.SgemmBias(dev, ta, tb, m, n, k, 1f, ba.View<float>(ha.Length), lda, sa, bb.View<float>(hb.Length), ldb, sb,
                beta, bc.View<float>(hc.Length), ldc, sc, biasView, batch, algo);
        Assert.That(queued, Is.True, "queued");
        dev.Synchronize();
        var got = IlgpuTestDevice.ToHost(bc.View<float>(hc.Length));
        for (int z = 0; z < batch; z++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double dot = 0, mag = 0;
                    for (int q = 0; q < k; q++)
                    {
                        double av = ta ? ha[z * sa + (long)q * lda + i] : ha[z * sa + (long)i * lda + q];
                        double bv = tb ? hb[z * sb + (long)j * ldb + q] : hb[z * sb + (long)q * ldb + j];
                        dot += av * bv; mag += Math.Abs(av * bv);
                    }
                    long ci = z * sc + (long)i * ldc + j;
                    double want = dot + beta * (double)hc[ci] + hbias[biasOffset + (column ? i : j)];
                    Assert.That(got[ci], Is.EqualTo(want).Within(1e-5 * (mag + 2)), $"C[{z}][{i},{j}] {algo} ta={ta} tb={tb}");
                }
        Assert.That(IlgpuTestDevice.ToHost(bbias.View<float>(hbias.Length)), Is.EqualTo(hbias), "the bias is only read");
    }

    [TestCase(false, true), TestCase(true, false)]
    public void NaiveAddsTheBias(bool ta, bool tb) => Check(ta, tb, 13, 7, 9, GemmAlgorithm.Naive, biasOffset: 1);

    // Partial tiles and K % 8 ≠ 0 (scalar stores of C), and whole 128-column tiles with n % 4 = 0 (16-byte stores).
    [TestCase(false, true, 37, 45, 19, 0), TestCase(true, true, 37, 45, 19, 3), TestCase(false, false, 130, 128, 17, 1), TestCase(false, true, 20, 256, 24, 0)]
    public void TiledAddsTheBias(bool ta, bool tb, int m, int n, int k, int biasOffset) =>
        Check(ta, tb, m, n, k, GemmAlgorithm.Tiled, biasOffset: biasOffset);

    [TestCase(false, true, 37, 45, 19), TestCase(false, true, 20, 256, 40)]
    public void TiledK16AddsTheBias(bool ta, bool tb, int m, int n, int k) => Check(ta, tb, m, n, k, GemmAlgorithm.TiledK16, biasOffset: 1);

    [Test]
    public void TiledK16AsyncRunsAsTiledK16WithTheBias() => Check(false, true, 20, 36, 24, GemmAlgorithm.TiledK16Async);

    [TestCase(false, true, 9, 40, 64), TestCase(true, false, 3, 129, 256)]
    public void SplitKAddsTheBiasOnce(bool ta, bool tb, int m, int n, int k) => Check(ta, tb, m, n, k, GemmAlgorithm.SplitK, biasOffset: 1);

    [Test]
    public void BatchedAddsTheBiasToEveryEntryWithBeta() => Check(false, true, 33, 20, 12, GemmAlgorithm.Tiled, batch: 3, beta: 0.5f);

    [TestCase(false, true), TestCase(true, false)]
    public void NaiveAddsTheBiasColumn(bool ta, bool tb) => Check(ta, tb, 13, 7, 9, GemmAlgorithm.Naive, biasOffset: 1, column: true);

    // Partial tiles (scalar stores) and whole 128-column tiles with n % 4 = 0 (16-byte stores: one bias value per row).
    [TestCase(false, true, 37, 45, 19, 0), TestCase(true, false, 130, 128, 17, 3), TestCase(false, false, 20, 256, 24, 1)]
    public void TiledAddsTheBiasColumn(bool ta, bool tb, int m, int n, int k, int biasOffset) =>
        Check(ta, tb, m, n, k, GemmAlgorithm.Tiled, biasOffset: biasOffset, column: true);

    [TestCase(false, false, 37, 45, 19), TestCase(false, false, 20, 256, 40)]
    public void TiledK16AddsTheBiasColumn(bool ta, bool tb, int m, int n, int k) =>
        Check(ta, tb, m, n, k, GemmAlgorithm.TiledK16, biasOffset: 1, column: true);

    [TestCase(false, true, 9, 40, 64), TestCase(true, false, 3, 129, 256)]
    public void SplitKAddsTheBiasColumnOnce(bool ta, bool tb, int m, int n, int k) =>
        Check(ta, tb, m, n, k, GemmAlgorithm.SplitK, biasOffset: 1, column: true);

    // A convolution's forward: one weight (stride 0) for every sample, the bias per output channel (row).
    [TestCase(GemmAlgorithm.Tiled), TestCase(GemmAlgorithm.TiledK16), TestCase(GemmAlgorithm.Naive)]
    public void BatchedSharedWeightAddsTheBiasColumnToEveryEntry(GemmAlgorithm algo) =>
        Check(false, false, 6, 100, 27, algo, batch: 3, column: true, shareA: true);

    [Test]
    public void Tf32HasNoBiasEpilogue()
    {
        var dev = IlgpuTestDevice.Cpu;
        using var buf = dev.Allocator.Allocate(4 * 64);
        var v = buf.View<float>(64);
        Assert.That(IlgpuGemm.SgemmBias(dev, false, true, 4, 4, 4, 1f, v, 4, 0, v, 4, 0, 0f, v.SubView(32), 4, 0, v, 1, GemmAlgorithm.Tf32), Is.False);
        Assert.That(IlgpuGemm.SgemmColumnBias(dev, false, true, 4, 4, 4, 1f, v, 4, 0, v, 4, 0, 0f, v.SubView(32), 4, 0, v, 1, GemmAlgorithm.Tf32), Is.False);
    }

    [TestCase(typeof(KMajorVecLayout), typeof(KMajorVecLayout), false)]
    [TestCase(typeof(KMajorLayout), typeof(RMajorLayout), false)]
    [TestCase(typeof(KMajorVecLayout), typeof(KMajorVecLayout), true)]
    [TestCase(typeof(RMajorVecLayout), typeof(RMajorVecLayout), true)]
    public void TiledBiasKernelsCompileForCuda(Type ta, Type tb, bool k16) => CompilesForCuda(k16 ? nameof(GemmKernels.Tiled16Bias) : nameof(GemmKernels.TiledBias), ta, tb);

    [TestCase(typeof(KMajorVecLayout), typeof(RMajorVecLayout), false)]
    [TestCase(typeof(KMajorVecLayout), typeof(RMajorVecLayout), true)]
    [TestCase(typeof(KMajorLayout), typeof(RMajorLayout), true)]
    public void TiledColumnBiasKernelsCompileForCuda(Type ta, Type tb, bool k16) =>
        CompilesForCuda(k16 ? nameof(GemmKernels.Tiled16ColumnBias) : nameof(GemmKernels.TiledColumnBias), ta, tb);

    private static void CompilesForCuda(string name, Type ta, Type tb)
    {
        var method = typeof(GemmKernels).GetMethod(name)!.MakeGenericMethod(ta, tb);
        string ptx = PtxCompiler.Grouped(method);
        Assert.That(ptx, Does.Contain(".entry"));
        Assert.That(ptx, Does.Contain("st.global.v4.f32"), "16-byte stores of C stay");
        Assert.That(ptx, Does.Not.Contain(".local"));
    }

    [TestCase(nameof(GemmKernels.NaiveBias)), TestCase(nameof(GemmKernels.SumSplitsBias)),
     TestCase(nameof(GemmKernels.NaiveColumnBias)), TestCase(nameof(GemmKernels.SumSplitsColumnBias))]
    public void ImplicitlyGroupedBiasKernelsCompileForCuda(string name) =>
        Assert.That(PtxCompiler.AutoGrouped(typeof(GemmKernels).GetMethod(name)!), Does.Contain(".entry"));
}
