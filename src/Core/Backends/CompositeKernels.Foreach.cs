namespace Ember;

public static partial class CompositeKernels
{
    /// <summary>See <see cref="IBackend.SgdStepForeach"/>: checks every entry, then one <see cref="IBackend.SgdStep"/> per parameter.</summary>
    public static void SgdStepForeach(IBackend backend, IReadOnlyList<Tensor> @params, IReadOnlyList<Tensor> grads,
        IReadOnlyList<Tensor>? momentumBuffers, SgdStepArgs args)
    {
        CheckForeach("SgdStepForeach", @params, ("grads", grads), ("momentumBuffers", momentumBuffers));
        for (int i = 0; i < @params.Count; i++) backend.SgdStep(@params[i], grads[i], momentumBuffers?[i], args);
    }

    /// <summary>See <see cref="IBackend.AdamStepForeach"/>: checks every entry, then one <see cref="IBackend.AdamStep"/> per parameter.</summary>
    public static void AdamStepForeach(IBackend backend, IReadOnlyList<Tensor> @params, IReadOnlyList<Tensor> grads,
        IReadOnlyList<Tensor> expAvgs, IReadOnlyList<Tensor> expAvgSqs, IReadOnlyList<Tensor>? maxExpAvgSqs, AdamStepArgs args)
    {
        CheckForeach("AdamStepForeach", @params, ("grads", grads), ("expAvgs", expAvgs), ("expAvgSqs", expAvgSqs), ("maxExpAvgSqs", maxExpAvgSqs));
        for (int i = 0; i < @params.Count; i++) backend.AdamStep(@params[i], grads[i], expAvgs[i], expAvgSqs[i], maxExpAvgSqs?[i], args);
    }

    /// <summary>
    /// The checks of the foreach optimizer steps, all made before anything is written: every list (null ones are absent)
    /// has one entry per parameter, and each entry is a contiguous floating-point tensor of its parameter's shape, with
    /// the dtype and device that every parameter in the list shares.
    /// </summary>
    /// <exception cref="ArgumentException">The first violation, naming <paramref name="op"/>, the list and the index.</exception>
    public static void CheckForeach(string op, IReadOnlyList<Tensor> @params, params (string Name, IReadOnlyList<Tensor>? List)[] lists)
    {
        ArgumentNullException.ThrowIfNull(@params);
        for (int l = 0; l < lists.Length; l++)
            if (lists[l].List is { } list && list.Count != @params.Count)
                throw new ArgumentException($"{op}: {lists[l].Name} has {list.Count} tensors, params has {@params.Count}.");
        for (int i = 0; i < @params.Count; i++)
        {
            var p = @params[i] ?? throw new ArgumentException($"{op}: params[{i}] is null.");
            var first = @params[0];
            if (!p.DType.IsFloatingPoint())
                throw new ArgumentException($"{op}: params[{i}] is {p.DType}; a floating-point dtype is required.");
            if (p.DType != first.DType || p.Device != first.Device)
                throw new ArgumentException($"{op}: params[{i}] is {p.DType} on {p.Device}, params[0] is {first.DType} on {first.Device}; every tensor must share one dtype and device.");
            if (!p.IsContiguous) throw new ArgumentException($"{op}: params[{i}] is not contiguous.");
            for (int l = 0; l < lists.Length; l++)
            {
                if (lists[l].List is not { } list) continue;
                string name = lists[l].Name;
                var t = list[i] ?? throw new ArgumentException($"{op}: {name}[{i}] is null.");
                if (t.Shape != p.Shape)
                    throw new ArgumentException($"{op}: {name}[{i}] has shape {t.Shape}, params[{i}] has {p.Shape}.");
                if (t.DType != p.DType || t.Device != p.Device)
                    throw new ArgumentException($"{op}: {name}[{i}] is {t.DType} on {t.Device}, params[{i}] is {p.DType} on {p.Device}.");
                if (!t.IsContiguous) throw new ArgumentException($"{op}: {name}[{i}] is not contiguous.");
            }
        }
    }
}
