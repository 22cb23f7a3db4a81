using Ember.Ilgpu;

namespace Ember.Backends.Tests.Ilgpu;

/// <summary>
/// The tensor-core GEMM kernel on ilgpu-cpu, where each <c>mma</c> K step is emulated per lane from the PTX
/// fragment layouts: checks staging, fragment addressing, edges, transposes, batching and the epilogue against a
/// float64 reference of the rounded operands. On CUDA (compute capability ≥ 8.0) <see cref="MmaGemmCudaTests"/>
/// checks the inline-PTX instructions themselves.
/// </summary>
public class MmaGemmTests
{
    /// <summary>The value an operand element has once staged: TF32-rounded, or the 16-bit value.</summary>
    internal static double Operand(MmaPrecision p, float x, out ushort bits, bool truncate = false)
    {
        bits = 0;
        switch (p)
        {
            case MmaPrecision.Tf32 when truncate: return BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(x) & 0xFFFFE000u);
            case MmaPrecision.Tf32: return BitConverter.UInt32BitsToSingle(MmaMath.RoundTf32(BitConverter.SingleToUInt32Bits(x)));
            case MmaPrecision.Float16: bits = BitConverter.HalfToUInt16Bits((Half)x); return (double)BitConverter.UInt16BitsToHalf(bits);
            default: bits = Ember.Ilgpu.Ops.NarrowBits.FloatToBFloat16(x); return BitConverter.UInt32BitsToSingle((uint)bits << 16);
        }
    }

    /// <summary>
    /// Runs one (batched) tensor-core GEMM on <paramref name="dev"/> and compares every element of C with a float64
    /// reference over the rounded operands; elements outside C must not change. Returns the largest error relative to Σ|ab|.
    /// </summary>
    internal static double Check(IlgpuDevice dev, MmaPrecision prec, bool ta, bool tb, int m, int n, int k,
        int batch = 1, int pad = 0, int offset = 0, float alpha = 1f, float beta = 0f, bool broadcastB = false, double tol = 1e-5,
        MmaGemmOptions options = default, int align = 1)
    {
        // align: leading dimensions and batch strides of A and B rounded up to multiples of it (8: 16-byte rows).
        int lda = (int)Up((ta ? m : k) + pad), ldb = (int)Up((tb ? k : n) + pad), ldc = n + pad;
        long sa = Up((long)(ta ? k : m) * lda + pad), sb = broadcastB ? 0 : Up((long)(tb ? n : k) * ldb + 3), sc = (long)m * ldc + 1;
        long lenA = offset + sa * batch, lenB = offset + (broadcastB ? (long)(tb ? n : k) * ldb : sb * batch), lenC = offset + sc * batch;
        var fa = GemmTests.RandomArray((int)lenA, 1); var fb = GemmTests.RandomArray((int)lenB, 2); var fc = GemmTests.RandomArray((int)lenC, 3);
        var ra = new double[lenA]; var rb = new double[lenB]; var rc = new double[lenC];
        var ha = new ushort[lenA]; var hb = new ushort[lenB]; var hc = new ushort[lenC];
        for (long i = 0; i < lenA; i++) ra[i] = Operand(prec, fa[i], out ha[i], options.Tf32Truncate);
        for (long i = 0; i < lenB; i++) rb[i] = Operand(prec, fb[i], out hb[i], options.Tf32Truncate);
        for (long i = 0; i < lenC; i++) rc[i] = prec == MmaPrecision.Tf32 ? fc[i] : Operand(prec, fc[i], out hc[i]);

        double worst = 0;
        if (prec == MmaPrecision.Tf32)
        {
            using var ba = dev.Allocator.Allocate(4 * lenA);
            using var bb = dev.Allocator.Allocate(4 * lenB);
            using var bc = dev.Allocator.Allocate(4 * lenC);
            IlgpuTestDevice.FromHost(ba.View<float>(lenA), fa);
            IlgpuTestDevice.FromHost(bb.View<float>(lenB), fb);
            IlgpuTestDevice.FromHost(bc.View<float>(lenC), fc);
            IlgpuMmaGemm.Tf32(dev, ta, tb, m, n, k, alpha, ba.View<float>(lenA).SubView(offset), lda, sa,
                bb.View<float>(lenB).SubView(offset), ldb, sb, beta, bc.View<float>(lenC).SubView(offset), ldc, sc, batch, options);
            dev.Synchronize();
            var got = IlgpuTestDevice.ToHost(bc.View<float>(lenC));
            worst = Compare(got.Select(x => (double)x).ToArray(), fc.Select(x => (double)x).ToArray(), 0);
        }
        else
        {
            using var ba = dev.Allocator.Allocate(2 * lenA);
            using var bb = dev.Allocator.Allocate(2 * lenB);
            using var bc = dev.Allocator.Allocate(2 * lenC);
            IlgpuTestDevice.FromHost(ba.View<ushort>(lenA), ha);
            IlgpuTestDevice.FromHost(bb.View<ushort>(lenB), hb);
            IlgpuTestDevice.FromHost(bc.View<ushort>(lenC), hc);
            IlgpuMmaGemm.Gemm16(dev, prec, ta, tb, m, n, k, alpha, ba.View<ushort>(lenA).SubView(offset), lda, sa,
                bb.View<ushort>(lenB).SubView(offset), ldb, sb, beta, bc.View<ushort>(lenC).SubView(offset), ldc, sc, batch, options);
            dev.Synchronize();
            var got = IlgpuTestDevice.ToHost(bc.View<ushort>(lenC));
            Assert.That(got.Where((x, i) => !InC(i)), Is.EqualTo(hc.Where((x, i) => !InC(i))), "elements outside C were written");
            // The output is rounded to the 16-bit type: half an ulp of the result (2^-11 F16, 2^-8 BF16) on top.
            double rel = prec == MmaPrecision.Float16 ? 1.0 / 2048 : 1.0 / 256;
            worst = Compare(got.Select(x => Operand16(prec, x)).ToArray(), rc, rel);
        }
        return worst;

        long Up(long x) => (x + align - 1) / align * align;

        bool InC(long i)
        {
            long j = i - offset;
            if (j < 0) return false;
            long z = j / sc, r = j % sc;
            return z < batch && r / ldc < m && r % ldc < n;
        }

        double Compare(double[] got, double[] old, double rel)
        {
            double w = 0;
            for (int z = 0; z < batch; z++)
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                    {
                        double dot = 0, mag = 0;
                        for (int q = 0; q < k; q++)
                        {
                            double av = ta ? ra[offset + z * sa + (long)q * lda + i] : ra[offset + z * sa + (long)i * lda + q];
                            double bv = tb ? rb[offset + z * sb + (long)j * ldb + q] : rb[offset + z * sb + (long)q * ldb + j];
                            dot += av * bv; mag += Math.Abs(av * bv);
                        }
                        long ci = offset + z * sc + (long)i * ldc + j;
                        double want = alpha * dot + (beta == 0 ? 0 : beta * old[ci]);
                        double err = Math.Abs(got[ci] - want);
                        Assert.That(err, Is.LessThanOrEqualTo(tol * (mag + 1) + rel * Math.Abs(want) + 1e-7),
                            $"{prec} C[{z}][{i},{j}] ta={ta} tb={tb}: got {got[ci]}, want {want}");
                        w = Math.Max(w, err / (mag + 1e-30));
                    }
            if (prec == MmaPrecision.Tf32)
            {
                for (long i = 0; i < got.Length; i++)
                    if (!InC(i)) Assert.That(got[i], Is.EqualTo(old[i]), $"element {i} outside C was written");
            }
            return w;
        }
    }

    private static double Operand16(MmaPrecision p, ushort bits) =>
        p == MmaPrecision.Float16 ? (double)BitConverter.UInt16BitsToHalf(bits) : BitConverter.UInt32BitsToSingle((uint)bits << 16);

    private static IlgpuDevice Cpu => IlgpuTestDevice.Cpu;

    // Odd sizes: partial 128-tiles in M and N, K not a multiple of the slab (16 TF32 / 32 16-bit), K below 8.
    [TestCase(MmaPrecision.Tf32, false, false, 37, 45, 19)]
    [TestCase(MmaPrecision.Tf32, false, true, 37, 45, 19)]
    [TestCase(MmaPrecision.Tf32, true, false, 37, 45, 19)]
    [TestCase(MmaPrecision.Tf32, true, true, 37, 45, 19)]
    [TestCase(MmaPrecision.Float16, false, false, 37, 45, 41)]
    [TestCase(MmaPrecision.Float16, false, true, 37, 45, 41)]
    [TestCase(MmaPrecision.Float16, true, false, 37, 45, 41)]
    [TestCase(MmaPrecision.Float16, true, true, 37, 45, 41)]
    [TestCase(MmaPrecision.BFloat16, false, false, 33, 20, 7)]
    [TestCase(MmaPrecision.BFloat16, true, true, 33, 20, 7)]
    [TestCase(MmaPrecision.Tf32, false, false, 130, 9, 5)]
    [TestCase(MmaPrecision.BFloat16, false, true, 1, 135, 35)]
    public void MatchesReference(MmaPrecision p, bool ta, bool tb, int m, int n, int k) => Check(Cpu, p, ta, tb, m, n, k);

    // Whole tiles and slabs with aligned, K-contiguous operands: the 16-byte load path (both operands for NT).
    [TestCase(MmaPrecision.Tf32)]
    [TestCase(MmaPrecision.Float16)]
    [TestCase(MmaPrecision.BFloat16)]
    public void WholeTilesUseVectorLoads(MmaPrecision p) => Check(Cpu, p, false, true, 128, 128, 64);

    [TestCase(MmaPrecision.Tf32, false, true)]
    [TestCase(MmaPrecision.Float16, true, false)]
    public void UnalignedOffsetAndPaddedLeadingDimensions(MmaPrecision p, bool ta, bool tb) =>
        Check(Cpu, p, ta, tb, 20, 18, 40, pad: 3, offset: 1);

    [TestCase(MmaPrecision.Tf32)]
    [TestCase(MmaPrecision.Float16)]
    [TestCase(MmaPrecision.BFloat16)]
    public void BatchedWithStridesAlphaBeta(MmaPrecision p) =>
        Check(Cpu, p, false, true, 20, 24, 24, batch: 3, pad: 8, alpha: 0.5f, beta: -2f);

    /// <summary><see cref="MmaGemmOptions.Tf32Truncate"/>: every kernel path multiplies the operands with their low 13 bits dropped.</summary>
    [TestCaseSource(nameof(TruncatePaths))]
    public void Tf32TruncateDropsLowBits(bool ta, bool tb, MmaGemmOptions options) =>
        Check(Cpu, MmaPrecision.Tf32, ta, tb, 70, 33, 45, options: options with { Tf32Truncate = true });

    public static IEnumerable<TestCaseData> TruncatePaths()
    {
        foreach (var o in new MmaGemmOptions[] { new() { Pipeline = false }, new() { Pipeline = true, WarpTile64 = false }, new() { WarpTile64 = true } })
        {
            yield return new TestCaseData(false, true, o);
            yield return new TestCaseData(true, false, o);
        }
    }

    /// <summary>
    /// TF32 rounds to nearest with ties to even, as cuBLAS (TF32 ulp 2^-10): 1 + ¾ ulp → 1 + ulp, 1 + ½ ulp → 1,
    /// 1 + 1½ ulp → 1 + 2 ulp; truncated, all three keep only their whole ulps.
    /// </summary>
    [Test]
    public void Tf32RoundsUnlessTruncated() => Tf32RoundingProbe(Cpu);

    internal static void Tf32RoundingProbe(IlgpuDevice dev)
    {
        const int n = 64;
        const float ulp = 1f / 1024;
        // (value, rounded, truncated) along the diagonal of A, B = I: C's diagonal is A's as the tensor core saw it.
        var probes = new (float X, float Rounded, float Truncated)[]
        {
            (1f + 0.75f * ulp, 1f + ulp, 1f), (1f + 0.5f * ulp, 1f, 1f), (1f + 1.5f * ulp, 1f + 2 * ulp, 1f + ulp),
            (-(1f + 0.75f * ulp), -(1f + ulp), -1f),
        };
        var a = new float[n * n]; var b = new float[n * n];
        for (int i = 0; i < n; i++) { a[i * n + i] = probes[i % probes.Length].X; b[i * n + i] = 1f; }
        using var ba = dev.Allocator.Allocate(4 * n * n);
        using var bb = dev.Allocator.Allocate(4 * n * n);
        using var bc = dev.Allocator.Allocate(4 * n * n);
        IlgpuTestDevice.FromHost(ba.View<float>(n * n), a);
        IlgpuTestDevice.FromHost(bb.View<float>(n * n), b);
        foreach (var options in RoundingOptions.Append(new MmaGemmOptions { Tf32Truncate = true }))
        {
            IlgpuMmaGemm.Tf32(dev, false, false, n, n, n, 1f, ba.View<float>(n * n), n, 0, bb.View<float>(n * n), n, 0, 0f,
                bc.View<float>(n * n), n, 0, 1, options);
            dev.Synchronize();
            var c = IlgpuTestDevice.ToHost(bc.View<float>(n * n));
            for (int i = 0; i < n; i++)
            {
                var probe = probes[i % probes.Length];
                Assert.That(c[i * n + i], Is.EqualTo(options.Tf32Truncate ? probe.Truncated : probe.Rounded), $"{options}: C[{i},{i}] of {probe.X:R}");
            }
        }
    }

    /// <summary>
    /// <see cref="MmaTf32Rounding.Packed"/>: both operands rounded by the packing kernel, also where they needed no packing
    /// (K-major A, transposed B), batched, padded, offset and with a broadcast B, on the mma.sync and warpgroup paths.
    /// </summary>
    [Test]
    public void Tf32PackedRounding()
    {
        foreach (var path in new MmaGemmOptions[] { default, new() { Wgmma = true } })
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    var options = path with { Tf32Rounding = MmaTf32Rounding.Packed };
                    Check(Cpu, MmaPrecision.Tf32, ta, tb, 37, 70, 45, batch: 2, pad: 3, offset: 5, alpha: 0.5f, beta: -1f, options: options);
                    Check(Cpu, MmaPrecision.Tf32, ta, tb, 20, 33, 9, batch: 3, broadcastB: true, options: options);
                }
    }

    /// <summary>Every place the operands can be rounded (<see cref="MmaGemmOptions.Tf32Rounding"/>), the default first.</summary>
    internal static readonly MmaGemmOptions[] RoundingOptions =
    [
        default, new() { Tf32Rounding = MmaTf32Rounding.Staged }, new() { Tf32Rounding = MmaTf32Rounding.Fragments },
        new() { Tf32Rounding = MmaTf32Rounding.FragmentsConvert }, new() { Tf32Rounding = MmaTf32Rounding.Packed },
    ];

    /// <summary>
    /// Each <see cref="MmaGemmOptions.Tf32Rounding"/> gives the same bits as the default on every kernel path of
    /// <paramref name="paths"/> (the same K order; only where the rounding happens differs), with Inf, NaN, ties and
    /// float32's largest values among the operands; and each is within TF32 tolerance of the float64 reference.
    /// </summary>
    internal static void Tf32RoundingsAgree(IlgpuDevice dev, IEnumerable<MmaGemmOptions> paths)
    {
        const int m = 70, n = 40, k = 45;
        var rng = new System.Random(7);
        var a = new float[m * k]; var b = new float[k * n];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < b.Length; i++) b[i] = (float)(rng.NextDouble() * 2 - 1);
        // Specials in a few rows of A: their rows of C are Inf/NaN on every path alike; ties and near-max values elsewhere.
        a[3 * k + 5] = float.PositiveInfinity; a[9 * k + 1] = float.NaN; a[11 * k] = BitConverter.UInt32BitsToSingle(0x7FFFFFFF);
        a[20 * k + 2] = 1f + 0.5f / 1024; a[21 * k + 3] = 1f + 1.5f / 1024; a[30 * k + 7] = float.MaxValue; b[7 * n + 4] = 1e-30f;
        using var ba = dev.Allocator.Allocate(4 * a.Length);
        using var bb = dev.Allocator.Allocate(4 * b.Length);
        using var bc = dev.Allocator.Allocate(4 * m * n);
        IlgpuTestDevice.FromHost(ba.View<float>(a.Length), a);
        IlgpuTestDevice.FromHost(bb.View<float>(b.Length), b);
        foreach (var path in paths)
        {
            float[]? first = null;
            foreach (var r in RoundingOptions)
            {
                var options = path with { Tf32Rounding = r.Tf32Rounding };
                IlgpuMmaGemm.Tf32(dev, false, false, m, n, k, 1f, ba.View<float>(a.Length), k, 0, bb.View<float>(b.Length), n, 0, 0f,
                    bc.View<float>(m * n), n, 0, 1, options);
                dev.Synchronize();
                var c = IlgpuTestDevice.ToHost(bc.View<float>(m * n));
                if (first == null) { first = c; continue; }
                // NaN payloads aside (the packing kernel quiets NaN operands): the same bits.
                for (int i = 0; i < c.Length; i++)
                    if (!(float.IsNaN(c[i]) && float.IsNaN(first[i])))
                        Assert.That(BitConverter.SingleToUInt32Bits(c[i]), Is.EqualTo(BitConverter.SingleToUInt32Bits(first[i])),
                            $"{options}: C[{i / n},{i % n}] = {c[i]:R}, default rounding gave {first[i]:R}");
            }
            Assert.That(float.IsNaN(first![9 * n]) && float.IsNaN(first[11 * n]), Is.True, $"{path}: NaN operands give NaN rows");
            Assert.That(float.IsInfinity(first[3 * n]) && float.IsInfinity(first[30 * n]), Is.True, $"{path}: Inf and max-float (rounds to Inf) rows");
        }
    }

    /// <summary>Every <see cref="MmaGemmOptions.Tf32Rounding"/>, on each kernel path of the emulation, gives the default's bits.</summary>
    [Test]
    public void Tf32RoundingPlacesAgree() =>
        Tf32RoundingsAgree(Cpu, new MmaGemmOptions[] { new() { Pipeline = false }, new() { Pipeline = true, WarpTile64 = false }, new() { WarpTile64 = true } });

    [Test]
    public void BatchedWithBroadcastB() => Check(Cpu, MmaPrecision.Float16, true, false, 16, 12, 10, batch: 2, broadcastB: true);

    // Packing: every transpose of every type, odd sizes, K = 1, batches with strides, broadcast and unaligned operands.
    public static IEnumerable<TestCaseData> Transposes()
    {
        foreach (var p in new[] { MmaPrecision.Tf32, MmaPrecision.Float16, MmaPrecision.BFloat16 })
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    yield return new TestCaseData(p, ta, tb);
    }

    [TestCaseSource(nameof(Transposes))]
    public void PackedOperandsOddSizesKOneAndBatches(MmaPrecision p, bool ta, bool tb)
    {
        Check(Cpu, p, ta, tb, 33, 47, 71);
        Check(Cpu, p, ta, tb, 19, 5, 1);
        Check(Cpu, p, ta, tb, 21, 34, 37, batch: 3, pad: 5, alpha: 0.5f, beta: -2f);
        Check(Cpu, p, ta, tb, 17, 9, 13, batch: 2, broadcastB: true);
        Check(Cpu, p, ta, tb, 18, 20, 42, pad: 3, offset: 1);
    }

    [TestCaseSource(nameof(Transposes))]
    public void InPlaceLayoutsWithoutPacking(MmaPrecision p, bool ta, bool tb) =>
        Check(Cpu, p, ta, tb, 35, 26, 45, batch: 2, pad: 3, offset: 1, options: new MmaGemmOptions { KeepLayout = true });

    // Split-K: slabs of whole kernel slabs, the last one shorter; alpha and beta applied once in the sum.
    [TestCaseSource(nameof(Transposes))]
    public void SplitKSumsSlabs(MmaPrecision p, bool ta, bool tb)
    {
        var split = new MmaGemmOptions { SplitK = 3 };
        Check(Cpu, p, ta, tb, 40, 33, 300, alpha: 0.5f, beta: -2f, options: split);
        Check(Cpu, p, ta, tb, 9, 130, 77, pad: 3, offset: 1, options: split);
        Check(Cpu, p, ta, tb, 20, 18, 100, options: split with { KeepLayout = true });
    }

    // The ldmatrix variant, ldmatrix and mma emulated with warp shuffles (slow on the CPU: one whole tile, one slab):
    // every warp's row addresses and register order. Packing gives the kernel the same layout for every transpose.
    [TestCase(MmaPrecision.Tf32)]
    [TestCase(MmaPrecision.Float16)]
    [TestCase(MmaPrecision.BFloat16)]
    public void LdMatrixFragments(MmaPrecision p) =>
        Check(Cpu, p, true, false, 128, 128, p == MmaPrecision.Tf32 ? 13 : 29, alpha: 0.5f, beta: -2f, options: new MmaGemmOptions { LdMatrix = true });

    // The cp.async pipelined loop (copies emulated off CUDA): every transpose (packed K-major), more slabs than stages
    // with a partial last slab (the zero fill), K = 1, batches with strides, alpha/beta, unaligned operands, split-K.
    [TestCaseSource(nameof(Transposes))]
    public void PipelinedLoop(MmaPrecision p, bool ta, bool tb)
    {
        var pipe = new MmaGemmOptions { Pipeline = true };
        Check(Cpu, p, ta, tb, 37, 45, p == MmaPrecision.Tf32 ? 53 : 101, options: pipe);
        Check(Cpu, p, ta, tb, 19, 5, 1, options: pipe);
        Check(Cpu, p, ta, tb, 21, 34, 37, batch: 2, pad: 5, alpha: 0.5f, beta: -2f, options: pipe);
        Check(Cpu, p, ta, tb, 9, 30, 77, pad: 3, offset: 1, options: pipe with { SplitK = 3 });
    }

    // A whole 128x128 tile: every warp's rows and columns of the swizzled stages reach C.
    [TestCase(MmaPrecision.Tf32)]
    [TestCase(MmaPrecision.Float16)]
    [TestCase(MmaPrecision.BFloat16)]
    public void PipelinedWholeTiles(MmaPrecision p) =>
        Check(Cpu, p, false, true, 128, 128, p == MmaPrecision.Tf32 ? 40 : 72, alpha: 0.5f, beta: -2f, options: new MmaGemmOptions { Pipeline = true });

    // The pipelined loop with ldmatrix (ldmatrix and mma emulated with warp shuffles, slow: one whole tile; two slabs
    // for TF32, so the second stage's addresses too, one for the 16-bit types).
    [TestCase(MmaPrecision.Tf32)]
    [TestCase(MmaPrecision.Float16)]
    [TestCase(MmaPrecision.BFloat16)]
    public void PipelinedLdMatrixFragments(MmaPrecision p) =>
        Check(Cpu, p, false, true, 128, 128, p == MmaPrecision.Tf32 ? 21 : 29, alpha: 0.5f, beta: -2f,
            options: new MmaGemmOptions { Pipeline = true, LdMatrix = true });

    // The 64x64-warp-tile kernel (WarpTile64: 4 warps, ldmatrix and mma emulated with warp shuffles): every transpose
    // (packed K-major), more slabs than stages with a partial last slab, batches with strides, alpha/beta, unaligned
    // operands, split-K. Each case costs whole 128x128 tiles of emulated mma on the CPU, so the sizes stay small in K.
    [TestCaseSource(nameof(Transposes))]
    public void WideWarpTiles(MmaPrecision p, bool ta, bool tb)
    {
        var wide = new MmaGemmOptions { WarpTile64 = true };
        Check(Cpu, p, ta, tb, 37, 45, p == MmaPrecision.Tf32 ? 53 : 101, options: wide);
        Check(Cpu, p, ta, tb, 21, 34, 19, batch: 2, pad: 5, alpha: 0.5f, beta: -2f, options: wide);
        Check(Cpu, p, ta, tb, 9, 30, 77, pad: 3, offset: 1, options: wide with { SplitK = 3 });
    }

    // Whole tiles: every warp's rows and columns of the swizzled stages reach C (two tiles along M and N, the second
    // one with clamped rows), K = 1.
    [TestCase(MmaPrecision.Tf32)]
    [TestCase(MmaPrecision.Float16)]
    [TestCase(MmaPrecision.BFloat16)]
    public void WideWarpTilesWholeTiles(MmaPrecision p)
    {
        var wide = new MmaGemmOptions { WarpTile64 = true };
        Check(Cpu, p, false, true, 128, 128, p == MmaPrecision.Tf32 ? 40 : 72, alpha: 0.5f, beta: -2f, options: wide);
        Check(Cpu, p, false, true, 150, 140, 1, options: wide);
    }

    // Stages in dynamic shared memory (Staging; on ilgpu-cpu the dynamic allocation is a plain array of the launch's
    // size): every transpose (packed K-major), more slabs than stages with a partial last slab (4 stages: K past 3 slabs;
    // 32-word slabs: the zero fill of both chunks a thread copies), batches with strides, alpha/beta, unaligned operands, split-K.
    public static IEnumerable<TestCaseData> Stagings()
    {
        foreach (var p in new[] { MmaPrecision.Tf32, MmaPrecision.Float16, MmaPrecision.BFloat16 })
            foreach (var s in new[] { MmaStaging.FourStages, MmaStaging.DeepSlabs })
                yield return new TestCaseData(p, s);
    }

    [TestCaseSource(nameof(Stagings))]
    public void DynamicSharedStages(MmaPrecision p, MmaStaging staging)
    {
        var dyn = new MmaGemmOptions { Staging = staging };
        int deep = staging == MmaStaging.DeepSlabs ? 2 : 1, slab = 16 * deep * (p == MmaPrecision.Tf32 ? 1 : 2);
        Check(Cpu, p, false, false, 37, 45, 4 * slab + 5, options: dyn);
        Check(Cpu, p, true, true, 21, 34, slab / 2 + 3, batch: 2, pad: 5, alpha: 0.5f, beta: -2f, options: dyn);
        Check(Cpu, p, true, false, 9, 30, 3 * slab + 7, pad: 3, offset: 1, options: dyn with { SplitK = 3 });
    }

    // Whole tiles: every warp's rows and columns of the swizzled stages reach C (two tiles along M and N, the second
    // one with clamped rows), K = 1.
    [TestCaseSource(nameof(Stagings))]
    public void DynamicSharedStagesWholeTiles(MmaPrecision p, MmaStaging staging)
    {
        var dyn = new MmaGemmOptions { Staging = staging };
        Check(Cpu, p, false, true, 128, 128, p == MmaPrecision.Tf32 ? 40 : 72, alpha: 0.5f, beta: -2f, options: dyn);
        Check(Cpu, p, false, true, 150, 140, 1, options: dyn);
    }

    [Test]
    public void DynamicSharedStagesSizes()
    {
        Assert.That(IlgpuMmaGemm.StagingBytes(MmaStaging.Default), Is.EqualTo(48 * 1024));
        Assert.That(IlgpuMmaGemm.StagingBytes(MmaStaging.FourStages), Is.EqualTo(64 * 1024));
        Assert.That(IlgpuMmaGemm.StagingBytes(MmaStaging.DeepSlabs), Is.EqualTo(96 * 1024));
        Assert.That(DynamicSharedMemory.Fits(Cpu.Accelerator, 96 * 1024), Is.True, "off CUDA any size");
        // The 32-word swizzle is a permutation of each row's 8 chunks, and 8 consecutive rows put a chunk in 8 bank groups.
        for (int r = 0; r < 16; r++)
        {
            var words = Enumerable.Range(0, 32).Select(w => MmaKernels.StageSwizzle<MmaKernels.DeepSlabs>(r, w) - 32 * r).ToArray();
            Assert.That(words.OrderBy(x => x), Is.EqualTo(Enumerable.Range(0, 32)));
        }
        for (int c = 0; c < 8; c++)
            Assert.That(Enumerable.Range(0, 8).Select(r => (MmaKernels.StageSwizzle<MmaKernels.DeepSlabs>(r, 4 * c) >> 2) & 7).Distinct().Count(), Is.EqualTo(8));
        // On CUDA K steps 2 and 3 of a 32-word slab take steps 0 and 1's ldmatrix offsets XOR 64 bytes (the emulation
        // computes them directly).
        for (int lane = 0; lane < 32; lane++)
            foreach (int w in new[] { 0, 64 })
                foreach (int kw in new[] { 0, 8 })
                {
                    Assert.That(MmaKernels.StageRowA<MmaKernels.DeepSlabs>(lane, w, kw + 16), Is.EqualTo(MmaKernels.StageRowA<MmaKernels.DeepSlabs>(lane, w, kw) ^ 64u));
                    Assert.That(MmaKernels.StageRowB<MmaKernels.DeepSlabs>(lane, w, kw + 16), Is.EqualTo(MmaKernels.StageRowB<MmaKernels.DeepSlabs>(lane, w, kw) ^ 64u));
                }
    }

    [Test]
    public void SplitChunkPicksSkinnyShapesOnly()
    {
        // 256x256 is 4 tiles of C: about one wave of 132 SMs is 33 slabs, rounded to whole 32-element kernel slabs.
        Assert.That(MmaPacking.SplitChunk(256, 256, 8192, 132, 32, 0), Is.EqualTo(256));
        Assert.That(MmaPacking.SplitChunk(256, 256, 32768, 132, 16, 0), Is.EqualTo(1008));
        Assert.That(MmaPacking.SplitChunk(4096, 4096, 4096, 132, 32, 0), Is.EqualTo(0), "C fills the device");
        Assert.That(MmaPacking.SplitChunk(32, 27, 65536, 132, 32, 0), Is.EqualTo(512), "one tile: ~one slab per SM (128 of 512)");
        Assert.That(MmaPacking.SplitChunk(256, 256, 200, 132, 32, 0), Is.EqualTo(0), "K too short");
        Assert.That(MmaPacking.SplitChunk(256, 256, 8192, 132, 32, 1), Is.EqualTo(0), "never");
        Assert.That(MmaPacking.SplitChunk(4096, 4096, 4096, 132, 32, 4), Is.EqualTo(1024), "forced");
        Assert.That(MmaPacking.SplitChunk(8, 8, 40, 132, 32, 3), Is.EqualTo(32), "forced: 2 slabs of whole kernel slabs");
        Assert.That(MmaPacking.SplitChunk(8, 8, 20, 132, 32, 3), Is.EqualTo(0), "one kernel slab cannot split");
    }

    [Test]
    public void AutomaticSplitKOnTheCpuDevice()
    {
        // A single tile of C with a long K: split whenever the CPU accelerator counts two or more multiprocessors
        // (EMBER_ILGPU_CPU_MPS=2; by default it has one, which runs one group at a time, so nothing is gained by a split).
        int mps = Cpu.Accelerator.NumMultiprocessors;   // slabs of 16 words, 32 half elements
        Assert.That(MmaPacking.SplitChunk(24, 16, 600, mps, 2 * MmaKernels.KW, 0) > 0, Is.EqualTo(mps >= 2), $"{mps} multiprocessors");
        Check(Cpu, MmaPrecision.Float16, true, false, 24, 16, 600, alpha: 2f, beta: 0.25f);
    }

    [Test]
    public void KZeroScalesC() => Check(Cpu, MmaPrecision.Tf32, false, false, 5, 6, 0, beta: 0.5f);

    [Test]
    public void Tf32RoundsOperandsToTenMantissaBits()
    {
        // TF32 keeps 10 mantissa bits: 1 + 2^-12 rounds to 1, so the product with 3 is exactly 3 (float32 would give 3 + 3·2^-12).
        var dev = Cpu;
        using var a = dev.Allocator.Allocate(4);
        using var b = dev.Allocator.Allocate(4);
        using var c = dev.Allocator.Allocate(4);
        IlgpuTestDevice.FromHost(a.View<float>(1), new[] { 1f + MathF.Pow(2, -12) });
        IlgpuTestDevice.FromHost(b.View<float>(1), new[] { 3f });
        IlgpuMmaGemm.Tf32(dev, false, false, 1, 1, 1, 1f, a.View<float>(1), 1, 0, b.View<float>(1), 1, 0, 0f, c.View<float>(1), 1, 0);
        Assert.That(IlgpuTestDevice.ToHost(c.View<float>(1))[0], Is.EqualTo(3f));
    }

    [Test]
    public void WrongPrecisionAndShortViewsThrow()
    {
        var dev = Cpu;
        using var a = dev.Allocator.Allocate(2 * 6);
        using var c = dev.Allocator.Allocate(2 * 9);
        var ex = Assert.Throws<ArgumentException>(() => IlgpuMmaGemm.Gemm16(dev, MmaPrecision.Tf32, false, false, 2, 3, 3,
            1f, a.View<ushort>(6), 3, 0, a.View<ushort>(6), 3, 0, 0f, c.View<ushort>(9), 3, 0));
        Assert.That(ex!.Message, Does.Contain("Float16 or BFloat16"));
        ex = Assert.Throws<ArgumentException>(() => IlgpuMmaGemm.Gemm16(dev, MmaPrecision.Float16, false, false, 3, 3, 3,
            1f, a.View<ushort>(6), 3, 0, a.View<ushort>(6), 3, 0, 0f, c.View<ushort>(9), 3, 0));
        Assert.That(ex!.Message, Does.Contain("Gemm16: A needs 9 elements"));
    }

    // The device-side 16-bit conversions the epilogue and the emulation use (Ops.NarrowBits).
    [Test]
    public void FloatToHalfRoundsLikeDotNet()
    {
        // Every float32 whose top 20 bits are swept (all exponents: subnormal results, ties, overflow, Inf/NaN), plus
        // the exact ties below the largest half and at the subnormal boundary.
        var rng = new System.Random(5);
        for (uint hi = 0; hi < (1u << 20); hi++)
        {
            uint bits = (hi << 12) | (uint)rng.Next(0, 4096);
            if ((hi & 7) == 0) bits = hi << 12;                    // exact ties and exactly representable values too
            float f = BitConverter.UInt32BitsToSingle(bits);
            ushort want = BitConverter.HalfToUInt16Bits((Half)f);
            uint got = Ember.Ilgpu.Ops.NarrowBits.FloatToHalf(f);
            if (float.IsNaN(f)) Assert.That(Half.IsNaN(BitConverter.UInt16BitsToHalf((ushort)got)), Is.True, $"NaN {bits:X8}");
            else Assert.That(got, Is.EqualTo(want), $"float bits {bits:X8}");
        }
        for (uint h = 0; h < 0x10000; h++)
        {
            var half = BitConverter.UInt16BitsToHalf((ushort)h);
            float back = Ember.Ilgpu.Ops.NarrowBits.HalfToFloat((ushort)h);
            if (Half.IsNaN(half)) Assert.That(float.IsNaN(back), Is.True);
            else Assert.That(back, Is.EqualTo((float)half), $"half bits {h:X4}");
        }
    }

    [Test]
    public void FloatToBFloat16RoundsToNearestEven()
    {
        var rng = new System.Random(6);
        for (int i = 0; i < 1 << 20; i++)
        {
            uint bits = (uint)rng.Next() << 1 ^ (uint)rng.Next(2);
            if ((i & 15) == 0) bits = (bits & 0xFFFF0000u) | 0x8000u;      // exact ties
            float f = BitConverter.UInt32BitsToSingle(bits);
            uint got = Ember.Ilgpu.Ops.NarrowBits.FloatToBFloat16(f);
            if (float.IsNaN(f)) { Assert.That(float.IsNaN(BitConverter.UInt32BitsToSingle(got << 16)), Is.True); continue; }
            // Reference: the nearer of the two bfloat16 neighbours (as doubles), the even one on a tie.
            uint lo = bits & 0xFFFF0000u;
            double dl = BitConverter.UInt32BitsToSingle(lo), dh = (lo & 0x7FFFFFFFu) == 0x7F7F0000u
                ? Math.CopySign(Math.Pow(2, 128), f) : BitConverter.UInt32BitsToSingle(lo + 0x10000u);   // past the largest: 2^128
            double el = Math.Abs(f - dl), eh = Math.Abs(dh - f);
            uint want = el < eh || (el == eh && ((lo >> 16) & 1) == 0) ? lo >> 16 : (lo >> 16) + 1;
            if ((lo & 0x7FFFFFFFu) == 0x7F7F0000u && want != lo >> 16)
                want = (bits & 0x80000000u) != 0 ? 0xFF80u : 0x7F80u;   // max bfloat16 rounds up to Inf
            if (float.IsInfinity(f)) want = bits >> 16;
            Assert.That(got, Is.EqualTo(want), $"float bits {bits:X8}");
        }
    }
}
