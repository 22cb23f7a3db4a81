using ILGPU;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// A convolution's bias gradient in Float16/BFloat16: row sums of a contiguous 16-bit matrix g [n, k] (the output
/// gradient laid out as [O, samples·OH·OW]), accumulated in float32 and rounded once, read straight from 16-bit storage
/// instead of through a widened float32 copy. Each row is cut into <c>parts</c> interleaved slices (thread p of a row
/// sums elements p, p + parts, …, so neighbouring threads read neighbouring elements); the slices' float32 sums are then
/// added in turn by <see cref="NarrowColumnSumKernels.Finish{TN}"/>.
/// </summary>
internal static class NarrowRowSumKernels
{
    /// <summary>
    /// Thread i = row·parts + p: the float32 sum of g[row, p], g[row, p + parts], … over the row's k elements, into
    /// partials[p·n + row] (the layout <see cref="NarrowColumnSumKernels.Finish{TN}"/> reads).
    /// </summary>
    public static void Partial<TN>(Index1D i, ArrayView<ushort> g, ArrayView<float> partials, long n, long k, long parts)
        where TN : struct, INarrow
    {
        long row = i / parts, p = i - row * parts;
        long start = row * k;
        // Elements p, p + parts, … of the row, eight reads in flight (StridedSum).
        partials[p * n + row] = StridedSum.Add<ushort, float, F32, Narrowed<TN>>(0f, g, start + p, parts, p < k ? (k - p + parts - 1) / parts : 0);
    }
}
