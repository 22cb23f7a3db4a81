using Ember.Data;
using Ember.Serialization;

namespace Ember.Hardening.Tests;

/// <summary>File headers are parsed whole, with checked arithmetic, and bounded by the file's length before anything is allocated.</summary>
public class ReaderHeaderTests
{
    private static void AssertBad(string header, int dataBytes, string message) =>
        Assert.That(() => Safetensors.Deserialize(FileBytes.Safetensors(header, dataBytes), out _),
            Throws.TypeOf<InvalidDataException>().With.Message.Contains(message));

    [Test]
    public void SafetensorsShapeWhoseElementCountOverflows() =>
        AssertBad("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,0]}}", 0, "\"a\"");

    [Test]
    public void SafetensorsShapeWhoseByteCountOverflows() =>
        AssertBad("{\"a\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,0]}}", 0, "\"a\"");

    [Test]
    public void SafetensorsOffsetsThatAreNotNumbers() =>
        AssertBad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]}}", 4, "data_offsets");

    [Test]
    public void SafetensorsDuplicateTensorNames() =>
        AssertBad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "duplicate");

    [Test]
    public void SafetensorsDuplicateMetadata() =>
        AssertBad("{\"__metadata__\":{\"k\":\"1\"},\"__metadata__\":{\"k\":\"2\"}}", 0, "duplicate");

    [Test]
    public void SafetensorsHeaderThatIsNotUtf8()
    {
        var bytes = FileBytes.Safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        bytes[10] = 0xB9;   // inside the name "a": an invalid UTF-8 byte (found by the fuzzer)
        Assert.That(() => Safetensors.Deserialize(bytes, out _), Throws.TypeOf<InvalidDataException>().With.Message.Contains("UTF-8"));
    }

    [Test]
    public void SafetensorsNameWithALoneSurrogateEscape() =>
        AssertBad("{\"\\ud800\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "invalid string");

    [Test]
    public void IdxEmptyShapeWhoseOtherDimsOverflow()
    {
        using var dir = new FileBytes.TempDir();
        var path = dir.File("zero.idx", FileBytes.Idx(0x08, [0, 1183276503, 1767001181, 60000]));
        Assert.Throws<InvalidDataException>(() => IdxReader.Read(path));
    }

    [Test]
    public void SafetensorsBadEntryIsFoundBeforeAnyTensorIsDecoded()
    {
        // The second entry is bad; nothing of the first may be allocated first: the error comes from the header pass.
        AssertBad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[4,8]}}", 8, "\"b\"");
    }

    [Test]
    public void IdxHeaderAloneDoesNotMakeTheReaderAllocate()
    {
        using var dir = new FileBytes.TempDir();
        // 28 bytes: a Float64 header claiming 100000·1000·1 elements (800 MB) and 12 bytes of data.
        var path = dir.File("big.idx", FileBytes.Idx(0x0E, [100_000, 1000, 1], 12));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<InvalidDataException>(() => IdxReader.Read(path));
        Assert.Throws<InvalidDataException>(() => IdxReader.ReadBytes(dir.File("big8.idx", FileBytes.Idx(0x08, [100_000, 1000, 1], 12))));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.LessThan(16 << 20), "bytes allocated while rejecting two 28-byte files");
    }

    [Test]
    public void IdxHeaderWhoseSizeOverflows()
    {
        using var dir = new FileBytes.TempDir();
        var path = dir.File("overflow.idx", FileBytes.Idx(0x0E, [int.MaxValue, int.MaxValue, int.MaxValue], 8));
        Assert.That(() => IdxReader.Read(path), Throws.TypeOf<InvalidDataException>().With.Message.Contains("overflow.idx"));
    }

    [Test]
    public void IdxGzipHeaderAloneDoesNotMakeTheReaderAllocate()
    {
        using var dir = new FileBytes.TempDir();
        var raw = FileBytes.Idx(0x08, [100_000, 1000, 3], 5);
        var ms = new MemoryStream();
        using (var gz = new System.IO.Compression.GZipStream(ms, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true)) gz.Write(raw);
        var path = dir.File("big.idx.gz", ms.ToArray());
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<InvalidDataException>(() => IdxReader.ReadBytes(path));
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(16 << 20));
    }

    [Test]
    public void IdxValidFilesStillRead()
    {
        using var dir = new FileBytes.TempDir();
        var t = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        foreach (var name in new[] { "ok.idx", "ok.idx.gz" })
        {
            var path = System.IO.Path.Combine(dir.Path, name);
            IdxReader.Write(path, t, IdxType.Float32);
            Assert.That(IdxReader.Read(path).ToArray<float>(), Is.EqualTo(t.ToArray<float>()));
            Assert.That(IdxReader.Read(path, limit: 1).Shape, Is.EqualTo(new Shape(1, 3)));
        }
    }
}
