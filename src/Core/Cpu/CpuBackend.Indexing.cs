using System.Numerics;
using System.Numerics.Tensors;

namespace Ember.Cpu;

public sealed partial class CpuBackend
{
    // The indexing kernels walk one iteration shape with an odometer that keeps every operand's element
    // offset up to date (one add per step in the common case). Core has bounds-checked the indices.

    /// <summary>Walks all coordinates of a shape, tracking element offsets of several operands.</summary>
    private struct Odometer
    {
        private readonly long[] shape;
        private readonly long[][] strides;
        public readonly long[] Coord;
        public readonly long[] Offset;

        public Odometer(long[] shape, long[][] strides, long[] offsets)
        {
            this.shape = shape; this.strides = strides;
            Coord = new long[shape.Length];
            Offset = (long[])offsets.Clone();
        }

        /// <summary>Moves to the next coordinate (row-major).</summary>
        public void Next()
        {
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                if (++Coord[d] < shape[d])
                {
                    for (int j = 0; j < Offset.Length; j++) Offset[j] += strides[j][d];
                    return;
                }
                for (int j = 0; j < Offset.Length; j++) Offset[j] -= strides[j][d] * (shape[d] - 1);
                Coord[d] = 0;
            }
        }
    }

    /// <summary>Strides of t with the stride of <paramref name="dim"/> zeroed (the index supplies that coordinate).</summary>
    private static long[] WithoutDim(Tensor t, int dim)
    {
        var s = (long[])t.strides.Clone();
        s[dim] = 0;
        return s;
    }

    /// <inheritdoc/>
    public void Gather(Tensor x, int dim, Tensor index, Tensor result)
        => DTypeDispatch.Visit(x.DType, new GatherRows(x, dim, index, result));

    private readonly struct GatherRows(Tensor x, int dim, Tensor index, Tensor result) : IDTypeVisitor
    {
        public void Visit<T>() where T : unmanaged => GatherTyped<T>(x, dim, index, result);
    }

    private static void GatherTyped<T>(Tensor x, int dim, Tensor index, Tensor result) where T : unmanaged
    {
        var xd = Data<T>(x); var id = Data<long>(index); var rd = Data<T>(result);
        long n = index.Numel;
        if (n == 0) return;
        long xs = x.strides[dim];
        var od = new Odometer(index.shape, [index.strides, result.strides, WithoutDim(x, dim)], [index.offset, result.offset, x.offset]);
        for (long e = 0; e < n; e++, od.Next())
            rd[od.Offset[1]] = xd[od.Offset[2] + id[od.Offset[0]] * xs];
    }

    /// <inheritdoc/>
    public void Scatter(Tensor target, int dim, Tensor index, Tensor source, bool accumulate)
    {
        if (ReducedPrecision.AnySmallInteger(target)) { ReducedPrecision.ViaInt64(this, [index, source], [target], (i, o) => Scatter(o[0]!, dim, i[0]!, i[1]!, accumulate)); return; }
        if (ReducedPrecision.Any(target))
        {
            ReducedPrecision.ViaFloat32(this, [index, source], [target], (i, o) => Scatter(o[0]!, dim, i[0]!, i[1]!, accumulate));
            return;
        }
        switch (target.DType)
        {
            case DType.Float32: ScatterTyped<float>(target, dim, index, source, accumulate, (p, q) => p + q); break;
            case DType.Float64: ScatterTyped<double>(target, dim, index, source, accumulate, (p, q) => p + q); break;
            case DType.Int32: ScatterTyped<int>(target, dim, index, source, accumulate, (p, q) => p + q); break;
            case DType.Int64: ScatterTyped<long>(target, dim, index, source, accumulate, (p, q) => p + q); break;
            case DType.Bool: ScatterTyped<bool>(target, dim, index, source, accumulate, (p, q) => p | q); break;
            default: throw new NotSupportedException($"CPU Scatter: {target.DType} targets are not supported (convert with .To(DType.Int64) first).");
        }
    }

    private static void ScatterTyped<T>(Tensor target, int dim, Tensor index, Tensor source, bool accumulate, Func<T, T, T> add)
        where T : unmanaged
    {
        var td = Data<T>(target); var id = Data<long>(index); var sd = Data<T>(source);
        long n = index.Numel;
        if (n == 0) return;
        long ts = target.strides[dim];
        var od = new Odometer(index.shape, [index.strides, source.strides, WithoutDim(target, dim)], [index.offset, source.offset, target.offset]);
        for (long e = 0; e < n; e++, od.Next())
        {
            long t = od.Offset[2] + id[od.Offset[0]] * ts;
            td[t] = accumulate ? add(td[t], sd[od.Offset[1]]) : sd[od.Offset[1]];
        }
    }

    /// <inheritdoc/>
    public void IndexSelect(Tensor x, int dim, Tensor index, Tensor result)
        => DTypeDispatch.Visit(x.DType, new IndexSelectRows(x, dim, index, result));

    private readonly struct IndexSelectRows(Tensor x, int dim, Tensor index, Tensor result) : IDTypeVisitor
    {
        public void Visit<T>() where T : unmanaged => IndexSelectTyped<T>(x, dim, index, result);
    }

    private static void IndexSelectTyped<T>(Tensor x, int dim, Tensor index, Tensor result) where T : unmanaged
    {
        var xd = Data<T>(x); var id = Data<long>(index); var rd = Data<T>(result);
        long count = index.Numel;
        long istride = index.Dim == 0 ? 0 : index.strides[0];
        if (result.Numel == 0) return;
        // Fast path (embedding lookups): rows of contiguous tensors along dim 0 are copied as blocks.
        if (dim == 0 && x.IsContiguous && result.IsContiguous)
        {
            int row = checked((int)(x.Numel / Math.Max(x.shape[0], 1)));
            long io = index.offset, xo = x.offset, ro = result.offset;
            CpuParallel.For(count, row, (i0, n) =>
            {
                for (long i = i0; i < i0 + n; i++)
                {
                    long src = xo + id[io + i * istride] * row;
                    xd.AsSpan(checked((int)src), row).CopyTo(rd.AsSpan(checked((int)(ro + i * row)), row));
                }
            });
            return;
        }
        long xs = x.strides[dim];
        var od = new Odometer(result.shape, [result.strides, WithoutDim(x, dim)], [result.offset, x.offset]);
        long n = result.Numel;
        for (long e = 0; e < n; e++, od.Next())
            rd[od.Offset[0]] = xd[od.Offset[1] + id[index.offset + od.Coord[dim] * istride] * xs];
    }

    /// <inheritdoc/>
    public void IndexAdd(Tensor target, int dim, Tensor index, Tensor source, double alpha)
    {
        if (ReducedPrecision.AnySmallInteger(target)) { ReducedPrecision.ViaInt64(this, [index, source], [target], (i, o) => IndexAdd(o[0]!, dim, i[0]!, i[1]!, alpha)); return; }
        if (ReducedPrecision.Any(target))
        {
            ReducedPrecision.ViaFloat32(this, [index, source], [target], (i, o) => IndexAdd(o[0]!, dim, i[0]!, i[1]!, alpha));
            return;
        }
        if (dim == 0 && target.IsContiguous && source.IsContiguous && index.DType == DType.Int64 && index.Numel > 0)
        {
            if (target.DType == DType.Float32) { IndexAddRows(target, index, source, (float)alpha); return; }
            if (target.DType == DType.Float64) { IndexAddRows(target, index, source, alpha); return; }
        }
        switch (target.DType)
        {
            case DType.Float32: IndexAddTyped<float>(target, dim, index, source, (p, q) => p + (float)alpha * q); break;
            case DType.Float64: IndexAddTyped<double>(target, dim, index, source, (p, q) => p + alpha * q); break;
            case DType.Int32: IndexAddTyped<int>(target, dim, index, source, (p, q) => p + (int)alpha * q); break;
            case DType.Int64: IndexAddTyped<long>(target, dim, index, source, (p, q) => p + (long)alpha * q); break;
            case DType.Bool: IndexAddTyped<bool>(target, dim, index, source, (p, q) => p | q); break;
            default: throw new NotSupportedException($"CPU IndexAdd: {target.DType} targets are not supported (convert with .To(DType.Int64) first).");
        }
    }

    private static void IndexAddTyped<T>(Tensor target, int dim, Tensor index, Tensor source, Func<T, T, T> addScaled)
        where T : unmanaged
    {
        var td = Data<T>(target); var id = Data<long>(index); var sd = Data<T>(source);
        long n = source.Numel;
        if (n == 0) return;
        long ts = target.strides[dim];
        long istride = index.Dim == 0 ? 0 : index.strides[0];
        var od = new Odometer(source.shape, [source.strides, WithoutDim(target, dim)], [source.offset, target.offset]);
        for (long e = 0; e < n; e++, od.Next())
        {
            long t = od.Offset[1] + id[index.offset + od.Coord[dim] * istride] * ts;
            td[t] = addScaled(td[t], sd[od.Offset[0]]);
        }
    }

    // index_add along dim 0 of contiguous float tensors (the embedding backward): target[index[i], :] += alpha·source[i, :],
    // rounded as the generic path (a product, then a sum). Threads own disjoint column blocks and walk every i in order, so
    // each element sums in the serial order (repeated indices accumulate as on one thread). The blocks are 64-byte cache
    // lines of the target's rows where every row starts at the same offset in a line (the row's bytes a multiple of 64):
    // an array's data is only 16-byte aligned, so blocks counted from the row start split lines between two threads,
    // which then fought over that line on every row. Otherwise blocks of 256 bytes make such shared lines rare.
    private static unsafe void IndexAddRows<T>(Tensor target, Tensor index, Tensor source, T alpha)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] td = Data<T>(target), sd = Data<T>(source);
        long[] id = Data<long>(index);
        long rows = index.Numel, istride = index.Dim == 0 ? 0 : index.strides[0], io = index.offset;
        int width = (int)(source.Numel / rows);
        long to = target.offset, so = source.offset;
        int size = sizeof(T), line = 64 / size;
        int block = width * size % 64 == 0 ? line : 4 * line;
        // Elements from a row's start to its first line boundary (0 when rows are not line-periodic: blocks from the start).
        int lead = 0;
        if (block == line)
        {
            fixed (T* p = td)
                lead = (int)((64 - ((long)(p + to) & 63)) % 64 / size);
            lead = Math.Min(lead, width);
        }
        long blocks = (lead > 0 ? 1 : 0) + (width - lead + block - 1) / block;
        int Start(long b) => b == 0 ? 0 : (int)Math.Min(width, lead > 0 ? lead + (b - 1) * block : b * block);
        CpuParallel.For(blocks, rows * block, (b0, count) =>
        {
            int c0 = Start(b0), c1 = Start(b0 + count);   // Start(blocks) is width
            for (long i = 0; i < rows; i++)
            {
                var dst = td.AsSpan((int)(to + id[io + i * istride] * width + c0), c1 - c0);
                var src = sd.AsSpan((int)(so + i * width + c0), c1 - c0);
                if (alpha == T.One) TensorPrimitives.Add(dst, src, dst);
                else TensorPrimitives.MultiplyAdd(src, alpha, dst, dst);
            }
        });
    }

    /// <inheritdoc/>
    public void Triangular(Tensor x, Tensor result, long diagonal, bool upper)
        => DTypeDispatch.Visit(x.DType, new TriangularRows(x, result, diagonal, upper));

    private readonly struct TriangularRows(Tensor x, Tensor result, long diagonal, bool upper) : IDTypeVisitor
    {
        public void Visit<T>() where T : unmanaged => TriangularTyped<T>(x, result, diagonal, upper);
    }

    private static void TriangularTyped<T>(Tensor x, Tensor result, long diagonal, bool upper) where T : unmanaged
    {
        var xd = Data<T>(x); var rd = Data<T>(result);
        long n = result.Numel;
        if (n == 0) return;
        int r = result.Dim;
        var od = new Odometer(result.shape, [x.strides, result.strides], [x.offset, result.offset]);
        for (long e = 0; e < n; e++, od.Next())
        {
            long d = od.Coord[r - 1] - od.Coord[r - 2];
            bool keep = upper ? d >= diagonal : d <= diagonal;
            rd[od.Offset[1]] = keep ? xd[od.Offset[0]] : default;
        }
    }
}
