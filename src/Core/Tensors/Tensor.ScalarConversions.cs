namespace Ember;

/// <summary>
/// Implicit conversions from .NET scalars to 0-dim CPU tensors, so a scalar goes where a tensor is expected, as a
/// Python number does: <c>x[.., 0] = 5</c>, <c>x[mask] = 0.5</c>. The dtype is the .NET type's (TorchSharp's
/// convention): double → Float64, float → Float32, int and long → Int64 (as torch.tensor of a Python int), bool → Bool.
/// Ember does not promote dtypes between tensors, so such a scalar meets a tensor of another dtype only where the op
/// converts (indexed and in-place writes do) and otherwise fails with the op's dtype error; ops with a scalar overload
/// (<c>x + 5</c>, <c>x == 0</c>) take that overload, which C# prefers to the conversion.
/// </summary>
public sealed partial class Tensor
{
    /// <summary>A 0-dim Float64 tensor on the CPU holding <paramref name="value"/>.</summary>
    public static implicit operator Tensor(double value) => FromArray(new[] { value }).Reshape();

    /// <summary>A 0-dim Float32 tensor on the CPU holding <paramref name="value"/>.</summary>
    public static implicit operator Tensor(float value) => FromArray(new[] { value }).Reshape();

    /// <summary>A 0-dim Int64 tensor on the CPU holding <paramref name="value"/> (an int converts through long).</summary>
    public static implicit operator Tensor(long value) => FromArray(new[] { value }).Reshape();

    /// <summary>A 0-dim Bool tensor on the CPU holding <paramref name="value"/>.</summary>
    public static implicit operator Tensor(bool value) => FromArray(new[] { value }).Reshape();
}
