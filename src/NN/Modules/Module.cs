using System.Text;

namespace Ember.NN;

/// <summary>What <see cref="Module.LoadStateDict"/> found: keys the module has that the dictionary lacked, and keys it had that the module lacks.</summary>
/// <param name="MissingKeys">Keys of the module's state dict absent from the loaded dictionary.</param>
/// <param name="UnexpectedKeys">Keys of the loaded dictionary that the module does not have.</param>
public sealed record LoadStateDictResult(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys);

/// <summary>
/// Base class of every layer and model (PyTorch's nn.Module). A module registers its parameters, buffers
/// and child modules explicitly and in order, and fields holding a module or a parameter (a leaf tensor that requires
/// grad) are registered automatically under the field's name (see <see cref="Module"/>'s remarks); names are PyTorch's,
/// so <see cref="StateDict"/> keys match a PyTorch model of the same architecture (<c>0.weight</c>, <c>bn.running_mean</c>, …).
/// </summary>
/// <remarks>
/// Registered tensors are owned by the module: <c>To(device)</c> and <c>To(dtype)</c> replace them with
/// converted copies, so layers read their tensors through the registry (e.g. <c>Linear.Weight</c>) rather than caching
/// them. Create optimizers after moving a model.
/// </remarks>
public abstract partial class Module
{
    private readonly List<string> paramNames = [];
    private readonly Dictionary<string, Tensor?> parameters = [];
    private readonly List<string> bufferNames = [];
    private readonly Dictionary<string, (Tensor? Tensor, bool Persistent)> buffers = [];
    private readonly List<string> moduleNames = [];
    private readonly Dictionary<string, Module?> modules = [];

    /// <summary>True in training mode (the default), false after <c>Eval()</c>.</summary>
    public bool Training { get; private set; } = true;

    // ---- registration ---------------------------------------------------------------------------

    private void CheckName(string name, string what)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('.'))
            throw new ArgumentException($"Register{what}: name \"{name}\" must not contain \".\".", nameof(name));
        bool taken = (what != "Parameter" && parameters.ContainsKey(name)) || (what != "Buffer" && buffers.ContainsKey(name))
            || (what != "Module" && modules.ContainsKey(name));
        if (taken) throw new ArgumentException($"Register{what}: attribute \"{name}\" already exists as another kind of member.", nameof(name));
    }

    /// <summary>
    /// Registers (or replaces) a parameter under <paramref name="name"/>. A non-null tensor is made a leaf that
    /// requires grad. Null registers an absent parameter (PyTorch's <c>bias=None</c>) that is skipped by
    /// <see cref="Parameters"/> and <see cref="StateDict"/>.
    /// </summary>
    /// <returns>The registered tensor.</returns>
    /// <exception cref="ArgumentException">The name is empty, contains ".", is used by a buffer or module, or the tensor is not floating-point or not a leaf.</exception>
    protected Tensor? RegisterParameter(string name, Tensor? parameter)
    {
        CheckName(name, "Parameter");
        if (parameter is not null)
        {
            if (!parameter.IsFloatingPoint)
                throw new ArgumentException($"RegisterParameter: \"{name}\" must be floating-point, got {parameter.DType}.", nameof(parameter));
            if (!parameter.IsLeaf)
                throw new ArgumentException($"RegisterParameter: \"{name}\" must be a leaf tensor (use Detach()); it was produced by {parameter.GradFn!.Name}.", nameof(parameter));
            if (!parameter.RequiresGrad) parameter.RequiresGrad_();
            TensorScope.Escape(parameter);   // module state outlives any Tensor.Scope it was made in
        }
        if (!parameters.ContainsKey(name)) paramNames.Add(name);
        parameters[name] = parameter;
        return parameter;
    }

    /// <summary>Registers (or replaces) a buffer: state that is not trained (running statistics, masks). Persistent buffers appear in <see cref="StateDict"/>.</summary>
    /// <returns>The registered tensor.</returns>
    /// <exception cref="ArgumentException">The name is empty, contains ".", or is used by a parameter or module.</exception>
    protected Tensor? RegisterBuffer(string name, Tensor? buffer, bool persistent = true)
    {
        CheckName(name, "Buffer");
        if (buffer is not null) TensorScope.Escape(buffer);
        if (!buffers.ContainsKey(name)) bufferNames.Add(name);
        buffers[name] = (buffer, persistent);
        return buffer;
    }

    /// <summary>Registers (or replaces) a child module; its members get the prefix <c>name.</c>.</summary>
    /// <returns>The child.</returns>
    /// <exception cref="ArgumentException">The name is empty, contains ".", or is used by a parameter or buffer.</exception>
    protected T RegisterModule<T>(string name, T module) where T : Module?
    {
        CheckName(name, "Module");
        if (!modules.ContainsKey(name)) moduleNames.Add(name);
        modules[name] = module;
        return module;
    }

    /// <summary>The parameter registered under a local name (null when registered as absent).</summary>
    /// <exception cref="KeyNotFoundException">No parameter of that name.</exception>
    public Tensor? GetParameter(string name) =>
        RegisterFieldsThen(parameters).TryGetValue(name, out var p) ? p : throw new KeyNotFoundException($"{TypeName}: no parameter named \"{name}\".");

    /// <summary>The buffer registered under a local name.</summary>
    /// <exception cref="KeyNotFoundException">No buffer of that name.</exception>
    public Tensor? GetBuffer(string name) =>
        buffers.TryGetValue(name, out var b) ? b.Tensor : throw new KeyNotFoundException($"{TypeName}: no buffer named \"{name}\".");

    /// <summary>The child registered under a local name.</summary>
    /// <exception cref="KeyNotFoundException">No child of that name.</exception>
    public Module? GetModule(string name) =>
        RegisterFieldsThen(modules).TryGetValue(name, out var m) ? m : throw new KeyNotFoundException($"{TypeName}: no submodule named \"{name}\".");

    /// <summary>Replaces the tensor of an existing parameter (made a leaf requiring grad).</summary>
    protected void SetParameter(string name, Tensor? value) => RegisterParameter(name, value);

    /// <summary>Replaces the tensor of an existing buffer, keeping its persistence.</summary>
    protected void SetBuffer(string name, Tensor? value)
    {
        if (!buffers.TryGetValue(name, out var b)) throw new KeyNotFoundException($"{TypeName}: no buffer named \"{name}\".");
        if (value is not null) TensorScope.Escape(value);
        buffers[name] = (value, b.Persistent);
    }

    // ---- traversal ------------------------------------------------------------------------------

    /// <summary>The direct children with their local names, in registration order (absent children skipped).</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren()
    {
        RegisterFields();
        foreach (var n in moduleNames) if (modules[n] is { } m) yield return (n, m);
    }

    /// <summary>The direct children in registration order.</summary>
    public IEnumerable<Module> Children() => NamedChildren().Select(c => c.Module);

    /// <summary>This module and all descendants (pre-order, each once) with dotted names; this module's name is "".</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(string, Module)>();
        stack.Push((prefix, this));
        while (stack.Count > 0)
        {
            var (name, m) = stack.Pop();
            if (!seen.Add(m)) continue;
            m.RegisterFields();
            yield return (name, m);
            var kids = m.NamedChildren().ToList();
            for (int i = kids.Count - 1; i >= 0; i--)
                stack.Push((name.Length == 0 ? kids[i].Name : name + "." + kids[i].Name, kids[i].Module));
        }
    }

    /// <summary>This module and all descendants (pre-order).</summary>
    public IEnumerable<Module> Modules() => NamedModules().Select(m => m.Module);

    /// <summary>Parameters with PyTorch's dotted names (<c>0.weight</c>), each tensor once, in registration order.</summary>
    /// <param name="recurse">Include descendants' parameters (default) or only this module's own.</param>
    public IEnumerable<(string Name, Tensor Parameter)> NamedParameters(bool recurse = true)
    {
        RegisterFields();
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (prefix, m) in recurse ? NamedModules() : [("", this)])
            foreach (var n in m.paramNames)
                if (m.parameters[n] is { } p && seen.Add(p))
                    yield return (prefix.Length == 0 ? n : prefix + "." + n, p);
    }

    /// <summary>All parameters (each once), in registration order.</summary>
    public IEnumerable<Tensor> Parameters(bool recurse = true) => NamedParameters(recurse).Select(p => p.Parameter);

    /// <summary>Buffers with dotted names, in registration order.</summary>
    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(bool recurse = true)
    {
        RegisterFields();
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (prefix, m) in recurse ? NamedModules() : [("", this)])
            foreach (var n in m.bufferNames)
                if (m.buffers[n].Tensor is { } b && seen.Add(b))
                    yield return (prefix.Length == 0 ? n : prefix + "." + n, b);
    }

    /// <summary>All buffers, in registration order.</summary>
    public IEnumerable<Tensor> Buffers(bool recurse = true) => NamedBuffers(recurse).Select(b => b.Buffer);

    /// <summary>Number of parameter elements (optionally only those requiring grad).</summary>
    public long NumParameters(bool onlyTrainable = false) =>
        Parameters().Where(p => !onlyTrainable || p.RequiresGrad).Sum(p => p.Numel);

    /// <summary>Calls <paramref name="fn"/> on every descendant (children first) and then on this module, like PyTorch's apply.</summary>
    /// <remarks>Public as <see cref="ModuleExtensions.Apply{T}(T, Action{Module})"/>, which returns the caller's type.</remarks>
    internal void ApplyCore(Action<Module> fn)
    {
        ArgumentNullException.ThrowIfNull(fn);
        foreach (var c in Children()) c.ApplyCore(fn);
        fn(this);
    }

    // ---- modes ------------------------------------------------------------------------------------

    /// <summary>Sets training mode on this module and every descendant (public as <see cref="ModuleExtensions.Train{T}"/> and <see cref="ModuleExtensions.Eval{T}"/>).</summary>
    internal void TrainCore(bool mode)
    {
        Training = mode;
        foreach (var c in Children()) c.TrainCore(mode);
    }

    /// <summary>Sets RequiresGrad on every parameter (freezing with false); returns this.</summary>
    public Module RequiresGrad_(bool requiresGrad = true)
    {
        foreach (var p in Parameters()) p.RequiresGrad_(requiresGrad);
        return this;
    }

    /// <summary>Clears every parameter's gradient: set to null (default, like PyTorch ≥ 2.0) or zeroed in place.</summary>
    public void ZeroGrad(bool setToNull = true)
    {
        foreach (var p in Parameters())
        {
            if (p.Grad is null) continue;
            if (setToNull) p.Grad = null;
            else using (NoGradScope.Enter()) p.Grad = p.Grad.Detach().Zero_();
        }
    }

    // ---- conversion ---------------------------------------------------------------------------------

    /// <summary>Moves every parameter (with its gradient) and buffer to <paramref name="device"/> (public as <see cref="ModuleExtensions.To{T}(T, Device)"/>).</summary>
    internal void ToCore(Device device) => Convert(t => t.To(device));

    /// <summary>Converts every floating-point parameter and buffer to <paramref name="dtype"/> (integer buffers are kept, as in PyTorch).</summary>
    /// <exception cref="ArgumentException">dtype is not floating-point.</exception>
    internal void ToCore(DType dtype)
    {
        if (!dtype.IsFloatingPoint()) throw new ArgumentException($"Module.To: dtype must be floating-point, got {dtype}.", nameof(dtype));
        Convert(t => t.IsFloatingPoint ? t.To(dtype) : t);
    }

    private void Convert(Func<Tensor, Tensor> f)
    {
        using var _ = NoGradScope.Enter();
        using var untracked = TensorScope.Suspend();   // converted parameters and buffers are module state
        foreach (var m in Modules())
        {
            foreach (var n in m.paramNames)
            {
                if (m.parameters[n] is not { } p) continue;
                var q = f(p);
                if (ReferenceEquals(q, p)) continue;
                q = q.Detach();
                q.RequiresGrad_(p.RequiresGrad);
                if (p.Grad is not null) q.Grad = f(p.Grad).Detach();
                m.parameters[n] = q;
                m.ReplaceFieldValue(p, q);
            }
            foreach (var n in m.bufferNames)
                if (m.buffers[n].Tensor is { } b)
                {
                    var c = f(b).Detach();
                    m.buffers[n] = (c, m.buffers[n].Persistent);
                    m.ReplaceFieldValue(b, c);
                }
        }
    }

    // ---- state dict -----------------------------------------------------------------------------------

    /// <summary>
    /// The module's state: parameters and persistent buffers under their dotted names, in registration order,
    /// detached (sharing storage with the module).
    /// </summary>
    public OrderedDictionary<string, Tensor> StateDict()
    {
        var d = new OrderedDictionary<string, Tensor>();
        foreach (var (prefix, m) in NamedModules())
        {
            string pre = prefix.Length == 0 ? "" : prefix + ".";
            foreach (var n in m.paramNames) if (m.parameters[n] is { } p) d[pre + n] = p.Detach();
            foreach (var n in m.bufferNames)
                if (m.buffers[n] is { Tensor: { } b, Persistent: true }) d[pre + n] = b.Detach();
        }
        return d;
    }

    /// <summary>
    /// Copies values from <paramref name="stateDict"/> into the module's parameters and persistent buffers (in place,
    /// converting dtype and device). With <paramref name="strict"/>, any missing or unexpected key is an error.
    /// </summary>
    /// <returns>The missing and unexpected keys (both empty when strict succeeds).</returns>
    /// <exception cref="ArgumentException">A tensor's shape differs from the module's (always checked, listing every mismatch by name), or
    /// with strict, keys are missing or unexpected (listed by name). Nothing is copied when this is thrown.</exception>
    public LoadStateDictResult LoadStateDict(IReadOnlyDictionary<string, Tensor> stateDict, bool strict = true)
    {
        var (apply, result) = PrepareLoadStateDict(stateDict, strict);
        apply();
        return result;
    }

    /// <summary>Validates keys and shapes, changing nothing; returns the action that copies the tensors in, and the key report.</summary>
    /// <exception cref="ArgumentException">See <see cref="LoadStateDict"/>.</exception>
    internal (Action Apply, LoadStateDictResult Result) PrepareLoadStateDict(IReadOnlyDictionary<string, Tensor> stateDict, bool strict)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        var own = StateDict();
        var missing = own.Keys.Where(k => !stateDict.ContainsKey(k)).ToList();
        var unexpected = stateDict.Keys.Where(k => !own.ContainsKey(k)).ToList();
        var errors = new List<string>();
        if (strict && unexpected.Count > 0) errors.Add("Unexpected key(s) in state_dict: " + string.Join(", ", unexpected.Select(k => $"\"{k}\"")) + ".");
        if (strict && missing.Count > 0) errors.Add("Missing key(s) in state_dict: " + string.Join(", ", missing.Select(k => $"\"{k}\"")) + ".");
        foreach (var (k, t) in own)
            if (stateDict.TryGetValue(k, out var v))
            {
                if (v.Shape != t.Shape)
                    errors.Add($"size mismatch for {k}: copying a param with shape {v.Shape} from checkpoint, the shape in current model is {t.Shape}.");
                else if (v.Storage.IsDisposed)
                    errors.Add($"the tensor for {k} was disposed (Dispose or the end of a Tensor.Scope) before it could be loaded.");
            }
        if (errors.Count > 0)
            throw new ArgumentException($"Error(s) in loading state_dict for {TypeName}:\n\t" + string.Join("\n\t", errors));
        return (() =>
        {
            using (NoGradScope.Enter())
                foreach (var (k, t) in own)
                    if (stateDict.TryGetValue(k, out var v)) t.Copy_(v);
        }, new LoadStateDictResult(missing, unexpected));
    }

    // ---- printing -----------------------------------------------------------------------------------

    /// <summary>The type's name without generic arity (used by <see cref="ToString"/>).</summary>
    protected string TypeName
    {
        get { var n = GetType().Name; int i = n.IndexOf('`'); return i < 0 ? n : n[..i]; }
    }

    /// <summary>The options shown inside the parentheses of <see cref="ToString"/>, e.g. "in_features=4, out_features=2, bias=True".</summary>
    public virtual string ExtraRepr() => "";

    /// <summary>A tree like PyTorch's repr: <c>Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n)</c>.</summary>
    public override string ToString()
    {
        var kids = NamedChildren().ToList();
        string extra = ExtraRepr();
        if (kids.Count == 0) return $"{TypeName}({extra})";
        var sb = new StringBuilder();
        sb.Append(TypeName).Append('(');
        if (extra.Length > 0) sb.Append('\n').Append("  ").Append(extra.Replace("\n", "\n  "));
        foreach (var (n, m) in kids)
            sb.Append("\n  (").Append(n).Append("): ").Append(m.ToString().Replace("\n", "\n  "));
        sb.Append("\n)");
        return sb.ToString();
    }

    /// <summary>Python's spelling of a bool in reprs.</summary>
    protected static string Py(bool b) => b ? "True" : "False";
}

/// <summary>A module with a typed forward pass (most layers are <c>Module&lt;Tensor, Tensor&gt;</c>).</summary>
/// <typeparam name="TIn">Input type.</typeparam>
/// <typeparam name="TOut">Output type.</typeparam>
public abstract partial class Module<TIn, TOut> : Module
{
    /// <summary>Computes the output.</summary>
    public abstract TOut Forward(TIn input);

    /// <summary><see cref="Forward"/> with the module's hooks (PyTorch's <c>module(x)</c>; hooks in Module.Hooks.cs).</summary>
    public TOut Call(TIn input) => CallWithHooks(input);
}

/// <summary>Scoped no-grad mode over Core's <see cref="GradMode"/>.</summary>
internal static class NoGradScope
{
    private sealed class Restore(bool previous) : IDisposable
    {
        public void Dispose() => GradMode.Set(previous);
    }

    /// <summary>Disables recording until the returned scope is disposed.</summary>
    public static IDisposable Enter() => new Restore(GradMode.Set(false));
}
