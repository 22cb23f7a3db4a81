using System.Text.RegularExpressions;

namespace Ember.Tests.Distributed;

/// <summary>
/// The collectives and DDP under mpirun with 2 and 3 processes. One launch runs a whole suite of the worker's
/// cases (tests/Distributed.Worker); every case must report OK on every rank.
/// </summary>
[TestFixture]
[NonParallelizable]
public class CollectiveTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(150);

    /// <summary>Asserts a clean exit and that each case passed on every rank (and that there were cases).</summary>
    internal static void AssertAllCasesPassed(MpiResult r, int processes, int minimumCases)
    {
        var failures = Regex.Matches(r.Output, "CASE .* FAIL .*$", RegexOptions.Multiline).Select(m => m.Value).ToList();
        Assert.That(failures, Is.Empty, r.Output);
        var ok = Regex.Matches(r.Output, @"CASE (\S+) OK rank (\d+)", RegexOptions.Multiline)
            .Select(m => (Case: m.Groups[1].Value, Rank: int.Parse(m.Groups[2].Value))).ToList();
        var cases = ok.Select(o => o.Case).Distinct().ToList();
        Assert.That(cases, Has.Count.GreaterThanOrEqualTo(minimumCases), r.Output);
        foreach (var c in cases)
            Assert.That(ok.Where(o => o.Case == c).Select(o => o.Rank).Order(), Is.EqualTo(Enumerable.Range(0, processes)), $"case {c} did not pass on every rank");
        Assert.That(r.ExitCode, Is.Zero, r.Output);
    }

    [TestCase(2)]
    [TestCase(3)]
    public void EveryCollectiveMatchesItsArithmetic(int processes) =>
        AssertAllCasesPassed(MpiRun.Run(processes, "collectives", Timeout), processes, minimumCases: 80);

    [TestCase(2)]
    [TestCase(3)]
    public void DistributedDataParallelMatchesOneProcessOnTheConcatenatedBatch(int processes) =>
        AssertAllCasesPassed(MpiRun.Run(processes, "ddp", Timeout), processes, minimumCases: 8);

    /// <summary>Tensors of the ILGPU CPU accelerator travel through host copies; the same suite runs on CUDA through NCCL on the GPU machine.</summary>
    [Test]
    public void IlgpuDeviceTensorsGoThroughHostCopies() =>
        AssertAllCasesPassed(MpiRun.Run(2, "device ilgpu-cpu", Timeout), 2, minimumCases: 20);
}
