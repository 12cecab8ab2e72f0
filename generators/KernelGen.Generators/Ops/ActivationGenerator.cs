using KernelGen.Catalog;
using KernelGen.Generators.Emit;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;

namespace KernelGen.Generators.Ops;

/// <summary>
/// A standalone element-wise activation, for every activation of the catalog: the operator struct, what its backward
/// reads and its parameter all come from the <see cref="ActivationDescriptor"/>. (An activation right after a dense
/// layer without one is fused into that layer instead.)
/// </summary>
internal sealed class ActivationGenerator : OpGenerator
{
    public override LayerKind Kind => LayerKind.Activation;

    public override OutputMode Output(NodePlan node, bool training) => training ? OutputMode.Distinct : OutputMode.InPlace;

    public override void Forward(SourceWriter w, EmitContext c, NodePlan node, ForwardBindings b)
    {
        string op = EmitContext.ActivationOp(node);
        w.Line($"// {node.Name}: {EmitContext.ActivationName(node)} over {node.Out} elements");
        if (EmitContext.KeepsInput(node))
        {
            w.Line($"{EmitContext.Ops}.Elementwise.ForwardInput<T, {op}>({b.Input}, {b.Output});");
            return;
        }
        if (!b.SameBuffer) w.Line($"{b.Input}.CopyTo({b.Output});");
        w.Line($"{EmitContext.Ops}.Elementwise.ForwardInPlace<T, {op}>({b.Output});");
    }

    public override void Backward(SourceWriter w, EmitContext c, NodePlan node, BackwardBindings b)
    {
        string op = EmitContext.ActivationOp(node);
        w.Line($"// {node.Name}: {EmitContext.ActivationName(node)} derivative");
        w.Line(EmitContext.KeepsInput(node)
            ? $"{EmitContext.Ops}.Elementwise.BackwardInputInPlace<T, {op}>({b.Input}, {b.OutputGradient});"
            : $"{EmitContext.Ops}.Elementwise.BackwardInPlace<T, {op}>({b.Output}, {b.OutputGradient});");
    }
}
