using System.Collections.Generic;
using KernelGen.Catalog;
using KernelGen.Generators.Emit;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;

namespace KernelGen.Generators.Ops;

/// <summary>Dropout options: the drop probability.</summary>
internal sealed record DropoutOptions(double DropProbability, bool Channelwise) : OpOptions;

/// <summary>
/// Inverted dropout: in training a counter-based mask (seeded by DropoutSeed, a per-layer key and DropoutStep, so
/// masks are identical at every vector width and can be replayed) scales the kept values by 1/(1 − p); backward applies
/// the same mask. In evaluation the output is the input's data.
/// </summary>
internal sealed class DropoutGenerator : OpGenerator
{
    public override LayerKind Kind => LayerKind.Dropout;

    public override OpOptions Options(OptionValues values) => new DropoutOptions(values["DropProbability"], values.Int("Channelwise") != 0);

    public override IEnumerable<BufferNeed> Saved(NodePlan node)
    {
        yield return new BufferNeed("mask", node.Out);
    }

    public override OutputMode Output(NodePlan node, bool training) => training ? OutputMode.Distinct : OutputMode.Alias;

    public override void Forward(SourceWriter w, EmitContext c, NodePlan node, ForwardBindings b)
    {
        var options = (DropoutOptions)node.Options;
        string p = EmitContext.Double(options.DropProbability);
        if (!b.Training)
        {
            if (b.SameBuffer) return;
            w.Line($"// {node.Name}: dropout is the identity in evaluation");
            w.Line($"{b.Input}.CopyTo({b.Output});");
            return;
        }
        string mask = EmitContext.Work(b.SavedRegions["mask"], node.Out);
        string key = $"s.DropoutSeed ^ 0x{LayerKey(node.Index):X16}UL, s.DropoutStep";
        if (options.Channelwise)
        {
            w.Line($"// {node.Name}: inverted channel-wise dropout (whole channels), drop probability {p}");
            w.Line($"{EmitContext.Kernels}.Dropout.FillChannelMask<T>({mask}, batch * {EmitContext.Int(node.InputShape[0])}, {EmitContext.Int(node.InputShape[1] * node.InputShape[2])}, {p}, {key});");
        }
        else
        {
            w.Line($"// {node.Name}: inverted dropout, drop probability {p}");
            w.Line($"{EmitContext.Kernels}.Dropout.FillMask<T>({mask}, {p}, {key});");
        }
        w.Line($"{EmitContext.Kernels}.Dropout.Apply<T>({b.Input}, {mask}, {b.Output});");
    }

    public override void Backward(SourceWriter w, EmitContext c, NodePlan node, BackwardBindings b)
    {
        w.Line($"// {node.Name}: dropout, the same mask");
        w.Line($"{EmitContext.Kernels}.Dropout.Apply<T>({b.OutputGradient}, {EmitContext.Work(b.SavedRegions["mask"], node.Out)}, {b.OutputGradient});");
    }

    /// <summary>A per-layer key mixed into the dropout seed, so two dropout layers never share a mask.</summary>
    private static ulong LayerKey(int index) => unchecked((ulong)(index + 1) * 0x9E3779B97F4A7C15UL);
}
