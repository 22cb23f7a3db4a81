using ILGPU;
using RK = Ember.Ilgpu.Ops.RowKernels;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// Softmax / log-softmax rows reduced with warp shuffles (<see cref="Warp.ShuffleXor{T}(T, int)"/>) instead of a
/// shared-memory tree with a barrier per level. Short rows (<see cref="IlgpuBackend.WarpRowMaxCols"/> or fewer
/// columns): one warp per row, several rows per group, no shared memory and no barrier. Long rows: one group per row,
/// each warp reduces its part by shuffles, one shared-memory exchange (one barrier) combines the warps. The forward
/// pass computes the row's max and Σ e^(x − max) in one read of the row (the "online" softmax: a running sum is
/// rescaled whenever the running max grows), then a second read writes the results. Contiguous rows only.
/// Used on CUDA and ILGPU's CPU accelerator (which emulates warps); OpenCL keeps <see cref="RowKernels"/>, because
/// ILGPU compiles warp shuffles there only for devices with sub-group extensions. Also the warp-per-column last step of
/// layer norm's parameter gradients (<see cref="LayerNormParamsFinish{T, R}"/>), a row reduction over the partial sums.
/// </summary>
internal static class WarpRowKernels
{
    /// <summary>Most warps per group of <see cref="SoftmaxBlock{T, R}"/> (the shared exchange holds one slot per warp).</summary>
    public const int MaxWarps = 32;

    /// <summary>
    /// e^(a − m) for a running max m ≥ a, with two exact cases: e^0 = 1 when a = m is finite (an approximate exp must
    /// not shrink the sum each step), and 1 when a = m = −∞ (a prefix of −∞ values keeps its count, so an all −∞ row
    /// ends as NaN, like the CPU backend, instead of 0·NaN from e^(−∞ − (−∞))). a = m = +∞ gives NaN, as it should.
    /// </summary>
    private static T Scale<T, R>(T a, T m) where T : unmanaged where R : struct, IReal<T>
    {
        if (!R.Eq(a, m)) return R.Exp(R.Sub(a, m));
        T d = R.Sub(a, m);
        return R.IsNaN(d) && R.Lt(R.FromD(0.0), a) ? d : R.FromD(1.0);
    }

    /// <summary>Merges the partial (max m2, Σ e^(x − m2) = s2) into (m, s).</summary>
    private static void Merge<T, R>(ref T m, ref T s, T m2, T s2) where T : unmanaged where R : struct, IReal<T>
    {
        T mn = RK.Max<T, R>(m, m2);
        s = R.Add(R.Mul(s, Scale<T, R>(m, mn)), R.Mul(s2, Scale<T, R>(m2, mn)));
        m = mn;
    }

    /// <summary>
    /// The (max, Σ e^(x − max)) of this thread's columns j = first, first + step, … of the row at <paramref name="b"/>.
    /// </summary>
    private static void Partial<T, R>(ArrayView<T> x, long b, long first, long step, long cols, out T m, out T s)
        where T : unmanaged where R : struct, IReal<T>
    {
        m = R.NegInf();
        s = R.FromD(0.0);
        for (long j = first; j < cols; j += step)
        {
            T v = x[b + j];
            T mn = RK.Max<T, R>(m, v);
            s = R.Add(R.Mul(s, Scale<T, R>(m, mn)), Scale<T, R>(v, mn));
            m = mn;
        }
    }

    /// <summary>Butterfly merge over the warp: afterwards every lane holds the warp's (max, sum).</summary>
    private static void WarpMerge<T, R>(ref T m, ref T s) where T : unmanaged where R : struct, IReal<T>
    {
        // Merge is symmetric (max and + commute exactly), so both partners of each exchange get identical values.
        for (int lane = Warp.WarpSize / 2; lane > 0; lane >>= 1)
        {
            T m2 = Warp.ShuffleXor(m, lane), s2 = Warp.ShuffleXor(s, lane);
            Merge<T, R>(ref m, ref s, m2, s2);
        }
    }

    /// <summary>Butterfly sum over the warp: afterwards every lane holds the warp's total.</summary>
    private static T WarpSum<T, R>(T v) where T : unmanaged where R : struct, IReal<T>
    {
        for (int lane = Warp.WarpSize / 2; lane > 0; lane >>= 1) v = R.Add(v, Warp.ShuffleXor(v, lane));
        return v;
    }

    /// <summary>Writes softmax (or log-softmax) of this thread's columns from the row's (m, s).</summary>
    private static void Write<T, R>(ArrayView<T> x, ArrayView<T> y, long xb, long yb, long first, long step, long cols, T m, T s, int log)
        where T : unmanaged where R : struct, IReal<T>
    {
        if (log != 0)
        {
            // (x − m) − ln s: the CPU backend's order of operations.
            T ls = R.Log(s);
            for (long j = first; j < cols; j += step) y[yb + j] = R.Sub(R.Sub(x[xb + j], m), ls);
        }
        else
        {
            T inv = R.Div(R.FromD(1.0), s);
            for (long j = first; j < cols; j += step) y[yb + j] = R.Mul(R.Exp(R.Sub(x[xb + j], m)), inv);
        }
    }

    /// <summary>The row of this warp (groups hold Group.DimX / warp size rows), or −1 past the last row.</summary>
    private static long WarpRow(long rows)
    {
        long row = (long)Grid.IdxX * (Group.DimX / Warp.WarpSize) + Warp.WarpIdx;
        return row < rows ? row : -1;
    }

    /// <summary>Softmax / log-softmax, one warp per row: x at o.A, y at o.B, [rows, cols] contiguous.</summary>
    public static void SoftmaxWarp<T, R>(ArrayView<T> x, ArrayView<T> y, long rows, long cols, TensorOffsets o, int log)
        where T : unmanaged where R : struct, IReal<T>
    {
        // The whole warp leaves together (rows are per warp), so no shuffle below runs with missing lanes.
        long row = WarpRow(rows);
        if (row < 0) return;
        long lane = Warp.LaneIdx, w = Warp.WarpSize, xb = o.A + row * cols, yb = o.B + row * cols;
        Partial<T, R>(x, xb, lane, w, cols, out T m, out T s);
        WarpMerge<T, R>(ref m, ref s);
        Write<T, R>(x, y, xb, yb, lane, w, cols, m, s, log);
    }

    /// <summary>Softmax / log-softmax, one group (whole warps, at most <see cref="MaxWarps"/>) per row: x at o.A, y at o.B.</summary>
    public static void SoftmaxBlock<T, R>(ArrayView<T> x, ArrayView<T> y, long cols, TensorOffsets o, int log)
        where T : unmanaged where R : struct, IReal<T>
    {
        var shm = SharedMemory.Allocate<T>(MaxWarps);
        var shs = SharedMemory.Allocate<T>(MaxWarps);
        long row = Grid.IdxX, xb = o.A + row * cols, yb = o.B + row * cols;
        int warps = Group.DimX / Warp.WarpSize;
        Partial<T, R>(x, xb, Group.IdxX, Group.DimX, cols, out T m, out T s);
        WarpMerge<T, R>(ref m, ref s);
        if (Warp.IsFirstLane) { shm[Warp.WarpIdx] = m; shs[Warp.WarpIdx] = s; }
        Group.Barrier();
        // Every thread merges the warps' partials in the same order, so all get the same (m, s); the shared slots are
        // not written again, so no second barrier is needed.
        m = shm[0]; s = shs[0];
        for (int k = 1; k < warps; k++) Merge<T, R>(ref m, ref s, shm[k], shs[k]);
        Write<T, R>(x, y, xb, yb, Group.IdxX, Group.DimX, cols, m, s, log);
    }

    /// <summary>Σ over this thread's columns of the backward's reduced term (g, or g·y for softmax).</summary>
    private static T BackwardPartial<T, R>(ArrayView<T> grad, ArrayView<T> output, long gb, long ob, long first, long step, long cols, int log)
        where T : unmanaged where R : struct, IReal<T>
    {
        T s = R.FromD(0.0);
        for (long j = first; j < cols; j += step) s = R.Add(s, log != 0 ? grad[gb + j] : R.Mul(grad[gb + j], output[ob + j]));
        return s;
    }

    /// <summary>gx = g − e^y·Σg (log-softmax) or y·(g − Σ g·y) (softmax) of this thread's columns.</summary>
    private static void BackwardWrite<T, R>(ArrayView<T> grad, ArrayView<T> output, ArrayView<T> result, long gb, long ob, long rb,
        long first, long step, long cols, T s, int log) where T : unmanaged where R : struct, IReal<T>
    {
        for (long j = first; j < cols; j += step)
            result[rb + j] = log != 0
                ? R.Sub(grad[gb + j], R.Mul(R.Exp(output[ob + j]), s))
                : R.Mul(output[ob + j], R.Sub(grad[gb + j], s));
    }

    /// <summary>Softmax backward, one warp per row: grad at o.A, output at o.B, result at o.C (contiguous rows).</summary>
    public static void SoftmaxBackwardWarp<T, R>(ArrayView<T> grad, ArrayView<T> output, ArrayView<T> result, long rows, long cols, TensorOffsets o, int log)
        where T : unmanaged where R : struct, IReal<T>
    {
        long row = WarpRow(rows);
        if (row < 0) return;
        long lane = Warp.LaneIdx, w = Warp.WarpSize;
        long gb = o.A + row * cols, ob = o.B + row * cols, rb = o.C + row * cols;
        T s = WarpSum<T, R>(BackwardPartial<T, R>(grad, output, gb, ob, lane, w, cols, log));
        BackwardWrite<T, R>(grad, output, result, gb, ob, rb, lane, w, cols, s, log);
    }

    /// <summary>Softmax backward, one group (whole warps) per row: grad at o.A, output at o.B, result at o.C.</summary>
    public static void SoftmaxBackwardBlock<T, R>(ArrayView<T> grad, ArrayView<T> output, ArrayView<T> result, long cols, TensorOffsets o, int log)
        where T : unmanaged where R : struct, IReal<T>
    {
        var sh = SharedMemory.Allocate<T>(MaxWarps);
        long row = Grid.IdxX, gb = o.A + row * cols, ob = o.B + row * cols, rb = o.C + row * cols;
        int warps = Group.DimX / Warp.WarpSize;
        T s = WarpSum<T, R>(BackwardPartial<T, R>(grad, output, gb, ob, Group.IdxX, Group.DimX, cols, log));
        if (Warp.IsFirstLane) sh[Warp.WarpIdx] = s;
        Group.Barrier();
        s = sh[0];
        for (int k = 1; k < warps; k++) s = R.Add(s, sh[k]);
        BackwardWrite<T, R>(grad, output, result, gb, ob, rb, Group.IdxX, Group.DimX, cols, s, log);
    }

    /// <summary>
    /// gradWeight[c] (o.E) and gradBias[c] (o.F) from the <paramref name="parts"/> partial sums of
    /// <see cref="RowKernels.LayerNormParamsPartial{T, R}"/>, one warp per column c: lanes take parts lane, lane + 32, …
    /// and a butterfly adds them. (One thread per column walked all parts in sequence: a memory latency per part with
    /// only cols threads on the device.)
    /// </summary>
    public static void LayerNormParamsFinish<T, R>(ArrayView<T> part, ArrayView<T> gw, ArrayView<T> gb, long parts, long cols,
        TensorOffsets o, int hasGW, int hasGB) where T : unmanaged where R : struct, IReal<T>
    {
        long c = WarpRow(cols);
        if (c < 0) return;   // the whole warp leaves together
        T sw = R.FromD(0.0), sb = R.FromD(0.0);
        for (long p = Warp.LaneIdx; p < parts; p += Warp.WarpSize)
        {
            sw = R.Add(sw, part[p * cols + c]);
            sb = R.Add(sb, part[(parts + p) * cols + c]);
        }
        sw = WarpSum<T, R>(sw);
        sb = WarpSum<T, R>(sb);
        if (!Warp.IsFirstLane) return;
        if (hasGW != 0) gw[o.E + c] = sw;
        if (hasGB != 0) gb[o.F + c] = sb;
    }
}
