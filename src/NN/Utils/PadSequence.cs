namespace Ember.NN;

/// <summary>Batching variable-length sequences (PyTorch's torch.nn.utils.rnn.pad_sequence).</summary>
public static partial class RnnUtils
{
    /// <summary>
    /// Stacks sequences [Lᵢ, *] into [maxL, B, *] (or [B, maxL, *] with batchFirst), padding the tails with
    /// <paramref name="paddingValue"/>. Differentiable in the sequences.
    /// </summary>
    /// <exception cref="ArgumentException">No sequences, or trailing dims, dtypes or devices differ.</exception>
    public static Tensor PadSequence(IReadOnlyList<Tensor> sequences, bool batchFirst = false, double paddingValue = 0)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (sequences.Count == 0) throw new ArgumentException("PadSequence: received an empty list of sequences");
        var first = sequences[0];
        if (first.Dim < 1) throw new ArgumentException($"PadSequence: sequences must have at least one dim [L, *], got {first.Shape}.");
        var trailing = first.Shape.ToArray()[1..];
        foreach (var s in sequences)
            if (s.Dim != first.Dim || !s.Shape.ToArray()[1..].AsSpan().SequenceEqual(trailing) || s.DType != first.DType || s.Device != first.Device)
                throw new ArgumentException($"PadSequence: every sequence must be [L, {string.Join(", ", trailing)}] of {first.DType} on {first.Device}; got {s.Shape} of {s.DType} on {s.Device}.");
        long maxLen = sequences.Max(s => s.Size(0));
        var padded = sequences.Select(s => s.Size(0) == maxLen ? s
            : Tensor.Cat([s, Tensor.Full([maxLen - s.Size(0), .. trailing], paddingValue, s.DType, s.Device)], 0)).ToList();
        return Tensor.Stack(padded, batchFirst ? 0 : 1);
    }
}
