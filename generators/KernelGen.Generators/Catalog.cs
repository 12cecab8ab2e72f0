using System.Collections.Generic;
using KernelGen.Generators.Model;

namespace KernelGen.Generators;

/// <summary>
/// The generator's registry of optimizer and training-option hyperparameters: which names each attribute takes, their
/// kind (bool or number) and their valid range. The validator checks against it and the emitter formats from it, so a
/// new hyperparameter is added here once. The ranges mirror KernelGen.Optimization's run-time validation.
/// </summary>
internal static class Catalog
{
    /// <summary>A hyperparameter's range: a number in [Min, Max] (bounds exclusive where marked), or a bool.</summary>
    internal sealed record Range(double Min, bool MinExclusive, double Max, bool MaxExclusive, bool IsBool = false, bool IsInteger = false)
    {
        public bool Contains(double v) =>
            !double.IsNaN(v) && !double.IsInfinity(v) &&
            (MinExclusive ? v > Min : v >= Min) && (MaxExclusive ? v < Max : v <= Max) &&
            (!IsInteger || System.Math.Floor(v) == v);

        public string Describe() => IsBool ? "true or false"
            : double.IsPositiveInfinity(Max) ? (MinExclusive ? $"greater than {F(Min)}" : $"at least {F(Min)}") + " and finite"
            : $"in {(MinExclusive ? "(" : "[")}{F(Min)}, {F(Max)}{(MaxExclusive ? ")" : "]")}";

        private static string F(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
    }

    private static readonly Range Unit = new(0, false, 1, true);            // [0, 1)
    private static readonly Range UnitClosed = new(0, false, 1, false);     // [0, 1]
    private static readonly Range Positive = new(0, true, double.PositiveInfinity, false);
    private static readonly Range NonNegative = new(0, false, double.PositiveInfinity, false);
    private static readonly Range Bool = new(0, false, 1, false, IsBool: true);
    private static readonly Range Steps = new(1, false, int.MaxValue, false, IsInteger: true);

    public static readonly Range LearningRate = Positive;

    /// <summary>Hyperparameters each optimizer attribute accepts (besides the learning rate).</summary>
    public static readonly IReadOnlyDictionary<OptimizerKind, IReadOnlyDictionary<string, Range>> Optimizers = new Dictionary<OptimizerKind, IReadOnlyDictionary<string, Range>>
    {
        [OptimizerKind.Sgd] = new Dictionary<string, Range> { ["WeightDecay"] = NonNegative, ["Momentum"] = Unit, ["Dampening"] = UnitClosed, ["Nesterov"] = Bool, ["NotesMomentum"] = Bool },
        [OptimizerKind.AdaGrad] = new Dictionary<string, Range> { ["WeightDecay"] = NonNegative, ["Epsilon"] = Positive, ["LearningRateDecay"] = NonNegative, ["InitialAccumulator"] = NonNegative },
        [OptimizerKind.RmsProp] = new Dictionary<string, Range> { ["WeightDecay"] = NonNegative, ["Alpha"] = Unit, ["Epsilon"] = Positive, ["Momentum"] = Unit, ["Centered"] = Bool, ["EpsilonInsideSqrt"] = Bool },
        [OptimizerKind.Adam] = new Dictionary<string, Range> { ["WeightDecay"] = NonNegative, ["Beta1"] = Unit, ["Beta2"] = Unit, ["Epsilon"] = Positive },
        [OptimizerKind.AdamW] = new Dictionary<string, Range> { ["WeightDecay"] = NonNegative, ["Beta1"] = Unit, ["Beta2"] = Unit, ["Epsilon"] = Positive },
        [OptimizerKind.NAdam] = new Dictionary<string, Range> { ["WeightDecay"] = NonNegative, ["Beta1"] = Unit, ["Beta2"] = Unit, ["Epsilon"] = Positive, ["MomentumDecay"] = NonNegative },
        [OptimizerKind.AdaDelta] = new Dictionary<string, Range> { ["WeightDecay"] = NonNegative, ["Rho"] = Unit, ["Epsilon"] = Positive },
    };

    /// <summary>Values of each schedule, warm-up and clipping attribute, and the run-time factory argument each maps to.</summary>
    public static readonly IReadOnlyDictionary<TrainingOptionKind, IReadOnlyDictionary<string, (Range Range, string Argument)>> TrainingOptions =
        new Dictionary<TrainingOptionKind, IReadOnlyDictionary<string, (Range, string)>>
        {
            [TrainingOptionKind.StepDecay] = new Dictionary<string, (Range, string)> { ["StepSize"] = (Steps, "stepSize"), ["Gamma"] = (new Range(0, true, 1, false), "gamma") },
            [TrainingOptionKind.ExponentialDecay] = new Dictionary<string, (Range, string)> { ["Gamma"] = (new Range(0, true, 1, false), "gamma") },
            [TrainingOptionKind.InverseTimeDecay] = new Dictionary<string, (Range, string)> { ["K"] = (NonNegative, "k") },
            [TrainingOptionKind.CosineAnnealing] = new Dictionary<string, (Range, string)> { ["Period"] = (Steps, "period"), ["MinLearningRate"] = (NonNegative, "minimumRate") },
            [TrainingOptionKind.WarmRestarts] = new Dictionary<string, (Range, string)> { ["FirstPeriod"] = (Steps, "firstPeriod"), ["PeriodMultiplier"] = (new Range(1, false, double.PositiveInfinity, false), "periodMultiplier"), ["MinLearningRate"] = (NonNegative, "minimumRate") },
            [TrainingOptionKind.LinearWarmup] = new Dictionary<string, (Range, string)> { ["Steps"] = (Steps, "steps"), ["StartFactor"] = (UnitClosed, "startFactor") },
            [TrainingOptionKind.ClipGradientNorm] = new Dictionary<string, (Range, string)> { ["MaxNorm"] = (Positive, "maxNorm") },
            [TrainingOptionKind.ClipGradientValue] = new Dictionary<string, (Range, string)> { ["MaxValue"] = (Positive, "maxValue") },
        };

    /// <summary>Members every generated network declares; the network type cannot share their names.</summary>
    public static readonly HashSet<string> GeneratedMembers = new HashSet<string>(System.StringComparer.Ordinal)
    {
        "Float64", "InputFeatures", "OutputFeatures", "ParameterCount", "ArenaLength", "InputSize", "OutputSize", "MaxBatchSize",
        "Parameters", "Gradients", "ParameterTensors", "Initialize", "Predict", "Forward", "Backward", "Loss", "ComputeGradients",
        "TrainStep", "ApplyGradients", "LearningRate", "Optimizer", "MaxWidth", "Train", "Infer", "Propagate", "ValidateBatch",
        "WeightPenalty", "LastDataLoss", "RunningStatistics", "DropoutSeed", "DropoutStep", "s_tensors",
        "Layers", "LayerOutput", "Fingerprint", "SpecFingerprint", "s_layers", "_observedBatch", "Inference", "CreateInference",
        "_parameters", "_gradients", "_work", "_maxBatch", "_input", "_gradA", "_gradB", "_inferA", "_inferB", "_inferC", "_inferS",
        "_cachedBatch", "_statistics", "_optimizer", "_activityPenalty", "_lastDataLoss",
    };


}
