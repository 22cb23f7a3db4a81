namespace Ember.NN.Tests;

public class LossGoldenTests
{
    private static Reduction R(string s) => s switch { "mean" => Reduction.Mean, "sum" => Reduction.Sum, _ => Reduction.None };

    public static IEnumerable<string> Cases => Golden.Names("losses");

    [TestCaseSource(nameof(Cases))]
    public void ForwardAndBackwardMatchPyTorch(string name)
    {
        var c = Golden.Case("losses", name);
        var o = c["options"]!.AsObject();
        string red = o["reduction"]!.GetValue<string>();
        var r = R(red);
        double Opt(string k) => o[k]!.GetValue<double>();
        int ngrad = name.StartsWith("kldiv_", StringComparison.Ordinal) && !name.Contains("logtarget") ? 1 : 2;
        var x = c["inputs"]!.AsArray().Select((n, i) => { var t = Golden.T(n); return t.IsFloatingPoint && i < ngrad ? t.RequiresGrad_() : t; }).ToArray();
        string kind = name[..name.IndexOf('_')];
        Tensor y = kind switch
        {
            "ce" when name.StartsWith("ce_w_", StringComparison.Ordinal) || name.StartsWith("ce_prob_w", StringComparison.Ordinal)
                => Functional.CrossEntropy(x[0], x[1], x[2], reduction: r, labelSmoothing: Opt("label_smoothing")),
            "ce" => Functional.CrossEntropy(x[0], x[1], reduction: r, labelSmoothing: o["label_smoothing"] is null ? 0 : Opt("label_smoothing")),
            "nll" => Functional.NllLoss(x[0], x[1], x[2], reduction: r),
            "mse" => Functional.MseLoss(x[0], x[1], r),
            "l1" => Functional.L1Loss(x[0], x[1], r),
            "smoothl1" => Functional.SmoothL1Loss(x[0], x[1], r, Opt("beta")),
            "huber" => Functional.HuberLoss(x[0], x[1], r, Opt("delta")),
            "bce" => Functional.BinaryCrossEntropy(x[0], x[1], x[2], r),
            "bcelogits" => x.Length > 2 ? Functional.BinaryCrossEntropyWithLogits(x[0], x[1], x[2], r, x[3]) : Functional.BinaryCrossEntropyWithLogits(x[0], x[1], reduction: r),
            "cosemb" => Functional.CosineEmbeddingLoss(x[0], x[1], x[2], Opt("margin"), r),
            "marginrank" => Functional.MarginRankingLoss(x[0], x[1], x[2], Opt("margin"), r),
            "kldiv" => Functional.KLDiv(x[0], x[1], red switch { "mean" => KLDivReduction.Mean, "sum" => KLDivReduction.Sum, "batchmean" => KLDivReduction.BatchMean, _ => KLDivReduction.None },
                logTarget: name.Contains("logtarget")),
            _ => throw new ArgumentException(name),
        };
        Golden.AssertClose(y, Golden.T(c["output"]), 1e-10, 1e-8, name + " output");
        (y * Golden.T(c["grad_output"])).Sum().Backward();
        var ig = c["input_grads"]!.AsArray();
        for (int i = 0; i < 2; i++)
            if (ig[i] is { } e) Golden.AssertClose(x[i].Grad!, Golden.T(e), 1e-10, 1e-8, $"{name} grad {i}");
    }

    [Test]
    public void BadShapesNameTheOp()
    {
        Assert.That(() => Functional.MseLoss(Tensor.Zeros(2, 3), Tensor.Zeros(3, 2)), Throws.ArgumentException.With.Message.Contains("MseLoss").And.Message.Contains("[2, 3]"));
        Assert.That(() => Functional.CrossEntropy(Tensor.Zeros(2, 3), Tensor.Zeros([3], DType.Int64)), Throws.ArgumentException.With.Message.Contains("CrossEntropy").And.Message.Contains("[2, 3]"));
    }
}
