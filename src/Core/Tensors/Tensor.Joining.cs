namespace Ember;

public sealed partial class Tensor
{
    // ---- cat, stack, split ----------------------------------------------------------------------------

    /// <summary>Concatenates along dim (torch.cat); all other sizes must match. Result shape: the inputs' with
    /// dim summed. Recorded as OpKind.Cat.</summary>
    /// <exception cref="ArgumentException">Empty list, or mismatched ranks/shapes/dtypes/devices.</exception>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public static Tensor Cat(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0) throw new ArgumentException("Cat: expected a non-empty list of tensors.");
        if (Autocast.Cast(AutocastOp.Cat, [.. tensors]) is { } cast) return Cat([.. cast.Select(t => t!)], dim);
        var first = tensors[0];
        if (first.Dim == 0) throw new ArgumentException("Cat: zero-dimensional tensors cannot be concatenated; Unsqueeze or use Stack.");
        int d = ShapeUtil.NormalizeDim(dim, first.Dim, "Cat");
        var sizes = new long[tensors.Count];
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            ArgumentNullException.ThrowIfNull(t);
            CheckSameDevice("Cat", first, t); CheckSameDType("Cat", first, t);
            t.CheckNotDisposed("Cat");
            bool ok = t.Dim == first.Dim;
            for (int j = 0; ok && j < t.Dim; j++) ok = j == d || t.shape[j] == first.shape[j];
            if (!ok)
                throw new ArgumentException(
                    $"Cat: tensor {i} has shape {t.Shape} but tensor 0 has shape {first.Shape}; sizes must match except in dim {d}.");
            sizes[i] = t.shape[d];
        }
        var outShape = (long[])first.shape.Clone();
        outShape[d] = sizes.Sum();
        var result = Alloc(outShape, first.DType, first.Device);
        long off = 0;
        for (int i = 0; i < tensors.Count; i++)
        {
            if (sizes[i] > 0)
            {
                var ns = (long[])outShape.Clone(); ns[d] = sizes[i];
                var part = new Tensor(result.storage, result.offset + off * result.strides[d], ns, result.strides);
                first.Backend.Copy(tensors[i], part);
            }
            off += sizes[i];
        }
        if (!first.IsFloatingPoint) return result;
        // Recorded: OpKind.Cat with Dim (normalized) and Sizes (each input's size along Dim); inputs in order.
        return AutogradHook.RecordMany(OpKind.Cat, result, new OpArgs { Dim = d, Sizes = sizes }, [.. tensors]);
    }

    /// <summary>Stacks same-shape tensors along a new dim (torch.stack): Unsqueeze(dim) of each, then Cat.</summary>
    /// <exception cref="ArgumentException">Empty list, or shapes/dtypes/devices differ.</exception>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0) throw new ArgumentException("Stack: expected a non-empty list of tensors.");
        var first = tensors[0];
        for (int i = 1; i < tensors.Count; i++)
            if (!tensors[i].shape.AsSpan().SequenceEqual(first.shape))
                throw new ArgumentException($"Stack: expects each tensor to be equal size, but got {first.Shape} at entry 0 and {tensors[i].Shape} at entry {i}.");
        int d = ShapeUtil.NormalizeDim(dim, first.Dim + 1, "Stack");
        return Cat(tensors.Select(t => t.Unsqueeze(d)).ToArray(), d);
    }

    /// <summary>Splits into pieces of <paramref name="splitSize"/> along dim (the last may be smaller); views (Narrow).</summary>
    /// <exception cref="ArgumentException">splitSize is not positive.</exception>
    public Tensor[] Split(long splitSize, int dim = 0)
    {
        int d = ShapeUtil.NormalizeDim(dim, Dim, "Split");
        if (splitSize <= 0 && !(splitSize == 0 && shape[d] == 0))
            throw new ArgumentException($"Split: split size must be positive, got {splitSize} (shape {Shape}).");
        long n = shape[d];
        if (n == 0) return [this];
        var parts = new List<Tensor>();
        for (long s = 0; s < n; s += splitSize) parts.Add(Narrow(d, s, Math.Min(splitSize, n - s)));
        return [.. parts];
    }

    /// <summary>Splits into pieces of the given sizes along dim (they must sum to the dim's size); views.</summary>
    /// <exception cref="ArgumentException">The sizes do not sum to the dim's size or one is negative.</exception>
    public Tensor[] Split(long[] sizes, int dim = 0)
    {
        int d = ShapeUtil.NormalizeDim(dim, Dim, "Split");
        if (sizes.Any(s => s < 0) || sizes.Sum() != shape[d])
            throw new ArgumentException(
                $"Split: sizes {ShapeUtil.Format(sizes)} must be non-negative and sum to {shape[d]} (dim {d} of shape {Shape}).");
        var parts = new Tensor[sizes.Length];
        long off = 0;
        for (int i = 0; i < sizes.Length; i++) { parts[i] = Narrow(d, off, sizes[i]); off += sizes[i]; }
        return parts;
    }

    /// <summary>Splits into at most <paramref name="chunks"/> pieces of ⌈n/chunks⌉ along dim (torch.chunk); views.</summary>
    /// <exception cref="ArgumentException">chunks is not positive.</exception>
    public Tensor[] Chunk(int chunks, int dim = 0)
    {
        if (chunks <= 0) throw new ArgumentException($"Chunk: number of chunks must be positive, got {chunks} (shape {Shape}).");
        int d = ShapeUtil.NormalizeDim(dim, Dim, "Chunk");
        long n = shape[d];
        long size = (n + chunks - 1) / chunks;
        if (n == 0) return Enumerable.Range(0, chunks).Select(_ => Narrow(d, 0, 0)).ToArray();
        return Split(size, d);
    }

    // ---- gather / scatter / index ------------------------------------------------------------------------

    /// <summary>Checks that every index lies in [0, size) on the host, before any kernel runs.</summary>
    // What an index op reports for an index outside [0, size) of x's dim (the host check below and IndexSelect's backend check).
    private static IndexCheck IndexRangeCheck(string op, Tensor index, long size, int dim, Tensor x) =>
        new(nameof(index), v => $"{op}: index {v} is out of bounds for dim {dim} with size {size} (input shape {x.Shape}, index shape {index.Shape}).");

    private static void CheckIndexRange(string op, Tensor index, long size, int dim, Tensor x)
    {
        if (index.Numel == 0) return;
        var idx = index.DType == DType.Int64 ? index : index.To(DType.Int64);
        CompositeKernels.CheckIndices(idx, size, null, IndexRangeCheck(op, index, size, dim, x));
    }

    private void CheckIndexTensor(string op, Tensor index, bool allowInt32)
    {
        ArgumentNullException.ThrowIfNull(index);
        CheckSameDevice(op, this, index);
        if (index.DType != DType.Int64 && !(allowInt32 && index.DType == DType.Int32))
            throw new ArgumentException($"{op}: expected an Int64{(allowInt32 ? " or Int32" : "")} index, got {index.DType} (index shape {index.Shape}, input shape {Shape}).");
    }

    /// <summary>torch.gather: out[i][j][k] = x[i][index[i][j][k]][k] (dim = 1); index Int64 with x's rank and
    /// index.size(d) ≤ x.size(d) for d ≠ dim; result has index's shape. Recorded as OpKind.Gather.</summary>
    /// <exception cref="ArgumentException">index is not Int64, ranks differ, or index is larger than x in a dim ≠ dim.</exception>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range, or an index is outside [0, x.size(dim)).</exception>
    public Tensor Gather(int dim, Tensor index)
    {
        CheckIndexTensor("Gather", index, false);
        int d = ShapeUtil.NormalizeDim(dim, Dim, "Gather");
        CheckScatterShapes("Gather", index, null, d);
        var x = Dim == 0 ? RawView([1]) : this;
        var idx = index.Dim == 0 ? index.RawView([1]) : index;
        CheckIndexRange("Gather", index, x.shape[d], d, this);
        var result = Alloc((long[])index.shape.Clone(), DType, Device);
        Backend.Gather(x, d, idx, result.Dim == 0 ? result.RawView([1]) : result);
        if (!IsFloatingPoint) return result;
        // Recorded: OpKind.Gather with Dim (normalized), Index (the Int64 index), InputShape.
        return AutogradHook.Record(OpKind.Gather, result, new OpArgs { Dim = d, Index = index, InputShape = shape }, this);
    }

    /// <summary>Index vs input/source shape rules of gather/scatter (PyTorch's): same rank; index.size(d) ≤ x.size(d) for d ≠ dim; index.size(d) ≤ src.size(d) for all d.</summary>
    private void CheckScatterShapes(string op, Tensor index, Tensor? source, int dim)
    {
        int rank = Math.Max(Dim, 1);
        if (Math.Max(index.Dim, 1) != rank || (source is not null && Math.Max(source.Dim, 1) != rank))
            throw new ArgumentException(
                $"{op}: index (shape {index.Shape}){(source is not null ? $", source (shape {source.Shape})" : "")} and input (shape {Shape}) must have the same number of dims.");
        for (int j = 0; j < index.Dim; j++)
        {
            if (j != dim && Dim > 0 && index.shape[j] > shape[j])
                throw new ArgumentException($"{op}: index shape {index.Shape} is larger than input shape {Shape} in dim {j} (only dim {dim} may differ).");
            if (source is not null && source.Dim > 0 && index.shape[j] > source.shape[j])
                throw new ArgumentException($"{op}: index shape {index.Shape} is larger than source shape {source.Shape} in dim {j}.");
        }
    }

    private Tensor ScatterCore(string op, int dim, Tensor index, Tensor source, bool accumulate)
    {
        CheckIndexTensor(op, index, false);
        CheckSameDevice(op, this, source); CheckSameDType(op, this, source);
        int d = ShapeUtil.NormalizeDim(dim, Dim, op);
        CheckScatterShapes(op, index, source, d);
        var self1 = Dim == 0 ? RawView([1]) : this;
        CheckIndexRange(op, index, self1.shape[d], d, this);
        var result = ContiguousCopyRaw();
        var r1 = result.Dim == 0 ? result.RawView([1]) : result;
        Backend.Scatter(r1, d, index.Dim == 0 ? index.RawView([1]) : index, source.Dim == 0 ? source.RawView([1]) : source, accumulate);
        if (!IsFloatingPoint) return result;
        // Recorded: OpKind.Scatter / ScatterAdd with Dim (normalized), Index, InputShape; inputs (this, source).
        return AutogradHook.Record(accumulate ? OpKind.ScatterAdd : OpKind.Scatter, result,
            new OpArgs { Dim = d, Index = index, InputShape = shape }, this, source);
    }

    private Tensor ContiguousCopyRaw()
    {
        var r = NewEmpty((long[])shape.Clone());
        Backend.Copy(this, r);
        return r;
    }

    /// <summary>torch.scatter (out of place): a copy of x with source[i][j][k] written at [i][index[i][j][k]][k] (dim = 1).
    /// With repeated indices the last write wins on the CPU (unspecified in PyTorch).</summary>
    /// <exception cref="ArgumentException">index is not Int64, or shapes/dtypes/devices mismatch.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, x.size(dim)).</exception>
    public Tensor Scatter(int dim, Tensor index, Tensor source) => ScatterCore("Scatter", dim, index, source, false);

    /// <summary>torch.scatter with a scalar value written at every index.</summary>
    /// <exception cref="ArgumentException">index is not Int64, or shapes mismatch.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, x.size(dim)).</exception>
    public Tensor Scatter(int dim, Tensor index, double value)
    {
        ArgumentNullException.ThrowIfNull(index);
        return ScatterCore("Scatter", dim, index, Full(index.Shape, value, DType, Device), false);
    }

    /// <summary>torch.scatter_add (out of place): a copy of x with source added at index along dim; repeats accumulate.</summary>
    /// <exception cref="ArgumentException">index is not Int64, or shapes/dtypes/devices mismatch.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, x.size(dim)).</exception>
    public Tensor ScatterAdd(int dim, Tensor index, Tensor source) => ScatterCore("ScatterAdd", dim, index, source, true);

    /// <summary>torch.index_select: the entries of a 1-D (or 0-dim) Int64 or Int32 index along dim; result shape is
    /// x's with dim replaced by index.Numel. Recorded as OpKind.IndexSelect.</summary>
    /// <exception cref="ArgumentException">index is not 1-D Int64/Int32.</exception>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range, or an index is outside [0, x.size(dim)) (on a GPU
    /// backend that checks on the device, thrown by the device's next synchronisation: see <see cref="IBackend.CheckIndices"/>).</exception>
    public Tensor IndexSelect(int dim, Tensor index)
    {
        CheckIndexTensor("IndexSelect", index, true);
        if (index.Dim > 1) throw new ArgumentException($"IndexSelect: index must be 1-D, got shape {index.Shape} (input shape {Shape}).");
        int d = ShapeUtil.NormalizeDim(dim, Dim, "IndexSelect");
        var x = Dim == 0 ? RawView([1]) : this;
        var idx = index.DType == DType.Int64 ? index : index.To(DType.Int64);
        // Checked by the backend (IBackend.CheckIndices): on a GPU on the device, a bad index raising at the next
        // synchronisation (the kernel reads none out of bounds), so that an embedding lookup does not wait for the device.
        FusedOps.CheckIndices(idx, x.shape[d], null, null, IndexRangeCheck("IndexSelect", index, x.shape[d], d, this));
        var outShape = (long[])shape.Clone();
        if (Dim > 0) outShape[d] = index.Numel;
        var result = Alloc(outShape, DType, Device);
        Backend.IndexSelect(x, d, idx.Dim == 0 ? idx.RawView([1]) : idx, Dim == 0 ? result.RawView([1]) : result);
        if (!IsFloatingPoint) return result;
        // Recorded: OpKind.IndexSelect with Dim (normalized), Index (Int64, 1-D or 0-dim), InputShape.
        return AutogradHook.Record(OpKind.IndexSelect, result, new OpArgs { Dim = d, Index = idx, InputShape = shape }, this);
    }

    /// <summary>torch.index_add (out of place): x with alpha·source.select(dim, i) added at x.select(dim, index[i]);
    /// source has x's shape with dim replaced by index.Numel; repeated indices accumulate. Recorded as OpKind.IndexAdd.</summary>
    /// <exception cref="ArgumentException">index is not 1-D Int64/Int32, or source's shape/dtype/device mismatch.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, x.size(dim)).</exception>
    public Tensor IndexAdd(int dim, Tensor index, Tensor source, double alpha = 1)
    {
        CheckIndexTensor("IndexAdd", index, true);
        ArgumentNullException.ThrowIfNull(source);
        CheckSameDevice("IndexAdd", this, source); CheckSameDType("IndexAdd", this, source);
        if (index.Dim > 1) throw new ArgumentException($"IndexAdd: index must be 1-D, got shape {index.Shape} (input shape {Shape}).");
        int d = ShapeUtil.NormalizeDim(dim, Dim, "IndexAdd");
        var expected = (long[])shape.Clone();
        if (Dim > 0) expected[d] = index.Numel;
        if (!source.shape.AsSpan().SequenceEqual(expected))
            throw new ArgumentException(
                $"IndexAdd: source shape {source.Shape} must equal {ShapeUtil.Format(expected)} (input shape {Shape} with dim {d} = index length {index.Numel}).");
        var x1 = Dim == 0 ? RawView([1]) : this;
        CheckIndexRange("IndexAdd", index, x1.shape[d], d, this);
        var idx = index.DType == DType.Int64 ? index : index.To(DType.Int64);
        var result = ContiguousCopyRaw();
        Backend.IndexAdd(Dim == 0 ? result.RawView([1]) : result, d, idx.Dim == 0 ? idx.RawView([1]) : idx,
            source.Dim == 0 ? source.RawView([1]) : source, alpha);
        if (!IsFloatingPoint) return result;
        // Recorded: OpKind.IndexAdd with Dim (normalized), Index (Int64), Alpha, InputShape; inputs (this, source).
        return AutogradHook.Record(OpKind.IndexAdd, result, new OpArgs { Dim = d, Index = idx, Alpha = alpha, InputShape = shape }, this, source);
    }

    // ---- triangles, one-hot ---------------------------------------------------------------------------

    /// <summary>Lower triangle of the last two dims: elements with col − row &gt; diagonal are zeroed (torch.tril).</summary>
    /// <exception cref="ArgumentException">Fewer than 2 dims.</exception>
    public Tensor Tril(long diagonal = 0) => TriangularCore("Tril", diagonal, false);

    /// <summary>Upper triangle of the last two dims: elements with col − row &lt; diagonal are zeroed (torch.triu).</summary>
    /// <exception cref="ArgumentException">Fewer than 2 dims.</exception>
    public Tensor Triu(long diagonal = 0) => TriangularCore("Triu", diagonal, true);

    private Tensor TriangularCore(string op, long diagonal, bool upper)
    {
        CheckNotDisposed(op);
        if (Dim < 2) throw new ArgumentException($"{op}: expected a tensor with at least 2 dims, got shape {Shape}.");
        var result = NewEmpty((long[])shape.Clone());
        Backend.Triangular(this, result, diagonal, upper);
        if (!IsFloatingPoint) return result;
        // Recorded: OpKind.Triangular with Start = diagonal, KeepDim = upper (false: Tril, true: Triu).
        return AutogradHook.Record(OpKind.Triangular, result, new OpArgs { Start = diagonal, KeepDim = upper }, this);
    }

    /// <summary>One-hot encoding of an Int64 (or Int32) tensor: shape + [numClasses], Int64 (torch.nn.functional.one_hot);
    /// numClasses −1 infers max + 1. Not recorded.</summary>
    /// <exception cref="ArgumentException">The tensor is not integer, or numClasses is 0/less than −1.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value is negative or ≥ numClasses.</exception>
    public Tensor OneHot(long numClasses = -1)
    {
        if (!DType.IsIndex()) throw new ArgumentException($"OneHot: expected an Int64 tensor of class indices, got {DType} (shape {Shape}).");
        if (numClasses == 0 || numClasses < -1) throw new ArgumentException($"OneHot: numClasses must be positive or −1 (infer), got {numClasses}.");
        if (numClasses == -1)
        {
            if (Numel == 0) throw new ArgumentException($"OneHot: cannot infer the number of classes of an empty tensor (shape {Shape}).");
            numClasses = (long)Max().Item() + 1;
        }
        CheckIndexRange("OneHot", this, numClasses, -1, this);
        var classes = Arange(0, numClasses, 1, DType, Device);
        return Unsqueeze(-1).Eq(classes).To(DType.Int64);
    }

    // ---- softmax ------------------------------------------------------------------------------------------

    /// <summary>Softmax along dim: eˣ / Σ eˣ, computed with the max subtracted (fused kernel, own backward).</summary>
    /// <exception cref="ArgumentException">The tensor is not floating-point.</exception>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public Tensor Softmax(int dim) => SoftmaxCore("Softmax", dim, false);

    /// <summary>Log-softmax along dim: x − ln Σ eˣ (fused kernel, own backward).</summary>
    /// <exception cref="ArgumentException">The tensor is not floating-point.</exception>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public Tensor LogSoftmax(int dim) => SoftmaxCore("LogSoftmax", dim, true);

    private Tensor SoftmaxCore(string op, int dim, bool log)
    {
        if (Autocast.Cast(log ? AutocastOp.LogSoftmax : AutocastOp.Softmax, this) is { } cast) return cast[0]!.SoftmaxCore(op, dim, log);
        CheckFloat(op);
        CheckNotDisposed(op);
        int d = ShapeUtil.NormalizeDim(dim, Dim, op);
        Tensor result;
        if (Dim == 0)
        {
            result = NewEmpty([]);
            Backend.Softmax(ContiguousRaw().RawView([1, 1]), result.RawView([1, 1]), log);
        }
        else
        {
            // Move dim last (an unrecorded transposed view), make it contiguous, view as [rows, cols].
            int last = Dim - 1;
            var ps = (long[])shape.Clone(); var pst = (long[])strides.Clone();
            (ps[d], ps[last]) = (ps[last], ps[d]); (pst[d], pst[last]) = (pst[last], pst[d]);
            var moved = new Tensor(storage, offset, ps, pst).ContiguousRaw();
            long cols = ps[last], rows = cols == 0 ? 0 : moved.Numel / cols;
            var outMoved = NewEmpty(ps);
            if (rows > 0) Backend.Softmax(moved.RawView([rows, cols]), outMoved.RawView([rows, cols]), log);
            // Swap back: a view of the result with the original dim order.
            var rs = (long[])outMoved.shape.Clone(); var rst = (long[])outMoved.strides.Clone();
            (rs[d], rs[last]) = (rs[last], rs[d]); (rst[d], rst[last]) = (rst[last], rst[d]);
            result = new Tensor(outMoved.storage, 0, rs, rst);
        }
        // Recorded: OpKind.Softmax / LogSoftmax with Dim (normalized) on the original input and the final output.
        return AutogradHook.Record(log ? OpKind.LogSoftmax : OpKind.Softmax, result, new OpArgs { Dim = d }, this);
    }
}
