namespace Ember;

/// <summary>
/// One item of a tensor index: an integer (selects and removes the dim), an <see cref="Index"/>
/// (<c>^1</c>), a <see cref="Range"/> (<c>1..3</c>, <c>..</c>), a stepped slice, a new axis, an ellipsis, or an index
/// tensor (Int64/Int32 positions, or a Bool mask over as many dims as it has: PyTorch's advanced indexing).
/// Converts implicitly from int, long, Index, Range and Tensor, so <c>x[.., 1..3]</c>, <c>x[^1]</c> and
/// <c>x[idx, .., 0]</c> work.
/// </summary>
public readonly struct TensorIndex
{
    internal enum Kinds { Int, FromEnd, Range, NewAxis, Ellipsis, Tensor }
    internal Kinds Kind { get; }
    internal long Value { get; }
    internal Range RangeValue { get; }
    internal long Step { get; }
    internal Tensor? TensorValue { get; }

    private TensorIndex(Kinds kind, long value = 0, Range range = default, long step = 1, Tensor? tensor = null)
    {
        Kind = kind; Value = value; RangeValue = range; Step = step; TensorValue = tensor;
    }

    /// <summary>Inserts a dim of size 1 (PyTorch's <c>None</c>).</summary>
    public static TensorIndex NewAxis => new(Kinds.NewAxis);

    /// <summary>Stands for as many full slices as needed (PyTorch's <c>...</c>).</summary>
    public static TensorIndex Ellipsis => new(Kinds.Ellipsis);

    /// <summary>A slice with a step: <c>start..end</c> taking every <paramref name="step"/>-th element.</summary>
    /// <exception cref="ArgumentException">step is not positive.</exception>
    public static TensorIndex Slice(Range range, long step)
    {
        if (step <= 0) throw new ArgumentException($"TensorIndex.Slice: step must be positive, got {step}.");
        return new(Kinds.Range, 0, range, step);
    }

    /// <summary>Selects one position (negative counts from the end).</summary>
    public static implicit operator TensorIndex(int i) => new(Kinds.Int, i);
    /// <summary>Selects one position (negative counts from the end).</summary>
    public static implicit operator TensorIndex(long i) => new(Kinds.Int, i);
    /// <summary>Selects one position; <c>^1</c> is the last.</summary>
    public static implicit operator TensorIndex(Index i) => i.IsFromEnd ? new(Kinds.FromEnd, i.Value) : new(Kinds.Int, i.Value);
    /// <summary>A slice; <c>..</c> keeps the whole dim.</summary>
    public static implicit operator TensorIndex(Range r) => new(Kinds.Range, 0, r);
    /// <summary>
    /// An index tensor (advanced indexing): Int64/Int32 positions along one dim (negative count from the end), or a
    /// Bool mask covering as many dims as it has. The index tensors of one index broadcast together.
    /// </summary>
    /// <exception cref="ArgumentNullException">t is null.</exception>
    public static implicit operator TensorIndex(Tensor t) => new(Kinds.Tensor, tensor: t ?? throw new ArgumentNullException(nameof(t)));
}
