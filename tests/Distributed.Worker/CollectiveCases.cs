using Ember;
using ReduceOp = Ember.Distributed.ReduceOp;

namespace DistributedWorker;

/// <summary>Every collective against the arithmetic it must produce, for float32/float64/int64, an odd size and a non-contiguous layout.</summary>
public static class CollectiveCases
{
    private static readonly DType[] DTypes = [DType.Float32, DType.Float64, DType.Int64];

    // Small integers (exact in every dtype, any summation order); products stay small.
    public static double Value(int rank, long i) => (i * 7 + rank * 3) % 11 - 5 + rank;
    private static double Factor(int rank, long i) => (i + rank) % 3 + 1;

    /// <summary>A tensor of shape [5, 7] stored transposed (non-contiguous), or a contiguous [1001].</summary>
    public static Tensor Make(DType dtype, bool nonContiguous, Func<long, double> f, Device? device = null)
    {
        var where = device ?? Device.Cpu;
        if (!nonContiguous)
            return Tensor.FromArray(Enumerable.Range(0, 1001).Select(i => f(i)).ToArray(), 1001).To(dtype).To(where);
        const int a = 5, b = 7;
        var data = new double[a * b];
        for (int i = 0; i < a; i++) for (int j = 0; j < b; j++) data[j * a + i] = f(i * b + j);
        var t = Tensor.FromArray(data, b, a).To(dtype).To(where).Transpose(0, 1);
        if (t.IsContiguous) throw new Exception("expected a non-contiguous tensor");
        return t;
    }

    public static double[] Values(Tensor t) => t.To(DType.Float64).ToArray<double>();

    private static double[] Expected(int size, long n, Func<int, long, double> f, Func<double, double, double> op) =>
        Enumerable.Range(0, (int)n).Select(i => Enumerable.Range(0, size).Select(r => f(r, i)).Aggregate(op)).ToArray();

    public static void Run(CaseRunner run, ProcessGroup g)
    {
        int n = g.Size, me = g.Rank;
        foreach (var dt in DTypes)
            foreach (bool nc in new[] { false, true })
            {
                string tag = $"{dt}/{(nc ? "noncontig" : "contig")}";
                long count = nc ? 35 : 1001;
                Tensor Mine(Func<int, long, double> f) => Make(dt, nc, i => f(me, i));

                foreach (var (op, fold) in new (ReduceOp, Func<double, double, double>)[]
                         { (ReduceOp.Sum, (x, y) => x + y), (ReduceOp.Max, Math.Max), (ReduceOp.Min, Math.Min) })
                    run.Case($"AllReduce.{op}.{tag}", () =>
                    {
                        var t = Mine(Value);
                        g.AllReduce(t, op);
                        CaseRunner.Equal(Expected(n, count, Value, fold), Values(t), "AllReduce");
                    });
                run.Case($"AllReduce.Product.{tag}", () =>
                {
                    var t = Mine(Factor);
                    g.AllReduce(t, ReduceOp.Product);
                    CaseRunner.Equal(Expected(n, count, Factor, (x, y) => x * y), Values(t), "AllReduce.Product");
                });
                if (dt != DType.Int64)
                    run.Case($"AllReduce.Avg.{tag}", () =>
                    {
                        var t = Mine(Value);
                        g.AllReduce(t, ReduceOp.Avg);
                        // Sum then divide in the tensor's precision, as the collective does.
                        var sum = Expected(n, count, Value, (x, y) => x + y);
                        var avg = dt == DType.Float32 ? sum.Select(s => (double)((float)s / n)).ToArray() : sum.Select(s => s / n).ToArray();
                        CaseRunner.Equal(avg, Values(t), "AllReduce.Avg");
                    });
                run.Case($"Broadcast.{tag}", () =>
                {
                    int src = n - 1;
                    var t = Mine(Value);
                    g.Broadcast(t, src);
                    CaseRunner.Equal(Values(Make(dt, nc, i => Value(src, i))), Values(t), "Broadcast");
                });
                run.Case($"AllGather.{tag}", () =>
                {
                    var outs = Enumerable.Range(0, n).Select(_ => Make(dt, nc, _ => -99)).ToList();
                    g.AllGather(outs, Mine(Value));
                    for (int r = 0; r < n; r++) CaseRunner.Equal(Values(Make(dt, nc, i => Value(r, i))), Values(outs[r]), $"AllGather[{r}]");
                });
                run.Case($"AllGatherIntoTensor.{tag}", () =>
                {
                    var output = Tensor.Zeros([n, count], dt);
                    g.AllGatherIntoTensor(output, Mine(Value));
                    var expected = Enumerable.Range(0, n).SelectMany(r => Values(Make(dt, nc, i => Value(r, i)))).ToArray();
                    CaseRunner.Equal(expected, Values(output), "AllGatherIntoTensor");
                });
                run.Case($"ReduceScatter.{tag}", () =>
                {
                    // inputs[k] of rank r holds Value(r, k·count + i); this rank receives Σ_r inputs[me] of rank r.
                    var inputs = Enumerable.Range(0, n).Select(k => Make(dt, nc, i => Value(me, k * count + i))).ToList();
                    var output = Make(dt, nc, _ => -99);
                    g.ReduceScatter(output, inputs);
                    var expected = Enumerable.Range(0, (int)count).Select(i => Enumerable.Range(0, n).Sum(r => Value(r, me * count + i))).ToArray();
                    CaseRunner.Equal(Values(Make(dt, nc, i => expected[i])), Values(output), "ReduceScatter");
                });
                run.Case($"ReduceScatterTensor.{tag}", () =>
                {
                    var input = Tensor.FromArray(Enumerable.Range(0, n * (int)count).Select(i => Value(me, i)).ToArray(), n * count).To(dt);
                    var output = Make(dt, nc, _ => -99);
                    g.ReduceScatterTensor(output, input, ReduceOp.Max);
                    var expected = Enumerable.Range(0, (int)count).Select(i => Enumerable.Range(0, n).Max(r => Value(r, me * count + i))).ToArray();
                    CaseRunner.Equal(expected, Values(output.Reshape(-1)), "ReduceScatterTensor");
                });
                run.Case($"Gather.{tag}", () =>
                {
                    int dst = 1 % n;
                    var list = me == dst ? Enumerable.Range(0, n).Select(_ => Make(dt, nc, _ => -99)).ToList() : null;
                    g.Gather(Mine(Value), list, dst);
                    if (list != null)
                        for (int r = 0; r < n; r++) CaseRunner.Equal(Values(Make(dt, nc, i => Value(r, i))), Values(list[r]), $"Gather[{r}]");
                });
                run.Case($"Scatter.{tag}", () =>
                {
                    int src = n - 1;
                    var list = me == src ? Enumerable.Range(0, n).Select(k => Make(dt, nc, i => Value(k, i) * 10)).ToList() : null;
                    var output = Make(dt, nc, _ => -99);
                    g.Scatter(output, list, src);
                    CaseRunner.Equal(Values(Make(dt, nc, i => Value(me, i) * 10)), Values(output), "Scatter");
                });
                run.Case($"SendRecv.{tag}", () =>
                {
                    int next = (me + 1) % n, prev = (me + n - 1) % n;
                    var sent = g.SendAsync(Mine(Value), next, tag: 5);
                    var received = Make(dt, nc, _ => -99);
                    g.Recv(received, prev, tag: 5);
                    sent.Wait();
                    CaseRunner.Equal(Values(Make(dt, nc, i => Value(prev, i))), Values(received), "Recv");
                });
                run.Case($"Async.{tag}", () =>
                {
                    var a = Mine(Value);
                    var b = Mine(Factor);
                    var wa = g.AllReduceAsync(a);
                    var wb = g.AllReduceAsync(b, ReduceOp.Max);
                    var wc = g.BroadcastAsync(Mine(Factor), 0);
                    wb.Wait();
                    wa.Wait();
                    wc.Wait();
                    if (!wa.IsCompleted || !wb.IsCompleted || !wc.IsCompleted) throw new Exception("IsCompleted is false after Wait");
                    CaseRunner.Equal(Expected(n, count, Value, (x, y) => x + y), Values(a), "AllReduceAsync");
                    CaseRunner.Equal(Expected(n, count, Factor, Math.Max), Values(b), "AllReduceAsync.Max");
                });
            }

        run.Case("AsyncAllGatherAndReduceScatter", () =>
        {
            var outs = Enumerable.Range(0, n).Select(_ => Tensor.Zeros(3)).ToList();
            var w1 = g.AllGatherAsync(outs, Tensor.Full([3], me + 1.0));
            var rs = Tensor.Zeros(2);
            var w2 = g.ReduceScatterTensorAsync(rs, Tensor.Full([2 * n], 1.0), ReduceOp.Sum);
            while (!w1.IsCompleted) Thread.Yield();
            w2.Wait();
            for (int r = 0; r < n; r++) CaseRunner.Equal([r + 1, r + 1, r + 1], Values(outs[r]), $"AllGatherAsync[{r}]");
            CaseRunner.Equal([n, n], Values(rs), "ReduceScatterTensorAsync");
        });
        run.Case("Subgroup", () =>
        {
            var ranks = new[] { n - 1, 0 };
            var sub = g.NewGroup(ranks);
            bool member = me == 0 || me == n - 1;
            if ((sub != null) != member) throw new Exception($"rank {me}: membership {sub != null}, expected {member}");
            if (sub == null) return;
            if (sub.Size != 2 || sub.Rank != (me == 0 ? 0 : 1)) throw new Exception($"subgroup rank {sub.Rank} of {sub.Size}");
            var t = Tensor.Full([4], me + 1.0, DType.Float64);
            sub.AllReduce(t);
            CaseRunner.Equal([n + 1, n + 1, n + 1, n + 1], Values(t), "subgroup AllReduce");
            var b = Tensor.Full([2], me * 1.0);
            sub.Broadcast(b, src: 1);   // group rank 1 is world rank n − 1
            CaseRunner.Equal([n - 1, n - 1], Values(b), "subgroup Broadcast");
            sub.Barrier();
            sub.Dispose();
        });
        run.Case("Barrier", () => { g.Barrier(); g.BarrierAsync().Wait(); });
        run.Case("Validation", () =>
        {
            // Rejected on this rank before any communication (no rank enters a collective here).
            CaseRunner.Throws<ArgumentException>(() => g.AllReduce(Tensor.Zeros([3], DType.Int64), ReduceOp.Avg), "ReduceOp.Avg is only supported for floating-point");
            CaseRunner.Throws<ArgumentException>(() => g.AllGather([Tensor.Zeros(3)], Tensor.Zeros(3)), "one tensor per rank");
            CaseRunner.Throws<ArgumentException>(() => g.Broadcast(Tensor.Zeros(3), n), "invalid src rank");
            CaseRunner.Throws<ArgumentException>(() => g.AllGatherIntoTensor(Tensor.Zeros(3 * n + 1), Tensor.Zeros(3)), "elements");
            CaseRunner.Throws<ArgumentException>(() => g.Send(Tensor.Zeros(3), me), "should not be the same as the rank of the current process");
            CaseRunner.Throws<ArgumentException>(() => g.AllReduce(Tensor.Zeros([3], DType.Bool)), "unsupported dtype Bool");
        });
    }
}
