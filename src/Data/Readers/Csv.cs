using System.Globalization;
using System.IO.Compression;

namespace Ember.Data;

/// <summary>A numeric table read by <see cref="Csv.Read(string, bool, int?, char)"/>: features, optional labels, optional column names.</summary>
/// <param name="Features">Float32 [rows, feature columns].</param>
/// <param name="Labels">Int64 [rows] when a label column was given, else null.</param>
/// <param name="Header">The header's fields when the file has a header, else null.</param>
public sealed record CsvTable(Tensor Features, Tensor? Labels, string[]? Header)
{
    /// <summary>(features, labels) as a <see cref="TensorDataset"/>.</summary>
    /// <exception cref="InvalidOperationException">The table has no label column.</exception>
    public TensorDataset ToDataset() =>
        new(Features, Labels ?? throw new InvalidOperationException("CsvTable.ToDataset: the table was read without a label column."));
}

/// <summary>Reads numeric CSV files (invariant culture, '.' decimal point) into tensors; ".gz" files are decompressed.</summary>
public static class Csv
{
    /// <summary>Reads a CSV file of numbers.</summary>
    /// <param name="path">The file (plain or .gz).</param>
    /// <param name="hasHeader">Skip (and return) the first line.</param>
    /// <param name="labelColumn">The column holding integer class labels (negative counts from the end), or null for none.</param>
    /// <param name="separator">The field separator.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">A field is not a number, a label is not an integer, or rows differ in length (the message names the line).</exception>
    public static CsvTable Read(string path, bool hasHeader = false, int? labelColumn = null, char separator = ',')
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Csv.Read: no file at {path}.", path);
        using Stream file = File.OpenRead(path);
        using Stream s = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(s);
        return Read(reader, path, hasHeader, labelColumn, separator);
    }

    /// <summary>Reads CSV text from a reader; <paramref name="name"/> is used in error messages.</summary>
    /// <exception cref="FormatException">A field is not a number, a label is not an integer, or rows differ in length.</exception>
    public static CsvTable Read(TextReader reader, string name, bool hasHeader = false, int? labelColumn = null, char separator = ',')
    {
        ArgumentNullException.ThrowIfNull(reader);
        string[]? header = null;
        var features = new List<float>();
        var labels = new List<long>();
        int width = -1, lineNo = 0, rows = 0, label = -1;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            if (line.Length == 0) continue;
            var fields = line.Split(separator);
            if (hasHeader && header is null) { header = fields.Select(f => f.Trim()).ToArray(); continue; }
            if (width < 0)
            {
                width = fields.Length;
                if (labelColumn is { } lc)
                {
                    label = lc < 0 ? width + lc : lc;
                    if (label < 0 || label >= width)
                        throw new FormatException($"Csv.Read: label column {lc} is outside the {width} columns of {name}.");
                }
            }
            if (fields.Length != width)
                throw new FormatException($"Csv.Read: line {lineNo} of {name} has {fields.Length} fields, expected {width}.");
            for (int j = 0; j < fields.Length; j++)
            {
                if (j == label)
                {
                    if (!long.TryParse(fields[j].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var y)
                        && !(double.TryParse(fields[j].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var dy) && dy == Math.Floor(dy) && (y = (long)dy) == dy))
                        throw new FormatException($"Csv.Read: line {lineNo} of {name}: label '{fields[j]}' is not an integer.");
                    labels.Add(y);
                }
                else
                {
                    if (!float.TryParse(fields[j].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                        throw new FormatException($"Csv.Read: line {lineNo} of {name}, column {j}: '{fields[j]}' is not a number.");
                    features.Add(v);
                }
            }
            rows++;
        }
        int featureCols = Math.Max(0, width - (label >= 0 ? 1 : 0));
        var x = Tensor.FromArray(features.ToArray(), rows, featureCols);
        var t = label >= 0 ? Tensor.FromArray(labels.ToArray(), rows) : null;
        return new CsvTable(x, t, header);
    }
}
