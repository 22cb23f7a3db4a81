using ILGPU;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// Linear's bias gradient in float32/float64: column sums of a contiguous matrix g [m, n] in one launch. A group owns
/// one tile of warp-size adjacent columns (lane = column, so each warp reads one contiguous run of a row per load);
/// its warps take rows w, w + warps, … with four independent loads in flight per step, then the warps' partial sums
/// are added in warp order through shared memory. The column reduction of <see cref="ReduceKernels.Column{T, R}"/>
/// needed two launches (row chunks, then the chunks) and a copy into the result.
/// </summary>
internal static class ColumnSumKernels
{
    /// <summary>Most warps per group (the shared exchange holds one partial per warp and lane).</summary>
    public const int MaxWarps = 32;

    /// <summary>Most lanes per warp the shared exchange is sized for.</summary>
    private const int MaxLanes = 32;

    /// <summary>
    /// result[rOffset + c·rStride] = Σ_i g[gOffset + i·n + c] for the columns c of this group's tile. Every thread
    /// reaches the barrier (threads past the last column add zeros), and the sums run in a fixed order, so the result
    /// does not depend on timing.
    /// </summary>
    public static void Sum<T, R>(ArrayView<T> g, ArrayView<T> result, long m, long n, long gOffset, long rOffset, long rStride)
        where T : unmanaged where R : struct, IReal<T>
    {
        var sh = SharedMemory.Allocate<T>(MaxWarps * MaxLanes);
        int lane = Warp.LaneIdx, w = Warp.WarpIdx, warps = Group.DimX / Warp.WarpSize;
        long c = (long)Grid.IdxX * Warp.WarpSize + lane;
        T s0 = R.FromD(0.0), s1 = R.FromD(0.0), s2 = R.FromD(0.0), s3 = R.FromD(0.0);
        if (c < n)
        {
            long i = w, step = warps;
            // Four rows per step, all loads issued before the first add: one memory latency per four rows (ILGPU does
            // not unroll loops, and each add waits for its load).
            for (; i + 3 * step < m; i += 4 * step)
            {
                long b = gOffset + i * n + c;
                T a0 = g[b], a1 = g[b + step * n], a2 = g[b + 2 * step * n], a3 = g[b + 3 * step * n];
                s0 = R.Add(s0, a0); s1 = R.Add(s1, a1); s2 = R.Add(s2, a2); s3 = R.Add(s3, a3);
            }
            for (; i < m; i += step) s0 = R.Add(s0, g[gOffset + i * n + c]);
        }
        sh[w * MaxLanes + lane] = R.Add(R.Add(s0, s1), R.Add(s2, s3));
        Group.Barrier();
        if (w != 0 || c >= n) return;
        T t = sh[lane];
        for (int k = 1; k < warps; k++) t = R.Add(t, sh[k * MaxLanes + lane]);
        result[rOffset + c * rStride] = t;
    }
}
