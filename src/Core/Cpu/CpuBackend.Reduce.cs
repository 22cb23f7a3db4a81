using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace Ember.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// x may have any strides; unit-stride rows go straight to TensorPrimitives, other rows are gathered
    /// into a pooled buffer first. values may have another dtype than x (Sum/Prod of integers → Int64,
    /// All/Any → Bool). Rows are split over <see cref="CpuThreads.Count"/> threads when the work is large.
    /// </remarks>
    public void Reduce(ReduceOp op, Tensor x, Tensor values, Tensor? indices)
    {
        if (ReducedPrecision.AnySmallInteger(x)) { ReducedPrecision.ViaInt64(this, [x], [values, indices], (i, o) => Reduce(op, i[0]!, o[0]!, o[1])); return; }
        // Float16/BFloat16 accumulate in float32 (as PyTorch) and round the result once.
        if (ReducedPrecision.Any(x, values))
        {
            ReducedPrecision.ViaFloat32(this, [x], [values, indices], (i, o) => Reduce(op, i[0]!, o[0]!, o[1]));
            return;
        }
        switch (x.DType)
        {
            case DType.Float32: ReduceFloat<float>(op, x, values, indices); break;
            case DType.Float64: ReduceFloat<double>(op, x, values, indices); break;
            case DType.Int32: ReduceInt<int>(op, x, values, indices); break;
            case DType.Int64: ReduceInt<long>(op, x, values, indices); break;
            case DType.Bool: ReduceBool(op, x, values); break;
            default: throw new NotSupportedException($"CPU Reduce: {op} is not defined for {x.DType} (convert with .To(DType.Int64) first).");
        }
    }

    private delegate void ReduceRow<T>(ReadOnlySpan<T> row, long r);

    // Calls fn(row, r) for every row r of the 2-D view x, rows as contiguous spans.
    private static void ForReduceRows<T>(Tensor x, ReduceRow<T> fn) where T : unmanaged
    {
        long outer = x.shape[0];
        int inner = checked((int)x.shape[1]);
        long so = x.strides[0], si = x.strides[1];
        var xd = Data<T>(x);
        void Body(long r0, long r1)
        {
            T[]? buf = si == 1 || inner == 0 ? null : ArrayPool<T>.Shared.Rent(inner);
            for (long r = r0; r < r1; r++)
            {
                long off = x.offset + r * so;
                ReadOnlySpan<T> row = inner == 0 ? default : buf == null ? xd.AsSpan((int)off, inner) : Gather(xd, off, si, buf, inner);
                fn(row, r);
            }
            if (buf != null) ArrayPool<T>.Shared.Return(buf);
        }
        if (outer < 2 || outer * inner < 32768) { Body(0, outer); return; }
        CpuParallel.For(outer, inner, (r0, n) => Body(r0, r0 + n));
    }

    // Writes one reduced value at row r of the 1-D (possibly strided) output, converting to its dtype.
    private static void PutValue(Tensor v, long r, double d, long l, bool exactLong)
    {
        long i = v.offset + r * (v.Dim == 0 ? 0 : v.strides[0]);
        switch (v.DType)
        {
            case DType.Float32: Data<float>(v)[i] = (float)d; break;
            case DType.Float64: Data<double>(v)[i] = d; break;
            case DType.Int32: Data<int>(v)[i] = exactLong ? (int)l : (int)d; break;
            case DType.Int64: Data<long>(v)[i] = exactLong ? l : (long)d; break;
            default: Data<bool>(v)[i] = exactLong ? l != 0 : d != 0; break;
        }
    }

    private static void PutIndex(Tensor? indices, long r, long index)
    {
        if (indices is null) return;
        Data<long>(indices)[indices.offset + r * (indices.Dim == 0 ? 0 : indices.strides[0])] = index;
    }

    // A whole-tensor float sum of at least this many contiguous elements is split into blocks of SumBlock, summed in
    // parallel. Smaller sums, and reductions with several output rows (parallel over the rows), stay as they were.
    private const int ParallelSumMin = 1 << 18, SumBlock = 1 << 16;

    private static void ReduceFloat<T>(ReduceOp op, Tensor x, Tensor values, Tensor? indices)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (op == ReduceOp.Sum && x.shape[0] == 1 && x.strides[1] == 1 && x.shape[1] >= ParallelSumMin)
        {
            // Fixed blocks (not one per thread): each block's sum in T, the block sums added in double in block order,
            // so the result does not depend on the thread count.
            T[] d = Data<T>(x);
            int length = checked((int)x.shape[1]), start = checked((int)x.offset);
            var partial = new double[(length + SumBlock - 1) / SumBlock];
            CpuParallel.For(partial.Length, SumBlock, (b0, n) =>
            {
                for (long b = b0; b < b0 + n; b++)
                {
                    int first = (int)b * SumBlock;
                    partial[b] = double.CreateTruncating(TensorPrimitives.Sum<T>(d.AsSpan(start + first, Math.Min(SumBlock, length - first))));
                }
            });
            double total = 0;
            foreach (double p in partial) total += p;
            PutValue(values, 0, total, 0, false);
            return;
        }
        // A sum over leading dims (contiguous outputs, strided terms): column sums of rows, not strided gathers per output.
        if (op == ReduceOp.Sum && CpuFused.StridedSum(x, values))
            return;
        ForReduceRows<T>(x, (row, r) =>
        {
            switch (op)
            {
                case ReduceOp.Sum:
                    PutValue(values, r, row.IsEmpty ? 0 : double.CreateTruncating(TensorPrimitives.Sum(row)), 0, false);
                    break;
                case ReduceOp.Prod:
                    PutValue(values, r, row.IsEmpty ? 1 : double.CreateTruncating(TensorPrimitives.Product(row)), 0, false);
                    break;
                case ReduceOp.Max:
                    // TensorPrimitives.Max propagates NaN and IndexOfMax returns the first NaN, as PyTorch does.
                    PutValue(values, r, double.CreateTruncating(TensorPrimitives.Max(row)), 0, false);
                    PutIndex(indices, r, indices is null ? 0 : TensorPrimitives.IndexOfMax(row));
                    break;
                case ReduceOp.Min:
                    PutValue(values, r, double.CreateTruncating(TensorPrimitives.Min(row)), 0, false);
                    PutIndex(indices, r, indices is null ? 0 : TensorPrimitives.IndexOfMin(row));
                    break;
                case ReduceOp.LogSumExp:
                    PutValue(values, r, double.CreateTruncating(LogSumExpRow(row)), 0, false);
                    break;
                case ReduceOp.All:
                    {
                        bool all = true;
                        foreach (var v in row) if (v == T.Zero) { all = false; break; }
                        PutValue(values, r, 0, all ? 1 : 0, true);
                        break;
                    }
                case ReduceOp.Any:
                    {
                        bool any = false;
                        foreach (var v in row) if (v != T.Zero) { any = true; break; } // NaN counts as non-zero
                        PutValue(values, r, 0, any ? 1 : 0, true);
                        break;
                    }
                default: throw new NotSupportedException($"CPU Reduce: {op} is not defined for {typeof(T).Name}.");
            }
        });
    }

    // ln Σ eˣ = m + ln Σ e^(x − m) with m = max x; an all −∞ row gives −∞, a +∞ gives +∞.
    private static T LogSumExpRow<T>(ReadOnlySpan<T> row) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (row.IsEmpty) return T.NegativeInfinity;
        T m = TensorPrimitives.Max(row);
        if (T.IsNaN(m) || T.IsInfinity(m)) return m;
        var buf = ArrayPool<T>.Shared.Rent(row.Length);
        var s = buf.AsSpan(0, row.Length);
        TensorPrimitives.Subtract(row, m, s);
        TensorPrimitives.Exp(s, s);
        T sum = TensorPrimitives.Sum<T>(s);
        ArrayPool<T>.Shared.Return(buf);
        return m + T.Log(sum);
    }

    private static void ReduceInt<T>(ReduceOp op, Tensor x, Tensor values, Tensor? indices)
        where T : unmanaged, IBinaryInteger<T>
    {
        ForReduceRows<T>(x, (row, r) =>
        {
            switch (op)
            {
                case ReduceOp.Sum:
                    {
                        long s = 0;
                        foreach (var v in row) s += long.CreateTruncating(v);
                        PutValue(values, r, s, s, true);
                        break;
                    }
                case ReduceOp.Prod:
                    {
                        long p = 1;
                        foreach (var v in row) p = unchecked(p * long.CreateTruncating(v));
                        PutValue(values, r, p, p, true);
                        break;
                    }
                case ReduceOp.Max:
                case ReduceOp.Min:
                    {
                        int best = 0;
                        for (int i = 1; i < row.Length; i++)
                            if (op == ReduceOp.Max ? row[i] > row[best] : row[i] < row[best]) best = i;
                        long v = long.CreateTruncating(row[best]);
                        PutValue(values, r, v, v, true);
                        PutIndex(indices, r, best);
                        break;
                    }
                case ReduceOp.All:
                    PutValue(values, r, 0, row.IndexOf(T.Zero) < 0 ? 1 : 0, true);
                    break;
                case ReduceOp.Any:
                    PutValue(values, r, 0, row.IndexOfAnyExcept(T.Zero) >= 0 ? 1 : 0, true);
                    break;
                default: throw new NotSupportedException($"CPU Reduce: {op} is not defined for {typeof(T).Name}.");
            }
        });
    }

    private static void ReduceBool(ReduceOp op, Tensor x, Tensor values)
    {
        ForReduceRows<bool>(x, (row, r) =>
        {
            switch (op)
            {
                case ReduceOp.All: PutValue(values, r, 0, row.IndexOf(false) < 0 ? 1 : 0, true); break;
                case ReduceOp.Any: PutValue(values, r, 0, row.IndexOf(true) >= 0 ? 1 : 0, true); break;
                case ReduceOp.Sum:
                    {
                        long s = 0;
                        foreach (var v in row) if (v) s++;
                        PutValue(values, r, s, s, true);
                        break;
                    }
                default: throw new NotSupportedException($"CPU Reduce: {op} is not defined for Bool.");
            }
        });
    }
}
