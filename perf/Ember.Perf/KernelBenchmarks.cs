using BenchmarkDotNet.Attributes;
using Ember.NN;

namespace Ember.Perf;

/// <summary>
/// BenchmarkDotNet micro benchmarks of single CPU kernels, with allocations per op (MemoryDiagnoser).
/// Run: <c>dotnet run -c Release --project perf/Ember.Perf -- --bdn [--filter *Softmax*]</c>.
/// </summary>
[MemoryDiagnoser]
public class KernelBenchmarks
{
    private Tensor a = null!, b = null!, rows = null!, row = null!, img = null!;
    private LayerNorm ln = null!;
    private Conv2d conv = null!;

    /// <summary>Builds the inputs once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        Tensor.ManualSeed(0);
        a = Tensor.Randn(512, 512); b = Tensor.Randn(512, 512);
        rows = Tensor.Randn(1024, 1024); row = Tensor.Randn(1024);
        img = Tensor.Randn(16, 32, 32, 32);
        ln = new LayerNorm(1024);
        conv = new Conv2d(32, 64, 3, padding: 1);
    }

    /// <summary>float32 512³ matrix product (packed GEMM).</summary>
    [Benchmark] public Tensor Sgemm512() => a.MatMul(b);
    /// <summary>Broadcast add [1024,1024] + [1024].</summary>
    [Benchmark] public Tensor BroadcastAdd() => rows + row;
    /// <summary>Transposed copy of [1024,1024].</summary>
    [Benchmark] public Tensor TransposeCopy() => rows.T.Contiguous();
    /// <summary>Row sums of [1024,1024].</summary>
    [Benchmark] public Tensor SumRows() => rows.Sum(1);
    /// <summary>Softmax over rows of [1024,1024].</summary>
    [Benchmark] public Tensor Softmax() => rows.Softmax(-1);
    /// <summary>Exact GELU of [1024,1024].</summary>
    [Benchmark] public Tensor Gelu() => rows.Gelu();
    /// <summary>LayerNorm forward of [1024,1024] (no grad).</summary>
    [Benchmark] public Tensor LayerNormForward() { using (Autograd.NoGrad()) return ln.Forward(rows); }
    /// <summary>Conv2d 32→64, 3×3, batch 16 of 32×32 (no grad).</summary>
    [Benchmark] public Tensor Conv2dForward() { using (Autograd.NoGrad()) return conv.Forward(img); }
}
