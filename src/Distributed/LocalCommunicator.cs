namespace Ember.Comm;

/// <summary>
/// The world of one process started without a launcher: every collective is the identity (a sum over one
/// rank is the tensor itself), so a training script runs unchanged outside mpirun.
/// </summary>
internal sealed unsafe class LocalCommunicator : Communicator
{
    public override int Rank => 0;
    public override int Size => 1;
    public override string Name => "local";

    private static Pending Copy(nint send, nint recv, int count, DType dtype)
    {
        if (send != recv) Buffer.MemoryCopy((void*)send, (void*)recv, (long)count * dtype.ElementSize(), (long)count * dtype.ElementSize());
        return Pending.Done;
    }

    public override Pending AllReduce(nint send, nint recv, int count, DType dtype, Distributed.ReduceOp op, bool async) => Copy(send, recv, count, dtype);
    public override Pending Broadcast(nint buffer, int count, DType dtype, int root, bool async) => Pending.Done;
    public override Pending AllGather(nint send, nint recv, int count, DType dtype, bool async) => Copy(send, recv, count, dtype);
    public override Pending ReduceScatter(nint send, nint recv, int count, DType dtype, Distributed.ReduceOp op, bool async) => Copy(send, recv, count, dtype);
    public override Pending Gather(nint send, nint recv, int count, DType dtype, int root, bool async) => Copy(send, recv, count, dtype);
    public override Pending Scatter(nint send, nint recv, int count, DType dtype, int root, bool async) => Copy(send, recv, count, dtype);
    public override Pending Barrier(bool async) => Pending.Done;

    public override Pending Send(nint buffer, int count, DType dtype, int peer, int tag, bool async) =>
        throw new InvalidOperationException("Send: a world of one process has no peer to send to (start the program with mpirun).");

    public override Pending Recv(nint buffer, int count, DType dtype, int peer, int tag, bool async) =>
        throw new InvalidOperationException("Recv: a world of one process has no peer to receive from (start the program with mpirun).");
}
