using System.Collections.Generic;
using KernelGen.Catalog;
using KernelGen.Generators.Emit;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;

namespace KernelGen.Generators.Ops;

/// <summary>
/// [Add]: y = x₁ + x₂ + …. Forward sums into the output (in evaluation over the first input's buffer when that input dies
/// here); backward passes ∂L/∂y through to every input: the first input whose gradient starts here takes ∂L/∂y's own
/// region, an input already holding a gradient from a later reader gets ∂L/∂y added (the emitter's accumulation step), and
/// any other gets a copy.
/// </summary>
internal sealed class AddGenerator : OpGenerator
{
    public override LayerKind Kind => LayerKind.Add;

    public override OutputMode Output(NodePlan node, bool training) => training ? OutputMode.Distinct : OutputMode.InPlace;

    public override OutputMode Gradient(NodePlan node) => OutputMode.InPlace;

    public override void Forward(SourceWriter w, EmitContext c, NodePlan node, ForwardBindings b)
    {
        w.Line($"// {node.Name}: sum of {b.Inputs.Count} inputs of {node.Out} elements");
        w.Line($"{EmitContext.Kernels}.Merge.Add<T>({b.Inputs[0]}, {b.Inputs[1]}, {b.Output});");
        for (int j = 2; j < b.Inputs.Count; j++)
            w.Line($"{EmitContext.Kernels}.Merge.AddInto<T>({b.Inputs[j]}, {b.Output});");
    }

    public override void Backward(SourceWriter w, EmitContext c, NodePlan node, BackwardBindings b)
    {
        w.Line($"// {node.Name}: ∂L/∂y flows unchanged to each input");
        foreach (string? target in b.InputGradients)
        {
            if (target is null) continue;
            w.Line(target == "inputGradient" ? $"if (!inputGradient.IsEmpty) {b.OutputGradient}.CopyTo(inputGradient);" : $"{b.OutputGradient}.CopyTo({target});");
        }
    }
}

/// <summary>[Concat]: each sample's inputs side by side along its first dimension; backward hands each input its slice of ∂L/∂y.</summary>
internal sealed class ConcatGenerator : OpGenerator
{
    public override LayerKind Kind => LayerKind.Concat;

    public override OutputMode Gradient(NodePlan node) => OutputMode.Distinct;

    public override void Forward(SourceWriter w, EmitContext c, NodePlan node, ForwardBindings b)
    {
        w.Line($"// {node.Name}: concatenation of {b.Inputs.Count} inputs into {node.OutputShape}");
        int offset = 0;
        for (int j = 0; j < b.Inputs.Count; j++)
        {
            int size = node.InputShapes[j].Size;
            w.Line($"{EmitContext.Kernels}.Merge.ConcatForward<T>({b.Inputs[j]}, {b.Output}, batch, {EmitContext.Int(size)}, {EmitContext.Int(node.Out)}, {EmitContext.Int(offset)});");
            offset += size;
        }
    }

    public override void Backward(SourceWriter w, EmitContext c, NodePlan node, BackwardBindings b)
    {
        w.Line($"// {node.Name}: each input's slice of ∂L/∂y");
        int offset = 0;
        for (int j = 0; j < b.InputGradients.Count; j++)
        {
            int size = node.InputShapes[j].Size;
            if (b.InputGradients[j] is { } target)
            {
                string call = $"{EmitContext.Kernels}.Merge.ConcatBackward<T>({b.OutputGradient}, {target}, batch, {EmitContext.Int(size)}, {EmitContext.Int(node.Out)}, {EmitContext.Int(offset)});";
                w.Line(target == "inputGradient" ? $"if (!inputGradient.IsEmpty) {call}" : call);
            }
            offset += size;
        }
    }
}
