using ILGPU;
using ILGPU.Algorithms;
using Ember.Operators;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// Elementwise kernels over strided views: thread i handles the element with row-major linear index i of the
/// launch shape; each operand's storage index comes from its <see cref="Str8"/> (contiguous fast path inside).
/// </summary>
internal static class ElementwiseKernels
{
    public static void Fill<T>(Index1D i, ArrayView<T> y, Shape8 sh, Str8 ys, T value) where T : unmanaged =>
        y[ys.At(sh, i)] = value;

    public static void Copy<T>(Index1D i, ArrayView<T> x, ArrayView<T> y, Shape8 sh, Str8 xs, Str8 ys) where T : unmanaged =>
        y[ys.At(sh, i)] = x[xs.At(sh, i)];

    /// <summary>dst = convert(src) through double (floats involved) or through long (integers and Bool only).</summary>
    public static void Convert<TS, NS, TD, ND>(Index1D i, ArrayView<TS> x, ArrayView<TD> y, Shape8 sh, Str8 xs, Str8 ys, int viaLong)
        where TS : unmanaged where NS : struct, INum<TS> where TD : unmanaged where ND : struct, INum<TD>
    {
        TS v = x[xs.At(sh, i)];
        y[ys.At(sh, i)] = viaLong != 0 ? ND.FromL(NS.ToL(v)) : ND.FromD(NS.ToD(v));
    }

    /// <summary>y = op(x) elementwise: the one kernel of every unary operator struct (Ember.Operators) over element type T.</summary>
    public static void Map<T, TOp>(Index1D i, ArrayView<T> x, ArrayView<T> y, Shape8 sh, Str8 xs, Str8 ys, TOp op)
        where T : unmanaged where TOp : struct, IUnaryOperator<T> =>
        y[ys.At(sh, i)] = op.Invoke(x[xs.At(sh, i)]);

    /// <summary>y = op(a, b) elementwise over broadcast operands: the one kernel of every binary operator struct.</summary>
    public static void Combine<T, TOp>(Index1D i, ArrayView<T> a, ArrayView<T> b, ArrayView<T> y, Shape8 sh, Str8 as_, Str8 bs, Str8 ys, TOp op)
        where T : unmanaged where TOp : struct, IBinaryOperator<T> =>
        y[ys.At(sh, i)] = op.Invoke(a[as_.At(sh, i)], b[bs.At(sh, i)]);

    /// <summary>IsNan or IsInf of a floating-point view into a Bool view.</summary>
    public static void Classify<T, R>(Index1D i, ArrayView<T> x, ArrayView<byte> y, Shape8 sh, Str8 xs, Str8 ys, UnaryOp op)
        where T : unmanaged where R : struct, IReal<T>
    {
        double v = R.ToD(x[xs.At(sh, i)]);
        bool r = op == UnaryOp.IsNan ? XMath.IsNaN(v) : XMath.IsInfinity(v);
        y[ys.At(sh, i)] = r ? (byte)1 : (byte)0;
    }

    /// <summary>Integer unary ops computed in 64-bit (the integer subset of <see cref="UnaryOp"/>; Floor/Ceil/Round are the identity).</summary>
    public static void IntegerUnary<T, N>(Index1D i, ArrayView<T> x, ArrayView<T> y, Shape8 sh, Str8 xs, Str8 ys, UnaryOp op, double a, double b)
        where T : unmanaged where N : struct, INum<T>
    {
        long v = N.ToL(x[xs.At(sh, i)]);
        long al = (long)a;
        long r = v;
        switch (op)
        {
            case UnaryOp.Neg: r = -v; break;
            case UnaryOp.Abs: r = v < 0 ? -v : v; break;
            case UnaryOp.Square: r = v * v; break;
            case UnaryOp.Sign: r = v > 0 ? 1 : v < 0 ? -1 : 0; break;
            case UnaryOp.Relu: r = v > 0 ? v : 0; break;
            case UnaryOp.AddScalar: r = v + al; break;
            case UnaryOp.MulScalar: r = (long)(v * a); break;
            case UnaryOp.RSubScalar: r = al - v; break;
            case UnaryOp.PowScalar: r = a == XMath.Floor(a) ? IPow(v, (long)a) : (long)ScalarMath.Pow((double)v, a); break;
            case UnaryOp.Clamp:
                if (!XMath.IsNaN(a) && v < a) r = (long)XMath.Ceiling(a);
                if (!XMath.IsNaN(b) && v > b) r = (long)XMath.Floor(b);
                break;
            case UnaryOp.Floor or UnaryOp.Ceil or UnaryOp.Round: r = v; break;   // identity on integers
            default: r = v; break;   // unreachable: the host launches only the ops above
        }
        y[ys.At(sh, i)] = N.FromL(r);
    }

    /// <summary>
    /// Exact integer power by squaring (the float pow of CUDA is not exact for integers: 3⁴ came out 80).
    /// Negative exponents give 1 for base 1, ±1 for base −1 and 0 otherwise (integer division semantics).
    /// </summary>
    private static long IPow(long x, long e)
    {
        if (e < 0) return x == 1 ? 1 : x == -1 ? ((e & 1) == 0 ? 1 : -1) : 0;
        long r = 1;
        while (e > 0)
        {
            if ((e & 1) != 0) r *= x;
            x *= x;
            e >>= 1;
        }
        return r;
    }

    /// <summary>Logical not of a Bool view.</summary>
    public static void Not(Index1D i, ArrayView<byte> x, ArrayView<byte> y, Shape8 sh, Str8 xs, Str8 ys) =>
        y[ys.At(sh, i)] = x[xs.At(sh, i)] != 0 ? (byte)0 : (byte)1;

    /// <summary>Integer binary ops (Add … Remainder) in 64-bit; division by zero gives 0 (a GPU cannot throw).</summary>
    public static void IntegerBinary<T, N>(Index1D i, ArrayView<T> a, ArrayView<T> b, ArrayView<T> y, Shape8 sh, Str8 as_, Str8 bs, Str8 ys, BinaryOp op)
        where T : unmanaged where N : struct, INum<T>
    {
        long x = N.ToL(a[as_.At(sh, i)]), z = N.ToL(b[bs.At(sh, i)]);
        long r;
        switch (op)
        {
            case BinaryOp.Add: r = x + z; break;
            case BinaryOp.Sub: r = x - z; break;
            case BinaryOp.Mul: r = x * z; break;
            case BinaryOp.Div: r = z == 0 ? 0 : x / z; break;
            case BinaryOp.Pow: r = IPow(x, z); break;
            case BinaryOp.Maximum: r = x > z ? x : z; break;
            case BinaryOp.Minimum: r = x < z ? x : z; break;
            case BinaryOp.Remainder:
                if (z == 0) { r = 0; break; }
                r = x % z;
                if (r != 0 && (r < 0) != (z < 0)) r += z;
                break;
            default: r = 0; break;   // unreachable: the host launches only the ops above
        }
        y[ys.At(sh, i)] = N.FromL(r);
    }

    /// <summary>Comparisons (Eq … Ge) of any dtype into Bool, and the logical ops of Bool operands.</summary>
    public static void Compare<T, N>(Index1D i, ArrayView<T> a, ArrayView<T> b, ArrayView<byte> y, Shape8 sh, Str8 as_, Str8 bs, Str8 ys, BinaryOp op)
        where T : unmanaged where N : struct, INum<T>
    {
        T x = a[as_.At(sh, i)], z = b[bs.At(sh, i)];
        bool r;
        switch (op)
        {
            case BinaryOp.Eq: r = N.Eq(x, z); break;
            case BinaryOp.Ne: r = !N.Eq(x, z); break;
            case BinaryOp.Lt: r = N.Lt(x, z); break;
            case BinaryOp.Le: r = N.Lt(x, z) || N.Eq(x, z); break;
            case BinaryOp.Gt: r = N.Lt(z, x); break;
            case BinaryOp.Ge: r = N.Lt(z, x) || N.Eq(x, z); break;
            case BinaryOp.LogicalAnd: r = N.ToL(x) != 0 && N.ToL(z) != 0; break;
            case BinaryOp.LogicalOr: r = N.ToL(x) != 0 || N.ToL(z) != 0; break;
            case BinaryOp.LogicalXor: r = (N.ToL(x) != 0) != (N.ToL(z) != 0); break;
            default: r = false; break;   // unreachable: the host launches only the ops above
        }
        y[ys.At(sh, i)] = r ? (byte)1 : (byte)0;
    }

    public static void Where<T>(Index1D i, ArrayView<byte> c, ArrayView<T> a, ArrayView<T> b, ArrayView<T> y,
        Shape8 sh, Str8 cs, Str8 as_, Str8 bs, Str8 ys) where T : unmanaged =>
        y[ys.At(sh, i)] = c[cs.At(sh, i)] != 0 ? a[as_.At(sh, i)] : b[bs.At(sh, i)];
}
