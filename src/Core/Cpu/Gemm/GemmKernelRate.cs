using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Ember.Cpu;

/// <summary>
/// How fast one core runs the float GEMM kernels while <c>threads</c> cores run them at once, without packing, splitting
/// or waiting: the micro-kernel on one A and one B micro-panel 128 deep (in L1: the core's compute rate, which falls with
/// the clock or a shared core), and the macro-kernel on the driver's own blocks (an MC x KC A block and a KC x 512 B
/// block, in L2: the rate the driver's blocking allows). Compared at 1 and 16 threads it tells whether a GEMM slows at
/// many threads in the kernel itself (clock, caches) or around it (Ember.Perf <c>--kernel-rate</c>).
/// </summary>
internal static unsafe class GemmKernelRate
{
    /// <summary>
    /// GFLOP/s per thread of the micro-kernel (<paramref name="macro"/> false) or the macro-kernel (true) with
    /// <paramref name="threads"/> threads running it at once for about <paramref name="seconds"/> seconds each.
    /// </summary>
    public static double Measure(int threads, bool macro, double seconds)
    {
        if (Kernel512<float, Avx512SingleShape>.IsSupported)
            return Rate<Kernel512<float, Avx512SingleShape>>.Measure(threads, macro, seconds);
        if (Kernel256<float, Avx2SingleShape>.IsSupported)
            return Rate<Kernel256<float, Avx2SingleShape>>.Measure(threads, macro, seconds);
        return Rate<Kernel128<float, PortableShape>>.Measure(threads, macro, seconds);
    }

    private static class Rate<TK> where TK : struct, IGemmKernel<float>
    {
        public static double Measure(int threads, bool macro, double seconds)
        {
            threads = Math.Max(1, threads);
            Job job = default;
            job.Macro = macro;
            job.Ticks = (long)(seconds * Stopwatch.Frequency);
            double* rates = stackalloc double[threads];
            job.Rates = rates;
            GemmWorkers.Run(threads, &Piece, &job);
            double sum = 0;
            for (int i = 0; i < threads; i++)
                sum += rates[i];
            return sum / threads;
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static void Piece(void* context, int part)
        {
            var job = (Job*)context;
            int mr = TK.MR, nr = TK.NR;
            int kc = job->Macro ? GemmDriver<float, TK>.Kc : 128;
            int mc = job->Macro ? GemmBlocking.PrivateMc(mr, kc, sizeof(float), TK.MC) : mr;
            int nc = job->Macro ? 16 * nr : nr;
            // Each thread's own buffers, first touched here, so they live in this core's caches.
            long aLength = (long)mc * kc + 16, bLength = (long)kc * nc, cLength = (long)mc * nc + mr * nr;
            float* memory = (float*)NativeMemory.AlignedAlloc((nuint)((aLength + bLength + cLength) * sizeof(float)), 64);
            try
            {
                float* a = memory, b = a + aLength, c = b + bLength, tile = c + (long)mc * nc;
                // Small normal values: C grows by about kc * 1e-6 per call and never overflows or goes subnormal.
                new Span<float>(a, (int)(aLength + bLength)).Fill(1e-3f);
                new Span<float>(c, (int)cLength).Clear();
                long flops = 0, start = Stopwatch.GetTimestamp(), now = start;
                while (now - start < job->Ticks)
                {
                    for (int i = 0; i < 16; i++)
                    {
                        if (job->Macro)
                            GemmDriver<float, TK>.MacroKernel(a, b, tile, mc, nc, kc, c, nc, 1, 1f, 1f);
                        else
                            TK.Run(kc, a, b, c, nr, 1f, 1f, false);
                    }
                    flops += 16L * 2 * mc * nc * kc;
                    now = Stopwatch.GetTimestamp();
                }
                job->Rates[part] = flops / ((now - start) / (double)Stopwatch.Frequency) / 1e9;
            }
            finally
            {
                NativeMemory.AlignedFree(memory);
            }
        }
    }

    private struct Job
    {
        public bool Macro;
        public long Ticks;
        public double* Rates;
    }
}
