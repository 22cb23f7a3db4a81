using Ember.Comm;

namespace Ember;

/// <summary>The collectives' implementation: validation, the debug-mode check, transport choice, buffers.</summary>
public sealed partial class ProcessGroup
{
    private const int MaxCount = int.MaxValue;

    /// <summary>AllReduce returning its handle, synchronous or not (DDP runs its last bucket synchronously).</summary>
    internal Work AllReduceWork(Tensor t, Distributed.ReduceOp op, bool async) => AllReduceCore(t, op, async);

    private Work AllReduceCore(Tensor t, Distributed.ReduceOp op, bool async)
    {
        const string name = "AllReduce";
        CheckTensor(name, t);
        CheckOp(name, op, t.DType);
        Consistency(name, t, op);
        var comm = Transport(t);   // after every check: creating an NCCL communicator is itself collective
        var buf = comm.Pin(t, copyIn: true);
        return Start(comm, op, () => comm.AllReduce(buf.Ptr, buf.Ptr, Count(t), t.DType, op, async), async, null, (buf, true));
    }

    private Work BroadcastCore(Tensor t, int src, bool async)
    {
        const string name = "Broadcast";
        CheckTensor(name, t);
        CheckRank(name, "src", src);
        Consistency(name, t, root: src);
        var comm = Transport(t);
        var buf = comm.Pin(t, copyIn: Rank == src);
        return Start(comm, null, () => comm.Broadcast(buf.Ptr, Count(t), t.DType, src, async), async, null, (buf, Rank != src));
    }

    private Work AllGatherCore(IList<Tensor> outputs, Tensor input, bool async)
    {
        const string name = "AllGather";
        CheckTensor(name, input);
        CheckList(name, "outputs", outputs, input);
        Consistency(name, input);
        var comm = Transport(input);
        var flat = Tensor.Empty([Size * input.Numel], input.DType, input.Device);
        var inBuf = comm.Pin(input, copyIn: true);
        var outBuf = comm.Pin(flat, copyIn: false);
        return Start(comm, null, () => comm.AllGather(inBuf.Ptr, outBuf.Ptr, Count(input), input.DType, async), async,
            () => Unflatten(flat, outputs), (inBuf, false), (outBuf, true));
    }

    private Work AllGatherIntoTensorCore(Tensor output, Tensor input, bool async)
    {
        const string name = "AllGatherIntoTensor";
        CheckTensor(name, input);
        CheckLike(name, "output", output, input, Size * input.Numel);
        Consistency(name, input);
        var comm = Transport(input);
        var inBuf = comm.Pin(input, copyIn: true);
        var outBuf = comm.Pin(output, copyIn: false);
        return Start(comm, null, () => comm.AllGather(inBuf.Ptr, outBuf.Ptr, Count(input), input.DType, async), async, null, (inBuf, false), (outBuf, true));
    }

    private Work ReduceScatterCore(Tensor output, IList<Tensor> inputs, Distributed.ReduceOp op, bool async)
    {
        const string name = "ReduceScatter";
        CheckTensor(name, output);
        CheckOp(name, op, output.DType);
        CheckList(name, "inputs", inputs, output);
        Consistency(name, output, op);
        var comm = Transport(output);
        var flat = Flatten(inputs);
        var inBuf = comm.Pin(flat, copyIn: true);
        var outBuf = comm.Pin(output, copyIn: false);
        return Start(comm, op, () => comm.ReduceScatter(inBuf.Ptr, outBuf.Ptr, Count(output), output.DType, op, async), async, null, (inBuf, false), (outBuf, true));
    }

    private Work ReduceScatterTensorCore(Tensor output, Tensor input, Distributed.ReduceOp op, bool async)
    {
        const string name = "ReduceScatterTensor";
        CheckTensor(name, output);
        CheckOp(name, op, output.DType);
        CheckLike(name, "input", input, output, Size * output.Numel);
        Consistency(name, output, op);
        var comm = Transport(output);
        var inBuf = comm.Pin(input, copyIn: true);
        var outBuf = comm.Pin(output, copyIn: false);
        return Start(comm, op, () => comm.ReduceScatter(inBuf.Ptr, outBuf.Ptr, Count(output), output.DType, op, async), async, null, (inBuf, false), (outBuf, true));
    }

    private Work GatherCore(Tensor input, IList<Tensor>? list, int dst, bool async)
    {
        const string name = "Gather";
        CheckTensor(name, input);
        CheckRank(name, "dst", dst);
        CheckRootList(name, "gatherList", list, input, dst);
        Consistency(name, input, root: dst);
        var comm = Transport(input);
        var flat = Rank == dst ? Tensor.Empty([Size * input.Numel], input.DType, input.Device) : null;
        var inBuf = comm.Pin(input, copyIn: true);
        var outBuf = flat is null ? null : comm.Pin(flat, copyIn: false);
        return Start(comm, null, () => comm.Gather(inBuf.Ptr, outBuf?.Ptr ?? 0, Count(input), input.DType, dst, async), async,
            () => { if (flat is not null) Unflatten(flat, list!); }, (inBuf, false), (outBuf, true));
    }

    private Work ScatterCore(Tensor output, IList<Tensor>? list, int src, bool async)
    {
        const string name = "Scatter";
        CheckTensor(name, output);
        CheckRank(name, "src", src);
        CheckRootList(name, "scatterList", list, output, src);
        Consistency(name, output, root: src);
        var comm = Transport(output);
        var inBuf = Rank == src ? comm.Pin(Flatten(list!), copyIn: true) : null;
        var outBuf = comm.Pin(output, copyIn: false);
        return Start(comm, null, () => comm.Scatter(inBuf?.Ptr ?? 0, outBuf.Ptr, Count(output), output.DType, src, async), async, null, (inBuf, false), (outBuf, true));
    }

    private Work BarrierCore(bool async)
    {
        Consistency("Barrier", null);
        return Start(host, null, () => host.Barrier(async), async, null);
    }

    private Work PointToPoint(string name, Tensor t, int peer, int tag, bool async)
    {
        CheckTensor(name, t);
        string what = name == "Send" ? "destination" : "source";
        CheckRank(name, name == "Send" ? "dst" : "src", peer);
        if (peer == Rank)
            throw new ArgumentException($"{name}: Invalid {what} rank: {what} rank should not be the same as the rank of the current process ({Rank}).");
        ArgumentOutOfRangeException.ThrowIfNegative(tag);
        var comm = Transport(t);
        bool send = name == "Send";
        var buf = comm.Pin(t, copyIn: send);
        return Start(comm, null, () => send ? comm.Send(buf.Ptr, Count(t), t.DType, peer, tag, async) : comm.Recv(buf.Ptr, Count(t), t.DType, peer, tag, async),
            async, null, (buf, !send));
    }

    // ---- running ----------------------------------------------------------------------------------------

    /// <summary>Calls the transport and returns a handle whose completion finishes every buffer (average, copy back, unpin) and runs <paramref name="then"/>.</summary>
    private static Work Start(Communicator comm, Distributed.ReduceOp? op, Func<Pending> call, bool async, Action? then,
        params (CommBuffer? Buffer, bool Written)[] buffers)
    {
        Pending pending;
        try { pending = call(); }
        catch
        {
            foreach (var (b, _) in buffers) b?.Release();
            throw;
        }
        int divisor = op == Distributed.ReduceOp.Avg && !comm.HasAvg ? comm.Size : 1;
        void Finish()
        {
            foreach (var (b, written) in buffers) b?.Finish(written, written ? divisor : 1);
            then?.Invoke();
        }
        if (!async)
        {
            pending.Wait();
            return Work.Completed(Finish);
        }
        return new Work(pending.Test, pending.Wait, Finish);
    }

    private static Tensor Flatten(IList<Tensor> list)
    {
        using var _ = Autograd.NoGrad();
        var flat = Tensor.Empty([list.Count * list[0].Numel], list[0].DType, list[0].Device);
        long n = list[0].Numel;
        for (int i = 0; i < list.Count; i++) flat.Narrow(0, i * n, n).Copy_(list[i].Detach().Reshape(n));
        return flat;
    }

    private static void Unflatten(Tensor flat, IList<Tensor> list)
    {
        using var _ = Autograd.NoGrad();
        long n = list[0].Numel;
        for (int i = 0; i < list.Count; i++) list[i].Copy_(flat.Narrow(0, i * n, n).View(list[i].Shape.ToArray()));
    }

    /// <summary>Checks what every collective needs of a tensor: dtype, size, and a device the backend serves.</summary>
    private void CheckTensor(string name, Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.DType is not (DType.Float32 or DType.Float64 or DType.Int32 or DType.Int64))
            throw new ArgumentException($"{name}: unsupported dtype {t.DType}; distributed collectives support float32, float64, int32 and int64 tensors.");
        if (t.Numel > MaxCount)
            throw new ArgumentException($"{name}: tensor of {t.Numel} elements exceeds the {MaxCount} elements one collective can carry; split it.");
        if (Backend == "nccl" && t.Device.Type != DeviceType.Cuda)
            throw new ArgumentException($"{name}: the nccl backend supports CUDA tensors only, got a tensor on {t.Device}; use backend \"auto\" or \"mpi\" for host tensors.");
    }

    /// <summary>The transport for a tensor's device: NCCL for CUDA tensors (backend "nccl"/"auto" under a launcher), else the host's.</summary>
    private Communicator Transport(Tensor t)
    {
        if (t.Device.Type != DeviceType.Cuda || Backend == "mpi" || host is LocalCommunicator) return host;
        lock (nccl)
        {
            if (!nccl.TryGetValue(t.Device.Index, out var c))
                nccl[t.Device.Index] = c = NcclCommunicator.Create(this, t);
            return c;
        }
    }

    private static int Count(Tensor t) => (int)t.Numel;

    private static void CheckOp(string name, Distributed.ReduceOp op, DType dtype)
    {
        if (!Enum.IsDefined(op)) throw new ArgumentOutOfRangeException(nameof(op), $"{name}: unknown Distributed.ReduceOp {(int)op}.");
        if (op == Distributed.ReduceOp.Avg && !dtype.IsFloatingPoint())
            throw new ArgumentException($"{name}: Distributed.ReduceOp.Avg is only supported for floating-point tensors, got {dtype}.");
    }

    private void CheckRank(string name, string arg, int rank)
    {
        if (rank < 0 || rank >= Size)
            throw new ArgumentException($"{name}: invalid {arg} rank {rank}; the group has ranks 0 to {Size - 1}.", arg);
    }

    private static void CheckLike(string name, string arg, Tensor t, Tensor reference, long numel)
    {
        ArgumentNullException.ThrowIfNull(t, arg);
        if (t.DType != reference.DType || t.Device != reference.Device || t.Numel != numel)
            throw new ArgumentException(
                $"{name}: {arg} must be a {reference.DType} tensor on {reference.Device} with {numel} elements, got {t.DType} {t.Shape} on {t.Device}.", arg);
    }

    private void CheckList(string name, string arg, IList<Tensor>? list, Tensor reference)
    {
        ArgumentNullException.ThrowIfNull(list, arg);
        if (list.Count != Size)
            throw new ArgumentException($"{name}: {arg} must hold one tensor per rank ({Size}), got {list.Count}.", arg);
        for (int i = 0; i < list.Count; i++)
        {
            var t = list[i] ?? throw new ArgumentNullException(arg, $"{name}: {arg}[{i}] is null.");
            if (t.Shape != reference.Shape || t.DType != reference.DType || t.Device != reference.Device)
                throw new ArgumentException(
                    $"{name}: {arg}[{i}] is {t.DType} {t.Shape} on {t.Device}, expected {reference.DType} {reference.Shape} on {reference.Device}.", arg);
        }
    }

    private void CheckRootList(string name, string arg, IList<Tensor>? list, Tensor reference, int root)
    {
        if (Rank == root) CheckList(name, arg, list, reference);
        else if (list is { Count: > 0 })
            throw new ArgumentException($"{name}: Argument {arg} must NOT be specified on non-root ranks (this is rank {Rank}, the root is {root}).", arg);
    }
}
