using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ember.Core.Tests;

/// <summary>The reduced-precision dtypes against PyTorch 1.13's golden values (tests/golden/half_gen.py).</summary>
public class HalfPrecisionTests
{
    public sealed class Conversions
    {
        [JsonPropertyName("input")] public string[] Input { get; set; } = [];
        [JsonPropertyName("float16")] public int[] Float16 { get; set; } = [];
        [JsonPropertyName("bfloat16")] public int[] BFloat16 { get; set; } = [];
    }

    public sealed class BitConversions
    {
        [JsonPropertyName("input")] public uint[] Input { get; set; } = [];
        [JsonPropertyName("float16")] public int[] Float16 { get; set; } = [];
        [JsonPropertyName("bfloat16")] public int[] BFloat16 { get; set; } = [];
    }

    public sealed class IntConversions
    {
        [JsonPropertyName("input")] public string[] Input { get; set; } = [];
        [JsonPropertyName("uint8")] public long[] UInt8 { get; set; } = [];
        [JsonPropertyName("int8")] public long[] Int8 { get; set; } = [];
        [JsonPropertyName("int16")] public long[] Int16 { get; set; } = [];
    }

    public sealed record FormatCase(string name, string dtype, long[] shape, string[] values, string expected);

    public sealed class Golden
    {
        [JsonPropertyName("promote")] public string[][] Promote { get; set; } = [];
        [JsonPropertyName("from_f32")] public BitConversions FromF32 { get; set; } = new();
        [JsonPropertyName("from_f64")] public Conversions FromF64 { get; set; } = new();
        [JsonPropertyName("to_int")] public IntConversions ToInt { get; set; } = new();
        [JsonPropertyName("format")] public FormatCase[] Format { get; set; } = [];
    }

    private static readonly Lazy<Golden> Data = new(() => JsonSerializer.Deserialize<Golden>(
        File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "golden", "core", "half.json")))!);

    /// <summary>PyTorch's dtype name (without "torch.") as an Ember dtype.</summary>
    public static DType Parse(string torchName) =>
        Enum.GetValues<DType>().Single(d => d.TorchName() == "torch." + torchName);

    private static double ParseDouble(string s) => s switch
    {
        "nan" => double.NaN, "inf" => double.PositiveInfinity, "-inf" => double.NegativeInfinity,
        _ => double.Parse(s, CultureInfo.InvariantCulture),
    };

    [Test]
    public void PromoteMatchesTorchPromoteTypesForEveryPair()
    {
        Assert.That(Data.Value.Promote, Has.Length.EqualTo(100));
        foreach (var row in Data.Value.Promote)
            Assert.That(DTypeInfo.Promote(Parse(row[0]), Parse(row[1])), Is.EqualTo(Parse(row[2])), $"promote({row[0]}, {row[1]})");
    }

    [Test]
    public void ElementSizesAndNames()
    {
        Assert.That(DType.Float16.ElementSize(), Is.EqualTo(2));
        Assert.That(DType.BFloat16.ElementSize(), Is.EqualTo(2));
        Assert.That(DType.UInt8.ElementSize(), Is.EqualTo(1));
        Assert.That(DType.Int8.ElementSize(), Is.EqualTo(1));
        Assert.That(DType.Int16.ElementSize(), Is.EqualTo(2));
        Assert.That(DType.Float16.TorchName(), Is.EqualTo("torch.float16"));
        Assert.That(DType.BFloat16.TorchName(), Is.EqualTo("torch.bfloat16"));
        Assert.That(DType.UInt8.TorchName(), Is.EqualTo("torch.uint8"));
        Assert.That(DType.Int8.TorchName(), Is.EqualTo("torch.int8"));
        Assert.That(DTypeInfo.Of<Half>(), Is.EqualTo(DType.Float16));
        Assert.That(DTypeInfo.Of<BFloat16>(), Is.EqualTo(DType.BFloat16));
        Assert.That(DTypeInfo.Of<byte>(), Is.EqualTo(DType.UInt8));
        Assert.That(DTypeInfo.Of<sbyte>(), Is.EqualTo(DType.Int8));
        Assert.That(DTypeInfo.Of<short>(), Is.EqualTo(DType.Int16));
        foreach (var d in Enum.GetValues<DType>())
            Assert.That(System.Runtime.InteropServices.Marshal.SizeOf(d.ClrType() == typeof(bool) ? typeof(byte) : d.ClrType()),
                Is.EqualTo(d.ElementSize()), d.ToString());
        Assert.That(DType.Float16.IsFloatingPoint() && DType.BFloat16.IsFloatingPoint(), Is.True);
        Assert.That(DType.UInt8.IsInteger() && DType.Int8.IsInteger() && DType.Int16.IsInteger(), Is.True);
    }

    [Test]
    public void Float32ToFloat16AndBFloat16RoundLikePyTorch()
    {
        var g = Data.Value.FromF32;
        var x = Tensor.FromArray(g.Input.Select(BitConverter.UInt32BitsToSingle).ToArray());
        var h = x.Half().ToArray<Half>();
        var b = x.BFloat16().ToArray<BFloat16>();
        for (int i = 0; i < g.Input.Length; i++)
        {
            float v = BitConverter.UInt32BitsToSingle(g.Input[i]);
            var expH = BitConverter.UInt16BitsToHalf((ushort)g.Float16[i]);
            var expB = BFloat16.FromBits((ushort)g.BFloat16[i]);
            if (float.IsNaN(v))
            {
                Assert.That(Half.IsNaN(h[i]) && BFloat16.IsNaN(b[i]), $"NaN 0x{g.Input[i]:X8} stays NaN");
                Assert.That(b[i].Bits & 0x8000, Is.EqualTo(g.Input[i] >> 16 & 0x8000), "the sign of a NaN is kept");
                continue;
            }
            Assert.That(BitConverter.HalfToUInt16Bits(h[i]), Is.EqualTo((ushort)g.Float16[i]), $"half({v:R}) = {expH}, got {h[i]}");
            Assert.That(b[i].Bits, Is.EqualTo(expB.Bits), $"bfloat16({v:R}) = {expB}, got {b[i]}");
            // The scalar conversions give the same bits as the tensor conversion.
            Assert.That(BitConverter.HalfToUInt16Bits((Half)v), Is.EqualTo((ushort)g.Float16[i]));
            Assert.That(((BFloat16)v).Bits, Is.EqualTo(expB.Bits));
        }
    }

    [Test]
    public void Float64RoundsThroughFloat32LikePyTorch()
    {
        var g = Data.Value.FromF64;
        var x = Tensor.FromArray(g.Input.Select(ParseDouble).ToArray());
        var h = x.Half().ToArray<Half>();
        var b = x.BFloat16().ToArray<BFloat16>();
        for (int i = 0; i < g.Input.Length; i++)
        {
            Assert.That(BitConverter.HalfToUInt16Bits(h[i]), Is.EqualTo((ushort)g.Float16[i]), $"half({g.Input[i]})");
            Assert.That(b[i].Bits, Is.EqualTo((ushort)g.BFloat16[i]), $"bfloat16({g.Input[i]})");
        }
    }

    [Test]
    public void FloatToNarrowIntegersTruncatesThenWrapsLikePyTorch()
    {
        var g = Data.Value.ToInt;
        var x = Tensor.FromArray(g.Input.Select(s => (float)ParseDouble(s)).ToArray());
        Assert.That(x.To(DType.UInt8).ToArray<byte>().Select(v => (long)v), Is.EqualTo(g.UInt8));
        Assert.That(x.To(DType.Int8).ToArray<sbyte>().Select(v => (long)v), Is.EqualTo(g.Int8));
        Assert.That(x.To(DType.Int16).ToArray<short>().Select(v => (long)v), Is.EqualTo(g.Int16));
    }

    [Test]
    public void EveryFiniteHalfAndBFloat16RoundTripsThroughFloat32()
    {
        var hs = Enumerable.Range(0, 65536).Select(i => BitConverter.UInt16BitsToHalf((ushort)i)).Where(h => !Half.IsNaN(h)).ToArray();
        var back = Tensor.FromArray(hs).Float().Half().ToArray<Half>();
        Assert.That(back.Select(BitConverter.HalfToUInt16Bits), Is.EqualTo(hs.Select(BitConverter.HalfToUInt16Bits)));
        var bs = Enumerable.Range(0, 65536).Select(i => BFloat16.FromBits((ushort)i)).Where(b => !BFloat16.IsNaN(b)).ToArray();
        var backB = Tensor.FromArray(bs).Double().BFloat16().ToArray<BFloat16>();
        Assert.That(backB.Select(b => b.Bits), Is.EqualTo(bs.Select(b => b.Bits)));
        // Through the other narrow type: every BFloat16 within Half's normal range and precision survives a Half trip.
        var viaHalf = Tensor.FromArray(new[] { 1f, -2.5f, 0.125f, 1024f }).BFloat16().Half().BFloat16().Float().ToArray<float>();
        Assert.That(viaHalf, Is.EqualTo(new[] { 1f, -2.5f, 0.125f, 1024f }));
    }

    [TestCase(DType.Float16), TestCase(DType.BFloat16), TestCase(DType.UInt8), TestCase(DType.Int8), TestCase(DType.Int16)]
    public void FactoriesFillAndItemWorkInEveryNewDType(DType dtype)
    {
        var t = Tensor.Full([2, 3], 7, dtype);
        Assert.That(t.DType, Is.EqualTo(dtype));
        Assert.That(t.To(DType.Float64).ToArray<double>(), Is.All.EqualTo(7.0));
        Assert.That(t[1, 2].Item(), Is.EqualTo(7.0));
        Assert.That(Tensor.Zeros([4], dtype).To(DType.Float32).ToArray<float>(), Is.All.EqualTo(0f));
        // A strided (transposed) source converts element by element.
        var src = Tensor.Arange(6.0).Reshape(2, 3).T;
        Assert.That(src.To(dtype).To(DType.Float64).ToArray<double>(), Is.EqualTo(new double[] { 0, 3, 1, 4, 2, 5 }));
    }

    [Test]
    public void BFloat16StructArithmeticRoundsOnce()
    {
        var a = (BFloat16)1f; var b = (BFloat16)(1f / 256);
        Assert.That((float)(a + b), Is.EqualTo(1f), "1 + 2^-8 is a tie and rounds to the even 1");
        Assert.That((float)(a + b + b), Is.EqualTo(1f), "left to right each step rounds back to 1");
        Assert.That((float)((BFloat16)3f * (BFloat16)0.5f), Is.EqualTo(1.5f));
        Assert.That(BFloat16.IsInfinity((BFloat16)3.4e38f), Is.True, "above the largest bfloat16 rounds to inf");
        Assert.That((float)BFloat16.MaxValue, Is.EqualTo(3.3895314e38f));
        Assert.That(BFloat16.IsNaN((BFloat16)float.NaN) && !((BFloat16)float.NaN == (BFloat16)float.NaN), Is.True);
        Assert.That(((BFloat16)0.1f).ToString("F4", CultureInfo.InvariantCulture), Is.EqualTo("0.1001"));
        Assert.That(((BFloat16)(-2f)).CompareTo((BFloat16)1f), Is.LessThan(0));
    }

    public static IEnumerable<TestCaseData> FormatCases() =>
        Data.Value.Format.Select(c => new TestCaseData(c).SetName($"ToString_{c.name}"));

    [TestCaseSource(nameof(FormatCases))]
    public void PrintsLikePyTorch(FormatCase c)
    {
        var v = c.values.Select(ParseDouble).ToArray();
        var t = Tensor.FromArray(v, c.shape).To(Parse(c.dtype));   // the values are exact in their dtype
        if (c.shape.Length == 0) t = t.Reshape();
        Assert.That(t.ToString(), Is.EqualTo(c.expected));
    }
}
