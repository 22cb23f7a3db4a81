namespace Ember;

internal static partial class Derivatives
{
    private static void AddNorm(Dictionary<OpKind, Derivative> t)
    {
        // y = x̂·w + b, x̂ = (x − μ)·rstd over each row of [rows, cols]: gx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = g·w,
        // gw = Σ_rows g·x̂, gb = Σ_rows g. One backend kernel from the saved μ and rstd, or (createGraph) tensor ops.
        t[OpKind.LayerNorm] = new("NativeLayerNormBackward", Saves.Inputs, (c, g) =>
        {
            var f = c.Args.Fused!;
            var x = c.Input(0);
            var w = f.HasWeight ? c.Input(1) : null;
            long rows = f.Mean.Shape[0], cols = x.Numel / Math.Max(1, rows);
            var x2 = x.Reshape(rows, cols);
            var g2 = g.Reshape(rows, cols);
            Tensor gx; Tensor? gw = null, gb = null;
            if (GradMode.IsEnabled)
                (gx, gw, gb) = NormGrad(x2, w?.Reshape(1, cols), g2, [1], [0], f.Eps);
            else
            {
                gx = Tensor.Empty([rows, cols], x.DType, x.Device);
                gw = f.HasWeight ? Tensor.Empty([cols], x.DType, x.Device) : null;
                gb = f.HasBias ? Tensor.Empty([cols], x.DType, x.Device) : null;
                x.Backend.LayerNormBackward(g2.Contiguous(), x2.Contiguous(), f.Mean, f.Rstd, w?.Contiguous().Reshape(cols), gx, gw, gb);
            }
            return NormResult(c, f, gx.Reshape(x.Shape.ToArray()), gw, gb);
        });

        // The same formula per channel of [N, C, *] (statistics over every dim but 1).
        t[OpKind.BatchNorm] = new("NativeBatchNormBackward", Saves.Inputs, (c, g) =>
        {
            var f = c.Args.Fused!;
            var x = c.Input(0);
            var w = f.HasWeight ? c.Input(1) : null;
            long channels = x.Shape[1];
            var dims = Enumerable.Range(0, x.Dim).Where(d => d != 1).ToArray();
            int wi = 1, bi = f.HasWeight ? 2 : 1;
            // The parameters' dtype: x's, or Float32 beside a 16-bit x (the mixed batch norm).
            var pdt = f.HasWeight ? c.InputDTypes[wi] : f.HasBias ? c.InputDTypes[bi] : x.DType;
            if (GradMode.IsEnabled)
            {
                var cs = Enumerable.Repeat(1L, x.Dim).ToArray(); cs[1] = channels;
                // Mixed: the formula in the parameters' Float32, gx rounded back to x's dtype.
                var (gxr, gwr, gbr) = NormGrad(x.To(pdt), w?.Reshape(cs), g.To(pdt), dims, dims, f.Eps);
                return NormResult(c, f, gxr.To(x.DType), gwr, gbr);
            }
            var gx = c.NeedsGrad[0] ? Tensor.Empty(x.Shape, x.DType, x.Device) : null;
            var gw = f.HasWeight && c.NeedsGrad[wi] ? Tensor.Empty([channels], pdt, x.Device) : null;
            var gb = f.HasBias && c.NeedsGrad[bi] ? Tensor.Empty([channels], pdt, x.Device) : null;
            x.Backend.BatchNormBackward(g.Contiguous(), x.Contiguous(), w?.Contiguous().Reshape(channels), f.Mean, f.Rstd, gx, gw, gb);
            return NormResult(c, f, gx, gw, gb);
        });
    }

    // Normalization gradients in differentiable ops, statistics recomputed from x (so createGraph differentiates them
    // too): statistics over statDims, parameter gradients summed over paramDims; w already broadcastable to x.
    private static (Tensor Gx, Tensor Gw, Tensor Gb) NormGrad(Tensor x, Tensor? w, Tensor g, int[] statDims, int[] paramDims, double eps)
    {
        var mean = x.Mean(statDims, keepDim: true);
        var rstd = ((x - mean).Square().Mean(statDims, keepDim: true) + eps).Rsqrt();
        var xhat = (x - mean) * rstd;
        var gxhat = w is null ? g : g * w;
        var gx = rstd * (gxhat - gxhat.Mean(statDims, keepDim: true) - xhat * (gxhat * xhat).Mean(statDims, keepDim: true));
        return (gx, (g * xhat).Sum(paramDims), g.Sum(paramDims));
    }

    // One gradient per recorded input (x[, weight][, bias]), each in its input's shape.
    private static Tensor?[] NormResult(BackwardContext c, FusedArgs f, Tensor? gx, Tensor? gw, Tensor? gb)
    {
        var result = new List<Tensor?> { c.NeedsGrad[0] ? gx : null };
        int i = 1;
        if (f.HasWeight) { result.Add(c.NeedsGrad[i] ? gw?.Reshape(c.InputShapes[i].ToArray()) : null); i++; }
        if (f.HasBias) result.Add(c.NeedsGrad[i] ? gb?.Reshape(c.InputShapes[i].ToArray()) : null);
        return [.. result];
    }
}
