using System.Reflection;
using System.Text.RegularExpressions;
using Ember.Ilgpu;

namespace Ember.Backends.Tests.Ilgpu;

/// <summary>
/// TF32 operands rounded by an integer add (<see cref="MmaGemmOptions.Tf32AddRounding"/>, <see cref="Tf32AddMma"/>):
/// the host model of the add (<see cref="MmaMath.RoundTf32Add"/>) then the tensor core's drop of the low 13 bits
/// against <see cref="MmaMath.RoundTf32"/> (<c>cvt.rna</c>'s rounding) over the bit patterns that matter; the PTX of
/// the rounding pass; on ilgpu-cpu the products (emulated with the exact rounding) against the float64 reference.
/// </summary>
public class MmaTf32AddTests
{
    private static IlgpuDevice Cpu => IlgpuTestDevice.Cpu;

    private static bool IsNaN(uint bits) => (bits & 0x7F800000u) == 0x7F800000u && (bits & 0x007FFFFFu) != 0;

    // Every sign, exponent and 10-bit mantissa (bits 13-31) with low 13 bits around the rounding point: exact,
    // one below and one above the tie, the tie itself (ties away from zero), all ones. Finite values and Inf give
    // cvt.rna's bits once the low 13 are dropped; every quiet NaN stays a NaN (CUDA's 0x7FFFFFFF and its negation
    // included); a signalling one with payload bits only below bit 13 reads as Inf.
    [Test]
    public void AddThenDropIsRoundToNearestTiesAway()
    {
        uint[] lows = [0, 1, 0x0FFF, 0x1000, 0x1001, 0x1FFF, 0x0800, 0x1800];
        for (uint high = 0; high < 1u << 19; high++)
            foreach (uint low in lows)
            {
                uint bits = high << 13 | low;
                uint got = MmaMath.RoundTf32Add(bits) & 0xFFFFE000u;
                if (IsNaN(bits))
                {
                    // A NaN with a payload bit among bits 13-22 (every quiet NaN) stays a NaN; below, it reads as Inf.
                    bool kept = (bits & 0x007FE000u) != 0;
                    if (IsNaN(got) != kept) Assert.Fail($"NaN 0x{bits:X8} became 0x{got:X8}");
                    continue;
                }
                uint want = MmaMath.RoundTf32(bits);
                if (got != want) Assert.Fail($"0x{bits:X8}: 0x{got:X8}, cvt.rna 0x{want:X8}");
            }
        // The values named in the type's summary.
        Assert.That(MmaMath.RoundTf32Add(0x7FFFFFFFu), Is.EqualTo(0x7FFFFFFFu), "CUDA's NaN is left as it is");
        Assert.That(MmaMath.RoundTf32Add(0x7F800001u) & 0xFFFFE000u, Is.EqualTo(0x7F800000u), "a signalling NaN with a low payload");
        Assert.That(MmaMath.RoundTf32Add(0xFFFFFFFFu), Is.EqualTo(0xFFFFFFFFu));
        Assert.That(MmaMath.RoundTf32Add(0x7F800000u) & 0xFFFFE000u, Is.EqualTo(0x7F800000u), "Inf");
        Assert.That(MmaMath.RoundTf32Add(0x7F7FFFFFu) & 0xFFFFE000u, Is.EqualTo(0x7F800000u), "the largest float rounds to Inf");
        Assert.That(MmaMath.RoundTf32Add(0x3F801000u) & 0xFFFFE000u, Is.EqualTo(0x3F802000u), "1 + half an ulp: ties away");
        Assert.That(MmaMath.RoundTf32Add(0xBF801000u) & 0xFFFFE000u, Is.EqualTo(0xBF802000u), "and for negatives");
    }

    // The rounding pass of the 64x64 and 128x256 kernels: no cvt.rna, the predicated add once a word (32 a thread and
    // slab of 16 words in the 128x128 block: 8 chunks of 4 words; the K loop and its last slab's copy), and the rest
    // of the TF32 kernel unchanged: its mma count, no local memory after the rewrite.
    [Test]
    public void AddRoundingCompiles()
    {
        const string Add = "testp.finite.f32";
        const string Mma = "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32";
        var wide = typeof(MmaKernels).GetMethod(nameof(MmaKernels.GemmWide), BindingFlags.Public | BindingFlags.Static)!;
        string add = PtxCompiler.Grouped(wide.MakeGenericMethod(typeof(Tf32AddMma), typeof(MmaKernels.NativeLdMatrixPath), typeof(MmaKernels.DirectOutput)));
        string cvt = PtxCompiler.Grouped(wide.MakeGenericMethod(typeof(Tf32Mma), typeof(MmaKernels.NativeLdMatrixPath), typeof(MmaKernels.DirectOutput)));
        Assert.That(add, Does.Not.Contain("cvt.rna.tf32.f32"));
        Assert.That(Count(add, Add), Is.EqualTo(Count(cvt, "cvt.rna.tf32.f32")), "one add where cvt.rna was");
        Assert.That(Count(add, Add), Is.GreaterThanOrEqualTo(32));
        Assert.That(Count(add, Mma), Is.EqualTo(Count(cvt, Mma)));
        string tuned = PtxRewrite.Tune(add, MmaKernels.WideThreads, 2);
        Assert.That(tuned, Does.Not.Contain(".local .align").And.Not.Contain("ld.local").And.Not.Contain("st.local"), "local memory");
    }

    private static int Count(string text, string what) => Regex.Matches(text, Regex.Escape(what)).Count;

    // Off CUDA the emulation rounds exactly (Convert), so the option changes nothing there: every transpose, odd sizes,
    // a batch, split-K, the 128x256 early kernel.
    [TestCase(false, false)]
    [TestCase(false, true)]
    [TestCase(true, false)]
    [TestCase(true, true)]
    public void AddRoundingMatchesReference(bool ta, bool tb)
    {
        const MmaPrecision p = MmaPrecision.Tf32;
        var add = new MmaGemmOptions { WarpTile64 = true, Tf32AddRounding = true };
        MmaGemmTests.Check(Cpu, p, ta, tb, 37, 45, 101, options: add);
        MmaGemmTests.Check(Cpu, p, ta, tb, 21, 34, 19, batch: 2, pad: 5, alpha: 0.5f, beta: -2f, options: add with { SplitK = 3 });
        MmaGemmTests.Check(Cpu, p, ta, tb, 13, 140, 40, options: add with { Staging = MmaStaging.WideBlockDeepSlabs, EarlyBarrier = true });
    }
}

/// <summary>
/// The add rounding on each CUDA device of compute capability ≥ 8.0 (the GPU machine): C bit-identical to the
/// <c>cvt.rna</c> kernel's on random operands, operands whose low 13 bits are exactly a tie (0x1000), the largest
/// floats, ±Inf and NaNs (quiet, signalling with low payloads, CUDA's 0x7FFFFFFF and 0xFFFFFFFF), in each kernel
/// that rounds in shared memory. Proves that the tensor core drops the low 13 bits of a .tf32 operand.
/// </summary>
[TestFixtureSource(typeof(MmaGemmCudaTests), nameof(MmaGemmCudaTests.Devices))]
public class MmaTf32AddCudaTests(string device)
{
    private IlgpuDevice Dev => IlgpuContext.Shared.Get(Device.Parse(device));

    private static float[] Operands(int n, int seed, bool special)
    {
        var rng = new System.Random(seed);
        var x = new float[n];
        uint[] odd = [0x7F800000u, 0xFF800000u, 0x7FC00000u, 0x7FA00000u, 0x7FFFFFFFu, 0xFFFFFFFFu, 0x7F7FFFFFu, 0xFF7FFFFFu, 0x00001000u, 0x80000FFFu];
        for (int i = 0; i < n; i++)
        {
            uint bits = BitConverter.SingleToUInt32Bits((float)(rng.NextDouble() * 2 - 1));
            int kind = rng.Next(8);
            if (kind == 0) bits = (bits & 0xFFFFE000u) | 0x1000u;   // a tie
            else if (kind == 1) bits = (bits & 0xFFFFE000u) | 0x0FFFu;   // just below one
            x[i] = BitConverter.UInt32BitsToSingle(bits);
        }
        // Each special value once, at a spread of places: it poisons one row (A) or column (B) of C, not all of it.
        if (special)
            for (int j = 0; j < odd.Length; j++)
                x[(int)((j * 7919L + seed) % n)] = BitConverter.UInt32BitsToSingle(odd[j]);
        return x;
    }

    private float[] Run(int m, int n, int k, bool ta, bool tb, float[] a, float[] b, MmaGemmOptions options)
    {
        using var ba = Dev.Allocator.Allocate(4L * a.Length);
        using var bb = Dev.Allocator.Allocate(4L * b.Length);
        using var bc = Dev.Allocator.Allocate(4L * m * n);
        IlgpuTestDevice.FromHost(ba.View<float>(a.Length), a);
        IlgpuTestDevice.FromHost(bb.View<float>(b.Length), b);
        IlgpuMmaGemm.Tf32(Dev, ta, tb, m, n, k, 1f, ba.View<float>(a.Length), ta ? m : k, 0, bb.View<float>(b.Length), tb ? k : n, 0,
            0f, bc.View<float>((long)m * n), n, 0, 1, options);
        Dev.Synchronize();
        return IlgpuTestDevice.ToHost(bc.View<float>((long)m * n));
    }

    private void Same(int m, int n, int k, bool ta, bool tb, bool special, MmaGemmOptions options)
    {
        var a = Operands(m * k, 11 + m, special);
        var b = Operands(k * n, 17 + n, special);
        var cvt = Run(m, n, k, ta, tb, a, b, options);
        var add = Run(m, n, k, ta, tb, a, b, options with { Tf32AddRounding = true });
        for (int i = 0; i < cvt.Length; i++)
        {
            uint x = BitConverter.SingleToUInt32Bits(cvt[i]), y = BitConverter.SingleToUInt32Bits(add[i]);
            if (x != y && !(float.IsNaN(cvt[i]) && float.IsNaN(add[i])))
                Assert.Fail($"{m}x{n}x{k} {(ta ? 'T' : 'N')}{(tb ? 'T' : 'N')} {options}: C[{i}] 0x{y:X8}, cvt.rna kernel 0x{x:X8}");
        }
        if (special) Assert.That(cvt.Count(float.IsNaN), Is.GreaterThan(0), "the NaN inputs reach C");
    }

    [Test]
    public void BitIdenticalToCvtRna()
    {
        foreach (var options in new[]
        {
            new MmaGemmOptions(),   // the default 64x64 kernel
            new MmaGemmOptions { Staging = MmaStaging.WideBlockDeepSlabs, EarlyBarrier = true },
            new MmaGemmOptions { Pipeline = true, WarpTile64 = false },
        })
        {
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    Same(130, 77, 45, ta, tb, false, options);
            Same(256, 256, 512, false, true, false, options);
            Same(200, 136, 300, false, false, true, options);
            Same(256, 256, 2048, false, true, false, options);   // split-K
        }
    }
}
