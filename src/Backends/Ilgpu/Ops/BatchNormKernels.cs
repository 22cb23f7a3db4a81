using ILGPU;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// Sizes of a batch-norm launch over contiguous x [N, C, HW]: each channel's N·HW elements (flat index e: sample e / HW,
/// position e mod HW) are cut into <see cref="Parts"/> chunks of <see cref="Chunk"/> elements (the last may be shorter),
/// one group per (channel, chunk): group b is chunk b mod Parts of channel b / Parts.
/// </summary>
internal struct BatchNormParams
{
    /// <summary>N and HW.</summary>
    public long N, Hw;
    /// <summary>Elements per chunk.</summary>
    public long Chunk;
    /// <summary>Chunks per channel.</summary>
    public int Parts;
    /// <summary>Forward: 1 weight given, 2 bias given. Backward: 1 weight given, 2 gradX wanted, 4 gradWeight wanted, 8 gradBias wanted.</summary>
    public int Flags;
    /// <summary>The forward's epsilon.</summary>
    public double Eps;
}

/// <summary>
/// Batch norm in two launches per direction, each over C × Parts groups (so that a batch of few channels still fills the
/// device: [64, 32, 32, 32] runs 512 groups of 4,096 elements, where one group per channel ran 32 groups of 65,536 and
/// took 0.36 ms on an H100). The first launch writes per-chunk partial statistics (float64); the second merges a
/// channel's partials (every group of the channel the same way, in chunk order: deterministic) and writes its chunk's
/// elementwise results. Statistics accumulate in float64 whatever the element type; elementwise results are computed in
/// the element type from the rounded statistics, like the composite. x, y and their gradients are stored as the kernels'
/// TS (<see cref="IElementStorage{TS, T}"/>): float32/float64 as they are, or Float16/BFloat16 widened to float32 with
/// float32 weight, bias and their gradients (PyTorch's mixed batch norm: the values of the float32 kernel between two
/// conversions, each output rounded once).
/// </summary>
internal static class BatchNormKernels
{
    /// <summary>Position of a thread's current element: sample <see cref="I"/>, position <see cref="J"/> within it.</summary>
    private struct Walk
    {
        public long I, J;

        /// <summary>Element <paramref name="e"/> of the channel.</summary>
        public static Walk At(long e, long hw)
        {
            long i = e / hw;
            return new Walk { I = i, J = e - i * hw };
        }

        /// <summary>
        /// <paramref name="g"/> elements further: without a division when a sample has at least <paramref name="g"/>
        /// elements (one carry at most), else by dividing again.
        /// </summary>
        public Walk Next(long g, long hw)
        {
            if (hw < g) return At(I * hw + J + g, hw);
            long j = J + g;
            return j >= hw ? new Walk { I = I + 1, J = j - hw } : new Walk { I = I, J = j };
        }

        /// <summary>Storage index in x [N, C, HW] of this element of channel <paramref name="c"/> (<paramref name="chw"/> = C·HW).</summary>
        public readonly long Index(long chw, long c, long hw) => I * chw + c * hw + J;
    }

    /// <summary>First element of group <paramref name="b"/>'s chunk and the chunk's length.</summary>
    private static long ChunkOf(BatchNormParams p, int b, out long count)
    {
        int part = b % p.Parts;
        count = CountOf(p, part, p.N * p.Hw);
        return part * p.Chunk;
    }

    /// <summary>Length of chunk <paramref name="part"/> of a channel of <paramref name="m"/> elements.</summary>
    private static long CountOf(BatchNormParams p, int part, long m) => m - part * p.Chunk < p.Chunk ? m - part * p.Chunk : p.Chunk;

    /// <summary>
    /// Forward, first launch: partials[2b] = the mean of group b's chunk, partials[2b + 1] = the sum of its squared
    /// deviations from that mean (two passes over the chunk: the one-pass Σx² − n·μ² cancels badly for large means).
    /// </summary>
    public static void ForwardPartials<TS, T, R, S>(ArrayView<TS> x, ArrayView<double> partials, BatchNormParams p)
        where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T>
    {
        var sh = SharedMemory.Allocate<double>(RowKernels.MaxGroup);
        int b = Grid.IdxX, t = Group.IdxX, g = Group.DimX;
        long c = b / p.Parts, hw = p.Hw, chw = Grid.DimX / p.Parts * hw;
        long e0 = ChunkOf(p, b, out long count);
        double s = 0;
        var w = Walk.At(e0 + t, hw);
        for (long e = t; e < count; e += g, w = w.Next(g, hw)) s += R.ToD(S.Load(x[w.Index(chw, c, hw)]));
        double mu = RowKernels.GroupSum<double, F64>(sh, s) / count;
        double q = 0;
        w = Walk.At(e0 + t, hw);
        for (long e = t; e < count; e += g, w = w.Next(g, hw))
        {
            double d = R.ToD(S.Load(x[w.Index(chw, c, hw)])) - mu;
            q += d * d;
        }
        q = RowKernels.GroupSum<double, F64>(sh, q);
        if (t == 0)
        {
            partials[2 * b] = mu;
            partials[2 * b + 1] = q;
        }
    }

    /// <summary>
    /// Forward, second launch: merges the channel's partials (mean = Σ nⱼ·μⱼ / m, Σ squared deviations = Σ (Mⱼ + nⱼ·(μⱼ −
    /// mean)²), Chan et al.), writes mean/variance (biased)/rstd = 1/√(σ² + eps) to Float64 [C] (chunk 0's group) and
    /// y = (x − μ)·rstd·w + b over the group's chunk. Views start at element 0 of their tensors.
    /// </summary>
    public static void Forward<TS, T, R, S>(ArrayView<TS> x, ArrayView<T> w, ArrayView<T> bias, ArrayView<TS> y, ArrayView<double> mean,
        ArrayView<double> variance, ArrayView<double> rstd, ArrayView<double> partials, BatchNormParams p)
        where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T>
    {
        var sh = SharedMemory.Allocate<double>(RowKernels.MaxGroup);
        int b = Grid.IdxX, t = Group.IdxX, g = Group.DimX;
        int c = b / p.Parts, first = c * p.Parts;
        long hw = p.Hw, chw = Grid.DimX / p.Parts * hw, m = p.N * hw;
        double s = 0;
        for (int j = t; j < p.Parts; j += g) s += CountOf(p, j, m) * partials[2 * (first + j)];
        double mu = RowKernels.GroupSum<double, F64>(sh, s) / m;
        double q = 0;
        for (int j = t; j < p.Parts; j += g)
        {
            double d = partials[2 * (first + j)] - mu;
            q += partials[2 * (first + j) + 1] + CountOf(p, j, m) * d * d;
        }
        double v = RowKernels.GroupSum<double, F64>(sh, q) / m;
        double rs = 1.0 / F64.Sqrt(v + p.Eps);
        if (t == 0 && b == first)
        {
            mean[c] = mu;
            variance[c] = v;
            rstd[c] = rs;
        }
        T muT = R.FromD(mu), rsT = R.FromD(rs);
        T wT = (p.Flags & 1) != 0 ? w[c] : R.FromD(1.0), bT = (p.Flags & 2) != 0 ? bias[c] : R.FromD(0.0);
        long e0 = ChunkOf(p, b, out long count);
        var at = Walk.At(e0 + t, hw);
        for (long e = t; e < count; e += g, at = at.Next(g, hw))
        {
            long i = at.Index(chw, c, hw);
            y[i] = S.Store(R.Add(R.Mul(R.Mul(R.Sub(S.Load(x[i]), muT), rsT), wT), bT));
        }
    }

    /// <summary>Backward, first launch: partials[2b] = Σ g and partials[2b + 1] = Σ g·x̂ over group b's chunk (x̂ = (x − μ)·rstd).</summary>
    public static void BackwardPartials<TS, T, R, S>(ArrayView<TS> grad, ArrayView<TS> x, ArrayView<double> mean, ArrayView<double> rstd,
        ArrayView<double> partials, BatchNormParams p)
        where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T>
    {
        var sh = SharedMemory.Allocate<double>(RowKernels.MaxGroup);
        int b = Grid.IdxX, t = Group.IdxX, g = Group.DimX;
        int c = b / p.Parts;
        long hw = p.Hw, chw = Grid.DimX / p.Parts * hw;
        double mu = mean[c], rs = rstd[c];
        long e0 = ChunkOf(p, b, out long count);
        double sg = 0, sgx = 0;
        var at = Walk.At(e0 + t, hw);
        for (long e = t; e < count; e += g, at = at.Next(g, hw))
        {
            long i = at.Index(chw, c, hw);
            double gi = R.ToD(S.Load(grad[i]));
            sg += gi;
            sgx += gi * (R.ToD(S.Load(x[i])) - mu) * rs;
        }
        sg = RowKernels.GroupSum<double, F64>(sh, sg);
        sgx = RowKernels.GroupSum<double, F64>(sh, sgx);
        if (t == 0)
        {
            partials[2 * b] = sg;
            partials[2 * b + 1] = sgx;
        }
    }

    /// <summary>
    /// Backward, second launch: gradBias = Σ g and gradWeight = Σ g·x̂ from the channel's partials (written by chunk 0's
    /// group), gradX = w·rstd·(g − gradBias/m − x̂·gradWeight/m) over the group's chunk; each written only when wanted
    /// (<see cref="BatchNormParams.Flags"/>; the views of unwanted outputs are placeholders).
    /// </summary>
    public static void Backward<TS, T, R, S>(ArrayView<TS> grad, ArrayView<TS> x, ArrayView<T> w, ArrayView<double> mean, ArrayView<double> rstd,
        ArrayView<TS> gx, ArrayView<T> gw, ArrayView<T> gb, ArrayView<double> partials, BatchNormParams p)
        where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T>
    {
        var sh = SharedMemory.Allocate<double>(RowKernels.MaxGroup);
        int b = Grid.IdxX, t = Group.IdxX, g = Group.DimX;
        int c = b / p.Parts, first = c * p.Parts;
        long hw = p.Hw, chw = Grid.DimX / p.Parts * hw, m = p.N * hw;
        double sg = 0, sgx = 0;
        for (int j = t; j < p.Parts; j += g)
        {
            sg += partials[2 * (first + j)];
            sgx += partials[2 * (first + j) + 1];
        }
        sg = RowKernels.GroupSum<double, F64>(sh, sg);
        sgx = RowKernels.GroupSum<double, F64>(sh, sgx);
        int flags = p.Flags;
        if (t == 0 && b == first)
        {
            if ((flags & 4) != 0) gw[c] = R.FromD(sgx);
            if ((flags & 8) != 0) gb[c] = R.FromD(sg);
        }
        if ((flags & 2) == 0) return;
        T muT = R.FromD(mean[c]), rsT = R.FromD(rstd[c]), a = R.FromD(sg / m), k = R.FromD(sgx / m);
        T scale = R.Mul((flags & 1) != 0 ? w[c] : R.FromD(1.0), rsT);
        long e0 = ChunkOf(p, b, out long count);
        var at = Walk.At(e0 + t, hw);
        for (long e = t; e < count; e += g, at = at.Next(g, hw))
        {
            long i = at.Index(chw, c, hw);
            T xh = R.Mul(R.Sub(S.Load(x[i]), muT), rsT);
            gx[i] = S.Store(R.Mul(scale, R.Sub(R.Sub(S.Load(grad[i]), a), R.Mul(xh, k))));
        }
    }
}
