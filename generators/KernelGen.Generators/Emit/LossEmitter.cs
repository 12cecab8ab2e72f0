using System.Collections.Generic;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;
using KernelGen.Generators.Model;

namespace KernelGen.Generators.Emit;

/// <summary>
/// Emits Loss and ComputeGradients for the plan's loss, with the loss gradient fused into the loss kernel, plus the
/// weight and activity penalties (added to the reported loss and to the gradients).
/// </summary>
internal static class LossEmitter
{
    /// <summary>Whether the loss takes integer class labels (otherwise targets shaped like the outputs).</summary>
    public static bool TakesLabels(LossKind? loss) => loss is LossKind.SoftmaxCrossEntropy or LossKind.Hinge;

    public static void Emit(SourceWriter w, EmitContext c)
    {
        KernelPlan p = c.Plan;
        string T = c.T;
        bool labels = TakesLabels(p.Loss);
        string labelType = c.LabelType!;
        string paramName = labels ? "labels" : "targets";
        string paramDoc = p.Loss switch
        {
            LossKind.SoftmaxCrossEntropy or LossKind.Hinge => "one class index in [0, <see cref=\"OutputFeatures\"/>) per sample",
            LossKind.KLDivergence => "[batch × <see cref=\"OutputFeatures\"/>] target distributions (rows non-negative, summing to 1)",
            LossKind.BinaryCrossEntropy => "[batch × <see cref=\"OutputFeatures\"/>] targets in [0, 1]",
            _ => "[batch × <see cref=\"OutputFeatures\"/>] finite target values",
        };
        string formula = p.Loss switch
        {
            LossKind.SoftmaxCrossEntropy when p.LossParameter > 0 => $"softmax cross-entropy with label smoothing {SourceWriter.Literal(p.LossParameter, false)}",
            LossKind.SoftmaxCrossEntropy => "softmax cross-entropy, (1/B) Σ_b [log Σ_j e^(y_bj) − y_b,label_b]",
            LossKind.KLDivergence => "KL divergence from the targets to softmax(y), averaged over the batch",
            LossKind.Hinge => $"multiclass hinge, margin {SourceWriter.Literal(p.LossParameter, false)}",
            LossKind.BinaryCrossEntropy => "binary cross-entropy on logits, summed over outputs, averaged over the batch",
            _ => "L2 divergence, (1/B) Σ_b ½ Σ_j (y_bj − d_bj)²",
        };
        string penaltyDoc = p.HasPenalties ? " plus the weight and activity penalties" : "";

        w.Line($"/// <summary>The mean loss over the batch ({formula}){penaltyDoc}, computed in evaluation mode; no caches or gradients change.</summary>");
        w.Line($"/// <param name=\"inputs\">[batch × <see cref=\"InputFeatures\"/>] finite values.</param>");
        w.Line($"/// <param name=\"{paramName}\">{paramDoc}.</param>");
        using (w.Block($"public {T} Loss({EmitContext.ReadOnlySpan}<{T}> inputs, {EmitContext.ReadOnlySpan}<{labelType}> {paramName})"))
        {
            w.Line($"int batch = ValidateBatch(inputs, {paramName});");
            w.Line($"{EmitContext.Span}<{T}> outputs = {EmitContext.Work("_gradA", p.OutputSize)};");
            w.Line("Infer(inputs, outputs, batch);");
            if (!p.HasPenalties) w.Line($"return {Kernel(c, paramName, "default")};");
            else
            {
                w.Line($"{T} data = {Kernel(c, paramName, "default")};");
                w.Line("_lastDataLoss = data;");
                w.Line($"return data + {T}.CreateTruncating(WeightPenalty(addGradients: false) + _activityPenalty);");
            }
        }
        w.Line();
        w.Line($"/// <summary>Forward (training mode), loss and backward: fills <see cref=\"Gradients\"/> and returns the mean loss{penaltyDoc}. Invalidates the caches of <see cref=\"Forward\"/>.</summary>");
        w.Line($"/// <param name=\"inputs\">[batch × <see cref=\"InputFeatures\"/>] finite values.</param>");
        w.Line($"/// <param name=\"{paramName}\">{paramDoc}.</param>");
        using (w.Block($"public {T} ComputeGradients({EmitContext.ReadOnlySpan}<{T}> inputs, {EmitContext.ReadOnlySpan}<{labelType}> {paramName})"))
        {
            w.Line($"int batch = ValidateBatch(inputs, {paramName});");
            w.Line("_cachedBatch = 0;");
            w.Line("Train(inputs, batch);");
            string outputs = p.Steps.Count == 0 ? "inputs" : EmitContext.Work("_out" + (p.Steps.Count - 1), p.OutputSize);
            w.Line($"{T} loss = {Kernel(c, paramName, EmitContext.Work("_gradA", p.OutputSize), outputs)};");
            w.Line("Propagate(inputs, batch, default);");
            if (p.HasPenalties)
            {
                w.Line("_lastDataLoss = loss;");
                w.Line("double activity = 0;");
                for (int i = 0; i < p.Steps.Count; i++)
                    if (p.Steps[i].ActivityL1 > 0)
                        w.Line($"activity += {SourceWriter.Literal(p.Steps[i].ActivityL1, false)} / batch * {EmitContext.Kernels}.Regularization.SumOfAbs<{T}>({EmitContext.Work("_out" + i, p.Steps[i].Out)});");
                w.Line($"loss += {T}.CreateTruncating(WeightPenalty(addGradients: true) + activity);");
            }
            w.Line("return loss;");
        }
        w.Line();
        if (p.HasPenalties) EmitPenalties(w, c);
        using (w.Block($"private int ValidateBatch({EmitContext.ReadOnlySpan}<{T}> inputs, {EmitContext.ReadOnlySpan}<{labelType}> {paramName})"))
        {
            w.Line($"int batch = {EmitContext.Ns}.ThrowHelper.GetBatchSize(inputs.Length, InputFeatures, _maxBatch, nameof(inputs));");
            if (labels)
            {
                w.Line($"{EmitContext.Ns}.ThrowHelper.ThrowIfLengthNotEqual({paramName}.Length, batch, nameof({paramName}));");
                w.Line($"{EmitContext.Kernels}.Loss.ValidateLabels({paramName}, OutputFeatures, nameof({paramName}));");
            }
            else
            {
                w.Line($"{EmitContext.Ns}.ThrowHelper.ThrowIfLengthNotEqual({paramName}.Length, batch * OutputFeatures, nameof({paramName}));");
                w.Line($"{EmitContext.Ops}.Elementwise.ThrowIfNotFinite({paramName}, nameof({paramName}));");
                if (p.Loss == LossKind.KLDivergence) w.Line($"{EmitContext.Kernels}.LossFunctions.ValidateDistribution({paramName}, batch, OutputFeatures, nameof({paramName}));");
                if (p.Loss == LossKind.BinaryCrossEntropy) w.Line($"{EmitContext.Kernels}.LossFunctions.ValidateProbabilities({paramName}, nameof({paramName}));");
            }
            w.Line($"{EmitContext.Ops}.Elementwise.ThrowIfNotFinite(inputs, nameof(inputs));");
            w.Line("return batch;");
        }
        w.Line();
    }

    private static void EmitPenalties(SourceWriter w, EmitContext c)
    {
        string T = c.T;
        w.Line($"private {T} _lastDataLoss;");
        w.Line();
        w.Line("/// <summary>The data loss alone (without penalties) of the last <see cref=\"Loss\"/>, <see cref=\"ComputeGradients\"/> or TrainStep.</summary>");
        w.Line($"public {T} LastDataLoss => _lastDataLoss;");
        w.Line();
        w.Line("// Σ over weight matrices of ½λ2‖W‖² + λ1‖W‖₁; with addGradients, also adds λ2·W + λ1·sign(W) to their gradients.");
        using (w.Block("private double WeightPenalty(bool addGradients)"))
        {
            w.Line("double penalty = 0;");
            foreach (StepPlan s in c.Plan.Steps)
            {
                if (s.Kind is not (StepKind.Dense or StepKind.Maxout) || (s.L1 <= 0 && s.L2 <= 0)) continue;
                int length = s.In * s.DenseOut;
                string weights = EmitContext.Param(s.WeightOffset, length), gradient = EmitContext.Grad(s.WeightOffset, length);
                if (s.L2 > 0)
                {
                    w.Line($"penalty += 0.5 * {SourceWriter.Literal(s.L2, false)} * {EmitContext.Kernels}.Regularization.SumOfSquares<{T}>({weights});");
                    w.Line($"if (addGradients) {EmitContext.Kernels}.Regularization.AddL2Gradient<{T}>({gradient}, {weights}, {c.Literal(s.L2)});");
                }
                if (s.L1 > 0)
                {
                    w.Line($"penalty += {SourceWriter.Literal(s.L1, false)} * {EmitContext.Kernels}.Regularization.SumOfAbs<{T}>({weights});");
                    w.Line($"if (addGradients) {EmitContext.Kernels}.Regularization.AddL1Gradient<{T}>({gradient}, {weights}, {c.Literal(s.L1)});");
                }
            }
            w.Line("return penalty;");
        }
        w.Line();
    }

    private static string Kernel(EmitContext c, string paramName, string gradient, string outputs = "outputs") => c.Plan.Loss switch
    {
        LossKind.SoftmaxCrossEntropy when c.Plan.LossParameter > 0 =>
            $"{EmitContext.Kernels}.LossFunctions.SoftmaxCrossEntropy<{c.T}>({outputs}, {paramName}, {gradient}, batch, OutputFeatures, {c.Literal(c.Plan.LossParameter)})",
        LossKind.SoftmaxCrossEntropy => $"{EmitContext.Kernels}.Loss.SoftmaxCrossEntropy<{c.T}>({outputs}, {paramName}, {gradient}, batch, OutputFeatures)",
        LossKind.KLDivergence => $"{EmitContext.Kernels}.LossFunctions.KLDivergence<{c.T}>({outputs}, {paramName}, {gradient}, batch, OutputFeatures)",
        LossKind.Hinge => $"{EmitContext.Kernels}.LossFunctions.MulticlassHinge<{c.T}>({outputs}, {paramName}, {gradient}, batch, OutputFeatures, {c.Literal(c.Plan.LossParameter)})",
        LossKind.BinaryCrossEntropy => $"{EmitContext.Kernels}.LossFunctions.BinaryCrossEntropyWithLogits<{c.T}>({outputs}, {paramName}, {gradient}, batch, OutputFeatures)",
        _ => $"{EmitContext.Kernels}.Loss.L2<{c.T}>({outputs}, {paramName}, {gradient}, batch, OutputFeatures)",
    };
}
