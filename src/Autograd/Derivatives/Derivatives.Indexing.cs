namespace Ember;

internal static partial class Derivatives
{
    private static void AddIndexing(Dictionary<OpKind, Derivative> t)
    {
        // cat: each input gets its own stretch of the gradient along dim.
        t[OpKind.Cat] = new("CatBackward", Saves.Nothing, (c, g) =>
        {
            var grads = new Tensor?[c.Args.Sizes.Length];
            long offset = 0;
            for (int i = 0; i < grads.Length; i++)
            {
                long size = c.Args.Sizes[i];
                if (c.NeedsGrad[i]) grads[i] = g.Narrow(c.Args.Dim, offset, size);
                offset += size;
            }
            return grads;
        });

        // gather reads x[index]: its gradient adds g back at index (repeated indices accumulate).
        t[OpKind.Gather] = new("GatherBackward", Saves.Nothing, (c, g) =>
            [Tensor.Zeros(c.Args.InputShape, g.DType, g.Device).ScatterAdd(c.Args.Dim, c.Args.Index!, g)]);

        // scatter overwrites self at index: self's gradient is 0 there; src's is g read at index.
        t[OpKind.Scatter] = new("ScatterBackward", Saves.Nothing, (c, g) =>
        {
            var grads = new Tensor?[c.InputShapes.Length];
            if (c.NeedsGrad[0]) grads[0] = g.Scatter(c.Args.Dim, c.Args.Index!, 0.0);
            if (grads.Length > 1 && c.NeedsGrad[1]) grads[1] = PadTo(g.Gather(c.Args.Dim, c.Args.Index!), c.InputShapes[1]);
            return grads;
        });

        // scatter_add: self passes g through; src's gradient is g read at index.
        t[OpKind.ScatterAdd] = new("ScatterAddBackward", Saves.Nothing, (c, g) =>
            [c.NeedsGrad[0] ? g : null, c.NeedsGrad[1] ? PadTo(g.Gather(c.Args.Dim, c.Args.Index!), c.InputShapes[1]) : null]);

        // index_select reads slices: its gradient adds g back at index (repeated indices accumulate).
        // Unrecorded (the usual backward pass), the rows are added into the fresh zeros in place: the out-of-place
        // IndexAdd would copy the zeros first (one launch more, e.g. per embedding) and check the index again.
        t[OpKind.IndexSelect] = new("IndexSelectBackward", Saves.Nothing, (c, g) =>
        {
            var z = Tensor.Zeros(c.Args.InputShape, g.DType, g.Device);
            if (Recording(g) || z.Dim == 0 || c.Args.Index!.Dim != 1) return [z.IndexAdd(c.Args.Dim, c.Args.Index!, g)];
            z.Backend.IndexAdd(z, c.Args.Dim, c.Args.Index!, g, 1);
            return [z];
        });

        // index_add: self passes g through; source's gradient is α·g selected at index.
        t[OpKind.IndexAdd] = new("IndexAddBackward", Saves.Nothing, (c, g) =>
        {
            Tensor? source = null;
            if (c.NeedsGrad[1])
            {
                source = g.IndexSelect(c.Args.Dim, c.Args.Index!);
                if (c.Args.Alpha != 1) source *= c.Args.Alpha;
                source = source.Reshape(c.InputShapes[1].ToArray());   // a 0-dim source (1-D self) gets a 0-dim gradient
            }
            return [c.NeedsGrad[0] ? g : null, source];
        });

        // tril/triu zero a triangle: the gradient is zeroed in the same triangle.
        t[OpKind.Triangular] = new("TriangularBackward", Saves.Nothing, (c, g) =>
            [c.Args.KeepDim ? g.Triu(c.Args.Start) : g.Tril(c.Args.Start)]);
    }

    // scatter may use only the leading part of a larger source (index.size(d) ≤ source.size(d)): the unused
    // part of the source gets a zero gradient. Pads with zero blocks dim by dim (differentiable).
    private static Tensor PadTo(Tensor t, Shape shape)
    {
        for (int d = 0; d < shape.Rank; d++)
        {
            long missing = shape[d] - t.ShapeSpan[d];
            if (missing <= 0) continue;
            var blockShape = t.ShapeSpan.ToArray();
            blockShape[d] = missing;
            t = Tensor.Cat([t, Tensor.Zeros(blockShape, t.DType, t.Device)], d);
        }
        return t;
    }
}
