using System.Collections.Generic;
using System.Linq;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;
using KernelGen.Generators.Model;

namespace KernelGen.Generators.Emit;

/// <summary>
/// Emits the optimizer: its construction from the spec (rule, learning rate, the hyperparameters the user set, schedule,
/// warm-up and clipping; the run-time library supplies PyTorch's defaults for the rest), the learning rate,
/// ApplyGradients and TrainStep. The update itself is the run-time library's fused pass (KernelGen.Optimization).
/// </summary>
internal static class OptimizerEmitter
{
    private const string Optimization = "global::KernelGen.Optimization";

    /// <summary>The expression that creates the optimizer, used by the constructor.</summary>
    public static string Creation(EmitContext c)
    {
        OptimizerPlan o = c.Plan.Optimizer!;
        string settings = $"{Optimization}.OptimizerSettings.Create({Optimization}.OptimizerKind.{o.Kind}, {SourceWriter.Literal(o.LearningRate, false)})";
        if (o.Options.Count > 0)
        {
            IReadOnlyDictionary<string, Catalog.Range> ranges = Catalog.Optimizers[o.Kind];
            settings += " with { " + string.Join(", ", o.Options.Select(x => $"{x.Name} = {Value(x, ranges.TryGetValue(x.Name, out var r) && r.IsBool)}")) + " }";
        }

        string schedule = $"{Optimization}.LearningRateSchedule.Constant";
        string warmup = "";
        double maxNorm = double.PositiveInfinity, maxValue = double.PositiveInfinity;
        foreach (TrainingOptionPlan option in c.Plan.TrainingOptions)
        {
            string Args() => string.Join(", ", option.Values.Select(v =>
            {
                (Catalog.Range range, string argument) = Catalog.TrainingOptions[option.Kind][v.Name];
                return $"{argument}: {(range.IsInteger ? SourceWriter.Literal((int)v.Value) : Number(v))}";
            }));
            switch (option.Kind)
            {
                case TrainingOptionKind.StepDecay: schedule = $"{Optimization}.LearningRateSchedule.StepDecay({Args()})"; break;
                case TrainingOptionKind.ExponentialDecay: schedule = $"{Optimization}.LearningRateSchedule.Exponential({Args()})"; break;
                case TrainingOptionKind.InverseTimeDecay: schedule = $"{Optimization}.LearningRateSchedule.InverseTime({Args()})"; break;
                case TrainingOptionKind.CosineAnnealing: schedule = $"{Optimization}.LearningRateSchedule.Cosine({Args()})"; break;
                case TrainingOptionKind.WarmRestarts: schedule = $"{Optimization}.LearningRateSchedule.WarmRestarts({Args()})"; break;
                case TrainingOptionKind.LinearWarmup: warmup = $".WithWarmup({Args()})"; break;
                case TrainingOptionKind.ClipGradientNorm: maxNorm = option.Values.First().Value; break;
                case TrainingOptionKind.ClipGradientValue: maxValue = option.Values.First().Value; break;
            }
        }
        string clipping = $"new {Optimization}.GradientClipping({Number(maxNorm)}, {Number(maxValue)})";
        return $"new {Optimization}.Optimizer<{c.T}>({settings}, ArenaLength, s_tensors, {schedule}{warmup}, {clipping})";
    }

    private static string Value(OptionSpec option, bool isBool) => isBool ? (option.Value != 0 ? "true" : "false") : Number(option);

    private static string Number(OptionSpec option) => Number(option.Value);

    private static string Number(double value) => double.IsPositiveInfinity(value) ? "double.PositiveInfinity" : SourceWriter.Literal(value, false);

    public static void Emit(SourceWriter w, EmitContext c)
    {
        KernelPlan p = c.Plan;
        string T = c.T;
        string labelType = c.LabelType!;
        string paramName = LossEmitter.TakesLabels(p.Loss) ? "labels" : "targets";
        OptimizerPlan o = p.Optimizer!;

        w.Line($"private readonly {Optimization}.Optimizer<{T}> _optimizer;");
        w.Line();
        w.Line($"/// <summary>The optimizer ({o.Kind}): settings, schedule, clipping, state arenas and step count.</summary>");
        w.Line($"public {Optimization}.Optimizer<{T}> Optimizer => _optimizer;");
        w.Line();
        w.Line($"/// <summary>The base learning rate η (initially {c.Literal(o.LearningRate)}; a schedule scales it per step); must be positive and finite.</summary>");
        using (w.Block($"public {T} LearningRate"))
        {
            w.Line($"get => {T}.CreateTruncating(_optimizer.LearningRate);");
            w.Line("set => _optimizer.LearningRate = value;");
        }
        w.Line();
        w.Line($"/// <summary>One {o.Kind} update over the whole parameter arena, from the current <see cref=\"Gradients\"/> (one fused pass per tensor).</summary>");
        using (w.Block("public void ApplyGradients()"))
        {
            w.Line("_optimizer.Step(_parameters.Span, _gradients.Span);");
        }
        w.Line();
        w.Line("/// <summary>");
        w.Line($"/// One training step: forward, loss, backward and {o.Kind} update. Returns the mean loss before the update.");
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
