using Ember.Ilgpu;
using Ember.Ilgpu.Ops;

namespace Ember.Backends.Tests.Ilgpu;

/// <summary>The one-launch float32/float64 column sum (Linear's bias gradient) compiles for CUDA (see <see cref="PtxCompileTests"/>).</summary>
public class ColumnSumPtxCompileTests
{
    [TestCase(typeof(float), typeof(F32)), TestCase(typeof(double), typeof(F64))]
    public void ColumnSumCompilesWithOneBarrierAndCoalescedLoads(Type t, Type r)
    {
        var method = typeof(ColumnSumKernels).GetMethod(nameof(ColumnSumKernels.Sum))!.MakeGenericMethod(t, r);
        string ptx = PtxCompiler.Grouped(method);
        Assert.That(ptx, Does.Contain(".entry"));
        Assert.That(ptx, Does.Contain("bar.sync"), "the warps' partials meet in shared memory");
        Assert.That(ptx, Does.Not.Contain(".local"), "the four accumulators stay in registers");
    }
}
