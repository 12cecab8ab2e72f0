using System.Collections.Generic;
using KernelGen.Catalog;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Model;
using KernelGen.Generators.Ops;
using KernelGen.Optimization;

namespace KernelGen.Generators.Lowering;

// Plans are what emitters see: resolved, fused, laid out. Like specs they must stay immutable and structurally
// equal, and they hold no locations, so an edit that only moves the attributes re-lowers but never re-emits.

/// <summary>
/// A lowered network: a dataflow graph of values and nodes (a chain is the common case), the parameter arena, the work
/// regions assigned by liveness for training and evaluation, the loss, the optimizer and the inference form.
/// Value 0 is the network input; node k reads <see cref="NodePlan.Input"/> and writes <see cref="NodePlan.Output"/>.
/// </summary>
internal sealed record GraphPlan(
    TypeSpec Type,
    string Description,
    TensorShape InputShape,
    TensorShape OutputShape,
    int ParameterCount,
    int ArenaLength,
    int StatisticsLength,
    EquatableArray<NodePlan> Nodes,
    EquatableArray<ParameterTensorPlan> Tensors,
    EquatableArray<int> Regions,
    TrainingLayout Training,
    EvaluationLayout Evaluation)
{
    /// <summary>The loss, or null.</summary>
    public LossPlan? Loss { get; init; }
    /// <summary>The optimizer, or null.</summary>
    public OptimizerPlan? Optimizer { get; init; }
    /// <summary>Schedules, warm-up and clipping.</summary>
    public EquatableArray<TrainingOptionPlan> TrainingOptions { get; init; }
    /// <summary>True when any node carries a weight or activity penalty.</summary>
    public bool HasPenalties { get; init; }
    /// <summary>The smallest batch training accepts.</summary>
    public int MinimumTrainingBatch { get; init; } = 1;
    /// <summary>FNV-1a hash of the plan's structure: what a checkpoint must match.</summary>
    public ulong Fingerprint { get; init; }
    /// <summary>The inference form.</summary>
    public InferenceFormPlan? InferenceForm { get; init; }
    /// <summary>Values: node k's output is value k + 1.</summary>
    public int ValueCount => Nodes.Count + 1;
}

/// <summary>One node (a lowered layer). Offsets in <see cref="Tensors"/> index the parameter or statistics arena.</summary>
internal sealed record NodePlan(int Index, LayerKind Kind, string Name, int Input, int Output, TensorShape InputShape, TensorShape OutputShape)
{
    /// <summary>Every value the node reads, in order (a merge reads several; <see cref="Input"/> is the first). Empty means
    /// just <see cref="Input"/>.</summary>
    public EquatableArray<int> MergeInputs { get; init; }
    /// <summary>The shapes of <see cref="MergeInputs"/>.</summary>
    public EquatableArray<TensorShape> MergeInputShapes { get; init; }
    /// <summary>The values the node reads: <see cref="MergeInputs"/>, or just <see cref="Input"/>.</summary>
    public IReadOnlyList<int> Inputs => MergeInputs.IsEmpty ? new[] { Input } : MergeInputs;
    /// <summary>The shapes of <see cref="Inputs"/>.</summary>
    public IReadOnlyList<TensorShape> InputShapes => MergeInputs.IsEmpty ? new[] { InputShape } : MergeInputShapes;

    /// <summary>The activation ending the node (fused or standalone); Identity otherwise.</summary>
    public Activation Activation { get; init; }
    /// <summary>The activation's parameter, resolved.</summary>
    public double ActivationParameter { get; init; }
    /// <summary>A user's activation ending the node (fused or standalone), with <see cref="Activation"/> Identity; or null.</summary>
    public Custom.CustomFunction? Custom { get; init; }
    /// <summary>True when the node ends in an activation (built-in or a user's).</summary>
    public bool HasActivation => Activation != Activation.Identity || Custom is not null;
    /// <summary>The node kind's typed options.</summary>
    public OpOptions Options { get; init; } = NoOptions.Instance;
    /// <summary>Every catalog option of the kind with its resolved value (for LayerInfo.Options).</summary>
    public EquatableArray<OptionSpec> ResolvedOptions { get; init; }
    /// <summary>Parameter and state tensors.</summary>
    public EquatableArray<LayerTensorPlan> Tensors { get; init; }
    /// <summary>λ of the L1 penalty on the node's outputs.</summary>
    public double ActivityL1 { get; init; }

    /// <summary>Elements per input sample.</summary>
    public int In => InputShape.Size;
    /// <summary>Elements per output sample.</summary>
    public int Out => OutputShape.Size;

    /// <summary>The tensor of <paramref name="role"/>.</summary>
    public LayerTensorPlan Tensor(TensorRole role)
    {
        foreach (LayerTensorPlan t in Tensors) if (t.Role == role) return t;
        throw new System.InvalidOperationException($"{Name} has no {role} tensor.");
    }

    /// <summary>Whether the node has a tensor of <paramref name="role"/>.</summary>
    public bool Has(TensorRole role)
    {
        foreach (LayerTensorPlan t in Tensors) if (t.Role == role) return true;
        return false;
    }
}

/// <summary>One parameter or state tensor of a node.</summary>
internal sealed record LayerTensorPlan(TensorRole Role, string Name, string FileName, TensorShape Shape, FileLayout Layout, int Offset, bool IsState)
{
    /// <summary>Weights: the resolved initialization.</summary>
    public Init Init { get; init; }
    /// <summary>Other tensors: the constant they start at.</summary>
    public double InitialValue { get; init; }
    /// <summary>Weights: L1 penalty λ.</summary>
    public double L1 { get; init; }
    /// <summary>Weights: L2 penalty λ.</summary>
    public double L2 { get; init; }
    /// <summary>Elements.</summary>
    public int Length => Shape.Size;
}

/// <summary>One row of <c>ParameterTensors</c>: a trainable tensor as rows × columns.</summary>
internal sealed record ParameterTensorPlan(string Name, int Offset, int Rows, int Columns, bool IsWeight);

/// <summary>A named region of a node (saved for backward, or scratch).</summary>
internal sealed record NamedRegion(string Name, int Region);

/// <summary>The named regions of one node.</summary>
internal sealed record NodeRegions(EquatableArray<NamedRegion> Regions)
{
    public static readonly NodeRegions None = new(EquatableArray<NamedRegion>.Empty);

    /// <summary>The region called <paramref name="name"/>.</summary>
    public int this[string name]
    {
        get
        {
            foreach (NamedRegion r in Regions) if (r.Name == name) return r.Region;
            throw new System.InvalidOperationException($"No region named {name}.");
        }
    }
}

/// <summary>
/// Where training keeps its values. Forward values are pinned (they stay readable for backward and LayerOutput); the
/// gradient of each value lives in a region chosen by liveness over the backward schedule.
/// </summary>
/// <param name="ValueRegions">Per value, the region of its training-mode data; −1 for the network input (the caller's span).</param>
/// <param name="GradientRegions">Per value, the region of ∂L/∂value; −1 for the network input (the caller's inputGradient).</param>
/// <param name="Saved">Per node, what its backward keeps besides its output.</param>
/// <param name="BackwardScratch">Per node, scratch its backward needs.</param>
/// <param name="InputRegion">Where Forward copies its inputs.</param>
/// <param name="OutputGradientRegion">Where ∂L/∂outputs is when backward starts (= GradientRegions of the output value).</param>
/// <param name="InputGradients">Per node, per input slot, where its backward leaves that input's gradient contribution.</param>
internal sealed record TrainingLayout(
    EquatableArray<int> ValueRegions,
    EquatableArray<int> GradientRegions,
    EquatableArray<NodeRegions> Saved,
    EquatableArray<NodeRegions> BackwardScratch,
    int InputRegion,
    int OutputGradientRegion,
    EquatableArray<SlotGradients> InputGradients);

/// <summary>
/// Where one input slot's gradient contribution goes: <see cref="Region"/> holds it after the node's backward (−1: the
/// caller's inputGradient span, when the network input has this one reader); when the value already has a gradient from
/// a later reader, <see cref="AddInto"/> is that region and the contribution is added into it (∂L/∂x sums over readers).
/// </summary>
internal sealed record SlotGradient(int Region, int AddInto);

/// <summary>The slot gradients of one node.</summary>
internal sealed record SlotGradients(EquatableArray<SlotGradient> Slots);

/// <summary>Where an evaluation-mode pass keeps its values, assigned by liveness.</summary>
/// <param name="ValueRegions">Per value, its region; <see cref="External"/> for data in the caller's spans (the input, and
/// the output written straight into the outputs span).</param>
/// <param name="Scratch">Per node, its scratch regions.</param>
internal sealed record EvaluationLayout(EquatableArray<int> ValueRegions, EquatableArray<NodeRegions> Scratch)
{
    /// <summary>The value is the caller's input or output span.</summary>
    public const int External = -1;
}

/// <summary>The loss: kind, resolved parameter and reduction.</summary>
internal sealed record LossPlan(LossKind Kind, double Parameter, LossReduction Reduction = LossReduction.BatchMean)
{
    /// <summary>A user's loss (<see cref="LossKind.Custom"/>).</summary>
    public Custom.CustomFunction? Custom { get; init; }
}

/// <summary>The optimizer: rule, base learning rate and the hyperparameters the user set (the run time supplies the rest).</summary>
internal sealed record OptimizerPlan(OptimizerKind Kind, double LearningRate, EquatableArray<OptionSpec> Options);

/// <summary>A schedule, warm-up or clipping setting (by attribute full name) with its values.</summary>
internal sealed record TrainingOptionPlan(string Attribute, EquatableArray<OptionSpec> Values);

/// <summary>One step of rebuilding the inference form's arena: a copy, or a dense layer with BatchNorm layers folded in
/// (layer indices into the training network, −1 for none).</summary>
internal sealed record FoldPlan(int Source, int Target, int Length, int SourceBias, int TargetBias, int Inputs, int Outputs, int Before, int After)
{
    /// <summary>A convolution: weights [Outputs × Inputs] (per output channel); a normalization before it folds only
    /// without padding.</summary>
    public bool Convolution { get; init; }
    /// <summary>A convolution's kh·kw.</summary>
    public int KernelArea { get; init; }
    /// <summary>A convolution's groups.</summary>
    public int Groups { get; init; }
    /// <summary>A re-parameterized sum of branches (RepVGG): every branch folded into one convolution; empty otherwise.</summary>
    public EquatableArray<BranchFold> Branches { get; init; }
}

/// <summary>One branch of a re-parameterized sum: a convolution's weights and bias (training offsets; −1 for none or for an
/// identity branch), its kernel size, and the BatchNorm after it or on the identity (a training layer index, −1 for none).</summary>
internal sealed record BranchFold(int Weights, int Bias, int Kernel, int Norm);

/// <summary>
/// The inference form: its nodes (offsets index the folded arena), the fold steps that rebuild it from the training
/// network, its own regions and evaluation layout.
/// </summary>
internal sealed record InferenceFormPlan(
    EquatableArray<NodePlan> Nodes,
    EquatableArray<FoldPlan> Folds,
    int ArenaLength,
    int StatisticsLength,
    EquatableArray<int> Regions,
    EvaluationLayout Evaluation);
