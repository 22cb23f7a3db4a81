using Ember.NN;
using Ember.Optim;

namespace Ember.Hardening.Tests;

/// <summary>A gradient of another shape, dtype or device never reaches an optimizer kernel or a leaf's .Grad.</summary>
public class GradientValidationTests
{
    private static readonly Func<Tensor[], Optimizer>[] Optimizers =
    [
        ps => new SGD(ps, lr: 0.1, momentum: 0.9),
        ps => new Adam(ps, lr: 0.1),
        ps => new AdamW(ps, lr: 0.1),
        ps => new RMSprop(ps, lr: 0.1),
        ps => new Lamb(ps, lr: 0.1),
    ];

    [Test]
    public void OptimizerStepWithGradientOfAnotherShapeIsRefusedAndLeavesTheParameter([Range(0, 4)] int which)
    {
        var p = Tensor.Randn(4096).RequiresGrad_();
        var before = p.Detach().ToArray<float>();
        var opt = Optimizers[which]([p]);
        var ex = Assert.Catch<ArgumentException>(() => { p.Grad = Tensor.Randn(16); opt.Step(); });
        Assert.That(ex!.Message, Does.Contain("[16]").And.Contain("[4096]"));
        Assert.That(p.Detach().ToArray<float>(), Is.EqualTo(before));
    }

    [Test]
    public void GradAssignmentChecksShapeAndDType()   // the device check runs in Backends.Tests (ValidationTests)
    {
        var p = Tensor.Zeros(3, 2).RequiresGrad_();
        Assert.That(Assert.Throws<ArgumentException>(() => p.Grad = Tensor.Zeros(2, 3))!.Message, Does.Contain("assigned grad has data of a different size"));
        Assert.That(Assert.Throws<ArgumentException>(() => p.Grad = Tensor.Zeros([3, 2], DType.Float64))!.Message, Does.Contain("assigned grad has data of a different type"));
        Assert.That(p.Grad, Is.Null);
        p.Grad = Tensor.Ones(3, 2);
        p.Grad = null;
        Assert.That(p.Grad, Is.Null);
    }

    [Test]
    public void LeafHookReturningAnotherShapeIsRefused()
    {
        var x = Tensor.Randn(3).RequiresGrad_();
        using var h = x.RegisterHook(_ => Tensor.Ones(5));
        var ex = Assert.Throws<InvalidOperationException>(() => (x * 2).Sum().Backward());
        Assert.That(ex!.Message, Does.Contain("hook has changed the size of value"));
        Assert.That(x.Grad, Is.Null);
    }

    [Test]
    public void NonLeafHookReturningAnotherShapeOrDTypeIsRefused()
    {
        var x = Tensor.Randn(3).RequiresGrad_();
        var y = x * 2;
        using var h = y.RegisterHook(_ => Tensor.Ones([3], DType.Float64));
        var ex = Assert.Throws<InvalidOperationException>(() => y.Sum().Backward());
        Assert.That(ex!.Message, Does.Contain("hook has changed the type of value"));
        Assert.That(x.Grad, Is.Null);
    }

    [Test]
    public void HookReturningTheSameShapeStillReplacesTheGradient()
    {
        var x = Tensor.Randn(3).RequiresGrad_();
        using var h = x.RegisterHook(g => g * 3);
        (x * 2).Sum().Backward();
        Assert.That(x.Grad!.ToArray<float>(), Is.EqualTo(new[] { 6f, 6f, 6f }));
    }
}
