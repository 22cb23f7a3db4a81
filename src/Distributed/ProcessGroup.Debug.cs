using Ember.Comm;

namespace Ember;

/// <summary>The debug-mode check (EMBER_DISTRIBUTED_DEBUG=1, like TORCH_DISTRIBUTED_DEBUG=DETAIL).</summary>
public sealed partial class ProcessGroup
{
    private static readonly string[] OpNames =
        ["AllReduce", "Broadcast", "AllGather", "AllGatherIntoTensor", "ReduceScatter", "ReduceScatterTensor", "Gather", "Scatter", "Barrier"];

    // Descriptor: op, reduce op, root, dtype, rank of the shape, then up to Tensor.MaxRank sizes.
    private const int DescriptorLength = 5 + Tensor.MaxRank;

    /// <summary>
    /// In debug mode, all-gathers a fixed-size descriptor of this call (collective, reduce op, root, dtype, shape of
    /// this rank's tensor) and compares every rank's with rank 0's. A difference throws the same
    /// <see cref="InvalidOperationException"/> on every rank, naming the rank that differs, before the collective
    /// itself could hang or mix unrelated data. The descriptors always have the same size, so the check itself
    /// cannot mismatch.
    /// </summary>
    private void Consistency(string name, Tensor? t, Distributed.ReduceOp? op = null, int root = -1)
    {
        if (!Distributed.DebugMode || Size == 1) return;
        var mine = new long[DescriptorLength];
        mine[0] = Array.IndexOf(OpNames, name);
        mine[1] = op is { } o ? (long)o : -1;
        mine[2] = root;
        mine[3] = t is null ? -1 : (long)t.DType;
        mine[4] = t?.Dim ?? -1;
        for (int i = 0; i < (t?.Dim ?? 0); i++) mine[5 + i] = t!.Size(i);
        var all = new long[DescriptorLength * Size];
        AllGatherLongs(mine, all);
        for (int r = 1; r < Size; r++)
        {
            if (all.AsSpan(r * DescriptorLength, DescriptorLength).SequenceEqual(all.AsSpan(0, DescriptorLength))) continue;
            throw new InvalidOperationException(
                $"{name}: EMBER_DISTRIBUTED_DEBUG found that ranks called mismatched collectives: rank {r} called {Describe(all, r)} " +
                $"but rank 0 called {Describe(all, 0)} (this is rank {Rank}).");
        }
    }

    /// <summary>All-gathers int64 values over the host transport (blocking); used by checks, never in debug mode itself.</summary>
    internal unsafe void AllGatherLongs(long[] mine, long[] all)
    {
        fixed (long* s = mine, d = all)
            host.AllGather((nint)s, (nint)d, mine.Length, DType.Int64, async: false).Wait();
    }

    private static string Describe(long[] all, int rank)
    {
        var d = all.AsSpan(rank * DescriptorLength, DescriptorLength);
        string s = d[0] >= 0 ? OpNames[d[0]] : "?";
        if (d[3] >= 0) s += $" on a {(DType)d[3]} tensor of shape [{string.Join(", ", d.Slice(5, (int)d[4]).ToArray())}]";
        if (d[1] >= 0) s += $" with ReduceOp.{(Distributed.ReduceOp)d[1]}";
        if (d[2] >= 0) s += $" with root {d[2]}";
        return s;
    }
}
