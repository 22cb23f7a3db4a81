using Ember.Ilgpu;

namespace Ember.Backends.Tests.Ilgpu;

using Philox = Ember.Ilgpu.Philox;

public class PhiloxTests
{
    // Random123 kat_vectors, philox4x32 with 10 rounds: counter, key -> output.
    [TestCase(0u, 0u, 0u, 0u, 0u, 0u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [TestCase(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [TestCase(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void KnownAnswerVectors(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint r0, uint r1, uint r2, uint r3)
    {
        var r = Philox.Block(new Philox4(c0, c1, c2, c3), k0, k1);
        Assert.That(new[] { r.X0, r.X1, r.X2, r.X3 }, Is.EqualTo(new[] { r0, r1, r2, r3 }));
    }

    [Test]
    public void SeedAndCounterMapToKeyAndCounterWords()
    {
        ulong seed = 0x299f31d0a4093822UL, counter = 0x85a308d3243f6a88UL;
        var viaSpec = Philox.Block(seed, counter);
        var direct = Philox.Block(new Philox4(0x243f6a88u, 0x85a308d3u, 0, 0), 0xa4093822u, 0x299f31d0u);
        Assert.That(viaSpec, Is.EqualTo(direct));
    }

    [Test]
    public void UniformConversionsAreExactAndInRange()
    {
        Assert.That(Philox.UniformFloat(0), Is.EqualTo(0f));
        Assert.That(Philox.UniformFloat(uint.MaxValue), Is.EqualTo(1f - 1f / 16777216f));
        Assert.That(Philox.UniformDouble(uint.MaxValue), Is.LessThan(1.0));
        Assert.That(Philox.BoxMullerU1Float(uint.MaxValue), Is.GreaterThan(0f));
        Assert.That(Philox.BoxMullerU1Float(0), Is.EqualTo(1f));
    }

    [TestCase(1L, 0UL)]
    [TestCase(7L, 5UL)]
    [TestCase(1001L, (1UL << 32) - 3)]   // counter crosses into the high word
    public void DeviceBitsAndUniformsMatchSpecExactly(long n, ulong offset)
    {
        var dev = IlgpuTestDevice.Cpu;
        ulong seed = 0xDEADBEEF12345678UL;
        using var bits = dev.Allocator.Allocate(4 * n);
        using var f32 = dev.Allocator.Allocate(4 * n);
        using var f64 = dev.Allocator.Allocate(8 * n);
        PhiloxKernels.FillBits(dev, bits.View<uint>(n), seed, offset);
        PhiloxKernels.FillUniform(dev, f32.View<float>(n), seed, offset);
        PhiloxKernels.FillUniform(dev, f64.View<double>(n), seed, offset);
        var hb = IlgpuTestDevice.ToHost(bits.View<uint>(n));
        var hf = IlgpuTestDevice.ToHost(f32.View<float>(n));
        var hd = IlgpuTestDevice.ToHost(f64.View<double>(n));
        for (long i = 0; i < n; i++)
        {
            Assert.That(hb[i], Is.EqualTo(PhiloxSpec.Word(seed, offset, i)), $"bits[{i}]");
            Assert.That(hf[i], Is.EqualTo(PhiloxSpec.UniformFloat(seed, offset, i)), $"f32[{i}]");
            Assert.That(hd[i], Is.EqualTo(PhiloxSpec.UniformDouble(seed, offset, i)), $"f64[{i}]");
        }
    }

    [Test]
    public void DeviceNormalsMatchSpecWithinTolerance()
    {
        var dev = IlgpuTestDevice.Cpu;
        const long n = 4099;
        using var f32 = dev.Allocator.Allocate(4 * n);
        using var f64 = dev.Allocator.Allocate(8 * n);
        PhiloxKernels.FillNormal(dev, f32.View<float>(n), 42, 3);
        PhiloxKernels.FillNormal(dev, f64.View<double>(n), 42, 3);
        var hf = IlgpuTestDevice.ToHost(f32.View<float>(n));
        var hd = IlgpuTestDevice.ToHost(f64.View<double>(n));
        double sum = 0, sumSq = 0;
        for (long i = 0; i < n; i++)
        {
            float rf = PhiloxSpec.NormalFloat(42, 3, i);
            double rd = PhiloxSpec.NormalDouble(42, 3, i);
            Assert.That(hf[i], Is.EqualTo(rf).Within(2e-6 * (1 + Math.Abs(rf))), $"f32[{i}]");
            Assert.That(hd[i], Is.EqualTo(rd).Within(1e-12 * (1 + Math.Abs(rd))), $"f64[{i}]");
            Assert.That(Math.Abs(hd[i] - hf[i]), Is.LessThan(1e-5 * (1 + Math.Abs(rd))), $"f32 vs f64 [{i}]");
            sum += hd[i]; sumSq += hd[i] * hd[i];
        }
        Assert.That(sum / n, Is.EqualTo(0).Within(0.05));
        Assert.That(sumSq / n, Is.EqualTo(1).Within(0.06));
    }

    [Test]
    public void ScaledFillsUseTheDocumentedAffineMap()
    {
        var dev = IlgpuTestDevice.Cpu;
        const long n = 64;
        using var u = dev.Allocator.Allocate(4 * n);
        using var g = dev.Allocator.Allocate(4 * n);
        PhiloxKernels.FillUniform(dev, u.View<float>(n), 9, 0, -2f, 3f);
        PhiloxKernels.FillNormal(dev, g.View<float>(n), 9, 0, 10f, 0.5f);
        var hu = IlgpuTestDevice.ToHost(u.View<float>(n));
        var hg = IlgpuTestDevice.ToHost(g.View<float>(n));
        for (long i = 0; i < n; i++)
        {
            Assert.That(hu[i], Is.EqualTo(-2f + 5f * PhiloxSpec.UniformFloat(9, 0, i)).Within(1e-6));
            Assert.That(hu[i], Is.GreaterThanOrEqualTo(-2f).And.LessThan(3f));
            Assert.That(hg[i], Is.EqualTo(10f + 0.5f * PhiloxSpec.NormalFloat(9, 0, i)).Within(1e-5));
        }
    }

    [Test]
    public void CountersForRoundsUp()
    {
        Assert.That(PhiloxSpec.CountersFor(0), Is.EqualTo(0UL));
        Assert.That(PhiloxSpec.CountersFor(1), Is.EqualTo(1UL));
        Assert.That(PhiloxSpec.CountersFor(8), Is.EqualTo(2UL));
        Assert.That(PhiloxSpec.CountersFor(9), Is.EqualTo(3UL));
    }
}
