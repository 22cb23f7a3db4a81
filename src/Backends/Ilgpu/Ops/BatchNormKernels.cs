using ILGPU;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// Batch norm over contiguous x [N, C, HW] in one launch per pass direction: one group per channel walks the channel's
/// N·HW elements (three reads forward: the sum, the squared deviations, the output; two backward), so a training step
/// runs 2 launches per batch-norm layer instead of the composite's ~30 (means, subtractions, products, copies).
/// Statistics accumulate in float64 whatever the element type (a channel of a CNN batch holds 10⁴–10⁶ elements);
/// elementwise results are computed in the element type from the rounded statistics, like the composite. x, y and
/// their gradients are stored as the kernels' TS (<see cref="IElementStorage{TS, T}"/>): float32/float64 as
/// they are, or Float16/BFloat16 widened to float32 with float32 weight, bias and their gradients (PyTorch's mixed batch
/// norm: the values of the float32 kernel between two conversions, each output rounded once).
/// </summary>
internal static class BatchNormKernels
{
    // Storage index of element e ∈ [0, N·HW) of channel c: sample e / HW, position e mod HW.
    private static long At(long e, long hw, long chw, long cb)
    {
        long i = e / hw;
        return i * chw + cb + (e - i * hw);
    }

    /// <summary>
    /// Forward: grid = C groups. mean/variance (biased)/rstd = 1/√(σ² + eps) to Float64 [C]; y = (x − μ)·rstd·w + b.
    /// Views start at element 0 of their tensors (the host passes sub-views).
    /// </summary>
    public static void Forward<TS, T, R, S>(ArrayView<TS> x, ArrayView<T> w, ArrayView<T> b, ArrayView<TS> y, ArrayView<double> mean,
        ArrayView<double> variance, ArrayView<double> rstd, long n, long hw, double eps, int hasW, int hasB)
        where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T>
    {
        var sh = SharedMemory.Allocate<double>(RowKernels.MaxGroup);
        int c = Grid.IdxX, t = Group.IdxX, g = Group.DimX;
        long m = n * hw, chw = Grid.DimX * hw, cb = c * hw;
        double s = 0;
        for (long e = t; e < m; e += g) s += R.ToD(S.Load(x[At(e, hw, chw, cb)]));
        double mu = RowKernels.GroupSum<double, F64>(sh, s) / m;
        // Two passes (mean, then squared deviations): the one-pass Σx² − m·μ² cancels badly for large means.
        double q = 0;
        for (long e = t; e < m; e += g)
        {
            double d = R.ToD(S.Load(x[At(e, hw, chw, cb)])) - mu;
            q += d * d;
        }
        double v = RowKernels.GroupSum<double, F64>(sh, q) / m;
        double rs = 1.0 / F64.Sqrt(v + eps);
        T muT = R.FromD(mu), rsT = R.FromD(rs);
        T wT = hasW != 0 ? w[c] : R.FromD(1.0), bT = hasB != 0 ? b[c] : R.FromD(0.0);
        for (long e = t; e < m; e += g)
        {
            long i = At(e, hw, chw, cb);
            y[i] = S.Store(R.Add(R.Mul(R.Mul(R.Sub(S.Load(x[i]), muT), rsT), wT), bT));
        }
        if (t == 0)
        {
            mean[c] = mu;
            variance[c] = v;
            rstd[c] = rs;
        }
    }

    /// <summary>
    /// Backward: grid = C groups. gradBias = Σ g, gradWeight = Σ g·x̂ (x̂ = (x − μ)·rstd), gradX = w·rstd·(g − gradBias/m −
    /// x̂·gradWeight/m), each written only when wanted (the views of unwanted outputs are placeholders). Flags: 1 weight
    /// given, 2 gradX wanted, 4 gradWeight wanted, 8 gradBias wanted.
    /// </summary>
    public static void Backward<TS, T, R, S>(ArrayView<TS> grad, ArrayView<TS> x, ArrayView<T> w, ArrayView<double> mean, ArrayView<double> rstd,
        ArrayView<TS> gx, ArrayView<T> gw, ArrayView<T> gb, long n, long hw, int flags)
        where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T>
    {
        var sh = SharedMemory.Allocate<double>(RowKernels.MaxGroup);
        int c = Grid.IdxX, t = Group.IdxX, g = Group.DimX;
        long m = n * hw, chw = Grid.DimX * hw, cb = c * hw;
        double mu = mean[c], rs = rstd[c];
        double sg = 0, sgx = 0;
        for (long e = t; e < m; e += g)
        {
            long i = At(e, hw, chw, cb);
            double gi = R.ToD(S.Load(grad[i]));
            sg += gi;
            sgx += gi * (R.ToD(S.Load(x[i])) - mu) * rs;
        }
        sg = RowKernels.GroupSum<double, F64>(sh, sg);
        sgx = RowKernels.GroupSum<double, F64>(sh, sgx);
        if (t == 0)
        {
            if ((flags & 4) != 0) gw[c] = R.FromD(sgx);
            if ((flags & 8) != 0) gb[c] = R.FromD(sg);
        }
        if ((flags & 2) == 0) return;
        T muT = R.FromD(mu), rsT = R.FromD(rs), a = R.FromD(sg / m), k = R.FromD(sgx / m);
        T scale = R.Mul((flags & 1) != 0 ? w[c] : R.FromD(1.0), rsT);
        for (long e = t; e < m; e += g)
        {
            long i = At(e, hw, chw, cb);
            T xh = R.Mul(R.Sub(S.Load(x[i]), muT), rsT);
            gx[i] = S.Store(R.Mul(scale, R.Sub(R.Sub(S.Load(grad[i]), a), R.Mul(xh, k))));
        }
    }
}
