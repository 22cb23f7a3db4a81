using Ember.Ilgpu.Ops;

namespace Ember.Backends.Tests.Ilgpu;

/// <summary>
/// <see cref="FastDivisor"/> (the multiply-high division of the strided kernels' index decomposition) against integer
/// division: every divisor up to 4,096 and powers of two with their neighbours to 2³¹ − 1, each with dividends at the
/// ends of the range, around multiples of the divisor and at random.
/// </summary>
public class FastDivisorTests
{
    private static IEnumerable<long> Divisors()
    {
        for (long d = 1; d <= 4096; d++) yield return d;
        for (int s = 12; s <= 31; s++)
            for (long delta = -3; delta <= 3; delta++)
            {
                long d = (1L << s) + delta;
                if (d > 4096 && d <= int.MaxValue) yield return d;
            }
        yield return 3 * 5 * 7 * 11 * 13 * 17 * 19 * 23L;
    }

    [Test]
    public void DividesEveryIntBelowTwoToThe31Exactly()
    {
        var random = new System.Random(7);
        long checkedCount = 0;
        foreach (long d in Divisors())
        {
            var f = FastDivisor.For(d);
            var dividends = new List<int> { 0, 1, int.MaxValue, int.MaxValue - 1, (int)Math.Min(d, int.MaxValue), (int)(d - 1) };
            for (long k = 1; k <= 3; k++)
            {
                long m = (int.MaxValue / d - k + 1) * d;   // the largest multiples below 2³¹
                if (m >= 0) { dividends.Add((int)m); if (m > 0) dividends.Add((int)(m - 1)); }
                if (k * d <= int.MaxValue) dividends.Add((int)(k * d));
            }
            for (int r = 0; r < 64; r++) dividends.Add(random.Next(int.MaxValue));
            foreach (int n in dividends)
            {
                if (f.Divide(n) != n / d) Assert.Fail($"{n} / {d}: got {f.Divide(n)}, expected {n / d} (magic {f.Magic}, shift {f.Shift})");
                checkedCount++;
            }
        }
        Assert.That(checkedCount, Is.GreaterThan(300_000));
    }
}
