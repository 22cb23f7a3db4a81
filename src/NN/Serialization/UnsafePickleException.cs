namespace Ember.Serialization;

/// <summary>
/// Thrown by <see cref="PyTorchCheckpoint"/> when a pickle names a Python global or uses an instruction outside what
/// <c>torch.load(weights_only=True)</c> accepts. Nothing from the file was run: the restricted unpickler never looks up or calls
/// a name, it only recognizes the few it allows.
/// </summary>
public sealed class UnsafePickleException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was refused, where, and what is allowed.</param>
    /// <param name="global">The refused global as <c>module.name</c>, or null when an instruction was refused.</param>
    public UnsafePickleException(string message, string? global) : base(message) => Global = global;

    /// <summary>The refused global (<c>module.name</c>, e.g. <c>posix.system</c>), or null when an instruction was refused.</summary>
    public string? Global { get; }
}
