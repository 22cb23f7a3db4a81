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

    /// <summary>Logical not of a Bool view.</summary>
    public static void Not(Index1D i, ArrayView<byte> x, ArrayView<byte> y, Shape8 sh, Str8 xs, Str8 ys) =>
        y[ys.At(sh, i)] = x[xs.At(sh, i)] != 0 ? (byte)0 : (byte)1;

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
