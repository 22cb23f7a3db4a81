using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// Conversions of one element type, as static abstract members so generic kernels compile for every dtype
/// (ILGPU resolves the constrained calls at kernel compile time). Bool elements are bytes (0 or 1).
/// </summary>
internal interface INum<T> where T : unmanaged
{
    /// <summary>The value as a double.</summary>
    static abstract double ToD(T x);
    /// <summary>A double converted to T (truncation toward zero for integers; non-zero → 1 for Bool).</summary>
    static abstract T FromD(double x);
    /// <summary>The value as a long (floats truncate).</summary>
    static abstract long ToL(T x);
    /// <summary>A long converted to T (wrapping for Int32; non-zero → 1 for Bool).</summary>
    static abstract T FromL(long x);
    /// <summary>a &lt; b (false when either is NaN).</summary>
    static abstract bool Lt(T a, T b);
    /// <summary>a == b (false when either is NaN).</summary>
    static abstract bool Eq(T a, T b);
    /// <summary>view[index] += value atomically (Bool: a non-zero value sets the element).</summary>
    static abstract void AtomicAdd(ArrayView<T> view, long index, T value);
}

/// <summary>Float arithmetic of one floating-point type for generic kernels (XMath only, no BCL math).</summary>
internal interface IReal<T> : INum<T> where T : unmanaged
{
    /// <summary>a + b</summary>
    static abstract T Add(T a, T b);
    /// <summary>a − b</summary>
    static abstract T Sub(T a, T b);
    /// <summary>a · b</summary>
    static abstract T Mul(T a, T b);
    /// <summary>a / b</summary>
    static abstract T Div(T a, T b);
    /// <summary>e^x</summary>
    static abstract T Exp(T x);
    /// <summary>ln x</summary>
    static abstract T Log(T x);
    /// <summary>√x</summary>
    static abstract T Sqrt(T x);
    /// <summary>x is NaN</summary>
    static abstract bool IsNaN(T x);
    /// <summary>−∞</summary>
    static abstract T NegInf();
}

/// <summary>Float32 elements.</summary>
internal readonly struct F32 : IReal<float>
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double ToD(float x) => x;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float FromD(double x) => (float)x;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static long ToL(float x) => I64.FromD(x);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float FromL(long x) => x;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Lt(float a, float b) => a < b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Eq(float a, float b) => a == b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void AtomicAdd(ArrayView<float> view, long index, float value) => Atomic.Add(ref view[index], value);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Add(float a, float b) => a + b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sub(float a, float b) => a - b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Mul(float a, float b) => a * b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Div(float a, float b) => a / b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Exp(float x) => XMath.Exp(x);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Log(float x) => XMath.Log(x);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sqrt(float x) => XMath.Sqrt(x);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool IsNaN(float x) => XMath.IsNaN(x);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float NegInf() => float.NegativeInfinity;
}

/// <summary>Float64 elements.</summary>
internal readonly struct F64 : IReal<double>
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double ToD(double x) => x;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double FromD(double x) => x;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static long ToL(double x) => I64.FromD(x);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double FromL(long x) => x;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Lt(double a, double b) => a < b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Eq(double a, double b) => a == b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void AtomicAdd(ArrayView<double> view, long index, double value) => Atomic.Add(ref view[index], value);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Add(double a, double b) => a + b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sub(double a, double b) => a - b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Mul(double a, double b) => a * b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Div(double a, double b) => a / b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Exp(double x) => XMath.Exp(x);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Log(double x) => XMath.Log(x);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sqrt(double x) => XMath.Sqrt(x);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool IsNaN(double x) => XMath.IsNaN(x);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double NegInf() => double.NegativeInfinity;
}

/// <summary>Int32 elements.</summary>
internal readonly struct I32 : INum<int>
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double ToD(int x) => x;
    /// <summary>
    /// Truncates toward zero and saturates (NaN → 0), as .NET's conversion does on the host and PTX's <c>cvt.rzi</c>
    /// on CUDA; written out because OpenCL C leaves an out-of-range conversion undefined (pocl gave small values).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int FromD(double x) => x >= 2147483648.0 ? int.MaxValue : x >= -2147483648.0 ? (int)x : double.IsNaN(x) ? 0 : int.MinValue;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static long ToL(int x) => x;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static int FromL(long x) => (int)x;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Lt(int a, int b) => a < b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Eq(int a, int b) => a == b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void AtomicAdd(ArrayView<int> view, long index, int value) => Atomic.Add(ref view[index], value);
}

/// <summary>Int64 elements.</summary>
internal readonly struct I64 : INum<long>
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double ToD(long x) => x;
    /// <summary>Truncates toward zero and saturates (NaN → 0) on every accelerator (see <see cref="I32.FromD"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long FromD(double x) => x >= 9223372036854775808.0 ? long.MaxValue : x >= -9223372036854775808.0 ? (long)x : double.IsNaN(x) ? 0 : long.MinValue;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static long ToL(long x) => x;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static long FromL(long x) => x;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Lt(long a, long b) => a < b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Eq(long a, long b) => a == b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void AtomicAdd(ArrayView<long> view, long index, long value) => Atomic.Add(ref view[index], value);
}

/// <summary>Bool elements stored as bytes (0 or 1).</summary>
internal readonly struct B8 : INum<byte>
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double ToD(byte x) => x != 0 ? 1.0 : 0.0;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static byte FromD(double x) => x != 0 ? (byte)1 : (byte)0;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static long ToL(byte x) => x != 0 ? 1L : 0L;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static byte FromL(long x) => x != 0 ? (byte)1 : (byte)0;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Lt(byte a, byte b) => a < b;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Eq(byte a, byte b) => (a != 0) == (b != 0);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void AtomicAdd(ArrayView<byte> view, long index, byte value) { if (value != 0) view[index] = 1; }
}

/// <summary>Receives a device element type with its conversions (Bool elements are bytes: T = byte, N = <see cref="B8"/>).</summary>
internal interface IDeviceElementVisitor
{
    /// <summary>Runs the dtype-generic work (typically: loads and launches a generic kernel) for T.</summary>
    void Visit<T, N>() where T : unmanaged where N : struct, INum<T>;
}

/// <summary>Receives a floating-point device element type with its arithmetic.</summary>
internal interface IDeviceRealVisitor
{
    /// <summary>Runs the float-generic work for T.</summary>
    void Visit<T, R>() where T : unmanaged where R : struct, IReal<T>;
}

/// <summary>
/// The ILGPU backend's dtype dispatch, on top of Core's one <see cref="DTypeDispatch"/>: maps the element type to the
/// device's (Bool → byte) and adds the conversion struct the generic kernels need.
/// </summary>
internal static class DeviceElement
{
    /// <summary>
    /// Calls <paramref name="visitor"/> with (float, F32), (double, F64), (int, I32), (long, I64), (byte, B8) for Bool,
    /// (ushort, F16), (ushort, BF16), (byte, U8), (sbyte, I8) or (short, I16).
    /// </summary>
    public static void Visit<TVisitor>(DType dtype, TVisitor visitor) where TVisitor : struct, IDeviceElementVisitor =>
        DTypeDispatch.Visit(dtype, new ToDevice<TVisitor>(visitor));

    /// <summary>Calls <paramref name="visitor"/> with (float, F32) or (double, F64).</summary>
    /// <exception cref="NotSupportedException"><paramref name="dtype"/> is not Float32 or Float64; the message names <paramref name="op"/>.</exception>
    public static void VisitReal<TVisitor>(DType dtype, string op, TVisitor visitor) where TVisitor : struct, IDeviceRealVisitor
    {
        switch (dtype)
        {
            case DType.Float32: visitor.Visit<float, F32>(); break;
            case DType.Float64: visitor.Visit<double, F64>(); break;
            default: throw new NotSupportedException($"ILGPU backend: {op} is not defined for {dtype}; expected Float32 or Float64 (Float16 and BFloat16 run through float32 stand-ins before this point).");
        }
    }

    private readonly struct ToDevice<TVisitor>(TVisitor inner) : IDTypeVisitor where TVisitor : struct, IDeviceElementVisitor
    {
        private readonly TVisitor inner = inner;

        public void Visit<T>() where T : unmanaged
        {
            // Each test is a JIT-time constant for a given T, so only one call remains in the compiled code.
            if (typeof(T) == typeof(float)) inner.Visit<float, F32>();
            else if (typeof(T) == typeof(double)) inner.Visit<double, F64>();
            else if (typeof(T) == typeof(int)) inner.Visit<int, I32>();
            else if (typeof(T) == typeof(long)) inner.Visit<long, I64>();
            else if (typeof(T) == typeof(System.Half)) inner.Visit<ushort, F16>();
            else if (typeof(T) == typeof(BFloat16)) inner.Visit<ushort, BF16>();
            else if (typeof(T) == typeof(byte)) inner.Visit<byte, U8>();
            else if (typeof(T) == typeof(sbyte)) inner.Visit<sbyte, I8>();
            else if (typeof(T) == typeof(short)) inner.Visit<short, I16>();
            else inner.Visit<byte, B8>();
        }
    }
}
