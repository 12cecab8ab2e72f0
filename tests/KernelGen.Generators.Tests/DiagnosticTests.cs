using System;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace KernelGen.Generators.Tests;

/// <summary>
/// One test (or theory) per diagnostic KG0001…KG0015: the ID, severity, message and exact span, marked in the source
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
            Assert.EndsWith($"/generators/diagnostics/{id}.md", d.Descriptor.HelpLinkUri, StringComparison.Ordinal);
        }
        if (severity == DiagnosticSeverity.Error)
            Assert.True(run.Sources.IsEmpty, "No source may be generated for a type with an error; got " + string.Join(", ", run.Sources.Select(s => s.HintName)));
        return run;
    }

    private static void AssertError(string markup, string id, params string[] messages) =>
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
    public void KG0003_NotAPlainClass_AtIdentifier(string declaration) => AssertError($"""
        using KernelGen;
        [Network(4)]
        [Dense(2)]
        {declaration}
        """, "KG0003",
        "The network type 'Net' must be a non-static, non-abstract class (not a record, struct, static or abstract class)");

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
        "The type 'Outer' contains the network type 'Net' and must be declared partial");

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

    [Fact]
    public void KG0012_LayersOnAnotherPartialDeclaration_AtNetworkAttribute() => AssertError("""
        using KernelGen;
        [[|Network(4)|]]
        [Dense(8)]
        public partial class Net;

        [Dense(2)]
        public partial class Net;
        """, "KG0012",
        "The layers, loss or optimizer of 'Net' are spread over several partial declarations, so their order is ambiguous; declare all KernelGen attributes on the declaration that carries [Network]");

    [Fact]
    public void KG0012_LossOnAnotherPartialDeclaration_AtNetworkAttribute() => AssertError("""
        using KernelGen;
        [[|Network(4)|]]
        [Dense(8)]
        public partial class Net;

        [L2Loss]
        public partial class Net;
        """, "KG0012",
        "The layers, loss or optimizer of 'Net' are spread over several partial declarations, so their order is ambiguous; declare all KernelGen attributes on the declaration that carries [Network]");

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

        Assert.Equal(["Demo.Net.Float64.g.cs", "Demo.Net.Network.g.cs"], run.Sources.Select(s => s.HintName).Order(StringComparer.Ordinal));
        run.AssertCompilesWithoutWarnings();
    }

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
        Assert.Equal(2, run.Sources.Length);
    }

    [Fact]
    public void KG0015_TypeNamedFloat64_AtIdentifier() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(2)]
        public partial class [|Float64|];
        """, "KG0015",
        "The network type cannot be named 'Float64': the generator nests the double-precision variant under that name");

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
        Assert.Equal(2, run.Sources.Length);
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
    public void Boundaries_AreAccepted(string attributes)
    {
        GeneratorRun run = TestHelper.Run($"""
            using KernelGen;
            namespace Demo;
            {attributes}
            public partial class Net;
            """);

        Assert.True(run.Diagnostics.IsEmpty, string.Join("\n", run.Diagnostics));
        Assert.Equal(2, run.Sources.Length);
        run.AssertCompilesWithoutWarnings();
    }

    [Fact]
    public void SeveralErrors_AreAllReported_EachAtItsAttribute()
    {
        (string source, ImmutableArray<TextSpan> spans) = Markup.Parse("""
            using KernelGen;
            [[|Network(0)|]]
            [[|Dense(2, (Activation)7)|]]
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
        Assert.Equal(["Demo.Fine.Float64.g.cs", "Demo.Fine.Network.g.cs"], run.Sources.Select(s => s.HintName).Order(StringComparer.Ordinal));
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
        Assert.Equal(["Demo.Models.Container.Net.Float64.g.cs", "Demo.Models.Container.Net.Network.g.cs"],
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
        Assert.Equal(["GlobalNet.Float64.g.cs", "GlobalNet.Network.g.cs"], run.Sources.Select(s => s.HintName).Order(StringComparer.Ordinal));
        Assert.DoesNotContain("namespace", run.Source("GlobalNet.Network.g.cs"), StringComparison.Ordinal);
        run.AssertCompilesWithoutWarnings();
        AssertImplements(run.Output, "GlobalNet", "KernelGen.INeuralNetwork`1");
    }

    /// <summary>The generated members landed on the user's type (not on a new type of the same name elsewhere).</summary>
    private static void AssertImplements(Compilation compilation, string metadataName, string interfaceMetadataName)
    {
        INamedTypeSymbol? type = compilation.GetTypeByMetadataName(metadataName);
        Assert.True(type is not null, $"No type {metadataName} in the output compilation.");
        Assert.Contains(type!.AllInterfaces, i => i.ContainingNamespace.ToDisplayString() + "." + i.MetadataName == interfaceMetadataName);
        Assert.Contains(type.GetMembers(), m => m.Name == "Predict");
    }
}
