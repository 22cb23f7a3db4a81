namespace Ember.NN;

/// <summary>The resampling of <see cref="Functional.Interpolate"/> (PyTorch's mode strings).</summary>
public enum InterpolationMode
{
    /// <summary>"nearest": src = ⌊dst·scale⌋ (inputs [N, C, W], [N, C, H, W] or [N, C, D, H, W]).</summary>
    Nearest,
    /// <summary>"linear": [N, C, W].</summary>
    Linear,
    /// <summary>"bilinear": [N, C, H, W].</summary>
    Bilinear,
    /// <summary>"bicubic": [N, C, H, W], cubic convolution with a = −0.75, border samples repeated.</summary>
    Bicubic,
    /// <summary>"trilinear": [N, C, D, H, W].</summary>
    Trilinear,
}

public static partial class Functional
{
    /// <summary>
    /// Resizes the spatial dims of x [N, C, *spatial] (torch.nn.functional.interpolate), to <paramref name="size"/> or to
    /// ⌊in·scaleFactor⌋. Separable: each spatial dim is resampled in turn as a weighted sum of index-selected slices, so
    /// the op is differentiable and runs on every backend. Source coordinate of output index j along a dim of in → out:
    /// alignCorners: j·(in − 1)/(out − 1); otherwise (j + ½)·s − ½ with s = 1/scaleFactor when a scale is given, else in/out
    /// (linear modes clamp it at 0). Nearest uses ⌊j·s⌋.
    /// </summary>
    /// <param name="x">Input [N, C, W], [N, C, H, W] or [N, C, D, H, W].</param>
    /// <param name="size">Output spatial size (one per spatial dim, or one for all).</param>
    /// <param name="scaleFactor">Multiplier of the spatial size (one per spatial dim, or one for all).</param>
    /// <param name="mode">The resampling.</param>
    /// <param name="alignCorners">Linear modes only: map the corner pixels' centres onto each other (default false).</param>
    /// <exception cref="ArgumentException">Both or neither of size and scaleFactor; the mode does not fit the input's rank; alignCorners with nearest; a non-positive size.</exception>
    public static Tensor Interpolate(Tensor x, long[]? size = null, double[]? scaleFactor = null, InterpolationMode mode = InterpolationMode.Nearest, bool? alignCorners = null)
    {
        int spatial = x.Dim - 2;
        if (spatial < 1 || spatial > 3)
            throw new ArgumentException($"Interpolate: expected input [N, C, W], [N, C, H, W] or [N, C, D, H, W], got {x.Shape}.");
        int need = mode switch { InterpolationMode.Linear => 1, InterpolationMode.Bilinear or InterpolationMode.Bicubic => 2, InterpolationMode.Trilinear => 3, _ => spatial };
        if (need != spatial)
            throw new ArgumentException($"Interpolate: Got {x.Dim}D input, but {mode.ToString().ToLowerInvariant()} mode needs {need + 2}D input (shape {x.Shape}).");
        if (mode == InterpolationMode.Nearest && alignCorners is not null)
            throw new ArgumentException("Interpolate: align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear");
        if ((size is null) == (scaleFactor is null))
            throw new ArgumentException(size is null ? "Interpolate: either size or scale_factor should be defined" : "Interpolate: only one of size or scale_factor should be defined");
        var inSize = x.Shape.ToArray()[2..];
        long[] outSize = new long[spatial];
        double[] scales = new double[spatial];
        for (int k = 0; k < spatial; k++)
        {
            if (size is not null)
            {
                if (size.Length != 1 && size.Length != spatial)
                    throw new ArgumentException($"Interpolate: size shape must match input shape. Input is {spatial}D, size is {size.Length}");
                outSize[k] = size.Length == 1 ? size[0] : size[k];
                scales[k] = (double)inSize[k] / outSize[k];
            }
            else
            {
                if (scaleFactor!.Length != 1 && scaleFactor.Length != spatial)
                    throw new ArgumentException($"Interpolate: scale_factor shape must match input shape. Input is {spatial}D, scale_factor is {scaleFactor.Length}");
                double f = scaleFactor.Length == 1 ? scaleFactor[0] : scaleFactor[k];
                if (!(f > 0)) throw new ArgumentException($"Interpolate: scale_factor must be positive, got {f}.");
                outSize[k] = (long)Math.Floor(inSize[k] * f);
                scales[k] = 1.0 / f;
            }
            if (outSize[k] <= 0)
                throw new ArgumentException($"Interpolate: Input and output sizes should be greater than 0, but got input ({string.Join(", ", inSize)}) and output ({string.Join(", ", outSize)})");
        }
        bool align = alignCorners ?? false;
        var y = x;
        for (int k = 0; k < spatial; k++)
        {
            var taps = mode switch
            {
                InterpolationMode.Nearest => NearestTaps(inSize[k], outSize[k], scales[k]),
                InterpolationMode.Bicubic => CubicTaps(inSize[k], outSize[k], scales[k], align),
                _ => LinearTaps(inSize[k], outSize[k], scales[k], align),
            };
            y = Resample(y, 2 + k, taps);
        }
        return y;
    }

    // One tap: for every output index, a source index and a weight. The output is Σ_taps select(src)·weight.
    private readonly record struct Tap(long[] Index, double[] Weight);

    private static Tensor Resample(Tensor x, int dim, Tap[] taps)
    {
        Tensor? acc = null;
        var wShape = Enumerable.Repeat(1L, x.Dim).ToArray();
        foreach (var t in taps)
        {
            var sel = x.IndexSelect(dim, Tensor.FromArray(t.Index).To(x.Device));
            if (t.Weight.Length == 0) { acc = sel; continue; }   // nearest: weight 1
            wShape[dim] = t.Weight.Length;
            var w = Tensor.FromArray(t.Weight).Reshape(wShape).To(x.Device).To(x.DType);
            acc = acc is null ? sel * w : acc + sel * w;
        }
        return acc!;
    }

    private static Tap[] NearestTaps(long n, long m, double scale)
    {
        var idx = new long[m];
        // PyTorch computes the nearest source index in float32 (floorf(j·scale)); doing the same keeps ties identical.
        float s = (float)scale;
        for (long j = 0; j < m; j++) idx[j] = Math.Min((long)MathF.Floor(j * s), n - 1);
        return [new Tap(idx, [])];
    }

    private static double SourceIndex(long j, long n, long m, double scale, bool align, bool cubic)
    {
        if (align) return m > 1 ? j * (double)(n - 1) / (m - 1) : 0;
        double src = (j + 0.5) * scale - 0.5;
        return !cubic && src < 0 ? 0 : src;   // linear clamps below 0; cubic extrapolates and clamps the taps instead
    }

    private static Tap[] LinearTaps(long n, long m, double scale, bool align)
    {
        var i0 = new long[m]; var i1 = new long[m]; var w0 = new double[m]; var w1 = new double[m];
        for (long j = 0; j < m; j++)
        {
            double src = SourceIndex(j, n, m, scale, align, cubic: false);
            long lo = Math.Min((long)src, n - 1);
            double l = src - lo;
            i0[j] = lo; i1[j] = lo < n - 1 ? lo + 1 : lo;
            w0[j] = 1 - l; w1[j] = l;
        }
        return [new Tap(i0, w0), new Tap(i1, w1)];
    }

    private static Tap[] CubicTaps(long n, long m, double scale, bool align)
    {
        const double A = -0.75;
        var taps = Enumerable.Range(0, 4).Select(_ => new Tap(new long[m], new double[m])).ToArray();
        for (long j = 0; j < m; j++)
        {
            double src = SourceIndex(j, n, m, scale, align, cubic: true);
            long i = (long)Math.Floor(src);
            double t = src - i;
            // Keys' cubic convolution kernel with a = −0.75 at distances 1 + t, t, 1 − t, 2 − t.
            double[] w =
            [
                ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A,
                ((A + 2) * t - (A + 3)) * t * t + 1,
                ((A + 2) * (1 - t) - (A + 3)) * (1 - t) * (1 - t) + 1,
                ((A * (2 - t) - 5 * A) * (2 - t) + 8 * A) * (2 - t) - 4 * A,
            ];
            for (int k = 0; k < 4; k++)
            {
                taps[k].Index[j] = Math.Clamp(i - 1 + k, 0, n - 1);
                taps[k].Weight[j] = w[k];
            }
        }
        return taps;
    }
}
