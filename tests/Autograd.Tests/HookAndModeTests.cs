namespace Ember.AutogradTests;

/// <summary>Tensor hooks, post-accumulate hooks, NoGrad/EnableGrad across threads and await, anomaly mode, version counters.</summary>
public class HookAndModeTests
{
    [Test]
    public void HooksRunInRegistrationOrderAndMayReplaceTheGradient()
    {
        var x = T.Of([1, 2]);
        var h = x * 2;
        var log = new List<string>();
        h.RegisterHook(g => { log.Add("first " + string.Join(",", T.D(g))); return g * 10; });
        h.RegisterHook(g => { log.Add("second " + string.Join(",", T.D(g))); return null; });
        x.RegisterHook(g => { log.Add("leaf " + string.Join(",", T.D(g))); return null; });
        x.RegisterPostAccumulateGradHook(t => log.Add("post " + string.Join(",", T.D(t.Grad!))));
        h.Sum().Backward();
        Assert.That(log, Is.EqualTo(new[] { "first 1,1", "second 10,10", "leaf 20,20", "post 20,20" }));
        T.Close(x.Grad, [20, 20]);
    }

    [Test]
    public void RemovedHookNoLongerRuns()
    {
        var x = T.Of([1, 2]);
        int calls = 0;
        var handle = x.RegisterHook(g => { calls++; return g * 2; });
        (x * 1).Sum().Backward();
        handle.Dispose();
        x.Grad = null;
        (x * 1).Sum().Backward();
        Assert.That(calls, Is.EqualTo(1));
        T.Close(x.Grad, [1, 1]);
    }

    [Test]
    public void LeafHookSeesTheSummedGradientOnce()
    {
        var x = T.Of([1.0]);
        var seen = new List<double>();
        x.RegisterHook(g => { seen.Add(g.Item()); return null; });
        (x * 2 + x * 3).Sum().Backward();
        Assert.That(seen, Is.EqualTo(new[] { 5.0 }));
    }

    [Test]
    public void HookRegistrationErrors()
    {
        var c = Tensor.Ones([2], DType.Float64);
        Assert.Throws<InvalidOperationException>(() => c.RegisterHook(g => g));
        var x = T.Of([1, 2]);
        Assert.Throws<InvalidOperationException>(() => (x * 2).RegisterPostAccumulateGradHook(_ => { }));
        Assert.Throws<InvalidOperationException>(() => c.RetainGrad());
    }

    [Test]
    public void NoGradStopsRecordingAndEnableGradRestoresIt()
    {
        var x = T.Of([1, 2]);
        using (Autograd.NoGrad())
        {
            Assert.That(Autograd.IsGradEnabled, Is.False);
            Assert.That((x * 2).RequiresGrad, Is.False);
            using (Autograd.EnableGrad()) Assert.That((x * 2).RequiresGrad, Is.True);
            Assert.That(Autograd.IsGradEnabled, Is.False);
        }
        Assert.That(Autograd.IsGradEnabled, Is.True);
        Assert.That((x * 2).GradFn, Is.Not.Null);
    }

    [Test]
    public void NoGradIsPerThread()
    {
        var x = T.Of([1, 2]);
        using var inScope = new ManualResetEventSlim();
        using var checkedOther = new ManualResetEventSlim();
        bool otherRecorded = false;
        var other = new Thread(() =>
        {
            inScope.Wait();
            otherRecorded = (x * 2).RequiresGrad;
            checkedOther.Set();
        });
        other.Start();
        using (Autograd.NoGrad())
        {
            inScope.Set();
            checkedOther.Wait();
            Assert.That((x * 2).RequiresGrad, Is.False);
        }
        other.Join();
        Assert.That(otherRecorded, Is.True);
    }

    [Test]
    public async Task NoGradFlowsAcrossAwait()
    {
        var x = T.Of([1, 2]);
        using (Autograd.NoGrad())
        {
            await Task.Yield();
            Assert.That((x * 2).RequiresGrad, Is.False);
            await Task.Run(() => Assert.That((x * 2).RequiresGrad, Is.False));
        }
        Assert.That((x * 2).RequiresGrad, Is.True);
    }

    [Test]
    public async Task NoGradInsideAnAsyncMethodDoesNotLeakToTheCaller()
    {
        var x = T.Of([1, 2]);
        await EvaluateWithoutGrad(x);
        Assert.That(Autograd.IsGradEnabled, Is.True);
    }

    private static async Task EvaluateWithoutGrad(Tensor x)
    {
        using var scope = Autograd.NoGrad();
        await Task.Yield();
        Assert.That((x * 2).RequiresGrad, Is.False);
    }

    [Test]
    public void AnomalyModeNamesTheForwardOpAndWhereItWasCreated()
    {
        var x = T.Of([0.0, 1.0]);
        using (Autograd.DetectAnomaly())
        {
            var y = x.Sqrt();                 // d/dx √x = ∞ at 0
            var e = Assert.Throws<InvalidOperationException>(() => y.Sum().Backward());
            Assert.That(e!.Message, Does.Contain("SqrtBackward").And.Contain("inf").And.Contain(nameof(AnomalyModeNamesTheForwardOpAndWhereItWasCreated)));
        }
        Assert.That(Autograd.IsAnomalyEnabled, Is.False);
        // Without anomaly mode the infinity passes silently (as in PyTorch).
        x.Sqrt().Sum().Backward();
        Assert.That(double.IsPositiveInfinity(T.D(x.Grad!)[0]), Is.True);
    }

    [Test]
    public void AnomalyModeCatchesNaN()
    {
        var x = T.Of([-1.0]);
        var y = x.Log();
        using (Autograd.DetectAnomaly())
        {
            var z = y * 0 + x.Sqrt();
            var e = Assert.Throws<InvalidOperationException>(() => z.Sum().Backward());
            Assert.That(e!.Message, Does.Contain("nan").And.Contain("SqrtBackward"));
        }
    }

    [Test]
    public void ModifyingASavedTensorInPlaceBreaksBackward()
    {
        var x = T.Of([1, 2]);
        var w = Tensor.FromArray(new[] { 3.0, 4.0 }, 2);
        var y = (x * w).Sum();
        w.Mul_(2);                          // w does not require grad: allowed, but MulBackward saved it
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.That(e!.Message, Does.Contain("modified by an inplace operation").And.Contain("is at version 1; expected version 0 instead"));
    }

    [Test]
    public void ModifyingASavedResultInPlaceBreaksBackward()
    {
        var x = T.Of([1, 2]);
        var y = x.Exp();
        using (Autograd.NoGrad()) y.Add_(1);
        var e = Assert.Throws<InvalidOperationException>(() => y.Sum().Backward());
        Assert.That(e!.Message, Does.Contain("ExpBackward").And.Contain("version 1"));
    }

    [Test]
    public void ModifyingATensorThatWasNotSavedIsFine()
    {
        var x = T.Of([1, 2]);
        var w = Tensor.FromArray(new[] { 3.0, 4.0 }, 2);
        var y = (x + w).Sum();             // Add saves nothing
        w.Mul_(2);
        y.Backward();
        T.Close(x.Grad, [1, 1]);
    }
}
