using Ember.Cpu;

namespace Ember.Core.Tests;

/// <summary>
/// <see cref="CpuProfiler"/> and the <see cref="ProfilingBackend"/> it shares with the ILGPU profiler: while enabled,
/// new CPU tensors route their ops through the proxy, which records each call once under its member, op and shape,
/// and the results are the unprofiled ones bit for bit.
/// </summary>
[TestFixture]
[NonParallelizable]
public class CpuProfilerTests
{
    [TearDown]
    public void Off()
    {
        CpuProfiler.Disable();
        CpuProfiler.Reset();
    }

    private static (float[] Product, float[] Softmax, float[] Relu) Run()
    {
        var a = Tensor.Arange(0, 24).Reshape(4, 6) * 0.25f - 2f;
        var b = Tensor.Arange(0, 18).Reshape(6, 3) * 0.5f - 3f;
        var p = a.MatMul(b);
        return (p.ToArray<float>(), p.Softmax(1).ToArray<float>(), a.Relu().ToArray<float>());
    }

    [Test]
    public void RecordsEachCallOnceAndLeavesResultsUnchanged()
    {
        var plain = Run();
        CpuProfiler.Enable();
        CpuProfiler.Reset();
        var profiled = Run();
        var entries = CpuProfiler.Entries;

        Assert.That(profiled.Product, Is.EqualTo(plain.Product));
        Assert.That(profiled.Softmax, Is.EqualTo(plain.Softmax));
        Assert.That(profiled.Relu, Is.EqualTo(plain.Relu));

        Assert.That(entries.Keys, Has.One.StartWith("MatMul [1,4,6]x[1,6,3]").And.EndWith("[1,4,3]"));
        Assert.That(entries.Keys, Has.One.EqualTo("Softmax  [4,3]"));
        Assert.That(entries.Keys, Has.One.EqualTo("Unary Relu [4,6]"));
        Assert.That(entries.Single(e => e.Key.StartsWith("MatMul", StringComparison.Ordinal)).Value.Count, Is.EqualTo(1));
        Assert.That(entries.Values.Sum(v => v.Launches), Is.Zero, "the CPU backend launches no kernels");
        double recorded = entries.Values.Sum(v => v.Seconds);
        Assert.That(CpuProfiler.OuterSeconds, Is.GreaterThan(0).And.LessThanOrEqualTo(recorded + 1e-12),
            "the outermost calls' total is part of the recorded time");

        string report = CpuProfiler.Report(steps: 1);
        Assert.That(report, Does.Contain("Unary Relu [4,6]").And.Contain("total (synchronized)"));
    }

    [Test]
    public void TensorsAllocatedBeforeEnableStayUnprofiled()
    {
        var x = Tensor.Arange(0, 8).Reshape(2, 4) - 3f;
        CpuProfiler.Enable();
        CpuProfiler.Reset();
        Assert.That(x.Backend, Is.SameAs(Backends.Cpu));
        var y = Tensor.Zeros(2, 4);
        Assert.That(y.Backend, Is.InstanceOf<ProfilingBackend>());
        Assert.That(((ProfilingBackend)y.Backend).Inner, Is.SameAs(Backends.Cpu));
        Assert.That(CpuProfiler.Entries.Keys, Is.EqualTo(new[] { "Fill  [2,4]" }), "Zeros fills the new, profiled tensor");
        CpuProfiler.Reset();

        x.Relu();
        Assert.That(CpuProfiler.Entries, Is.Empty, "an op on a tensor allocated before Enable runs on the backend itself");

        CpuProfiler.Disable();
        Assert.That(Tensor.Zeros(2).Backend, Is.SameAs(Backends.Cpu));
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuProfiler.Report(0));
    }

    [Test]
    public void TheProxyForwardsEveryBackendMember()
    {
        // A member left to IBackend's default body would run the composite instead of the inner backend's kernel.
        var map = typeof(ProfilingBackend).GetInterfaceMap(typeof(IBackend));
        var notForwarded = map.TargetMethods.Where(m => m.DeclaringType != typeof(ProfilingBackend)).Select(m => m.Name).ToArray();
        Assert.That(notForwarded, Is.Empty);
        Assert.That(map.InterfaceMethods, Has.Length.GreaterThan(40));
    }

    [Test]
    public void RecordsEachOpsParallelWidth()
    {
        int saved = Threads.Count;
        try
        {
            Threads.Count = 4;
            CpuProfiler.Enable();
            var big = Tensor.Arange(0, 1 << 20) - 1000f;
            var small = Tensor.Arange(0, 8) - 3f;
            CpuProfiler.Reset();
            big.Relu();
            small.Relu();
            var entries = CpuProfiler.Entries;
            var wide = entries["Unary Relu [1048576]"];
            Assert.That(wide.PoolRuns, Is.GreaterThanOrEqualTo(1));
            Assert.That(wide.PoolThreads / (double)wide.PoolRuns, Is.EqualTo(4), "a million elements split over all 4 threads");
            Assert.That(entries["Unary Relu [8]"].PoolRuns, Is.Zero, "eight elements stay on one thread");
            Assert.That(CpuProfiler.Report(1), Does.Contain("threads/run"));
        }
        finally { Threads.Count = saved; }
    }
}
