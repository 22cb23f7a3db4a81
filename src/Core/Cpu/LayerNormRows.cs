using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Ember.Cpu;

/// <summary>
/// float32 layer norm over one row in few vectorized passes instead of one pass per elementwise step. Forward: the sum,
/// then x − μ with its sum of squares, then the scale and shift. Backward: the row sums with the weight / bias gradient
/// blocks, then the input gradient.
/// </summary>
internal static class LayerNormRows
{
    /// <summary>
    /// One row: y = (x − μ)·rstd·w + b with μ = Σx/n and rstd = 1/√(Σ(x − μ)²/n + eps) (the sums returned in double, as
    /// the scalar path does); w and b may be empty (no affine parameters).
    /// </summary>
    /// <param name="x">Input of the row.</param>
    /// <param name="w">Weight (the row's length), or empty.</param>
    /// <param name="b">Bias (the row's length), or empty.</param>
    /// <param name="eps">Added to the variance.</param>
    /// <param name="y">Receives the output (may be x itself, not otherwise overlapping it).</param>
    /// <param name="mean">Receives μ.</param>
    /// <param name="rstd">Receives rstd.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, double eps,
        Span<float> y, out float mean, out float rstd)
    {
        int n = x.Length, width = Vector<float>.Count, i;
        double mu = System.Numerics.Tensors.TensorPrimitives.Sum(x) / (double)n;
        float fmu = (float)mu;
        ref float xr = ref MemoryMarshal.GetReference(x), yr = ref MemoryMarshal.GetReference(y);
        var vmu = new Vector<float>(fmu);
        var squares = Vector<float>.Zero;
        for (i = 0; i <= n - width; i += width)
        {
            var d = Vector.LoadUnsafe(ref xr, (nuint)i) - vmu;
            d.StoreUnsafe(ref yr, (nuint)i);
            squares = Vector.FusedMultiplyAdd(d, d, squares);
        }
        float sumSquares = Vector.Sum(squares);
        for (int j = i; j < n; j++)
        {
            float d = x[j] - fmu;
            y[j] = d;
            sumSquares = MathF.FusedMultiplyAdd(d, d, sumSquares);
        }
        double rs = 1 / Math.Sqrt(sumSquares / (double)n + eps);
        float frs = (float)rs;
        mean = fmu;
        rstd = frs;
        bool hasW = !w.IsEmpty, hasB = !b.IsEmpty;
        ref float wr = ref MemoryMarshal.GetReference(w), br = ref MemoryMarshal.GetReference(b);
        var vrs = new Vector<float>(frs);
        for (i = 0; i <= n - width; i += width)
        {
            // (x − μ)·rstd first, then ·w (+ b): the same rounding steps as the unfused path.
            var v = Vector.LoadUnsafe(ref yr, (nuint)i) * vrs;
            if (hasW) v *= Vector.LoadUnsafe(ref wr, (nuint)i);
            if (hasB) v += Vector.LoadUnsafe(ref br, (nuint)i);
            v.StoreUnsafe(ref yr, (nuint)i);
        }
        for (int j = i; j < n; j++)
        {
            float v = y[j] * frs;
            if (hasW) v *= w[j];
            if (hasB) v += b[j];
            y[j] = v;
        }
    }

    /// <summary>
    /// One row: with x̂ = (x − μ)·rstd and ĝ = g·w (g when <paramref name="w"/> is empty),
    /// gx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)); when <paramref name="wantParams"/>, blockW += g·x̂ and blockB += g.
    /// </summary>
    /// <param name="g">Incoming gradient of the row.</param>
    /// <param name="x">Input of the row.</param>
    /// <param name="w">Weight (the row's length), or empty when the layer has none.</param>
    /// <param name="mu">Mean of the row saved by the forward pass.</param>
    /// <param name="rs">Reciprocal standard deviation of the row saved by the forward pass.</param>
    /// <param name="gx">Receives the input gradient (may not overlap the inputs).</param>
    /// <param name="blockW">Running float sum of g·x̂ over a block of rows (the caller folds it into double).</param>
    /// <param name="blockB">Running float sum of g over a block of rows.</param>
    /// <param name="wantParams">Whether to update <paramref name="blockW"/> and <paramref name="blockB"/>.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ReadOnlySpan<float> g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, float mu, float rs,
        Span<float> gx, Span<float> blockW, Span<float> blockB, bool wantParams)
    {
        int n = x.Length, width = Vector<float>.Count, i = 0;
        bool hasW = !w.IsEmpty;
        ref float gr = ref MemoryMarshal.GetReference(g), xr = ref MemoryMarshal.GetReference(x), wr = ref MemoryMarshal.GetReference(w);
        ref float bwr = ref MemoryMarshal.GetReference(blockW), bbr = ref MemoryMarshal.GetReference(blockB);
        var vmu = new Vector<float>(mu);
        var vrs = new Vector<float>(rs);
        Vector<float> sum1 = Vector<float>.Zero, sum2 = Vector<float>.Zero;
        for (; i <= n - width; i += width)
        {
            var xh = (Vector.LoadUnsafe(ref xr, (nuint)i) - vmu) * vrs;
            var gv = Vector.LoadUnsafe(ref gr, (nuint)i);
            var gw = hasW ? gv * Vector.LoadUnsafe(ref wr, (nuint)i) : gv;
            sum1 += gw;
            sum2 = Vector.FusedMultiplyAdd(gw, xh, sum2);
            if (wantParams)
            {
                Vector.FusedMultiplyAdd(gv, xh, Vector.LoadUnsafe(ref bwr, (nuint)i)).StoreUnsafe(ref bwr, (nuint)i);
                (Vector.LoadUnsafe(ref bbr, (nuint)i) + gv).StoreUnsafe(ref bbr, (nuint)i);
            }
        }
        float s1 = Vector.Sum(sum1), s2 = Vector.Sum(sum2);
        for (int j = i; j < n; j++)
        {
            float xh = (x[j] - mu) * rs, gw = hasW ? g[j] * w[j] : g[j];
            s1 += gw;
            s2 = MathF.FusedMultiplyAdd(gw, xh, s2);
            if (wantParams)
            {
                blockW[j] = MathF.FusedMultiplyAdd(g[j], xh, blockW[j]);
                blockB[j] += g[j];
            }
        }

        // gx = rs·ĝ − rs·mean(ĝ) − (rs·mean(ĝ·x̂))·x̂; the means are taken in double as the scalar reference does.
        // rs·ĝ is rounded on its own (not fused): with one column (x̂ = 0, mean(ĝ) = ĝ) the two rounded terms are then
        // equal and cancel to exactly 0, as they should; a fused rs·ĝ + c1 would leave c1's rounding error (rs is large).
        float c1 = (float)(-(double)rs * s1 / n), c2 = (float)(-(double)rs * s2 / n);
        var vc1 = new Vector<float>(c1);
        var vc2 = new Vector<float>(c2);
        ref float gxr = ref MemoryMarshal.GetReference(gx);
        for (i = 0; i <= n - width; i += width)
        {
            var xh = (Vector.LoadUnsafe(ref xr, (nuint)i) - vmu) * vrs;
            var gv = Vector.LoadUnsafe(ref gr, (nuint)i);
            var gw = hasW ? gv * Vector.LoadUnsafe(ref wr, (nuint)i) : gv;
            (gw * vrs + Vector.FusedMultiplyAdd(xh, vc2, vc1)).StoreUnsafe(ref gxr, (nuint)i);
        }
        for (int j = i; j < n; j++)
        {
            float xh = (x[j] - mu) * rs, gw = hasW ? g[j] * w[j] : g[j];
            gx[j] = gw * rs + MathF.FusedMultiplyAdd(xh, c2, c1);
        }
    }
}
