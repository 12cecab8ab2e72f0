using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using static Microsoft.CodeAnalysis.IncrementalStepRunReason;

namespace KernelGen.Generators.Tests;

/// <summary>
/// Step reasons after edits (STYLE.md item 16, A2): an unrelated edit stays cached, a size or hyperparameter edit
/// re-lowers and re-emits, and an edit that only moves the specification re-parses but never re-emits (plans hold no
/// locations), while its diagnostics do follow the new position.
/// </summary>
public sealed class IncrementalTests
{
    private const string NetworkPath = "/src/Test0.cs";

    private const string Network = """
        using KernelGen;

        namespace Demo;

        [Network(784)]
        [Dense(256, Activation.ReLU)]
        [Dense(128, Activation.Tanh)]
        [Dense(10)]
        [SoftmaxCrossEntropyLoss]
        [Sgd(0.1)]
        public partial class MnistNet;

        public static class Helpers
        {
            public static int Answer() => 42;
        }
        """;

    private const string Other = """
        namespace Elsewhere;

        public sealed class Calculator
        {
            public int Add(int a, int b) => a + b;
        }
        """;

    private static CSharpCompilation Replace(CSharpCompilation compilation, string path, string oldText, string newText)
    {
        SyntaxTree tree = compilation.SyntaxTrees.Single(t => t.FilePath == path);
        string text = tree.ToString();
        Assert.Contains(oldText, text, StringComparison.Ordinal);
        return compilation.ReplaceSyntaxTree(tree, TestHelper.ParseTree(text.Replace(oldText, newText, StringComparison.Ordinal), path));
    }

    private static void AssertReasons(GeneratorRunResult result, string step, params IncrementalStepRunReason[] allowed)
    {
        IncrementalStepRunReason[] reasons = TestHelper.Reasons(result, step);
        Assert.True(reasons.Length > 0, $"Step '{step}' did not run.");
        Assert.True(reasons.All(r => allowed.Contains(r)), $"Step '{step}': [{string.Join(", ", reasons)}], expected only [{string.Join(", ", allowed)}].");
    }

    private static void AssertOutputReasons(GeneratorRunResult result, string inputStep, params IncrementalStepRunReason[] allowed)
    {
        IncrementalStepRunReason[] reasons = TestHelper.OutputReasons(result, inputStep);
        Assert.True(reasons.Length > 0, $"No source output is fed by '{inputStep}'.");
        Assert.True(reasons.All(r => allowed.Contains(r)), $"Output of '{inputStep}': [{string.Join(", ", reasons)}], expected only [{string.Join(", ", allowed)}].");
    }

    private static string Generated(GeneratorRunResult result, string hintName) =>
        result.GeneratedSources.Single(s => s.HintName == hintName).SourceText.ToString();

    public static TheoryData<string> UnrelatedEdits => ["add tree", "edit other tree", "edit method below the network"];

    [Theory]
    [MemberData(nameof(UnrelatedEdits))]
    public void UnrelatedEdit_KeepsEveryStepCached(string edit)
    {
        GeneratorRun run = TestHelper.Run(TestHelper.CreateCompilation(Network, Other));
        CSharpCompilation edited = edit switch
        {
            "add tree" => run.Input.AddSyntaxTrees(TestHelper.ParseTree("namespace Elsewhere; public sealed class Unrelated { }", "/src/Unrelated.cs")),
            "edit other tree" => Replace(run.Input, "/src/Test1.cs", "a + b", "b + a + 0"),
            "edit method below the network" => Replace(run.Input, NetworkPath, "=> 42;", "=> 6 * 7;"),
            _ => throw new ArgumentOutOfRangeException(nameof(edit)),
        };

        (_, GeneratorRunResult result) = TestHelper.Rerun(run.Driver, edited);

        AssertReasons(result, TrackingNames.Parse, Cached, Unchanged);
        AssertReasons(result, TrackingNames.Validate, Cached, Unchanged);
        AssertReasons(result, TrackingNames.ValidSpecs, Cached, Unchanged);
        AssertReasons(result, TrackingNames.Lower, Cached, Unchanged);
        AssertOutputReasons(result, TrackingNames.Lower, Cached);
        // A valid network has nothing to report, so its diagnostics branch produces nothing that could re-run.
        Assert.All(TestHelper.Reasons(result, TrackingNames.Diagnostics), r => Assert.Contains(r, new[] { Cached, Unchanged }));
        Assert.All(TestHelper.OutputReasons(result, TrackingNames.Diagnostics), r => Assert.Equal(Cached, r));
        Assert.Empty(result.Diagnostics);
        Assert.Equal(run.Source("Demo.MnistNet.Network.g.cs"), Generated(result, "Demo.MnistNet.Network.g.cs"));
    }

    [Fact]
    public void UnrelatedEdit_WithAWarning_ReReportsItUnchangedWithoutReemitting()
    {
        const string warned = """
            using KernelGen;
            namespace Demo;
            [Network(4)]
            [Dense(10, Activation.ReLU)]
            [SoftmaxCrossEntropyLoss]
            public partial class Net;
            """;
        GeneratorRun run = TestHelper.Run(TestHelper.CreateCompilation(warned, Other));
        Diagnostic before = Assert.Single(run.KgDiagnostics);

        CSharpCompilation edited = Replace(run.Input, "/src/Test1.cs", "a + b", "b + a");
        (_, GeneratorRunResult result) = TestHelper.Rerun(run.Driver, edited);

        AssertReasons(result, TrackingNames.Diagnostics, Cached, Unchanged);
        AssertReasons(result, TrackingNames.Lower, Cached, Unchanged);
        AssertOutputReasons(result, TrackingNames.Lower, Cached);
        // The report itself is re-run against the new compilation (it maps locations onto its syntax trees)…
        Diagnostic after = Assert.Single(result.Diagnostics);
        // …and says the same thing at the same place, in the new compilation's tree.
        Assert.Equal((before.Id, before.Location.SourceSpan, before.GetMessage()), (after.Id, after.Location.SourceSpan, after.GetMessage()));
        Assert.Same(edited.SyntaxTrees.Single(t => t.FilePath == NetworkPath), after.Location.SourceTree);
    }

    [Fact]
    public void SizeEdit_RelowersAndReemits()
    {
        GeneratorRun run = TestHelper.Run(TestHelper.CreateCompilation(Network));
        CSharpCompilation edited = Replace(run.Input, NetworkPath, "[Dense(256, Activation.ReLU)]", "[Dense(200, Activation.ReLU)]");

        (_, GeneratorRunResult result) = TestHelper.Rerun(run.Driver, edited);

        AssertReasons(result, TrackingNames.Parse, Modified);
        AssertReasons(result, TrackingNames.Lower, Modified);
        AssertOutputReasons(result, TrackingNames.Lower, Modified);
        string source = Generated(result, "Demo.MnistNet.Network.g.cs");
        Assert.Contains("// Dense1: dense 784 → 200, ReLU", source, StringComparison.Ordinal);
        // 784·200 + 200 + 200·128 + 128 + 128·10 + 10, worked out by hand.
        Assert.Contains("public const int ParameterCount = 184018;", source, StringComparison.Ordinal);
    }

    [Fact]
    public void LearningRateEdit_RelowersAndReemits()
    {
        GeneratorRun run = TestHelper.Run(TestHelper.CreateCompilation(Network));
        CSharpCompilation edited = Replace(run.Input, NetworkPath, "[Sgd(0.1)]", "[Sgd(0.05)]");

        (_, GeneratorRunResult result) = TestHelper.Rerun(run.Driver, edited);

        AssertReasons(result, TrackingNames.Lower, Modified);
        AssertOutputReasons(result, TrackingNames.Lower, Modified);
        foreach (string hint in new[] { "Demo.MnistNet.Network.g.cs" })
        {
            string source = Generated(result, hint);
            Assert.Contains("learning rate 0.05.", source, StringComparison.Ordinal);
            // The optimizer keeps η as a double in both variants: 0.05 to 17 digits.
            Assert.Contains("OptimizerSettings.Create(global::KernelGen.Optimization.OptimizerKind.Sgd, 0.050000000000000003)", source, StringComparison.Ordinal);
            Assert.DoesNotContain("0.10000000000000001", source, StringComparison.Ordinal);
        }
    }

    /// <summary>A network with every training feature: optimizer hyperparameters, schedule, warm-up and clipping.</summary>
    private const string Trainer = """
        using KernelGen;

        namespace Demo;

        [Network(16)]
        [Dense(8, Activation.ReLU)]
        [Dense(4)]
        [SoftmaxCrossEntropyLoss]
        [Adam(0.001, Beta2 = 0.999)]
        [CosineAnnealing(1000, MinLearningRate = 1e-5)]
        [LinearWarmup(100)]
        [ClipGradientNorm(5)]
        public partial class Trainer;

        public static class Helpers
        {
            public static int Answer() => 42;
        }
        """;

    private const string TrainerHint = "Demo.Trainer.Network.g.cs";

    /// <summary>Edits of the training attributes change the plan (Options / TrainingOptions), so they re-lower and re-emit.</summary>
    public static TheoryData<string, string, string, string> TrainingEdits => new()
    {
        // edit name, old text, new text, fragment the new source must contain
        { "optimizer hyperparameter", "Beta2 = 0.999)", "Beta2 = 0.99)", "with { Beta2 = 0.98999999999999999 }" },
        { "optimizer hyperparameter added", "Beta2 = 0.999)", "Beta2 = 0.999, Epsilon = 1e-6)", "with { Beta2 = 0.999, Epsilon = 9.9999999999999995E-07 }" },
        { "optimizer kind", "[Adam(0.001, Beta2 = 0.999)]", "[AdamW(0.001, Beta2 = 0.999)]", "OptimizerKind.AdamW, 0.001) with { Beta2 = 0.999 }" },
        { "schedule value", "CosineAnnealing(1000,", "CosineAnnealing(500,", "LearningRateSchedule.Cosine(period: 500, minimumRate: 1.0000000000000001E-05)" },
        { "schedule kind", "[CosineAnnealing(1000, MinLearningRate = 1e-5)]", "[StepDecay(30, Gamma = 0.5)]", "LearningRateSchedule.StepDecay(stepSize: 30, gamma: 0.5).WithWarmup(steps: 100)" },
        { "warm-up value", "[LinearWarmup(100)]", "[LinearWarmup(100, StartFactor = 0.1)]", ".WithWarmup(steps: 100, startFactor: 0.10000000000000001)" },
        { "clipping kind", "[ClipGradientNorm(5)]", "[ClipGradientValue(5)]", "new global::KernelGen.Optimization.GradientClipping(double.PositiveInfinity, 5.0)" },
    };

    [Theory]
    [MemberData(nameof(TrainingEdits))]
    public void TrainingAttributeEdit_RelowersAndReemits(string edit, string oldText, string newText, string fragment)
    {
        GeneratorRun run = TestHelper.Run(TestHelper.CreateCompilation(Trainer));
        Assert.DoesNotContain(fragment, run.Source(TrainerHint), StringComparison.Ordinal);
        CSharpCompilation edited = Replace(run.Input, NetworkPath, oldText, newText);

        (_, GeneratorRunResult result) = TestHelper.Rerun(run.Driver, edited);

        AssertReasons(result, TrackingNames.Parse, Modified);
        AssertReasons(result, TrackingNames.Validate, Modified);
        AssertReasons(result, TrackingNames.Lower, Modified);
        AssertOutputReasons(result, TrackingNames.Lower, Modified);
        Assert.True(result.Diagnostics.IsEmpty, $"{edit}: {string.Join("\n", result.Diagnostics)}");
        Assert.Contains(fragment, Generated(result, TrainerHint), StringComparison.Ordinal);
        Assert.Contains(fragment, Generated(result, "Demo.Trainer.Network.g.cs"), StringComparison.Ordinal);
    }

    public static TheoryData<string> UnrelatedAttributes => ["on a type below the network", "on a type in another tree", "assembly attribute in a new tree"];

    /// <summary>Attributes elsewhere are not KernelGen's business: nothing is re-lowered or re-emitted.</summary>
    [Theory]
    [MemberData(nameof(UnrelatedAttributes))]
    public void UnrelatedAttributeAddedElsewhere_KeepsEveryStepCached(string edit)
    {
        GeneratorRun run = TestHelper.Run(TestHelper.CreateCompilation(Trainer, Other));
        CSharpCompilation edited = edit switch
        {
            "on a type below the network" => Replace(run.Input, NetworkPath, "public static class Helpers", "[System.Obsolete(\"Use something else\")]\npublic static class Helpers"),
            "on a type in another tree" => Replace(run.Input, "/src/Test1.cs", "public sealed class Calculator", "[System.Serializable]\npublic sealed class Calculator"),
            "assembly attribute in a new tree" => run.Input.AddSyntaxTrees(TestHelper.ParseTree("[assembly: System.Reflection.AssemblyDescription(\"x\")]", "/src/Assembly.cs")),
            _ => throw new ArgumentOutOfRangeException(nameof(edit)),
        };

        (_, GeneratorRunResult result) = TestHelper.Rerun(run.Driver, edited);

        AssertReasons(result, TrackingNames.Parse, Cached, Unchanged);
        AssertReasons(result, TrackingNames.Validate, Cached, Unchanged);
        AssertReasons(result, TrackingNames.ValidSpecs, Cached, Unchanged);
        AssertReasons(result, TrackingNames.Lower, Cached, Unchanged);
        AssertOutputReasons(result, TrackingNames.Lower, Cached);
        Assert.All(TestHelper.OutputReasons(result, TrackingNames.Diagnostics), r => Assert.Equal(Cached, r));
        Assert.Empty(result.Diagnostics);
        Assert.Equal(run.Source(TrainerHint), Generated(result, TrainerHint));
    }

    /// <summary>
    /// A foreign attribute added to the network itself moves the type's identifier (a location the spec keeps for
    /// KG0015 and friends), so the spec changes; the plan does not, so nothing is emitted again.
    /// </summary>
    [Fact]
    public void UnrelatedAttributeAddedToTheNetwork_ReparsesButDoesNotReemit()
    {
        GeneratorRun run = TestHelper.Run(TestHelper.CreateCompilation(Trainer));
        CSharpCompilation edited = Replace(run.Input, NetworkPath, "[ClipGradientNorm(5)]\n", "[ClipGradientNorm(5)]\n[System.Diagnostics.DebuggerDisplay(\"Trainer\")]\n");

        (_, GeneratorRunResult result) = TestHelper.Rerun(run.Driver, edited);

        AssertReasons(result, TrackingNames.Parse, Modified);
        AssertReasons(result, TrackingNames.Lower, Unchanged);
        AssertOutputReasons(result, TrackingNames.Lower, Cached);
        Assert.Empty(result.Diagnostics);
        Assert.Equal(run.Source(TrainerHint), Generated(result, TrainerHint));
    }

    [Fact]
    public void MovingTheSpecification_RelowersToAnEqualPlanAndDoesNotReemit()
    {
        GeneratorRun run = TestHelper.Run(TestHelper.CreateCompilation(Network));
        CSharpCompilation edited = Replace(run.Input, NetworkPath, "namespace Demo;\n", "namespace Demo;\n\n\n\n");

        (_, GeneratorRunResult result) = TestHelper.Rerun(run.Driver, edited);

        // The specs carry locations, so the moved attributes make them differ (this proves the edit moved something)…
        AssertReasons(result, TrackingNames.Parse, Modified);
        AssertReasons(result, TrackingNames.Validate, Modified);
        // …but the plan does not, so nothing is emitted again.
        AssertReasons(result, TrackingNames.Lower, Unchanged);
        AssertOutputReasons(result, TrackingNames.Lower, Cached);
        Assert.Empty(result.Diagnostics);
        Assert.Equal(run.Source("Demo.MnistNet.Network.g.cs"), Generated(result, "Demo.MnistNet.Network.g.cs"));
    }

    [Fact]
    public void MovingAWarning_ReportsItAtTheNewPositionWithoutReemitting()
    {
        const string warned = """
            using KernelGen;
            namespace Demo;
            [Network(4)]
            [Dense(10, Activation.ReLU)]
            [SoftmaxCrossEntropyLoss]
            public partial class Net;
            """;
        GeneratorRun run = TestHelper.Run(TestHelper.CreateCompilation(warned));
        Diagnostic before = Assert.Single(run.KgDiagnostics);
        Assert.Equal(4, before.Location.GetLineSpan().StartLinePosition.Line);

        CSharpCompilation edited = Replace(run.Input, NetworkPath, "namespace Demo;\n", "namespace Demo;\n\n\n");
        (_, GeneratorRunResult result) = TestHelper.Rerun(run.Driver, edited);

        AssertReasons(result, TrackingNames.Diagnostics, Modified);
        AssertOutputReasons(result, TrackingNames.Diagnostics, Modified);
        AssertReasons(result, TrackingNames.Lower, Unchanged);
        AssertOutputReasons(result, TrackingNames.Lower, Cached);
        Diagnostic after = Assert.Single(result.Diagnostics, d => d.Id == "KG0014");
        Assert.Equal(6, after.Location.GetLineSpan().StartLinePosition.Line);
        Assert.Equal(before.Location.SourceSpan.Start + 2, after.Location.SourceSpan.Start);
    }

    [Fact]
    public void EditingOneNetwork_LeavesAnotherCached()
    {
        const string two = """
            using KernelGen;
            namespace Demo;
            [Network(4)]
            [Dense(3)]
            public partial class First;

            [Network(5)]
            [Dense(2)]
            public partial class Second;
            """;
        GeneratorRun run = TestHelper.Run(TestHelper.CreateCompilation(two));
        CSharpCompilation edited = Replace(run.Input, NetworkPath, "[Dense(2)]", "[Dense(6)]");

        (_, GeneratorRunResult result) = TestHelper.Rerun(run.Driver, edited);

        // The first network's plan comes back equal (or straight from the cache); the second's differs.
        IncrementalStepRunReason[] lower = TestHelper.Reasons(result, TrackingNames.Lower);
        Assert.Equal(2, lower.Length);
        Assert.Contains(lower[0], new[] { Cached, Unchanged });
        Assert.Equal(Modified, lower[1]);
        Assert.Equal([Cached, Modified], TestHelper.OutputReasons(result, TrackingNames.Lower));
        Assert.Equal(run.Source("Demo.First.Network.g.cs"), Generated(result, "Demo.First.Network.g.cs"));
        Assert.Contains("public const int OutputFeatures = 6;", Generated(result, "Demo.Second.Network.g.cs"), StringComparison.Ordinal);
    }

    [Fact]
    public void RemovingTheNetworkAttribute_RemovesTheOutput()
    {
        GeneratorRun run = TestHelper.Run(TestHelper.CreateCompilation(Network));
        CSharpCompilation edited = Replace(run.Input, NetworkPath, "[Network(784)]\n", "");

        (_, GeneratorRunResult result) = TestHelper.Rerun(run.Driver, edited);

        Assert.Empty(result.GeneratedSources);
        Assert.Empty(result.Diagnostics);
    }
}
