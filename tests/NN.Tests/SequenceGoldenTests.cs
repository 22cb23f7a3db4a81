using System.Text.Json.Nodes;

namespace Ember.NN.Tests;

/// <summary>RNN/LSTM/GRU, MultiheadAttention and the transformer modules against PyTorch (layers.json and sequence.json from nn_gen.py).</summary>
public class SequenceGoldenTests
{
    private static Tensor Opt(JsonObject c, string key) => Golden.T(c["options"]![key]);

    private static Tensor SubsequentMask(long n) => Transformer.GenerateSquareSubsequentMask(n, DType.Float64);

    private static Tensor[] Flat((Tensor Output, Tensor? Weights) r) => r.Weights is null ? [r.Output] : [r.Output, r.Weights];

    /// <summary>Each case: the module (created with the generator's options) and its forward from the golden inputs to the flat outputs.</summary>
    private static (Module Module, Func<Tensor[], JsonObject, Tensor[]> Forward)? Make(string name) => name switch
    {
        "rnn_tanh" => Rec(new RNN(3, 4, 2)),
        "rnn_relu_bi_bf" => Rec(new RNN(3, 4, nonlinearity: RnnNonlinearity.Relu, bidirectional: true, batchFirst: true)),
        "rnn_unbatched_h0_nobias" => Rec(new RNN(3, 4, bias: false)),
        "gru" => Rec(new GRU(3, 4, 2, bidirectional: true, batchFirst: true)),
        "gru_h0" => Rec(new GRU(3, 4)),
        "lstm" => Lstm(new LSTM(3, 4, 2, bidirectional: true)),
        "lstm_h0_bf" => Lstm(new LSTM(3, 2, batchFirst: true)),
        "lstm_bi2_bf_h0" => Lstm(new LSTM(3, 2, 2, bidirectional: true, batchFirst: true)),
        "lstm_proj_bi2_h0" => Lstm(new LSTM(3, 4, 2, bidirectional: true, projSize: 2)),
        "mha" => M(new MultiheadAttention(8, 2), (m, x, c) => Flat(m.Forward(x[0], x[1], x[2]))),
        "mha_masks_bf" => M(new MultiheadAttention(6, 3, batchFirst: true), (m, x, c) =>
            Flat(m.Forward(x[0], x[0], x[0], Opt(c, "key_padding_mask"), attnMask: Tensor.Ones([5, 5], DType.Bool).Triu(1)))),
        "mha_floatmask_perhead" => M(new MultiheadAttention(8, 2), (m, x, c) =>
            Flat(m.Forward(x[0], x[1], x[2], Opt(c, "key_padding_mask"), attnMask: Opt(c, "attn_mask"), averageAttnWeights: false))),
        "mha_cross_bf_noweights_nobias" => M(new MultiheadAttention(6, 2, bias: false, batchFirst: true), (m, x, c) =>
            Flat(m.Forward(x[0], x[1], x[1], needWeights: false))),
        "mha_kdim_vdim_kpm" => M(new MultiheadAttention(6, 2, kdim: 4, vdim: 5), (m, x, c) =>
            Flat(m.Forward(x[0], x[1], x[2], Opt(c, "key_padding_mask")))),
        "mha_unbatched_boolmask3d" => M(new MultiheadAttention(6, 3), (m, x, c) =>
            Flat(m.Forward(x[0], x[0], x[0], attnMask: Opt(c, "attn_mask"), averageAttnWeights: false))),
        "encoder_layer" => M(new TransformerEncoderLayer(8, 2, 16, 0.0), (m, x, c) => [m.Forward(x[0])]),
        "encoder_layer_normfirst_gelu_bf" => M(new TransformerEncoderLayer(8, 2, 16, 0.0, TransformerActivation.Gelu, normFirst: true, batchFirst: true),
            (m, x, c) => [m.Forward(x[0])]),
        "encoder_stack_kpm" => M(new TransformerEncoder(new TransformerEncoderLayer(8, 2, 16, 0.0), 2, new LayerNorm(8)),
            (m, x, c) => [m.Forward(x[0], null, Opt(c, "src_key_padding_mask"))]),
        "decoder_layer" => M(new TransformerDecoderLayer(8, 2, 16, 0.0), (m, x, c) => [m.Forward(x[0], x[1], tgtMask: SubsequentMask(4))]),
        "decoder_layer_normfirst_gelu_bf_kpm" => M(new TransformerDecoderLayer(8, 2, 16, 0.0, TransformerActivation.Gelu, normFirst: true, batchFirst: true),
            (m, x, c) => [m.Forward(x[0], x[1], tgtMask: SubsequentMask(4), tgtKeyPaddingMask: Opt(c, "tgt_key_padding_mask"),
                memoryKeyPaddingMask: Opt(c, "memory_key_padding_mask"))]),
        "transformer" => M(new Transformer(8, 2, 2, 1, 16, 0.0, batchFirst: true), (m, x, c) => [m.Forward(x[0], x[1], tgtMask: SubsequentMask(4))]),
        _ => null,
    };

    private static (Module, Func<Tensor[], JsonObject, Tensor[]>) M<T>(T m, Func<T, Tensor[], JsonObject, Tensor[]> f) where T : Module =>
        (m, (x, c) => f(m, x, c));

    private static (Module, Func<Tensor[], JsonObject, Tensor[]>) Rec(RNNBase<Tensor> m) => (m, (x, c) =>
    {
        var (o, h) = m switch
        {
            RNN r => r.Forward(x[0], x.Length > 1 ? x[1] : null),
            GRU g => g.Forward(x[0], x.Length > 1 ? x[1] : null),
            _ => throw new InvalidOperationException(),
        };
        return [o, h];
    });

    private static (Module, Func<Tensor[], JsonObject, Tensor[]>) Lstm(LSTM m) => (m, (x, c) =>
    {
        var (o, (h, cc)) = m.Forward(x[0], x.Length > 1 ? (x[1], x[2]) : null);
        return [o, h, cc];
    });

    public static IEnumerable<TestCaseData> Cases =>
        Golden.Names("layers").Concat(Golden.Names("sequence")).Where(n => Make(n) != null)
            .Select(n => new TestCaseData(Golden.Names("layers").Contains(n) ? "layers" : "sequence", n));

    [TestCaseSource(nameof(Cases))]
    public void ForwardAndBackwardMatchPyTorch(string file, string name)
    {
        var c = Golden.Case(file, name);
        var (module, forward) = Make(name)!.Value;
        var m = module.To(DType.Float64);
        m.LoadStateDict(c["params"]!.AsObject().ToDictionary(kv => kv.Key, kv => Golden.T(kv.Value)));
        var inputs = c["inputs"]!.AsArray().Select(n => { var t = Golden.T(n); return t.IsFloatingPoint ? t.RequiresGrad_() : t; }).ToArray();
        var outs = forward(inputs, c);
        var expOut = c["outputs"]!.AsArray();
        var gOut = c["grad_outputs"]!.AsArray();
        Assert.That(outs, Has.Length.EqualTo(expOut.Count), $"{name}: number of outputs");
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
        var pg = c["param_grads"]!.AsObject();
        Assert.That(named.Keys, Is.EquivalentTo(c["params"]!.AsObject().Select(kv => kv.Key)), $"{name}: parameter names");
        foreach (var (k, v) in pg)
            Golden.AssertClose(named[k].Grad!, Golden.T(v), 1e-9, 1e-7, $"{name} grad of {k}");
    }

    [Test]
    public void GenerateSquareSubsequentMaskMatchesPyTorch()
    {
        var c = Golden.Case("sequence", "square_subsequent_mask");
        var isNegInf = Golden.T(c["is_neg_inf"]).ToArray<bool>();
        Assert.That(c["rest_zero"]!.GetValue<bool>(), Is.True);
        var a = Golden.D(Transformer.GenerateSquareSubsequentMask(4, DType.Float64));
        Assert.That(a.Select(double.IsNegativeInfinity), Is.EqualTo(isNegInf));
        Assert.That(a.Where(v => !double.IsNegativeInfinity(v)), Is.All.EqualTo(0));
    }
}
