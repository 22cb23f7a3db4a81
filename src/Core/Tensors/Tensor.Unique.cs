using System.Numerics;

namespace Ember;

/// <summary>
/// torch.unique and torch.unique_consecutive, over elements or over slices along a dim. The result's size depends on the
/// data, so the grouping runs on the host (PyTorch synchronizes for it too); the values are picked on the tensor's
/// device. Not differentiable (PyTorch defines no gradient either): the values are detached.
/// </summary>
public sealed partial class Tensor
{
    /// <summary>
    /// The distinct elements of the flattened tensor, or with <paramref name="dim"/> the distinct slices along that dim
    /// (torch.unique), in ascending order (slices compare lexicographically in row-major order). With
    /// <paramref name="returnInverse"/>, the position of each input element (shaped like the input) or slice (1-D, the
    /// dim's length) in the values; with <paramref name="returnCounts"/>, how often each value occurs. NaNs are distinct
    /// from each other and sort last, as in PyTorch's CPU unique. PyTorch leaves the order unspecified for
    /// <c>sorted: false</c>; Ember returns ascending order either way.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public (Tensor Values, Tensor? Inverse, Tensor? Counts) Unique(bool sorted = true, bool returnInverse = false, bool returnCounts = false, int? dim = null) =>
        UniqueCore("Unique", consecutive: false, returnInverse, returnCounts, dim);

    /// <summary>
    /// Collapses each run of consecutive equal elements of the flattened tensor, or with <paramref name="dim"/> of equal
    /// slices along that dim, to one (torch.unique_consecutive); the order is kept. The inverse (each input element's or
    /// slice's run) and counts (each run's length) are as in <see cref="Unique"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public (Tensor Values, Tensor? Inverse, Tensor? Counts) UniqueConsecutive(bool returnInverse = false, bool returnCounts = false, int? dim = null) =>
        UniqueCore("UniqueConsecutive", consecutive: true, returnInverse, returnCounts, dim);

    private (Tensor Values, Tensor? Inverse, Tensor? Counts) UniqueCore(string op, bool consecutive, bool returnInverse, bool returnCounts, int? dim)
    {
        CheckNotDisposed(op);
        // Rows: the elements (no dim) or the slices along dim, each flattened in row-major order.
        int d = dim is int dd ? ShapeUtil.NormalizeDim(dd, Math.Max(Dim, 1), op) : 0;
        var source = dim is null || Dim == 0 ? Reshape(-1) : this;
        var rowsView = source.Movedim(d, 0);
        long n = rowsView.shape[0], width = n == 0 ? 0 : rowsView.Numel / n;
        var host = rowsView.To(Device.Cpu);
        var (firsts, counts, inverse) = IsFloatingPoint
            ? Group(host.To(DType.Float64).ToArray<double>(), n, width, consecutive)
            : Group(host.To(DType.Int64).ToArray<long>(), n, width, consecutive);   // exact for every Int64
        var values = source.IndexSelect(d, FromArray(firsts).To(Device)).Detach();
        Tensor? inv = null;
        if (returnInverse)
        {
            inv = FromArray(inverse).To(Device);
            if (dim is null) inv = inv.Reshape(shape);
        }
        return (values, inv, returnCounts ? FromArray(counts).To(Device) : null);
    }

    /// <summary>
    /// Groups n rows of <paramref name="width"/> values: equal rows (every element ==, so NaN never matches) form one
    /// group. Sorted mode orders the rows lexicographically (NaN after every number) with a stable sort; consecutive mode
    /// keeps the input order and only merges neighbours. Returns each group's first row, its size, and each row's group.
    /// </summary>
    private static (long[] Firsts, long[] Counts, long[] Inverse) Group<T>(T[] data, long n, long width, bool consecutive)
        where T : INumber<T>
    {
        int Compare(long a, long b)
        {
            for (long k = 0; k < width; k++)
            {
                T x = data[a * width + k], y = data[b * width + k];
                bool xn = T.IsNaN(x), yn = T.IsNaN(y);
                if (xn || yn) { if (xn != yn) return xn ? 1 : -1; continue; }
                if (x < y) return -1;
                if (x > y) return 1;
            }
            return 0;
        }
        bool Equal(long a, long b)
        {
            for (long k = 0; k < width; k++)
                if (data[a * width + k] != data[b * width + k]) return false;   // NaN != NaN: distinct, as in PyTorch
            return true;
        }
        var order = new long[n];
        for (long i = 0; i < n; i++) order[i] = i;
        if (!consecutive) order = [.. order.OrderBy(i => i, Comparer<long>.Create(Compare))];   // OrderBy is stable
        var firsts = new List<long>();
        var counts = new List<long>();
        var inverse = new long[n];
        for (long i = 0; i < n; i++)
        {
            if (i == 0 || !Equal(order[i - 1], order[i])) { firsts.Add(order[i]); counts.Add(0); }
            counts[^1]++;
            inverse[order[i]] = firsts.Count - 1;
        }
        return ([.. firsts], [.. counts], inverse);
    }
}
