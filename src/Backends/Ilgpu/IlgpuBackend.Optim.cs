using ILGPU;
using Ember.Ilgpu.Ops;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    public void SgdStep(Tensor param, Tensor grad, Tensor? momentumBuffer, SgdStepArgs args)
    {
        if (ReducedPrecision.Any(param, grad, momentumBuffer)) { CompositeKernels.SgdStep(this, param, grad, momentumBuffer, args); return; }
        long n = param.Numel;
        if (n == 0) return;
        grad = Contig(grad);
        var d = Dev(param);
        var p = SgdParams(args, momentumBuffer is not null);
        var o = new TensorOffsets { A = param.StorageOffset, B = grad.StorageOffset, C = momentumBuffer?.StorageOffset ?? 0 };
        if (param.DType == DType.Float32) Go<float, F32>(); else Go<double, F64>();

        void Go<T, R>() where T : unmanaged where R : struct, IReal<T> =>
            LoadKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, OptimParams, TensorOffsets>(d, OptimKernels.Sgd<T, R>)(
                Count(n), ViewOf<T>(param), ViewOf<T>(grad), ViewOf<T>(momentumBuffer ?? param), p, o);
    }

    /// <inheritdoc/>
    public void AdamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor? maxExpAvgSq, AdamStepArgs args)
    {
        if (ReducedPrecision.Any(param, grad, expAvg, expAvgSq, maxExpAvgSq)) { CompositeKernels.AdamStep(this, param, grad, expAvg, expAvgSq, maxExpAvgSq, args); return; }
        long n = param.Numel;
        if (n == 0) return;
        grad = Contig(grad);
        var d = Dev(param);
        var p = AdamParams(args, maxExpAvgSq is not null);
        var o = new TensorOffsets { A = param.StorageOffset, B = grad.StorageOffset, C = expAvg.StorageOffset, D = expAvgSq.StorageOffset, E = maxExpAvgSq?.StorageOffset ?? 0 };
        if (param.DType == DType.Float32) Go<float, F32>(); else Go<double, F64>();

        void Go<T, R>() where T : unmanaged where R : struct, IReal<T> =>
            LoadKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, OptimParams, TensorOffsets>(d, OptimKernels.Adam<T, R>)(
                Count(n), ViewOf<T>(param), ViewOf<T>(grad), ViewOf<T>(expAvg), ViewOf<T>(expAvgSq), ViewOf<T>(maxExpAvgSq ?? expAvgSq), p, o);
    }

    /// <summary>The SGD kernels' scalars (shared by the single and multi-tensor launches, so both compute the same bits).</summary>
    private static OptimParams SgdParams(SgdStepArgs args, bool hasBuffer) => new()
    {
        Lr = args.Lr, Momentum = args.Momentum, Dampening = args.Dampening, WeightDecay = args.WeightDecay,
        Nesterov = args.Nesterov ? 1 : 0, Maximize = args.Maximize ? 1 : 0, FirstStep = args.FirstStep ? 1 : 0,
        HasBuffer = hasBuffer ? 1 : 0,
    };

    /// <summary>The Adam kernels' scalars, bias corrections folded in on the host (shared by the single and multi-tensor launches).</summary>
    private static OptimParams AdamParams(AdamStepArgs args, bool hasMax)
    {
        double bc1 = 1 - Math.Pow(args.Beta1, args.Step), bc2 = 1 - Math.Pow(args.Beta2, args.Step);
        return new OptimParams
        {
            Lr = args.Lr, Beta1 = args.Beta1, Beta2 = args.Beta2, Eps = args.Eps, WeightDecay = args.WeightDecay,
            StepSize = args.Lr / bc1, Bc2Sqrt = Math.Sqrt(bc2),
            Decoupled = args.DecoupledWeightDecay ? 1 : 0, Amsgrad = args.Amsgrad && hasMax ? 1 : 0,
            Maximize = args.Maximize ? 1 : 0,
        };
    }

    /// <inheritdoc/>
    /// <remarks>One launch per gradient, all queued on the stream: foundInf stays on the device, nothing is read back.</remarks>
    public void NonFiniteCheckAndUnscale(IReadOnlyList<Tensor> grads, Tensor foundInf, double invScale)
    {
        foreach (var g in grads)
        {
            long n = g.Numel;
            if (n == 0) continue;
            var d = Dev(g);
            var o = new TensorOffsets { A = g.StorageOffset, B = foundInf.StorageOffset };
            if (g.DType == DType.Float32) Go<float, F32>();
            else if (g.DType == DType.Float64) Go<double, F64>();
            else CompositeKernels.NonFiniteCheckAndUnscale(this, [g], foundInf, invScale);

            // A float32 gradient is multiplied by the float32 inverse scale: its exact product in double rounded once
            // to float is the float32 product.
            void Go<T, R>() where T : unmanaged where R : struct, IReal<T> =>
                LoadKernel<ArrayView<T>, ArrayView<float>, double, TensorOffsets>(d, OptimKernels.NonFiniteCheckAndUnscale<T, R>)(
                    Count(n), ViewOf<T>(g), ViewOf<float>(foundInf), invScale, o);
        }
    }
}
