using KernelGen.Generators.Helpers;
using KernelGen.Optimization;

namespace KernelGen.Generators.Model;

// Every spec here must stay immutable and structurally equal (records of primitives, strings, enums,
// EquatableArray and nested specs): the incremental driver compares them to decide what to re-run, and a symbol,
// syntax node or compilation kept here would both defeat caching and keep old compilations alive.

/// <summary>What the parser read from one [Network] type, before validation. Values are kept as written (even
/// invalid ones) so the validator can report them at their <see cref="LocationInfo"/>.</summary>
/// <param name="Type">The target type and its containing types.</param>
/// <param name="TypeLocation">The type's identifier.</param>
/// <param name="InputShape">The declared shape of one input sample.</param>
/// <param name="Location">The [Network] attribute.</param>
/// <param name="Layers">Layers in source order.</param>
/// <param name="Losses">Every loss attribute found (more than one is an error).</param>
/// <param name="Optimizers">Every optimizer attribute found (more than one is an error).</param>
/// <param name="TrainingOptions">Schedules, warm-up and clipping attributes.</param>
/// <param name="Penalties">Network-wide weight penalties.</param>
internal sealed record NetworkSpec(
    TypeSpec Type,
    LocationInfo? TypeLocation,
    EquatableArray<int> InputShape,
    LocationInfo? Location,
    EquatableArray<LayerSpec> Layers,
    EquatableArray<LossSpec> Losses,
    EquatableArray<OptimizerSpec> Optimizers,
    EquatableArray<TrainingOptionSpec> TrainingOptions,
    EquatableArray<PenaltySpec> Penalties)
{
    /// <summary>The members the user declared on the type (any part), by name and identifier location.</summary>
    public EquatableArray<MemberSpec> Members { get; init; }
}

/// <summary>A member of the user's half of the network type: its name and where its identifier is.</summary>
internal sealed record MemberSpec(string Name, LocationInfo? Location);

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

/// <summary>One option as written: the attribute property name (constructor parameters are named after their
/// properties) and its value as a double (ints as they are, bools as 0 or 1, enums as their value).</summary>
internal sealed record OptionSpec(string Name, double Value);

/// <summary>
/// One layer as written: its kind, the attribute's short name, the explicit name if any and the options the user wrote
/// (looked up in the op catalog's entry of the kind). For <see cref="LayerKind.Activation"/> layers
/// <see cref="Activation"/> says which activation the attribute applies.
/// </summary>
internal sealed record LayerSpec(LayerKind Kind, string AttributeName, string? Name, EquatableArray<OptionSpec> Options, LocationInfo? Location)
{
    /// <summary>The activation of an activation layer (the raw enum value).</summary>
    public int Activation { get; init; }
    /// <summary>A user's activation ([CustomActivation]), parsed; then <see cref="Activation"/> is Identity.</summary>
    public Custom.CustomFunction? Custom { get; init; }
    /// <summary>A merge layer's inputs by name as written (a null name kept as null); empty for other layers.</summary>
    public EquatableArray<string> Inputs { get; init; }
    /// <summary>True when the attribute sets <c>From</c>; <see cref="From"/> is its value.</summary>
    public bool HasFrom { get; init; }
    /// <summary>The layer it reads instead of the one written before it (<c>From</c>).</summary>
    public string? From { get; init; }
}

/// <summary>A loss attribute with the options the user wrote.</summary>
internal sealed record LossSpec(LossKind Kind, string AttributeName, EquatableArray<OptionSpec> Options, LocationInfo? Location)
{
    /// <summary>A user's loss ([CustomLoss], <see cref="LossKind.Custom"/>), parsed; null when it could not be read (KG0026).</summary>
    public Custom.CustomFunction? Custom { get; init; }
}

/// <summary>An optimizer attribute: its rule, base learning rate and the hyperparameters the user set.</summary>
internal sealed record OptimizerSpec(OptimizerKind Kind, string AttributeName, double LearningRate, EquatableArray<OptionSpec> Options, LocationInfo? Location);

/// <summary>A schedule, warm-up or clipping attribute (by its full name, the catalog key) with the values the user set.</summary>
internal sealed record TrainingOptionSpec(string Attribute, string AttributeName, EquatableArray<OptionSpec> Values, LocationInfo? Location);

/// <summary>A network-wide weight penalty ([L1Regularization], [L2Regularization]): which layer option it sets the default
/// of, and λ as written (NaN when unreadable).</summary>
internal sealed record PenaltySpec(string Option, double Lambda, LocationInfo? Location);

/// <summary>The parser's or validator's output: a spec (null when no code can be generated) and diagnostics.</summary>
internal sealed record Result<TSpec>(TSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics) where TSpec : class;
