namespace Ember.Core.Tests;

public class PinHostMemoryTests
{
    [Test]
    public unsafe void CpuStoragePinsItsArrayAtElementZero()
    {
        var t = Tensor.FromArray(new float[] { 3, 4, 5 });
        using var pin = t.Storage.PinHostMemory()!.Value;
        var p = (float*)pin.Pointer;
        Assert.That(new[] { p[0], p[1], p[2] }, Is.EqualTo(new float[] { 3, 4, 5 }));
        p[1] = 9;   // writes through the pointer reach the tensor
        Assert.That(t.ToArray<float>()[1], Is.EqualTo(9f));
    }

    [Test]
    public void ReleasedStorageRefusesToPin()
    {
        var t = Tensor.Zeros(4);
        t.Storage.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t.Storage.PinHostMemory());
    }
}
