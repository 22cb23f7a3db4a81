using ILGPU;
using Ember.Ilgpu.Ops;
using IK = Ember.Ilgpu.Ops.IndexKernels;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    public void Gather(Tensor x, int dim, Tensor index, Tensor result)
    {
        long n = result.Numel;
        if (n == 0) return;
        var d = Dev(result);
        var sh = Shape8.From(result.shape);
        var xs = LayoutPlan.Raw(x, dim);
        var ixs = LayoutPlan.Raw(index);
        var rs = LayoutPlan.Raw(result);
        long ds = x.strides[dim], size = x.shape[dim];
        switch (x.DType)
        {
            case DType.Float32: Go<float>(); break;
            case DType.Float64: Go<double>(); break;
            case DType.Int32: Go<int>(); break;
            case DType.Int64: Go<long>(); break;
            default: Go<byte>(); break;
        }

        void Go<T>() where T : unmanaged =>
            K<ArrayView<T>, ArrayView<long>, ArrayView<T>, Shape8, Str8, Str8, Str8, long, long>(d, IK.Gather<T>)(
                Count(n), V<T>(x), V<long>(index), V<T>(result), sh, xs, ixs, rs, ds, size);
    }

    /// <inheritdoc/>
    public void Scatter(Tensor target, int dim, Tensor index, Tensor source, bool accumulate)
    {
        long n = index.Numel;
        if (n == 0) return;
        var d = Dev(target);
        var sh = Shape8.From(index.shape);
        var ts = LayoutPlan.Raw(target, dim);
        var ixs = LayoutPlan.Raw(index);
        var ss = LayoutPlan.Raw(source);
        long ds = target.strides[dim], size = target.shape[dim];
        switch (target.DType)
        {
            case DType.Float32: Go<float, F32>(); break;
            case DType.Float64: Go<double, F64>(); break;
            case DType.Int32: Go<int, I32>(); break;
            case DType.Int64: Go<long, I64>(); break;
            default: Go<byte, B8>(); break;
        }

        void Go<T, N>() where T : unmanaged where N : struct, INum<T> =>
            K<ArrayView<T>, ArrayView<long>, ArrayView<T>, Shape8, Str8, Str8, Str8, long, long, int>(d, IK.Scatter<T, N>)(
                Count(n), V<T>(target), V<long>(index), V<T>(source), sh, ts, ixs, ss, ds, size, accumulate ? 1 : 0);
    }

    /// <inheritdoc/>
    public void IndexSelect(Tensor x, int dim, Tensor index, Tensor result)
    {
        long n = result.Numel;
        if (n == 0) return;
        var d = Dev(result);
        var sh = Shape8.From(result.shape);
        var xs = LayoutPlan.Raw(x, dim);
        var sel = LayoutPlan.Selector(result.Dim, dim, index.offset, index.Dim > 0 ? index.strides[0] : 0);
        var rs = LayoutPlan.Raw(result);
        long ds = x.strides[dim], size = x.shape[dim];
        switch (x.DType)
        {
            case DType.Float32: Go<float>(); break;
            case DType.Float64: Go<double>(); break;
            case DType.Int32: Go<int>(); break;
            case DType.Int64: Go<long>(); break;
            default: Go<byte>(); break;
        }

        void Go<T>() where T : unmanaged =>
            K<ArrayView<T>, ArrayView<long>, ArrayView<T>, Shape8, Str8, Str8, Str8, long, long>(d, IK.IndexSelect<T>)(
                Count(n), V<T>(x), V<long>(index), V<T>(result), sh, xs, sel, rs, ds, size);
    }

    /// <inheritdoc/>
    public void IndexAdd(Tensor target, int dim, Tensor index, Tensor source, double alpha)
    {
        long n = source.Numel;
        if (n == 0) return;
        var d = Dev(target);
        var sh = Shape8.From(source.shape);
        var ts = LayoutPlan.Raw(target, dim);
        var sel = LayoutPlan.Selector(source.Dim, dim, index.offset, index.Dim > 0 ? index.strides[0] : 0);
        var ss = LayoutPlan.Raw(source);
        long ds = target.strides[dim], size = target.shape[dim];
        switch (target.DType)
        {
            case DType.Float32: Go<float, F32>(); break;
            case DType.Float64: Go<double, F64>(); break;
            case DType.Int32: Go<int, I32>(); break;
            case DType.Int64: Go<long, I64>(); break;
            default: Go<byte, B8>(); break;
        }

        void Go<T, N>() where T : unmanaged where N : struct, INum<T> =>
            K<ArrayView<T>, ArrayView<long>, ArrayView<T>, Shape8, Str8, Str8, Str8, long, long, double>(d, IK.IndexAdd<T, N>)(
                Count(n), V<T>(target), V<long>(index), V<T>(source), sh, ts, sel, ss, ds, size, alpha);
    }

    /// <inheritdoc/>
    public void Triangular(Tensor x, Tensor result, long diagonal, bool upper)
    {
        long n = result.Numel;
        if (n == 0) return;
        var d = Dev(result);
        int r = result.Dim;
        var sh = Shape8.From(result.shape);
        var xs = LayoutPlan.Raw(x);
        var rs = LayoutPlan.Raw(result);
        var rowSel = LayoutPlan.Selector(r, r - 2);
        var colSel = LayoutPlan.Selector(r, r - 1);
        switch (x.DType)
        {
            case DType.Float32: Go<float>(); break;
            case DType.Float64: Go<double>(); break;
            case DType.Int32: Go<int>(); break;
            case DType.Int64: Go<long>(); break;
            default: Go<byte>(); break;
        }

        void Go<T>() where T : unmanaged =>
            K<ArrayView<T>, ArrayView<T>, Shape8, Str8, Str8, Str8, Str8, long, int>(d, IK.Triangular<T>)(
                Count(n), V<T>(x), V<T>(result), sh, xs, rs, rowSel, colSel, diagonal, upper ? 1 : 0);
    }
}
