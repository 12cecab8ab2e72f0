using KernelGen.Catalog;
using KernelGen.Generators.Emit;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;

namespace KernelGen.Generators.Ops;

/// <summary>Softmax as a layer: <c>Kernels.Softmax</c> forward, and backward from its output in place.</summary>
internal sealed class SoftmaxGenerator : OpGenerator
{
    public override LayerKind Kind => LayerKind.Softmax;

    public override void Forward(SourceWriter w, EmitContext c, NodePlan node, ForwardBindings b)
    {
        w.Line($"// {node.Name}: softmax over {node.Out} features");
        w.Line($"{EmitContext.Kernels}.Softmax.Forward<T>({b.Input}, {b.Output}, batch, {EmitContext.Int(node.Out)});");
    }

    public override void Backward(SourceWriter w, EmitContext c, NodePlan node, BackwardBindings b)
    {
        w.Line($"// {node.Name}: softmax");
        w.Line($"{EmitContext.Kernels}.Softmax.Backward<T>({b.Output}, {b.OutputGradient}, {b.OutputGradient}, batch, {EmitContext.Int(node.Out)});");
    }
}
