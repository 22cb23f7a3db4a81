namespace Ember.Data;

/// <summary>
/// Indices 0..n−1 drawn with probability proportional to <c>weights</c> (torch.utils.data.WeightedRandomSampler,
/// i.e. torch.multinomial). With replacement: inverse-CDF sampling of uniform draws. Without replacement:
/// the Efraimidis–Spirakis keys u^(1/w), largest first, which is the same distribution as drawing one at a
/// time and removing each drawn index.
/// </summary>
public sealed class WeightedRandomSampler : Sampler
{
    private readonly double[] weights;
    private readonly double[] cdf;

    /// <summary>A weighted sampler.</summary>
    /// <param name="weights">Non-negative weights, one per item (they need not sum to 1).</param>
    /// <param name="numSamples">Indices per epoch.</param>
    /// <param name="replacement">Draw with replacement (default, like PyTorch).</param>
    /// <param name="generator">The random stream (the default generator when null).</param>
    /// <exception cref="ArgumentException">A weight is negative or not finite, all are zero, numSamples is not positive,
    /// or numSamples exceeds the number of non-zero weights without replacement.</exception>
    public WeightedRandomSampler(IEnumerable<double> weights, int numSamples, bool replacement = true, Generator? generator = null)
    {
        this.weights = (weights ?? throw new ArgumentNullException(nameof(weights))).ToArray();
        if (numSamples <= 0)
            throw new ArgumentException($"WeightedRandomSampler: numSamples should be a positive integer, got {numSamples}.", nameof(numSamples));
        if (this.weights.Any(w => w < 0 || !double.IsFinite(w)))
            throw new ArgumentException("WeightedRandomSampler: weights must be finite and non-negative.", nameof(weights));
        int positive = this.weights.Count(w => w > 0);
        if (positive == 0) throw new ArgumentException("WeightedRandomSampler: at least one weight must be positive.", nameof(weights));
        if (!replacement && numSamples > positive)
            throw new ArgumentException($"WeightedRandomSampler: cannot draw {numSamples} samples without replacement from {positive} items with non-zero weight.", nameof(numSamples));
        NumSamples = numSamples;
        Replacement = replacement;
        Generator = generator;
        cdf = new double[this.weights.Length];
        double sum = 0;
        for (int i = 0; i < cdf.Length; i++) { sum += this.weights[i]; cdf[i] = sum; }
    }

    /// <summary>Indices per epoch.</summary>
    public int NumSamples { get; }

    /// <summary>Whether indices are drawn with replacement.</summary>
    public bool Replacement { get; }

    /// <summary>The random stream, or null for the default one.</summary>
    public Generator? Generator { get; }

    /// <inheritdoc/>
    public override int Count => NumSamples;

    /// <inheritdoc/>
    public override IEnumerator<int> GetEnumerator()
    {
        var order = new int[NumSamples];
        if (Replacement)
        {
            var u = Uniform(NumSamples, Generator);
            double total = cdf[^1];
            for (int i = 0; i < order.Length; i++)
            {
                int k = Array.BinarySearch(cdf, u[i] * total);
                k = k >= 0 ? k + 1 : ~k;                         // first index whose cumulative weight exceeds the draw
                while (k < weights.Length - 1 && weights[k] == 0) k++; // never land on a zero weight at a tie
                order[i] = Math.Min(k, weights.Length - 1);
            }
        }
        else
        {
            var u = Uniform(weights.Length, Generator);
            // log key = log(u) / w; zero weights get −∞ and are never chosen.
            var keys = new double[weights.Length];
            var idx = new int[weights.Length];
            for (int i = 0; i < keys.Length; i++)
            {
                keys[i] = weights[i] > 0 ? -Math.Log(Math.Max(u[i], double.Epsilon)) / weights[i] : double.PositiveInfinity;
                idx[i] = i;
            }
            Array.Sort(keys, idx); // ascending −log(key): the largest keys first
            Array.Copy(idx, order, order.Length);
        }
        return ((IEnumerable<int>)order).GetEnumerator();
    }
}
