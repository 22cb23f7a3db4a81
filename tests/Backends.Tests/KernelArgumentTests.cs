using ILGPU;
using ILGPU.Runtime;
using Ember.Ilgpu;

namespace Ember.Conformance;

/// <summary>
/// How ILGPU passes struct kernel arguments that hold nested structs with unsigned fields (the shape of the launch
/// geometries Ember passes by value): every field arrives with its host value on every device. Written after an
/// index-division change whose kernels read such fields passed on ilgpu-cpu and failed on CUDA (perf/README,
/// fourteenth session); on CUDA this test says whether argument passing is the cause.
/// </summary>
[TestFixtureSource(typeof(DeviceTest), nameof(DeviceTest.AvailableDevices))]
public sealed class KernelArgumentTests(string device) : DeviceTest(device)
{
    /// <summary>An unsigned multiplier and a shift, as a fast divisor stores them.</summary>
    public struct Pair
    {
        public uint Magic;
        public int Shift;
    }

    /// <summary>Fourteen ints (as the convolution geometry has), then nested pairs, then a long.</summary>
    public struct Outer
    {
        public int A0, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13;
        public Pair P0, P1, P2;
        public long Tail;
    }

    private static void Echo(Index1D i, ArrayView<long> o, Outer s)
    {
        if (i != 0) return;
        o[0] = s.A0; o[1] = s.A13; o[2] = s.P0.Magic; o[3] = s.P0.Shift; o[4] = s.P1.Magic; o[5] = s.P1.Shift;
        o[6] = s.P2.Magic; o[7] = s.P2.Shift; o[8] = s.Tail;
        // The unsigned field widened and multiplied as a fast division does: (ulong)n · magic >> 32.
        o[9] = (long)(((ulong)(uint)s.A1 * s.P1.Magic) >> 32);
    }

    [Test]
    public void NestedStructFieldsArriveIntact()
    {
        var d = IlgpuBackend.Open(Dev);
        var s = new Outer
        {
            A0 = 7, A1 = 123_456_789, A13 = -5,
            P0 = new Pair { Magic = 1431655766u, Shift = 2 },
            P1 = new Pair { Magic = 0xF0000001u, Shift = 31 },
            P2 = new Pair { Magic = 1u, Shift = 0 },
            Tail = -(1L << 40),
        };
        using var buffer = d.Accelerator.Allocate1D<long>(10);
        var kernel = d.Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<long>, Outer>(Echo);
        kernel(1, buffer.View, s);
        d.Accelerator.Synchronize();
        long[] got = buffer.GetAsArray1D();
        long[] want = [7, -5, 1431655766L, 2, 0xF0000001L, 31, 1, 0, -(1L << 40), (long)(((ulong)123_456_789u * 0xF0000001u) >> 32)];
        Assert.That(got, Is.EqualTo(want));
    }
}
