namespace Ember.Data;

/// <summary>
/// A tensor → tensor transform applied to one item (torchvision.transforms). Image transforms take
/// [C, H, W] (or [..., C, H, W]) tensors. Random transforms draw from their own generator when given one,
/// else from <see cref="WorkerInfo.Generator"/> inside a data loader (seeded per batch, so results do not
/// depend on the number of workers), else from the default generator.
/// </summary>
public abstract class Transform
{
    /// <summary>Transforms one input.</summary>
    public abstract Tensor Apply(Tensor input);

    /// <summary>The transform as a function, e.g. for <see cref="Dataset{T}.Map{TOut}"/>.</summary>
    public static implicit operator Func<Tensor, Tensor>(Transform transform) => transform.Apply;

    /// <summary>The random stream a random transform uses now.</summary>
    protected static Generator Stream(Generator? own) => own ?? WorkerInfo.Current?.Generator ?? Ember.Random.Default;
}

/// <summary>Applies transforms in order (torchvision.transforms.Compose).</summary>
public sealed class Compose : Transform
{
    private readonly Transform[] transforms;

    /// <summary>Chains <paramref name="transforms"/>.</summary>
    public Compose(params Transform[] transforms) =>
        this.transforms = (Transform[])(transforms ?? throw new ArgumentNullException(nameof(transforms))).Clone();

    /// <summary>The transforms, in order.</summary>
    public IReadOnlyList<Transform> Transforms => transforms;

    /// <inheritdoc/>
    public override Tensor Apply(Tensor input)
    {
        foreach (var t in transforms) input = t.Apply(input);
        return input;
    }
}

/// <summary>A transform from a function (torchvision.transforms.Lambda).</summary>
public sealed class Lambda(Func<Tensor, Tensor> function) : Transform
{
    private readonly Func<Tensor, Tensor> function = function ?? throw new ArgumentNullException(nameof(function));

    /// <inheritdoc/>
    public override Tensor Apply(Tensor input) => function(input);
}
