namespace Ember;

/// <summary>
/// What a fused primitive (<see cref="FusedOps"/>) records for its backward formula: its attributes and the extra outputs
/// its kernel computed for the backward pass (statistics, log-sum-exp, argmax indices, attention probabilities). Only the
/// fields its <see cref="OpKind"/> documents are set. The saved outputs are released with the graph
/// (<see cref="ReleaseSaved"/>).
/// </summary>
public sealed class FusedArgs
{
    private Tensor? mean, rstd, logSumExp, indices, probabilities;
    private bool released;

    /// <summary>Convolution geometry (Conv2d, Conv2dInputGrad, Conv2dWeightGrad).</summary>
    public ConvGeometry Conv { get; init; }
    /// <summary>Convolution groups.</summary>
    public int Groups { get; init; } = 1;
    /// <summary>Pooling geometry (MaxPool2d, AvgPool2d).</summary>
    public PoolGeometry Pool { get; init; }
    /// <summary>Whether average pooling divides by the padded window.</summary>
    public bool CountIncludePad { get; init; }
    /// <summary>ε of a normalization.</summary>
    public double Eps { get; init; }
    /// <summary>Whether the normalization has an affine weight (an input after x).</summary>
    public bool HasWeight { get; init; }
    /// <summary>Whether the normalization (or convolution) has a bias (the last input).</summary>
    public bool HasBias { get; init; }
    /// <summary>Attention's score scale.</summary>
    public double Scale { get; init; }
    /// <summary>Whether attention is causal.</summary>
    public bool Causal { get; init; }
    /// <summary>Cross-entropy options.</summary>
    public CrossEntropyArgs CrossEntropy { get; init; }
    /// <summary>Cross-entropy's Int64 class indices [rows] (not differentiated).</summary>
    public Tensor? Target { get; init; }
    /// <summary>Cross-entropy's class weights [C] or null (not differentiated).</summary>
    public Tensor? ClassWeight { get; init; }

    /// <summary>Per-row mean (LayerNorm, x's dtype) or per-channel mean (BatchNorm, Float64).</summary>
    public Tensor Mean { get => Saved(mean); init => mean = value; }
    /// <summary>1/√(σ² + ε) per row (LayerNorm) or channel (BatchNorm).</summary>
    public Tensor Rstd { get => Saved(rstd); init => rstd = value; }
    /// <summary>Cross-entropy's log Σ e^x per row.</summary>
    public Tensor LogSumExp { get => Saved(logSumExp); init => logSumExp = value; }
    /// <summary>Max pooling's argmax bookkeeping, null where the backend recomputes it (see <see cref="IBackend.MaxPool2dUsesIndices"/>).</summary>
    public Tensor? Indices { get => released ? Saved(null) : indices; init => indices = value; }
    /// <summary>Attention's softmax probabilities [*, L, S].</summary>
    public Tensor Probabilities { get => Saved(probabilities); init => probabilities = value; }

    private static Tensor Saved(Tensor? t) =>
        t ?? throw new InvalidOperationException(
            "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). " +
            "Specify retainGraph: true if you need to backward through the graph a second time.");

    /// <summary>
    /// The saved outputs that the op allocated for its backward pass alone and never handed to anyone else (layer norm's
    /// statistics, cross-entropy's log-sum-exp, attention's probabilities, max pooling's indices — not batch norm's
    /// mean, which the op also returns). <see cref="ReleaseSaved"/> can return their memory to the backend at once.
    /// </summary>
    public Tensor?[] Scratch { get; init; } = [];

    /// <summary>
    /// Drops the saved outputs (the engine calls it when it frees the graph). With <paramref name="disposeScratch"/>, the
    /// <see cref="Scratch"/> tensors' storages are disposed too (only when no recorded formula can read them again, i.e.
    /// not under create_graph, whose recorded backward ops may have saved them).
    /// </summary>
    public void ReleaseSaved(bool disposeScratch = false)
    {
        mean = rstd = logSumExp = indices = probabilities = null;
        released = true;
        if (disposeScratch)
            foreach (var t in Scratch) t?.Dispose();
    }
}
