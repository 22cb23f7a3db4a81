using ILGPU;
using ILGPU.Runtime;
using Ember.Ilgpu.Ops;
using RK = Ember.Ilgpu.Ops.RowKernels;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    public void Reduce(ReduceOp op, Tensor x, Tensor values, Tensor? indices)
    {
        long outer = x.shape[0], inner = x.shape[1];
        if (outer == 0) return;
        var d = Dev(values);
        long s0 = x.strides[0], s1 = x.strides[1], vs = values.Dim > 0 ? values.strides[0] : 0;
        long iss = indices is { Dim: > 0 } ? indices.strides[0] : 0;
        var o = new Offs { A = x.offset, B = values.offset, C = indices?.offset ?? 0 };
        int hasIndex = indices is null ? 0 : 1;
        var idx = V<long>(indices ?? Dummy(d));
        if (op is ReduceOp.All or ReduceOp.Any)
        {
            switch (x.DType)
            {
                case DType.Float32: RB<float, F32>(); break;
                case DType.Float64: RB<double, F64>(); break;
                case DType.Int32: RB<int, I32>(); break;
                case DType.Int64: RB<long, I64>(); break;
                default: RB<byte, B8>(); break;
            }
            return;
        }
        int code = op switch { ReduceOp.Sum => 0, ReduceOp.Prod => 1, ReduceOp.Max => 2, ReduceOp.Min => 3, _ => 4 };
        switch (x.DType)
        {
            case DType.Float32: RF<float, F32>(); break;
            case DType.Float64: RF<double, F64>(); break;
            case DType.Int32: RI<int, I32>(); break;
            case DType.Int64: RI<long, I64>(); break;
            default: throw new NotSupportedException($"ILGPU backend: Reduce {op} is not defined for {x.DType}.");
        }

        void RB<T, N>() where T : unmanaged where N : struct, INum<T> =>
            K<ArrayView<T>, ArrayView<byte>, long, long, long, long, Offs, int>(d, RK.ReduceBool<T, N>)(
                Count(outer), V<T>(x), V<byte>(values), inner, s0, s1, vs, o, (int)op);

        void RI<T, N>() where T : unmanaged where N : struct, INum<T>
        {
            if (code == 4) throw new NotSupportedException($"ILGPU backend: LogSumExp is not defined for {x.DType}.");
            K<ArrayView<T>, ArrayView<T>, ArrayView<long>, long, long, long, long, long, Offs, int, int>(d, RK.ReduceInt<T, N>)(
                Count(outer), V<T>(x), V<T>(values), idx, inner, s0, s1, vs, iss, o, code, hasIndex);
        }

        void RF<T, R>() where T : unmanaged where R : struct, IReal<T>
        {
            var rp = new ReduceParams
            {
                Inner = inner, S0 = s0, S1 = s1, XOff = x.offset, Vs = vs, VOff = values.offset, Is = iss, IOff = indices?.offset ?? 0,
                Op = code, HasIndex = hasIndex, Parts = 1, Chunk = inner,
            };
            if (s0 == 1 && s1 != 1 && outer >= ColumnMinRows && (code is 0 or 1 || (code is 2 or 3 && inner <= 256)))
            {
                // Rows adjacent in memory with a strided inner dim (a sum over a leading dim): threads of a warp read
                // adjacent rows. Sums and products of long rows split the row into parts (partials [parts, outer]),
                // then reduce the partials the same way, so there are enough threads to fill the device.
                var col = K<ArrayView<T>, ArrayView<T>, ArrayView<long>, ReduceParams, long>(d, ReduceKernels.Column<T, R>);
                long parts = code is 0 or 1 ? Math.Min(Math.Max(1, (inner + 15) / 16), Math.Max(1, (32768 + outer - 1) / outer)) : 1;
                if (parts == 1) { col(Count(outer), V<T>(x), V<T>(values), idx, rp, outer); return; }
                long chunk = (inner + parts - 1) / parts;
                parts = (inner + chunk - 1) / chunk;
                var pv = Tensor.Alloc([parts * outer], x.DType, x.Device);
                col(Count(parts * outer), V<T>(x), V<T>(pv), idx, rp with { Chunk = chunk, Vs = 1, VOff = pv.offset }, outer);
                col(Count(outer), V<T>(pv), V<T>(values), idx, rp with { Inner = parts, Chunk = parts, S0 = 1, S1 = outer, XOff = pv.offset }, outer);
                return;
            }
            if (outer < SplitMaxRows && inner >= SplitMinInner)
            {
                // Few long rows (a whole-tensor sum, a per-channel batch-norm sum): several groups per row write
                // partial results [outer, parts], then one group per row combines them.
                long parts = Math.Min((inner + SplitChunk - 1) / SplitChunk, Math.Max(2, 1024 / outer));
                long chunk = (inner + parts - 1) / parts;
                parts = (inner + chunk - 1) / chunk;
                var pv = Tensor.Alloc([outer * parts], x.DType, x.Device);
                var pi = Tensor.Alloc([hasIndex != 0 ? outer * parts : 1], DType.Int64, x.Device);
                var s1p = rp with { Parts = (int)parts, Chunk = chunk, Vs = 1, VOff = pv.offset, Is = 1, IOff = pi.offset };
                var launch = G<ArrayView<T>, ArrayView<long>, ArrayView<T>, ArrayView<long>, ReduceParams>(d, ReduceKernels.Split<T, R>);
                launch(Rows(d, outer * parts), V<T>(x), V<long>(pi), V<T>(pv), V<long>(pi), s1p);
                var s2p = rp with { Inner = parts, S0 = parts, S1 = 1, XOff = pv.offset, Chunk = parts, IndexIn = hasIndex };
                launch(Rows(d, outer), V<T>(pv), V<long>(pi), V<T>(values), idx, s2p);
                return;
            }
            // One group per row: the split kernel with a single part per row.
            G<ArrayView<T>, ArrayView<long>, ArrayView<T>, ArrayView<long>, ReduceParams>(d, ReduceKernels.Split<T, R>)(
                Rows(d, outer), V<T>(x), idx, V<T>(values), idx, rp);
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
    private static Tensor Dummy(IlgpuDevice d) => dummies.GetOrAdd(d.Device, v => Tensor.Alloc([1], DType.Int64, v));

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Device, Tensor> dummies = new();
}
