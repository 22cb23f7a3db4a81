using System.Buffers.Binary;
using System.Text;
using Ember.Optim;
using Ember.Serialization;

namespace Ember.NN.Tests;

public class SafetensorsTests
{
    private string dir = "";

    [SetUp]
    public void SetUp() { dir = Path.Combine(Path.GetTempPath(), "ember-st-" + Guid.NewGuid().ToString("N")); Directory.CreateDirectory(dir); }

    [TearDown]
    public void TearDown() { try { Directory.Delete(dir, true); } catch (IOException) { } }

    [Test]
    public void LoadsFileWrittenByPyTorch()
    {
        var t = Safetensors.Load(Path.Combine(Golden.Dir, "from_torch.safetensors"), out var meta);
        var exp = Golden.File("safetensors_expected");
        Assert.That(meta["producer"], Is.EqualTo("nn_gen.py"));
        foreach (var (k, v) in exp["tensors"]!.AsObject())
        {
            var e = Golden.T(v);
            // F16 and BF16 load in their own dtypes (the expectation file holds their exact values as float32).
            var dtype = k switch { "i32" => DType.Int32, "f16" => DType.Float16, "bf16" => DType.BFloat16, _ => e.DType };
            Assert.That(t[k].DType, Is.EqualTo(dtype), k);
            Assert.That(t[k].Shape, Is.EqualTo(e.Shape), k);
            Assert.That(Golden.D(t[k]), Is.EqualTo(Golden.D(e)), k);
        }
    }

    [Test]
    public void LoadsEveryNarrowDTypeWrittenFromPyTorchsBytes()
    {
        var t = Safetensors.Load(Path.Combine(Golden.Dir, "half_dtypes.safetensors"), out _);
        var exp = Golden.File("half_dtypes");
        Assert.That(t.Keys, Is.EquivalentTo(exp.Select(kv => kv.Key)));
        foreach (var (k, v) in exp)
        {
            var dtype = Enum.GetValues<DType>().Single(d => d.TorchName() == "torch." + v!["dtype"]!.GetValue<string>());
            Assert.That(t[k].DType, Is.EqualTo(dtype), k);
            Assert.That(t[k].Shape.ToArray(), Is.EqualTo(v!["shape"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray()), k);
            var values = v!["values"]!.AsArray().Select(x => x!.GetValue<string>() switch
            {
                "inf" => double.PositiveInfinity, "-inf" => double.NegativeInfinity, var s => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture),
            });
            Assert.That(Golden.D(t[k]), Is.EqualTo(values), k);
        }
    }

    [Test]
    public void NarrowDTypesRoundTripBitExactWithTheirCodes()
    {
        var src = new OrderedDictionary<string, Tensor>
        {
            ["h"] = Tensor.Randn(3, 5).Half(), ["bf"] = Tensor.Randn(4, 2).BFloat16().T, ["u8"] = Tensor.FromArray(new byte[] { 0, 200, 255 }),
            ["i8"] = Tensor.FromArray(new sbyte[] { -128, 3, 127 }), ["i16"] = Tensor.FromArray(new short[] { -32768, 1, 32767 }),
        };
        var p = Path.Combine(dir, "narrow.safetensors");
        Safetensors.Save(p, src);
        var header = Encoding.UTF8.GetString(File.ReadAllBytes(p), 8, (int)BinaryPrimitives.ReadUInt64LittleEndian(File.ReadAllBytes(p)));
        foreach (var code in new[] { "\"F16\"", "\"BF16\"", "\"U8\"", "\"I8\"", "\"I16\"" }) Assert.That(header, Does.Contain(code));
        var back = Safetensors.Load(p, out _);
        Assert.That(back["h"].ToArray<Half>(), Is.EqualTo(src["h"].ToArray<Half>()));
        Assert.That(back["bf"].ToArray<BFloat16>().Select(b => b.Bits), Is.EqualTo(src["bf"].ToArray<BFloat16>().Select(b => b.Bits)));
        Assert.That(back["u8"].ToArray<byte>(), Is.EqualTo(new byte[] { 0, 200, 255 }));
        Assert.That(back["i8"].ToArray<sbyte>(), Is.EqualTo(new sbyte[] { -128, 3, 127 }));
        Assert.That(back["i16"].ToArray<short>(), Is.EqualTo(new short[] { -32768, 1, 32767 }));
    }

    [Test]
    public void RoundTripAllDTypes()
    {
        var src = new OrderedDictionary<string, Tensor>
        {
            ["f32"] = Tensor.Randn(3, 2), ["f64"] = Tensor.Randn([4], DType.Float64), ["i32"] = Tensor.FromArray([1, -2, 3]),
            ["i64"] = Tensor.FromArray([1L << 50, -7L]), ["b"] = Tensor.FromArray([true, false, true]), ["s"] = Tensor.Scalar(2.5),
            ["view"] = Tensor.Randn(3, 4).T,
        };
        var p = Path.Combine(dir, "a.safetensors");
        Safetensors.Save(p, src, new Dictionary<string, string> { ["k"] = "v" });
        var back = Safetensors.Load(p, out var meta);
        Assert.That(meta["k"], Is.EqualTo("v"));
        Assert.That(back.Keys, Is.EqualTo(src.Keys));
        foreach (var (k, v) in src)
        {
            Assert.That(back[k].DType, Is.EqualTo(v.DType), k);
            Assert.That(back[k].Shape, Is.EqualTo(v.Shape), k);
            Assert.That(Golden.D(back[k]), Is.EqualTo(Golden.D(v)), k);
        }
        long headerLen = (long)BinaryPrimitives.ReadUInt64LittleEndian(File.ReadAllBytes(p).AsSpan(0, 8));
        Assert.That(headerLen % 8, Is.EqualTo(0));
        Assert.That(Directory.GetFiles(dir), Has.Length.EqualTo(1), "no temp file left behind");
    }

    /// <summary>Writes tests/golden/nn/from_ember.safetensors; nn_gen.py checks it loads in PyTorch with these exact values.</summary>
    [Test]
    public void WriteFileForPyTorch()
    {
        var t = new OrderedDictionary<string, Tensor>
        {
            ["a"] = Tensor.Arange(6, DType.Float32).Reshape(2, 3) / 4,
            ["b"] = Tensor.FromArray([1.5, -2.25]),
            ["c"] = Tensor.FromArray<int>([1, -2, 3, 4], 2, 2),   // Int32: FromArray(int[]) alone gives Int64, as torch.tensor
            ["d"] = Tensor.FromArray([10000000000L, -1L]),
            ["e"] = Tensor.FromArray([true, false, true]),
        };
        var path = Path.Combine(Golden.SourceDir, "from_ember.safetensors");
        Safetensors.Save(path, t, new Dictionary<string, string> { ["producer"] = "ember" });
        Assert.That(Golden.D(Safetensors.Load(path)["a"]), Is.EqualTo(new[] { 0, 0.25, 0.5, 0.75, 1, 1.25 }));
    }

    private static byte[] Make(string header, int dataBytes)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var b = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)h.Length);
        h.CopyTo(b, 8);
        return b;
    }

    [TestCase(new byte[] { 1, 2, 3 }, "truncated")]
    public void RejectsTooShort(byte[] bytes, string msg) =>
        Assert.That(() => Safetensors.Deserialize(bytes, out _), Throws.InstanceOf<InvalidDataException>().With.Message.Contains(msg));

    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "truncated")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]", 8, "not valid JSON")]
    [TestCase("[1,2]", 0, "JSON object")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12 bytes")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlaps")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "gap")]
    [TestCase("{\"a\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "unsupported dtype")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "must be an object")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 12, "cover 4")]
    public void RejectsMalformed(string header, int dataBytes, string msg) =>
        Assert.That(() => Safetensors.Deserialize(Make(header, dataBytes), out _), Throws.InstanceOf<InvalidDataException>().With.Message.Contains(msg));

    [Test]
    public void RejectsHugeHeaderLength()
    {
        var b = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(b, ulong.MaxValue);
        Assert.That(() => Safetensors.Deserialize(b, out _), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("exceeds"));
    }

    [Test]
    public void CheckpointRoundTripRestoresModelOptimizerSchedulerRng()
    {
        Tensor.ManualSeed(11);
        var model = new Sequential(new Linear(3, 2), new BatchNorm1d(2));
        var opt = new Adam(model.Parameters(), lr: 0.1);
        var sched = new StepLR(opt, 2, 0.5);
        for (int i = 0; i < 3; i++)
        {
            opt.ZeroGrad();
            model.Forward(Tensor.Randn(4, 3)).Square().Sum().Backward();
            opt.Step(); sched.Step();
        }
        var path = Path.Combine(dir, "ckpt.safetensors");
        Checkpoint.Save(path, model, opt, sched, step: 3, new Dictionary<string, string> { ["note"] = "hi" });
        var rngAfterSave = Random.Default.GetState();
        Tensor.Randn(5);   // advance the generator

        var model2 = new Sequential(new Linear(3, 2), new BatchNorm1d(2));
        var opt2 = new Adam(model2.Parameters(), lr: 0.1);
        var sched2 = new StepLR(opt2, 2, 0.5);
        var info = Checkpoint.Load(path, model2, opt2, sched2);
        Assert.That(info.Step, Is.EqualTo(3));
        Assert.That(info.Metadata["note"], Is.EqualTo("hi"));
        Assert.That(Random.Default.GetState(), Is.EqualTo(rngAfterSave));
        Assert.That(sched2.GetLastLr(), Is.EqualTo(sched.GetLastLr()));
        foreach (var (k, v) in model.StateDict()) Assert.That(Golden.D(model2.StateDict()[k]), Is.EqualTo(Golden.D(v)), k);
        // One more identical step on both gives identical parameters.
        var x = Tensor.Randn(4, 3);
        foreach (var (m, o) in new[] { (model, (Optimizer)opt), (model2, opt2) })
        {
            o.ZeroGrad(); m.Forward(x).Square().Sum().Backward(); o.Step();
        }
        foreach (var (k, v) in model.StateDict()) Assert.That(Golden.D(model2.StateDict()[k]), Is.EqualTo(Golden.D(v)).Within(1e-7), k);
    }

    [Test]
    public void CrashMidWriteLeavesOldCheckpointReadable()
    {
        var model = new Linear(4, 3);
        var path = Path.Combine(dir, "ckpt.safetensors");
        Checkpoint.Save(path, model, step: 1);
        var before = File.ReadAllBytes(path);
        using (NoGradScope.Enter()) model.Weight.Fill_(42);
        Assert.That(() => Checkpoint.Save(path, model, null, null, 2, null, i => throw new IOException("simulated crash after tensor " + i)),
            Throws.InstanceOf<IOException>());
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before));
        Assert.That(Directory.GetFiles(dir), Has.Length.EqualTo(1), "temp file removed");
        var fresh = new Linear(4, 3);
        Assert.That(Checkpoint.Load(path, fresh).Step, Is.EqualTo(1));
    }
}
