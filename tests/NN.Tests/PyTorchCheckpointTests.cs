using System.Numerics;
using System.Text.Json.Nodes;
using Ember.Serialization;

namespace Ember.NN.Tests;

/// <summary>
/// PyTorchCheckpoint against files written by torch.save in PyTorch 1.13 (tests/golden/pytorch_gen.py; expected values in
/// golden/nn/pytorch/expected.json), and against hostile files built here byte by byte.
/// </summary>
public class PyTorchCheckpointTests
{
    private static string F(string name) => Path.Combine(Golden.Dir, "pytorch", name);

    private static JsonObject Expected(string file) => Golden.Case("pytorch/expected", file)["tensors"]!.AsObject();

    /// <summary>Same dtype, shape and bit-identical elements (so -0.0, infinities and denormals count).</summary>
    private static void AssertSame(Tensor actual, JsonNode? expected, string what)
    {
        var e = expected!.AsObject();
        Assert.That(actual.DType.TorchName(), Is.EqualTo("torch." + e["dtype"]!.GetValue<string>()), $"{what}: dtype");
        Assert.That(actual.Shape.ToArray(), Is.EqualTo(e["shape"]!.AsArray().Select(x => x!.GetValue<long>())), $"{what}: shape");
        // Infinities are strings in the JSON ("inf", "-inf").
        static double Value(JsonNode? x) => x!.GetValueKind() == System.Text.Json.JsonValueKind.String
            ? double.Parse(x.GetValue<string>().Replace("inf", "Infinity"), System.Globalization.CultureInfo.InvariantCulture)
            : x.GetValue<double>();
        var data = e["data"]!.AsArray();
        if (actual.DType.IsFloatingPoint())
            Assert.That(Golden.D(actual).Select(BitConverter.DoubleToInt64Bits), Is.EqualTo(data.Select(x => BitConverter.DoubleToInt64Bits(Value(x)))),
                        $"{what}: elements");
        else // compared as int64: a double would round 2^63 - 1
            Assert.That(actual.To(DType.Int64).ToArray<long>(), Is.EqualTo(data.Select(x => x!.GetValue<long>())), $"{what}: elements");
    }

    private static void AssertMatchesExpected(OrderedDictionary<string, Tensor> loaded, string expectedCase, string prefix = "")
    {
        var exp = Expected(expectedCase);
        var keys = exp.Select(kv => kv.Key).Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Select(k => k[prefix.Length..]).ToList();
        Assert.That(loaded.Keys, Is.EqualTo(keys), "keys, in file order");
        foreach (var k in keys) AssertSame(loaded[k], exp[prefix + k], k);
    }

    [TestCase("dtypes.pt", "dtypes")]
    [TestCase("dtypes_legacy.pt", "dtypes_legacy")]
    public void LoadsEveryEmberDTypeBitExactly(string file, string expected)
    {
        var sd = PyTorchCheckpoint.Load(F(file));
        AssertMatchesExpected(sd, expected);
        Assert.That(sd["scalar"].Dim, Is.EqualTo(0));
        Assert.That(sd["empty"].Shape, Is.EqualTo(new Shape(0, 3)));
        Assert.That(sd["i64"].ToArray<long>(), Does.Contain(long.MinValue).And.Contain(long.MaxValue));
    }

    [TestCase("float16", DType.Float16, DType.Float32)]
    [TestCase("bfloat16", DType.BFloat16, DType.Float32)]
    [TestCase("uint8", DType.UInt8, DType.Int32)]
    [TestCase("int8", DType.Int8, DType.Int32)]
    [TestCase("int16", DType.Int16, DType.Int32)]
    public void NarrowDTypesLoadAsThemselvesOrUpcast(string name, DType own, DType upcastTo)
    {
        var native = PyTorchCheckpoint.Load(F($"dtype_{name}.pt"))["w"];
        Assert.That(native.DType, Is.EqualTo(own));
        Assert.That(Golden.D(native.To(DType.Float64)), Is.EqualTo(new[] { 1.0, 1.0, 1.0 }));
        var t = PyTorchCheckpoint.Load(F($"dtype_{name}.pt"), upcast: true)["w"];
        Assert.That(t.DType, Is.EqualTo(upcastTo));
        Assert.That(Golden.D(t), Is.EqualTo(new[] { 1.0, 1.0, 1.0 }));
    }

    [Test]
    public void ComplexIsRefusedEvenWithUpcast()
    {
        var ex = Assert.Throws<NotSupportedException>(() => PyTorchCheckpoint.Load(F("dtype_complex64.pt"), upcast: true));
        Assert.That(ex!.Message, Does.Contain("torch.complex64").And.Contain("\"w\"").And.Not.Contain("upcast"));
    }

    [TestCase("shared.pt", "shared")]
    [TestCase("shared_legacy.pt", "shared_legacy")]
    public void ViewsOfOneStorageLoadWithTheirOffsetsAndStrides(string file, string expected)
    {
        var sd = PyTorchCheckpoint.Load(F(file));
        AssertMatchesExpected(sd, expected);
        // Loaded tensors own their elements: writing into one view does not reach the others.
        sd["row1"].Fill_(-1);
        Assert.That(sd["base"][1, 0].Item<float>(), Is.EqualTo(4f));
    }

    [Test]
    public void NonContiguousTensorsLoadInLogicalOrder()
    {
        var sd = PyTorchCheckpoint.Load(F("noncontig.pt"));
        AssertMatchesExpected(sd, "noncontig");
        var exp = Expected("noncontig");
        Assert.That(exp["transposed"]!["strides"]!.AsArray().Select(x => x!.GetValue<long>()), Is.EqualTo(new[] { 1L, 4L }), "saved non-contiguous");
        Assert.That(sd.Values.All(t => t.IsContiguous), Is.True);
    }

    [Test]
    public void NestedCheckpointFlattensToDottedKeys()
    {
        AssertMatchesExpected(PyTorchCheckpoint.Load(F("nested.pt")), "nested");
        var model = PyTorchCheckpoint.Load(F("nested.pt"), entry: "model");
        AssertMatchesExpected(model, "nested", prefix: "model.");
        Assert.That(model.Keys, Does.Contain("1.num_batches_tracked"));
        var ex = Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.Load(F("nested.pt"), entry: "missing"));
        Assert.That(ex!.Message, Does.Contain("\"missing\"").And.Contain("\"model\""));
        Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.Load(F("nested.pt"), entry: "epoch"));
    }

    [Test]
    public void NestedCheckpointKeepsItsNonTensorValues()
    {
        var v = Golden.Case("pytorch/expected", "nested")["values"]!.AsObject();
        var root = (OrderedDictionary<object, object?>)PyTorchCheckpoint.LoadObject(F("nested.pt"))!;
        Assert.That(root["epoch"], Is.EqualTo(v["epoch"]!.GetValue<long>()));
        var meta = (OrderedDictionary<object, object?>)root["meta"]!;
        Assert.That(meta["name"], Is.EqualTo(v["name"]!.GetValue<string>()));
        Assert.That(meta["values"], Is.EqualTo(new List<object?> { 1L, 2.5, "s", null, true }));
        Assert.That(meta["pair"], Is.EqualTo(new object?[] { 3L, -4L }));
        Assert.That(meta["big"], Is.EqualTo(BigInteger.Parse(v["big"]!.GetValue<string>())));
        var opt = (OrderedDictionary<object, object?>)root["optimizer"]!;
        var group = (OrderedDictionary<object, object?>)((List<object?>)opt["param_groups"]!)[0]!;
        Assert.That(group["lr"], Is.EqualTo(v["lr"]!.GetValue<double>()));
        var state = (OrderedDictionary<object, object?>)opt["state"]!;
        Assert.That(state.Keys.First(), Is.EqualTo(0L), "optimizer state is keyed by int");
        var param = (Tensor)root["param"]!;
        Assert.That(param.RequiresGrad, Is.EqualTo(v["param_requires_grad"]!.GetValue<bool>()));
        Assert.That(((Tensor)((OrderedDictionary<object, object?>)root["model"]!)["0.weight"]!).RequiresGrad, Is.False);
    }

    [Test]
    public void StateDictLoadsIntoTheSameEmberModel()
    {
        var model = new Sequential(new Linear(4, 8), new BatchNorm1d(8), new ReLU(), new Linear(8, 3));
        var result = model.LoadStateDict(PyTorchCheckpoint.Load(F("model.pt")));
        Assert.That(result.MissingKeys, Is.Empty);
        Assert.That(result.UnexpectedKeys, Is.Empty);
        model.Eval();
        var exp = Golden.Case("pytorch/expected", "model");
        var output = model.Forward(Golden.T(exp["input"]));
        Golden.AssertClose(output, Golden.T(exp["output"]), atol: 1e-5, rtol: 1e-5, what: "model output");
        Assert.That(model.StateDict()["1.num_batches_tracked"].Item<long>(), Is.EqualTo(3L));
    }

    [TestCase("evil.pt")]
    [TestCase("evil_legacy.pt")]
    [TestCase("evil_raw.pkl")]
    public void ReduceToOsSystemIsRefused(string file)
    {
        const string marker = "/tmp/ember_pytorch_pwned";
        File.Delete(marker);
        var ex = Assert.Throws<UnsafePickleException>(() => PyTorchCheckpoint.Load(F(file)));
        Assert.That(ex!.Global, Is.EqualTo("posix.system"));
        Assert.That(ex.Message, Does.Contain("posix.system").And.Contain(file).And.Contain("weights_only"));
        Assert.That(File.Exists(marker), Is.False, "the payload ran");
    }

    [Test]
    public void TorchFunctionsOutsideTheAllowListAreRefused()
    {
        var ex = Assert.Throws<UnsafePickleException>(() => PyTorchCheckpoint.LoadObject(F("evil_torch_load.pt")));
        Assert.That(ex!.Global, Is.EqualTo("torch.serialization.load"));
    }

    [Test]
    public void NotACheckpointIsAClearError()
    {
        var ex = Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.Load(new MemoryStream("hello world"u8.ToArray()), "x.pt"));
        Assert.That(ex!.Message, Does.Contain("x.pt").And.Contain("not a torch.save file"));
    }

    // ---- hostile files built by hand (legacy layout: five pickles, then the storages) ----------------------------------

    /// <summary>Pickle opcodes, enough to write a legacy torch.save file by hand.</summary>
    private sealed class PickleWriter
    {
        private readonly List<byte> b = [0x80, 2];
        public PickleWriter Op(params byte[] ops) { b.AddRange(ops); return this; }
        public PickleWriter Str(string s) { var u = System.Text.Encoding.UTF8.GetBytes(s); b.Add((byte)'X'); b.AddRange(BitConverter.GetBytes(u.Length)); b.AddRange(u); return this; }
        public PickleWriter Int(int v) { b.Add((byte)'J'); b.AddRange(BitConverter.GetBytes(v)); return this; }
        public PickleWriter Long(long v) { var bytes = new BigInteger(v).ToByteArray(); b.Add(0x8a); b.Add((byte)bytes.Length); b.AddRange(bytes); return this; }
        public PickleWriter Global(string m, string n) { b.Add((byte)'c'); b.AddRange(System.Text.Encoding.ASCII.GetBytes($"{m}\n{n}\n")); return this; }
        public PickleWriter Mark() => Op((byte)'(');
        public PickleWriter Tuple() => Op((byte)'t');
        /// <summary>_rebuild_tensor_v2(('storage', FloatStorage, key, 'cpu', numel, None), offset, size, stride, False, OrderedDict()).</summary>
        public PickleWriter Tensor(string key, long numel, long offset, long[] size, long[] stride)
        {
            Global("torch._utils", "_rebuild_tensor_v2").Mark();
            Mark().Str("storage").Global("torch", "FloatStorage").Str(key).Str("cpu").Long(numel).Op((byte)'N').Tuple().Op((byte)'Q');
            Long(offset).Mark(); foreach (var s in size) Long(s); Tuple();
            Mark(); foreach (var s in stride) Long(s); Tuple();
            return Op(0x89).Global("collections", "OrderedDict").Op((byte)')', (byte)'R').Tuple().Op((byte)'R');
        }
        public byte[] Stop() => [.. b, (byte)'.'];
    }

    /// <summary>A legacy torch.save file: header pickles, <paramref name="main"/>, the key list, then each storage's count and bytes.</summary>
    private static MemoryStream Legacy(byte[] main, params (string Key, long Numel, int Bytes)[] storages)
    {
        var ms = new MemoryStream();
        ms.Write(new PickleWriter().Op(0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19).Stop()); // magic
        ms.Write(new PickleWriter().Int(1001).Stop());
        ms.Write(new PickleWriter().Op((byte)'}').Mark().Str("little_endian").Op(0x88).Op((byte)'u').Stop());
        ms.Write(main);
        var keys = new PickleWriter().Op((byte)']').Mark();
        foreach (var s in storages) keys.Str(s.Key);
        ms.Write(keys.Op((byte)'e').Stop());
        foreach (var s in storages) { ms.Write(BitConverter.GetBytes(s.Numel)); ms.Write(new byte[s.Bytes]); }
        ms.Position = 0;
        return ms;
    }

    private static byte[] DictOf(Func<PickleWriter, PickleWriter> value) =>
        value(new PickleWriter().Op((byte)'}').Str("t")).Op((byte)'s').Stop();

    [Test]
    public void HandWrittenLegacyFileLoads()
    {
        // Guards the hostile cases below: the same writer, with consistent sizes, gives a loadable file.
        var ms = Legacy(DictOf(p => p.Tensor("1", 6, 1, [2, 2], [1, 2])), ("1", 6, 24));
        var t = PyTorchCheckpoint.Load(ms)["t"];
        Assert.That(t.Shape, Is.EqualTo(new Shape(2, 2)));
    }

    [Test]
    public void StorageLargerThanTheFileIsRefusedBeforeAllocating()
    {
        long huge = 1L << 60;
        var ms = Legacy(DictOf(p => p.Tensor("1", huge, 0, [huge], [1])), ("1", huge, 8));
        var ex = Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.Load(ms));
        Assert.That(ex!.Message, Does.Contain("storage '1'").And.Contain("bytes"));
    }

    [TestCase(0, new long[] { 3 }, new long[] { 1 }, "reaches element 2")]
    [TestCase(2, new long[] { 2, 2 }, new long[] { 2, 1 }, "reaches element 5")]
    [TestCase(0, new long[] { 1L << 32, 1L << 32, 1L << 32 }, new long[] { 1, 1, 1 }, "overflows")]
    [TestCase(0, new long[] { 2 }, new long[] { -1 }, "non-negative")]
    [TestCase(-1, new long[] { 1 }, new long[] { 1 }, "non-negative")]
    public void TensorOutsideItsStorageIsRefused(long offset, long[] size, long[] stride, string message)
    {
        var ms = Legacy(DictOf(p => p.Tensor("1", 2, offset, size, stride)), ("1", 2, 8));
        var ex = Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.Load(ms));
        Assert.That(ex!.Message, Does.Contain(message));
    }

    [Test]
    public void StringLongerThanTheFileIsRefused()
    {
        var main = new PickleWriter().Op((byte)'X', 0xf0, 0xff, 0xff, 0xff).Stop();
        var ex = Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.LoadObject(Legacy(main)));
        Assert.That(ex!.Message, Does.Contain("runs past the end"));
    }

    [Test]
    public void CyclicAndDeepStructuresAreRefusedByLoad()
    {
        // {"t": L} where L = [L]: LoadObject returns the cycle, Load refuses to flatten it.
        var cyclic = new PickleWriter().Op((byte)'}').Str("t").Op((byte)']', (byte)'q', 0, (byte)'h', 0, (byte)'a', (byte)'s').Stop();
        var list = (List<object?>)((OrderedDictionary<object, object?>)PyTorchCheckpoint.LoadObject(Legacy(cyclic))!)["t"]!;
        Assert.That(list[0], Is.SameAs(list));
        Assert.That(() => PyTorchCheckpoint.Load(Legacy(cyclic)), Throws.TypeOf<InvalidDataException>().With.Message.Contain("reachable"));

        var deep = new PickleWriter().Op((byte)'}').Str("t");
        for (int i = 0; i < PyTorchCheckpoint.MaxDepth + 5; i++) deep.Op((byte)']');
        for (int i = 0; i < PyTorchCheckpoint.MaxDepth + 4; i++) deep.Op((byte)'a');
        var bytes = deep.Op((byte)'s').Stop();
        Assert.That(() => PyTorchCheckpoint.LoadObject(Legacy(bytes)), Throws.TypeOf<InvalidDataException>().With.Message.Contain("nested more than"));
    }

    [Test]
    public void ModulePersistentIdIsRefused()
    {
        // The legacy format once pickled a module's source as ('module', type, source_file, source): never allowed.
        var main = new PickleWriter().Mark().Str("module").Str("x").Str("y").Str("z").Op((byte)'N', (byte)'N').Tuple().Op((byte)'Q').Stop();
        Assert.Throws<UnsafePickleException>(() => PyTorchCheckpoint.LoadObject(Legacy(main)));
    }

    [Test]
    public void CorruptedFilesFailWithDocumentedExceptionsOnly()
    {
        // Every truncation and 300 seeded byte flips per file: either it loads, or it throws one of the documented types.
        var rng = new System.Random(12);
        int failures = 0, loads = 0;
        foreach (var name in new[] { "dtypes.pt", "dtypes_legacy.pt", "shared_legacy.pt", "nested.pt" })
        {
            var original = File.ReadAllBytes(F(name));
            var variants = new List<byte[]>();
            for (int n = 0; n < original.Length; n += Math.Max(1, original.Length / 200)) variants.Add(original[..n]);
            for (int i = 0; i < 300; i++)
            {
                var v = (byte[])original.Clone();
                for (int k = rng.Next(1, 4); k > 0; k--) v[rng.Next(v.Length)] = (byte)rng.Next(256);
                variants.Add(v);
            }
            foreach (var v in variants)
            {
                try { PyTorchCheckpoint.LoadObject(new MemoryStream(v), name); loads++; }
                catch (Exception e) when (e is InvalidDataException or UnsafePickleException or NotSupportedException) { failures++; }
                catch (Exception e) { Assert.Fail($"{name}, {v.Length} bytes: undocumented {e.GetType().Name}: {e.Message}"); }
            }
        }
        Assert.That(failures, Is.GreaterThan(0));
        TestContext.Out.WriteLine($"{loads} variants loaded, {failures} refused");
    }
}
