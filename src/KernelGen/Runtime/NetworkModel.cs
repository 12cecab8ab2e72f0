using System;
using System.Collections.Generic;
using KernelGen.Catalog;

namespace KernelGen.Runtime;

/// <summary>
/// The static description of one generated network, the same for its float and double variants: shapes, lowered layers,
/// parameter layout, the work regions the generator assigned by liveness, and the loss. The generated code builds one
/// instance per network type; <see cref="NetworkBase{T}"/> does everything that follows from it (buffers, validation,
/// initialization, penalties, layer outputs), so the generated class holds only what depends on the specification.
/// </summary>
public sealed class NetworkModel
{
    /// <summary>The shape of one input sample.</summary>
    public required TensorShape InputShape { get; init; }
    /// <summary>The shape of one output sample.</summary>
    public required TensorShape OutputShape { get; init; }
    /// <summary>The lowered layers in forward order.</summary>
    public required IReadOnlyList<LayerInfo> Layers { get; init; }
    /// <summary>The parameter tensors in arena order.</summary>
    public required IReadOnlyList<ParameterTensor> Tensors { get; init; }
    /// <summary>Length of the parameter and gradient arenas (tensors start on 16-element boundaries).</summary>
    public required int ArenaLength { get; init; }
    /// <summary>Trainable parameters, excluding padding.</summary>
    public required int ParameterCount { get; init; }
    /// <summary>Length of the running-statistics buffer.</summary>
    public int StatisticsLength { get; init; }
    /// <summary>The fingerprint of the lowered specification.</summary>
    public required ulong Fingerprint { get; init; }
    /// <summary>Elements per sample of each work region; region r holds maxBatchSize × Regions[r] elements.</summary>
    public required IReadOnlyList<int> Regions { get; init; }
    /// <summary>Per layer, the region that holds its training-mode output after a training forward pass.</summary>
    public required IReadOnlyList<int> LayerOutputRegions { get; init; }
    /// <summary>Per layer, the region of what its backward pass keeps besides its output (maxout's pieces, the
    /// pre-activation of an activation whose derivative needs its input), or −1.</summary>
    public IReadOnlyList<int> LayerSavedRegions { get; init; } = [];
    /// <summary>The region <see cref="NetworkBase{T}.Forward"/> copies its inputs into (Backward reads them later).</summary>
    public required int InputRegion { get; init; }
    /// <summary>The region holding ∂L/∂outputs when backward starts.</summary>
    public required int OutputGradientRegion { get; init; }
    /// <summary>The loss, or null.</summary>
    public LossKind? Loss { get; init; }
    /// <summary>The loss's parameter (label smoothing, margin), resolved.</summary>
    public double LossParameter { get; init; }
    /// <summary>How the loss reduces a batch (<see cref="LossAttribute.Reduction"/>).</summary>
    public LossReduction LossReduction { get; init; }
    /// <summary>For <see cref="LossKind.Custom"/>: the user's loss, e.g. <c>MyLosses.Huber(y, t, 1)</c>.</summary>
    public string? CustomLoss { get; init; }
    /// <summary>For <see cref="LossKind.Custom"/>: ℓ and ∂ℓ/∂y as the generator derived them.</summary>
    public string? CustomLossFormula { get; init; }
    /// <summary>For <see cref="LossKind.Custom"/>: the element-wise ℓ as the body of a Python function of the tensors x (outputs) and t.</summary>
    public string? CustomLossPyTorch { get; init; }
    /// <summary>True when any layer has a weight or activity penalty.</summary>
    public bool HasPenalties { get; init; }
    /// <summary>The smallest batch training accepts (2 with BatchNorm).</summary>
    public int MinimumTrainingBatch { get; init; } = 1;
    /// <summary>A one-line description, e.g. <c>input [784] → Dense1 256 + ReLU → Dense2 10 → softmax cross-entropy</c>.</summary>
    public string Description { get; init; } = "";
}

/// <summary>
/// One step of rebuilding an inference form's parameters from its training network (see <see cref="InferenceModel"/>):
/// copy a tensor, or fold BatchNorm layers into a dense layer's weights and bias.
/// </summary>
/// <param name="Source">Offset in the training network's parameters (weights when folding).</param>
/// <param name="Target">Offset in the inference form's parameters.</param>
/// <param name="Length">Elements to copy (copy steps).</param>
public sealed record FoldStep(int Source, int Target, int Length)
{
    /// <summary>Folding: the training network's bias offset.</summary>
    public int SourceBias { get; init; } = -1;
    /// <summary>Folding: the inference form's bias offset.</summary>
    public int TargetBias { get; init; } = -1;
    /// <summary>Folding: the dense layer's inputs (rows of W).</summary>
    public int Inputs { get; init; }
    /// <summary>Folding: the dense layer's outputs (columns of W).</summary>
    public int Outputs { get; init; }
    /// <summary>Folding: the BatchNorm layer on the dense layer's input side, or null.</summary>
    public LayerInfo? Before { get; init; }
    /// <summary>Folding: the BatchNorm layer on the dense layer's output side, or null.</summary>
    public LayerInfo? After { get; init; }
    /// <summary>True when this step folds rather than copies.</summary>
    public bool IsFold => Before is not null || After is not null || Branches is not null;
    /// <summary>A re-parameterized sum of branches (RepVGG): the convolutions, BatchNorms and identities summed into this
    /// step's one convolution (weights [<see cref="Outputs"/> × <see cref="Inputs"/>], kernel area
    /// <see cref="KernelArea"/>, one group); null otherwise.</summary>
    public IReadOnlyList<FoldBranch>? Branches { get; init; }
    /// <summary>True when the layer is a convolution (weights [outputs × inputs] per output channel; <see cref="Before"/>
    /// only when it has no padding).</summary>
    public bool Convolution { get; init; }
    /// <summary>A convolution's kh·kw (its weights per input channel and output channel).</summary>
    public int KernelArea { get; init; }
    /// <summary>A convolution's groups.</summary>
    public int Groups { get; init; } = 1;
}

/// <summary>
/// One branch of a re-parameterized sum (<see cref="FoldStep.Branches"/>): a convolution (its weights' and bias's offsets in
/// the training network's parameters; bias −1 for none) of odd kernel <paramref name="Kernel"/> with "same" padding, or,
/// with <paramref name="WeightOffset"/> −1, the block's input itself; <paramref name="Norm"/> is the evaluation-mode
/// BatchNorm after the convolution or on the input (null: none).
/// </summary>
public sealed record FoldBranch(int WeightOffset, int BiasOffset, int Kernel, LayerInfo? Norm);

/// <summary>The static description of a generated inference form: its folded parameter layout, regions and fold steps.</summary>
public sealed class InferenceModel
{
    /// <summary>The shape of one input sample.</summary>
    public required TensorShape InputShape { get; init; }
    /// <summary>The shape of one output sample.</summary>
    public required TensorShape OutputShape { get; init; }
    /// <summary>Length of the folded parameter arena.</summary>
    public required int ArenaLength { get; init; }
    /// <summary>Length of the copied running statistics (0 when every BatchNorm folded away).</summary>
    public int StatisticsLength { get; init; }
    /// <summary>Elements per sample of each work region.</summary>
    public required IReadOnlyList<int> Regions { get; init; }
    /// <summary>How the parameters are rebuilt from the training network.</summary>
    public required IReadOnlyList<FoldStep> Folds { get; init; }
    /// <summary>The training network's fingerprint (what <see cref="InferenceNetworkBase{T}"/> accepts to fold from).</summary>
    public required ulong SourceFingerprint { get; init; }
    /// <summary>Layers after folding, for display.</summary>
    public int StepCount { get; init; }
}
