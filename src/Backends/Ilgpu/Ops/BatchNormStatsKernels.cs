using ILGPU;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// Batch norm's running-statistics update (<see cref="IBackend.BatchNormUpdateStats"/>) in one launch of one group:
/// the composite takes about eleven (dtype conversions, the unbiased correction, two lerps and their copies) and the
/// counter's increment one more. A single group lets every thread read num_batches_tracked before one thread writes
/// it back (a barrier between), so momentum null's factor 1/num_batches_tracked is found on the device, with no host
/// read. Values are the composite's: the factors and the batch's statistics are rounded to T once, then one multiply
/// per term and one add in T (on CUDA ptxas may fuse a multiply into the add, one rounding fewer: within T's rounding).
/// </summary>
internal static class BatchNormStatsKernels
{
    /// <summary>Flag: a num_batches_tracked counter is given (incremented by one).</summary>
    public const int HasCounter = 1;
    /// <summary>Flag: momentum is null, so the factor is 1/(counter after the increment).</summary>
    public const int Cumulative = 2;

    /// <summary>
    /// Grid = 1 group. mean and the biased variance are Float64 [C]; runningMean/runningVar [C] of T are updated in
    /// place with factor f = momentum, or 1/(counter + 1) when <see cref="Cumulative"/> (0 without a counter);
    /// unbias = count/max(1, count − 1). Views start at element 0 of their tensors.
    /// </summary>
    public static void Update<T, R>(ArrayView<double> mean, ArrayView<double> variance, ArrayView<T> runningMean, ArrayView<T> runningVar,
        ArrayView<long> counter, long c, double momentum, double unbias, int flags)
        where T : unmanaged where R : struct, IReal<T>
    {
        int t = Group.IdxX, g = Group.DimX;
        long n = (flags & HasCounter) != 0 ? counter[0] + 1 : 0;
        // Every thread has read the counter before it changes.
        Group.Barrier();
        if (t == 0 && (flags & HasCounter) != 0) counter[0] = n;
        double f = (flags & Cumulative) == 0 ? momentum : n > 0 ? 1.0 / n : 0.0;
        // 1 − f in float64, then rounded: the value a host scalar (1 − f) converted to T has.
        T keep = R.FromD(1.0 - f), take = R.FromD(f);
        for (long i = t; i < c; i += g)
        {
            runningMean[i] = R.Add(R.Mul(runningMean[i], keep), R.Mul(R.FromD(mean[i]), take));
            // The unbiased variance is formed in float64 and rounded once, as the composite's float64 product is.
            runningVar[i] = R.Add(R.Mul(runningVar[i], keep), R.Mul(R.FromD(variance[i] * unbias), take));
        }
    }
}
