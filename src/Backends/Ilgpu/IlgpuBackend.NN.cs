using ILGPU;
using Ember.Ilgpu.Ops;
using CK = Ember.Ilgpu.Ops.ConvPoolKernels;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    private static Geo ConvGeo(long n, ConvGeometry g) => new()
    {
        N = checked((int)n), C = g.Channels, H = g.Height, W = g.Width, KH = g.KernelH, KW = g.KernelW,
        SH = g.StrideH, SW = g.StrideW, PH = g.PadH, PW = g.PadW, DH = g.DilationH, DW = g.DilationW, OH = g.OutH, OW = g.OutW,
    };

    private static Geo PoolGeo(long nc, PoolGeometry g) => new()
    {
        N = checked((int)nc), C = 1, H = g.Height, W = g.Width, KH = g.KernelH, KW = g.KernelW,
        SH = g.StrideH, SW = g.StrideW, PH = g.PadH, PW = g.PadW, DH = 1, DW = 1, OH = g.OutH, OW = g.OutW,
    };

    /// <inheritdoc/>
    public void Im2Col(Tensor x, ConvGeometry geometry, Tensor columns)
    {
        x = Contig(x);
        long n = columns.Numel;
        if (n == 0) return;
        var d = Dev(x);
        var g = ConvGeo(x.ShapeSpan[0], geometry);
        // Im2col only moves elements and writes zeros: Float16/BFloat16 run as their 16-bit patterns (+0 is all zeros).
        if (x.DType == DType.Float32) Go<float>(); else if (x.DType.IsReducedPrecision()) Go<ushort>(); else Go<double>();

        void Go<T>() where T : unmanaged =>
            LoadKernel<ArrayView<T>, ArrayView<T>, Geo, long, long>(d, CK.Im2Col<T>)(Count(n), ViewOf<T>(x), ViewOf<T>(columns), g, x.StorageOffset, columns.StorageOffset);
    }

    /// <inheritdoc/>
    /// <remarks>One launch; Float16/BFloat16 columns and x of one dtype are summed in float32 and rounded once.</remarks>
    public void Col2Im(Tensor columns, ConvGeometry geometry, Tensor x)
    {
        bool narrow = columns.DType.IsReducedPrecision() && x.DType == columns.DType && x.IsContiguous;
        if (!narrow && ReducedPrecision.Any(columns, x)) { ReducedPrecision.ViaFloat32(this, [columns], [x], (i, o) => Col2Im(i[0]!, geometry, o[0]!), overwritten: true); return; }
        columns = Contig(columns);
        long n = x.Numel;
        if (n == 0) return;
        var d = Dev(x);
        var g = ConvGeo(x.ShapeSpan[0], geometry);
        if (narrow && x.DType == DType.Float16) Go<ushort, float, F32, Narrowed<F16>>();
        else if (narrow) Go<ushort, float, F32, Narrowed<BF16>>();
        else if (x.DType == DType.Float32) Go<float, float, F32, Plain<float>>();
        else Go<double, double, F64, Plain<double>>();

        void Go<TS, T, R, S>() where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T> =>
            LoadKernel<ArrayView<TS>, ArrayView<TS>, Geo, long, long>(d, CK.Col2Im<TS, T, R, S>)(Count(n), ViewOf<TS>(columns), ViewOf<TS>(x), g, columns.StorageOffset, x.StorageOffset);
    }

    /// <inheritdoc/>
    public void MaxPool2d(Tensor x, PoolGeometry geometry, Tensor result, Tensor? indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        // Float16/BFloat16 into a result of the same dtype: one launch on 16-bit storage (NarrowPoolKernels); otherwise
        // this backend's float32 kernel between two conversions (the composite gathers every window).
        bool narrow = x.DType is DType.Float16 or DType.BFloat16 && result.DType == x.DType && result.IsContiguous;
        if (!narrow && ReducedPrecision.Any(x)) { ReducedPrecision.ViaFloat32(this, [x], [result, indices], (i, o) => MaxPool2d(i[0]!, geometry, o[0]!, o[1]), overwritten: true); return; }
        x = Contig(x);
        long n = result.Numel;
        if (n == 0) return;
        var d = Dev(x);
        var g = PoolGeo(x.ShapeSpan[0] * x.ShapeSpan[1], geometry);
        var o = new TensorOffsets { A = x.StorageOffset, B = result.StorageOffset, C = indices.StorageOffset };
        if (narrow)
        {
            var kernel = x.DType == DType.Float16 ? (Action<Index1D, ArrayView<ushort>, ArrayView<ushort>, ArrayView<long>, Geo, TensorOffsets>)NarrowPoolKernels.MaxPool<F16> : NarrowPoolKernels.MaxPool<BF16>;
            LoadKernel(d, kernel)(Count(n), ViewOf<ushort>(x), ViewOf<ushort>(result), ViewOf<long>(indices), g, o);
            return;
        }
        if (x.DType == DType.Float32) Go<float, F32>(); else Go<double, F64>();

        void Go<T, R>() where T : unmanaged where R : struct, IReal<T> =>
            LoadKernel<ArrayView<T>, ArrayView<T>, ArrayView<long>, Geo, TensorOffsets>(d, CK.MaxPool<T, R>)(Count(n), ViewOf<T>(x), ViewOf<T>(result), ViewOf<long>(indices), g, o);
    }

    /// <inheritdoc/>
    public void MaxPool2dBackward(Tensor grad, Tensor x, Tensor? indices, PoolGeometry geometry, Tensor gradInput)
    {
        ArgumentNullException.ThrowIfNull(indices);
        // Float16/BFloat16 with windows that do not overlap (2×2 stride 2, …): a zero fill and one launch on 16-bit storage
        // (NarrowPoolKernels.MaxPoolBackward), the same values as the float32 kernel between conversions.
        bool narrow = grad.DType is DType.Float16 or DType.BFloat16 && gradInput.DType == grad.DType && gradInput.IsContiguous
            && geometry.StrideH >= geometry.KernelH && geometry.StrideW >= geometry.KernelW;
        // The float32 kernel zeroes gradInput's stand-in before it scatters, so the stand-in needs no widened copy.
        if (!narrow && ReducedPrecision.Any(grad)) { ReducedPrecision.ViaFloat32(this, [grad, indices], [gradInput], (i, o) => MaxPool2dBackward(i[0]!, x, i[1], geometry, o[0]!), overwritten: true); return; }
        grad = Contig(grad); indices = Contig(indices);
        var d = Dev(grad);
        var g = PoolGeo(gradInput.ShapeSpan[0] * gradInput.ShapeSpan[1], geometry);
        var o = new TensorOffsets { A = grad.StorageOffset, B = indices.StorageOffset, C = gradInput.StorageOffset };
        // Float32/Float64 windows that do not overlap (2×2 stride 2, …): each input element gathers its one window's
        // gradient, so one launch writes all of gradInput (no zero fill, no atomics).
        if (ConvLaunchCuts && !narrow && gradInput.IsContiguous && gradInput.DType == grad.DType && grad.DType is DType.Float32 or DType.Float64
            && geometry.StrideH >= geometry.KernelH && geometry.StrideW >= geometry.KernelW)
        {
            long m = gradInput.Numel;
            if (m == 0) return;
            if (grad.DType == DType.Float32) Gather<float, F32>(); else Gather<double, F64>();
            return;

            void Gather<T, R>() where T : unmanaged where R : struct, IReal<T> =>
                LoadKernel<ArrayView<T>, ArrayView<long>, ArrayView<T>, Geo, TensorOffsets>(d, CK.MaxPoolBackwardDisjoint<T, R>)(Count(m), ViewOf<T>(grad), ViewOf<long>(indices), ViewOf<T>(gradInput), g, o);
        }
        Fill(gradInput, 0);
        long n = grad.Numel;
        if (n == 0) return;
        if (narrow)
        {
            var kernel = grad.DType == DType.Float16 ? (Action<Index1D, ArrayView<ushort>, ArrayView<long>, ArrayView<ushort>, Geo, TensorOffsets>)NarrowPoolKernels.MaxPoolBackward<F16>
                : NarrowPoolKernels.MaxPoolBackward<BF16>;
            LoadKernel(d, kernel)(Count(n), ViewOf<ushort>(grad), ViewOf<long>(indices), ViewOf<ushort>(gradInput), g, o);
            return;
        }
        if (grad.DType == DType.Float32) Go<float, F32>(); else Go<double, F64>();

        void Go<T, N>() where T : unmanaged where N : struct, INum<T> =>
            LoadKernel<ArrayView<T>, ArrayView<long>, ArrayView<T>, Geo, TensorOffsets>(d, CK.MaxPoolBackward<T, N>)(Count(n), ViewOf<T>(grad), ViewOf<long>(indices), ViewOf<T>(gradInput), g, o);
    }

    /// <inheritdoc/>
    public void AvgPool2d(Tensor x, PoolGeometry geometry, bool countIncludePad, Tensor result)
    {
        if (ReducedPrecision.Any(x)) { ReducedPrecision.ViaFloat32(this, [x], [result], (i, o) => AvgPool2d(i[0]!, geometry, countIncludePad, o[0]!), overwritten: true); return; }
        x = Contig(x);
        long n = result.Numel;
        if (n == 0) return;
        var d = Dev(x);
        var g = PoolGeo(x.ShapeSpan[0] * x.ShapeSpan[1], geometry);
        var o = new TensorOffsets { A = x.StorageOffset, B = result.StorageOffset };
        if (x.DType == DType.Float32) Go<float, F32>(); else Go<double, F64>();

        void Go<T, R>() where T : unmanaged where R : struct, IReal<T> =>
            LoadKernel<ArrayView<T>, ArrayView<T>, Geo, TensorOffsets, int>(d, CK.AvgPool<T, R>)(Count(n), ViewOf<T>(x), ViewOf<T>(result), g, o, countIncludePad ? 1 : 0);
    }

    /// <inheritdoc/>
    public void AvgPool2dBackward(Tensor grad, PoolGeometry geometry, bool countIncludePad, Tensor gradInput)
    {
        // As max pooling's: the float32 kernel zeroes gradInput's stand-in first.
        if (ReducedPrecision.Any(grad)) { ReducedPrecision.ViaFloat32(this, [grad], [gradInput], (i, o) => AvgPool2dBackward(i[0]!, geometry, countIncludePad, o[0]!), overwritten: true); return; }
        grad = Contig(grad);
        Fill(gradInput, 0);
        long n = grad.Numel;
        if (n == 0) return;
        var d = Dev(grad);
        var g = PoolGeo(gradInput.ShapeSpan[0] * gradInput.ShapeSpan[1], geometry);
        var o = new TensorOffsets { A = grad.StorageOffset, B = gradInput.StorageOffset };
        if (grad.DType == DType.Float32) Go<float, F32>(); else Go<double, F64>();

        void Go<T, R>() where T : unmanaged where R : struct, IReal<T> =>
            LoadKernel<ArrayView<T>, ArrayView<T>, Geo, TensorOffsets, int>(d, CK.AvgPoolBackward<T, R>)(Count(n), ViewOf<T>(grad), ViewOf<T>(gradInput), g, o, countIncludePad ? 1 : 0);
    }
}
