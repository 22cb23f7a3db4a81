using System.Diagnostics.Tracing;

namespace Ember.Perf;

/// <summary>
/// Which managed types a workload allocates (<c>--alloc-sites N</c>): listens to the runtime's GCAllocationTick event
/// (one event about every 100 KB allocated on a thread, naming the type of the object that crossed the mark), so each
/// type's share of the ticks estimates its share of the bytes. Closure classes (<c>&lt;&gt;c__DisplayClass</c>) name
/// the method that made them; arrays need a stack (dotnet-trace's gc-verbose profile) to place.
/// </summary>
public sealed class AllocSites : EventListener
{
    // GCAllocationTick's event id in the runtime provider, and the GC keyword that carries it.
    private const int AllocationTickId = 10;
    private const long GcKeyword = 0x1;
    private readonly Dictionary<string, (long Bytes, long Ticks, long Large)> byType = new();
    private bool counting;

    /// <summary>Starts or stops counting (ticks outside a counted window are dropped).</summary>
    public bool Counting
    {
        get { lock (byType) return counting; }
        set { lock (byType) counting = value; }
    }

    /// <summary>Forgets what was counted.</summary>
    public void Reset() { lock (byType) byType.Clear(); }

    /// <inheritdoc/>
    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)GcKeyword);
    }

    /// <inheritdoc/>
    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventId != AllocationTickId || e.Payload is null || e.PayloadNames is null) return;
        string type = "?";
        long amount = 0;
        uint kind = 0;
        for (int i = 0; i < e.PayloadNames.Count; i++)
        {
            switch (e.PayloadNames[i])
            {
                case "TypeName": type = e.Payload[i] as string ?? "?"; break;
                case "AllocationAmount64": amount = Convert.ToInt64(e.Payload[i]); break;
                case "AllocationKind": kind = Convert.ToUInt32(e.Payload[i]); break;
            }
        }
        lock (byType)
        {
            if (!counting) return;
            var (b, t, l) = byType.GetValueOrDefault(type);
            // Kind 1 is the large object heap (arrays ≥ 85,000 bytes: pool misses, mostly).
            byType[type] = (b + amount, t + 1, l + (kind == 1 ? amount : 0));
        }
    }

    /// <summary>The top <paramref name="top"/> types by estimated bytes, per step.</summary>
    public string Report(int steps, int top)
    {
        lock (byType)
        {
            long total = byType.Values.Sum(v => v.Bytes);
            var sb = new System.Text.StringBuilder();
            sb.AppendLine($"  allocation ticks: ~{total / 1024.0 / steps:F0} KB/step sampled; top types (KB/step, % of sampled, of which LOH KB/step):");
            foreach (var (type, v) in byType.OrderByDescending(kv => kv.Value.Bytes).Take(top))
                sb.AppendLine($"  {v.Bytes / 1024.0 / steps,10:F1} {100.0 * v.Bytes / Math.Max(1, total),6:F1}% {v.Large / 1024.0 / steps,10:F1}  {type}");
            return sb.ToString();
        }
    }
}
