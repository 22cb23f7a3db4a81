namespace Ember.Core.Tests;

/// <summary>Exponential_, Bernoulli(p), Multinomial (with and without replacement): distributions, determinism, PyTorch's errors.</summary>
public class SamplingTests
{
    [Test]
    public void ExponentialHasMeanAndVarianceOfTheRate()
    {
        var x = Tensor.Empty([200_000], DType.Float64).Exponential_(2.5, new Generator(1));
        var d = x.ToArray<double>();
        Assert.That(d.Min(), Is.GreaterThanOrEqualTo(0));
        double mean = d.Average(), var = d.Select(v => (v - mean) * (v - mean)).Average();
        Assert.That(mean, Is.EqualTo(1 / 2.5).Within(0.005));                       // 1/λ; σ of the mean ≈ 0.0009
        Assert.That(var, Is.EqualTo(1 / (2.5 * 2.5)).Within(0.005));                // 1/λ²
        Assert.That(() => Tensor.Zeros([2]).Exponential_(0), Throws.ArgumentException.With.Message.Contains("expects lambda > 0.0, but found lambda=0"));
    }

    [Test]
    public void BernoulliFollowsEachProbability()
    {
        var p = Tensor.FromArray([0.0, 0.2, 0.9, 1.0]).Reshape(1, 4).Expand(50_000, 4).Contiguous();
        var draws = p.Bernoulli(new Generator(3));
        Assert.That(draws.DType, Is.EqualTo(DType.Float64));
        var freq = draws.Mean([0]).ToArray<double>();
        Assert.That(freq[0], Is.EqualTo(0));
        Assert.That(freq[3], Is.EqualTo(1));
        Assert.That(freq[1], Is.EqualTo(0.2).Within(0.01));
        Assert.That(freq[2], Is.EqualTo(0.9).Within(0.01));
        Assert.That(() => Tensor.FromArray([0.5, 1.5]).Bernoulli(), Throws.ArgumentException.With.Message.Contains("Expected p_in >= 0 && p_in <= 1"));
    }

    [Test]
    public void MultinomialWithReplacementMatchesTheWeights()
    {
        var w = Tensor.FromArray([1.0, 0.0, 3.0, 6.0]);               // unnormalized, one zero weight
        var s = w.Multinomial(100_000, replacement: true, generator: new Generator(5));
        Assert.That(s.DType, Is.EqualTo(DType.Int64));
        var counts = new double[4];
        foreach (var i in s.ToArray<long>()) counts[i]++;
        Assert.That(counts[1], Is.EqualTo(0), "a zero weight is never drawn");
        Assert.That(counts[0] / 1e5, Is.EqualTo(0.1).Within(0.006));
        Assert.That(counts[2] / 1e5, Is.EqualTo(0.3).Within(0.006));
        Assert.That(counts[3] / 1e5, Is.EqualTo(0.6).Within(0.006));
    }

    [Test]
    public void MultinomialWithoutReplacementDrawsDistinctIndicesInWeightOrder()
    {
        var w = Tensor.FromArray([0.05f, 0.0f, 0.6f, 0.3f, 0.05f]).Reshape(1, 5).Expand(20_000, 5).Contiguous();
        var s = w.Multinomial(3, generator: new Generator(8)).ToArray<long>();
        int firstIsTwo = 0;
        for (int r = 0; r < 20_000; r++)
        {
            var row = s.AsSpan(r * 3, 3).ToArray();
            Assert.That(row.Distinct().Count(), Is.EqualTo(3), "distinct within a row");
            Assert.That(row, Does.Not.Contain(1L), "zero weight never drawn");
            if (row[0] == 2) firstIsTwo++;
        }
        // The first draw follows the weights: P(2) = 0.6.
        Assert.That(firstIsTwo / 20_000.0, Is.EqualTo(0.6).Within(0.015));
        // Same generator seed, same draws.
        Assert.That(w.Multinomial(3, generator: new Generator(8)).ToArray<long>(), Is.EqualTo(s));
    }

    [Test]
    public void MultinomialErrorsUsePyTorchsWording()
    {
        Assert.That(() => Tensor.FromArray([1.0, 2.0]).Multinomial(3), Throws.ArgumentException.With.Message.Contains("cannot sample n_sample > prob_dist.size(-1) samples without replacement"));
        Assert.That(() => Tensor.FromArray([1.0, 0.0, 0.0]).Multinomial(2), Throws.ArgumentException.With.Message.Contains("not enough non-negative category to sample"));
        Assert.That(() => Tensor.FromArray([1.0, -1.0]).Multinomial(1), Throws.ArgumentException.With.Message.Contains("contains either `inf`, `nan` or element < 0"));
        Assert.That(() => Tensor.FromArray([0.0, 0.0]).Multinomial(1, true), Throws.ArgumentException.With.Message.Contains("sum of probabilities <= 0"));
        Assert.That(() => Tensor.Zeros([2, 2, 2]).Multinomial(1), Throws.ArgumentException.With.Message.Contains("prob_dist must be 1 or 2 dim"));
    }
}
