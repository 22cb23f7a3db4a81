namespace Ember.Serialization;

/// <summary>
/// A Python global named by a pickle (<c>module.name</c>) that <see cref="PyTorchCheckpoint"/> accepted but that is a value, not
/// data: a dtype such as <c>torch.float16</c>, a tensor or storage class, or a layout. It is only a name: nothing is looked up
/// or called.
/// </summary>
/// <param name="Module">The Python module, e.g. <c>torch</c>.</param>
/// <param name="Name">The name inside the module, e.g. <c>float16</c>.</param>
public sealed record PickleGlobal(string Module, string Name)
{
    /// <summary>The dotted name, e.g. <c>torch.float16</c>.</summary>
    public string FullName => Module + "." + Name;

    /// <summary>The dotted name.</summary>
    public override string ToString() => FullName;
}
