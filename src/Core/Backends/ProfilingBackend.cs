using System.Diagnostics;
using System.Text;

namespace Ember;

/// <summary>
/// A diagnostic proxy over another backend: it forwards every <see cref="IBackend"/> call, synchronizing the device
/// before and after, and adds the elapsed wall time (and, for a GPU backend, the kernel launches counted meanwhile) to a
/// table keyed by member, op and result shape. Storages report the proxy as their backend while a profiler
/// (<see cref="Cpu.CpuProfiler"/>, <c>Ember.Ilgpu.IlgpuProfiler</c>) is enabled, so every op on them is timed.
/// </summary>
/// <remarks>
/// Synchronizing serializes a GPU stream, so profiled steps are slower than normal ones: the table says where the time
/// of a step goes, not how long a step takes. CPU calls are synchronous, so there the table adds up to the step minus
/// what ran outside the backend (autograd bookkeeping, the tensor layer's own loops). Calls nest where a member's
/// composite runs tensor ops on profiled tensors: a key's time includes its nested calls', and its launch count only
/// its own, so the launch column adds up. Calls from several threads at once are recorded, but their times overlap.
/// For benchmarks only.
/// </remarks>
public sealed class ProfilingBackend : IBackend
{
    private readonly IBackend b;
    private readonly Func<long> launches, poolRuns, poolThreads;
    private readonly bool pool;
    private readonly Dictionary<string, ProfiledOp> table = new();
    // Per thread: each open call's counts of the calls nested in it (so that a key counts only its own).
    private readonly ThreadLocal<Stack<Counts>> nested = new(() => new Stack<Counts>());
    private double outerSeconds;

    /// <summary>A proxy that times every call on <paramref name="inner"/>.</summary>
    /// <param name="inner">The backend that runs the calls.</param>
    /// <param name="launches">A running count of kernel launches (null: the backend launches none, the column stays 0).</param>
    /// <param name="poolRuns">A running count of the CPU pool's parallel runs (null: no pool columns in the report).</param>
    /// <param name="poolThreads">A running sum of the threads those runs were given, the caller included.</param>
    /// <exception cref="ArgumentNullException"><paramref name="inner"/> is null.</exception>
    public ProfilingBackend(IBackend inner, Func<long>? launches = null, Func<long>? poolRuns = null, Func<long>? poolThreads = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        b = inner;
        this.launches = launches ?? (() => 0);
        pool = poolRuns is not null;
        this.poolRuns = poolRuns ?? (() => 0);
        this.poolThreads = poolThreads ?? (() => 0);
    }

    /// <summary>The backend whose calls are timed.</summary>
    public IBackend Inner => b;

    /// <summary>Clears the table.</summary>
    public void Reset() { lock (table) { table.Clear(); outerSeconds = 0; } }

    /// <summary>Total seconds recorded by calls that no other recorded call encloses (the calls' own share of a step).</summary>
    public double OuterSeconds { get { lock (table) return outerSeconds; } }

    /// <summary>
    /// The table as text: one line per key with calls, kernel launches (or, for a CPU pool, its parallel runs and the
    /// threads per run) and milliseconds per step (totals divided by <paramref name="steps"/>), largest first, then the
    /// total of the outermost calls. A CPU op with no pool runs ran on one thread.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is less than 1.</exception>
    public string Report(int steps, int top = 40)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        var sb = new StringBuilder();
        lock (table)
        {
            long calls = table.Values.Sum(v => v.Count) / steps;
            string Middle(ProfiledOp v) => pool
                ? $"{v.PoolRuns / (double)steps,10:F1} {(v.PoolRuns > 0 ? v.PoolThreads / (double)v.PoolRuns : 1),11:F1}"
                : $"{v.Launches / (double)steps,13:F1}";
            sb.AppendLine(pool
                ? $"  {"op",-60} {"calls/step",10} {"runs/step",10} {"threads/run",11} {"ms/step",9}"
                : $"  {"op",-60} {"calls/step",10} {"launches/step",13} {"ms/step",9}");
            foreach (var (k, v) in table.OrderByDescending(kv => kv.Value.Seconds).Take(top))
                sb.AppendLine($"  {k,-60} {v.Count / (double)steps,10:F1} {Middle(v)} {v.Seconds / steps * 1e3,9:F3}");
            var all = new ProfiledOp(calls, outerSeconds, table.Values.Sum(v => v.Launches), table.Values.Sum(v => v.PoolRuns),
                table.Values.Sum(v => v.PoolThreads));
            sb.AppendLine($"  {"total (synchronized)",-60} {calls,10} {Middle(all)} {outerSeconds / steps * 1e3,9:F3}");
        }
        return sb.ToString();
    }

    /// <summary>
    /// The table's keys by kernel launches per step, most first (launches of a fused member include those of the
    /// kernels it runs; copies between host and device are not launches), with calls per step.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is less than 1.</exception>
    public string LaunchReport(int steps, int top = 40)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        var sb = new StringBuilder();
        lock (table)
        {
            sb.AppendLine($"  {"op",-60} {"calls/step",10} {"launches/step",13}");
            foreach (var (k, v) in table.Where(kv => kv.Value.Launches > 0).OrderByDescending(kv => kv.Value.Launches).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(top))
                sb.AppendLine($"  {k,-60} {v.Count / (double)steps,10:F1} {v.Launches / (double)steps,13:F1}");
            sb.AppendLine($"  {"total",-60} {table.Values.Sum(v => v.Count) / (double)steps,10:F1} {table.Values.Sum(v => v.Launches) / (double)steps,13:F1}");
        }
        return sb.ToString();
    }

    /// <summary>Per-key totals since the last <see cref="Reset"/>, for tests and tools.</summary>
    public IReadOnlyDictionary<string, ProfiledOp> Entries
    {
        get { lock (table) return new Dictionary<string, ProfiledOp>(table); }
    }

    /// <summary>Running counts at a call's start (launches, pool runs, pool threads), or the nested calls' totals.</summary>
    private readonly record struct Counts(long Launches, long Runs, long Threads)
    {
        public static Counts operator +(Counts a, Counts c) => new(a.Launches + c.Launches, a.Runs + c.Runs, a.Threads + c.Threads);
        public static Counts operator -(Counts a, Counts c) => new(a.Launches - c.Launches, a.Runs - c.Runs, a.Threads - c.Threads);
    }

    /// <summary>When a profiled call started: the stopwatch timestamp and the running counts.</summary>
    private readonly record struct Mark(long Timestamp, Counts At);

    private Counts Now() => new(launches(), poolRuns(), poolThreads());

    private static string Fmt(Tensor t) => $"[{string.Join(",", t.ShapeSpan.ToArray())}]";
    private static string Str(Tensor t) => $"({string.Join(",", t.StridesSpan.ToArray())})";

    private Mark Start(Tensor t)
    {
        b.Synchronize(t.Device);
        nested.Value!.Push(default);
        return new Mark(Stopwatch.GetTimestamp(), Now());
    }

    private void Stop(Tensor t, Mark start, string name, string detail, Tensor shaped)
    {
        b.Synchronize(t.Device);
        double seconds = Stopwatch.GetElapsedTime(start.Timestamp).TotalSeconds;
        var stack = nested.Value!;
        Counts all = Now() - start.At, own = all - stack.Pop();
        bool outer = stack.Count == 0;
        if (!outer) stack.Push(stack.Pop() + all);
        string key = $"{name} {detail} {Fmt(shaped)}";
        lock (table)
        {
            table.TryGetValue(key, out var v);
            table[key] = new ProfiledOp(v.Count + 1, v.Seconds + seconds, v.Launches + own.Launches, v.PoolRuns + own.Runs, v.PoolThreads + own.Threads);
            if (outer) outerSeconds += seconds;
        }
    }

    /// <inheritdoc/>
    public string Name => b.Name;
    /// <inheritdoc/>
    public bool Supports(Device device) => b.Supports(device);
    /// <inheritdoc/>
    public IReadOnlyList<Device> Devices => b.Devices;
    /// <inheritdoc/>
    public Storage Allocate(Device device, DType dtype, long length) => b.Allocate(device, dtype, length);
    /// <inheritdoc/>
    public void CopyFromHost(ReadOnlySpan<byte> source, Storage destination, long elementOffset) => b.CopyFromHost(source, destination, elementOffset);
    /// <inheritdoc/>
    public void CopyToHost(Storage source, long elementOffset, Span<byte> destination) => b.CopyToHost(source, elementOffset, destination);
    /// <inheritdoc/>
    public void Synchronize(Device device) => b.Synchronize(device);
    /// <inheritdoc/>
    public void Copy(Tensor source, Tensor destination) { var t0 = Start(source); b.Copy(source, destination); Stop(source, t0, "Copy", "", destination); }
    /// <inheritdoc/>
    public void Fill(Tensor destination, double value) { var t0 = Start(destination); b.Fill(destination, value); Stop(destination, t0, "Fill", "", destination); }
    /// <inheritdoc/>
    public void Unary(UnaryOp op, Tensor x, Tensor result, double alpha = 0, double beta = 0) { var t0 = Start(x); b.Unary(op, x, result, alpha, beta); Stop(x, t0, "Unary", op.ToString(), result); }
    /// <inheritdoc/>
    public void Binary(BinaryOp op, Tensor a, Tensor b2, Tensor result) { var t0 = Start(a); b.Binary(op, a, b2, result); Stop(a, t0, "Binary", op.ToString(), result); }
    /// <inheritdoc/>
    public void Where(Tensor condition, Tensor a, Tensor b2, Tensor result) { var t0 = Start(a); b.Where(condition, a, b2, result); Stop(a, t0, "Where", "", result); }
    /// <inheritdoc/>
    public void Reduce(ReduceOp op, Tensor x, Tensor values, Tensor? indices) { var t0 = Start(x); b.Reduce(op, x, values, indices); Stop(x, t0, "Reduce", op.ToString() + " st" + Str(x), x); }
    /// <inheritdoc/>
    public void MatMul(Tensor a, Tensor b2, Tensor c, bool accumulate = false) { var t0 = Start(a); b.MatMul(a, b2, c, accumulate); Stop(a, t0, "MatMul", Fmt(a) + "x" + Fmt(b2) + " st" + Str(a) + Str(b2), c); }
    /// <inheritdoc/>
    public void Gather(Tensor x, int dim, Tensor index, Tensor result) { var t0 = Start(x); b.Gather(x, dim, index, result); Stop(x, t0, "Gather", "", result); }
    /// <inheritdoc/>
    public void Scatter(Tensor target, int dim, Tensor index, Tensor source, bool accumulate) { var t0 = Start(target); b.Scatter(target, dim, index, source, accumulate); Stop(target, t0, "Scatter", "", source); }
    /// <inheritdoc/>
    public void IndexSelect(Tensor x, int dim, Tensor index, Tensor result) { var t0 = Start(x); b.IndexSelect(x, dim, index, result); Stop(x, t0, "IndexSelect", "", result); }
    /// <inheritdoc/>
    public void IndexAdd(Tensor target, int dim, Tensor index, Tensor source, double alpha) { var t0 = Start(target); b.IndexAdd(target, dim, index, source, alpha); Stop(target, t0, "IndexAdd", "", source); }
    /// <inheritdoc/>
    public void Triangular(Tensor x, Tensor result, long diagonal, bool upper) { var t0 = Start(x); b.Triangular(x, result, diagonal, upper); Stop(x, t0, "Triangular", "", result); }
    /// <inheritdoc/>
    public void Random(RandomDistribution distribution, Tensor destination, ulong seed, ulong offset, double a, double b2) { var t0 = Start(destination); b.Random(distribution, destination, seed, offset, a, b2); Stop(destination, t0, "Random", distribution.ToString(), destination); }

    // The fused members have composite defaults in IBackend: each is forwarded through the interface, so the inner
    // backend's own kernel runs where it has one (without the forward a profiled step would run the composite instead).

    /// <inheritdoc/>
    public void Softmax(Tensor x, Tensor result, bool log) { var t0 = Start(x); b.Softmax(x, result, log); Stop(x, t0, "Softmax", "", result); }
    /// <inheritdoc/>
    public void SoftmaxBackward(Tensor grad, Tensor output, Tensor result, bool log) { var t0 = Start(grad); b.SoftmaxBackward(grad, output, result, log); Stop(grad, t0, "SoftmaxBackward", "", result); }
    /// <inheritdoc/>
    public void CrossEntropy(Tensor x, Tensor target, Tensor? weight, CrossEntropyArgs args, Tensor loss, Tensor logSumExp) { var t0 = Start(x); b.CrossEntropy(x, target, weight, args, loss, logSumExp); Stop(x, t0, "CrossEntropy", "", loss); }
    /// <inheritdoc/>
    public void CrossEntropyBackward(Tensor grad, Tensor x, Tensor target, Tensor? weight, CrossEntropyArgs args, Tensor logSumExp, Tensor gradX) { var t0 = Start(x); b.CrossEntropyBackward(grad, x, target, weight, args, logSumExp, gradX); Stop(x, t0, "CrossEntropyBackward", "", gradX); }
    /// <inheritdoc/>
    public void BatchNorm(Tensor x, Tensor? weight, Tensor? bias, double eps, Tensor y, Tensor mean, Tensor variance, Tensor rstd) { var t0 = Start(x); b.BatchNorm(x, weight, bias, eps, y, mean, variance, rstd); Stop(x, t0, "BatchNorm", "", y); }
    /// <inheritdoc/>
    public void BatchNormBackward(Tensor grad, Tensor x, Tensor? weight, Tensor mean, Tensor rstd, Tensor? gradX, Tensor? gradWeight, Tensor? gradBias) { var t0 = Start(x); b.BatchNormBackward(grad, x, weight, mean, rstd, gradX, gradWeight, gradBias); Stop(x, t0, "BatchNormBackward", "", grad); }
    /// <inheritdoc/>
    public void BatchNormUpdateStats(Tensor mean, Tensor variance, long count, double? momentum, Tensor runningMean, Tensor runningVar, Tensor? numBatchesTracked) { var t0 = Start(runningMean); b.BatchNormUpdateStats(mean, variance, count, momentum, runningMean, runningVar, numBatchesTracked); Stop(runningMean, t0, "BatchNormUpdateStats", "", runningMean); }
    /// <inheritdoc/>
    public void LayerNorm(Tensor x, Tensor? weight, Tensor? bias, double eps, Tensor y, Tensor mean, Tensor rstd) { var t0 = Start(x); b.LayerNorm(x, weight, bias, eps, y, mean, rstd); Stop(x, t0, "LayerNorm", "", y); }
    /// <inheritdoc/>
    public void LayerNormBackward(Tensor grad, Tensor x, Tensor mean, Tensor rstd, Tensor? weight, Tensor gradX, Tensor? gradWeight, Tensor? gradBias) { var t0 = Start(x); b.LayerNormBackward(grad, x, mean, rstd, weight, gradX, gradWeight, gradBias); Stop(x, t0, "LayerNormBackward", "", gradX); }
    /// <inheritdoc/>
    public void Im2Col(Tensor x, ConvGeometry geometry, Tensor columns) { var t0 = Start(x); b.Im2Col(x, geometry, columns); Stop(x, t0, "Im2Col", "", columns); }
    /// <inheritdoc/>
    public void Col2Im(Tensor columns, ConvGeometry geometry, Tensor x) { var t0 = Start(x); b.Col2Im(columns, geometry, x); Stop(x, t0, "Col2Im", "", columns); }
    /// <inheritdoc/>
    public void Conv2d(Tensor x, Tensor weight, Tensor? bias, ConvGeometry geometry, int groups, Tensor y) { var t0 = Start(x); b.Conv2d(x, weight, bias, geometry, groups, y); Stop(x, t0, "Conv2d", "", y); }
    /// <inheritdoc/>
    public void Conv2dInputGrad(Tensor grad, Tensor weight, ConvGeometry geometry, int groups, Tensor gradInput) { var t0 = Start(grad); b.Conv2dInputGrad(grad, weight, geometry, groups, gradInput); Stop(grad, t0, "Conv2dInputGrad", "", gradInput); }
    /// <inheritdoc/>
    public void Conv2dWeightGrad(Tensor grad, Tensor x, ConvGeometry geometry, int groups, Tensor gradWeight, Tensor? gradBias) { var t0 = Start(grad); b.Conv2dWeightGrad(grad, x, geometry, groups, gradWeight, gradBias); Stop(grad, t0, "Conv2dWeightGrad", "", gradWeight); }
    /// <inheritdoc/>
    public void MixedBinary(BinaryOp op, Tensor a, Tensor b2, Tensor result) { var t0 = Start(result); b.MixedBinary(op, a, b2, result); Stop(result, t0, "MixedBinary", op.ToString(), result); }
    /// <inheritdoc/>
    public bool MaxPool2dUsesIndices(Tensor x, PoolGeometry geometry) => b.MaxPool2dUsesIndices(x, geometry);
    /// <inheritdoc/>
    public void MaxPool2d(Tensor x, PoolGeometry geometry, Tensor result, Tensor? indices) { var t0 = Start(x); b.MaxPool2d(x, geometry, result, indices); Stop(x, t0, "MaxPool2d", "", x); }
    /// <inheritdoc/>
    public void MaxPool2dBackward(Tensor grad, Tensor x, Tensor? indices, PoolGeometry geometry, Tensor gradInput) { var t0 = Start(grad); b.MaxPool2dBackward(grad, x, indices, geometry, gradInput); Stop(grad, t0, "MaxPool2dBackward", "", gradInput); }
    /// <inheritdoc/>
    public void AvgPool2d(Tensor x, PoolGeometry geometry, bool countIncludePad, Tensor result) { var t0 = Start(x); b.AvgPool2d(x, geometry, countIncludePad, result); Stop(x, t0, "AvgPool2d", "", x); }
    /// <inheritdoc/>
    public void AvgPool2dBackward(Tensor grad, PoolGeometry geometry, bool countIncludePad, Tensor gradInput) { var t0 = Start(grad); b.AvgPool2dBackward(grad, geometry, countIncludePad, gradInput); Stop(grad, t0, "AvgPool2dBackward", "", gradInput); }
    /// <inheritdoc/>
    public void Attention(Tensor q, Tensor k, Tensor v, double scale, bool causal, Tensor probabilities, Tensor output) { var t0 = Start(q); b.Attention(q, k, v, scale, causal, probabilities, output); Stop(q, t0, "Attention", causal ? "causal" : "", probabilities); }
    /// <inheritdoc/>
    public void AttentionBackward(Tensor grad, Tensor q, Tensor k, Tensor v, Tensor probabilities, double scale, bool causal, Tensor gradQ, Tensor gradK, Tensor gradV) { var t0 = Start(q); b.AttentionBackward(grad, q, k, v, probabilities, scale, causal, gradQ, gradK, gradV); Stop(q, t0, "AttentionBackward", causal ? "causal" : "", probabilities); }
    /// <inheritdoc/>
    public void SgdStep(Tensor param, Tensor grad, Tensor? momentumBuffer, SgdStepArgs args) { var t0 = Start(param); b.SgdStep(param, grad, momentumBuffer, args); Stop(param, t0, "SgdStep", "", param); }
    /// <inheritdoc/>
    public void AdamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor? maxExpAvgSq, AdamStepArgs args) { var t0 = Start(param); b.AdamStep(param, grad, expAvg, expAvgSq, maxExpAvgSq, args); Stop(param, t0, "AdamStep", "", param); }
    /// <inheritdoc/>
    public bool PrefersForeachSteps(Device device) => b.PrefersForeachSteps(device);
    /// <inheritdoc/>
    public long? CheckIndices(Tensor index, long size, long? skip, Tensor? count, IndexCheck check)
    {
        var t0 = Start(index); var r = b.CheckIndices(index, size, skip, count, check); Stop(index, t0, "CheckIndices", "", index); return r;
    }
    /// <inheritdoc/>
    public void Linear(Tensor x, Tensor weight, Tensor bias, Tensor y) { var t0 = Start(x); b.Linear(x, weight, bias, y); Stop(x, t0, "Linear", Fmt(x) + "x" + Fmt(weight) + " st" + Str(x) + Str(weight), y); }
    /// <inheritdoc/>
    public void ColumnSum(Tensor g, Tensor result) { var t0 = Start(g); b.ColumnSum(g, result); Stop(g, t0, "ColumnSum", "", g); }
    /// <inheritdoc/>
    public void Argsort(Tensor keys, Tensor indices, bool descending) { var t0 = Start(keys); b.Argsort(keys, indices, descending); Stop(keys, t0, "Argsort", "", keys); }
    /// <inheritdoc/>
    public void NonFiniteCheckAndUnscale(IReadOnlyList<Tensor> grads, Tensor foundInf, double invScale)
    {
        var t0 = Start(foundInf); b.NonFiniteCheckAndUnscale(grads, foundInf, invScale); Stop(foundInf, t0, "NonFiniteCheckAndUnscale", $"x{grads.Count}", foundInf);
    }
    /// <inheritdoc/>
    public void SgdStepForeach(IReadOnlyList<Tensor> @params, IReadOnlyList<Tensor> grads, IReadOnlyList<Tensor>? momentumBuffers, SgdStepArgs args)
    {
        if (@params.Count == 0) { b.SgdStepForeach(@params, grads, momentumBuffers, args); return; }
        var t0 = Start(@params[0]); b.SgdStepForeach(@params, grads, momentumBuffers, args); Stop(@params[0], t0, "SgdStepForeach", $"x{@params.Count}", @params[0]);
    }
    /// <inheritdoc/>
    public void AdamStepForeach(IReadOnlyList<Tensor> @params, IReadOnlyList<Tensor> grads, IReadOnlyList<Tensor> expAvgs, IReadOnlyList<Tensor> expAvgSqs, IReadOnlyList<Tensor>? maxExpAvgSqs, AdamStepArgs args)
    {
        if (@params.Count == 0) { b.AdamStepForeach(@params, grads, expAvgs, expAvgSqs, maxExpAvgSqs, args); return; }
        var t0 = Start(@params[0]); b.AdamStepForeach(@params, grads, expAvgs, expAvgSqs, maxExpAvgSqs, args); Stop(@params[0], t0, "AdamStepForeach", $"x{@params.Count}", @params[0]);
    }
}

/// <summary>
/// One key of a <see cref="ProfilingBackend"/> table: calls, seconds (nested calls included), and the call's own kernel
/// launches (GPU) or CPU pool runs and the threads those runs were given (<see cref="PoolThreads"/> / <see cref="PoolRuns"/>
/// is the op's parallel width; 0 runs: one thread).
/// </summary>
/// <param name="Count">Calls recorded.</param>
/// <param name="Seconds">Wall time of those calls, nested calls included.</param>
/// <param name="Launches">Kernel launches the calls made themselves (not their nested calls).</param>
/// <param name="PoolRuns">CPU pool runs (parallel loops of more than one piece) the calls made themselves.</param>
/// <param name="PoolThreads">Threads those runs were given, the caller included.</param>
public readonly record struct ProfiledOp(long Count, double Seconds, long Launches, long PoolRuns, long PoolThreads);
