using Ember.Data;

namespace Ember.Hardening.Tests;

/// <summary>Cancelling a DataLoader epoch returns to the caller even while a worker is stuck inside the data set.</summary>
public class DataLoaderCancelTests
{
    private sealed class StuckAfterFirst(ManualResetEventSlim release) : Dataset<Tensor>
    {
        public override int Count => 100;
        public override Tensor this[int index]
        {
            get
            {
                if (index >= 2) release.Wait();   // every item after the first batch blocks until the test releases it
                return Tensor.Scalar(index);
            }
        }
    }

    [Test]
    public void CancellationReturnsWhileAWorkerIsStuck([Values(1, 2)] int workers)
    {
        using var release = new ManualResetEventSlim(false);
        var loader = DataLoader.Create(new StuckAfterFirst(release), batchSize: 2, numWorkers: workers);
        using var cts = new CancellationTokenSource();
        Exception? thrown = null;
        var consumer = Task.Run(() =>
        {
            try { foreach (var _ in loader.Iterate(cts.Token)) cts.Cancel(); }
            catch (Exception e) { thrown = e; }
        });
        try
        {
            // A liveness bound, not a timing: before the fix the consumer waited for the stuck worker forever.
            Assert.That(consumer.Wait(TimeSpan.FromSeconds(10)), Is.True, "the cancelled enumeration did not return while a worker was stuck");
            Assert.That(thrown, Is.InstanceOf<OperationCanceledException>());
        }
        finally { release.Set(); }
    }
}
