using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using KernelGen.Catalog;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;
using KernelGen.Generators.Model;
using KernelGen.Generators.Ops;

namespace KernelGen.Generators.Emit;

/// <summary>
/// Emits <c>KernelGenCode</c>, the private static class both element types share: the <c>NetworkModel</c> and
/// <c>InferenceModel</c> data, the optimizer's settings, the parameter constant types of parameterized activations, and
/// the generic bodies <c>Infer</c>, <c>Train</c>, <c>Propagate</c>, <c>Loss</c> and <c>InferFolded</c>, written once over
/// <c>T</c> from the plan's nodes and regions, one comment per node.
/// </summary>
internal static class CodeEmitter
{
    private const string Optimization = "global::KernelGen.Optimization";
    private const string State = EmitContext.Runtime + ".NetworkState<T>";

    public static void Emit(SourceWriter w, EmitContext c)
    {
        GraphPlan p = c.Plan;
        w.Line("/// <summary>The model data and the generic forward and backward bodies of the float and double networks.</summary>");
        using (w.Block("private static class KernelGenCode"))
        {
            ModelEmitter.EmitNetworkModel(w, p);
            w.Line();
            if (p.InferenceForm is { } form)
            {
                ModelEmitter.EmitInferenceModel(w, p, form);
                w.Line();
            }
            if (p.Optimizer is not null)
            {
                EmitOptimizer(w, p);
                w.Line();
            }
            EmitParameterTypes(w, p);
            EmitDeclarations(w, p);
            if (p.Loss?.Custom is { } customLoss)
            {
                Custom.CustomEmitter.EmitLoss(w, customLoss);
                w.Line();
            }
            EmitInfer(w, c, "Infer", p.Nodes, p.Evaluation, p.HasPenalties);
            w.Line();
            EmitTrain(w, c);
            w.Line();
            EmitPropagate(w, c);
            if (p.Loss is not null)
            {
                w.Line();
                EmitLoss(w, c);
            }
            if (p.InferenceForm is { } inference)
            {
                w.Line();
                EmitInfer(w, c, "InferFolded", inference.Nodes, inference.Evaluation, penalties: false);
            }
        }
    }

    // ---- optimizer ---------------------------------------------------------------------------------------------------

    private static void EmitOptimizer(SourceWriter w, GraphPlan p)
    {
        OptimizerPlan o = p.Optimizer!;
        OptimizerDescriptor descriptor = OpCatalog.Get(o.Kind);
        string settings = $"{Optimization}.OptimizerSettings.Create({Optimization}.OptimizerKind.{o.Kind}, {Number(o.LearningRate)})";
        if (o.Options.Count > 0)
            settings += " with { " + string.Join(", ", o.Options.Select(x =>
                $"{x.Name} = {(descriptor.Options.FirstOrDefault(d => d.Name == x.Name)?.Type == OptionType.Boolean ? (x.Value != 0 ? "true" : "false") : Number(x.Value))}")) + " }";
        string schedule = $"{Optimization}.LearningRateSchedule.Constant", warmup = "";
        double maxNorm = double.PositiveInfinity, maxValue = double.PositiveInfinity;
        foreach (TrainingOptionPlan option in p.TrainingOptions)
        {
            if (!OpCatalog.TryFindAttribute(option.Attribute, out object? entry) || entry is not TrainingOptionDescriptor d) continue;
            string arguments = string.Join(", ", option.Values.Select(v =>
            {
                int index = d.Options.Select(x => x.Name).ToList().IndexOf(v.Name);
                return $"{d.Arguments[index]}: {(d.Options[index].Type == OptionType.Integer ? EmitContext.Int((int)v.Value) : Number(v.Value))}";
            }));
            switch (d.Role)
            {
                case TrainingOptionRole.Schedule: schedule = $"{d.Factory}({arguments})"; break;
                case TrainingOptionRole.Warmup: warmup = $".{d.Factory}({arguments})"; break;
                case TrainingOptionRole.ClipNorm: maxNorm = option.Values[0].Value; break;
                case TrainingOptionRole.ClipValue: maxValue = option.Values[0].Value; break;
            }
        }
        w.Line($"/// <summary>The {o.Kind} settings the specification sets (PyTorch's defaults for the rest).</summary>");
        w.Line($"internal static {Optimization}.OptimizerSettings OptimizerSettings() => {settings};");
        w.Line("/// <summary>The learning-rate schedule.</summary>");
        w.Line($"internal static {Optimization}.LearningRateSchedule Schedule() => {schedule}{warmup};");
        w.Line("/// <summary>Gradient clipping (+∞: off).</summary>");
        w.Line($"internal static {Optimization}.GradientClipping Clipping() => new {Optimization}.GradientClipping({Number(maxNorm)}, {Number(maxValue)});");
    }

    /// <summary>A double literal, with the named constants C# has for the non-finite values.</summary>
    public static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "double.PositiveInfinity"
        : double.IsNegativeInfinity(value) ? "double.NegativeInfinity"
        : double.IsNaN(value) ? "double.NaN"
        : SourceWriter.Literal(value, false);

    // ---- activation parameters ---------------------------------------------------------------------------------------

    private static void EmitParameterTypes(SourceWriter w, GraphPlan p)
    {
        var seen = new SortedSet<string>(System.StringComparer.Ordinal);
        IEnumerable<NodePlan> nodes = p.InferenceForm is { } form ? p.Nodes.Concat(form.Nodes) : p.Nodes;
        foreach (NodePlan node in nodes)
        {
            if (node.Custom is { } custom)
            {
                if (seen.Add(custom.StructName))
                {
                    Custom.CustomEmitter.Emit(w, custom);
                    w.Line();
                }
                continue;
            }
            if (node.Activation == Activation.Identity || !EmitContext.HasParameterType(node.Activation)) continue;
            string name = EmitContext.ParameterType(node.Activation, node.ActivationParameter);
            if (!seen.Add(name)) continue;
            w.Line($"/// <summary>{node.Activation}'s {OpCatalog.Get(node.Activation).Parameter!.Name} as a constant the JIT folds into the kernels.</summary>");
            w.Line($"private readonly struct {name}<T> : {EmitContext.Ops}.IScalarParameter<T> {EmitContext.Constraint}");
            w.Line("{");
            w.Line($"    public static T Value => T.CreateTruncating({Number(node.ActivationParameter)});");
            w.Line("}");
            w.Line();
        }
    }

    /// <summary>Each node kind's static members (geometries), once per node name across the network and its inference form.</summary>
    private static void EmitDeclarations(SourceWriter w, GraphPlan p)
    {
        var seen = new HashSet<string>(System.StringComparer.Ordinal);
        IEnumerable<NodePlan> nodes = p.InferenceForm is { } form ? p.Nodes.Concat(form.Nodes) : p.Nodes;
        bool any = false;
        foreach (NodePlan node in nodes)
        {
            if (!seen.Add(node.Kind + ":" + node.Name)) continue; // a re-parameterized block is a convolution named like its sum
            var text = new SourceWriter();
            OpGenerator.For(node.Kind).Declarations(text, node);
            string code = text.ToString();
            if (code.Length == 0) continue;
            OpGenerator.For(node.Kind).Declarations(w, node);
            any = true;
        }
        if (any) w.Line();
    }

    // ---- bodies ------------------------------------------------------------------------------------------------------

    /// <summary>The expression of value <paramref name="v"/> in evaluation mode.</summary>
    private static string EvalValue(IReadOnlyList<NodePlan> nodes, EvaluationLayout layout, int v)
    {
        if (v == nodes.Count && v > 0) return "outputs";
        int region = layout.ValueRegions[v];
        return region == EvaluationLayout.External ? "inputs" : EmitContext.Work(region, nodes[v - 1].Out);
    }

    private static void EmitInfer(SourceWriter w, EmitContext c, string method, IReadOnlyList<NodePlan> nodes, EvaluationLayout layout, bool penalties)
    {
        w.Line("/// <summary>Evaluation-mode forward (running statistics, no dropout); touches none of the training caches.</summary>");
        w.Line($"internal static void {method}<T>({State} s, {EmitContext.ReadOnlySpan}<T> inputs, {EmitContext.Span}<T> outputs, int batch) {EmitContext.Constraint}");
        using (w.Block(""))
        {
            if (nodes.Count == 0) w.Line("inputs.CopyTo(outputs);");
            foreach (NodePlan node in nodes)
            {
                string input = EvalValue(nodes, layout, node.Input), output = EvalValue(nodes, layout, node.Output);
                var b = new ForwardBindings(input, output, training: false, input == output, NodeRegions.None, layout.Scratch[node.Index])
                    { Inputs = node.Inputs.Select(v => EvalValue(nodes, layout, v)).ToList() };
                OpGenerator.For(node.Kind).Forward(w, c, node, b);
                if (penalties && node.ActivityL1 > 0)
                    w.Line($"s.ActivityPenalty += {EmitContext.Double(node.ActivityL1)} / batch * {EmitContext.Kernels}.Regularization.SumOfAbs<T>({output});");
            }
        }
    }

    /// <summary>The expression of value <paramref name="v"/> in training mode.</summary>
    private static string TrainValue(GraphPlan p, int v) =>
        v == 0 ? "inputs" : EmitContext.Work(p.Training.ValueRegions[v], p.Nodes[v - 1].Out);

    private static void EmitTrain(SourceWriter w, EmitContext c)
    {
        GraphPlan p = c.Plan;
        w.Line("/// <summary>Training-mode forward: every layer's output and what backward needs stay in their regions.</summary>");
        w.Line($"internal static void Train<T>({State} s, {EmitContext.ReadOnlySpan}<T> inputs, int batch) {EmitContext.Constraint}");
        using (w.Block(""))
        {
            foreach (NodePlan node in p.Nodes)
            {
                string input = TrainValue(p, node.Input), output = TrainValue(p, node.Output);
                var b = new ForwardBindings(input, output, training: true, input == output, p.Training.Saved[node.Index], NodeRegions.None)
                    { Inputs = node.Inputs.Select(v => TrainValue(p, v)).ToList() };
                OpGenerator.For(node.Kind).Forward(w, c, node, b);
            }
            if (p.Nodes.Any(n => n.Kind == LayerKind.Dropout)) w.Line("s.DropoutStep++;");
        }
    }

    private static void EmitPropagate(SourceWriter w, EmitContext c)
    {
        GraphPlan p = c.Plan;
        TrainingLayout t = p.Training;
        w.Line("/// <summary>Backward: ∂L/∂outputs is in its region; walks the nodes in reverse, gradients in regions chosen by liveness.</summary>");
        w.Line($"internal static void Propagate<T>({State} s, {EmitContext.ReadOnlySpan}<T> inputs, int batch, {EmitContext.Span}<T> inputGradient, bool penalties) {EmitContext.Constraint}");
        using (w.Block(""))
        {
            if (p.Nodes.Count == 0) w.Line($"if (!inputGradient.IsEmpty) {EmitContext.Work(t.OutputGradientRegion, p.InputShape.Size)}.CopyTo(inputGradient);");
            for (int k = p.Nodes.Count - 1; k >= 0; k--)
            {
                NodePlan node = p.Nodes[k];
                OpGenerator generator = OpGenerator.For(node.Kind);
                string dy = EmitContext.Work(t.GradientRegions[node.Output], node.Out);
                string output = TrainValue(p, node.Output);
                if (node.ActivityL1 > 0)
                {
                    w.Line($"// {node.Name}: L1 activity penalty λ = {EmitContext.Double(node.ActivityL1)} on the outputs (mean over the batch)");
                    w.Line($"if (penalties) {EmitContext.Kernels}.Regularization.AddL1Gradient<T>({dy}, {output}, T.CreateTruncating({EmitContext.Double(node.ActivityL1)} / batch));");
                }
                w.Line($"if (s.BackwardStop > {EmitContext.Int(k)} && inputGradient.IsEmpty) return; // frozen below: nothing here needs a gradient");
                SlotGradients slots = t.InputGradients[k];
                int dyRegion = t.GradientRegions[node.Output];
                if (node.MergeInputs.Count > 0)
                {
                    var targets = new List<string?>();
                    for (int j = 0; j < slots.Slots.Count; j++)
                    {
                        int region = slots.Slots[j].Region;
                        targets.Add(region == -1 ? "inputGradient" : region == dyRegion ? null : EmitContext.Work(region, node.InputShapes[j].Size));
                    }
                    generator.Backward(w, c, node, new BackwardBindings(TrainValue(p, node.Input), output, dy, null, false,
                        t.Saved[node.Index], t.BackwardScratch[node.Index]) { InputGradients = targets });
                }
                else
                {
                    bool first = slots.Slots[0].Region == -1;
                    string dx = first ? "inputGradient" : EmitContext.Work(slots.Slots[0].Region, node.In);
                    bool writes = generator.WritesInputGradient(node);
                    var b = new BackwardBindings(TrainValue(p, node.Input), output, dy, writes ? dx : null, first && writes,
                        t.Saved[node.Index], t.BackwardScratch[node.Index]);
                    generator.Backward(w, c, node, b);
                    if (first && !writes)
                        w.Line($"if (!inputGradient.IsEmpty) {EmitContext.Work(t.GradientRegions[node.Output], node.In)}.CopyTo(inputGradient);");
                }
                for (int j = 0; j < slots.Slots.Count; j++)
                {
                    SlotGradient slot = slots.Slots[j];
                    if (slot.AddInto < 0) continue;
                    int size = node.InputShapes[j].Size;
                    w.Line($"{EmitContext.Kernels}.Merge.AddInto<T>({EmitContext.Work(slot.Region, size)}, {EmitContext.Work(slot.AddInto, size)}); // ∂L/∂x sums over the value's readers");
                }
            }
            if (p.Nodes.Count > 0 && t.GradientRegions[0] >= 0)
                w.Line($"if (!inputGradient.IsEmpty) {EmitContext.Work(t.GradientRegions[0], p.InputShape.Size)}.CopyTo(inputGradient);");
        }
    }

    private static void EmitLoss(SourceWriter w, EmitContext c)
    {
        GraphPlan p = c.Plan;
        LossDescriptor d = OpCatalog.Get(p.Loss!.Kind);
        string label = d.Labels == LabelKind.ClassIndex ? "int" : "T";
        string call = p.Loss.Custom is { } custom
            ? $"{EmitContext.Kernels}.LossFunctions.Elementwise<T, {custom.StructName}<T>>(outputs, labels, gradient, batch, OutputFeatures)"
            : string.Format(CultureInfo.InvariantCulture, d.Kernel(p.Loss.Parameter), "T", "outputs", "labels", "gradient", c.Const(p.Loss.Parameter));
        string? factor = OpCatalog.ReductionFactor(d, p.Loss.Reduction, "OutputFeatures");
        string formula = p.Loss.Custom is { } user ? user.Display + ": " + user.Formula.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;") : d.Title + ": " + d.Formula;
        w.Line($"/// <summary>{formula}{ReductionNote(d, p.Loss.Reduction)}.</summary>");
        w.Line($"internal static T Loss<T>({EmitContext.ReadOnlySpan}<T> outputs, {EmitContext.ReadOnlySpan}<{label}> labels, {EmitContext.Span}<T> gradient, int batch) {EmitContext.Constraint}");
        if (factor is null)
            w.Line($"    => {call};");
        else
        {
            string scale = factor == "batch" ? "T.CreateTruncating(batch)" : "T.One / T.CreateTruncating(OutputFeatures)";
            w.Line($"    => {EmitContext.Kernels}.LossFunctions.Rescale<T>({call}, gradient, batch * OutputFeatures, {scale});");
        }
    }

    private static string ReductionNote(LossDescriptor d, LossReduction reduction) => reduction switch
    {
        LossReduction.Sum => ", times B (reduction Sum)",
        LossReduction.Mean when d.ElementwiseTerms => ", divided by the output count (reduction Mean)",
        _ => "",
    };
}
