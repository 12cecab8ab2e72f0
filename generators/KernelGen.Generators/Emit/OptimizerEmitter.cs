using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;

namespace KernelGen.Generators.Emit;

/// <summary>Emits the learning rate, ApplyGradients and TrainStep for the plan's optimizer.</summary>
internal static class OptimizerEmitter
{
    public static void Emit(SourceWriter w, EmitContext c)
    {
        KernelPlan p = c.Plan;
        string T = c.T;
        string labelType = c.LabelType!;
        string paramName = p.Loss == Model.LossKind.SoftmaxCrossEntropy ? "labels" : "targets";

        w.Line($"private {T} _learningRate;");
        w.Line();
        w.Line($"/// <summary>The SGD learning rate η (initially {c.Literal(p.LearningRate)}); must be positive and finite.</summary>");
        using (w.Block($"public {T} LearningRate"))
        {
            w.Line("get => _learningRate;");
            using (w.Block("set"))
            {
                w.Line($"if (!({T}.IsFinite(value) && value > 0)) {EmitContext.Ns}.ThrowHelper.ThrowArgumentOutOfRange(nameof(value), value, \"The learning rate must be positive and finite.\");");
                w.Line("_learningRate = value;");
            }
        }
        w.Line();
        w.Line("/// <summary>One SGD update, θ ← θ − η·g, over the whole parameter arena in one vectorized pass.</summary>");
        using (w.Block("public void ApplyGradients()"))
        {
            w.Line($"{EmitContext.Kernels}.Optimizers.SgdStep<{T}>(_parameters.Span, _gradients.Span, _learningRate);");
        }
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// One training step: forward, loss, backward and SGD update. Returns the mean loss before the update.");
        w.Line("/// Throws <see cref=\"global::System.ArithmeticException\"/> without updating anything when the loss is not finite.");
        w.Line("/// </summary>");
        using (w.Block($"public {T} TrainStep({EmitContext.ReadOnlySpan}<{T}> inputs, {EmitContext.ReadOnlySpan}<{labelType}> {paramName})"))
        {
            w.Line($"{T} loss = ComputeGradients(inputs, {paramName});");
            w.Line($"if (!{T}.IsFinite(loss)) {EmitContext.Ns}.ThrowHelper.ThrowNonFiniteLoss(loss);");
            w.Line("ApplyGradients();");
            w.Line("return loss;");
        }
    }
}
