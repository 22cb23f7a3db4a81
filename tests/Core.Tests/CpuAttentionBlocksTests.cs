using Ember.Cpu;

namespace Ember.Core.Tests;

/// <summary>
/// The CPU attention kernels batch their GEMMs through <see cref="Block3"/> windows instead of a tensor view per batch:
/// bitwise the results of the view-per-batch code they replaced, and the float64 reference within float32 rounding,
/// over layouts whose leading dims merge and layouts (the model's permuted qkv buffer) whose do not; causal attention in
/// row blocks (<see cref="CpuAttention.CausalBlockRows"/>) too, with blocks that do and do not divide the rows, more keys
/// than queries and fewer.
/// </summary>
[TestFixture]
[NonParallelizable]
public class CpuAttentionBlocksTests
{
    private const double Scale = 0.35;
    private int blockRows;

    [SetUp]
    public void Save() => blockRows = CpuAttention.CausalBlockRows;

    [TearDown]
    public void Restore() => CpuAttention.CausalBlockRows = blockRows;

    // (b, h, l, s, d, layout): 0 contiguous [b, h, ·, ·]; 1 the model's q/k/v, one [b, l, 3, h, d] buffer permuted
    // (2, 0, 3, 1, 4) (leading dims b, h do not merge); 2 three leading dims [2, b, h] contiguous.
    [TestCase(2, 3, 5, 5, 4, 0, 0)]
    [TestCase(3, 2, 7, 7, 8, 1, 0)]
    [TestCase(4, 4, 16, 16, 16, 1, 0)]
    [TestCase(2, 3, 6, 9, 5, 2, 0)]
    [TestCase(2, 3, 13, 13, 6, 0, 4)]
    [TestCase(3, 2, 16, 16, 8, 1, 4)]
    [TestCase(3, 2, 17, 17, 8, 1, 5)]
    [TestCase(2, 3, 10, 14, 5, 2, 3)]
    [TestCase(2, 3, 14, 9, 5, 0, 3)]
    [TestCase(1, 2, 40, 40, 7, 0, 16)]
    public void BlocksGiveTheViewPerBatchResultsBitwise(int b, int h, int l, int s, int d, int layout, int causalBlock)
    {
        CpuAttention.CausalBlockRows = causalBlock;
        foreach (bool causal in new[] { false, true })
        {
            var (q, k, v) = Inputs(b, h, l, s, d, layout, DType.Float32);
            var be = (CpuBackend)q.Backend;
            var (p, o) = Forward(be, q, k, v, causal);
            var (pOld, oOld) = ForwardWithViews(be, q, k, v, causal);
            Assert.That(p.ToArray<float>(), Is.EqualTo(pOld.ToArray<float>()), "probabilities");
            Assert.That(o.ToArray<float>(), Is.EqualTo(oOld.ToArray<float>()), "output");

            var g = Tensor.Randn(o.Shape.ToArray(), generator: new Generator(9));
            var (dq, dk, dv) = Backward(be, g, q, k, v, p, causal);
            var (dqOld, dkOld, dvOld) = BackwardWithViews(be, g, q, k, v, p);
            Assert.That(dq.ToArray<float>(), Is.EqualTo(dqOld.ToArray<float>()), "dq");
            Assert.That(dk.ToArray<float>(), Is.EqualTo(dkOld.ToArray<float>()), "dk");
            Assert.That(dv.ToArray<float>(), Is.EqualTo(dvOld.ToArray<float>()), "dv");

            // The same layout in float64 through the same kernels: float32 agrees within its rounding.
            var (q64, k64, v64) = Inputs(b, h, l, s, d, layout, DType.Float64);
            var (p64, o64) = Forward(be, q64, k64, v64, causal);
            var (dq64, _, dv64) = Backward(be, g.To(DType.Float64), q64, k64, v64, p64, causal);
            Assert.That(o.ToArray<float>(), Is.EqualTo(o64.ToArray<double>()).Within(1e-5), "output against float64");
            Assert.That(dq.ToArray<float>(), Is.EqualTo(dq64.ToArray<double>()).Within(1e-4), "dq against float64");
            Assert.That(dv.ToArray<float>(), Is.EqualTo(dv64.ToArray<double>()).Within(1e-4), "dv against float64");
        }
    }

    [Test]
    public void SplitDimIsTheFirstDimFromWhichAllLeadingDimsMerge()
    {
        var (q, _, _) = Inputs(3, 2, 7, 7, 8, 1, DType.Float32);
        var contiguous = Tensor.Zeros(3, 2, 7, 8);
        Assert.That(AttentionBlocks.SplitDim([contiguous]), Is.EqualTo(0));
        Assert.That(AttentionBlocks.SplitDim([q]), Is.EqualTo(1), "the permuted qkv view: b and h do not merge");
        Assert.That(AttentionBlocks.SplitDim([contiguous, q]), Is.EqualTo(1));
        Assert.That(AttentionBlocks.Batches(q, 1), Is.EqualTo(3));
        Assert.That(AttentionBlocks.BatchOffset(q, 1, 2), Is.EqualTo(2 * q.StridesSpan[0]));
        Assert.That(AttentionBlocks.SplitDim([Tensor.Zeros(7, 8)]), Is.EqualTo(0));
    }

    private static (Tensor Q, Tensor K, Tensor V) Inputs(int b, int h, int l, int s, int d, int layout, DType dt)
    {
        var gen = new Generator(17);
        switch (layout)
        {
            case 1:
                // Square only (l == s): one buffer holds q, k and v.
                var qkv = Tensor.Randn([b, l, 3, h, d], generator: gen).To(dt).Permute(2, 0, 3, 1, 4);
                return (qkv.Select(0, 0), qkv.Select(0, 1), qkv.Select(0, 2));
            case 2:
                return (Tensor.Randn([2, b, h, l, d], generator: gen).To(dt), Tensor.Randn([2, b, h, s, d], generator: gen).To(dt),
                    Tensor.Randn([2, b, h, s, d], generator: gen).To(dt));
            default:
                return (Tensor.Randn([b, h, l, d], generator: gen).To(dt), Tensor.Randn([b, h, s, d], generator: gen).To(dt),
                    Tensor.Randn([b, h, s, d], generator: gen).To(dt));
        }
    }

    private static long[] Lead(Tensor t, long rows, long cols) => [.. t.ShapeSpan[..^2].ToArray(), rows, cols];

    private static (Tensor P, Tensor O) Forward(CpuBackend be, Tensor q, Tensor k, Tensor v, bool causal)
    {
        // NaN-filled outputs: an element a kernel fails to write shows up.
        var p = Tensor.Full(Lead(q, q.Shape[-2], k.Shape[-2]), double.NaN, q.DType);
        var o = Tensor.Full(Lead(q, q.Shape[-2], v.Shape[-1]), double.NaN, q.DType);
        be.Attention(q, k, v, Scale, causal, p, o);
        return (p, o);
    }

    private static (Tensor Dq, Tensor Dk, Tensor Dv) Backward(CpuBackend be, Tensor g, Tensor q, Tensor k, Tensor v, Tensor p, bool causal)
    {
        Tensor dq = Tensor.Full(q.Shape.ToArray(), double.NaN, q.DType), dk = Tensor.Full(k.Shape.ToArray(), double.NaN, q.DType),
            dv = Tensor.Full(v.Shape.ToArray(), double.NaN, q.DType);
        be.AttentionBackward(g, q, k, v, p, Scale, causal, dq, dk, dv);
        return (dq, dk, dv);
    }

    // ---- the code the blocks replaced: one tensor view per batch, the backend's MatMul on views ----

    private static (Tensor P, Tensor O) ForwardWithViews(CpuBackend be, Tensor q, Tensor k, Tensor v, bool causal)
    {
        var p = Tensor.Empty(Lead(q, q.Shape[-2], k.Shape[-2]), q.DType);
        var o = Tensor.Empty(Lead(q, q.Shape[-2], v.Shape[-1]), q.DType);
        long l = q.Shape[-2], s = k.Shape[-2];
        foreach (var t in ViewBatches(q, k, v, p, o))
        {
            be.MatMul(t[0], t[1].mT, t[3]);
            CpuAttention.ScaledSoftmaxRows(Whole(t[3]), l, s, Scale, causal);
            be.MatMul(t[3], t[2], t[4]);
        }
        return (p, o);
    }

    private static (Tensor Dq, Tensor Dk, Tensor Dv) BackwardWithViews(CpuBackend be, Tensor g, Tensor q, Tensor k, Tensor v, Tensor p)
    {
        Tensor dq = Tensor.Empty(q.Shape.ToArray(), q.DType), dk = Tensor.Empty(k.Shape.ToArray(), q.DType), dv = Tensor.Empty(v.Shape.ToArray(), q.DType);
        var dp = Tensor.Empty(p.Shape.ToArray(), p.DType);
        foreach (var t in ViewBatches(q, k, v, p, g, dp, dq, dk, dv))
        {
            be.MatMul(t[4], t[2].mT, t[5]);
            CpuAttention.ScaledSoftmaxGradRows(Whole(t[5]), Whole(t[3]), Scale);
            be.MatMul(t[5], t[1], t[6]);
            be.MatMul(t[5].mT, t[0], t[7]);
            be.MatMul(t[3].mT, t[4], t[8]);
        }
        return (dq, dk, dv);
    }

    private static Block3 Whole(Tensor t3) =>
        new(t3, t3.StorageOffset, t3.Shape[0], t3.Shape[1], t3.Shape[2], t3.StridesSpan[0], t3.StridesSpan[1], t3.StridesSpan[2]);

    private static Tensor? MergedLeadingDims(Tensor t)
    {
        int lead = t.Dim - 2;
        long nb = 1, bs = 0, expect = -1;
        for (int i = lead - 1; i >= 0; i--)
        {
            if (t.Shape[i] == 1) continue;
            if (expect >= 0 && t.StridesSpan[i] != expect) return null;
            if (expect < 0) bs = t.StridesSpan[i];
            expect = t.StridesSpan[i] * t.Shape[i];
            nb *= t.Shape[i];
        }
        return new Tensor(t.storage, t.offset, [nb, t.Shape[-2], t.Shape[-1]], [bs, t.StridesSpan[^2], t.StridesSpan[^1]]);
    }

    private static List<Tensor[]> ViewBatches(params Tensor[] ts)
    {
        var merged = ts.Select(MergedLeadingDims).ToArray();
        if (merged.All(m => m is not null)) return [merged!];
        var r = new List<Tensor[]>();
        for (long i = 0; i < ts[0].Shape[0]; i++)
            r.AddRange(ViewBatches(ts.Select(t => new Tensor(t.storage, t.offset + i * t.StridesSpan[0], t.ShapeSpan[1..].ToArray(), t.StridesSpan[1..].ToArray())).ToArray()));
        return r;
    }
}
