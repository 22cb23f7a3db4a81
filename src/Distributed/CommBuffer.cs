using System.Numerics.Tensors;

namespace Ember.Comm;

/// <summary>
/// A tensor's memory as a transport sees it: a raw pointer to a contiguous buffer that stays valid until
/// <see cref="Finish"/> or <see cref="Release"/>. A non-contiguous tensor (or one on a device the transport cannot
/// address) is communicated through a contiguous copy that <see cref="Finish"/> copies back.
/// </summary>
internal abstract class CommBuffer
{
    /// <summary>The address of the first element.</summary>
    public nint Ptr { get; protected init; }

    /// <summary>Completes the operation: divides by <paramref name="divisor"/> when &gt; 1 (average), copies back when <paramref name="written"/>, releases.</summary>
    public abstract void Finish(bool written, int divisor);

    /// <summary>Releases without copying (after a failed call).</summary>
    public abstract void Release();
}

/// <summary>Host memory for MPI: the CPU tensor's pinned array, or a pinned contiguous CPU copy.</summary>
internal sealed unsafe class HostBuffer : CommBuffer
{
    private readonly Tensor target, work;
    private System.Buffers.MemoryHandle pin;

    private HostBuffer(Tensor target, Tensor work, System.Buffers.MemoryHandle pin)
    {
        this.target = target;
        this.work = work;
        this.pin = pin;
        Ptr = (nint)pin.Pointer + (nint)(work.StorageOffset * work.DType.ElementSize());
    }

    /// <summary>Pins <paramref name="t"/> (or a contiguous CPU copy of it, holding its values when <paramref name="copyIn"/>).</summary>
    public static HostBuffer Of(Tensor t, bool copyIn)
    {
        // A contiguous tensor in host memory (its storage pins) is communicated in place.
        if (t.IsContiguous && t.Storage.PinHostMemory() is { } own) return new HostBuffer(t, t, own);
        using var _ = Autograd.NoGrad();
        // Otherwise a contiguous CPU copy (To(Cpu) of a CPU tensor is the same view, Contiguous copies it).
        var work = copyIn ? t.Detach().To(Device.Cpu).Contiguous() : Tensor.Empty(t.Shape, t.DType, Device.Cpu);
        return new HostBuffer(t, work, work.Storage.PinHostMemory()
            ?? throw new InvalidOperationException($"HostBuffer: the {Device.Cpu} backend's storage is not host memory."));
    }

    public override void Finish(bool written, int divisor)
    {
        try
        {
            if (divisor > 1) Divide(divisor);
            if (!written) return;
            if (ReferenceEquals(work, target)) target.Storage.BumpVersion();   // saved-tensor checks see the in-place write
            else using (Autograd.NoGrad()) target.Copy_(work);
        }
        finally { Release(); }
    }

    private void Divide(int divisor)
    {
        long n = work.Numel;
        // A true division (not a multiplication by 1/divisor): the average of equal values is exact.
        if (work.DType == DType.Float32) { var s = new Span<float>((void*)Ptr, checked((int)n)); TensorPrimitives.Divide(s, divisor, s); }
        else { var s = new Span<double>((void*)Ptr, checked((int)n)); TensorPrimitives.Divide(s, divisor, s); }
    }

    public override void Release()
    {
        pin.Dispose();
        pin = default;
    }
}
