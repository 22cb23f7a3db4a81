using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;
using Ember.Operators;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// float32 e^x, tanh and σ built from adds, multiplies, one division and a bit cast, for kernels that must match the
/// CPU backend to float32 rounding. ILGPU compiles float <c>T.Exp</c> / <c>XMath.Exp</c> to PTX <c>ex2.approx.f32</c>
/// of x·log₂e (the rounding of that product grows the error with |x|) and <c>T.Tanh</c> to <c>tanh.approx.f32</c>,
/// whose relative error reaches 2^−10.99 ≈ 5e-4; through a GRU's time steps that gave weight gradients 6e-4 away
/// (relative) from the CPU's. These formulas are within about 2 ulp on every ILGPU device, the CPU accelerator
/// included, so tests there check what CUDA runs.
/// </summary>
internal static class AccurateMath
{
    /// <summary>
    /// e^x within ~1 ulp: x = n·ln 2 + r with |r| ≤ ½ ln 2 (Cody–Waite: ln 2 split in two so n·C1 is exact for the
    /// |n| ≤ 150 that occur), e^r by its Taylor polynomial to r⁷ (the r⁸/8! term is below 1e-8 relative), times 2ⁿ as
    /// two exact powers of two built from bits (so 2ⁿ for n down to −150 needs no subnormal factor).
    /// NaN → NaN, x &gt; ln(float.MaxValue) → +∞, x &lt; −103.98 → 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x)
    {
        if (float.IsNaN(x)) return x;
        if (x > 88.72284f) return float.PositiveInfinity;
        if (x < -103.98f) return 0f;
        float t = x * 1.44269504f;
        int n = (int)(t < 0f ? t - 0.5f : t + 0.5f);   // round to nearest (truncation of t ± ½)
        // C1 = 0.693359375 has 9 significant bits, so n·C1 is exact; C2 = ln 2 − C1.
        float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
        float p = 1f + r * (1f + r * (0.5f + r * (1.66666667e-1f + r * (4.16666667e-2f + r * (8.33333333e-3f
            + r * (1.38888889e-3f + r * 1.98412698e-4f))))));
        int n1 = n / 2, n2 = n - n1;                      // each in [−75, 64]: both powers are normal floats
        return p * Interop.IntAsFloat((uint)(n1 + 127) << 23) * Interop.IntAsFloat((uint)(n2 + 127) << 23);
    }

    /// <summary>
    /// tanh x within ~2 ulp. |x| &lt; 2⁻¹³: x (the x³/3 term is below rounding; keeps −0). |x| &lt; 0.55: e/(e + 2) with
    /// e = e^(2|x|) − 1 from its Taylor series to u¹² (no cancellation near 0; the next term is below 1e-8 relative).
    /// Else 1 − 2/(e^(2|x|) + 1), which is ≥ ½ so the subtraction loses nothing. Sign restored; NaN → NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Tanh(float x)
    {
        float a = x < 0f ? -x : x;
        if (a < 1.22070313e-4f) return x;
        float t;
        if (a < 0.55f)
        {
            float u = a + a;
            // u·(1 + u/2·(1 + u/3·(…(1 + u/12)))) = Σ uᵏ/k!, k = 1..12, nested so every step is well conditioned.
            float e = 1f + u * (1f / 12f);
            e = 1f + u * (1f / 11f) * e;
            e = 1f + u * (1f / 10f) * e;
            e = 1f + u * (1f / 9f) * e;
            e = 1f + u * (1f / 8f) * e;
            e = 1f + u * (1f / 7f) * e;
            e = 1f + u * (1f / 6f) * e;
            e = 1f + u * (1f / 5f) * e;
            e = 1f + u * 0.25f * e;
            e = 1f + u * (1f / 3f) * e;
            e = 1f + u * 0.5f * e;
            e = u * e;
            t = e / (e + 2f);
        }
        else t = 1f - 2f / (Exp(a + a) + 1f);   // NaN falls here and stays NaN
        return x < 0f ? -t : t;
    }

    /// <summary>σ(x) = 1 / (1 + e^(−x)) with <see cref="Exp"/> (→ 0 for x &lt; −88.7, where e^(−x) is +∞).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float x) => 1f / (1f + Exp(-x));
}

/// <summary>float32 e^x by <see cref="AccurateMath.Exp"/> (the ILGPU backend's <see cref="ExpOperator{T}"/> for float).</summary>
internal readonly struct AccurateExpF32 : IUnaryOperator<float>
{
    /// <inheritdoc/>
    public float Invoke(float x) => AccurateMath.Exp(x);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = AccurateMath.Exp(x[i]); }
}

/// <summary>float32 tanh by <see cref="AccurateMath.Tanh"/> (the ILGPU backend's <see cref="TanhOperator{T}"/> for float).</summary>
internal readonly struct AccurateTanhF32 : IUnaryOperator<float>
{
    /// <inheritdoc/>
    public float Invoke(float x) => AccurateMath.Tanh(x);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = AccurateMath.Tanh(x[i]); }
}

/// <summary>float32 σ by <see cref="AccurateMath.Sigmoid"/> (the ILGPU backend's <see cref="SigmoidOperator{T}"/> for float).</summary>
internal readonly struct AccurateSigmoidF32 : IUnaryOperator<float>
{
    /// <inheritdoc/>
    public float Invoke(float x) => AccurateMath.Sigmoid(x);
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = AccurateMath.Sigmoid(x[i]); }
}

/// <summary>float32 x·σ(x) by <see cref="AccurateMath.Sigmoid"/> (the ILGPU backend's <see cref="SiluOperator{T}"/> for float).</summary>
internal readonly struct AccurateSiluF32 : IUnaryOperator<float>
{
    /// <inheritdoc/>
    public float Invoke(float x) => x / (1f + AccurateMath.Exp(-x));
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = Invoke(x[i]); }
}

/// <summary>float32 tanh-approximated GELU by <see cref="AccurateMath.Tanh"/> (the ILGPU backend's <see cref="GeluTanhOperator{T}"/> for float).</summary>
internal readonly struct AccurateGeluTanhF32 : IUnaryOperator<float>
{
    /// <inheritdoc/>
    public float Invoke(float x)
    {
        // The CPU's constants: √(2/π) from float 2/π, and 0.044715 rounded to float.
        float k = XMath.Sqrt(2f / 3.14159274f);
        return 0.5f * x * (1f + AccurateMath.Tanh(k * (x + 0.044715f * x * x * x)));
    }
    /// <inheritdoc/>
    public void Invoke(ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = Invoke(x[i]); }
}
