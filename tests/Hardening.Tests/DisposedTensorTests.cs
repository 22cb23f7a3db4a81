using Ember.NN;

namespace Ember.Hardening.Tests;

/// <summary>Every read of a tensor released by a <see cref="TensorScope"/> throws instead of returning recycled memory.</summary>
public class DisposedTensorTests
{
    private static readonly (string Name, Func<Tensor, object> Read)[] Reads =
    [
        ("ToArray", t => t.ToArray<float>()),
        ("Item", t => t.Sum().Item()),
        ("Item of an element", t => t[0].Item()),
        ("ItemT", t => t[0].Item<float>()),
        ("Reshape view read", t => t.Reshape(2, -1).ToArray<float>()),
        ("To(Float64)", t => t.To(DType.Float64)),
        ("Add", t => t + t),
        ("Exp", t => t.Exp()),
        ("Sum", t => t.Sum()),
        ("MatMul", t => t.Reshape(2, -1).MatMul(t.Reshape(-1, 2))),
        ("Softmax", t => Functional.Softmax(t, 0)),
        ("Cat", t => Tensor.Cat([t, t])),
        ("Copy_ source", t => Tensor.Zeros(t.Shape).Copy_(t)),
        ("Clone", t => t.Clone()),
        ("Contiguous of a transposed view", t => t.Reshape(2, -1).T.Contiguous()),
        ("Linear input", t => new Linear(4096, 2).Forward(t.Reshape(1, -1))),
    ];

    private static IEnumerable<TestCaseData> Cases() => Reads.Select((r, i) => new TestCaseData(i).SetName("ReadAfterScopeThrows_" + r.Name.Replace(' ', '_').Replace("(", "").Replace(")", "")));

    [TestCaseSource(nameof(Cases))]
    public void ReadAfterScopeThrows(int which)
    {
        Tensor released;
        using (Tensor.Scope()) released = Tensor.Full([4096], 1.0f);
        // A tensor allocated afterwards may reuse the released memory: reading the old tensor must not show its values.
        using var reuse = Tensor.Scope();
        var later = Tensor.Full([4096], 7.0f);
        Assert.Throws<ObjectDisposedException>(() => Reads[which].Read(released));
        Assert.That(later.ToArray<float>()[0], Is.EqualTo(7f));
    }

    [Test]
    public void PrintingADisposedTensorSaysSoWithoutReadingIt()
    {
        Tensor released;
        using (Tensor.Scope()) released = Tensor.Ones(3);
        Assert.That(released.ToString(), Is.EqualTo("tensor(<disposed>)"));
    }

    [Test]
    public void LoadStateDictWithAReleasedTensorChangesNothing()
    {
        var model = new Sequential(new Linear(2, 2), new Linear(2, 1));
        var before = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<float>());
        var state = model.StateDict().ToDictionary(kv => kv.Key, kv => Tensor.Zeros(kv.Value.Shape));
        using (Tensor.Scope()) state["1.bias"] = Tensor.Zeros(1);   // the last key: released before the load
        var ex = Assert.Throws<ArgumentException>(() => model.LoadStateDict(state));
        Assert.That(ex!.Message, Does.Contain("1.bias").And.Contain("disposed"));
        Assert.That(model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<float>()), Is.EqualTo(before));
    }

    [Test]
    public void KeptTensorsStayReadable()
    {
        Tensor kept;
        using (var s = Tensor.Scope()) kept = s.Keep(Tensor.Full([8], 2.0f));
        Assert.That(kept.ToArray<float>(), Is.All.EqualTo(2f));
    }
}
