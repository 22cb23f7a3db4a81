using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Ember.Serialization;

/// <summary>
/// The safetensors format (Hugging Face; what PyTorch's <c>safetensors.torch</c> reads and writes): an 8-byte little-endian
/// header length N, N bytes of UTF-8 JSON {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {string: string}}
/// padded with spaces to a multiple of 8, then the raw little-endian tensor bytes (offsets relative to the end of the header).
/// Reading never executes anything from the file: it is only JSON and bytes, validated before use.
/// </summary>
public static class Safetensors
{
    /// <summary>Largest accepted header (100 MB, the reference implementation's limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    // The safetensors dtype codes of Ember's dtypes (both ways).
    private static readonly (DType DType, string Code)[] Codes =
    [
        (DType.Float32, "F32"), (DType.Float64, "F64"), (DType.Int32, "I32"), (DType.Int64, "I64"), (DType.Bool, "BOOL"),
        (DType.Float16, "F16"), (DType.BFloat16, "BF16"), (DType.UInt8, "U8"), (DType.Int8, "I8"), (DType.Int16, "I16"),
    ];

    private static string Code(DType d) => Codes.First(c => c.DType == d).Code;

    /// <summary>
    /// Writes the tensors (any device; copied to the host) and optional string metadata to <paramref name="path"/> atomically:
    /// into a temporary file in the same directory, flushed to disk, then renamed over the target, so a crash leaves either
    /// the old file or the new one.
    /// </summary>
    /// <exception cref="ArgumentException">A name is empty or "__metadata__".</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Save(path, tensors, metadata, null);

    /// <summary>Save with a test hook called after each tensor's bytes are written (to simulate a crash mid-write).</summary>
    internal static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata, Action<int>? afterTensorWritten)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        string tmp = Path.Combine(dir, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Write(fs, tensors, metadata, afterTensorWritten);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>Writes safetensors bytes to a stream (not atomic; see <see cref="Save(string, IReadOnlyDictionary{string, Tensor}, IReadOnlyDictionary{string, string}?)"/>).</summary>
    public static void Write(Stream stream, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(stream, tensors, metadata, null);

    private static void Write(Stream stream, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata, Action<int>? hook)
    {
        var buffer = new ArrayBufferWriterStream();
        using (var w = new Utf8JsonWriter(buffer.Writer))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, t) in tensors)
            {
                if (string.IsNullOrEmpty(name) || name == "__metadata__")
                    throw new ArgumentException($"Safetensors.Save: invalid tensor name \"{name}\".");
                long bytes = t.Numel * t.DType.ElementSize();
                w.WriteStartObject(name);
                w.WriteString("dtype", Code(t.DType));
                w.WriteStartArray("shape"); foreach (var s in t.Shape) w.WriteNumberValue(s); w.WriteEndArray();
                w.WriteStartArray("data_offsets"); w.WriteNumberValue(offset); w.WriteNumberValue(offset + bytes); w.WriteEndArray();
                w.WriteEndObject();
                offset += bytes;
            }
            w.WriteEndObject();
        }
        var header = buffer.Writer.WrittenSpan.ToArray();
        int padded = (header.Length + 7) / 8 * 8;
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
        stream.Write(len);
        stream.Write(header);
        for (int i = header.Length; i < padded; i++) stream.WriteByte((byte)' ');
        int index = 0;
        foreach (var t in tensors.Values)
        {
            stream.Write(HostBytes(t));
            hook?.Invoke(index++);
        }
    }

    private sealed class ArrayBufferWriterStream
    {
        public System.Buffers.ArrayBufferWriter<byte> Writer { get; } = new();
    }

    /// <summary>The tensor's elements as little-endian bytes, row-major.</summary>
    internal static byte[] HostBytes(Tensor t)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Safetensors: big-endian hosts are not supported.");
        var c = t.Detach().Contiguous().Cpu();
        var visitor = new HostBytesVisitor(c);
        DTypeDispatch.Visit(c.DType, ref visitor);
        return visitor.Bytes;
    }

    private struct HostBytesVisitor(Tensor t) : IDTypeVisitor
    {
        public byte[] Bytes = [];

        public void Visit<T>() where T : unmanaged => Bytes = MemoryMarshal.AsBytes(t.ToArray<T>().AsSpan()).ToArray();
    }

    /// <summary>Reads every tensor of a safetensors file (CPU tensors, in file header order).</summary>
    /// <exception cref="InvalidDataException">The file is truncated, its header is not valid JSON or not the safetensors schema,
    /// a dtype is unknown, offsets overlap, leave gaps or run out of range, or a byte count does not match the shape.</exception>
    public static OrderedDictionary<string, Tensor> Load(string path) => Load(path, out _);

    /// <summary>Reads every tensor and the string metadata.</summary>
    /// <exception cref="InvalidDataException">See <see cref="Load(string)"/>.</exception>
    public static OrderedDictionary<string, Tensor> Load(string path, out Dictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = File.ReadAllBytes(path);
        return Deserialize(bytes, out metadata, path);
    }

    /// <summary>Parses safetensors bytes.</summary>
    /// <exception cref="InvalidDataException">See <see cref="Load(string)"/>.</exception>
    public static OrderedDictionary<string, Tensor> Deserialize(ReadOnlySpan<byte> bytes, out Dictionary<string, string> metadata, string source = "buffer")
    {
        InvalidDataException Bad(string msg) => new($"Safetensors: {source}: {msg}");
        if (bytes.Length < 8) throw Bad($"file is truncated: {bytes.Length} bytes, the 8-byte header length is missing.");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (n > MaxHeaderBytes) throw Bad($"header length {n} exceeds the limit of {MaxHeaderBytes} bytes.");
        if ((ulong)bytes.Length - 8 < n) throw Bad($"file is truncated: header claims {n} bytes but only {bytes.Length - 8} follow.");
        var headerBytes = bytes.Slice(8, (int)n);
        var data = bytes[(8 + (int)n)..];
        // The header must be UTF-8 (the reference implementation reads it as a Rust str); JsonDocument would accept invalid
        // bytes inside strings and fail only when a name is read.
        if (!System.Text.Unicode.Utf8.IsValid(headerBytes)) throw Bad("header is not valid UTF-8.");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(headerBytes.ToArray(), new JsonDocumentOptions { MaxDepth = 8 }); }
        catch (JsonException e) { throw Bad($"header is not valid JSON ({e.Message})."); }
        metadata = [];
        var entries = new List<(string Name, string DType, long[] Shape, long Begin, long End)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            using (doc)
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad("header must be a JSON object.");
                foreach (var prop in doc.RootElement.EnumerateObject())
                {
                    // JSON allows repeated keys; the reference implementation refuses them (which tensor would be meant?).
                    if (!names.Add(prop.Name)) throw Bad($"duplicate entry \"{prop.Name}\" in the header.");
                    if (prop.Name == "__metadata__")
                    {
                        if (prop.Value.ValueKind != JsonValueKind.Object) throw Bad("__metadata__ must be an object of strings.");
                        foreach (var m in prop.Value.EnumerateObject())
                        {
                            if (m.Value.ValueKind != JsonValueKind.String) throw Bad($"__metadata__ value of \"{m.Name}\" must be a string.");
                            if (!metadata.TryAdd(m.Name, m.Value.GetString()!)) throw Bad($"duplicate __metadata__ key \"{m.Name}\".");
                        }
                        continue;
                    }
                    var v = prop.Value;
                    if (v.ValueKind != JsonValueKind.Object
                        || !v.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String
                        || !v.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array
                        || !v.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
                        throw Bad($"entry \"{prop.Name}\" must be an object with \"dtype\" (string), \"shape\" (array) and \"data_offsets\" ([begin, end]).");
                    if (sh.GetArrayLength() > Tensor.MaxRank) throw Bad($"entry \"{prop.Name}\" has {sh.GetArrayLength()} dims; a tensor has at most {Tensor.MaxRank}.");
                    var shape = new List<long>();
                    foreach (var s in sh.EnumerateArray())
                    {
                        if (s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out long d) || d < 0) throw Bad($"entry \"{prop.Name}\" has an invalid shape.");
                        shape.Add(d);
                    }
                    if (off[0].ValueKind != JsonValueKind.Number || off[1].ValueKind != JsonValueKind.Number
                        || !off[0].TryGetInt64(out long b) || !off[1].TryGetInt64(out long e) || b < 0 || e < b)
                        throw Bad($"entry \"{prop.Name}\" has invalid data_offsets (expected two integers 0 ≤ begin ≤ end).");
                    string dtype = dt.GetString()!;
                    int es = ElementSize(dtype);
                    if (es == 0) throw Bad($"tensor \"{prop.Name}\" has unsupported dtype \"{dtype}\" (supported: F32, F64, F16, BF16, I64, I32, I16, I8, U8, BOOL).");
                    // Checked arithmetic on the header's numbers, before anything is allocated: the byte count must be exactly
                    // what the offsets give (which the tiling check below bounds by the file's length).
                    long need = -1;
                    try { need = checked(Tensor.CheckedNumel("Safetensors", [.. shape]) * es); }
                    catch (Exception ex) when (ex is OverflowException or ArgumentException) { }   // refused just below
                    if (need < 0 || need > Tensor.MaxElements)
                        throw Bad($"tensor \"{prop.Name}\" of dtype {dtype} and shape [{string.Join(", ", shape)}] is too large (its byte size overflows or exceeds {Tensor.MaxElements}).");
                    if (e - b != need)
                        throw Bad($"tensor \"{prop.Name}\" of dtype {dtype} and shape [{string.Join(", ", shape)}] needs {need} bytes, its offsets give {e - b}.");
                    entries.Add((prop.Name, dtype, shape.ToArray(), b, e));
                }
            }
        }
        catch (InvalidOperationException e)
        {
            // A JSON escape that is not valid UTF-16 (a lone surrogate such as "\ud800") fails when the string is read.
            throw Bad($"header holds an invalid string ({e.Message}).");
        }
        // Offsets must tile the data buffer exactly: sorted, no overlap, no gap, ending at its length.
        long pos = 0;
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin < pos) throw Bad($"tensor \"{e.Name}\" overlaps the previous tensor (offsets [{e.Begin}, {e.End}]).");
            if (e.Begin > pos) throw Bad($"gap in the data before tensor \"{e.Name}\" (offset {e.Begin}, expected {pos}).");
            pos = e.End;
        }
        if (pos > data.Length) throw Bad($"file is truncated or offsets are out of range: tensors need {pos} data bytes, the file has {data.Length}.");
        if (pos != data.Length) throw Bad($"the data buffer has {data.Length} bytes but the tensors cover {pos}.");
        var result = new OrderedDictionary<string, Tensor>();
        foreach (var e in entries)
            result[e.Name] = Decode(e.DType, e.Shape, data.Slice((int)e.Begin, (int)(e.End - e.Begin)));
        return result;
    }

    // Bytes per element of a dtype code; 0 for codes Ember has no dtype for (the header pass rejects them).
    private static int ElementSize(string dtype)
    {
        foreach (var (d, code) in Codes)
            if (code == dtype) return d.ElementSize();
        return 0;
    }

    // The header pass validated dtype, shape and byte count.
    private static Tensor Decode(string dtype, long[] shape, ReadOnlySpan<byte> raw) =>
        Decode(dtype, shape, raw, raw.Length / ElementSize(dtype)).Reshape(shape);

    private static Tensor Decode(string dtype, long[] shape, ReadOnlySpan<byte> raw, long numel)
    {
        shape = [numel];
        switch (dtype)
        {
            case "BOOL":
                var bools = new bool[numel];
                for (int i = 0; i < numel; i++) bools[i] = raw[i] != 0;
                return Tensor.FromArray(bools, shape);
            default:
                // Every other code is read in its own dtype (F16 as Float16, BF16 as BFloat16, as PyTorch loads them).
                var visitor = new DecodeVisitor(raw.ToArray(), shape);
                DTypeDispatch.Visit(Codes.First(c => c.Code == dtype).DType, ref visitor);
                return visitor.Result!;
        }
    }

    private struct DecodeVisitor(byte[] raw, long[] shape) : IDTypeVisitor
    {
        public Tensor? Result;

        public void Visit<T>() where T : unmanaged => Result = Tensor.FromArray(MemoryMarshal.Cast<byte, T>(raw).ToArray(), shape);
    }
}
