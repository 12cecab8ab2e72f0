using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;

namespace KernelGen.Generators.Emit;

/// <summary>Emits the forward and backward code of one step (dense or standalone activation).</summary>
internal static class StepEmitter
{
    /// <summary>Forward: reads <paramref name="source"/> and writes <paramref name="destination"/> (batch rows).</summary>
    public static void Forward(SourceWriter w, EmitContext c, StepPlan step, string source, string destination)
    {
        if (step.Kind == StepKind.Dense)
        {
            w.Line($"// {step.Name}: dense {step.In} → {step.Out}{(step.Activation == Activation.Identity ? "" : ", " + step.Activation)} (bias and activation fused)");
            w.Line($"{EmitContext.Kernels}.Dense.Forward<{c.T}, {c.ActivationOp(step.Activation)}>({source}, {EmitContext.Param(step.WeightOffset, step.In * step.Out)}, " +
                   $"{EmitContext.Param(step.BiasOffset, step.Out)}, {destination}, batch, {EmitContext.Int(step.In)}, {EmitContext.Int(step.Out)});");
        }
        else
        {
            w.Line($"// {step.Name}: {step.Activation} over {step.Out} features");
            w.Line($"{source}.CopyTo({destination});");
            w.Line($"{EmitContext.Ops}.Elementwise.ForwardInPlace<{c.T}, {c.ActivationOp(step.Activation)}>({destination});");
        }
    }

    /// <summary>
    /// Backward: <paramref name="gradient"/> holds ∂L/∂(step output) and is turned in place into ∂L/∂(pre-activation);
    /// parameter gradients are written; ∂L/∂(step input) goes to <paramref name="inputGradient"/> when not null
    /// (null for a standalone activation that is not the first step: its input gradient stays in place).
    /// </summary>
    public static void Backward(SourceWriter w, EmitContext c, StepPlan step, string input, string output, string gradient, string? inputGradient, bool inputGradientOptional)
    {
        if (step.Kind == StepKind.Dense)
        {
            w.Line($"// {step.Name}: dense {step.In} → {step.Out}{(step.Activation == Activation.Identity ? "" : ", " + step.Activation + " derivative fused")}");
            if (step.Activation != Activation.Identity)
                w.Line($"{EmitContext.Ops}.Elementwise.BackwardInPlace<{c.T}, {c.ActivationOp(step.Activation)}>({output}, {gradient});");
            w.Line($"{EmitContext.Kernels}.Dense.BackwardParameters<{c.T}>({input}, {gradient}, {EmitContext.Grad(step.WeightOffset, step.In * step.Out)}, " +
                   $"{EmitContext.Grad(step.BiasOffset, step.Out)}, batch, {EmitContext.Int(step.In)}, {EmitContext.Int(step.Out)});");
            if (inputGradient is null) return;
            string call = $"{EmitContext.Kernels}.Dense.BackwardInput<{c.T}>({gradient}, {EmitContext.Param(step.WeightOffset, step.In * step.Out)}, {inputGradient}, batch, {EmitContext.Int(step.In)}, {EmitContext.Int(step.Out)});";
            w.Line(inputGradientOptional ? $"if (!{inputGradient}.IsEmpty) {call}" : call);
        }
        else
        {
            w.Line($"// {step.Name}: {step.Activation} derivative");
            w.Line($"{EmitContext.Ops}.Elementwise.BackwardInPlace<{c.T}, {c.ActivationOp(step.Activation)}>({output}, {gradient});");
            if (inputGradient is null) return;
            string copy = $"{gradient}.CopyTo({inputGradient});";
            w.Line(inputGradientOptional ? $"if (!{inputGradient}.IsEmpty) {copy}" : copy);
        }
    }
}
