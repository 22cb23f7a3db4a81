namespace Ember;

public static partial class CompositeKernels
{
    /// <summary>
    /// See <see cref="IBackend.Argsort"/>: each row's permutation, sorted on the host (the rows are copied there and
    /// the positions copied back). The order is total: PyTorch's NaN order (after every number ascending, before every
    /// number descending), then position, so the sort is stable.
    /// </summary>
    public static void Argsort(IBackend backend, Tensor keys, Tensor indices, bool descending)
    {
        using var _ = RecordingOff.Enter();
        long rows = keys.ShapeSpan[0], n = keys.ShapeSpan[1];
        var data = keys.ToArray<double>();
        var idx = new long[rows * n];
        var order = new long[n];
        for (long r = 0; r < rows; r++)
        {
            long baseIdx = r * n;
            for (long i = 0; i < n; i++) order[i] = i;
            // Array.Sort is unstable: breaking ties by position makes the order total and the sort stable.
            Array.Sort(order, (i, j) =>
            {
                int c = Tensor.CompareAscending(data[baseIdx + i], data[baseIdx + j]);
                if (descending) c = -c;
                return c != 0 ? c : i.CompareTo(j);
            });
            Array.Copy(order, 0, idx, baseIdx, n);
        }
        Write(indices, Tensor.FromArray(idx, rows, n));
    }
}
