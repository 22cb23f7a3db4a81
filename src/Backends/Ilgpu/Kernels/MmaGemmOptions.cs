namespace Ember.Ilgpu;

/// <summary>Tuning choices of <see cref="IlgpuMmaGemm"/>; the default (all zero) chooses automatically.</summary>
public readonly record struct MmaGemmOptions
{
    /// <summary>
    /// K slabs of a split-K product: 0 chooses (split when C has at most half as many 128×128 tiles as the device
    /// has multiprocessors and K is long), 1 never splits, a larger value asks for about that many slabs (each a
    /// whole number of the kernel's K slabs, so possibly fewer). Ignored for batched products.
    /// </summary>
    public int SplitK { get; init; }

    /// <summary>
    /// True: read operands that are not K-contiguous (or not 16-byte aligned) in place, element by element, instead of
    /// first packing them K-major into scratch memory. For measuring the packing; slower on GPUs.
    /// </summary>
    public bool KeepLayout { get; init; }

    /// <summary>
    /// TF32 only: feed the float32 operands to the tensor cores as they are, which drops their low 13 mantissa bits
    /// (truncation toward zero), instead of rounding them to nearest first (<see cref="Tf32Rounding"/>, which it
    /// overrides). Saves the rounding instructions; changes each product term by at most one TF32 ulp of each operand,
    /// so results differ from PyTorch's. Off by default.
    /// </summary>
    public bool Tf32Truncate { get; init; }

    /// <summary>
    /// TF32 only (without <see cref="Tf32Truncate"/>): where the float32 operands are rounded to TF32 (all ways give the
    /// same bits: to nearest, ties to even). <see cref="MmaTf32Rounding.Auto"/> (the default) chooses; see the enum.
    /// </summary>
    public MmaTf32Rounding Tf32Rounding { get; init; }

    /// <summary>
    /// Whether the kernel reads its fragments from shared memory with <c>ldmatrix.x4</c> (6 instructions per warp and
    /// K step instead of 24 32-bit loads); null (the default) chooses it. Measured on the H100 (f16/bf16 NN, 4096 and
    /// 8192): 194k / 210k GFLOP/s against 178k / 192k with 32-bit loads, once its operands were 32-bit (see
    /// <c>MmaKernels.SharedBase</c>); off CUDA (the emulation) it defaults to the 32-bit loads. False keeps them, for comparison.
    /// </summary>
    public bool? LdMatrix { get; init; }

    /// <summary>
    /// Whether the kernel's main loop copies K slabs to shared memory with <c>cp.async</c>, three slabs in flight
    /// (<see cref="MmaKernels.GemmPipelined{T, TX, TE}"/>), for operands that are K-major with aligned rows (all of them
    /// unless <see cref="KeepLayout"/>; others keep the register double-buffered loop); with <see cref="LdMatrix"/> its
    /// fragments are read with <c>ldmatrix.x4</c>. Null (the default) chooses it on CUDA: H100, NN 4096 / 8192, f16
    /// 243k / 256k GFLOP/s against 197k / 210k for the register-prefetch loop, bf16 250k / 266k, TF32 106k / 110k against
    /// 52k (its PTX needs <c>PtxRewrite</c>: without it 3k). Off CUDA (the emulation) the default is the older loop.
    /// </summary>
    public bool? Pipeline { get; init; }

    /// <summary>
    /// Whether the <c>cp.async</c> loop runs 4 warps of 64×64 per 128×128 block (128 threads,
    /// <see cref="MmaKernels.GemmWide{T, TX, TE}"/>: 8 <c>ldmatrix.x4</c> per 32 <c>mma</c>s, 128 accumulators a thread)
    /// instead of 8 warps of 64×32; fragments always through <c>ldmatrix</c>. True also turns <see cref="Pipeline"/> on
    /// unless that is false (the 64×64 tiles exist only in the pipelined loop, for K-major aligned operands). Null (the
    /// default) chooses them on CUDA, on small grids too (sixth session, H100, f16 256×1024×1024 NN 28k against 24k
    /// GFLOP/s, 2048×256×1024 55k against 47k): H100, NN 4096 / 8192 in one run, f16 303k / 338k GFLOP/s against 267k / 293k for
    /// the 64×32 warps, bf16 312k / 346k against 276k / 300k, TF32 129k / 135k against 126k / 131k (cuBLAS: 712k / 760k,
    /// 728k / 790k, 380k / 408k). Off CUDA (the emulation) the default is the older loop; false keeps the 64×32 warps.
    /// </summary>
    public bool? WarpTile64 { get; init; }

    /// <summary>
    /// How the 64×64-warp-tile kernel (<see cref="WarpTile64"/>) stages K slabs in shared memory:
    /// <see cref="MmaStaging.Default"/> keeps 3 stages of 16 words in one 48 KB static allocation; the others use dynamic
    /// shared memory above 48 KB (<see cref="MmaKernels.GemmWideDynamic{T, TX, TE, TS, TB}"/>; experimental), the
    /// <see cref="MmaStaging.WideBlock"/> ones with a 128×256 block of 8 warps (<see cref="MmaKernels.GemmWideDynamic{T, TX, TE, TS, TB}"/>).
    /// A value other than the default turns <see cref="WarpTile64"/> on unless that is false. On a CUDA device whose
    /// opt-in shared-memory limit per block is too small the 48 KB kernel runs instead.
    /// </summary>
    public MmaStaging Staging { get; init; }

    /// <summary>
    /// With a <see cref="MmaStaging.WideBlock"/> staging: true visits C's 128×256 tiles in groups of 8 block rows,
    /// column by column within a group, instead of row by row, so that the blocks running at once share more of A's and
    /// B's tiles in L2 (for large products, e.g. 8192³: a wave of 132 blocks reads 25 operand tiles instead of 37).
    /// Ignored by the other kernels. Experimental, not measured yet.
    /// </summary>
    public bool GroupedBlocks { get; init; }

    /// <summary>
    /// With a <see cref="Staging"/> other than the default: true runs the K loop that waits for and publishes slab s + 1
    /// before slab s's last K step, whose <c>mma</c>s then run under the barrier's wake-up and the next slab's first
    /// <c>ldmatrix</c> (fragments double-buffered across the barrier; meant for the <see cref="MmaStaging.WideBlock"/>
    /// stagings, where one block per SM leaves no other warps to cover that gap). Ignored by the 48 KB kernels.
    /// Experimental, not measured yet.
    /// </summary>
    public bool EarlyBarrier { get; init; }

    /// <summary>
    /// Whether 16-bit products read an M-major A (<c>transA</c>) or an N-major B (<c>!transB</c>) in place, in the
    /// 64×64-warp-tile kernel with the default staging (<see cref="MmaKernels.GemmWideTransposed{T, TX, TE, TA, TB}"/>:
    /// <c>cp.async</c> of rows along M/N, fragments through <c>ldmatrix.trans</c>), instead of first packing them K-major
    /// with a separate launch. Only where that operand's rows start 16-byte aligned (leading dimension, batch stride and
    /// view offset multiples of 8 elements); others, TF32 operands and the other kernels keep packing. Null (the
    /// default) means on unless the environment variable <c>EMBER_MMA_TRANSPOSED</c> is <c>0</c>. Measured on an H100
    /// (GemmBench, 2048–4096): TN 1.2–1.5× and TT 1.1–1.3× faster than packing, NN (an N-major B) 1.08–1.27×, NT
    /// (nothing to pack) unchanged; under autocast gpt's step makes 340 launches instead of 391. The 128×256
    /// early-barrier kernel (<see cref="MmaStaging.WideBlockDeepSlabs"/> with <see cref="EarlyBarrier"/>) reads them in
    /// place too (<see cref="MmaKernels.GemmWideEarlyTransposed{T, TX, TE, TA, TB, TG}"/>); its other stagings pack.
    /// </summary>
    public bool? TransposedOperands { get; init; }

    /// <summary>
    /// Whether 16-bit products with M and N both at least 4096 run on CUDA the 128×256 early-barrier kernel
    /// (<see cref="MmaStaging.WideBlockDeepSlabs"/>, <see cref="EarlyBarrier"/>) where the options leave
    /// <see cref="Staging"/> at its default. Null (the default) means on unless the environment variable
    /// <c>EMBER_MMA_WIDE</c> is <c>0</c>. Measured on an H100 (eleventh session, GemmBench NN against cuBLAS in one call):
    /// f16 0.55 / 0.52 of cuBLAS at 4096 / 8192 against 0.47 / 0.46 for the 128×128 kernel, bf16 0.56 / 0.54 against
    /// 0.45 / 0.46; every operand layout passed the CUDA tests. Its first use compiles longer (19 s against 11 on the tenth
    /// session's machine, 4.4 s on the eleventh's).
    /// </summary>
    public bool? WideForLarge { get; init; }

    /// <summary>
    /// Whether products on a CUDA device of compute capability 9.x (Hopper) run the warpgroup kernel
    /// (<see cref="MmaKernels.GemmWgmma{T, TW, TX, TE, TB}"/>: <c>wgmma.mma_async</c> reading both operands from shared
    /// memory, operands packed K-major; 128×256 blocks, in groups of 8 block rows, for M and N of at least 4096, else
    /// 128×128; a <see cref="MmaStaging.WideBlock"/> staging asks for 128×256 blocks, any other non-default staging for
    /// 128×128). Null (the default) means on for M and N of at least 4096 where the other options leave the kernel to
    /// the default (no staging, warp tile, loop, fragment load, in-place or TF32 rounding choice), unless the environment
    /// variable <c>EMBER_MMA_WGMMA</c> is <c>0</c> (never) or <c>1</c> (every product). Measured on an H100 (fifteenth session,
    /// GemmBench NN against cuBLAS in one call, 4096 / 8192): TF32 173k / 191k GFLOP/s, 0.51 / 0.48 of cuBLAS, against
    /// 163k / 165k (0.48 / 0.42) for the <c>mma.sync</c> kernels; F16 380k / 427k (0.60 / 0.59) against 374k / 391k;
    /// BF16 385k / 454k (0.61 / 0.59). At 2048 it was slower for 16-bit products (0.74 against 0.79), hence the size
    /// rule. True elsewhere runs the same kernel with each <c>wgmma</c> emulated per lane (the tests on ilgpu-cpu);
    /// older CUDA devices ignore it.
    /// </summary>
    public bool? Wgmma { get; init; }
}

/// <summary>How <see cref="IlgpuMmaGemm"/>'s 64×64-warp-tile kernel stages its K slabs in shared memory (<see cref="MmaGemmOptions.Staging"/>).</summary>
public enum MmaStaging
{
    /// <summary>3 stages of 16 words of K (16 TF32 or 32 16-bit elements): 48 KB of static shared memory, 2 blocks per SM.</summary>
    Default,
    /// <summary>4 stages of 16 words: 64 KB of dynamic shared memory (opt-in above 48 KB), three slabs in flight ahead of the one multiplied.</summary>
    FourStages,
    /// <summary>3 stages of 32 words: 96 KB of dynamic shared memory (opt-in above 48 KB; 2 blocks per SM on the H100, 1 on the A100), half the barriers per K.</summary>
    DeepSlabs,
    /// <summary>
    /// A 128×256 block of 8 warps of 64×64 (256 threads, one block per SM, up to 255 registers a thread) instead of
    /// 128×128 with 4: a quarter fewer copies per output and half the barriers per FLOP; 4 stages of 16 words, 96 KB
    /// of dynamic shared memory (<see cref="MmaKernels.GemmWideDynamic{T, TX, TE, TS, TB}"/>; experimental, not measured yet).
    /// </summary>
    WideBlock,
    /// <summary>The 128×256 block of <see cref="WideBlock"/> with 3 stages of 16 words: 72 KB of dynamic shared memory.</summary>
    WideBlockThreeStages,
    /// <summary>The 128×256 block of <see cref="WideBlock"/> with 3 stages of 32 words: 144 KB of dynamic shared memory (within the A100's 163 KB and the H100's 227 KB opt-in limits).</summary>
    WideBlockDeepSlabs,
}

/// <summary>Where <see cref="IlgpuMmaGemm.Tf32"/> rounds its float32 operands to TF32 (<see cref="MmaGemmOptions.Tf32Rounding"/>); every choice gives the same result.</summary>
public enum MmaTf32Rounding
{
    /// <summary>
    /// The default: <see cref="Packed"/> where the product runs the warpgroup (<c>wgmma</c>) kernel (sm_90, M and N at
    /// least 4096), else <see cref="FragmentsConvert"/> on CUDA devices of compute capability 9.0 or newer and
    /// <see cref="Staged"/> elsewhere; the environment variable <c>EMBER_TF32_ROUNDING</c> (<c>staged</c>, <c>fragments</c>,
    /// <c>packed</c>, <c>convert</c>) overrides. H100, NN 4096 / 8192: <c>wgmma</c> 213k / 254k GFLOP/s packed against 170k /
    /// 191k rounding its stages; <c>mma.sync</c> 162k / 166k in registers against 115k / 122k staged.
    /// </summary>
    Auto,
    /// <summary>Each thread rounds the words it copied into a shared-memory stage before the barrier that publishes it (a load, four roundings and a store per 16-byte chunk).</summary>
    Staged,
    /// <summary>In registers, the fragment words each <c>mma</c> takes, with integer instructions: no shared-memory pass.</summary>
    Fragments,
    /// <summary>As <see cref="Fragments"/> with the hardware's <c>cvt.rn.tf32.f32</c> (sm_90 or newer; older devices fall back to <see cref="Fragments"/>).</summary>
    FragmentsConvert,
    /// <summary>
    /// Both operands rounded while the packing kernel copies them K-major (<c>MmaPackKernels.Pack</c>; one extra pass over
    /// an operand that was K-major already), then multiplied as they are, with no rounding work in the GEMM kernel: the
    /// tensor core's truncation of a rounded word is exact. With <see cref="MmaGemmOptions.KeepLayout"/>, <see cref="Staged"/>.
    /// </summary>
    Packed,
}
