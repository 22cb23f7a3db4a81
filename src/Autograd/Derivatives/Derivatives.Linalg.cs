namespace Ember;

/// <summary>
/// Backward formulas of the <see cref="Linalg"/> decompositions (real matrices, batched over leading dims). They are
/// written with differentiable ops (and Linalg's own differentiable inverse/solve), so they can be differentiated again.
/// The decompositions record through <see cref="Function"/> nodes rather than <see cref="OpKind"/> primitives: they run
/// on the host (MathNet.Numerics) and need no backend kernel.
/// </summary>
internal static partial class Derivatives
{
    /// <summary>Y = A⁻¹: ∂L/∂A = −Yᵀ·G·Yᵀ.</summary>
    public static Tensor InvBackward(Tensor y, Tensor g) => -y.mT.MatMul(g).MatMul(y.mT);

    /// <summary>d = det A: ∂L/∂A = g·d·A⁻ᵀ (A invertible).</summary>
    public static Tensor DetBackward(Tensor a, Tensor det, Tensor g) => (g * det).Unsqueeze(-1).Unsqueeze(-1) * Linalg.Inv(a).mT;

    /// <summary>log|det A|: ∂L/∂A = g·A⁻ᵀ.</summary>
    public static Tensor LogAbsDetBackward(Tensor a, Tensor g) => g.Unsqueeze(-1).Unsqueeze(-1) * Linalg.Inv(a).mT;

    /// <summary>X = A⁻¹B: ∂L/∂B = A⁻ᵀG (a solve), ∂L/∂A = −(∂L/∂B)·Xᵀ (vector B: an outer product).</summary>
    public static (Tensor? GA, Tensor? GB) SolveBackward(Tensor a, Tensor x, Tensor g, bool vector, bool needA, bool needB)
    {
        var gb = Linalg.Solve(a.mT, g);
        Tensor? ga = null;
        if (needA) ga = vector ? -gb.Unsqueeze(-1).MatMul(x.Unsqueeze(-2)) : -gb.MatMul(x.mT);
        return (ga, needB ? gb : null);
    }

    /// <summary>
    /// A = L·Lᵀ: Φ = Lᵀ·Ḡ with its upper part dropped and its diagonal halved, ∂L/∂A = L⁻ᵀ·Φ·L⁻¹, symmetrized (only
    /// symmetric perturbations keep A positive definite).
    /// </summary>
    public static Tensor CholeskyBackward(Tensor l, Tensor g)
    {
        var phi = l.mT.MatMul(g).Tril();
        phi = phi - phi.Diagonal(0, -2, -1).DiagEmbedLast() * 0.5;
        var linv = Linalg.Inv(l);
        var ga = linv.mT.MatMul(phi).MatMul(linv);
        return (ga + ga.mT) * 0.5;
    }

    /// <summary>
    /// A = V·diag(λ)·Vᵀ (symmetric): ∂L/∂A = V·(diag(ḡλ) + F∘(Vᵀ·ḡV))·Vᵀ with F_ij = 1/(λ_j − λ_i) off the diagonal, 0 on it,
    /// symmetrized. Undefined for repeated eigenvalues (as in PyTorch).
    /// </summary>
    public static Tensor EighBackward(Tensor lambda, Tensor v, Tensor gl, Tensor gv)
    {
        var diff = lambda.Unsqueeze(-2) - lambda.Unsqueeze(-1);                          // [.., i, j] = λ_j − λ_i
        var eye = Tensor.Eye(lambda.Size(-1), dtype: lambda.DType, device: lambda.Device);
        var f = Tensor.Where(eye.Gt(0.5), Zero(diff), (diff + eye).Reciprocal());       // + eye keeps the masked diagonal finite
        var inner = gl.DiagEmbedLast() + f * v.mT.MatMul(gv);
        var ga = v.MatMul(inner).MatMul(v.mT);
        return (ga + ga.mT) * 0.5;
    }

    /// <summary>
    /// Reduced SVD A = U·diag(s)·Vᵀ (k = min(m, n), distinct nonzero singular values), Townsend's formula with
    /// F_ij = 1/(s_j² − s_i²): ∂L/∂A = U·[(F∘(UᵀŪ − ŪᵀU))·S + diag(s̄) + S·(F∘(VᵀV̄ − V̄ᵀV))]·Vᵀ
    /// + (I − UUᵀ)·Ū·S⁻¹·Vᵀ + U·S⁻¹·V̄ᵀ·(I − VVᵀ).
    /// </summary>
    public static Tensor SvdBackward(Tensor u, Tensor s, Tensor vh, Tensor gu, Tensor gs, Tensor gvh)
    {
        var v = vh.mT; var gv = gvh.mT;
        long k = s.Size(-1), m = u.Size(-2), n = v.Size(-2);
        var s2 = s.Square();
        var diff = s2.Unsqueeze(-2) - s2.Unsqueeze(-1);                                    // s_j² − s_i²
        var eye = Tensor.Eye(k, dtype: s.DType, device: s.Device);
        var f = Tensor.Where(eye.Gt(0.5), Zero(diff), (diff + eye).Reciprocal());
        var sm = s.DiagEmbedLast();
        var utgu = u.mT.MatMul(gu); var vtgv = v.mT.MatMul(gv);
        var inner = (f * (utgu - utgu.mT)).MatMul(sm) + gs.DiagEmbedLast() + sm.MatMul(f * (vtgv - vtgv.mT));
        var ga = u.MatMul(inner).MatMul(vh);
        var sinv = s.Reciprocal().DiagEmbedLast();
        if (m > k) ga = ga + (gu - u.MatMul(utgu)).MatMul(sinv).MatMul(vh);
        if (n > k) ga = ga + u.MatMul(sinv).MatMul(gv.mT - gv.mT.MatMul(v).MatMul(vh));
        return ga;
    }

    /// <summary>
    /// Reduced QR A = Q·R. With m ≥ n: M = R·R̄ᵀ − Q̄ᵀ·Q, ∂L/∂A = (Q̄ + Q·copyltu(M))·R⁻ᵀ, where copyltu mirrors the
    /// strictly lower triangle onto the upper one. With m &lt; n, A = [X | Y] and R = [U | V] with X, U square: Q and U
    /// are X's QR and V = Qᵀ·Y, so ∂L/∂Y = Q·V̄ and ∂L/∂X is the square formula with Q̄ + Y·V̄ᵀ in place of Q̄.
    /// </summary>
    public static Tensor QrBackward(Tensor q, Tensor r, Tensor gq, Tensor gr)
    {
        long m = q.Size(-2), n = r.Size(-1);
        if (m < n)
        {
            var u = r.Narrow(-1, 0, m); var v = r.Narrow(-1, m, n - m);
            var gu = gr.Narrow(-1, 0, m); var gv = gr.Narrow(-1, m, n - m);
            var y = q.MatMul(v);   // A's last n − m columns, rebuilt from the factors
            return Tensor.Cat([QrBackward(q, u, gq + y.MatMul(gv.mT), gu), q.MatMul(gv)], -1);
        }
        var mm = r.MatMul(gr.mT) - gq.mT.MatMul(q);
        var low = mm.Tril(-1);
        var copyltu = low + low.mT + mm.Diagonal(0, -2, -1).DiagEmbedLast();
        return (gq + q.MatMul(copyltu)).MatMul(Linalg.Inv(r).mT);
    }
}

internal static class DiagEmbedExtensions
{
    /// <summary>[..., n] → [..., n, n] with the vector on the diagonal (torch.diag_embed), differentiable.</summary>
    public static Tensor DiagEmbedLast(this Tensor d)
    {
        long n = d.Size(-1);
        var eye = Tensor.Eye(n, dtype: d.DType, device: d.Device);
        return d.Unsqueeze(-1) * eye;
    }
}
