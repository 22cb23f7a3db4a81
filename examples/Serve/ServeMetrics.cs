using System.Globalization;
using System.Text;

namespace Ember.Examples.Serve;

/// <summary>Counters and recent latencies, shown by GET /metrics in Prometheus' text format.</summary>
public sealed class ServeMetrics
{
    private const int Window = 10_000;
    private readonly double[] latencies = new double[Window];
    private long requests, instances, badRequests, failures, batches, batchedRows, latencyCount;

    public void RecordRequest(int rows, double milliseconds)
    {
        Interlocked.Increment(ref requests);
        Interlocked.Add(ref instances, rows);
        long i = Interlocked.Increment(ref latencyCount) - 1;
        latencies[i % Window] = milliseconds;
    }

    public void RecordBadRequest() => Interlocked.Increment(ref badRequests);
    public void RecordFailure() => Interlocked.Increment(ref failures);

    public void RecordBatch(int rows)
    {
        Interlocked.Increment(ref batches);
        Interlocked.Add(ref batchedRows, rows);
    }

    /// <summary>The metrics as text; latency quantiles are over the last 10,000 requests.</summary>
    public string Render(int queueDepth)
    {
        long n = Math.Min(Interlocked.Read(ref latencyCount), Window);
        var recent = latencies.AsSpan(0, (int)n).ToArray();
        Array.Sort(recent);
        double Q(double q) => n == 0 ? 0 : recent[(int)Math.Min(n - 1, Math.Floor(q * n))];
        long b = Interlocked.Read(ref batches);
        var sb = new StringBuilder();
        void Line(string name, double v) => sb.Append(name).Append(' ').Append(v.ToString("G6", CultureInfo.InvariantCulture)).Append('\n');
        Line("ember_requests_total", Interlocked.Read(ref requests));
        Line("ember_instances_total", Interlocked.Read(ref instances));
        Line("ember_bad_requests_total", Interlocked.Read(ref badRequests));
        Line("ember_failed_requests_total", Interlocked.Read(ref failures));
        Line("ember_batches_total", b);
        Line("ember_batch_size_mean", b == 0 ? 0 : (double)Interlocked.Read(ref batchedRows) / b);
        Line("ember_queue_depth", queueDepth);
        Line("ember_latency_ms{quantile=\"0.5\"}", Q(0.5));
        Line("ember_latency_ms{quantile=\"0.99\"}", Q(0.99));
        return sb.ToString();
    }
}
