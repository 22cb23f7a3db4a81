namespace Ember.AutogradTests;

/// <summary>One row of a gradient-check table: a name, a function and how to make its inputs.</summary>
public sealed record GradCase(string Name, Func<Tensor[], Tensor> F, Func<Tensor[]> Inputs, double Atol = 1e-5, double Rtol = 1e-3, double Eps = 1e-6)
{
    public override string ToString() => Name;
}

internal static class T
{
    private static ulong seed = 1;

    /// <summary>A Float64 leaf requiring grad with values uniform in [lo, hi].</summary>
    public static Tensor U(long[] shape, double lo = -1, double hi = 1, bool nonContiguous = false, bool grad = true)
    {
        var gen = new Generator(Interlocked.Increment(ref seed));
        Tensor x;
        if (nonContiguous && shape.Length >= 2)
        {
            // Make the reversed shape and reverse the dims back: same values layout-wise random, strided view.
            var reversed = shape.Reverse().ToArray();
            var perm = Enumerable.Range(0, shape.Length).Reverse().ToArray();
            x = (Tensor.Rand(reversed, DType.Float64, generator: gen) * (hi - lo) + lo).Permute(perm);
            if (shape.All(n => n > 1)) Assert.That(x.IsContiguous, Is.False);
        }
        else x = Tensor.Rand(shape, DType.Float64, generator: gen) * (hi - lo) + lo;
        return grad ? x.RequiresGrad_() : x;
    }

    /// <summary>Values with |x| in [0.2, 1.5] and random signs: away from kinks at 0.</summary>
    public static Tensor AwayFromZero(long[] shape, bool nonContiguous = false)
    {
        var mag = U(shape, 0.2, 1.5, nonContiguous, grad: false);
        var sign = U(shape, -1, 1, grad: false).Sign();
        var x = (mag * sign);
        if (nonContiguous) x = x.mT.Contiguous().mT;
        return x.RequiresGrad_();
    }

    /// <summary>A Float64 leaf with exactly these values.</summary>
    public static Tensor Of(double[] values, params long[] shape) =>
        Tensor.FromArray(values, shape.Length == 0 ? [values.Length] : shape).RequiresGrad_();

    public static double[] D(Tensor t) => t.Detach().To(DType.Float64).ToArray<double>();

    public static void Close(Tensor? actual, double[] expected, double tol = 1e-10)
    {
        Assert.That(actual, Is.Not.Null);
        Assert.That(D(actual!), Is.EqualTo(expected).Within(tol));
    }
}
