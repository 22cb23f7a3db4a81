namespace Ember.NN;

/// <summary>
/// Data-parallel training over a <see cref="ProcessGroup"/> (torch.nn.parallel.DistributedDataParallel): every rank
/// holds a replica of the module and trains on its own share of each batch; after backward every replica holds the
/// gradient averaged over ranks, so identical optimizer steps keep the replicas identical.
/// </summary>
/// <remarks>
/// <para><b>Construction</b> checks that every rank has the same parameters (count, shapes, dtypes; a mismatch throws
/// on every rank naming the parameter and the rank) and broadcasts parameters and buffers from rank 0.</para>
/// <para><b>Buckets.</b> Parameters are packed, in reverse registration order (roughly the order backward produces
/// their gradients), into buckets of at most <c>bucketCapMb</c> MiB. A post-accumulate-grad hook on each parameter
/// copies its gradient into the bucket; when a bucket's last gradient arrived, its asynchronous all-reduce (average)
/// starts at once, overlapping the rest of backward. Buckets are launched in bucket order on every rank (a bucket
/// that completes early waits for its predecessors), so all ranks issue the collectives in the same order.</para>
/// <para><b>Completion.</b> The hook that launches the last bucket also waits for all of them and writes the averaged
/// values back into each parameter's <see cref="Tensor.Grad"/>; so when <c>Backward()</c> returns, the gradients are
/// synchronized and the optimizer can step. (PyTorch queues a callback at the end of backward; the engine here has no
/// such queue, and the last bucket's hook is the moment the engine has nothing left to produce for this module.)</para>
/// <para><b>Unused parameters.</b> By default every parameter must receive a gradient in each iteration; otherwise the
/// next forward throws. With <c>findUnusedParameters</c>, forward walks the autograd graph from the output and
/// counts parameters outside it as ready (zero contribution); a parameter unused on every rank keeps its gradient
/// unchanged (null stays null), as in PyTorch.</para>
/// <para><b>State dict.</b> The wrapped module's children, parameters and buffers are registered under their own
/// names, so <see cref="Module.StateDict"/> has the plain keys of the single-process model (no <c>module.</c>
/// prefix) and checkpoints load in either. Wrap the module after moving it to its device and dtype.</para>
/// </remarks>
public sealed class DistributedDataParallel : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> module;
    private readonly ProcessGroup group;
    private readonly Tensor[] parameters;
    private readonly GradFn?[] accumulators;
    private readonly (int Bucket, int Slot)[] location;
    private readonly GradBucket[] buckets;
    private readonly bool[] ready;
    private readonly object gate = new();
    private readonly List<IDisposable> hooks = [];
    private int nextLaunch, pendingParameters;
    private bool armed, started, syncEnabled = true;
    private Tensor? usedMap;

    /// <summary>Wraps <paramref name="module"/>; collective over the group (every rank must construct it).</summary>
    /// <param name="module">The replica; its parameters are overwritten by rank 0's.</param>
    /// <param name="processGroup">The group to average over (default: <see cref="Distributed.World"/>).</param>
    /// <param name="bucketCapMb">Bucket size cap in MiB (PyTorch's bucket_cap_mb, 25).</param>
    /// <param name="findUnusedParameters">Allow parameters that get no gradient in an iteration (costs a graph walk per forward and one extra small all-reduce).</param>
    /// <param name="broadcastBuffers">Broadcast buffers (e.g. BatchNorm statistics) from rank 0 at every training forward.</param>
    /// <exception cref="ArgumentException">bucketCapMb is not positive.</exception>
    /// <exception cref="InvalidOperationException">The ranks' parameters differ (on every rank).</exception>
    public DistributedDataParallel(Module<Tensor, Tensor> module, ProcessGroup? processGroup = null, double bucketCapMb = 25,
        bool findUnusedParameters = false, bool broadcastBuffers = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (!(bucketCapMb > 0)) throw new ArgumentException($"DistributedDataParallel: bucketCapMb must be positive, got {bucketCapMb}.", nameof(bucketCapMb));
        this.module = module;
        group = processGroup ?? Distributed.World;
        FindUnusedParameters = findUnusedParameters;
        BroadcastBuffers = broadcastBuffers;
        Mirror(module);
        var named = module.NamedParameters().Where(p => p.Parameter.RequiresGrad).ToArray();
        parameters = named.Select(p => p.Parameter).ToArray();
        VerifyParameters(named);
        Synchronize(module.Parameters().Concat(module.Buffers()));
        buckets = MakeBuckets(parameters, (long)(bucketCapMb * 1024 * 1024), out location);
        ready = new bool[parameters.Length];
        accumulators = new GradFn?[parameters.Length];
        for (int i = 0; i < parameters.Length; i++)
        {
            int index = i;
            hooks.Add(parameters[i].RegisterPostAccumulateGradHook(_ => OnGradientReady(index)));
            if (findUnusedParameters) accumulators[i] = AccumulatorOf(parameters[i]);
        }
    }

    /// <summary>The wrapped module.</summary>
    public Module<Tensor, Tensor> Module => module;

    /// <summary>The group gradients are averaged over.</summary>
    public ProcessGroup ProcessGroup => group;

    /// <summary>Whether parameters may go without gradient in an iteration.</summary>
    public bool FindUnusedParameters { get; }

    /// <summary>Whether buffers are broadcast from rank 0 at each training forward.</summary>
    public bool BroadcastBuffers { get; }

    /// <summary>The number of gradient buckets.</summary>
    public int BucketCount => buckets.Length;

    /// <summary>The parameter names of each bucket, in launch order (diagnostics, tests).</summary>
    public IReadOnlyList<IReadOnlyList<string>> BucketParameterNames
    {
        get
        {
            var names = module.NamedParameters().ToDictionary(p => p.Parameter, p => p.Name, (IEqualityComparer<Tensor>)ReferenceEqualityComparer.Instance);
            return buckets.Select(b => (IReadOnlyList<string>)b.Parameters.Select(i => names[parameters[i]]).ToArray()).ToArray();
        }
    }

    /// <summary>
    /// Runs the wrapped module. In training with grad mode on, prepares this iteration's gradient synchronization
    /// (and, with findUnusedParameters, marks parameters outside the output's graph as ready).
    /// </summary>
    /// <exception cref="InvalidOperationException">The previous iteration's gradient synchronization did not finish (a parameter got no gradient; see findUnusedParameters).</exception>
    public override Tensor Forward(Tensor input)
    {
        if (module.Training != Training) module.Train(Training);
        lock (gate)
        {
            if (started)
                throw new InvalidOperationException(
                    "DistributedDataParallel: Expected to have finished reduction in the prior iteration before starting a new one. " +
                    "This error indicates that your module has parameters that were not used in producing loss (missing gradients for: " +
                    string.Join(", ", MissingNames()) + "). Pass findUnusedParameters: true, or make sure all forward outputs participate in the loss.");
        }
        if (Training && BroadcastBuffers && group.Size > 1) Synchronize(module.Buffers());
        var output = module.Forward(input);
        bool sync = Training && GradMode.IsEnabled && syncEnabled && parameters.Length > 0;
        lock (gate)
        {
            armed = sync;
            if (sync) Arm(output);
        }
        return output;
    }

    /// <summary>
    /// Disables gradient synchronization until the returned scope is disposed (no_sync): backward passes inside it
    /// only accumulate local gradients; the first backward after it averages the accumulated gradients.
    /// </summary>
    public IDisposable NoSync()
    {
        bool previous = syncEnabled;
        syncEnabled = false;
        return new Scope(() => syncEnabled = previous);
    }

    private sealed class Scope(Action end) : IDisposable
    {
        private Action? end = end;
        public void Dispose() => Interlocked.Exchange(ref end, null)?.Invoke();
    }

    // ---- one iteration -------------------------------------------------------------------------------------

    private void Arm(Tensor output)
    {
        Array.Clear(ready);
        nextLaunch = 0;
        pendingParameters = parameters.Length;
        foreach (var b in buckets) { b.Pending = b.Parameters.Length; b.Work = null; }
        if (!FindUnusedParameters) return;
        using (TensorScope.Suspend()) usedMap = Tensor.Zeros([parameters.Length], DType.Float64);
        var reachable = Reachable(output.GradFn);
        for (int i = 0; i < parameters.Length; i++)
            if (accumulators[i] is not { } acc || !reachable.Contains(acc))
                MarkReady(i, gradient: null);
    }

    private void OnGradientReady(int index)
    {
        lock (gate)
        {
            if (!armed) return;   // NoSync, eval, or a backward outside a DDP forward: local accumulation only
            if (ready[index])
                throw new InvalidOperationException(
                    $"DistributedDataParallel: parameter {NameOf(index)} received a gradient twice in one iteration (a second backward without a new forward, or a reentrant backward); this is not supported.");
            started = true;
            MarkReady(index, parameters[index].Grad);
            PollInFlight();
        }
    }

    /// <summary>Copies a gradient (or zeros) into its bucket; launches every bucket that is complete and next in order; finishes after the last.</summary>
    private void MarkReady(int index, Tensor? gradient)
    {
        ready[index] = true;
        pendingParameters--;
        var (bi, slot) = location[index];
        var bucket = buckets[bi];
        using (Autograd.NoGrad())
        {
            var slice = bucket.Slice(slot, parameters[index]);
            if (gradient is null) slice.Zero_();
            else
            {
                slice.Copy_(gradient);
                usedMap?.Narrow(0, index, 1).Fill_(1);
            }
        }
        bucket.Pending--;
        while (nextLaunch < buckets.Length && buckets[nextLaunch].Pending == 0)
        {
            var b = buckets[nextLaunch++];
            // The last bucket is waited for at once, so it takes MPI's blocking all-reduce (Open MPI's tuned
            // algorithms measured faster than its non-blocking ones: perf/README.md); the others overlap backward.
            bool last = nextLaunch == buckets.Length && pendingParameters == 0;
            b.Work = group.AllReduceWork(b.Flat, Distributed.ReduceOp.Avg, async: !last);
        }
        if (nextLaunch == buckets.Length && pendingParameters == 0) Finish();
    }

    /// <summary>Open MPI advances non-blocking collectives only inside MPI calls: testing the oldest one moves them along.</summary>
    private void PollInFlight()
    {
        foreach (var b in buckets)
            if (b.Work is { } w && !w.IsCompleted) return;
    }

    private void Finish()
    {
        // How many ranks used each parameter (issued after every bucket, in the same order on all ranks).
        double[]? used = null;
        if (usedMap is not null) { group.AllReduce(usedMap); used = usedMap.ToArray<double>(); }
        using (Autograd.NoGrad())
            foreach (var b in buckets)
            {
                b.Work!.Wait();
                for (int slot = 0; slot < b.Parameters.Length; slot++)
                {
                    int i = b.Parameters[slot];
                    var p = parameters[i];
                    if (used is not null && used[i] == 0) continue;   // unused on every rank: .Grad untouched
                    var averaged = b.Slice(slot, p);
                    if (p.Grad is null) using (TensorScope.Suspend()) p.Grad = averaged.Clone();   // a gradient outlives the step's scope
                    else p.Grad.Copy_(averaged);
                }
            }
        armed = false;
        started = false;
    }

    // ---- setup ------------------------------------------------------------------------------------------

    private void Mirror(Module<Tensor, Tensor> m)
    {
        var persistent = m.StateDict().Keys.ToHashSet();
        foreach (var (name, child) in m.NamedChildren()) RegisterModule(name, child);
        foreach (var (name, p) in m.NamedParameters(recurse: false)) RegisterParameter(name, p);
        foreach (var (name, b) in m.NamedBuffers(recurse: false)) RegisterBuffer(name, b, persistent.Contains(name));
    }

    private void VerifyParameters((string Name, Tensor Parameter)[] named)
    {
        if (group.Size == 1) return;
        var counts = new long[group.Size];
        group.AllGatherLongs([named.Length], counts);
        for (int r = 1; r < group.Size; r++)
            if (counts[r] != counts[0])
                throw new InvalidOperationException(
                    $"DistributedDataParallel: rank {r} has {counts[r]} parameters that require grad but rank 0 has {counts[0]}; every rank must build the same model (this is rank {group.Rank}).");
        const int width = 2 + Tensor.MaxRank;
        var mine = new long[named.Length * width];
        for (int i = 0; i < named.Length; i++)
        {
            var p = named[i].Parameter;
            mine[i * width] = (long)p.DType;
            mine[i * width + 1] = p.Dim;
            for (int d = 0; d < p.Dim; d++) mine[i * width + 2 + d] = p.Size(d);
        }
        var all = new long[mine.Length * group.Size];
        group.AllGatherLongs(mine, all);
        string Describe(int r, int i) =>
            $"{(DType)all[r * mine.Length + i * width]} [{string.Join(", ", all.AsSpan(r * mine.Length + i * width + 2, (int)all[r * mine.Length + i * width + 1]).ToArray())}]";
        for (int r = 1; r < group.Size; r++)
            for (int i = 0; i < named.Length; i++)
                if (!all.AsSpan(r * mine.Length + i * width, width).SequenceEqual(all.AsSpan(i * width, width)))
                    throw new InvalidOperationException(
                        $"DistributedDataParallel: parameter {named[i].Name} is {Describe(r, i)} on rank {r} but {Describe(0, i)} on rank 0; " +
                        $"every rank must build the same model (this is rank {group.Rank}).");
    }

    private void Synchronize(IEnumerable<Tensor> tensors)
    {
        if (group.Size == 1) return;
        using var _ = Autograd.NoGrad();
        foreach (var t in tensors) group.Broadcast(t, 0);
    }

    private static GradBucket[] MakeBuckets(Tensor[] ps, long capBytes, out (int, int)[] location)
    {
        location = new (int, int)[ps.Length];
        var result = new List<GradBucket>();
        var open = new Dictionary<(DType, Device), (List<int> Ids, List<Tensor> Ts, long Bytes)>();
        void Close((DType, Device) key)
        {
            var (ids, ts, _) = open[key];
            open.Remove(key);
            result.Add(new GradBucket(result.Count, ids, ts));
        }
        for (int i = ps.Length - 1; i >= 0; i--)   // reverse registration order ≈ the order gradients become ready
        {
            var key = (ps[i].DType, ps[i].Device);
            if (!open.TryGetValue(key, out var b)) open[key] = b = ([], [], 0);
            b.Ids.Add(i);
            b.Ts.Add(ps[i]);
            b.Bytes += ps[i].Numel * ps[i].DType.ElementSize();
            open[key] = b;
            if (b.Bytes >= capBytes) Close(key);
        }
        foreach (var key in open.Keys.ToList()) Close(key);
        var buckets = result.ToArray();
        foreach (var bucket in buckets)
            for (int slot = 0; slot < bucket.Parameters.Length; slot++) location[bucket.Parameters[slot]] = (bucket.Index, slot);
        return buckets;
    }

    /// <summary>The leaf's gradient accumulator node: a view's backward node points at it (as PyTorch's <c>p.expand_as(p).grad_fn.next_functions[0][0]</c>).</summary>
    private static GradFn? AccumulatorOf(Tensor p)
    {
        using var _ = Autograd.EnableGrad();
        return p.View(p.Shape.ToArray()).GradFn?.NextFunctions[0];
    }

    private static HashSet<GradFn> Reachable(GradFn? root)
    {
        var seen = new HashSet<GradFn>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<GradFn>();
        if (root != null) stack.Push(root);
        while (stack.Count > 0)
        {
            var f = stack.Pop();
            if (!seen.Add(f)) continue;
            foreach (var n in f.NextFunctions) if (n != null) stack.Push(n);
        }
        return seen;
    }

    private string NameOf(int index) =>
        module.NamedParameters().First(p => ReferenceEquals(p.Parameter, parameters[index])).Name;

    private IEnumerable<string> MissingNames() =>
        Enumerable.Range(0, parameters.Length).Where(i => !ready[i]).Select(NameOf);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"world_size={group.Size}, buckets={buckets.Length}, find_unused_parameters={Py(FindUnusedParameters)}";
}
