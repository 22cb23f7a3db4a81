using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ember.Cpu;

/// <summary>
/// The AVX-512 micro-kernel: <c>TShape.Rows</c> (up to 14) rows by two 512-bit vectors of columns
/// (32 floats or 16 doubles), one FMA accumulator register per row and vector (28 of the 32 zmm
/// registers for 14 rows), with A broadcast from the packed micro-panel.
/// </summary>
internal readonly unsafe struct Kernel512<T, TShape> : IGemmKernel<T>
    where T : unmanaged, IBinaryFloatingPointIeee754<T>
    where TShape : struct, IKernelShape
{
    public static int MR => TShape.Rows;
    public static int NR => 2 * Vector512<T>.Count;
    public static int KC => TShape.KC;
    public static int MC => TShape.MC;
    public static int NC => TShape.NC;

    /// <summary>Whether this machine runs the kernel in hardware (AVX-512F with FMA).</summary>
    public static bool IsSupported => Vector512.IsHardwareAccelerated;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, T* a, T* b, T* c, long rs, T alpha, T beta, bool betaZero)
    {
        int w = Vector512<T>.Count;
        // Start fetching the C tile now so its cache misses overlap the FMA loop instead of stalling the stores.
        if (Sse.IsSupported)
        {
            for (int r = 0; r < TShape.Rows; r++)
            {
                Sse.Prefetch0(c + r * rs);
                Sse.Prefetch0(c + r * rs + 2 * w - 1);
            }
        }
        Vector512<T> c0a = Vector512<T>.Zero, c0b = Vector512<T>.Zero,
            c1a = Vector512<T>.Zero, c1b = Vector512<T>.Zero,
            c2a = Vector512<T>.Zero, c2b = Vector512<T>.Zero,
            c3a = Vector512<T>.Zero, c3b = Vector512<T>.Zero,
            c4a = Vector512<T>.Zero, c4b = Vector512<T>.Zero,
            c5a = Vector512<T>.Zero, c5b = Vector512<T>.Zero,
            c6a = Vector512<T>.Zero, c6b = Vector512<T>.Zero,
            c7a = Vector512<T>.Zero, c7b = Vector512<T>.Zero,
            c8a = Vector512<T>.Zero, c8b = Vector512<T>.Zero,
            c9a = Vector512<T>.Zero, c9b = Vector512<T>.Zero,
            c10a = Vector512<T>.Zero, c10b = Vector512<T>.Zero,
            c11a = Vector512<T>.Zero, c11b = Vector512<T>.Zero,
            c12a = Vector512<T>.Zero, c12b = Vector512<T>.Zero,
            c13a = Vector512<T>.Zero, c13b = Vector512<T>.Zero;
        for (int p = 0; p < kc; p++)
        {
            Vector512<T> b0 = Vector512.Load(b);
            Vector512<T> b1 = Vector512.Load(b + w);
                { Vector512<T> x = Vector512.Create(a[0]); c0a = Fma(x, b0, c0a); c0b = Fma(x, b1, c0b); }
                if (TShape.Rows > 1) { Vector512<T> x = Vector512.Create(a[1]); c1a = Fma(x, b0, c1a); c1b = Fma(x, b1, c1b); }
                if (TShape.Rows > 2) { Vector512<T> x = Vector512.Create(a[2]); c2a = Fma(x, b0, c2a); c2b = Fma(x, b1, c2b); }
                if (TShape.Rows > 3) { Vector512<T> x = Vector512.Create(a[3]); c3a = Fma(x, b0, c3a); c3b = Fma(x, b1, c3b); }
                if (TShape.Rows > 4) { Vector512<T> x = Vector512.Create(a[4]); c4a = Fma(x, b0, c4a); c4b = Fma(x, b1, c4b); }
                if (TShape.Rows > 5) { Vector512<T> x = Vector512.Create(a[5]); c5a = Fma(x, b0, c5a); c5b = Fma(x, b1, c5b); }
                if (TShape.Rows > 6) { Vector512<T> x = Vector512.Create(a[6]); c6a = Fma(x, b0, c6a); c6b = Fma(x, b1, c6b); }
                if (TShape.Rows > 7) { Vector512<T> x = Vector512.Create(a[7]); c7a = Fma(x, b0, c7a); c7b = Fma(x, b1, c7b); }
                if (TShape.Rows > 8) { Vector512<T> x = Vector512.Create(a[8]); c8a = Fma(x, b0, c8a); c8b = Fma(x, b1, c8b); }
                if (TShape.Rows > 9) { Vector512<T> x = Vector512.Create(a[9]); c9a = Fma(x, b0, c9a); c9b = Fma(x, b1, c9b); }
                if (TShape.Rows > 10) { Vector512<T> x = Vector512.Create(a[10]); c10a = Fma(x, b0, c10a); c10b = Fma(x, b1, c10b); }
                if (TShape.Rows > 11) { Vector512<T> x = Vector512.Create(a[11]); c11a = Fma(x, b0, c11a); c11b = Fma(x, b1, c11b); }
                if (TShape.Rows > 12) { Vector512<T> x = Vector512.Create(a[12]); c12a = Fma(x, b0, c12a); c12b = Fma(x, b1, c12b); }
                if (TShape.Rows > 13) { Vector512<T> x = Vector512.Create(a[13]); c13a = Fma(x, b0, c13a); c13b = Fma(x, b1, c13b); }
            a += TShape.Rows;
            b += 2 * w;
        }
        StoreRow(c + 0 * rs, c0a, c0b, alpha, beta, betaZero);
        if (TShape.Rows > 1) StoreRow(c + 1 * rs, c1a, c1b, alpha, beta, betaZero);
        if (TShape.Rows > 2) StoreRow(c + 2 * rs, c2a, c2b, alpha, beta, betaZero);
        if (TShape.Rows > 3) StoreRow(c + 3 * rs, c3a, c3b, alpha, beta, betaZero);
        if (TShape.Rows > 4) StoreRow(c + 4 * rs, c4a, c4b, alpha, beta, betaZero);
        if (TShape.Rows > 5) StoreRow(c + 5 * rs, c5a, c5b, alpha, beta, betaZero);
        if (TShape.Rows > 6) StoreRow(c + 6 * rs, c6a, c6b, alpha, beta, betaZero);
        if (TShape.Rows > 7) StoreRow(c + 7 * rs, c7a, c7b, alpha, beta, betaZero);
        if (TShape.Rows > 8) StoreRow(c + 8 * rs, c8a, c8b, alpha, beta, betaZero);
        if (TShape.Rows > 9) StoreRow(c + 9 * rs, c9a, c9b, alpha, beta, betaZero);
        if (TShape.Rows > 10) StoreRow(c + 10 * rs, c10a, c10b, alpha, beta, betaZero);
        if (TShape.Rows > 11) StoreRow(c + 11 * rs, c11a, c11b, alpha, beta, betaZero);
        if (TShape.Rows > 12) StoreRow(c + 12 * rs, c12a, c12b, alpha, beta, betaZero);
        if (TShape.Rows > 13) StoreRow(c + 13 * rs, c13a, c13b, alpha, beta, betaZero);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Fma(Vector512<T> x, Vector512<T> y, Vector512<T> acc)
    {
        if (typeof(T) == typeof(float))
            return Vector512.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        return Vector512.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
    }

    // alpha * acc + beta * C is rounded as a product, a product and a sum, exactly as the driver's scalar edge path
    // does, so an element's value does not depend on whether it fell in a full or a partial tile.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(T* c, Vector512<T> v0, Vector512<T> v1, T alpha, T beta, bool betaZero)
    {
        Vector512<T> va = Vector512.Create(alpha);
        T* c1 = c + Vector512<T>.Count;
        if (betaZero)
        {
            Vector512.Store(v0 * va, c);
            Vector512.Store(v1 * va, c1);
        }
        else
        {
            Vector512<T> vb = Vector512.Create(beta);
            Vector512.Store(v0 * va + Vector512.Load(c) * vb, c);
            Vector512.Store(v1 * va + Vector512.Load(c1) * vb, c1);
        }
    }
}
