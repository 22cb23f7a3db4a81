using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;

namespace Ember.Serialization;

/// <summary>
/// The two containers <c>torch.save</c> writes, read into an object tree whose tensors are still <see cref="TorchTensorRecord"/>s,
/// plus a function that reads one storage's bytes.
/// <list type="bullet">
/// <item>Zip (PyTorch 1.6 and later): <c>{name}/data.pkl</c> (the pickle, whose persistent ids are
/// <c>('storage', torch.FloatStorage, key, location, numel)</c>), <c>{name}/data/{key}</c> (raw little-endian elements) and
/// <c>{name}/version</c>; PyTorch 2 adds <c>{name}/byteorder</c>.</item>
/// <item>Legacy (<c>_use_new_zipfile_serialization=False</c>): five pickles in a row (magic number, protocol version 1001,
/// system info, the object with persistent ids <c>('storage', type, key, location, numel, view_metadata)</c>, the sorted list of
/// storage keys), then for each key an int64 element count and the raw elements.</item>
/// </list>
/// </summary>
internal static class PyTorchArchive
{
    private static readonly BigInteger LegacyMagic = BigInteger.Parse("119547037146038801333356"); // 0x1950a86a20f9469cfc6c
    private const long LegacyProtocol = 1001;
    // Deflate cannot expand data more than ~1032:1; a larger claimed ratio is a forged header (a "zip bomb").
    private const long MaxDeflateRatio = 1032;

    /// <summary>The unpickled object, a reader of storage bytes, and what to dispose when done (the zip archive).</summary>
    public sealed record Contents(object? Root, Func<TorchStorageRef, byte[]> ReadStorage, IDisposable? Owner = null);

    /// <summary>Reads the container's pickle; storage bytes are read later through <see cref="Contents.ReadStorage"/> (the stream must stay open).</summary>
    public static Contents Read(Stream stream, string source)
    {
        if (!stream.CanSeek || !stream.CanRead) throw new ArgumentException("PyTorchCheckpoint: the stream must be readable and seekable.", nameof(stream));
        Span<byte> head = stackalloc byte[4];
        int n = stream.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        stream.Position = 0;
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] is 3 or 5) return ReadZip(stream, source);
        if (n >= 2 && head[0] == 0x80) return ReadLegacy(stream, source);
        if (stream.Length >= 262 && IsTar(stream))
            throw new NotSupportedException($"PyTorchCheckpoint: {source}: a tar archive (the format of PyTorch before 0.4) is not supported; " +
                                            "load it in PyTorch and save it again with torch.save.");
        throw new InvalidDataException($"PyTorchCheckpoint: {source}: not a torch.save file: it starts with bytes " +
                                       $"{Convert.ToHexString(head[..n])}, expected a zip archive (\"PK\", PyTorch 1.6 and later) or a pickle (0x80, the legacy format).");
    }

    private static bool IsTar(Stream s)
    {
        var magic = new byte[5];
        s.Position = 257;
        s.ReadExactly(magic);
        s.Position = 0;
        return magic.AsSpan().SequenceEqual("ustar"u8);
    }

    private static InvalidDataException Bad(string source, string msg) => new($"PyTorchCheckpoint: {source}: {msg}");

    // ---- zip ------------------------------------------------------------------------------------------------

    private static Contents ReadZip(Stream stream, string source)
    {
        var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        try { return ReadZip(zip, stream, source); }
        catch { zip.Dispose(); throw; }
    }

    private static Contents ReadZip(ZipArchive zip, Stream stream, string source)
    {
        var pickles = zip.Entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal)
                                             && e.FullName.IndexOf('/') == e.FullName.Length - "/data.pkl".Length).ToList();
        if (pickles.Count == 0)
        {
            bool script = zip.Entries.Any(e => e.FullName.EndsWith("/constants.pkl", StringComparison.Ordinal));
            throw Bad(source, script
                ? "a TorchScript archive (torch.jit.save), not a torch.save file; save the model's state_dict() with torch.save instead."
                : "the zip archive has no {name}/data.pkl record, so it is not a torch.save file.");
        }
        if (pickles.Count > 1) throw Bad(source, $"the zip archive has {pickles.Count} data.pkl records at its top level; torch.save writes one.");
        string prefix = pickles[0].FullName[..^"data.pkl".Length];
        if (zip.GetEntry(prefix + "byteorder") is { } order)
        {
            var text = System.Text.Encoding.ASCII.GetString(ReadEntry(order, source, stream.Length, maxLength: 16));
            if (text != "little")
                throw new NotSupportedException($"PyTorchCheckpoint: {source}: the file was written on a {text}-endian machine; only little-endian files are supported.");
        }
        var pkl = ReadEntry(pickles[0], source, stream.Length, maxLength: null);
        var storages = new Dictionary<string, TorchStorageRef>();
        object? root;
        using (var ms = new MemoryStream(pkl, writable: false))
            root = new RestrictedUnpickler(ms, source + ": " + pickles[0].FullName, (pid, bad) => Storage(pid, storages, 5, source, bad)).Load();
        return new Contents(root, st =>
        {
            var e = zip.GetEntry(prefix + "data/" + st.Key)
                    ?? throw Bad(source, $"storage '{st.Key}' ({st.Type.TorchDType}, {st.Numel} elements) has no record {prefix}data/{st.Key} in the archive.");
            return ReadEntry(e, source, stream.Length, exactLength: st.ByteLength);
        }, zip);
    }

    /// <summary>Reads a zip record after checking its declared sizes against the file and the expected length.</summary>
    private static byte[] ReadEntry(ZipArchiveEntry e, string source, long fileLength, long? maxLength = null, long? exactLength = null)
    {
        if (exactLength is { } x && e.Length != x)
            throw Bad(source, $"record {e.FullName} has {e.Length} bytes; its storage needs {x}.");
        if (maxLength is { } m && e.Length > m) throw Bad(source, $"record {e.FullName} has {e.Length} bytes, more than the {m} expected.");
        if (e.CompressedLength > fileLength || (e.Length > e.CompressedLength && e.Length / MaxDeflateRatio > e.CompressedLength))
            throw Bad(source, $"record {e.FullName} claims {e.Length} bytes from {e.CompressedLength} compressed bytes in a file of {fileLength}; the zip header is corrupt.");
        if (e.Length > Array.MaxLength)
            throw new NotSupportedException($"PyTorchCheckpoint: {source}: record {e.FullName} has {e.Length} bytes, more than one .NET array holds ({Array.MaxLength}).");
        var buf = new byte[e.Length];
        using var s = e.Open();
        try { s.ReadExactly(buf); }
        catch (EndOfStreamException) { throw Bad(source, $"record {e.FullName} is truncated."); }
        return buf;
    }

    // ---- legacy ------------------------------------------------------------------------------------------------

    private static Contents ReadLegacy(Stream stream, string source)
    {
        object NoPid(object? pid, Func<string, Exception> bad) => throw bad("a persistent id in a header pickle");
        RestrictedUnpickler Pickle(string what, Func<object?, Func<string, Exception>, object> pid) => new(stream, $"{source}: {what} pickle", pid);

        if (Pickle("magic number", NoPid).Load() is not BigInteger magic || magic != LegacyMagic)
            throw Bad(source, "the legacy format starts with PyTorch's magic number, which this file lacks.");
        if (Pickle("protocol version", NoPid).Load() is not long version || version != LegacyProtocol)
            throw Bad(source, $"the legacy protocol version must be {LegacyProtocol}.");
        if (Pickle("system info", NoPid).Load() is not OrderedDictionary<object, object?> sys)
            throw Bad(source, "the legacy system-info record must be a dict.");
        if (sys.TryGetValue("little_endian", out var le) && le is false)
            throw new NotSupportedException($"PyTorchCheckpoint: {source}: the file was written on a big-endian machine; only little-endian files are supported.");

        var storages = new Dictionary<string, TorchStorageRef>();
        var root = Pickle("object", (pid, bad) => Storage(pid, storages, 6, source, bad)).Load();
        if (Pickle("storage keys", NoPid).Load() is not List<object?> keys || keys.Any(k => k is not string))
            throw Bad(source, "the legacy storage-key record must be a list of strings.");

        // Each storage: int64 element count, then its bytes. Record where each one's bytes lie; read them only when needed.
        var offsets = new Dictionary<string, long>();
        Span<byte> count = stackalloc byte[8];
        foreach (string key in keys.Cast<string>())
        {
            if (!storages.TryGetValue(key, out var st)) throw Bad(source, $"storage '{key}' is listed but no tensor uses it.");
            if (offsets.ContainsKey(key)) throw Bad(source, $"storage '{key}' is listed twice.");
            if (stream.ReadAtLeast(count, 8, throwOnEndOfStream: false) < 8) throw Bad(source, $"the file ends before storage '{key}'.");
            long numel = BinaryPrimitives.ReadInt64LittleEndian(count);
            if (numel != st.Numel)
                throw Bad(source, $"storage '{key}' holds {numel} elements in the data section but {st.Numel} in its persistent id.");
            if (st.ByteLength > stream.Length - stream.Position)
                throw Bad(source, $"storage '{key}' needs {st.ByteLength} bytes but only {stream.Length - stream.Position} are left.");
            offsets[key] = stream.Position;
            stream.Position += st.ByteLength;
        }
        var unlisted = storages.Keys.Where(k => !offsets.ContainsKey(k)).ToList();
        if (unlisted.Count > 0) throw Bad(source, $"storage(s) {string.Join(", ", unlisted)} are used but have no data.");
        return new Contents(root, st =>
        {
            if (st.ByteLength > Array.MaxLength)
                throw new NotSupportedException($"PyTorchCheckpoint: {source}: storage '{st.Key}' has {st.ByteLength} bytes, more than one .NET array holds.");
            var buf = new byte[st.ByteLength];
            stream.Position = offsets[st.Key];
            stream.ReadExactly(buf);
            return buf;
        });
    }

    // ---- persistent ids ------------------------------------------------------------------------------------------

    /// <summary>Validates a storage persistent id (5 fields in a zip file, 6 in a legacy one) and returns its storage, one per key.</summary>
    private static TorchStorageRef Storage(object? pid, Dictionary<string, TorchStorageRef> storages, int fields, string source, Func<string, Exception> bad)
    {
        if (pid is not object?[] t || t.Length != fields)
            throw bad($"a persistent id must be a {fields}-tuple ('storage', storage type, key, location, numel{(fields == 6 ? ", view" : "")})");
        if (t[0] is not "storage" && !(t[0] is byte[] b && b.AsSpan().SequenceEqual("storage"u8)))
            throw new UnsafePickleException($"PyTorchCheckpoint: {source}: refused a persistent id of kind '{t[0]}': only storages may be loaded " +
                                            "(a 'module' id would carry source code).", null);
        if (t[1] is not PickleGlobal g || TorchStorageType.Of(g) is not { } type)
            throw bad($"persistent id names {t[1]} where a storage type (torch.FloatStorage, …) was expected");
        if (t[2] is not string key || key.Length is 0 or > 64 || !key.All(char.IsAsciiLetterOrDigit))
            throw bad("a storage key must be 1 to 64 ASCII letters or digits");
        if (t[3] is not string) throw bad($"storage '{key}': the location must be a string");
        if (t[4] is not long numel || numel < 0) throw bad($"storage '{key}': the element count must be a non-negative int");
        if (fields == 6 && t[5] is not null)
            throw new NotSupportedException($"PyTorchCheckpoint: {source}: storage '{key}' is a view of another storage (written by PyTorch before 1.0); not supported.");
        var st = new TorchStorageRef(key, type, numel);
        try { _ = st.ByteLength; }
        catch (OverflowException) { throw bad($"storage '{key}': {numel} elements of {type.ElementSize} bytes overflow a 64-bit size"); }
        if (storages.TryGetValue(key, out var seen))
            return seen == st ? seen : throw bad($"storage '{key}' is named as {seen.Type.ClassName} of {seen.Numel} and as {type.ClassName} of {numel} elements");
        storages[key] = st;
        return st;
    }
}
