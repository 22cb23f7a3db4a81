using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ember.Cpu;

/// <summary>
/// The AVX2 micro-kernel: <c>TShape.Rows</c> (up to 6) rows by two 256-bit vectors of columns (16 floats or 8
/// doubles), 12 accumulators of the 16 ymm registers, with A broadcast from the packed micro-panel.
/// </summary>
internal readonly unsafe struct Kernel256<T, TShape> : IGemmKernel<T>
    where T : unmanaged, IBinaryFloatingPointIeee754<T>
    where TShape : struct, IKernelShape
{
    public static int MR => TShape.Rows;
    public static int NR => 2 * Vector256<T>.Count;
    public static int KC => TShape.KC;
    public static int MC => TShape.MC;
    public static int NC => TShape.NC;

    /// <summary>Whether this machine runs the kernel in hardware.</summary>
    public static bool IsSupported => Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, T* a, T* b, T* c, long rs, T alpha, T beta, bool betaZero)
    {
        int w = Vector256<T>.Count;
        // Start fetching the C tile now so its cache misses overlap the FMA loop instead of stalling the stores.
        if (Sse.IsSupported)
        {
            for (int r = 0; r < TShape.Rows; r++)
            {
                Sse.Prefetch0(c + r * rs);
                Sse.Prefetch0(c + r * rs + 2 * w - 1);
            }
        }
        Vector256<T> c0a = Vector256<T>.Zero, c0b = Vector256<T>.Zero,
            c1a = Vector256<T>.Zero, c1b = Vector256<T>.Zero,
            c2a = Vector256<T>.Zero, c2b = Vector256<T>.Zero,
            c3a = Vector256<T>.Zero, c3b = Vector256<T>.Zero,
            c4a = Vector256<T>.Zero, c4b = Vector256<T>.Zero,
            c5a = Vector256<T>.Zero, c5b = Vector256<T>.Zero;
        for (int p = 0; p < kc; p++)
        {
            Vector256<T> b0 = Vector256.Load(b);
            Vector256<T> b1 = Vector256.Load(b + w);
                { Vector256<T> x = Vector256.Create(a[0]); c0a = Fma(x, b0, c0a); c0b = Fma(x, b1, c0b); }
                if (TShape.Rows > 1) { Vector256<T> x = Vector256.Create(a[1]); c1a = Fma(x, b0, c1a); c1b = Fma(x, b1, c1b); }
                if (TShape.Rows > 2) { Vector256<T> x = Vector256.Create(a[2]); c2a = Fma(x, b0, c2a); c2b = Fma(x, b1, c2b); }
                if (TShape.Rows > 3) { Vector256<T> x = Vector256.Create(a[3]); c3a = Fma(x, b0, c3a); c3b = Fma(x, b1, c3b); }
                if (TShape.Rows > 4) { Vector256<T> x = Vector256.Create(a[4]); c4a = Fma(x, b0, c4a); c4b = Fma(x, b1, c4b); }
                if (TShape.Rows > 5) { Vector256<T> x = Vector256.Create(a[5]); c5a = Fma(x, b0, c5a); c5b = Fma(x, b1, c5b); }
            a += TShape.Rows;
            b += 2 * w;
        }
        StoreRow(c + 0 * rs, c0a, c0b, alpha, beta, betaZero);
        if (TShape.Rows > 1) StoreRow(c + 1 * rs, c1a, c1b, alpha, beta, betaZero);
        if (TShape.Rows > 2) StoreRow(c + 2 * rs, c2a, c2b, alpha, beta, betaZero);
        if (TShape.Rows > 3) StoreRow(c + 3 * rs, c3a, c3b, alpha, beta, betaZero);
        if (TShape.Rows > 4) StoreRow(c + 4 * rs, c4a, c4b, alpha, beta, betaZero);
        if (TShape.Rows > 5) StoreRow(c + 5 * rs, c5a, c5b, alpha, beta, betaZero);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> Fma(Vector256<T> x, Vector256<T> y, Vector256<T> acc)
    {
        if (typeof(T) == typeof(float))
            return Vector256.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        return Vector256.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
    }

    // alpha * acc + beta * C is rounded as a product, a product and a sum, exactly as the driver's scalar edge path
    // does, so an element's value does not depend on whether it fell in a full or a partial tile.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(T* c, Vector256<T> v0, Vector256<T> v1, T alpha, T beta, bool betaZero)
    {
        Vector256<T> va = Vector256.Create(alpha);
        T* c1 = c + Vector256<T>.Count;
        if (betaZero)
        {
            Vector256.Store(v0 * va, c);
            Vector256.Store(v1 * va, c1);
        }
        else
        {
            Vector256<T> vb = Vector256.Create(beta);
            Vector256.Store(v0 * va + Vector256.Load(c) * vb, c);
            Vector256.Store(v1 * va + Vector256.Load(c1) * vb, c1);
        }
    }
}
