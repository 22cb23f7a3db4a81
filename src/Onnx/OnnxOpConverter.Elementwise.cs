using static Ember.OnnxGraphBuilder;

namespace Ember;

internal sealed partial class OnnxOpConverter
{
    private static readonly Dictionary<UnaryOp, string> DirectUnary = new()
    {
        [UnaryOp.Neg] = "Neg", [UnaryOp.Abs] = "Abs", [UnaryOp.Exp] = "Exp", [UnaryOp.Log] = "Log", [UnaryOp.Sqrt] = "Sqrt",
        [UnaryOp.Sin] = "Sin", [UnaryOp.Cos] = "Cos", [UnaryOp.Tanh] = "Tanh", [UnaryOp.Sigmoid] = "Sigmoid", [UnaryOp.Relu] = "Relu",
        [UnaryOp.Erf] = "Erf", [UnaryOp.Floor] = "Floor", [UnaryOp.Ceil] = "Ceil", [UnaryOp.Round] = "Round", [UnaryOp.Sign] = "Sign",
        [UnaryOp.Reciprocal] = "Reciprocal", [UnaryOp.IsNan] = "IsNaN", [UnaryOp.IsInf] = "IsInf", [UnaryOp.LogicalNot] = "Not",
    };

    // Opset 17 has no Gelu or Mish node: both are written with the ops of their formula.
    private string Unary(OpArgs a, string x, DType dtype)
    {
        string S(double v) => b.Scalar(v, dtype);
        string N(string op, params string[] inputs) => b.Node(op, inputs);
        if (DirectUnary.TryGetValue(a.Unary, out var direct)) return N(direct, x);
        switch (a.Unary)
        {
            case UnaryOp.Log1p: return N("Log", N("Add", x, S(1)));
            case UnaryOp.Expm1: return N("Sub", N("Exp", x), S(1));
            case UnaryOp.Rsqrt: return N("Reciprocal", N("Sqrt", x));
            case UnaryOp.Square: return N("Mul", x, x);
            case UnaryOp.Gelu: return N("Mul", N("Mul", x, S(0.5)), N("Add", S(1), N("Erf", N("Mul", x, S(1 / Math.Sqrt(2))))));
            case UnaryOp.GeluTanh:
                var inner = N("Mul", S(Math.Sqrt(2 / Math.PI)), N("Add", x, N("Mul", S(0.044715), N("Mul", x, N("Mul", x, x)))));
                return N("Mul", N("Mul", x, S(0.5)), N("Add", S(1), N("Tanh", inner)));
            case UnaryOp.Silu: return N("Mul", x, N("Sigmoid", x));
            case UnaryOp.Softplus:
                // ONNX Softplus has no threshold: above it PyTorch returns x, which differs from ln(1 + e^(βx))/β by < e^(−threshold)/β.
                return a.Alpha == 1 ? N("Softplus", x) : N("Div", N("Softplus", N("Mul", x, S(a.Alpha))), S(a.Alpha));
            case UnaryOp.Mish: return N("Mul", x, N("Tanh", N("Softplus", x)));
            case UnaryOp.AddScalar: return N("Add", x, S(a.Alpha));
            case UnaryOp.MulScalar: return N("Mul", x, S(a.Alpha));
            case UnaryOp.RSubScalar: return N("Sub", S(a.Alpha), x);
            case UnaryOp.RDivScalar: return N("Div", S(a.Alpha), x);
            case UnaryOp.PowScalar: return N("Pow", x, S(a.Alpha));
            case UnaryOp.RPowScalar: return N("Pow", S(a.Alpha), x);
            case UnaryOp.Clamp: return N("Clip", x, double.IsNaN(a.Alpha) ? "" : S(a.Alpha), double.IsNaN(a.Beta) ? "" : S(a.Beta));
            case UnaryOp.LeakyRelu: return b.Node("LeakyRelu", [x], Float("alpha", a.Alpha));
            case UnaryOp.Elu: return b.Node("Elu", [x], Float("alpha", a.Alpha));
            case UnaryOp.Logit:
                var p = double.IsNaN(a.Alpha) ? x : N("Clip", x, S(a.Alpha), S(1 - a.Alpha));
                return N("Log", N("Div", p, N("Sub", S(1), p)));
            default:
                throw new OnnxExportException($"Onnx.Export: the elementwise op {a.Unary} has no ONNX conversion.");
        }
    }

    private string Binary(BinaryOp op, string[] x, Tensor[] inputs, DType result)
    {
        // ONNX's binary ops take one element type: cast a mixed pair to the promoted type.
        var common = result == DType.Bool ? (inputs[0].IsFloatingPoint ? inputs[0].DType : inputs[1].DType) : result;
        string l = inputs[0].DType == common ? x[0] : b.Node("Cast", [x[0]], Int("to", ElemType(common)));
        string r = inputs[1].DType == common ? x[1] : b.Node("Cast", [x[1]], Int("to", ElemType(common)));
        return op switch
        {
            BinaryOp.Add => b.Node("Add", [l, r]),
            BinaryOp.Sub => b.Node("Sub", [l, r]),
            BinaryOp.Mul => b.Node("Mul", [l, r]),
            BinaryOp.Div => b.Node("Div", [l, r]),
            BinaryOp.Pow => b.Node("Pow", [l, r]),
            BinaryOp.Maximum => b.Node("Max", [l, r]),
            BinaryOp.Minimum => b.Node("Min", [l, r]),
            // Python's remainder takes the divisor's sign: a − ⌊a/b⌋·b (ONNX Mod with fmod=0 is that, for integers only).
            BinaryOp.Remainder => common.IsFloatingPoint()
                ? b.Node("Sub", [l, b.Node("Mul", [b.Node("Floor", [b.Node("Div", [l, r])]), r])])
                : b.Node("Mod", [l, r], Int("fmod", 0)),
            BinaryOp.Eq => b.Node("Equal", [l, r]),
            BinaryOp.Ne => b.Node("Not", [b.Node("Equal", [l, r])]),
            BinaryOp.Lt => b.Node("Less", [l, r]),
            BinaryOp.Le => b.Node("LessOrEqual", [l, r]),
            BinaryOp.Gt => b.Node("Greater", [l, r]),
            BinaryOp.Ge => b.Node("GreaterOrEqual", [l, r]),
            _ => throw new OnnxExportException($"Onnx.Export: the elementwise op {op} has no ONNX conversion."),
        };
    }
}
