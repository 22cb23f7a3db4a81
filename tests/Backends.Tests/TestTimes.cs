using System.Diagnostics;
using NUnit.Framework;
using NUnit.Framework.Interfaces;

[assembly: Ember.Conformance.TestTimes]
[assembly: Ember.Conformance.ClearIlgpuCaches]

namespace Ember.Conformance;

/// <summary>
/// Where a long backend run spends its time: with <c>EMBER_TEST_TIMES=path</c> set, every test's wall time (first
/// kernel compilations included) is appended to that file as "milliseconds TAB full name TAB GC pause milliseconds TAB
/// gen0/gen1/gen2 collections" (the garbage collector's share of the test's time). Without it nothing is
/// measured or written. A diagnostic of the suite (which fixtures dominate a CUDA or OpenCL run), not a timed test:
/// nothing asserts on these times.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class TestTimesAttribute : Attribute, ITestAction
{
    private static readonly string? Path = Environment.GetEnvironmentVariable("EMBER_TEST_TIMES");
    private static readonly object Gate = new();

    [ThreadStatic] private static long started;
    [ThreadStatic] private static TimeSpan paused;
    [ThreadStatic] private static int gen0, gen1, gen2;

    /// <summary>Every test, one at a time.</summary>
    public ActionTargets Targets => ActionTargets.Test;

    /// <summary>Notes the start time.</summary>
    public void BeforeTest(ITest test)
    {
        if (Path is null) return;
        (paused, gen0, gen1, gen2) = (GC.GetTotalPauseDuration(), GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        started = Stopwatch.GetTimestamp();
    }

    /// <summary>Appends the test's wall time to the file named by <c>EMBER_TEST_TIMES</c>, when set.</summary>
    public void AfterTest(ITest test)
    {
        if (Path is null) return;
        double ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        double gc = (GC.GetTotalPauseDuration() - paused).TotalMilliseconds;
        string counts = $"{GC.CollectionCount(0) - gen0}/{GC.CollectionCount(1) - gen1}/{GC.CollectionCount(2) - gen2}";
        lock (Gate) File.AppendAllText(Path, $"{ms:F0}\t{test.FullName}\t{gc:F0}\t{counts}\n");
    }
}

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
