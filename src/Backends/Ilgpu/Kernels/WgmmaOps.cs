using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Ember.Ilgpu;

/// <summary>
/// One operand type of <see cref="MmaKernels.GemmWgmma{T, TW, TX, TE, TB}"/>, as a generic argument: its <c>wgmma</c>
/// sequence and how its staged words are prepared (TF32 rounding).
/// </summary>
internal interface IWgmmaOp
{
    /// <summary>Whether staged words are rounded in shared memory (<see cref="Round"/>) before the <c>wgmma</c> reads them.</summary>
    static abstract bool Rounds();

    /// <summary>A staged word as the tensor core should take it (CUDA only).</summary>
    static abstract uint Round(uint word);

    /// <summary>The word the tensor core multiplies for a staged <paramref name="word"/> (the emulation off CUDA: rounded, or truncated, TF32).</summary>
    static abstract uint Emulate(uint word);

    /// <summary>The <c>wgmma</c> form, as <see cref="WgmmaRegisters.Slab"/> takes it: 0 TF32, 1 F16, 2 BF16.</summary>
    static abstract int Kind();
}

/// <summary>TF32 from float32 operands rounded to nearest, ties to even (as cuBLAS), in shared memory with <c>cvt.rn.tf32.f32</c> (sm_90).</summary>
internal readonly struct WgmmaTf32 : IWgmmaOp
{
    public static bool Rounds() => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Round(uint word) => CvtTf32Rounder.Round(word);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Emulate(uint word) => MmaMath.RoundTf32(word);

    public static int Kind() => 0;
}

/// <summary>TF32 from float32 operands as they are: the tensor core ignores the low 13 mantissa bits (<see cref="MmaGemmOptions.Tf32Truncate"/>).</summary>
internal readonly struct WgmmaTf32Truncate : IWgmmaOp
{
    public static bool Rounds() => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Round(uint word) => word;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Emulate(uint word) => word & 0xFFFFE000u;

    public static int Kind() => 0;
}

/// <summary>IEEE half operands (<c>m64n128k16</c> / <c>m64n256k16 .f32.f16.f16</c>).</summary>
internal readonly struct WgmmaF16 : IWgmmaOp
{
    public static bool Rounds() => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Round(uint word) => word;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Emulate(uint word) => word;

    public static int Kind() => 1;
}

/// <summary>bfloat16 operands (<c>m64n128k16</c> / <c>m64n256k16 .f32.bf16.bf16</c>).</summary>
internal readonly struct WgmmaBf16 : IWgmmaOp
{
    public static bool Rounds() => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Round(uint word) => word;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Emulate(uint word) => word;

    public static int Kind() => 2;
}

/// <summary>
/// The shared-memory matrix descriptors of <see cref="MmaKernels.GemmWgmma{T, TW, TX, TE, TB}"/>'s K-major, 128-byte
/// swizzled stages (PTX ISA, "matrix descriptor"): bits 0-13 the start address / 16, bits 16-29 the leading byte offset
/// / 16 (unused by swizzled K-major layouts; 1), bits 32-45 the stride byte offset / 16 (1024 bytes between groups of
/// 8 rows: 64), bits 62-63 the swizzle mode (1: 128 bytes). Base offset 0: every stage starts at a multiple of 1024.
/// </summary>
internal static class WgmmaLayout
{
    /// <summary>The descriptor's upper 32 bits: stride byte offset 1024 / 16, swizzle mode 1 (128 bytes).</summary>
    public const uint High = 64u | (1u << 30);

    /// <summary>The descriptor's lower 32 bits for a matrix starting at shared byte address <paramref name="address"/> (a multiple of 16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Descriptor(uint address) => ((address & 0x3FFFFu) >> 4) | (1u << 16);

    /// <summary>
    /// Off CUDA (the emulation and the tests): the 32-bit word of shared memory holding byte <paramref name="kByte"/> of K
    /// of row <paramref name="row"/> of the matrix a descriptor with lower word <paramref name="descriptor"/> (and
    /// <see cref="High"/>) describes: start + (row / 8) · 1024 + (row mod 8) · 128 + kByte, then the 128-byte swizzle
    /// (address bits 4-6 XOR bits 7-9), as the hardware reads it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int WordIndex(uint descriptor, int row, int kByte)
    {
        int start = (int)(descriptor & 0x3FFFu) << 4, stride = (int)(High & 0x3FFFu) << 4;
        int logical = start + (row >> 3) * stride + (row & 7) * 128 + kByte;
        return (logical ^ (((logical >> 7) & 7) << 4)) >> 2;
    }
}

/// <summary>
/// A warpgroup's 64×128 half of C in one thread: 64 float32 accumulators as 32 pairs (the form the inline PTX takes
/// them in, ILGPU allowing at most 44 operands). Pair 2j holds n-tile j's (g, 2q) and (g, 2q + 1), pair 2j + 1 its
/// (g + 8, 2q) and (g + 8, 2q + 1), the low word first.
/// </summary>
internal struct WgmmaHalf
{
    public ulong D0, D1, D2, D3, D4, D5, D6, D7, D8, D9, D10, D11, D12, D13, D14, D15, D16, D17, D18, D19, D20, D21, D22, D23, D24, D25, D26, D27, D28, D29, D30, D31;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public WgmmaHalf(ulong d0, ulong d1, ulong d2, ulong d3, ulong d4, ulong d5, ulong d6, ulong d7, ulong d8, ulong d9, ulong d10, ulong d11, ulong d12, ulong d13, ulong d14, ulong d15, ulong d16, ulong d17, ulong d18, ulong d19, ulong d20, ulong d21, ulong d22, ulong d23, ulong d24, ulong d25, ulong d26, ulong d27, ulong d28, ulong d29, ulong d30, ulong d31)
    {
        D0 = d0;
        D1 = d1;
        D2 = d2;
        D3 = d3;
        D4 = d4;
        D5 = d5;
        D6 = d6;
        D7 = d7;
        D8 = d8;
        D9 = d9;
        D10 = d10;
        D11 = d11;
        D12 = d12;
        D13 = d13;
        D14 = d14;
        D15 = d15;
        D16 = d16;
        D17 = d17;
        D18 = d18;
        D19 = d19;
        D20 = d20;
        D21 = d21;
        D22 = d22;
        D23 = d23;
        D24 = d24;
        D25 = d25;
        D26 = d26;
        D27 = d27;
        D28 = d28;
        D29 = d29;
        D30 = d30;
        D31 = d31;
    }

    /// <summary>n-tile <paramref name="j"/> (0-15) as the <c>mma</c> kernels' <see cref="Frag4"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Frag4 Tile(int j) => Of(Pair(2 * j), Pair(2 * j + 1));

    /// <summary>Replaces n-tile <paramref name="j"/>.</summary>
    public void SetTile(int j, Frag4 f)
    {
        SetPair(2 * j, Join(f.X, f.Y));
        SetPair(2 * j + 1, Join(f.Z, f.W));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Frag4 Of(ulong top, ulong bottom) =>
        new(Interop.IntAsFloat((uint)top), Interop.IntAsFloat((uint)(top >> 32)), Interop.IntAsFloat((uint)bottom), Interop.IntAsFloat((uint)(bottom >> 32)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Join(float lo, float hi) => Interop.FloatAsInt(lo) | ((ulong)Interop.FloatAsInt(hi) << 32);

    private readonly ulong Pair(int i) => i switch
    {
        0 => D0,
        1 => D1,
        2 => D2,
        3 => D3,
        4 => D4,
        5 => D5,
        6 => D6,
        7 => D7,
        8 => D8,
        9 => D9,
        10 => D10,
        11 => D11,
        12 => D12,
        13 => D13,
        14 => D14,
        15 => D15,
        16 => D16,
        17 => D17,
        18 => D18,
        19 => D19,
        20 => D20,
        21 => D21,
        22 => D22,
        23 => D23,
        24 => D24,
        25 => D25,
        26 => D26,
        27 => D27,
        28 => D28,
        29 => D29,
        30 => D30,
        _ => D31,
    };

    private void SetPair(int i, ulong v)
    {
        switch (i)
        {
            case 0: D0 = v; break;
            case 1: D1 = v; break;
            case 2: D2 = v; break;
            case 3: D3 = v; break;
            case 4: D4 = v; break;
            case 5: D5 = v; break;
            case 6: D6 = v; break;
            case 7: D7 = v; break;
            case 8: D8 = v; break;
            case 9: D9 = v; break;
            case 10: D10 = v; break;
            case 11: D11 = v; break;
            case 12: D12 = v; break;
            case 13: D13 = v; break;
            case 14: D14 = v; break;
            case 15: D15 = v; break;
            case 16: D16 = v; break;
            case 17: D17 = v; break;
            case 18: D18 = v; break;
            case 19: D19 = v; break;
            case 20: D20 = v; break;
            case 21: D21 = v; break;
            case 22: D22 = v; break;
            case 23: D23 = v; break;
            case 24: D24 = v; break;
            case 25: D25 = v; break;
            case 26: D26 = v; break;
            case 27: D27 = v; break;
            case 28: D28 = v; break;
            case 29: D29 = v; break;
            case 30: D30 = v; break;
            default: D31 = v; break;
        }
    }
}

/// <summary>
/// The native path's accumulators of <see cref="MmaKernels.GemmWgmma{T, TW, TX, TE, TB}"/>: function-scope PTX registers
/// (<see cref="WgmmaAsm"/>) that only the <c>wgmma</c> statements touch between the kernel's start and its epilogue, so
/// ptxas sees no other access while a slab is in flight (accumulators passed as asm operands would be copied to and from
/// ILGPU's registers around every statement, each copy a wait for the <c>wgmma</c>s writing them).
/// </summary>
internal static class WgmmaRegisters
{
    /// <summary>Declares and zeroes the accumulators: 64 for a 128-column block, 128 for 256 (CUDA only; the kernel's first statement).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Zero(bool wide)
    {
        // ILGPU takes the PTX text only as a literal.
        if (wide) CudaAsm.Emit(WgmmaAsm.Zero128);
        else CudaAsm.Emit(WgmmaAsm.Zero64);
    }

    /// <summary>
    /// One slab statement of <paramref name="kind"/> (0 TF32, 1 F16, 2 BF16): four K steps of <c>m64n256</c>
    /// (<paramref name="wide"/>) or <c>m64n128</c> on A's and B's descriptors, returning with the slab in flight and
    /// the one before it complete (CUDA only; constants where inlined).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Slab(int kind, bool wide, uint da, uint db)
    {
        Input<uint> a = da, b = db, hi = WgmmaLayout.High, one = 1;
        if (kind == 0)
        {
            if (wide) CudaAsm.EmitRef(WgmmaAsm.Tf32N256, ref a, ref b, ref hi, ref one);
            else CudaAsm.EmitRef(WgmmaAsm.Tf32N128, ref a, ref b, ref hi, ref one);
        }
        else if (kind == 1)
        {
            if (wide) CudaAsm.EmitRef(WgmmaAsm.F16N256, ref a, ref b, ref hi, ref one);
            else CudaAsm.EmitRef(WgmmaAsm.F16N128, ref a, ref b, ref hi, ref one);
        }
        else
        {
            if (wide) CudaAsm.EmitRef(WgmmaAsm.Bf16N256, ref a, ref b, ref hi, ref one);
            else CudaAsm.EmitRef(WgmmaAsm.Bf16N128, ref a, ref b, ref hi, ref one);
        }
    }

    /// <summary>Waits for every slab in flight (CUDA only; before <see cref="Read"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WaitAll() => CudaAsm.Emit("wgmma.wait_group.sync.aligned 0;");

    /// <summary>Accumulators 0-63 (<paramref name="second"/> false: columns 0-127) or 64-127 (columns 128-255) as a <see cref="WgmmaHalf"/> (CUDA only).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static WgmmaHalf Read(bool second)
    {
        Output<ulong> d0 = default, d1 = default, d2 = default, d3 = default, d4 = default, d5 = default, d6 = default, d7 = default, d8 = default, d9 = default, d10 = default, d11 = default, d12 = default, d13 = default, d14 = default, d15 = default, d16 = default, d17 = default, d18 = default, d19 = default, d20 = default, d21 = default, d22 = default, d23 = default, d24 = default, d25 = default, d26 = default, d27 = default, d28 = default, d29 = default, d30 = default, d31 = default;
        // ILGPU takes the PTX text only as a literal.
        if (second) CudaAsm.EmitRef(WgmmaAsm.Read1,
            ref d0, ref d1, ref d2, ref d3, ref d4, ref d5, ref d6, ref d7, ref d8, ref d9, ref d10, ref d11, ref d12,
            ref d13, ref d14, ref d15, ref d16, ref d17, ref d18, ref d19, ref d20, ref d21, ref d22, ref d23, ref d24,
            ref d25, ref d26, ref d27, ref d28, ref d29, ref d30, ref d31);
        else CudaAsm.EmitRef(WgmmaAsm.Read0,
            ref d0, ref d1, ref d2, ref d3, ref d4, ref d5, ref d6, ref d7, ref d8, ref d9, ref d10, ref d11, ref d12,
            ref d13, ref d14, ref d15, ref d16, ref d17, ref d18, ref d19, ref d20, ref d21, ref d22, ref d23, ref d24,
            ref d25, ref d26, ref d27, ref d28, ref d29, ref d30, ref d31);
        return new WgmmaHalf(d0.Value, d1.Value, d2.Value, d3.Value, d4.Value, d5.Value, d6.Value, d7.Value, d8.Value, d9.Value, d10.Value, d11.Value, d12.Value, d13.Value, d14.Value, d15.Value, d16.Value, d17.Value, d18.Value, d19.Value, d20.Value, d21.Value, d22.Value, d23.Value, d24.Value, d25.Value, d26.Value, d27.Value, d28.Value, d29.Value, d30.Value, d31.Value);
    }
}
