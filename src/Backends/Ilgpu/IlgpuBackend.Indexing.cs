using ILGPU;
using Ember.Ilgpu.Ops;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <summary>
    /// Geometry of one indexing launch along dim: the launch shape, the element count, and the indexed tensor's
    /// stride and size along dim (its <see cref="Str8"/> has that stride zeroed; the kernel adds index · stride).
    /// </summary>
    private readonly record struct IndexedDim(IlgpuDevice Device, Shape8 Shape, long Count, long DimStride, long DimSize)
    {
        public static IndexedDim Of(Tensor launched, Tensor indexed, int dim) =>
            new(Dev(indexed), Shape8.From(launched.ShapeSpan), launched.Numel, indexed.StridesSpan[dim], indexed.ShapeSpan[dim]);
    }

    /// <inheritdoc/>
    public void Gather(Tensor x, int dim, Tensor index, Tensor result)
    {
        if (result.Numel == 0) return;
        DeviceElement.Visit(x.DType, new GatherLauncher(IndexedDim.Of(result, x, dim), x, LayoutPlan.Raw(x, dim), index, result));
    }

    private readonly struct GatherLauncher(IndexedDim g, Tensor x, Str8 xStrides, Tensor index, Tensor result) : IDeviceElementVisitor
    {
        public void Visit<T, N>() where T : unmanaged where N : struct, INum<T> =>
            LoadKernel<ArrayView<T>, ArrayView<long>, ArrayView<T>, Shape8, Str8, Str8, Str8, long, long>(g.Device, IndexKernels.Gather<T>)(
                Count(g.Count), ViewOf<T>(x), ViewOf<long>(index), ViewOf<T>(result), g.Shape, xStrides, LayoutPlan.Raw(index), LayoutPlan.Raw(result),
                g.DimStride, g.DimSize);
    }

    /// <inheritdoc/>
    public void Scatter(Tensor target, int dim, Tensor index, Tensor source, bool accumulate)
    {
        if (ReducedPrecision.Any(target)) { ReducedPrecision.ViaFloat32(this, [index, source], [target], (i, o) => Scatter(o[0]!, dim, i[0]!, i[1]!, accumulate)); return; }
        RequireAtomicAdd("Scatter", target, accumulate);
        if (index.Numel == 0) return;
        DeviceElement.Visit(target.DType, new ScatterLauncher(IndexedDim.Of(index, target, dim), target, LayoutPlan.Raw(target, dim), index, source, accumulate));
    }

    private readonly struct ScatterLauncher(IndexedDim g, Tensor target, Str8 targetStrides, Tensor index, Tensor source, bool accumulate)
        : IDeviceElementVisitor
    {
        public void Visit<T, N>() where T : unmanaged where N : struct, INum<T> =>
            LoadKernel<ArrayView<T>, ArrayView<long>, ArrayView<T>, Shape8, Str8, Str8, Str8, long, long, int>(g.Device, IndexKernels.Scatter<T, N>)(
                Count(g.Count), ViewOf<T>(target), ViewOf<long>(index), ViewOf<T>(source), g.Shape, targetStrides, LayoutPlan.Raw(index), LayoutPlan.Raw(source),
                g.DimStride, g.DimSize, accumulate ? 1 : 0);
    }

    /// <inheritdoc/>
    public void IndexSelect(Tensor x, int dim, Tensor index, Tensor result)
    {
        if (result.Numel == 0) return;
        var selector = LayoutPlan.Selector(result.Dim, dim, index.StorageOffset, index.Dim > 0 ? index.StridesSpan[0] : 0);
        DeviceElement.Visit(x.DType, new IndexSelectLauncher(IndexedDim.Of(result, x, dim), x, LayoutPlan.Raw(x, dim), index, selector, result));
    }

    private readonly struct IndexSelectLauncher(IndexedDim g, Tensor x, Str8 xStrides, Tensor index, Str8 selector, Tensor result)
        : IDeviceElementVisitor
    {
        public void Visit<T, N>() where T : unmanaged where N : struct, INum<T> =>
            LoadKernel<ArrayView<T>, ArrayView<long>, ArrayView<T>, Shape8, Str8, Str8, Str8, long, long>(g.Device, IndexKernels.IndexSelect<T>)(
                Count(g.Count), ViewOf<T>(x), ViewOf<long>(index), ViewOf<T>(result), g.Shape, xStrides, selector, LayoutPlan.Raw(result), g.DimStride, g.DimSize);
    }

    /// <inheritdoc/>
    public void IndexAdd(Tensor target, int dim, Tensor index, Tensor source, double alpha)
    {
        if (ReducedPrecision.Any(target)) { ReducedPrecision.ViaFloat32(this, [index, source], [target], (i, o) => IndexAdd(o[0]!, dim, i[0]!, i[1]!, alpha)); return; }
        RequireAtomicAdd("IndexAdd", target, true);
        if (source.Numel == 0) return;
        var selector = LayoutPlan.Selector(source.Dim, dim, index.StorageOffset, index.Dim > 0 ? index.StridesSpan[0] : 0);
        DeviceElement.Visit(target.DType,
            new IndexAddLauncher(IndexedDim.Of(source, target, dim), target, LayoutPlan.Raw(target, dim), index, selector, source, alpha));
    }

    private readonly struct IndexAddLauncher(IndexedDim g, Tensor target, Str8 targetStrides, Tensor index, Str8 selector, Tensor source, double alpha)
        : IDeviceElementVisitor
    {
        public void Visit<T, N>() where T : unmanaged where N : struct, INum<T> =>
            LoadKernel<ArrayView<T>, ArrayView<long>, ArrayView<T>, Shape8, Str8, Str8, Str8, long, long, double>(g.Device, IndexKernels.IndexAdd<T, N>)(
                Count(g.Count), ViewOf<T>(target), ViewOf<long>(index), ViewOf<T>(source), g.Shape, targetStrides, selector, LayoutPlan.Raw(source),
                g.DimStride, g.DimSize, alpha);
    }

    /// <inheritdoc/>
    public void Triangular(Tensor x, Tensor result, long diagonal, bool upper)
    {
        if (result.Numel == 0) return;
        DeviceElement.Visit(x.DType, new TriangularLauncher(Dev(result), x, result, diagonal, upper));
    }

    private readonly struct TriangularLauncher(IlgpuDevice device, Tensor x, Tensor result, long diagonal, bool upper) : IDeviceElementVisitor
    {
        public void Visit<T, N>() where T : unmanaged where N : struct, INum<T>
        {
            int rank = result.Dim;
            LoadKernel<ArrayView<T>, ArrayView<T>, Shape8, Str8, Str8, Str8, Str8, long, int>(device, IndexKernels.Triangular<T>)(
                Count(result.Numel), ViewOf<T>(x), ViewOf<T>(result), Shape8.From(result.ShapeSpan), LayoutPlan.Raw(x), LayoutPlan.Raw(result),
                LayoutPlan.Selector(rank, rank - 2), LayoutPlan.Selector(rank, rank - 1), diagonal, upper ? 1 : 0);
        }
    }

    // The atomic adds of scatter-add and index-add exist for 32- and 64-bit elements; the 8- and 16-bit integers have none.
    private static void RequireAtomicAdd(string op, Tensor target, bool accumulate)
    {
        if (accumulate && target.DType is DType.UInt8 or DType.Int8 or DType.Int16)
            throw new NotSupportedException($"ILGPU backend: {op} with accumulation is not defined for {target.DType} targets; convert with .To(DType.Int32) first.");
    }
}
