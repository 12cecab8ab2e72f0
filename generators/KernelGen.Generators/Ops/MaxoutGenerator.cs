using System.Collections.Generic;
using KernelGen.Catalog;
using KernelGen.Generators.Emit;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;

namespace KernelGen.Generators.Ops;

/// <summary>Maxout options: pieces per unit and the resolved weight initialization.</summary>
internal sealed record MaxoutOptions(int Pieces, Init Init) : OpOptions;

/// <summary>
/// Maxout: a dense part to units·pieces outputs (kept for backward), then the max over each unit's adjacent pieces;
/// backward routes each unit's gradient to its winning piece (in a scratch buffer), then through the dense part.
/// </summary>
internal sealed class MaxoutGenerator : OpGenerator
{
    public override LayerKind Kind => LayerKind.Maxout;

    public override OpOptions Options(OptionValues values) => new MaxoutOptions(values.Int("Pieces"), (Init)values.Int("Init"));

    private static int Pieces(NodePlan node) => ((MaxoutOptions)node.Options).Pieces;

    public override IEnumerable<BufferNeed> Saved(NodePlan node) { yield return new BufferNeed("pieces", node.Out * Pieces(node)); }

    public override IEnumerable<BufferNeed> EvaluationScratch(NodePlan node) { yield return new BufferNeed("pieces", node.Out * Pieces(node)); }

    public override IEnumerable<BufferNeed> BackwardScratch(NodePlan node) { yield return new BufferNeed("dz", node.Out * Pieces(node)); }

    public override bool WritesInputGradient(NodePlan node) => true;

    public override void Forward(SourceWriter w, EmitContext c, NodePlan node, ForwardBindings b)
    {
        int pieces = Pieces(node), linear = node.Out * pieces;
        string pre = EmitContext.Work(b.Training ? b.SavedRegions["pieces"] : b.ScratchRegions["pieces"], linear);
        w.Line($"// {node.Name}: maxout {node.In} → {node.Out} units × {pieces} pieces");
        w.Line($"{EmitContext.Kernels}.Dense.Forward<T, {EmitContext.Ops}.IdentityOp<T>>({b.Input}, {EmitContext.Param(node.Tensor(TensorRole.Weight))}, " +
               $"{EmitContext.Param(node.Tensor(TensorRole.Bias))}, {pre}, batch, {EmitContext.Int(node.In)}, {EmitContext.Int(linear)});");
        w.Line($"{EmitContext.Kernels}.Maxout.Forward<T>({pre}, {b.Output}, batch, {EmitContext.Int(node.Out)}, {EmitContext.Int(pieces)});");
    }

    public override void Backward(SourceWriter w, EmitContext c, NodePlan node, BackwardBindings b)
    {
        int pieces = Pieces(node), linear = node.Out * pieces;
        string dz = EmitContext.Work(b.ScratchRegions["dz"], linear);
        string sizes = $"batch, {EmitContext.Int(node.In)}, {EmitContext.Int(linear)}";
        w.Line($"// {node.Name}: maxout {node.In} → {node.Out} × {pieces}: the gradient flows to each unit's winning piece");
        w.Line($"{EmitContext.Kernels}.Maxout.Backward<T>({EmitContext.Work(b.SavedRegions["pieces"], linear)}, {b.OutputGradient}, {dz}, batch, {EmitContext.Int(node.Out)}, {EmitContext.Int(pieces)});");
        w.Line(EmitContext.UnlessFrozen(node, $"{EmitContext.Kernels}.Dense.BackwardParameters<T>({b.Input}, {dz}, {EmitContext.Grad(node.Tensor(TensorRole.Weight))}, {EmitContext.Grad(node.Tensor(TensorRole.Bias))}, {sizes});"));
        if (b.InputGradient is null) return;
        string call = $"{EmitContext.Kernels}.Dense.BackwardInput<T>({dz}, {EmitContext.Param(node.Tensor(TensorRole.Weight))}, {b.InputGradient}, {sizes});";
        w.Line(b.InputGradientIsCaller ? $"if (!{b.InputGradient}.IsEmpty) {call}" : call);
    }
}
