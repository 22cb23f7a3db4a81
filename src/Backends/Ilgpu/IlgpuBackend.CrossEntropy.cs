using ILGPU;
using Ember.Ilgpu.Ops;
using CE = Ember.Ilgpu.Ops.CrossEntropyKernels;
using RCE = Ember.Ilgpu.Ops.RegisterCrossEntropyKernels;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// On OpenCL devices this runs the composite (<see cref="CompositeKernels.CrossEntropy"/>): the one OpenCL
    /// implementation we can test, pocl on the GPU machine's CPU, miscompiles the fused kernel (losses off by the row's
    /// shift; an earlier form of the kernel crashed pocl's LLVM), so the fused kernel is kept for CUDA and ilgpu-cpu, where
    /// it matches the CPU backend.
    /// </remarks>
    public void CrossEntropy(Tensor x, Tensor target, Tensor? weight, CrossEntropyArgs args, Tensor loss, Tensor logSumExp)
    {
        if (ReducedPrecision.Any(x, weight)) { CompositeKernels.CrossEntropy(this, x, target, weight, args, loss, logSumExp); return; }
        if (UsesCompositeCrossEntropy(x))
        {
            CompositeKernels.CrossEntropy(this, x, target, weight, args, loss, logSumExp);
            return;
        }
        x = Contig(x); target = Contig(target);
        if (weight is not null) weight = Contig(weight);
        long rows = x.ShapeSpan[0], cols = x.ShapeSpan[1];
        if (rows == 0) return;
        var d = Dev(x);
        var o = new TensorOffsets { A = x.StorageOffset, B = target.StorageOffset, C = weight?.StorageOffset ?? 0, D = loss.StorageOffset, E = logSumExp.StorageOffset };
        if (cols > 0 && RegisterRows(d, x.DType, cols, o.A, o.C))
        {
            LoadGroupedKernel<ArrayView<float>, ArrayView<long>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, TensorOffsets, long, CrossEntropyScalars<float>, int>(d, RCE.Forward)(
                WarpRowLaunch(d, rows), ViewOf<float>(x), ViewOf<long>(target), ViewOf<float>(weight ?? x), ViewOf<float>(loss), ViewOf<float>(logSumExp),
                rows, (int)(cols / 4), o with { A = o.A / 4, C = o.C / 4 }, args.IgnoreIndex,
                new CrossEntropyScalars<float> { Eps = (float)args.LabelSmoothing, Scale = (float)args.Scale }, weight is null ? 0 : 1);
            return;
        }
        if (x.DType == DType.Float32) F<float, F32>(new() { Eps = (float)args.LabelSmoothing, Scale = (float)args.Scale });
        else F<double, F64>(new() { Eps = args.LabelSmoothing, Scale = args.Scale });

        void F<T, R>(CrossEntropyScalars<T> k) where T : unmanaged where R : struct, IReal<T> =>
            LoadGroupedKernel<ArrayView<T>, ArrayView<long>, ArrayView<T>, ArrayView<T>, ArrayView<T>, long, TensorOffsets, long, CrossEntropyScalars<T>, int>(d, CE.Forward<T, R>)(
                Rows(d, rows), ViewOf<T>(x), ViewOf<long>(target), ViewOf<T>(weight ?? x), ViewOf<T>(loss), ViewOf<T>(logSumExp), cols, o, args.IgnoreIndex,
                k, weight is null ? 0 : 1);
    }

    /// <inheritdoc/>
    /// <remarks>OpenCL runs the composite, as for the forward pass.</remarks>
    public void CrossEntropyBackward(Tensor grad, Tensor x, Tensor target, Tensor? weight, CrossEntropyArgs args, Tensor logSumExp, Tensor gradX)
    {
        if (ReducedPrecision.Any(grad, x, weight)) { CompositeKernels.CrossEntropyBackward(this, grad, x, target, weight, args, logSumExp, gradX); return; }
        if (UsesCompositeCrossEntropy(x))
        {
            CompositeKernels.CrossEntropyBackward(this, grad, x, target, weight, args, logSumExp, gradX);
            return;
        }
        // grad [rows] is read through its stride (0 when a sum's gradient arrives expanded): no copy of it.
        if (grad.Dim != 1) grad = Contig(grad);
        x = Contig(x); target = Contig(target); logSumExp = Contig(logSumExp);
        if (weight is not null) weight = Contig(weight);
        long rows = x.ShapeSpan[0], cols = x.ShapeSpan[1];
        if (rows == 0) return;
        var d = Dev(x);
        var o = new TensorOffsets
        {
            A = x.StorageOffset, B = target.StorageOffset, C = weight?.StorageOffset ?? 0, D = grad.StorageOffset, E = logSumExp.StorageOffset,
            F = gradX.StorageOffset, G = grad.Dim == 1 ? grad.StridesSpan[0] : 1,
        };
        if (cols > 0 && RegisterRows(d, x.DType, cols, o.A, o.C, o.F))
        {
            LoadGroupedKernel<ArrayView<float>, ArrayView<float>, ArrayView<long>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, TensorOffsets, long, CrossEntropyScalars<float>, int>(d, RCE.Backward)(
                WarpRowLaunch(d, rows), ViewOf<float>(grad), ViewOf<float>(x), ViewOf<long>(target), ViewOf<float>(weight ?? x), ViewOf<float>(logSumExp), ViewOf<float>(gradX),
                rows, (int)(cols / 4), o with { A = o.A / 4, C = o.C / 4, F = o.F / 4 }, args.IgnoreIndex,
                new CrossEntropyScalars<float> { Eps = (float)args.LabelSmoothing, Scale = (float)args.Scale }, weight is null ? 0 : 1);
            return;
        }
        if (x.DType == DType.Float32) B<float, F32>(new() { Eps = (float)args.LabelSmoothing, Scale = (float)args.Scale });
        else B<double, F64>(new() { Eps = args.LabelSmoothing, Scale = args.Scale });

        void B<T, R>(CrossEntropyScalars<T> k) where T : unmanaged where R : struct, IReal<T> =>
            LoadGroupedKernel<ArrayView<T>, ArrayView<T>, ArrayView<long>, ArrayView<T>, ArrayView<T>, ArrayView<T>, long, TensorOffsets, long, CrossEntropyScalars<T>, int>(d, CE.Backward<T, R>)(
                Rows(d, rows), ViewOf<T>(grad), ViewOf<T>(x), ViewOf<long>(target), ViewOf<T>(weight ?? x), ViewOf<T>(logSumExp), ViewOf<T>(gradX), cols, o,
                args.IgnoreIndex, k, weight is null ? 0 : 1);
    }

    private static bool UsesCompositeCrossEntropy(Tensor x) => x.Device.Type == DeviceType.OpenCL;
}
