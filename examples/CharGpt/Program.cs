// A small GPT that learns to write like its training text, one byte at a time.
//   dotnet run --project examples/CharGpt -c Release [-- --steps 2000 --device cuda --amp bf16]
// DESIGN.md's gpt workload: 4 pre-LayerNorm transformer blocks, d=256, 4 heads, GELU MLP of 4d, context 128,
// vocabulary of the 256 byte values. The default text is Genesis and Exodus from the King James Bible
// (public domain, data/README.md). Samples are printed every --sample-every steps; a checkpoint
// (model, optimizer, RNG, step) is written every --save-every steps and resumed with --resume.
using System.Diagnostics;
using System.Text;
using Ember;
using Ember.Amp;
using Ember.Data;
using Ember.Examples;
using Ember.NN;
using Ember.Optim;
using Ember.Serialization;

var a = new Args(args, "CharGpt: a 4-block GPT trained on a text file, byte by byte.");
string textPath = a.Get("text", Path.Combine(AppContext.BaseDirectory, "data", "kjv-genesis-exodus.txt"), "training text (UTF-8 or ASCII)");
int steps = a.Int("steps", 300, "optimizer steps (about 1 s each on 2 CPU cores at the default size)");
int batchSize = a.Int("batch-size", 16, "sequences per step");
int context = a.Int("context", 128, "context length in bytes");
int dModel = a.Int("d-model", 256, "model width");
int heads = a.Int("heads", 4, "attention heads");
int layers = a.Int("layers", 4, "transformer blocks");
double lr = a.Double("lr", 1e-3, "AdamW learning rate");
int sampleEvery = a.Int("sample-every", 100, "print a sample every N steps");
int sampleLength = a.Int("sample-length", 300, "bytes per sample");
double temperature = a.Double("temperature", 0.8, "sampling temperature");
int saveEvery = a.Int("save-every", 50, "write the checkpoint every N steps");
string checkpointPath = a.Get("checkpoint", Path.Combine("runs", "chargpt", "chargpt.ckpt"), "checkpoint file");
bool resume = a.Flag("resume", "continue from --checkpoint if it exists");
int seed = a.Int("seed", 0, "random seed");
string deviceName = a.Get("device", "cpu", "cpu, cuda[:N], opencl[:N], ilgpu-cpu or best");
DType? amp = a.Amp();
if (a.PrintHelpIfAsked()) return;
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(checkpointPath))!);

Tensor.ManualSeed(seed);
var device = Args.ResolveDevice(deviceName);
var bytes = File.ReadAllBytes(textPath);
var corpus = Tensor.FromArray(bytes.Select(b => (long)b).ToArray());
int split = (int)(bytes.Length * 0.9);
var train = new TextWindows(corpus.Narrow(0, 0, split), context);
var valid = new TextWindows(corpus.Narrow(0, split, bytes.Length - split), context);
Console.WriteLine($"text: {textPath} ({bytes.Length:N0} bytes; {train.Count:N0} training windows of {context}), device {device}");

var model = new Gpt(vocab: 256, context, dModel, heads, layers);
model.To(device);
Console.WriteLine($"model: {model.NumParameters():N0} parameters");
var optimizer = new AdamW(model.Parameters(), lr: lr, weightDecay: 0.01);
var sampleGen = new Generator((ulong)seed + 7);
int startStep = 0;
if (resume && File.Exists(checkpointPath))
{
    var state = Checkpoint.Load(checkpointPath, model, optimizer);
    startStep = (int)state.Step;
    Console.WriteLine($"resumed from {checkpointPath} at step {startStep}");
}

// Random windows, drawn with replacement: each epoch of this loader is exactly the remaining steps.
var loader = new DataLoader(train, batchSize: batchSize, numWorkers: 1,
    sampler: new RandomSampler(train.Count, replacement: true, numSamples: Math.Max(1, steps - startStep) * batchSize, generator: new Generator((ulong)(seed + startStep))));
// Mixed precision (--amp): the forward pass under autocast, float32 master weights; float16 also scales the loss.
var scaler = new GradScaler(enabled: amp == DType.Float16);
if (amp is { } ampDType) Console.WriteLine($"mixed precision: autocast {ampDType} on {device.Type}");
var clock = Stopwatch.StartNew();
int step = startStep;
double smoothed = double.NaN;
foreach (var (x, y) in loader)
{
    if (step >= steps) break;
    Tensor loss;
    using (amp is { } lowp ? Autocast.Enable(device, lowp) : null)
    {
        var logits = model.Forward(x.To(device));                               // [B, T, V]
        loss = Functional.CrossEntropy(logits.Reshape(-1, 256), y.To(device).Reshape(-1));
    }
    optimizer.ZeroGrad();
    scaler.Scale(loss).Backward();
    scaler.Unscale(optimizer);                                                  // clip the true gradients
    ClipGrad.ClipGradNorm(model.Parameters(), 1.0);
    scaler.Step(optimizer);
    scaler.Update();
    step++;
    double l = loss.Item();
    smoothed = double.IsNaN(smoothed) ? l : 0.95 * smoothed + 0.05 * l;
    if (step % 10 == 0 || step == steps)
        Console.WriteLine($"step {step,5}: loss {smoothed:F3}  ({(step - startStep) / clock.Elapsed.TotalSeconds:F2} steps/s)");
    if (step % sampleEvery == 0 || step == steps)
    {
        Console.WriteLine($"validation loss {ValidationLoss(model, valid, device, amp):F3}; sample:");
        Console.WriteLine("----\n" + Sample(model, "And God said", sampleLength, temperature, context, device, sampleGen) + "\n----");
    }
    if (step % saveEvery == 0 || step == steps)
        Checkpoint.Save(checkpointPath, model, optimizer, step: step);
}
Console.WriteLine($"done: {step} steps in {clock.Elapsed.TotalSeconds:F0} s; checkpoint {Path.GetFullPath(checkpointPath)}");

static double ValidationLoss(Gpt model, TextWindows valid, Device device, DType? amp, int batches = 4)
{
    model.Eval();
    double sum = 0;
    using (Autograd.NoGrad())
    using (amp is { } lowp ? Autocast.Enable(device, lowp) : null)
    {
        var loader = new DataLoader(valid, batchSize: 16, sampler: new RandomSampler(valid.Count, replacement: true, numSamples: 16 * batches, generator: new Generator(99)));
        foreach (var (x, y) in loader)
            sum += Functional.CrossEntropy(model.Forward(x.To(device)).Reshape(-1, 256), y.To(device).Reshape(-1)).Item();
    }
    model.Train();
    return sum / batches;
}

static string Sample(Gpt model, string prompt, int length, double temperature, int context, Device device, Generator generator)
{
    model.Eval();
    var tokens = Encoding.UTF8.GetBytes(prompt).Select(b => (long)b).ToList();
    using (Autograd.NoGrad())
        for (int i = 0; i < length; i++)
        {
            var window = tokens.Skip(Math.Max(0, tokens.Count - context)).ToArray();
            var logits = model.Forward(Tensor.FromArray(window, 1, window.Length).To(device));   // [1, T, V]
            var last = (logits[0, ^1] / temperature).Softmax(-1).Cpu().To(DType.Float64).ToArray<double>();
            double u = generator.NextDouble(), acc = 0;
            int next = last.Length - 1;
            for (int v = 0; v < last.Length; v++) { acc += last[v]; if (u < acc) { next = v; break; } }
            tokens.Add(next);
        }
    model.Train();
    return Encoding.UTF8.GetString(tokens.Select(t => (byte)t).ToArray());
}

/// <summary>Windows of a byte stream: item i is (bytes[i .. i+T), bytes[i+1 .. i+T+1)), the next-byte targets.</summary>
sealed class TextWindows(Tensor corpus, int context) : Dataset<(Tensor Input, Tensor Target)>
{
    public override int Count => (int)corpus.Shape[0] - context - 1;
    public override (Tensor Input, Tensor Target) this[int index] =>
        (corpus.Narrow(0, index, context), corpus.Narrow(0, index + 1, context));
}

/// <summary>Multi-head causal self-attention: softmax(QKᵀ/√d_head + causal mask) V, heads concatenated, projected.</summary>
sealed class CausalSelfAttention : Module<Tensor, Tensor>
{
    private readonly int heads;
    private readonly Linear qkv, proj;

    public CausalSelfAttention(int dModel, int heads)
    {
        this.heads = heads;
        qkv = RegisterModule("qkv", new Linear(dModel, 3 * dModel));
        proj = RegisterModule("proj", new Linear(dModel, dModel));
    }

    public override Tensor Forward(Tensor x)
    {
        long b = x.Shape[0], t = x.Shape[1], d = x.Shape[2], hd = d / heads;
        var parts = qkv.Forward(x).Split(d, 2);                                              // 3 × [B, T, D]
        Tensor Heads(Tensor z) => z.Reshape(b, t, heads, hd).Transpose(1, 2);                // [B, H, T, hd]
        var (q, k, v) = (Heads(parts[0]), Heads(parts[1]), Heads(parts[2]));
        var scores = q.MatMul(k.Transpose(-2, -1)) / Math.Sqrt(hd);                           // [B, H, T, T]
        var future = Tensor.Ones([t, t], DType.Bool, x.Device).Triu(1);                     // true above the diagonal
        var attention = scores.MaskedFill(future, double.NegativeInfinity).Softmax(-1);
        var y = attention.MatMul(v).Transpose(1, 2).Reshape(b, t, d);
        return proj.Forward(y);
    }
}

/// <summary>A pre-LayerNorm transformer block: x + attn(ln1(x)), then x + mlp(ln2(x)).</summary>
sealed class Block : Module<Tensor, Tensor>
{
    private readonly LayerNorm ln1, ln2;
    private readonly CausalSelfAttention attn;
    private readonly Sequential mlp;

    public Block(int dModel, int heads)
    {
        ln1 = RegisterModule("ln1", new LayerNorm(dModel));
        attn = RegisterModule("attn", new CausalSelfAttention(dModel, heads));
        ln2 = RegisterModule("ln2", new LayerNorm(dModel));
        mlp = RegisterModule("mlp", new Sequential(new Linear(dModel, 4 * dModel), new GELU(), new Linear(4 * dModel, dModel)));
    }

    public override Tensor Forward(Tensor x)
    {
        x = x + attn.Forward(ln1.Forward(x));
        return x + mlp.Forward(ln2.Forward(x));
    }
}

/// <summary>Token and position embeddings, the blocks, a final LayerNorm and the vocabulary head.</summary>
sealed class Gpt : Module<Tensor, Tensor>
{
    private readonly Embedding tokens, positions;
    private readonly ModuleList<Block> blocks;
    private readonly LayerNorm lnF;
    private readonly Linear head;

    public Gpt(int vocab, int context, int dModel, int heads, int layers)
    {
        tokens = RegisterModule("tok_emb", new Embedding(vocab, dModel));
        positions = RegisterModule("pos_emb", new Embedding(context, dModel));
        blocks = RegisterModule("blocks", new ModuleList<Block>(Enumerable.Range(0, layers).Select(_ => new Block(dModel, heads))));
        lnF = RegisterModule("ln_f", new LayerNorm(dModel));
        head = RegisterModule("head", new Linear(dModel, vocab, bias: false));
    }

    /// <summary>[B, T] Int64 bytes → [B, T, vocab] logits.</summary>
    public override Tensor Forward(Tensor idx)
    {
        long t = idx.Shape[1];
        var x = tokens.Forward(idx) + positions.Forward(Tensor.Arange(t, DType.Int64, idx.Device));
        foreach (var block in blocks) x = block.Forward(x);
        return head.Forward(lnF.Forward(x));
    }
}
