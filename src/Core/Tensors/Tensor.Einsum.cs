namespace Ember;

public sealed partial class Tensor
{
    /// <summary>
    /// Einstein summation (torch.einsum), e.g. <c>Einsum("bij,bjk->bik", a, b)</c>; without "->" the output holds the
    /// indices that appear once, in alphabetical order. Operands are contracted left to right, two at a time, each pair as
    /// one batched matmul: indices of both operands that the rest still needs are the batch, indices of one operand are
    /// its rows or columns, and indices of both that nothing else needs are summed by the matmul. An index found in only
    /// one operand and not needed later is summed first. Differentiable.
    /// </summary>
    /// <exception cref="ArgumentException">The equation is malformed, names an index twice in one operand (diagonals are
    /// not supported), does not match the operand count or ranks, or sizes of one index disagree.</exception>
    public static Tensor Einsum(string equation, params Tensor[] operands)
    {
        ArgumentNullException.ThrowIfNull(equation);
        var eq = equation.Replace(" ", "");
        var parts = eq.Split("->");
        if (parts.Length > 2) throw new ArgumentException($"Einsum: equation \"{equation}\" has more than one \"->\".");
        var inputs = parts[0].Split(',');
        if (inputs.Length != operands.Length)
            throw new ArgumentException($"Einsum: the equation \"{equation}\" names {inputs.Length} operands but {operands.Length} were given.");
        var sizes = new Dictionary<char, long>();
        for (int i = 0; i < inputs.Length; i++)
        {
            var s = inputs[i];
            if (s.Any(c => !char.IsLetter(c))) throw new ArgumentException($"Einsum: operand {i} subscripts \"{s}\" must be letters (ellipsis is not supported).");
            if (s.Distinct().Count() != s.Length) throw new ArgumentException($"Einsum: operand {i} subscripts \"{s}\" repeat an index (diagonals are not supported).");
            if (s.Length != operands[i].Dim)
                throw new ArgumentException($"Einsum: the number of subscripts in the equation ({s.Length}) does not match the number of dimensions ({operands[i].Dim}) for operand {i}.");
            for (int k = 0; k < s.Length; k++)
            {
                long n = operands[i].shape[k];
                if (sizes.TryGetValue(s[k], out var m) && m != n && m != 1 && n != 1)
                    throw new ArgumentException($"Einsum: subscript {s[k]} has size {n} for operand {i} which does not broadcast with previously seen size {m}.");
                sizes[s[k]] = Math.Max(m, n);
            }
        }
        string output = parts.Length == 2 ? parts[1]
            : new string(sizes.Keys.Where(c => inputs.Sum(s => s.Count(x => x == c)) == 1).OrderBy(c => c).ToArray());
        foreach (var c in output)
            if (!sizes.ContainsKey(c)) throw new ArgumentException($"Einsum: output subscript {c} does not appear in the equation for any input operand.");

        // Broadcast size-1 dims against the common size first, so every index has one size.
        var terms = operands.Select((t, i) => (T: t.Expand(inputs[i].Select(c => sizes[c]).ToArray()), S: inputs[i])).ToList();
        var (acc, accS) = terms[0];
        for (int i = 1; i < terms.Count; i++)
            (acc, accS) = Contract(acc, accS, terms[i].T, terms[i].S, string.Concat(terms.Skip(i + 1).Select(t => t.S)) + output);
        // Sum indices the output does not keep, then order as the output.
        var drop = accS.Select((c, k) => (c, k)).Where(p => !output.Contains(p.c)).Select(p => p.k).ToArray();
        if (drop.Length > 0) { acc = acc.Sum(drop); accS = new string(accS.Where(output.Contains).ToArray()); }
        return acc.Permute(output.Select(c => accS.IndexOf(c)).ToArray());
    }

    /// <summary>Contracts two terms into one over the indices that <paramref name="keep"/> (later operands and the output) does not need.</summary>
    private static (Tensor, string) Contract(Tensor a, string sa, Tensor b, string sb, string keep)
    {
        // An index of one term only, needed nowhere else, is summed out before the matmul.
        (Tensor, string) SumLonely(Tensor t, string s, string other)
        {
            var dims = s.Select((c, k) => (c, k)).Where(p => !other.Contains(p.c) && !keep.Contains(p.c)).Select(p => p.k).ToArray();
            return dims.Length == 0 ? (t, s) : (t.Sum(dims), new string(s.Where((c, k) => !dims.Contains(k)).ToArray()));
        }
        (a, sa) = SumLonely(a, sa, sb);
        (b, sb) = SumLonely(b, sb, sa);
        var batch = sa.Where(c => sb.Contains(c) && keep.Contains(c)).ToArray();
        var contracted = sa.Where(c => sb.Contains(c) && !keep.Contains(c)).ToArray();
        var left = sa.Where(c => !sb.Contains(c)).ToArray();
        var right = sb.Where(c => !sa.Contains(c)).ToArray();
        long Prod(Tensor t, string s, char[] cs) => cs.Aggregate(1L, (p, c) => p * t.shape[s.IndexOf(c)]);
        long nb = Prod(a, sa, batch), nl = Prod(a, sa, left), nc = Prod(a, sa, contracted), nr = Prod(b, sb, right);
        var a3 = a.Permute([.. batch.Concat(left).Concat(contracted).Select(c => sa.IndexOf(c))]).Reshape(nb, nl, nc);
        var b3 = b.Permute([.. batch.Concat(contracted).Concat(right).Select(c => sb.IndexOf(c))]).Reshape(nb, nc, nr);
        var outS = new string([.. batch, .. left, .. right]);
        var outShape = outS.Select(c => sa.Contains(c) ? a.shape[sa.IndexOf(c)] : b.shape[sb.IndexOf(c)]).ToArray();
        return (a3.MatMul(b3).Reshape(outShape), outS);
    }
}
