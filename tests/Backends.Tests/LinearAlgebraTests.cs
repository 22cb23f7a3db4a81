namespace Ember.Conformance;

/// <summary>Batched matmul on the device against the CPU backend and a float64 reference.</summary>
public abstract class LinearAlgebraTests(string device) : DeviceTest(device)
{
    private static double[][] Reference(Tensor?[] t)
    {
        Tensor a = t[0]!, b = t[1]!, c = t[2]!;
        long B = c.Shape[0], M = c.Shape[1], N = c.Shape[2], K = a.Shape[2];
        var av = Host(a.Expand(B, M, K)); var bv = Host(b.Expand(B, K, N)); var cv = Host(c);
        var r = new double[B * M * N];
        for (long q = 0; q < B; q++)
            for (long i = 0; i < M; i++)
                for (long j = 0; j < N; j++)
                {
                    double s = 0;
                    for (long k = 0; k < K; k++) s += av[(q * M + i) * K + k] * bv[(q * K + k) * N + j];
                    r[(q * M + i) * N + j] = s;
                }
        return [r, cv];
    }

    [TestCase(1, 1, 1, 1), TestCase(1, 5, 7, 3), TestCase(2, 17, 33, 9), TestCase(3, 40, 24, 64), TestCase(1, 64, 64, 64), TestCase(2, 1, 13, 5)]
    public void Float32Sizes(int batch, int m, int n, int k)
    {
        Conform(d => [Rnd(d, [batch, m, k], 1), Rnd(d, [batch, k, n], 2), Tensor.Empty([batch, m, n], DType.Float32, d)],
            (be, t) => be.MatMul(t[0]!, t[1]!, t[2]!), [2], rtol: 1e-4, atol: 1e-4, reference: t => [Reference(t)[0]]);
    }

    [TestCase(false, false), TestCase(true, false), TestCase(false, true), TestCase(true, true)]
    public void TransposedViews(bool ta, bool tb)
    {
        Tensor A(Device d) => ta ? Rnd(d, [2, 11, 19], 3).mT : Rnd(d, [2, 19, 11], 3);
        Tensor B(Device d) => tb ? Rnd(d, [2, 13, 11], 4).mT : Rnd(d, [2, 11, 13], 4);
        foreach (var dt in new[] { DType.Float32, DType.Float64 })
            Conform(d => [A(d).To(dt), B(d).To(dt), Tensor.Empty([2, 19, 13], dt, d)],
                (be, t) => be.MatMul(t[0]!, t[1]!, t[2]!), [2], rtol: 1e-4, atol: 1e-4, reference: t => [Reference(t)[0]]);
    }

    [Test]
    public void BroadcastBatchAndStridedOutput()
    {
        // a is one matrix broadcast over 3 batches (stride 0); c is a strided (non-contiguous) view.
        Conform(d => [Rnd(d, [1, 6, 8], 5).Expand(3, 6, 8), Rnd(d, [3, 8, 5], 6), Tensor.Zeros([3, 5, 6], DType.Float32, d).mT],
            (be, t) => be.MatMul(t[0]!, t[1]!, t[2]!), [2], rtol: 1e-4, atol: 1e-4, reference: t => [Reference(t)[0]]);
    }

    [Test]
    public void Accumulate()
    {
        foreach (var dt in new[] { DType.Float32, DType.Float64 })
            Conform(d => [Rnd(d, [2, 9, 7], 7).To(dt), Rnd(d, [2, 7, 10], 8).To(dt), Rnd(d, [2, 9, 10], 9).To(dt)],
                (be, t) => be.MatMul(t[0]!, t[1]!, t[2]!, accumulate: true), [2], rtol: 1e-4, atol: 1e-4,
                reference: t => { var r = Reference(t); return [r[0].Zip(r[1], (x, y) => x + y).ToArray()]; });
    }
}

[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class LinearAlgebra(string device) : LinearAlgebraTests(device);
