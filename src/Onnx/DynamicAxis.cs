namespace Ember;

/// <summary>A dynamic axis of a graph input and its sizes in the two traces.</summary>
/// <param name="Input">The graph input's index.</param>
/// <param name="Axis">The axis.</param>
/// <param name="Symbol">Its symbolic name (dim_param).</param>
/// <param name="Size1">Its size in the first trace (the sample's).</param>
/// <param name="Size2">Its size in the second trace.</param>
internal sealed record DynamicAxis(int Input, int Axis, string Symbol, long Size1, long Size2);
