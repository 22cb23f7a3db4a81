using System.Globalization;

namespace Ember;

/// <summary>
/// Checks backward formulas against central finite differences (torch.autograd.gradcheck / gradgradcheck).
/// </summary>
/// <remarks>
/// For every input that requires grad and every element j of it, the numerical derivative is
/// (f(x + eps·eⱼ) − f(x − eps·eⱼ)) / (2·eps); the analytical one comes from one backward pass per output
/// element (a one-hot gradient). They agree when |analytical − numerical| ≤ atol + rtol·|numerical| for every
/// Jacobian entry. Inputs must be Float64: in float32 finite differences are meaningless at eps = 1e-6.
/// </remarks>
public static class GradCheck
{
    /// <summary>
    /// Compares the Jacobian of <paramref name="f"/> computed by autograd with finite differences, for every
    /// input that requires grad.
    /// </summary>
    /// <param name="f">The function; it may use its inputs in any way and must return a Float64 tensor.</param>
    /// <param name="inputs">Float64 inputs; those with RequiresGrad are checked (their values are perturbed and restored).</param>
    /// <param name="eps">Finite-difference step.</param>
    /// <param name="atol">Absolute tolerance.</param>
    /// <param name="rtol">Relative tolerance (relative to the numerical value).</param>
    /// <param name="raiseException">Throw on a mismatch (with the worst element: input index, positions, numerical vs analytical) instead of returning false.</param>
    /// <returns>True when all entries agree.</returns>
    /// <exception cref="ArgumentException">No input requires grad, or an input/output is not Float64.</exception>
    /// <exception cref="InvalidOperationException">The Jacobians differ and <paramref name="raiseException"/> is true.</exception>
    public static bool Check(Func<Tensor[], Tensor> f, Tensor[] inputs, double eps = 1e-6, double atol = 1e-5,
        double rtol = 1e-3, bool raiseException = true)
    {
        ArgumentNullException.ThrowIfNull(f);
        return CheckJacobian(x => [f(x)], inputs, eps, atol, rtol, raiseException, "GradCheck", numericalWithoutGrad: true);
    }

    /// <summary>
    /// Checks second derivatives (torch.autograd.gradgradcheck): with a fixed random v shaped like f's output,
    /// it runs <see cref="Check"/> on (inputs, v) ↦ ∂(f(inputs)·v)/∂inputs computed with createGraph, i.e. it
    /// checks that the backward pass is itself correctly differentiable, with respect to the inputs and v.
    /// </summary>
    /// <param name="f">The function (Float64 output).</param>
    /// <param name="inputs">Float64 inputs; those with RequiresGrad are checked.</param>
    /// <param name="eps">Finite-difference step.</param>
    /// <param name="atol">Absolute tolerance.</param>
    /// <param name="rtol">Relative tolerance.</param>
    /// <param name="raiseException">Throw on a mismatch instead of returning false.</param>
    /// <returns>True when all second-order entries agree.</returns>
    /// <exception cref="ArgumentException">No input requires grad, or an input/output is not Float64.</exception>
    /// <exception cref="InvalidOperationException">The Jacobians differ and <paramref name="raiseException"/> is true.</exception>
    public static bool CheckSecondOrder(Func<Tensor[], Tensor> f, Tensor[] inputs, double eps = 1e-6, double atol = 1e-5,
        double rtol = 1e-3, bool raiseException = true)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(inputs);
        var differentiable = inputs.Where(t => t.RequiresGrad).ToArray();
        var output = f(inputs);
        // A fixed seed keeps the check deterministic.
        var v = Tensor.Randn(output.Shape, DType.Float64, output.Device, requiresGrad: true, generator: new Generator(20240601));
        Tensor[] GradOfF(Tensor[] all)
        {
            var x = all[..^1];
            var y = f(x);
            var grads = Autograd.Grad([y], x.Where(t => t.RequiresGrad).ToArray(), [all[^1]], createGraph: true, allowUnused: true);
            var result = new Tensor[grads.Length];
            for (int i = 0; i < grads.Length; i++)
                result[i] = grads[i] ?? Tensor.Zeros(differentiable[i].Shape, DType.Float64, differentiable[i].Device);
            return result;
        }
        return CheckJacobian(GradOfF, [.. inputs, v], eps, atol, rtol, raiseException, "GradGradCheck", numericalWithoutGrad: false);
    }

    private static bool CheckJacobian(Func<Tensor[], Tensor[]> f, Tensor[] inputs, double eps, double atol, double rtol,
        bool raiseException, string name, bool numericalWithoutGrad)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var checkedInputs = Enumerable.Range(0, inputs.Length).Where(i => inputs[i].RequiresGrad).ToArray();
        if (checkedInputs.Length == 0)
            throw new ArgumentException($"{name}: expected at least one input that requires grad.");
        foreach (int i in checkedInputs)
            if (inputs[i].DType != DType.Float64)
                throw new ArgumentException($"{name}: input {i} is {inputs[i].DType}; finite differences need Float64 inputs (convert with .To(DType.Float64)).");

        // Analytical Jacobian, one backward pass per output element: analytical[o][k][i] = ∂out_o[k]/∂input_i (flat).
        var outputs = f(inputs);
        foreach (var o in outputs)
            if (o.DType != DType.Float64)
                throw new ArgumentException($"{name}: outputs must be Float64, got {o.DType} (shape {o.Shape}).");
        var diffInputs = checkedInputs.Select(i => inputs[i]).ToArray();
        var differentiableOutputs = Enumerable.Range(0, outputs.Length).Where(o => outputs[o].RequiresGrad).ToArray();
        var analytical = new double[outputs.Length][][][];
        for (int o = 0; o < outputs.Length; o++)
        {
            long n = outputs[o].Numel;
            analytical[o] = new double[n][][];
            for (long k = 0; k < n; k++)
            {
                if (!outputs[o].RequiresGrad)
                {
                    analytical[o][k] = diffInputs.Select(t => new double[t.Numel]).ToArray();
                    continue;
                }
                var seeds = differentiableOutputs.Select(p => OneHot(outputs[p], p == o ? k : -1)).ToArray<Tensor?>();
                var grads = Autograd.Grad(differentiableOutputs.Select(p => outputs[p]).ToArray(), diffInputs, seeds,
                    retainGraph: true, allowUnused: true);
                analytical[o][k] = grads.Select((g, i) => g == null ? new double[diffInputs[i].Numel] : g.Detach().ToArray<double>()).ToArray();
            }
        }

        // Numerical Jacobian by central differences, perturbing one element at a time in place.
        double worstRatio = 0;
        string? worst = null;
        for (int ii = 0; ii < checkedInputs.Length; ii++)
        {
            var x = inputs[checkedInputs[ii]];
            for (long j = 0; j < x.Numel; j++)
            {
                var element = ElementView(x, j);
                double original = element.Item();
                x.Backend.Fill(element, original + eps);
                var plus = Evaluate(f, inputs, numericalWithoutGrad);
                x.Backend.Fill(element, original - eps);
                var minus = Evaluate(f, inputs, numericalWithoutGrad);
                x.Backend.Fill(element, original);
                for (int o = 0; o < outputs.Length; o++)
                    for (long k = 0; k < plus[o].Length; k++)
                    {
                        double numerical = (plus[o][k] - minus[o][k]) / (2 * eps);
                        double analyticalValue = analytical[o][k][ii][j];
                        double diff = Math.Abs(analyticalValue - numerical);
                        double tolerance = atol + rtol * Math.Abs(numerical);
                        double ratio = double.IsNaN(diff) ? double.PositiveInfinity : diff / tolerance;
                        if (ratio > 1 && ratio > worstRatio)
                        {
                            worstRatio = ratio;
                            worst = string.Create(CultureInfo.InvariantCulture,
                                $"{name}: Jacobian mismatch for output {o} with respect to input {checkedInputs[ii]} " +
                                $"at input position {Position(x.Shape, j)} and output position {Position(outputs[o].Shape, k)}: " +
                                $"numerical {numerical:G8}, analytical {analyticalValue:G8} " +
                                $"(|difference| {diff:G3} > atol + rtol·|numerical| = {tolerance:G3}).");
                        }
                    }
            }
        }
        if (worst == null) return true;
        if (raiseException) throw new InvalidOperationException(worst);
        return false;
    }

    private static double[][] Evaluate(Func<Tensor[], Tensor[]> f, Tensor[] inputs, bool withoutGrad)
    {
        using var scope = withoutGrad ? Autograd.NoGrad() : null;
        return f(inputs).Select(t => t.Detach().ToArray<double>()).ToArray();
    }

    private static Tensor OneHot(Tensor like, long k)
    {
        var values = new double[like.Numel];
        if (k >= 0) values[k] = 1;
        return Tensor.FromArray(values, [values.Length]).Reshape(like.Shape.ToArray()).To(like.Device);
    }

    // A 0-dim view of the j-th element (row-major) of x, whatever x's strides are: one Select per dim, so writes through
    // it reach x.
    private static Tensor ElementView(Tensor x, long j)
    {
        var index = new long[x.Dim];
        for (int d = x.Dim - 1; d >= 0; d--)
        {
            long size = x.ShapeSpan[d];
            index[d] = j % size;
            j /= size;
        }
        using var untracked = Autograd.NoGrad();   // a view to write through, not an op to differentiate
        var view = x;
        foreach (long i in index) view = view.Select(0, i);
        return view;
    }

    private static string Position(Shape shape, long flat)
    {
        var index = new long[shape.Rank];
        for (int d = shape.Rank - 1; d >= 0; d--)
        {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }
        return "[" + string.Join(", ", index) + "]";
    }
}
