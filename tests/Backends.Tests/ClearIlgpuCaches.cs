using NUnit.Framework;
using NUnit.Framework.Interfaces;

[assembly: Ember.Conformance.ClearIlgpuCaches]

namespace Ember.Conformance;

/// <summary>
/// Before the first test of each fixture, drops ILGPU's compiler caches (<see cref="Ember.Ilgpu.IlgpuContext.ClearCompilerCaches"/>)
/// when the shared context exists: the IR a fixture's kernels leave behind made every later full collection take about
/// half a second on two cores, which multiplied the run time of the fixtures after the tensor-core ones (a CPU-only
/// fixture of 1 s took 277 s in the full run). Loaded kernels stay loaded; a fixture re-imports only what it compiles.
/// (An assembly-level action for suites runs around the whole assembly only, hence per test with the fixture noted.)
/// </summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class ClearIlgpuCachesAttribute : Attribute, ITestAction
{
    private static string? lastFixture;

    /// <summary>Every test, one at a time.</summary>
    public ActionTargets Targets => ActionTargets.Test;

    /// <summary>Clears the caches when this test's fixture is not the previous test's.</summary>
    public void BeforeTest(ITest test)
    {
        var fixture = test.Parent;
        while (fixture is not null && fixture.TestType is not ("TestFixture" or "SetUpFixture")) fixture = fixture.Parent;
        if (fixture?.FullName == lastFixture) return;
        lastFixture = fixture?.FullName;
        if (Ember.Ilgpu.IlgpuContext.SharedCreated) Ember.Ilgpu.IlgpuContext.Shared.ClearCompilerCaches();
    }

    /// <summary>Nothing after a test.</summary>
    public void AfterTest(ITest test) { }
}
