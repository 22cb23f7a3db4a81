using ILGPU;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// Gather / scatter / index-select / index-add / triangular kernels over strided views (un-coalesced
/// layouts: the indexed dim keeps its position). Negative indices count from the end of the dim.
/// </summary>
internal static class IndexKernels
{
    /// <summary>result[i] = x[i with dim replaced by index[i]]; xs has the dim's stride zeroed.</summary>
    public static void Gather<T>(Index1D i, ArrayView<T> x, ArrayView<long> index, ArrayView<T> r,
        Shape8 sh, Str8 xs, Str8 ixs, Str8 rs, long dimStride, long dimSize) where T : unmanaged
    {
        long v = index[ixs.At(sh, i)];
        if (v < 0) v += dimSize;
        r[rs.At(sh, i)] = x[xs.At(sh, i) + v * dimStride];
    }

    /// <summary>Over the index's shape: target[i with dim replaced by index[i]] = (or +=) source[i].</summary>
    public static void Scatter<T, N>(Index1D i, ArrayView<T> target, ArrayView<long> index, ArrayView<T> src,
        Shape8 sh, Str8 ts, Str8 ixs, Str8 ss, long dimStride, long dimSize, int accumulate) where T : unmanaged where N : struct, INum<T>
    {
        long v = index[ixs.At(sh, i)];
        if (v < 0) v += dimSize;
        long t = ts.At(sh, i) + v * dimStride;
        T s = src[ss.At(sh, i)];
        if (accumulate != 0) N.AtomicAdd(target, t, s);
        else target[t] = s;
    }

    /// <summary>Over the result: result[i] = x[i with dim coordinate c replaced by index[c]]; sel reads index[c].</summary>
    public static void IndexSelect<T>(Index1D i, ArrayView<T> x, ArrayView<long> index, ArrayView<T> r,
        Shape8 sh, Str8 xs, Str8 sel, Str8 rs, long dimStride, long dimSize) where T : unmanaged
    {
        long v = index[sel.At(sh, i)];
        if (v < 0) v += dimSize;
        // An index out of range (IBackend.CheckIndices reports it at the next synchronisation) reads nothing out of bounds.
        r[rs.At(sh, i)] = (ulong)v < (ulong)dimSize ? x[xs.At(sh, i) + v * dimStride] : default;
    }

    /// <summary>Over the source: target[i with dim coordinate c replaced by index[c]] += alpha·source[i] (atomic).</summary>
    public static void IndexAdd<T, N>(Index1D i, ArrayView<T> target, ArrayView<long> index, ArrayView<T> src,
        Shape8 sh, Str8 ts, Str8 sel, Str8 ss, long dimStride, long dimSize, double alpha) where T : unmanaged where N : struct, INum<T>
    {
        long v = index[sel.At(sh, i)];
        if (v < 0) v += dimSize;
        T s = src[ss.At(sh, i)];
        if (alpha != 1.0) s = N.FromD(alpha * N.ToD(s));
        N.AtomicAdd(target, ts.At(sh, i) + v * dimStride, s);
    }

    /// <summary>result = x where (col − row) is on the kept side of the diagonal, else 0.</summary>
    public static void Triangular<T>(Index1D i, ArrayView<T> x, ArrayView<T> r, Shape8 sh, Str8 xs, Str8 rs,
        Str8 rowSel, Str8 colSel, long diagonal, int upper) where T : unmanaged
    {
        long k = colSel.At(sh, i) - rowSel.At(sh, i);
        bool keep = upper != 0 ? k >= diagonal : k <= diagonal;
        r[rs.At(sh, i)] = keep ? x[xs.At(sh, i)] : default;
    }
}

/// <summary>Shape and strides of one batched matrix product c[b] = a[b]·b[b] (+ c[b]).</summary>
internal struct MatMulParams
{
    public long M, N, K;
    public long A0, A1, A2, B0, B1, B2, C0, C1, C2;
    public long AOff, BOff, COff;
}

/// <summary>A shared-memory tiled matrix product over arbitrary strides (tile = group side ≤ 16).</summary>
internal static class MatMulKernels
{
    public static void Tiled<T, R>(ArrayView<T> a, ArrayView<T> b, ArrayView<T> c, MatMulParams p, int accumulate)
        where T : unmanaged where R : struct, IReal<T>
    {
        var ta = SharedMemory.Allocate<T>(256);
        var tb = SharedMemory.Allocate<T>(256);
        int ts = Group.DimX;
        int tx = Group.IdxX, ty = Group.IdxY;
        long col = (long)Grid.IdxX * ts + tx, row = (long)Grid.IdxY * ts + ty, batch = Grid.IdxZ;
        long ab = p.AOff + batch * p.A0, bb = p.BOff + batch * p.B0;
        T zero = R.FromD(0.0);
        T acc = zero;
        for (long k0 = 0; k0 < p.K; k0 += ts)
        {
            long ka = k0 + tx, kb = k0 + ty;
            ta[ty * ts + tx] = row < p.M && ka < p.K ? a[ab + row * p.A1 + ka * p.A2] : zero;
            tb[ty * ts + tx] = kb < p.K && col < p.N ? b[bb + kb * p.B1 + col * p.B2] : zero;
            Group.Barrier();
            for (int kk = 0; kk < ts; kk++) acc = R.Add(acc, R.Mul(ta[ty * ts + kk], tb[kk * ts + tx]));
            Group.Barrier();
        }
        if (row < p.M && col < p.N)
        {
            long ci = p.COff + batch * p.C0 + row * p.C1 + col * p.C2;
            c[ci] = accumulate != 0 ? R.Add(c[ci], acc) : acc;
        }
    }
}
