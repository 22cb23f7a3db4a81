namespace Ember;

public sealed partial class Tensor
{
    /// <summary>
    /// Seeds the default generator (torch.manual_seed): <c>Tensor.ManualSeed(42)</c> makes runs reproducible. Named so
    /// that it does not collide with <see cref="System.Random"/> under implicit usings, as <c>Random.Seed</c> did.
    /// </summary>
    public static void ManualSeed(long seed) => Random.Default.ManualSeed(unchecked((ulong)seed));

    /// <summary>Seeds the default generator with an unsigned seed (torch.manual_seed).</summary>
    public static void ManualSeed(ulong seed) => Random.Default.ManualSeed(seed);
}
