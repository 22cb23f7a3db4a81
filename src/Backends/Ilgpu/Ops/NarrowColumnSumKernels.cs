using ILGPU;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// Linear's bias gradient in Float16/BFloat16: column sums of a contiguous 16-bit matrix g [m, n], accumulated in
/// float32 and rounded once, read straight from 16-bit storage. The sums run in the order of the float32 column
/// reduction (<see cref="ReduceKernels.Column{T, R}"/>: the rows cut into equal chunks, each summed in turn, then the
/// chunks' sums in turn; eight reads in flight per thread, <see cref="StridedSum"/>), so the result equals the former widen / reduce / round path's wherever that took the column
/// kernel, and is within one rounding of it elsewhere.
/// </summary>
internal static class NarrowColumnSumKernels
{
    /// <summary>
    /// Thread i = part·n + column: the float32 sum of g's rows [part·chunk, (part + 1)·chunk) ∩ [0, m) in that column,
    /// into partials[i].
    /// </summary>
    public static void Partial<TN>(Index1D i, ArrayView<ushort> g, ArrayView<float> partials, long n, long m, long chunk)
        where TN : struct, INarrow
    {
        long part = i / n, column = i - part * n;
        long j0 = part * chunk, j1 = j0 + chunk < m ? j0 + chunk : m;
        partials[i] = StridedSum.Add<ushort, float, F32, Narrowed<TN>>(0f, g, j0 * n + column, n, j1 - j0);
    }

    /// <summary>Thread j: result[j] = the float32 sum of partials[p·n + j] over p in [0, parts), rounded once.</summary>
    public static void Finish<TN>(Index1D j, ArrayView<float> partials, ArrayView<ushort> result, long n, long parts)
        where TN : struct, INarrow
    {
        result[j] = TN.FromF(StridedSum.Floats(partials, j, n, parts));
    }

    /// <summary>Thread j: result[j] = the float32 sum of column j over all m rows, rounded once (one part).</summary>
    public static void Whole<TN>(Index1D j, ArrayView<ushort> g, ArrayView<ushort> result, long n, long m)
        where TN : struct, INarrow
    {
        result[j] = TN.FromF(StridedSum.Add<ushort, float, F32, Narrowed<TN>>(0f, g, j, n, m));
    }
}
