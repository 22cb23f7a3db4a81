namespace Ember;

/// <summary>Shape ops of PyTorch's everyday API, as composites of views, Cat and IndexSelect (differentiable, every backend).</summary>
public sealed partial class Tensor
{
    /// <summary>Moves dim <paramref name="source"/> to position <paramref name="destination"/>, keeping the others' order (torch.movedim).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A dim is out of range.</exception>
    public Tensor Movedim(int source, int destination) => Movedim([source], [destination]);

    /// <summary>Moves several dims at once (torch.movedim with sequences).</summary>
    /// <exception cref="ArgumentException">The lists differ in length or repeat a dim.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dim is out of range.</exception>
    public Tensor Movedim(int[] source, int[] destination)
    {
        if (source.Length != destination.Length)
            throw new ArgumentException($"Movedim: Invalid source or destination dims: source ({source.Length} dims) should contain the same number of dims as destination ({destination.Length} dims).");
        var src = source.Select(d => ShapeUtil.NormalizeDim(d, Dim, "Movedim")).ToArray();
        var dst = destination.Select(d => ShapeUtil.NormalizeDim(d, Dim, "Movedim")).ToArray();
        if (src.Distinct().Count() != src.Length || dst.Distinct().Count() != dst.Length)
            throw new ArgumentException($"Movedim: repeated dim in source [{string.Join(", ", source)}] or destination [{string.Join(", ", destination)}].");
        var perm = new int[Dim];
        Array.Fill(perm, -1);
        for (int i = 0; i < src.Length; i++) perm[dst[i]] = src[i];
        var rest = Enumerable.Range(0, Dim).Where(d => !src.Contains(d)).GetEnumerator();
        for (int i = 0; i < Dim; i++) if (perm[i] < 0) { rest.MoveNext(); perm[i] = rest.Current; }
        return Permute(perm);
    }

    /// <summary>
    /// Repeats the tensor along each dim (torch.Tensor.repeat): result size dᵢ·repeatsᵢ; extra leading repeats add dims.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer repeats than dims, or a negative repeat.</exception>
    public Tensor Repeat(params long[] repeats)
    {
        if (repeats.Length < Dim)
            throw new ArgumentException($"Repeat: number of dimensions of repeat dims ({repeats.Length}) can not be smaller than number of dimensions of tensor ({Dim}, shape {Shape}).");
        if (repeats.Any(r => r < 0)) throw new ArgumentException($"Repeat: repeats must be non-negative, got [{string.Join(", ", repeats)}].");
        var x = Reshape([.. Enumerable.Repeat(1L, repeats.Length - Dim), .. shape]);
        // [.., dᵢ, ..] → [.., 1, dᵢ, ..] expanded to [.., rᵢ, dᵢ, ..] → merged into rᵢ·dᵢ (outer copy index first, as torch).
        var inter = new List<long>();
        var expanded = new List<long>();
        for (int i = 0; i < repeats.Length; i++) { inter.Add(1); inter.Add(x.shape[i]); expanded.Add(repeats[i]); expanded.Add(x.shape[i]); }
        return x.Reshape([.. inter]).Expand([.. expanded]).Reshape(repeats.Select((r, i) => r * x.shape[i]).ToArray());
    }

    /// <summary>Repeats like <see cref="Repeat"/>, padding <paramref name="reps"/> with leading ones when shorter than Dim (torch.tile).</summary>
    public Tensor Tile(params long[] reps) => Repeat([.. Enumerable.Repeat(1L, Math.Max(0, Dim - reps.Length)), .. reps]);

    /// <summary>Repeats each element <paramref name="repeats"/> times along dim (torch.repeat_interleave); without a dim, of the flattened tensor.</summary>
    /// <exception cref="ArgumentException">repeats is negative.</exception>
    public Tensor RepeatInterleave(long repeats, int? dim = null)
    {
        if (repeats < 0) throw new ArgumentException($"RepeatInterleave: repeats must be non-negative, got {repeats}.");
        var x = dim is null ? Reshape(-1) : this;
        int d = ShapeUtil.NormalizeDim(dim ?? 0, x.Dim, "RepeatInterleave");
        var ex = (long[])x.shape.Clone();
        var res = (long[])x.shape.Clone();
        res[d] *= repeats;
        var withOne = x.Unsqueeze(d + 1);
        ex = [.. ex.Take(d + 1), repeats, .. ex.Skip(d + 1)];
        return withOne.Expand(ex).Reshape(res);
    }

    /// <summary>Repeats element i of dim repeats[i] times (torch.repeat_interleave with a tensor of counts).</summary>
    /// <exception cref="ArgumentException">repeats is not a 1-D integer tensor of dim's size, or holds a negative count.</exception>
    public Tensor RepeatInterleave(Tensor repeats, int? dim = null)
    {
        ArgumentNullException.ThrowIfNull(repeats);
        var x = dim is null ? Reshape(-1) : this;
        int d = ShapeUtil.NormalizeDim(dim ?? 0, x.Dim, "RepeatInterleave");
        if (!repeats.DType.IsIndex() || repeats.Dim > 1 || (repeats.Numel != x.shape[d] && repeats.Numel != 1))
            throw new ArgumentException($"RepeatInterleave: repeats must be a 0-D or 1-D integer tensor with {x.shape[d]} elements, got {repeats.DType} of shape {repeats.Shape}.");
        var counts = repeats.To(DType.Int64).ToArray<long>();
        if (counts.Any(c => c < 0)) throw new ArgumentException("RepeatInterleave: repeats can not be negative.");
        var idx = new List<long>();
        for (long i = 0; i < x.shape[d]; i++) for (long c = 0; c < counts[counts.Length == 1 ? 0 : i]; c++) idx.Add(i);
        return x.IndexSelect(d, FromArray(idx.ToArray()).To(Device));
    }

    /// <summary>Reverses the order of elements along the given dims (torch.flip).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A dim is out of range.</exception>
    public Tensor Flip(params int[] dims)
    {
        var x = this;
        foreach (var dim in dims.Select(d => ShapeUtil.NormalizeDim(d, Dim, "Flip")).Distinct())
        {
            long n = shape[dim];
            var rev = new long[n];
            for (long i = 0; i < n; i++) rev[i] = n - 1 - i;
            x = x.IndexSelect(dim, FromArray(rev).To(Device));
        }
        return x;
    }

    /// <summary>Flips dim 1 (left/right, torch.fliplr).</summary>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 dims.</exception>
    public Tensor Fliplr() => Dim < 2 ? throw new ArgumentException($"Fliplr: input must be >= 2-d, got shape {Shape}.") : Flip(1);

    /// <summary>Flips dim 0 (up/down, torch.flipud).</summary>
    /// <exception cref="ArgumentException">The tensor is 0-dim.</exception>
    public Tensor Flipud() => Dim < 1 ? throw new ArgumentException($"Flipud: input must be >= 1-d, got shape {Shape}.") : Flip(0);

    /// <summary>Rolls elements along dims by shifts (torch.roll); elements shifted past the end re-enter at the start. Without dims, of the flattened tensor.</summary>
    /// <exception cref="ArgumentException">shifts and dims differ in length.</exception>
    public Tensor Roll(long[] shifts, int[]? dims = null)
    {
        if (dims is null || dims.Length == 0)
        {
            if (shifts.Length != 1) throw new ArgumentException($"Roll: expected one shift without dims, got {shifts.Length}.");
            return Reshape(-1).Roll(shifts, [0]).Reshape(shape);
        }
        if (shifts.Length != dims.Length) throw new ArgumentException($"Roll: shifts ({shifts.Length}) and dimensions ({dims.Length}) must align.");
        var x = this;
        for (int i = 0; i < dims.Length; i++)
        {
            int d = ShapeUtil.NormalizeDim(dims[i], Dim, "Roll");
            long n = shape[d];
            if (n == 0) continue;
            long s = ((shifts[i] % n) + n) % n;
            if (s == 0) continue;
            x = Cat([x.Narrow(d, n - s, s), x.Narrow(d, 0, n - s)], d);
        }
        return x;
    }

    /// <summary>Rolls along one dim.</summary>
    public Tensor Roll(long shift, int dim) => Roll([shift], [dim]);

    /// <summary>Rotates by 90° k times in the plane of two dims, from the first towards the second (torch.rot90).</summary>
    /// <exception cref="ArgumentException">dims are not two distinct dims, or the tensor has fewer than 2 dims.</exception>
    public Tensor Rot90(int k = 1, int dim0 = 0, int dim1 = 1)
    {
        if (Dim < 2) throw new ArgumentException($"Rot90: expected total dims >= 2, but got total dims = {Dim}.");
        int a = ShapeUtil.NormalizeDim(dim0, Dim, "Rot90"), b = ShapeUtil.NormalizeDim(dim1, Dim, "Rot90");
        if (a == b) throw new ArgumentException($"Rot90: expected rotation dims to be different, got {dim0} and {dim1}.");
        return (((k % 4) + 4) % 4) switch
        {
            1 => Flip(b).Transpose(a, b),
            2 => Flip(a, b),
            3 => Flip(a).Transpose(a, b),
            _ => this * 1.0,
        };
    }

    /// <summary>The slices along dim, each without that dim (torch.unbind); views.</summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public Tensor[] Unbind(int dim = 0)
    {
        int d = ShapeUtil.NormalizeDim(dim, Dim, "Unbind");
        return Enumerable.Range(0, (int)shape[d]).Select(i => Select(d, i)).ToArray();
    }

    private Tensor AtLeast(int rank) => (rank, Dim) switch
    {
        (2, 0) => Reshape(1, 1),
        (2, 1) => Unsqueeze(0),
        (3, 0) => Reshape(1, 1, 1),
        (3, 1) => Reshape(1, shape[0], 1),
        (3, 2) => Unsqueeze(2),
        _ => this,
    };

    /// <summary>Stacks horizontally (torch.hstack): concatenates 1-D tensors along dim 0 and others along dim 1.</summary>
    /// <exception cref="ArgumentException">The list is empty or shapes do not match.</exception>
    public static Tensor HStack(IReadOnlyList<Tensor> tensors)
    {
        if (tensors.Count == 0) throw new ArgumentException("HStack: expected a non-empty list of tensors.");
        var t = tensors.Select(x => x.Dim == 0 ? x.Reshape(1) : x).ToList();
        return Cat(t, t[0].Dim == 1 ? 0 : 1);
    }

    /// <summary>Stacks vertically (torch.vstack): each made at least 2-D, concatenated along dim 0.</summary>
    /// <exception cref="ArgumentException">The list is empty or shapes do not match.</exception>
    public static Tensor VStack(IReadOnlyList<Tensor> tensors)
    {
        if (tensors.Count == 0) throw new ArgumentException("VStack: expected a non-empty list of tensors.");
        return Cat(tensors.Select(x => x.AtLeast(2)).ToList(), 0);
    }

    /// <summary>Stacks depth-wise (torch.dstack): each made at least 3-D, concatenated along dim 2.</summary>
    /// <exception cref="ArgumentException">The list is empty or shapes do not match.</exception>
    public static Tensor DStack(IReadOnlyList<Tensor> tensors)
    {
        if (tensors.Count == 0) throw new ArgumentException("DStack: expected a non-empty list of tensors.");
        return Cat(tensors.Select(x => x.AtLeast(3)).ToList(), 2);
    }
}
