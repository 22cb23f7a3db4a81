using ILGPU;
using ILGPU.Runtime;
using Ember.Ilgpu.Ops;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    /// <exception cref="NotSupportedException">The op is not defined for the dtype (LogSumExp of integers), or is unknown.</exception>
    public void Reduce(ReduceOp op, Tensor x, Tensor values, Tensor? indices)
    {
        if (ReducedPrecision.AnySmallInteger(x)) { ReducedPrecision.ViaInt64(this, [x], [values, indices], (i, o) => Reduce(op, i[0]!, o[0]!, o[1])); return; }
        // Float16/BFloat16 accumulate in float32 (as PyTorch) and round the result once.
        if (ReducedPrecision.Any(x, values)) { ReducedPrecision.ViaFloat32(this, [x], [values, indices], (i, o) => Reduce(op, i[0]!, o[0]!, o[1])); return; }
        long outer = x.ShapeSpan[0], inner = x.ShapeSpan[1];
        if (outer == 0) return;
        // Sum and Prod of Int32 give Int64 (PyTorch's promotion), and the integer kernel reads and writes one element
        // type: widen the input first, else only the low half of each Int64 result would be written.
        if (x.DType != values.DType && op is ReduceOp.Sum or ReduceOp.Prod && x.DType.IsInteger() && values.DType == DType.Int64)
            x = x.To(DType.Int64);
        var p = new ReduceParams
        {
            Inner = inner, RowStride = x.StridesSpan[0], ElementStride = x.StridesSpan[1], InputOffset = x.StorageOffset,
            ValueStride = values.Dim > 0 ? values.StridesSpan[0] : 0, ValueOffset = values.StorageOffset,
            IndexStride = indices is { Dim: > 0 } ? indices.StridesSpan[0] : 0, IndexOffset = indices?.StorageOffset ?? 0,
            Op = op, HasIndex = indices is null ? 0 : 1, Parts = 1, Chunk = inner,
        };
        var device = Dev(values);
        var launch = new ReduceLauncher(device, x, values, indices ?? Dummy(device), p, outer);
        // Every op by name: a ReduceOp added later fails here instead of running another reduction.
        switch (op)
        {
            case ReduceOp.All or ReduceOp.Any:
                DeviceElement.Visit(x.DType, launch.AsBoolRows());
                break;
            case ReduceOp.Sum or ReduceOp.Prod or ReduceOp.Max or ReduceOp.Min when x.DType is DType.Int32 or DType.Int64:
                DeviceElement.Visit(x.DType, launch.AsIntegerRows());
                break;
            case ReduceOp.Sum or ReduceOp.Prod or ReduceOp.Max or ReduceOp.Min or ReduceOp.LogSumExp:
                // A constant name per op: an interpolated one was a string allocated on every reduction.
                DeviceElement.VisitReal(x.DType, op switch
                {
                    ReduceOp.Sum => "Reduce Sum", ReduceOp.Prod => "Reduce Prod", ReduceOp.Max => "Reduce Max",
                    ReduceOp.Min => "Reduce Min", _ => "Reduce LogSumExp",
                }, launch);
                break;
            default: throw new NotSupportedException($"ILGPU backend: Reduce has no kernel for {op}.");
        }
    }

    /// <summary>Launches the reduction kernel that fits the op, dtype and geometry.</summary>
    private readonly struct ReduceLauncher(IlgpuDevice device, Tensor x, Tensor values, Tensor indices, ReduceParams p, long outer)
        : IDeviceRealVisitor
    {
        private readonly IlgpuDevice device = device;
        private readonly Tensor x = x, values = values, indices = indices;
        private readonly ReduceParams p = p;
        private readonly long outer = outer;

        public BoolRows AsBoolRows() => new(this);
        public IntegerRows AsIntegerRows() => new(this);

        /// <summary>All / Any of any dtype: one thread per row.</summary>
        public readonly struct BoolRows(ReduceLauncher r) : IDeviceElementVisitor
        {
            public void Visit<T, N>() where T : unmanaged where N : struct, INum<T> =>
                LoadKernel<ArrayView<T>, ArrayView<byte>, ReduceParams>(r.device, ReduceKernels.BoolRows<T, N>)(
                    Count(r.outer), ViewOf<T>(r.x), ViewOf<byte>(r.values), r.p);
        }

        /// <summary>Integer Sum / Prod / Max / Min in 64-bit: one thread per row.</summary>
        public readonly struct IntegerRows(ReduceLauncher r) : IDeviceElementVisitor
        {
            public void Visit<T, N>() where T : unmanaged where N : struct, INum<T> =>
                LoadKernel<ArrayView<T>, ArrayView<T>, ArrayView<long>, ReduceParams>(r.device, ReduceKernels.IntegerRows<T, N>)(
                    Count(r.outer), ViewOf<T>(r.x), ViewOf<T>(r.values), ViewOf<long>(r.indices), r.p);
        }

        /// <summary>Floating-point reductions: column, split or one-group-per-row kernels by geometry.</summary>
        public void Visit<T, R>() where T : unmanaged where R : struct, IReal<T>
        {
            var d = device;
            var idx = ViewOf<long>(indices);
            bool sumOrProd = p.Op is ReduceOp.Sum or ReduceOp.Prod, maxOrMin = p.Op is ReduceOp.Max or ReduceOp.Min;
            if (p.RowStride == 1 && p.ElementStride != 1 && outer >= ColumnMinRows && (sumOrProd || (maxOrMin && p.Inner <= 256)))
            {
                // Rows adjacent in memory with a strided inner dim (a sum over a leading dim): threads of a warp read
                // adjacent rows. Sums and products of long rows split the row into parts (partials [parts, outer]),
                // then reduce the partials the same way, so there are enough threads to fill the device.
                var column = LoadKernel<ArrayView<T>, ArrayView<T>, ArrayView<long>, ReduceParams, long>(d, ReduceKernels.Column<T, R>);
                long parts = sumOrProd ? Math.Min(Math.Max(1, (p.Inner + 15) / 16), Math.Max(1, (32768 + outer - 1) / outer)) : 1;
                if (parts == 1) { column(Count(outer), ViewOf<T>(x), ViewOf<T>(values), idx, p, outer); return; }
                long chunk = (p.Inner + parts - 1) / parts;
                parts = (p.Inner + chunk - 1) / chunk;
                var partials = Tensor.Empty([parts * outer], x.DType, x.Device);
                column(Count(parts * outer), ViewOf<T>(x), ViewOf<T>(partials), idx, p with { Chunk = chunk, ValueStride = 1, ValueOffset = partials.StorageOffset }, outer);
                column(Count(outer), ViewOf<T>(partials), ViewOf<T>(values), idx,
                    p with { Inner = parts, Chunk = parts, RowStride = 1, ElementStride = outer, InputOffset = partials.StorageOffset }, outer);
                return;
            }
            var split = LoadGroupedKernel<ArrayView<T>, ArrayView<long>, ArrayView<T>, ArrayView<long>, ReduceParams>(d, ReduceKernels.Split<T, R>);
            if (outer < SplitMaxRows && p.Inner >= SplitMinInner)
            {
                // Few long rows (a whole-tensor sum, a per-channel batch-norm sum): several groups per row write
                // partial results [outer, parts], then one group per row combines them.
                long parts = Math.Min((p.Inner + SplitChunk - 1) / SplitChunk, Math.Max(2, 1024 / outer));
                long chunk = (p.Inner + parts - 1) / parts;
                parts = (p.Inner + chunk - 1) / chunk;
                var partialValues = Tensor.Empty([outer * parts], x.DType, x.Device);
                var partialIndices = Tensor.Empty([p.HasIndex != 0 ? outer * parts : 1], DType.Int64, x.Device);
                var first = p with
                {
                    Parts = (int)parts, Chunk = chunk, ValueStride = 1, ValueOffset = partialValues.StorageOffset,
                    IndexStride = 1, IndexOffset = partialIndices.StorageOffset,
                };
                split(Rows(d, outer * parts), ViewOf<T>(x), ViewOf<long>(partialIndices), ViewOf<T>(partialValues), ViewOf<long>(partialIndices), first);
                var second = p with
                {
                    Inner = parts, RowStride = parts, ElementStride = 1, InputOffset = partialValues.StorageOffset, Chunk = parts, IndexIn = p.HasIndex,
                };
                split(Rows(d, outer), ViewOf<T>(partialValues), ViewOf<long>(partialIndices), ViewOf<T>(values), idx, second);
                return;
            }
            // One group per row: the split kernel with a single part per row.
            split(Rows(d, outer), ViewOf<T>(x), idx, ViewOf<T>(values), idx, p);
        }
    }

    /// <summary>Rows at least this many, with unit row stride and a strided inner dim, reduce one thread per row.</summary>
    internal const long ColumnMinRows = 128;
    /// <summary>Fewer rows than this, each of at least <see cref="SplitMinInner"/> elements, reduce in two stages.</summary>
    internal const long SplitMaxRows = 128, SplitMinInner = 4096;
    /// <summary>Elements per group (at most) in the first stage of a split reduction.</summary>
    internal const long SplitChunk = 2048;

    /// <summary>Launch configuration of a row kernel: one group per row.</summary>
    internal static KernelConfig Rows(IlgpuDevice d, long rows)
    {
        if (rows > int.MaxValue) throw new NotSupportedException($"ILGPU backend: {rows} rows in one launch; at most {int.MaxValue} are supported.");
        return new KernelConfig(new Index1D((int)rows), new Index1D(RowGroupSize(d)));
    }

    /// <summary>A one-element Int64 placeholder view for kernels whose optional index output is absent.</summary>
    private static Tensor Dummy(IlgpuDevice d) => dummies.GetOrAdd(d.Device, static v =>
    {
        // A cache outlives the call: made untracked, else a Tensor.Scope or the autograd engine's bookkeeping of a backward
        // formula that happened to make it first would dispose it when that formula returns.
        using var _ = TensorScope.Suspend();
        return Tensor.Empty([1], DType.Int64, v);
    });

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Device, Tensor> dummies = new();
}
