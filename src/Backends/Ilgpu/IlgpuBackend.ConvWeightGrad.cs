using ILGPU;
using ILGPU.Runtime;
using Ember.Ilgpu.Ops;

namespace Ember.Ilgpu;

public sealed partial class IlgpuBackend
{
    /// <summary>
    /// Environment variable: <c>0</c> turns off the two-launch weight gradient of convolutions with few outputs
    /// (<see cref="ConvWeightGradKernels"/>), so the im2col + GEMM path runs instead (A/B timings with one build).
    /// </summary>
    public const string ConvDirectWeightGradVariable = "EMBER_ILGPU_CONV_DIRECT_WGRAD";

    // Settable (internal) so that tests compare the two paths in one process.
    internal static bool ConvDirectWeightGrad = Environment.GetEnvironmentVariable(ConvDirectWeightGradVariable) != "0";

    /// <summary>
    /// The weight (and bias) gradient of a one-group convolution with O·(C·kH·kW + 1) ≤
    /// <see cref="ConvWeightGradKernels.MaxOutputs"/> in two launches straight from x and grad (both made contiguous),
    /// float32 or 16-bit storage summed in float32. False (nothing launched) when the shape does not fit the kernel.
    /// The caller has handled empty batches and outputs and made x contiguous.
    /// </summary>
    private bool TryConvWeightGradDirect(Tensor grad, Tensor x, ConvGeometry geometry, Tensor gradWeight, Tensor? gradBias)
    {
        long o = gradWeight.ShapeSpan[0], rows = (long)geometry.Channels * geometry.KernelH * geometry.KernelW;
        int tile = ConvDirectWeightGrad ? ConvWeightGradKernels.Tile(o, rows) : 0;
        if (tile == 0 || gradBias is { IsContiguous: false }) return false;
        grad = Contig(grad);
        var d = Dev(x);
        long n = x.ShapeSpan[0], positions = n * geometry.OutH * geometry.OutW;
        // About four groups per multiprocessor (each holds ~42 KB of shared memory), each over whole tiles.
        long tiles = Math.Max(1, (positions + tile - 1) / tile);
        int parts = (int)Math.Min(tiles, 4L * Math.Max(1, d.Accelerator.NumMultiprocessors));
        int outputs = (int)(o * (rows + 1)), groupSize = RowGroupSize(d);
        // The finish: a warp per gradient, eight warps per group on a GPU, one on the CPU accelerator.
        int warp = d.Accelerator.WarpSize, warps = d.Accelerator.AcceleratorType == AcceleratorType.CPU ? 1 : Math.Max(1, 256 / warp);
        var partials = Tensor.Empty([(long)parts * outputs], DType.Float32, x.Device);
        var geo = ConvGeo(n, geometry);
        if (x.DType == DType.Float32) Go<float, Plain<float>>();
        else if (x.DType == DType.Float16) Go<ushort, Narrowed<F16>>();
        else Go<ushort, Narrowed<BF16>>();
        return true;

        void Go<TS, S>() where TS : unmanaged where S : struct, IElementStorage<TS, float>
        {
            LoadGroupedKernel<ArrayView<TS>, ArrayView<TS>, ArrayView<float>, Geo, long, long, int, int, int>(d, ConvWeightGradKernels.Partial<TS, S>)(
                new KernelConfig(new Index1D(parts), new Index1D(groupSize)), ViewOf<TS>(x), ViewOf<TS>(grad), ViewAt<float>(partials), geo,
                x.StorageOffset, grad.StorageOffset, (int)o, tile, parts);
            LoadGroupedKernel<ArrayView<float>, ArrayView<TS>, ArrayView<TS>, int, int, int, int>(d, ConvWeightGradKernels.Finish<TS, S>)(
                new KernelConfig(new Index1D((outputs + warps - 1) / warps), new Index1D(warps * warp)), ViewAt<float>(partials),
                ViewAt<TS>(gradWeight), gradBias is null ? ViewAt<TS>(gradWeight) : ViewAt<TS>(gradBias),
                (int)rows, outputs, parts, gradBias is null ? 0 : 1);
        }
    }
}
