using ILGPU;
using ILGPU.Algorithms;

namespace Ember.Ilgpu.Ops;

/// <summary>Geometry of a split or column-wise row reduction, passed by value.</summary>
internal struct ReduceParams
{
    /// <summary>Elements per row.</summary>
    public long Inner;
    /// <summary>Stride between rows of x, stride between elements of a row of x, element offset of x.</summary>
    public long RowStride, ElementStride, InputOffset;
    /// <summary>Elements of a row each group reduces (split kernel).</summary>
    public long Chunk;
    /// <summary>Stride and offset of values.</summary>
    public long ValueStride, ValueOffset;
    /// <summary>Stride and offset of indices.</summary>
    public long IndexStride, IndexOffset;
    /// <summary>Groups per row (split kernel).</summary>
    public int Parts;
    /// <summary>The reduction: Sum, Prod, Max, Min or LogSumExp (the host rejects every other op).</summary>
    public ReduceOp Op;
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
        long b = p.InputOffset + row * p.RowStride;
        ReduceOp op = p.Op;
        T result;
        if (op == ReduceOp.Sum || op == ReduceOp.Prod)
        {
            T acc = R.FromD(op == ReduceOp.Sum ? 0.0 : 1.0);
            for (long j = j0 + t; j < j1; j += g) acc = op == ReduceOp.Sum ? R.Add(acc, x[b + j * p.ElementStride]) : R.Mul(acc, x[b + j * p.ElementStride]);
            sh[t] = acc;
            Group.Barrier();
            for (int s = g / 2; s > 0; s >>= 1)
            {
                if (t < s) sh[t] = op == ReduceOp.Sum ? R.Add(sh[t], sh[t + s]) : R.Mul(sh[t], sh[t + s]);
                Group.Barrier();
            }
            result = sh[0];
        }
        else if (op == ReduceOp.Max || op == ReduceOp.Min)
        {
            int max = op == ReduceOp.Max ? 1 : 0;
            T best = R.FromD(0.0);
            long bi = long.MaxValue;
            for (long j = j0 + t; j < j1; j += g)
            {
                T v = x[b + j * p.ElementStride];
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
            if (t == 0 && p.HasIndex != 0) indices[p.IndexOffset + gid * p.IndexStride] = shi[0];
        }
        else // LogSumExp
        {
            T m = R.NegInf();
            for (long j = j0 + t; j < j1; j += g) m = RowKernels.Max<T, R>(m, x[b + j * p.ElementStride]);
            m = RowKernels.GroupMax<T, R>(sh, m);
            if (R.IsNaN(m) || XMath.IsInfinity(R.ToD(m))) result = m;
            else
            {
                T acc = R.FromD(0.0);
                for (long j = j0 + t; j < j1; j += g) acc = R.Add(acc, R.Exp(R.Sub(x[b + j * p.ElementStride], m)));
                acc = RowKernels.GroupSum<T, R>(sh, acc);
                result = R.Add(m, R.Log(acc));
            }
        }
        if (t == 0) values[p.ValueOffset + gid * p.ValueStride] = result;
    }

    /// <summary>
    /// One thread per (row, part), row = i % rows (coalesced when rows are adjacent in memory, RowStride = 1): Sum, Prod, Max, Min as in
    /// <see cref="Split{T, R}"/> over elements part·Chunk … of the row, into values[VOff + i·Vs]. Max/min use one part.
    /// </summary>
    public static void Column<T, R>(Index1D i, ArrayView<T> x, ArrayView<T> values, ArrayView<long> indices, ReduceParams p, long rows)
        where T : unmanaged where R : struct, IReal<T>
    {
        long part = i / rows, row = i - part * rows;
        long b = p.InputOffset + row * p.RowStride;
        ReduceOp op = p.Op;
        T result;
        if (op == ReduceOp.Sum || op == ReduceOp.Prod)
        {
            long j0 = part * p.Chunk, j1 = j0 + p.Chunk < p.Inner ? j0 + p.Chunk : p.Inner;
            T acc = R.FromD(op == ReduceOp.Sum ? 0.0 : 1.0);
            // Sums: eight reads in flight, added in the same order (StridedSum).
            if (op == ReduceOp.Sum) acc = StridedSum.Add<T, T, R, Plain<T>>(acc, x, b + j0 * p.ElementStride, p.ElementStride, j1 - j0);
            else for (long j = j0; j < j1; j++) acc = R.Mul(acc, x[b + j * p.ElementStride]);
            values[p.ValueOffset + i * p.ValueStride] = acc;
            return;
        }
        else
        {
            int max = op == ReduceOp.Max ? 1 : 0;
            T best = R.FromD(0.0);
            long bi = long.MaxValue;
            for (long j = 0; j < p.Inner; j++)
            {
                T v = x[b + j * p.ElementStride];
                if (RowKernels.Take<T, R>(best, bi, v, j, max)) { best = v; bi = j; }
            }
            result = best;
            if (p.HasIndex != 0) indices[p.IndexOffset + row * p.IndexStride] = bi;
        }
        values[p.ValueOffset + row * p.ValueStride] = result;
    }

    /// <summary>Integer rows (Sum, Prod, Max, Min with the first index) in 64-bit, one thread per row.</summary>
    public static void IntegerRows<T, N>(Index1D row, ArrayView<T> x, ArrayView<T> values, ArrayView<long> indices, ReduceParams p)
        where T : unmanaged where N : struct, INum<T>
    {
        long b = p.InputOffset + row * p.RowStride;
        ReduceOp op = p.Op;
        long acc = op == ReduceOp.Prod ? 1 : 0, bestIndex = 0;
        for (long j = 0; j < p.Inner; j++)
        {
            long v = N.ToL(x[b + j * p.ElementStride]);
            if (op == ReduceOp.Sum) acc += v;
            else if (op == ReduceOp.Prod) acc *= v;
            else if (j == 0 || (op == ReduceOp.Max ? v > acc : v < acc)) { acc = v; bestIndex = j; }
        }
        values[p.ValueOffset + row * p.ValueStride] = N.FromL(acc);
        if (p.HasIndex != 0) indices[p.IndexOffset + row * p.IndexStride] = bestIndex;
    }

    /// <summary>All / Any of rows of any dtype into Bool values, one thread per row.</summary>
    public static void BoolRows<T, N>(Index1D row, ArrayView<T> x, ArrayView<byte> values, ReduceParams p)
        where T : unmanaged where N : struct, INum<T>
    {
        long b = p.InputOffset + row * p.RowStride;
        bool all = p.Op == ReduceOp.All, r = all;
        // No early exit: a loop with a data-dependent break miscompiled on CUDA (All returned true for rows with zeros).
        for (long j = 0; j < p.Inner; j++)
        {
            bool nonZero = N.ToD(x[b + j * p.ElementStride]) != 0.0;
            r = all ? r & nonZero : r | nonZero;
        }
        values[p.ValueOffset + row * p.ValueStride] = r ? (byte)1 : (byte)0;
    }
}
