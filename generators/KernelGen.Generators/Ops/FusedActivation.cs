using System;
using System.Collections.Generic;
using KernelGen.Generators.Emit;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;

namespace KernelGen.Generators.Ops;

/// <summary>
/// The activation fused into a layer's kernel (dense, convolution): forward, the kernel applies it in its epilogue, or,
/// when its derivative needs its input, writes the pre-activation (kept for backward in training) and the activation runs
/// after it; backward, its derivative is applied to ∂L/∂y in place before the layer's own gradients.
/// </summary>
internal static class FusedActivation
{
    /// <summary>Training: the pre-activation, when the derivative needs it.</summary>
    public static IEnumerable<BufferNeed> Saved(NodePlan node)
    {
        if (EmitContext.KeepsInput(node)) yield return new BufferNeed("pre", node.Out);
    }

    /// <summary>Emits the forward pass; <paramref name="call"/> gives the kernel call for an operator type and an output span.</summary>
    public static void Forward(SourceWriter w, NodePlan node, ForwardBindings b, string describe, Func<string, string, string> call)
    {
        if (!EmitContext.KeepsInput(node))
        {
            w.Line($"// {node.Name}: {describe}{(node.Activation == Activation.Identity ? "" : ", " + node.Activation)} (bias and activation fused)");
            w.Line(call(EmitContext.ActivationOp(node), b.Output));
            return;
        }
        string pre = b.Training ? EmitContext.Work(b.SavedRegions["pre"], node.Out) : b.Output;
        w.Line($"// {node.Name}: {describe}, then {EmitContext.ActivationName(node)} (its derivative needs the pre-activation{(b.Training ? ", kept" : "")})");
        w.Line(call($"{EmitContext.Ops}.IdentityOp<T>", pre));
        w.Line($"{EmitContext.Ops}.Elementwise.ForwardInput<T, {EmitContext.ActivationOp(node)}>({pre}, {b.Output});");
    }

    /// <summary>Emits the comment and the activation's derivative applied to ∂L/∂y in place.</summary>
    public static void Backward(SourceWriter w, NodePlan node, BackwardBindings b, string describe)
    {
        w.Line($"// {node.Name}: {describe}{(node.HasActivation ? ", " + EmitContext.ActivationName(node) + " derivative fused" : "")}");
        string op = EmitContext.ActivationOp(node);
        if (EmitContext.KeepsInput(node))
            w.Line($"{EmitContext.Ops}.Elementwise.BackwardInputInPlace<T, {op}>({EmitContext.Work(b.SavedRegions["pre"], node.Out)}, {b.OutputGradient});");
        else if (node.Activation != Activation.Identity)
            w.Line($"{EmitContext.Ops}.Elementwise.BackwardInPlace<T, {op}>({b.Output}, {b.OutputGradient});");
    }

    /// <summary>An input-gradient call, guarded when it writes the caller's optional span.</summary>
    public static string InputGradient(BackwardBindings b, string call) => b.InputGradientIsCaller ? $"if (!{b.InputGradient}.IsEmpty) {call}" : call;
}
