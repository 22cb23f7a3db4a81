namespace Ember.NN;

public abstract partial class Module
{
    /// <summary>
    /// Turns parameter <paramref name="name"/> into a computed attribute (for <see cref="WeightNorm"/> and
    /// <see cref="SpectralNorm"/>): it leaves <see cref="Parameters"/> and <see cref="StateDict"/>, and
    /// <see cref="GetParameter"/> returns what <see cref="SetComputedParameter"/> last stored.
    /// </summary>
    /// <exception cref="ArgumentException">No parameter of that name, or it is absent (null) or already computed.</exception>
    internal Tensor HideParameter(string name)
    {
        if (!parameters.TryGetValue(name, out var p) || p is null || !paramNames.Contains(name))
            throw new ArgumentException($"{TypeName}: no parameter named \"{name}\" to reparametrize.");
        paramNames.Remove(name);
        return p;
    }

    /// <summary>Stores the current value of a computed attribute (any tensor, typically a non-leaf of the graph).</summary>
    internal void SetComputedParameter(string name, Tensor value) => parameters[name] = value;

    /// <summary>Makes a hidden name a parameter again, holding <paramref name="value"/>.</summary>
    internal void RestoreParameter(string name, Tensor value)
    {
        parameters.Remove(name);
        RegisterParameter(name, value);
    }

    /// <summary>Registers a parameter from outside the module's class (reparametrizations).</summary>
    internal void AddParameter(string name, Tensor value) => RegisterParameter(name, value);

    /// <summary>Registers a buffer from outside the module's class (reparametrizations).</summary>
    internal void AddBuffer(string name, Tensor value) => RegisterBuffer(name, value);

    /// <summary>Removes a parameter or buffer registered by <see cref="AddParameter"/> / <see cref="AddBuffer"/>.</summary>
    internal void RemoveMember(string name)
    {
        if (parameters.Remove(name)) paramNames.Remove(name);
        if (buffers.Remove(name)) bufferNames.Remove(name);
    }
}
