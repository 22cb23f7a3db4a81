using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Ember.Ilgpu;

namespace Ember.Comm;

/// <summary>
/// Collectives on CUDA memory through NCCL, one communicator per group and device. The unique id travels from
/// group rank 0 to the others over the group's MPI communicator. Calls are enqueued on the ILGPU accelerator's
/// default stream — the stream Ember's kernels and copies run on, so no extra synchronization is needed before
/// them — with ILGPU's CUDA context made current (ILGPU creates its own context, not the primary one).
/// Gather and Scatter are grouped sends and receives. Completion waits for the stream.
/// </summary>
/// <remarks>
/// NCCL works through the CUDA runtime API, whose <c>cudaSetDevice</c> makes the device's <em>primary</em> context current
/// on the calling thread. ILGPU runs in its own context and its <c>Accelerator.Bind()</c> does nothing when ILGPU believes
/// it is already bound, so after an NCCL call the thread would be left in the primary context and ILGPU's next copy or
/// launch on its own stream fails with "invalid resource handle" (seen on the H100 under mpirun). Every NCCL call is
/// therefore bracketed by <see cref="MakeContextCurrent"/>, which sets ILGPU's context through the driver itself.
/// </remarks>
internal sealed unsafe class NcclCommunicator : Communicator
{
    private readonly CudaAccelerator accelerator;
    private readonly nint stream;
    private nint comm;

    private NcclCommunicator(CudaAccelerator accelerator, nint comm, int rank, int size)
    {
        this.accelerator = accelerator;
        this.comm = comm;
        stream = ((CudaStream)accelerator.DefaultStream).StreamPtr;
        Rank = rank;
        Size = size;
    }

    public override int Rank { get; }
    public override int Size { get; }
    public override string Name => "nccl";
    public override bool HasAvg => true;

    /// <summary>Creates the group's communicator for the tensor's device (collective over the group).</summary>
    /// <exception cref="DllNotFoundException">libnccl.so.2 is missing.</exception>
    /// <exception cref="ArgumentException">The tensor is not on an ILGPU CUDA device.</exception>
    public static NcclCommunicator Create(ProcessGroup group, Tensor t)
    {
        if (t.Storage is not IlgpuStorage { Owner.Accelerator: CudaAccelerator acc })
            throw new ArgumentException($"NCCL: the tensor on {t.Device} is not held by an ILGPU CUDA accelerator.");
        Nccl.Load();
        var id = new Nccl.UniqueId();
        if (group.Rank == 0) Nccl.Check(Nccl.GetUniqueId(&id), "ncclGetUniqueId");
        group.Host.Broadcast((nint)(&id), Nccl.UniqueIdBytes / sizeof(long), DType.Int64, 0, async: false).Wait();
        var uniqueId = id;   // a copy the lambda may capture (the original's address was taken above)
        nint c = 0;
        InContext(acc, () => { nint created; Nccl.Check(Nccl.CommInitRank(&created, group.Size, uniqueId, group.Rank), "ncclCommInitRank"); c = created; });
        return new NcclCommunicator(acc, c, group.Rank, group.Size);
    }

    /// <summary>Runs NCCL calls with ILGPU's context made current before them and again after them.</summary>
    private static void InContext(CudaAccelerator acc, Action calls)
    {
        MakeContextCurrent(acc);
        try { calls(); }
        finally { MakeContextCurrent(acc); }
    }

    /// <summary>Makes ILGPU's context of <paramref name="acc"/> current on this thread, whatever NCCL left current.</summary>
    /// <exception cref="InvalidOperationException">The driver refused the context.</exception>
    private static void MakeContextCurrent(CudaAccelerator acc)
    {
        acc.Bind();   // ILGPU's own bookkeeping (a no-op when it believes the accelerator is bound)
        var error = CudaAPI.CurrentAPI.SetCurrentContext(acc.NativePtr);
        if (error != CudaError.CUDA_SUCCESS)
            throw new InvalidOperationException($"NCCL: cannot make the CUDA context of {acc.Name} current: {error}.");
    }

    public override CommBuffer Pin(Tensor t, bool copyIn) => DeviceBuffer.Of(t, copyIn);

    private static int Type(DType dtype) => dtype switch
    {
        DType.Float32 => Nccl.Float32,
        DType.Float64 => Nccl.Float64,
        DType.Int32 => Nccl.Int32,
        DType.Int64 => Nccl.Int64,
        _ => throw new ArgumentException($"NCCL: unsupported dtype {dtype}."),
    };

    private static int Op(Distributed.ReduceOp op) => op switch
    {
        Distributed.ReduceOp.Sum => Nccl.Sum,
        Distributed.ReduceOp.Avg => Nccl.Avg,
        Distributed.ReduceOp.Product => Nccl.Prod,
        Distributed.ReduceOp.Min => Nccl.Min,
        Distributed.ReduceOp.Max => Nccl.Max,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>Enqueues with the context current; completion is the stream's.</summary>
    private Pending Run(string name, Func<int> call)
    {
        InContext(accelerator, () => Nccl.Check(call(), name));
        return StreamCompletion();
    }

    /// <summary>Enqueues several calls as one NCCL group (the sends and receives of Gather and Scatter).</summary>
    private Pending Grouped(Action calls)
    {
        InContext(accelerator, () =>
        {
            Nccl.Check(Nccl.GroupStart(), "ncclGroupStart");
            try { calls(); }
            finally { Nccl.Check(Nccl.GroupEnd(), "ncclGroupEnd"); }
        });
        return StreamCompletion();
    }

    private Pending StreamCompletion() =>
        new(() => { accelerator.DefaultStream.Synchronize(); return true; }, () => accelerator.DefaultStream.Synchronize());

    public override Pending AllReduce(nint send, nint recv, int count, DType dtype, Distributed.ReduceOp op, bool async) =>
        Run("ncclAllReduce", () => Nccl.AllReduce(send, recv, (nuint)count, Type(dtype), Op(op), comm, stream));

    public override Pending Broadcast(nint buffer, int count, DType dtype, int root, bool async) =>
        Run("ncclBroadcast", () => Nccl.Broadcast(buffer, buffer, (nuint)count, Type(dtype), root, comm, stream));

    public override Pending AllGather(nint send, nint recv, int count, DType dtype, bool async) =>
        Run("ncclAllGather", () => Nccl.AllGather(send, recv, (nuint)count, Type(dtype), comm, stream));

    public override Pending ReduceScatter(nint send, nint recv, int count, DType dtype, Distributed.ReduceOp op, bool async) =>
        Run("ncclReduceScatter", () => Nccl.ReduceScatter(send, recv, (nuint)count, Type(dtype), Op(op), comm, stream));

    public override Pending Gather(nint send, nint recv, int count, DType dtype, int root, bool async)
    {
        long bytes = (long)count * dtype.ElementSize();
        return Grouped(() =>
        {
            if (Rank == root)
                for (int r = 0; r < Size; r++)
                    Nccl.Check(Nccl.Recv(recv + (nint)(r * bytes), (nuint)count, Type(dtype), r, comm, stream), "ncclRecv");
            Nccl.Check(Nccl.Send(send, (nuint)count, Type(dtype), root, comm, stream), "ncclSend");
        });
    }

    public override Pending Scatter(nint send, nint recv, int count, DType dtype, int root, bool async)
    {
        long bytes = (long)count * dtype.ElementSize();
        return Grouped(() =>
        {
            if (Rank == root)
                for (int r = 0; r < Size; r++)
                    Nccl.Check(Nccl.Send(send + (nint)(r * bytes), (nuint)count, Type(dtype), r, comm, stream), "ncclSend");
            Nccl.Check(Nccl.Recv(recv, (nuint)count, Type(dtype), root, comm, stream), "ncclRecv");
        });
    }

    public override Pending Barrier(bool async) => throw new InvalidOperationException("NCCL: barriers go through the group's MPI communicator.");

    public override Pending Send(nint buffer, int count, DType dtype, int peer, int tag, bool async) =>
        Run("ncclSend", () => Nccl.Send(buffer, (nuint)count, Type(dtype), peer, comm, stream));

    public override Pending Recv(nint buffer, int count, DType dtype, int peer, int tag, bool async) =>
        Run("ncclRecv", () => Nccl.Recv(buffer, (nuint)count, Type(dtype), peer, comm, stream));

    public override void Dispose()
    {
        if (comm == 0) return;
        var c = comm;
        InContext(accelerator, () => Nccl.CommDestroy(c));
        comm = 0;
    }
}

/// <summary>CUDA memory for NCCL: the tensor's device pointer, or that of a contiguous copy on the same device.</summary>
internal sealed class DeviceBuffer : CommBuffer
{
    private readonly Tensor target, work;

    private DeviceBuffer(Tensor target, Tensor work)
    {
        this.target = target;
        this.work = work;
        var storage = (IlgpuStorage)work.Storage;
        Ptr = storage.Block.View<byte>().LoadEffectiveAddressAsPtr() + (nint)(work.StorageOffset * work.DType.ElementSize());
    }

    public static DeviceBuffer Of(Tensor t, bool copyIn)
    {
        if (t.IsContiguous) return new DeviceBuffer(t, t);
        using var _ = Autograd.NoGrad();
        return new DeviceBuffer(t, copyIn ? t.Detach().Contiguous() : Tensor.Empty(t.Shape, t.DType, t.Device));
    }

    public override void Finish(bool written, int divisor)
    {
        if (!written) return;
        if (ReferenceEquals(work, target)) target.Storage.BumpVersion();
        else using (Autograd.NoGrad()) target.Copy_(work);
    }

    public override void Release() { }
}
