using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime.Cuda;
using Ember.Ilgpu.Ops;

namespace Ember.Ilgpu;

/// <summary>Which tensor-core product <see cref="IlgpuMmaGemm"/> runs.</summary>
public enum MmaPrecision
{
    /// <summary>float32 operands rounded to TF32 (10-bit mantissa, round to nearest, ties to even as cuBLAS), float32 accumulation and output (<c>mma.m16n8k8 .tf32</c>).</summary>
    Tf32,
    /// <summary>IEEE half operands (as their 16-bit patterns), float32 accumulation, half output rounded to nearest even (<c>mma.m16n8k16 .f16</c>).</summary>
    Float16,
    /// <summary>bfloat16 operands (the upper 16 bits of a float32), float32 accumulation, bfloat16 output rounded to nearest even (<c>mma.m16n8k16 .bf16</c>).</summary>
    BFloat16,
}

/// <summary>Four 32-bit words loaded or stored with one 16-byte access.</summary>
internal struct UInt4
{
    public uint X, Y, Z, W;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public UInt4(uint x, uint y, uint z, uint w) { X = x; Y = y; Z = z; W = w; }
}

/// <summary>The four float32 accumulators one lane holds of a 16×8 <c>mma</c> tile: (g, 2t), (g, 2t+1), (g+8, 2t), (g+8, 2t+1) for lane = 4g + t.</summary>
internal struct Frag4
{
    public float X, Y, Z, W;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Frag4(float x, float y, float z, float w) { X = x; Y = y; Z = z; W = w; }
}

/// <summary>
/// One operand type of the tensor-core kernel, as a generic argument. Operands are staged as 32-bit words along K:
/// a TF32 word is one element, a 16-bit word two consecutive K elements (lower K in the low half). With that, the
/// m16n8k8 TF32 and m16n8k16 F16/BF16 fragments have the same word layout (8 words of K per <c>mma</c>), so one
/// kernel serves the three types. Views are passed as 16-bit element views; TF32 ones are float views reinterpreted.
/// </summary>
internal interface IMmaType
{
    /// <summary>Elements per 32-bit word (1 for TF32, 2 for 16-bit types).</summary>
    static abstract int PerWord();

    /// <summary>The word of element index <paramref name="i"/> (and <c>i + step</c> for 16-bit types); a missing element is 0.</summary>
    static abstract uint Word(ArrayView<ushort> x, long i, long step, bool ok0, bool ok1);

    /// <summary>Converts four raw words loaded with one 16-byte access into operand words (TF32 rounds).</summary>
    static abstract UInt4 Convert(UInt4 raw);

    /// <summary>Whether staged operand words need <see cref="Convert"/> in shared memory before the <c>mma</c> (TF32 rounding); false: staged words are used as copied.</summary>
    static abstract bool Rounds();

    /// <summary><c>d += a · b</c> for one warp-wide m16n8 tile, 8 words of K: inline PTX, CUDA only (see <see cref="MmaKernels"/> for the emulation).</summary>
    static abstract Frag4 Mma(Frag4 d, UInt4 a, uint b0, uint b1);

    /// <summary>The product of two words' elements summed (used by the emulation off CUDA).</summary>
    static abstract float Dot(uint a, uint b);

    /// <summary>Writes <c>alpha·v + beta·C[i]</c> (C not read when beta is 0) in the output type.</summary>
    static abstract void Store<TX>(ArrayView<ushort> c, long i, float v, float alpha, float beta) where TX : struct, MmaKernels.IMmaPath;
}

/// <summary>float32 operands on TF32 tensor cores, float32 output.</summary>
internal readonly struct Tf32Mma : IMmaType
{
    public static int PerWord() => 1;

    public static bool Rounds() => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Word(ArrayView<ushort> x, long i, long step, bool ok0, bool ok1) =>
        ok0 ? MmaMath.RoundTf32(x.Cast<uint>()[i]) : 0u;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UInt4 Convert(UInt4 r) =>
        new(MmaMath.RoundTf32(r.X), MmaMath.RoundTf32(r.Y), MmaMath.RoundTf32(r.Z), MmaMath.RoundTf32(r.W));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Frag4 Mma(Frag4 d, UInt4 a, uint b0, uint b1)
    {
        Ref<float> d0 = d.X, d1 = d.Y, d2 = d.Z, d3 = d.W;
        Input<uint> a0 = a.X, a1 = a.Y, a2 = a.Z, a3 = a.W, x0 = b0, x1 = b1;
        // ILGPU takes the PTX text only as a literal.
        CudaAsm.EmitRef("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};",
            ref d0, ref d1, ref d2, ref d3, ref a0, ref a1, ref a2, ref a3, ref x0, ref x1);
        return new Frag4(d0.Value, d1.Value, d2.Value, d3.Value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(uint a, uint b) => Interop.IntAsFloat(a) * Interop.IntAsFloat(b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TX>(ArrayView<ushort> c, long i, float v, float alpha, float beta) where TX : struct, MmaKernels.IMmaPath
    {
        var f = c.Cast<float>();
        f[i] = beta == 0f ? alpha * v : alpha * v + beta * f[i];
    }
}

/// <summary>
/// How <see cref="Tf32FragmentMma{TR}"/> prepares a float32 word for an <c>mma</c>: rounded to nearest with ties to even
/// (the low 13 bits may be left, the tensor core ignores them), or passed raw (<see cref="TruncatingTf32Rounder"/>).
/// </summary>
internal interface ITf32Rounder
{
    /// <summary>The word as the <c>mma</c> takes it (CUDA only: called where the <c>mma</c> runs natively).</summary>
    static abstract uint Round(uint bits);

    /// <summary>The TF32 value the tensor core multiplies for <paramref name="bits"/> after <see cref="Round"/>, low 13 bits cleared (the emulation off CUDA).</summary>
    static abstract uint Emulate(uint bits);
}

/// <summary>Integer instructions (<see cref="MmaMath.RoundTf32ForMma"/>): any device (<see cref="MmaTf32Rounding.Fragments"/>).</summary>
internal readonly struct IntegerTf32Rounder : ITf32Rounder
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Round(uint bits) => MmaMath.RoundTf32ForMma(bits);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Emulate(uint bits) => MmaMath.RoundTf32(bits);
}

/// <summary><c>cvt.rn.tf32.f32</c> (PTX 7.8, sm_90 or newer; Inf and NaN kept): <see cref="MmaTf32Rounding.FragmentsConvert"/>.</summary>
internal readonly struct CvtTf32Rounder : ITf32Rounder
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Round(uint bits)
    {
        CudaAsm.Emit("cvt.rn.tf32.f32 %0, %1;", out uint r, Interop.IntAsFloat(bits));
        return r;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Emulate(uint bits) => MmaMath.RoundTf32(bits);
}

/// <summary>
/// No rounding: the raw float32 word, whose low 13 mantissa bits the tensor core does not read, so each operand is
/// truncated toward zero to TF32 (<see cref="MmaGemmOptions.Tf32Truncate"/>); the emulation clears the same bits.
/// </summary>
internal readonly struct TruncatingTf32Rounder : ITf32Rounder
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Round(uint bits) => bits;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Emulate(uint bits) => bits & 0xFFFFE000u;
}

/// <summary>
/// float32 operands on TF32 tensor cores, rounded (to nearest, ties to even, as <see cref="Tf32Mma"/>) in registers as
/// each <c>mma</c> takes them, by <typeparamref name="TR"/>, instead of in a pass over shared memory: no shared-memory
/// loads and stores before the barrier, at the price of an instruction or a few per word beside the <c>mma</c>s (a
/// fragment word feeds several <c>mma</c>s; its rounding is the same expression each time, which ptxas computes once).
/// The emulation rounds in <see cref="Dot"/>. With <see cref="TruncatingTf32Rounder"/> the words go to the tensor core
/// unrounded (<see cref="MmaGemmOptions.Tf32Truncate"/>).
/// </summary>
internal readonly struct Tf32FragmentMma<TR> : IMmaType where TR : struct, ITf32Rounder
{
    public static int PerWord() => 1;

    public static bool Rounds() => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Word(ArrayView<ushort> x, long i, long step, bool ok0, bool ok1) => ok0 ? x.Cast<uint>()[i] : 0u;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UInt4 Convert(UInt4 r) => r;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Frag4 Mma(Frag4 d, UInt4 a, uint b0, uint b1) =>
        Tf32Mma.Mma(d, new UInt4(TR.Round(a.X), TR.Round(a.Y), TR.Round(a.Z), TR.Round(a.W)), TR.Round(b0), TR.Round(b1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(uint a, uint b) => Interop.IntAsFloat(TR.Emulate(a)) * Interop.IntAsFloat(TR.Emulate(b));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TX>(ArrayView<ushort> c, long i, float v, float alpha, float beta) where TX : struct, MmaKernels.IMmaPath =>
        Tf32Mma.Store<TX>(c, i, v, alpha, beta);
}

/// <summary>IEEE half operands, float32 accumulation, half output.</summary>
internal readonly struct F16Mma : IMmaType
{
    public static int PerWord() => 2;

    public static bool Rounds() => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Word(ArrayView<ushort> x, long i, long step, bool ok0, bool ok1) => MmaMath.Pair(x, i, step, ok0, ok1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UInt4 Convert(UInt4 r) => r;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Frag4 Mma(Frag4 d, UInt4 a, uint b0, uint b1)
    {
        Ref<float> d0 = d.X, d1 = d.Y, d2 = d.Z, d3 = d.W;
        Input<uint> a0 = a.X, a1 = a.Y, a2 = a.Z, a3 = a.W, x0 = b0, x1 = b1;
        // ILGPU takes the PTX text only as a literal.
        CudaAsm.EmitRef("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};",
            ref d0, ref d1, ref d2, ref d3, ref a0, ref a1, ref a2, ref a3, ref x0, ref x1);
        return new Frag4(d0.Value, d1.Value, d2.Value, d3.Value);
    }

    // Not inlined: the emulated mma sums 32 of these per tile and a kernel has hundreds of tiles, so four inlined
    // branchy half conversions per call made ILGPU's IR (and its compile time) many times that of bfloat16.
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static float Dot(uint a, uint b) =>
        NarrowBits.HalfToFloat((ushort)a) * NarrowBits.HalfToFloat((ushort)b) + NarrowBits.HalfToFloat((ushort)(a >> 16)) * NarrowBits.HalfToFloat((ushort)(b >> 16));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TX>(ArrayView<ushort> c, long i, float v, float alpha, float beta) where TX : struct, MmaKernels.IMmaPath
    {
        if (TX.Native())
        {
            // The hardware conversions (same rounding as MmaMath's, a fraction of the code: 64 stores per thread).
            float r = alpha * v;
            if (beta != 0f)
            {
                CudaAsm.Emit("cvt.f32.f16 %0, %1;", out float old, c[i]);
                r += beta * old;
            }
            CudaAsm.Emit("cvt.rn.f16.f32 %0, %1;", out ushort h, r);
            c[i] = h;
            return;
        }
        SoftStore(c, i, v, alpha, beta);
    }

    /// <summary>The store off CUDA, not inlined for the same reason as <see cref="Dot"/> (64 stores a thread).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SoftStore(ArrayView<ushort> c, long i, float v, float alpha, float beta)
    {
        float s = beta == 0f ? alpha * v : alpha * v + beta * NarrowBits.HalfToFloat(c[i]);
        c[i] = NarrowBits.FloatToHalf(s);
    }
}

/// <summary>bfloat16 operands, float32 accumulation, bfloat16 output.</summary>
internal readonly struct Bf16Mma : IMmaType
{
    public static int PerWord() => 2;

    public static bool Rounds() => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Word(ArrayView<ushort> x, long i, long step, bool ok0, bool ok1) => MmaMath.Pair(x, i, step, ok0, ok1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UInt4 Convert(UInt4 r) => r;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Frag4 Mma(Frag4 d, UInt4 a, uint b0, uint b1)
    {
        Ref<float> d0 = d.X, d1 = d.Y, d2 = d.Z, d3 = d.W;
        Input<uint> a0 = a.X, a1 = a.Y, a2 = a.Z, a3 = a.W, x0 = b0, x1 = b1;
        // ILGPU takes the PTX text only as a literal.
        CudaAsm.EmitRef("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};",
            ref d0, ref d1, ref d2, ref d3, ref a0, ref a1, ref a2, ref a3, ref x0, ref x1);
        return new Frag4(d0.Value, d1.Value, d2.Value, d3.Value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(uint a, uint b) =>
        Interop.IntAsFloat(a << 16) * Interop.IntAsFloat(b << 16) + Interop.IntAsFloat(a & 0xFFFF0000u) * Interop.IntAsFloat(b & 0xFFFF0000u);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TX>(ArrayView<ushort> c, long i, float v, float alpha, float beta) where TX : struct, MmaKernels.IMmaPath
    {
        float r = beta == 0f ? alpha * v : alpha * v + beta * Interop.IntAsFloat((uint)c[i] << 16);
        c[i] = NarrowBits.FloatToBFloat16(r);
    }
}

/// <summary>TF32 rounding (the 16-bit conversions are <see cref="NarrowBits"/>).</summary>
internal static class MmaMath
{
    /// <summary>Two 16-bit elements as one operand word: element i in the low half, element i + step in the high half (missing ones 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Pair(ArrayView<ushort> x, long i, long step, bool ok0, bool ok1) =>
        (ok0 ? x[i] : 0u) | ((ok1 ? x[i + step] : 0u) << 16);

    /// <summary>
    /// float32 bits rounded to TF32 (low 13 mantissa bits cleared), to nearest with ties to even, as cuBLAS does for
    /// PyTorch's TF32 matmuls (measured on an H100: 1 + ½ ulp → 1, 1 + 1½ ulp → 1 + 2 ulp; perf/gpu/tf32_rounding.py);
    /// Inf/NaN kept.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint RoundTf32(uint bits)
    {
        // Adding just under half a TF32 ulp, plus one when the kept mantissa is odd, rounds ties to even and carries
        // into the exponent when needed (max float → Inf, as round-to-nearest does); Inf/NaN are left alone so a NaN
        // payload cannot carry into the sign bit. Computed first and then selected, so that the GPU code is a select,
        // not a branch around the arithmetic.
        uint rounded = (bits + 0xFFFu + ((bits >> 13) & 1u)) & 0xFFFFE000u;
        return (bits & 0x7F800000u) == 0x7F800000u ? bits : rounded;
    }

    /// <summary>
    /// <see cref="RoundTf32"/> without clearing the low 13 bits, for a word fed straight to an <c>mma</c> (the tensor
    /// core does not read them): the same TF32 value, one instruction fewer. The guard tests the magnitude as a float
    /// (one compare ptxas folds the absolute value into).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint RoundTf32ForMma(uint bits)
    {
        uint rounded = bits + 0xFFFu + ((bits >> 13) & 1u);
        return Math.Abs(Interop.IntAsFloat(bits)) < float.PositiveInfinity ? rounded : bits;
    }
}
