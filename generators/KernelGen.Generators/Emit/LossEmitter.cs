using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;
using KernelGen.Generators.Model;

namespace KernelGen.Generators.Emit;

/// <summary>Emits Loss and ComputeGradients for the plan's loss, with the loss gradient fused into the loss kernel.</summary>
internal static class LossEmitter
{
    public static void Emit(SourceWriter w, EmitContext c)
    {
        KernelPlan p = c.Plan;
        string T = c.T;
        bool labels = p.Loss == LossKind.SoftmaxCrossEntropy;
        string labelType = c.LabelType!;
        string paramName = labels ? "labels" : "targets";
        string paramDoc = labels
            ? "one class index in [0, <see cref=\"OutputFeatures\"/>) per sample"
            : "[batch × <see cref=\"OutputFeatures\"/>] finite target values";
        string formula = labels
            ? "softmax cross-entropy, (1/B) Σ_b [log Σ_j e^(y_bj) − y_b,label_b]"
            : "L2 divergence, (1/B) Σ_b ½ Σ_j (y_bj − d_bj)²";

        w.Line($"/// <summary>The mean loss over the batch ({formula}), computed in inference mode; no caches or gradients change.</summary>");
        w.Line($"/// <param name=\"inputs\">[batch × <see cref=\"InputFeatures\"/>] finite values.</param>");
        w.Line($"/// <param name=\"{paramName}\">{paramDoc}.</param>");
        using (w.Block($"public {T} Loss({EmitContext.ReadOnlySpan}<{T}> inputs, {EmitContext.ReadOnlySpan}<{labelType}> {paramName})"))
        {
            w.Line($"int batch = ValidateBatch(inputs, {paramName});");
            w.Line($"{EmitContext.Span}<{T}> outputs = {EmitContext.Work("_gradA", p.OutputSize)};");
            w.Line("Infer(inputs, outputs, batch);");
            w.Line($"return {Kernel(c, paramName, "default")};");
        }
        w.Line();
        w.Line("/// <summary>Forward, loss and backward: fills <see cref=\"Gradients\"/> and returns the mean loss. Invalidates the caches of <see cref=\"Forward\"/>.</summary>");
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
            w.Line("return loss;");
        }
        w.Line();
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
            }
            w.Line($"{EmitContext.Ops}.Elementwise.ThrowIfNotFinite(inputs, nameof(inputs));");
            w.Line("return batch;");
        }
        w.Line();
    }

    private static string Kernel(EmitContext c, string paramName, string gradient, string outputs = "outputs") =>
        c.Plan.Loss == LossKind.SoftmaxCrossEntropy
            ? $"{EmitContext.Kernels}.Loss.SoftmaxCrossEntropy<{c.T}>({outputs}, {paramName}, {gradient}, batch, OutputFeatures)"
            : $"{EmitContext.Kernels}.Loss.L2<{c.T}>({outputs}, {paramName}, {gradient}, batch, OutputFeatures)";
}
