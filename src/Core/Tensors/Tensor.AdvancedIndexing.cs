namespace Ember;

/// <summary>
/// PyTorch's advanced indexing through the indexer: index tensors mixed with ints, slices, new axes and an ellipsis,
/// for reading (a differentiable copy) and writing (in place). The basic items are applied first as views; the index
/// tensors then pick positions of the remaining view with the IndexSelect/Scatter primitives.
/// </summary>
public sealed partial class Tensor
{
    /// <summary>
    /// Applies the basic items of an index as views and returns that view with the index tensors, each with the dim of
    /// the view it indexes (ascending) as Int64 positions in range (a Bool mask becomes one position tensor per dim).
    /// This follows PyTorch's algorithm exactly (torch/csrc/autograd/python_variable_indexing): ints, slices and new
    /// axes apply first while an index tensor advances the dim counter by one, even a mask over k dims; the masks are
    /// then expanded into k position tensors over k consecutive dims of the view. So, as in PyTorch (and unlike NumPy),
    /// an item after a k-dim mask applies to the mask's second dim: for x of shape [5, 6, 6] and a [5, 6] mask m,
    /// <c>x[m, 0]</c> selects dim 1 and m covers dims 0 and 2. A 0-dim integer tensor selects like an int.
    /// </summary>
    private (Tensor View, List<(int Dim, Tensor Positions)> Advanced) SplitIndex(string op, TensorIndex[] indices)
    {
        int consumed = 0, ellipses = 0;
        foreach (var ix in indices)
        {
            switch (ix.Kind)
            {
                case TensorIndex.Kinds.Int or TensorIndex.Kinds.FromEnd or TensorIndex.Kinds.Range: consumed++; break;
                case TensorIndex.Kinds.Ellipsis: ellipses++; break;
                case TensorIndex.Kinds.Tensor:
                    var ti = ix.TensorValue!;
                    ti.CheckNotDisposed(op);
                    if (ti.DType != DType.Bool && !ti.DType.IsInteger())
                        throw new ArgumentException($"{op}: tensors used as indices must be long, int or bool tensors, got {ti.DType} (shape {ti.Shape}).");
                    if (ti.Device != Device && ti.Device != Device.Cpu) CheckSameDevice(op, this, ti);
                    consumed += ti.DType == DType.Bool ? ti.Dim : 1;
                    break;
            }
        }
        if (ellipses > 1) throw new ArgumentException($"{op}: at most one Ellipsis is allowed.");
        if (consumed > Dim) throw new ArgumentException($"{op}: too many indices for a tensor of shape {Shape} ({consumed} dims indexed).");
        Tensor t = this;
        int dim = 0;
        var slots = new List<Tensor?>();   // the index tensor recorded at each dim of the view (null: none)
        void Record(Tensor index)
        {
            while (slots.Count <= dim) slots.Add(null);
            slots[dim++] = index;
        }
        foreach (var ix in indices)
        {
            switch (ix.Kind)
            {
                case TensorIndex.Kinds.Int: t = t.Select(dim, ix.Value); break;
                case TensorIndex.Kinds.FromEnd: t = t.Select(dim, -ix.Value); break;
                case TensorIndex.Kinds.NewAxis: t = t.Unsqueeze(dim); dim++; break;
                case TensorIndex.Kinds.Ellipsis: dim += Dim - consumed; break;
                case TensorIndex.Kinds.Range: t = t.SliceRange(dim, ix); dim++; break;
                case TensorIndex.Kinds.Tensor:
                    var ti = ix.TensorValue!;
                    if (ti.Device != Device) ti = ti.To(Device);   // a CPU index tensor may index a tensor on any device, as in PyTorch
                    if (ti.Dim == 0 && ti.DType != DType.Bool) t = t.Select(dim, (long)ti.Item());
                    else if (ti.Dim == 0)
                    {
                        // x[True] adds a dim of size 1 and x[False] one of size 0, as PyTorch does.
                        t = t.Unsqueeze(dim);
                        Record(Zeros([ti.Item() != 0 ? 1 : 0], DType.Int64, Device));
                    }
                    else Record(ti);
                    break;
            }
        }
        var advanced = new List<(int, Tensor)>();
        int pos = 0;
        foreach (var slot in slots)
        {
            if (slot is null) { pos++; continue; }
            if (slot.DType == DType.Bool)
            {
                if (pos + slot.Dim > t.Dim || !t.shape.AsSpan(pos, slot.Dim).SequenceEqual(slot.shape))
                    throw new ArgumentException($"{op}: the shape of the mask {slot.Shape} does not match the shape of the indexed tensor {t.Shape} at dims {pos}..{pos + slot.Dim - 1} (after the ints, slices and new axes of the index are applied to shape {Shape}).");
                var nz = slot.Nonzero();
                for (int j = 0; j < slot.Dim; j++) advanced.Add((pos + j, nz.Select(1, j)));
                pos += slot.Dim;
            }
            else
            {
                if (pos >= t.Dim) throw new ArgumentException($"{op}: too many indices for a tensor of shape {Shape}.");
                advanced.Add((pos, t.NormalizeIndex(op, slot, t.shape[pos])));
                pos++;
            }
        }
        return (t, advanced);
    }

    /// <summary>
    /// The layout of an advanced index over view t: t permuted with the indexed dims first, the flat row of each picked
    /// position (Int64, the broadcast index shape B), the dims left over, and where B goes in the result (the first
    /// indexed dim's place when the indexed dims are adjacent, else 0: PyTorch's and NumPy's rule).
    /// </summary>
    private static (Tensor Front, Tensor Rows, long[] B, long[] RestShape, int Insert) AdvancedLayout(string op, Tensor t, List<(int Dim, Tensor Positions)> advanced)
    {
        long[] b = advanced[0].Positions.shape;
        foreach (var (_, p) in advanced.Skip(1))
        {
            try { b = ShapeUtil.Broadcast(op, b, p.shape); }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{op}: shape mismatch: indexing tensors could not be broadcast together with shapes {string.Join(", ", advanced.Select(a => a.Positions.Shape))}.", e);
            }
        }
        var dims = advanced.Select(a => a.Dim).ToArray();
        var rest = Enumerable.Range(0, t.Dim).Except(dims).ToArray();
        bool adjacent = dims[^1] - dims[0] == dims.Length - 1;
        // Row-major flat position over the indexed dims: Σ idx_d · (product of the later indexed dims' sizes).
        Tensor? rows = null;
        long scale = 1;
        for (int k = advanced.Count - 1; k >= 0; k--)
        {
            var term = scale == 1 ? advanced[k].Positions : advanced[k].Positions * scale;
            rows = rows is null ? term : rows + term;
            scale *= t.shape[dims[k]];
        }
        var front = t.Permute([.. dims, .. rest]);
        return (front.Reshape([scale, .. rest.Select(d => t.shape[d])]), rows!.Expand(b).Reshape(-1),
            b, rest.Select(d => t.shape[d]).ToArray(), adjacent ? dims[0] : 0);
    }

    /// <summary>The permutation that moves B's <paramref name="nb"/> leading dims to position <paramref name="insert"/>.</summary>
    private static int[] MoveLeading(int nb, int insert, int rank) =>
        [.. Enumerable.Range(nb, insert), .. Enumerable.Range(0, nb), .. Enumerable.Range(nb + insert, rank - nb - insert)];

    private static Tensor AdvancedIndex(Tensor t, List<(int Dim, Tensor Positions)> advanced)
    {
        var (front, rows, b, rest, insert) = AdvancedLayout("Index", t, advanced);
        var picked = front.IndexSelect(0, rows).Reshape([.. b, .. rest]);
        return insert == 0 ? picked : picked.Permute(MoveLeading(b.Length, insert, picked.Dim));
    }

    private void AdvancedIndexPut_(Tensor t, List<(int Dim, Tensor Positions)> advanced, Tensor value)
    {
        var (_, rows, b, rest, insert) = AdvancedLayout("Index", t, advanced);
        // The indexed result's shape, with B at its place; the value must broadcast to it (checked before any write).
        long[] resultShape = [.. rest.Take(insert), .. b, .. rest.Skip(insert)];
        bool fits;
        try { fits = ShapeUtil.Broadcast("Index", resultShape, value.shape).AsSpan().SequenceEqual(resultShape); }
        catch (ArgumentException) { fits = false; }
        if (!fits)
            throw new ArgumentException($"Index: shape mismatch: value tensor of shape {value.Shape} cannot be broadcast to indexing result of shape {ShapeUtil.Format(resultShape)}.");
        var v = value.Device == Device && value.DType == DType ? value : value.To(Device).To(DType);
        // Back to the B-first layout of the rows: the inverse of MoveLeading.
        var vFront = v.Detach().Expand(resultShape);
        if (insert != 0)
        {
            var perm = MoveLeading(b.Length, insert, resultShape.Length);
            var inverse = new int[perm.Length];
            for (int i = 0; i < perm.Length; i++) inverse[perm[i]] = i;
            vFront = vFront.Permute(inverse);
        }
        var dims = advanced.Select(a => a.Dim).ToArray();
        var target = t.Permute([.. dims, .. Enumerable.Range(0, t.Dim).Except(dims)]);   // a view of this tensor
        target.IndexPut_(advanced.Select(a => a.Positions).ToArray(), vFront.Reshape([rows.Numel, .. rest]));
    }
}
