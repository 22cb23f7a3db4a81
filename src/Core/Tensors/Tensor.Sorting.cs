namespace Ember;

/// <summary>
/// Sorting and order statistics. Sort, argsort, topk and kthvalue take the permutation from the backend's
/// <see cref="IBackend.Argsort"/> (a stable sort with PyTorch's NaN order: NaN after every number ascending, before every
/// number descending; a device kernel on ILGPU, the host elsewhere); median, mode and quantile select on the host. Values
/// are applied with <see cref="Gather"/>, so they are differentiable (the gradient scatters back to the chosen positions).
/// </summary>
public sealed partial class Tensor
{
    /// <summary>Rows of dim <paramref name="d"/> as Float64 on the host, [rows, n], with the dim moved last.</summary>
    private (double[] Data, long Rows, long N, Tensor Moved) HostRows(int d)
    {
        var moved = Dim == 0 ? Reshape(1) : Transpose(d, -1);
        long n = moved.Dim == 0 ? 1 : moved.shape[^1];
        var data = moved.To(DType.Float64).Contiguous().ToArray<double>();
        return (data, n == 0 ? 0 : data.LongLength / n, n, moved);
    }

    /// <summary>An Int64 tensor of this tensor's shape from host indices laid out with dim d last (undoing <see cref="HostRows"/>).</summary>
    private Tensor IndicesFromRows(long[] idx, Tensor moved, int d, long n)
    {
        var ms = (long[])moved.shape.Clone();
        if (ms.Length > 0) ms[^1] = n;
        var t = FromArray(idx, ms);
        t = Dim == 0 ? t.Reshape() : t.Transpose(d, -1);
        return t.Contiguous().To(Device);
    }

    /// <summary>PyTorch's ascending order of doubles: NaN after every number (NaNs compare equal to each other).</summary>
    internal static int CompareAscending(double a, double b) =>
        double.IsNaN(a) ? (double.IsNaN(b) ? 0 : 1) : double.IsNaN(b) ? -1 : a.CompareTo(b);

    /// <summary>
    /// Sorts along <paramref name="dim"/> (torch.sort): the sorted values and the Int64 positions they came from. The sort
    /// is always stable (equal elements keep their order), so <paramref name="stable"/> only documents the request.
    /// NaN sorts after every number (before, when descending), as in PyTorch.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public (Tensor Values, Tensor Indices) Sort(int dim = -1, bool descending = false, bool stable = false)
    {
        _ = stable;
        var idx = Argsort(dim, descending);
        return (Dim == 0 ? this : Gather(ShapeUtil.NormalizeDim(dim, Dim, "Sort"), idx), idx);
    }

    /// <summary>
    /// The Int64 positions that sort dim (torch.argsort); stable. The permutation is computed by the backend
    /// (<see cref="IBackend.Argsort"/>: a device kernel on ILGPU, the host elsewhere) over the rows converted to Float64,
    /// so integers beyond 2⁵³ compare as their nearest doubles.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public Tensor Argsort(int dim = -1, bool descending = false)
    {
        CheckNotDisposed("Argsort");
        int d = Dim == 0 ? 0 : ShapeUtil.NormalizeDim(dim, Dim, "Argsort");
        var moved = Dim == 0 ? Reshape(1) : Transpose(d, -1);
        long n = moved.shape[^1], rows = n == 0 ? 0 : moved.Numel / n;
        var keys = moved.Detach().To(DType.Float64).Contiguous().Reshape(rows, n);
        var idx = Alloc([rows, n], DType.Int64, Device, "Argsort");
        if (idx.Numel > 0) Backend.Argsort(keys, idx, descending);
        var result = idx.Reshape(moved.shape);
        return Dim == 0 ? result.Reshape() : result.Transpose(d, -1).Contiguous();
    }

    /// <summary>Sorts along dim 0 (torch.msort).</summary>
    public Tensor Msort() => Sort(0).Values;

    /// <summary>
    /// The <paramref name="k"/> largest (or smallest) elements along dim with their positions (torch.topk), sorted
    /// (the order among ties is by position).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range, or k is outside [0, size(dim)].</exception>
    public (Tensor Values, Tensor Indices) TopK(long k, int dim = -1, bool largest = true, bool sorted = true)
    {
        _ = sorted;
        int d = Dim == 0 ? 0 : ShapeUtil.NormalizeDim(dim, Dim, "TopK");
        long n = Dim == 0 ? 1 : shape[d];
        if (k < 0 || k > n) throw new ArgumentOutOfRangeException(nameof(k), $"TopK: k ({k}) is out of range for dimension {d} of size {n} (shape {Shape}).");
        var idx = Argsort(d, largest);
        if (Dim == 0) return (this, idx);
        idx = idx.Narrow(d, 0, k).Contiguous();
        return (Gather(d, idx), idx);
    }

    /// <summary>The k-th smallest element along dim (1-based, torch.kthvalue) and its position.</summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range, or k is outside [1, size(dim)].</exception>
    public (Tensor Values, Tensor Indices) KthValue(long k, int dim = -1, bool keepDim = false)
    {
        int d = Dim == 0 ? 0 : ShapeUtil.NormalizeDim(dim, Dim, "KthValue");
        long n = Dim == 0 ? 1 : shape[d];
        if (k < 1 || k > n) throw new ArgumentOutOfRangeException(nameof(k), $"KthValue: k ({k}) must be in [1, {n}] for dimension {d} (shape {Shape}).");
        if (Dim == 0) return (this, Zeros([], DType.Int64, Device));
        var idx = Argsort(d).Narrow(d, k - 1, 1).Contiguous();
        return PickAlong(d, idx, keepDim);
    }

    /// <summary>Values and indices at the given [.., 1, ..] positions of dim, squeezed unless keepDim.</summary>
    private (Tensor, Tensor) PickAlong(int d, Tensor idx, bool keepDim)
    {
        var v = Gather(d, idx);
        return keepDim ? (v, idx) : (v.Squeeze(d), idx.Squeeze(d));
    }

    /// <summary>
    /// The lower median along dim (torch.median(dim)): the ⌊(n − 1)/2⌋-th smallest, and its position; a row holding NaN
    /// gives NaN (at its first NaN).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    /// <exception cref="ArgumentException">The dim is empty.</exception>
    public (Tensor Values, Tensor Indices) Median(int dim, bool keepDim = false) => MedianCore("Median", dim, keepDim, ignoreNan: false);

    /// <summary>The lower median of all elements (torch.median()), NaN if any element is NaN.</summary>
    /// <exception cref="ArgumentException">The tensor is empty.</exception>
    public Tensor Median() => Reshape(-1).Median(0).Values;

    /// <summary>The lower median along dim ignoring NaN (torch.nanmedian); NaN only for an all-NaN row.</summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public (Tensor Values, Tensor Indices) NanMedian(int dim, bool keepDim = false) => MedianCore("NanMedian", dim, keepDim, ignoreNan: true);

    private (Tensor, Tensor) MedianCore(string op, int dim, bool keepDim, bool ignoreNan)
    {
        int d = Dim == 0 ? 0 : ShapeUtil.NormalizeDim(dim, Dim, op);
        long n = Dim == 0 ? 1 : shape[d];
        if (n == 0) throw new ArgumentException($"{op}: cannot compute the median of an empty dimension {d} (shape {Shape}).");
        var sortIdx = Argsort(d);
        var (data, rows, _, moved) = HostRows(d);
        var sorted = sortIdx.To(Device.Cpu).Transpose(d, -1).Contiguous().ToArray<long>();
        var pick = new long[rows];
        for (long r = 0; r < rows; r++)
        {
            long nan = 0;
            for (long i = 0; i < n; i++) if (double.IsNaN(data[r * n + i])) nan++;
            // NaNs sort last: without ignoreNan a NaN row answers its first NaN; with it, the median of the rest.
            long valid = n - nan;
            pick[r] = !ignoreNan && nan > 0 ? sorted[r * n + valid] : sorted[r * n + (valid == 0 ? 0 : (valid - 1) / 2)];
        }
        var idx = IndicesFromRows(pick, moved, d, 1);
        return Dim == 0 ? (this, idx.Reshape()) : PickAlong(d, idx, keepDim);
    }

    /// <summary>
    /// The most frequent value along dim (torch.mode): the smallest among equally frequent values, with the position of
    /// its last occurrence.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public (Tensor Values, Tensor Indices) Mode(int dim = -1, bool keepDim = false)
    {
        int d = Dim == 0 ? 0 : ShapeUtil.NormalizeDim(dim, Dim, "Mode");
        var (data, rows, n, moved) = HostRows(d);
        var pick = new long[rows];
        for (long r = 0; r < rows; r++)
        {
            var counts = new Dictionary<double, (long Count, long Last)>();
            for (long i = 0; i < n; i++)
            {
                double v = data[r * n + i];
                counts[v] = counts.TryGetValue(v, out var c) ? (c.Count + 1, i) : (1, i);
            }
            double best = double.NaN; long bestCount = -1, bestIdx = 0;
            foreach (var (v, c) in counts)
                if (c.Count > bestCount || (c.Count == bestCount && CompareAscending(v, best) < 0)) (best, bestCount, bestIdx) = (v, c.Count, c.Last);
            pick[r] = bestIdx;
        }
        var idx = IndicesFromRows(pick, moved, d, 1);
        return Dim == 0 ? (this, idx.Reshape()) : PickAlong(d, idx, keepDim);
    }

    /// <summary>
    /// The <paramref name="q"/>-quantile along dim with linear interpolation (torch.quantile): position q·(n − 1) of the
    /// sorted row; NaN for a row holding NaN. Differentiable. With no dim, over all elements.
    /// </summary>
    /// <exception cref="ArgumentException">q is outside [0, 1], the tensor is not floating-point, or the dim is empty.</exception>
    public Tensor Quantile(double q, int? dim = null, bool keepDim = false) => QuantileCore("Quantile", q, dim, keepDim, ignoreNan: false);

    /// <summary>Several quantiles at once (torch.quantile with a 1-D q): the results stacked along a new leading dim.</summary>
    /// <exception cref="ArgumentException">A q is outside [0, 1], q is empty, the tensor is not floating-point, or the dim is empty.</exception>
    public Tensor Quantile(double[] q, int? dim = null, bool keepDim = false)
    {
        ArgumentNullException.ThrowIfNull(q);
        if (q.Length == 0) throw new ArgumentException("Quantile: q must be a non-empty list of quantiles.");
        return Stack(q.Select(v => Quantile(v, dim, keepDim)).ToList(), 0);
    }

    /// <summary>As <see cref="Quantile(double, int?, bool)"/>, ignoring NaN (torch.nanquantile); NaN only for an all-NaN row.</summary>
    /// <exception cref="ArgumentException">q is outside [0, 1], the tensor is not floating-point, or the dim is empty.</exception>
    public Tensor NanQuantile(double q, int? dim = null, bool keepDim = false) => QuantileCore("NanQuantile", q, dim, keepDim, ignoreNan: true);

    private Tensor QuantileCore(string op, double q, int? dim, bool keepDim, bool ignoreNan)
    {
        CheckFloat(op);
        if (!(q >= 0 && q <= 1)) throw new ArgumentException($"{op}: q must be in the range [0, 1] but got {q}.");
        if (dim is null)
        {
            var all = Reshape(-1).QuantileCore(op, q, 0, false, ignoreNan);
            return keepDim ? all.Reshape(Enumerable.Repeat(1L, Dim).ToArray()) : all;
        }
        int d = Dim == 0 ? 0 : ShapeUtil.NormalizeDim(dim.Value, Dim, op);
        var x = Dim == 0 ? Reshape(1) : this;
        long n = x.shape[d];
        if (n == 0) throw new ArgumentException($"{op}: input tensor must be non-empty along dimension {d} (shape {Shape}).");
        var sorted = x.Sort(d).Values;
        var (data, rows, _, moved) = x.HostRows(d);
        long[] lo = new long[rows], hi = new long[rows];
        var w = new double[rows];
        for (long r = 0; r < rows; r++)
        {
            long nan = 0;
            for (long i = 0; i < n; i++) if (double.IsNaN(data[r * n + i])) nan++;
            long valid = ignoreNan ? n - nan : (nan > 0 ? 0 : n);
            if (valid == 0) { lo[r] = hi[r] = n - 1; continue; }   // the last sorted element is NaN: the answer is NaN
            double pos = q * (valid - 1);
            lo[r] = (long)Math.Floor(pos); hi[r] = (long)Math.Ceiling(pos); w[r] = pos - lo[r];
        }
        var loT = x.IndicesFromRows(lo, moved, d, 1);
        var hiT = x.IndicesFromRows(hi, moved, d, 1);
        var ms = (long[])moved.shape.Clone(); ms[^1] = 1;
        var wT = FromArray(w, ms).Transpose(d, -1).To(DType).To(Device);
        var a = sorted.Gather(d, loT);
        var result = a + (sorted.Gather(d, hiT) - a) * wT;
        if (Dim == 0) return result.Reshape();
        return keepDim ? result : result.Squeeze(d);
    }
}
