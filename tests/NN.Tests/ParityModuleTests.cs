namespace Ember.NN.Tests;

/// <summary>The parity layers (Conv3d, InstanceNorm1d/2d, EmbeddingBag, PReLU, Hardswish, Upsample, PixelShuffle, RMSNorm) and the input checks of their functional ops.</summary>
public class ParityModuleTests
{
    private static Tensor R(params long[] shape) => Tensor.Randn(shape, DType.Float64);

    [Test]
    public void LayersDelegateToTheirFunctionalOps()
    {
        Ember.Random.Default.ManualSeed(3);
        var conv = new Conv3d(4, 6, (3, 2, 3), (2, 1, 2), (1, 0, 1), groups: 2, dtype: DType.Float64);
        var x = R(2, 4, 5, 6, 5);
        Assert.That(conv.Weight.Shape.ToArray(), Is.EqualTo(new long[] { 6, 2, 3, 2, 3 }));
        Golden.AssertClose(conv.Call(x), Functional.Conv3d(x, conv.Weight, conv.Bias, (2, 1, 2), (1, 0, 1), null, 2), 0, 0, "conv3d");
        Assert.That(conv.Parameters().Count(), Is.EqualTo(2));

        var prelu = new PReLU(3, dtype: DType.Float64);
        var px = R(2, 3, 4);
        Golden.AssertClose(prelu.Call(px), Functional.Prelu(px, Tensor.Full([3], 0.25, DType.Float64)), 0, 0, "prelu");
        Golden.AssertClose(new Hardswish().Call(px), Functional.Hardswish(px), 0, 0, "hardswish");

        var rms = new RMSNorm(4, dtype: DType.Float64);
        var rx = R(3, 4);
        // eps = None: the float64 machine epsilon.
        Golden.AssertClose(rms.Call(rx), rx * (rx.Square().Mean([1], keepDim: true) + Math.Pow(2, -52)).Rsqrt(), 1e-15, 0, "rmsnorm");

        var up = new Upsample(scaleFactor: [2.0], mode: InterpolationMode.Bilinear, alignCorners: true);
        var ux = R(1, 1, 2, 2);
        Assert.That(up.Call(ux).Shape.ToArray(), Is.EqualTo(new long[] { 1, 1, 4, 4 }));
        var img = R(2, 3, 5, 6);
        var cols = new Unfold((2, 3), padding: (1, 0)).Call(img);
        Golden.AssertClose(cols, Functional.Unfold(img, (2, 3), padding: (1, 0)), 0, 0, "unfold");
        // fold(unfold(x)) multiplies each pixel by the number of blocks covering it: fold of unfold of ones counts them.
        var counts = new Fold((5, 6), (2, 3), padding: (1, 0)).Call(new Unfold((2, 3), padding: (1, 0)).Call(Tensor.Ones([1, 1, 5, 6], DType.Float64)));
        Golden.AssertClose(new Fold((5, 6), (2, 3), padding: (1, 0)).Call(cols), img * counts, 1e-14, 0, "fold ∘ unfold = x · coverage");
        var (a, b) = (R(4, 5), R(4, 5));
        Golden.AssertClose(new CosineSimilarity().Call((a, b)), Functional.CosineSimilarity(a, b), 0, 0, "cosine module");
        Golden.AssertClose(new PairwiseDistance(1).Call((a, b)), Functional.PairwiseDistance(a, b, 1), 0, 0, "distance module");
        var ps = R(1, 8, 2, 3);
        Golden.AssertClose(new PixelUnshuffle(2).Call(new PixelShuffle(2).Call(ps)), ps, 0, 0, "unshuffle ∘ shuffle = id");
    }

    [Test]
    public void InstanceNorm2dTracksRunningStatsInTrainingAndUsesThemInEval()
    {
        var m = new InstanceNorm2d(3, affine: true, trackRunningStats: true, dtype: DType.Float64);
        var x = R(2, 3, 4, 4);
        var y = m.Call(x);
        Golden.AssertClose(y.Mean([2, 3]), Tensor.Zeros([2, 3], DType.Float64), 1e-12, 0, "normalized per instance");
        Assert.That(m.RunningMean!.Abs().Sum().Item(), Is.GreaterThan(0), "running mean updated");
        Assert.That(m.Buffers().Count(), Is.EqualTo(2));
        m.Eval();
        var rm = m.RunningMean!.Clone();
        Golden.AssertClose(m.Call(x), Functional.InstanceNorm(x, m.RunningMean, m.RunningVar, m.Weight, m.Bias, useInputStats: false), 0, 0, "eval uses running stats");
        Golden.AssertClose(m.RunningMean!, rm, 0, 0, "eval leaves the stats");
        var one = new InstanceNorm1d(3, dtype: DType.Float64);
        Assert.That(one.Call(R(3, 5)).Shape.ToArray(), Is.EqualTo(new long[] { 3, 5 }), "unbatched");
        Assert.That(() => one.Call(R(2, 4, 5)), Throws.ArgumentException.With.Message.Contains("num_features (3), but got: 4"));
    }

    [Test]
    public void EmbeddingBagModuleWithOffsetsAndPadding()
    {
        var bag = new EmbeddingBag(6, 2, EmbeddingBagMode.Sum, paddingIdx: 0, dtype: DType.Float64);
        Assert.That(bag.Weight.Select(0, 0).Abs().Sum().Item(), Is.EqualTo(0), "padding row zeroed");
        var y = bag.Forward(Tensor.FromArray([1L, 0L, 3L, 5L]), Tensor.FromArray([0L, 2L]));
        var w = bag.Weight.Detach();
        Golden.AssertClose(y, Tensor.Stack([w.Select(0, 1), w.Select(0, 3) + w.Select(0, 5)]), 1e-15, 0, "bags");
    }

    [Test]
    public void BadInputsNameTheOpAndWhatWasExpected()
    {
        Assert.That(() => Functional.Interpolate(R(1, 1, 3, 3)), Throws.ArgumentException.With.Message.Contains("either size or scale_factor should be defined"));
        Assert.That(() => Functional.Interpolate(R(1, 1, 3, 3), size: [2], scaleFactor: [2.0]), Throws.ArgumentException.With.Message.Contains("only one of size or scale_factor"));
        Assert.That(() => Functional.Interpolate(R(1, 1, 3), size: [5], mode: InterpolationMode.Bilinear), Throws.ArgumentException.With.Message.Contains("bilinear mode needs 4D input"));
        Assert.That(() => Functional.Interpolate(R(1, 1, 3, 3), size: [5], alignCorners: true), Throws.ArgumentException.With.Message.Contains("align_corners option can only be set"));
        Assert.That(() => Functional.Unfold(R(3, 4), (2, 2)), Throws.ArgumentException.With.Message.Contains("Only 3D or 4D input"));
        Assert.That(() => Functional.Unfold(R(1, 1, 2, 2), (3, 3)), Throws.ArgumentException.With.Message.Contains("its components must be at least one"));
        Assert.That(() => Functional.Fold(R(1, 4, 5), (3, 3), (2, 2)), Throws.ArgumentException.With.Message.Contains("calculated number of sliding blocks 4"));
        Assert.That(() => Functional.PixelShuffle(R(1, 3, 2, 2), 2), Throws.ArgumentException.With.Message.Contains("divisible by the square of upscale_factor"));
        Assert.That(() => Functional.PixelUnshuffle(R(1, 1, 3, 4), 2), Throws.ArgumentException.With.Message.Contains("height to be divisible"));
        Assert.That(() => Functional.Prelu(R(2, 3), Tensor.Ones([2], DType.Float64)), Throws.ArgumentException.With.Message.Contains("Mismatch of parameter numbers and input channel size"));
        Assert.That(() => Functional.Conv3d(R(1, 3, 4, 4, 4), R(2, 2, 2, 2, 2)), Throws.ArgumentException.With.Message.Contains("to have 2 channels, but got 3 channels"));
        Assert.That(() => Functional.EmbeddingBag(Tensor.FromArray([1L, 2L]), R(5, 2)), Throws.ArgumentException.With.Message.Contains("offsets has to be a 1D Tensor but got None"));
        Assert.That(() => Functional.EmbeddingBag(Tensor.FromArray([1L, 7L]), R(5, 2), Tensor.FromArray([0L])), Throws.ArgumentException.With.Message.Contains("index 7 is out of range"));
        Assert.That(() => Functional.EmbeddingBag(Tensor.FromArray([1L, 2L]), R(5, 2), Tensor.FromArray([1L])), Throws.ArgumentException.With.Message.Contains("offsets[0] has to be 0"));
        Assert.That(() => Functional.EmbeddingBag(Tensor.FromArray([1L, 2L]), R(5, 2), Tensor.FromArray([0L]), EmbeddingBagMode.Mean, Tensor.Ones([2], DType.Float64)),
            Throws.ArgumentException.With.Message.Contains("per_sample_weights is only supported for mode='sum'"));
        Assert.That(() => Functional.RmsNorm(R(2, 3), [4]), Throws.ArgumentException.With.Message.Contains("expected input with shape [*, 4]"));
        Assert.That(() => Functional.CosineSimilarity(R(2, 3), R(4, 3)), Throws.ArgumentException.With.Message.Contains("are not broadcastable"));
        Assert.That(() => Functional.InstanceNorm(R(2, 3, 1)), Throws.ArgumentException.With.Message.Contains("Expected more than 1 spatial element"));
    }

    [Test]
    public void ZeroVectorsGiveZeroCosineSimilarityNotNaN()
    {
        var y = Functional.CosineSimilarity(Tensor.Zeros([1, 3], DType.Float64), R(1, 3));
        Assert.That(y.Item(), Is.EqualTo(0));
    }
}
