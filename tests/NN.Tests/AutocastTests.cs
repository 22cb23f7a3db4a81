using Ember.NN;

namespace Ember.NN.Tests;

/// <summary>
/// Autocast against PyTorch 1.13's <c>torch.autocast("cpu", dtype=torch.bfloat16)</c> (tests/golden/amp_gen.py →
/// golden/nn/autocast_cpu.json), its scopes, and gradients under autocast against float32 ones.
/// </summary>
public class AutocastTests
{
    private static Tensor R(DType d, params long[] shape) => Tensor.Randn(shape).To(d);
    private static Tensor Pos(DType d, params long[] shape) => (Tensor.Rand(shape) + 0.1).To(d);
    private static Tensor Probs(DType d, params long[] shape) => (Tensor.Rand(shape) * 0.8 + 0.1).To(d);
    private static readonly DType F = DType.Float32, B = DType.BFloat16;
    private static Tensor Idx => Tensor.FromArray(new long[] { 0, 2, 1 });

    // The cases of amp_gen.py, by name: each builds its inputs in dtype d (or mixed) and runs the op.
    private static readonly Dictionary<string, Func<DType, Tensor>> Cases = new()
    {
        ["matmul"] = d => R(d, 3, 4).MatMul(R(d, 4, 5)),
        ["mm"] = d => R(d, 3, 4).Mm(R(d, 4, 5)),
        ["bmm"] = d => R(d, 2, 3, 4).Bmm(R(d, 2, 4, 5)),
        ["baddbmm"] = d => R(d, 2, 3, 5).Baddbmm(R(d, 2, 3, 4), R(d, 2, 4, 5)),
        ["addmm"] = d => R(d, 3, 5).Addmm(R(d, 3, 4), R(d, 4, 5)),
        ["linear"] = d => Functional.Linear(R(d, 3, 4), R(d, 5, 4), R(d, 5)),
        ["linear_nobias"] = d => Functional.Linear(R(d, 3, 4), R(d, 5, 4)),
        ["conv1d"] = d => Functional.Conv1d(R(d, 1, 2, 8), R(d, 3, 2, 3), R(d, 3)),
        ["conv2d"] = d => Functional.Conv2d(R(d, 1, 2, 5, 5), R(d, 3, 2, 3, 3), R(d, 3)),
        ["conv_transpose2d"] = d => Functional.ConvTranspose2d(R(d, 1, 2, 4, 4), R(d, 2, 3, 3, 3)),
        ["softmax"] = d => Functional.Softmax(R(d, 3, 4), -1),
        ["log_softmax"] = d => Functional.LogSoftmax(R(d, 3, 4), -1),
        ["cross_entropy"] = d => Functional.CrossEntropy(R(d, 3, 4), Idx),
        ["cross_entropy_probs"] = d => Functional.CrossEntropy(R(d, 3, 4), Probs(d, 3, 4)),
        ["nll_loss"] = d => Functional.NllLoss(R(d, 3, 4), Idx),
        ["mse_loss"] = d => Functional.MseLoss(R(d, 3, 4), R(d, 3, 4)),
        ["l1_loss"] = d => Functional.L1Loss(R(d, 3, 4), R(d, 3, 4)),
        ["smooth_l1_loss"] = d => Functional.SmoothL1Loss(R(d, 3, 4), R(d, 3, 4)),
        ["huber_loss"] = d => Functional.HuberLoss(R(d, 3, 4), R(d, 3, 4)),
        ["binary_cross_entropy"] = d => Functional.BinaryCrossEntropy(Probs(d, 3, 4), Probs(d, 3, 4)),
        ["binary_cross_entropy_with_logits"] = d => Functional.BinaryCrossEntropyWithLogits(R(d, 3, 4), Probs(d, 3, 4)),
        ["kl_div"] = d => Functional.KLDiv(R(d, 3, 4), Probs(d, 3, 4), KLDivReduction.BatchMean),
        ["layer_norm"] = d => Functional.LayerNorm(R(d, 3, 4), [4], R(d, 4), R(d, 4)),
        ["batch_norm"] = d => Functional.BatchNorm(R(d, 3, 4), null, null, R(d, 4), R(d, 4), training: true),
        ["batch_norm_mixed"] = d => Functional.BatchNorm(R(B, 3, 4), null, null, R(F, 4), R(F, 4), training: true),
        ["group_norm"] = d => Functional.GroupNorm(R(d, 2, 4, 3), 2, R(d, 4), R(d, 4)),
        ["exp"] = d => R(d, 3).Exp(),
        ["log"] = d => Pos(d, 3).Log(),
        ["pow"] = d => R(d, 3).Pow(2),
        ["pow_tensor"] = d => Pos(d, 3).Pow(R(d, 3)),
        ["sum"] = d => R(d, 3, 4).Sum(),
        ["sum_dim"] = d => R(d, 3, 4).Sum(1),
        ["mean"] = d => R(d, 3, 4).Mean(),
        ["cumsum"] = d => R(d, 3).Cumsum(0),
        ["prod"] = d => R(d, 3).Prod(),
        ["logsumexp"] = d => R(d, 3, 4).LogSumExp(1),
        ["softplus"] = d => Functional.Softplus(R(d, 3)),
        ["rsqrt"] = d => Pos(d, 3).Rsqrt(),
        ["relu"] = d => Functional.Relu(R(d, 3)),
        ["gelu"] = d => Functional.Gelu(R(d, 3)),
        ["tanh"] = d => R(d, 3).Tanh(),
        ["sigmoid"] = d => R(d, 3).Sigmoid(),
        ["max_pool2d"] = d => Functional.MaxPool2d(R(d, 1, 1, 4, 4), 2),
        ["avg_pool2d"] = d => Functional.AvgPool2d(R(d, 1, 1, 4, 4), 2),
        ["embedding"] = d => Functional.Embedding(Idx, R(d, 3, 4)),
        ["add_mixed"] = _ => R(B, 3) + R(F, 3),
        ["mul_mixed"] = _ => R(B, 3) * R(F, 3),
        ["sub_mixed"] = _ => R(F, 3) - R(B, 3),
        ["where_mixed"] = _ => Tensor.Where(Tensor.FromArray(new[] { true, false, true }), R(B, 3), R(F, 3)),
        ["maximum_mixed"] = _ => R(B, 3).Maximum(R(F, 3)),
        ["cat_mixed"] = _ => Tensor.Cat([R(B, 3), R(F, 3)]),
        ["stack_mixed"] = _ => Tensor.Stack([R(B, 3), R(F, 3)]),
        ["matmul_mixed"] = _ => R(B, 3, 4).MatMul(R(F, 4, 5)),
        ["linear_mixed"] = _ => Functional.Linear(R(B, 3, 4), R(F, 5, 4), R(F, 5)),
        ["mse_loss_mixed"] = _ => Functional.MseLoss(R(B, 3, 4), R(F, 3, 4)),
    };

    public static IEnumerable<TestCaseData> GoldenCases()
    {
        foreach (var (name, row) in Golden.File("autocast_cpu")["ops"]!.AsObject())
            foreach (var (inputs, dtype) in row!.AsObject())
                if (!inputs.EndsWith("_error", StringComparison.Ordinal))
                    yield return new TestCaseData(name, inputs, dtype!.GetValue<string>()).SetName($"DTypeMatchesPyTorch({name}, {inputs} inputs)");
    }

    [TestCaseSource(nameof(GoldenCases))]
    public void DTypeMatchesPyTorch(string op, string inputs, string expected)
    {
        Assert.That(Cases.ContainsKey(op), $"no Ember case for {op}");
        var d = inputs == "float32" ? DType.Float32 : DType.BFloat16;
        Tensor y;
        using (Autocast.Enable(DeviceType.Cpu, DType.BFloat16)) y = Cases[op](d);
        Assert.That(y.DType.TorchName(), Is.EqualTo("torch." + expected), $"{op} with {inputs} inputs under autocast(cpu, bfloat16)");
    }

    [Test]
    public void EveryCaseIsInTheGoldenFile() =>
        Assert.That(Cases.Keys, Is.EquivalentTo(Golden.File("autocast_cpu")["ops"]!.AsObject().Select(kv => kv.Key)));

    [Test]
    public void ScopesNestAndRestore()
    {
        var a = R(F, 2, 3); var b = R(F, 3, 2);
        Assert.That(Autocast.IsEnabled(DeviceType.Cpu), Is.False);
        using (Autocast.Enable(DeviceType.Cpu))
        {
            Assert.That((Autocast.IsEnabled(DeviceType.Cpu), Autocast.GetDType(DeviceType.Cpu)), Is.EqualTo((true, DType.BFloat16)));
            Assert.That(a.MatMul(b).DType, Is.EqualTo(DType.BFloat16));
            using (Autocast.Enable(DeviceType.Cpu, enabled: false))
            {
                Assert.That(Autocast.IsEnabled(DeviceType.Cpu), Is.False);
                Assert.That(a.MatMul(b).DType, Is.EqualTo(DType.Float32), "enabled: false inside an enabled scope");
            }
            using (Autocast.Enable(DeviceType.Cpu, DType.Float16))
                Assert.That(a.MatMul(b).DType, Is.EqualTo(DType.Float16), "an inner scope's dtype");
            Assert.That(a.MatMul(b).DType, Is.EqualTo(DType.BFloat16), "the outer scope again");
            using (Autocast.Enable(DeviceType.Cuda))
                Assert.That((a.MatMul(b).DType, Autocast.GetDType(DeviceType.Cuda)), Is.EqualTo((DType.BFloat16, DType.Float16)), "a CUDA scope leaves CPU tensors alone");
        }
        Assert.That(a.MatMul(b).DType, Is.EqualTo(DType.Float32));
        using (Autocast.Enable(DeviceType.Cuda)) Assert.That(a.MatMul(b).DType, Is.EqualTo(DType.Float32), "CPU tensors under a CUDA-only scope");
        Assert.Throws<ArgumentException>(() => Autocast.Enable(DeviceType.Cpu, DType.Float64));
    }

    [Test]
    public void ScopesArePerThread()
    {
        using (Autocast.Enable(DeviceType.Cpu))
        {
            var other = Task.Run(() => (Autocast.IsEnabled(DeviceType.Cpu), R(F, 2, 3).MatMul(R(F, 3, 2)).DType)).Result;
            // A Task started inside the scope inherits it through the execution context (as GradMode does); a new
            // thread started with a suppressed flow does not.
            Assert.That(other, Is.EqualTo((true, DType.BFloat16)));
            DType onThread = DType.Float64;
            using (ExecutionContext.SuppressFlow())
            {
                var t = new Thread(() => onThread = R(F, 2, 3).MatMul(R(F, 3, 2)).DType);
                t.Start(); t.Join();
            }
            Assert.That(onThread, Is.EqualTo(DType.Float32));
        }
    }

    [Test]
    public void GpuListsPutSoftmaxNormsAndReductionsInFloat32()
    {
        // The CUDA column of the table (PyTorch's documented lists), which the CPU column differs from.
        Assert.That(AutocastPolicies.For(AutocastOp.Softmax, DeviceType.Cuda), Is.EqualTo(AutocastPolicy.Float32));
        Assert.That(AutocastPolicies.For(AutocastOp.Softmax, DeviceType.Cpu), Is.EqualTo(AutocastPolicy.Promote));
        Assert.That(AutocastPolicies.For(AutocastOp.LayerNorm, DeviceType.IlgpuCpu), Is.EqualTo(AutocastPolicy.Float32));
        Assert.That(AutocastPolicies.For(AutocastOp.Sum, DeviceType.Cuda), Is.EqualTo(AutocastPolicy.Float32));
        Assert.That(AutocastPolicies.For(AutocastOp.ConvTranspose, DeviceType.Cuda), Is.EqualTo(AutocastPolicy.LowerPrecision));
        Assert.That(AutocastPolicies.For(AutocastOp.BinaryCrossEntropy, DeviceType.Cuda), Is.EqualTo(AutocastPolicy.Banned));
        foreach (var op in Enum.GetValues<AutocastOp>())
            foreach (var dt in Enum.GetValues<DeviceType>())
                Assert.DoesNotThrow(() => AutocastPolicies.For(op, dt), $"{op} on {dt} has a policy");
    }

    [Test]
    public void BackwardInsideTheScopeRunsInTheForwardDTypes()
    {
        var w = R(F, 4, 3).RequiresGrad_();
        var x = R(F, 2, 3);
        using (Autocast.Enable(DeviceType.Cpu))
        {
            var y = Functional.Linear(x, w);
            Assert.That(y.DType, Is.EqualTo(DType.BFloat16));
            y.Float().Sum().Backward();
        }
        Assert.That(w.Grad!.DType, Is.EqualTo(DType.Float32), "the gradient comes back in the parameter's dtype");
    }

    // A small MLP + cross-entropy: gradients of float32 master weights under autocast(bf16) vs plain float32.
    [Test]
    public void GradientsUnderAutocastAreWithinBFloat16ToleranceOfFloat32()
    {
        Tensor.ManualSeed(3);
        var model = new Sequential(new Linear(16, 32), new ReLU(), new Linear(32, 32), new GELU(), new LayerNorm([32]), new Linear(32, 5));
        var x = Tensor.Randn(8, 16);
        var y = Tensor.FromArray(new long[] { 0, 1, 2, 3, 4, 0, 1, 2 });
        var ps = model.Parameters().ToList();

        Functional.CrossEntropy(model.Forward(x), y).Backward();
        var reference = ps.Select(p => p.Grad!.ToArray<float>()).ToList();
        model.ZeroGrad();

        Tensor loss;
        using (Autocast.Enable(DeviceType.Cpu)) loss = Functional.CrossEntropy(model.Forward(x), y);
        Assert.That(loss.DType, Is.EqualTo(DType.Float32));
        loss.Backward();
        for (int i = 0; i < ps.Count; i++)
        {
            Assert.That(ps[i].Grad!.DType, Is.EqualTo(DType.Float32), $"parameter {i}: float32 master gradient");
            var g = ps[i].Grad!.ToArray<float>();
            double scale = reference[i].Max(v => Math.Abs(v));
            // bfloat16 keeps 8 significant bits (relative step 2⁻⁸ ≈ 0.4%); a few roundings through three layers and back:
            // within 3% of the largest gradient element.
            double err = g.Zip(reference[i], (a, b) => Math.Abs(a - b)).Max();
            Assert.That(err, Is.LessThanOrEqualTo(0.03 * scale + 1e-6), $"parameter {i}: max |Δ| {err:g3} vs max |g| {scale:g3}");
            Assert.That(err, Is.GreaterThan(0), $"parameter {i}: autocast changed the arithmetic (the products ran in bfloat16)");
        }
    }
}
