namespace Ember.NN.Tests;

/// <summary>parameters_to_vector, pad_sequence, weight_norm, spectral_norm (PyTorch 1.13 golden values) and model.Summary().</summary>
public class ParityUtilsTests
{
    private static Linear MakeLinear(Tensor w, Tensor b)
    {
        var lin = new Linear(4, 3, dtype: DType.Float64);
        using (Autograd.NoGrad()) { lin.Weight.Copy_(w); lin.Bias!.Copy_(b); }
        return lin;
    }

    [Test]
    public void ParametersToVectorAndBack()
    {
        var lin = new Linear(3, 2, dtype: DType.Float64);
        var vec = ParameterVector.ParametersToVector(lin.Parameters());
        Assert.That(vec.Shape.ToArray(), Is.EqualTo(new long[] { 8 }));
        Assert.That(Golden.D(vec).Take(6), Is.EqualTo(Golden.D(lin.Weight)));
        ParameterVector.VectorToParameters(Tensor.FromArray(Enumerable.Range(0, 8).Select(i => (double)i).ToArray()), lin.Parameters());
        Assert.That(Golden.D(lin.Bias!), Is.EqualTo(new double[] { 6, 7 }));
        Assert.That(lin.Weight.IsLeaf && lin.Weight.RequiresGrad, Is.True, "still a trainable leaf");
        Assert.That(() => ParameterVector.VectorToParameters(Tensor.Zeros([7], DType.Float64), lin.Parameters()),
            Throws.ArgumentException.With.Message.Contains("7 elements, the parameters 8"));
    }

    [Test]
    public void PadSequenceMatchesPyTorch()
    {
        var c = Golden.Case("utils_parity", "pad_sequence");
        var seqs = c["seqs"]!.AsArray().Select(n => Golden.T(n)).ToList();
        Golden.AssertClose(RnnUtils.PadSequence(seqs, paddingValue: -1), Golden.T(c["padded"]), 0, 0, "time-major");
        Golden.AssertClose(RnnUtils.PadSequence(seqs, batchFirst: true), Golden.T(c["padded_batch_first"]), 0, 0, "batch-first");
        Assert.That(() => RnnUtils.PadSequence([Tensor.Zeros([2, 3]), Tensor.Zeros([2, 4])]), Throws.ArgumentException.With.Message.Contains("every sequence must be [L, 3]"));
    }

    [TestCase("weight_norm_0", 0)]
    [TestCase("weight_norm_None", null)]
    public void WeightNormMatchesPyTorch(string name, int? dim)
    {
        var c = Golden.Case("utils_parity", name);
        var lin = WeightNorm.Apply(MakeLinear(Golden.T(c["weight"]), Golden.T(c["bias"])), dim: dim);
        Assert.That(lin.NamedParameters().Select(p => p.Name), Is.EqualTo(new[] { "bias", "weight_g", "weight_v" }), "PyTorch's names and order");
        Assert.That(lin.StateDict().Keys, Does.Not.Contain("weight"));
        Golden.AssertClose(lin.GetParameter("weight_g")!, Golden.T(c["weight_g"]), 1e-12, 1e-10, "g = ‖w‖");
        var y = lin.Call(Golden.T(c["x"]));
        Golden.AssertClose(y, Golden.T(c["output"]), 1e-12, 1e-10, "output");
        (y * Golden.T(c["grad_output"])).Sum().Backward();
        Golden.AssertClose(lin.GetParameter("weight_g")!.Grad!, Golden.T(c["grad_g"]), 1e-12, 1e-9, "grad g");
        Golden.AssertClose(lin.GetParameter("weight_v")!.Grad!, Golden.T(c["grad_v"]), 1e-12, 1e-9, "grad v");
        WeightNorm.Remove(lin);
        Assert.That(lin.NamedParameters().Select(p => p.Name), Is.EquivalentTo(new[] { "bias", "weight" }));
        Golden.AssertClose(lin.Weight, Golden.T(c["weight"]), 1e-12, 1e-10, "removing restores w = g·v/‖v‖");
        Assert.That(() => WeightNorm.Remove(lin), Throws.ArgumentException.With.Message.EqualTo("weight_norm of 'weight' not found in Linear"));
    }

    [Test]
    public void SpectralNormMatchesPyTorch()
    {
        var c = Golden.Case("utils_parity", "spectral_norm");
        var lin = SpectralNorm.Apply(MakeLinear(Golden.T(c["weight"]), Golden.T(c["bias"])), nPowerIterations: 2);
        Assert.That(lin.NamedParameters().Select(p => p.Name), Is.EqualTo(new[] { "bias", "weight_orig" }));
        Assert.That(lin.NamedBuffers().Select(b => b.Name), Is.EqualTo(new[] { "weight_u", "weight_v" }));
        using (Autograd.NoGrad()) { lin.GetBuffer("weight_u")!.Copy_(Golden.T(c["u0"])); lin.GetBuffer("weight_v")!.Copy_(Golden.T(c["v0"])); }
        var y = lin.Call(Golden.T(c["x"]));
        Golden.AssertClose(y, Golden.T(c["output"]), 1e-12, 1e-10, "output");
        Golden.AssertClose(lin.GetBuffer("weight_u")!, Golden.T(c["u"]), 1e-12, 1e-10, "u after power iteration");
        Golden.AssertClose(lin.GetBuffer("weight_v")!, Golden.T(c["v"]), 1e-12, 1e-10, "v after power iteration");
        (y * Golden.T(c["grad_output"])).Sum().Backward();
        Golden.AssertClose(lin.GetParameter("weight_orig")!.Grad!, Golden.T(c["grad_orig"]), 1e-12, 1e-9, "grad of weight_orig");
        var u = lin.GetBuffer("weight_u")!.Clone();
        lin.Eval();
        lin.Call(Golden.T(c["x"]));
        Golden.AssertClose(lin.GetBuffer("weight_u")!, u, 0, 0, "evaluation keeps u");
        // Many training calls converge to the top singular vector: the normalized weight has spectral norm 1.
        lin.Train();
        for (int i = 0; i < 50; i++) lin.Call(Golden.T(c["x"]));
        var w = lin.GetParameter("weight")!.Detach();
        var v = Tensor.Ones([4], DType.Float64);
        for (int i = 0; i < 200; i++) v = Functional.Normalize(w.mT.MatMul(w.MatMul(v.Unsqueeze(1))).Squeeze(1), dim: 0);
        Assert.That(w.MatMul(v.Unsqueeze(1)).Norm().Item(), Is.EqualTo(1.0).Within(1e-6));
    }

    [Test]
    public void SummaryListsEveryLayerWithOutputShapeAndParameters()
    {
        var model = new Sequential(new Conv2d(1, 4, 3, padding: 1), new ReLU(), new Sequential(new Flatten(), new Linear(4 * 8 * 8, 10)));
        var s = model.Summary(2, 1, 8, 8);
        Assert.That(s.Rows.Select(r => r.Name), Is.EqualTo(new[] { "0", "1", "2", "2.0", "2.1" }));
        Assert.That(s.Rows[0].OutputShape, Is.EqualTo(new long[] { 2, 4, 8, 8 }));
        Assert.That(s.Rows[4].OutputShape, Is.EqualTo(new long[] { 2, 10 }));
        Assert.That(s.Rows[0].Parameters, Is.EqualTo(4 * 9 + 4));
        Assert.That(s.Rows[4].Parameters, Is.EqualTo(256 * 10 + 10));
        Assert.That(s.TotalParameters, Is.EqualTo(model.NumParameters()));
        Assert.That(s.Rows.Sum(r => r.Parameters) + s.RootParameters, Is.EqualTo(s.TotalParameters));
        var text = s.ToString();
        Assert.That(text, Does.Contain("Linear").And.Contain("[2, 10]").And.Contain("Total params: 2,610"));
        Assert.That(model.Call(Tensor.Zeros([1, 1, 8, 8])).Shape.ToArray(), Is.EqualTo(new long[] { 1, 10 }), "no hooks left behind");
    }

    private static long[] Longs(System.Text.Json.Nodes.JsonNode? n) => n!.AsArray().Select(x => x!.GetValue<long>()).ToArray();

    private static void Load(Module m, System.Text.Json.Nodes.JsonNode? state) =>
        m.LoadStateDict(state!.AsObject().ToDictionary(kv => kv.Key, kv => Golden.T(kv.Value)));

    [Test]
    public void PackPaddedSequenceMatchesPyTorchAndRoundTrips()
    {
        var c = Golden.Case("utils_parity", "pack_padded");
        var padded = Golden.T(c["padded"]);
        var lengths = Longs(c["lengths"]);
        var p = RnnUtils.PackPaddedSequence(padded, lengths, enforceSorted: false);
        Golden.AssertClose(p.Data, Golden.T(c["data"]), 0, 0, "data");
        Assert.That(p.BatchSizes, Is.EqualTo(Longs(c["batch_sizes"])));
        Assert.That(p.SortedIndices, Is.EqualTo(Longs(c["sorted_indices"])));
        Assert.That(p.Lengths(), Is.EqualTo(lengths));
        var (back, l2) = RnnUtils.PadPackedSequence(p, paddingValue: 0, totalLength: 4);
        Assert.That(l2, Is.EqualTo(lengths));
        for (int b = 0; b < 3; b++)
        {
            Golden.AssertClose(back.Narrow(0, 0, lengths[b]).Select(1, b), padded.Narrow(0, 0, lengths[b]).Select(1, b), 0, 0, $"sequence {b}");
            if (lengths[b] < 4) Assert.That(back.Narrow(0, lengths[b], 4 - lengths[b]).Select(1, b).Abs().Sum().Item(), Is.EqualTo(0), "padding");
        }
        Assert.That(() => RnnUtils.PackPaddedSequence(padded, lengths), Throws.ArgumentException.With.Message.Contains("must be sorted in decreasing order"));
        Assert.That(() => RnnUtils.PackPaddedSequence(padded, [4, 0, 1]), Throws.ArgumentException.With.Message.Contains("between 1 and 4"));
    }

    [Test]
    public void GruOverPackedSequencesMatchesPyTorch()
    {
        var c = Golden.Case("utils_parity", "gru_packed");
        var gru = new GRU(3, 4, numLayers: 2, bidirectional: true, dtype: DType.Float64);
        Load(gru, c["state"]);
        var x = Golden.T(Golden.Case("utils_parity", "pack_padded")["padded"]).RequiresGrad_();
        var lengths = Longs(c["lengths"]);
        var (output, hidden) = gru.Forward(RnnUtils.PackPaddedSequence(x, lengths, enforceSorted: false));
        var (padded, outLengths) = RnnUtils.PadPackedSequence(output);
        Assert.That(outLengths, Is.EqualTo(lengths));
        Golden.AssertClose(padded, Golden.T(c["output"]), 1e-12, 1e-9, "output");
        Golden.AssertClose(hidden, Golden.T(c["hidden"]), 1e-12, 1e-9, "h_n at each sequence's last step");
        (padded * Golden.T(c["grad_output"])).Sum().Backward();
        Golden.AssertClose(x.Grad!, Golden.T(c["input_grad"]), 1e-12, 1e-9, "input gradient");
    }

    [Test]
    public void LstmOverPackedBatchFirstSequencesMatchesPyTorch()
    {
        var c = Golden.Case("utils_parity", "lstm_packed_batch_first");
        var lstm = new LSTM(3, 4, batchFirst: true, dtype: DType.Float64);
        Load(lstm, c["state"]);
        var (output, (h, cc)) = lstm.Forward(RnnUtils.PackPaddedSequence(Golden.T(c["x"]), [4, 3, 1], batchFirst: true));
        Golden.AssertClose(RnnUtils.PadPackedSequence(output, batchFirst: true).Padded, Golden.T(c["output"]), 1e-12, 1e-9, "output");
        Golden.AssertClose(h, Golden.T(c["h"]), 1e-12, 1e-9, "h_n");
        Golden.AssertClose(cc, Golden.T(c["c"]), 1e-12, 1e-9, "c_n");
    }
}
