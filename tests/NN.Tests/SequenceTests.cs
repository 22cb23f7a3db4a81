namespace Ember.NN.Tests;

/// <summary>GradCheck, mask equivalences, names, initialization and validation of the recurrent and attention modules.</summary>
public class SequenceTests
{
    private static Tensor R(Generator g, params long[] shape) => Tensor.Randn(shape, DType.Float64, Device.Cpu, false, g);

    [Test]
    public void LstmGradCheckInputsStatesAndParameters()
    {
        var g = new Generator(11);
        var lstm = (LSTM)new LSTM(2, 2).To(DType.Float64);
        var x = R(g, 3, 1, 2).RequiresGrad_();
        var h0 = R(g, 1, 1, 2).RequiresGrad_();
        var c0 = R(g, 1, 1, 2).RequiresGrad_();
        var w = (R(g, 3, 1, 2), R(g, 1, 1, 2), R(g, 1, 1, 2));
        Tensor F(Tensor[] a)
        {
            var (o, (h, c)) = lstm.Forward(a[0], (a[1], a[2]));
            return (o * w.Item1).Sum() + (h * w.Item2).Sum() + (c * w.Item3).Sum();
        }
        Assert.That(GradCheck.Check(F, [x, h0, c0, .. lstm.Parameters()]), Is.True);
    }

    [Test]
    public void GruAndBidirectionalRnnGradCheck()
    {
        var g = new Generator(12);
        var gru = (GRU)new GRU(2, 2, bidirectional: true).To(DType.Float64);
        var x = R(g, 2, 1, 2).RequiresGrad_();
        var wo = R(g, 2, 1, 4);
        Assert.That(GradCheck.Check(a => (gru.Forward(a[0]).Output * wo).Sum(), [x, .. gru.Parameters()]), Is.True);
        var rnn = (RNN)new RNN(2, 2, 2).To(DType.Float64);
        Assert.That(GradCheck.Check(a => (rnn.Forward(a[0]).Hidden).Sum(), [x, .. rnn.Parameters()]), Is.True);
    }

    [Test]
    public void MultiheadAttentionGradCheckWithMasks()
    {
        var g = new Generator(13);
        var mha = (MultiheadAttention)new MultiheadAttention(4, 2).To(DType.Float64);
        var q = R(g, 2, 2, 4).RequiresGrad_();
        var k = R(g, 3, 2, 4).RequiresGrad_();
        var v = R(g, 3, 2, 4).RequiresGrad_();
        var kpm = Tensor.FromArray([false, false, true, false, false, false]).Reshape(2, 3);
        var mask = R(g, 2, 3);
        var wo = R(g, 2, 2, 4);
        var ww = R(g, 2, 2, 3);
        Tensor F(Tensor[] a)
        {
            var (o, wts) = mha.Forward(a[0], a[1], a[2], kpm, attnMask: mask);
            return (o * wo).Sum() + (wts! * ww).Sum();
        }
        Assert.That(GradCheck.Check(F, [q, k, v, .. mha.Parameters()]), Is.True);
        var sep = (MultiheadAttention)new MultiheadAttention(4, 2, kdim: 3, vdim: 2).To(DType.Float64);
        var k3 = R(g, 3, 2, 3).RequiresGrad_();
        var v2 = R(g, 3, 2, 2).RequiresGrad_();
        Assert.That(GradCheck.Check(a => (sep.Forward(a[0], a[1], a[2], kpm).Output * wo).Sum(), [q, k3, v2, .. sep.Parameters()]), Is.True);
    }

    [Test]
    public void IsCausalEqualsTheBoolCausalMaskAndFloatPaddingMaskEqualsBool()
    {
        var g = new Generator(14);
        var mha = (MultiheadAttention)new MultiheadAttention(6, 2, batchFirst: true).To(DType.Float64);
        var x = R(g, 2, 4, 6);
        var causal = mha.Forward(x, x, x, isCausal: true);
        var masked = mha.Forward(x, x, x, attnMask: Tensor.Ones([4, 4], DType.Bool).Triu(1));
        Golden.AssertClose(causal.Output, masked.Output, 1e-12, 0, "isCausal output");
        Golden.AssertClose(causal.Weights!, masked.Weights!, 1e-12, 0, "isCausal weights");
        Assert.That(Golden.D(causal.Weights![0, 0]).Skip(1), Is.All.EqualTo(0), "first query attends only to the first key");

        var kpmBool = Tensor.FromArray([false, true, false, false, false, false, false, true]).Reshape(2, 4);
        var kpmFloat = Tensor.Zeros([2, 4], DType.Float64).MaskedFill(kpmBool, double.NegativeInfinity);
        var a = mha.Forward(x, x, x, kpmBool);
        var b = mha.Forward(x, x, x, kpmFloat);
        Golden.AssertClose(a.Output, b.Output, 1e-12, 0, "float key padding mask");
        Assert.That(Golden.D(a.Weights!.Select(2, 1)).Take(4), Is.All.EqualTo(0), "padded key 1 of batch 0 gets no weight");
    }

    [Test]
    public void MultiheadAttentionNamesInitAndValidation()
    {
        var mha = new MultiheadAttention(8, 2);
        Assert.That(mha.StateDict().Keys, Is.EqualTo(new[] { "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias" }));
        Assert.That(mha.InProjWeight!.Shape, Is.EqualTo(new Shape(24, 8)));
        Assert.That(Golden.D(mha.InProjBias!), Is.All.EqualTo(0));
        Assert.That(Golden.D(mha.OutProj.Bias!), Is.All.EqualTo(0));
        double bound = Math.Sqrt(6.0 / (8 + 24));
        Assert.That(Golden.D(mha.InProjWeight!).Max(Math.Abs), Is.LessThanOrEqualTo(bound).And.GreaterThan(bound * 0.8));
        Assert.That(new MultiheadAttention(4, 2, bias: false).StateDict().Keys, Is.EqualTo(new[] { "in_proj_weight", "out_proj.weight" }));

        Assert.That(new MultiheadAttention(4, 2, kdim: 3, vdim: 5).StateDict().Keys,
            Is.EqualTo(new[] { "q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias" }));
        Assert.Throws<ArgumentException>(() => new MultiheadAttention(6, 4));
        var x = Tensor.Randn(3, 2, 8);
        var ex = Assert.Throws<ArgumentException>(() => mha.Forward(x, x, x, attnMask: Tensor.Zeros(3, 4)));
        Assert.That(ex!.Message, Does.Contain("attn_mask").And.Contain("[3, 3]"));
        ex = Assert.Throws<ArgumentException>(() => mha.Forward(x, x, x, keyPaddingMask: Tensor.Zeros([3, 2], DType.Bool)));
        Assert.That(ex!.Message, Does.Contain("key_padding_mask").And.Contain("[2, 3]"));
        Assert.Throws<ArgumentException>(() => mha.Forward(x, Tensor.Randn(4, 3, 8), Tensor.Randn(4, 3, 8)));
        var (o, w) = mha.Forward(x, x, x, needWeights: false);
        Assert.That(w, Is.Null);
        Assert.That(o.Shape, Is.EqualTo(x.Shape));
        var perHead = mha.Forward(x, x, x, averageAttnWeights: false).Weights!;
        Assert.That(perHead.Shape, Is.EqualTo(new Shape(2, 2, 3, 3)));
    }

    [Test]
    public void RecurrentNamesShapesInitAndRepr()
    {
        var lstm = new LSTM(3, 4, 2, bidirectional: true);
        var names = lstm.NamedParameters().Select(p => p.Name).ToArray();
        Assert.That(names[..8], Is.EqualTo(new[] { "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
            "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse" }));
        Assert.That(names, Has.Length.EqualTo(16));
        Assert.That(lstm.WeightIh(1).Shape, Is.EqualTo(new Shape(16, 8)));
        Assert.That(lstm.WeightHh(1, reverse: true).Shape, Is.EqualTo(new Shape(16, 4)));
        Assert.That(lstm.Parameters().SelectMany(Golden.D).Max(Math.Abs), Is.LessThanOrEqualTo(0.5));
        Assert.That(lstm.ToString(), Is.EqualTo("LSTM(3, 4, num_layers=2, bidirectional=True)"));
        Assert.That(new RNN(2, 3, nonlinearity: RnnNonlinearity.Relu, batchFirst: true).ToString(), Is.EqualTo("RNN(2, 3, nonlinearity='relu', batch_first=True)"));
        Assert.That(new GRU(2, 3, bias: false).NumParameters(), Is.EqualTo(9 * 2 + 9 * 3));

        var (o, (h, c)) = lstm.Forward(Tensor.Randn(5, 2, 3));
        Assert.That((o.Shape, h.Shape, c.Shape), Is.EqualTo((new Shape(5, 2, 8), new Shape(4, 2, 4), new Shape(4, 2, 4))));
        var ex = Assert.Throws<ArgumentException>(() => lstm.Forward(Tensor.Randn(5, 2, 4)));
        Assert.That(ex!.Message, Does.Contain("input_size"));
        ex = Assert.Throws<ArgumentException>(() => lstm.Forward(Tensor.Randn(5, 2, 3), (Tensor.Zeros(2, 2, 4), Tensor.Zeros(4, 2, 4))));
        Assert.That(ex!.Message, Does.Contain("[4, 2, 4]"));
        var proj = new LSTM(3, 4, projSize: 2);
        Assert.That(proj.StateDict().Keys, Is.EqualTo(new[] { "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0" }));
        Assert.That(proj.WeightHh(0).Shape, Is.EqualTo(new Shape(16, 2)));
        Assert.That(proj.ToString(), Is.EqualTo("LSTM(3, 4, proj_size=2)"));
        Assert.Throws<ArgumentException>(() => new LSTM(3, 4, projSize: 4));
        Assert.Throws<ArgumentException>(() => new GRU(3, 0));
        Assert.Throws<ArgumentException>(() => new RNN(3, 2, dropout: 1.5));
    }

    [Test]
    public void LastStepOfForwardOutputIsHnAndReverseDirectionEndsAtStepZero()
    {
        var gru = (GRU)new GRU(2, 3, bidirectional: true, batchFirst: true).To(DType.Float64);
        var x = R(new Generator(15), 2, 4, 2);
        var (o, h) = gru.Forward(x);
        Golden.AssertClose(o[.., ^1, ..3], h[0], 0, 0, "forward h_n");
        Golden.AssertClose(o[.., 0, 3..], h[1], 0, 0, "reverse h_n");
        // Unbatched input equals batch of one.
        var (ou, hu) = gru.Forward(x[0]);
        Golden.AssertClose(ou, o[0], 1e-14, 0, "unbatched output");
        Golden.AssertClose(hu, h[.., 0], 1e-14, 0, "unbatched h_n");
    }

    [Test]
    public void DropoutBetweenLayersOnlyInTraining()
    {
        Tensor.ManualSeed(3);
        var lstm = new LSTM(3, 4, 2, dropout: 0.5);
        var x = Tensor.Randn(3, 2, 3);
        lstm.Eval();
        var a = Golden.D(lstm.Forward(x).Output);
        var b = Golden.D(lstm.Forward(x).Output);
        Assert.That(a, Is.EqualTo(b));
        lstm.Train();
        var t = Golden.D(lstm.Forward(x).Output);
        Assert.That(t, Is.Not.EqualTo(a));
    }

    [Test]
    public void TransformerStacksCloneTheTemplateAndHavePyTorchNames()
    {
        var layer = new TransformerEncoderLayer(8, 2, 16);
        var enc = new TransformerEncoder(layer, 2);
        Assert.That(enc.Layers[0], Is.Not.SameAs(layer));
        Assert.That(Golden.D(enc.Layers[1].Linear1.Weight), Is.EqualTo(Golden.D(layer.Linear1.Weight)));
        Assert.That(enc.Layers[0].Linear1.Weight, Is.Not.SameAs(enc.Layers[1].Linear1.Weight));
        Assert.That(enc.StateDict().Keys.First(), Is.EqualTo("layers.0.self_attn.in_proj_weight"));
        var fresh = new TransformerEncoder(() => new TransformerEncoderLayer(8, 2, 16), 2);
        Assert.That(Golden.D(fresh.Layers[1].Linear1.Weight), Is.Not.EqualTo(Golden.D(fresh.Layers[0].Linear1.Weight)));

        var model = new Transformer(8, 2, 1, 1, 16);
        var keys = model.StateDict().Keys.ToList();
        Assert.That(keys, Does.Contain("encoder.norm.weight").And.Contain("decoder.layers.0.multihead_attn.out_proj.bias").And.Contain("decoder.layers.0.norm3.bias"));
        Assert.That(model.NumParameters(), Is.EqualTo(
            (3 * 64 + 24 + 64 + 8 + 128 + 16 + 128 + 8 + 4 * 8) + 16                      // encoder layer + final norm
            + (2 * (3 * 64 + 24 + 64 + 8) + 128 + 16 + 128 + 8 + 6 * 8) + 16));           // decoder layer + final norm
        var m64 = (Transformer)new Transformer(8, 2, 1, 1, 16, batchFirst: true).To(DType.Float64).Eval();
        var (src, tgt) = (R(new Generator(17), 2, 3, 8), R(new Generator(18), 2, 4, 8));
        Golden.AssertClose(m64.Forward(src, tgt, tgtIsCausal: true), m64.Forward(src, tgt, tgtMask: Transformer.GenerateSquareSubsequentMask(4, DType.Float64)),
            1e-12, 0, "tgtIsCausal");
        Assert.Throws<ArgumentException>(() => model.Forward(Tensor.Randn(3, 2, 8), Tensor.Randn(4, 3, 8)));
        Assert.Throws<ArgumentException>(() => model.Forward(Tensor.Randn(3, 2, 6), Tensor.Randn(4, 2, 6)));
    }

    [Test]
    public void EncoderLayerDropoutOnlyInTrainingAndCausalFlagMatchesMask()
    {
        Tensor.ManualSeed(4);
        var layer = (TransformerEncoderLayer)new TransformerEncoderLayer(8, 2, 16, batchFirst: true).To(DType.Float64);
        var x = R(new Generator(16), 2, 5, 8);
        layer.Eval();
        var a = layer.Forward(x, null, null, isCausal: true);
        var b = layer.Forward(x, Transformer.GenerateSquareSubsequentMask(5, DType.Float64), null);
        Golden.AssertClose(a, b, 1e-12, 0, "causal encoder layer");
        var evalOut = Golden.D(layer.Forward(x));
        Assert.That(Golden.D(layer.Forward(x)), Is.EqualTo(evalOut));
        layer.Train();
        Assert.That(Golden.D(layer.Forward(x)), Is.Not.EqualTo(evalOut));

        var relu = (TransformerEncoderLayer)new TransformerEncoderLayer(8, 2, 16, 0.0, customActivation: t => t.Relu()).To(DType.Float64);
        var plain = new TransformerEncoderLayer(8, 2, 16, 0.0).To(DType.Float64);
        plain.LoadStateDict(relu.StateDict());
        Golden.AssertClose(relu.Forward(x), ((TransformerEncoderLayer)plain).Forward(x), 0, 0, "custom relu activation");
        Assert.That(relu.Clone().CustomActivation, Is.SameAs(relu.CustomActivation));
    }

    [Test]
    public void TinyLstmTrainsWithAdam()
    {
        Tensor.ManualSeed(5);
        var lstm = new LSTM(2, 8, batchFirst: true);
        var head = new Linear(8, 1);
        var opt = new Optim.Adam([.. lstm.Parameters(), .. head.Parameters()], lr: 0.05);
        // Task: output half the first feature of each step.
        var x = Tensor.Randn(4, 5, 2);
        var y = x[.., .., 0..1] * 0.5;
        double first = 0, last = 0;
        for (int step = 0; step < 30; step++)
        {
            opt.ZeroGrad();
            var loss = Functional.MseLoss(head.Forward(lstm.Forward(x).Output), y);
            loss.Backward();
            opt.Step();
            if (step == 0) first = loss.Item();
            last = loss.Item();
        }
        Assert.That(last, Is.LessThan(first * 0.5));
    }
}
