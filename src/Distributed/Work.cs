namespace Ember;

/// <summary>
/// The handle of an asynchronous collective (torch.distributed.Work): <see cref="Wait"/> blocks until this rank's
/// part is done and its output tensors hold the result. Until then the tensors passed to the collective must not
/// be read or written.
/// </summary>
public sealed class Work
{
    private readonly Func<bool> test;
    private readonly Action wait;
    private readonly Action? finish;
    private readonly object gate = new();
    private bool done;
    private Exception? error;

    internal Work(Func<bool> test, Action wait, Action? finish)
    {
        this.test = test;
        this.wait = wait;
        this.finish = finish;
    }

    /// <summary>A handle that is already complete (a collective that ran synchronously).</summary>
    internal static Work Completed(Action? finish = null)
    {
        var w = new Work(() => true, () => { }, finish);
        w.Wait();
        return w;
    }

    /// <summary>True once the operation finished (polls the transport; finishing copies the result back).</summary>
    public bool IsCompleted
    {
        get
        {
            lock (gate)
            {
                if (done) return true;
                if (!test()) return false;
                Complete();
                return true;
            }
        }
    }

    /// <summary>Blocks until the operation finished and its outputs hold the result.</summary>
    /// <exception cref="InvalidOperationException">The transport reported an error (rethrown on every call).</exception>
    public void Wait()
    {
        lock (gate)
        {
            if (!done)
            {
                try { wait(); }
                catch (Exception e) { error = e; done = true; throw; }
                Complete();
            }
            if (error != null) throw new InvalidOperationException("The collective failed: " + error.Message, error);
        }
    }

    private void Complete()
    {
        done = true;
        try { finish?.Invoke(); }
        catch (Exception e) { error = e; throw; }
    }
}
