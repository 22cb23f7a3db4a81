using System.Runtime.InteropServices;

namespace Ember.Cpu;

/// <summary>
/// Per-thread, 64-byte aligned native scratch memory for packed panels, grown on demand and reused by every
/// later GEMM on the same thread, so the steady state allocates nothing. The memory is freed when the thread
/// ends (the holder is finalized once its thread-static reference is gone).
/// </summary>
internal sealed unsafe class GemmBuffers
{
    private const nuint Alignment = 64;

    [ThreadStatic]
    private static GemmBuffers? current;

    [ThreadStatic]
    private static GemmBuffers? shared;

    private void* memory;
    private nuint size;

    private GemmBuffers()
    {
    }

    ~GemmBuffers()
    {
        if (memory is not null)
            NativeMemory.AlignedFree(memory);
    }

    /// <summary>
    /// Returns this thread's scratch of at least <paramref name="bytes"/> bytes, 64-byte aligned. The previous
    /// contents are not kept when it grows. Valid until the next call on the same thread.
    /// </summary>
    public static void* Get(nuint bytes) => (current ??= new GemmBuffers()).Ensure(bytes);

    /// <summary>
    /// Returns this thread's second scratch of at least <paramref name="bytes"/> bytes, 64-byte aligned, separate from
    /// <see cref="Get"/>'s: the packed B panels a calling thread shares with the workers while it also packs its own A
    /// blocks. The previous contents are not kept when it grows. Valid until the next call on the same thread.
    /// </summary>
    public static void* GetShared(nuint bytes) => (shared ??= new GemmBuffers()).Ensure(bytes);

    private void* Ensure(nuint bytes)
    {
        GemmBuffers buffers = this;
        if (buffers.size < bytes)
        {
            if (buffers.memory is not null)
                NativeMemory.AlignedFree(buffers.memory);
            buffers.memory = null;
            buffers.size = 0;
            // Round up to 64 KiB so small growth steps do not reallocate every time.
            nuint rounded = (bytes + 0xFFFF) & ~(nuint)0xFFFF;
            buffers.memory = NativeMemory.AlignedAlloc(rounded, Alignment);
            buffers.size = rounded;
        }
        return buffers.memory;
    }
}
