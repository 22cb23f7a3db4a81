namespace Ember;

/// <summary>Shape arithmetic shared by the ops and the backends.</summary>
public static class ShapeUtil
{
    /// <summary>Product of sizes.</summary>
    public static long Numel(ReadOnlySpan<long> shape)
    {
        long n = 1;
        foreach (var s in shape) n *= s;
        return n;
    }

    /// <summary>Row-major strides of a shape.</summary>
    public static long[] ContiguousStrides(ReadOnlySpan<long> shape)
    {
        var st = new long[shape.Length];
        long s = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { st[i] = s; s *= Math.Max(shape[i], 1); }
        return st;
    }

    /// <summary>True when (shape, strides) is row-major without gaps (size-1 dims' strides ignored).</summary>
    public static bool IsContiguous(ReadOnlySpan<long> shape, ReadOnlySpan<long> strides)
    {
        long expected = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            if (shape[i] == 1) continue;
            if (shape[i] == 0) return true;
            if (strides[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    /// <summary>Normalizes a possibly negative dim into [0, rank).</summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is outside [−rank, rank).</exception>
    public static int NormalizeDim(int dim, int rank, string op)
    {
        int r = Math.Max(rank, 1);
        if (dim < -r || dim >= r)
            throw new ArgumentOutOfRangeException(nameof(dim), $"{op}: dimension {dim} is out of range for a tensor of {rank} dims (expected in [{-r}, {r - 1}]).");
        return dim < 0 ? dim + r : dim;
    }

    /// <summary>NumPy broadcasting of two shapes.</summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast; the message names the op and both shapes.</exception>
    public static long[] Broadcast(string op, ReadOnlySpan<long> a, ReadOnlySpan<long> b)
    {
        int n = Math.Max(a.Length, b.Length);
        var r = new long[n];
        for (int i = 0; i < n; i++)
        {
            long da = i < n - a.Length ? 1 : a[i - (n - a.Length)];
            long db = i < n - b.Length ? 1 : b[i - (n - b.Length)];
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException(
                    $"{op}: shapes [{string.Join(", ", a.ToArray())}] and [{string.Join(", ", b.ToArray())}] are not broadcastable (dimension {i}: {da} vs {db}; sizes must match or one must be 1).");
            r[i] = da == 1 ? db : da;
        }
        return r;
    }

    /// <summary>
    /// Joint dim coalescing of same-shape operands for elementwise kernels (CPU and GPU): size-1 dims are
    /// dropped and adjacent dims merged where stride[i] == stride[i+1]·size[i+1] holds for every operand.
    /// Returns the coalesced sizes (at least one dim) and each operand's strides over them.
    /// </summary>
    public static (long[] Dims, long[][] Strides) Coalesce(long[] shape, IReadOnlyList<Tensor> operands)
    {
        int k = operands.Count;
        var dims = new List<long>();
        var st = new List<long>[k];
        for (int j = 0; j < k; j++) st[j] = [];
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == 1) continue;
            if (dims.Count > 0)
            {
                bool merge = true;
                for (int j = 0; j < k && merge; j++) merge = st[j][^1] == operands[j].strides[i] * shape[i];
                if (merge)
                {
                    dims[^1] *= shape[i];
                    for (int j = 0; j < k; j++) st[j][^1] = operands[j].strides[i];
                    continue;
                }
            }
            dims.Add(shape[i]);
            for (int j = 0; j < k; j++) st[j].Add(operands[j].strides[i]);
        }
        if (dims.Count == 0) { dims.Add(1); for (int j = 0; j < k; j++) st[j].Add(1); }
        var strides = new long[k][];
        for (int j = 0; j < k; j++) strides[j] = [.. st[j]];
        return ([.. dims], strides);
    }

    /// <summary>Formats sizes as <c>[a, b]</c>.</summary>
    public static string Format(ReadOnlySpan<long> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";
}
