using ILGPU;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// The device side of <see cref="IBackend.CheckIndices"/>: one group strides over a contiguous Int64 index, counts the
/// elements that are not skipped and flags the first bad one it meets into its <see cref="DeviceChecks"/> slots.
/// </summary>
internal static class IndexCheckKernels
{
    /// <summary>Threads of the one group.</summary>
    public const int Threads = 256;

    /// <summary>
    /// index[offset..offset+n) against [0, size), skipping elements equal to skip when hasSkip ≠ 0; slots = (flag, value);
    /// count[countOffset] = the number not skipped when hasCount ≠ 0.
    /// </summary>
    public static void Check<T, R>(ArrayView<long> index, long offset, long n, long size, long skip, int hasSkip,
        ArrayView<T> count, long countOffset, int hasCount, ArrayView<long> slots) where T : unmanaged where R : struct, IReal<T>
    {
        var sh = SharedMemory.Allocate<long>(Threads);
        int tid = Group.IdxX;
        long kept = 0;
        for (long i = tid; i < n; i += Group.DimX)
        {
            long v = index[offset + i];
            if (hasSkip != 0 && v == skip) continue;
            kept++;
            // The first thread to swap the flag from 0 records its value; the others' bad values are not reported.
            if ((v < 0 || v >= size) && Atomic.CompareExchange(ref slots[0], 0L, 1L) == 0L) slots[1] = v;
        }
        sh[tid] = kept;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (tid < s) sh[tid] += sh[tid + s];
            Group.Barrier();
        }
        // Exact as long as the count is (2^24 in float32): the mean's divisor.
        if (tid == 0 && hasCount != 0) count[countOffset] = R.FromL(sh[0]);
    }
}
