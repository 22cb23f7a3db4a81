namespace Ember;

public sealed partial class Tensor
{
    /// <summary>
    /// The same elements with another shape; one size may be −1 (inferred). A view when the strides allow
    /// it, else a contiguous copy (torch.reshape).
    /// </summary>
    /// <exception cref="ArgumentException">The element counts differ or more than one size is −1.</exception>
    public Tensor Reshape(params long[] newShape)
    {
        var target = InferShape("Reshape", newShape);
        var st = ViewStrides(target);
        Tensor result = st != null ? new Tensor(storage, offset, target, st) : Contiguous().Reshape(target);
        if (st == null) return result; // the recursion recorded Copy and Reshape
        return AutogradHook.Record(OpKind.Reshape, result, new OpArgs { InputShape = shape }, this);
    }

    /// <summary>A view with another shape (torch.view); unlike Reshape it never copies.</summary>
    /// <exception cref="ArgumentException">The sizes do not match or the strides cannot express the view (call Contiguous() or Reshape).</exception>
    public Tensor View(params long[] newShape)
    {
        var target = InferShape("View", newShape);
        var st = ViewStrides(target) ?? throw new ArgumentException(
            $"View: shape {Shape} with strides {ShapeUtil.Format(strides)} cannot be viewed as {ShapeUtil.Format(target)}; use Reshape or Contiguous() first.");
        return AutogradHook.Record(OpKind.Reshape, new Tensor(storage, offset, target, st), new OpArgs { InputShape = shape }, this);
    }

    /// <summary>A view with the shape of <paramref name="other"/>.</summary>
    public Tensor ViewAs(Tensor other) => View(other.shape);

    /// <summary>Flattens dims startDim..endDim into one (torch.flatten).</summary>
    public Tensor Flatten(int startDim = 0, int endDim = -1)
    {
        if (Dim == 0) return Reshape(1);
        int s = ShapeUtil.NormalizeDim(startDim, Dim, "Flatten"), e = ShapeUtil.NormalizeDim(endDim, Dim, "Flatten");
        if (s > e) throw new ArgumentException($"Flatten: startDim {startDim} must not come after endDim {endDim} (shape {Shape}).");
        var ns = new List<long>();
        for (int i = 0; i < s; i++) ns.Add(shape[i]);
        long m = 1; for (int i = s; i <= e; i++) m *= shape[i];
        ns.Add(m);
        for (int i = e + 1; i < Dim; i++) ns.Add(shape[i]);
        return Reshape([.. ns]);
    }

    /// <summary>Splits dim into the given sizes (torch.unflatten).</summary>
    public Tensor Unflatten(int dim, params long[] sizes)
    {
        int d = IndexedDim(dim, "Unflatten");
        var ns = new List<long>(shape[..d]);
        ns.AddRange(sizes);
        ns.AddRange(shape[(d + 1)..]);
        return Reshape([.. ns]);
    }

    /// <summary>Reorders dims: result dim i is input dim perm[i] (torch.permute). A view.</summary>
    /// <exception cref="ArgumentException">perm is not a permutation of 0..Dim−1.</exception>
    public Tensor Permute(params int[] perm)
    {
        if (perm.Length != Dim) throw new ArgumentException($"Permute: expected {Dim} dims for shape {Shape}, got ({string.Join(", ", perm)}).");
        var p = new int[Dim];
        var seen = new bool[Dim];
        for (int i = 0; i < Dim; i++)
        {
            p[i] = ShapeUtil.NormalizeDim(perm[i], Dim, "Permute");
            if (seen[p[i]]) throw new ArgumentException($"Permute: dim {p[i]} repeats in ({string.Join(", ", perm)}).");
            seen[p[i]] = true;
        }
        var ns = new long[Dim]; var nst = new long[Dim];
        for (int i = 0; i < Dim; i++) { ns[i] = shape[p[i]]; nst[i] = strides[p[i]]; }
        return AutogradHook.Record(OpKind.Permute, new Tensor(storage, offset, ns, nst), new OpArgs { Perm = p }, this);
    }

    /// <summary>Swaps two dims (torch.transpose). A view.</summary>
    public Tensor Transpose(int dim0, int dim1)
    {
        if (Dim < 2 && Dim == 0) return this;
        int a = ShapeUtil.NormalizeDim(dim0, Dim, "Transpose"), b = ShapeUtil.NormalizeDim(dim1, Dim, "Transpose");
        var p = new int[Dim];
        for (int i = 0; i < Dim; i++) p[i] = i;
        (p[a], p[b]) = (p[b], p[a]);
        return Permute(p);
    }

    /// <summary>Reverses all dims (torch's <c>.T</c>; for 2-D the transpose).</summary>
    public Tensor T
    {
        get
        {
            var p = new int[Dim];
            for (int i = 0; i < Dim; i++) p[i] = Dim - 1 - i;
            return Permute(p);
        }
    }

    /// <summary>Transposes the last two dims (torch's <c>.mT</c>).</summary>
    /// <exception cref="InvalidOperationException">Fewer than 2 dims.</exception>
    public Tensor mT => Dim >= 2 ? Transpose(-2, -1) : throw new InvalidOperationException($"mT: expected at least 2 dims, got shape {Shape}.");

    /// <summary>Broadcasts size-1 dims (and new leading dims) to the given sizes without copying; −1 keeps a size.</summary>
    /// <exception cref="ArgumentException">A non-1 size would change, or the element count overflows Int64.</exception>
    public Tensor Expand(params long[] sizes)
    {
        if (sizes.Length < Dim) throw new ArgumentException($"Expand: target {ShapeUtil.Format(sizes)} has fewer dims than shape {Shape}.");
        int lead = sizes.Length - Dim;
        var ns = new long[sizes.Length]; var nst = new long[sizes.Length];
        for (int i = 0; i < sizes.Length; i++)
        {
            if (i < lead)
            {
                if (sizes[i] < 0) throw new ArgumentException($"Expand: −1 is not allowed for the new leading dim {i} (target {ShapeUtil.Format(sizes)}).");
                ns[i] = sizes[i]; nst[i] = 0; continue;
            }
            long cur = shape[i - lead], want = sizes[i] == -1 ? cur : sizes[i];
            if (cur == want) { ns[i] = cur; nst[i] = strides[i - lead]; }
            else if (cur == 1) { ns[i] = want; nst[i] = 0; }
            else throw new ArgumentException($"Expand: shape {Shape} cannot be expanded to {ShapeUtil.Format(sizes)} (dim {i}: {cur} is not 1).");
        }
        if (ns.AsSpan().SequenceEqual(shape)) return this;
        CheckedNumel("Expand", ns);
        return AutogradHook.Record(OpKind.Expand, new Tensor(storage, offset, ns, nst), new OpArgs { InputShape = shape }, this);
    }

    /// <summary>Expands to the shape of <paramref name="other"/>.</summary>
    public Tensor ExpandAs(Tensor other) => Expand(other.shape);

    /// <summary>Broadcasts to a shape (torch.broadcast_to).</summary>
    public Tensor BroadcastTo(params long[] sizes) => Expand(sizes);

    /// <summary>Removes all size-1 dims (or only <paramref name="dim"/> when given and of size 1).</summary>
    public Tensor Squeeze(int? dim = null)
    {
        if (dim is int d0)
        {
            int d = ShapeUtil.NormalizeDim(d0, Dim, "Squeeze");
            if (Dim == 0 || shape[d] != 1) return this;
            var ns = new List<long>(shape); ns.RemoveAt(d);
            return Reshape([.. ns]);
        }
        return Reshape(shape.Where(s => s != 1).ToArray());
    }

    /// <summary>Inserts a size-1 dim at <paramref name="dim"/> (in [−Dim−1, Dim]).</summary>
    public Tensor Unsqueeze(int dim)
    {
        int d = ShapeUtil.NormalizeDim(dim, Dim + 1, "Unsqueeze");
        var ns = new List<long>(shape); ns.Insert(d, 1);
        return Reshape([.. ns]);
    }

    /// <summary>A view of <paramref name="length"/> elements of dim starting at <paramref name="start"/> (torch.narrow).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range leaves the dim.</exception>
    public Tensor Narrow(int dim, long start, long length) => Slice(dim, start, start + length, 1, "Narrow");

    /// <summary>A strided slice [start, end) with step along dim; bounds clamp like Python slices.</summary>
    public Tensor Slice(int dim, long start, long end, long step = 1) => Slice(dim, start, end, step, "Slice", clamp: true);

    private Tensor Slice(int dim, long start, long end, long step, string op, bool clamp = false)
    {
        int d = IndexedDim(dim, op);
        long n = shape[d];
        if (step <= 0) throw new ArgumentException($"{op}: step must be positive, got {step}.");
        if (clamp)
        {
            if (start < 0) start += n;
            if (end < 0) end += n;
            start = Math.Clamp(start, 0, n); end = Math.Clamp(end, start, n);
        }
        else if (start < 0 || end > n || start > end)
            throw new ArgumentOutOfRangeException(nameof(start), $"{op}: range [{start}, {end}) is outside dim {d} of size {n} (shape {Shape}).");
        long len = (end - start + step - 1) / step;
        var ns = (long[])shape.Clone(); var nst = (long[])strides.Clone();
        ns[d] = len; nst[d] = strides[d] * step;
        var r = new Tensor(storage, offset + start * strides[d], ns, nst);
        return AutogradHook.Record(OpKind.Slice, r,
            new OpArgs { Dim = d, Start = start, Length = len, Step = step, InputShape = shape, InputStrides = strides }, this);
    }

    /// <summary>Selects one position of dim, removing the dim (torch.select); negative index counts from the end.</summary>
    /// <exception cref="ArgumentOutOfRangeException">index is outside the dim.</exception>
    public Tensor Select(int dim, long index)
    {
        int d = IndexedDim(dim, "Select");
        long n = shape[d];
        if (index < -n || index >= n)
            throw new ArgumentOutOfRangeException(nameof(index), $"Select: index {index} is out of range for dim {d} of size {n} (shape {Shape}).");
        if (index < 0) index += n;
        return Narrow(d, index, 1).Squeeze(d);
    }

    /// <summary>
    /// Indexing as PyTorch's <c>x[...]</c>. With ints, <see cref="Index"/>, <see cref="Range"/>,
    /// <see cref="TensorIndex.NewAxis"/> and <see cref="TensorIndex.Ellipsis"/> (<c>x[0]</c>, <c>x[.., 1..3]</c>,
    /// <c>x[^1]</c>) the result is a view. With index tensors among them (<c>x[mask]</c>, <c>x[idx]</c>,
    /// <c>x[.., idx, 0]</c>, <c>x[i, .., j]</c>) it is PyTorch's advanced indexing and a copy: ints, slices and new axes
    /// apply first as views; the index tensors (Int64/Int32 positions, one dim each; a Bool mask covers as many dims as
    /// it has and stands for its nonzero positions; on this tensor's device or the CPU) broadcast together to a shape B; B replaces the indexed dims where
    /// they are adjacent, and comes first otherwise. Reads are differentiable (repeated positions accumulate gradient).
    /// The setter writes in place: a tensor (or a scalar, through Tensor's implicit conversions: <c>x[.., 0] = 5</c>)
    /// broadcast to the indexed shape and converted to this tensor's dtype and device.
    /// </summary>
    /// <exception cref="ArgumentException">Too many indices, more than one ellipsis, an index tensor that is not
    /// Int64/Int32/Bool, a mask whose shape differs from the dims it covers, index tensors that do not broadcast, or a
    /// value that does not broadcast to the indexed shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An integer or index-tensor position is out of range.</exception>
    [System.Runtime.CompilerServices.IndexerName("At")]
    public Tensor this[params TensorIndex[] indices]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(indices);
            var (view, advanced) = SplitIndex("Index", indices);
            return advanced.Count == 0 ? view : AdvancedIndex(view, advanced);
        }
        set
        {
            ArgumentNullException.ThrowIfNull(indices); ArgumentNullException.ThrowIfNull(value);
            var (view, advanced) = SplitIndex("Index", indices);
            if (advanced.Count == 0) view.Copy_(value);
            else AdvancedIndexPut_(view, advanced, value);
        }
    }

    /// <summary>The view of a Range item of an index along dim.</summary>
    private Tensor SliceRange(int dim, TensorIndex ix)
    {
        long n = shape[dim];
        // Python-like clamping of range ends to [0, n], so x[..100] on a short dim is not an error.
        long s = Math.Clamp(ix.RangeValue.Start.IsFromEnd ? n - ix.RangeValue.Start.Value : ix.RangeValue.Start.Value, 0, n);
        long e = Math.Clamp(ix.RangeValue.End.IsFromEnd ? n - ix.RangeValue.End.Value : ix.RangeValue.End.Value, s, n);
        return ix.Step == 1 && s == 0 && e == n ? this : Slice(dim, s, e, ix.Step);
    }

    /// <summary>Sliding windows of <paramref name="size"/> with <paramref name="step"/> along dim, as a new last dim (torch.Tensor.unfold). Not differentiable through autograd.</summary>
    public Tensor Unfold(int dim, long size, long step)
    {
        int d = IndexedDim(dim, "Unfold");
        if (size <= 0 || step <= 0 || size > shape[d])
            throw new ArgumentException($"Unfold: size {size} and step {step} must be positive and size ≤ {shape[d]} (dim {d} of shape {Shape}).");
        var ns = new List<long>(shape) { size };
        ns[d] = (shape[d] - size) / step + 1;
        var nst = new List<long>(strides) { strides[d] };
        nst[d] = strides[d] * step;
        if (RequiresGrad && GradMode.IsEnabled)
            throw new NotSupportedException("Unfold: gradients through Unfold are not supported; use Detach() or compute windows with Slice.");
        return new Tensor(storage, offset, [.. ns], [.. nst]);
    }

    private long[] InferShape(string op, long[] newShape)
    {
        long n = Numel;
        int infer = -1;
        long product = 1;   // of the non-zero known sizes: it must fit Int64 (as in CheckedNumel) even when a size is 0
        bool zero = false;
        for (int i = 0; i < newShape.Length; i++)
        {
            long s = newShape[i];
            if (s == -1)
            {
                if (infer >= 0) throw new ArgumentException($"{op}: only one dimension can be −1, got {ShapeUtil.Format(newShape)}.");
                infer = i;
            }
            else if (s < 0) throw new ArgumentException($"{op}: invalid size {s} in {ShapeUtil.Format(newShape)}.");
            else if (s == 0) zero = true;
            else if (product > long.MaxValue / s) throw new ArgumentException($"{op}: shape {ShapeUtil.Format(newShape)} has more elements than Int64 can count.");
            else product *= s;
        }
        long known = zero ? 0 : product;
        var r = (long[])newShape.Clone();
        if (infer >= 0)
        {
            if (known == 0 || n % known != 0)
                throw new ArgumentException($"{op}: shape {ShapeUtil.Format(newShape)} is invalid for input of size {n} (shape {Shape}).");
            r[infer] = n / known;
        }
        else if (known != n)
            throw new ArgumentException($"{op}: shape {ShapeUtil.Format(newShape)} is invalid for input of size {n} (shape {Shape}).");
        return r;
    }

    // Strides for viewing this tensor with newShape without copying, or null (PyTorch's computeStride).
    private long[]? ViewStrides(long[] newShape)
    {
        if (IsContiguous) return ShapeUtil.ContiguousStrides(newShape);
        var ns = new long[newShape.Length];
        if (Numel == 0) return ShapeUtil.ContiguousStrides(newShape);
        int viewD = newShape.Length - 1;
        long chunkBase = strides.Length > 0 ? strides[^1] : 1;
        long tensorNumel = 1, viewNumel = 1;
        for (int d = Dim - 1; d >= 0; d--)
        {
            tensorNumel *= shape[d];
            if (d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensorNumel * chunkBase))
            {
                while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1))
                {
                    ns[viewD] = viewNumel * chunkBase;
                    viewNumel *= newShape[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) return null;
                if (d > 0) { chunkBase = strides[d - 1]; tensorNumel = 1; viewNumel = 1; }
            }
        }
        return viewD == -1 ? ns : null;
    }
}
