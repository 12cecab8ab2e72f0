using System;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace KernelGen.Generators.Tests;

/// <summary>
/// One test (or theory) per diagnostic KG0001…KG0018: the ID, severity, message and exact span, marked in the source
/// as <c>[|…|]</c>. An error means no code for the type; the warning KG0014 leaves code that compiles.
/// </summary>
public sealed class DiagnosticTests
{
    private const string Path = "/src/Test0.cs";

    /// <summary>
    /// Runs the generator over <paramref name="markup"/> and asserts that its KernelGen diagnostics are exactly
    /// <paramref name="id"/> at each marked span (in order), with <paramref name="messages"/> as their texts.
    /// </summary>
    private static GeneratorRun AssertDiagnostics(string markup, string id, DiagnosticSeverity severity, params string[] messages)
    {
        (string source, ImmutableArray<TextSpan> spans) = Markup.Parse(markup);
        Assert.True(spans.Length == messages.Length, "One expected message per marked span.");
        GeneratorRun run = TestHelper.Run(source);
        SyntaxTree tree = run.Input.SyntaxTrees.Single();

        ImmutableArray<Diagnostic> actual = run.KgDiagnostics;
        Assert.True(actual.Length == spans.Length,
            $"Expected {spans.Length} × {id}, got:\n{string.Join("\n", actual.Select(d => $"  {d} at {d.Location.SourceSpan}"))}");
        for (int i = 0; i < spans.Length; i++)
        {
            Diagnostic d = actual[i];
            Assert.Equal(id, d.Id);
            Assert.Equal(severity, d.Severity);
            Assert.Equal(spans[i], d.Location.SourceSpan);
            // A source location (not just a path and span), so #pragma and [SuppressMessage] can apply.
            Assert.Same(tree, d.Location.SourceTree);
            FileLinePositionSpan lines = d.Location.GetLineSpan();
            Assert.Equal(Path, lines.Path);
            Assert.Equal(tree.GetLineSpan(spans[i]).Span, lines.Span);
            Assert.Equal(messages[i], d.GetMessage(CultureInfo.InvariantCulture));
            Assert.Equal("KernelGen", d.Descriptor.Category);
            // The help link opens the diagnostic's page beside the generator assembly (the package ships it there).
            Assert.EndsWith($"/diagnostics/{id}.md", d.Descriptor.HelpLinkUri, StringComparison.Ordinal);
            Assert.True(System.IO.File.Exists(new Uri(d.Descriptor.HelpLinkUri).LocalPath), $"No page at {d.Descriptor.HelpLinkUri}");
        }
        if (severity == DiagnosticSeverity.Error)
            Assert.True(run.Sources.IsEmpty, "No source may be generated for a type with an error; got " + string.Join(", ", run.Sources.Select(s => s.HintName)));
        return run;
    }

    internal static void AssertError(string markup, string id, params string[] messages) =>
        AssertDiagnostics(markup, id, DiagnosticSeverity.Error, messages);

    [Fact]
    public void KG0001_NonPartialClass_AtIdentifier() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(2)]
        public class [|Net|];
        """, "KG0001",
        "The network type 'Net' must be declared partial so that KernelGen can add the generated members");

    [Fact]
    public void KG0002_GenericClass_AtIdentifier() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(2)]
        public partial class [|Net|]<T>;
        """, "KG0002",
        "The network type 'Net' must not be generic (nor nested in a generic type): KernelGen specializes code for fixed element types");

    [Fact]
    public void KG0002_NestedInGenericType_AtIdentifier() => AssertError("""
        using KernelGen;
        public partial class Outer<T>
        {
            [Network(4)]
            [Dense(2)]
            public partial class [|Net|];
        }
        """, "KG0002",
        "The network type 'Net' must not be generic (nor nested in a generic type): KernelGen specializes code for fixed element types");

    [Theory]
    [InlineData("public partial record [|Net|];")]
    [InlineData("public partial record class [|Net|];")]
    [InlineData("public static partial class [|Net|];")]
    [InlineData("public abstract partial class [|Net|];")]
    [InlineData("file partial class [|Net|];")]
    [InlineData("file sealed partial class [|Net|];")]
    public void KG0003_NotAPlainClass_AtIdentifier(string declaration) => AssertError($"""
        using KernelGen;
        [Network(4)]
        [Dense(2)]
        {declaration}
        """, "KG0003",
        "The network type 'Net' must be a non-static, non-abstract class (not a record, struct, static, abstract or file-local class)");

    [Fact]
    public void KG0004_NestedInNonPartialType_AtIdentifier() => AssertError("""
        using KernelGen;
        public class Outer
        {
            [Network(4)]
            [Dense(2)]
            public partial class [|Net|];
        }
        """, "KG0004",
        "The type 'Outer' contains the network type 'Net' and must be declared partial (and not file-local)");

    [Fact]
    public void KG0005_ZeroInputSize_AtNetworkAttribute() => AssertError("""
        using KernelGen;
        [[|Network(0)|]]
        [Dense(2)]
        public partial class Net;
        """, "KG0005",
        "The input size must be positive, but is 0");

    [Fact]
    public void KG0005_NegativeWidth_AtDenseAttribute() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(8)]
        [[|Dense(-3)|]]
        public partial class Net;
        """, "KG0005",
        "The width of layer 'Dense2' must be positive, but is -3");

    [Fact]
    public void KG0006_NoLayers_AtNetworkAttribute() => AssertError("""
        using KernelGen;
        [[|Network(4)|]]
        [SoftmaxCrossEntropyLoss]
        public partial class Net;
        """, "KG0006",
        "The network 'Net' has no layers; add at least one layer attribute such as [Dense(10)]");

    [Fact]
    public void KG0007_UnknownActivation_AtDenseAttribute() => AssertError("""
        using KernelGen;
        [Network(4)]
        [[|Dense(2, (Activation)42)|]]
        public partial class Net;
        """, "KG0007",
        "42 is not a known value of Activation");

    [Fact]
    public void KG0007_UnknownInit_AtDenseAttribute() => AssertError("""
        using KernelGen;
        [Network(4)]
        [[|Dense(2, Init = (Init)99)|]]
        public partial class Net;
        """, "KG0007",
        "99 is not a known value of Init");

    [Fact]
    public void KG0008_SoftmaxOverOneOutput_AtLoss() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(1)]
        [[|SoftmaxCrossEntropyLoss|]]
        public partial class Net;
        """, "KG0008",
        "SoftmaxCrossEntropyLoss cannot be used with this output: it needs at least 2 classes, but the output has 1 feature(s)");

    [Fact]
    public void KG0009_OptimizerWithoutLoss_AtOptimizer() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(2)]
        [[|Sgd(0.1)|]]
        public partial class Net;
        """, "KG0009",
        "The network 'Net' has an optimizer, which requests training code, but no loss; add a loss attribute such as [SoftmaxCrossEntropyLoss]");

    [Theory]
    [InlineData("0", "0")]
    [InlineData("-0.5", "-0.5")]
    [InlineData("double.NaN", "NaN")]
    [InlineData("double.PositiveInfinity", "Infinity")]
    public void KG0010_InvalidLearningRate_AtOptimizer(string learningRate, string shown) => AssertError($"""
        using KernelGen;
        [Network(4)]
        [Dense(2)]
        [L2Loss]
        [[|Sgd({learningRate})|]]
        public partial class Net;
        """, "KG0010",
        $"The learning rate must be positive and finite in both float and double, but is {shown}");

    [Theory]
    [InlineData("1e300", "1E+300")]     // finite as a double, +∞ as the float variant's float
    [InlineData("1e-50", "1E-50")]      // positive as a double, 0 as a float
    public void KG0010_LearningRateOutOfFloatRange_AtOptimizer(string learningRate, string shown) => AssertError($"""
        using KernelGen;
        [Network(4)]
        [Dense(2)]
        [L2Loss]
        [[|Sgd({learningRate})|]]
        public partial class Net;
        """, "KG0010",
        $"The learning rate must be positive and finite in both float and double, but is {shown}");

    /// <summary>Each hyperparameter outside its Catalog range, reported at its attribute with the range in words.</summary>
    [Theory]
    [InlineData("Sgd(0.1, Momentum = 1)", "The Momentum must be in [0, 1), but is 1")]
    [InlineData("Sgd(0.1, Momentum = -0.5)", "The Momentum must be in [0, 1), but is -0.5")]
    [InlineData("Sgd(0.1, Dampening = 2)", "The Dampening must be in [0, 1], but is 2")]
    [InlineData("Sgd(0.1, WeightDecay = -1)", "The WeightDecay must be at least 0 and finite, but is -1")]
    [InlineData("Sgd(0.1, Nesterov = true)", "The Nesterov option must be used with Momentum > 0 and Dampening = 0, but is set without them")]
    [InlineData("Sgd(0.1, Momentum = 0.9, Dampening = 0.5, Nesterov = true)", "The Nesterov option must be used with Momentum > 0 and Dampening = 0, but is set without them")]
    [InlineData("AdaGrad(0.01, Epsilon = 0)", "The Epsilon must be greater than 0 and finite, but is 0")]
    [InlineData("AdaGrad(0.01, LearningRateDecay = -0.5)", "The LearningRateDecay must be at least 0 and finite, but is -0.5")]
    [InlineData("AdaGrad(0.01, InitialAccumulator = double.PositiveInfinity)", "The InitialAccumulator must be at least 0 and finite, but is Infinity")]
    [InlineData("RmsProp(0.01, Alpha = -0.1)", "The Alpha must be in [0, 1), but is -0.1")]
    [InlineData("RmsProp(0.01, Momentum = 1)", "The Momentum must be in [0, 1), but is 1")]
    [InlineData("RmsProp(0.01, Epsilon = double.NaN)", "The Epsilon must be greater than 0 and finite, but is NaN")]
    [InlineData("Adam(0.001, Beta2 = 1.5)", "The Beta2 must be in [0, 1), but is 1.5")]
    [InlineData("Adam(0.001, Beta1 = 1)", "The Beta1 must be in [0, 1), but is 1")]
    [InlineData("Adam(0.001, Epsilon = 0)", "The Epsilon must be greater than 0 and finite, but is 0")]
    [InlineData("AdamW(0.001, WeightDecay = double.PositiveInfinity)", "The WeightDecay must be at least 0 and finite, but is Infinity")]
    [InlineData("AdamW(0.001, Beta2 = -1e-3)", "The Beta2 must be in [0, 1), but is -0.001")]
    [InlineData("NAdam(0.002, MomentumDecay = -1)", "The MomentumDecay must be at least 0 and finite, but is -1")]
    [InlineData("NAdam(0.002, Beta1 = 2)", "The Beta1 must be in [0, 1), but is 2")]
    [InlineData("AdaDelta(1.0, Rho = 1)", "The Rho must be in [0, 1), but is 1")]
    [InlineData("AdaDelta(1.0, Epsilon = -1e-6)", "The Epsilon must be greater than 0 and finite, but is -1E-06")]
    [InlineData("Adam(0)", "The learning rate must be positive and finite in both float and double, but is 0")]
    [InlineData("RmsProp(double.NaN)", "The learning rate must be positive and finite in both float and double, but is NaN")]
    [InlineData("AdaDelta(1e300)", "The learning rate must be positive and finite in both float and double, but is 1E+300")]
    // Finite in double but not usable in float: beyond float's range, or a positive-only value that rounds to 0.
    [InlineData("Adam(0.001, Epsilon = 1e-50)", "The Epsilon must be greater than 0 and finite (also as a float, which the float network uses), but is 1E-50")]
    [InlineData("AdaGrad(0.01, Epsilon = double.Epsilon)", "The Epsilon must be greater than 0 and finite (also as a float, which the float network uses), but is 5E-324")]
    [InlineData("AdaGrad(0.01, WeightDecay = 1e300)", "The WeightDecay must be at least 0 and finite (also as a float, which the float network uses), but is 1E+300")]
    [InlineData("RmsProp(0.01, Epsilon = 1e39)", "The Epsilon must be greater than 0 and finite (also as a float, which the float network uses), but is 1E+39")]
    public void KG0010_InvalidOptimizerHyperparameter_AtOptimizer(string optimizer, string message) => AssertError($"""
        using KernelGen;
        [Network(4)]
        [Dense(2)]
        [L2Loss]
        [[|{optimizer}|]]
        public partial class Net;
        """, "KG0010", message);

    [Theory]
    [InlineData("StepDecay(0)", "The StepSize must be a whole number at least 1, but is 0")]
    [InlineData("StepDecay(10, Gamma = 0)", "The Gamma must be in (0, 1], but is 0")]
    [InlineData("StepDecay(10, Gamma = 1.5)", "The Gamma must be in (0, 1], but is 1.5")]
    [InlineData("ExponentialDecay(0)", "The Gamma must be in (0, 1], but is 0")]
    [InlineData("ExponentialDecay(double.NaN)", "The Gamma must be in (0, 1], but is NaN")]
    [InlineData("InverseTimeDecay(-1)", "The K must be at least 0 and finite, but is -1")]
    [InlineData("CosineAnnealing(0)", "The Period must be a whole number at least 1, but is 0")]
    [InlineData("CosineAnnealing(100, MinLearningRate = -1e-5)", "The MinLearningRate must be at least 0 and finite, but is -1E-05")]
    [InlineData("WarmRestarts(10, PeriodMultiplier = 0.5)", "The PeriodMultiplier must be at least 1 and finite, but is 0.5")]
    [InlineData("WarmRestarts(int.MinValue)", "The FirstPeriod must be a whole number at least 1, but is -2147483648")]
    [InlineData("LinearWarmup(10, StartFactor = 2)", "The StartFactor must be in [0, 1], but is 2")]
    [InlineData("LinearWarmup(0)", "The Steps must be a whole number at least 1, but is 0")]
    [InlineData("ClipGradientNorm(0)", "The MaxNorm must be greater than 0 and finite, but is 0")]
    [InlineData("ClipGradientNorm(double.PositiveInfinity)", "The MaxNorm must be greater than 0 and finite, but is Infinity")]
    [InlineData("ClipGradientValue(double.NaN)", "The MaxValue must be greater than 0 and finite, but is NaN")]
    [InlineData("ClipGradientValue(-1)", "The MaxValue must be greater than 0 and finite, but is -1")]
    [InlineData("ClipGradientNorm(1e-50)", "The MaxNorm must be greater than 0 and finite (also as a float, which the float network uses), but is 1E-50")]
    [InlineData("CosineAnnealing(100, MinLearningRate = 1e39)", "The MinLearningRate must be at least 0 and finite (also as a float, which the float network uses), but is 1E+39")]
    public void KG0010_InvalidScheduleWarmupOrClipping_AtItsAttribute(string option, string message) => AssertError($"""
        using KernelGen;
        [Network(4)]
        [Dense(2)]
        [L2Loss]
        [Sgd(0.1)]
        [[|{option}|]]
        public partial class Net;
        """, "KG0010", message);

    [Fact]
    public void KG0010_SeveralInvalidValues_AreAllReportedAtTheirAttributes()
    {
        (string source, ImmutableArray<TextSpan> spans) = Markup.Parse("""
            using KernelGen;
            [Network(4)]
            [Dense(2)]
            [L2Loss]
            [[|Adam(-1, Beta1 = 1, Beta2 = 2)|]]
            [[|WarmRestarts(0, PeriodMultiplier = 0, MinLearningRate = -1)|]]
            public partial class Net;
            """);
        GeneratorRun run = TestHelper.Run(source);

        // In the order the values are written, each at its attribute.
        Assert.Equal(
            [(spans[0], "The learning rate must be positive and finite in both float and double, but is -1"),
             (spans[0], "The Beta1 must be in [0, 1), but is 1"),
             (spans[0], "The Beta2 must be in [0, 1), but is 2"),
             (spans[1], "The FirstPeriod must be a whole number at least 1, but is 0"),
             (spans[1], "The PeriodMultiplier must be at least 1 and finite, but is 0"),
             (spans[1], "The MinLearningRate must be at least 0 and finite, but is -1")],
            run.KgDiagnostics.Select(d => (d.Location.SourceSpan, d.GetMessage(CultureInfo.InvariantCulture))));
        Assert.All(run.KgDiagnostics, d => Assert.Equal(("KG0010", DiagnosticSeverity.Error), (d.Id, d.Severity)));
        Assert.Empty(run.Sources);
    }

    [Theory]
    [InlineData("ClipGradientNorm(1)", "ClipGradientNorm(2)", "[ClipGradientNorm]")]
    [InlineData("ClipGradientValue(1)", "ClipGradientValue(1)", "[ClipGradientValue]")]
    [InlineData("L2Regularization(0.1)", "L2Regularization(0.2)", "network-wide L2 penalty")]
    public void KG0011_RepeatedClippingOrPenalty_AtTheSecond(string first, string second, string what) => AssertError($"""
        using KernelGen;
        [Network(4)]
        [Dense(2)]
        [L2Loss]
        [Sgd(0.1)]
        [{first}]
        [[|{second}|]]
        public partial class Net;
        """, "KG0011",
        $"The network 'Net' declares more than one {what}");

    [Fact]
    public void KG0011_SecondLoss_AtSecondLoss() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(2)]
        [SoftmaxCrossEntropyLoss]
        [[|L2Loss|]]
        public partial class Net;
        """, "KG0011",
        "The network 'Net' declares more than one loss");

    [Theory]
    [InlineData("StepDecay(10)", "[|ExponentialDecay(0.9)|]")]
    [InlineData("CosineAnnealing(100)", "[|WarmRestarts(10)|]")]
    [InlineData("InverseTimeDecay(0.1)", "[|StepDecay(10)|]")]
    public void KG0011_SecondSchedule_AtSecondSchedule(string first, string second) => AssertError($"""
        using KernelGen;
        [Network(4)]
        [Dense(2)]
        [L2Loss]
        [Sgd(0.1)]
        [{first}]
        [{second}]
        public partial class Net;
        """, "KG0011",
        "The network 'Net' declares more than one learning-rate schedule");

    /// <summary>A warm-up is not a schedule: it does not count toward the duplicate, and does not hide one.</summary>
    [Fact]
    public void KG0011_WarmupBetweenTwoSchedules_AtSecondSchedule() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(2)]
        [L2Loss]
        [Sgd(0.1)]
        [WarmRestarts(10)]
        [LinearWarmup(5)]
        [[|CosineAnnealing(10)|]]
        public partial class Net;
        """, "KG0011",
        "The network 'Net' declares more than one learning-rate schedule");

    [Fact]
    public void KG0011_ThreeSchedules_AtSecondAndThird() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(2)]
        [L2Loss]
        [Adam(0.001)]
        [ExponentialDecay(0.9)]
        [[|StepDecay(10)|]]
        [[|CosineAnnealing(10)|]]
        public partial class Net;
        """, "KG0011",
        "The network 'Net' declares more than one learning-rate schedule",
        "The network 'Net' declares more than one learning-rate schedule");

    [Fact]
    public void KG0011_SecondOptimizer_AtSecondOptimizer() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(2)]
        [L2Loss]
        [Adam(0.001)]
        [[|Sgd(0.1)|]]
        public partial class Net;
        """, "KG0011",
        "The network 'Net' declares more than one optimizer");

    /// <summary>LinearWarmup allows one use per declaration (CS0579 besides); the generator still names the duplicate.</summary>
    [Fact]
    public void KG0011_SecondWarmup_AtSecondWarmup() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(2)]
        [L2Loss]
        [Sgd(0.1)]
        [LinearWarmup(5)]
        [[|LinearWarmup(10)|]]
        public partial class Net;
        """, "KG0011",
        "The network 'Net' declares more than one warm-up");

    [Theory]
    [InlineData("StepDecay(10)")]
    [InlineData("LinearWarmup(10)")]
    [InlineData("ClipGradientNorm(1)")]
    [InlineData("ClipGradientValue(1)")]
    [InlineData("Adam(0.001)")]
    public void KG0012_TrainingAttributeOnAnotherPartialDeclaration_AtNetworkAttribute(string attribute) => AssertError($"""
        using KernelGen;
        [[|Network(4)|]]
        [Dense(8)]
        [L2Loss]
        {(attribute.StartsWith("Adam", StringComparison.Ordinal) ? "" : "[Sgd(0.1)]")}
        public partial class Net;

        [{attribute}]
        public partial class Net;
        """, "KG0012",
        "The KernelGen attributes of 'Net' are spread over several partial declarations: layer order would be ambiguous; declare every layer, loss and optimizer attribute on the declaration that carries [Network]");

    [Fact]
    public void KG0012_LayersOnAnotherPartialDeclaration_AtNetworkAttribute() => AssertError("""
        using KernelGen;
        [[|Network(4)|]]
        [Dense(8)]
        public partial class Net;

        [Dense(2)]
        public partial class Net;
        """, "KG0012",
        "The KernelGen attributes of 'Net' are spread over several partial declarations: layer order would be ambiguous; declare every layer, loss and optimizer attribute on the declaration that carries [Network]");

    [Fact]
    public void KG0012_LossOnAnotherPartialDeclaration_AtNetworkAttribute() => AssertError("""
        using KernelGen;
        [[|Network(4)|]]
        [Dense(8)]
        public partial class Net;

        [L2Loss]
        public partial class Net;
        """, "KG0012",
        "The KernelGen attributes of 'Net' are spread over several partial declarations: layer order would be ambiguous; declare every layer, loss and optimizer attribute on the declaration that carries [Network]");

    [Theory]
    [InlineData("not valid")]
    [InlineData("")]
    [InlineData("1st")]
    public void KG0013_InvalidName_AtLayer(string name) => AssertError($"""
        using KernelGen;
        [Network(4)]
        [[|Dense(2, Name = "{name}")|]]
        public partial class Net;
        """, "KG0013",
        $"The layer name '{name}' is not a valid C# identifier");

    [Fact]
    public void KG0013_DuplicateName_AtSecondLayer() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(8, Name = "Hidden")]
        [[|Dense(2, Name = "Hidden")|]]
        public partial class Net;
        """, "KG0013",
        "The layer name 'Hidden' is used by more than one layer");

    [Fact]
    public void KG0013_ExplicitNameEqualToDefaultName_AtLaterLayer() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(8, Name = "Dense2")]
        [[|Dense(2)|]]
        public partial class Net;
        """, "KG0013",
        "The layer name 'Dense2' is used by more than one layer");

    [Theory]
    [InlineData("[Dense(10, Activation.ReLU)]", "ReLU")]
    [InlineData("[Dense(10)]\n[ReLU]", "ReLU")]
    [InlineData("[Dense(10, Activation.Sigmoid)]\n[Identity]", "Sigmoid")]
    public void KG0014_ActivationBeforeSoftmax_WarnsAtLossAndStillGenerates(string layers, string activation)
    {
        GeneratorRun run = AssertDiagnostics($"""
            using KernelGen;
            namespace Demo;
            [Network(4)]
            {layers}
            [[|SoftmaxCrossEntropyLoss|]]
            [Sgd(0.1)]
            public partial class Net;
            """, "KG0014", DiagnosticSeverity.Warning,
            $"SoftmaxCrossEntropyLoss applies its own softmax to the network outputs, but the last layer already applies {activation}; the outputs should be raw logits");

        Assert.Equal(["Demo.Net.Network.g.cs"], run.Sources.Select(s => s.HintName).Order(StringComparer.Ordinal));
        run.AssertCompilesWithoutWarnings();
    }

    /// <summary>Binary cross-entropy takes logits (PyTorch's BCEWithLogitsLoss): a sigmoid before it applies the sigmoid twice.</summary>
    [Theory]
    [InlineData("[Dense(1, Activation.Sigmoid)]", "Sigmoid", "BinaryCrossEntropyLoss", "sigmoid")]
    [InlineData("[Dense(3)]\n[Sigmoid]", "Sigmoid", "BinaryCrossEntropyLoss", "sigmoid")]
    [InlineData("[Dense(3)]\n[Softmax]", "Softmax", "KLDivergenceLoss", "softmax")]
    [InlineData("[Dense(3)]\n[Softmax]", "Softmax", "SoftmaxCrossEntropyLoss", "softmax")]
    public void KG0014_TransformBeforeALossThatAppliesIt_WarnsAtLoss(string layers, string transform, string loss, string applied)
    {
        GeneratorRun run = AssertDiagnostics($"""
            using KernelGen;
            namespace Demo;
            [Network(4)]
            {layers}
            [[|{loss}|]]
            [Adam(0.01)]
            public partial class Net;
            """, "KG0014", DiagnosticSeverity.Warning,
            $"{loss} applies its own {applied} to the network outputs, but the last layer already applies {transform}; the outputs should be raw logits");
        run.AssertCompilesWithoutWarnings();
    }

    [Theory]
    [InlineData("[Dense(3)]", "layer 'Dense2'")]
    [InlineData("[Dense(3)]\n[Softmax]", "layer 'Softmax1'")]
    [InlineData("[Dense(3)]\n[LogSoftmax]\n[Dropout(0.1)]", "layer 'Dropout1'")]
    public void KG0025_NegativeLogLikelihoodWithoutLogSoftmax_WarnsAtLoss(string layers, string source)
    {
        GeneratorRun run = AssertDiagnostics($"""
            using KernelGen;
            namespace Demo;
            [Network(4)]
            [Dense(8, Activation.ReLU)]
            {layers}
            [[|NegativeLogLikelihoodLoss|]]
            [Sgd(0.1)]
            public partial class Net;
            """, "KG0025", DiagnosticSeverity.Warning,
            $"NegativeLogLikelihoodLoss reads the network outputs as log-probabilities, but they come from {source}, not a [LogSoftmax] layer; add [LogSoftmax] last, or use [SoftmaxCrossEntropyLoss] on raw logits");
        run.AssertCompilesWithoutWarnings();
    }

    [Theory]
    [InlineData("[Dense(3)]\n[LogSoftmax]\n[NegativeLogLikelihoodLoss]")]
    [InlineData("[Dense(3)]\n[LogSoftmax]\n[SoftmaxCrossEntropyLoss(Reduction = LossReduction.Sum)]")] // softmax of log-softmax is softmax: harmless
    [InlineData("[Dense(3)]\n[BinaryCrossEntropyLoss(Reduction = LossReduction.Mean)]")]
    [InlineData("[Dense(3)]\n[L2Loss(Reduction = LossReduction.BatchMean)]")]
    public void LogSoftmax_NLL_and_reductions_generate_without_diagnostics(string layers)
    {
        GeneratorRun run = TestHelper.Run($"""
            using KernelGen;
            namespace Demo;
            [Network(4)]
            [Dense(8, Activation.ReLU)]
            {layers}
            [Adam(0.01)]
            public partial class Net;
            """);
        Assert.Empty(run.KgDiagnostics);
        run.AssertCompilesWithoutWarnings();
    }

    [Fact]
    public void KG0007_UnknownReduction_AtLoss() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(2)]
        [[|L2Loss(Reduction = (LossReduction)3)|]]
        public partial class Net;
        """, "KG0007",
        "3 is not a known value of LossReduction");

    [Fact]
    public void KG0014_CanBeSuppressedWithPragma()
    {
        GeneratorRun run = TestHelper.Run("""
            using KernelGen;
            #pragma warning disable KG0014
            [Network(4)]
            [Dense(10, Activation.ReLU)]
            [SoftmaxCrossEntropyLoss]
            public partial class Net;
            """);
        Diagnostic warning = Assert.Single(run.KgDiagnostics);
        Assert.Equal("KG0014", warning.Id);
        Assert.True(warning.IsSuppressed, "#pragma warning disable KG0014 must suppress the warning.");
        Assert.Single(run.Sources);
    }

    /// <summary>A type named like a member the generated code declares would hit CS0542 in the generated file.</summary>
    [Theory]
    [InlineData("Float64", "[Dense(2)]")]                                      // the nested double variant
    [InlineData("Predict", "[Dense(2)]")]
    [InlineData("Forward", "[Dense(2)]")]
    [InlineData("Parameters", "[Dense(2)]")]
    [InlineData("ParameterCount", "[Dense(2)]")]
    [InlineData("Optimizer", "[Dense(2)]\n[L2Loss]\n[Adam(0.001)]")]
    [InlineData("LearningRate", "[Dense(2)]\n[L2Loss]\n[Sgd(0.1)]")]
    [InlineData("TrainStep", "[Dense(2)]\n[L2Loss]\n[Sgd(0.1)]")]
    [InlineData("ABias", "[Dense(10, Name = \"A\")]")]                          // the layer view of a named layer
    [InlineData("Dense1Weights", "[Dense(2)]")]                                // … and of a default-named one
    [InlineData("HiddenWeightsGradient", "[Dense(4, Name = \"Hidden\")]\n[Dense(2)]")]
    [InlineData("Dense2BiasGradient", "[Dense(4)]\n[ReLU]\n[Dense(2)]")]
    public void KG0015_TypeNamedLikeAGeneratedMember_AtIdentifier(string name, string attributes) => AssertError($"""
        using KernelGen;
        [Network(4)]
        {attributes}
        public partial class [|{name}|];
        """, "KG0015",
        $"The network type cannot be named '{name}': the generated network declares a member of that name");

    /// <summary>Names next to the reserved ones are fine: activation layers have no weights, names are case-sensitive.</summary>
    [Theory]
    [InlineData("ReLU1Weights", "[Dense(2)]\n[ReLU]")]
    [InlineData("Dense2Weights", "[Dense(2)]")]
    [InlineData("AWeights", "[Dense(2, Name = \"B\")]")]
    [InlineData("PREDICT", "[Dense(2)]")]
    [InlineData("Float32", "[Dense(2)]")]
    [InlineData("Optimizers", "[Dense(2)]\n[L2Loss]\n[Sgd(0.1)]")]
    public void NamesNextToGeneratedMembers_AreAccepted(string name, string attributes)
    {
        GeneratorRun run = TestHelper.Run($"""
            using KernelGen;
            namespace Demo;
            [Network(4)]
            {attributes}
            public partial class {name};
            """);

        Assert.True(run.Diagnostics.IsEmpty, string.Join("\n", run.Diagnostics));
        Assert.Equal([$"Demo.{name}.Network.g.cs"], run.Sources.Select(s => s.HintName).Order(StringComparer.Ordinal));
        run.AssertCompilesWithoutWarnings();
    }

    [Fact]
    public void KG0016_TrainingOptionsWithoutOptimizer_AtEachAttribute() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(2)]
        [L2Loss]
        [[|CosineAnnealing(100)|]]
        [[|LinearWarmup(10)|]]
        [[|ClipGradientNorm(1)|]]
        [[|ClipGradientValue(0.5)|]]
        public partial class Net;
        """, "KG0016",
        "[CosineAnnealing] configures the optimizer, but the network has none; add an optimizer attribute such as [Adam(0.001)]",
        "[LinearWarmup] configures the optimizer, but the network has none; add an optimizer attribute such as [Adam(0.001)]",
        "[ClipGradientNorm] configures the optimizer, but the network has none; add an optimizer attribute such as [Adam(0.001)]",
        "[ClipGradientValue] configures the optimizer, but the network has none; add an optimizer attribute such as [Adam(0.001)]");

    [Theory]
    [InlineData("StepDecay(10)", "StepDecay")]
    [InlineData("ExponentialDecay(0.9)", "ExponentialDecay")]
    [InlineData("InverseTimeDecay(0.1)", "InverseTimeDecay")]
    [InlineData("WarmRestarts(10)", "WarmRestarts")]
    [InlineData("KernelGen.StepDecayAttribute(10)", "StepDecay")]     // the name is the attribute's, however it is spelled
    public void KG0016_ScheduleWithoutOptimizerOrLoss_AtSchedule(string attribute, string name) => AssertError($"""
        using KernelGen;
        [Network(4)]
        [Dense(2)]
        [[|{attribute}|]]
        public partial class Net;
        """, "KG0016",
        $"[{name}] configures the optimizer, but the network has none; add an optimizer attribute such as [Adam(0.001)]");

    [Fact]
    public void KG0017_ArenaLargerThanAnArray_AtNetworkAttribute() => AssertError("""
        using KernelGen;
        [[|Network(100000)|]]
        [Dense(100000)]
        public partial class Net;
        """, "KG0017",
        // 100000·100000 weights + 100000 biases + 32 elements allowed for alignment padding (16 per tensor).
        "The parameters of 'Net' need 10000100032 elements, more than one array can hold");

    [Fact]
    public void KG0017_IntMaxValueWidth_AtNetworkAttribute() => AssertError("""
        using KernelGen;
        [[|Network(4)|]]
        [Dense(int.MaxValue)]
        public partial class Net;
        """, "KG0017",
        // 4·2147483647 + 2147483647 + 32, which overflows int: the count must be computed in 64 bits.
        "The parameters of 'Net' need 10737418267 elements, more than one array can hold");

    [Fact]
    public void KG0017_OneElementOverTheLimit_AtNetworkAttribute() => AssertError("""
        using KernelGen;
        [[|Network(1)|]]
        [Dense(1073741748)]
        public partial class Net;
        """, "KG0017",
        // 1·1073741748 + 1073741748 + 32 = 2147483528, one more than the largest arena, 0x7FFFFFC7 − 64 = 2147483527.
        "The parameters of 'Net' need 2147483528 elements, more than one array can hold");

    /// <summary>One element below the KG0017 limit: accepted, and the generated code (with its int constants) compiles.</summary>
    [Fact]
    public void KG0017_LargestAcceptedArena_Compiles()
    {
        GeneratorRun run = TestHelper.Run("""
            using KernelGen;
            namespace Demo;
            [Network(1)]
            [Dense(1073741747)]
            public partial class Net;
            """);

        Assert.True(run.Diagnostics.IsEmpty, string.Join("\n", run.Diagnostics));
        // 1073741747 weights pad to 1073741760; the bias ends at 2147483507, padded to 2147483520.
        Assert.Contains("public const int ArenaLength = 2147483520;", run.Source("Demo.Net.Network.g.cs"), StringComparison.Ordinal);
        run.AssertCompilesWithoutWarnings();
    }

    [Theory]
    [InlineData("public partial class [|Net|](int size);")]
    [InlineData("public partial class [|Net|]();")]
    [InlineData("public sealed partial class [|Net|](string name) { public string Name => name; }")]
    public void KG0018_PrimaryConstructor_AtIdentifier(string declaration) => AssertError($"""
        using KernelGen;
        [Network(4)]
        [Dense(2)]
        {declaration}
        """, "KG0018",
        "The network type 'Net' declares a primary constructor; the generated constructor (maxBatchSize, seed) must be the type's own");

    [Fact]
    public void KG0014_NotReportedWhenAnotherDenseFollowsTheActivation()
    {
        GeneratorRun run = TestHelper.Run("""
            using KernelGen;
            [Network(4)]
            [Dense(10, Activation.ReLU)]
            [Dense(3)]
            [SoftmaxCrossEntropyLoss]
            public partial class Net;
            """);
        Assert.Empty(run.Diagnostics);
        Assert.Single(run.Sources);
    }

    /// <summary>The edges of the checks above are accepted: code is generated, compiles, and nothing is reported.</summary>
    [Theory]
    [InlineData("[Network(1)]\n[Dense(1)]\n[L2Loss]")]                                  // KG0005: 1 is positive
    [InlineData("[Network(1)]\n[Dense(2)]\n[SoftmaxCrossEntropyLoss]")]                 // KG0008: 2 classes suffice
    [InlineData("[Network(3)]\n[Dense(2)]\n[L2Loss]\n[Sgd(1e-45)]")]                    // KG0010: rounds to float.Epsilon > 0
    [InlineData("[Network(3)]\n[Dense(2)]\n[L2Loss]\n[Sgd(3.4e38)]")]                   // KG0010: below float.MaxValue
    [InlineData("[Network(3)]\n[Dense(2, Name = \"_\")]\n[Dense(2, Name = \"é\")]")]   // KG0013: valid identifiers
    [InlineData("[Network(3)]\n[Dense(2, Name = \"Dense2\")]\n[ReLU]")]                 // KG0013: no clash with ReLU1
    [InlineData("[Network(3)]\n[Dense(2, Init = Init.HeUniform)]\n[Sigmoid]\n[L2Loss]")]  // KG0007 / KG0014 do not apply
    [InlineData("[Network(3)]\n[Dense(2, Name = \"int\")]\n[Dense(2, Name = \"class\")]")]  // keywords only prefix members
    // KG0010 on hyperparameters: the closed ends of every range.
    [InlineData("[Network(3)]\n[Dense(2)]\n[L2Loss]\n[Sgd(0.1, Momentum = 0, Dampening = 1, WeightDecay = 0)]")]
    [InlineData("[Network(3)]\n[Dense(2)]\n[L2Loss]\n[Sgd(0.1, Momentum = 0.999, Dampening = 0, Nesterov = true)]")]
    [InlineData("[Network(3)]\n[Dense(2)]\n[L2Loss]\n[Sgd(0.1, Nesterov = false, VelocityForm = false)]")]
    [InlineData("[Network(3)]\n[Dense(2)]\n[L2Loss]\n[AdaGrad(0.1, Epsilon = 1.4e-45, LearningRateDecay = 0, InitialAccumulator = 0)]")]
    [InlineData("[Network(3)]\n[Dense(2)]\n[L2Loss]\n[RmsProp(0.1, Alpha = 0, Momentum = 0, Epsilon = 3.4e38)]")]
    [InlineData("[Network(3)]\n[Dense(2)]\n[L2Loss]\n[Adam(0.1, Beta1 = 0, Beta2 = 0, WeightDecay = 3.4e38)]")]
    [InlineData("[Network(3)]\n[Dense(2)]\n[L2Loss]\n[AdamW(0.1, Beta1 = 0.9999999, WeightDecay = 0)]")]
    [InlineData("[Network(3)]\n[Dense(2)]\n[L2Loss]\n[NAdam(0.1, MomentumDecay = 0)]")]
    [InlineData("[Network(3)]\n[Dense(2)]\n[L2Loss]\n[AdaDelta(0.1, Rho = 0)]")]
    // … and of every schedule, warm-up and clipping value.
    [InlineData("[Network(3)]\n[Dense(2)]\n[L2Loss]\n[Sgd(0.1)]\n[StepDecay(1, Gamma = 1)]")]
    [InlineData("[Network(3)]\n[Dense(2)]\n[L2Loss]\n[Sgd(0.1)]\n[ExponentialDecay(1)]")]
    [InlineData("[Network(3)]\n[Dense(2)]\n[L2Loss]\n[Sgd(0.1)]\n[ExponentialDecay(1.4e-45)]")]
    [InlineData("[Network(3)]\n[Dense(2)]\n[L2Loss]\n[Sgd(0.1)]\n[InverseTimeDecay(0)]")]
    [InlineData("[Network(3)]\n[Dense(2)]\n[L2Loss]\n[Sgd(0.1)]\n[CosineAnnealing(int.MaxValue, MinLearningRate = 0)]")]
    [InlineData("[Network(3)]\n[Dense(2)]\n[L2Loss]\n[Sgd(0.1)]\n[WarmRestarts(1, PeriodMultiplier = 1, MinLearningRate = 0)]")]
    [InlineData("[Network(3)]\n[Dense(2)]\n[L2Loss]\n[Sgd(0.1)]\n[LinearWarmup(1, StartFactor = 1)]")]
    [InlineData("[Network(3)]\n[Dense(2)]\n[L2Loss]\n[Sgd(0.1)]\n[LinearWarmup(int.MaxValue, StartFactor = 0)]\n[StepDecay(int.MaxValue)]")]
    [InlineData("[Network(3)]\n[Dense(2)]\n[L2Loss]\n[Sgd(0.1)]\n[ClipGradientNorm(1.4e-45)]\n[ClipGradientValue(3.4e38)]")]
    public void Boundaries_AreAccepted(string attributes)
    {
        GeneratorRun run = TestHelper.Run($"""
            using KernelGen;
            namespace Demo;
            {attributes}
            public partial class Net;
            """);

        Assert.True(run.Diagnostics.IsEmpty, string.Join("\n", run.Diagnostics));
        Assert.Single(run.Sources);
        run.AssertCompilesWithoutWarnings();
    }

    /// <summary>
    /// A KernelGen attribute that does not bind (wrong argument types or count) is the compiler's error to report: the
    /// generator adds no diagnostic on top (not even for values it would reject, like Network(0) below) and generates
    /// nothing, rather than code for a network without that attribute.
    /// </summary>
    [Theory]
    [InlineData("[Network(\"x\")]\n[Dense(3)]", "CS1503")]
    [InlineData("[Network(4)]\n[Dense(\"abc\")]", "CS1503")]
    [InlineData("[Network(0)]\n[Dense(\"abc\")]", "CS1503")]
    [InlineData("[Network]\n[Dense(3)]", "CS1729")]
    [InlineData("[Network(4)]\n[Dense]", "CS1729")]
    [InlineData("[Network(4)]\n[Dense(3)]\n[L2Loss(1)]", "CS1729")]
    [InlineData("[Network(4)]\n[Dense(3)]\n[L2Loss]\n[Adam(\"fast\")]", "CS1503")]
    [InlineData("[Network(4)]\n[Dense(3)]\n[L2Loss]\n[Sgd(0.1)]\n[StepDecay(2.5)]", "CS1503")]
    [InlineData("[Network(4)]\n[Dense(3)]\n[L2Loss]\n[Sgd(0.1)]\n[ClipGradientNorm]", "CS7036")]
    public void UnbindableAttribute_GeneratesNothingAndReportsNothing(string attributes, string compilerError)
    {
        GeneratorRun run = TestHelper.Run($"""
            using KernelGen;
            namespace Demo;
            {attributes}
            public partial class Net;
            """);

        Assert.Empty(run.Sources);
        Assert.True(run.Diagnostics.IsEmpty, string.Join("\n", run.Diagnostics));
        Assert.Contains(run.Input.GetDiagnostics(), d => d.Id == compilerError && d.Severity == DiagnosticSeverity.Error);
    }

    /// <summary>Only KernelGen's attributes count: another attribute that does not bind leaves the network alone.</summary>
    [Theory]
    [InlineData("[System.Obsolete(42)]", "CS1503")]
    [InlineData("[NoSuchAttribute]", "CS0246")]
    public void UnbindableForeignAttribute_StillGenerates(string attribute, string compilerError)
    {
        GeneratorRun run = TestHelper.Run($"""
            using KernelGen;
            namespace Demo;
            [Network(4)]
            {attribute}
            [Dense(3)]
            public partial class Net;
            """);

        Assert.True(run.Diagnostics.IsEmpty, string.Join("\n", run.Diagnostics));
        Assert.Single(run.Sources);
        Assert.Equal([compilerError], run.OutputDiagnostics(DiagnosticSeverity.Warning).Select(d => d.Id).Distinct());
        Assert.Empty(run.GeneratedFileDiagnostics(DiagnosticSeverity.Warning));
    }

    [Fact]
    public void SeveralErrors_AreAllReported_EachAtItsAttribute()
    {
        (string source, ImmutableArray<TextSpan> spans) = Markup.Parse("""
            using KernelGen;
            [[|Network(0)|]]
            [[|Dense(2, (Activation)42)|]]
            [[|Sgd(0)|]]
            public partial class Net;
            """);
        GeneratorRun run = TestHelper.Run(source);

        // KG0005 (input), KG0007 (activation), KG0009 (no loss) and KG0010 (rate) on the Sgd attribute.
        Assert.Equal(
            [("KG0005", spans[0]), ("KG0007", spans[1]), ("KG0009", spans[2]), ("KG0010", spans[2])],
            run.KgDiagnostics.Select(d => (d.Id, d.Location.SourceSpan)).OrderBy(p => p.SourceSpan.Start).ThenBy(p => p.Id, StringComparer.Ordinal));
        Assert.Empty(run.Sources);
    }

    [Fact]
    public void ErrorInOneNetwork_DoesNotStopAnother()
    {
        GeneratorRun run = TestHelper.Run("""
            using KernelGen;
            namespace Demo;
            [Network(4)]
            [Dense(-1)]
            public partial class Broken;

            [Network(4)]
            [Dense(2)]
            public partial class Fine;
            """);
        Assert.Equal(["KG0005"], run.KgDiagnostics.Select(d => d.Id));
        Assert.Equal(["Demo.Fine.Network.g.cs"], run.Sources.Select(s => s.HintName).Order(StringComparer.Ordinal));
        Assert.Empty(run.GeneratedFileDiagnostics(DiagnosticSeverity.Warning));
    }

    [Fact]
    public void NestedNetworkInPartialTypes_GeneratesCompilingCode()
    {
        GeneratorRun run = TestHelper.Run("""
            using KernelGen;
            namespace Demo;
            public static partial class Models
            {
                internal partial record Container
                {
                    [Network(4)]
                    [Dense(3, Activation.Tanh)]
                    [Dense(2)]
                    [L2Loss]
                    [Sgd(0.01)]
                    public sealed partial class Net;
                }
            }
            """);

        Assert.Empty(run.Diagnostics);
        Assert.Equal(["Demo.Models+Container+Net.Network.g.cs"],
            run.Sources.Select(s => s.HintName).Order(StringComparer.Ordinal));
        run.AssertCompilesWithoutWarnings();
        AssertImplements(run.Output, "Demo.Models+Container+Net", "KernelGen.ITrainableNetwork`2");
        AssertImplements(run.Output, "Demo.Models+Container+Net+Float64", "KernelGen.ITrainableNetwork`2");
    }

    [Fact]
    public void NetworkInGlobalNamespace_GeneratesCompilingCode()
    {
        GeneratorRun run = TestHelper.Run("""
            using KernelGen;
            [Network(4)]
            [Dense(3)]
            public partial class GlobalNet;
            """);

        Assert.Empty(run.Diagnostics);
        Assert.Equal(["GlobalNet.Network.g.cs"], run.Sources.Select(s => s.HintName).Order(StringComparer.Ordinal));
        Assert.DoesNotContain("namespace", run.Source("GlobalNet.Network.g.cs"), StringComparison.Ordinal);
        run.AssertCompilesWithoutWarnings();
        AssertImplements(run.Output, "GlobalNet", "KernelGen.INeuralNetwork`1");
    }

    [Fact]
    public void KeywordTypeName_IsEscaped_AndCompiles()
    {
        GeneratorRun run = TestHelper.Run("""
            using KernelGen;
            namespace Demo;
            [Network(4)]
            [Dense(3)]
            [L2Loss]
            [Sgd(0.1)]
            public partial class @class;
            """);

        Assert.Empty(run.Diagnostics);
        // Hint names are file names, not C#: no '@' (which AddSource would reject).
        Assert.Equal(["Demo.class.Network.g.cs"], run.Sources.Select(s => s.HintName).Order(StringComparer.Ordinal));
        Assert.Contains("partial class @class : global::KernelGen.Runtime.TrainableNetworkBase<float, float>", run.Source("Demo.class.Network.g.cs"), StringComparison.Ordinal);
        Assert.Contains("public @class(int maxBatchSize, ulong seed = 0)", run.Source("Demo.class.Network.g.cs"), StringComparison.Ordinal);
        run.AssertCompilesWithoutWarnings();
        AssertImplements(run.Output, "Demo.class", "KernelGen.ITrainableNetwork`2");
        AssertImplements(run.Output, "Demo.class+Float64", "KernelGen.ITrainableNetwork`2");
    }

    [Fact]
    public void KeywordTypeNames_InTheGlobalNamespaceAndInContainingTypes_AreEscaped()
    {
        GeneratorRun run = TestHelper.Run("""
            using KernelGen;
            public partial struct @struct
            {
                internal partial record @event
                {
                    [Network(4)]
                    [Dense(3)]
                    public partial class @class;
                }
            }
            """);

        Assert.Empty(run.Diagnostics);
        Assert.Equal(["struct+event+class.Network.g.cs"], run.Sources.Select(s => s.HintName).Order(StringComparer.Ordinal));
        Assert.Contains("partial struct @struct", run.Source("struct+event+class.Network.g.cs"), StringComparison.Ordinal);
        run.AssertCompilesWithoutWarnings();
        AssertImplements(run.Output, "struct+event+class", "KernelGen.INeuralNetwork`1");
    }

    /// <summary>
    /// Namespace A.B with class C, and class A nesting B nesting C, once shared the hint "A.B.C" (CS8785: the generator
    /// failed). Containing types are now joined with '+', so both networks get their code. The two declarations clash
    /// in C# itself (CS0101: namespace A and class A), which is the only error left.
    /// </summary>
    [Fact]
    public void NamespaceAndNestedTypeWithTheSameDottedName_GetDistinctHintNames()
    {
        GeneratorRun run = TestHelper.Run(TestHelper.CreateCompilation(
            """
            using KernelGen;
            namespace A.B
            {
                [Network(4)]
                [Dense(3)]
                public partial class C;
            }
            """,
            """
            using KernelGen;
            public partial class A
            {
                public partial class B
                {
                    [Network(5)]
                    [Dense(2)]
                    public partial class C;
                }
            }
            """));

        Assert.Empty(run.Diagnostics);
        Assert.Equal(["A+B+C.Network.g.cs", "A.B.C.Network.g.cs"],
            run.Sources.Select(s => s.HintName).Order(StringComparer.Ordinal));
        Assert.Contains("public const int InputFeatures = 4;", run.Source("A.B.C.Network.g.cs"), StringComparison.Ordinal);
        Assert.Contains("public const int InputFeatures = 5;", run.Source("A+B+C.Network.g.cs"), StringComparison.Ordinal);
        Diagnostic clash = Assert.Single(run.OutputDiagnostics(DiagnosticSeverity.Warning));
        Assert.Equal(("CS0101", "/src/Test1.cs"), (clash.Id, clash.Location.GetLineSpan().Path));
    }

    /// <summary>
    /// A diagnostic is mapped back onto the compilation's tree only when exactly one tree has its path; with two
    /// trees at the same path it keeps its path and span but cannot pick a tree.
    /// </summary>
    [Fact]
    public void TwoTreesWithTheSamePath_KeepThePlainLocation()
    {
        const string broken = """
            using KernelGen;
            [Network(0)]
            [Dense(2)]
            public partial class Net;
            """;
        GeneratorRun run = TestHelper.Run(TestHelper.CreateCompilation(new[]
        {
            ("/src/Same.cs", broken),
            ("/src/Same.cs", "namespace Elsewhere;\npublic sealed class Unrelated { }\n"),
        }));

        Diagnostic d = Assert.Single(run.KgDiagnostics);
        Assert.Equal("KG0005", d.Id);
        Assert.Null(d.Location.SourceTree);
        Assert.Equal("/src/Same.cs", d.Location.GetLineSpan().Path);
        Assert.Equal(new TextSpan(broken.IndexOf("Network(0)", StringComparison.Ordinal), "Network(0)".Length), d.Location.SourceSpan);
        Assert.Equal(1, d.Location.GetLineSpan().StartLinePosition.Line);
    }

    /// <summary>The generated members landed on the user's type (not on a new type of the same name elsewhere).</summary>
    private static void AssertImplements(Compilation compilation, string metadataName, string interfaceMetadataName)
    {
        INamedTypeSymbol? type = compilation.GetTypeByMetadataName(metadataName);
        Assert.True(type is not null, $"No type {metadataName} in the output compilation.");
        Assert.Contains(type!.AllInterfaces, i => i.ContainingNamespace.ToDisplayString() + "." + i.MetadataName == interfaceMetadataName);
        // …and they are the generated ones: the overrides of the forward and backward bodies.
        Assert.Contains(type.GetMembers(), m => m.Name == "Infer" && m.IsOverride);
    }
}

/// <summary>The diagnostic pages (shipped in the package, opened by the help links) agree with the descriptors.</summary>
public sealed class DiagnosticPageTests
{
    public static TheoryData<string> Ids => [.. Descriptors().Select(d => d.Id)];

    private static Microsoft.CodeAnalysis.DiagnosticDescriptor[] Descriptors() =>
        [.. typeof(KernelGen.Generators.Diagnostics.DiagnosticDescriptors)
            .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(f => f.FieldType == typeof(Microsoft.CodeAnalysis.DiagnosticDescriptor))
            .Select(f => (Microsoft.CodeAnalysis.DiagnosticDescriptor)f.GetValue(null)!)
            .OrderBy(d => d.Id, StringComparer.Ordinal)];

    private static string Directory()
    {
        for (var d = new System.IO.DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (System.IO.File.Exists(System.IO.Path.Combine(d.FullName, "KernelGen.sln"))) return System.IO.Path.Combine(d.FullName, "generators", "diagnostics");
        throw new InvalidOperationException("KernelGen.sln not found");
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Each_page_states_the_title_severity_and_message_of_its_descriptor(string id)
    {
        var d = Descriptors().Single(x => x.Id == id);
        string page = System.IO.File.ReadAllText(System.IO.Path.Combine(Directory(), id + ".md"));
        Assert.StartsWith($"# {id}: {d.Title}\n", page, StringComparison.Ordinal);
        Assert.Contains($"| Severity | {d.DefaultSeverity}", page, StringComparison.Ordinal);
        Assert.Contains($"**Message:** `{d.MessageFormat}`", page, StringComparison.Ordinal);
        foreach (string section in new[] { "## Example", "## Fix" })
            Assert.Contains(section, page, StringComparison.Ordinal);
        string overview = System.IO.File.ReadAllText(System.IO.Path.Combine(Directory(), "README.md"));
        Assert.Contains($"| [{id}]({id}.md) | {d.DefaultSeverity} | {d.Title} |", overview, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_page_belongs_to_a_descriptor()
    {
        string[] pages = [.. System.IO.Directory.GetFiles(Directory(), "KG*.md").Select(p => System.IO.Path.GetFileNameWithoutExtension(p)).Order(StringComparer.Ordinal)];
        Assert.Equal(Descriptors().Select(d => d.Id), pages);
    }
}
