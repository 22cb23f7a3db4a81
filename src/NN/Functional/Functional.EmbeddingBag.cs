namespace Ember.NN;

/// <summary>How <see cref="Functional.EmbeddingBag"/> reduces a bag (PyTorch's mode strings).</summary>
public enum EmbeddingBagMode
{
    /// <summary>"sum" (optionally weighted by per-sample weights).</summary>
    Sum,
    /// <summary>"mean".</summary>
    Mean,
    /// <summary>"max" (per feature).</summary>
    Max,
}

public static partial class Functional
{
    /// <summary>
    /// Sums, averages or takes the maximum of bags of embeddings without materializing [bags, len, D]
    /// (torch.nn.functional.embedding_bag). Bags are the rows of a 2-D input [B, L], or the slices of a 1-D input
    /// starting at <paramref name="offsets"/> [B] (with includeLastOffset, offsets has B + 1 entries and the last one ends
    /// the last bag). Entries equal to paddingIdx are left out (and not counted by the mean); an empty bag gives zeros.
    /// Composed of index-select and index-add, so gradients reach weight and perSampleWeights.
    /// </summary>
    /// <returns>[B, D].</returns>
    /// <exception cref="ArgumentException">Non-integer indices; offsets with a 2-D input or missing for a 1-D one; offsets not starting at 0, decreasing or past the end; per-sample weights with a mode other than Sum or of another shape; an index out of range.</exception>
    public static Tensor EmbeddingBag(Tensor input, Tensor weight, Tensor? offsets = null, EmbeddingBagMode mode = EmbeddingBagMode.Mean,
        Tensor? perSampleWeights = null, bool includeLastOffset = false, long? paddingIdx = null)
    {
        if (!input.DType.IsIndex()) throw new ArgumentException($"EmbeddingBag: indices must be Int64 or Int32, got {input.DType} (shape {input.Shape}).");
        if (weight.Dim != 2) throw new ArgumentException($"EmbeddingBag: weight has to be a 2D Tensor, but got Tensor of dimension {weight.Dim}");
        if (perSampleWeights is not null && mode != EmbeddingBagMode.Sum)
            throw new ArgumentException($"EmbeddingBag: embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for mode='sum' (got mode='{mode.ToString().ToLowerInvariant()}'). Please open a feature request on GitHub.");
        if (perSampleWeights is not null && perSampleWeights.Shape != input.Shape)
            throw new ArgumentException($"EmbeddingBag: embedding_bag: If per_sample_weights ({perSampleWeights.Shape}) is not None, then it must have the same shape as the input ({input.Shape})");
        var ids = input.To(DType.Int64).Contiguous().ToArray<long>();
        long rows = weight.Size(0);
        foreach (var i in ids)
            if (i < 0 || i >= rows) throw new ArgumentException($"EmbeddingBag: index {i} is out of range for an embedding with {rows} rows.");
        long[] starts;
        long total = ids.Length;
        if (input.Dim == 2)
        {
            if (offsets is not null) throw new ArgumentException("EmbeddingBag: if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed length sequences.");
            long b = input.Size(0), l = input.Size(1);
            starts = [.. Enumerable.Range(0, (int)b).Select(r => r * l)];
        }
        else if (input.Dim == 1)
        {
            if (offsets is null) throw new ArgumentException("EmbeddingBag: offsets has to be a 1D Tensor but got None");
            if (offsets.Dim != 1) throw new ArgumentException($"EmbeddingBag: offsets has to be a 1D Tensor, but got Tensor of dimension {offsets.Dim}");
            var off = offsets.To(DType.Int64).Contiguous().ToArray<long>();
            if (off.Length > 0 && off[0] != 0) throw new ArgumentException($"EmbeddingBag: offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from position 0. However, got {off[0]}");
            for (int i = 1; i < off.Length; i++)
                if (off[i] < off[i - 1] || off[i] > total) throw new ArgumentException($"EmbeddingBag: offsets must be non-decreasing and at most the input length {total}, got {string.Join(", ", off)}.");
            if (includeLastOffset)
            {
                if (off.Length == 0) throw new ArgumentException("EmbeddingBag: include_last_offset needs at least one offset.");
                total = off[^1];
                starts = off[..^1];
            }
            else starts = off;
        }
        else throw new ArgumentException($"EmbeddingBag: input has to be 1D or 2D Tensor, but got Tensor of dimension {input.Dim}");

        int bags = starts.Length;
        // Host-side bookkeeping: which positions are kept (not padding) and which bag each belongs to.
        var keep = new List<long>(); var bagOf = new List<long>(); var counts = new long[bags];
        for (int bIdx = 0; bIdx < bags; bIdx++)
        {
            long end = bIdx + 1 < bags ? starts[bIdx + 1] : total;
            for (long p = starts[bIdx]; p < end; p++)
            {
                if (paddingIdx is { } pad && ids[p] == (pad < 0 ? pad + rows : pad)) continue;
                keep.Add(p); bagOf.Add(bIdx); counts[bIdx]++;
            }
        }
        long dim = weight.Size(1);
        if (keep.Count == 0) return Tensor.Zeros([bags, dim], weight.DType, weight.Device);
        var keptIds = Tensor.FromArray(keep.Select(p => ids[p]).ToArray()).To(weight.Device);
        var emb = weight.IndexSelect(0, keptIds);
        if (perSampleWeights is not null)
        {
            var psw = perSampleWeights.Reshape(-1).IndexSelect(0, Tensor.FromArray(keep.ToArray()).To(weight.Device));
            emb = emb * psw.To(weight.DType).Unsqueeze(1);
        }
        var bagIndex = Tensor.FromArray(bagOf.ToArray()).To(weight.Device);
        switch (mode)
        {
            case EmbeddingBagMode.Sum:
                return Tensor.Zeros([bags, dim], weight.DType, weight.Device).IndexAdd(0, bagIndex, emb);
            case EmbeddingBagMode.Mean:
                var sums = Tensor.Zeros([bags, dim], weight.DType, weight.Device).IndexAdd(0, bagIndex, emb);
                var div = Tensor.FromArray(counts.Select(k => k == 0 ? 1.0 : k).ToArray()).To(weight.Device).To(weight.DType).Unsqueeze(1);
                return sums / div;
            default:
                var parts = new Tensor[bags];
                int q = 0;
                for (int bIdx = 0; bIdx < bags; bIdx++)
                {
                    parts[bIdx] = counts[bIdx] == 0 ? Tensor.Zeros([dim], weight.DType, weight.Device) : emb.Narrow(0, q, counts[bIdx]).Amax([0]);
                    q += (int)counts[bIdx];
                }
                return Tensor.Stack(parts, 0);
        }
    }
}
