using System.Numerics;

namespace Ember.Operators
{
    /// <summary>Receives the operator struct of a <see cref="BinaryOp"/> for one element type (see <see cref="BinaryOperators"/>).</summary>
    public interface IBinaryOperatorVisitor
    {
        /// <summary>Runs <paramref name="op"/> (a backend launches its one generic loop or kernel here).</summary>
        void Visit<T, TOp>(TOp op) where T : unmanaged where TOp : struct, IBinaryOperator<T>;
    }

    /// <summary>The one table from an arithmetic <see cref="BinaryOp"/> to its operator struct (see <see cref="UnaryOperators"/>).</summary>
    public static class BinaryOperators
    {
        /// <summary>
        /// Calls <paramref name="visitor"/> with <paramref name="op"/>'s struct over float (Float32) or double (Float64);
        /// false when the dtype is not floating-point or the op is a comparison or logical op.
        /// </summary>
        public static bool TryVisitFloat<TVisitor>(BinaryOp op, DType dtype, ref TVisitor visitor)
            where TVisitor : struct, IBinaryOperatorVisitor => dtype switch
        {
            DType.Float32 => Visit<float, TVisitor>(op, ref visitor),
            DType.Float64 => Visit<double, TVisitor>(op, ref visitor),
            _ => false,
        };

        /// <summary>
        /// Calls <paramref name="visitor"/> with <paramref name="op"/>'s integer struct over int (Int32) or long (Int64);
        /// false when the dtype is not Int32/Int64 or the op has no integer form (comparisons, logical and gradient ops).
        /// </summary>
        public static bool TryVisitInteger<TVisitor>(BinaryOp op, DType dtype, ref TVisitor visitor)
            where TVisitor : struct, IBinaryOperatorVisitor => dtype switch
        {
            DType.Int32 => VisitInteger<int, TVisitor>(op, ref visitor),
            DType.Int64 => VisitInteger<long, TVisitor>(op, ref visitor),
            _ => false,
        };

        private static bool VisitInteger<T, TVisitor>(BinaryOp op, ref TVisitor v)
            where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T> where TVisitor : struct, IBinaryOperatorVisitor
        {
            switch (op)
            {
                case BinaryOp.Add: v.Visit<T, IntegerAddOperator<T>>(default); break;
                case BinaryOp.Sub: v.Visit<T, IntegerSubOperator<T>>(default); break;
                case BinaryOp.Mul: v.Visit<T, IntegerMulOperator<T>>(default); break;
                case BinaryOp.Div: v.Visit<T, IntegerDivOperator<T>>(default); break;
                case BinaryOp.Pow: v.Visit<T, IntegerPowOperator<T>>(default); break;
                case BinaryOp.Maximum: v.Visit<T, IntegerMaximumOperator<T>>(default); break;
                case BinaryOp.Minimum: v.Visit<T, IntegerMinimumOperator<T>>(default); break;
                case BinaryOp.Remainder: v.Visit<T, IntegerRemainderOperator<T>>(default); break;
                case BinaryOp.BitwiseAnd: v.Visit<T, BitwiseAndOperator<T>>(default); break;
                case BinaryOp.BitwiseOr: v.Visit<T, BitwiseOrOperator<T>>(default); break;
                case BinaryOp.BitwiseXor: v.Visit<T, BitwiseXorOperator<T>>(default); break;
                default: return false;
            }
            return true;
        }

        private static bool Visit<T, TVisitor>(BinaryOp op, ref TVisitor v)
            where T : unmanaged, IFloatingPointIeee754<T> where TVisitor : struct, IBinaryOperatorVisitor
        {
            switch (op)
            {
                case BinaryOp.Add: v.Visit<T, AddOperator<T>>(default); break;
                case BinaryOp.Sub: v.Visit<T, SubOperator<T>>(default); break;
                case BinaryOp.Mul: v.Visit<T, MulOperator<T>>(default); break;
                case BinaryOp.Div: v.Visit<T, DivOperator<T>>(default); break;
                case BinaryOp.Pow: v.Visit<T, PowOperator<T>>(default); break;
                case BinaryOp.Maximum: v.Visit<T, MaximumOperator<T>>(default); break;
                case BinaryOp.Minimum: v.Visit<T, MinimumOperator<T>>(default); break;
                case BinaryOp.Remainder: v.Visit<T, RemainderOperator<T>>(default); break;
                case BinaryOp.ReluBackward: v.Visit<T, ReluBackwardOperator<T>>(default); break;
                case BinaryOp.GeluBackward: v.Visit<T, GeluBackwardOperator<T>>(default); break;
                default: return false;
            }
            return true;
        }
    }
}

namespace Ember
{
    /// <summary>
    /// Elementwise two-input operations over operands already broadcast to the result's shape. The floating-point
    /// arithmetic values are one operator struct each (Ember.Operators), mapped by <see cref="Operators.BinaryOperators"/>.
    /// </summary>
    public enum BinaryOp
    {
        /// <summary>a + b</summary>
        Add,
        /// <summary>a − b</summary>
        Sub,
        /// <summary>a · b</summary>
        Mul,
        /// <summary>a / b (true division for floats, truncation toward −∞ is NOT used: integer division truncates like C#)</summary>
        Div,
        /// <summary>a ^ b</summary>
        Pow,
        /// <summary>max(a, b), NaN-propagating</summary>
        Maximum,
        /// <summary>min(a, b), NaN-propagating</summary>
        Minimum,
        /// <summary>a mod b with the sign of b (Python's %, torch.remainder)</summary>
        Remainder,
        /// <summary>a == b (Bool result)</summary>
        Eq,
        /// <summary>a != b (Bool result)</summary>
        Ne,
        /// <summary>a &lt; b (Bool result)</summary>
        Lt,
        /// <summary>a &lt;= b (Bool result)</summary>
        Le,
        /// <summary>a &gt; b (Bool result)</summary>
        Gt,
        /// <summary>a &gt;= b (Bool result)</summary>
        Ge,
        /// <summary>a ∧ b (Bool operands and result)</summary>
        LogicalAnd,
        /// <summary>a ∨ b (Bool operands and result)</summary>
        LogicalOr,
        /// <summary>a ⊕ b (Bool operands and result)</summary>
        LogicalXor,
        /// <summary>ReLU's gradient: a where b (ReLU's output) &gt; 0, else 0 (floating point; not differentiable).</summary>
        ReluBackward,
        /// <summary>Exact GELU's gradient: a·GELU′(b), b = GELU's input (floating point; not differentiable).</summary>
        GeluBackward,
        /// <summary>a &amp; b bitwise (Int32/Int64 operands and result)</summary>
        BitwiseAnd,
        /// <summary>a | b bitwise (Int32/Int64 operands and result)</summary>
        BitwiseOr,
        /// <summary>a ^ b bitwise (Int32/Int64 operands and result)</summary>
        BitwiseXor,
    }
}
