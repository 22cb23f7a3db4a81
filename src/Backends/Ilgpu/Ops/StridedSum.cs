using System.Runtime.CompilerServices;
using ILGPU;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// A thread's running sum over strided elements with several memory reads in flight. A loop of <c>acc += x[…]</c>
/// issues one read, waits its full latency (hundreds of cycles on a GPU: the add needs the value before the next read
/// is issued), then issues the next: a thread summing the 500 partials of a split reduction spent about 200 µs on an
/// H100. Here eight reads are issued before their adds; the adds run in the same order as the plain loop, so every sum
/// is bit for bit what the one-read-at-a-time loop gave.
/// </summary>
internal static class StridedSum
{
    /// <summary>Reads issued before their adds.</summary>
    public const int InFlight = 8;

    /// <summary>
    /// acc + x[first] + x[first + stride] + … + x[first + (count − 1)·stride], added left to right in
    /// <typeparamref name="R"/>, each element loaded through <typeparamref name="S"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Add<TS, T, R, S>(T acc, ArrayView<TS> x, long first, long stride, long count)
        where TS : unmanaged where T : unmanaged where R : struct, IReal<T> where S : struct, IElementStorage<TS, T>
    {
        long i = 0, at = first;
        for (; i + InFlight <= count; i += InFlight, at += InFlight * stride)
        {
            T a0 = S.Load(x[at]), a1 = S.Load(x[at + stride]), a2 = S.Load(x[at + 2 * stride]), a3 = S.Load(x[at + 3 * stride]);
            T a4 = S.Load(x[at + 4 * stride]), a5 = S.Load(x[at + 5 * stride]), a6 = S.Load(x[at + 6 * stride]), a7 = S.Load(x[at + 7 * stride]);
            acc = R.Add(R.Add(R.Add(R.Add(acc, a0), a1), a2), a3);
            acc = R.Add(R.Add(R.Add(R.Add(acc, a4), a5), a6), a7);
        }
        for (; i < count; i++, at += stride) acc = R.Add(acc, S.Load(x[at]));
        return acc;
    }

    /// <summary>The float32 sum of float32 elements (see <see cref="Add{TS, T, R, S}"/>), from 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Floats(ArrayView<float> x, long first, long stride, long count) =>
        Add<float, float, F32, Plain<float>>(0f, x, first, stride, count);
}
