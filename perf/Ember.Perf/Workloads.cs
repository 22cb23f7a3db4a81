using Ember.NN;
using Ember.Optim;

namespace Ember.Perf;

/// <summary>One benchmark workload: built once, then <see cref="Step"/> is timed.</summary>
public abstract class Workload
{
    /// <summary>Name as in DESIGN.md's table (e.g. "sgemm 1024").</summary>
    public abstract string Name { get; }
    /// <summary>Floating-point operations per step, when meaningful (for GFLOP/s).</summary>
    public virtual double Flops => 0;
    /// <summary>One timed step.</summary>
    public abstract void Step();
    /// <summary>
    /// When true (<c>--sync read</c>), <see cref="Sync"/> reads one element of the step's result to the host (a copy and a
    /// wait, as the older runs did); when false (the default), it waits for the device (<see cref="Device.Synchronize"/>),
    /// which is what compare.py's PyTorch side does (<c>torch.cuda.synchronize()</c>), so both sides time the same thing.
    /// </summary>
    public static bool SyncByRead { get; set; }

    /// <summary>The step's result; null before the first step.</summary>
    protected abstract Tensor? Result();

    /// <summary>Forces the step's pending device work to finish (see <see cref="SyncByRead"/>).</summary>
    public void Sync()
    {
        var r = Result();
        if (r is null) return;
        if (SyncByRead) _ = (r.Numel == 1 ? r : r.Reshape(-1)[0]).Item();
        else r.Device.Synchronize();
    }
}

/// <summary>N×N · N×N in float32 ("sgemm"), Float16 ("hgemm") or BFloat16 ("bgemm").</summary>
public sealed class SgemmWorkload(int n, Device device, DType dtype = DType.Float32) : Workload
{
    private readonly Tensor a = Tensor.Randn([n, n], device: device).To(dtype), b = Tensor.Randn([n, n], device: device).To(dtype);
    private Tensor? c;
    /// <inheritdoc/>
    public override string Name => $"{Prefix(dtype)}gemm {n}";
    /// <inheritdoc/>
    public override double Flops => 2.0 * n * n * n;
    /// <inheritdoc/>
    public override void Step() => c = a.MatMul(b);
    /// <inheritdoc/>
    protected override Tensor? Result() => c;

    /// <summary>BLAS's letter of a dtype: s, d, h (Float16), b (BFloat16).</summary>
    public static string Prefix(DType dtype) => dtype switch
    {
        DType.Float16 => "h", DType.BFloat16 => "b", DType.Float64 => "d", _ => "s",
    };
}

/// <summary>Exact GELU over 4M elements in float32, Float16 or BFloat16 (the elementwise path of each dtype).</summary>
public sealed class GeluWorkload(Device device, DType dtype) : Workload
{
    private readonly Tensor x = Tensor.Randn([4 << 20], device: device).To(dtype);
    private Tensor? y;
    /// <inheritdoc/>
    public override string Name => $"gelu {dtype}";
    /// <inheritdoc/>
    public override void Step() => y = x.Gelu();
    /// <inheritdoc/>
    protected override Tensor? Result() => y;
}

/// <summary>Shared training-step plumbing: forward, cross-entropy, backward, optimizer step.</summary>
public abstract class TrainStepWorkload : Workload
{
    /// <summary>The model.</summary>
    protected Module<Tensor, Tensor> Model = null!;
    /// <summary>The optimizer.</summary>
    protected Optimizer Opt = null!;
    /// <summary>Inputs.</summary>
    protected Tensor X = null!;
    /// <summary>Class targets (Int64).</summary>
    protected Tensor Y = null!;
    private Tensor? loss;

    /// <summary>
    /// When set (<c>Ember.Perf --amp bf16|fp16</c>), the forward pass and the loss run under <see cref="Autocast"/> in
    /// this dtype (float32 master weights; no GradScaler: the step's cost without loss scaling).
    /// </summary>
    public static DType? Amp { get; set; }

    /// <summary>
    /// When set (<c>Ember.Perf --small</c>), mlp, cnn and gpt are built with the same layers but small widths and batches,
    /// so that a step finishes quickly on <c>ilgpu-cpu</c>: for counting launches and host reads per step, not for timing
    /// (the counts equal the full-size ones except where a kernel choice depends on the size).
    /// </summary>
    public static bool Small { get; set; }

    /// <summary>Logits from the model for the loss (override for sequence models).</summary>
    protected virtual Tensor Loss() => Functional.CrossEntropy(Model.Forward(X), Y);

    /// <inheritdoc/>
    public override void Step()
    {
        using (Amp is { } lowp ? Autocast.Enable(X.Device, lowp) : null) loss = Loss();
        Opt.ZeroGrad();
        loss.Backward();
        Opt.Step();
    }

    /// <inheritdoc/>
    protected override Tensor? Result() => loss;
}

/// <summary>784-1024-1024-10 MLP, ReLU, batch 256, cross-entropy, SGD momentum 0.9.</summary>
public sealed class MlpWorkload : TrainStepWorkload
{
    /// <summary>Builds the model on the device.</summary>
    public MlpWorkload(Device device)
    {
        int h = Small ? 64 : 1024, b = Small ? 8 : 256;
        Model = new Sequential(new Linear(784, h), new ReLU(), new Linear(h, h), new ReLU(), new Linear(h, 10));
        Model.To(device);
        Opt = new SGD(Model.Parameters(), lr: 0.01, momentum: 0.9);
        X = Tensor.Randn([b, 784], device: device);
        Y = Tensor.RandInt(0, 10, [b], device: device);
    }
    /// <inheritdoc/>
    public override string Name => "mlp_train_step";
}

/// <summary>DESIGN.md's small CNN on batch 64 of 3×32×32 with Adam.</summary>
public sealed class CnnWorkload : TrainStepWorkload
{
    /// <summary>Builds the model on the device.</summary>
    public CnnWorkload(Device device)
    {
        Model = new Sequential(
            new Conv2d(3, 32, 3, padding: 1), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
            new Conv2d(32, 64, 3, padding: 1), new BatchNorm2d(64), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Linear(4096, 256), new ReLU(), new Linear(256, 10));
        Model.To(device);
        Opt = new Adam(Model.Parameters(), lr: 1e-3);
        int b = Small ? 2 : 64;
        X = Tensor.Randn([b, 3, 32, 32], device: device);
        Y = Tensor.RandInt(0, 10, [b], device: device);
    }
    /// <inheritdoc/>
    public override string Name => "cnn_train_step";
}

/// <summary>4 pre-LN transformer blocks, d=256, 4 heads, MLP 4d GELU, vocab 256, context 128, batch 16, causal, AdamW.</summary>
public sealed class GptWorkload : TrainStepWorkload
{
    /// <summary>Builds the model on the device.</summary>
    public GptWorkload(Device device)
    {
        int dim = Small ? 32 : 256, context = Small ? 16 : 128, b = Small ? 2 : 16;
        Model = new MiniGpt(vocab: 256, context: context, dim: dim, heads: 4, layers: 4);
        Model.To(device);
        Opt = new AdamW(Model.Parameters(), lr: 3e-4);
        X = Tensor.RandInt(0, 256, [b, context], device: device);
        Y = Tensor.RandInt(0, 256, [b, context], device: device);
    }
    /// <inheritdoc/>
    protected override Tensor Loss() => Functional.CrossEntropy(Model.Forward(X).Reshape(-1, 256), Y.Reshape(-1));
    /// <inheritdoc/>
    public override string Name => "gpt_train_step";
}

/// <summary>Conv2d forward+backward: batch 64, 32→64 channels, 3×3, 32×32, padding 1.</summary>
public sealed class Conv2dWorkload : Workload
{
    private readonly Conv2d conv = new(32, 64, 3, padding: 1);
    private readonly Tensor x;
    private Tensor? y;
    /// <summary>Builds the layer on the device.</summary>
    public Conv2dWorkload(Device device)
    {
        conv.To(device);
        x = Tensor.Randn([64, 32, 32, 32], device: device, requiresGrad: true);
    }
    /// <inheritdoc/>
    public override string Name => "conv2d_fwd_bwd";
    /// <inheritdoc/>
    public override double Flops => 3 * 2.0 * 64 * 64 * 32 * 32 * 32 * 9;
    /// <inheritdoc/>
    public override void Step() { y = conv.Forward(x).Sum(); y.Backward(); }
    /// <inheritdoc/>
    protected override Tensor? Result() => y;
}

/// <summary>Softmax over the last dim of [4096, 1024] (forward only).</summary>
public sealed class SoftmaxWorkload(Device device) : Workload
{
    private readonly Tensor x = Tensor.Randn([4096, 1024], device: device);
    private Tensor? y;
    /// <inheritdoc/>
    public override string Name => "softmax";
    /// <inheritdoc/>
    public override void Step() => y = x.Softmax(-1);
    /// <inheritdoc/>
    protected override Tensor? Result() => y;
}

/// <summary>LayerNorm over the last dim of [4096, 1024] (forward only).</summary>
public sealed class LayerNormWorkload : Workload
{
    private readonly LayerNorm ln = new(1024);
    private readonly Tensor x;
    private Tensor? y;
    /// <summary>Builds the layer on the device.</summary>
    public LayerNormWorkload(Device device) { ln.To(device); x = Tensor.Randn([4096, 1024], device: device); }
    /// <inheritdoc/>
    public override string Name => "layernorm";
    /// <inheritdoc/>
    public override void Step() { using (Autograd.NoGrad()) y = ln.Forward(x); }
    /// <inheritdoc/>
    protected override Tensor? Result() => y;
}

/// <summary>Log-softmax over the last dim of [4096, 1024] (forward only).</summary>
public sealed class LogSoftmaxWorkload(Device device) : Workload
{
    private readonly Tensor x = Tensor.Randn([4096, 1024], device: device);
    private Tensor? y;
    /// <inheritdoc/>
    public override string Name => "log_softmax";
    /// <inheritdoc/>
    public override void Step() => y = x.LogSoftmax(-1);
    /// <inheritdoc/>
    protected override Tensor? Result() => y;
}

/// <summary>LayerNorm(1024) forward and backward over [4096, 1024] (gradients of x, weight and bias).</summary>
public sealed class LayerNormBackwardWorkload : Workload
{
    private readonly LayerNorm ln = new(1024);
    private readonly Tensor x, g;
    /// <summary>Builds the layer on the device.</summary>
    public LayerNormBackwardWorkload(Device device)
    {
        ln.To(device);
        x = Tensor.Randn([4096, 1024], device: device).RequiresGrad_();
        g = Tensor.Randn([4096, 1024], device: device);
    }
    /// <inheritdoc/>
    public override string Name => "layernorm_fwd_bwd";
    /// <inheritdoc/>
    public override void Step() { x.Grad = null; ln.ZeroGrad(); (ln.Forward(x) * g).Sum().Backward(); }
    /// <inheritdoc/>
    protected override Tensor? Result() => x.Grad;
}

/// <summary>Cross-entropy of [4096, 1024] logits against class targets, forward and backward.</summary>
public sealed class CrossEntropyWorkload : Workload
{
    private readonly Tensor x, y;
    /// <summary>Builds the inputs on the device.</summary>
    public CrossEntropyWorkload(Device device)
    {
        x = Tensor.Randn([4096, 1024], device: device).RequiresGrad_();
        y = Tensor.RandInt(0, 1024, [4096], device: device);
    }
    /// <inheritdoc/>
    public override string Name => "cross_entropy_fwd_bwd";
    /// <inheritdoc/>
    public override void Step() { x.Grad = null; Functional.CrossEntropy(x, y).Backward(); }
    /// <inheritdoc/>
    protected override Tensor? Result() => x.Grad;
}

/// <summary>
/// Sort of [4096, 1024] float32 along the last dim (values and indices). With <paramref name="host"/> the permutation
/// comes from the host composite (<see cref="CompositeKernels.Argsort"/>: copy to the host, sort, copy back), the path
/// every ILGPU sort took before the device kernel; without it from the device's <see cref="IBackend.Argsort"/>.
/// </summary>
public sealed class SortWorkload(Device device, bool host) : Workload
{
    private readonly Tensor x = Tensor.Randn([4096, 1024], device: device);
    private Tensor? y;
    /// <inheritdoc/>
    public override string Name => host ? "sort (host)" : "sort";
    /// <inheritdoc/>
    public override void Step()
    {
        if (!host) { y = x.Sort(-1).Values; return; }
        var keys = x.To(DType.Float64);
        var idx = Tensor.Empty([4096, 1024], DType.Int64, device);
        CompositeKernels.Argsort(x.Backend, keys, idx, descending: false);
        y = x.Gather(1, idx);
    }
    /// <inheritdoc/>
    protected override Tensor? Result() => y;
}
