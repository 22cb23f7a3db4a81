namespace Ember.Hardening.Tests;

/// <summary>In-place writes into a tensor whose elements share memory (expanded or overlapping-window views) are refused like PyTorch.</summary>
public class OverlappingWriteTests
{
    private const string Message = "unsupported operation: more than one element of the written-to tensor refers to a single memory location";

    private static readonly (string Name, Action<Tensor> Write)[] Writes =
    [
        ("Add_", t => t.Add_(Tensor.Ones(4, 3))),
        ("Add_ scalar", t => t.Add_(1.0)),
        ("Mul_", t => t.Mul_(Tensor.Ones(3))),
        ("Mul_ scalar", t => t.Mul_(2.0)),
        ("Sub_", t => t.Sub_(Tensor.Ones(4, 3), alpha: 2)),
        ("Div_", t => t.Div_(Tensor.Ones(4, 3))),
        ("Clamp_", t => t.Clamp_(0, 1)),
        ("Copy_", t => t.Copy_(Tensor.Randn(4, 3))),
        ("Uniform_", t => t.Uniform_()),
        ("Normal_", t => t.Normal_()),
    ];

    private static IEnumerable<TestCaseData> Cases() => Writes.Select((w, i) => new TestCaseData(i).SetName("WriteThroughExpandedViewIsRefused_" + w.Name.Replace(' ', '_')));

    [TestCaseSource(nameof(Cases))]
    public void WriteThroughExpandedViewIsRefused(int which)
    {
        var baseRow = Tensor.FromArray(new float[] { 1, 2, 3 }, 1, 3);
        var view = baseRow.Expand(4, 3);
        var ex = Assert.Throws<InvalidOperationException>(() => Writes[which].Write(view));
        Assert.That(ex!.Message, Does.Contain(Message).And.Contain("clone()"));
        Assert.That(baseRow.ToArray<float>(), Is.EqualTo(new float[] { 1, 2, 3 }), "nothing was written");
    }

    [Test]
    public void WriteThroughOverlappingWindowsIsRefused()
    {
        var x = Tensor.Arange(0, 6, 1, DType.Float32);
        var windows = x.Unfold(0, 3, 1);   // [4, 3] windows sharing elements
        Assert.Throws<InvalidOperationException>(() => windows.Add_(1.0));
        Assert.That(x.ToArray<float>(), Is.EqualTo(new float[] { 0, 1, 2, 3, 4, 5 }));
    }

    [Test]
    public void FillOfAnExpandedViewIsAllowedLikePyTorch()
    {
        var baseRow = Tensor.Zeros(1, 3);
        baseRow.Expand(4, 3).Fill_(5);
        Assert.That(baseRow.ToArray<float>(), Is.All.EqualTo(5f));
    }

    [Test]
    public void WritesThroughNonOverlappingViewsStillWork()
    {
        var x = Tensor.Zeros(4, 6);
        x.T.Add_(1.0);
        x.Slice(1, 0, 6, 2).Mul_(3.0);
        x[1].Copy_(Tensor.Full([6], 9.0));
        var v = x.ToArray<float>();
        Assert.That(v[0], Is.EqualTo(3f)); Assert.That(v[1], Is.EqualTo(1f)); Assert.That(v[6], Is.EqualTo(9f));
    }
}
