using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Ember.Cpu;

/// <summary>
/// float32 layer-norm backward over one row in two vectorized passes (instead of one pass per elementwise step): the
/// first accumulates the row sums and the weight / bias gradient blocks, the second writes the input gradient.
/// </summary>
internal static class LayerNormRows
{
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
