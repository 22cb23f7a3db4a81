using ILGPU;
using ILGPU.Algorithms;

namespace Ember.Ilgpu.Ops;

/// <summary>Geometry of a split or column-wise row reduction, passed by value.</summary>
internal struct ReduceParams
{
    /// <summary>Elements per row, row stride and element stride of x; element offset of x.</summary>
    public long Inner, S0, S1, XOff;
    /// <summary>Elements of a row each group reduces (split kernel).</summary>
    public long Chunk;
    /// <summary>Stride and offset of values; stride and offset of indices.</summary>
    public long Vs, VOff, Is, IOff;
    /// <summary>Groups per row (split kernel).</summary>
    public int Parts;
    /// <summary>0 sum, 1 prod, 2 max, 3 min, 4 logsumexp.</summary>
    public int Op;
    /// <summary>1 when indices are written.</summary>
    public int HasIndex;
    /// <summary>1 when candidate positions come from the xIdx view (second stage) instead of the element's position.</summary>
    public int IndexIn;
}

/// <summary>
/// Reductions for shapes the one-group-per-row kernel serves badly: a split kernel (several groups per row
/// write partial results that a second launch of the same kernel combines) for few long rows, and a
/// one-thread-per-row kernel for many short rows whose elements are strided (e.g. a sum over dim 0).
/// </summary>
internal static class ReduceKernels
{
    /// <summary>
    /// Group g reduces elements part·Chunk … of row g / Parts (part = g % Parts) into values[VOff + g·Vs]
    /// (and the position into indices[IOff + g·Is]); with IndexIn the candidates' positions are read from xIdx.
    /// Logsumexp of partial logsumexps is the logsumexp of the row, so the second stage reuses the op.
    /// </summary>
    public static void Split<T, R>(ArrayView<T> x, ArrayView<long> xIdx, ArrayView<T> values, ArrayView<long> indices, ReduceParams p)
        where T : unmanaged where R : struct, IReal<T>
    {
        var sh = SharedMemory.Allocate<T>(RowKernels.MaxGroup);
        var shi = SharedMemory.Allocate<long>(RowKernels.MaxGroup);
        long gid = Grid.IdxX;
        long row = gid / p.Parts, part = gid - row * p.Parts;
        int t = Group.IdxX, g = Group.DimX;
        long j0 = part * p.Chunk, j1 = j0 + p.Chunk < p.Inner ? j0 + p.Chunk : p.Inner;
        long b = p.XOff + row * p.S0;
        int op = p.Op;
        T result;
        if (op == 0 || op == 1)
        {
            T acc = R.FromD(op == 0 ? 0.0 : 1.0);
            for (long j = j0 + t; j < j1; j += g) acc = op == 0 ? R.Add(acc, x[b + j * p.S1]) : R.Mul(acc, x[b + j * p.S1]);
            sh[t] = acc;
            Group.Barrier();
            for (int s = g / 2; s > 0; s >>= 1)
            {
                if (t < s) sh[t] = op == 0 ? R.Add(sh[t], sh[t + s]) : R.Mul(sh[t], sh[t + s]);
                Group.Barrier();
            }
            result = sh[0];
        }
        else if (op == 2 || op == 3)
        {
            int max = op == 2 ? 1 : 0;
            T best = R.FromD(0.0);
            long bi = long.MaxValue;
            for (long j = j0 + t; j < j1; j += g)
            {
                T v = x[b + j * p.S1];
                long pos = p.IndexIn != 0 ? xIdx[row * p.Inner + j] : j;
                if (RowKernels.Take<T, R>(best, bi, v, pos, max)) { best = v; bi = pos; }
            }
            sh[t] = best; shi[t] = bi;
            Group.Barrier();
            for (int s = g / 2; s > 0; s >>= 1)
            {
                if (t < s && RowKernels.Take<T, R>(sh[t], shi[t], sh[t + s], shi[t + s], max)) { sh[t] = sh[t + s]; shi[t] = shi[t + s]; }
                Group.Barrier();
            }
            result = sh[0];
            if (t == 0 && p.HasIndex != 0) indices[p.IOff + gid * p.Is] = shi[0];
        }
        else
        {
            T m = R.NegInf();
            for (long j = j0 + t; j < j1; j += g) m = RowKernels.Max<T, R>(m, x[b + j * p.S1]);
            m = RowKernels.GroupMax<T, R>(sh, m);
            if (R.IsNaN(m) || XMath.IsInfinity(R.ToD(m))) result = m;
            else
            {
                T acc = R.FromD(0.0);
                for (long j = j0 + t; j < j1; j += g) acc = R.Add(acc, R.Exp(R.Sub(x[b + j * p.S1], m)));
                acc = RowKernels.GroupSum<T, R>(sh, acc);
                result = R.Add(m, R.Log(acc));
            }
        }
        if (t == 0) values[p.VOff + gid * p.Vs] = result;
    }

    /// <summary>
    /// One thread per (row, part), row = i % rows (coalesced when rows are adjacent in memory, S0 = 1): ops 0-3 as in
    /// <see cref="Split{T, R}"/> over elements part·Chunk … of the row, into values[VOff + i·Vs]. Max/min use one part.
    /// </summary>
    public static void Column<T, R>(Index1D i, ArrayView<T> x, ArrayView<T> values, ArrayView<long> indices, ReduceParams p, long rows)
        where T : unmanaged where R : struct, IReal<T>
    {
        long part = i / rows, row = i - part * rows;
        long b = p.XOff + row * p.S0;
        int op = p.Op;
        T result;
        if (op == 0 || op == 1)
        {
            long j0 = part * p.Chunk, j1 = j0 + p.Chunk < p.Inner ? j0 + p.Chunk : p.Inner;
            T acc = R.FromD(op == 0 ? 0.0 : 1.0);
            for (long j = j0; j < j1; j++) acc = op == 0 ? R.Add(acc, x[b + j * p.S1]) : R.Mul(acc, x[b + j * p.S1]);
            values[p.VOff + i * p.Vs] = acc;
            return;
        }
        else
        {
            int max = op == 2 ? 1 : 0;
            T best = R.FromD(0.0);
            long bi = long.MaxValue;
            for (long j = 0; j < p.Inner; j++)
            {
                T v = x[b + j * p.S1];
                if (RowKernels.Take<T, R>(best, bi, v, j, max)) { best = v; bi = j; }
            }
            result = best;
            if (p.HasIndex != 0) indices[p.IOff + row * p.Is] = bi;
        }
        values[p.VOff + row * p.Vs] = result;
    }
}
