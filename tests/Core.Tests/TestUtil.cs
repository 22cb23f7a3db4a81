namespace Ember.Core.Tests;

/// <summary>How a test input is laid out in memory.</summary>
public enum Layout { Contiguous, Transposed, Sliced }

/// <summary>Helpers: deterministic data, tensors in several layouts, float64 references and comparisons.</summary>
public static class U
{
    public static readonly DType[] Floats = [DType.Float32, DType.Float64];
    public static readonly Layout[] Layouts = [Layout.Contiguous, Layout.Transposed, Layout.Sliced];

    public static long Numel(long[] shape) { long n = 1; foreach (var s in shape) n *= s; return n; }

    /// <summary>Deterministic values in [lo, hi).</summary>
    public static double[] Data(long[] shape, int seed = 1, double lo = -2, double hi = 2, bool integers = false)
    {
        var r = new System.Random(seed);
        var d = new double[Numel(shape)];
        for (int i = 0; i < d.Length; i++)
            d[i] = integers ? Math.Floor(lo + r.NextDouble() * (hi - lo)) : lo + r.NextDouble() * (hi - lo);
        return d;
    }

    /// <summary>Rounds to what the dtype holds (so references see the values the tensor sees).</summary>
    public static double[] Quantize(double[] d, DType dt) => dt switch
    {
        DType.Float32 => d.Select(v => (double)(float)v).ToArray(),
        DType.Int32 or DType.Int64 => d.Select(Math.Truncate).ToArray(),
        DType.Bool => d.Select(v => v != 0 ? 1.0 : 0.0).ToArray(),
        _ => d,
    };

    /// <summary>A tensor with logical shape <paramref name="shape"/> and values <paramref name="data"/> (row-major), laid out as asked.</summary>
    public static Tensor Make(double[] data, long[] shape, DType dt, Layout layout = Layout.Contiguous)
    {
        int r = shape.Length;
        if (layout == Layout.Transposed && r >= 2)
        {
            // Store with the last two dims swapped, then transpose back: same values, non-contiguous strides.
            var ts = (long[])shape.Clone(); (ts[r - 1], ts[r - 2]) = (ts[r - 2], ts[r - 1]);
            var td = new double[data.Length];
            foreach (var (idx, flat) in Indices(shape))
            {
                var j = (long[])idx.Clone(); (j[r - 1], j[r - 2]) = (j[r - 2], j[r - 1]);
                td[Flat(j, ts)] = data[flat];
            }
            var t = Tensor.FromArray(td, ts).To(dt).Transpose(-1, -2);
            if (Numel(shape) > 1 && shape[r - 1] > 1 && shape[r - 2] > 1) Assert.That(t.IsContiguous, Is.False, "layout should be strided");
            return t;
        }
        if (layout == Layout.Sliced && r >= 1)
        {
            // Every other element of a twice-as-long last dim.
            var bs = (long[])shape.Clone(); bs[r - 1] *= 2;
            var bd = new double[Numel(bs)];
            foreach (var (idx, flat) in Indices(shape))
            {
                var j = (long[])idx.Clone(); j[r - 1] *= 2;
                bd[Flat(j, bs)] = data[flat];
            }
            return Tensor.FromArray(bd, bs).To(dt).Slice(-1, 0, bs[r - 1], 2);
        }
        return Tensor.FromArray((double[])data.Clone(), shape).To(dt);
    }

    public static long Flat(long[] idx, long[] shape)
    {
        long f = 0;
        for (int i = 0; i < shape.Length; i++) f = f * shape[i] + idx[i];
        return f;
    }

    /// <summary>All multi-indices of a shape with their row-major flat position.</summary>
    public static IEnumerable<(long[] Index, long Flat)> Indices(long[] shape)
    {
        long n = Numel(shape);
        for (long f = 0; f < n; f++)
        {
            var idx = new long[shape.Length];
            long rem = f;
            for (int i = shape.Length - 1; i >= 0; i--) { idx[i] = rem % shape[i]; rem /= shape[i]; }
            yield return (idx, f);
        }
    }

    /// <summary>The values of any tensor as float64.</summary>
    public static double[] Values(Tensor t) => t.DType switch
    {
        DType.Float32 => t.ToArray<float>().Select(v => (double)v).ToArray(),
        DType.Float64 => t.ToArray<double>(),
        DType.Int32 => t.ToArray<int>().Select(v => (double)v).ToArray(),
        DType.Int64 => t.ToArray<long>().Select(v => (double)v).ToArray(),
        _ => t.ToArray<bool>().Select(v => v ? 1.0 : 0.0).ToArray(),
    };

    public static double Tol(DType dt) => dt == DType.Float32 ? 2e-5 : 1e-12;

    /// <summary>Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise (NaN matches NaN, ±∞ match exactly).</summary>
    public static void Close(Tensor actual, double[] expected, long[] shape, double rtol, double atol = -1, string what = "")
    {
        if (atol < 0) atol = rtol;
        Assert.That(actual.Shape.ToArray(), Is.EqualTo(shape), $"{what}: shape");
        var a = Values(actual);
        Assert.That(a.Length, Is.EqualTo(expected.Length), what);
        for (int i = 0; i < a.Length; i++)
        {
            double e = expected[i], v = a[i];
            if (double.IsNaN(e)) { Assert.That(double.IsNaN(v), $"{what}: element {i} expected NaN, got {v}"); continue; }
            if (double.IsInfinity(e)) { Assert.That(v, Is.EqualTo(e), $"{what}: element {i}"); continue; }
            Assert.That(Math.Abs(v - e), Is.LessThanOrEqualTo(atol + rtol * Math.Abs(e)), $"{what}: element {i}: got {v}, expected {e}");
        }
    }

    /// <summary>Asserts that f throws TException whose message contains every fragment.</summary>
    public static void Throws<TException>(TestDelegate f, params string[] fragments) where TException : Exception
    {
        var ex = Assert.Catch<TException>(f)!;
        foreach (var s in fragments) Assert.That(ex.Message, Does.Contain(s), $"message: {ex.Message}");
    }
}
