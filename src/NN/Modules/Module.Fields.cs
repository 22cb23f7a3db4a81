using System.Collections.Concurrent;
using System.Reflection;

namespace Ember.NN;

/// <remarks>
/// <para><b>Fields are registered automatically.</b> PyTorch registers a module or <c>nn.Parameter</c> when it is
/// assigned to an attribute (<c>__setattr__</c>); C# cannot intercept a field assignment, so before any traversal
/// (<see cref="Parameters"/>, <see cref="StateDict"/>, <c>To</c>, <see cref="NamedChildren"/>, printing, …) a module
/// registers every instance field that holds a <see cref="Module"/>, or a leaf <see cref="Tensor"/> that requires grad
/// (Ember's parameter), and is not registered yet. Names are the field's (an auto-property's name for its backing field),
/// in declaration order, base class first, after the members registered explicitly. This was chosen over failing loudly
/// because it is what a PyTorch user expects of <c>self.fc1 = nn.Linear(...)</c>, and it is what TorchSharp's
/// <c>RegisterComponents</c> does; explicit <c>RegisterModule</c>/<c>RegisterParameter</c> keep working and win (a field
/// holding an already registered module or tensor, of this module or of a descendant, e.g. a tied weight, is not
/// registered again).</para>
/// <para>Plain tensors that do not require grad are not registered (as plain tensor attributes in PyTorch): register
/// buffers with <see cref="RegisterBuffer"/>. <c>To(device)</c>/<c>To(dtype)</c> also update fields that held a
/// converted parameter or buffer, so a field keeps pointing at the module's current tensor.</para>
/// </remarks>
public abstract partial class Module
{
    private static readonly ConcurrentDictionary<Type, FieldInfo[]> componentFields = new();

    /// <summary>The instance fields of <paramref name="type"/> that can hold a module or a tensor, base class first, in declaration order.</summary>
    private static FieldInfo[] ComponentFields(Type type) => componentFields.GetOrAdd(type, static t =>
    {
        var chain = new List<Type>();
        for (var c = t; c != null && c != typeof(Module) && c != typeof(object); c = c.BaseType) chain.Add(c);
        chain.Reverse();
        // GetFields(DeclaredOnly) returns fields in metadata order, which the C# compiler emits in declaration order.
        return chain.SelectMany(c => c.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Where(f => typeof(Module).IsAssignableFrom(f.FieldType) || f.FieldType == typeof(Tensor))
            .ToArray();
    });

    /// <summary>The registered name of a field: an auto-property's name for its backing field (<c>&lt;Fc1&gt;k__BackingField</c> → Fc1).</summary>
    private static string FieldName(FieldInfo f)
    {
        var n = f.Name;
        return n.StartsWith('<') && n.IndexOf('>') is > 1 and var end ? n[1..end] : n;
    }

    /// <summary>Registers the fields holding unregistered modules and parameters (see the class remarks).</summary>
    /// <exception cref="InvalidOperationException">A field's name is already used by another kind of member.</exception>
    private void RegisterFields()
    {
        var fields = ComponentFields(GetType());
        if (fields.Length == 0) return;
        foreach (var f in fields)
        {
            switch (f.GetValue(this))
            {
                case Module m when !modules.Values.Any(v => ReferenceEquals(v, m)) && !ReferenceEquals(m, this):
                    RegisterField(f, "Module", name => RegisterModule(name, m));
                    break;
                case Tensor t when t.RequiresGrad && t.IsLeaf && !IsRegisteredInTree(t):
                    RegisterField(f, "Parameter", name => RegisterParameter(name, t));
                    break;
            }
        }
    }

    private void RegisterField(FieldInfo f, string kind, Action<string> register)
    {
        string name = FieldName(f);
        try { register(name); }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException(
                $"{TypeName}: field \"{f.Name}\" holds an unregistered {kind.ToLowerInvariant()} whose name \"{name}\" is already used by another kind of member; " +
                $"register it explicitly with Register{kind}(name, value) under another name.", e);
        }
    }

    /// <summary>True when <paramref name="t"/> is a parameter or buffer of this module or of a registered descendant.</summary>
    private bool IsRegisteredInTree(Tensor t)
    {
        var stack = new Stack<Module>();
        var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        stack.Push(this);
        while (stack.Count > 0)
        {
            var m = stack.Pop();
            if (!seen.Add(m)) continue;
            if (m.parameters.Values.Any(p => ReferenceEquals(p, t)) || m.buffers.Values.Any(b => ReferenceEquals(b.Tensor, t))) return true;
            foreach (var c in m.modules.Values) if (c is not null) stack.Push(c);
        }
        return false;
    }

    /// <summary>Runs <see cref="RegisterFields"/> and returns <paramref name="registry"/> (for the lookup members).</summary>
    private Dictionary<string, T> RegisterFieldsThen<T>(Dictionary<string, T> registry)
    {
        RegisterFields();
        return registry;
    }

    /// <summary>Points every field of this module that held <paramref name="old"/> at <paramref name="replacement"/> (after a conversion).</summary>
    private void ReplaceFieldValue(Tensor old, Tensor replacement)
    {
        foreach (var f in ComponentFields(GetType()))
            if (f.FieldType == typeof(Tensor) && ReferenceEquals(f.GetValue(this), old))
                f.SetValue(this, replacement);   // also for readonly fields: reflection may set an instance initonly field
    }
}
