namespace Ember.Cpu;

// Tile heights and cache blocking per kernel family. KC is large because every KC slice costs one more pass
// over C (its tile loads and stores do not overlap the FMA stream); on the 2-core AMD EPYC (Zen 5) test machine
// KC = 512 measured faster than the textbook "B micro-panel fits L1" value of 256. MC * KC elements of packed A
// stay in L2; NC is large so B is packed once per KC slice.

/// <summary>AVX-512 float: 14 x 32 tile (28 zmm accumulators).</summary>
internal readonly struct Avx512SingleShape : IKernelShape
{
    public static int Rows => 14;
    public static int KC => 512;
    public static int MC => 14 * 6;
    public static int NC => 4096;
}

/// <summary>AVX-512 double: 14 x 16 tile (28 zmm accumulators).</summary>
internal readonly struct Avx512DoubleShape : IKernelShape
{
    public static int Rows => 14;
    public static int KC => 512;
    public static int MC => 14 * 6;
    public static int NC => 2048;
}

/// <summary>AVX2 float: 6 x 16 tile (12 ymm accumulators).</summary>
internal readonly struct Avx2SingleShape : IKernelShape
{
    public static int Rows => 6;
    public static int KC => 384;
    public static int MC => 6 * 16;
    public static int NC => 4096;
}

/// <summary>AVX2 double: 6 x 8 tile (12 ymm accumulators).</summary>
internal readonly struct Avx2DoubleShape : IKernelShape
{
    public static int Rows => 6;
    public static int KC => 256;
    public static int MC => 6 * 16;
    public static int NC => 2048;
}

/// <summary>Portable 128-bit kernels: 6 x 8 floats or 6 x 4 doubles.</summary>
internal readonly struct PortableShape : IKernelShape
{
    public static int Rows => 6;
    public static int KC => 256;
    public static int MC => 6 * 16;
    public static int NC => 2048;
}
