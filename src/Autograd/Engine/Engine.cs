namespace Ember;

/// <summary>
/// The backward pass. Reads like the textbook algorithm:
/// <list type="number">
/// <item>walk the graph once from the outputs (an explicit stack, no recursion) and count, for every
/// node, how many edges point at it — its dependencies;</item>
/// <item>seed the outputs' gradients, then repeatedly take a node whose dependencies are all done, run
/// its formula, and add ("+=") each produced gradient into the buffer of the node it is meant for;</item>
/// <item>when a node's last dependency is done it becomes ready. Leaves' AccumulateGrad nodes write .Grad.</item>
/// </list>
/// This is Kahn's topological sort, so a graph 10,000 ops deep needs no deeper stack than one op.
/// </summary>
internal static class Engine
{
    /// <summary>The error for a second backward through freed buffers.</summary>
    public static InvalidOperationException FreedGraphError(string nodeName) => new(
        $"Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed), at {nodeName}. " +
        "Saved intermediate values of the graph are freed when you call Backward() or Autograd.Grad(). " +
        "Specify retainGraph: true if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.");

    /// <summary>
    /// Runs backward from <paramref name="outputs"/> seeded with <paramref name="gradOutputs"/>.
    /// With <paramref name="captureInputs"/> null, accumulates into leaves' .Grad (Tensor.Backward);
    /// otherwise returns the gradients of those tensors and leaves every .Grad alone (Autograd.Grad).
    /// </summary>
    public static Tensor?[] Run(IReadOnlyList<Tensor> outputs, IReadOnlyList<Tensor> gradOutputs,
        bool retainGraph, bool createGraph, IReadOnlyList<Tensor>? captureInputs)
    {
        // Roots: the node that receives each output's gradient.
        var roots = new Node[outputs.Count];
        for (int i = 0; i < outputs.Count; i++)
            roots[i] = TensorState.GradientEdge(outputs[i])
                ?? throw new InvalidOperationException($"element {i} of tensors does not require grad and does not have a grad_fn");

        // 1. Discover the graph and count each node's dependencies (edges pointing at it).
        var dependencies = new Dictionary<Node, int>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<Node>();
        foreach (var r in roots)
            if (dependencies.TryAdd(r, 0)) stack.Push(r);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            foreach (var next in node.Next)
            {
                if (next == null) continue;
                if (dependencies.TryGetValue(next, out int d)) dependencies[next] = d + 1;
                else { dependencies[next] = 1; stack.Push(next); }
            }
        }

        // Autograd.Grad: the nodes whose incoming gradient is wanted, and which nodes lead to them.
        Dictionary<Node, int>? captureIndex = null;
        HashSet<Node>? needed = null;
        var captured = new Tensor?[captureInputs?.Count ?? 0];
        if (captureInputs != null)
        {
            captureIndex = new(ReferenceEqualityComparer.Instance);
            for (int i = 0; i < captureInputs.Count; i++)
            {
                var t = captureInputs[i];
                var edge = TensorState.GradientEdge(t)
                    ?? throw new InvalidOperationException($"One of the differentiated Tensors (input {i}, shape {t.Shape}) does not require grad.");
                captureIndex.TryAdd(edge, i);
            }
            needed = NodesLeadingTo(dependencies.Keys, captureIndex);
        }

        // 2. Seed the buffers with the outputs' gradients.
        var buffers = new Dictionary<Node, Tensor>(ReferenceEqualityComparer.Instance);
        bool anomaly = Autograd.IsAnomalyEnabled;
        // Gradient buffers and formula temporaries go back to the backend as soon as the engine drops them (not under
        // createGraph, whose recorded graph saves gradients, nor under anomaly mode).
        var owned = createGraph || anomaly ? null : new OwnedGradients();
        for (int i = 0; i < roots.Length; i++) Accumulate(buffers, null, owned, roots[i], gradOutputs[i]);

        // Ready nodes: newest first (a valid order among ready nodes; matches PyTorch). AccumulateGrad
        // runs as soon as it is ready, so post-accumulate hooks (gradient all-reduce) fire early.
        var ready = new PriorityQueue<Node, long>();
        foreach (var r in roots)
            if (dependencies[r] == 0 && !ready.UnorderedItems.Any(e => ReferenceEquals(e.Element, r)))
                ready.Enqueue(r, Priority(r));

        // Slices' gradients go straight into one buffer per input (not under createGraph, which records the formula,
        // nor under anomaly mode, which checks each formula's output).
        var slices = createGraph || anomaly ? null : new SliceGradients();
        bool previousMode = GradMode.Set(createGraph);   // formulas are recorded only under createGraph
        // Backward ops run in the dtypes their forward ops chose: a Backward() called inside an autocast scope must not
        // cast the gradients again (PyTorch's engine runs with autocast off too).
        var autocastOff = Autocast.Suspend();
        try
        {
            // 3. Run nodes in topological order.
            while (ready.Count > 0)
            {
                var node = ready.Dequeue();
                buffers.Remove(node, out var grad);
                if (slices?.Take(node) is { } sliced) grad = grad is null ? sliced : Sum(owned, sliced, grad);
                if (grad is null)
                {
                    // Every gradient into this node was null (e.g. it only feeds inputs that need none):
                    // run nothing, but still tell the nodes below that this dependency is done.
                    ReleaseDependencies(node, dependencies, ready);
                    continue;
                }

                if (node.TensorHooks != null)
                {
                    owned?.Export(grad);   // user code: it may keep the gradient
                    foreach (var hook in node.TensorHooks.ToArray())
                        grad = CheckHookResult(node, grad, hook(grad));
                }
                if (node.RetainGradOf is { } retained)
                {
                    if (retained.Grad is null) owned?.Export(grad);
                    retained.Grad = retained.Grad is null ? (createGraph ? grad : grad.Detach()) : retained.Grad + grad;
                }

                if (captureIndex != null)
                {
                    if (captureIndex.TryGetValue(node, out int ci))
                    {
                        captured[ci] = grad;
                        owned?.Export(grad);
                    }
                    // Autograd.Grad runs only the nodes between the outputs and the inputs, and never accumulates.
                    if (!needed!.Contains(node) || node is AccumulateGrad)
                    {
                        owned?.Drop(grad);
                        continue;
                    }
                }

                // Slices and owned memory exist under the same condition (neither createGraph nor anomaly mode).
                if (slices != null && node is OpNode { Kind: OpKind.Slice } slice && slice.Next[0] is { } into
                    && owned!.Track(() => slices.TryAdd(into, slice.Args, grad, buffers)))
                {
                    owned.Drop(grad);
                    if (!retainGraph) node.Release(disposeScratch: true);
                    ReleaseDependencies(node, dependencies, ready);
                    continue;
                }

                var inputGrads = Apply(owned, node, grad);
                if (inputGrads.Length != node.Next.Length)
                    throw new InvalidOperationException($"{node.Name} returned {inputGrads.Length} gradients, expected {node.Next.Length}.");
                if (anomaly) CheckFinite(node, inputGrads);
                if (!retainGraph) node.Release(disposeScratch: owned != null);

                for (int i = 0; i < node.Next.Length; i++)
                {
                    var next = node.Next[i];
                    if (next == null) continue;
                    var g = inputGrads[i];
                    if (g is not null)
                    {
                        CheckGradShape(node, i, g);
                        owned?.Hold(g);
                        Accumulate(buffers, slices, owned, next, g);
                    }
                    int left = dependencies[next] - 1;
                    dependencies[next] = left;
                    if (left == 0) ready.Enqueue(next, Priority(next));
                }
                owned?.Drop(grad);
                owned?.Settle(inputGrads);
            }
        }
        finally
        {
            GradMode.Set(previousMode);
            autocastOff.Dispose();
        }
        return captured;
    }

    private static void ReleaseDependencies(Node node, Dictionary<Node, int> dependencies, PriorityQueue<Node, long> ready)
    {
        foreach (var next in node.Next)
        {
            if (next == null) continue;
            int left = dependencies[next] - 1;
            dependencies[next] = left;
            if (left == 0) ready.Enqueue(next, Priority(next));
        }
    }

    private static long Priority(Node n) => n is AccumulateGrad ? long.MinValue : -n.Sequence;

    // Gradients from several uses of a tensor add up: buffer += g (a new tensor; recorded under createGraph). A node
    // that slices have written to takes that buffer as its first term.
    private static void Accumulate(Dictionary<Node, Tensor> buffers, SliceGradients? slices, OwnedGradients? owned, Node node, Tensor g)
    {
        if (slices?.Take(node) is { } sliced) buffers[node] = sliced;
        buffers[node] = buffers.TryGetValue(node, out var existing) ? Sum(owned, existing, g) : g;
    }

    private static Tensor Sum(OwnedGradients? owned, Tensor a, Tensor b) => owned is null ? a + b : owned.Sum(a, b);

    // Runs a node's formula. With owned memory: a built-in formula is recorded (its temporaries freed at once); a leaf
    // whose gradient nothing else holds adopts it instead of copying it (PyTorch steals it the same way); anything else
    // runs user code (a custom Function), which may keep the gradient.
    private static Tensor?[] Apply(OwnedGradients? owned, Node node, Tensor grad)
    {
        if (owned is null) return node.Apply(grad);
        switch (node)
        {
            case OpNode:
                return owned.Apply(node, grad);
            case AccumulateGrad leaf:
                if (owned.IsExclusive(grad) && leaf.TryAdopt(grad))
                {
                    owned.Export(grad);
                    return [];
                }
                return node.Apply(grad);
            default:
                owned.Export(grad);
                return node.Apply(grad);
        }
    }

    // Reverse reachability: a node is needed when it is a capture target or an edge leads to a needed node.
    private static HashSet<Node> NodesLeadingTo(IEnumerable<Node> graph, Dictionary<Node, int> targets)
    {
        var parents = new Dictionary<Node, List<Node>>(ReferenceEqualityComparer.Instance);
        foreach (var n in graph)
            foreach (var next in n.Next)
                if (next != null)
                {
                    if (!parents.TryGetValue(next, out var list)) parents[next] = list = [];
                    list.Add(n);
                }
        var needed = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<Node>(targets.Keys);
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            if (!needed.Add(n)) continue;
            if (parents.TryGetValue(n, out var ps)) foreach (var p in ps) stack.Push(p);
        }
        return needed;
    }

    // PyTorch's check of a tensor hook's return value: it may replace the gradient, not change its size, dtype or device.
    private static Tensor CheckHookResult(Node node, Tensor grad, Tensor? replaced)
    {
        if (replaced is null) return grad;
        string where = node is AccumulateGrad ? "a leaf's" : $"the output of {node.Name}'s";
        if (!replaced.ShapeSpan.SequenceEqual(grad.ShapeSpan))
            throw new InvalidOperationException($"hook has changed the size of value: the hook on {where} gradient returned shape {replaced.Shape}, expected {grad.Shape}.");
        if (replaced.DType != grad.DType)
            throw new InvalidOperationException($"hook has changed the type of value: the hook on {where} gradient returned {replaced.DType}, expected {grad.DType}.");
        if (replaced.Device != grad.Device)
            throw new InvalidOperationException($"hook has changed the device of value: the hook on {where} gradient returned a tensor on {replaced.Device}, expected {grad.Device}.");
        return replaced;
    }

    private static void CheckGradShape(Node node, int i, Tensor g)
    {
        var expected = node.InputShapes;
        if (i < expected.Length && !g.ShapeSpan.SequenceEqual(expected[i].AsSpan()))
            throw new InvalidOperationException(
                $"{node.Name} returned an invalid gradient at index {i}: got shape {g.Shape} but expected shape {expected[i]}.");
    }

    // Anomaly mode: a NaN or ±∞ in a produced gradient names the forward op and where it was created.
    private static void CheckFinite(Node node, Tensor?[] grads)
    {
        for (int i = 0; i < grads.Length; i++)
        {
            var g = grads[i];
            if (g is null || !g.IsFloatingPoint) continue;
            double[] values = g.DType == DType.Float64 ? g.Detach().ToArray<double>() : g.Detach().To(DType.Float64).ToArray<double>();
            foreach (var v in values)
            {
                if (double.IsFinite(v)) continue;
                string what = double.IsNaN(v) ? "nan" : "inf";
                string forwardOp = node.Name.EndsWith("Backward", StringComparison.Ordinal) ? node.Name[..^"Backward".Length] : node.Name;
                string trace = node.CreationTrace != null
                    ? $"\nThe forward call that created it (captured under DetectAnomaly):\n{node.CreationTrace}"
                    : "\n(No forward trace: enable Autograd.DetectAnomaly() before the forward pass to see where the op was created.)";
                throw new InvalidOperationException(
                    $"Function '{node.Name}' returned {what} values in its {i}th output (the gradient of input {i} of the forward op {forwardOp}).{trace}");
            }
        }
    }
}
