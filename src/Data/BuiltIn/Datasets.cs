using System.IO.Compression;
using System.Numerics.Tensors;

namespace Ember.Data;

/// <summary>
/// Ready-made data sets. <see cref="Digits"/> and <see cref="Iris"/> ship inside Ember.Data (no download;
/// sources and licenses in src/Data/Resources/README.md). <see cref="Mnist"/> and <see cref="FashionMnist"/>
/// read the standard IDX files (raw or .gz) from a folder.
/// </summary>
public static class Datasets
{
    /// <summary>The default Fashion-MNIST folder, where Debian's <c>dataset-fashion-mnist</c> package installs it.</summary>
    public const string FashionMnistDefaultRoot = "/usr/share/datasets/fashion-mnist";

    /// <summary>Fashion-MNIST's class names, by label.</summary>
    public static IReadOnlyList<string> FashionMnistClasses { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>
    /// The UCI optical-recognition handwritten digits (E. Alpaydin, C. Kaynak; scikit-learn's copy): 1,797 images
    /// of 8×8 pixels with values 0..16, labels 0..9 (about 180 per class).
    /// </summary>
    /// <param name="flatten">Images as [1797, 64] (default) or [1797, 1, 8, 8].</param>
    /// <param name="scale">Divide pixels by 16 so they lie in [0, 1] (default); false keeps 0..16.</param>
    /// <returns>Features Float32, labels Int64 [1797], <see cref="TensorDataset.Classes"/> "0".."9".</returns>
    public static TensorDataset Digits(bool flatten = true, bool scale = true)
    {
        using var reader = new StreamReader(new GZipStream(Resource("digits.csv.gz"), CompressionMode.Decompress));
        var table = Csv.Read(reader, "digits.csv.gz", hasHeader: false, labelColumn: -1);
        var x = scale ? table.Features / 16.0 : table.Features;
        if (!flatten) x = x.Reshape(-1, 1, 8, 8);
        return new TensorDataset(x, table.Labels!) { Classes = Enumerable.Range(0, 10).Select(i => i.ToString()).ToArray() };
    }

    /// <summary>
    /// Fisher's iris (R. A. Fisher, 1936; scikit-learn's copy): 150 flowers, 4 measurements in cm
    /// (sepal length, sepal width, petal length, petal width), 50 of each class setosa, versicolor, virginica.
    /// </summary>
    /// <returns>Features Float32 [150, 4], labels Int64 [150], class names.</returns>
    public static TensorDataset Iris()
    {
        using var reader = new StreamReader(Resource("iris.csv"));
        var table = Csv.Read(reader, "iris.csv", hasHeader: true, labelColumn: -1);
        // scikit-learn's header: count, number of features, then the class names.
        return new TensorDataset(table.Features, table.Labels!) { Classes = table.Header![2..] };
    }

    /// <summary>
    /// MNIST from the four standard IDX files in <paramref name="root"/> (or root/raw): train-images-idx3-ubyte,
    /// train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each raw or ".gz".
    /// Images are Float32 [N, 1, 28, 28] scaled to [0, 1] (pixel / 255, like torchvision's ToTensor; apply
    /// <see cref="Normalize"/> for zero mean), labels Int64 [N].
    /// </summary>
    /// <param name="root">The folder holding the files.</param>
    /// <param name="train">The 60,000 training images (true) or the 10,000 test images (false).</param>
    /// <param name="limit">Read only the first <paramref name="limit"/> items (fast previews and tests).</param>
    /// <exception cref="FileNotFoundException">A file is missing (the message says where it was looked for and how to get it).</exception>
    public static TensorDataset Mnist(string root, bool train = true, int? limit = null) =>
        ReadIdxPair("Mnist", root, train, limit, "download the four MNIST IDX files and pass their folder as root.",
            Enumerable.Range(0, 10).Select(i => i.ToString()).ToArray());

    /// <summary>
    /// Fashion-MNIST (Zalando; MIT license) from the IDX files in <paramref name="root"/>, by default
    /// <see cref="FashionMnistDefaultRoot"/> (installed by <c>apt-get install dataset-fashion-mnist</c>).
    /// Same layout and tensors as <see cref="Mnist"/>: images Float32 [N, 1, 28, 28] in [0, 1], labels Int64 [N],
    /// classes <see cref="FashionMnistClasses"/>.
    /// </summary>
    /// <exception cref="FileNotFoundException">A file is missing (the message says where it was looked for and how to get it).</exception>
    public static TensorDataset FashionMnist(string? root = null, bool train = true, int? limit = null) =>
        ReadIdxPair("FashionMnist", root ?? FashionMnistDefaultRoot, train, limit,
            "on Debian/Ubuntu run `apt-get install dataset-fashion-mnist` (it installs to " + FashionMnistDefaultRoot
            + "), or download the four Fashion-MNIST IDX files (github: zalandoresearch/fashion-mnist) and pass their folder as root.",
            FashionMnistClasses);

    private static TensorDataset ReadIdxPair(string op, string root, bool train, int? limit, string howToGet, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(root);
        string prefix = train ? "train" : "t10k";
        string images = Find(op, root, $"{prefix}-images-idx3-ubyte", howToGet);
        string labels = Find(op, root, $"{prefix}-labels-idx1-ubyte", howToGet);
        var (ih, pixels) = IdxReader.ReadBytes(images, limit);
        var (lh, ys) = IdxReader.ReadBytes(labels, limit);
        if (ih.Shape.Length != 3 || lh.Shape.Length != 1 || ih.Shape[0] != lh.Shape[0])
            throw new InvalidDataException($"Datasets.{op}: {images} has shape [{string.Join(", ", ih.Shape)}] and {labels} [{string.Join(", ", lh.Shape)}]; expected [N, H, W] and [N].");
        var x = new float[pixels.Length];
        TensorPrimitives.ConvertChecked<byte, float>(pixels, x);
        TensorPrimitives.Divide(x, 255f, x);                      // pixel / 255, as torchvision's ToTensor
        var y = new long[ys.Length];
        TensorPrimitives.ConvertChecked<byte, long>(ys, y);
        return new TensorDataset(Tensor.FromArray(x, ih.Shape[0], 1, ih.Shape[1], ih.Shape[2]), Tensor.FromArray(y, y.Length)) { Classes = classes };
    }

    private static string Find(string op, string root, string name, string howToGet)
    {
        foreach (var dir in new[] { root, Path.Combine(root, "raw") })
            foreach (var candidate in new[] { Path.Combine(dir, name), Path.Combine(dir, name + ".gz") })
                if (File.Exists(candidate)) return candidate;
        throw new FileNotFoundException(
            $"Datasets.{op}: {name} (or {name}.gz) was not found in {Path.GetFullPath(root)}" +
            (Directory.Exists(root) ? "" : " (the folder does not exist)") + $". To get the data: {howToGet}",
            Path.Combine(root, name + ".gz"));
    }

    private static Stream Resource(string name) =>
        typeof(Datasets).Assembly.GetManifestResourceStream("Ember.Data." + name)
        ?? throw new InvalidOperationException($"Datasets: the embedded resource {name} is missing from Ember.Data.");
}
