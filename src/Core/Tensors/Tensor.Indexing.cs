namespace Ember;

/// <summary>
/// Advanced indexing with tensors (PyTorch's <c>x[mask]</c>, <c>x[idx]</c>, <c>x[mask] = v</c>), masked_select,
/// nonzero, take and index_put. Positions are found on the host where the result's size depends on the data (as PyTorch
/// synchronizes for them); the values move with the differentiable IndexSelect/Scatter primitives on the tensor's device.
/// </summary>
public sealed partial class Tensor
{
    /// <summary>x viewed as [Π leading dims of mask, rest…] after checking the mask's shape.</summary>
    private Tensor LeadingRows(string op, Tensor mask)
    {
        CheckSameDevice(op, this, mask);
        if (mask.Dim > Dim || !shape.AsSpan(0, mask.Dim).SequenceEqual(mask.shape))
            throw new ArgumentException($"{op}: the shape of the mask {mask.Shape} does not match the shape of the indexed tensor {Shape} at its leading dims.");
        return Reshape([mask.Numel, .. shape.Skip(mask.Dim)]);
    }

    /// <summary>Row-major flat positions (Int64, on the tensor's device) where the Bool mask is true.</summary>
    private Tensor MaskPositions(string op, Tensor mask)
    {
        var m = mask.ToArray<bool>();
        var pos = new List<long>();
        for (long i = 0; i < m.LongLength; i++) if (m[i]) pos.Add(i);
        return FromArray(pos.ToArray()).To(Device);
    }

    /// <summary>An Int64 copy of an integer index with negative positions counted from the end of a dim of size n.</summary>
    private Tensor NormalizeIndex(string op, Tensor index, long n)
    {
        if (!index.DType.IsIndex())
            throw new ArgumentException($"{op}: tensors used as indices must be long, int or bool tensors, got {index.DType} (shape {index.Shape}).");
        CheckSameDevice(op, this, index);
        var i = index.To(DType.Int64);
        if (i.Numel > 0)
        {
            // Checked here, on the host, so the error names this op and nothing is written.
            long lo = (long)i.Min().Item(), hi = (long)i.Max().Item();
            if (lo < -n || hi >= n)
                throw new ArgumentOutOfRangeException(nameof(index), $"{op}: index {(lo < -n ? lo : hi)} is out of bounds for dimension with size {n} (indexed tensor shape {Shape}).");
        }
        return Where(i.Lt(0), i + n, i);
    }

    /// <summary>The elements where the (broadcast) Bool mask is true, as 1-D (torch.masked_select). Differentiable.</summary>
    /// <exception cref="ArgumentException">The mask is not Bool or does not broadcast.</exception>
    public Tensor MaskedSelect(Tensor mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        if (mask.DType != DType.Bool) throw new ArgumentException($"MaskedSelect: expected a Bool mask, got {mask.DType} (shape {mask.Shape}).");
        var s = ShapeUtil.Broadcast("MaskedSelect", shape, mask.shape);
        var x = Expand(s).Reshape(-1);
        return x.IndexSelect(0, MaskPositions("MaskedSelect", mask.Expand(s).Contiguous()));
    }

    /// <summary>The indices of the non-zero elements, Int64 [k, Dim] in row-major order (torch.nonzero).</summary>
    public Tensor Nonzero()
    {
        var nz = Ne(0).Contiguous().ToArray<bool>();
        var st = ShapeUtil.ContiguousStrides(shape);
        var rows = new List<long>();
        long k = 0;
        for (long i = 0; i < nz.LongLength; i++)
        {
            if (!nz[i]) continue;
            k++;
            long r = i;
            for (int d = 0; d < Dim; d++) { rows.Add(r / st[d]); r %= st[d]; }
        }
        return FromArray(rows.ToArray(), k, Dim).To(Device);
    }

    /// <summary>The non-zero indices as one Int64 vector per dim (torch.nonzero(as_tuple=True)), usable with <see cref="IndexPut_(Tensor[], Tensor, bool)"/>.</summary>
    public Tensor[] NonzeroTuple()
    {
        var nz = Nonzero();
        return Enumerable.Range(0, Dim).Select(d => nz.Select(1, d).Contiguous()).ToArray();
    }

    /// <summary>The elements at flat (row-major) positions of x (torch.take); the result has index's shape. Negative positions count from the end.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A position is out of range.</exception>
    public Tensor Take(Tensor index)
    {
        ArgumentNullException.ThrowIfNull(index);
        var flat = NormalizeIndex("Take", index, Numel);
        return Reshape(-1).IndexSelect(0, flat.Reshape(-1)).Reshape(index.shape);
    }

    /// <summary>
    /// Out-of-place index_put (torch.index_put): a copy of x with <paramref name="values"/> written (or added, with
    /// <paramref name="accumulate"/>) at the positions that the index tensors pick along the leading dims. The index
    /// tensors (Int64/Int32, broadcast together) or one Bool mask address [k] positions; values broadcast to
    /// [k, rest…]. With repeated positions and no accumulate the last write wins on the CPU (unspecified in PyTorch).
    /// Differentiable in x and values.
    /// </summary>
    /// <exception cref="ArgumentException">More index tensors than dims, bad dtypes, or shapes that do not broadcast.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is out of range.</exception>
    public Tensor IndexPut(Tensor[] indices, Tensor values, bool accumulate = false)
    {
        ArgumentNullException.ThrowIfNull(indices); ArgumentNullException.ThrowIfNull(values);
        if (indices.Length == 0) throw new ArgumentException("IndexPut: expected at least one index tensor.");
        if (indices.Length == 1 && indices[0].DType == DType.Bool)
        {
            var mask = indices[0];
            var rows = LeadingRows("IndexPut", mask);
            return Put(rows, MaskPositions("IndexPut", mask), values, accumulate).Reshape(shape);
        }
        if (indices.Length > Dim)
            throw new ArgumentException($"IndexPut: too many indices ({indices.Length}) for a tensor of shape {Shape}.");
        // Linear position over the indexed leading dims: Σ idx_d · (Π of the later indexed dims' sizes).
        Tensor? lin = null;
        long scale = 1;
        for (int d = indices.Length - 1; d >= 0; d--)
        {
            var idx = NormalizeIndex("IndexPut", indices[d], shape[d]);
            lin = lin is null ? idx * scale : lin + idx * scale;
            scale *= shape[d];
        }
        var flatRows = Reshape([scale, .. shape.Skip(indices.Length)]);
        return Put(flatRows, lin!.Reshape(-1), values, accumulate).Reshape(shape);
    }

    private static Tensor Put(Tensor rows, Tensor positions, Tensor values, bool accumulate)
    {
        CheckSameDevice("IndexPut", rows, values);
        CheckSameDType("IndexPut", rows, values);
        long k = positions.Numel;
        long[] target = [k, .. rows.shape.Skip(1)];
        // A 0-dim value is first given the target's rank, so its gradient sums back to a 0-dim tensor.
        var v = (values.Dim == 0 ? values.Reshape(Enumerable.Repeat(1L, target.Length).ToArray()) : values).Expand(target);
        if (accumulate) return rows.IndexAdd(0, positions, v.Contiguous());
        // Scatter along dim 0 with the row position repeated over the trailing dims.
        var idx = positions.Reshape([k, .. Enumerable.Repeat(1L, rows.Dim - 1)]).Expand(target).Contiguous();
        return rows.Scatter(0, idx, v.Contiguous());
    }

    /// <summary>In-place index_put (torch.index_put_; also <c>x[mask] = v</c>, <c>x[idx] = v</c>); returns this.</summary>
    /// <exception cref="ArgumentException">As <see cref="IndexPut"/>.</exception>
    /// <exception cref="InvalidOperationException">This tensor is part of an autograd graph (use <see cref="IndexPut"/>).</exception>
    public Tensor IndexPut_(Tensor[] indices, Tensor values, bool accumulate = false)
    {
        ArgumentNullException.ThrowIfNull(values);
        var v = values.DType == DType && values.Device == Device ? values : values.To(Device).To(DType);
        Tensor result;
        bool previous = GradMode.Set(false);   // the out-of-place result is only copied in: nothing to record
        try { result = IndexPut(indices, v.Detach(), accumulate); }
        finally { GradMode.Set(previous); }
        return Copy_(result);
    }

    /// <summary>Writes a scalar at the selected positions in place (<c>x[mask] = 0</c> in PyTorch); returns this.</summary>
    /// <exception cref="ArgumentException">As <see cref="IndexPut"/>.</exception>
    public Tensor IndexPut_(Tensor[] indices, double value) => IndexPut_(indices, ScalarTensor(value));
}
