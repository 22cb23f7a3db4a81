namespace Ember.NN.Tests;

public class LayerGoldenTests
{
    private static Module? Make(string name) => name switch
    {
        "linear" => new Linear(4, 3),
        "linear_nobias_3d" => new Linear(4, 3, bias: false),
        "bilinear" => new Bilinear(3, 2, 4),
        "act_relu" => new ReLU(), "act_relu6" => new ReLU6(), "act_leaky_relu" => new LeakyReLU(0.2), "act_elu" => new ELU(0.7),
        "act_selu" => new SELU(), "act_gelu" => new GELU(), "act_gelu_tanh" => new GELU(GeluApproximate.Tanh), "act_silu" => new SiLU(),
        "act_mish" => new Mish(), "act_sigmoid" => new Sigmoid(), "act_tanh" => new Tanh(), "act_softplus" => new Softplus(2.0, 1.0),
        "act_hardtanh" => new Hardtanh(-0.5, 0.8), "act_softmax" => new Softmax(1), "act_log_softmax" => new LogSoftmax(-1),
        "conv1d" => new Conv1d(2, 3, 3, stride: 2, padding: 1),
        "conv1d_same_dil" => new Conv1d(2, 4, 3, dilation: 2, groups: 2, paddingMode: PaddingMode.Same),
        "conv2d" => new Conv2d(2, 3, (3, 2), (2, 1), (1, 0)),
        "conv2d_groups_dil_nobias" => new Conv2d(4, 4, 3, padding: 2, dilation: 2, groups: 2, bias: false),
        "conv2d_same" => new Conv2d(2, 2, (2, 3), paddingMode: PaddingMode.Same),
        "conv_transpose2d" => new ConvTranspose2d(2, 3, 3, stride: 2, padding: 1, outputPadding: 1),
        "conv_transpose2d_groups" => new ConvTranspose2d(4, 2, 2, groups: 2, dilation: 2),
        "maxpool2d" => new MaxPool2d(3, 2, 1),
        "maxpool2d_ceil" => new MaxPool2d(2, ceilMode: true),
        "maxpool1d" => new MaxPool1d(2),
        "avgpool2d" => new AvgPool2d(3, 2, 1),
        "avgpool2d_nopad_count" => new AvgPool2d(3, 2, 1, countIncludePad: false),
        "avgpool1d" => new AvgPool1d(3, 2),
        "adaptive_avgpool2d" => new AdaptiveAvgPool2d((2, 3)),
        "batchnorm1d_train" => new BatchNorm1d(3, momentum: 0.2),
        "batchnorm1d_3d_train" => new BatchNorm1d(3),
        "batchnorm2d_eval" => new BatchNorm2d(2).Eval(),
        "batchnorm2d_train" => new BatchNorm2d(2),
        "layernorm" => new LayerNorm([3, 4]),
        "layernorm_noaffine" => new LayerNorm(5, elementwiseAffine: false),
        "groupnorm" => new GroupNorm(2, 4),
        "embedding" => new Embedding(6, 3, paddingIdx: 1),
        "unflatten" => new Unflatten(1, 2, 3),
        "flatten" => new Flatten(),
        _ => null,
    };

    public static IEnumerable<string> Cases => Golden.Names("layers").Where(n => Make(n) != null);

    [TestCaseSource(nameof(Cases))]
    public void ForwardAndBackwardMatchPyTorch(string name)
    {
        var c = Golden.Case("layers", name);
        var m = Make(name)!.To(DType.Float64);
        var sd = c["params"]!.AsObject().ToDictionary(kv => kv.Key, kv => Golden.T(kv.Value));
        m.LoadStateDict(sd);
        var inputs = c["inputs"]!.AsArray().Select(n => { var t = Golden.T(n); return t.IsFloatingPoint ? t.RequiresGrad_() : t; }).ToArray();
        Tensor[] outs = m switch
        {
            Module<Tensor, Tensor> mm => [mm.Forward(inputs[0])],
            Bilinear b => [b.Forward(inputs[0], inputs[1])],
            _ => throw new InvalidOperationException(),
        };
        var expOut = c["outputs"]!.AsArray();
        var gOut = c["grad_outputs"]!.AsArray();
        Tensor? loss = null;
        for (int i = 0; i < outs.Length; i++)
        {
            Golden.AssertClose(outs[i], Golden.T(expOut[i]), 1e-9, 1e-7, $"{name} output {i}");
            var term = (outs[i] * Golden.T(gOut[i])).Sum();
            loss = loss is null ? term : loss + term;
        }
        loss!.Backward();
        var ig = c["input_grads"]!.AsArray();
        for (int i = 0; i < inputs.Length; i++)
            if (ig[i] is { } e) Golden.AssertClose(inputs[i].Grad!, Golden.T(e), 1e-9, 1e-7, $"{name} input grad {i}");
        var named = m.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        foreach (var (k, v) in c["param_grads"]!.AsObject())
            Golden.AssertClose(named[k].Grad!, Golden.T(v), 1e-9, 1e-7, $"{name} grad of {k}");
        var after = m.StateDict();
        foreach (var (k, v) in c["state_after"]!.AsObject())
            Golden.AssertClose(after[k], Golden.T(v), 1e-9, 1e-7, $"{name} state {k} after forward");
    }

    [Test]
    public void DropoutTrainEvalAndScaling()
    {
        Tensor.ManualSeed(7);
        var d = new Dropout(0.25);
        var x = Tensor.Ones(4000);
        var y = d.Forward(x).ToArray<float>();
        int zeros = y.Count(v => v == 0);
        Assert.That(y.Where(v => v != 0), Is.All.EqualTo(1 / 0.75f).Within(1e-6));
        Assert.That(zeros, Is.InRange(800, 1200));
        d.Eval();
        Assert.That(ReferenceEquals(d.Forward(x), x) || d.Forward(x).ToArray<float>().All(v => v == 1), Is.True);
    }

    [Test]
    public void BatchNormEvalUsesRunningStatsAndTrainUpdatesThem()
    {
        var bn = new BatchNorm1d(2);
        var x = Tensor.FromArray([1f, 2f, 3f, 6f], 2, 2);
        bn.Forward(x);
        Assert.That(bn.RunningMean!.ToArray<float>(), Is.EqualTo(new[] { 0.2f, 0.4f }).Within(1e-6));
        Assert.That(bn.GetBuffer("num_batches_tracked")!.Item(), Is.EqualTo(1));
        bn.Eval();
        var y = bn.Forward(x).ToArray<float>();
        // eval: (x − running_mean)/√(running_var + eps)
        double rv0 = 0.9 + 0.1 * 2;
        Assert.That(y[0], Is.EqualTo((1 - 0.2) / Math.Sqrt(rv0 + 1e-5)).Within(1e-5));
        Assert.That(bn.GetBuffer("num_batches_tracked")!.Item(), Is.EqualTo(1));
    }
}
