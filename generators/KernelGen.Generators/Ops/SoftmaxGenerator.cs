using KernelGen.Catalog;
using KernelGen.Generators.Emit;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;

namespace KernelGen.Generators.Ops;

/// <summary>
/// Softmax and log-softmax as layers: a <c>Kernels.Softmax</c> forward over each sample's features, and backward from the
/// output in place. The two differ only in their kernels.
/// </summary>
internal sealed class SoftmaxGenerator : OpGenerator
{
    private readonly string _title, _forward, _backward;

    private SoftmaxGenerator(LayerKind kind, string title, string forward, string backward)
    {
        Kind = kind; _title = title; _forward = forward; _backward = backward;
    }

    /// <summary>y = softmax(x): <c>Softmax.Forward</c> / <c>Softmax.Backward</c>.</summary>
    public static SoftmaxGenerator Softmax() => new(LayerKind.Softmax, "softmax", "Forward", "Backward");

    /// <summary>y = log softmax(x): <c>Softmax.LogForward</c> / <c>Softmax.LogBackward</c>.</summary>
    public static SoftmaxGenerator LogSoftmax() => new(LayerKind.LogSoftmax, "log-softmax", "LogForward", "LogBackward");

    public override LayerKind Kind { get; }

    public override void Forward(SourceWriter w, EmitContext c, NodePlan node, ForwardBindings b)
    {
        w.Line($"// {node.Name}: {_title} over {node.Out} features");
        w.Line($"{EmitContext.Kernels}.Softmax.{_forward}<T>({b.Input}, {b.Output}, batch, {EmitContext.Int(node.Out)});");
    }

    public override void Backward(SourceWriter w, EmitContext c, NodePlan node, BackwardBindings b)
    {
        w.Line($"// {node.Name}: {_title}");
        w.Line($"{EmitContext.Kernels}.Softmax.{_backward}<T>({b.Output}, {b.OutputGradient}, {b.OutputGradient}, batch, {EmitContext.Int(node.Out)});");
    }
}
