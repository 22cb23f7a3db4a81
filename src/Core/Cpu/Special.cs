namespace Ember.Cpu;

/// <summary>Special functions the BCL lacks.</summary>
public static class Special
{
    private const double TwoOverSqrtPi = 1.1283791670955125739;

    /// <summary>
    /// The error function erf x = (2/√π)∫₀ˣ e^(−t²) dt to full double precision, from the series
    /// erf x = (2/√π)·e^(−x²)·Σₙ 2ⁿx^(2n+1) / (1·3·…·(2n+1)), whose terms are all positive (no
    /// cancellation); |x| ≥ 6 gives ±1 (erfc 6 ≈ 2e−17 is below double resolution).
    /// </summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double ax = Math.Abs(x);
        if (ax >= 6) return Math.Sign(x);
        double x2 = ax * ax, term = ax, sum = ax;
        for (int n = 0; n < 200; n++)
        {
            term *= 2 * x2 / (2 * n + 3);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        double r = TwoOverSqrtPi * Math.Exp(-x2) * sum;
        return x < 0 ? -r : r;
    }
}
