using Ember.Ilgpu;

namespace Ember.Conformance;

/// <summary>
/// The ILGPU attention kernels give a warp four rows and a group several warps; every sum runs in the same order
/// whatever the grouping, so P, the output and the three gradients are bit for bit the same with 1, 2 or 3 warps per
/// group (rows past L, warps past the last row and causal rows that see fewer keys than their warp's last row
/// included). Devices whose attention is the composite compute the same thing three times.
/// </summary>
[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class AttentionGroupingTests(string device) : DeviceTest(device)
{
    [TestCase(true), TestCase(false)]
    public void ResultsDoNotDependOnWarpsPerGroup(bool causal)
    {
        const long b = 2, h = 1, l = 37, s = 37, dim = 40, dv = 24;
        double scale = 1 / Math.Sqrt(dim);
        Tensor q = Rnd(Dev, [b, h, l, dim], 1), k = Rnd(Dev, [b, h, s, dim], 2), v = Rnd(Dev, [b, h, s, dv], 3), g = Rnd(Dev, [b, h, l, dv], 4);
        var be = q.Backend;
        int gpu = IlgpuBackend.AttentionWarps, cpu = IlgpuBackend.CpuAttentionWarps;
        var results = new List<double[][]>();
        try
        {
            foreach (int warps in new[] { 2, 1, 3 })
            {
                IlgpuBackend.AttentionWarps = IlgpuBackend.CpuAttentionWarps = warps;
                Tensor p = Tensor.Zeros([b, h, l, s], DType.Float32, Dev), o = Tensor.Zeros([b, h, l, dv], DType.Float32, Dev);
                be.Attention(q, k, v, scale, causal, p, o);
                Tensor dq = Tensor.Zeros([b, h, l, dim], DType.Float32, Dev), dk = Tensor.Zeros([b, h, s, dim], DType.Float32, Dev),
                    dvv = Tensor.Zeros([b, h, s, dv], DType.Float32, Dev);
                be.AttentionBackward(g, q, k, v, p, scale, causal, dq, dk, dvv);
                results.Add([Host(p), Host(o), Host(dq), Host(dk), Host(dvv)]);
            }
        }
        finally
        {
            IlgpuBackend.AttentionWarps = gpu;
            IlgpuBackend.CpuAttentionWarps = cpu;
        }
        string[] names = ["P", "output", "dq", "dk", "dv"];
        for (int r = 1; r < results.Count; r++)
            for (int t = 0; t < names.Length; t++)
                Assert.That(results[r][t], Is.EqualTo(results[0][t]), $"{names[t]} with {(r == 1 ? 1 : 3)} warps per group against 2");
        Assert.That(results[0][1].Any(x => x != 0), "a non-trivial output");
    }
}
