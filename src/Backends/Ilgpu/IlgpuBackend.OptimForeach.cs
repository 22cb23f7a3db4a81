using ILGPU;
using Ember.Ilgpu.Ops;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// True on CUDA and the CPU accelerator, where float32 and float64 lists run <see cref="ForeachViews{T}.Slots"/>
    /// parameters per launch. False on OpenCL: ILGPU passes views nested in a struct there only through its own argument
    /// rewriting, which Ember has not run on an OpenCL device, so the foreach members loop over the single ones there.
    /// </remarks>
    public bool PrefersForeachSteps(Device device) => device.Type != DeviceType.OpenCL;

    // Whether a list runs the multi-tensor kernels (else one single-tensor launch per parameter).
    private static bool MultiTensor(Tensor first) =>
        first.DType is DType.Float32 or DType.Float64 && first.Device.Type != DeviceType.OpenCL;

    /// <inheritdoc/>
    /// <remarks>
    /// Float32 and float64: one launch per chunk of up to <see cref="ForeachViews{T}.Slots"/> non-empty parameters, with
    /// the element update of <see cref="SgdStep"/> (same bits). Other dtypes and OpenCL: one <see cref="SgdStep"/> per parameter.
    /// </remarks>
    public void SgdStepForeach(IReadOnlyList<Tensor> @params, IReadOnlyList<Tensor> grads, IReadOnlyList<Tensor>? momentumBuffers, SgdStepArgs args)
    {
        CompositeKernels.CheckForeach("SgdStepForeach", @params, ("grads", grads), ("momentumBuffers", momentumBuffers));
        if (@params.Count == 0) return;
        var dtype = @params[0].DType;
        if (!MultiTensor(@params[0]))
        {
            for (int i = 0; i < @params.Count; i++) SgdStep(@params[i], grads[i], momentumBuffers?[i], args);
            return;
        }
        var d = Dev(@params[0]);
        var a = SgdParams(args, momentumBuffers is not null);
        foreach (var (chunk, layout, total) in Chunks(@params))
        {
            if (dtype == DType.Float32) Go<float, F32>(); else Go<double, F64>();

            void Go<T, R>() where T : unmanaged where R : struct, IReal<T> =>
                LoadKernel<ForeachViews<T>, ForeachViews<T>, ForeachViews<T>, ForeachLayout, OptimParams>(d, OptimForeachKernels.Sgd<T, R>)(
                    Count(total), Slots<T>(@params, chunk), Slots<T>(grads, chunk), Slots<T>(momentumBuffers ?? @params, chunk), layout, a);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Float32 and float64: one launch per chunk of up to <see cref="ForeachViews{T}.Slots"/> non-empty parameters, with
    /// the element update of <see cref="AdamStep"/> (same bits). Other dtypes and OpenCL: one <see cref="AdamStep"/> per parameter.
    /// </remarks>
    public void AdamStepForeach(IReadOnlyList<Tensor> @params, IReadOnlyList<Tensor> grads, IReadOnlyList<Tensor> expAvgs,
        IReadOnlyList<Tensor> expAvgSqs, IReadOnlyList<Tensor>? maxExpAvgSqs, AdamStepArgs args)
    {
        CompositeKernels.CheckForeach("AdamStepForeach", @params, ("grads", grads), ("expAvgs", expAvgs), ("expAvgSqs", expAvgSqs), ("maxExpAvgSqs", maxExpAvgSqs));
        if (@params.Count == 0) return;
        var dtype = @params[0].DType;
        if (!MultiTensor(@params[0]))
        {
            for (int i = 0; i < @params.Count; i++) AdamStep(@params[i], grads[i], expAvgs[i], expAvgSqs[i], maxExpAvgSqs?[i], args);
            return;
        }
        var d = Dev(@params[0]);
        var a = AdamParams(args, maxExpAvgSqs is not null);
        foreach (var (chunk, layout, total) in Chunks(@params))
        {
            if (dtype == DType.Float32) Go<float, F32>(); else Go<double, F64>();

            void Go<T, R>() where T : unmanaged where R : struct, IReal<T> =>
                LoadKernel<ForeachViews<T>, ForeachViews<T>, ForeachViews<T>, ForeachViews<T>, ForeachViews<T>, ForeachLayout, OptimParams>(d, OptimForeachKernels.Adam<T, R>)(
                    Count(total), Slots<T>(@params, chunk), Slots<T>(grads, chunk), Slots<T>(expAvgs, chunk), Slots<T>(expAvgSqs, chunk),
                    Slots<T>(maxExpAvgSqs ?? expAvgSqs, chunk), layout, a);
        }
    }

    /// <summary>
    /// Splits the non-empty parameters into launches: up to <see cref="ForeachViews{T}.Slots"/> indices each, their
    /// element total within one launch's limit, with each launch's slot starts and total.
    /// </summary>
    private static IEnumerable<(List<int> Chunk, ForeachLayout Layout, long Total)> Chunks(IReadOnlyList<Tensor> @params)
    {
        var chunk = new List<int>(ForeachViews<float>.Slots);
        var layout = ForeachLayout.Empty;
        long total = 0;
        for (int i = 0; i < @params.Count; i++)
        {
            long n = @params[i].Numel;
            if (n == 0) continue;
            if (chunk.Count == ForeachViews<float>.Slots || (chunk.Count > 0 && total + n > int.MaxValue))
            {
                yield return (chunk, layout, total);
                chunk = new List<int>(ForeachViews<float>.Slots);
                layout = ForeachLayout.Empty;
                total = 0;
            }
            if (chunk.Count > 0) layout.SetStart(chunk.Count, total);
            chunk.Add(i);
            total += n;
        }
        if (chunk.Count > 0) yield return (chunk, layout, total);
    }

    /// <summary>The views and storage offsets of <paramref name="tensors"/>' entries at <paramref name="chunk"/>, one per slot.</summary>
    private static ForeachViews<T> Slots<T>(IReadOnlyList<Tensor> tensors, List<int> chunk) where T : unmanaged
    {
        var v = new ForeachViews<T>();
        for (int s = 0; s < chunk.Count; s++) v.Set(s, ViewOf<T>(tensors[chunk[s]]), tensors[chunk[s]].StorageOffset);
        return v;
    }
}
