namespace Ember;

internal static partial class Derivatives
{
    private static void AddLinearAlgebra(Dictionary<OpKind, Derivative> t)
    {
        // C = A·B per batch: ∂L/∂A = G·Bᵀ, ∂L/∂B = Aᵀ·G (transposes are strided views, no copies).
        t[OpKind.Bmm] = new("BmmBackward", Saves.Inputs, (c, g) =>
            [c.NeedsGrad[0] ? g.Bmm(c.Input(1).mT) : null,
             c.NeedsGrad[1] ? c.Input(0).mT.Bmm(g) : null]);
    }
}
