namespace Ember.NN;

/// <summary>Flattening parameters to one vector and back (PyTorch's torch.nn.utils.parameters_to_vector / vector_to_parameters).</summary>
public static class ParameterVector
{
    /// <summary>Concatenates the flattened parameters into one 1-D tensor (differentiable: a new tensor, not a view).</summary>
    /// <exception cref="ArgumentException">No parameters, or parameters on different devices (PyTorch's message).</exception>
    public static Tensor ParametersToVector(IEnumerable<Tensor> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var ps = parameters.ToList();
        if (ps.Count == 0) throw new ArgumentException("ParametersToVector: expected at least one parameter.");
        CheckSameDevice(ps);
        return Tensor.Cat(ps.Select(p => p.Reshape(-1)).ToList(), 0);
    }

    /// <summary>Copies consecutive slices of <paramref name="vector"/> into the parameters, in place and without recording (PyTorch assigns param.data).</summary>
    /// <exception cref="ArgumentException">vector is not 1-D, its length is not the parameters' total, or devices differ.</exception>
    public static void VectorToParameters(Tensor vector, IEnumerable<Tensor> parameters)
    {
        ArgumentNullException.ThrowIfNull(vector);
        ArgumentNullException.ThrowIfNull(parameters);
        var ps = parameters.ToList();
        if (vector.Dim != 1) throw new ArgumentException($"VectorToParameters: expected a 1-D vector, got shape {vector.Shape}.");
        long total = ps.Sum(p => p.Numel);
        if (vector.Numel != total) throw new ArgumentException($"VectorToParameters: the vector has {vector.Numel} elements, the parameters {total}.");
        CheckSameDevice([vector, .. ps]);
        using (Autograd.NoGrad())
        {
            long off = 0;
            foreach (var p in ps)
            {
                p.Copy_(vector.Narrow(0, off, p.Numel).Reshape(p.Shape.ToArray()));
                off += p.Numel;
            }
        }
    }

    private static void CheckSameDevice(List<Tensor> ts)
    {
        foreach (var t in ts)
            if (t.Device != ts[0].Device)
                throw new ArgumentException($"Found two parameters on different devices, this is currently not supported ({ts[0].Device} and {t.Device}).");
    }
}
