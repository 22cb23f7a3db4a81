// Ember quickstart: tensors, broadcasting, views, matmul and printing.
// Run: dotnet run --project examples/Quickstart
using Ember;

Tensor.ManualSeed(42);

var x = Tensor.Randn(3, 4);                                  // float32, CPU
var t = Tensor.FromArray(new float[] { 1, 2, 3, 4 }, 2, 2);
Console.WriteLine($"x: shape {x.Shape}, dtype {x.DType}, device {x.Device}");
Console.WriteLine(t);

var b = Tensor.FromArray(new float[] { 10, 20, 30, 40 });   // shape [4]
var y = (x + b).Relu();                                     // broadcasting [3,4] + [4]
Console.WriteLine($"(x + b).Relu() has shape {y.Shape}");

var w = Tensor.Randn(4, 2);
var z = x.MatMul(w);                                        // [3,4] @ [4,2]
Console.WriteLine($"x.MatMul(w) has shape {z.Shape}");
Console.WriteLine(z);

var v = x[.., 1..3];                                        // a view, no copy
Console.WriteLine($"x[.., 1..3] has shape {v.Shape}, contiguous: {v.IsContiguous}");
Console.WriteLine($"sum {x.Sum().Item():F4}, mean {x.Mean().Item():F4}, max {x.Max().Item():F4}");
Console.WriteLine($"Best device here: {Device.Best()}");

// The README's training quickstart, verbatim (so it always compiles):
var xs = Tensor.Randn(64, 784);
var labels = Tensor.RandInt(0, 10, [64]);
var model = new Ember.NN.Sequential(new Ember.NN.Linear(784, 256), new Ember.NN.ReLU(), new Ember.NN.Linear(256, 10));
var opt = new Ember.Optim.AdamW(model.Parameters(), lr: 1e-3);
for (int step = 0; step < 100; step++)
{
    var loss = Ember.NN.Functional.CrossEntropy(model.Forward(xs), labels);
    opt.ZeroGrad(); loss.Backward(); opt.Step();
    if (step % 25 == 0) Console.WriteLine($"step {step}: loss {loss.Item():F4}");
}
using (Autograd.NoGrad()) Console.WriteLine(model.Forward(xs).ArgMax(1));
