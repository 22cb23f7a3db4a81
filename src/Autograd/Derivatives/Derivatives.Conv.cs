namespace Ember;

internal static partial class Derivatives
{
    private static void AddConv(Dictionary<OpKind, Derivative> t)
    {
        // y = conv(x, W) + b. gx = conv_input_grad(g, W) and gW = conv_weight_grad(g, x) are primitives themselves, so the
        // three convolution ops are closed under differentiation (createGraph works to any order); gb = Σ g over N, H, W.
        t[OpKind.Conv2d] = new("ConvolutionBackward", Saves.Inputs, (c, g) =>
        {
            var f = c.Args.Fused!;
            Tensor x = c.Input(0), w = c.Input(1);
            bool wantBias = f.HasBias && c.NeedsGrad[2];
            var gx = c.NeedsGrad[0] ? FusedOps.Conv2dInputGrad(g, w, f.Conv, f.Groups) : null;
            Tensor? gw = null, gb = null;
            if (c.NeedsGrad[1] && !GradMode.IsEnabled)
            {
                // Not recorded: one kernel call gives the weight and the bias gradients in one pass over g.
                gw = Tensor.Empty(w.Shape, w.DType, w.Device);
                if (wantBias) gb = Tensor.Empty([w.Shape[0]], w.DType, w.Device);
                g.Backend.Conv2dWeightGrad(g, x.Contiguous(), f.Conv, f.Groups, gw, gb);
            }
            else if (c.NeedsGrad[1]) gw = FusedOps.Conv2dWeightGrad(g, x, f.Conv, f.Groups);
            if (wantBias) gb ??= g.Sum([0, 2, 3]);
            return f.HasBias ? [gx, gw, gb] : [gx, gw];
        });

        // gx = conv_input_grad(gy, W) (also the transposed convolution): ∂/∂gy = conv(G, W), ∂/∂W = conv_weight_grad(gy, G).
        t[OpKind.Conv2dInputGrad] = new("ConvolutionBackward", Saves.Inputs, (c, g) =>
        {
            var f = c.Args.Fused!;
            return [c.NeedsGrad[0] ? FusedOps.Conv2d(g, c.Input(1), null, f.Conv, f.Groups) : null,
                    c.NeedsGrad[1] ? FusedOps.Conv2dWeightGrad(c.Input(0), g, f.Conv, f.Groups) : null];
        });

        // gW = conv_weight_grad(gy, x): ∂/∂gy = conv(x, G), ∂/∂x = conv_input_grad(gy, G).
        t[OpKind.Conv2dWeightGrad] = new("ConvolutionWeightGradBackward", Saves.Inputs, (c, g) =>
        {
            var f = c.Args.Fused!;
            return [c.NeedsGrad[0] ? FusedOps.Conv2d(c.Input(1), g, null, f.Conv, f.Groups) : null,
                    c.NeedsGrad[1] ? FusedOps.Conv2dInputGrad(c.Input(0), g, f.Conv, f.Groups) : null];
        });

        // gx = g routed to each window's maximum (the backend's saved indices, or its argmax recomputed from x).
        t[OpKind.MaxPool2d] = new("MaxPool2DBackward", Saves.Inputs, (c, g) =>
        {
            var f = c.Args.Fused!;
            var x = c.Input(0);
            var gx = Tensor.Empty(x.Shape, g.DType, g.Device);
            g.Backend.MaxPool2dBackward(g.Contiguous(), x.Contiguous(), f.Indices, f.Pool, gx);
            return [gx];
        });

        // gx = g spread evenly over each window (divided by the window's divisor).
        t[OpKind.AvgPool2d] = new("AvgPool2DBackward", Saves.Nothing, (c, g) =>
        {
            var f = c.Args.Fused!;
            var gx = Tensor.Empty(c.Args.InputShape, g.DType, g.Device);
            g.Backend.AvgPool2dBackward(g.Contiguous(), f.Pool, f.CountIncludePad, gx);
            return [gx];
        });
    }
}
