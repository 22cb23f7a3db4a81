using System.Runtime.CompilerServices;

namespace Ember.Ilgpu.Ops;

/// <summary>
/// How a kernel that computes in <typeparamref name="T"/> stores its tensor elements: as <typeparamref name="T"/> itself
/// (<see cref="Plain{T}"/>), or as Float16/BFloat16 bits widened to float32 on load and rounded once on store
/// (<see cref="Narrowed{TN}"/>). One kernel body then serves float32/float64 tensors and 16-bit ones with float32
/// parameters (PyTorch's mixed batch norm).
/// </summary>
internal interface IElementStorage<TS, T> where TS : unmanaged where T : unmanaged
{
    /// <summary>The exact compute-type value of a stored element.</summary>
    static abstract T Load(TS stored);
    /// <summary>The stored form of a computed value (rounded to nearest even where the storage is narrower).</summary>
    static abstract TS Store(T value);
    /// <summary>True when the storage is narrower than the compute type (a kernel may then keep a wide scratch copy).</summary>
    static abstract bool Narrow { get; }
}

/// <summary>Elements stored in their compute type.</summary>
internal readonly struct Plain<T> : IElementStorage<T, T> where T : unmanaged
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Load(T stored) => stored;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Store(T value) => value;
    /// <inheritdoc/>
    public static bool Narrow => false;
}

/// <summary>Float16/BFloat16 elements (<typeparamref name="TN"/>) computed in float32.</summary>
internal readonly struct Narrowed<TN> : IElementStorage<ushort, float> where TN : struct, INarrow
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Load(ushort stored) => TN.ToF(stored);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static ushort Store(float value) => TN.FromF(value);
    /// <inheritdoc/>
    public static bool Narrow => true;
}
