using System.Collections.Generic;
using KernelGen.Catalog;
using KernelGen.Generators.Emit;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;

namespace KernelGen.Generators.Ops;

/// <summary>BatchNorm options.</summary>
internal sealed record BatchNormOptions(double Momentum, double Epsilon) : OpOptions;

/// <summary>LayerNorm options.</summary>
internal sealed record LayerNormOptions(double Epsilon) : OpOptions;

/// <summary>GroupNorm options.</summary>
internal sealed record GroupNormOptions(int Groups, double Epsilon) : OpOptions;

/// <summary>
/// Batch normalization through <c>Kernels.Normalization</c>: training normalizes with the batch statistics (keeping x̂
/// and 1/σ per feature for backward) and updates the running statistics; evaluation uses the running statistics.
/// </summary>
internal sealed class BatchNormGenerator : OpGenerator
{
    private const string Norm = EmitContext.Kernels + ".Normalization";

    public override LayerKind Kind => LayerKind.BatchNorm;

    public override OpOptions Options(OptionValues values) => new BatchNormOptions(values["Momentum"], values["Epsilon"]);

    // 1/σ is one value per feature; it gets a per-sample-sized region (at most batch times larger than needed, which is
    // as large as x̂'s own buffer).
    public override IEnumerable<BufferNeed> Saved(NodePlan node)
    {
        yield return new BufferNeed("norm", node.Out);
        yield return new BufferNeed("istd", node.Out);
    }

    /// <summary>An image's (channels, pixels), or null for a flat value.</summary>
    private static (int Channels, int Pixels)? Spatial(NodePlan node) =>
        node.InputShape.Rank == 3 ? (node.InputShape[0], node.InputShape[1] * node.InputShape[2]) : null;

    public override void Forward(SourceWriter w, EmitContext c, NodePlan node, ForwardBindings b)
    {
        var o = (BatchNormOptions)node.Options;
        string F = EmitContext.Int(node.Out);
        if (Spatial(node) is { } image)
        {
            string C = EmitContext.Int(image.Channels), P = EmitContext.Int(image.Pixels);
            string g = EmitContext.Param(node.Tensor(TensorRole.Gamma)), bt = EmitContext.Param(node.Tensor(TensorRole.Beta));
            string rm = EmitContext.Param(node.Tensor(TensorRole.RunningMean)), rv = EmitContext.Param(node.Tensor(TensorRole.RunningVariance));
            string running = $"{Norm}.BatchNormSpatialForwardInference<T>({b.Input}, {b.Output}, {g}, {bt}, {rm}, {rv}, batch, {C}, {P}, {c.Const(o.Epsilon)});";
            if (b.Training)
            {
                w.Line($"// {node.Name}: batch normalization over {image.Channels} channels (N·H·W values each), batch statistics (running statistics updated), unless kept in evaluation mode");
                w.Line($"if (s.EvaluationMode({EmitContext.Int(node.Index)})) {running}");
                w.Line($"else {Norm}.BatchNormSpatialForwardTraining<T>({b.Input}, {b.Output}, {g}, {bt}, {EmitContext.Work(b.SavedRegions["norm"], node.Out)}, " +
                       $"s.Work({EmitContext.Int(b.SavedRegions["istd"])}, {C}), {rm}, {rv}, batch, {C}, {P}, {c.Const(o.Epsilon)}, {c.Const(o.Momentum)});");
            }
            else
            {
                w.Line($"// {node.Name}: batch normalization over {image.Channels} channels, running statistics");
                w.Line(running);
            }
            return;
        }
        string gamma = EmitContext.Param(node.Tensor(TensorRole.Gamma)), beta = EmitContext.Param(node.Tensor(TensorRole.Beta));
        string mean = EmitContext.Param(node.Tensor(TensorRole.RunningMean)), variance = EmitContext.Param(node.Tensor(TensorRole.RunningVariance));
        string inference = $"{Norm}.BatchNormForwardInference<T>({b.Input}, {b.Output}, {gamma}, {beta}, {mean}, {variance}, batch, {F}, {c.Const(o.Epsilon)});";
        if (b.Training)
        {
            w.Line($"// {node.Name}: batch normalization over {node.Out} features, batch statistics (running statistics updated), unless kept in evaluation mode");
            w.Line($"if (s.EvaluationMode({EmitContext.Int(node.Index)})) {inference}");
            w.Line($"else {Norm}.BatchNormForwardTraining<T>({b.Input}, {b.Output}, {gamma}, {beta}, {EmitContext.Work(b.SavedRegions["norm"], node.Out)}, " +
                   $"s.Work({EmitContext.Int(b.SavedRegions["istd"])}, {F}), {mean}, {variance}, batch, {F}, {c.Const(o.Epsilon)}, {c.Const(o.Momentum)});");
        }
        else
        {
            w.Line($"// {node.Name}: batch normalization over {node.Out} features, running statistics");
            w.Line(inference);
        }
    }

    public override void Backward(SourceWriter w, EmitContext c, NodePlan node, BackwardBindings b)
    {
        string F = EmitContext.Int(node.Out);
        var o = (BatchNormOptions)node.Options;
        (int channels, int pixels) = Spatial(node) ?? (node.Out, 1);
        w.Line($"// {node.Name}: batch normalization, through the batch mean and variance (or, kept in evaluation mode, the fixed affine map)");
        w.Line($"if (s.EvaluationMode({EmitContext.Int(node.Index)})) {Norm}.BatchNormEvaluationBackward<T>({b.OutputGradient}, {b.Input}, {EmitContext.Param(node.Tensor(TensorRole.Gamma))}, " +
               $"{EmitContext.Param(node.Tensor(TensorRole.RunningMean))}, {EmitContext.Param(node.Tensor(TensorRole.RunningVariance))}, {EmitContext.Grad(node.Tensor(TensorRole.Gamma))}, " +
               $"{EmitContext.Grad(node.Tensor(TensorRole.Beta))}, batch, {EmitContext.Int(channels)}, {EmitContext.Int(pixels)}, {c.Const(o.Epsilon)});");
        if (Spatial(node) is { } image)
        {
            string C = EmitContext.Int(image.Channels);
            w.Line($"else {Norm}.BatchNormSpatialBackward<T>({b.OutputGradient}, {EmitContext.Work(b.SavedRegions["norm"], node.Out)}, s.Work({EmitContext.Int(b.SavedRegions["istd"])}, {C}), " +
                   $"{EmitContext.Param(node.Tensor(TensorRole.Gamma))}, {b.OutputGradient}, {EmitContext.Grad(node.Tensor(TensorRole.Gamma))}, {EmitContext.Grad(node.Tensor(TensorRole.Beta))}, batch, {C}, {EmitContext.Int(image.Pixels)});");
            return;
        }
        w.Line($"else {Norm}.BatchNormBackward<T>({b.OutputGradient}, {EmitContext.Work(b.SavedRegions["norm"], node.Out)}, s.Work({EmitContext.Int(b.SavedRegions["istd"])}, {F}), " +
               $"{EmitContext.Param(node.Tensor(TensorRole.Gamma))}, {b.OutputGradient}, {EmitContext.Grad(node.Tensor(TensorRole.Gamma))}, {EmitContext.Grad(node.Tensor(TensorRole.Beta))}, batch, {F});");
    }
}

/// <summary>Layer and group normalization: per sample, over all features or over each of G groups; the same in training
/// and evaluation (x̂ and 1/σ go to saved buffers in training, to scratch in evaluation).</summary>
internal abstract class PerSampleNormGenerator : OpGenerator
{
    protected const string Norm = EmitContext.Kernels + ".Normalization";

    protected abstract int Groups(NodePlan node);

    protected abstract double Epsilon(NodePlan node);

    public override IEnumerable<BufferNeed> Saved(NodePlan node)
    {
        yield return new BufferNeed("norm", node.Out);
        yield return new BufferNeed("istd", Groups(node));
    }

    public override IEnumerable<BufferNeed> EvaluationScratch(NodePlan node) => Saved(node);

    /// <summary>True when γ and β are per channel of an image (group and instance norm; layer norm's are per value).</summary>
    private bool PerChannel(NodePlan node) => Kind != LayerKind.LayerNorm && node.InputShape.Rank == 3;

    private static string Image(NodePlan node) =>
        $"batch, {EmitContext.Int(node.InputShape[0])}, {EmitContext.Int(node.InputShape[1] * node.InputShape[2])}";

    public override void Forward(SourceWriter w, EmitContext c, NodePlan node, ForwardBindings b)
    {
        NodeRegions regions = b.Training ? b.SavedRegions : b.ScratchRegions;
        string F = EmitContext.Int(node.Out);
        string gamma = EmitContext.Param(node.Tensor(TensorRole.Gamma)), beta = EmitContext.Param(node.Tensor(TensorRole.Beta));
        string normalized = EmitContext.Work(regions["norm"], node.Out), invStd = EmitContext.Work(regions["istd"], Groups(node));
        if (PerChannel(node))
        {
            w.Line($"// {node.Name}: {(Kind == LayerKind.InstanceNorm ? "instance normalization of each channel" : $"group normalization ({Groups(node)} groups of channels)")} over {node.InputShape}");
            w.Line($"{Norm}.GroupNormSpatialForward<T>({b.Input}, {b.Output}, {gamma}, {beta}, {normalized}, {invStd}, {Image(node)}, {EmitContext.Int(Groups(node))}, {c.Const(Epsilon(node))});");
            return;
        }
        if (Kind == LayerKind.GroupNorm)
        {
            w.Line($"// {node.Name}: group normalization ({Groups(node)} groups) over {node.Out} features");
            w.Line($"{Norm}.GroupNormForward<T>({b.Input}, {b.Output}, {gamma}, {beta}, {normalized}, {invStd}, batch, {F}, {EmitContext.Int(Groups(node))}, {c.Const(Epsilon(node))});");
        }
        else
        {
            w.Line($"// {node.Name}: layer normalization over {node.Out} features");
            w.Line($"{Norm}.LayerNormForward<T>({b.Input}, {b.Output}, {gamma}, {beta}, {normalized}, {invStd}, batch, {F}, {c.Const(Epsilon(node))});");
        }
    }

    public override void Backward(SourceWriter w, EmitContext c, NodePlan node, BackwardBindings b)
    {
        string F = EmitContext.Int(node.Out);
        string args = $"{b.OutputGradient}, {EmitContext.Work(b.SavedRegions["norm"], node.Out)}, {EmitContext.Work(b.SavedRegions["istd"], Groups(node))}, " +
                      $"{EmitContext.Param(node.Tensor(TensorRole.Gamma))}, {b.OutputGradient}, {EmitContext.Grad(node.Tensor(TensorRole.Gamma))}, {EmitContext.Grad(node.Tensor(TensorRole.Beta))}, ";
        if (PerChannel(node))
        {
            w.Line($"// {node.Name}: {(Kind == LayerKind.InstanceNorm ? "instance" : "group")} normalization");
            w.Line($"{Norm}.GroupNormSpatialBackward<T>({args}{Image(node)}, {EmitContext.Int(Groups(node))});");
            return;
        }
        args += $"batch, {F}";
        if (Kind == LayerKind.GroupNorm)
        {
            w.Line($"// {node.Name}: group normalization");
            w.Line($"{Norm}.GroupNormBackward<T>({args}, {EmitContext.Int(Groups(node))});");
        }
        else
        {
            w.Line($"// {node.Name}: layer normalization");
            w.Line($"{Norm}.LayerNormBackward<T>({args});");
        }
    }
}

/// <summary>Layer normalization.</summary>
internal sealed class LayerNormGenerator : PerSampleNormGenerator
{
    public override LayerKind Kind => LayerKind.LayerNorm;
    public override OpOptions Options(OptionValues values) => new LayerNormOptions(values["Epsilon"]);
    protected override int Groups(NodePlan node) => 1;
    protected override double Epsilon(NodePlan node) => ((LayerNormOptions)node.Options).Epsilon;
}

/// <summary>Instance normalization: group normalization of an image with one group per channel.</summary>
internal sealed class InstanceNormGenerator : PerSampleNormGenerator
{
    public override LayerKind Kind => LayerKind.InstanceNorm;
    public override OpOptions Options(OptionValues values) => new LayerNormOptions(values["Epsilon"]);
    protected override int Groups(NodePlan node) => node.InputShape[0];
    protected override double Epsilon(NodePlan node) => ((LayerNormOptions)node.Options).Epsilon;
}

/// <summary>Group normalization.</summary>
internal sealed class GroupNormGenerator : PerSampleNormGenerator
{
    public override LayerKind Kind => LayerKind.GroupNorm;
    public override OpOptions Options(OptionValues values) => new GroupNormOptions(values.Int("Groups"), values["Epsilon"]);
    protected override int Groups(NodePlan node) => ((GroupNormOptions)node.Options).Groups;
    protected override double Epsilon(NodePlan node) => ((GroupNormOptions)node.Options).Epsilon;
}
