namespace Ember.NN;

/// <summary>
/// A group of parameters (same dtype and device) whose gradients travel in one all-reduce: a flat buffer with one
/// slice per parameter. Filled slice by slice as gradients become ready; all-reduced (averaged) when its last
/// gradient arrived.
/// </summary>
internal sealed class GradBucket
{
    public GradBucket(int index, List<int> parameters, List<Tensor> tensors)
    {
        Index = index;
        Parameters = [.. parameters];
        Offsets = new long[tensors.Count];
        long total = 0;
        for (int i = 0; i < tensors.Count; i++) { Offsets[i] = total; total += tensors[i].Numel; }
        using (TensorScope.Suspend())   // module state: outlives any Tensor.Scope the model is built in
            Flat = Tensor.Zeros([total], tensors[0].DType, tensors[0].Device);
    }

    /// <summary>Position in launch order (bucket 0 holds the last-registered parameters).</summary>
    public int Index { get; }
    /// <summary>Indices of the bucket's parameters in the DDP's parameter list.</summary>
    public int[] Parameters { get; }
    /// <summary>Start of each parameter's slice in <see cref="Flat"/>.</summary>
    public long[] Offsets { get; }
    /// <summary>The flat gradient buffer.</summary>
    public Tensor Flat { get; }
    /// <summary>Gradients still missing in this iteration.</summary>
    public int Pending { get; set; }
    /// <summary>The in-flight all-reduce of this iteration, once launched.</summary>
    public Work? Work { get; set; }

    /// <summary>The slice of parameter <paramref name="slot"/> (position within the bucket), shaped like the parameter.</summary>
    public Tensor Slice(int slot, Tensor parameter) => Flat.Narrow(0, Offsets[slot], parameter.Numel).View(parameter.Shape.ToArray());
}
