using System.Diagnostics;
using NUnit.Framework;
using NUnit.Framework.Interfaces;

[assembly: Ember.Conformance.TestTimes]

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
