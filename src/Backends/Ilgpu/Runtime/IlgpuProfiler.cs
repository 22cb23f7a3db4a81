using System.Diagnostics;
using System.Text;

namespace Ember.Ilgpu;

/// <summary>
/// A diagnostic per-op profiler of the ILGPU backend: while enabled, storages allocated afterwards route their
/// kernels through a proxy that synchronizes the device before and after every <see cref="IBackend"/> call and
/// adds the elapsed wall time (launch overhead plus kernel time) to a table keyed by member, op and result shape.
/// Synchronizing serializes the stream, so profiled steps are slower than normal ones; the table says where the
/// time of a step goes, not how long a step takes. Not thread-safe; for benchmarks only.
/// </summary>
public static class IlgpuProfiler
{
    private static readonly Dictionary<string, (long Count, double Seconds, long Launches)> table = new();
    private static IBackend? proxy;

    /// <summary>True while storages allocated by the backend are profiled.</summary>
    public static bool Enabled { get; private set; }

    /// <summary>The backend that new storages report (the proxy while enabled, else the backend itself).</summary>
    internal static IBackend Current => Enabled ? proxy ??= Create() : IlgpuBackend.Instance;

    /// <summary>Starts profiling storages allocated from now on (tensors allocated before keep running unprofiled).</summary>
    public static void Enable() => Enabled = true;

    /// <summary>Stops profiling new storages.</summary>
    public static void Disable() => Enabled = false;

    /// <summary>
    /// Kernel launches of the ILGPU backend in this process so far, counted whether or not the profiler is enabled
    /// (every launch goes through a device's <see cref="KernelCache"/>); the difference over a training step is its
    /// launch count. Host↔device copies are not kernels and are not counted.
    /// </summary>
    public static long Launches => KernelCache.Launches;

    /// <summary>Clears the table.</summary>
    public static void Reset() => table.Clear();

    /// <summary>
    /// The table as text: one line per key with calls, kernel launches and milliseconds per step (totals divided by
    /// <paramref name="steps"/>), largest first, then the total.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is less than 1.</exception>
    public static string Report(int steps, int top = 40)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        var sb = new StringBuilder();
        double total = table.Values.Sum(v => v.Seconds) / steps * 1e3;
        long calls = table.Values.Sum(v => v.Count) / steps;
        double launches = table.Values.Sum(v => v.Launches) / (double)steps;
        sb.AppendLine($"  {"op",-60} {"calls/step",10} {"launches/step",13} {"ms/step",9}");
        foreach (var (k, v) in table.OrderByDescending(kv => kv.Value.Seconds).Take(top))
            sb.AppendLine($"  {k,-60} {v.Count / (double)steps,10:F1} {v.Launches / (double)steps,13:F1} {v.Seconds / steps * 1e3,9:F3}");
        sb.AppendLine($"  {"total (synchronized)",-60} {calls,10} {launches,13:F1} {total,9:F3}");
        return sb.ToString();
    }

    /// <summary>
    /// The table's keys by kernel launches per step, most first (launches of a fused member include those of the
    /// kernels it runs; copies between host and device are not launches), with calls per step.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is less than 1.</exception>
    public static string LaunchReport(int steps, int top = 40)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        var sb = new StringBuilder();
        sb.AppendLine($"  {"op",-60} {"calls/step",10} {"launches/step",13}");
        foreach (var (k, v) in table.Where(kv => kv.Value.Launches > 0).OrderByDescending(kv => kv.Value.Launches).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(top))
            sb.AppendLine($"  {k,-60} {v.Count / (double)steps,10:F1} {v.Launches / (double)steps,13:F1}");
        sb.AppendLine($"  {"total",-60} {table.Values.Sum(v => v.Count) / (double)steps,10:F1} {table.Values.Sum(v => v.Launches) / (double)steps,13:F1}");
        return sb.ToString();
    }

    internal static void Add(string key, double seconds, long launches)
    {
        table.TryGetValue(key, out var v);
        table[key] = (v.Count + 1, v.Seconds + seconds, v.Launches + launches);
    }

    private static IBackend Create() => new ProfilingBackend();

    /// <summary>When a profiled call started: the stopwatch timestamp and the launch count.</summary>
    private readonly record struct Mark(long Timestamp, long Launches);

    private static string Fmt(Tensor t) => $"[{string.Join(",", t.ShapeSpan.ToArray())}]";
    private static string Str(Tensor t) => $"({string.Join(",", t.StridesSpan.ToArray())})";

    /// <summary>Times every call on <see cref="IlgpuBackend.Instance"/> (synchronized before and after).</summary>
    private sealed class ProfilingBackend : IBackend
    {
        private static readonly IlgpuBackend B = IlgpuBackend.Instance;
        public string Name => B.Name;
        public bool Supports(Device device) => B.Supports(device);
        public IReadOnlyList<Device> Devices => B.Devices;
        public Storage Allocate(Device device, DType dtype, long length) => B.Allocate(device, dtype, length);
        public void CopyFromHost(ReadOnlySpan<byte> source, Storage destination, long elementOffset) => B.CopyFromHost(source, destination, elementOffset);
        public void CopyToHost(Storage source, long elementOffset, Span<byte> destination) => B.CopyToHost(source, elementOffset, destination);
        public void Synchronize(Device device) => B.Synchronize(device);

        // Calls nest where a member's composite runs tensor ops on profiled tensors: each open call's entry holds the
        // launches of the calls nested in it, so that a key counts only its own launches and the column adds up.
        private static readonly Stack<long> nested = new();
        private static Mark Start(Tensor t)
        {
            B.Synchronize(t.Device);
            nested.Push(0);
            return new Mark(Stopwatch.GetTimestamp(), Launches);
        }
        private static void Stop(Tensor t, Mark start, string name, string detail, Tensor shaped)
        {
            B.Synchronize(t.Device);
            long all = Launches - start.Launches, own = all - nested.Pop();
            if (nested.Count > 0) nested.Push(nested.Pop() + all);
            Add($"{name} {detail} {Fmt(shaped)}", Stopwatch.GetElapsedTime(start.Timestamp).TotalSeconds, own);
        }
        public void Copy(Tensor source, Tensor destination) { var t0 = Start(source); B.Copy(source, destination); Stop(source, t0, "Copy", "", destination); }
        public void Fill(Tensor destination, double value) { var t0 = Start(destination); B.Fill(destination, value); Stop(destination, t0, "Fill", "", destination); }
        public void Unary(UnaryOp op, Tensor x, Tensor result, double alpha = 0, double beta = 0) { var t0 = Start(x); B.Unary(op, x, result, alpha, beta); Stop(x, t0, "Unary", op.ToString(), result); }
        public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor result) { var t0 = Start(a); B.Binary(op, a, b, result); Stop(a, t0, "Binary", op.ToString(), result); }
        public void Where(Tensor condition, Tensor a, Tensor b, Tensor result) { var t0 = Start(a); B.Where(condition, a, b, result); Stop(a, t0, "Where", "", result); }
        public void Reduce(ReduceOp op, Tensor x, Tensor values, Tensor? indices) { var t0 = Start(x); B.Reduce(op, x, values, indices); Stop(x, t0, "Reduce", op.ToString() + " st" + Str(x), x); }
        public void MatMul(Tensor a, Tensor b, Tensor c, bool accumulate = false) { var t0 = Start(a); B.MatMul(a, b, c, accumulate); Stop(a, t0, "MatMul", Fmt(a) + "x" + Fmt(b) + " st" + Str(a) + Str(b), c); }
        public void Gather(Tensor x, int dim, Tensor index, Tensor result) { var t0 = Start(x); B.Gather(x, dim, index, result); Stop(x, t0, "Gather", "", result); }
        public void Scatter(Tensor target, int dim, Tensor index, Tensor source, bool accumulate) { var t0 = Start(target); B.Scatter(target, dim, index, source, accumulate); Stop(target, t0, "Scatter", "", source); }
        public void IndexSelect(Tensor x, int dim, Tensor index, Tensor result) { var t0 = Start(x); B.IndexSelect(x, dim, index, result); Stop(x, t0, "IndexSelect", "", result); }
        public void IndexAdd(Tensor target, int dim, Tensor index, Tensor source, double alpha) { var t0 = Start(target); B.IndexAdd(target, dim, index, source, alpha); Stop(target, t0, "IndexAdd", "", source); }
        public void Triangular(Tensor x, Tensor result, long diagonal, bool upper) { var t0 = Start(x); B.Triangular(x, result, diagonal, upper); Stop(x, t0, "Triangular", "", result); }
        public void Random(RandomDistribution distribution, Tensor destination, ulong seed, ulong offset, double a, double b) { var t0 = Start(destination); B.Random(distribution, destination, seed, offset, a, b); Stop(destination, t0, "Random", distribution.ToString(), destination); }
        public void Softmax(Tensor x, Tensor result, bool log) { var t0 = Start(x); B.Softmax(x, result, log); Stop(x, t0, "Softmax", "", result); }
        public void SoftmaxBackward(Tensor grad, Tensor output, Tensor result, bool log) { var t0 = Start(grad); B.SoftmaxBackward(grad, output, result, log); Stop(grad, t0, "SoftmaxBackward", "", result); }
        public void CrossEntropy(Tensor x, Tensor target, Tensor? weight, CrossEntropyArgs args, Tensor loss, Tensor logSumExp) { var t0 = Start(x); B.CrossEntropy(x, target, weight, args, loss, logSumExp); Stop(x, t0, "CrossEntropy", "", loss); }
        public void CrossEntropyBackward(Tensor grad, Tensor x, Tensor target, Tensor? weight, CrossEntropyArgs args, Tensor logSumExp, Tensor gradX) { var t0 = Start(x); B.CrossEntropyBackward(grad, x, target, weight, args, logSumExp, gradX); Stop(x, t0, "CrossEntropyBackward", "", gradX); }
        public void BatchNorm(Tensor x, Tensor? weight, Tensor? bias, double eps, Tensor y, Tensor mean, Tensor variance, Tensor rstd) { var t0 = Start(x); B.BatchNorm(x, weight, bias, eps, y, mean, variance, rstd); Stop(x, t0, "BatchNorm", "", y); }
        public void BatchNormBackward(Tensor grad, Tensor x, Tensor? weight, Tensor mean, Tensor rstd, Tensor? gradX, Tensor? gradWeight, Tensor? gradBias) { var t0 = Start(x); B.BatchNormBackward(grad, x, weight, mean, rstd, gradX, gradWeight, gradBias); Stop(x, t0, "BatchNormBackward", "", grad); }
        public void BatchNormUpdateStats(Tensor mean, Tensor variance, long count, double? momentum, Tensor runningMean, Tensor runningVar, Tensor? numBatchesTracked) { var t0 = Start(runningMean); B.BatchNormUpdateStats(mean, variance, count, momentum, runningMean, runningVar, numBatchesTracked); Stop(runningMean, t0, "BatchNormUpdateStats", "", runningMean); }
        public void LayerNorm(Tensor x, Tensor? weight, Tensor? bias, double eps, Tensor y, Tensor mean, Tensor rstd) { var t0 = Start(x); B.LayerNorm(x, weight, bias, eps, y, mean, rstd); Stop(x, t0, "LayerNorm", "", y); }
        public void LayerNormBackward(Tensor grad, Tensor x, Tensor mean, Tensor rstd, Tensor? weight, Tensor gradX, Tensor? gradWeight, Tensor? gradBias) { var t0 = Start(x); B.LayerNormBackward(grad, x, mean, rstd, weight, gradX, gradWeight, gradBias); Stop(x, t0, "LayerNormBackward", "", gradX); }
        public void Im2Col(Tensor x, ConvGeometry geometry, Tensor columns) { var t0 = Start(x); B.Im2Col(x, geometry, columns); Stop(x, t0, "Im2Col", "", columns); }
        public void Col2Im(Tensor columns, ConvGeometry geometry, Tensor x) { var t0 = Start(x); B.Col2Im(columns, geometry, x); Stop(x, t0, "Col2Im", "", columns); }
        public void Conv2d(Tensor x, Tensor weight, Tensor? bias, ConvGeometry geometry, int groups, Tensor y) { var t0 = Start(x); B.Conv2d(x, weight, bias, geometry, groups, y); Stop(x, t0, "Conv2d", "", y); }
        public void Conv2dInputGrad(Tensor grad, Tensor weight, ConvGeometry geometry, int groups, Tensor gradInput) { var t0 = Start(grad); B.Conv2dInputGrad(grad, weight, geometry, groups, gradInput); Stop(grad, t0, "Conv2dInputGrad", "", gradInput); }
        public void Conv2dWeightGrad(Tensor grad, Tensor x, ConvGeometry geometry, int groups, Tensor gradWeight, Tensor? gradBias) { var t0 = Start(grad); B.Conv2dWeightGrad(grad, x, geometry, groups, gradWeight, gradBias); Stop(grad, t0, "Conv2dWeightGrad", "", gradWeight); }
        public void MixedBinary(BinaryOp op, Tensor a, Tensor b, Tensor result) { var t0 = Start(result); B.MixedBinary(op, a, b, result); Stop(result, t0, "MixedBinary", op.ToString(), result); }
        public void MaxPool2d(Tensor x, PoolGeometry geometry, Tensor result, Tensor? indices) { var t0 = Start(x); B.MaxPool2d(x, geometry, result, indices); Stop(x, t0, "MaxPool2d", "", x); }
        public void MaxPool2dBackward(Tensor grad, Tensor x, Tensor? indices, PoolGeometry geometry, Tensor gradInput) { var t0 = Start(grad); B.MaxPool2dBackward(grad, x, indices, geometry, gradInput); Stop(grad, t0, "MaxPool2dBackward", "", gradInput); }
        public void AvgPool2d(Tensor x, PoolGeometry geometry, bool countIncludePad, Tensor result) { var t0 = Start(x); B.AvgPool2d(x, geometry, countIncludePad, result); Stop(x, t0, "AvgPool2d", "", x); }
        public void AvgPool2dBackward(Tensor grad, PoolGeometry geometry, bool countIncludePad, Tensor gradInput) { var t0 = Start(grad); B.AvgPool2dBackward(grad, geometry, countIncludePad, gradInput); Stop(grad, t0, "AvgPool2dBackward", "", gradInput); }
        public void Attention(Tensor q, Tensor k, Tensor v, double scale, bool causal, Tensor probabilities, Tensor output) { var t0 = Start(q); B.Attention(q, k, v, scale, causal, probabilities, output); Stop(q, t0, "Attention", causal ? "causal" : "", probabilities); }
        public void AttentionBackward(Tensor grad, Tensor q, Tensor k, Tensor v, Tensor probabilities, double scale, bool causal, Tensor gradQ, Tensor gradK, Tensor gradV) { var t0 = Start(q); B.AttentionBackward(grad, q, k, v, probabilities, scale, causal, gradQ, gradK, gradV); Stop(q, t0, "AttentionBackward", causal ? "causal" : "", probabilities); }
        public void SgdStep(Tensor param, Tensor grad, Tensor? momentumBuffer, SgdStepArgs args) { var t0 = Start(param); B.SgdStep(param, grad, momentumBuffer, args); Stop(param, t0, "SgdStep", "", param); }
        public void AdamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor? maxExpAvgSq, AdamStepArgs args) { var t0 = Start(param); B.AdamStep(param, grad, expAvg, expAvgSq, maxExpAvgSq, args); Stop(param, t0, "AdamStep", "", param); }
        public bool PrefersForeachSteps(Device device) => B.PrefersForeachSteps(device);
        // The members below have composite defaults in IBackend: without these forwards a profiled step would run the
        // composites (more launches, other kernels) instead of the backend's own kernels.
        public bool MaxPool2dUsesIndices(Tensor x, PoolGeometry geometry) => ((IBackend)B).MaxPool2dUsesIndices(x, geometry);
        public long? CheckIndices(Tensor index, long size, long? skip, Tensor? count, IndexCheck check)
        {
            var t0 = Start(index); var r = B.CheckIndices(index, size, skip, count, check); Stop(index, t0, "CheckIndices", "", index); return r;
        }
        public void Linear(Tensor x, Tensor weight, Tensor bias, Tensor y) { var t0 = Start(x); ((IBackend)B).Linear(x, weight, bias, y); Stop(x, t0, "Linear", Fmt(x) + "x" + Fmt(weight) + " st" + Str(x) + Str(weight), y); }
        public void ColumnSum(Tensor g, Tensor result) { var t0 = Start(g); ((IBackend)B).ColumnSum(g, result); Stop(g, t0, "ColumnSum", "", g); }
        public void Argsort(Tensor keys, Tensor indices, bool descending) { var t0 = Start(keys); ((IBackend)B).Argsort(keys, indices, descending); Stop(keys, t0, "Argsort", "", keys); }
        public void NonFiniteCheckAndUnscale(IReadOnlyList<Tensor> grads, Tensor foundInf, double invScale)
        {
            var t0 = Start(foundInf); ((IBackend)B).NonFiniteCheckAndUnscale(grads, foundInf, invScale); Stop(foundInf, t0, "NonFiniteCheckAndUnscale", $"x{grads.Count}", foundInf);
        }
        public void SgdStepForeach(IReadOnlyList<Tensor> @params, IReadOnlyList<Tensor> grads, IReadOnlyList<Tensor>? momentumBuffers, SgdStepArgs args)
        {
            if (@params.Count == 0) { B.SgdStepForeach(@params, grads, momentumBuffers, args); return; }
            var t0 = Start(@params[0]); B.SgdStepForeach(@params, grads, momentumBuffers, args); Stop(@params[0], t0, "SgdStepForeach", $"x{@params.Count}", @params[0]);
        }
        public void AdamStepForeach(IReadOnlyList<Tensor> @params, IReadOnlyList<Tensor> grads, IReadOnlyList<Tensor> expAvgs, IReadOnlyList<Tensor> expAvgSqs, IReadOnlyList<Tensor>? maxExpAvgSqs, AdamStepArgs args)
        {
            if (@params.Count == 0) { B.AdamStepForeach(@params, grads, expAvgs, expAvgSqs, maxExpAvgSqs, args); return; }
            var t0 = Start(@params[0]); B.AdamStepForeach(@params, grads, expAvgs, expAvgSqs, maxExpAvgSqs, args); Stop(@params[0], t0, "AdamStepForeach", $"x{@params.Count}", @params[0]);
        }
    }
}
