using KernelGen.Generators.Helpers;
using KernelGen.Generators.Model;

namespace KernelGen.Generators.Lowering;

// Plans are what emitters see: resolved, fused, laid out. Like specs they must stay immutable and structurally
// equal, and they hold no locations, so an edit that only moves the attributes re-lowers but never re-emits.

/// <summary>A lowered network: the forward steps in order, the parameter arena layout, loss and optimizer.</summary>
internal sealed record KernelPlan(
    TypeSpec Type,
    string Description,
    int InputSize,
    int OutputSize,
    int ParameterCount,
    int ArenaLength,
    int MaxWidth,
    EquatableArray<StepPlan> Steps,
    EquatableArray<TensorPlan> Tensors,
    LossKind? Loss,
    OptimizerPlan? Optimizer,
    EquatableArray<TrainingOptionPlan> TrainingOptions)
{
    /// <summary>Label smoothing or hinge margin, resolved (0 / 1 when unset).</summary>
    public double LossParameter { get; init; }
    /// <summary>Length of the running-statistics buffer (BatchNorm means then variances, per BatchNorm step).</summary>
    public int StatisticsLength { get; init; }
    /// <summary>True when any step carries a weight or activity penalty.</summary>
    public bool HasPenalties { get; init; }
    /// <summary>FNV-1a hash of the plan's structure (steps, shapes, options, layout, loss and optimizer kind): what a
    /// checkpoint must match. Not part of equality beyond what the other members already decide.</summary>
    public ulong Fingerprint { get; init; }
    /// <summary>The inference form: BatchNorm folded into adjacent dense layers, dropout dropped, activations fused.</summary>
    public InferencePlan? Inference { get; init; }
}

/// <summary>
/// The generated inference form. <see cref="Steps"/> are ordinary steps whose offsets index the folded arena
/// (<see cref="ArenaLength"/> elements); <see cref="Sources"/> says, per step, where its tensors come from in the training
/// network and which BatchNorm layers fold into it.
/// </summary>
internal sealed record InferencePlan(EquatableArray<StepPlan> Steps, EquatableArray<InferenceSource> Sources, int ArenaLength, int MaxWidth);

/// <summary>Where an inference step's tensors come from: the training step's offsets, and BatchNorm steps folded into a
/// dense step on its input side (<see cref="Before"/>) or output side (<see cref="After"/>).</summary>
internal sealed record InferenceSource(StepPlan Original, StepPlan? Before, StepPlan? After);

/// <summary>The optimizer: rule, base learning rate and the hyperparameters the user set (the run time supplies the rest).</summary>
internal sealed record OptimizerPlan(OptimizerKind Kind, double LearningRate, EquatableArray<OptionSpec> Options);

/// <summary>A schedule, warm-up or clipping setting with its values.</summary>
internal sealed record TrainingOptionPlan(TrainingOptionKind Kind, EquatableArray<OptionSpec> Values);

/// <summary>Step kinds after fusion.</summary>
internal enum StepKind
{
    /// <summary>y = f(x·W + b), activation fused into the epilogue and its derivative into the backward.</summary>
    Dense,
    /// <summary>A standalone element-wise activation that could not be fused into a preceding dense step.</summary>
    Activation,
    /// <summary>Maxout: a dense step to units·pieces outputs, then the max over each unit's pieces.</summary>
    Maxout,
    /// <summary>Batch normalization (training: batch statistics; evaluation: running statistics).</summary>
    BatchNorm,
    /// <summary>Layer normalization over each sample's features.</summary>
    LayerNorm,
    /// <summary>Group normalization.</summary>
    GroupNorm,
    /// <summary>Inverted dropout (identity in evaluation).</summary>
    Dropout,
    /// <summary>Softmax over each sample's features.</summary>
    Softmax,
}

/// <summary>One forward step. Offsets index the parameter (and gradient) arena; -1 where not applicable.</summary>
internal sealed record StepPlan(
    StepKind Kind,
    string Name,
    int In,
    int Out,
    Activation Activation,
    Init Init,
    int WeightOffset,
    int BiasOffset)
{
    /// <summary>The activation's parameter, resolved: LeakyReLU slope (0.01), ELU α (1), GELU approximate (0 or 1).</summary>
    public double Parameter { get; init; }
    /// <summary>Maxout pieces (its dense part has Out·Pieces outputs).</summary>
    public int Pieces { get; init; }
    /// <summary>GroupNorm groups.</summary>
    public int Groups { get; init; }
    /// <summary>Normalization ε.</summary>
    public double Epsilon { get; init; }
    /// <summary>BatchNorm momentum.</summary>
    public double Momentum { get; init; }
    /// <summary>Dropout's drop probability.</summary>
    public double DropProbability { get; init; }
    /// <summary>Normalization γ and β offsets in the arena; -1 otherwise.</summary>
    public int GammaOffset { get; init; } = -1;
    /// <summary>See <see cref="GammaOffset"/>.</summary>
    public int BetaOffset { get; init; } = -1;
    /// <summary>BatchNorm: offset of its running mean in the statistics buffer (variance follows); -1 otherwise.</summary>
    public int StatisticsOffset { get; init; } = -1;
    /// <summary>Resolved weight penalties λ1, λ2 (dense and maxout weights) and the activity L1 λ on the step's output.</summary>
    public double L1 { get; init; }
    /// <summary>See <see cref="L1"/>.</summary>
    public double L2 { get; init; }
    /// <summary>See <see cref="L1"/>.</summary>
    public double ActivityL1 { get; init; }
    /// <summary>Dense: the constant the biases start at.</summary>
    public double BiasInit { get; init; }
    /// <summary>True when the activation's derivative needs the pre-activation (SiLU, GELU): it is kept in a buffer.</summary>
    public bool KeepsInput => Activation is Activation.SiLU or Activation.GELU;
    /// <summary>Outputs of the dense part: Out, or Out·Pieces for maxout.</summary>
    public int DenseOut => Kind == StepKind.Maxout ? Out * Pieces : Out;
}

/// <summary>One parameter tensor in the arena.</summary>
internal sealed record TensorPlan(string Name, int Offset, int Rows, int Columns, bool IsWeight);
