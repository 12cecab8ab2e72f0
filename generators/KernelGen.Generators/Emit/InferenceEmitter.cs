using System.Collections.Generic;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;

namespace KernelGen.Generators.Emit;

/// <summary>
/// Emits the inference form of a network: a nested <c>Inference</c> class holding the folded parameters (BatchNorm
/// re-parameterized into adjacent dense layers through <c>Kernels.Folding</c>), with a Predict that runs the fused chain,
/// and the network's <c>CreateInference</c> factory. Per-step code comes from <see cref="StepEmitter"/> in evaluation mode.
/// </summary>
internal static class InferenceEmitter
{
    public static void Emit(SourceWriter w, EmitContext c)
    {
        InferencePlan? plan = c.Plan.Inference;
        if (plan is null) return;
        string T = c.T, outer = EmitContext.Id(c.ClassName);
        bool statistics = false, scratch = false;
        foreach (StepPlan s in plan.Steps)
        {
            statistics |= s.Kind == StepKind.BatchNorm;
            scratch |= s.Kind is StepKind.Maxout or StepKind.LayerNorm or StepKind.GroupNorm;
        }

        w.Line("/// <summary>");
        w.Line("/// Compiles the inference form of this network from its current parameters and running statistics: BatchNorm folded into");
        w.Line("/// the adjacent dense layers, dropout dropped, activations fused. Allocates its buffers once; call");
        w.Line("/// <see cref=\"Inference.Update\"/> to refresh it after further training without allocating.");
        w.Line("/// </summary>");
        w.Line("/// <param name=\"maxBatchSize\">The largest batch its Predict will be given.</param>");
        w.Line($"public Inference CreateInference(int maxBatchSize) => new Inference(this, maxBatchSize);");
        w.Line();
        w.Line("/// <summary>");
        w.Line($"/// The inference form of <see cref=\"{outer}\"/> ({plan.Steps.Count} fused steps): its outputs equal the network's");
        w.Line("/// evaluation-mode <c>Predict</c> up to rounding (the folded weights are computed in double and rounded once).");
        w.Line("/// </summary>");
        using (w.Block($"public sealed class Inference : {EmitContext.Ns}.IInferenceNetwork<{T}>"))
        {
            w.Line("/// <summary>Features per input sample.</summary>");
            w.Line($"public const int InputFeatures = {EmitContext.Int(c.Plan.InputSize)};");
            w.Line("/// <summary>Features per output sample.</summary>");
            w.Line($"public const int OutputFeatures = {EmitContext.Int(c.Plan.OutputSize)};");
            w.Line("/// <summary>Length of the folded parameter arena.</summary>");
            w.Line($"public const int ArenaLength = {EmitContext.Int(plan.ArenaLength)};");
            w.Line($"private const int MaxWidth = {EmitContext.Int(plan.MaxWidth)};");
            w.Line($"private readonly {EmitContext.Ns}.AlignedBuffer<{T}> _parameters = new(ArenaLength);");
            if (statistics) w.Line($"private readonly {EmitContext.Ns}.AlignedBuffer<{T}> _statistics = new({EmitContext.Int(c.Plan.StatisticsLength)});");
            w.Line($"private readonly {EmitContext.Ns}.AlignedBuffer<{T}> _work;");
            w.Line("private readonly int _maxBatch;");
            w.Line(scratch ? "private readonly int _inferA, _inferB, _inferC, _inferS;" : "private readonly int _inferA, _inferB;");
            NetworkEmitter.EmitParameterTypes(w, c, plan.Steps);
            w.Line();
            w.Line("/// <summary>Allocates the buffers and folds <paramref name=\"network\"/>'s current parameters.</summary>");
            w.Line("/// <exception cref=\"global::System.ArgumentNullException\"><paramref name=\"network\"/> is null.</exception>");
            w.Line("/// <exception cref=\"global::System.ArgumentOutOfRangeException\"><paramref name=\"maxBatchSize\"/> is not positive or too large.</exception>");
            using (w.Block($"public Inference({outer} network, int maxBatchSize)"))
            {
                w.Line("global::System.ArgumentNullException.ThrowIfNull(network);");
                int slots = scratch ? 4 : 2;
                w.Line($"if (maxBatchSize <= 0 || (long)maxBatchSize * MaxWidth * {EmitContext.Int(slots)} + {EmitContext.Int(slots * 16)} > global::System.Array.MaxLength - 64)");
                w.Line($"    {EmitContext.Ns}.ThrowHelper.ThrowArgumentOutOfRange(nameof(maxBatchSize), maxBatchSize, \"The maximum batch size must be positive and small enough for the buffers to fit in one array.\");");
                w.Line("_maxBatch = maxBatchSize;");
                w.Line("int offset = 0;");
                foreach (string f in scratch ? new[] { "_inferA", "_inferB", "_inferC", "_inferS" } : new[] { "_inferA", "_inferB" })
                    w.Line($"{f} = offset; offset += {EmitContext.Ns}.AlignedBuffer<{T}>.RoundUp(maxBatchSize * MaxWidth);");
                w.Line($"_work = new {EmitContext.Ns}.AlignedBuffer<{T}>(offset);");
                w.Line("Update(network);");
            }
            w.Line();
            w.Line("/// <inheritdoc/>");
            w.Line("public int InputSize => InputFeatures;");
            w.Line("/// <inheritdoc/>");
            w.Line("public int OutputSize => OutputFeatures;");
            w.Line("/// <inheritdoc/>");
            w.Line("public int MaxBatchSize => _maxBatch;");
            w.Line("/// <summary>The folded parameters (read them to inspect the re-parameterization; Update overwrites them).</summary>");
            w.Line($"public {EmitContext.Span}<{T}> Parameters => _parameters.Span;");
            w.Line();
            w.Line("/// <summary>Re-folds from <paramref name=\"network\"/>'s current parameters and running statistics. Allocates nothing.</summary>");
            using (w.Block($"public void Update({outer} network)"))
            {
                w.Line("global::System.ArgumentNullException.ThrowIfNull(network);");
                for (int k = 0; k < plan.Steps.Count; k++)
                    EmitFold(w, c, plan.Steps[k], plan.Sources[k]);
                if (statistics) w.Line("network._statistics.Span.CopyTo(_statistics.Span);");
            }
            w.Line();
            w.Line("/// <summary>Writes the outputs for <paramref name=\"inputs\"/>.</summary>");
            w.Line("/// <param name=\"inputs\">[batch × <see cref=\"InputFeatures\"/>] finite values, 1 ≤ batch ≤ <see cref=\"MaxBatchSize\"/>.</param>");
            w.Line("/// <param name=\"outputs\">[batch × <see cref=\"OutputFeatures\"/>].</param>");
            using (w.Block($"public void Predict({EmitContext.ReadOnlySpan}<{T}> inputs, {EmitContext.Span}<{T}> outputs)"))
            {
                w.Line($"int batch = {EmitContext.Ns}.ThrowHelper.GetBatchSize(inputs.Length, InputFeatures, _maxBatch, nameof(inputs));");
                w.Line($"{EmitContext.Ns}.ThrowHelper.ThrowIfLengthNotEqual(outputs.Length, batch * OutputFeatures, nameof(outputs));");
                w.Line($"{EmitContext.Ops}.Elementwise.ThrowIfNotFinite(inputs, nameof(inputs));");
                if (plan.Steps.Count == 0) w.Line("inputs.CopyTo(outputs);");
                string source = "inputs";
                for (int k = 0; k < plan.Steps.Count; k++)
                {
                    string destination = k == plan.Steps.Count - 1 ? "outputs" : EmitContext.Work(k % 2 == 0 ? "_inferA" : "_inferB", plan.Steps[k].Out);
                    StepEmitter.Forward(w, c, plan.Steps[k], k, source, destination, training: false);
                    source = destination;
                }
            }
        }
        w.Line();
    }

    private static void EmitFold(SourceWriter w, EmitContext c, StepPlan step, InferenceSource source)
    {
        StepPlan original = source.Original;
        if (step.Kind is StepKind.Dense or StepKind.Maxout)
        {
            int n = step.In * step.DenseOut, outputs = step.DenseOut;
            string from = $"network._parameters.Slice({EmitContext.Int(original.WeightOffset)}, {EmitContext.Int(n)})";
            string fromBias = $"network._parameters.Slice({EmitContext.Int(original.BiasOffset)}, {EmitContext.Int(outputs)})";
            if (source.Before is null && source.After is null)
            {
                w.Line($"// {step.Name}: copied");
                w.Line($"{from}.CopyTo({EmitContext.Param(step.WeightOffset, n)});");
                w.Line($"{fromBias}.CopyTo({EmitContext.Param(step.BiasOffset, outputs)});");
                return;
            }
            var folds = new List<string>();
            if (source.Before is { } b) folds.Add(b.Name + " before");
            if (source.After is { } a) folds.Add(a.Name + " after");
            w.Line($"// {step.Name}: {string.Join(" and ", folds)} folded in");
            w.Line($"{EmitContext.Kernels}.Folding.FoldDense<{c.T}>({from}, {fromBias}, {EmitContext.Param(step.WeightOffset, n)}, {EmitContext.Param(step.BiasOffset, outputs)}, {EmitContext.Int(step.In)}, {EmitContext.Int(outputs)},");
            w.Line($"    {Statistics(source.Before)},");
            w.Line($"    {Statistics(source.After)});");
        }
        else if (step.GammaOffset >= 0)
        {
            w.Line($"// {step.Name}: γ and β copied");
            w.Line($"network._parameters.Slice({EmitContext.Int(original.GammaOffset)}, {EmitContext.Int(step.Out)}).CopyTo({EmitContext.Param(step.GammaOffset, step.Out)});");
            w.Line($"network._parameters.Slice({EmitContext.Int(original.BetaOffset)}, {EmitContext.Int(step.Out)}).CopyTo({EmitContext.Param(step.BetaOffset, step.Out)});");
        }
    }

    private static string Statistics(StepPlan? bn)
    {
        if (bn is null) return "default, default, default, default, 0";
        string F = EmitContext.Int(bn.Out);
        return $"network._parameters.Slice({EmitContext.Int(bn.GammaOffset)}, {F}), network._parameters.Slice({EmitContext.Int(bn.BetaOffset)}, {F}), " +
               $"network._statistics.Slice({EmitContext.Int(bn.StatisticsOffset)}, {F}), network._statistics.Slice({EmitContext.Int(NetworkEmitter.VarianceOffset(bn))}, {F}), " +
               SourceWriter.Literal(bn.Epsilon, false);
    }
}
