namespace Ember.Core.Tests;

public class DTypeDispatchTests
{
    private struct RecordType : IDTypeVisitor
    {
        public Type? Seen;
        public int Size;
        public void Visit<T>() where T : unmanaged
        {
            Seen = typeof(T);
            Size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        }
    }

    [TestCase(DType.Float32, typeof(float)), TestCase(DType.Float64, typeof(double)), TestCase(DType.Int32, typeof(int)),
     TestCase(DType.Int64, typeof(long)), TestCase(DType.Bool, typeof(bool)), TestCase(DType.Float16, typeof(Half)),
     TestCase(DType.BFloat16, typeof(BFloat16)), TestCase(DType.UInt8, typeof(byte)), TestCase(DType.Int8, typeof(sbyte)),
     TestCase(DType.Int16, typeof(short))]
    public void EveryDTypeBecomesItsElementType(DType dtype, Type expected)
    {
        var visitor = new RecordType();
        DTypeDispatch.Visit(dtype, ref visitor);
        Assert.That(visitor.Seen, Is.EqualTo(expected));
        Assert.That(visitor.Size, Is.EqualTo(dtype.ElementSize()), "the element type has the dtype's size");
    }

    [Test]
    public void AnUnknownDTypeThrowsNamingIt()
    {
        var visitor = new RecordType();
        var ex = Assert.Throws<NotSupportedException>(() => DTypeDispatch.Visit((DType)99, ref visitor));
        Assert.That(ex!.Message, Does.Contain("99"));
        Assert.That(visitor.Seen, Is.Null);
    }
}
