using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;

namespace KernelGen.Generators.Emit;

/// <summary>What every emitter needs: the plan, the element type being emitted, and naming helpers.</summary>
internal sealed class EmitContext
{
    public const string Ns = "global::KernelGen";
    public const string Kernels = "global::KernelGen.Kernels";
    public const string Ops = "global::KernelGen.Operators";
    public const string Span = "global::System.Span";
    public const string ReadOnlySpan = "global::System.ReadOnlySpan";

    public EmitContext(KernelPlan plan, bool isFloat, string className)
    {
        Plan = plan;
        IsFloat = isFloat;
        T = isFloat ? "float" : "double";
        ClassName = className;
    }

    public KernelPlan Plan { get; }
    public bool IsFloat { get; }
    /// <summary>The element type keyword.</summary>
    public string T { get; }
    public string ClassName { get; }

    public string Literal(double value) => SourceWriter.Literal(value, IsFloat);

    /// <summary>An identifier as C# source: reserved keywords get the verbatim prefix (<c>@class</c>).</summary>
    public static string Id(string name) =>
        Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetKeywordKind(name) != Microsoft.CodeAnalysis.CSharp.SyntaxKind.None ? "@" + name : name;

    /// <summary>A dotted namespace with each part escaped.</summary>
    public static string Namespace(string ns) => string.Join(".", System.Linq.Enumerable.Select(ns.Split('.'), Id));
    public static string Int(int value) => SourceWriter.Literal(value);

    /// <summary>The label element type of the loss (int for class labels, T for targets), or null without a loss.</summary>
    public string? LabelType => Plan.Loss is null ? null : LossEmitter.TakesLabels(Plan.Loss) ? "int" : T;

    /// <summary>The operator type of a step's activation; parameterized ones name the step's nested parameter type.</summary>
    public string ActivationOp(StepPlan step) => step.Activation switch
    {
        Activation.ReLU => $"{Ops}.ReluOp<{T}>",
        Activation.Sigmoid => $"{Ops}.SigmoidOp<{T}>",
        Activation.Tanh => $"{Ops}.TanhOp<{T}>",
        Activation.LeakyReLU => $"{Ops}.LeakyReluOp<{T}, {ParameterType(step)}>",
        Activation.ELU => $"{Ops}.EluOp<{T}, {ParameterType(step)}>",
        Activation.Softplus => $"{Ops}.SoftplusOp<{T}>",
        Activation.SiLU => $"{Ops}.SiluOp<{T}>",
        Activation.GELU => step.Parameter != 0 ? $"{Ops}.GeluTanhOp<{T}>" : $"{Ops}.GeluOp<{T}>",
        _ => $"{Ops}.IdentityOp<{T}>",
    };

    /// <summary>The nested type carrying a step's activation parameter as a compile-time constant.</summary>
    public static string ParameterType(StepPlan step) => step.Name + "ActivationParameter";

    /// <summary>Whether the step's activation takes a parameter type.</summary>
    public static bool HasParameterType(StepPlan step) => step.Activation is Activation.LeakyReLU or Activation.ELU;

    /// <summary>A parameter-arena slice.</summary>
    public static string Param(int offset, int length) => $"_parameters.Slice({Int(offset)}, {Int(length)})";
    /// <summary>A gradient-arena slice.</summary>
    public static string Grad(int offset, int length) => $"_gradients.Slice({Int(offset)}, {Int(length)})";
    /// <summary>A work-buffer slice of batch × width elements at the field holding its offset.</summary>
    public static string Work(string offsetField, int width) => $"_work.Slice({offsetField}, batch * {Int(width)})";
}
