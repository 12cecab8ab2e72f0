using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;

namespace KernelGen.Generators.Emit;

/// <summary>
/// Emits the forward (training or evaluation) and backward code of one step. Buffers are named by the network emitter:
/// <c>_out{i}</c> (training output), <c>_pre{i}</c> (pre-activation of maxout and of SiLU/GELU steps),
/// <c>_norm{i}</c>/<c>_istd{i}</c> (normalization caches), <c>_mask{i}</c> (dropout), <c>_inferC</c>/<c>_inferS</c>
/// (evaluation scratch, so Predict never touches the training caches).
/// </summary>
internal static class StepEmitter
{
    private const string Norm = EmitContext.Kernels + ".Normalization";

    /// <summary>Forward: reads <paramref name="source"/> and writes <paramref name="destination"/> (batch rows).</summary>
    public static void Forward(SourceWriter w, EmitContext c, StepPlan step, int index, string source, string destination, bool training)
    {
        string T = c.T, i = EmitContext.Int(index);
        string F = EmitContext.Int(step.Out);
        switch (step.Kind)
        {
            case StepKind.Dense when !step.KeepsInput:
                w.Line($"// {step.Name}: dense {step.In} → {step.Out}{(step.Activation == Activation.Identity ? "" : ", " + step.Activation)} (bias and activation fused)");
                w.Line($"{EmitContext.Kernels}.Dense.Forward<{T}, {c.ActivationOp(step)}>({source}, {EmitContext.Param(step.WeightOffset, step.In * step.Out)}, " +
                       $"{EmitContext.Param(step.BiasOffset, step.Out)}, {destination}, batch, {EmitContext.Int(step.In)}, {F});");
                break;
            case StepKind.Dense:
            {
                string pre = training ? EmitContext.Work("_pre" + i, step.Out) : destination;
                w.Line($"// {step.Name}: dense {step.In} → {step.Out}, then {step.Activation} (its derivative needs the pre-activation{(training ? ", kept" : "")})");
                w.Line($"{EmitContext.Kernels}.Dense.Forward<{T}, {EmitContext.Ops}.IdentityOp<{T}>>({source}, {EmitContext.Param(step.WeightOffset, step.In * step.Out)}, " +
                       $"{EmitContext.Param(step.BiasOffset, step.Out)}, {pre}, batch, {EmitContext.Int(step.In)}, {F});");
                w.Line($"{EmitContext.Ops}.Elementwise.ForwardInput<{T}, {c.ActivationOp(step)}>({pre}, {destination});");
                break;
            }
            case StepKind.Maxout:
            {
                string pre = training ? EmitContext.Work("_pre" + i, step.DenseOut) : EmitContext.Work("_inferC", step.DenseOut);
                w.Line($"// {step.Name}: maxout {step.In} → {step.Out} units × {step.Pieces} pieces");
                w.Line($"{EmitContext.Kernels}.Dense.Forward<{T}, {EmitContext.Ops}.IdentityOp<{T}>>({source}, {EmitContext.Param(step.WeightOffset, step.In * step.DenseOut)}, " +
                       $"{EmitContext.Param(step.BiasOffset, step.DenseOut)}, {pre}, batch, {EmitContext.Int(step.In)}, {EmitContext.Int(step.DenseOut)});");
                w.Line($"{EmitContext.Kernels}.Maxout.Forward<{T}>({pre}, {destination}, batch, {F}, {EmitContext.Int(step.Pieces)});");
                break;
            }
            case StepKind.Activation when step.KeepsInput:
                w.Line($"// {step.Name}: {step.Activation} over {step.Out} features");
                w.Line($"{EmitContext.Ops}.Elementwise.ForwardInput<{T}, {c.ActivationOp(step)}>({source}, {destination});");
                break;
            case StepKind.Activation:
                w.Line($"// {step.Name}: {step.Activation} over {step.Out} features");
                w.Line($"{source}.CopyTo({destination});");
                w.Line($"{EmitContext.Ops}.Elementwise.ForwardInPlace<{T}, {c.ActivationOp(step)}>({destination});");
                break;
            case StepKind.BatchNorm:
            {
                string gamma = EmitContext.Param(step.GammaOffset, step.Out), beta = EmitContext.Param(step.BetaOffset, step.Out);
                string mean = Statistics(step.StatisticsOffset, step.Out), variance = Statistics(step.StatisticsOffset + Align(step.Out), step.Out);
                if (training)
                {
                    w.Line($"// {step.Name}: batch normalization over {step.Out} features, batch statistics (running statistics updated)");
                    w.Line($"{Norm}.BatchNormForwardTraining<{T}>({source}, {destination}, {gamma}, {beta}, {EmitContext.Work("_norm" + i, step.Out)}, " +
                           $"_work.Slice(_istd{i}, {F}), {mean}, {variance}, batch, {F}, {c.Literal(step.Epsilon)}, {c.Literal(step.Momentum)});");
                }
                else
                {
                    w.Line($"// {step.Name}: batch normalization over {step.Out} features, running statistics");
                    w.Line($"{Norm}.BatchNormForwardInference<{T}>({source}, {destination}, {gamma}, {beta}, {mean}, {variance}, batch, {F}, {c.Literal(step.Epsilon)});");
                }
                break;
            }
            case StepKind.LayerNorm:
            case StepKind.GroupNorm:
            {
                bool group = step.Kind == StepKind.GroupNorm;
                string gamma = EmitContext.Param(step.GammaOffset, step.Out), beta = EmitContext.Param(step.BetaOffset, step.Out);
                string normalized = training ? EmitContext.Work("_norm" + i, step.Out) : EmitContext.Work("_inferC", step.Out);
                int statsWidth = group ? step.Groups : 1;
                string invStd = training ? EmitContext.Work("_istd" + i, statsWidth) : EmitContext.Work("_inferS", statsWidth);
                w.Line($"// {step.Name}: {(group ? $"group normalization ({step.Groups} groups)" : "layer normalization")} over {step.Out} features");
                w.Line(group
                    ? $"{Norm}.GroupNormForward<{T}>({source}, {destination}, {gamma}, {beta}, {normalized}, {invStd}, batch, {F}, {EmitContext.Int(step.Groups)}, {c.Literal(step.Epsilon)});"
                    : $"{Norm}.LayerNormForward<{T}>({source}, {destination}, {gamma}, {beta}, {normalized}, {invStd}, batch, {F}, {c.Literal(step.Epsilon)});");
                break;
            }
            case StepKind.Dropout:
                if (training)
                {
                    w.Line($"// {step.Name}: inverted dropout, drop probability {SourceWriter.Literal(step.DropProbability, false)}");
                    w.Line($"{EmitContext.Kernels}.Dropout.FillMask<{T}>({EmitContext.Work("_mask" + i, step.Out)}, {SourceWriter.Literal(step.DropProbability, false)}, DropoutSeed ^ 0x{LayerKey(index):X16}UL, DropoutStep);");
                    w.Line($"{EmitContext.Kernels}.Dropout.Apply<{T}>({source}, {EmitContext.Work("_mask" + i, step.Out)}, {destination});");
                }
                else
                {
                    w.Line($"// {step.Name}: dropout is the identity in evaluation");
                    w.Line($"{source}.CopyTo({destination});");
                }
                break;
            case StepKind.Softmax:
                w.Line($"// {step.Name}: softmax over {step.Out} features");
                w.Line($"{EmitContext.Kernels}.Softmax.Forward<{T}>({source}, {destination}, batch, {F});");
                break;
        }
    }

    /// <summary>A per-layer key mixed into the dropout seed, so two dropout layers never share a mask.</summary>
    private static ulong LayerKey(int index) => unchecked((ulong)(index + 1) * 0x9E3779B97F4A7C15UL);

    private static int Align(int n) => (n + Lowerer.TensorAlignment - 1) / Lowerer.TensorAlignment * Lowerer.TensorAlignment;

    private static string Statistics(int offset, int length) => $"_statistics.Slice({EmitContext.Int(offset)}, {EmitContext.Int(length)})";

    /// <summary>
    /// Backward: <paramref name="gradient"/> holds ∂L/∂(step output). Parameter gradients are written; ∂L/∂(step input)
    /// ends in <paramref name="gradient"/> itself for in-place steps, or in <paramref name="other"/> for dense steps
    /// (the caller swaps). For the first step, <paramref name="inputGradient"/> names the optional caller span.
    /// Returns whether the gradient moved to <paramref name="other"/>.
    /// </summary>
    public static bool Backward(SourceWriter w, EmitContext c, StepPlan step, int index, string input, string output, string gradient, string other, string? inputGradient)
    {
        string T = c.T, i = EmitContext.Int(index), F = EmitContext.Int(step.Out);
        bool first = inputGradient is not null;
        if (step.ActivityL1 > 0)
        {
            w.Line($"// {step.Name}: L1 activity penalty λ = {SourceWriter.Literal(step.ActivityL1, false)} on the outputs (mean over the batch)");
            w.Line($"{EmitContext.Kernels}.Regularization.AddL1Gradient<{T}>({gradient}, {output}, {T}.CreateTruncating({SourceWriter.Literal(step.ActivityL1, false)} / batch));");
        }
        switch (step.Kind)
        {
            case StepKind.Dense:
            {
                w.Line($"// {step.Name}: dense {step.In} → {step.Out}{(step.Activation == Activation.Identity ? "" : ", " + step.Activation + " derivative fused")}");
                if (step.KeepsInput)
                    w.Line($"{EmitContext.Ops}.Elementwise.BackwardInputInPlace<{T}, {c.ActivationOp(step)}>({EmitContext.Work("_pre" + i, step.Out)}, {gradient});");
                else if (step.Activation != Activation.Identity)
                    w.Line($"{EmitContext.Ops}.Elementwise.BackwardInPlace<{T}, {c.ActivationOp(step)}>({output}, {gradient});");
                w.Line($"{EmitContext.Kernels}.Dense.BackwardParameters<{T}>({input}, {gradient}, {EmitContext.Grad(step.WeightOffset, step.In * step.Out)}, " +
                       $"{EmitContext.Grad(step.BiasOffset, step.Out)}, batch, {EmitContext.Int(step.In)}, {F});");
                string target = first ? inputGradient! : WithWidth(other, step.Out, step.In);
                string call = $"{EmitContext.Kernels}.Dense.BackwardInput<{T}>({gradient}, {EmitContext.Param(step.WeightOffset, step.In * step.Out)}, {target}, batch, {EmitContext.Int(step.In)}, {F});";
                w.Line(first ? $"if (!{inputGradient}.IsEmpty) {call}" : call);
                return !first;
            }
            case StepKind.Maxout:
            {
                string dz = WithWidth(other, step.Out, step.DenseOut);
                w.Line($"// {step.Name}: maxout {step.In} → {step.Out} × {step.Pieces}: the gradient flows to each unit's winning piece");
                w.Line($"{EmitContext.Kernels}.Maxout.Backward<{T}>({EmitContext.Work("_pre" + i, step.DenseOut)}, {gradient}, {dz}, batch, {F}, {EmitContext.Int(step.Pieces)});");
                w.Line($"{EmitContext.Kernels}.Dense.BackwardParameters<{T}>({input}, {dz}, {EmitContext.Grad(step.WeightOffset, step.In * step.DenseOut)}, " +
                       $"{EmitContext.Grad(step.BiasOffset, step.DenseOut)}, batch, {EmitContext.Int(step.In)}, {EmitContext.Int(step.DenseOut)});");
                string target = first ? inputGradient! : WithWidth(gradient, step.Out, step.In);
                string call = $"{EmitContext.Kernels}.Dense.BackwardInput<{T}>({dz}, {EmitContext.Param(step.WeightOffset, step.In * step.DenseOut)}, {target}, batch, {EmitContext.Int(step.In)}, {EmitContext.Int(step.DenseOut)});";
                w.Line(first ? $"if (!{inputGradient}.IsEmpty) {call}" : call);
                return false;
            }
            case StepKind.Activation:
                w.Line($"// {step.Name}: {step.Activation} derivative");
                w.Line(step.KeepsInput
                    ? $"{EmitContext.Ops}.Elementwise.BackwardInputInPlace<{T}, {c.ActivationOp(step)}>({input}, {gradient});"
                    : $"{EmitContext.Ops}.Elementwise.BackwardInPlace<{T}, {c.ActivationOp(step)}>({output}, {gradient});");
                break;
            case StepKind.BatchNorm:
                w.Line($"// {step.Name}: batch normalization, through the batch mean and variance");
                w.Line($"{Norm}.BatchNormBackward<{T}>({gradient}, {EmitContext.Work("_norm" + i, step.Out)}, _work.Slice(_istd{i}, {F}), {EmitContext.Param(step.GammaOffset, step.Out)}, " +
                       $"{gradient}, {EmitContext.Grad(step.GammaOffset, step.Out)}, {EmitContext.Grad(step.BetaOffset, step.Out)}, batch, {F});");
                break;
            case StepKind.LayerNorm:
                w.Line($"// {step.Name}: layer normalization");
                w.Line($"{Norm}.LayerNormBackward<{T}>({gradient}, {EmitContext.Work("_norm" + i, step.Out)}, {EmitContext.Work("_istd" + i, 1)}, {EmitContext.Param(step.GammaOffset, step.Out)}, " +
                       $"{gradient}, {EmitContext.Grad(step.GammaOffset, step.Out)}, {EmitContext.Grad(step.BetaOffset, step.Out)}, batch, {F});");
                break;
            case StepKind.GroupNorm:
                w.Line($"// {step.Name}: group normalization");
                w.Line($"{Norm}.GroupNormBackward<{T}>({gradient}, {EmitContext.Work("_norm" + i, step.Out)}, {EmitContext.Work("_istd" + i, step.Groups)}, {EmitContext.Param(step.GammaOffset, step.Out)}, " +
                       $"{gradient}, {EmitContext.Grad(step.GammaOffset, step.Out)}, {EmitContext.Grad(step.BetaOffset, step.Out)}, batch, {F}, {EmitContext.Int(step.Groups)});");
                break;
            case StepKind.Dropout:
                w.Line($"// {step.Name}: dropout, the same mask");
                w.Line($"{EmitContext.Kernels}.Dropout.Apply<{T}>({gradient}, {EmitContext.Work("_mask" + i, step.Out)}, {gradient});");
                break;
            case StepKind.Softmax:
                w.Line($"// {step.Name}: softmax");
                w.Line($"{EmitContext.Kernels}.Softmax.Backward<{T}>({output}, {gradient}, {gradient}, batch, {F});");
                break;
        }
        if (first)
        {
            string copy = $"{gradient}.CopyTo({inputGradient});";
            w.Line($"if (!{inputGradient}.IsEmpty) {copy}");
        }
        return false;
    }

    private static string WithWidth(string workSlice, int from, int to) =>
        workSlice.Replace("batch * " + EmitContext.Int(from) + ")", "batch * " + EmitContext.Int(to) + ")");
}
