namespace Ember.Data;

/// <summary>
/// Any number of tensors sliced along dim 0 (torch.utils.data.TensorDataset): item i is
/// <c>[t0[i], t1[i], …]</c> as views. Batches deconstruct: <c>foreach (var (a, b, c) in loader)</c>
/// (see <see cref="TensorArrayExtensions"/>).
/// </summary>
public sealed class TensorArrayDataset : Dataset<Tensor[]>
{
    private readonly Tensor[] tensors;

    /// <summary>Wraps tensors that share the size of dim 0.</summary>
    /// <exception cref="ArgumentException">No tensor, a 0-dim tensor, or the first dims differ.</exception>
    public TensorArrayDataset(params Tensor[] tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Length == 0) throw new ArgumentException("TensorArrayDataset: expected at least one tensor.", nameof(tensors));
        if (tensors.Any(t => t is null || t.Dim == 0 || t.Shape[0] != tensors[0].Shape[0]))
            throw new ArgumentException("TensorArrayDataset: expected tensors with the same size of dim 0, got shapes "
                + string.Join(", ", tensors.Select(t => t?.Shape.ToString() ?? "null")) + ".", nameof(tensors));
        this.tensors = (Tensor[])tensors.Clone();
    }

    /// <summary>The wrapped tensors.</summary>
    public IReadOnlyList<Tensor> Tensors => tensors;

    /// <inheritdoc/>
    public override int Count => (int)tensors[0].Shape[0];

    /// <inheritdoc/>
    public override Tensor[] this[int index]
    {
        get
        {
            CheckIndex(index);
            var item = new Tensor[tensors.Length];
            for (int k = 0; k < item.Length; k++) item[k] = tensors[k].Select(0, index);
            return item;
        }
    }
}

/// <summary>Deconstruction of tensor arrays, so <c>var (x, y) = batch</c> works for <c>Tensor[]</c> batches.</summary>
public static class TensorArrayExtensions
{
    /// <summary>Deconstructs a 2-element array.</summary>
    /// <exception cref="ArgumentException">The array does not have exactly 2 elements.</exception>
    public static void Deconstruct(this Tensor[] tensors, out Tensor first, out Tensor second)
    {
        Check(tensors, 2);
        first = tensors[0]; second = tensors[1];
    }

    /// <summary>Deconstructs a 3-element array.</summary>
    /// <exception cref="ArgumentException">The array does not have exactly 3 elements.</exception>
    public static void Deconstruct(this Tensor[] tensors, out Tensor first, out Tensor second, out Tensor third)
    {
        Check(tensors, 3);
        first = tensors[0]; second = tensors[1]; third = tensors[2];
    }

    /// <summary>Deconstructs a 4-element array.</summary>
    /// <exception cref="ArgumentException">The array does not have exactly 4 elements.</exception>
    public static void Deconstruct(this Tensor[] tensors, out Tensor first, out Tensor second, out Tensor third, out Tensor fourth)
    {
        Check(tensors, 4);
        first = tensors[0]; second = tensors[1]; third = tensors[2]; fourth = tensors[3];
    }

    private static void Check(Tensor[] tensors, int n)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Length != n)
            throw new ArgumentException($"Deconstruct: the batch has {tensors.Length} tensors but {n} variables were given.", nameof(tensors));
    }
}
