using Ember.Ilgpu;
using Ember.Ilgpu.Ops;

namespace Ember.Backends.Tests.Ilgpu;

/// <summary>
/// The running-statistics update kernel (<see cref="BatchNormStatsKernels.Update{T, R}"/>) compiled for CUDA with ILGPU's
/// PTX backend (no GPU needed): both element types, with the group barrier that orders the counter's reads before its write.
/// </summary>
public class BatchNormStatsPtxCompileTests
{
    [TestCase(typeof(float), typeof(F32)), TestCase(typeof(double), typeof(F64))]
    public void UpdateCompilesWithItsBarrier(Type element, Type real)
    {
        var method = typeof(BatchNormStatsKernels).GetMethod(nameof(BatchNormStatsKernels.Update))!.MakeGenericMethod(element, real);
        var ptx = PtxCompiler.Grouped(method);
        TestContext.Out.WriteLine(ptx);
        Assert.That(ptx, Does.Contain(".entry").And.Contain("bar.sync"), $"Update<{element.Name}>");
    }
}
