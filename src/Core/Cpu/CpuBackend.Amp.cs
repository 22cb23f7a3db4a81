using System.Numerics;

namespace Ember.Cpu;

// GradScaler's unscale: one pass over every gradient that checks and scales each element together (PyTorch's
// _amp_foreach_non_finite_check_and_unscale_), a System.Numerics.Vector body and a scalar tail.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void NonFiniteCheckAndUnscale(IReadOnlyList<Tensor> grads, Tensor foundInf, double invScale)
    {
        bool found = false;
        foreach (var g in grads)
        {
            if (g.DType == DType.Float32) found |= CheckAndScale(Data<float>(g).AsSpan((int)g.offset, (int)g.Numel), (float)invScale);
            else if (g.DType == DType.Float64) found |= CheckAndScale(Data<double>(g).AsSpan((int)g.offset, (int)g.Numel), invScale);
            else CompositeKernels.NonFiniteCheckAndUnscale(this, [g], foundInf, invScale);
        }
        if (found) Data<float>(foundInf)[foundInf.offset] = 1f;
    }

    // x − x is 0 for every finite x and NaN for ±∞ and NaN, so "x − x ≠ 0" flags exactly the non-finite elements; the
    // flag is taken from the value before it is scaled (a finite gradient that overflows when scaled up is not flagged,
    // as in PyTorch).
    private static bool CheckAndScale<T>(Span<T> x, T inv) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        var bad = Vector<T>.Zero;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var vInv = new Vector<T>(inv);
            var spans = System.Runtime.InteropServices.MemoryMarshal.Cast<T, Vector<T>>(x);
            for (int k = 0; k < spans.Length; k++)
            {
                var v = spans[k];
                bad |= ~Vector.Equals(v - v, Vector<T>.Zero);
                spans[k] = v * vInv;
            }
            i = spans.Length * Vector<T>.Count;
        }
        bool found = bad != Vector<T>.Zero;
        for (; i < x.Length; i++)
        {
            if (!T.IsFinite(x[i])) found = true;
            x[i] *= inv;
        }
        return found;
    }
}
