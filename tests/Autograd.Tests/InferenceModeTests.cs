namespace Ember.AutogradTests;

/// <summary>Autograd.InferenceMode: no graph inside, modes restored after, nesting with InferenceMode(false), per async flow.</summary>
public class InferenceModeTests
{
    [Test]
    public void NothingIsRecordedInsideAndModesAreRestored()
    {
        var x = T.Of([1, 2, 3]);
        Assert.That(Autograd.IsInferenceModeEnabled, Is.False);
        Tensor y;
        using (Autograd.InferenceMode())
        {
            Assert.That(Autograd.IsInferenceModeEnabled, Is.True);
            Assert.That(Autograd.IsGradEnabled, Is.False);
            y = (x * 2).Sum();
        }
        Assert.That(y.RequiresGrad, Is.False);
        Assert.That(y.GradFn, Is.Null);
        Assert.That(y.Item(), Is.EqualTo(12));
        Assert.That(Autograd.IsInferenceModeEnabled, Is.False);
        Assert.That(Autograd.IsGradEnabled, Is.True);
        Assert.That((x * 2).Sum().RequiresGrad, Is.True, "recording again after the scope");
    }

    [Test]
    public void DisabledInnerScopeRecordsAndRestoresTheOuterMode()
    {
        var x = T.Of([1, 2]);
        using (Autograd.InferenceMode())
        {
            using (Autograd.InferenceMode(false))
            {
                Assert.That(Autograd.IsInferenceModeEnabled, Is.False);
                // inference_mode(False) does not turn grad mode back on by itself: enable_grad does.
                using (Autograd.EnableGrad())
                {
                    var y = (x * x).Sum();
                    y.Backward();
                }
            }
            Assert.That(Autograd.IsInferenceModeEnabled, Is.True);
            Assert.That(Autograd.IsGradEnabled, Is.False);
        }
        T.Close(x.Grad, [2, 4]);
    }

    [Test]
    public async Task ModeFlowsAcrossAwaitButNotToARunningThread()
    {
        using var inScope = new ManualResetEventSlim();
        using var checkedOther = new ManualResetEventSlim();
        bool other = true;
        // Started before the scope: a thread started inside would inherit the execution context, as with NoGrad.
        var t = new Thread(() => { inScope.Wait(); other = Autograd.IsInferenceModeEnabled; checkedOther.Set(); });
        t.Start();
        using (Autograd.InferenceMode())
        {
            inScope.Set();
            checkedOther.Wait();
            Assert.That(other, Is.False, "another thread is not in inference mode");
            await Task.Yield();
            Assert.That(Autograd.IsInferenceModeEnabled, Is.True, "after await");
        }
        t.Join();
    }
}
