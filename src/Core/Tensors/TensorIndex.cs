namespace Ember;

/// <summary>
/// One item of a tensor index: an integer (selects and removes the dim), an <see cref="Index"/>
/// (<c>^1</c>), a <see cref="Range"/> (<c>1..3</c>, <c>..</c>), a stepped slice, or a new axis.
/// Converts implicitly from int, long, Index and Range, so <c>x[.., 1..3]</c> and <c>x[^1]</c> work.
/// </summary>
public readonly struct TensorIndex
{
    internal enum Kinds { Int, FromEnd, Range, NewAxis, Ellipsis }
    internal Kinds Kind { get; }
    internal long Value { get; }
    internal Range RangeValue { get; }
    internal long Step { get; }

    private TensorIndex(Kinds kind, long value = 0, Range range = default, long step = 1)
    {
        Kind = kind; Value = value; RangeValue = range; Step = step;
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
}
