namespace Ember.Tests.Distributed;

/// <summary>Faults end the job with a clear error on every rank and a non-zero mpirun exit, within a timeout.</summary>
[TestFixture]
[NonParallelizable]
public class FaultTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Test]
    public void MismatchedParameterShapesFailOnEveryRank()
    {
        var r = MpiRun.Run(2, "fault-shapes", Timeout);
        Assert.That(r.ExitCode, Is.Not.Zero, r.Output);
        Assert.That(r.Output, Does.Not.Contain("unreachable"));
        for (int rank = 0; rank < 2; rank++)
            Assert.That(r.Output, Does.Contain(
                $"[rank {rank}] unhandled exception, aborting the job: System.InvalidOperationException: DistributedDataParallel: parameter 0.weight is Float32 [4, 4] on rank 1 but Float32 [3, 4] on rank 0"),
                r.Output);
    }

    [Test]
    public void MismatchedCollectiveInDebugModeNamesTheRank()
    {
        var r = MpiRun.Run(3, "fault-debug", Timeout);
        Assert.That(r.ExitCode, Is.Not.Zero, r.Output);
        Assert.That(r.Output, Does.Not.Contain("unreachable"));
        const string message = "EMBER_DISTRIBUTED_DEBUG found that ranks called mismatched collectives: rank 1 called AllReduce on a Float32 tensor of shape [5] with ReduceOp.Sum but rank 0 called AllReduce on a Float32 tensor of shape [4] with ReduceOp.Sum";
        Assert.That(r.Output, Does.Contain(message), r.Output);
        // Every rank either reported the mismatch itself or was stopped with a message pointing at the failed rank.
        for (int rank = 0; rank < 3; rank++)
            Assert.That(r.Output.Contains($"{message} (this is rank {rank})") || r.Output.Contains($"[rank {rank}] terminated by mpirun"), Is.True,
                $"rank {rank} ended silently:\n{r.Output}");
    }

    [Test]
    public void ARankThatThrowsStopsTheJob()
    {
        var r = MpiRun.Run(2, "fault-throw", Timeout);
        Assert.That(r.ExitCode, Is.Not.Zero, r.Output);
        Assert.That(r.Output, Does.Not.Contain("unreachable"));
        Assert.That(r.Output, Does.Contain("[rank 1] unhandled exception, aborting the job: System.InvalidOperationException: deliberate failure on rank 1"), r.Output);
        Assert.That(r.Output, Does.Contain("[rank 0] terminated by mpirun: another rank failed"), r.Output);
    }
}
