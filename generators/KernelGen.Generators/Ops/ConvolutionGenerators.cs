using System.Collections.Generic;
using KernelGen.Catalog;
using KernelGen.Generators.Emit;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;

namespace KernelGen.Generators.Ops;

/// <summary>Conv2D options: the resolved initialization and bias start, and the geometry beyond the shapes.</summary>
internal sealed record ConvOptions(Init Init, double BiasInit, int Kernel, int Stride, int PadTop, int PadLeft, int PadBottom, int PadRight, int Dilation, int Groups) : OpOptions;

/// <summary>Pooling options (stride resolved: 0 means the kernel size).</summary>
internal sealed record PoolOptions(int Kernel, int Stride, int Padding, bool CountIncludePad) : OpOptions;

/// <summary>
/// Conv2D through <c>Kernels.Convolution</c>: im2col and the dense layers' register-tiled GEMM per sample and group, bias
/// and activation fused in one epilogue pass; backward applies the activation's derivative to ∂L/∂y in place (keeping
/// the pre-activation when the derivative needs it), then the weight and bias gradients and ∂L/∂x. The geometry is a
/// static field of <c>KernelGenCode</c>; the patch matrix is a batch-independent scratch region.
/// </summary>
internal sealed class ConvGenerator : OpGenerator
{
    private const string Conv = EmitContext.Kernels + ".Convolution";

    public override LayerKind Kind => LayerKind.Conv2D;

    public override OpOptions Options(OptionValues values)
    {
        int[] pad = OpCatalog.ConvolutionPadding(values);
        return new ConvOptions((Init)values.Int("Init"), values["BiasInit"], values.Int("Kernel"), values.Int("Stride"), pad[0], pad[1], pad[2], pad[3],
            values.Int("Dilation"), values.Int("Groups"));
    }

    public override double ResolvedOption(string name, OptionValues values)
    {
        int[] pad = OpCatalog.ConvolutionPadding(values);
        return name switch
        {
            "PadTop" => pad[0],
            "PadLeft" => pad[1],
            "PadBottom" => pad[2],
            "PadRight" => pad[3],
            _ => values[name],
        };
    }

    /// <summary>The kernels' scratch for two parts (<c>Conv2DGeometry.ScratchLength</c>, from the catalog's one formula, twice:
    /// with <c>KernelParallelism.DegreeOfParallelism</c> = 2 each thread works in its own half).</summary>
    private static int ScratchLength(NodePlan node)
    {
        var o = (ConvOptions)node.Options;
        return 2 * (int)OpCatalog.ConvolutionScratch(node.InputShape[0], node.InputShape[1], node.InputShape[2], node.OutputShape[0], o.Kernel, o.Stride,
            o.PadTop, o.PadLeft, o.PadBottom, o.PadRight, o.Dilation, o.Groups);
    }

    public override IEnumerable<BufferNeed> Saved(NodePlan node)
    {
        foreach (BufferNeed need in FusedActivation.Saved(node)) yield return need;
        yield return BufferNeed.OfLength("patches", ScratchLength(node));
    }

    public override IEnumerable<BufferNeed> EvaluationScratch(NodePlan node)
    {
        yield return BufferNeed.OfLength("patches", ScratchLength(node));
    }

    public override OutputMode Gradient(NodePlan node) => OutputMode.Distinct;

    public override void Declarations(SourceWriter w, NodePlan node)
    {
        var o = (ConvOptions)node.Options;
        TensorShape x = node.InputShape;
        w.Line($"/// <summary>{node.Name}: {x} → {node.OutputShape}, {o.Kernel}×{o.Kernel} kernel, stride {o.Stride}, padding (top {o.PadTop}, left {o.PadLeft}, bottom {o.PadBottom}, right {o.PadRight}), dilation {o.Dilation}, {o.Groups} group(s).</summary>");
        w.Line($"internal static readonly {EmitContext.Kernels}.Conv2DGeometry {GeometryName(node)} = new({Ints(x[0], x[1], x[2], node.OutputShape[0], o.Kernel, o.Kernel, o.Stride, o.Stride, o.PadTop, o.PadLeft, o.PadBottom, o.PadRight, o.Dilation, o.Dilation, o.Groups)});");
    }

    private static string GeometryName(NodePlan node) => node.Name + "Geometry";

    private static string Ints(params int[] values) => string.Join(", ", System.Linq.Enumerable.Select(values, EmitContext.Int));

    private static string Scratch(NodeRegions regions, NodePlan node) => $"s.Work({EmitContext.Int(regions["patches"])}, {EmitContext.Int(ScratchLength(node))})";

    /// <summary>The bias span, or <c>default</c> (empty) for a convolution without one.</summary>
    private static string Bias(NodePlan node, bool gradient) =>
        !node.Has(TensorRole.Bias) ? "default" : gradient ? EmitContext.Grad(node.Tensor(TensorRole.Bias)) : EmitContext.Param(node.Tensor(TensorRole.Bias));

    public override void Forward(SourceWriter w, EmitContext c, NodePlan node, ForwardBindings b)
    {
        LayerTensorPlan weights = node.Tensor(TensorRole.Weight);
        string scratch = Scratch(b.Training ? b.SavedRegions : b.ScratchRegions, node);
        FusedActivation.Forward(w, node, b, $"convolution {node.InputShape} → {node.OutputShape}", (op, output) =>
            $"{Conv}.Forward<T, {op}>({b.Input}, {EmitContext.Param(weights)}, {Bias(node, false)}, {output}, {scratch}, batch, {GeometryName(node)});");
    }

    public override void Backward(SourceWriter w, EmitContext c, NodePlan node, BackwardBindings b)
    {
        LayerTensorPlan weights = node.Tensor(TensorRole.Weight);
        string scratch = Scratch(b.SavedRegions, node);
        FusedActivation.Backward(w, node, b, $"convolution {node.InputShape} → {node.OutputShape}");
        w.Line(EmitContext.UnlessFrozen(node, $"{Conv}.BackwardParameters<T>({b.Input}, {b.OutputGradient}, {EmitContext.Grad(weights)}, {Bias(node, true)}, {scratch}, batch, {GeometryName(node)});"));
        if (b.InputGradient is null) return;
        w.Line(FusedActivation.InputGradient(b, $"{Conv}.BackwardInput<T>({b.OutputGradient}, {EmitContext.Param(weights)}, {b.InputGradient}, {scratch}, batch, {GeometryName(node)});"));
    }
}

/// <summary>Max and average pooling through <c>Kernels.Pooling</c>; the geometry is a static field of <c>KernelGenCode</c>.</summary>
internal sealed class PoolGenerator : OpGenerator
{
    private const string Pool = EmitContext.Kernels + ".Pooling";
    private readonly bool _max;

    private PoolGenerator(bool max) { _max = max; }

    /// <summary>MaxPool2D.</summary>
    public static PoolGenerator Max() => new(true);

    /// <summary>AvgPool2D.</summary>
    public static PoolGenerator Average() => new(false);

    public override LayerKind Kind => _max ? LayerKind.MaxPool2D : LayerKind.AvgPool2D;

    public override OpOptions Options(OptionValues values) =>
        new PoolOptions(values.Int("Kernel"), OpCatalog.PoolStride(values), values.Int("Padding"), !_max && values["CountIncludePad"] != 0);

    public override double ResolvedOption(string name, OptionValues values) => name == "Stride" ? OpCatalog.PoolStride(values) : values[name];

    public override OutputMode Gradient(NodePlan node) => OutputMode.Distinct;

    public override void Declarations(SourceWriter w, NodePlan node)
    {
        var o = (PoolOptions)node.Options;
        TensorShape x = node.InputShape;
        w.Line($"/// <summary>{node.Name}: {x} → {node.OutputShape}, {o.Kernel}×{o.Kernel} windows, stride {o.Stride}, padding {o.Padding}.</summary>");
        w.Line($"internal static readonly {EmitContext.Kernels}.Pool2DGeometry {node.Name}Geometry = new({string.Join(", ", System.Linq.Enumerable.Select(new[] { x[0], x[1], x[2], o.Kernel, o.Kernel, o.Stride, o.Stride, o.Padding, o.Padding }, EmitContext.Int))});");
    }

    private string Average(NodePlan node) => _max ? "" : ", " + (((PoolOptions)node.Options).CountIncludePad ? "true" : "false");

    public override void Forward(SourceWriter w, EmitContext c, NodePlan node, ForwardBindings b)
    {
        w.Line($"// {node.Name}: {(_max ? "max" : "average")} pooling {node.InputShape} → {node.OutputShape}");
        w.Line($"{Pool}.{(_max ? "Max" : "Average")}Forward<T>({b.Input}, {b.Output}, batch, {node.Name}Geometry{Average(node)});");
    }

    public override void Backward(SourceWriter w, EmitContext c, NodePlan node, BackwardBindings b)
    {
        if (b.InputGradient is null) return;
        w.Line($"// {node.Name}: {(_max ? "max" : "average")} pooling");
        w.Line(FusedActivation.InputGradient(b, _max
            ? $"{Pool}.MaxBackward<T>({b.Input}, {b.OutputGradient}, {b.InputGradient}, batch, {node.Name}Geometry);"
            : $"{Pool}.AverageBackward<T>({b.OutputGradient}, {b.InputGradient}, batch, {node.Name}Geometry{Average(node)});"));
    }
}

/// <summary>Global average pooling: each channel's mean, [C, H, W] → [C].</summary>
internal sealed class GlobalAveragePoolGenerator : OpGenerator
{
    private const string Pool = EmitContext.Kernels + ".Pooling";

    public override LayerKind Kind => LayerKind.GlobalAveragePool;

    public override OutputMode Gradient(NodePlan node) => OutputMode.Distinct;

    private static string Sizes(NodePlan node) => $"batch, {EmitContext.Int(node.InputShape[0])}, {EmitContext.Int(node.InputShape[1] * node.InputShape[2])}";

    public override void Forward(SourceWriter w, EmitContext c, NodePlan node, ForwardBindings b)
    {
        w.Line($"// {node.Name}: global average pooling {node.InputShape} → [{node.Out}]");
        w.Line($"{Pool}.GlobalAverageForward<T>({b.Input}, {b.Output}, {Sizes(node)});");
    }

    public override void Backward(SourceWriter w, EmitContext c, NodePlan node, BackwardBindings b)
    {
        if (b.InputGradient is null) return;
        w.Line($"// {node.Name}: global average pooling");
        w.Line(FusedActivation.InputGradient(b, $"{Pool}.GlobalAverageBackward<T>({b.OutputGradient}, {b.InputGradient}, {Sizes(node)});"));
    }
}
