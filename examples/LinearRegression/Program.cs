// Autograd from scratch: fit y = 3x - 2 (plus noise) by gradient descent, twice.
//   dotnet run --project examples/LinearRegression -c Release
// Part 1 uses bare tensors: two parameters that require grad, a loss built from tensor ops, Backward() to get
// d loss / d w and d loss / d b, and a hand-written SGD step inside NoGrad. Part 2 does the same with
// Linear, MseLoss and the SGD optimizer. The graph of the loss is written as Graphviz DOT (render it with
// `dot -Tpng linear-regression.dot -o graph.png`).
using Ember;
using Ember.Examples;
using Ember.NN;
using Ember.Optim;

var a = new Args(args, "LinearRegression: gradient descent with autograd, by hand and with Linear + SGD.");
int points = a.Int("points", 100, "number of noisy samples");
int epochs = a.Int("epochs", 200, "gradient-descent steps");
double lr = a.Double("lr", 0.1, "learning rate");
string dotPath = a.Get("dot", Path.Combine("runs", "linear-regression", "linear-regression.dot"), "where the loss's graph is written");
int seed = a.Int("seed", 0, "random seed");
if (a.PrintHelpIfAsked()) return;

Tensor.ManualSeed(seed);
// Data: x uniform in [-1, 1], y = 3x - 2 + noise(σ = 0.1). Shapes [N, 1].
var x = Tensor.Rand(points, 1) * 2.0 - 1.0;
var y = x * 3.0 - 2.0 + Tensor.Randn(points, 1) * 0.1;

// ---- Part 1: tensors, Backward and a manual SGD step --------------------------------------------
var w = Tensor.Zeros([1, 1], requiresGrad: true);      // leaf tensors: autograd accumulates their .Grad
var b = Tensor.Zeros([1], requiresGrad: true);
w.Name = "w"; b.Name = "b";
for (int epoch = 1; epoch <= epochs; epoch++)
{
    var prediction = x.MatMul(w) + b;                    // [N, 1]; every op records a node of the graph
    var loss = (prediction - y).Square().Mean();         // mean squared error, a 0-dim tensor
    if (epoch == 1)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(dotPath))!);
        File.WriteAllText(dotPath, Autograd.ToDot(loss));
        Console.WriteLine($"wrote the graph of the first loss to {dotPath}");
    }
    w.Grad = null; b.Grad = null;                       // gradients accumulate, so clear them first
    loss.Backward();                                     // d loss/d w and d loss/d b into w.Grad, b.Grad
    using (Autograd.NoGrad())                            // the update itself must not be recorded
    {
        w.Sub_(w.Grad!, alpha: lr);                      // w ← w − lr · ∂loss/∂w
        b.Sub_(b.Grad!, alpha: lr);
    }
    if (epoch == 1 || epoch % 50 == 0)
        Console.WriteLine($"[by hand] epoch {epoch,4}: loss {loss.Item():F5}  w {w.Item():F4}  b {b.Item():F4}");
}

// ---- Part 2: the same with Linear, MseLoss and SGD ------------------------------------------------
var model = new Linear(1, 1);
var optimizer = new SGD(model.Parameters(), lr: lr);
for (int epoch = 1; epoch <= epochs; epoch++)
{
    var loss = Functional.MseLoss(model.Forward(x), y);
    optimizer.ZeroGrad();
    loss.Backward();
    optimizer.Step();
    if (epoch == 1 || epoch % 50 == 0)
        Console.WriteLine($"[Linear+SGD] epoch {epoch,4}: loss {loss.Item():F5}  w {model.Weight.Item():F4}  b {model.Bias!.Item():F4}");
}
Console.WriteLine($"true line: w 3, b -2; learned by hand w {w.Item():F3} b {b.Item():F3}; with Linear w {model.Weight.Item():F3} b {model.Bias!.Item():F3}");
