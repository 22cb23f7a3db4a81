using System.Runtime.InteropServices;

namespace Ember.Comm;

/// <summary>
/// Collectives on host memory through Open MPI. Synchronous calls use MPI's blocking collectives (Open MPI's
/// tuned algorithms); asynchronous ones the MPI-3 non-blocking collectives, completed by MPI_Test/MPI_Wait.
/// Every MPI call is made under one process-wide lock (MPI_THREAD_SERIALIZED).
/// </summary>
internal sealed unsafe class MpiCommunicator : Communicator
{
    /// <summary>Serializes MPI calls across threads.</summary>
    public static readonly object Lock = new();

    private nint comm;
    private readonly bool owned;

    public MpiCommunicator(nint comm, bool owned)
    {
        this.comm = comm;
        this.owned = owned;
        int r, s;
        lock (Lock)
        {
            Mpi.Check(Mpi.Comm_rank(comm, &r), "MPI_Comm_rank");
            Mpi.Check(Mpi.Comm_size(comm, &s), "MPI_Comm_size");
        }
        Rank = r;
        Size = s;
    }

    /// <summary>The MPI communicator handle.</summary>
    public nint Handle => comm;
    public override int Rank { get; }
    public override int Size { get; }
    public override string Name => "mpi";

    /// <summary>The MPI datatype of a dtype.</summary>
    public static nint Type(DType dtype) => dtype switch
    {
        DType.Float32 => Mpi.Float,
        DType.Float64 => Mpi.Double,
        DType.Int32 => Mpi.Int32,
        DType.Int64 => Mpi.Int64,
        _ => throw new ArgumentException($"Distributed collectives support float32, float64, int32 and int64 tensors, got {dtype}."),
    };

    // Avg is computed by the group as Sum followed by a division.
    private static nint Op(Distributed.ReduceOp op) => op switch
    {
        Distributed.ReduceOp.Sum or Distributed.ReduceOp.Avg => Mpi.OpSum,
        Distributed.ReduceOp.Product => Mpi.OpProd,
        Distributed.ReduceOp.Min => Mpi.OpMin,
        Distributed.ReduceOp.Max => Mpi.OpMax,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    private static nint InPlace(nint send, nint recv) => send == recv ? Mpi.InPlace : send;

    /// <summary>Runs a blocking call, or starts a non-blocking one and returns its request.</summary>
    private static Pending Run(bool async, string name, Func<int> blocking, Func<nint, int> start)
    {
        if (!async)
        {
            lock (Lock) Mpi.Check(blocking(), name);
            return Pending.Done;
        }
        var slot = (nint*)NativeMemory.Alloc((nuint)sizeof(nint));
        lock (Lock) Mpi.Check(start((nint)slot), "MPI_I" + char.ToLowerInvariant(name[4]) + name[5..]);   // MPI_Allreduce → MPI_Iallreduce
        bool finished = false;
        void Free() { finished = true; NativeMemory.Free(slot); }
        return new Pending(
            () =>
            {
                if (finished) return true;
                int flag = 0;
                lock (Lock) Mpi.Check(Mpi.Test(slot, &flag, 0), "MPI_Test");
                if (flag != 0) Free();
                return flag != 0;
            },
            () =>
            {
                if (finished) return;
                lock (Lock) Mpi.Check(Mpi.Wait(slot, 0), "MPI_Wait");
                Free();
            });
    }

    public override Pending AllReduce(nint send, nint recv, int count, DType dtype, Distributed.ReduceOp op, bool async) =>
        Run(async, "MPI_Allreduce",
            () => Mpi.Allreduce(InPlace(send, recv), recv, count, Type(dtype), Op(op), comm),
            r => Mpi.Iallreduce(InPlace(send, recv), recv, count, Type(dtype), Op(op), comm, (nint*)r));

    public override Pending Broadcast(nint buffer, int count, DType dtype, int root, bool async) =>
        Run(async, "MPI_Bcast",
            () => Mpi.Bcast(buffer, count, Type(dtype), root, comm),
            r => Mpi.Ibcast(buffer, count, Type(dtype), root, comm, (nint*)r));

    public override Pending AllGather(nint send, nint recv, int count, DType dtype, bool async) =>
        Run(async, "MPI_Allgather",
            () => Mpi.Allgather(send, count, Type(dtype), recv, count, Type(dtype), comm),
            r => Mpi.Iallgather(send, count, Type(dtype), recv, count, Type(dtype), comm, (nint*)r));

    public override Pending ReduceScatter(nint send, nint recv, int count, DType dtype, Distributed.ReduceOp op, bool async) =>
        Run(async, "MPI_Reduce_scatter_block",
            () => Mpi.Reduce_scatter_block(send, recv, count, Type(dtype), Op(op), comm),
            r => Mpi.Ireduce_scatter_block(send, recv, count, Type(dtype), Op(op), comm, (nint*)r));

    public override Pending Gather(nint send, nint recv, int count, DType dtype, int root, bool async) =>
        Run(async, "MPI_Gather",
            () => Mpi.Gather(send, count, Type(dtype), recv, count, Type(dtype), root, comm),
            r => Mpi.Igather(send, count, Type(dtype), recv, count, Type(dtype), root, comm, (nint*)r));

    public override Pending Scatter(nint send, nint recv, int count, DType dtype, int root, bool async) =>
        Run(async, "MPI_Scatter",
            () => Mpi.Scatter(send, count, Type(dtype), recv, count, Type(dtype), root, comm),
            r => Mpi.Iscatter(send, count, Type(dtype), recv, count, Type(dtype), root, comm, (nint*)r));

    public override Pending Barrier(bool async) =>
        Run(async, "MPI_Barrier", () => Mpi.Barrier(comm), r => Mpi.Ibarrier(comm, (nint*)r));

    public override Pending Send(nint buffer, int count, DType dtype, int peer, int tag, bool async) =>
        Run(async, "MPI_Send",
            () => Mpi.Send(buffer, count, Type(dtype), peer, tag, comm),
            r => Mpi.Isend(buffer, count, Type(dtype), peer, tag, comm, (nint*)r));

    public override Pending Recv(nint buffer, int count, DType dtype, int peer, int tag, bool async) =>
        Run(async, "MPI_Recv",
            () => Mpi.Recv(buffer, count, Type(dtype), peer, tag, comm, 0),
            r => Mpi.Irecv(buffer, count, Type(dtype), peer, tag, comm, (nint*)r));

    /// <summary>Splits this communicator (collective over it): ranks with the same non-negative color share a new one; a negative color gets none.</summary>
    public MpiCommunicator? Split(int color, int key)
    {
        nint created;
        const int Undefined = -32766;   // MPI_UNDEFINED in Open MPI's mpi.h
        lock (Lock) Mpi.Check(Mpi.Comm_split(comm, color < 0 ? Undefined : color, key, &created), "MPI_Comm_split");
        return created == Mpi.CommNull ? null : new MpiCommunicator(created, owned: true);
    }

    public override void Dispose()
    {
        if (!owned || comm == 0) return;
        int finalized = 0;
        lock (Lock)
        {
            Mpi.Finalized(&finalized);
            if (finalized == 0) { nint c = comm; Mpi.Comm_free(&c); }
        }
        comm = 0;
    }
}
