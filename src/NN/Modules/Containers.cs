using System.Collections;

namespace Ember.NN;

/// <summary>Runs its children in order, each output feeding the next (PyTorch's nn.Sequential). Children are named "0", "1", ….</summary>
public sealed class Sequential : Module<Tensor, Tensor>, IEnumerable<Module<Tensor, Tensor>>
{
    private readonly List<Module<Tensor, Tensor>> layers = [];

    /// <summary>Creates a sequence of the given layers.</summary>
    public Sequential(params Module<Tensor, Tensor>[] layers)
    {
        foreach (var l in layers) Add(l);
    }

    /// <summary>Creates a sequence of named layers (names become state-dict prefixes).</summary>
    public Sequential(params (string Name, Module<Tensor, Tensor> Layer)[] layers)
    {
        foreach (var (n, l) in layers) { RegisterModule(n, l); this.layers.Add(l); }
    }

    /// <summary>Appends a layer named by its position; returns this.</summary>
    public Sequential Add(Module<Tensor, Tensor> layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        RegisterModule(layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
        layers.Add(layer);
        return this;
    }

    /// <summary>Number of layers.</summary>
    public int Count => layers.Count;

    /// <summary>The layer at <paramref name="index"/> (negative counts from the end); setting replaces it under the same name.</summary>
    public Module<Tensor, Tensor> this[int index]
    {
        get => layers[index < 0 ? index + layers.Count : index];
        set
        {
            // seq[i] = layer (PyTorch's Sequential.__setitem__): same name, same place in the state dict.
            ArgumentNullException.ThrowIfNull(value);
            int i = index < 0 ? index + layers.Count : index;
            var name = NamedChildren().First(c => ReferenceEquals(c.Module, layers[i])).Name;
            RegisterModule(name, value);
            layers[i] = value;
        }
    }

    /// <summary>x through every layer in order.</summary>
    public override Tensor Forward(Tensor input)
    {
        foreach (var l in layers) input = l.Call(input);
        return input;
    }

    /// <inheritdoc/>
    public IEnumerator<Module<Tensor, Tensor>> GetEnumerator() => layers.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A list of modules registered as children "0", "1", … (PyTorch's nn.ModuleList); it has no forward.</summary>
public sealed class ModuleList<T> : Module, IReadOnlyList<T> where T : Module
{
    private readonly List<T> items = [];

    /// <summary>Creates the list.</summary>
    public ModuleList(params IEnumerable<T> modules) { foreach (var m in modules) Add(m); }

    /// <summary>Appends a module.</summary>
    public ModuleList<T> Add(T module)
    {
        ArgumentNullException.ThrowIfNull(module);
        RegisterModule(items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module);
        items.Add(module);
        return this;
    }

    /// <summary>The module at index (negative counts from the end).</summary>
    public T this[int index] => items[index < 0 ? index + items.Count : index];

    /// <summary>Number of modules.</summary>
    public int Count => items.Count;

    /// <inheritdoc/>
    public IEnumerator<T> GetEnumerator() => items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A list of any modules (PyTorch's nn.ModuleList).</summary>
public sealed class ModuleList : Module, IReadOnlyList<Module>
{
    private readonly List<Module> items = [];

    /// <summary>Creates the list.</summary>
    public ModuleList(params IEnumerable<Module> modules) { foreach (var m in modules) Add(m); }

    /// <summary>Appends a module.</summary>
    public ModuleList Add(Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        RegisterModule(items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module);
        items.Add(module);
        return this;
    }

    /// <summary>The module at index (negative counts from the end).</summary>
    public Module this[int index] => items[index < 0 ? index + items.Count : index];

    /// <summary>Number of modules.</summary>
    public int Count => items.Count;

    /// <inheritdoc/>
    public IEnumerator<Module> GetEnumerator() => items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Modules by name, in insertion order (PyTorch's nn.ModuleDict); names become state-dict prefixes.</summary>
public sealed class ModuleDict : Module, IEnumerable<KeyValuePair<string, Module>>
{
    private readonly OrderedDictionary<string, Module> items = [];

    /// <summary>Creates the dictionary.</summary>
    public ModuleDict(params IEnumerable<(string Name, Module Module)> modules) { foreach (var (n, m) in modules) this[n] = m; }

    /// <summary>Gets or adds/replaces the module under a name.</summary>
    public Module this[string name]
    {
        get => items[name];
        set { ArgumentNullException.ThrowIfNull(value); RegisterModule(name, value); items[name] = value; }
    }

    /// <summary>True when a module of that name exists.</summary>
    public bool ContainsKey(string name) => items.ContainsKey(name);

    /// <summary>The names in order.</summary>
    public IEnumerable<string> Keys => items.Keys;

    /// <summary>Number of modules.</summary>
    public int Count => items.Count;

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, Module>> GetEnumerator() => items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
