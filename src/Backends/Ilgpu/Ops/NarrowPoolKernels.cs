using ILGPU;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// Max pooling of Float16/BFloat16 storage in one launch: <see cref="ConvPoolKernels.MaxPool{T, R}"/>'s window scan on
/// the exact float32 values of the 16-bit elements, so the maximum and its index are those of the float32 kernel
/// between two conversions (the former path), and the result is rounded back exactly; its backward for windows that do
/// not overlap (a zero fill and one launch, no conversions).
/// </summary>
internal static class NarrowPoolKernels
{
    /// <summary>Thread i handles output i: the maximum of its window (NaN wins, the first one on ties) and its index.</summary>
    public static void MaxPool<TN>(Index1D i, ArrayView<ushort> x, ArrayView<ushort> y, ArrayView<long> idx, Geo g, TensorOffsets o)
        where TN : struct, INarrow
    {
        float best = ConvPoolKernels.MaxWindow<float, F32, Widened<TN>>(i, new Widened<TN>(x), g, o.A, out long bi);
        // Exact for every value (it is one of the inputs); a NaN comes out quiet, as the conversion kernel makes it.
        y[o.B + i] = TN.FromF(best);
        idx[o.C + i] = bi;
    }

    /// <summary>
    /// Max-pool backward where windows do not overlap (stride ≥ kernel in both dims): each input position is the argmax
    /// of at most one window, so thread i stores grad[i] at its saved index of gradInput (zeroed first) without an atomic
    /// add. The value is the float32 path's 0 + grad[i] rounded back, exactly: grad[i] itself, with −0 stored as +0.
    /// </summary>
    public static void MaxPoolBackward<TN>(Index1D i, ArrayView<ushort> grad, ArrayView<long> idx, ArrayView<ushort> gi, Geo g, TensorOffsets o)
        where TN : struct, INarrow
    {
        long nc = i / ((long)g.OH * g.OW);
        float v = TN.ToF(grad[o.A + i]);
        gi[o.C + nc * g.H * g.W + idx[o.B + i]] = TN.FromF(v == 0f ? 0f : v);
    }

    /// <summary>16-bit elements as their exact float32 values.</summary>
    private readonly struct Widened<TN>(ArrayView<ushort> x) : IElementSource<float> where TN : struct, INarrow
    {
        public float At(long index) => TN.ToF(x[index]);
    }
}
