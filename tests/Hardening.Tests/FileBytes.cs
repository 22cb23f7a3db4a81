using System.Buffers.Binary;
using System.Text;

namespace Ember.Hardening.Tests;

/// <summary>Builders of raw file bytes for the reader tests and the fuzzers.</summary>
internal static class FileBytes
{
    /// <summary>A safetensors file: 8-byte little-endian header length, the header text, then <paramref name="dataBytes"/> zero bytes.</summary>
    public static byte[] Safetensors(string header, int dataBytes)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var b = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)h.Length);
        h.CopyTo(b, 8);
        return b;
    }

    /// <summary>An IDX header (magic 00 00 type ndims, big-endian int32 dims) followed by <paramref name="dataBytes"/> zero bytes.</summary>
    public static byte[] Idx(byte type, int[] dims, int dataBytes = 0)
    {
        var b = new byte[4 + 4 * dims.Length + dataBytes];
        b[2] = type; b[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4 + 4 * i), dims[i]);
        return b;
    }

    /// <summary>A fresh temporary directory, deleted by <see cref="IDisposable.Dispose"/>.</summary>
    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ember-hardening-" + Guid.NewGuid().ToString("N"));
        public TempDir() => Directory.CreateDirectory(Path);
        public string File(string name, byte[] bytes)
        {
            var p = System.IO.Path.Combine(Path, name);
            System.IO.File.WriteAllBytes(p, bytes);
            return p;
        }
        public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
    }
}
