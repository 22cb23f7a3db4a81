namespace Ember;

public sealed partial class Tensor
{
    // Reductions: Core reduces over `dims` by permuting them last, viewing [outer, inner] and calling
    // IBackend.Reduce, then restoring the kept/removed dims. Recorded as OpKind.Reduce with the ReduceOp in OpArgs.Reduce.
    // Mean, Var, Std and Norm are composites of recorded primitives and get their gradients for free.

    // ---- engine ------------------------------------------------------------------------------------

    /// <summary>Normalized, sorted, distinct dims; an empty list means every dim (PyTorch's dim=[]).</summary>
    private int[] ReduceDims(string op, int[]? dims)
    {
        if (dims == null || dims.Length == 0) return Enumerable.Range(0, Dim).ToArray();
        var set = new SortedSet<int>();
        foreach (var d in dims)
        {
            int n = ShapeUtil.NormalizeDim(d, Dim, op);
            if (Dim == 0) continue; // dim 0 / −1 of a scalar is the scalar itself
            if (!set.Add(n)) throw new ArgumentException($"{op}: dim {n} appears more than once in ({string.Join(", ", dims)}) (shape {Shape}).");
        }
        return [.. set];
    }

    /// <summary>The shape left after reducing <paramref name="dims"/> (kept as 1 when keepDim).</summary>
    private long[] ReducedShape(int[] dims, bool keepDim)
    {
        var r = new List<long>();
        for (int i = 0; i < Dim; i++)
        {
            if (Array.IndexOf(dims, i) < 0) r.Add(shape[i]);
            else if (keepDim) r.Add(1);
        }
        return [.. r];
    }

    /// <summary>
    /// Runs <see cref="IBackend.Reduce"/> over <paramref name="dims"/> (normalized, sorted) and returns the
    /// unrecorded values (dtype <paramref name="outType"/>) and, when asked, Int64 indices, both shaped
    /// <see cref="ReducedShape"/>.
    /// </summary>
    private (Tensor Values, Tensor? Indices) ReduceRaw(string op, ReduceOp rop, int[] dims, bool keepDim, DType outType, bool withIndices)
    {
        CheckNotDisposed(op);
        var outShape = ReducedShape(dims, keepDim);
        if (rop is ReduceOp.Max or ReduceOp.Min)
            foreach (var d in dims)
                if (shape[d] == 0)
                    throw new ArgumentException($"{op}: cannot reduce over dim {d} of size 0 (shape {Shape}); the operation has no identity.");
        // Permute the reduced dims last: [kept..., reduced...] → [outer, inner].
        var perm = new List<int>();
        for (int i = 0; i < Dim; i++) if (Array.IndexOf(dims, i) < 0) perm.Add(i);
        perm.AddRange(dims);
        long outer = 1, inner = 1;
        foreach (var i in perm.Take(Dim - dims.Length)) outer *= shape[i];
        foreach (var i in dims) inner *= shape[i];
        var ps = new long[Dim]; var pst = new long[Dim];
        for (int i = 0; i < Dim; i++) { ps[i] = shape[perm[i]]; pst[i] = strides[perm[i]]; }
        var permuted = new Tensor(storage, offset, ps, pst);
        var st2 = permuted.ViewStrides([outer, inner]);
        if (st2 == null && rop == ReduceOp.Sum && dims.Length > 1 && dims[^1] == Dim - 1)
        {
            // Sum over dims that are not one block of memory (e.g. [0, 2, 3] of NCHW): reduce the trailing run of
            // reduced dims first (contiguous rows), then the rest of the much smaller partial sums — no full copy.
            int run = 1;
            while (run < dims.Length && dims[^(run + 1)] == Dim - 1 - run) run++;
            if (run < dims.Length)
            {
                var (partial, _) = ReduceRaw(op, rop, dims[^run..], true, outType, false);
                var (rest, _) = partial.ReduceRaw(op, rop, dims[..^run], true, outType, false);
                return (rest.RawView(outShape), null);
            }
        }
        Tensor x2 = st2 != null ? new Tensor(storage, offset, [outer, inner], st2) : permuted.ContiguousRaw().RawView([outer, inner]);
        var values = Alloc([outer], outType, Device);
        var indices = withIndices ? Alloc([outer], DType.Int64, Device) : null;
        if (outer > 0) Backend.Reduce(rop, x2, values, indices);
        return (values.RawView(outShape), indices?.RawView(outShape));
    }

    /// <summary>A contiguous copy that is not recorded.</summary>
    internal Tensor ContiguousRaw()
    {
        if (IsContiguous) return this;
        var r = NewEmpty((long[])shape.Clone());
        Backend.Copy(this, r);
        return r;
    }

    /// <summary>An unrecorded view of a contiguous tensor with another shape of the same size.</summary>
    internal Tensor RawView(long[] newShape) => new(storage, offset, newShape, ShapeUtil.ContiguousStrides(newShape));

    private static DType SumType(DType t) => t.IsFloatingPoint() ? t : DType.Int64;

    // ---- sum, mean, prod ----------------------------------------------------------------------------

    /// <summary>Sum of all elements (0-dim result). Int32/Int64/Bool inputs sum into Int64 (as PyTorch).</summary>
    public Tensor Sum() => Sum([], false);

    /// <summary>Sum over <paramref name="dims"/> (negative dims count from the end; an empty list sums every dim).
    /// Int32/Int64/Bool inputs sum into Int64. Result shape: the input's with the dims removed (or 1 when keepDim).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A dim is out of range.</exception>
    /// <exception cref="ArgumentException">A dim repeats.</exception>
    public Tensor Sum(int[] dims, bool keepDim = false)
    {
        if (Autocast.Cast(AutocastOp.Sum, this) is { } cast) return cast[0]!.Sum(dims, keepDim);
        var d = ReduceDims("Sum", dims);
        var (v, _) = ReduceRaw("Sum", ReduceOp.Sum, d, keepDim, SumType(DType), false);
        if (!IsFloatingPoint) return v;
        // Recorded: Sum with Dims (normalized, ascending), KeepDim, InputShape.
        return AutogradHook.Record(OpKind.Reduce, v, new OpArgs { Reduce = ReduceOp.Sum, Dims = d, KeepDim = keepDim, InputShape = shape }, this);
    }

    /// <summary>Sum over one dim.</summary>
    public Tensor Sum(int dim, bool keepDim = false) => Sum([dim], keepDim);

    /// <summary>Mean of all elements (floating-point only); NaN for an empty tensor.</summary>
    /// <exception cref="ArgumentException">The tensor is not floating-point.</exception>
    public Tensor Mean() => Mean([], false);

    /// <summary>Mean over dims: Sum(dims) · (1/n) with n the number of reduced elements (a composite).</summary>
    /// <exception cref="ArgumentException">The tensor is not floating-point, or a dim repeats.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dim is out of range.</exception>
    public Tensor Mean(int[] dims, bool keepDim = false)
    {
        if (Autocast.Cast(AutocastOp.Mean, this) is { } cast) return cast[0]!.Mean(dims, keepDim);
        if (!IsFloatingPoint)
            throw new ArgumentException($"Mean: expected a floating-point tensor, got {DType} (shape {Shape}); convert with .To(DType.Float32) first.");
        var d = ReduceDims("Mean", dims);
        long n = 1; foreach (var i in d) n *= shape[i];
        return Sum(d, keepDim) * (1.0 / n);
    }

    /// <summary>Mean over one dim.</summary>
    public Tensor Mean(int dim, bool keepDim = false) => Mean([dim], keepDim);

    /// <summary>Product of all elements (0-dim). Integer and Bool inputs give Int64.</summary>
    public Tensor Prod() => ProdCore([], false);

    /// <summary>Product over one dim. Integer and Bool inputs give Int64.</summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public Tensor Prod(int dim, bool keepDim = false) => ProdCore([dim], keepDim);

    private Tensor ProdCore(int[] dims, bool keepDim)
    {
        if (Autocast.Cast(AutocastOp.Prod, this) is { } cast) return cast[0]!.ProdCore(dims, keepDim);
        var src = DType == DType.Bool ? To(DType.Int64) : this;
        var d = src.ReduceDims("Prod", dims);
        var (v, _) = src.ReduceRaw("Prod", ReduceOp.Prod, d, keepDim, SumType(DType), false);
        if (!IsFloatingPoint) return v;
        // Recorded: Prod with Dims (normalized, ascending), KeepDim, InputShape.
        return AutogradHook.Record(OpKind.Reduce, v, new OpArgs { Reduce = ReduceOp.Prod, Dims = d, KeepDim = keepDim, InputShape = shape }, this);
    }

    // ---- max, min, arg ------------------------------------------------------------------------------

    /// <summary>Maximum of all elements (0-dim; NaN propagates; gradient shared among ties). Recorded as Amax over every dim.</summary>
    /// <exception cref="ArgumentException">The tensor is empty.</exception>
    public Tensor Max() => ExtremeAll("Max", ReduceOp.Max, [], false);

    /// <summary>Maximum along dim with the index of its first occurrence (torch.max(dim)); NaN propagates.</summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    /// <exception cref="ArgumentException">The dim has size 0.</exception>
    public (Tensor Values, Tensor Indices) Max(int dim, bool keepDim = false) => ExtremeDim("Max", ReduceOp.Max, dim, keepDim);

    /// <summary>Minimum of all elements (0-dim). Recorded as Amin over every dim.</summary>
    /// <exception cref="ArgumentException">The tensor is empty.</exception>
    public Tensor Min() => ExtremeAll("Min", ReduceOp.Min, [], false);

    /// <summary>Minimum along dim with indices (torch.min(dim)).</summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public (Tensor Values, Tensor Indices) Min(int dim, bool keepDim = false) => ExtremeDim("Min", ReduceOp.Min, dim, keepDim);

    /// <summary>Maximum over dims without indices (torch.amax); an empty list reduces every dim.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A dim is out of range.</exception>
    public Tensor Amax(int[] dims, bool keepDim = false) => ExtremeAll("Amax", ReduceOp.Max, dims, keepDim);

    /// <summary>Minimum over dims without indices (torch.amin).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A dim is out of range.</exception>
    public Tensor Amin(int[] dims, bool keepDim = false) => ExtremeAll("Amin", ReduceOp.Min, dims, keepDim);

    private Tensor ExtremeAll(string op, ReduceOp rop, int[] dims, bool keepDim)
    {
        if (DType == DType.Bool) return To(DType.Int32).ExtremeAll(op, rop, dims, keepDim).To(DType.Bool);
        var d = ReduceDims(op, dims);
        var (v, _) = ReduceRaw(op, rop, d, keepDim, DType, false);
        if (!IsFloatingPoint) return v;
        // Recorded: Max / Min without Index (amax / amin) with Dims (normalized, ascending), KeepDim, InputShape.
        return AutogradHook.Record(OpKind.Reduce, v, new OpArgs { Reduce = rop, Dims = d, KeepDim = keepDim, InputShape = shape }, this);
    }

    private (Tensor, Tensor) ExtremeDim(string op, ReduceOp rop, int dim, bool keepDim)
    {
        if (DType == DType.Bool)
        {
            var (bv, bi) = To(DType.Int32).ExtremeDim(op, rop, dim, keepDim);
            return (bv.To(DType.Bool), bi);
        }
        int d = ShapeUtil.NormalizeDim(dim, Dim, op);
        int[] dims = Dim == 0 ? [] : [d];
        var (v, idx) = ReduceRaw(op, rop, dims, keepDim, DType, true);
        if (IsFloatingPoint)
            // Recorded: Max / Min with Dim (normalized), KeepDim, Index (Int64 indices shaped like the values), InputShape.
            v = AutogradHook.Record(OpKind.Reduce, v, new OpArgs { Reduce = rop, Dim = d, KeepDim = keepDim, Index = idx, InputShape = shape }, this);
        return (v, idx!);
    }

    /// <summary>Flat (row-major) index of the first maximum (Int64, 0-dim). Not differentiable.</summary>
    /// <exception cref="ArgumentException">The tensor is empty.</exception>
    public Tensor ArgMax() => ArgAll("ArgMax", ReduceOp.Max);

    /// <summary>Index of the first maximum along dim (Int64).</summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public Tensor ArgMax(int dim, bool keepDim = false) => ArgDim("ArgMax", ReduceOp.Max, dim, keepDim);

    /// <summary>Flat index of the first minimum (Int64, 0-dim).</summary>
    /// <exception cref="ArgumentException">The tensor is empty.</exception>
    public Tensor ArgMin() => ArgAll("ArgMin", ReduceOp.Min);

    /// <summary>Index of the first minimum along dim (Int64).</summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public Tensor ArgMin(int dim, bool keepDim = false) => ArgDim("ArgMin", ReduceOp.Min, dim, keepDim);

    private Tensor ArgAll(string op, ReduceOp rop)
    {
        var src = DType == DType.Bool ? To(DType.Int32) : this;
        if (Numel == 0) throw new ArgumentException($"{op}: expected a non-empty tensor, got shape {Shape}.");
        // Reducing every dim keeps the row-major order, so the position in the row is the flat index.
        return src.ReduceRaw(op, rop, src.ReduceDims(op, []), false, src.DType, true).Indices!;
    }

    private Tensor ArgDim(string op, ReduceOp rop, int dim, bool keepDim)
    {
        var src = DType == DType.Bool ? To(DType.Int32) : this;
        int d = ShapeUtil.NormalizeDim(dim, Dim, op);
        return src.ReduceRaw(op, rop, Dim == 0 ? [] : [d], keepDim, src.DType, true).Indices!;
    }

    // ---- statistics -----------------------------------------------------------------------------------

    /// <summary>
    /// Variance Σ(x − mean)² / max(N − correction, 0) over all elements (a composite; torch.var()).
    /// <paramref name="unbiased"/> = false is correction 0; the default is correction 1 (Bessel).
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not floating-point, or both unbiased and correction are given.</exception>
    public Tensor Var(bool? unbiased = null, double? correction = null) => Var([], unbiased, false, correction);

    /// <summary>
    /// Variance over one dim, with PyTorch's positional order <c>var(dim, unbiased, keepdim)</c>: <c>a.Var(1)</c> reduces
    /// dim 1 (as torch does). Give <paramref name="correction"/> by name for other corrections than 0 and 1.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not floating-point, or both unbiased and correction are given.</exception>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public Tensor Var(int dim, bool? unbiased = null, bool keepDim = false, double? correction = null) =>
        Var([dim], unbiased, keepDim, correction);

    /// <summary>
    /// Variance over dims (an empty list reduces every dim): Σ(x − mean)² / max(N − correction, 0), with N the number
    /// of reduced elements (division by 0 gives inf/NaN like PyTorch). Positional order as torch: dims, unbiased, keepDim.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not floating-point, or both unbiased and correction are given.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dim is out of range.</exception>
    public Tensor Var(int[] dims, bool? unbiased = null, bool keepDim = false, double? correction = null)
    {
        if (!IsFloatingPoint)
            throw new ArgumentException($"Var: expected a floating-point tensor, got {DType} (shape {Shape}).");
        double c = Correction("Var", unbiased, correction);
        var d = ReduceDims("Var", dims);
        long n = 1; foreach (var i in d) n *= shape[i];
        var centered = this - Mean(d, keepDim: true);
        return centered.Square().Sum(d, keepDim) * (1.0 / Math.Max(n - c, 0));
    }

    private static double Correction(string op, bool? unbiased, double? correction)
    {
        if (unbiased != null && correction != null)
            throw new ArgumentException($"{op}: only one of unbiased and correction may be given (got unbiased={unbiased}, correction={correction}).");
        return correction ?? (unbiased == false ? 0 : 1);
    }

    /// <summary>Standard deviation √Var over all elements (torch.std()).</summary>
    /// <exception cref="ArgumentException">The tensor is not floating-point, or both unbiased and correction are given.</exception>
    public Tensor Std(bool? unbiased = null, double? correction = null) => Var(unbiased, correction).Sqrt();

    /// <summary>Standard deviation over one dim: <c>a.Std(1)</c> reduces dim 1, as torch.std(a, 1).</summary>
    /// <exception cref="ArgumentException">The tensor is not floating-point, or both unbiased and correction are given.</exception>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public Tensor Std(int dim, bool? unbiased = null, bool keepDim = false, double? correction = null) =>
        Var([dim], unbiased, keepDim, correction).Sqrt();

    /// <summary>Standard deviation over dims (positional order as torch: dims, unbiased, keepDim).</summary>
    /// <exception cref="ArgumentException">The tensor is not floating-point, or both unbiased and correction are given.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dim is out of range.</exception>
    public Tensor Std(int[] dims, bool? unbiased = null, bool keepDim = false, double? correction = null) =>
        Var(dims, unbiased, keepDim, correction).Sqrt();

    /// <summary>ln Σ eˣ over dims, computed as m + ln Σ e^(x−m) (stable). Recorded as a LogSumExp reduction.</summary>
    /// <exception cref="ArgumentException">The tensor is not floating-point.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dim is out of range.</exception>
    public Tensor LogSumExp(int[] dims, bool keepDim = false)
    {
        if (Autocast.Cast(AutocastOp.LogSumExp, this) is { } cast) return cast[0]!.LogSumExp(dims, keepDim);
        CheckFloat("LogSumExp");
        var d = ReduceDims("LogSumExp", dims);
        var (v, _) = ReduceRaw("LogSumExp", ReduceOp.LogSumExp, d, keepDim, DType, false);
        // Recorded: LogSumExp with Dims (normalized, ascending), KeepDim, InputShape.
        return AutogradHook.Record(OpKind.Reduce, v, new OpArgs { Reduce = ReduceOp.LogSumExp, Dims = d, KeepDim = keepDim, InputShape = shape }, this);
    }

    /// <summary>ln Σ eˣ over one dim.</summary>
    public Tensor LogSumExp(int dim, bool keepDim = false) => LogSumExp([dim], keepDim);

    /// <summary>p-norm (Σ|x|ᵖ)^(1/p) of all elements; p = ∞ gives max |x|, −∞ min |x|, 0 the count of non-zeros.</summary>
    /// <exception cref="ArgumentException">The tensor is not floating-point.</exception>
    public Tensor Norm(double p = 2) => Norm(p, [], false);

    /// <summary>p-norm over dims (a composite of Abs/Square/Pow, Sum/Amax and Sqrt/Pow).</summary>
    /// <exception cref="ArgumentException">The tensor is not floating-point.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dim is out of range.</exception>
    public Tensor Norm(double p, int[] dims, bool keepDim = false)
    {
        CheckFloat("Norm");
        var d = ReduceDims("Norm", dims);
        if (double.IsPositiveInfinity(p)) return Abs().Amax(d, keepDim);
        if (double.IsNegativeInfinity(p)) return Abs().Amin(d, keepDim);
        if (p == 0) return Ne(0).To(DType).Sum(d, keepDim);
        if (p == 1) return Abs().Sum(d, keepDim);
        if (p == 2) return Square().Sum(d, keepDim).Sqrt();
        return Abs().Pow(p).Sum(d, keepDim).Pow(1.0 / p);
    }

    // ---- logical --------------------------------------------------------------------------------------

    /// <summary>True when every element is non-zero (Bool, 0-dim; true for an empty tensor).</summary>
    public Tensor All() => ReduceRaw("All", ReduceOp.All, ReduceDims("All", []), false, DType.Bool, false).Values;

    /// <summary>All along dim (Bool).</summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public Tensor All(int dim, bool keepDim = false) => ReduceRaw("All", ReduceOp.All, ReduceDims("All", [dim]), keepDim, DType.Bool, false).Values;

    /// <summary>True when any element is non-zero (Bool, 0-dim; false for an empty tensor).</summary>
    public Tensor Any() => ReduceRaw("Any", ReduceOp.Any, ReduceDims("Any", []), false, DType.Bool, false).Values;

    /// <summary>Any along dim (Bool).</summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public Tensor Any(int dim, bool keepDim = false) => ReduceRaw("Any", ReduceOp.Any, ReduceDims("Any", [dim]), keepDim, DType.Bool, false).Values;
}
