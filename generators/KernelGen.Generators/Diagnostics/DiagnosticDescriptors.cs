using Microsoft.CodeAnalysis;

namespace KernelGen.Generators.Diagnostics;

/// <summary>
/// Every diagnostic the generator reports. IDs are permanent; each has a help page in generators/diagnostics/ and a row
/// in AnalyzerReleases.Unshipped.md. Errors mean no code is generated for the type; warnings mean the code works but
/// the specification looks wrong.
/// </summary>
internal static class DiagnosticDescriptors
{
    public const string Category = "KernelGen";
    /// <summary>
    /// Where the help pages are: a <c>diagnostics</c> folder beside this assembly, which the KernelGen package ships next
    /// to the generator (<c>analyzers/dotnet/cs/diagnostics/KG0001.md</c>, …) and in-repository builds copy to the
    /// generator's output; a file URI, so a help link opens the page of the installed version.
    /// </summary>
    private static readonly string HelpRoot = FindHelpRoot();

    private static string FindHelpRoot()
    {
        string location = typeof(DiagnosticDescriptors).Assembly.Location;
        string? directory = string.IsNullOrEmpty(location) ? null : System.IO.Path.GetDirectoryName(location);
        return directory is null
            ? "file:///diagnostics/" // loaded from memory: no folder to point at
            : new System.Uri(System.IO.Path.Combine(directory, "diagnostics") + System.IO.Path.DirectorySeparatorChar).AbsoluteUri;
    }

    private static DiagnosticDescriptor Error(string id, string title, string message, string description) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, description, HelpRoot + id + ".md");

    private static DiagnosticDescriptor Warning(string id, string title, string message, string description) =>
        new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, description, HelpRoot + id + ".md");

    public static readonly DiagnosticDescriptor NetworkTypeMustBePartial = Error("KG0001",
        "Network type must be partial",
        "The network type '{0}' must be declared partial so that KernelGen can add the generated members",
        "Add the 'partial' modifier to the class declaration that carries [Network].");

    public static readonly DiagnosticDescriptor NetworkTypeMustNotBeGeneric = Error("KG0002",
        "Network type must not be generic",
        "The network type '{0}' must not be generic (nor nested in a generic type): KernelGen specializes code for fixed element types",
        "Generated networks come in float and double variants; remove the type parameters.");

    public static readonly DiagnosticDescriptor NetworkTypeMustBeClass = Error("KG0003",
        "Network type must be a non-static, non-abstract class",
        "The network type '{0}' must be a non-static, non-abstract class (not a record, struct, static, abstract or file-local class)",
        "Declare the network as a plain 'partial class'; generated networks own buffers and are constructed with 'new'.");

    public static readonly DiagnosticDescriptor ContainingTypeMustBePartial = Error("KG0004",
        "Containing type must be partial (and not file-local)",
        "The type '{0}' contains the network type '{1}' and must be declared partial (and not file-local)",
        "A nested network's containing types are re-declared by the generated code, so each must be partial; a file-local type cannot be re-declared in another file.");

    public static readonly DiagnosticDescriptor SizeMustBePositive = Error("KG0005",
        "Size must be positive",
        "The {0} must be positive, but is {1}",
        "Input sizes and layer widths are the number of features; they must be at least 1.");

    public static readonly DiagnosticDescriptor NetworkHasNoLayers = Error("KG0006",
        "Network has no layers",
        "The network '{0}' has no layers; add at least one layer attribute such as [Dense(10)]",
        "Layers are the KernelGen layer attributes on the network's declaration, applied in source order.");

    public static readonly DiagnosticDescriptor UnknownOptionValue = Error("KG0007",
        "Unknown option value",
        "{0} is not a known value of {1}",
        "Use one of the named members of the enumeration; casts of other integers are rejected.");

    public static readonly DiagnosticDescriptor LossDoesNotFitOutput = Error("KG0008",
        "Loss does not fit the output",
        "{0} cannot be used with this output: {1}",
        "The loss must match the width and meaning of the last layer's output.");

    public static readonly DiagnosticDescriptor OptimizerRequiresLoss = Error("KG0009",
        "Training requires a loss",
        "The network '{0}' has an optimizer, which requests training code, but no loss; add a loss attribute such as [SoftmaxCrossEntropyLoss]",
        "TrainStep needs a loss to differentiate. Remove the optimizer for an inference-only network.");

    public static readonly DiagnosticDescriptor InvalidHyperparameter = Error("KG0010",
        "Invalid hyperparameter",
        "The {0} must be {1}, but is {2}",
        "Hyperparameters must be finite and within their documented range.");

    public static readonly DiagnosticDescriptor DuplicateLossOrOptimizer = Error("KG0011",
        "More than one loss, optimizer, schedule, warm-up, clipping or penalty",
        "The network '{0}' declares more than one {1}",
        "A network has at most one loss and at most one optimizer.");

    public static readonly DiagnosticDescriptor LayersSplitAcrossDeclarations = Error("KG0012",
        "KernelGen attributes are split across declarations",
        "The KernelGen attributes of '{0}' are spread over several partial declarations: {1}",
        "Layer order is source order, which is only well defined within one declaration: declare [Network] once, with every layer, loss and optimizer attribute on the same declaration.");

    public static readonly DiagnosticDescriptor InvalidLayerName = Error("KG0013",
        "Invalid layer name",
        "The layer name '{0}' {1}",
        "Layer names become parts of generated member names: they must be unique C# identifiers.");

    public static readonly DiagnosticDescriptor ReservedTypeName = Error("KG0015",
        "Reserved network type name",
        "The network type cannot be named '{0}': the generated network declares a member of that name",
        "Rename the network type. Every network declares Float64 (the double variant), Predict, Forward, Backward, Parameters and the other generated members, plus {Layer}Weights, {Layer}Bias and their gradients.");

    public static readonly DiagnosticDescriptor TrainingOptionRequiresOptimizer = Error("KG0016",
        "Training option requires an optimizer",
        "[{0}] configures the optimizer, but the network has none; add an optimizer attribute such as [Adam(0.001)]",
        "Learning-rate schedules, warm-up and gradient clipping act inside the optimizer's update.");

    public static readonly DiagnosticDescriptor NetworkTooLarge = Error("KG0017",
        "Network is too large",
        "The parameters of '{0}' need {1} elements, more than one array can hold",
        "The parameter arena is one array of at most 2,147,483,591 elements; split the network or shrink its layers.");

    public static readonly DiagnosticDescriptor PrimaryConstructorNotSupported = Error("KG0018",
        "Network type must not have a primary constructor",
        "The network type '{0}' declares a primary constructor; the generated constructor (maxBatchSize, seed) must be the type's own",
        "Remove the parameter list from the class declaration; keep user state in a separate type.");

    public static readonly DiagnosticDescriptor LayerDoesNotFitInput = Error("KG0019",
        "Layer does not fit its input",
        "Layer '{0}' needs {1}",
        "Each layer's input is the previous layer's output (the network's input for the first layer); its shape must be one the layer accepts.");

    public static readonly DiagnosticDescriptor NetworkTypeHasBaseClass = Error("KG0020",
        "Network type must not declare a base class",
        "The network type '{0}' derives from '{1}'; generated networks derive from KernelGen's runtime base class, so the type must not declare one",
        "Remove the base class (interfaces are fine); keep shared behaviour in a separate type the network uses.");

    public static readonly DiagnosticDescriptor MemberNameClash = Error("KG0021",
        "Member has the name of a generated member",
        "The member '{0}' of '{1}' has the name of a member every generated network has (generated or inherited from KernelGen's runtime base class); rename it",
        "The generated half of the class declares constants, per-layer views and nested types, and inherits Predict, TrainStep and the rest from the runtime base class; a user member of the same name would clash with or hide them.");

    public static readonly DiagnosticDescriptor ConstructorMustChain = Error("KG0022",
        "Constructor must call the generated constructor",
        "A constructor of the network type '{0}' must call the generated constructor, ': this(maxBatchSize, seed)', which allocates the network's buffers; it cannot have the generated constructor's parameters (int, ulong)",
        "The generated constructor (int maxBatchSize, ulong seed = 0) allocates every buffer and initializes the parameters; other constructors chain to it.");

    public static readonly DiagnosticDescriptor LanguageVersionTooLow = Error("KG0023",
        "C# 11 or later required",
        "KernelGen's generated code needs C# 11 or later (static abstract interface members), but this project compiles C# {0}; set <LangVersion> to 11 or later, or remove it (.NET 10 projects default to C# 14)",
        "The generated code shares one generic body between float and double through static abstract interface members, a C# 11 feature.");

    public static readonly DiagnosticDescriptor NamespaceHiddenByType = Error("KG0024",
        "A global type hides a namespace the generated code uses",
        "A type named '{0}' in the global namespace hides the namespace {0}, which the generated code names as global::{0}; move that type into a namespace or rename it",
        "C# binds global::System and global::KernelGen to a global type of that name before the namespace, so no generated code could name the framework or the runtime.");

    public static readonly DiagnosticDescriptor LossExpectsRawOutputs = Warning("KG0014",
        "Loss expects raw outputs",
        "{0} applies its own {2} to the network outputs, but the last layer already applies {1}; the outputs should be raw logits",
        "Remove the activation of the last layer: the loss folds its softmax or sigmoid into a numerically stable gradient.");

    public static readonly DiagnosticDescriptor LossExpectsLogProbabilities = Warning("KG0025",
        "Loss expects log-probabilities",
        "{0} reads the network outputs as log-probabilities, but they come from {1}, not a [LogSoftmax] layer; add [LogSoftmax] last, or use [SoftmaxCrossEntropyLoss] on raw logits",
        "Negative log-likelihood on anything but log-probabilities is unbounded below: training drives the picked outputs to +∞ instead of learning.");

    public static readonly DiagnosticDescriptor UnsupportedActivationFunction = Error("KG0026",
        "User function cannot be compiled",
        "{0} cannot be compiled into vector code: {1}",
        "KernelGen differentiates a [CustomActivation]'s [ActivationFunction] method, or a [CustomLoss]'s [LossFunction] method, at compile time and emits vector code for it; the method must be a static double function of double arguments built from the supported operations.");

    public static readonly DiagnosticDescriptor LayerInputNotFound = Error("KG0027",
        "Layer input cannot be found",
        "Layer '{0}' reads {1}",
        "A layer's From, and an [Add] or [Concat] layer's list, name layers written before it (their Name, or default names such as Dense1) or \"input\" for the network's input.");

    public static readonly DiagnosticDescriptor LayerOutputUnused = Error("KG0028",
        "Layer output is never used",
        "The output of layer '{0}' is never used: no later layer reads it and it is not the last layer; read it with From or an [Add]/[Concat], or remove the layer",
        "Every layer but the last must feed a later one; the last layer's output is the network's output.");
}
