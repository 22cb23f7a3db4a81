namespace Ember;

/// <summary>
/// The engine's gradient buffers for tensors read through slices (Narrow, Select, Split, Chunk, Unbind, indexing):
/// instead of each slice's formula filling a zero tensor of the whole input and the engine adding those up, every
/// slice's gradient is copied straight into its window of one buffer per input, and only the positions no slice
/// covered are zeroed, once, when the input's node runs. q, k, v = qkv.Unbind(0) then costs three window copies in
/// place of three full fills, three copies and two full adds. Values are those of the formula (zeros outside, sums
/// where windows overlap); only the plain backward pass uses it (createGraph records the formula).
/// </summary>
internal sealed class SliceGradients
{
    private sealed class Pending(Tensor buffer, int dim, bool[] covered)
    {
        public Tensor Buffer { get; } = buffer;
        public int Dim { get; } = dim;
        public bool[] Covered { get; } = covered;
    }

    private readonly Dictionary<Node, Pending> pending = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// Puts the gradient <paramref name="g"/> of a slice (attributes <paramref name="a"/>) into the buffer of the
    /// input's node <paramref name="target"/>. False when the engine should run the formula instead: the node already
    /// has a dense gradient, or earlier slices cut another dim (their buffer then moves to <paramref name="dense"/>).
    /// </summary>
    public bool TryAdd(Node target, OpArgs a, Tensor g, Dictionary<Node, Tensor> dense)
    {
        if (dense.ContainsKey(target)) return false;
        if (!pending.TryGetValue(target, out var p))
        {
            p = new Pending(Allocate(a, g), a.Dim, new bool[a.InputShape[a.Dim]]);
            pending[target] = p;
        }
        else if (p.Dim != a.Dim || p.Buffer.DType != g.DType || p.Buffer.Device != g.Device)
        {
            dense[target] = Take(target)!;
            return false;
        }
        if (a.Length == 0) return true;
        var window = p.Buffer.Slice(a.Dim, a.Start, a.Start + (a.Length - 1) * a.Step + 1, a.Step);
        bool any = false, all = true;
        for (long t = 0; t < a.Length; t++)
        {
            bool c = p.Covered[a.Start + t * a.Step];
            any |= c;
            all &= c;
        }
        if (!any)
        {
            g.Backend.Copy(g, window);
        }
        else
        {
            // Overlapping windows add up, as the formula's sum does: zero this window's new positions, then add in place.
            if (!all)
                for (long t = 0; t < a.Length; t++)
                {
                    long i = a.Start + t * a.Step;
                    if (!p.Covered[i]) g.Backend.Fill(p.Buffer.Narrow(a.Dim, i, 1), 0);
                }
            g.Backend.Binary(BinaryOp.Add, window, g, window);
        }
        for (long t = 0; t < a.Length; t++) p.Covered[a.Start + t * a.Step] = true;
        return true;
    }

    /// <summary>The finished buffer of <paramref name="target"/> (positions no slice covered zeroed), or null when it has none; forgets it.</summary>
    public Tensor? Take(Node target)
    {
        if (!pending.Remove(target, out var p)) return null;
        var covered = p.Covered;
        for (int i = 0; i < covered.Length;)
        {
            if (covered[i]) { i++; continue; }
            int j = i;
            while (j < covered.Length && !covered[j]) j++;
            p.Buffer.Backend.Fill(p.Buffer.Narrow(p.Dim, i, j - i), 0);
            i = j;
        }
        return p.Buffer;
    }

    /// <summary>
    /// An uninitialized buffer of the input's shape, laid out as the input was when that is a dense permutation of
    /// dims (a permuted view such as qkv.Permute(2, 0, 3, 1, 4)), so the gradient flows back through the permute and
    /// reshape as views, with no copy; otherwise contiguous.
    /// </summary>
    private static Tensor Allocate(OpArgs a, Tensor g)
    {
        long[] shape = a.InputShape, strides = a.InputStrides;
        int n = shape.Length;
        if (strides.Length != n || shape.Any(s => s == 0)) return Tensor.Empty(shape, g.DType, g.Device);
        // Dims from outermost to innermost: descending stride (a stable sort keeps ties, i.e. size-1 dims, in order).
        int[] order = Enumerable.Range(0, n).OrderByDescending(d => strides[d]).ToArray();
        long expected = 1;
        for (int k = n - 1; k >= 0; k--)
        {
            int d = order[k];
            if (shape[d] == 1) continue;
            if (strides[d] != expected) return Tensor.Empty(shape, g.DType, g.Device);
            expected *= shape[d];
        }
        var inverse = new int[n];
        for (int k = 0; k < n; k++) inverse[order[k]] = k;
        return Tensor.Empty(order.Select(d => shape[d]).ToArray(), g.DType, g.Device).Permute(inverse);
    }
}
