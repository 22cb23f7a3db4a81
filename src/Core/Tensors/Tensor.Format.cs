using System.Globalization;
using System.Text;

namespace Ember;

public sealed partial class Tensor
{
    // PyTorch's print options (torch._tensor_str.PRINT_OPTS defaults).
    private const int PrintPrecision = 4, PrintThreshold = 1000, PrintEdgeItems = 3, PrintLineWidth = 80;

    /// <summary>
    /// Prints like PyTorch 1.13's <c>repr(tensor)</c>: <c>tensor([[1.0000, 2.0000], …])</c> with 4 decimals,
    /// integer-valued floats as <c>1.</c>, scientific notation when the non-zero magnitudes span more than 10³
    /// or exceed 10⁸ (or, for non-integers, fall below 10⁻⁴), 80-column wrapping, "..." summaries (3 edge items
    /// per dim) above 1000 elements, and the suffixes <c>device='cuda:0'</c>, <c>dtype=torch.float64</c> (for
    /// dtypes other than float32/int64/bool), <c>size=(…)</c> for empty tensors, <c>grad_fn=&lt;…&gt;</c> or
    /// <c>requires_grad=True</c>. Copies only the printed elements to the host.
    /// </summary>
    public override string ToString()
    {
        if (storage.IsDisposed) return "tensor(<disposed>)";
        const string prefix = "tensor(";
        int indent = prefix.Length;
        var suffixes = new List<string>();
        if (Device.Type != DeviceType.Cpu) suffixes.Add($"device='{Device}'");
        string body;
        if (Numel == 0)
        {
            if (Dim != 1) suffixes.Add("size=(" + string.Join(", ", shape) + ")");
            if (DType != DType.Float32) suffixes.Add("dtype=" + DType.TorchName());
            body = "[]";
        }
        else
        {
            if (DType is not (DType.Float32 or DType.Int64 or DType.Bool)) suffixes.Add("dtype=" + DType.TorchName());
            body = FormatBody(indent);
        }
        if (GradFn != null) suffixes.Add($"grad_fn=<{GradFn.Name}>");
        else if (RequiresGrad) suffixes.Add("requires_grad=True");

        var sb = new StringBuilder(prefix).Append(body);
        string text = prefix + body;
        // PyTorch's arithmetic (_add_suffixes): len − rfind('\n') + 1, also when there is no newline (rfind = −1).
        int lastLine = text.Length - text.LastIndexOf('\n') + 1;
        foreach (var s in suffixes)
        {
            if (lastLine + s.Length + 2 > PrintLineWidth)
            {
                sb.Append(",\n").Append(' ', indent).Append(s);
                lastLine = indent + s.Length;
            }
            else
            {
                sb.Append(", ").Append(s);
                lastLine += s.Length + 2;
            }
        }
        return sb.Append(')').ToString();
    }

    // The printed elements (summarized when large) and the text of the nested lists.
    private string FormatBody(int indent)
    {
        bool summarize = Numel > PrintThreshold;
        // Keep the first and last edge items of every dim longer than 2·edge when summarizing.
        var t = Detach();
        var elided = new bool[Dim];
        for (int d = 0; d < Dim; d++)
        {
            if (!summarize || shape[d] <= 2 * PrintEdgeItems) continue;
            elided[d] = true;
            var keep = new long[2 * PrintEdgeItems];
            for (int i = 0; i < PrintEdgeItems; i++) { keep[i] = i; keep[PrintEdgeItems + i] = shape[d] - PrintEdgeItems + i; }
            t = t.IndexSelect(d, FromArray(keep).To(Device));
        }
        var kept = t.shape;
        string[] texts;
        int width;
        if (DType.IsFloatingPoint())
        {
            // Float16 and BFloat16 print their exact values, widened (as PyTorch's _tensor_str widens them to float).
            var vals = DType == DType.Float64 ? t.ToArray<double>() : t.To(DType.Float64).ToArray<double>();
            var f = new FloatFormatter(vals);
            texts = Array.ConvertAll(vals, f.Format);
            width = f.Width;
        }
        else
        {
            texts = DType == DType.Bool
                ? Array.ConvertAll(t.ToArray<bool>(), v => v ? "True" : "False")
                : Array.ConvertAll(t.To(DType.Int64).ToArray<long>(), v => v.ToString(CultureInfo.InvariantCulture));
            width = Math.Max(1, texts.Max(s => s.Length));
        }
        for (int i = 0; i < texts.Length; i++) texts[i] = texts[i].PadLeft(width);
        if (Dim == 0) return texts[0];
        var sb = new StringBuilder();
        AppendNested(sb, texts, kept, elided, 0, 0, indent, width);
        return sb.ToString();
    }

    // Appends dims d.. of the kept elements starting at flat position `start` (PyTorch's _tensor_str_with_formatter).
    private static void AppendNested(StringBuilder sb, string[] texts, long[] kept, bool[] elided, int d, long start, int indent, int width)
    {
        int rank = kept.Length;
        long n = kept[d];
        if (d == rank - 1)
        {
            int perLine = Math.Max(1, (PrintLineWidth - indent) / (width + 2));
            var items = new List<string>();
            for (long i = 0; i < n; i++)
            {
                if (elided[d] && i == PrintEdgeItems) items.Add(" ...");
                items.Add(texts[start + i]);
            }
            sb.Append('[');
            for (int i = 0; i < items.Count; i++)
            {
                if (i > 0) sb.Append(i % perLine == 0 ? ",\n" + new string(' ', indent + 1) : ", ");
                sb.Append(items[i]);
            }
            sb.Append(']');
            return;
        }
        long inner = 1;
        for (int j = d + 1; j < rank; j++) inner *= kept[j];
        string sep = "," + new string('\n', rank - d - 1) + new string(' ', indent + 1);
        sb.Append('[');
        for (long i = 0; i < n; i++)
        {
            if (i > 0) sb.Append(sep);
            if (elided[d] && i == PrintEdgeItems) sb.Append("...").Append(sep);
            AppendNested(sb, texts, kept, elided, d + 1, start + i * inner, indent + 1, width);
        }
        sb.Append(']');
    }

    /// <summary>PyTorch's _Formatter for floating-point values: picks integer, fixed or scientific mode and the width.</summary>
    private sealed class FloatFormatter
    {
        private readonly bool intMode = true, sciMode;
        public int Width { get; } = 1;

        public FloatFormatter(double[] values)
        {
            var finite = values.Where(v => double.IsFinite(v) && v != 0).ToArray();
            if (finite.Length == 0) return;
            double min = finite.Min(Math.Abs), max = finite.Max(Math.Abs);
            intMode = finite.All(v => v == Math.Ceiling(v));
            if (intMode)
            {
                sciMode = max / min > 1000.0 || max > 1.0e8;
                Width = sciMode ? finite.Max(v => Sci(v).Length) : finite.Max(v => Fixed(v, 0).Length + 1);
            }
            else
            {
                sciMode = max / min > 1000.0 || max > 1.0e8 || min < 1.0e-4;
                Width = sciMode ? finite.Max(v => Sci(v).Length) : finite.Max(v => Fixed(v, PrintPrecision).Length);
            }
        }

        public string Format(double v)
        {
            if (sciMode) return Sci(v);
            if (intMode) return double.IsFinite(v) ? Fixed(v, 0) + "." : Fixed(v, 0);
            return Fixed(v, PrintPrecision);
        }

        // Python's "{:.Nf}": exact decimal rounding, "nan"/"inf"/"-inf".
        private static string Fixed(double v, int digits) =>
            NonFinite(v) ?? v.ToString("F" + digits, CultureInfo.InvariantCulture);

        // Python's "{:.4e}": mantissa with 4 decimals, exponent with sign and at least two digits.
        private static string Sci(double v)
        {
            if (NonFinite(v) is string s) return s;
            var e = v.ToString("E" + PrintPrecision, CultureInfo.InvariantCulture); // e.g. 1.2346E+005
            int at = e.IndexOf('E');
            int exp = int.Parse(e.AsSpan(at + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            return e[..at] + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
        }

        private static string? NonFinite(double v) =>
            double.IsNaN(v) ? "nan" : double.IsPositiveInfinity(v) ? "inf" : double.IsNegativeInfinity(v) ? "-inf" : null;
    }
}
