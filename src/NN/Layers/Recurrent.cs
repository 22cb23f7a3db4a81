using System.Globalization;

namespace Ember.NN;

/// <summary>The nonlinearity of a plain <see cref="RNN"/>.</summary>
public enum RnnNonlinearity
{
    /// <summary>tanh (PyTorch's default).</summary>
    Tanh,
    /// <summary>max(x, 0).</summary>
    Relu,
}

/// <summary>
/// Shared machinery of <see cref="RNN"/>, <see cref="LSTM"/> and <see cref="GRU"/> (PyTorch's nn.RNNBase): a stack of
/// numLayers recurrent layers, each optionally bidirectional, with dropout between layers in training.
/// Parameters per layer k and direction (suffix "" or "_reverse"), registered in PyTorch's order:
/// weight_ih_l{k} [G·H, in_k], weight_hh_l{k} [G·H, H], bias_ih_l{k} [G·H], bias_hh_l{k} [G·H] (G = gates: 1, 4, 3),
/// in_0 = inputSize, in_k = D·H; all drawn from U(−1/√H, 1/√H).
/// </summary>
/// <remarks>
/// Built from differentiable tensor ops (one matmul for the input projection of the whole sequence, then a loop over
/// time steps), so autograd gives every gradient. LSTM's proj_size adds weight_hr_l{k}[_reverse] [P, H] after the
/// biases. PackedSequence inputs run through the <see cref="RnnUtils"/> Forward extensions (one call per sequence).
/// </remarks>
/// <typeparam name="THidden">The hidden state: a tensor (RNN, GRU) or the pair (h, c) (LSTM).</typeparam>
public abstract class RNNBase<THidden> : Module<Tensor, (Tensor Output, THidden Hidden)>
{
    /// <summary>Creates the parameters with PyTorch's names and initialization.</summary>
    /// <exception cref="ArgumentException">A size is not positive or dropout is outside [0, 1].</exception>
    private protected RNNBase(int gates, long inputSize, long hiddenSize, int numLayers, bool bias, bool batchFirst, double dropout,
        bool bidirectional, DType dtype, Device? device, long projSize = 0)
    {
        if (inputSize <= 0) throw new ArgumentException($"{TypeName}: input_size must be greater than zero, got {inputSize}.", nameof(inputSize));
        if (hiddenSize <= 0) throw new ArgumentException($"{TypeName}: hidden_size must be greater than zero, got {hiddenSize}.", nameof(hiddenSize));
        if (numLayers <= 0) throw new ArgumentException($"{TypeName}: num_layers must be greater than zero, got {numLayers}.", nameof(numLayers));
        if (dropout < 0 || dropout > 1)
            throw new ArgumentException($"{TypeName}: dropout should be a number in range [0, 1] representing the probability of an element being zeroed, got {dropout}.", nameof(dropout));
        if (projSize < 0) throw new ArgumentException($"{TypeName}: proj_size should be a positive integer or zero to disable projections, got {projSize}.", nameof(projSize));
        if (projSize >= hiddenSize) throw new ArgumentException($"{TypeName}: proj_size ({projSize}) has to be smaller than hidden_size ({hiddenSize}).", nameof(projSize));
        (InputSize, HiddenSize, NumLayers, Bias, BatchFirst, DropoutP, Bidirectional, ProjSize) =
            (inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, projSize);
        long hOut = OutputHiddenSize;
        for (int k = 0; k < numLayers; k++)
            for (int d = 0; d < NumDirections; d++)
            {
                string sfx = Suffix(k, d);
                long inK = k == 0 ? inputSize : hOut * NumDirections;
                RegisterParameter("weight_ih" + sfx, Tensor.Empty([gates * hiddenSize, inK], dtype, device));
                RegisterParameter("weight_hh" + sfx, Tensor.Empty([gates * hiddenSize, hOut], dtype, device));
                if (bias)
                {
                    RegisterParameter("bias_ih" + sfx, Tensor.Empty([gates * hiddenSize], dtype, device));
                    RegisterParameter("bias_hh" + sfx, Tensor.Empty([gates * hiddenSize], dtype, device));
                }
                if (projSize > 0) RegisterParameter("weight_hr" + sfx, Tensor.Empty([projSize, hiddenSize], dtype, device));
            }
        ResetParameters();
    }

    private static string Suffix(int layer, int direction) =>
        "_l" + layer.ToString(CultureInfo.InvariantCulture) + (direction == 1 ? "_reverse" : "");

    /// <summary>Features of the input.</summary>
    public long InputSize { get; }
    /// <summary>Features of the hidden state H.</summary>
    public long HiddenSize { get; }
    /// <summary>LSTM's projection size P (0: none). With P &gt; 0 the hidden state h (and the output) has P features.</summary>
    public long ProjSize { get; }
    /// <summary>Features of h and of each direction's output: P when projecting, else H.</summary>
    public long OutputHiddenSize => ProjSize > 0 ? ProjSize : HiddenSize;
    /// <summary>Stacked layers.</summary>
    public int NumLayers { get; }
    /// <summary>Whether the layers have biases.</summary>
    public bool Bias { get; }
    /// <summary>Input and output are [N, T, *] instead of [T, N, *] (hidden states are always [L·D, N, H]).</summary>
    public bool BatchFirst { get; }
    /// <summary>Dropout probability on the outputs of every layer but the last (training only).</summary>
    public double DropoutP { get; }
    /// <summary>Whether each layer also runs backwards in time.</summary>
    public bool Bidirectional { get; }
    /// <summary>D: 2 when bidirectional, else 1.</summary>
    public int NumDirections => Bidirectional ? 2 : 1;

    /// <summary>Input-to-hidden weight of a layer and direction (PyTorch's weight_ih_l{k}[_reverse]).</summary>
    public Tensor WeightIh(int layer, bool reverse = false) => GetParameter("weight_ih" + Suffix(layer, reverse ? 1 : 0))!;
    /// <summary>Hidden-to-hidden weight of a layer and direction.</summary>
    public Tensor WeightHh(int layer, bool reverse = false) => GetParameter("weight_hh" + Suffix(layer, reverse ? 1 : 0))!;
    /// <summary>Input-to-hidden bias of a layer and direction, or null without biases.</summary>
    public Tensor? BiasIh(int layer, bool reverse = false) => Bias ? GetParameter("bias_ih" + Suffix(layer, reverse ? 1 : 0)) : null;
    /// <summary>Hidden-to-hidden bias of a layer and direction, or null without biases.</summary>
    public Tensor? BiasHh(int layer, bool reverse = false) => Bias ? GetParameter("bias_hh" + Suffix(layer, reverse ? 1 : 0)) : null;

    /// <summary>LSTM's projection weight [P, H] of a layer and direction (weight_hr_l{k}[_reverse]), or null without projection.</summary>
    public Tensor? WeightHr(int layer, bool reverse = false) => ProjSize > 0 ? GetParameter("weight_hr" + Suffix(layer, reverse ? 1 : 0)) : null;

    /// <summary>Re-draws every parameter from U(−1/√H, 1/√H) (PyTorch's reset_parameters).</summary>
    public void ResetParameters()
    {
        double s = 1 / Math.Sqrt(HiddenSize);
        foreach (var p in Parameters()) Init.Uniform_(p, -s, s);
    }

    /// <summary>One time step: the new state from the precomputed input projection xw = x·W_ihᵀ + b_ih [N, G·H] and the old state (h first).</summary>
    private protected abstract Tensor[] Cell(Tensor xw, Tensor[] state, Tensor weightHh, Tensor? biasHh, Tensor? weightHr);

    /// <summary>
    /// Runs the stack. input [T, N, in] ([N, T, in] with batchFirst, or unbatched [T, in]); each initial state [L·D, N, H]
    /// ([L·D, H] unbatched) or null for zeros. Returns output [T, N, D·H] (layout as input) and the final states [L·D, N, H].
    /// </summary>
    private protected (Tensor Output, Tensor[] Final) Run(Tensor input, Tensor?[] initial)
    {
        if (input.Dim is not (2 or 3))
            throw new ArgumentException($"{TypeName}: expected input to be 2-D (unbatched) or 3-D, got {input.Dim}-D tensor of shape {input.Shape}.");
        if (input.Shape[-1] != InputSize)
            throw new ArgumentException($"{TypeName}: input.size(-1) must be equal to input_size. Expected {InputSize}, got {input.Shape[-1]} (input shape {input.Shape}).");
        var w0 = WeightIh(0);
        if (input.DType != w0.DType || input.Device != w0.Device)
            throw new ArgumentException($"{TypeName}: input dtype/device {input.DType}/{input.Device} must match the parameters' {w0.DType}/{w0.Device}.");
        bool batched = input.Dim == 3;
        var x = !batched ? input.Unsqueeze(1) : BatchFirst ? input.Transpose(0, 1) : input;   // [T, N, in]
        long t = x.Shape[0], n = x.Shape[1];
        int ld = NumLayers * NumDirections;
        var states = new Tensor[initial.Length];
        for (int i = 0; i < initial.Length; i++)
        {
            if (initial[i] is not { } h)
            {
                states[i] = Tensor.Zeros([ld, n, i == 0 ? OutputHiddenSize : HiddenSize], x.DType, x.Device);
                continue;
            }
            long size = i == 0 ? OutputHiddenSize : HiddenSize;
            Shape expected = batched ? new Shape(ld, n, size) : new Shape(ld, size);
            if (h.Shape != expected)
                throw new ArgumentException($"{TypeName}: expected hidden size {expected}, got {h.Shape}" + (batched ? "." : " (for unbatched input the hidden state must be 2-D)."));
            if (h.DType != x.DType || h.Device != x.Device)
                throw new ArgumentException($"{TypeName}: hidden state dtype/device {h.DType}/{h.Device} must match the input's {x.DType}/{x.Device}.");
            states[i] = batched ? h : h.Unsqueeze(1);
        }

        var finals = new Tensor[initial.Length][];
        for (int i = 0; i < finals.Length; i++) finals[i] = new Tensor[ld];
        var layerInput = x;
        var outs = new Tensor[t];
        for (int k = 0; k < NumLayers; k++)
        {
            var dirOuts = new Tensor[NumDirections];
            for (int d = 0; d < NumDirections; d++)
            {
                int idx = k * NumDirections + d;
                bool rev = d == 1;
                var whh = WeightHh(k, rev);
                var bhh = BiasHh(k, rev);
                var whr = WeightHr(k, rev);
                var xw = Functional.Linear(layerInput, WeightIh(k, rev), BiasIh(k, rev));   // [T, N, G·H], one matmul for all steps
                var state = new Tensor[states.Length];
                for (int i = 0; i < state.Length; i++) state[i] = states[i].Select(0, idx);
                for (long s = 0; s < t; s++)
                {
                    long step = rev ? t - 1 - s : s;
                    state = Cell(xw.Select(0, step), state, whh, bhh, whr);
                    outs[step] = state[0];
                }
                dirOuts[d] = Tensor.Stack(outs, 0);
                for (int i = 0; i < state.Length; i++) finals[i][idx] = state[i];
            }
            layerInput = NumDirections == 1 ? dirOuts[0] : Tensor.Cat(dirOuts, -1);
            if (k < NumLayers - 1 && DropoutP > 0 && Training) layerInput = Functional.Dropout(layerInput, DropoutP, true);
        }
        var output = !batched ? layerInput.Squeeze(1) : BatchFirst ? layerInput.Transpose(0, 1) : layerInput;
        var result = new Tensor[finals.Length];
        for (int i = 0; i < finals.Length; i++)
        {
            var f = Tensor.Stack(finals[i], 0);
            result[i] = batched ? f : f.Squeeze(1);
        }
        return (output, result);
    }

    /// <inheritdoc/>
    public override string ExtraRepr()
    {
        var s = $"{InputSize}, {HiddenSize}";
        if (ProjSize != 0) s += $", proj_size={ProjSize}";
        if (NumLayers != 1) s += $", num_layers={NumLayers}";
        if (!Bias) s += ", bias=False";
        if (BatchFirst) s += ", batch_first=True";
        if (DropoutP != 0) s += ", dropout=" + DropoutP.ToString(CultureInfo.InvariantCulture);
        if (Bidirectional) s += ", bidirectional=True";
        return s;
    }
}

/// <summary>
/// Elman RNN (PyTorch's nn.RNN): hₜ = act(xₜ·W_ihᵀ + b_ih + hₜ₋₁·W_hhᵀ + b_hh), act = tanh or relu.
/// Forward returns (output [T, N, D·H], h_n [L·D, N, H]).
/// </summary>
public sealed class RNN : RNNBase<Tensor>
{
    /// <summary>Creates the layer stack (see <see cref="RNNBase{THidden}"/> for parameters and initialization).</summary>
    /// <param name="inputSize">Input features.</param>
    /// <param name="hiddenSize">Hidden features H.</param>
    /// <param name="numLayers">Stacked layers.</param>
    /// <param name="nonlinearity">tanh (default) or relu.</param>
    /// <param name="bias">Use biases.</param>
    /// <param name="batchFirst">Input/output [N, T, *].</param>
    /// <param name="dropout">Dropout between layers (training only).</param>
    /// <param name="bidirectional">Also run backwards in time.</param>
    /// <param name="dtype">Parameter dtype.</param>
    /// <param name="device">Parameter device.</param>
    /// <exception cref="ArgumentException">A size is not positive or dropout is outside [0, 1].</exception>
    public RNN(long inputSize, long hiddenSize, int numLayers = 1, RnnNonlinearity nonlinearity = RnnNonlinearity.Tanh, bool bias = true,
        bool batchFirst = false, double dropout = 0, bool bidirectional = false, DType dtype = DType.Float32, Device? device = null)
        : base(1, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, dtype, device) => Nonlinearity = nonlinearity;

    /// <summary>tanh or relu.</summary>
    public RnnNonlinearity Nonlinearity { get; }

    /// <summary>Runs with a zero initial state.</summary>
    public override (Tensor Output, Tensor Hidden) Forward(Tensor input) => Forward(input, null);

    /// <summary>Runs the stack.</summary>
    /// <param name="input">[T, N, in] ([N, T, in] with batchFirst, or unbatched [T, in]).</param>
    /// <param name="hx">Initial hidden state [L·D, N, H] ([L·D, H] unbatched), or null for zeros.</param>
    /// <returns>output [T, N, D·H] (laid out like input) and h_n [L·D, N, H].</returns>
    /// <exception cref="ArgumentException">Input or state shape, dtype or device does not match.</exception>
    public (Tensor Output, Tensor Hidden) Forward(Tensor input, Tensor? hx)
    {
        var (o, f) = Run(input, [hx]);
        return (o, f[0]);
    }

    private protected override Tensor[] Cell(Tensor xw, Tensor[] state, Tensor weightHh, Tensor? biasHh, Tensor? weightHr)
    {
        var pre = xw + Functional.Linear(state[0], weightHh, biasHh);
        return [Nonlinearity == RnnNonlinearity.Relu ? pre.Relu() : pre.Tanh()];
    }

    /// <inheritdoc/>
    public override string ExtraRepr() => base.ExtraRepr().Insert($"{InputSize}, {HiddenSize}".Length,
        Nonlinearity == RnnNonlinearity.Relu ? ", nonlinearity='relu'" : "");
}

/// <summary>
/// Long short-term memory (PyTorch's nn.LSTM), gates in PyTorch's order i, f, g, o:
/// i = σ(W_ii x + b_ii + W_hi h + b_hi), f = σ(…), g = tanh(…), o = σ(…); c' = f ⊙ c + i ⊙ g; h' = o ⊙ tanh(c').
/// Forward returns (output [T, N, D·H], (h_n, c_n) each [L·D, N, H]).
/// </summary>
public sealed class LSTM : RNNBase<(Tensor H, Tensor C)>
{
    /// <summary>Creates the layer stack (weights [4H, *], see <see cref="RNNBase{THidden}"/>).</summary>
    /// <param name="inputSize">Input features.</param>
    /// <param name="hiddenSize">Hidden features H.</param>
    /// <param name="numLayers">Stacked layers.</param>
    /// <param name="bias">Use biases.</param>
    /// <param name="batchFirst">Input/output [N, T, *].</param>
    /// <param name="dropout">Dropout between layers (training only).</param>
    /// <param name="bidirectional">Also run backwards in time.</param>
    /// <param name="projSize">P &gt; 0 projects h by weight_hr_l{k} [P, H] after every step (h and the output get P features); 0 = none.</param>
    /// <param name="dtype">Parameter dtype.</param>
    /// <param name="device">Parameter device.</param>
    /// <exception cref="ArgumentException">A size is not positive, projSize is negative or ≥ hiddenSize, or dropout is outside [0, 1].</exception>
    public LSTM(long inputSize, long hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0,
        bool bidirectional = false, long projSize = 0, DType dtype = DType.Float32, Device? device = null)
        : base(4, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, dtype, device, projSize) { }

    /// <summary>Runs with zero initial states.</summary>
    public override (Tensor Output, (Tensor H, Tensor C) Hidden) Forward(Tensor input) => Forward(input, null);

    /// <summary>Runs the stack.</summary>
    /// <param name="input">[T, N, in] ([N, T, in] with batchFirst, or unbatched [T, in]).</param>
    /// <param name="hx">Initial (h_0 [L·D, N, H or P], c_0 [L·D, N, H]) (without N when unbatched), or null for zeros.</param>
    /// <returns>output [T, N, D·(H or P)] (laid out like input) and (h_n [L·D, N, H or P], c_n [L·D, N, H]).</returns>
    /// <exception cref="ArgumentException">Input or state shape, dtype or device does not match.</exception>
    public (Tensor Output, (Tensor H, Tensor C) Hidden) Forward(Tensor input, (Tensor H, Tensor C)? hx)
    {
        var (o, f) = Run(input, [hx?.H, hx?.C]);
        return (o, (f[0], f[1]));
    }

    private protected override Tensor[] Cell(Tensor xw, Tensor[] state, Tensor weightHh, Tensor? biasHh, Tensor? weightHr)
    {
        var g = (xw + Functional.Linear(state[0], weightHh, biasHh)).Chunk(4, -1);
        var i = g[0].Sigmoid();
        var f = g[1].Sigmoid();
        var c = f * state[1] + i * g[2].Tanh();
        var h = g[3].Sigmoid() * c.Tanh();
        return [weightHr is null ? h : Functional.Linear(h, weightHr), c];
    }
}

/// <summary>
/// Gated recurrent unit (PyTorch's nn.GRU), gates in PyTorch's order r, z, n:
/// r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz), n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),
/// h' = (1 − z) ⊙ n + z ⊙ h. Forward returns (output [T, N, D·H], h_n [L·D, N, H]).
/// </summary>
public sealed class GRU : RNNBase<Tensor>
{
    /// <summary>Creates the layer stack (weights [3H, *], see <see cref="RNNBase{THidden}"/>).</summary>
    /// <param name="inputSize">Input features.</param>
    /// <param name="hiddenSize">Hidden features H.</param>
    /// <param name="numLayers">Stacked layers.</param>
    /// <param name="bias">Use biases.</param>
    /// <param name="batchFirst">Input/output [N, T, *].</param>
    /// <param name="dropout">Dropout between layers (training only).</param>
    /// <param name="bidirectional">Also run backwards in time.</param>
    /// <param name="dtype">Parameter dtype.</param>
    /// <param name="device">Parameter device.</param>
    /// <exception cref="ArgumentException">A size is not positive or dropout is outside [0, 1].</exception>
    public GRU(long inputSize, long hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0,
        bool bidirectional = false, DType dtype = DType.Float32, Device? device = null)
        : base(3, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, dtype, device) { }

    /// <summary>Runs with a zero initial state.</summary>
    public override (Tensor Output, Tensor Hidden) Forward(Tensor input) => Forward(input, null);

    /// <summary>Runs the stack.</summary>
    /// <param name="input">[T, N, in] ([N, T, in] with batchFirst, or unbatched [T, in]).</param>
    /// <param name="hx">Initial hidden state [L·D, N, H] ([L·D, H] unbatched), or null for zeros.</param>
    /// <returns>output [T, N, D·H] (laid out like input) and h_n [L·D, N, H].</returns>
    /// <exception cref="ArgumentException">Input or state shape, dtype or device does not match.</exception>
    public (Tensor Output, Tensor Hidden) Forward(Tensor input, Tensor? hx)
    {
        var (o, f) = Run(input, [hx]);
        return (o, f[0]);
    }

    private protected override Tensor[] Cell(Tensor xw, Tensor[] state, Tensor weightHh, Tensor? biasHh, Tensor? weightHr)
    {
        var h = state[0];
        var xs = xw.Chunk(3, -1);
        var hs = Functional.Linear(h, weightHh, biasHh).Chunk(3, -1);
        var r = (xs[0] + hs[0]).Sigmoid();
        var z = (xs[1] + hs[1]).Sigmoid();
        var nn = (xs[2] + r * hs[2]).Tanh();
        return [nn + z * (h - nn)];
    }
}
