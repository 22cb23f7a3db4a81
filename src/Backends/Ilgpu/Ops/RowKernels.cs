using ILGPU;
using ILGPU.Algorithms;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// The storage offsets (in elements) of up to eight tensors a kernel reads and writes, passed by value (kernels take
/// whole-buffer views plus these offsets). Which field holds which tensor is fixed per kernel by its host launcher, which
/// fills the fields by name (e.g. cross-entropy: A = x, B = target, C = weight, D = loss or incoming gradient).
/// </summary>
internal struct TensorOffsets
{
    public long A, B, C, D, E, F, G, H;
}

/// <summary>
/// Row kernels: one group per row of a [rows, cols] view, threads striding over the columns, partial
/// results combined by a shared-memory tree (group sizes are powers of two ≤ 256).
/// </summary>
internal static class RowKernels
{
    public const int MaxGroup = 256;

    /// <summary>Sum of <paramref name="v"/> over the group (every thread gets it).</summary>
    public static T GroupSum<T, R>(ArrayView<T> sh, T v) where T : unmanaged where R : struct, IReal<T>
    {
        int t = Group.IdxX;
        sh[t] = v;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s) sh[t] = R.Add(sh[t], sh[t + s]);
            Group.Barrier();
        }
        T r = sh[0];
        Group.Barrier();
        return r;
    }

    /// <summary>NaN-propagating maximum over the group.</summary>
    public static T GroupMax<T, R>(ArrayView<T> sh, T v) where T : unmanaged where R : struct, IReal<T>
    {
        int t = Group.IdxX;
        sh[t] = v;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s) sh[t] = Max<T, R>(sh[t], sh[t + s]);
            Group.Barrier();
        }
        T r = sh[0];
        Group.Barrier();
        return r;
    }

    public static T Max<T, R>(T a, T b) where T : unmanaged where R : struct, IReal<T> =>
        R.IsNaN(a) ? a : R.IsNaN(b) ? b : R.Lt(a, b) ? b : a;

    /// <summary>True when candidate (w, j) beats (v, i) for a max (or min) with first-index ties; NaN beats numbers; index long.MaxValue means empty.</summary>
    public static bool Take<T, R>(T v, long i, T w, long j, int max) where T : unmanaged where R : struct, IReal<T>
    {
        if (j == long.MaxValue) return false;
        if (i == long.MaxValue) return true;
        bool vn = R.IsNaN(v), wn = R.IsNaN(w);
        if (vn || wn) return vn && wn ? j < i : wn;
        if (max != 0 ? R.Lt(v, w) : R.Lt(w, v)) return true;
        return R.Eq(v, w) && j < i;
    }

    /// <summary>Softmax / log-softmax of contiguous rows: x at o.A, y at o.B. Used on OpenCL only (elsewhere: <see cref="WarpRowKernels"/>).</summary>
    public static void Softmax<T, R>(ArrayView<T> x, ArrayView<T> y, long cols, TensorOffsets o, int log)
        where T : unmanaged where R : struct, IReal<T>
    {
        var sh = SharedMemory.Allocate<T>(MaxGroup);
        long row = Grid.IdxX;
        int t = Group.IdxX, g = Group.DimX;
        long xb = o.A + row * cols, yb = o.B + row * cols;
        T m = R.NegInf();
        for (long j = t; j < cols; j += g) m = Max<T, R>(m, x[xb + j]);
        m = GroupMax<T, R>(sh, m);
        T s = R.FromD(0.0);
        for (long j = t; j < cols; j += g) s = R.Add(s, R.Exp(R.Sub(x[xb + j], m)));
        s = GroupSum<T, R>(sh, s);
        if (log != 0)
        {
            T ls = R.Add(m, R.Log(s));
            for (long j = t; j < cols; j += g) y[yb + j] = R.Sub(x[xb + j], ls);
        }
        else
        {
            T inv = R.Div(R.FromD(1.0), s);
            for (long j = t; j < cols; j += g) y[yb + j] = R.Mul(R.Exp(R.Sub(x[xb + j], m)), inv);
        }
    }

    /// <summary>Softmax backward: grad at o.A, output at o.B, result at o.C (contiguous rows). OpenCL only, as <see cref="Softmax{T, R}"/>.</summary>
    public static void SoftmaxBackward<T, R>(ArrayView<T> grad, ArrayView<T> output, ArrayView<T> result, long cols, TensorOffsets o, int log)
        where T : unmanaged where R : struct, IReal<T>
    {
        var sh = SharedMemory.Allocate<T>(MaxGroup);
        long row = Grid.IdxX;
        int t = Group.IdxX, g = Group.DimX;
        long gb = o.A + row * cols, ob = o.B + row * cols, rb = o.C + row * cols;
        T s = R.FromD(0.0);
        for (long j = t; j < cols; j += g) s = R.Add(s, log != 0 ? grad[gb + j] : R.Mul(grad[gb + j], output[ob + j]));
        s = GroupSum<T, R>(sh, s);
        for (long j = t; j < cols; j += g)
            result[rb + j] = log != 0
                ? R.Sub(grad[gb + j], R.Mul(R.Exp(output[ob + j]), s))
                : R.Mul(output[ob + j], R.Sub(grad[gb + j], s));
    }

    /// <summary>Layer norm of contiguous rows: x o.A, weight o.B, bias o.C, y o.D, mean o.E, rstd o.F.</summary>
    public static void LayerNorm<T, R>(ArrayView<T> x, ArrayView<T> w, ArrayView<T> bias, ArrayView<T> y, ArrayView<T> mean, ArrayView<T> rstd,
        long cols, T eps, TensorOffsets o, int hasW, int hasB) where T : unmanaged where R : struct, IReal<T>
    {
        var sh = SharedMemory.Allocate<T>(MaxGroup);
        long row = Grid.IdxX;
        int t = Group.IdxX, g = Group.DimX;
        long xb = o.A + row * cols, yb = o.D + row * cols;
        T n = R.FromL(cols);
        T s = R.FromD(0.0);
        for (long j = t; j < cols; j += g) s = R.Add(s, x[xb + j]);
        T mu = R.Div(GroupSum<T, R>(sh, s), n);
        T q = R.FromD(0.0);
        for (long j = t; j < cols; j += g) { T d = R.Sub(x[xb + j], mu); q = R.Add(q, R.Mul(d, d)); }
        T var = R.Div(GroupSum<T, R>(sh, q), n);
        T rs = R.Div(R.FromD(1.0), R.Sqrt(R.Add(var, eps)));
        for (long j = t; j < cols; j += g)
        {
            T v = R.Mul(R.Sub(x[xb + j], mu), rs);
            if (hasW != 0) v = R.Mul(v, w[o.B + j]);
            if (hasB != 0) v = R.Add(v, bias[o.C + j]);
            y[yb + j] = v;
        }
        if (t == 0) { mean[o.E + row] = mu; rstd[o.F + row] = rs; }
    }

    /// <summary>gradX of layer norm: grad o.A, x o.B, mean o.C, rstd o.D, weight o.E, gradX o.F.</summary>
    public static void LayerNormBackward<T, R>(ArrayView<T> grad, ArrayView<T> x, ArrayView<T> mean, ArrayView<T> rstd, ArrayView<T> w, ArrayView<T> gx,
        long cols, TensorOffsets o, int hasW) where T : unmanaged where R : struct, IReal<T>
    {
        var sh = SharedMemory.Allocate<T>(MaxGroup);
        long row = Grid.IdxX;
        int t = Group.IdxX, g = Group.DimX;
        long gb = o.A + row * cols, xb = o.B + row * cols, ob = o.F + row * cols;
        T mu = mean[o.C + row], rs = rstd[o.D + row];
        T s1 = R.FromD(0.0), s2 = R.FromD(0.0);
        for (long j = t; j < cols; j += g)
        {
            T gw = hasW != 0 ? R.Mul(grad[gb + j], w[o.E + j]) : grad[gb + j];
            T xh = R.Mul(R.Sub(x[xb + j], mu), rs);
            s1 = R.Add(s1, gw);
            s2 = R.Add(s2, R.Mul(gw, xh));
        }
        T n = R.FromL(cols);
        T m1 = R.Div(GroupSum<T, R>(sh, s1), n);
        T m2 = R.Div(GroupSum<T, R>(sh, s2), n);
        for (long j = t; j < cols; j += g)
        {
            T gw = hasW != 0 ? R.Mul(grad[gb + j], w[o.E + j]) : grad[gb + j];
            T xh = R.Mul(R.Sub(x[xb + j], mu), rs);
            gx[ob + j] = R.Mul(rs, R.Sub(R.Sub(gw, m1), R.Mul(xh, m2)));
        }
    }

    /// <summary>
    /// Partial sums of the layer-norm parameter gradients: thread part·cols + c sums rows part·chunk.. of column c,
    /// Σ g·x̂ into part[part·cols + c] and Σ g into part[(parts + part)·cols + c]. grad o.A, x o.B, mean o.C, rstd o.D.
    /// </summary>
    public static void LayerNormParamsPartial<T, R>(Index1D i, ArrayView<T> grad, ArrayView<T> x, ArrayView<T> mean, ArrayView<T> rstd,
        ArrayView<T> part, long rows, long cols, long chunk, TensorOffsets o) where T : unmanaged where R : struct, IReal<T>
    {
        long pi = i / cols, c = i - pi * cols, parts = (rows + chunk - 1) / chunk;
        if (parts < 1) parts = 1;
        long r0 = pi * chunk, r1 = r0 + chunk < rows ? r0 + chunk : rows;
        T sw = R.FromD(0.0), sb = R.FromD(0.0);
        long r = r0;
        // Four rows per step, every load issued before the first use: one memory latency per four rows instead of one
        // per row (ILGPU does not unroll loops, and each iteration's adds wait for its loads).
        for (; r + 4 <= r1; r += 4)
        {
            long a = o.A + r * cols + c, b = o.B + r * cols + c;
            T g0 = grad[a], g1 = grad[a + cols], g2 = grad[a + 2 * cols], g3 = grad[a + 3 * cols];
            T x0 = x[b], x1 = x[b + cols], x2 = x[b + 2 * cols], x3 = x[b + 3 * cols];
            T m0 = mean[o.C + r], m1 = mean[o.C + r + 1], m2 = mean[o.C + r + 2], m3 = mean[o.C + r + 3];
            T s0 = rstd[o.D + r], s1 = rstd[o.D + r + 1], s2 = rstd[o.D + r + 2], s3 = rstd[o.D + r + 3];
            sb = R.Add(R.Add(sb, R.Add(g0, g1)), R.Add(g2, g3));
            T h01 = R.Add(R.Mul(g0, R.Mul(R.Sub(x0, m0), s0)), R.Mul(g1, R.Mul(R.Sub(x1, m1), s1)));
            T h23 = R.Add(R.Mul(g2, R.Mul(R.Sub(x2, m2), s2)), R.Mul(g3, R.Mul(R.Sub(x3, m3), s3)));
            sw = R.Add(sw, R.Add(h01, h23));
        }
        for (; r < r1; r++)
        {
            T gv = grad[o.A + r * cols + c];
            sb = R.Add(sb, gv);
            sw = R.Add(sw, R.Mul(gv, R.Mul(R.Sub(x[o.B + r * cols + c], mean[o.C + r]), rstd[o.D + r])));
        }
        part[pi * cols + c] = sw;
        part[(parts + pi) * cols + c] = sb;
    }

    /// <summary>gradWeight[c] (o.E) and gradBias[c] (o.F) from the <paramref name="parts"/> partial sums of <see cref="LayerNormParamsPartial"/>.</summary>
    public static void LayerNormParamsFinish<T, R>(Index1D c, ArrayView<T> part, ArrayView<T> gw, ArrayView<T> gb,
        long parts, long cols, TensorOffsets o, int hasGW, int hasGB) where T : unmanaged where R : struct, IReal<T>
    {
        T sw = R.FromD(0.0), sb = R.FromD(0.0);
        for (long p = 0; p < parts; p++)
        {
            sw = R.Add(sw, part[p * cols + c]);
            sb = R.Add(sb, part[(parts + p) * cols + c]);
        }
        if (hasGW != 0) gw[o.E + c] = sw;
        if (hasGB != 0) gb[o.F + c] = sb;
    }
}
