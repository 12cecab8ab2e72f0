using System.Collections.Generic;
using KernelGen.Catalog;
using KernelGen.Generators.Emit;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;

namespace KernelGen.Generators.Ops;

/// <summary>A node kind's typed options (per-kind records; equatable, so plans stay cacheable).</summary>
internal abstract record OpOptions;

/// <summary>A kind without options.</summary>
internal sealed record NoOptions : OpOptions
{
    public static readonly NoOptions Instance = new();
}

/// <summary>How a node's output relates to its input in one mode.</summary>
internal enum OutputMode
{
    /// <summary>A buffer of its own, different from the input's.</summary>
    Distinct,
    /// <summary>May be written over the input's buffer when the input is not read afterwards.</summary>
    InPlace,
    /// <summary>The same data as the input (no code runs).</summary>
    Alias,
}

/// <summary>A buffer a node needs: a name and its elements per sample, or (<see cref="Fixed"/>) a size independent of the batch.</summary>
internal readonly struct BufferNeed
{
    public BufferNeed(string name, int perSample, bool isFixed = false) { Name = name; PerSample = perSample; Fixed = isFixed; }
    public string Name { get; }
    /// <summary>Elements per sample, or in all when <see cref="Fixed"/>.</summary>
    public int PerSample { get; }
    /// <summary>True for scratch whose size does not grow with the batch (a convolution's patch matrix): it gets a region of
    /// its own, recorded as the negated size.</summary>
    public bool Fixed { get; }

    /// <summary>A batch-independent buffer of <paramref name="length"/> elements.</summary>
    public static BufferNeed OfLength(string name, int length) => new(name, length, isFixed: true);
}

/// <summary>What a node's forward code reads and writes, as C# expressions of the generic body.</summary>
internal sealed class ForwardBindings
{
    public ForwardBindings(string input, string output, bool training, bool sameBuffer, NodeRegions saved, NodeRegions scratch)
    {
        Input = input; Output = output; Training = training; SameBuffer = sameBuffer; SavedRegions = saved; ScratchRegions = scratch;
    }

    /// <summary>The input span ([batch × In]).</summary>
    public string Input { get; }
    /// <summary>Every input span, in order (a merge's several; otherwise just <see cref="Input"/>).</summary>
    public IReadOnlyList<string> Inputs { get; init; } = new string[0];
    /// <summary>The output span ([batch × Out]).</summary>
    public string Output { get; }
    /// <summary>Training mode (batch statistics, dropout masks, saved values) or evaluation mode.</summary>
    public bool Training { get; }
    /// <summary>True when the output is the input's buffer (an in-place node whose input dies here).</summary>
    public bool SameBuffer { get; }
    /// <summary>Training: the regions of what backward keeps.</summary>
    public NodeRegions SavedRegions { get; }
    /// <summary>Evaluation: scratch regions.</summary>
    public NodeRegions ScratchRegions { get; }
}

/// <summary>What a node's backward code reads and writes.</summary>
internal sealed class BackwardBindings
{
    public BackwardBindings(string input, string output, string outputGradient, string? inputGradient, bool inputGradientIsCaller, NodeRegions saved, NodeRegions scratch)
    {
        Input = input; Output = output; OutputGradient = outputGradient; InputGradient = inputGradient;
        InputGradientIsCaller = inputGradientIsCaller; SavedRegions = saved; ScratchRegions = scratch;
    }

    /// <summary>The node's training-mode input.</summary>
    public string Input { get; }
    /// <summary>The node's training-mode output.</summary>
    public string Output { get; }
    /// <summary>∂L/∂output ([batch × Out]); in-place nodes overwrite it with ∂L/∂input.</summary>
    public string OutputGradient { get; }
    /// <summary>Where ∂L/∂input goes ([batch × In]): the caller's span for the first node, else the region the layout
    /// assigned (∂L/∂output's own for in-place nodes); null when nothing needs it.</summary>
    public string? InputGradient { get; }
    /// <summary>True when <see cref="InputGradient"/> is the caller's optional span (write only when it is not empty).</summary>
    public bool InputGradientIsCaller { get; }
    /// <summary>A merge's per-input targets: where the node writes that input's gradient contribution (<c>inputGradient</c>:
    /// the caller's optional span), or null when the contribution is ∂L/∂y's own region and nothing needs writing.</summary>
    public IReadOnlyList<string?> InputGradients { get; init; } = new string?[0];
    /// <summary>What forward kept.</summary>
    public NodeRegions SavedRegions { get; }
    /// <summary>Backward scratch.</summary>
    public NodeRegions ScratchRegions { get; }
}

/// <summary>
/// The generator side of one layer kind of the op catalog: its typed options, the buffers it needs and the code it
/// emits for forward (training and evaluation) and backward. Element-wise activations share one implementation driven
/// by their <see cref="ActivationDescriptor"/>s; every other kind has one class.
/// </summary>
internal abstract class OpGenerator
{
    /// <summary>The layer kind.</summary>
    public abstract LayerKind Kind { get; }

    /// <summary>The typed options of a node of this kind.</summary>
    public virtual OpOptions Options(OptionValues values) => NoOptions.Instance;

    /// <summary>An option's value as the node uses it (LayerInfo.Options, ONNX and PyTorch export): the written or default
    /// value, unless the kind derives it (a convolution's paddings in "same" mode, a pool's default stride).</summary>
    public virtual double ResolvedOption(string name, OptionValues values) => values[name];

    /// <summary>Static members of <c>KernelGenCode</c> the node's code refers to (a convolution's geometry).</summary>
    public virtual void Declarations(SourceWriter w, NodePlan node) { }

    /// <summary>Training: what backward reads besides the node's input and output.</summary>
    public virtual IEnumerable<BufferNeed> Saved(NodePlan node) { yield break; }

    /// <summary>Evaluation: scratch the forward pass needs.</summary>
    public virtual IEnumerable<BufferNeed> EvaluationScratch(NodePlan node) { yield break; }

    /// <summary>Scratch the backward pass needs.</summary>
    public virtual IEnumerable<BufferNeed> BackwardScratch(NodePlan node) { yield break; }

    /// <summary>How the output relates to the input.</summary>
    public virtual OutputMode Output(NodePlan node, bool training) => OutputMode.Distinct;

    /// <summary>How ∂L/∂input relates to ∂L/∂output (InPlace: backward overwrites ∂L/∂output with ∂L/∂input).</summary>
    public virtual OutputMode Gradient(NodePlan node) => OutputMode.InPlace;

    /// <summary>True when the backward code writes ∂L/∂input to <see cref="BackwardBindings.InputGradient"/> itself (also
    /// the caller's span for the first node); false when it leaves it in ∂L/∂output's buffer and the caller's span gets
    /// a copy.</summary>
    public virtual bool WritesInputGradient(NodePlan node) => Gradient(node) == OutputMode.Distinct;

    /// <summary>Emits the forward pass.</summary>
    public abstract void Forward(SourceWriter w, EmitContext c, NodePlan node, ForwardBindings b);

    /// <summary>Emits the backward pass (the parameter gradients and ∂L/∂input).</summary>
    public abstract void Backward(SourceWriter w, EmitContext c, NodePlan node, BackwardBindings b);

    /// <summary>Every kind's generator.</summary>
    public static OpGenerator For(LayerKind kind) => Registry.Generators[kind];

    private static class Registry
    {
        public static readonly Dictionary<LayerKind, OpGenerator> Generators = Build();

        private static Dictionary<LayerKind, OpGenerator> Build()
        {
            var map = new Dictionary<LayerKind, OpGenerator>();
            foreach (OpGenerator g in new OpGenerator[]
            {
                new DenseGenerator(), new ActivationGenerator(), new MaxoutGenerator(), new BatchNormGenerator(), new LayerNormGenerator(),
                new GroupNormGenerator(), new DropoutGenerator(), SoftmaxGenerator.Softmax(), new FlattenGenerator(), SoftmaxGenerator.LogSoftmax(),
                new ConvGenerator(), PoolGenerator.Max(), PoolGenerator.Average(), new GlobalAveragePoolGenerator(), new InstanceNormGenerator(),
                new AddGenerator(), new ConcatGenerator(),
            })
                map.Add(g.Kind, g);
            return map;
        }
    }
}
