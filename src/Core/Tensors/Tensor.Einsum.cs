namespace Ember;

public sealed partial class Tensor
{
    /// <summary>
    /// Einstein summation (torch.einsum), e.g. <c>Einsum("bij,bjk->bik", a, b)</c>; without "->" the output holds the
    /// ellipsis dims, then the indices that appear once, in alphabetical order. An index repeated within one operand takes
    /// that operand's diagonal over those dims (<c>"ii->i"</c>, <c>"ii->"</c> is the trace). <c>...</c> stands for the
    /// dims the letters leave over; the ellipsis dims of all operands broadcast together (aligned from the right) and
    /// are summed when an explicit output leaves them out. Operands are contracted left to right, two at a time, each pair
    /// as one batched matmul: indices of both operands that the rest still needs are the batch, indices of one operand are
    /// its rows or columns, and indices of both that nothing else needs are summed by the matmul. An index found in only
    /// one operand and not needed later is summed first. Differentiable.
    /// </summary>
    /// <exception cref="ArgumentException">The equation is malformed (a character other than letters, ',', "->" and
    /// "..."; more than one ellipsis per term; an output index repeated or absent from the inputs), does not match the
    /// operand count or ranks, a repeated index has different sizes in one operand, or sizes of one index disagree.</exception>
    public static Tensor Einsum(string equation, params Tensor[] operands)
    {
        ArgumentNullException.ThrowIfNull(equation);
        ArgumentNullException.ThrowIfNull(operands);
        var eq = equation.Replace(" ", "");
        var parts = eq.Split("->");
        if (parts.Length > 2) throw new ArgumentException($"Einsum: equation \"{equation}\" has more than one \"->\".");
        var inputs = parts[0].Split(',');
        if (inputs.Length != operands.Length)
            throw new ArgumentException($"Einsum: the equation \"{equation}\" names {inputs.Length} operands but {operands.Length} were given.");
        // Each ellipsis dim becomes a private subscript (not a letter), numbered from the right so they broadcast.
        int ellipsisRank = 0;
        for (int i = 0; i < inputs.Length; i++)
        {
            var s = inputs[i];
            int dots = CountEllipses(s, $"operand {i}");
            if (s.Replace("...", "").Any(c => !char.IsAsciiLetter(c)))
                throw new ArgumentException($"Einsum: operand {i} subscripts \"{s}\" must be letters a-z, A-Z and at most one \"...\".");
            int letters = s.Length - 3 * dots;
            if (dots == 0 ? letters != operands[i].Dim : letters > operands[i].Dim)
                throw new ArgumentException($"Einsum: the number of subscripts in the equation ({letters}{(dots > 0 ? " and an ellipsis" : "")}) does not match the number of dimensions ({operands[i].Dim}) for operand {i}.");
            if (dots > 0) ellipsisRank = Math.Max(ellipsisRank, operands[i].Dim - letters);
        }
        string EllipsisSubscripts(int count) => new([.. Enumerable.Range(ellipsisRank - count, count).Select(k => (char)(0x2460 + k))]);
        var subs = inputs.Select((s, i) => s.Replace("...", EllipsisSubscripts(operands[i].Dim - (s.Length - 3 * CountEllipses(s, "")))))
            .ToArray();
        string output;
        if (parts.Length == 2)
        {
            int dots = CountEllipses(parts[1], "the output");
            if (parts[1].Replace("...", "").Any(c => !char.IsAsciiLetter(c)))
                throw new ArgumentException($"Einsum: output subscripts \"{parts[1]}\" must be letters a-z, A-Z and at most one \"...\".");
            output = parts[1].Replace("...", EllipsisSubscripts(ellipsisRank));
            if (output.Distinct().Count() != output.Length)
                throw new ArgumentException($"Einsum: output subscript {output.GroupBy(c => c).First(g => g.Count() > 1).Key} appears more than once in the output \"{parts[1]}\".");
        }
        else
            output = EllipsisSubscripts(ellipsisRank) + new string([.. subs.SelectMany(s => s).Where(char.IsAsciiLetter)
                .GroupBy(c => c).Where(g => g.Count() == 1).Select(g => g.Key).OrderBy(c => c)]);
        // A subscript repeated within an operand takes that operand's diagonal (moved last) until none repeats.
        var terms = new List<(Tensor T, string S)>();
        for (int i = 0; i < operands.Length; i++)
        {
            var (t, s) = (operands[i], subs[i]);
            for (int p = 0; p < s.Length; p++)
            {
                int q = s.IndexOf(s[p], p + 1);
                if (q < 0) continue;
                if (t.shape[p] != t.shape[q])
                    throw new ArgumentException($"Einsum: subscript {s[p]} is repeated for operand {i} but the sizes don't match, {t.shape[p]} != {t.shape[q]}.");
                t = t.Diagonal(0, p, q);
                s = s.Remove(q, 1).Remove(p, 1) + s[p];
                p = -1;   // rescan the shortened subscripts
            }
            terms.Add((t, s));
        }
        var sizes = new Dictionary<char, long>();
        for (int i = 0; i < terms.Count; i++)
        {
            var (t, s) = terms[i];
            for (int k = 0; k < s.Length; k++)
            {
                long n = t.shape[k];
                if (sizes.TryGetValue(s[k], out var m) && m != n && m != 1 && n != 1)
                    throw new ArgumentException($"Einsum: {(char.IsAsciiLetter(s[k]) ? $"subscript {s[k]}" : "an ellipsis dim")} has size {n} for operand {i} which does not broadcast with previously seen size {m}.");
                sizes[s[k]] = Math.Max(m, n);
            }
        }
        foreach (var c in output)
            if (!sizes.ContainsKey(c)) throw new ArgumentException($"Einsum: output subscript {c} does not appear in the equation for any input operand.");

        // Broadcast size-1 dims against the common size first, so every index has one size.
        terms = [.. terms.Select(p => (p.T.Expand([.. p.S.Select(c => sizes[c])]), p.S))];
        var (acc, accS) = terms[0];
        for (int i = 1; i < terms.Count; i++)
            (acc, accS) = Contract(acc, accS, terms[i].T, terms[i].S, string.Concat(terms.Skip(i + 1).Select(t => t.S)) + output);
        // Sum indices the output does not keep, then order as the output.
        var drop = accS.Select((c, k) => (c, k)).Where(p => !output.Contains(p.c)).Select(p => p.k).ToArray();
        if (drop.Length > 0) { acc = acc.Sum(drop); accS = new string([.. accS.Where(output.Contains)]); }
        return acc.Permute([.. output.Select(c => accS.IndexOf(c))]);
    }

    /// <summary>How many "..." a term of the equation holds (0 or 1); a second one or a stray '.' is an error.</summary>
    private static int CountEllipses(string term, string what)
    {
        int dots = term.Split("...").Length - 1;
        if (dots > 1) throw new ArgumentException($"Einsum: more than one \"...\" in the subscripts of {what} (\"{term}\").");
        return dots;
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
