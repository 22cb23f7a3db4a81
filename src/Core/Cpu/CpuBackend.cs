using System.Runtime.InteropServices;

namespace Ember.Cpu;

/// <summary>
/// The CPU backend: managed arrays, SIMD loops (TensorPrimitives where it covers the contiguous
/// case, strided rows gathered into buffers otherwise), multithreaded over rows for large tensors.
/// Split by kernel family over partial files.
/// </summary>
public sealed partial class CpuBackend : IBackend
{
    /// <summary>The single instance.</summary>
    public static CpuBackend Instance { get; } = new();

    private CpuBackend() { }

    /// <inheritdoc/>
    public string Name => "cpu";

    /// <inheritdoc/>
    public bool Supports(Device device) => device.Type == DeviceType.Cpu;

    /// <inheritdoc/>
    public IReadOnlyList<Device> Devices { get; } = [Device.Cpu];

    /// <inheritdoc/>
    public Storage Allocate(Device device, DType dtype, long length) => new CpuStorage(CpuProfiler.Current, dtype, length);

    /// <inheritdoc/>
    public void CopyFromHost(ReadOnlySpan<byte> source, Storage destination, long elementOffset)
    {
        var st = (CpuStorage)destination;
        int es = st.DType.ElementSize();
        var bytes = MemoryMarshal.AsBytes(ArraySpan(st));
        source.CopyTo(bytes.Slice(checked((int)(elementOffset * es))));
    }

    /// <inheritdoc/>
    public void CopyToHost(Storage source, long elementOffset, Span<byte> destination)
    {
        var st = (CpuStorage)source;
        int es = st.DType.ElementSize();
        var bytes = MemoryMarshal.AsBytes(ArraySpan(st));
        bytes.Slice(checked((int)(elementOffset * es)), destination.Length).CopyTo(destination);
    }

    /// <inheritdoc/>
    public void Synchronize(Device device) { }

    // The storage's array as bytes, whatever its element type.
    private static Span<byte> ArraySpan(CpuStorage st) =>
        MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(st.Data), checked((int)st.ByteLength));

    /// <summary>The managed array behind a CPU tensor.</summary>
    /// <exception cref="ObjectDisposedException">The tensor's storage was disposed (its array may already hold another tensor).</exception>
    internal static T[] Data<T>(Tensor t) where T : unmanaged
    {
        var st = (CpuStorage)t.storage;
        if (st.IsDisposed)
            throw new ObjectDisposedException(nameof(Tensor), $"A {t.DType} tensor of shape {t.Shape} was used after its storage was disposed (Dispose or the end of a Tensor.Scope).");
        return st.Get<T>();
    }

    // ---- copy and fill ---------------------------------------------------------------------------

    /// <inheritdoc/>
    public void Copy(Tensor source, Tensor destination)
    {
        if (source.DType == destination.DType) DTypeDispatch.Visit(source.DType, new CopySameVisitor(source, destination));
        else DTypeDispatch.Visit(source.DType, new ConvertFromVisitor(source, destination));
    }

    private readonly struct CopySameVisitor(Tensor source, Tensor destination) : IDTypeVisitor
    {
        public void Visit<T>() where T : unmanaged => CopySame<T>(source, destination);
    }

    // Mixed dtypes: the source's element type, then the destination's, then one typed loop (ElementConvert's rules).
    private readonly struct ConvertFromVisitor(Tensor source, Tensor destination) : IDTypeVisitor
    {
        public void Visit<TS>() where TS : unmanaged => DTypeDispatch.Visit(destination.DType, new ConvertToVisitor<TS>(source, destination));
    }

    private readonly struct ConvertToVisitor<TS>(Tensor source, Tensor destination) : IDTypeVisitor where TS : unmanaged
    {
        public void Visit<TD>() where TD : unmanaged => Convert<TS, TD>(source, destination);
    }

    private static void Convert<TS, TD>(Tensor source, Tensor destination) where TS : unmanaged where TD : unmanaged
    {
        var sd = Data<TS>(source); var dd = Data<TD>(destination);
        var layout = new StridedLayout(destination.shape, source, destination);
        layout.ForRows((r0, r1) =>
        {
            long si = layout.Inner(0), di = layout.Inner(1);
            for (long r = r0; r < r1; r++)
            {
                long so = layout.RowOffset(0, r), dof = layout.RowOffset(1, r);
                if (si == 1 && di == 1 && ConvertRow(sd.AsSpan((int)so, layout.RowLength), dd.AsSpan((int)dof, layout.RowLength))) continue;
                for (int i = 0; i < layout.RowLength; i++)
                    dd[dof + i * di] = ElementConvert.Convert<TS, TD>(sd[so + i * si]);
            }
        });
    }

    // Contiguous float32 ↔ Float16/BFloat16 rows through the vectorized conversions of NarrowConvert (the same
    // round-to-nearest-even as the scalar casts); false for every other pair, which the scalar loop converts.
    private static bool ConvertRow<TS, TD>(Span<TS> s, Span<TD> d) where TS : unmanaged where TD : unmanaged
    {
        if (typeof(TS) == typeof(float) && (typeof(TD) == typeof(Half) || typeof(TD) == typeof(BFloat16)))
            NarrowConvert.Narrow(MemoryMarshal.Cast<TS, float>(s), d);
        else if ((typeof(TS) == typeof(Half) || typeof(TS) == typeof(BFloat16)) && typeof(TD) == typeof(float))
            NarrowConvert.Widen<TS>(s, MemoryMarshal.Cast<TD, float>(d));
        else return false;
        return true;
    }

    private static void CopySame<T>(Tensor src, Tensor dst) where T : unmanaged
    {
        var s = Data<T>(src); var d = Data<T>(dst);
        var layout = new StridedLayout(dst.shape, src, dst);
        if (layout.Shape.Length >= 2 && layout.Inner(0) > 1 && layout.Rows * layout.RowLength >= 1024)
        {
            CopyTiled(s, d, layout);
            return;
        }
        layout.ForRows((r0, r1) =>
        {
            long si = layout.Inner(0), di = layout.Inner(1);
            int n = layout.RowLength;
            for (long r = r0; r < r1; r++)
            {
                long so = layout.RowOffset(0, r), dof = layout.RowOffset(1, r);
                if (si == 1 && di == 1) s.AsSpan((int)so, n).CopyTo(d.AsSpan((int)dof, n));
                else if (si == 0 && di == 1) d.AsSpan((int)dof, n).Fill(s[so]);   // a broadcast (expanded) source
                else for (int i = 0; i < n; i++) d[dof + i * di] = s[so + i * si];
            }
        });
    }

    /// <inheritdoc/>
    public void Fill(Tensor destination, double value) => DTypeDispatch.Visit(destination.DType, new FillVisitor(destination, value));

    private readonly struct FillVisitor(Tensor destination, double value) : IDTypeVisitor
    {
        public void Visit<T>() where T : unmanaged => FillTyped(destination, ElementConvert.FromDouble<T>(value));
    }

    private static void FillTyped<T>(Tensor dst, T value) where T : unmanaged
    {
        var d = Data<T>(dst);
        var layout = new StridedLayout(dst.shape, dst);
        layout.ForRows((r0, r1) =>
        {
            long di = layout.Inner(0);
            for (long r = r0; r < r1; r++)
            {
                long o = layout.RowOffset(0, r);
                if (di == 1) d.AsSpan((int)o, layout.RowLength).Fill(value);
                else for (int i = 0; i < layout.RowLength; i++) d[o + i * di] = value;
            }
        });
    }

    // Strided source rows (a transpose, a permuted view): copy the last two coalesced dims in T×T tiles so
    // both the reads and the writes stay within a few cache lines; tiles run in parallel.
    private static void CopyTiled<T>(T[] s, T[] d, StridedLayout layout) where T : unmanaged
    {
        const int Tile = 32;
        long rowsPerBlock = layout.Shape[^2];
        int cols = layout.RowLength;
        long outer = layout.Rows / rowsPerBlock;
        long sr = layout.Strides[0][^2], sc = layout.Inner(0), dr = layout.Strides[1][^2], dc = layout.Inner(1);
        long rowTiles = (rowsPerBlock + Tile - 1) / Tile;
        long tasks = outer * rowTiles;
        void Body(long t0, long t1)
        {
            for (long t = t0; t < t1; t++)
            {
                long o = t / rowTiles, i0 = (t % rowTiles) * Tile;
                long sBase = layout.RowOffset(0, o * rowsPerBlock), dBase = layout.RowOffset(1, o * rowsPerBlock);
                long i1 = Math.Min(i0 + Tile, rowsPerBlock);
                for (int j0 = 0; j0 < cols; j0 += Tile)
                {
                    int j1 = Math.Min(j0 + Tile, cols);
                    for (long i = i0; i < i1; i++)
                    {
                        long so = sBase + i * sr, dof = dBase + i * dr;
                        for (int j = j0; j < j1; j++) d[dof + j * dc] = s[so + j * sc];
                    }
                }
            }
        }
        if (tasks < 2 || layout.Rows * cols < 65536) { Body(0, tasks); return; }
        CpuParallel.For(tasks, layout.Rows * cols / tasks, (t0, n) => Body(t0, t0 + n));
    }
}
