using Ember;
using Ember.NN;
using Ember.Optim;

namespace DistributedWorker;

/// <summary>
/// DistributedDataParallel against one process trained on the concatenated batch: N ranks with batch b each must
/// reach the reference's parameters (float64, 1e-10) and hold bitwise identical parameters.
/// </summary>
public static class DdpCases
{
    private const int In = 6, Out = 3, Local = 4;

    private static Sequential Mlp(ulong seed)
    {
        Tensor.ManualSeed(seed);
        return new Sequential(new Linear(In, 16, dtype: DType.Float64), new Tanh(), new Linear(16, 16, dtype: DType.Float64), new Tanh(),
            new Linear(16, Out, dtype: DType.Float64));
    }

    /// <summary>The global batch of a step: [n·Local, In] inputs and [n·Local, Out] targets, the same on every rank.</summary>
    private static (Tensor X, Tensor Y) Batch(int step, int n)
    {
        var g = new Generator(1000 + (ulong)step);
        var x = Tensor.Empty([n * Local, In], DType.Float64).Normal_(0, 1, g);
        var y = Tensor.Empty([n * Local, Out], DType.Float64).Normal_(0, 1, g);
        return (x, y);
    }

    private static Tensor Rows(Tensor t, int rank) => t.Narrow(0, rank * Local, Local);

    /// <summary>
    /// Steps the DDP replica on this rank's rows of each batch and the single-process reference on the whole batch
    /// (the concatenation of every rank's rows), with the same MSE loss.
    /// </summary>
    private static void TrainSideBySide(Module<Tensor, Tensor> ddp, Optimizer o1, Module<Tensor, Tensor> reference, Optimizer o2, int steps, int n, int me)
    {
        for (int step = 0; step < steps; step++)
        {
            var (x, y) = Batch(step, n);
            o1.ZeroGrad();
            Functional.MseLoss(ddp.Forward(Rows(x, me)), Rows(y, me)).Backward();
            o1.Step();
            o2.ZeroGrad();
            Functional.MseLoss(reference.Forward(x), y).Backward();
            o2.Step();
        }
    }

    public static void Run(CaseRunner run, ProcessGroup g)
    {
        foreach (string opt in new[] { "SGD", "AdamW" })
            foreach (double cap in new[] { 25.0, 0.0005 })
                run.Case($"Equivalence.{opt}.cap{cap}", () => Equivalence(g, opt, cap));
        run.Case("NoSync", () => NoSync(g));
        run.Case("FindUnusedParameters", () => FindUnused(g));
        run.Case("UnusedParameterWithoutFindUnusedFailsNextForward", () => UnusedWithoutFind(g));
        run.Case("SyncBatchNorm", () => SyncBn(g));
    }

    private static Optimizer MakeOptimizer(string name, IEnumerable<Tensor> ps) =>
        name == "SGD" ? new SGD(ps, lr: 0.05, momentum: 0.9) : new AdamW(ps, lr: 0.01, weightDecay: 0.01);

    private static void Equivalence(ProcessGroup g, string opt, double capMb)
    {
        int n = g.Size, me = g.Rank;
        // Each rank initializes differently: DDP must broadcast rank 0's parameters.
        var ddp = new DistributedDataParallel(Mlp(7 + (ulong)me), g, bucketCapMb: capMb);
        var reference = Mlp(7);
        if (capMb < 1 && ddp.BucketCount < 3) throw new Exception($"expected several buckets, got {ddp.BucketCount}");
        if (capMb >= 1 && ddp.BucketCount != 1) throw new Exception($"expected one bucket, got {ddp.BucketCount}");
        if (ddp.BucketParameterNames[0][0] != "4.bias") throw new Exception($"bucket 0 should start with the last parameter, got {ddp.BucketParameterNames[0][0]}");
        var o1 = MakeOptimizer(opt, ddp.Parameters());
        var o2 = MakeOptimizer(opt, reference.Parameters());
        TrainSideBySide(ddp, o1, reference, o2, steps: 20, n, me);
        CompareToReference(ddp, reference, 1e-10);
        CheckIdenticalAcrossRanks(g, ddp);
        if (!ddp.StateDict().Keys.SequenceEqual(reference.StateDict().Keys))
            throw new Exception($"state dict keys {string.Join(",", ddp.StateDict().Keys)} differ from the plain model's");
    }

    private static void NoSync(ProcessGroup g)
    {
        int n = g.Size, me = g.Rank;
        var ddp = new DistributedDataParallel(Mlp(3), g, bucketCapMb: 0.001);
        var reference = Mlp(3);
        var (x0, y0) = Batch(0, n);
        var (x1, y1) = Batch(1, n);
        using (ddp.NoSync()) Functional.MseLoss(ddp.Forward(Rows(x0, me)), Rows(y0, me)).Backward();
        // Inside NoSync nothing is averaged: the gradient is this rank's own.
        Functional.MseLoss(ddp.Forward(Rows(x1, me)), Rows(y1, me)).Backward();
        Functional.MseLoss(reference.Forward(x0), y0).Backward();
        Functional.MseLoss(reference.Forward(x1), y1).Backward();
        CompareGrads(ddp, reference, 1e-12);
    }

    /// <summary>headB is used only on rank 0, never.weight on no rank.</summary>
    private sealed class TwoHeads : Module<Tensor, Tensor>
    {
        public bool UseB;
        public TwoHeads()
        {
            Tensor.ManualSeed(11);
            RegisterModule("trunk", new Linear(In, 8, dtype: DType.Float64));
            RegisterModule("headA", new Linear(8, Out, dtype: DType.Float64));
            RegisterModule("headB", new Linear(8, Out, dtype: DType.Float64));
            RegisterModule("never", new Linear(8, Out, bias: false, dtype: DType.Float64));
        }
        private Linear L(string name) => (Linear)GetModule(name)!;
        public override Tensor Forward(Tensor x)
        {
            var h = L("trunk").Forward(x).Tanh();
            var y = L("headA").Forward(h);
            return UseB ? y + L("headB").Forward(h) : y;
        }
    }

    private static void FindUnused(ProcessGroup g)
    {
        int n = g.Size, me = g.Rank;
        var model = new TwoHeads { UseB = me == 0 };
        var ddp = new DistributedDataParallel(model, g, bucketCapMb: 0.0005, findUnusedParameters: true);
        var reference = new TwoHeads();
        var (x, y) = Batch(0, n);
        for (int iteration = 0; iteration < 2; iteration++)   // the second forward must not complain
        {
            ddp.ZeroGrad();
            Functional.MseLoss(ddp.Forward(Rows(x, me)), Rows(y, me)).Backward();
        }
        // Reference: the average over ranks of each rank's loss, with rank 0's extra head.
        Tensor total = Tensor.Zeros([], DType.Float64);
        for (int r = 0; r < n; r++)
        {
            reference.UseB = r == 0;
            total = total + Functional.MseLoss(reference.Forward(Rows(x, r)), Rows(y, r));
        }
        (total / n).Backward();
        CompareGrads(ddp, reference, 1e-12, skip: "never.weight");
        if (model.GetModule("never")!.GetParameter("weight")!.Grad is not null) throw new Exception("a parameter unused on every rank must keep a null gradient");
        CheckIdenticalAcrossRanks(g, ddp, grads: true);
    }

    private static void UnusedWithoutFind(ProcessGroup g)
    {
        var ddp = new DistributedDataParallel(new TwoHeads { UseB = true }, g, bucketCapMb: 25);
        var (x, y) = Batch(0, g.Size);
        Functional.MseLoss(ddp.Forward(Rows(x, g.Rank)), Rows(y, g.Rank)).Backward();
        CaseRunner.Throws<InvalidOperationException>(() => ddp.Forward(Rows(x, g.Rank)), "never.weight");
    }

    private static Sequential BnNet()
    {
        Tensor.ManualSeed(5);
        return new Sequential(new Linear(In, 8, dtype: DType.Float64), new BatchNorm1d(8, dtype: DType.Float64), new Tanh(),
            new Linear(8, Out, dtype: DType.Float64));
    }

    private static void SyncBn(ProcessGroup g)
    {
        int n = g.Size, me = g.Rank;
        var model = (Sequential)SyncBatchNorm.ConvertSyncBatchNorm(BnNet());
        if (model[1] is not SyncBatchNorm) throw new Exception("ConvertSyncBatchNorm did not replace the BatchNorm1d");
        var ddp = new DistributedDataParallel(model, g);
        var reference = BnNet();
        var o1 = new SGD(ddp.Parameters(), lr: 0.1, momentum: 0.9);
        var o2 = new SGD(reference.Parameters(), lr: 0.1, momentum: 0.9);
        TrainSideBySide(ddp, o1, reference, o2, steps: 5, n, me);
        CompareToReference(ddp, reference, 1e-10);
        CheckIdenticalAcrossRanks(g, ddp);
    }

    // ---- comparisons --------------------------------------------------------------------------------------

    private static void CompareToReference(Module ddp, Module reference, double tol)
    {
        var r = reference.StateDict();
        foreach (var (k, v) in ddp.StateDict())
        {
            if (v.DType != DType.Float64) continue;
            CaseRunner.Equal(r[k].ToArray<double>(), v.ToArray<double>(), k, tol);
        }
    }

    private static void CompareGrads(Module ddp, Module reference, double tol, string? skip = null)
    {
        var r = reference.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        foreach (var (k, p) in ddp.NamedParameters())
        {
            if (k == skip) continue;
            if (p.Grad is null || r[k].Grad is null) throw new Exception($"{k}: missing gradient");
            CaseRunner.Equal(r[k].Grad!.ToArray<double>(), p.Grad.ToArray<double>(), k + ".grad", tol);
        }
    }

    /// <summary>Every rank's parameters (or gradients) gathered and compared bit for bit with rank 0's.</summary>
    private static void CheckIdenticalAcrossRanks(ProcessGroup g, Module m, bool grads = false)
    {
        foreach (var (k, p) in m.NamedParameters())
        {
            var t = grads ? p.Grad : p.Detach();
            if (t is null) continue;
            var all = Enumerable.Range(0, g.Size).Select(_ => Tensor.ZerosLike(t)).ToList();
            g.AllGather(all, t);
            var bits0 = all[0].ToArray<double>().Select(BitConverter.DoubleToInt64Bits).ToArray();
            for (int r = 1; r < g.Size; r++)
                if (!all[r].ToArray<double>().Select(BitConverter.DoubleToInt64Bits).SequenceEqual(bits0))
                    throw new Exception($"{k}{(grads ? ".grad" : "")} differs between rank {r} and rank 0");
        }
    }
}
