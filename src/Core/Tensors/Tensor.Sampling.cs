namespace Ember;

public sealed partial class Tensor
{
    /// <summary>
    /// Fills in place with exponential samples of rate λ (torch.Tensor.exponential_): −ln(1 − u)/λ from the Philox uniform
    /// u ∈ [0, 1), on the tensor's own backend; returns this.
    /// </summary>
    /// <exception cref="ArgumentException">λ ≤ 0 (PyTorch's message), or a non-floating tensor.</exception>
    public Tensor Exponential_(double lambd = 1, Generator? generator = null)
    {
        if (!(lambd > 0)) throw new ArgumentException($"Exponential_: exponential_ expects lambda > 0.0, but found lambda={lambd.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        CheckFloat("Exponential_");
        using var untracked = RecordingOff.Enter();
        var u = Rand(Shape, DType, Device, false, generator);
        // 1 − u ∈ (0, 1]: the log is finite, and u = 0 maps to the sample 0 as PyTorch's inverse CDF does.
        return Copy_((1.0 - u).Log() * (-1.0 / lambd));
    }

    /// <summary>
    /// Draws 1 with probability p elementwise (torch.bernoulli(input)): the result has this tensor's shape, dtype and
    /// device, and this tensor holds the probabilities. Not differentiable.
    /// </summary>
    /// <exception cref="ArgumentException">A non-floating tensor, or a probability outside [0, 1] (PyTorch's message).</exception>
    public Tensor Bernoulli(Generator? generator = null)
    {
        CheckFloat("Bernoulli");
        using var untracked = RecordingOff.Enter();
        if (Numel > 0 && (Detach().Amin([], false).Item() < 0 || Detach().Amax([], false).Item() > 1 || Detach().Ne(Detach()).To(DType).Sum().Item() > 0))
            throw new ArgumentException($"Bernoulli: Expected p_in >= 0 && p_in <= 1 to be true, but got false (probabilities of shape {Shape}).");
        return Rand(Shape, DType, Device, false, generator).Lt(Detach()).To(DType);
    }

    /// <summary>
    /// Samples category indices from the rows of this tensor of non-negative weights, [n] or [B, n] → [S] or [B, S] Int64
    /// (torch.multinomial). With replacement: inverse CDF (a cumulative sum by a triangular matmul, normalized so its last
    /// entry is exactly 1, searched with 1 − u ∈ (0, 1]). Without replacement: the exponential race — keys Exp(1)/pᵢ,
    /// the S smallest in order, as successive arg-mins. Every step runs on the tensor's backend with Philox numbers.
    /// </summary>
    /// <exception cref="ArgumentException">Not 1-D/2-D or not floating; a weight negative, NaN or ∞; a row summing to 0;
    /// numSamples ≤ 0; without replacement, more samples than categories with nonzero weight (PyTorch's messages).</exception>
    public Tensor Multinomial(long numSamples, bool replacement = false, Generator? generator = null)
    {
        CheckFloat("Multinomial");
        if (Dim != 1 && Dim != 2) throw new ArgumentException($"Multinomial: prob_dist must be 1 or 2 dim, got shape {Shape}");
        if (numSamples <= 0) throw new ArgumentException($"Multinomial: cannot sample n_sample <= 0 samples (got {numSamples})");
        long n = shape[^1];
        if (!replacement && numSamples > n)
            throw new ArgumentException($"Multinomial: cannot sample n_sample > prob_dist.size(-1) samples without replacement ({numSamples} > {n})");
        using var untracked = RecordingOff.Enter();
        var p = (Dim == 1 ? Unsqueeze(0) : this).Detach();
        long b = p.shape[0];
        // Validation reads back a few scalars: the checks PyTorch makes before sampling.
        if (p.Amin([], false).Item() < 0 || p.Ne(p).To(DType).Sum().Item() > 0 || p.Eq(double.PositiveInfinity).To(DType).Sum().Item() > 0)
            throw new ArgumentException("Multinomial: probability tensor contains either `inf`, `nan` or element < 0");
        var sums = p.Sum(1);
        if (sums.Amin([], false).Item() <= 0) throw new ArgumentException("Multinomial: invalid multinomial distribution (sum of probabilities <= 0)");
        Tensor result;
        if (replacement)
        {
            var upper = Ones([n, n], DType, Device).Triu();              // cdf = p·U: U[i, j] = 1 for i ≤ j
            var cdf = p.MatMul(upper);
            cdf = cdf / cdf.Narrow(1, n - 1, 1);                          // last entry exactly 1, so 1 − u never lies past it
            var u = 1.0 - Rand([b, numSamples], DType, Device, false, generator);
            // index = #{k : cdf_k < u}: the first k with cdf_k ≥ u (zero-weight categories have cdf_k = cdf_{k−1} and are skipped).
            // Counted in the floating dtype (exact below 2²⁴ categories, PyTorch's own limit) since not every backend sums integers.
            if (n > 1 << 24) throw new ArgumentException($"Multinomial: number of categories cannot exceed 2^24 (got {n})");
            result = cdf.Unsqueeze(1).Lt(u.Unsqueeze(2)).To(DType).Sum([2]).To(DType.Int64);
        }
        else
        {
            if (p.Gt(0).To(DType).Sum(1).Amin([], false).Item() < numSamples)
                throw new ArgumentException("Multinomial: invalid multinomial distribution (with replacement=False, not enough non-negative category to sample)");
            var e = Empty([b, n], DType, Device).Exponential_(1, generator) / p;   // weight 0 → +∞: never drawn
            var picks = new List<Tensor>();
            var inf = Scalar(double.PositiveInfinity, DType, Device);
            var positions = FromArray(Enumerable.Range(0, (int)n).Select(i => (long)i).ToArray()).To(Device).Unsqueeze(0);
            for (long s = 0; s < numSamples; s++)
            {
                var idx = e.ArgMin(1, keepDim: true);
                picks.Add(idx);
                e = Where(positions.Eq(idx), inf, e);
            }
            result = Cat(picks, 1);
        }
        return Dim == 1 ? result.Squeeze(0) : result;
    }
}
