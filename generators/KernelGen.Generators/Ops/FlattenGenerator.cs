using KernelGen.Catalog;
using KernelGen.Generators.Emit;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;

namespace KernelGen.Generators.Ops;

/// <summary>
/// Flatten: a sample's elements are already contiguous and row-major, so the output is the input's data under a flat
/// shape and its gradient passes through unchanged. The one copy: in training, when the input is the caller's span,
/// the output gets a buffer of its own so that LayerOutput can show it after the call.
/// </summary>
internal sealed class FlattenGenerator : OpGenerator
{
    public override LayerKind Kind => LayerKind.Flatten;

    public override OutputMode Output(NodePlan node, bool training) => OutputMode.Alias;

    public override OutputMode Gradient(NodePlan node) => OutputMode.Alias;

    public override void Forward(SourceWriter w, EmitContext c, NodePlan node, ForwardBindings b)
    {
        if (b.SameBuffer) return;
        w.Line($"// {node.Name}: flatten {node.InputShape} → [{node.Out}] (a copy, so the output outlives the caller's input)");
        w.Line($"{b.Input}.CopyTo({b.Output});");
    }

    public override void Backward(SourceWriter w, EmitContext c, NodePlan node, BackwardBindings b)
    {
    }
}
