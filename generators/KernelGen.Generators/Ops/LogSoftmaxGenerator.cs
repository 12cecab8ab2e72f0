using KernelGen.Catalog;
using KernelGen.Generators.Emit;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;

namespace KernelGen.Generators.Ops;

/// <summary>Log-softmax as a layer: <c>Kernels.Softmax.LogForward</c>, and backward from its output in place.</summary>
internal sealed class LogSoftmaxGenerator : OpGenerator
{
    public override LayerKind Kind => LayerKind.LogSoftmax;

    public override void Forward(SourceWriter w, EmitContext c, NodePlan node, ForwardBindings b)
    {
        w.Line($"// {node.Name}: log-softmax over {node.Out} features");
        w.Line($"{EmitContext.Kernels}.Softmax.LogForward<T>({b.Input}, {b.Output}, batch, {EmitContext.Int(node.Out)});");
    }

    public override void Backward(SourceWriter w, EmitContext c, NodePlan node, BackwardBindings b)
    {
        w.Line($"// {node.Name}: log-softmax");
        w.Line($"{EmitContext.Kernels}.Softmax.LogBackward<T>({b.Output}, {b.OutputGradient}, {b.OutputGradient}, batch, {EmitContext.Int(node.Out)});");
    }
}
