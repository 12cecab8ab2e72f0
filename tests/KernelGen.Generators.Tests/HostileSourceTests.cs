extern alias KernelGenRuntime;

using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Reflection;
using KernelGen.Generators.Validation;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace KernelGen.Generators.Tests;

/// <summary>
/// User code around a valid specification that once broke the generated code: older language versions, types named
/// like the keywords and namespaces the generated code uses, user members named like generated or inherited ones, user
/// constructors, file-local containing types, a repeated [Network]. Each must either compile without a warning or get
/// a KG diagnostic at the user's syntax (and then no generated code).
/// </summary>
public sealed class HostileSourceTests
{
    private const string Spec = """
        [Network(4)]
        [Dense(8, Activation.ReLU, L2 = 0.01)]
        [BatchNorm]
        [Dropout(0.2)]
        [LeakyReLU(0.2)]
        [Dense(3)]
        [SoftmaxCrossEntropyLoss]
        [Adam(0.001)]
        [ClipGradientNorm(1)]
        """;

    private static GeneratorRun RunWith(LanguageVersion version, params string[] sources)
    {
        var parse = new CSharpParseOptions(version);
        CSharpCompilation compilation = TestHelper.CreateCompilation(sources);
        compilation = compilation.RemoveAllSyntaxTrees().AddSyntaxTrees(
            compilation.SyntaxTrees.Select(t => CSharpSyntaxTree.ParseText(t.GetText(), parse, t.FilePath)));
        GeneratorDriver driver = CSharpGeneratorDriver.Create([new KernelGenerator().AsSourceGenerator()], parseOptions: parse)
            .RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        Assert.DoesNotContain(diagnostics, d => d.Id is "CS8784" or "CS8785");
        return new GeneratorRun(compilation, output, driver, driver.GetRunResult());
    }

    // ---- Language versions ------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(LanguageVersion.CSharp11)]
    [InlineData(LanguageVersion.CSharp12)]
    [InlineData(LanguageVersion.CSharp13)]
    [InlineData(LanguageVersion.Latest)]
    public void Supported_language_versions_compile_the_generated_code_without_warnings(LanguageVersion version)
    {
        GeneratorRun run = RunWith(version, $$"""
            using KernelGen;
            namespace App
            {
            {{Spec}}
                public partial class Net { }
            }
            """);
        Assert.Empty(run.KgDiagnostics);
        Assert.NotEmpty(run.Sources);
        run.AssertCompilesWithoutWarnings();
    }

    [Theory]
    [InlineData(LanguageVersion.CSharp9, "9.0")]
    [InlineData(LanguageVersion.CSharp10, "10.0")]
    public void Older_language_versions_get_one_diagnostic_naming_the_minimum(LanguageVersion version, string shown)
    {
        GeneratorRun run = RunWith(version, $$"""
            using KernelGen;
            namespace App
            {
            {{Spec}}
                public partial class Net { }
            }
            """);
        Diagnostic d = Assert.Single(run.KgDiagnostics);
        Assert.Equal("KG0023", d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Contains("C# 11", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Contains(shown, d.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.StartsWith("Network(4)", d.Location.SourceTree!.GetText().ToString(d.Location.SourceSpan), StringComparison.Ordinal);
        Assert.Empty(run.Sources);
    }

    // ---- Names the generated code must not bind to ------------------------------------------------------------------

    public static TheoryData<string> Shadowing => new()
    {
        "public class var { }",                                     // a type named var
        "public class dynamic { }",
        "public class T { }",                                       // the generated generic bodies' type parameter
        "public class Span<T> { }",                                 // System names re-declared in the user's namespace
        "public class Math { } public class MathF { } public class Vector512 { } public class Unsafe { }",
        "public class KernelGen { }",                               // a type named like the library's namespace
        "public class Runtime { } public class Operators { } public class Kernels { }",
        "public static class Extensions { public static int Slice(this object o, int a, int b) => 0; }",
        "public class NetworkBase<T> { } public class NetworkState<T> { } public class LayerInfo { }",
    };

    [Theory]
    [MemberData(nameof(Shadowing))]
    public void User_types_in_scope_do_not_change_what_the_generated_code_binds_to(string declarations)
    {
        GeneratorRun run = TestHelper.Run($$"""
            using KernelGen;
            namespace App
            {
                {{declarations}}
            {{Spec}}
                public partial class Net { }
            }
            """);
        Assert.Empty(run.KgDiagnostics);
        Assert.NotEmpty(run.Sources);
        // (Lower-case type names such as var draw CS8981 on the user's own declaration; the generated file must be clean.)
        Assert.Empty(run.GeneratedFileDiagnostics(DiagnosticSeverity.Warning));
        Assert.Empty(run.OutputDiagnostics(DiagnosticSeverity.Error));
    }

    [Fact]
    public void A_global_type_named_System_gets_KG0024_at_the_network()
    {
        // The diagnostic lands on each network's [Network] attribute, which is what stops working.
        DiagnosticTests.AssertError("""
            using KernelGen;
            public class System { }
            namespace App
            {
                [[|Network(4)|]]
                [Dense(2)]
                public partial class Net { }
            }
            """, "KG0024",
            "A type named 'System' in the global namespace hides the namespace System, which the generated code names as global::System; move that type into a namespace or rename it");
    }

    [Fact]
    public void A_global_type_with_another_name_is_harmless()
    {
        GeneratorRun run = TestHelper.Run($$"""
            using KernelGen;
            public class Global { }
            public class Systems { }
            namespace App
            {
            {{Spec}}
                public partial class Net { }
            }
            """);
        Assert.Empty(run.KgDiagnostics);
        run.AssertCompilesWithoutWarnings();
    }

    [Fact]
    public void A_penalty_without_a_loss_compiles_without_warnings()
    {
        GeneratorRun run = TestHelper.Run("""
            using KernelGen;
            [Network(4)]
            [Dense(8, Activation.ReLU, ActivityL1 = 0.01, L1 = 0.1)]
            [Dense(3, L2 = 0.5)]
            [L2Regularization(0.01)]
            public partial class Net;
            """);
        Assert.Empty(run.KgDiagnostics);
        run.AssertCompilesWithoutWarnings();
    }

    // ---- User members --------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("public int [|Predict|];", "Predict")]
    [InlineData("public string [|Layers|] => \"\";", "Layers")]
    [InlineData("public ulong [|Fingerprint|]() => 0;", "Fingerprint")]
    [InlineData("private int[] [|State|] = new int[1];", "State")]
    [InlineData("public class [|Inference|] { }", "Inference")]
    [InlineData("public static void [|Float64|]() { }", "Float64")]
    [InlineData("public const int [|InputFeatures|] = 4;", "InputFeatures")]
    [InlineData("private static int [|KernelGenCode|];", "KernelGenCode")]
    [InlineData("public int [|Dense1Weights|] { get; set; }", "Dense1Weights")]
    [InlineData("public int [|BatchNorm1RunningMean|];", "BatchNorm1RunningMean")]
    [InlineData("public event System.Action? [|TrainStep|];", "TrainStep")]
    [InlineData("public void [|Predict|](float[] image) { }", "Predict")]
    public void A_user_member_named_like_a_generated_or_inherited_member_gets_KG0021(string member, string name)
    {
        DiagnosticTests.AssertError($$"""
            using KernelGen;
            {{Spec}}
            public partial class Net
            {
                {{member}}
            }
            """, "KG0021",
            $"The member '{name}' of 'Net' has the name of a member every generated network has (generated or inherited from KernelGen's runtime base class); rename it");
    }

    [Fact]
    public void Every_member_the_generated_half_declares_is_reserved()
    {
        GeneratorRun run = TestHelper.Run($"using KernelGen;\n{Spec}\npublic partial class Net;");
        run.AssertCompilesWithoutWarnings();
        INamedTypeSymbol net = run.Output.GetTypeByMetadataName("Net")!;
        string[] generated = [.. net.GetMembers().Where(m => !m.IsImplicitlyDeclared && m is not IMethodSymbol { MethodKind: not MethodKind.Ordinary })
            .Select(m => m.Name).Distinct().Order(StringComparer.Ordinal)];
        Assert.Contains("Dense1Weights", generated);
        Assert.Contains("Float64", generated);

        // A user field of each of those names: one KG0021 each.
        GeneratorRun clash = TestHelper.Run($"using KernelGen;\n{Spec}\npublic partial class Net\n{{\n{string.Concat(generated.Select(n => $"    private int {n};\n"))}}}");
        Assert.Equal(generated, clash.KgDiagnostics.Where(d => d.Id == "KG0021")
            .Select(d => d.Location.SourceTree!.GetText().ToString(d.Location.SourceSpan)).Order(StringComparer.Ordinal));
        Assert.Empty(clash.Sources);
    }

    [Fact]
    public void Members_a_network_without_training_does_not_have_are_free_to_use()
    {
        GeneratorRun run = TestHelper.Run("""
            using KernelGen;
            [Network(4)]
            [Dense(3)]
            public partial class Net
            {
                public int TrainStep;
                public int LastDataLoss;
                public int Dense2Weights;
                public override string ToString() => "net";
            }
            """);
        Assert.Empty(run.KgDiagnostics);
        run.AssertCompilesWithoutWarnings();
    }

    [Fact]
    public void A_user_constructor_that_calls_the_generated_one_is_fine()
    {
        GeneratorRun run = TestHelper.Run($$"""
            using KernelGen;
            {{Spec}}
            public partial class Net
            {
                public Net() : this(32) { }
                public Net(string name) : this(1, 7) { Name = name; }
                public string Name { get; } = "";
                static Net() { }
            }
            """);
        Assert.Empty(run.KgDiagnostics);
        run.AssertCompilesWithoutWarnings();
    }

    [Theory]
    [InlineData("public [|Net|]() { }")]
    [InlineData("public [|Net|](int size) : base() { }")]
    [InlineData("public [|Net|](int maxBatchSize, ulong seed) : this(maxBatchSize) { }")]
    public void A_user_constructor_that_does_not_call_the_generated_one_gets_KG0022(string constructor)
    {
        DiagnosticTests.AssertError($$"""
            using KernelGen;
            {{Spec}}
            public partial class Net
            {
                {{constructor}}
            }
            """, "KG0022",
            "A constructor of the network type 'Net' must call the generated constructor, ': this(maxBatchSize, seed)', which allocates the network's buffers; it cannot have the generated constructor's parameters (int, ulong)");
    }

    // ---- Declarations --------------------------------------------------------------------------------------------------

    [Fact]
    public void A_file_local_containing_type_gets_KG0004()
    {
        DiagnosticTests.AssertError("""
            using KernelGen;
            file partial class Outer
            {
                [Network(4)]
                [Dense(2)]
                public partial class [|Net|];
            }
            """, "KG0004",
            "The type 'Outer' contains the network type 'Net' and must be declared partial (and not file-local)");
    }

    [Fact]
    public void Network_on_two_partial_declarations_generates_nothing_and_gets_KG0012()
    {
        (string source, ImmutableArray<Microsoft.CodeAnalysis.Text.TextSpan> spans) = Markup.Parse("""
            using KernelGen;
            [Network(4)]
            [Dense(2)]
            public partial class Net;

            [[|Network(4)|]]
            public partial class Net;
            """);
        GeneratorRun run = TestHelper.Run(source);
        Assert.Empty(run.Sources);
        Assert.Contains(run.KgDiagnostics, d => d.Id == "KG0012" && d.Location.SourceSpan == spans[0]);
    }

    // ---- The reserved-name list agrees with the runtime --------------------------------------------------------------

    [Fact]
    public void The_reserved_member_names_are_exactly_the_runtime_base_classes_members()
    {
        // Every non-private member a user type could collide with, level by level.
        static IEnumerable<string> Declared(Type type) => type
            .GetMembers(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .Where(m => m switch
            {
                MethodBase method => (method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly) && !method.IsSpecialName && !method.IsConstructor && !method.Name.Contains('.'),
                FieldInfo field => field.IsPublic || field.IsFamily || field.IsFamilyOrAssembly,
                PropertyInfo property => property.GetMethod is { } g && (g.IsPublic || g.IsFamily || g.IsFamilyOrAssembly) && !property.Name.Contains('.'),
                EventInfo e => e.AddMethod is { } a && (a.IsPublic || a.IsFamily),
                Type nested => nested.IsNestedPublic || nested.IsNestedFamily,
                _ => false,
            })
            .Select(m => m.Name);

        Assembly runtime = typeof(KernelGenRuntime::KernelGen.NetworkAttribute).Assembly;
        Type network = runtime.GetType("KernelGen.Runtime.NetworkBase`1", throwOnError: true)!;
        Type loss = runtime.GetType("KernelGen.Runtime.LossNetworkBase`2", throwOnError: true)!;
        Type trainable = runtime.GetType("KernelGen.Runtime.TrainableNetworkBase`2", throwOnError: true)!;
        Assert.Equal(network.MakeGenericType(typeof(float)), loss.MakeGenericType(typeof(float), typeof(int)).BaseType);
        Assert.Equal(loss.MakeGenericType(typeof(float), typeof(int)), trainable.MakeGenericType(typeof(float), typeof(int)).BaseType);

        Assert.Equal(Declared(network).Distinct().Order(StringComparer.Ordinal), ReservedNames.Network.Order(StringComparer.Ordinal));
        Assert.Equal(Declared(loss).Distinct().Order(StringComparer.Ordinal), ReservedNames.Loss.Order(StringComparer.Ordinal));
        Assert.Equal(Declared(trainable).Distinct().Order(StringComparer.Ordinal), ReservedNames.Trainable.Order(StringComparer.Ordinal));
    }
}
