using MathNet.Numerics.LinearAlgebra;

namespace Ember.Core.Tests.Gemm;

/// <summary>
/// A logical matrix laid out in a flat buffer the way a strided tensor view would be: optionally transposed
/// (stored as its transpose, so rowStride is the small stride), with a column step and a padded leading
/// dimension. Slots of the buffer that are not part of the view hold a sentinel, so tests can check that GEMM
/// neither reads (NaN propagates) nor writes (sentinel changes) outside the view.
/// </summary>
public sealed class StridedMatrix
{
    public StridedMatrix(Matrix<double> logical, bool transposed, int step, int pad, double sentinel)
    {
        Logical = logical;
        int rows = logical.RowCount, cols = logical.ColumnCount;
        // Stored row-major: the stored matrix is the logical one, or its transpose.
        int storedRows = transposed ? cols : rows, storedCols = transposed ? rows : cols;
        long ld = (long)Math.Max(storedCols, 1) * step + pad;
        Length = Math.Max(1, storedRows * ld);
        RowStride = transposed ? step : ld;
        ColStride = transposed ? ld : step;
        Sentinel = sentinel;
        Values = new double[Length];
        Array.Fill(Values, sentinel);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                Values[Index(i, j)] = logical[i, j];
    }

    public Matrix<double> Logical { get; }
    public double[] Values { get; }
    public long Length { get; }
    public long RowStride { get; }
    public long ColStride { get; }
    public double Sentinel { get; }

    public long Index(int i, int j) => i * RowStride + j * ColStride;

    public float[] ToSingle() => Values.Select(v => (float)v).ToArray();

    /// <summary>True when every slot outside the view still holds the sentinel.</summary>
    public bool OutsideUntouched<T>(T[] buffer) where T : struct, IConvertible
    {
        var inside = new bool[Length];
        for (int i = 0; i < Logical.RowCount; i++)
            for (int j = 0; j < Logical.ColumnCount; j++)
                inside[Index(i, j)] = true;
        for (long x = 0; x < Length; x++)
        {
            if (!inside[x] && Convert.ToDouble(buffer[x], System.Globalization.CultureInfo.InvariantCulture) != Sentinel)
                return false;
        }
        return true;
    }
}

/// <summary>Random operands and MathNet double-precision references for GEMM tests.</summary>
public static class GemmTestData
{
    public static Matrix<double> Random(int rows, int cols, int seed, bool roundToSingle = true)
    {
        var random = new System.Random(seed);
        return Matrix<double>.Build.Dense(rows, cols, (_, _) =>
        {
            double v = random.NextDouble() * 2 - 1;
            return roundToSingle ? (float)v : v;
        });
    }

    /// <summary>alpha * A * B + beta * C0 in double precision; beta == 0 ignores C0 entirely.</summary>
    public static Matrix<double> Reference(double alpha, Matrix<double> a, Matrix<double> b, double beta, Matrix<double> c0)
    {
        Matrix<double> product = a.ColumnCount == 0
            ? Matrix<double>.Build.Dense(a.RowCount, b.ColumnCount)
            : a * b;
        return beta == 0 ? alpha * product : alpha * product + beta * c0;
    }

    /// <summary>Largest |actual - expected| over the view, relative to max(1, max |expected|).</summary>
    public static double RelativeError<T>(T[] actual, StridedMatrix c, Matrix<double> expected) where T : struct, IConvertible
    {
        double maxRef = 1, maxDiff = 0;
        for (int i = 0; i < expected.RowCount; i++)
        {
            for (int j = 0; j < expected.ColumnCount; j++)
            {
                double got = Convert.ToDouble(actual[c.Index(i, j)], System.Globalization.CultureInfo.InvariantCulture);
                double diff = Math.Abs(got - expected[i, j]);
                maxDiff = double.IsNaN(diff) ? double.PositiveInfinity : Math.Max(maxDiff, diff);
                maxRef = Math.Max(maxRef, Math.Abs(expected[i, j]));
            }
        }
        return maxDiff / maxRef;
    }

    /// <summary>Tolerance for float32 accumulation over k terms.</summary>
    public static double SingleTolerance(int k) => 1e-4 * Math.Sqrt(Math.Max(k, 1));

    /// <summary>Tolerance for float64 accumulation over k terms.</summary>
    public static double DoubleTolerance(int k) => 1e-12 * Math.Sqrt(Math.Max(k, 1));
}
