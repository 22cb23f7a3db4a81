namespace Ember;

internal static partial class Derivatives
{
    private static void AddViews(Dictionary<OpKind, Derivative> t)
    {
        t[OpKind.Reshape] = new("ReshapeBackward", Saves.Nothing, (c, g) => [g.Reshape(c.Args.InputShape)]);

        // Permute back with the inverse permutation: result dim i came from input dim perm[i].
        t[OpKind.Permute] = new("PermuteBackward", Saves.Nothing, (c, g) =>
        {
            var perm = c.Args.Perm;
            var inverse = new int[perm.Length];
            for (int i = 0; i < perm.Length; i++) inverse[perm[i]] = i;
            return [g.Permute(inverse)];
        });

        // Expand is broadcasting: sum the gradient over the expanded dims.
        t[OpKind.Expand] = new("ExpandBackward", Saves.Nothing, (c, g) => [SumToShape(g, c.Args.InputShape)]);

        // A slice's gradient is zero outside the slice.
        t[OpKind.Slice] = new("SliceBackward", Saves.Nothing, (c, g) => [SliceBackward(g, c.Args)]);

        t[OpKind.Copy] = new("CloneBackward", Saves.Nothing, (c, g) => [g]);
        t[OpKind.ToDType] = new("ToCopyBackward", Saves.Nothing, (c, g) => [g.To(c.Args.DType)]);
        t[OpKind.ToDevice] = new("ToCopyBackward", Saves.Nothing, (c, g) => [g.To(c.Args.Device)]);
    }

    // Zeros of the input's shape with g placed at [start : start + length·step : step] along dim.
    private static Tensor SliceBackward(Tensor g, OpArgs a)
    {
        var zeros = Tensor.Zeros(a.InputShape, g.DType, g.Device);
        if (Recording(g))
        {
            // createGraph: build it with a differentiable op (index_add's backward is index_select).
            var positions = Tensor.Arange(a.Start, a.Start + a.Length * a.Step, a.Step, DType.Int64, g.Device);
            return zeros.IndexAdd(a.Dim, positions, g);
        }
        // Plain backward: copy g into the slice of a fresh zero tensor (nobody else sees it yet).
        var window = zeros.Detach().Slice(a.Dim, a.Start, a.Start + (a.Length - 1) * a.Step + 1, a.Step);
        if (a.Length > 0) g.Backend.Copy(g, window);
        return zeros;
    }
}
