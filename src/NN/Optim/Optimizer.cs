using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ember.Optim;

/// <summary>
/// Hyper-parameters of one parameter group. Each optimizer has its own record type (e.g. <see cref="SgdOptions"/>);
/// schedulers change <see cref="Lr"/> (and <see cref="CycleMomentum"/>) while training.
/// </summary>
public abstract record OptimizerOptions
{
    /// <summary>Learning rate.</summary>
    public double Lr { get; set; }

    /// <summary>The momentum a cyclic scheduler drives (SGD/RMSprop momentum, Adam's β1); null when the optimizer has none.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public virtual double? CycleMomentum { get => null; set => throw new InvalidOperationException($"{GetType().Name} has no momentum to cycle."); }

    /// <summary>Throws ArgumentException with PyTorch's message when a value is out of range.</summary>
    public abstract void Validate();

    /// <summary>Throws <c>Invalid {what}: {value}</c> when the condition fails.</summary>
    protected static void Require(bool ok, string what, double value)
    {
        if (!ok) throw new ArgumentException($"Invalid {what}: {value.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
    }
}

/// <summary>A list of parameters sharing options (PyTorch's param_groups entry).</summary>
public sealed class ParamGroup
{
    /// <summary>Creates a group; null options take the optimizer's defaults.</summary>
    public ParamGroup(IEnumerable<Tensor> parameters, OptimizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Params = parameters.ToList();
        Options = options!;
    }

    /// <summary>The parameters, in order.</summary>
    public IReadOnlyList<Tensor> Params { get; }

    /// <summary>The group's hyper-parameters (mutable: schedulers change the learning rate).</summary>
    public OptimizerOptions Options { get; set; }

    /// <summary>The learning rate when the first scheduler attached (PyTorch's initial_lr); null before.</summary>
    public double? InitialLr { get; set; }
}

/// <summary>An optimizer's resumable state: per-parameter tensors by parameter index (over all groups in order), and the groups' options as JSON.</summary>
/// <param name="State">index → state name (e.g. "exp_avg", "step") → tensor.</param>
/// <param name="ParamGroups">One JSON object per group: its options plus "params" (indices).</param>
public sealed record OptimizerStateDict(Dictionary<int, Dictionary<string, Tensor>> State, JsonArray ParamGroups);

/// <summary>
/// Base of the optimizers (PyTorch's torch.optim.Optimizer): parameter groups, per-parameter state, ZeroGrad, Step,
/// StateDict/LoadStateDict. Subclasses implement <see cref="Update"/> for one parameter; the step runs under no-grad.
/// </summary>
public abstract class Optimizer
{
    private readonly List<ParamGroup> groups = [];
    private readonly Dictionary<Tensor, Dictionary<string, Tensor>> state = new(ReferenceEqualityComparer.Instance);

    /// <summary>Sets the defaults and adds the groups.</summary>
    /// <exception cref="ArgumentException">No parameters, a parameter in two groups, or invalid options.</exception>
    protected Optimizer(IEnumerable<ParamGroup> paramGroups, OptimizerOptions defaults)
    {
        defaults.Validate();
        Defaults = defaults;
        var list = paramGroups.ToList();
        if (list.Count == 0 || list.All(g => g.Params.Count == 0)) throw new ArgumentException("optimizer got an empty parameter list");
        foreach (var g in list) AddParamGroup(g);
    }

    /// <summary>Options used for groups given without their own.</summary>
    public OptimizerOptions Defaults { get; }

    /// <summary>The parameter groups.</summary>
    public IReadOnlyList<ParamGroup> ParamGroups => groups;

    /// <summary>Adds a group (options default to a copy of <see cref="Defaults"/>).</summary>
    /// <exception cref="ArgumentException">A parameter already belongs to a group, is not a floating-point leaf, or the options are of the wrong type or invalid.</exception>
    public void AddParamGroup(ParamGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        group.Options ??= Defaults with { };
        if (group.Options.GetType() != Defaults.GetType())
            throw new ArgumentException($"{GetType().Name}: param group options must be {Defaults.GetType().Name}, got {group.Options.GetType().Name}.");
        group.Options.Validate();
        var seen = new HashSet<Tensor>(groups.SelectMany(g => g.Params), ReferenceEqualityComparer.Instance);
        foreach (var p in group.Params)
        {
            if (!p.IsLeaf) throw new ArgumentException("can't optimize a non-leaf Tensor");
            if (!seen.Add(p)) throw new ArgumentException("some parameters appear in more than one parameter group");
        }
        groups.Add(group);
    }

    /// <summary>Clears the gradients of every parameter: to null (default) or zeroed in place.</summary>
    public void ZeroGrad(bool setToNull = true)
    {
        foreach (var p in groups.SelectMany(g => g.Params))
        {
            if (p.Grad is null) continue;
            if (setToNull) p.Grad = null;
            else { var prev = GradMode.Set(false); try { p.Grad.Zero_(); } finally { GradMode.Set(prev); } }
        }
    }

    /// <summary>One optimization step over every parameter that has a gradient.</summary>
    /// <exception cref="ArgumentException">A gradient's shape, dtype or device differs from its parameter's (checked for every
    /// parameter before any is updated, so a failed step changes nothing).</exception>
    public virtual void Step()
    {
        CheckGradients();
        using var untracked = TensorScope.Suspend();   // optimizer state outlives any Tensor.Scope of the step
        var prev = GradMode.Set(false);
        try
        {
            foreach (var g in groups)
            {
                var updates = new List<ParamUpdate>(g.Params.Count);
                foreach (var p in g.Params)
                {
                    if (p.Grad is null) continue;
                    if (!state.TryGetValue(p, out var st)) state[p] = st = [];
                    updates.Add(new ParamUpdate(p, p.Grad.Detach(), st));
                }
                if (updates.Count > 0) UpdateGroup(updates, g.Options);
            }
        }
        finally { GradMode.Set(prev); }
    }

    // The fused step kernels index the gradient with the parameter's element count: a gradient of another shape would be
    // read out of bounds. Tensor.Grad's setter refuses such gradients; this re-checks at the kernel boundary, for all
    // parameters first, so that a step is applied to all of them or to none.
    private void CheckGradients()
    {
        int index = 0;
        foreach (var g in groups)
            foreach (var p in g.Params)
            {
                if (p.Grad is { } grad)
                {
                    if (grad.Shape != p.Shape)
                        throw new ArgumentException($"{GetType().Name}.Step: parameter {index} has shape {p.Shape} but its gradient has shape {grad.Shape}; the gradient must have the parameter's shape.");
                    if (grad.DType != p.DType || grad.Device != p.Device)
                        throw new ArgumentException($"{GetType().Name}.Step: parameter {index} is {p.DType} on {p.Device} but its gradient is {grad.DType} on {grad.Device}.");
                }
                index++;
            }
    }

    /// <summary>Re-evaluates the loss with <paramref name="closure"/> (under grad mode), then steps; returns the loss.</summary>
    public virtual Tensor Step(Func<Tensor> closure)
    {
        ArgumentNullException.ThrowIfNull(closure);
        var loss = closure();
        Step();
        return loss;
    }

    /// <summary>Updates one parameter in place. <paramref name="state"/> is its (initially empty) state; runs under no-grad.</summary>
    protected abstract void Update(Tensor param, Tensor grad, Dictionary<string, Tensor> state, OptimizerOptions options);

    /// <summary>One parameter of a group's step: the parameter, its (detached) gradient and its state.</summary>
    /// <param name="Param">The parameter, updated in place.</param>
    /// <param name="Grad">Its gradient (same shape, dtype and device; checked).</param>
    /// <param name="State">Its (initially empty) state.</param>
    protected readonly record struct ParamUpdate(Tensor Param, Tensor Grad, Dictionary<string, Tensor> State);

    /// <summary>
    /// Updates the parameters of one group that have gradients, in order, under no-grad. The default calls
    /// <see cref="Update"/> for each; an optimizer with a multi-tensor (PyTorch's foreach) step overrides it.
    /// </summary>
    protected virtual void UpdateGroup(IReadOnlyList<ParamUpdate> updates, OptimizerOptions options)
    {
        foreach (var u in updates) Update(u.Param, u.Grad, u.State, options);
    }

    /// <summary>
    /// The shared part of a foreach <see cref="UpdateGroup"/>: parameters that do not use foreach (see
    /// <see cref="UsesForeach"/>) go through <see cref="Update"/> in order; the others are prepared (state advanced,
    /// gradient made contiguous) and bucketed by the key <paramref name="prepare"/> returns, and each bucket is handed
    /// to <paramref name="run"/> (one multi-tensor step), after which its parameters' versions are bumped.
    /// </summary>
    protected void UpdateInBuckets<TKey, TEntry>(IReadOnlyList<ParamUpdate> updates, OptimizerOptions options, bool? @foreach,
        Func<ParamUpdate, (TKey Key, TEntry Entry)> prepare, Action<TKey, List<TEntry>> run) where TKey : notnull
    {
        var buckets = new Dictionary<TKey, (List<TEntry> Entries, List<Tensor> Params)>();
        foreach (var u in updates)
        {
            if (!UsesForeach(@foreach, u.Param)) { Update(u.Param, u.Grad, u.State, options); continue; }
            var (key, entry) = prepare(u);
            if (!buckets.TryGetValue(key, out var bucket)) buckets[key] = bucket = ([], []);
            bucket.Entries.Add(entry);
            bucket.Params.Add(u.Param);
        }
        foreach (var (key, bucket) in buckets)
        {
            run(key, bucket.Entries);
            foreach (var p in bucket.Params) p.Storage.BumpVersion();
        }
    }

    /// <summary>
    /// Whether a parameter's step runs in a multi-tensor launch: the group's <c>foreach</c> option, or when it is null
    /// (automatic) whether the parameter's backend prefers it (<see cref="IBackend.PrefersForeachSteps"/>); a
    /// non-contiguous parameter never does (it is updated through a contiguous copy).
    /// </summary>
    protected static bool UsesForeach(bool? @foreach, Tensor param) =>
        param.IsContiguous && (@foreach ?? param.Backend.PrefersForeachSteps(param.Device));

    /// <summary>Increments and returns the "step" counter kept in the state (a Float64 scalar tensor, like PyTorch's step tensor).</summary>
    protected static long NextStep(Dictionary<string, Tensor> state)
    {
        long step = state.TryGetValue("step", out var s) ? (long)s.Item() + 1 : 1;
        state["step"] = Tensor.Scalar(step, DType.Float64);
        return step;
    }

    /// <summary>The (mutable) state of one parameter, created empty when absent; for optimizers with global state (LBFGS keeps it on the first parameter, as PyTorch does).</summary>
    protected Dictionary<string, Tensor> StateOf(Tensor parameter)
    {
        if (!state.TryGetValue(parameter, out var s)) state[parameter] = s = [];
        return s;
    }

    /// <summary>Whether state entry <paramref name="key"/> is per-element (shaped like its parameter, cast to its dtype and device on load); "step" is not.</summary>
    protected virtual bool IsPerElementState(string key) => key != "step";

    /// <summary>A state buffer, created with <paramref name="init"/> when absent.</summary>
    protected static Tensor GetOrCreate(Dictionary<string, Tensor> state, string name, Func<Tensor> init)
    {
        if (!state.TryGetValue(name, out var t)) state[name] = t = init();
        return t;
    }

    /// <summary>The state to resume from: per-parameter tensors (cloned) by index, and the groups' options.</summary>
    public OptimizerStateDict StateDict()
    {
        var st = new Dictionary<int, Dictionary<string, Tensor>>();
        var pg = new JsonArray();
        int index = 0;
        foreach (var g in groups)
        {
            var o = JsonSerializer.SerializeToNode(g.Options, g.Options.GetType())!.AsObject();
            if (g.InitialLr is { } il) o["initial_lr"] = il;
            var ids = new JsonArray();
            foreach (var p in g.Params)
            {
                if (state.TryGetValue(p, out var s)) st[index] = s.ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
                ids.Add(index++);
            }
            o["params"] = ids;
            pg.Add(o);
        }
        return new OptimizerStateDict(st, pg);
    }

    /// <summary>Restores options and state saved by <see cref="StateDict"/> from an optimizer over parameters of the same shapes.</summary>
    /// <exception cref="ArgumentException">Group count or sizes differ, an entry is malformed (the message names it), or a state
    /// tensor's shape does not match its parameter. Everything is checked before anything changes.</exception>
    public void LoadStateDict(OptimizerStateDict stateDict) => PrepareLoadStateDict(stateDict)();

    /// <summary>
    /// Validates <paramref name="stateDict"/> completely and converts its tensors, changing nothing; returns the action that
    /// installs it (which cannot fail). Lets a checkpoint load validate the model, optimizer and scheduler before applying any.
    /// </summary>
    /// <exception cref="ArgumentException">See <see cref="LoadStateDict"/>.</exception>
    internal Action PrepareLoadStateDict(OptimizerStateDict stateDict)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        ArgumentNullException.ThrowIfNull(stateDict.State);
        ArgumentNullException.ThrowIfNull(stateDict.ParamGroups);
        if (stateDict.ParamGroups.Count != groups.Count)
            throw new ArgumentException($"loaded state dict has {stateDict.ParamGroups.Count} parameter groups, this optimizer has {groups.Count}");
        var all = groups.SelectMany(g => g.Params).ToList();
        var options = new OptimizerOptions[groups.Count];
        var initialLrs = new double?[groups.Count];
        for (int i = 0; i < groups.Count; i++)
        {
            if (stateDict.ParamGroups[i] is not JsonObject o)
                throw new ArgumentException($"loaded state dict: parameter group {i} is not a JSON object.");
            if (o["params"] is not JsonArray ids)
                throw new ArgumentException($"loaded state dict: parameter group {i} has no \"params\" array.");
            if (ids.Count != groups[i].Params.Count)
                throw new ArgumentException($"loaded state dict contains a parameter group that doesn't match the size of optimizer's group {i} ({ids.Count} vs {groups[i].Params.Count})");
            var copy = o.DeepClone().AsObject();
            try
            {
                initialLrs[i] = copy["initial_lr"]?.GetValue<double>();
                copy.Remove("params"); copy.Remove("initial_lr");
                options[i] = (OptimizerOptions?)copy.Deserialize(Defaults.GetType())
                    ?? throw new ArgumentException($"loaded state dict: the options of parameter group {i} are null.");
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NotSupportedException)
            {
                throw new ArgumentException($"loaded state dict: the options of parameter group {i} are not valid {Defaults.GetType().Name} ({e.Message})", e);
            }
            options[i].Validate();
        }
        var converted = new Dictionary<Tensor, Dictionary<string, Tensor>>(ReferenceEqualityComparer.Instance);
        foreach (var (idx, s) in stateDict.State)
        {
            if (idx < 0 || idx >= all.Count) throw new ArgumentException($"loaded optimizer state refers to parameter {idx}, but there are {all.Count}.");
            var p = all[idx];
            foreach (var (k, t) in s)
            {
                if (t is null) throw new ArgumentException($"loaded optimizer state \"{k}\" of parameter {idx} is null.");
                if (IsPerElementState(k) ? t.Shape != p.Shape : k == "step" && t.Numel != 1)
                    throw new ArgumentException($"loaded optimizer state \"{k}\" of parameter {idx} has shape {t.Shape}, the parameter has {p.Shape}.");
            }
            converted[p] = s.ToDictionary(kv => kv.Key, kv => !IsPerElementState(kv.Key) ? kv.Value.Clone() : kv.Value.To(p.Device).To(p.DType).Clone());
        }
        return () =>
        {
            for (int i = 0; i < groups.Count; i++)
            {
                groups[i].InitialLr = initialLrs[i];
                groups[i].Options = options[i];
            }
            state.Clear();
            foreach (var (p, s) in converted) state[p] = s;
        };
    }

    /// <summary>The state of one parameter (empty before its first step); for inspection and tests.</summary>
    public IReadOnlyDictionary<string, Tensor> GetState(Tensor parameter) =>
        state.TryGetValue(parameter, out var s) ? s : new Dictionary<string, Tensor>();
}
