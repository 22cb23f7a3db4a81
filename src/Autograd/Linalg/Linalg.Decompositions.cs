using MathNet.Numerics.LinearAlgebra;

namespace Ember;

public static partial class Linalg
{
    /// <summary>The inverse of square matrices [..., n, n] (torch.linalg.inv).</summary>
    /// <exception cref="ArgumentException">Not square batches, or a singular matrix (PyTorch's message).</exception>
    public static Tensor Inv(Tensor a)
    {
        CheckSquare("linalg.inv", a);
        return AutogradHook.Record(OpKind.LinalgInv, InvHost(a), OpArgs.None, a);
    }

    /// <summary>The determinant of square matrices [..., n, n] → [...] (torch.linalg.det); its gradient needs invertible matrices.</summary>
    /// <exception cref="ArgumentException">Not square batches.</exception>
    public static Tensor Det(Tensor a)
    {
        CheckSquare("linalg.det", a);
        return AutogradHook.Record(OpKind.LinalgDet, FromHost(ToMatrices(a).Select(m => m.Determinant()), BatchShape(a), a), OpArgs.None, a);
    }

    /// <summary>(sign, log|det|) of square matrices (torch.linalg.slogdet); sign is 0 and log|det| −∞ for singular ones. The gradient flows through log|det|.</summary>
    /// <exception cref="ArgumentException">Not square batches.</exception>
    public static (Tensor Sign, Tensor LogAbsDet) Slogdet(Tensor a)
    {
        CheckSquare("linalg.slogdet", a);
        var packed = AutogradHook.Record(OpKind.LinalgSlogdet, SlogdetHost(a), OpArgs.None, a);   // [..., 2]: sign, log|det|
        return (packed.Select(-1, 0).Detach(), packed.Select(-1, 1));
    }

    /// <summary>X with A·X = B (torch.linalg.solve): A [..., n, n], B [..., n, k] or [n] (a vector, when its size matches A's).</summary>
    /// <exception cref="ArgumentException">Shapes that do not match, or a singular A.</exception>
    public static Tensor Solve(Tensor a, Tensor b)
    {
        CheckSquare("linalg.solve", a);
        CheckFloat("linalg.solve", b);
        bool vector = b.Dim == 1 || (b.Dim == a.Dim - 1 && b.Shape.ToArray().AsSpan().SequenceEqual(a.Shape.ToArray()[..^1]));
        var bm = vector ? b.Unsqueeze(-1) : b;
        if (bm.Size(-2) != a.Size(-1))
            throw new ArgumentException($"linalg.solve: Incompatible shapes of A and B for the equation AX = B ({a.Size(-2)}x{a.Size(-1)} and {bm.Size(-2)}x{bm.Size(-1)})");
        var batch = ShapeUtil.Broadcast("linalg.solve", BatchShape(a), BatchShape(bm));
        var ae = a.Expand([.. batch, a.Size(-2), a.Size(-1)]);
        var be = bm.Expand([.. batch, bm.Size(-2), bm.Size(-1)]);
        var x = AutogradHook.Record(OpKind.LinalgSolve, SolveHost(ae, be), OpArgs.None, ae, be);
        return vector ? x.Squeeze(-1) : x;
    }

    /// <summary>The lower Cholesky factor L of symmetric positive-definite matrices, A = L·Lᵀ (torch.linalg.cholesky); reads A's lower triangle.</summary>
    /// <exception cref="ArgumentException">Not square batches, or a matrix that is not positive definite (PyTorch's message).</exception>
    public static Tensor Cholesky(Tensor a)
    {
        CheckSquare("linalg.cholesky", a);
        return AutogradHook.Record(OpKind.LinalgCholesky, CholeskyHost(a), OpArgs.None, a);
    }

    /// <summary>
    /// Eigenvalues (ascending) and orthonormal eigenvectors (columns) of symmetric matrices, A = V·diag(λ)·Vᵀ
    /// (torch.linalg.eigh, UPLO='L': the lower triangle is read). Eigenvectors are defined up to sign; the gradient
    /// needs distinct eigenvalues.
    /// </summary>
    /// <exception cref="ArgumentException">Not square batches.</exception>
    public static (Tensor Eigenvalues, Tensor Eigenvectors) Eigh(Tensor a)
    {
        CheckSquare("linalg.eigh", a);
        var packed = AutogradHook.Record(OpKind.LinalgEigh, EighHost(a), OpArgs.None, a);   // [..., n, n + 1]: column 0 the eigenvalues, then V
        long n = a.Size(-1);
        return (packed.Select(-1, 0), packed.Narrow(-1, 1, n));
    }

    /// <summary>The eigenvalues of symmetric matrices, ascending (torch.linalg.eigvalsh).</summary>
    public static Tensor Eigvalsh(Tensor a) => Eigh(a).Eigenvalues;

    /// <summary>
    /// Singular value decomposition A = U·diag(S)·Vh (torch.linalg.svd) with k = min(m, n): S [..., k] descending; with
    /// <paramref name="fullMatrices"/> true (the default, as in PyTorch) U [..., m, m] and Vh [..., n, n]; with it false
    /// (reduced) U [..., m, k] and Vh [..., k, n]. In the full form the columns of U (rows of Vh) past k complete an
    /// orthonormal basis. Singular vectors are defined up to sign (the completion only up to a rotation); the gradient
    /// needs distinct nonzero singular values and, as in PyTorch, flows only through the first k columns of U and rows of
    /// Vh.
    /// </summary>
    /// <exception cref="ArgumentException">A non-floating input or fewer than 2 dims.</exception>
    public static (Tensor U, Tensor S, Tensor Vh) Svd(Tensor a, bool fullMatrices = true)
    {
        CheckFloat("linalg.svd", a);
        if (a.Dim < 2) throw new ArgumentException("linalg.svd: The input tensor A must have at least 2 dimensions.");
        long m = a.Size(-2), n = a.Size(-1), k = Math.Min(m, n);
        long uc = fullMatrices ? m : k, vr = fullMatrices ? n : k;
        var batch = BatchShape(a);
        // [..., m·uc + k + vr·n]: U, S, Vh row-major; Sizes = [uc, vr] tells the formula the layout.
        var packed = AutogradHook.Record(OpKind.LinalgSvd, SvdHost(a, uc, vr), new OpArgs { Sizes = [uc, vr] }, a);
        int bd = batch.Length;
        return (packed.Narrow(bd, 0, m * uc).Reshape([.. batch, m, uc]),
                packed.Narrow(bd, m * uc, k),
                packed.Narrow(bd, m * uc + k, vr * n).Reshape([.. batch, vr, n]));
    }

    /// <summary>The singular values, descending (torch.linalg.svdvals).</summary>
    public static Tensor Svdvals(Tensor a) => Svd(a, fullMatrices: false).S;

    /// <summary>
    /// QR decomposition A = Q·R of [..., m, n] (torch.linalg.qr), k = min(m, n). <paramref name="mode"/> "reduced":
    /// Q [..., m, k] with orthonormal columns, R [..., k, n] upper triangular (upper trapezoidal when m &lt; n);
    /// "complete": Q [..., m, m] orthogonal, R [..., m, n]; "r": R as in "reduced" and Q an empty tensor. Differentiable
    /// as in PyTorch: "reduced" for any shape, "complete" when m ≤ n (then it equals "reduced"); backward through "r", or
    /// "complete" with m &gt; n, throws PyTorch's error.
    /// </summary>
    /// <exception cref="ArgumentException">A non-floating input, fewer than 2 dims, or an unknown mode.</exception>
    public static (Tensor Q, Tensor R) Qr(Tensor a, string mode = "reduced")
    {
        CheckFloat("linalg.qr", a);
        ArgumentNullException.ThrowIfNull(mode);
        if (a.Dim < 2) throw new ArgumentException("linalg.qr: The input tensor A must have at least 2 dimensions.");
        if (mode is not ("reduced" or "complete" or "r"))
            throw new ArgumentException($"linalg.qr: qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or 'complete'");
        long m = a.Size(-2), n = a.Size(-1);
        long kq = mode == "complete" ? m : Math.Min(m, n);
        var batch = BatchShape(a);
        // [..., m·kq + kq·n]: Q then R, row-major; Length = kq, Step = 0 for mode 'r' (no gradient, as in PyTorch).
        var packed = AutogradHook.Record(OpKind.LinalgQr, QrHost(a, kq), new OpArgs { Length = kq, Step = mode == "r" ? 0 : 1 }, a);
        int bd = batch.Length;
        var r = packed.Narrow(bd, m * kq, kq * n).Reshape([.. batch, kq, n]);
        var q = mode == "r" ? Tensor.Empty([0], a.DType, a.Device) : packed.Narrow(bd, 0, m * kq).Reshape([.. batch, m, kq]);
        return (q, r);
    }

    /// <summary>
    /// Moore–Penrose pseudo-inverse (torch.linalg.pinv) from the SVD: V·diag(1/s for s &gt; rtol·max s, else 0)·Uᵀ; default
    /// rtol = max(m, n)·ε of the dtype. Differentiable where the rank does not change.
    /// </summary>
    public static Tensor Pinv(Tensor a, double? rtol = null)
    {
        var (u, s, vh) = Svd(a, fullMatrices: false);
        double eps = a.DType == DType.Float64 ? Math.Pow(2, -52) : Math.Pow(2, -23);
        double tol = rtol ?? Math.Max(a.Size(-2), a.Size(-1)) * eps;
        var cutoff = s.Amax([-1], keepDim: true) * tol;
        var keep = s.Gt(cutoff.Expand(s.Shape.ToArray()));
        var sinv = Tensor.Where(keep, Tensor.Where(keep, s, Tensor.Scalar(1, s.DType, s.Device)).Reciprocal(), Tensor.Scalar(0, s.DType, s.Device));
        return vh.mT.MatMul(sinv.Unsqueeze(-1) * u.mT);
    }

    // ---- host computations ------------------------------------------------------------------------------------------
    // Each reads a detached float64 copy of its input and builds a fresh result (a constant until the public method
    // records it as one node of its OpKind; the formulas are in Derivatives.Linalg.cs).

    private static Tensor InvHost(Tensor a)
    {
        var inv = ToMatrices(a).Select(m =>
        {
            var lu = m.LU();
            for (int i = 0; i < m.RowCount; i++)
                if (lu.U[i, i] == 0) throw new ArgumentException($"linalg.inv: The diagonal element {i + 1} is zero, the inversion could not be completed because the input matrix is singular.");
            return lu.Inverse();
        }).ToArray();
        return FromMatrices(inv, BatchShape(a), a);
    }

    private static Tensor SlogdetHost(Tensor a)
    {
        var vals = new List<double>();
        foreach (var m in ToMatrices(a))
        {
            // The LU factors give log|det| as Σ log|u_ii| without over- or underflowing the product.
            var lu = m.LU();
            double logAbs = 0;
            bool singular = false;
            for (int i = 0; i < m.RowCount; i++)
            {
                double uii = lu.U[i, i];
                if (uii == 0) { singular = true; break; }
                logAbs += Math.Log(Math.Abs(uii));
            }
            vals.Add(singular ? 0 : SignFromLu(lu, m.RowCount)); vals.Add(singular ? double.NegativeInfinity : logAbs);
        }
        return FromHost(vals, [.. BatchShape(a), 2], a);
    }

    // The sign of det (also when the product would underflow): the permutation's sign times the signs of U's diagonal.
    private static double SignFromLu(MathNet.Numerics.LinearAlgebra.Factorization.LU<double> lu, int n)
    {
        double s = 1;
        for (int i = 0; i < n; i++) s *= Math.Sign(lu.U[i, i]);
        var p = lu.P;
        var perm = Enumerable.Range(0, n).Select(i => p[i]).ToArray();
        var seen = new bool[n];
        for (int i = 0; i < n; i++)
        {
            if (seen[i]) continue;
            int len = 0;
            for (int j = i; !seen[j]; j = perm[j]) { seen[j] = true; len++; }
            if (len % 2 == 0) s = -s;
        }
        return s;
    }

    private static Tensor SolveHost(Tensor a, Tensor b)
    {
        var am = ToMatrices(a); var bm = ToMatrices(b);
        var res = new Matrix<double>[am.Length];
        for (int i = 0; i < am.Length; i++)
        {
            var lu = am[i].LU();
            for (int k = 0; k < am[i].RowCount; k++)
                if (lu.U[k, k] == 0) throw new ArgumentException($"linalg.solve: The solver failed because the input matrix is singular.");
            res[i] = lu.Solve(bm[i]);
        }
        return FromMatrices(res, BatchShape(b), b);
    }

    private static Tensor CholeskyHost(Tensor a)
    {
        var ls = ToMatrices(a).Select(m =>
        {
            int n = m.RowCount;
            var l = Matrix<double>.Build.Dense(n, n);
            // Cholesky–Banachiewicz on the lower triangle only (the upper one is not read, as PyTorch's UPLO='L').
            for (int i = 0; i < n; i++)
                for (int j = 0; j <= i; j++)
                {
                    double sum = m[i, j];
                    for (int k = 0; k < j; k++) sum -= l[i, k] * l[j, k];
                    if (i == j)
                    {
                        if (!(sum > 0)) throw new ArgumentException($"linalg.cholesky: The factorization could not be completed because the input is not positive-definite (the leading minor of order {i + 1} is not positive-definite).");
                        l[i, i] = Math.Sqrt(sum);
                    }
                    else l[i, j] = sum / l[j, j];
                }
            return l;
        }).ToArray();
        return FromMatrices(ls, BatchShape(a), a);
    }

    private static Tensor EighHost(Tensor a)
    {
        long n = a.Size(-1);
        var rows = new List<double>();
        foreach (var m in ToMatrices(a))
        {
            var sym = m.LowerTriangle() + m.StrictlyLowerTriangle().Transpose();
            var evd = sym.Evd(Symmetricity.Symmetric);
            var order = Enumerable.Range(0, (int)n).OrderBy(i => evd.EigenValues[i].Real).ToArray();
            for (int r = 0; r < n; r++)
            {
                rows.Add(evd.EigenValues[order[r]].Real);
                for (int c = 0; c < n; c++) rows.Add(evd.EigenVectors[r, order[c]]);
            }
        }
        return FromHost(rows, [.. BatchShape(a), n, n + 1], a);
    }

    private static Tensor SvdHost(Tensor a, long uc, long vr)
    {
        long m = a.Size(-2), n = a.Size(-1), k = Math.Min(m, n);
        var vals = new List<double>();
        foreach (var x in ToMatrices(a))
        {
            var svd = x.Svd(computeVectors: true);   // MathNet gives the full U [m, m] and Vᵀ [n, n]
            vals.AddRange(svd.U.SubMatrix(0, (int)m, 0, (int)uc).ToRowMajorArray());
            vals.AddRange(svd.S.Take((int)k));
            vals.AddRange(svd.VT.SubMatrix(0, (int)vr, 0, (int)n).ToRowMajorArray());
        }
        return FromHost(vals, [.. BatchShape(a), m * uc + k + vr * n], a);
    }

    private static Tensor QrHost(Tensor a, long kq)
    {
        long m = a.Size(-2), n = a.Size(-1);
        var vals = new List<double>();
        foreach (var x in ToMatrices(a))
        {
            if (m >= n)
            {
                // Householder QR (MathNet needs m ≥ n): the thin form is "reduced", the full one "complete".
                var qr = x.QR(kq == m ? MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Full : MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Thin);
                vals.AddRange(qr.Q.ToRowMajorArray());
                vals.AddRange(qr.R.ToRowMajorArray());
            }
            else
            {
                // Wide A = [X | Y]: the reflections are fixed by the square X = Q·U (as LAPACK's geqrf), and R = [U | Qᵀ·Y].
                var qr = x.SubMatrix(0, (int)m, 0, (int)m).QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Full);
                var r = qr.R.Append(qr.Q.TransposeThisAndMultiply(x.SubMatrix(0, (int)m, (int)m, (int)(n - m))));
                vals.AddRange(qr.Q.ToRowMajorArray());
                vals.AddRange(r.ToRowMajorArray());
            }
        }
        return FromHost(vals, [.. BatchShape(a), m * kq + kq * n], a);
    }
}
