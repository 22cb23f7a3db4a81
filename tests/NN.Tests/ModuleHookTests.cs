using Ember.NN;

namespace Ember.NN.Tests;

/// <summary>Forward pre/post hooks and full backward hooks on modules (PyTorch's register_forward_pre_hook, register_forward_hook, register_full_backward_hook).</summary>
public class ModuleHookTests
{
    private sealed class Scale(double s) : Module<Tensor, Tensor>
    {
        public override Tensor Forward(Tensor input) => input * s;
    }

    [Test]
    public void ForwardHooksRunInOrderOnChildrenAndMayReplaceInputAndOutput()
    {
        var a = new Scale(2); var b = new Scale(3);
        var model = new Sequential(a, b);
        var log = new List<string>();
        a.RegisterForwardPreHook((m, x) => log.Add("pre a " + x.Sum().Item()));
        using var replaceInput = b.RegisterForwardPreHook((m, x) => x + 1.0);
        b.RegisterForwardHook((m, x, y) => log.Add($"post b in {x.Sum().Item()} out {y.Sum().Item()}"));
        model.RegisterForwardHook((m, x, y) => y * 10.0);
        var input = Tensor.FromArray([1.0, 2.0]);
        var output = model.Call(input);
        // a: [2, 4]; b's pre-hook adds 1 → [3, 5]; b: [9, 15]; the model's hook ×10.
        Assert.That(output.ToArray<double>(), Is.EqualTo(new[] { 90.0, 150.0 }));
        Assert.That(log, Is.EqualTo(new[] { "pre a 3", "post b in 8 out 24" }));
        Assert.That(model.Forward(input).ToArray<double>(), Is.EqualTo(new[] { 9.0, 15.0 }), "Forward itself runs the children's hooks but not the model's");
        replaceInput.Dispose();
        Assert.That(model.Call(input).ToArray<double>(), Is.EqualTo(new[] { 60.0, 120.0 }), "the removed pre-hook no longer runs");
    }

    [Test]
    public void FullBackwardHookSeesGradInputAndGradOutputAndMayReplaceGradInput()
    {
        var lin = new Linear(3, 2, dtype: DType.Float64);
        var x = Tensor.FromArray([1.0, -2.0, 0.5, 0.3, 0.2, -0.1], [2, 3]).RequiresGrad_();
        Tensor?[]? seenIn = null, seenOut = null;
        lin.RegisterFullBackwardHook((m, gin, gout) => { seenIn = gin; seenOut = gout; return null; });
        var y = lin.Call(x);
        (y * y).Sum().Backward();
        var w = lin.Weight.Detach();
        var expectedGout = (y.Detach() * 2.0);
        Golden.AssertClose(seenOut![0]!, expectedGout, 1e-12, 0, "grad_output = ∂L/∂y");
        Golden.AssertClose(seenIn![0]!, expectedGout.MatMul(w), 1e-12, 0, "grad_input = ∂L/∂x");
        Golden.AssertClose(x.Grad!, expectedGout.MatMul(w), 1e-12, 0, "x.grad");
        Golden.AssertClose(lin.Weight.Grad!, expectedGout.mT.MatMul(x.Detach()), 1e-12, 0, "parameters unaffected");

        x.Grad = null;
        using (lin.RegisterFullBackwardHook((m, gin, gout) => [gin[0]! * 0.0 + 1.0]))
            (lin.Call(x) * lin.Call(x)).Sum().Backward();
        Assert.That(x.Grad!.ToArray<double>(), Is.All.EqualTo(2.0), "the replaced grad_input (ones, from two calls) reaches x");
    }

    [Test]
    public void FullBackwardHookRunsWithNullGradInputWhenTheInputNeedsNoGrad()
    {
        var lin = new Linear(3, 2, dtype: DType.Float64);
        int calls = 0;
        Tensor? gin0 = Tensor.Zeros(1);
        lin.RegisterFullBackwardHook((m, gin, gout) => { calls++; gin0 = gin[0]; Assert.That(gout[0], Is.Not.Null); return null; });
        lin.Call(Tensor.Ones([4, 3], DType.Float64)).Sum().Backward();
        Assert.That(calls, Is.EqualTo(1));
        Assert.That(gin0, Is.Null);
    }

    [Test]
    public void BackwardHooksNeedATensorModule()
    {
        var mha = new MultiheadAttention(4, 2);
        Assert.That(() => mha.RegisterFullBackwardHook((m, gin, gout) => null),
            Throws.TypeOf<NotSupportedException>().With.Message.EqualTo("RegisterFullBackwardHook: supported for Module<Tensor, Tensor>, MultiheadAttention is Module<ValueTuple`3, ValueTuple`2>."));
    }
}
