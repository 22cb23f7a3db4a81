using ILGPU;
using ILGPU.Runtime;

namespace Ember.Ilgpu;

/// <summary>The host side of operand packing and split-K for <see cref="IlgpuMmaGemm"/>.</summary>
internal static class MmaPacking
{
    /// <summary>Split-K slabs are at least this many of the kernel's K slabs (prologue and partial-product traffic amortized).</summary>
    public const int MinSlabsPerSplit = 4;
    /// <summary>At most this many split-K slabs (and the workspace at most <see cref="IlgpuGemm.WorkspaceFloats"/>): a one-tile product with a long K gets one slab per multiprocessor.</summary>
    public const int MaxSplits = 256;

    /// <summary>
    /// Queues a copy of a (batched) Rows×Depth operand into a new scratch block, K-major with rows padded to 16 bytes
    /// (<paramref name="perChunk"/> elements): a tiled transpose when <paramref name="rMajor"/> (element (r, k) at
    /// <c>k · ld + r</c>), a row copy otherwise. A broadcast operand (stride 0) is packed once. Returns the block (the
    /// caller disposes it once the GEMM is queued) and the packed view, leading dimension and stride. With
    /// <paramref name="roundTf32"/> (32-bit elements only) each float32 is rounded to TF32 on the way.
    /// </summary>
    public static DeviceBlock Pack(IlgpuDevice device, ArrayView<ushort> x, bool rMajor, int rows, int depth, int ld, long stride,
        int batch, int perChunk, out ArrayView<ushort> packed, out int ldOut, out long strideOut, bool roundTf32 = false)
    {
        ldOut = MmaPackKernels.RoundUp(depth, perChunk);
        int entries = stride == 0 ? 1 : batch;
        strideOut = stride == 0 ? 0 : (long)rows * ldOut;
        bool wide = perChunk == 4;           // 32-bit elements (TF32), else 16-bit
        long elements = (long)rows * ldOut * entries;
        long halves = wide ? 2 * elements : elements;
        var block = device.Allocator.Allocate(2 * halves);
        packed = block.View<ushort>(halves);
        int tilesK = (depth + MmaPackKernels.Tile - 1) / MmaPackKernels.Tile;
        long tiles = (long)tilesK * ((rows + MmaPackKernels.Tile - 1) / MmaPackKernels.Tile);
        var p = new PackParams
        {
            Rows = rows, Depth = depth, Ld = ld, LdOut = ldOut, TilesK = tilesK,
            SrcStride = stride, DstStride = strideOut,
        };
        var config = new KernelConfig(new Index3D(checked((int)tiles), 1, entries), new Index3D(MmaPackKernels.Threads, 1, 1));
        var kernels = device.Kernels;
        try
        {
            if (!wide) Run<ushort, PackCopy<ushort>>(x, packed);
            else if (roundTf32) Run<uint, PackTf32>(x.Cast<uint>(), packed.Cast<uint>());
            else Run<uint, PackCopy<uint>>(x.Cast<uint>(), packed.Cast<uint>());
        }
        catch
        {
            block.Dispose();
            throw;
        }
        return block;

        void Run<T, TR>(ArrayView<T> src, ArrayView<T> dst) where T : unmanaged where TR : struct, IPackTransform<T>
        {
            var launch = rMajor
                ? kernels.Grouped<PackParams, ArrayView<T>, ArrayView<T>>(MmaPackKernels.Pack<T, RMajorLayout, TR>)
                : kernels.Grouped<PackParams, ArrayView<T>, ArrayView<T>>(MmaPackKernels.Pack<T, KMajorLayout, TR>);
            launch(config, p, src, dst);
        }
    }

    /// <summary>
    /// Elements of K per split-K slab (a multiple of <paramref name="slabK"/>, the kernel's K slab), or 0 for no split.
    /// Automatic (<paramref name="requested"/> 0): only when C's 128×128 tiles fill at most half of the
    /// <paramref name="multiprocessors"/> and K holds at least 2 · <see cref="MinSlabsPerSplit"/> kernel slabs; then
    /// about one wave of groups, each slab at least <see cref="MinSlabsPerSplit"/> kernel slabs long.
    /// </summary>
    public static int SplitChunk(int m, int n, int k, int multiprocessors, int slabK, int requested)
    {
        if (requested == 1 || k == 0) return 0;
        long target;
        if (requested > 1) target = requested;
        else
        {
            long tiles = (long)((m + MmaKernels.BM - 1) / MmaKernels.BM) * ((n + MmaKernels.BN - 1) / MmaKernels.BN);
            if (tiles * 2 > multiprocessors || k < 2 * MinSlabsPerSplit * slabK) return 0;
            target = multiprocessors / tiles;
        }
        target = Math.Min(target, requested > 1 ? MaxSplits : Math.Min(MaxSplits, IlgpuGemm.WorkspaceSlabs(m, n)));
        int chunk = MmaPackKernels.RoundUp((int)((k + target - 1) / target), slabK);
        if (requested == 0) chunk = Math.Max(chunk, MinSlabsPerSplit * slabK);
        // Slabs of `chunk` cover K in ceil(k / chunk) pieces; one piece is no split.
        return (k + chunk - 1) / chunk > 1 ? chunk : 0;
    }
}
