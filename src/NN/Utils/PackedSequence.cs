namespace Ember.NN;

/// <summary>
/// Variable-length sequences packed time step by time step (PyTorch's PackedSequence): <see cref="Data"/> [ΣLᵢ, *] holds
/// step 0 of every sequence, then step 1 of those still running, …, sequences ordered by decreasing length;
/// <see cref="BatchSizes"/>[t] is how many sequences reach step t. <see cref="SortedIndices"/> maps that order to the
/// original batch positions (null when the input was already sorted).
/// </summary>
/// <param name="Data">[ΣLᵢ, *].</param>
/// <param name="BatchSizes">Sequences running at each time step (non-increasing).</param>
/// <param name="SortedIndices">sorted position → original batch index, or null.</param>
/// <param name="UnsortedIndices">original batch index → sorted position, or null.</param>
public sealed record PackedSequence(Tensor Data, long[] BatchSizes, long[]? SortedIndices, long[]? UnsortedIndices)
{
    /// <summary>The length of each sequence, in the original batch order.</summary>
    public long[] Lengths()
    {
        long b = BatchSizes.Length == 0 ? 0 : BatchSizes[0];
        var sortedLengths = new long[b];
        foreach (var bs in BatchSizes)
            for (long i = 0; i < bs; i++) sortedLengths[i]++;
        if (SortedIndices is null) return sortedLengths;
        var res = new long[b];
        for (long i = 0; i < b; i++) res[SortedIndices[i]] = sortedLengths[i];
        return res;
    }
}

public static partial class RnnUtils
{
    /// <summary>
    /// Packs a padded batch [T, B, *] (or [B, T, *] with batchFirst) whose sequence b has lengths[b] valid steps
    /// (torch.nn.utils.rnn.pack_padded_sequence). With enforceSorted the lengths must be non-increasing; otherwise the
    /// batch is sorted by decreasing length and the permutation recorded. Differentiable in the input.
    /// </summary>
    /// <exception cref="ArgumentException">A length count other than B, a length outside [1, T], or unsorted lengths with enforceSorted (PyTorch's messages).</exception>
    public static PackedSequence PackPaddedSequence(Tensor input, long[] lengths, bool batchFirst = false, bool enforceSorted = true)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(lengths);
        var x = batchFirst ? input.Transpose(0, 1) : input;
        if (x.Dim < 2) throw new ArgumentException($"PackPaddedSequence: expected input [T, B, *] (or [B, T, *]), got {input.Shape}.");
        long t = x.Size(0), b = x.Size(1);
        if (lengths.Length != b) throw new ArgumentException($"PackPaddedSequence: Expected `len(lengths)` to be equal to batch_size, but got {lengths.Length} (batch_size={b})");
        foreach (var l in lengths)
            if (l <= 0 || l > t) throw new ArgumentException($"PackPaddedSequence: Length of all samples has to be between 1 and {t} (the padded length), but got {l}; empty sequences are not allowed.");
        long[]? sorted = null, unsorted = null;
        if (enforceSorted)
        {
            for (int i = 1; i < lengths.Length; i++)
                if (lengths[i] > lengths[i - 1])
                    throw new ArgumentException("PackPaddedSequence: `lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement if you do not need ONNX exportability.");
        }
        else
        {
            // A stable sort by decreasing length (PyTorch sorts with torch.sort(descending=True)).
            sorted = [.. Enumerable.Range(0, (int)b).Select(i => (long)i).OrderByDescending(i => lengths[i])];
            unsorted = new long[b];
            for (long i = 0; i < b; i++) unsorted[sorted[i]] = i;
            x = x.IndexSelect(1, Tensor.FromArray(sorted).To(x.Device));
        }
        var sortedLengths = sorted is null ? lengths : [.. sorted.Select(i => lengths[i])];
        var batchSizes = new long[sortedLengths[0]];
        for (long step = 0; step < batchSizes.Length; step++) batchSizes[step] = sortedLengths.Count(l => l > step);
        var data = Tensor.Cat([.. batchSizes.Select((bs, step) => x.Select(0, step).Narrow(0, 0, bs))], 0);
        return new PackedSequence(data, batchSizes, sorted, unsorted);
    }

    /// <summary>
    /// Unpacks to a padded batch [T, B, *] (or [B, T, *]) in the original batch order, and the lengths
    /// (torch.nn.utils.rnn.pad_packed_sequence). totalLength pads T beyond the longest sequence.
    /// </summary>
    /// <exception cref="ArgumentException">totalLength shorter than the longest sequence.</exception>
    public static (Tensor Padded, long[] Lengths) PadPackedSequence(PackedSequence sequence, bool batchFirst = false, double paddingValue = 0, long? totalLength = null)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        long t = sequence.BatchSizes.Length, b = t == 0 ? 0 : sequence.BatchSizes[0];
        if (totalLength is { } tl && tl < t)
            throw new ArgumentException($"PadPackedSequence: Expected total_length to be at least the length of the longest sequence in input, but got total_length={tl} and max sequence length being {t}");
        var trailing = sequence.Data.Shape.ToArray()[1..];
        var steps = new List<Tensor>();
        long off = 0;
        foreach (var bs in sequence.BatchSizes)
        {
            var step = sequence.Data.Narrow(0, off, bs);
            off += bs;
            steps.Add(bs == b ? step : Tensor.Cat([step, Tensor.Full([b - bs, .. trailing], paddingValue, step.DType, step.Device)], 0));
        }
        for (long k = t; k < (totalLength ?? t); k++) steps.Add(Tensor.Full([b, .. trailing], paddingValue, sequence.Data.DType, sequence.Data.Device));
        var padded = Tensor.Stack(steps, 0);
        if (sequence.UnsortedIndices is { } u) padded = padded.IndexSelect(1, Tensor.FromArray(u).To(padded.Device));
        return (batchFirst ? padded.Transpose(0, 1) : padded, sequence.Lengths());
    }

    /// <summary>Packs a list of sequences [Lᵢ, *] (torch.nn.utils.rnn.pack_sequence): pad, then pack.</summary>
    public static PackedSequence PackSequence(IReadOnlyList<Tensor> sequences, bool enforceSorted = true) =>
        PackPaddedSequence(PadSequence(sequences), [.. sequences.Select(s => s.Size(0))], false, enforceSorted);

    /// <summary>
    /// Runs an RNN or GRU over packed sequences (PyTorch's <c>rnn(packed)</c>): every sequence is run over its own length,
    /// so the final hidden state is the one at its last valid step. Returns the packed output and h_n [L·D, B, H] in the
    /// original batch order.
    /// </summary>
    /// <remarks>Each sequence is a separate call of the layer (correct for every direction and layer count, not batched).</remarks>
    public static (PackedSequence Output, Tensor Hidden) Forward(this RNNBase<Tensor> rnn, PackedSequence input)
    {
        ArgumentNullException.ThrowIfNull(rnn);
        var (outs, hs) = PerSequence(input, x => { var (o, h) = rnn.Call(rnn.BatchFirst ? x.Transpose(0, 1) : x); return (rnn.BatchFirst ? o.Transpose(0, 1) : o, [h]); });
        return (Repack(outs, input), Tensor.Cat([.. hs.Select(h => h[0])], 1));
    }

    /// <summary>Runs an LSTM over packed sequences; returns the packed output and (h_n, c_n) in the original batch order.</summary>
    /// <remarks>Each sequence is a separate call of the layer (correct for every direction and layer count, not batched).</remarks>
    public static (PackedSequence Output, (Tensor H, Tensor C) Hidden) Forward(this LSTM lstm, PackedSequence input)
    {
        ArgumentNullException.ThrowIfNull(lstm);
        var (outs, hs) = PerSequence(input, x => { var (o, h) = lstm.Call(lstm.BatchFirst ? x.Transpose(0, 1) : x); return (lstm.BatchFirst ? o.Transpose(0, 1) : o, [h.H, h.C]); });
        return (Repack(outs, input), (Tensor.Cat([.. hs.Select(h => h[0])], 1), Tensor.Cat([.. hs.Select(h => h[1])], 1)));
    }

    // Runs f on each sequence [Lᵢ, 1, *] (time-major) in the original batch order.
    private static (List<Tensor> Outputs, List<Tensor[]> Hidden) PerSequence(PackedSequence input, Func<Tensor, (Tensor, Tensor[])> f)
    {
        var (padded, lengths) = PadPackedSequence(input);
        var outs = new List<Tensor>(); var hs = new List<Tensor[]>();
        for (int b = 0; b < lengths.Length; b++)
        {
            var (o, h) = f(padded.Narrow(0, 0, lengths[b]).Narrow(1, b, 1));
            outs.Add(o.Squeeze(1)); hs.Add(h);
        }
        return (outs, hs);
    }

    private static PackedSequence Repack(List<Tensor> outputs, PackedSequence like) =>
        PackPaddedSequence(PadSequence(outputs), like.Lengths(), false, enforceSorted: like.SortedIndices is null);
}
