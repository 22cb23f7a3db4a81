using ILGPU;
using ILGPU.Algorithms;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// A bitonic argsort of every row of a [rows, n] Float64 key matrix. Each row is padded to p = 2^⌈log₂ n⌉ slots; the
/// kernels permute the slots' positions (Int64, a [rows, p] scratch) and read the keys through them, so keys never move.
/// The comparison is a total order (PyTorch's NaN order, then the position; padding slots last), which makes the
/// unstable bitonic network produce the stable permutation.
/// </summary>
internal static class SortKernels
{
    /// <summary>Slot t of its row starts with its own position (positions ≥ n are padding).</summary>
    public static void Init(Index1D t, ArrayView<long> slots, int p) => slots[t] = t % p;

    /// <summary>
    /// One compare-exchange stage (block size k, distance j) of the bitonic network over all rows: slot i pairs with
    /// i ^ j; blocks with (i &amp; k) == 0 sort ascending, the others descending, so the last stage (k = p) sorts each row.
    /// </summary>
    public static void Step(Index1D t, ArrayView<double> keys, ArrayView<long> slots, long keysOffset, int n, int p, int k, int j, int descending)
    {
        int i = t % p, l = i ^ j;
        if (l <= i) return;
        long row = t / p;
        long a = row * p + i, b = row * p + l;
        long pa = slots[a], pb = slots[b];
        long rowBase = keysOffset + row * n;
        bool swap = (i & k) == 0 ? Before(keys, rowBase, pb, pa, n, descending) : Before(keys, rowBase, pa, pb, n, descending);
        if (swap)
        {
            slots[a] = pb;
            slots[b] = pa;
        }
    }

    /// <summary>Whether the element at position x of a row comes strictly before the one at y.</summary>
    private static bool Before(ArrayView<double> keys, long rowBase, long x, long y, int n, int descending)
    {
        if (x >= n || y >= n) return x < y;   // padding sorts after every element
        double kx = keys[rowBase + x], ky = keys[rowBase + y];
        bool nx = XMath.IsNaN(kx), ny = XMath.IsNaN(ky);
        if (nx != ny) return descending != 0 ? nx : ny;
        if (!nx && kx != ky) return descending != 0 ? kx > ky : kx < ky;
        return x < y;   // equal keys (or two NaNs): by position, so the sort is stable
    }

    /// <summary>Copies the first n slots of each row (the sorted positions) into the [rows, n] result.</summary>
    public static void Gather(Index1D t, ArrayView<long> slots, ArrayView<long> result, long resultOffset, int n, int p)
    {
        long row = t / n;
        int c = t % n;
        result[resultOffset + t] = slots[row * p + c];
    }
}
