namespace Ember.Cpu;

/// <summary>AVX-512 float: 14 x 32 tile (28 accumulators).</summary>
internal readonly struct Avx512SingleShape : IKernelShape
{
    public static int Rows => 14;
    public static int KC => 256;
    public static int MC => 14 * 12;
    public static int NC => 4096;
}

/// <summary>AVX-512 double: 14 x 16 tile (28 accumulators).</summary>
internal readonly struct Avx512DoubleShape : IKernelShape
{
    public static int Rows => 14;
    public static int KC => 256;
    public static int MC => 14 * 6;
    public static int NC => 2048;
}
