using ILGPU;
using static Ember.Ilgpu.Ops.RowKernels;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// Fused cross-entropy row kernels (see <see cref="IBackend.CrossEntropy"/>): one group per row of contiguous logits,
/// threads striding over the classes, sums combined through shared memory.
/// Offsets: x o.A, target o.B, weight o.C, loss/grad o.D, lse o.E, gradX o.F; o.G is the backward's grad stride
/// (0 when a sum's gradient arrives expanded over the rows).
/// </summary>
internal static class CrossEntropyKernels
{
    /// <summary>Per-row loss (times k.Scale) and log-sum-exp; k.Eps = label smoothing.</summary>
    public static void Forward<T, R>(ArrayView<T> x, ArrayView<long> target, ArrayView<T> w, ArrayView<T> loss, ArrayView<T> lse,
        long cols, TensorOffsets o, long ignoreIndex, CrossEntropyScalars<T> k, int hasW) where T : unmanaged where R : struct, IReal<T>
    {
        T eps = k.Eps;
        var sh = SharedMemory.Allocate<T>(MaxGroup);
        long row = Grid.IdxX;
        int tid = Group.IdxX, g = Group.DimX;
        long xb = o.A + row * cols;
        T m = R.NegInf();
        for (long j = tid; j < cols; j += g) m = Max<T, R>(m, x[xb + j]);
        m = GroupMax<T, R>(sh, m);
        T shift = R.IsNaN(m) || R.Eq(m, R.NegInf()) || R.Eq(m, R.Sub(R.FromD(0.0), R.NegInf())) ? R.FromD(0.0) : m;
        T s = R.FromD(0.0), wx = R.FromD(0.0);
        for (long j = tid; j < cols; j += g)
        {
            T v = x[xb + j];
            s = R.Add(s, R.Exp(R.Sub(v, shift)));
            wx = R.Add(wx, hasW != 0 ? R.Mul(w[o.C + j], v) : v);
        }
        s = GroupSum<T, R>(sh, s);
        wx = GroupSum<T, R>(sh, wx);
        T wsum = WeightSum<T, R>(sh, w, cols, o, hasW);
        if (tid != 0) return;
        T l = R.Add(shift, R.Log(s));
        lse[o.E + row] = l;
        long t = target[o.B + row];
        if (t == ignoreIndex) { loss[o.D + row] = R.FromD(0.0); return; }
        // A bad class index (reported by the index check at the next synchronisation): NaN, no read out of bounds.
        if (t < 0 || t >= cols) { loss[o.D + row] = R.FromD(double.NaN); return; }
        T wt = hasW != 0 ? w[o.C + t] : R.FromD(1.0);
        T keep = R.Sub(R.FromD(1.0), eps), perClass = R.Div(eps, R.FromL(cols));
        T v0 = R.Mul(R.Mul(keep, wt), R.Sub(l, x[xb + t]));
        loss[o.D + row] = R.Mul(R.Add(v0, R.Mul(perClass, R.Sub(R.Mul(l, wsum), wx))), k.Scale);
    }

    /// <summary>W = Σ_c w[c] (C when unweighted), summed by the group (each row group recomputes it: C reads, no host sync).</summary>
    private static T WeightSum<T, R>(ArrayView<T> sh, ArrayView<T> w, long cols, TensorOffsets o, int hasW) where T : unmanaged where R : struct, IReal<T>
    {
        // The barriers of GroupSum run whether or not there are weights (hasW only picks what is summed): pocl's
        // OpenCL compiler (LLVM 16, on the GPU machine) crashed with SIGSEGV compiling this kernel when an early
        // return for hasW == 0 put the barriers under a branch, killing the whole test process.
        T s = R.FromD(0.0);
        for (long j = Group.IdxX; j < cols; j += Group.DimX) s = R.Add(s, hasW != 0 ? w[o.C + j] : R.FromD(1.0));
        return GroupSum<T, R>(sh, s);
    }

    /// <summary>gradX of one row (g = grad·k.Scale): g·a·e^{x − lse} − g·(ε/C)·w_j − [j = t]·g·(1 − ε)·w[t], a = (1 − ε)·w[t] + (ε/C)·W.</summary>
    public static void Backward<T, R>(ArrayView<T> grad, ArrayView<T> x, ArrayView<long> target, ArrayView<T> w, ArrayView<T> lse,
        ArrayView<T> gradX, long cols, TensorOffsets o, long ignoreIndex, CrossEntropyScalars<T> k, int hasW) where T : unmanaged where R : struct, IReal<T>
    {
        T eps = k.Eps;
        var sh = SharedMemory.Allocate<T>(MaxGroup);
        long row = Grid.IdxX;
        int tid = Group.IdxX, gdim = Group.DimX;
        // Every thread of the group takes part in the sum (barriers), before any may leave for an ignored row.
        T wsum = WeightSum<T, R>(sh, w, cols, o, hasW);
        long xb = o.A + row * cols, rb = o.F + row * cols;
        long t = target[o.B + row];
        if (t == ignoreIndex || t < 0 || t >= cols)
        {
            // Ignored rows get 0; a bad class index (reported by the index check) NaN.
            T fill = t == ignoreIndex ? R.FromD(0.0) : R.FromD(double.NaN);
            for (long j = tid; j < cols; j += gdim) gradX[rb + j] = fill;
            return;
        }
        T g = R.Mul(grad[o.D + row * o.G], k.Scale), l = lse[o.E + row];
        T wt = hasW != 0 ? w[o.C + t] : R.FromD(1.0);
        T keep = R.Sub(R.FromD(1.0), eps), perClass = R.Div(eps, R.FromL(cols));
        T a = R.Mul(g, R.Add(R.Mul(keep, wt), R.Mul(perClass, wsum)));
        T gp = R.Mul(g, perClass), gt = R.Mul(R.Mul(g, keep), wt);
        for (long j = tid; j < cols; j += gdim)
        {
            T v = R.Sub(R.Mul(a, R.Exp(R.Sub(x[xb + j], l))), hasW != 0 ? R.Mul(gp, w[o.C + j]) : gp);
            gradX[rb + j] = j == t ? R.Sub(v, gt) : v;
        }
    }
}

/// <summary>The host scalars of the cross-entropy kernels: label smoothing ε and the scale of every row's loss and gradient.</summary>
internal struct CrossEntropyScalars<T> where T : unmanaged
{
    /// <summary>Label smoothing ε.</summary>
    public T Eps;
    /// <summary><see cref="CrossEntropyArgs.Scale"/>: 1, or 1/(rows not ignored) for the unweighted mean.</summary>
    public T Scale;
}
