namespace Ember;

internal static partial class Derivatives
{
    private static void AddLinearAlgebra(Dictionary<OpKind, Derivative> t)
    {
        // C = A·B per batch: ∂L/∂A = G·Bᵀ, ∂L/∂B = Aᵀ·G (transposes are strided views, no copies).
        // An input that is a transposed view (Linear's weight.T) gets its gradient computed transposed,
        // (Bᵀ·Gᵀ)ᵀ or (Gᵀ·A)ᵀ, so the view chain back to the leaf ends contiguous (no strided copy).
        t[OpKind.Bmm] = new("BmmBackward", Saves.Inputs, (c, g) =>
            [c.NeedsGrad[0] ? (IsTransposedView(c.Input(0)) ? c.Input(1).Bmm(g.mT).mT : g.Bmm(c.Input(1).mT)) : null,
             c.NeedsGrad[1] ? (IsTransposedView(c.Input(1)) ? g.mT.Bmm(c.Input(0)).mT : c.Input(0).mT.Bmm(g)) : null]);
    }

    private static bool IsTransposedView(Tensor t) => !t.IsContiguous && t.mT.IsContiguous;
}
