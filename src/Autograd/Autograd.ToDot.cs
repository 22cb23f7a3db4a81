using System.Text;

namespace Ember;

public static partial class Autograd
{
    /// <summary>
    /// Writes the backward graph that produced <paramref name="root"/> as Graphviz DOT (for teaching: paste
    /// into <c>dot -Tsvg</c>). Backward nodes are boxes named after their op with their saved tensors; leaves
    /// (the tensors gradients accumulate into) are blue ellipses with their name and shape; the root is green.
    /// Edges point from an input to the node that consumes it, i.e. in the direction of the forward pass.
    /// </summary>
    /// <param name="root">The tensor whose history to draw.</param>
    /// <returns>A complete <c>digraph</c> with every node declared before the edges.</returns>
    public static string ToDot(Tensor root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var ids = new Dictionary<Node, string>(ReferenceEqualityComparer.Instance);
        var order = new List<Node>();
        var edges = new List<(string From, string To)>();
        var start = root.GradFn as Node ?? (root.RequiresGrad ? TensorState.GradientEdge(root) : null);

        // Breadth-first over the graph (iterative: deep graphs are fine).
        if (start != null)
        {
            var queue = new Queue<Node>();
            ids[start] = "n0"; order.Add(start); queue.Enqueue(start);
            while (queue.Count > 0)
            {
                var node = queue.Dequeue();
                foreach (var next in node.Next)
                {
                    if (next == null) continue;
                    if (!ids.TryGetValue(next, out var id))
                    {
                        id = "n" + ids.Count;
                        ids[next] = id;
                        order.Add(next);
                        queue.Enqueue(next);
                    }
                    edges.Add((id, ids[node]));
                }
            }
        }

        var sb = new StringBuilder();
        sb.AppendLine("digraph autograd {");
        sb.AppendLine("  node [fontname=\"monospace\", fontsize=10];");
        sb.AppendLine($"  out [label=\"{Escape(TensorLabel(root, root.Name ?? "output"))}\", shape=ellipse, style=filled, fillcolor=darkolivegreen1];");
        foreach (var node in order)
        {
            if (node is AccumulateGrad acc)
            {
                sb.AppendLine($"  {ids[node]} [label=\"{Escape(TensorLabel(acc.Variable, acc.Variable.Name ?? "leaf"))}\", shape=ellipse, style=filled, fillcolor=lightblue];");
                continue;
            }
            var label = new StringBuilder(node.Name);
            foreach (var s in node.SavedDescriptions) label.Append('\n').Append("saved ").Append(s);
            sb.AppendLine($"  {ids[node]} [label=\"{Escape(label.ToString())}\", shape=box];");
        }
        if (start != null) sb.AppendLine($"  {ids[start]} -> out;");
        foreach (var (from, to) in edges) sb.AppendLine($"  {from} -> {to};");
        sb.AppendLine("}");
        return sb.ToString();
    }

    private static string TensorLabel(Tensor t, string name) => $"{name}\n{t.Shape} {t.DType}";

    private static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
