namespace Ember.NN;

/// <summary>Nonlinearities known to <see cref="Init.CalculateGain"/>.</summary>
public enum Nonlinearity
{
    /// <summary>Gain 1.</summary>
    Linear,
    /// <summary>Gain 1.</summary>
    Conv1d,
    /// <summary>Gain 1.</summary>
    Conv2d,
    /// <summary>Gain 1.</summary>
    Conv3d,
    /// <summary>Gain 1.</summary>
    ConvTranspose1d,
    /// <summary>Gain 1.</summary>
    ConvTranspose2d,
    /// <summary>Gain 1.</summary>
    ConvTranspose3d,
    /// <summary>Gain 1.</summary>
    Sigmoid,
    /// <summary>Gain 5/3.</summary>
    Tanh,
    /// <summary>Gain √2.</summary>
    Relu,
    /// <summary>Gain √(2/(1 + slope²)).</summary>
    LeakyRelu,
    /// <summary>Gain 3/4.</summary>
    Selu,
}

/// <summary>Which fan Kaiming initialization preserves.</summary>
public enum FanMode
{
    /// <summary>Preserve the variance of activations in the forward pass.</summary>
    FanIn,
    /// <summary>Preserve the variance of gradients in the backward pass.</summary>
    FanOut,
}

/// <summary>
/// In-place weight initializers (PyTorch's torch.nn.init). Each runs under no-grad and returns its argument.
/// Values come from <see cref="Ember.Random.Default"/> (or the given generator), so they match PyTorch in distribution,
/// not bit for bit.
/// </summary>
public static class Init
{
    /// <summary>The recommended gain for a nonlinearity; <paramref name="param"/> is LeakyReLU's negative slope (default 0.01).</summary>
    public static double CalculateGain(Nonlinearity nonlinearity, double? param = null) => nonlinearity switch
    {
        Nonlinearity.Tanh => 5.0 / 3,
        Nonlinearity.Relu => Math.Sqrt(2.0),
        Nonlinearity.LeakyRelu => Math.Sqrt(2.0 / (1 + Math.Pow(param ?? 0.01, 2))),
        Nonlinearity.Selu => 3.0 / 4,
        _ => 1.0,
    };

    /// <summary>(fanIn, fanOut) of a weight: [out, in, k…] gives (in·Πk, out·Πk).</summary>
    /// <exception cref="ArgumentException">Fewer than 2 dims.</exception>
    public static (long FanIn, long FanOut) CalculateFanInAndFanOut(Tensor tensor)
    {
        if (tensor.Dim < 2)
            throw new ArgumentException($"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions (shape {tensor.Shape}).");
        long receptive = 1;
        for (int i = 2; i < tensor.Dim; i++) receptive *= tensor.Shape[i];
        return (tensor.Shape[1] * receptive, tensor.Shape[0] * receptive);
    }

    private static Tensor NoGrad(Tensor t, Action<Tensor> f)
    {
        using (NoGradScope.Enter()) f(t);
        return t;
    }

    /// <summary>Fills from U[a, b).</summary>
    public static Tensor Uniform_(Tensor tensor, double a = 0, double b = 1, Generator? generator = null) =>
        NoGrad(tensor, t => t.Uniform_(a, b, generator));

    /// <summary>Fills from N(mean, std²).</summary>
    public static Tensor Normal_(Tensor tensor, double mean = 0, double std = 1, Generator? generator = null) =>
        NoGrad(tensor, t => t.Normal_(mean, std, generator));

    /// <summary>Fills with <paramref name="value"/>.</summary>
    public static Tensor Constant_(Tensor tensor, double value) => NoGrad(tensor, t => t.Fill_(value));

    /// <summary>Fills with 0.</summary>
    public static Tensor Zeros_(Tensor tensor) => Constant_(tensor, 0);

    /// <summary>Fills with 1.</summary>
    public static Tensor Ones_(Tensor tensor) => Constant_(tensor, 1);

    /// <summary>Glorot uniform: U(−a, a), a = gain·√(6/(fanIn + fanOut)).</summary>
    public static Tensor XavierUniform_(Tensor tensor, double gain = 1, Generator? generator = null)
    {
        var (fi, fo) = CalculateFanInAndFanOut(tensor);
        double a = gain * Math.Sqrt(6.0 / (fi + fo));
        return Uniform_(tensor, -a, a, generator);
    }

    /// <summary>Glorot normal: N(0, std²), std = gain·√(2/(fanIn + fanOut)).</summary>
    public static Tensor XavierNormal_(Tensor tensor, double gain = 1, Generator? generator = null)
    {
        var (fi, fo) = CalculateFanInAndFanOut(tensor);
        return Normal_(tensor, 0, gain * Math.Sqrt(2.0 / (fi + fo)), generator);
    }

    private static double KaimingStd(Tensor tensor, double a, FanMode mode, Nonlinearity nonlinearity)
    {
        var (fi, fo) = CalculateFanInAndFanOut(tensor);
        long fan = mode == FanMode.FanIn ? fi : fo;
        return CalculateGain(nonlinearity, a) / Math.Sqrt(fan);
    }

    /// <summary>He uniform: U(−b, b), b = gain·√(3/fan), gain = CalculateGain(nonlinearity, a).</summary>
    public static Tensor KaimingUniform_(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn,
        Nonlinearity nonlinearity = Nonlinearity.LeakyRelu, Generator? generator = null)
    {
        double bound = Math.Sqrt(3.0) * KaimingStd(tensor, a, mode, nonlinearity);
        return Uniform_(tensor, -bound, bound, generator);
    }

    /// <summary>He normal: N(0, std²), std = gain/√fan.</summary>
    public static Tensor KaimingNormal_(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn,
        Nonlinearity nonlinearity = Nonlinearity.LeakyRelu, Generator? generator = null) =>
        Normal_(tensor, 0, KaimingStd(tensor, a, mode, nonlinearity), generator);

    /// <summary>
    /// A (semi-)orthogonal matrix times gain: the tensor viewed as [rows, cols] (rows = dim 0) is Q of the QR
    /// decomposition of a standard normal matrix, with R's diagonal signs folded in (PyTorch's recipe).
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than 2 dims.</exception>
    public static Tensor Orthogonal_(Tensor tensor, double gain = 1, Generator? generator = null)
    {
        if (tensor.Dim < 2) throw new ArgumentException($"Orthogonal_: only tensors with 2 or more dimensions are supported, got shape {tensor.Shape}.");
        int rows = (int)tensor.Shape[0], cols = (int)(tensor.Numel / rows);
        bool transpose = rows < cols;
        int m = transpose ? cols : rows, n = transpose ? rows : cols;   // m ≥ n
        var flat = Tensor.Randn([m, n], DType.Float64, Device.Cpu, false, generator).ToArray<double>();
        var q = HouseholderQ(flat, m, n);    // [m, n] with orthonormal columns
        var outv = new double[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                outv[i * cols + j] = gain * (transpose ? q[j * n + i] : q[i * n + j]);
        var src = Tensor.FromArray(outv, tensor.Shape.ToArray()).To(tensor.DType).To(tensor.Device);
        return NoGrad(tensor, t => t.Copy_(src));
    }

    // Thin QR by Householder reflections on a row-major [m, n] matrix (m ≥ n); returns Q [m, n] with columns
    // multiplied by sign(R_ii) so the factorization is unique (as PyTorch does after torch.linalg.qr).
    private static double[] HouseholderQ(double[] a, int m, int n)
    {
        var r = (double[])a.Clone();
        var vs = new double[n][];
        for (int k = 0; k < n; k++)
        {
            double norm = 0;
            for (int i = k; i < m; i++) norm += r[i * n + k] * r[i * n + k];
            norm = Math.Sqrt(norm);
            var v = new double[m];
            double alpha = r[k * n + k] > 0 ? -norm : norm;
            for (int i = k; i < m; i++) v[i] = r[i * n + k];
            v[k] -= alpha;
            double vn = 0;
            for (int i = k; i < m; i++) vn += v[i] * v[i];
            if (vn > 0)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int i = k; i < m; i++) s += v[i] * r[i * n + j];
                    s = 2 * s / vn;
                    for (int i = k; i < m; i++) r[i * n + j] -= s * v[i];
                }
            vs[k] = vn > 0 ? v : new double[m];
        }
        // Q = H0·H1·…·H(n−1) applied to the first n columns of the identity.
        var q = new double[m * n];
        for (int j = 0; j < n; j++) q[j * n + j] = 1;
        for (int k = n - 1; k >= 0; k--)
        {
            var v = vs[k];
            double vn = 0;
            for (int i = k; i < m; i++) vn += v[i] * v[i];
            if (vn == 0) continue;
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int i = k; i < m; i++) s += v[i] * q[i * n + j];
                s = 2 * s / vn;
                for (int i = k; i < m; i++) q[i * n + j] -= s * v[i];
            }
        }
        for (int j = 0; j < n; j++)
        {
            double sign = r[j * n + j] < 0 ? -1 : 1;
            for (int i = 0; i < m; i++) q[i * n + j] *= sign;
        }
        return q;
    }

    /// <summary>PyTorch's default for Linear/Conv weights: kaiming_uniform(a = √5), i.e. U(±1/√fanIn).</summary>
    internal static void DefaultWeight(Tensor weight) => KaimingUniform_(weight, Math.Sqrt(5));

    /// <summary>PyTorch's default for Linear/Conv biases: U(±1/√fanIn) with the weight's fanIn.</summary>
    internal static void DefaultBias(Tensor bias, long fanIn)
    {
        double bound = fanIn > 0 ? 1 / Math.Sqrt(fanIn) : 0;
        Uniform_(bias, -bound, bound);
    }
}
