using System.Numerics;

namespace Ember.Operators
{
    /// <summary>Receives the operator struct of a <see cref="UnaryOp"/> for one element type (see <see cref="UnaryOperators"/>).</summary>
    public interface IUnaryOperatorVisitor
    {
        /// <summary>Runs <paramref name="op"/> (a backend launches its one generic loop or kernel here).</summary>
        void Visit<T, TOp>(TOp op) where T : unmanaged where TOp : struct, IUnaryOperator<T>;
    }

    /// <summary>
    /// The one table from <see cref="UnaryOp"/> to its operator struct: the only place a new op is registered; no
    /// backend has a per-op switch. Scalar parameters arrive as doubles and are converted to T here, on the host.
    /// </summary>
    public static class UnaryOperators
    {
        /// <summary>
        /// Calls <paramref name="visitor"/> with <paramref name="op"/>'s struct over float (Float32) or double (Float64);
        /// false when the dtype is not floating-point or the op has no floating-point struct (IsNan, IsInf, LogicalNot).
        /// </summary>
        public static bool TryVisitFloat<TVisitor>(UnaryOp op, DType dtype, double alpha, double beta, ref TVisitor visitor)
            where TVisitor : struct, IUnaryOperatorVisitor => dtype switch
        {
            DType.Float32 => Visit<float, TVisitor>(op, alpha, beta, ref visitor),
            DType.Float64 => Visit<double, TVisitor>(op, alpha, beta, ref visitor),
            _ => false,
        };

        /// <summary>
        /// Calls <paramref name="visitor"/> with <paramref name="op"/>'s integer struct over int (Int32) or long (Int64);
        /// false when the dtype is not Int32/Int64 or the op has no integer form (the integer subset: Neg, Abs, Square,
        /// Sign, Relu, Floor/Ceil/Round (identity), AddScalar, RSubScalar, MulScalar, PowScalar, Clamp).
        /// </summary>
        public static bool TryVisitInteger<TVisitor>(UnaryOp op, DType dtype, double alpha, double beta, ref TVisitor visitor)
            where TVisitor : struct, IUnaryOperatorVisitor => dtype switch
        {
            DType.Int32 => VisitInteger<int, Int32Conversion, TVisitor>(op, alpha, beta, ref visitor),
            DType.Int64 => VisitInteger<long, Int64Conversion, TVisitor>(op, alpha, beta, ref visitor),
            _ => false,
        };

        private static bool VisitInteger<T, TConversion, TVisitor>(UnaryOp op, double alpha, double beta, ref TVisitor v)
            where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>, IMinMaxValue<T>
            where TConversion : struct, IIntegerConversion<T> where TVisitor : struct, IUnaryOperatorVisitor
        {
            // α as T where it is a whole number inside T's range (exact integer arithmetic), else the double path.
            bool whole = double.IsInteger(alpha) && alpha >= double.CreateTruncating(T.MinValue) && alpha <= double.CreateTruncating(T.MaxValue);
            T a = whole ? T.CreateTruncating(alpha) : T.Zero;
            switch (op)
            {
                case UnaryOp.Neg: v.Visit<T, IntegerNegOperator<T>>(default); break;
                case UnaryOp.Abs: v.Visit<T, IntegerAbsOperator<T>>(default); break;
                case UnaryOp.Square: v.Visit<T, IntegerSquareOperator<T>>(default); break;
                case UnaryOp.Sign: v.Visit<T, IntegerSignOperator<T>>(default); break;
                case UnaryOp.Relu: v.Visit<T, IntegerReluOperator<T>>(default); break;
                case UnaryOp.Floor or UnaryOp.Ceil or UnaryOp.Round: v.Visit<T, IntegerIdentityOperator<T>>(default); break;
                case UnaryOp.AddScalar: v.Visit<T, IntegerAddScalarOperator<T>>(new(T.CreateTruncating(alpha))); break;
                case UnaryOp.RSubScalar: v.Visit<T, IntegerRSubScalarOperator<T>>(new(T.CreateTruncating(alpha))); break;
                case UnaryOp.MulScalar: v.Visit<T, IntegerMulScalarOperator<T, TConversion>>(new(a, alpha, whole)); break;
                case UnaryOp.PowScalar: v.Visit<T, IntegerPowScalarOperator<T, TConversion>>(new(a, alpha, whole)); break;
                case UnaryOp.Clamp:
                    // NaN = no bound on that side; fractional bounds round inward, saturating to T's range.
                    v.Visit<T, IntegerClampOperator<T>>(new(double.IsNaN(alpha) ? T.MinValue : T.CreateSaturating(Math.Ceiling(alpha)),
                        double.IsNaN(beta) ? T.MaxValue : T.CreateSaturating(Math.Floor(beta))));
                    break;
                default: return false;
            }
            return true;
        }

        private static bool Visit<T, TVisitor>(UnaryOp op, double alpha, double beta, ref TVisitor v)
            where T : unmanaged, IFloatingPointIeee754<T> where TVisitor : struct, IUnaryOperatorVisitor
        {
            T a = T.CreateTruncating(alpha), b = T.CreateTruncating(beta);
            switch (op)
            {
                case UnaryOp.Neg: v.Visit<T, NegOperator<T>>(default); break;
                case UnaryOp.Abs: v.Visit<T, AbsOperator<T>>(default); break;
                case UnaryOp.Exp: v.Visit<T, ExpOperator<T>>(default); break;
                case UnaryOp.Log: v.Visit<T, LogOperator<T>>(default); break;
                case UnaryOp.Log1p: v.Visit<T, Log1pOperator<T>>(default); break;
                case UnaryOp.Expm1: v.Visit<T, Expm1Operator<T>>(default); break;
                case UnaryOp.Sqrt: v.Visit<T, SqrtOperator<T>>(default); break;
                case UnaryOp.Rsqrt: v.Visit<T, RsqrtOperator<T>>(default); break;
                case UnaryOp.Square: v.Visit<T, SquareOperator<T>>(default); break;
                case UnaryOp.Sin: v.Visit<T, SinOperator<T>>(default); break;
                case UnaryOp.Cos: v.Visit<T, CosOperator<T>>(default); break;
                case UnaryOp.Tanh: v.Visit<T, TanhOperator<T>>(default); break;
                case UnaryOp.Sigmoid: v.Visit<T, SigmoidOperator<T>>(default); break;
                case UnaryOp.Relu: v.Visit<T, ReluOperator<T>>(default); break;
                case UnaryOp.Gelu: v.Visit<T, GeluOperator<T>>(default); break;
                case UnaryOp.GeluTanh: v.Visit<T, GeluTanhOperator<T>>(new()); break;
                case UnaryOp.Silu: v.Visit<T, SiluOperator<T>>(default); break;
                case UnaryOp.Softplus: v.Visit<T, SoftplusOperator<T>>(new(a, b)); break;
                case UnaryOp.Erf: v.Visit<T, ErfOperator<T>>(default); break;
                case UnaryOp.Floor: v.Visit<T, FloorOperator<T>>(default); break;
                case UnaryOp.Ceil: v.Visit<T, CeilOperator<T>>(default); break;
                case UnaryOp.Round: v.Visit<T, RoundOperator<T>>(default); break;
                case UnaryOp.Sign: v.Visit<T, SignOperator<T>>(default); break;
                case UnaryOp.Reciprocal: v.Visit<T, ReciprocalOperator<T>>(default); break;
                case UnaryOp.AddScalar: v.Visit<T, AddScalarOperator<T>>(new(a)); break;
                case UnaryOp.MulScalar: v.Visit<T, MulScalarOperator<T>>(new(a)); break;
                case UnaryOp.RSubScalar: v.Visit<T, RSubScalarOperator<T>>(new(a)); break;
                case UnaryOp.RDivScalar: v.Visit<T, RDivScalarOperator<T>>(new(a)); break;
                case UnaryOp.PowScalar: v.Visit<T, PowScalarOperator<T>>(new(a)); break;
                case UnaryOp.RPowScalar: v.Visit<T, RPowScalarOperator<T>>(new(a)); break;
                case UnaryOp.Clamp: v.Visit<T, ClampOperator<T>>(new(a, b)); break;
                case UnaryOp.LeakyRelu: v.Visit<T, LeakyReluOperator<T>>(new(a)); break;
                case UnaryOp.Elu: v.Visit<T, EluOperator<T>>(new(a)); break;
                case UnaryOp.Mish: v.Visit<T, MishOperator<T>>(default); break;
                case UnaryOp.Logit: v.Visit<T, LogitOperator<T>>(new(a)); break;
                default: return false;
            }
            return true;
        }
    }
}

namespace Ember
{
    /// <summary>
    /// Elementwise one-input operations. Scalar-parameter forms read <c>alpha</c>/<c>beta</c> as documented per value.
    /// The floating-point forms of each value are one operator struct (Ember.Operators) that <see cref="Operators.UnaryOperators"/>
    /// maps it to; both backends run that struct.
    /// </summary>
    public enum UnaryOp
    {
        /// <summary>-x</summary>
        Neg,
        /// <summary>|x|</summary>
        Abs,
        /// <summary>e^x</summary>
        Exp,
        /// <summary>ln x</summary>
        Log,
        /// <summary>ln(1 + x), accurate near 0</summary>
        Log1p,
        /// <summary>e^x − 1, accurate near 0</summary>
        Expm1,
        /// <summary>√x</summary>
        Sqrt,
        /// <summary>1/√x</summary>
        Rsqrt,
        /// <summary>x²</summary>
        Square,
        /// <summary>sin x</summary>
        Sin,
        /// <summary>cos x</summary>
        Cos,
        /// <summary>tanh x</summary>
        Tanh,
        /// <summary>1 / (1 + e^−x)</summary>
        Sigmoid,
        /// <summary>max(x, 0)</summary>
        Relu,
        /// <summary>x·Φ(x) (exact GELU, with erf)</summary>
        Gelu,
        /// <summary>0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³)))</summary>
        GeluTanh,
        /// <summary>x·sigmoid(x)</summary>
        Silu,
        /// <summary>(1/β)·ln(1 + e^(βx)), linear above threshold: alpha = β, beta = threshold</summary>
        Softplus,
        /// <summary>erf x</summary>
        Erf,
        /// <summary>⌊x⌋</summary>
        Floor,
        /// <summary>⌈x⌉</summary>
        Ceil,
        /// <summary>round half to even (PyTorch's torch.round)</summary>
        Round,
        /// <summary>sign(x) ∈ {−1, 0, 1}</summary>
        Sign,
        /// <summary>1/x</summary>
        Reciprocal,
        /// <summary>x + alpha</summary>
        AddScalar,
        /// <summary>x · alpha</summary>
        MulScalar,
        /// <summary>alpha − x</summary>
        RSubScalar,
        /// <summary>alpha / x</summary>
        RDivScalar,
        /// <summary>x ^ alpha</summary>
        PowScalar,
        /// <summary>alpha ^ x</summary>
        RPowScalar,
        /// <summary>min(max(x, alpha), beta); NaN bounds mean unbounded on that side</summary>
        Clamp,
        /// <summary>x if x &gt; 0 else alpha·x</summary>
        LeakyRelu,
        /// <summary>x if x &gt; 0 else alpha·(e^x − 1)</summary>
        Elu,
        /// <summary>x·tanh(softplus(x)) (softplus threshold 20)</summary>
        Mish,
        /// <summary>ln(x / (1 − x)), x first clamped to [alpha, 1 − alpha] unless alpha is NaN (torch.logit's eps)</summary>
        Logit,
        /// <summary>x is NaN (Bool result)</summary>
        IsNan,
        /// <summary>x is ±∞ (Bool result)</summary>
        IsInf,
        /// <summary>logical not (Bool input and result)</summary>
        LogicalNot,
    }
}
