using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;

namespace KernelGen.Generators.Emit;

/// <summary>
/// Emits a network variant's inference form: <c>CreateInference</c> and the nested <c>Inference</c> class, which derives
/// from the runtime's InferenceNetworkBase (folded arena, fold steps, validation) and runs the shared generic
/// <c>KernelGenCode.InferFolded</c> body.
/// </summary>
internal static class InferenceEmitter
{
    public static void Emit(SourceWriter w, EmitContext c, string className, string T)
    {
        InferenceFormPlan? form = c.Plan.InferenceForm;
        if (form is null) return;
        string outer = EmitContext.Id(className);
        w.Line("/// <summary>");
        w.Line("/// Compiles the inference form of this network from its current parameters and running statistics: BatchNorm folded into");
        w.Line("/// the adjacent dense layers, dropout dropped, activations fused. Allocates its buffers once; call");
        w.Line("/// <see cref=\"Inference.Update\"/> to refresh it after further training without allocating.");
        w.Line("/// </summary>");
        w.Line("/// <param name=\"maxBatchSize\">The largest batch its Predict will be given.</param>");
        w.Line("public Inference CreateInference(int maxBatchSize) => new Inference(this, maxBatchSize);");
        w.Line();
        w.Line("/// <summary>");
        w.Line($"/// The inference form of <see cref=\"{outer}\"/> ({form.Nodes.Count} fused layers): its outputs equal the network's");
        w.Line("/// evaluation-mode <c>Predict</c> up to rounding (the folded weights are computed in double and rounded once).");
        w.Line("/// </summary>");
        using (w.Block($"public sealed class Inference : {EmitContext.Runtime}.InferenceNetworkBase<{T}>"))
        {
            w.Line("/// <summary>Elements per input sample.</summary>");
            w.Line($"public const int InputFeatures = {EmitContext.Int(c.Plan.InputShape.Size)};");
            w.Line("/// <summary>Elements per output sample.</summary>");
            w.Line($"public const int OutputFeatures = {EmitContext.Int(c.Plan.OutputShape.Size)};");
            w.Line("/// <summary>Length of the folded parameter arena.</summary>");
            w.Line($"public const int ArenaLength = {EmitContext.Int(form.ArenaLength)};");
            w.Line();
            w.Line("/// <summary>Allocates the buffers and folds <paramref name=\"network\"/>'s current parameters.</summary>");
            w.Line("/// <exception cref=\"global::System.ArgumentNullException\"><paramref name=\"network\"/> is null.</exception>");
            w.Line("/// <exception cref=\"global::System.ArgumentOutOfRangeException\"><paramref name=\"maxBatchSize\"/> is not positive or too large.</exception>");
            w.Line($"public Inference({outer} network, int maxBatchSize)");
            w.Line("    : base(KernelGenCode.InferenceModel, maxBatchSize)");
            w.Line("{");
            w.Line("    Update(network);");
            w.Line("}");
            w.Line();
            w.Line("/// <summary>Re-folds from <paramref name=\"network\"/>'s current parameters and running statistics. Allocates nothing.</summary>");
            w.Line($"public void Update({outer} network) => UpdateFrom(network);");
            w.Line();
            w.Line("/// <inheritdoc/>");
            w.Line($"protected override void Infer({EmitContext.ReadOnlySpan}<{T}> inputs, {EmitContext.Span}<{T}> outputs, int batch) => KernelGenCode.InferFolded(State, inputs, outputs, batch);");
        }
    }
}
