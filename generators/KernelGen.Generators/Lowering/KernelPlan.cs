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
    EquatableArray<TrainingOptionPlan> TrainingOptions);

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
    int BiasOffset);

/// <summary>One parameter tensor in the arena.</summary>
internal sealed record TensorPlan(string Name, int Offset, int Rows, int Columns, bool IsWeight);
