namespace Ember;

/// <summary>
/// Backward formulas of the <see cref="Linalg"/> decompositions (real matrices, batched over leading dims), one entry
/// per Linalg <see cref="OpKind"/>. They are written with differentiable ops (and Linalg's own differentiable
/// inverse/solve), so they can be differentiated again. The decompositions run on the host (MathNet.Numerics, no
/// backend kernel); each node saves the input and/or the result its formula reads, and packed results (slogdet, eigh,
/// svd, qr) are unpacked here from the input's shape.
/// </summary>
internal static partial class Derivatives
{
    private static void AddLinalg(Dictionary<OpKind, Derivative> t)
    {
        t[OpKind.LinalgInv] = new("LinalgInv", Saves.Result, (c, g) => [InvBackward(c.Result, g)]);
        t[OpKind.LinalgDet] = new("LinalgDet", Saves.Inputs | Saves.Result, (c, g) => [DetBackward(c.Input(0), c.Result, g)]);
        t[OpKind.LinalgSlogdet] = new("LinalgSlogdet", Saves.Inputs, (c, g) => [LogAbsDetBackward(c.Input(0), g.Select(-1, 1))]);
        t[OpKind.LinalgSolve] = new("LinalgSolve", Saves.Inputs | Saves.Result, (c, g) =>
        {
            var (ga, gb) = SolveBackward(c.Input(0), c.Result, g, false, c.NeedsGrad[0], c.NeedsGrad[1]);
            return [ga, gb];
        });
        t[OpKind.LinalgCholesky] = new("LinalgCholesky", Saves.Result, (c, g) => [CholeskyBackward(c.Result, g)]);
        t[OpKind.LinalgEigh] = new("LinalgEigh", Saves.Result, (c, g) =>
        {
            var p = c.Result;   // [..., n, n + 1]: λ in column 0, then V
            long n = c.InputShapes[0][-1];
            return [EighBackward(p.Select(-1, 0), p.Narrow(-1, 1, n), g.Select(-1, 0), g.Narrow(-1, 1, n))];
        });
        t[OpKind.LinalgSvd] = new("LinalgSvd", Saves.Result, (c, g) =>
        {
            var p = c.Result;   // [..., m·uc + k + vr·n]: U [m, uc], S, Vh [vr, n] row-major (uc = vr = k, or m and n when full)
            long m = c.InputShapes[0][-2], n = c.InputShapes[0][-1], k = Math.Min(m, n);
            long uc = c.Args.Sizes[0], vr = c.Args.Sizes[1];
            int bd = p.Dim - 1;
            var batch = p.Shape.ToArray()[..^1];
            // Only the first k columns of U and rows of Vh enter the gradient (the rest is an arbitrary completion).
            Tensor U(Tensor x) => x.Narrow(bd, 0, m * uc).Reshape([.. batch, m, uc]).Narrow(-1, 0, k);
            Tensor S(Tensor x) => x.Narrow(bd, m * uc, k);
            Tensor Vh(Tensor x) => x.Narrow(bd, m * uc + k, vr * n).Reshape([.. batch, vr, n]).Narrow(-2, 0, k);
            return [SvdBackward(U(p), S(p), Vh(p), U(g), S(g), Vh(g))];
        });
        t[OpKind.LinalgQr] = new("LinalgQr", Saves.Result, (c, g) =>
        {
            var p = c.Result;   // [..., m·kq + kq·n]: Q [m, kq] then R [kq, n], row-major
            long m = c.InputShapes[0][-2], n = c.InputShapes[0][-1], kq = c.Args.Length;
            if (c.Args.Step == 0)
                throw new InvalidOperationException("linalg.qr: The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr.");
            if (kq > n)
                throw new InvalidOperationException("linalg.qr: The QR decomposition is not differentiable when mode='complete' and nrows > ncols.");
            int bd = p.Dim - 1;
            var batch = p.Shape.ToArray()[..^1];
            Tensor Q(Tensor x) => x.Narrow(bd, 0, m * kq).Reshape([.. batch, m, kq]);
            Tensor R(Tensor x) => x.Narrow(bd, m * kq, kq * n).Reshape([.. batch, kq, n]);
            return [QrBackward(Q(p), R(p), Q(g), R(g))];
        });
    }

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
