using System.Collections;
using System.Runtime.CompilerServices;

namespace Ember;

/// <summary>
/// An immutable list of dimension sizes, e.g. <c>[64, 784]</c>. Converts from <c>long[]</c> and
/// <c>int[]</c> and supports collection expressions: <c>Tensor.Zeros([2, 3], DType.Float64)</c>.
/// </summary>
[CollectionBuilder(typeof(Shape), nameof(Create))]
public readonly struct Shape : IEquatable<Shape>, IReadOnlyList<long>
{
    private readonly long[]? dims;

    /// <summary>A shape with the given sizes (copied).</summary>
    /// <exception cref="ArgumentException">A size is negative.</exception>
    public Shape(params long[] sizes)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        foreach (var s in sizes)
            if (s < 0) throw new ArgumentException($"Shape: sizes must be non-negative, got [{string.Join(", ", sizes)}].");
        dims = (long[])sizes.Clone();
    }

    /// <summary>Collection-expression builder.</summary>
    public static Shape Create(ReadOnlySpan<long> sizes) => new(sizes.ToArray());

    internal static Shape Wrap(long[] sizes) => new(sizes, 0);

    private Shape(long[] sizes, int _) { dims = sizes; }

    internal long[] Array => dims ?? [];

    /// <summary>Number of dimensions.</summary>
    public int Rank => dims?.Length ?? 0;

    /// <summary>Same as <see cref="Rank"/>.</summary>
    public int Count => Rank;

    /// <summary>Size of dimension <paramref name="dim"/>; negative dims count from the end.</summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is outside [−Rank, Rank).</exception>
    public long this[int dim] => dim >= -Rank && dim < Rank
        ? Array[dim < 0 ? dim + Rank : dim]
        : throw new ArgumentOutOfRangeException(nameof(dim), $"Shape: dimension {dim} is out of range for shape {this} (expected in [{-Rank}, {Rank - 1}]).");

    /// <summary>Product of the sizes (1 for a scalar shape).</summary>
    public long Numel
    {
        get { long n = 1; foreach (var d in Array) n *= d; return n; }
    }

    /// <summary>The sizes as a read-only span (no copy).</summary>
    public ReadOnlySpan<long> AsSpan() => Array;

    /// <summary>A copy of the sizes.</summary>
    public long[] ToArray() => (long[])Array.Clone();

    /// <inheritdoc/>
    public IEnumerator<long> GetEnumerator() => ((IEnumerable<long>)Array).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public bool Equals(Shape other) => Array.AsSpan().SequenceEqual(other.Array);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);
    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var d in Array) h.Add(d);
        return h.ToHashCode();
    }

    /// <summary>Equality of sizes.</summary>
    public static bool operator ==(Shape a, Shape b) => a.Equals(b);
    /// <summary>Inequality of sizes.</summary>
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);

    /// <summary>From sizes.</summary>
    public static implicit operator Shape(long[] sizes) => new(sizes);
    /// <summary>From sizes.</summary>
    public static implicit operator Shape(int[] sizes) => new(System.Array.ConvertAll(sizes, x => (long)x));

    /// <summary>PyTorch-style text: <c>[2, 3]</c>.</summary>
    public override string ToString() => "[" + string.Join(", ", Array) + "]";
}
