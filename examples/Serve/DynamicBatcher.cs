using System.Diagnostics;
using System.Threading.Channels;
using Ember.NN;

namespace Ember.Examples.Serve;

/// <summary>
/// Dynamic batching: requests wait in a queue; one worker takes the first, then keeps collecting until the batch holds
/// <c>maxBatch</c> instances or <c>maxWait</c> has passed since the first arrived, and runs one forward pass for all of them.
/// With <c>maxBatch</c> = 1 every request runs alone (no batching). The model is only ever used by the worker thread.
/// </summary>
public sealed class DynamicBatcher : IAsyncDisposable
{
    private sealed record Pending(float[] Inputs, int Rows, TaskCompletionSource<float[]> Result, long Enqueued);

    private readonly Channel<Pending> queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Module<Tensor, Tensor> model;
    private readonly CancellationTokenSource stop = new();
    private readonly Task worker;
    private readonly ServeMetrics metrics;
    private int queued;

    /// <summary>Input features per instance.</summary>
    public int Features { get; }
    /// <summary>Output classes per instance.</summary>
    public int Classes { get; }
    /// <summary>Most instances in one forward pass (a larger request runs alone).</summary>
    public int MaxBatch { get; }
    /// <summary>How long the first request of a batch waits for others.</summary>
    public TimeSpan MaxWait { get; }
    /// <summary>Requests waiting now.</summary>
    public int QueueDepth => Volatile.Read(ref queued);

    public DynamicBatcher(Module<Tensor, Tensor> model, int features, int classes, int maxBatch, TimeSpan maxWait, ServeMetrics metrics)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        this.model = model;
        this.metrics = metrics;
        Features = features; Classes = classes; MaxBatch = maxBatch; MaxWait = maxWait;
        worker = Task.Factory.StartNew(() => RunAsync().GetAwaiter().GetResult(), TaskCreationOptions.LongRunning);
    }

    /// <summary>Queues <paramref name="rows"/> instances (row-major, <see cref="Features"/> each) and returns their class probabilities.</summary>
    /// <exception cref="ArgumentException">inputs does not hold rows × Features values, or rows is not positive.</exception>
    public Task<float[]> PredictAsync(float[] inputs, int rows)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        // Checked here, before queueing: a malformed request must not fail the other requests of its batch.
        if (rows < 1 || inputs.Length != (long)rows * Features)
            throw new ArgumentException($"PredictAsync: {inputs.Length} values for {rows} rows of {Features} features.", nameof(inputs));
        var p = new Pending(inputs, rows, new TaskCompletionSource<float[]>(TaskCreationOptions.RunContinuationsAsynchronously), Stopwatch.GetTimestamp());
        Interlocked.Increment(ref queued);
        if (!queue.Writer.TryWrite(p)) { Interlocked.Decrement(ref queued); throw new InvalidOperationException("the server is shutting down"); }
        return p.Result.Task;
    }

    private async Task RunAsync()
    {
        var reader = queue.Reader;
        var batch = new List<Pending>();
        Pending? carry = null;
        try
        {
            while (carry != null || await reader.WaitToReadAsync(stop.Token))
            {
                batch.Clear();
                int rows = 0;
                if (carry == null && !reader.TryRead(out carry)) continue;
                batch.Add(carry); rows += carry.Rows; carry = null;
                long deadline = batch[0].Enqueued + (long)(MaxWait.TotalSeconds * Stopwatch.Frequency);
                while (rows < MaxBatch)
                {
                    if (reader.TryRead(out var next))
                    {
                        if (rows + next.Rows > MaxBatch) { carry = next; break; } // starts the next batch
                        batch.Add(next); rows += next.Rows;
                        continue;
                    }
                    long left = deadline - Stopwatch.GetTimestamp();
                    if (left <= 0) break;
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                    timeout.CancelAfter(TimeSpan.FromSeconds((double)left / Stopwatch.Frequency));
                    try { if (!await reader.WaitToReadAsync(timeout.Token)) break; }
                    catch (OperationCanceledException) when (!stop.IsCancellationRequested) { break; }
                }
                Interlocked.Add(ref queued, -batch.Count);
                Run(batch, rows);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
        foreach (var p in batch.Append(carry)) p?.Result.TrySetCanceled();
        while (reader.TryRead(out var left)) left.Result.TrySetCanceled();
    }

    /// <summary>One forward pass over the batch's instances, stacked into one [rows, Features] tensor.</summary>
    private void Run(List<Pending> batch, int rows)
    {
        try
        {
            var x = new float[rows * Features];
            int at = 0;
            foreach (var p in batch) { p.Inputs.CopyTo(x, at); at += p.Inputs.Length; }
            float[] probs;
            using (Tensor.Scope())
            using (Autograd.NoGrad())
                probs = model.Forward(Tensor.FromArray(x, rows, Features)).Softmax(1).ToArray<float>();
            metrics.RecordBatch(rows);
            at = 0;
            foreach (var p in batch)
            {
                p.Result.TrySetResult(probs.AsSpan(at, p.Rows * Classes).ToArray());
                at += p.Rows * Classes;
            }
        }
        catch (Exception e)
        {
            foreach (var p in batch) p.Result.TrySetException(e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await stop.CancelAsync();
        try { await worker; } catch (OperationCanceledException) { }
        stop.Dispose();
    }
}
