using System.Globalization;
using KernelGen.Catalog;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;

namespace KernelGen.Generators.Emit;

/// <summary>
/// Naming helpers for the generated generic bodies: they are written once over an element type <c>T</c> and a
/// <c>NetworkState&lt;T&gt; s</c>, and the JIT specializes them for float and double.
/// </summary>
internal sealed class EmitContext
{
    public const string Ns = "global::KernelGen";
    public const string Kernels = "global::KernelGen.Kernels";
    public const string Ops = "global::KernelGen.Operators";
    public const string Runtime = "global::KernelGen.Runtime";
    public const string Span = "global::System.Span";
    public const string ReadOnlySpan = "global::System.ReadOnlySpan";
    /// <summary>The element-type constraint of every generic body.</summary>
    public const string Constraint = "where T : unmanaged, global::System.Numerics.IBinaryFloatingPointIeee754<T>";

    public EmitContext(GraphPlan plan) { Plan = plan; }

    public GraphPlan Plan { get; }

    /// <summary>The element type parameter of the generic bodies.</summary>
    public string T => "T";

    /// <summary>An element-type constant: <c>T.CreateTruncating(…)</c> of the double value, which rounds exactly as a float
    /// literal would and folds to a constant in the specialized code.</summary>
    public string Const(double value) => $"T.CreateTruncating({SourceWriter.Literal(value, false)})";

    /// <summary>A double literal.</summary>
    public static string Double(double value) => SourceWriter.Literal(value, false);

    /// <summary>An identifier as C# source: reserved keywords get the verbatim prefix (<c>@class</c>).</summary>
    public static string Id(string name) =>
        Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetKeywordKind(name) != Microsoft.CodeAnalysis.CSharp.SyntaxKind.None ? "@" + name : name;

    /// <summary>A dotted namespace with each part escaped.</summary>
    public static string Namespace(string ns) => string.Join(".", System.Linq.Enumerable.Select(ns.Split('.'), Id));

    public static string Int(int value) => SourceWriter.Literal(value);

    /// <summary>A parameter-arena slice.</summary>
    public static string Param(int offset, int length) => $"s.Parameters({Int(offset)}, {Int(length)})";
    /// <summary>A gradient-arena slice.</summary>
    public static string Grad(int offset, int length) => $"s.Gradients({Int(offset)}, {Int(length)})";
    /// <summary>A running-statistics slice.</summary>
    public static string Stat(int offset, int length) => $"s.Statistics({Int(offset)}, {Int(length)})";
    /// <summary>A parameter tensor's slice.</summary>
    public static string Param(LayerTensorPlan t) => t.IsState ? Stat(t.Offset, t.Length) : Param(t.Offset, t.Length);
    /// <summary>A parameter tensor's gradient slice.</summary>
    public static string Grad(LayerTensorPlan t) => Grad(t.Offset, t.Length);
    /// <summary>A parameter-gradient call that a frozen layer skips.</summary>
    public static string UnlessFrozen(NodePlan node, string call) => $"if (!s.Frozen({Int(node.Index)})) {call}";

    /// <summary>batch × <paramref name="perSample"/> elements of work region <paramref name="region"/>.</summary>
    public static string Work(int region, int perSample) => $"s.Work({Int(region)}, batch * {Int(perSample)})";

    /// <summary>The operator type of a node's activation: the catalog's operator struct over T, with the parameter's
    /// constant type when the activation takes one.</summary>
    public static string ActivationOp(Activation activation, double parameter)
    {
        ActivationDescriptor d = OpCatalog.Get(activation);
        string op = d.OperatorFor(parameter);
        return d.ParameterIsTypeArgument ? $"{Ops}.{op}<T, {ParameterType(activation, parameter)}<T>>" : $"{Ops}.{op}<T>";
    }

    /// <summary>The nested type carrying an activation parameter as a compile-time constant, named by the activation and
    /// the value's bits (so equal parameters share one type).</summary>
    public static string ParameterType(Activation activation, double parameter) =>
        activation + "Parameter" + System.BitConverter.DoubleToInt64Bits(parameter).ToString("X16", CultureInfo.InvariantCulture);

    /// <summary>Whether the activation's operator takes a parameter type.</summary>
    public static bool HasParameterType(Activation activation) => OpCatalog.Get(activation).ParameterIsTypeArgument;

    /// <summary>Whether the activation's backward reads the pre-activation.</summary>
    public static bool KeepsInput(Activation activation) => OpCatalog.Get(activation).Backward == BackwardInput.Input;

    /// <summary>The operator struct of the node's activation: a user's ([CustomActivation]) or the built-in one.</summary>
    public static string ActivationOp(NodePlan node) =>
        node.Custom is { } custom ? custom.StructName + "<T>" : ActivationOp(node.Activation, node.ActivationParameter);

    /// <summary>The node's activation for comments: the built-in's name or the user's method.</summary>
    public static string ActivationName(NodePlan node) => node.Custom?.Display ?? node.Activation.ToString();

    /// <summary>Whether the node's activation needs its input in backward (every user's activation does).</summary>
    public static bool KeepsInput(NodePlan node) => node.Custom is not null || KeepsInput(node.Activation);
}
