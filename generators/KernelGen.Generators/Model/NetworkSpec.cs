using KernelGen.Generators.Helpers;

namespace KernelGen.Generators.Model;

// Every spec here must stay immutable and structurally equal (records of primitives, strings, enums,
// EquatableArray and nested specs): the incremental driver compares them to decide what to re-run, and a symbol,
// syntax node or compilation kept here would both defeat caching and keep old compilations alive.

/// <summary>What the parser read from one [Network] type, before validation. Values are kept as written (even
/// invalid ones) so the validator can report them at their <see cref="LocationInfo"/>.</summary>
/// <param name="Type">The target type and its containing types.</param>
/// <param name="TypeLocation">The type's identifier.</param>
/// <param name="InputSize">The declared input width.</param>
/// <param name="Location">The [Network] attribute.</param>
/// <param name="Layers">Layers in source order.</param>
/// <param name="Losses">Every loss attribute found (more than one is an error).</param>
/// <param name="Optimizers">Every optimizer attribute found (more than one is an error).</param>
/// <param name="TrainingOptions">Schedules, warm-up and clipping attributes.</param>
internal sealed record NetworkSpec(
    TypeSpec Type,
    LocationInfo? TypeLocation,
    int InputSize,
    LocationInfo? Location,
    EquatableArray<LayerSpec> Layers,
    EquatableArray<LossSpec> Losses,
    EquatableArray<OptimizerSpec> Optimizers,
    EquatableArray<TrainingOptionSpec> TrainingOptions)
{
    /// <summary>Network-wide L2 penalty λ on weights ([L2Regularization]); 0 = none, NaN = invalid as written.</summary>
    public double L2 { get; init; }
    /// <summary>Network-wide L1 penalty λ on weights ([L1Regularization]).</summary>
    public double L1 { get; init; }
    /// <summary>Locations of the regularization attributes, for diagnostics.</summary>
    public LocationInfo? RegularizationLocation { get; init; }
}

/// <summary>The target type: namespace, name and the chain of containing types (outermost first).</summary>
internal sealed record TypeSpec(string? Namespace, string Name, EquatableArray<ContainingTypeSpec> ContainingTypes)
{
    /// <summary>Dotted name for messages and hint names, e.g. <c>Outer.MnistNet</c>.</summary>
    public string DisplayName
    {
        get
        {
            string name = Name;
            for (int i = ContainingTypes.Count - 1; i >= 0; i--) name = ContainingTypes[i].Name + "." + name;
            return name;
        }
    }
}

/// <summary>A containing type as it must be re-declared: keyword (<c>class</c>, <c>struct</c>, <c>record</c>, …) and name.</summary>
internal sealed record ContainingTypeSpec(string Keyword, string Name);

/// <summary>Layer kinds known to the generator.</summary>
internal enum LayerKind
{
    Dense,
    Activation,
    Maxout,
    BatchNorm,
    LayerNorm,
    GroupNorm,
    Dropout,
    Softmax,
}

/// <summary>One layer as written. <see cref="ActivationValue"/> and <see cref="InitValue"/> hold the raw enum values;
/// the init-only members carry the options of the other layer kinds (NaN where unset).</summary>
internal sealed record LayerSpec(
    LayerKind Kind,
    string AttributeName,
    int Units,
    int ActivationValue,
    int InitValue,
    string? Name,
    LocationInfo? Location)
{
    /// <summary>The activation's parameter: LeakyReLU slope, ELU α, GELU approximate (1) or exact (0); NaN = default.</summary>
    public double ActivationParameter { get; init; } = double.NaN;
    /// <summary>Maxout pieces.</summary>
    public int Pieces { get; init; }
    /// <summary>GroupNorm groups.</summary>
    public int Groups { get; init; }
    /// <summary>Normalization ε, BatchNorm momentum, Dropout probability (NaN = default).</summary>
    public double Epsilon { get; init; } = double.NaN;
    /// <summary>BatchNorm momentum (NaN = default 0.1).</summary>
    public double Momentum { get; init; } = double.NaN;
    /// <summary>Dropout's drop probability.</summary>
    public double DropProbability { get; init; } = double.NaN;
    /// <summary>Per-layer weight penalties (NaN = inherit the network's) and the activity L1 penalty (0 = off).</summary>
    public double L1 { get; init; } = double.NaN;
    /// <summary>See <see cref="L1"/>.</summary>
    public double L2 { get; init; } = double.NaN;
    /// <summary>λ of the L1 penalty on this layer's output activations.</summary>
    public double ActivityL1 { get; init; }
    /// <summary>Dense: the constant the biases start at.</summary>
    public double BiasInit { get; init; }
}

/// <summary>Loss kinds.</summary>
internal enum LossKind
{
    SoftmaxCrossEntropy,
    L2,
    KLDivergence,
    Hinge,
    BinaryCrossEntropy,
}

/// <summary>A loss attribute.</summary>
internal sealed record LossSpec(LossKind Kind, string AttributeName, LocationInfo? Location)
{
    /// <summary>Label smoothing (softmax cross-entropy) or margin (hinge); NaN = default.</summary>
    public double Parameter { get; init; } = double.NaN;
}

/// <summary>Optimizer kinds; the names match KernelGen.Optimization.OptimizerKind, which the emitted code uses.</summary>
internal enum OptimizerKind
{
    Sgd,
    AdaGrad,
    RmsProp,
    Adam,
    AdamW,
    NAdam,
    AdaDelta,
}

/// <summary>One hyperparameter as written: the attribute property name (constructor parameters are named after their
/// properties) and its value as a double (bools as 0 or 1).</summary>
internal sealed record OptionSpec(string Name, double Value);

/// <summary>An optimizer attribute: its rule, base learning rate and the hyperparameters the user set.</summary>
internal sealed record OptimizerSpec(OptimizerKind Kind, string AttributeName, double LearningRate, EquatableArray<OptionSpec> Options, LocationInfo? Location);

/// <summary>Schedule, warm-up and clipping attributes.</summary>
internal enum TrainingOptionKind
{
    StepDecay,
    ExponentialDecay,
    InverseTimeDecay,
    CosineAnnealing,
    WarmRestarts,
    LinearWarmup,
    ClipGradientNorm,
    ClipGradientValue,
}

/// <summary>A schedule, warm-up or clipping attribute with the values the user set.</summary>
internal sealed record TrainingOptionSpec(TrainingOptionKind Kind, string AttributeName, EquatableArray<OptionSpec> Values, LocationInfo? Location)
{
    public bool IsSchedule => Kind <= TrainingOptionKind.WarmRestarts;
}

/// <summary>The parser's or validator's output: a spec (null when no code can be generated) and diagnostics.</summary>
internal sealed record Result<TSpec>(TSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics) where TSpec : class;
