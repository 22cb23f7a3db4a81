namespace Ember.Data;

/// <summary>
/// Pairs (input, target) sliced along dim 0 of two tensors (torch.utils.data.TensorDataset with two tensors):
/// item i is <c>(Data[i], Targets[i])</c> as views. The common case: <c>foreach (var (x, y) in new DataLoader(ds, 64))</c>.
/// For one or more than two tensors use <see cref="TensorArrayDataset"/>.
/// </summary>
public sealed class TensorDataset : Dataset<(Tensor Input, Tensor Target)>
{
    /// <summary>Wraps <paramref name="data"/> [N, …] and <paramref name="targets"/> [N, …].</summary>
    /// <exception cref="ArgumentException">A tensor is 0-dim, or their first dims differ.</exception>
    public TensorDataset(Tensor data, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(targets);
        if (data.Dim == 0 || targets.Dim == 0 || data.Shape[0] != targets.Shape[0])
            throw new ArgumentException($"TensorDataset: expected tensors with the same size of dim 0, got shapes {data.Shape} and {targets.Shape}.");
        if (data.Shape[0] > int.MaxValue) throw new ArgumentException($"TensorDataset: {data.Shape[0]} items is more than int.MaxValue.");
        Data = data;
        Targets = targets;
    }

    /// <summary>The inputs, [N, …].</summary>
    public Tensor Data { get; }

    /// <summary>The targets, [N, …] (class labels are Int64 [N]).</summary>
    public Tensor Targets { get; }

    /// <summary>Class names by label, when the data set has named classes (e.g. "setosa"); null otherwise.</summary>
    public IReadOnlyList<string>? Classes { get; init; }

    /// <inheritdoc/>
    public override int Count => (int)Data.Shape[0];

    /// <inheritdoc/>
    public override (Tensor Input, Tensor Target) this[int index]
    {
        get { CheckIndex(index); return (Data.Select(0, index), Targets.Select(0, index)); }
    }
}
