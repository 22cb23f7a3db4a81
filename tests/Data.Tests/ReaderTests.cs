namespace Ember.Data.Tests;

public class ReaderTests
{
    private string dir = "";

    [SetUp] public void MakeDir() { dir = Path.Combine(Path.GetTempPath(), "ember-data-" + Guid.NewGuid().ToString("N")); Directory.CreateDirectory(dir); }
    [TearDown] public void RemoveDir() => Directory.Delete(dir, recursive: true);

    [Test]
    public void IdxRoundTripsRawAndGzip([Values("raw.idx", "packed.idx.gz")] string name)
    {
        var path = Path.Combine(dir, name);
        var images = Tensor.Arange(3 * 4 * 5).Reshape(3, 4, 5);
        IdxReader.Write(path, images);
        var header = IdxReader.ReadHeader(path);
        Assert.That(header.Type, Is.EqualTo(IdxType.UInt8));
        Assert.That(header.Shape, Is.EqualTo(new[] { 3, 4, 5 }));
        var back = IdxReader.Read(path, DType.Int64);
        Assert.That(back.ToArray<long>(), Is.EqualTo(images.ToArray<long>()));
        var first = IdxReader.Read(path, DType.Float32, limit: 2);
        Assert.That(first.Shape.ToArray(), Is.EqualTo(new long[] { 2, 4, 5 }));
    }

    [Test]
    public void IdxOtherElementTypes([Values(IdxType.Int32, IdxType.Float32, IdxType.Float64, IdxType.Int16, IdxType.Int8)] IdxType type)
    {
        var path = Path.Combine(dir, "t.idx");
        var values = Tensor.FromArray(new double[] { -3, 0, 1.5, 100 }, 2, 2);
        if (type is IdxType.Int32 or IdxType.Int16 or IdxType.Int8) values = Tensor.FromArray(new double[] { -3, 0, 1, 100 }, 2, 2);
        IdxReader.Write(path, values, type);
        Assert.That(IdxReader.Read(path, DType.Float64).ToArray<double>(), Is.EqualTo(values.ToArray<double>()));
    }

    [Test]
    public void IdxErrorsNameTheFile()
    {
        var path = Path.Combine(dir, "bad.idx");
        File.WriteAllBytes(path, [1, 2, 3, 4]);
        var ex = Assert.Throws<InvalidDataException>(() => IdxReader.ReadHeader(path));
        Assert.That(ex!.Message, Does.Contain(path));
        File.WriteAllBytes(path, [0, 0, 8, 1, 0, 0, 0, 10, 1, 2]);
        Assert.Throws<InvalidDataException>(() => IdxReader.Read(path));
        Assert.Throws<FileNotFoundException>(() => IdxReader.Read(Path.Combine(dir, "missing.idx")));
    }

    [Test]
    public void MnistLayoutFromGeneratedFiles()
    {
        var images = Tensor.Full([5, 28, 28], 255, DType.Int64);
        IdxReader.Write(Path.Combine(dir, "t10k-images-idx3-ubyte"), images);
        IdxReader.Write(Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"), Tensor.Arange(5));
        var ds = Datasets.Mnist(dir, train: false);
        Assert.That(ds.Count, Is.EqualTo(5));
        Assert.That(ds.Data.Shape.ToArray(), Is.EqualTo(new long[] { 5, 1, 28, 28 }));
        Assert.That(ds.Data.ToArray<float>().All(v => v == 1f));
        Assert.That(ds.Targets.DType, Is.EqualTo(DType.Int64));
        var ex = Assert.Throws<FileNotFoundException>(() => Datasets.Mnist(dir, train: true));
        Assert.That(ex!.Message, Does.Contain("train-images-idx3-ubyte").And.Contain(dir));
    }

    [Test]
    public void MissingFashionMnistSaysHowToGetIt()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => Datasets.FashionMnist(Path.Combine(dir, "nowhere")));
        Assert.That(ex!.Message, Does.Contain("apt-get install dataset-fashion-mnist").And.Contain("nowhere"));
    }

    [Test]
    public void RealFashionMnistHeadersAndFirstImages()
    {
        // CI installs Debian's dataset-fashion-mnist (see .ci/run); this reads only the headers and 100 images.
        var root = Datasets.FashionMnistDefaultRoot;
        Assert.That(IdxReader.ReadHeader(Path.Combine(root, "train-images-idx3-ubyte.gz")).Shape, Is.EqualTo(new[] { 60000, 28, 28 }));
        Assert.That(IdxReader.ReadHeader(Path.Combine(root, "t10k-labels-idx1-ubyte.gz")).Shape, Is.EqualTo(new[] { 10000 }));
        var ds = Datasets.FashionMnist(train: false, limit: 100);
        Assert.That(ds.Count, Is.EqualTo(100));
        var pixels = ds.Data.ToArray<float>();
        Assert.That(pixels.Min(), Is.EqualTo(0f));
        Assert.That(pixels.Max(), Is.EqualTo(1f));
        var labels = ds.Targets.ToArray<long>();
        Assert.That(labels.All(l => l is >= 0 and < 10));
        Assert.That(labels.Distinct().Count(), Is.EqualTo(10));
        Assert.That(ds.Classes![9], Is.EqualTo("Ankle boot"));
    }

    [Test]
    public void CsvWithHeaderAndLabels()
    {
        var path = Path.Combine(dir, "t.csv");
        File.WriteAllText(path, "a,b,label\n1.5,2,0\n-3,4e1,2\n");
        var table = Csv.Read(path, hasHeader: true, labelColumn: 2);
        Assert.That(table.Header, Is.EqualTo(new[] { "a", "b", "label" }));
        Assert.That(table.Features.ToArray<float>(), Is.EqualTo(new float[] { 1.5f, 2, -3, 40 }));
        Assert.That(table.Labels!.ToArray<long>(), Is.EqualTo(new long[] { 0, 2 }));
        Assert.That(table.ToDataset().Count, Is.EqualTo(2));
        File.WriteAllText(path, "1,2\n3\n");
        var ex = Assert.Throws<FormatException>(() => Csv.Read(path));
        Assert.That(ex!.Message, Does.Contain("line 2"));
    }
}

public class BuiltInDatasetTests
{
    [Test]
    public void Digits()
    {
        var ds = Datasets.Digits();
        Assert.That(ds.Count, Is.EqualTo(1797));
        Assert.That(ds.Data.Shape.ToArray(), Is.EqualTo(new long[] { 1797, 64 }));
        Assert.That(ds.Data.DType, Is.EqualTo(DType.Float32));
        Assert.That(ds.Targets.DType, Is.EqualTo(DType.Int64));
        var x = ds.Data.ToArray<float>();
        Assert.That(x.Min(), Is.EqualTo(0f));
        Assert.That(x.Max(), Is.EqualTo(1f));
        var counts = ds.Targets.ToArray<long>().GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());
        Assert.That(counts.Keys.OrderBy(k => k), Is.EqualTo(Enumerable.Range(0, 10).Select(i => (long)i)));
        Assert.That(counts.Values.Min(), Is.GreaterThanOrEqualTo(170));
        Assert.That(counts.Values.Max(), Is.LessThanOrEqualTo(190));
        Assert.That(counts.Values.Sum(), Is.EqualTo(1797));
        var raw = Datasets.Digits(flatten: false, scale: false);
        Assert.That(raw.Data.Shape.ToArray(), Is.EqualTo(new long[] { 1797, 1, 8, 8 }));
        Assert.That(raw.Data.ToArray<float>().Max(), Is.EqualTo(16f));
    }

    [Test]
    public void Iris()
    {
        var ds = Datasets.Iris();
        Assert.That(ds.Count, Is.EqualTo(150));
        Assert.That(ds.Data.Shape.ToArray(), Is.EqualTo(new long[] { 150, 4 }));
        Assert.That(ds.Classes, Is.EqualTo(new[] { "setosa", "versicolor", "virginica" }));
        Assert.That(ds.Targets.ToArray<long>().GroupBy(l => l).Select(g => g.Count()), Is.EqualTo(new[] { 50, 50, 50 }));
        var x = ds.Data.ToArray<float>();
        Assert.That(x.Min(), Is.GreaterThan(0f));
        Assert.That(x.Max(), Is.LessThan(8f));
        Assert.That(x[0..4], Is.EqualTo(new[] { 5.1f, 3.5f, 1.4f, 0.2f }));
    }
}
