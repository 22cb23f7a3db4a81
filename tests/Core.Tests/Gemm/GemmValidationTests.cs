using Ember.Cpu;

namespace Ember.Core.Tests.Gemm;

/// <summary>Argument validation of the GEMM entry points and of <see cref="CpuThreads"/>.</summary>
[TestFixture]
public unsafe class GemmValidationTests
{
    [TestCase(-1, 2, 3)]
    [TestCase(2, -1, 3)]
    [TestCase(2, 3, -5)]
    public void NegativeSizesThrowNamingTheCallAndSizes(int m, int n, int k)
    {
        float[] data = new float[64];
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
        {
            fixed (float* p = data)
                Ember.Cpu.Gemm.Sgemm(m, n, k, 1f, p, 8, 1, p, 8, 1, 0f, p, 8, 1);
        });
        Assert.That(error!.Message, Does.Contain("Sgemm").And.Contain($"m={m}, n={n}, k={k}"));
    }

    [Test]
    public void NegativeBatchThrows()
    {
        double[] data = new double[16];
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
        {
            fixed (double* p = data)
                Ember.Cpu.Gemm.DgemmBatched(-2, 2, 2, 2, 1, p, 4, 2, 1, p, 4, 2, 1, 0, p, 4, 2, 1);
        });
        Assert.That(error!.Message, Does.Contain("DgemmBatched").And.Contain("batch=-2"));
        Assert.That(error.ParamName, Is.EqualTo("batch"));
    }

    [Test]
    public void NegativeThreadsThrow()
    {
        float[] data = new float[16];
        Assert.Throws<ArgumentOutOfRangeException>(() =>
        {
            fixed (float* p = data)
                Ember.Cpu.Gemm.Sgemm(2, 2, 2, 1f, p, 2, 1, p, 2, 1, 0f, p, 2, 1, threads: -1);
        });
    }

    [Test]
    public void NullOperandsThrow()
    {
        float[] data = new float[16];
        Assert.Throws<ArgumentNullException>(() =>
        {
            fixed (float* p = data)
                Ember.Cpu.Gemm.Sgemm(2, 2, 2, 1f, null, 2, 1, p, 2, 1, 0f, p, 2, 1);
        });
        Assert.Throws<ArgumentNullException>(() =>
        {
            fixed (float* p = data)
                Ember.Cpu.Gemm.Sgemm(2, 2, 2, 1f, p, 2, 1, p, 2, 1, 0f, null, 2, 1);
        });
    }

    [Test]
    public void CpuThreadsRejectsLessThanOne()
    {
        Assert.That(CpuThreads.Count, Is.GreaterThanOrEqualTo(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuThreads.Count = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuThreads.Count = -3);
    }

    [Test]
    public void CpuThreadsCanBeSet()
    {
        int saved = CpuThreads.Count;
        try
        {
            CpuThreads.Count = 3;
            Assert.That(CpuThreads.Count, Is.EqualTo(3));
        }
        finally
        {
            CpuThreads.Count = saved;
        }
    }
}
