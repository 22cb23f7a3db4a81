using System.Buffers.Binary;
using System.IO.Compression;

namespace Ember.Data;

/// <summary>The element types of the IDX format (the third byte of the magic number).</summary>
public enum IdxType : byte
{
    /// <summary>unsigned byte (0x08), MNIST's images and labels.</summary>
    UInt8 = 0x08,
    /// <summary>signed byte (0x09).</summary>
    Int8 = 0x09,
    /// <summary>big-endian int16 (0x0B).</summary>
    Int16 = 0x0B,
    /// <summary>big-endian int32 (0x0C).</summary>
    Int32 = 0x0C,
    /// <summary>big-endian float32 (0x0D).</summary>
    Float32 = 0x0D,
    /// <summary>big-endian float64 (0x0E).</summary>
    Float64 = 0x0E,
}

/// <summary>An IDX file's header: element type and dims (e.g. UInt8 [60000, 28, 28] for MNIST's training images).</summary>
/// <param name="Type">The element type.</param>
/// <param name="Shape">The dims, outermost first.</param>
public sealed record IdxHeader(IdxType Type, int[] Shape)
{
    /// <summary>Bytes per element.</summary>
    public int ElementSize => Type switch { IdxType.UInt8 or IdxType.Int8 => 1, IdxType.Int16 => 2, IdxType.Int32 or IdxType.Float32 => 4, _ => 8 };
}

/// <summary>
/// Reads the IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/ layout): a big-endian
/// magic number 00 00 TYPE NDIMS, NDIMS big-endian int32 dims, then the elements row-major. Files ending in
/// ".gz" are decompressed on the fly.
/// </summary>
public static class IdxReader
{
    /// <summary>Reads only the header.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not IDX.</exception>
    public static IdxHeader ReadHeader(string path)
    {
        using var stream = Open(path);
        return ReadHeader(stream, path);
    }

    /// <summary>
    /// Reads the first <paramref name="limit"/> items (all when null) along dim 0 into a tensor of
    /// <paramref name="dtype"/> (values converted, not scaled: bytes stay 0..255).
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not IDX or is shorter than its header says.</exception>
    public static Tensor Read(string path, DType dtype = DType.Float32, int? limit = null)
    {
        var (header, values) = ReadValues(path, limit);
        var shape = header.Shape.Select(d => (long)d).ToArray();
        return dtype switch
        {
            DType.Float32 => Tensor.FromArray(Array.ConvertAll(values, v => (float)v), shape),
            DType.Float64 => Tensor.FromArray(values, shape),
            DType.Int32 => Tensor.FromArray(Array.ConvertAll(values, v => (int)v), shape),
            DType.Int64 => Tensor.FromArray(Array.ConvertAll(values, v => (long)v), shape),
            _ => throw new ArgumentException($"IdxReader.Read: unsupported dtype {dtype}; expected Float32, Float64, Int32 or Int64.", nameof(dtype)),
        };
    }

    /// <summary>Reads the raw bytes of a UInt8 file (first <paramref name="limit"/> items along dim 0) and its header, the shape cut to the items read.</summary>
    /// <exception cref="InvalidDataException">The file is not a UInt8 IDX file or is truncated.</exception>
    public static (IdxHeader Header, byte[] Data) ReadBytes(string path, int? limit = null)
    {
        using var stream = Open(path);
        var header = ReadHeader(stream, path);
        if (header.Type != IdxType.UInt8)
            throw new InvalidDataException($"IdxReader.ReadBytes: {path} holds {header.Type} elements, expected UInt8.");
        var shape = Cut(header, limit);
        var data = stream.ReadData(DataBytes(header, shape, path), path);
        return (header with { Shape = shape }, data);
    }

    private static (IdxHeader, double[]) ReadValues(string path, int? limit)
    {
        using var stream = Open(path);
        var header = ReadHeader(stream, path);
        if (header.Shape.Length > Tensor.MaxRank)
            throw new InvalidDataException($"IdxReader: {path} has {header.Shape.Length} dims; a tensor has at most {Tensor.MaxRank}.");
        var shape = Cut(header, limit);
        var raw = stream.ReadData(DataBytes(header, shape, path), path);
        long count = raw.Length / header.ElementSize;
        var values = new double[count];
        var span = raw.AsSpan();
        for (long i = 0; i < count; i++)
        {
            int o = (int)(i * header.ElementSize);
            values[i] = header.Type switch
            {
                IdxType.UInt8 => raw[o],
                IdxType.Int8 => (sbyte)raw[o],
                IdxType.Int16 => BinaryPrimitives.ReadInt16BigEndian(span[o..]),
                IdxType.Int32 => BinaryPrimitives.ReadInt32BigEndian(span[o..]),
                IdxType.Float32 => BinaryPrimitives.ReadSingleBigEndian(span[o..]),
                _ => BinaryPrimitives.ReadDoubleBigEndian(span[o..]),
            };
        }
        return (header with { Shape = shape }, values);
    }

    private static int[] Cut(IdxHeader header, int? limit)
    {
        var shape = (int[])header.Shape.Clone();
        if (limit is { } l && shape.Length > 0)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(l, nameof(limit));
            shape[0] = Math.Min(shape[0], l);
        }
        return shape;
    }

    /// <summary>Writes a tensor as an IDX file of <paramref name="type"/> (gzip-compressed when the path ends in ".gz"); used for tests and exports.</summary>
    /// <exception cref="ArgumentException">The tensor is 0-dim.</exception>
    public static void Write(string path, Tensor tensor, IdxType type = IdxType.UInt8)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.Dim == 0) throw new ArgumentException("IdxReader.Write: expected a tensor with at least one dim.", nameof(tensor));
        var values = tensor.Contiguous().To(DType.Float64).ToArray<double>();
        using var file = File.Create(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionLevel.Fastest) : file;
        var header = new IdxHeader(type, []);
        Span<byte> b8 = stackalloc byte[8];
        stream.Write([0, 0, (byte)type, (byte)tensor.Dim]);
        foreach (var d in tensor.Shape.ToArray()) { BinaryPrimitives.WriteInt32BigEndian(b8, checked((int)d)); stream.Write(b8[..4]); }
        int size = header.ElementSize;
        foreach (var v in values)
        {
            switch (type)
            {
                case IdxType.UInt8: b8[0] = (byte)v; break;
                case IdxType.Int8: b8[0] = (byte)(sbyte)v; break;
                case IdxType.Int16: BinaryPrimitives.WriteInt16BigEndian(b8, (short)v); break;
                case IdxType.Int32: BinaryPrimitives.WriteInt32BigEndian(b8, (int)v); break;
                case IdxType.Float32: BinaryPrimitives.WriteSingleBigEndian(b8, (float)v); break;
                default: BinaryPrimitives.WriteDoubleBigEndian(b8, v); break;
            }
            stream.Write(b8[..size]);
        }
    }

    private static Stream Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"IdxReader: no file at {path}.", path);
        Stream s = new BufferedStream(File.OpenRead(path), 1 << 16);
        return path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new BufferedStream(new GZipStream(s, CompressionMode.Decompress), 1 << 16) : s;
    }

    private static IdxHeader ReadHeader(Stream stream, string path)
    {
        Span<byte> magic = stackalloc byte[4];
        if (stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) < 4 || magic[0] != 0 || magic[1] != 0 || !Enum.IsDefined((IdxType)magic[2]) || magic[3] == 0)
            throw new InvalidDataException($"IdxReader: {path} is not an IDX file (bad magic number {Convert.ToHexString(magic)}).");
        var shape = new int[magic[3]];
        Span<byte> dim = stackalloc byte[4];
        for (int i = 0; i < shape.Length; i++)
        {
            if (stream.ReadAtLeast(dim, 4, throwOnEndOfStream: false) < 4)
                throw new InvalidDataException($"IdxReader: {path} ends inside its header.");
            shape[i] = BinaryPrimitives.ReadInt32BigEndian(dim);
            if (shape[i] < 0) throw new InvalidDataException($"IdxReader: {path} has a negative dim {shape[i]}.");
        }
        return new IdxHeader((IdxType)magic[2], shape);
    }

    // The data size the (cut) header claims, with checked arithmetic, bounded by what one array can hold. The product of
    // the non-zero dims must fit too (a tensor's strides are such products), as Tensor's shape checks require.
    private static long DataBytes(IdxHeader header, int[] shape, string path)
    {
        long bytes = header.ElementSize;
        bool empty = false;
        foreach (var d in shape)
        {
            if (d == 0) { empty = true; continue; }
            if (bytes > Tensor.MaxElements / d)
                throw new InvalidDataException($"IdxReader: {path}: header [{string.Join(", ", header.Shape)}] of {header.Type} claims more data than one tensor can hold (at most {Tensor.MaxElements} elements).");
            bytes *= d;
        }
        return empty ? 0 : bytes;
    }

    // Reads exactly `bytes` bytes. A plain file's length is checked before allocating; a compressed stream's length is
    // unknown, so it is read in chunks that grow only as data arrives: a header alone can never make the reader allocate
    // more than a small multiple of the data actually present.
    private static byte[] ReadData(this Stream stream, long bytes, string path)
    {
        InvalidDataException Short(long got) => new($"IdxReader: {path} is shorter than its header says ({bytes} bytes of data expected, {got} present).");
        if (stream is BufferedStream { UnderlyingStream: FileStream fs })
        {
            long left = fs.Length - stream.Position;
            if (left < bytes) throw Short(left);
            var all = new byte[bytes];
            if (stream.ReadAtLeast(all, all.Length, throwOnEndOfStream: false) < all.Length) throw Short(-1);
            return all;
        }
        const int Chunk = 1 << 20;
        var buffer = new byte[Math.Min(bytes, Chunk)];
        long filled = 0;
        while (filled < bytes)
        {
            if (filled == buffer.Length) Array.Resize(ref buffer, (int)Math.Min(bytes, 2L * buffer.Length));
            int n = stream.Read(buffer, (int)filled, buffer.Length - (int)filled);
            if (n == 0) throw Short(filled);
            filled += n;
        }
        return buffer;
    }
}
