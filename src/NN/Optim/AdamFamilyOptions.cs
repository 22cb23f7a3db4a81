namespace Ember.Optim;

/// <summary>
/// The options every Adam-style optimizer shares (Adam, Adamax, NAdam, RAdam, Lamb): moment decays, ε and weight
/// decay, validated with PyTorch's messages; a one-cycle or cyclic schedule cycles β1.
/// </summary>
public abstract record AdamFamilyOptions : OptimizerOptions
{
    /// <summary>Decay of the first moment.</summary>
    public double Beta1 { get; set; } = 0.9;
    /// <summary>Decay of the second moment (Adamax: of the infinity norm).</summary>
    public double Beta2 { get; set; } = 0.999;
    /// <summary>Added for numerical stability (1e-8 unless the optimizer says otherwise).</summary>
    public double Eps { get; set; } = 1e-8;
    /// <summary>Weight decay (L2 penalty; decoupled where the optimizer says so).</summary>
    public double WeightDecay { get; set; }

    /// <inheritdoc/>
    [System.Text.Json.Serialization.JsonIgnore]
    public override double? CycleMomentum { get => Beta1; set => Beta1 = value ?? 0.9; }

    /// <inheritdoc/>
    public override void Validate()
    {
        Require(Lr >= 0, "learning rate", Lr);
        Require(Eps >= 0, "epsilon value", Eps);
        Require(Beta1 >= 0 && Beta1 < 1, "beta parameter at index 0", Beta1);
        Require(Beta2 >= 0 && Beta2 < 1, "beta parameter at index 1", Beta2);
        Require(WeightDecay >= 0, "weight_decay value", WeightDecay);
    }
}
