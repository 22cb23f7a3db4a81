namespace Ember.Optim;

/// <summary>Options of <see cref="LBFGS"/> (PyTorch's names).</summary>
public sealed record LBFGSOptions : OptimizerOptions
{
    /// <summary>Maximal number of iterations per <see cref="Optimizer.Step(Func{Tensor})"/>.</summary>
    public int MaxIter { get; set; } = 20;
    /// <summary>Maximal number of closure evaluations per step; null means MaxIter·5/4 (integer division, as PyTorch).</summary>
    public int? MaxEval { get; set; }
    /// <summary>Stop when max |g| falls to this (first-order optimality).</summary>
    public double ToleranceGrad { get; set; } = 1e-7;
    /// <summary>Stop when the loss or the parameters change by less than this.</summary>
    public double ToleranceChange { get; set; } = 1e-9;
    /// <summary>Number of (s, y) curvature pairs kept.</summary>
    public int HistorySize { get; set; } = 100;
    /// <summary>null (fixed step lr) or "strong_wolfe" (line search satisfying the strong Wolfe conditions).</summary>
    public string? LineSearchFn { get; set; }

    /// <summary>MaxEval, or its default MaxIter·5/4.</summary>
    internal int EffectiveMaxEval => MaxEval ?? MaxIter * 5 / 4;

    /// <inheritdoc/>
    public override void Validate()
    {
        Require(Lr >= 0, "learning rate", Lr);
        Require(MaxIter > 0, "max_iter value", MaxIter);
        Require(EffectiveMaxEval > 0, "max_eval value", EffectiveMaxEval);
        Require(HistorySize > 0, "history_size value", HistorySize);
        if (LineSearchFn is not null && LineSearchFn != "strong_wolfe") throw new ArgumentException("only 'strong_wolfe' is supported");
    }
}

/// <summary>
/// L-BFGS (PyTorch's torch.optim.LBFGS, after minFunc): each <see cref="Step(Func{Tensor})"/> runs up to MaxIter
/// quasi-Newton iterations, the direction from the two-loop recursion over the last HistorySize (s, y) pairs scaled by
/// H₀ = sᵀy/yᵀy, the step either lr (the first iteration min(1, 1/‖g‖₁)·lr) or found by a strong-Wolfe line search
/// (<see cref="StrongWolfe"/>). One parameter group only. The closure re-evaluates the loss and its gradients.
/// </summary>
/// <remarks>
/// The flattened direction, gradient and curvature history are kept on the host in float64 whatever the parameters'
/// device and dtype (L-BFGS is used on small problems; its work is dot products of length n). Parameters are updated
/// on their device. The state lives on the first parameter, as PyTorch's does: "func_evals", "n_iter", "d", "t",
/// "old_dirs" [k, n], "old_stps" [k, n], "ro" [k], "H_diag", "prev_flat_grad", "prev_loss".
/// </remarks>
public sealed class LBFGS : Optimizer
{
    private readonly List<Tensor> ps;

    /// <summary>Creates the optimizer.</summary>
    /// <exception cref="ArgumentException">Invalid options, or lineSearchFn other than null / "strong_wolfe".</exception>
    public LBFGS(IEnumerable<Tensor> parameters, double lr = 1, int maxIter = 20, int? maxEval = null, double toleranceGrad = 1e-7,
        double toleranceChange = 1e-9, int historySize = 100, string? lineSearchFn = null)
        : this([new ParamGroup(parameters)], new LBFGSOptions { Lr = lr, MaxIter = maxIter, MaxEval = maxEval, ToleranceGrad = toleranceGrad, ToleranceChange = toleranceChange, HistorySize = historySize, LineSearchFn = lineSearchFn }) { }

    /// <summary>Creates the optimizer from one group.</summary>
    /// <exception cref="ArgumentException">More than one group: "LBFGS doesn't support per-parameter options (parameter groups)".</exception>
    public LBFGS(IEnumerable<ParamGroup> paramGroups, LBFGSOptions defaults) : base(paramGroups, defaults)
    {
        if (ParamGroups.Count != 1) throw new ArgumentException("LBFGS doesn't support per-parameter options (parameter groups)");
        ps = [.. ParamGroups[0].Params];
    }

    /// <summary>Not supported: L-BFGS re-evaluates the loss several times per step.</summary>
    /// <exception cref="InvalidOperationException">Always.</exception>
    public override void Step() => throw new InvalidOperationException("LBFGS.Step requires a closure that reevaluates the model and returns the loss.");

    /// <inheritdoc/>
    protected override void Update(Tensor param, Tensor grad, Dictionary<string, Tensor> state, OptimizerOptions options) =>
        throw new InvalidOperationException("LBFGS updates all parameters together in Step(closure).");

    /// <inheritdoc/>
    protected override bool IsPerElementState(string key) => false;

    private int Numel => ps.Sum(p => (int)p.Numel);

    private double[] FlatGrad()
    {
        var flat = new double[Numel];
        int off = 0;
        foreach (var p in ps)
        {
            if (p.Grad is { } g) g.Detach().To(DType.Float64).ToArray<double>().CopyTo(flat, off);
            off += (int)p.Numel;
        }
        return flat;
    }

    // p += step·update[slice], per parameter, on its device.
    private void AddGrad(double step, double[] update)
    {
        int off = 0;
        foreach (var p in ps)
        {
            int n = (int)p.Numel;
            var u = Tensor.FromArray(update.AsSpan(off, n).ToArray()).Reshape(p.Shape.ToArray()).To(p.DType).To(p.Device);
            p.Add_(u, step);
            off += n;
        }
    }

    private Tensor[] CloneParams() => [.. ps.Select(p => p.Clone())];

    private void SetParams(Tensor[] values)
    {
        for (int i = 0; i < ps.Count; i++) ps[i].Copy_(values[i]);
    }

    private static double Evaluate(Func<Tensor> closure)
    {
        var prev = GradMode.Set(true);
        try { return closure().Item(); }
        finally { GradMode.Set(prev); }
    }

    // Loss and flat gradient at x + t·d; the parameters are restored to x afterwards.
    private (double F, double[] G) Directional(Func<Tensor> closure, Tensor[] x, double t, double[] d)
    {
        AddGrad(t, d);
        double f = Evaluate(closure);
        var g = FlatGrad();
        SetParams(x);
        return (f, g);
    }

    /// <summary>Runs up to MaxIter L-BFGS iterations; returns the loss the closure gave at the starting point.</summary>
    /// <exception cref="ArgumentNullException">No closure.</exception>
    public override Tensor Step(Func<Tensor> closure)
    {
        ArgumentNullException.ThrowIfNull(closure);
        using var untracked = TensorScope.Suspend();
        var prevMode = GradMode.Set(false);
        try { return Run(closure); }
        finally { GradMode.Set(prevMode); }
    }

    private Tensor Run(Func<Tensor> closure)
    {
        var o = (LBFGSOptions)ParamGroups[0].Options;
        var st = StateOf(ps[0]);
        int n = Numel;
        Tensor origLoss;
        { var prev = GradMode.Set(true); try { origLoss = closure(); } finally { GradMode.Set(prev); } }
        double loss = origLoss.Item();
        int currentEvals = 1;
        long funcEvals = GetLong(st, "func_evals") + 1;
        long nIterTotal = GetLong(st, "n_iter");
        var flatGrad = FlatGrad();
        bool optCond = MaxAbs(flatGrad) <= o.ToleranceGrad;
        if (optCond) { st["func_evals"] = Scalar(funcEvals); st["n_iter"] = Scalar(nIterTotal); return origLoss; }

        var d = Vec(st, "d");
        double t = Get(st, "t", 0.0);
        var oldDirs = Rows(st, "old_dirs");
        var oldStps = Rows(st, "old_stps");
        var ro = st.TryGetValue("ro", out var roT) ? roT.ToArray<double>().ToList() : [];
        double hDiag = Get(st, "H_diag", 1.0);
        var prevFlatGrad = Vec(st, "prev_flat_grad");
        double prevLoss = Get(st, "prev_loss", 0.0);

        int nIter = 0;
        while (nIter < o.MaxIter)
        {
            nIter++; nIterTotal++;
            if (nIterTotal == 1 || d is null || prevFlatGrad is null)
            {
                d = Scale(flatGrad, -1);
                oldDirs.Clear(); oldStps.Clear(); ro.Clear();
                hDiag = 1;
            }
            else
            {
                var y = new double[n]; var s = new double[n];
                for (int i = 0; i < n; i++) { y[i] = flatGrad[i] - prevFlatGrad[i]; s[i] = d[i] * t; }
                double ys = Dot(y, s);
                // Keep the pair only when the curvature condition yᵀs > 0 holds (with margin), so H stays positive definite.
                if (ys > 1e-10)
                {
                    if (oldDirs.Count == o.HistorySize) { oldDirs.RemoveAt(0); oldStps.RemoveAt(0); ro.RemoveAt(0); }
                    oldDirs.Add(y); oldStps.Add(s); ro.Add(1.0 / ys);
                    hDiag = ys / Dot(y, y);
                }
                // Two-loop recursion: d = −H·g with H the L-BFGS inverse-Hessian approximation.
                int k = oldDirs.Count;
                var al = new double[k];
                var q = Scale(flatGrad, -1);
                for (int i = k - 1; i >= 0; i--)
                {
                    al[i] = Dot(oldStps[i], q) * ro[i];
                    Axpy(q, -al[i], oldDirs[i]);
                }
                var r = Scale(q, hDiag);
                for (int i = 0; i < k; i++)
                {
                    double be = Dot(oldDirs[i], r) * ro[i];
                    Axpy(r, al[i] - be, oldStps[i]);
                }
                d = r;
            }
            prevFlatGrad = (double[])flatGrad.Clone();
            prevLoss = loss;

            // First iteration: a step of at most lr·1/‖g‖₁, since there is no curvature information yet.
            t = nIterTotal == 1 ? Math.Min(1.0, 1.0 / SumAbs(flatGrad)) * o.Lr : o.Lr;
            double gtd = Dot(flatGrad, d);
            if (gtd > -o.ToleranceChange) break;   // not a descent direction (to tolerance)

            int lsEvals = 0;
            if (o.LineSearchFn is not null)
            {
                var x = CloneParams();
                (loss, flatGrad, t, lsEvals) = StrongWolfe((tt, dd) => Directional(closure, x, tt, dd), t, d, loss, flatGrad, gtd, toleranceChange: o.ToleranceChange);
                AddGrad(t, d);
                optCond = MaxAbs(flatGrad) <= o.ToleranceGrad;
            }
            else
            {
                AddGrad(t, d);
                if (nIter != o.MaxIter)
                {
                    loss = Evaluate(closure);
                    flatGrad = FlatGrad();
                    optCond = MaxAbs(flatGrad) <= o.ToleranceGrad;
                    lsEvals = 1;
                }
            }
            currentEvals += lsEvals;
            funcEvals += lsEvals;

            if (nIter == o.MaxIter || currentEvals >= o.EffectiveMaxEval || optCond) break;
            if (MaxAbs(d) * Math.Abs(t) <= o.ToleranceChange) break;
            if (Math.Abs(loss - prevLoss) < o.ToleranceChange) break;
        }

        st["func_evals"] = Scalar(funcEvals);
        st["n_iter"] = Scalar(nIterTotal);
        st["d"] = Tensor.FromArray(d!);
        st["t"] = Scalar(t);
        st["old_dirs"] = Stack(oldDirs, n);
        st["old_stps"] = Stack(oldStps, n);
        st["ro"] = Tensor.FromArray(ro.ToArray());
        st["H_diag"] = Scalar(hDiag);
        st["prev_flat_grad"] = Tensor.FromArray(prevFlatGrad!);
        st["prev_loss"] = Scalar(prevLoss);
        return origLoss;
    }

    /// <summary>
    /// Line search for a step t along d satisfying the strong Wolfe conditions f(t) ≤ f(0) + c1·t·gᵀd and
    /// |g(t)ᵀd| ≤ −c2·gᵀd: bracketing by cubic extrapolation, then zoom by safeguarded cubic interpolation (Nocedal &amp;
    /// Wright, Algorithms 3.5/3.6, as minFunc and PyTorch). Returns the loss, gradient and t of the accepted point and the
    /// number of evaluations.
    /// </summary>
    internal static (double F, double[] G, double T, int Evals) StrongWolfe(Func<double, double[], (double F, double[] G)> obj,
        double t, double[] d, double f, double[] g, double gtd, double c1 = 1e-4, double c2 = 0.9, double toleranceChange = 1e-9, int maxLs = 25)
    {
        double dNorm = MaxAbs(d);
        var (fNew, gNew) = obj(t, d);
        int evals = 1;
        double gtdNew = Dot(gNew, d);
        double tPrev = 0, fPrev = f, gtdPrev = gtd;
        var gPrev = g;
        bool done = false;
        int lsIter = 0;
        double[] bt, bf, bgtd; double[][] bg;
        while (true)
        {
            if (lsIter >= maxLs) { bt = [0, t]; bf = [f, fNew]; bg = [g, gNew]; bgtd = [gtd, gtdNew]; break; }
            if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev))
            { bt = [tPrev, t]; bf = [fPrev, fNew]; bg = [gPrev, gNew]; bgtd = [gtdPrev, gtdNew]; break; }
            if (Math.Abs(gtdNew) <= -c2 * gtd)
            { bt = [t, t]; bf = [fNew, fNew]; bg = [gNew, gNew]; bgtd = [gtdNew, gtdNew]; done = true; break; }
            if (gtdNew >= 0)
            { bt = [tPrev, t]; bf = [fPrev, fNew]; bg = [gPrev, gNew]; bgtd = [gtdPrev, gtdNew]; break; }
            // Extrapolate: the minimum of the cubic through the last two points, kept in [t + 0.01·(t − tPrev), 10·t].
            double minStep = t + 0.01 * (t - tPrev), maxStep = t * 10, tmp = t;
            t = CubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, (minStep, maxStep));
            tPrev = tmp; fPrev = fNew; gPrev = gNew; gtdPrev = gtdNew;
            (fNew, gNew) = obj(t, d);
            evals++;
            gtdNew = Dot(gNew, d);
            lsIter++;
        }

        bool insufficientProgress = false;
        int low = bf[0] <= bf[1] ? 0 : 1, high = 1 - low;
        while (!done && lsIter < maxLs)
        {
            if (Math.Abs(bt[1] - bt[0]) * dNorm < toleranceChange) break;   // bracket too small to make progress
            t = CubicInterpolate(bt[0], bf[0], bgtd[0], bt[1], bf[1], bgtd[1], null);
            double hi = Math.Max(bt[0], bt[1]), lo = Math.Min(bt[0], bt[1]);
            double eps = 0.1 * (hi - lo);
            // Safeguard: a trial point within 10% of the bracket's ends makes little progress; move it inwards.
            if (Math.Min(hi - t, t - lo) < eps)
            {
                if (insufficientProgress || t >= hi || t <= lo)
                {
                    t = Math.Abs(t - hi) < Math.Abs(t - lo) ? hi - eps : lo + eps;
                    insufficientProgress = false;
                }
                else insufficientProgress = true;
            }
            else insufficientProgress = false;

            (fNew, gNew) = obj(t, d);
            evals++;
            gtdNew = Dot(gNew, d);
            lsIter++;
            if (fNew > f + c1 * t * gtd || fNew >= bf[low])
            {
                bt[high] = t; bf[high] = fNew; bg[high] = gNew; bgtd[high] = gtdNew;
                low = bf[0] <= bf[1] ? 0 : 1; high = 1 - low;
            }
            else
            {
                if (Math.Abs(gtdNew) <= -c2 * gtd) done = true;
                else if (gtdNew * (bt[high] - bt[low]) >= 0)
                {
                    bt[high] = bt[low]; bf[high] = bf[low]; bg[high] = bg[low]; bgtd[high] = bgtd[low];
                }
                bt[low] = t; bf[low] = fNew; bg[low] = gNew; bgtd[low] = gtdNew;
            }
        }
        return (bf[low], bg[low], bt[low], evals);
    }

    /// <summary>Minimizer of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to the bounds (default: between x1 and x2); the bounds' midpoint when the cubic has no minimum.</summary>
    internal static double CubicInterpolate(double x1, double f1, double g1, double x2, double f2, double g2, (double Min, double Max)? bounds)
    {
        var (lo, hi) = bounds ?? (x1 <= x2 ? (x1, x2) : (x2, x1));
        double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
        double d2Square = d1 * d1 - g1 * g2;
        if (d2Square < 0) return (lo + hi) / 2;
        double d2 = Math.Sqrt(d2Square);
        double minPos = x1 <= x2
            ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
            : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
        return Math.Min(Math.Max(minPos, lo), hi);
    }

    private static Tensor Scalar(double v) => Tensor.Scalar(v, DType.Float64);
    private static double Get(Dictionary<string, Tensor> st, string k, double dflt) => st.TryGetValue(k, out var t) ? t.Item() : dflt;
    private static long GetLong(Dictionary<string, Tensor> st, string k) => st.TryGetValue(k, out var t) ? (long)t.Item() : 0;
    private static double[]? Vec(Dictionary<string, Tensor> st, string k) => st.TryGetValue(k, out var t) ? t.To(DType.Float64).ToArray<double>() : null;

    private static List<double[]> Rows(Dictionary<string, Tensor> st, string k)
    {
        if (!st.TryGetValue(k, out var t) || t.Numel == 0) return [];
        int rows = (int)t.Shape[0], cols = (int)t.Shape[1];
        var all = t.To(DType.Float64).ToArray<double>();
        return [.. Enumerable.Range(0, rows).Select(r => all.AsSpan(r * cols, cols).ToArray())];
    }

    private static Tensor Stack(List<double[]> rows, int n) =>
        Tensor.FromArray(rows.SelectMany(r => r).ToArray()).Reshape([rows.Count, n]);

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    private static void Axpy(double[] y, double a, double[] x)
    {
        for (int i = 0; i < y.Length; i++) y[i] += a * x[i];
    }

    private static double[] Scale(double[] x, double a) => [.. x.Select(v => v * a)];
    private static double MaxAbs(double[] x) => x.Length == 0 ? 0 : x.Max(Math.Abs);
    private static double SumAbs(double[] x) => x.Sum(Math.Abs);
}
