namespace Ember.Comm;

/// <summary>An operation a <see cref="Communicator"/> started: poll it or block on it.</summary>
/// <param name="Test">True once complete.</param>
/// <param name="Wait">Blocks until complete.</param>
internal readonly record struct Pending(Func<bool> Test, Action Wait)
{
    /// <summary>An operation that already completed.</summary>
    public static readonly Pending Done = new(() => true, () => { });
}

/// <summary>
/// The transport under a <see cref="ProcessGroup"/>: collectives on raw buffers of <c>count</c> elements
/// (host pointers for MPI, device pointers for NCCL). Buffers stay valid until the returned
/// <see cref="Pending"/> completes; <c>send == recv</c> means in place. Counts are per rank for AllGather,
/// ReduceScatter, Gather and Scatter. Ranks are this communicator's (group-local) ranks.
/// </summary>
internal abstract class Communicator : IDisposable
{
    /// <summary>This process's rank in the communicator.</summary>
    public abstract int Rank { get; }
    /// <summary>The number of ranks.</summary>
    public abstract int Size { get; }
    /// <summary>The transport's name in messages ("mpi", "nccl", "local").</summary>
    public abstract string Name { get; }
    /// <summary>Whether the transport has a native average (otherwise the group sums and divides).</summary>
    public virtual bool HasAvg => false;

    /// <summary>The tensor's memory as this transport addresses it (host memory by default).</summary>
    public virtual CommBuffer Pin(Tensor t, bool copyIn) => HostBuffer.Of(t, copyIn);

    public abstract Pending AllReduce(nint send, nint recv, int count, DType dtype, Distributed.ReduceOp op, bool async);
    public abstract Pending Broadcast(nint buffer, int count, DType dtype, int root, bool async);
    public abstract Pending AllGather(nint send, nint recv, int count, DType dtype, bool async);
    public abstract Pending ReduceScatter(nint send, nint recv, int count, DType dtype, Distributed.ReduceOp op, bool async);
    public abstract Pending Gather(nint send, nint recv, int count, DType dtype, int root, bool async);
    public abstract Pending Scatter(nint send, nint recv, int count, DType dtype, int root, bool async);
    public abstract Pending Barrier(bool async);
    public abstract Pending Send(nint buffer, int count, DType dtype, int peer, int tag, bool async);
    public abstract Pending Recv(nint buffer, int count, DType dtype, int peer, int tag, bool async);

    /// <inheritdoc/>
    public virtual void Dispose() { }
}
