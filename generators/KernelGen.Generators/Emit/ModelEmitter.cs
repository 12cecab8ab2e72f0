using System.Globalization;
using System.Linq;
using KernelGen.Catalog;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;
using KernelGen.Generators.Model;

namespace KernelGen.Generators.Emit;

/// <summary>Emits the runtime's static description of a network (<c>NetworkModel</c>) and of its inference form
/// (<c>InferenceModel</c>) as object initializers: shapes, layers with their tensors and options, regions, loss.</summary>
internal static class ModelEmitter
{
    private const string Ns = EmitContext.Ns;

    public static void EmitNetworkModel(SourceWriter w, GraphPlan p)
    {
        w.Line("/// <summary>The network's layers, layout and work regions.</summary>");
        w.Line($"internal static readonly {EmitContext.Runtime}.NetworkModel Model = new {EmitContext.Runtime}.NetworkModel");
        w.Line("{");
        using (Indent(w))
        {
            w.Line($"InputShape = {Shape(p.InputShape)},");
            w.Line($"OutputShape = {Shape(p.OutputShape)},");
            w.Line($"Layers = new {Ns}.LayerInfo[]");
            w.Line("{");
            using (Indent(w))
                foreach (NodePlan node in p.Nodes) EmitLayer(w, node);
            w.Line("},");
            w.Line($"Tensors = new {Ns}.ParameterTensor[]");
            w.Line("{");
            using (Indent(w))
                foreach (ParameterTensorPlan t in p.Tensors)
                    w.Line($"new {Ns}.ParameterTensor(\"{t.Name}\", {Int(t.Offset)}, {Int(t.Rows)}, {Int(t.Columns)}, {Bool(t.IsWeight)}),");
            w.Line("},");
            w.Line($"ArenaLength = {Int(p.ArenaLength)},");
            w.Line($"ParameterCount = {Int(p.ParameterCount)},");
            w.Line($"StatisticsLength = {Int(p.StatisticsLength)},");
            w.Line($"Fingerprint = 0x{p.Fingerprint.ToString("X16", CultureInfo.InvariantCulture)}UL,");
            w.Line($"Regions = {Ints(p.Regions)},");
            w.Line($"LayerOutputRegions = {Ints(p.Nodes.Select(n => p.Training.ValueRegions[n.Output]))},");
            w.Line($"LayerSavedRegions = {Ints(p.Nodes.Select(n => Saved(p.Training.Saved[n.Index])))},");
            w.Line($"InputRegion = {Int(p.Training.InputRegion)},");
            w.Line($"OutputGradientRegion = {Int(p.Training.OutputGradientRegion)},");
            if (p.Loss is not null)
            {
                w.Line($"Loss = {Ns}.LossKind.{p.Loss.Kind},");
                w.Line($"LossParameter = {CodeEmitter.Number(p.Loss.Parameter)},");
                if (p.Loss.Reduction != LossReduction.BatchMean) w.Line($"LossReduction = global::KernelGen.LossReduction.{p.Loss.Reduction},");
                if (p.Loss.Custom is { } customLoss)
                {
                    w.Line($"CustomLoss = \"{Escape(customLoss.Display)}\",");
                    w.Line($"CustomLossFormula = \"{Escape(customLoss.Formula)}\",");
                    (System.Collections.Generic.List<string> statements, string result) = Custom.CustomEmitter.PyTorch(customLoss);
                    w.Line($"CustomLossPyTorch = \"{Escape(string.Join("\n", statements) + (statements.Count > 0 ? "\n" : "") + "return " + result)}\",");
                }
            }
            w.Line($"HasPenalties = {Bool(p.HasPenalties)},");
            w.Line($"MinimumTrainingBatch = {Int(p.MinimumTrainingBatch)},");
            w.Line($"Description = \"{Escape(p.Description)}\",");
        }
        w.Line("};");
    }

    /// <summary>The region a kink probe reads for a node: maxout's pieces, or a kept pre-activation.</summary>
    private static int Saved(NodeRegions regions)
    {
        foreach (NamedRegion r in regions.Regions) if (r.Name is "pieces" or "pre") return r.Region;
        return -1;
    }

    private static void EmitLayer(SourceWriter w, NodePlan node)
    {
        w.Line($"new {Ns}.LayerInfo({Int(node.Index)}, \"{node.Name}\", {Ns}.LayerKind.{node.Kind}, {Shape(node.InputShape)}, {Shape(node.OutputShape)})");
        w.Line("{");
        using (Indent(w))
        {
            if (node.Activation != Activation.Identity)
            {
                w.Line($"Activation = {Ns}.Activation.{node.Activation},");
                if (node.ActivationParameter != 0) w.Line($"ActivationParameter = {CodeEmitter.Number(node.ActivationParameter)},");
            }
            if (node.Custom is { } custom)
            {
                w.Line($"CustomActivation = \"{Escape(custom.Display)}\",");
                w.Line($"CustomActivationFormula = \"{Escape(custom.Formula)}\",");
                string onnx = Custom.CustomEmitter.Onnx(custom), onnxDouble = Custom.CustomEmitter.Onnx(custom, doubleModel: true);
                w.Line($"CustomActivationOnnx = \"{Escape(onnx)}\",");
                if (onnxDouble != onnx) w.Line($"CustomActivationOnnxDouble = \"{Escape(onnxDouble)}\",");
                (System.Collections.Generic.List<string> statements, string result) = Custom.CustomEmitter.PyTorch(custom);
                w.Line($"CustomActivationPyTorch = \"{Escape(string.Join("\n", statements) + (statements.Count > 0 ? "\n" : "") + "return " + result)}\",");
                if (Custom.CustomEmitter.HasBranches(custom)) w.Line($"CustomActivationBranch = {custom.StructName}<double>.Branch,");
            }
            if (node.ActivityL1 > 0) w.Line($"ActivityL1 = {CodeEmitter.Number(node.ActivityL1)},");
            if (node.Inputs.Count != 1 || node.Input != node.Index)
                w.Line($"Inputs = new int[] {{ {string.Join(", ", node.Inputs.Select(v => Int(v - 1)))} }},");
            if (node.Tensors.Count > 0)
            {
                w.Line($"Tensors = new {Ns}.LayerTensor[]");
                w.Line("{");
                using (Indent(w))
                    foreach (LayerTensorPlan t in node.Tensors)
                    {
                        var init = new System.Collections.Generic.List<string>();
                        if (t.Role == TensorRole.Weight) init.Add($"Init = {Ns}.Init.{t.Init}");
                        else if (t.InitialValue != 0) init.Add($"InitialValue = {CodeEmitter.Number(t.InitialValue)}");
                        if (t.L1 > 0) init.Add($"L1 = {CodeEmitter.Number(t.L1)}");
                        if (t.L2 > 0) init.Add($"L2 = {CodeEmitter.Number(t.L2)}");
                        string tail = init.Count == 0 ? "" : " { " + string.Join(", ", init) + " }";
                        w.Line($"new {Ns}.LayerTensor({Ns}.Catalog.TensorRole.{t.Role}, \"{t.Name}\", \"{t.FileName}\", {Shape(t.Shape)}, " +
                               $"{Ns}.Catalog.FileLayout.{t.Layout}, {Int(t.Offset)}, {Bool(t.IsState)}){tail},");
                    }
                w.Line("},");
            }
            if (node.ResolvedOptions.Count > 0)
                w.Line($"Options = new global::System.Collections.Generic.Dictionary<string, double> {{ {string.Join(", ", node.ResolvedOptions.Select(o => $"[\"{o.Name}\"] = {CodeEmitter.Number(o.Value)}"))} }},");
        }
        w.Line("},");
    }

    public static void EmitInferenceModel(SourceWriter w, GraphPlan p, InferenceFormPlan form)
    {
        w.Line("/// <summary>The inference form's folded layout, regions and fold steps.</summary>");
        w.Line($"internal static readonly {EmitContext.Runtime}.InferenceModel InferenceModel = new {EmitContext.Runtime}.InferenceModel");
        w.Line("{");
        using (Indent(w))
        {
            w.Line($"InputShape = {Shape(p.InputShape)},");
            w.Line($"OutputShape = {Shape(p.OutputShape)},");
            w.Line($"ArenaLength = {Int(form.ArenaLength)},");
            w.Line($"StatisticsLength = {Int(form.StatisticsLength)},");
            w.Line($"Regions = {Ints(form.Regions)},");
            w.Line($"Folds = new {EmitContext.Runtime}.FoldStep[]");
            w.Line("{");
            using (Indent(w))
                foreach (FoldPlan f in form.Folds)
                {
                    if (f.Before < 0 && f.After < 0 && f.Branches.IsEmpty)
                    {
                        w.Line($"new {EmitContext.Runtime}.FoldStep({Int(f.Source)}, {Int(f.Target)}, {Int(f.Length)}),");
                        continue;
                    }
                    var init = new System.Collections.Generic.List<string>
                    {
                        $"SourceBias = {Int(f.SourceBias)}", $"TargetBias = {Int(f.TargetBias)}", $"Inputs = {Int(f.Inputs)}", $"Outputs = {Int(f.Outputs)}",
                    };
                    if (f.Before >= 0) init.Add($"Before = Model.Layers[{Int(f.Before)}]");
                    if (f.After >= 0) init.Add($"After = Model.Layers[{Int(f.After)}]");
                    if (f.Convolution) init.AddRange(new[] { "Convolution = true", $"KernelArea = {Int(f.KernelArea)}", $"Groups = {Int(f.Groups)}" });
                    if (!f.Branches.IsEmpty)
                        init.Add($"Branches = new {EmitContext.Runtime}.FoldBranch[] {{ " + string.Join(", ", f.Branches.Select(b =>
                            $"new {EmitContext.Runtime}.FoldBranch({Int(b.Weights)}, {Int(b.Bias)}, {Int(b.Kernel)}, {(b.Norm >= 0 ? $"Model.Layers[{Int(b.Norm)}]" : "null")})")) + " }");
                    w.Line($"new {EmitContext.Runtime}.FoldStep({Int(f.Source)}, {Int(f.Target)}, {Int(f.Length)}) {{ {string.Join(", ", init)} }},");
                }
            w.Line("},");
            w.Line("SourceFingerprint = Model.Fingerprint,");
            w.Line($"StepCount = {Int(form.Nodes.Count)},");
        }
        w.Line("};");
    }

    private static Indented Indent(SourceWriter w) => new(w);

    /// <summary>Indents the lines written inside it (object initializers).</summary>
    private readonly struct Indented : System.IDisposable
    {
        private readonly SourceWriter _writer;
        public Indented(SourceWriter writer) { _writer = writer; writer.Indent(1); }
        public void Dispose() => _writer.Indent(-1);
    }

    public static string Shape(TensorShape shape) => $"new {Ns}.TensorShape({string.Join(", ", shape.Dimensions.Select(Int))})";

    private static string Ints(System.Collections.Generic.IEnumerable<int> values) => $"new int[] {{ {string.Join(", ", values.Select(Int))} }}";

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Bool(bool value) => value ? "true" : "false";

    private static string Escape(string text) => text.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
