using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace KernelGen.Generators.Tests;

/// <summary>
/// The generated files of a few specifications against checked-in baselines in <c>_snapshots/</c> (regenerate with
/// <c>KERNELGEN_UPDATE_SNAPSHOTS=1</c>). Each run also goes through the caching and object-graph checks of
/// <see cref="TestHelper"/>, and the compilation after generation must have no warning or error at all.
/// </summary>
public sealed class SnapshotTests
{
    /// <summary>The reference specification of the design card.</summary>
    public const string MnistNet = """
        using KernelGen;

        namespace Demo;

        [Network(784)]
        [Dense(256, Activation.ReLU)]
        [Dense(128, Activation.Tanh)]
        [Dense(10)]
        [SoftmaxCrossEntropyLoss]
        [Sgd(0.1)]
        public partial class MnistNet;
        """;

    /// <summary>Nested in a struct; a standalone activation on the input and one after a fused activation; an
    /// identity layer; names and an explicit Init; L2 loss without optimizer.</summary>
    public const string Regressor = """
        using KernelGen;

        namespace Demo.Nested;

        public partial struct Outer
        {
            [Network(3)]
            [Tanh(Name = "InputSquash")]
            [Dense(5, Name = "Hidden", Init = Init.HeUniform)]
            [Sigmoid]
            [Identity]
            [ReLU]
            [Dense(2)]
            [L2Loss]
            internal sealed partial class Regressor;
        }
        """;

    /// <summary>Inference only, in the global namespace.</summary>
    public const string TinyNet = """
        using KernelGen;

        [Network(2)]
        [Dense(3, Activation.Sigmoid)]
        public partial class TinyNet;
        """;

    /// <summary>Every training feature: Adam with hyperparameters, a schedule, a warm-up and norm clipping.</summary>
    public const string AdamNet = """
        using KernelGen;

        namespace Demo.Training;

        [Network(32)]
        [Dense(16, Activation.ReLU)]
        [Dense(4)]
        [SoftmaxCrossEntropyLoss]
        [Adam(0.001, Beta2 = 0.99, WeightDecay = 1e-4)]
        [CosineAnnealing(1000, MinLearningRate = 1e-5)]
        [LinearWarmup(100)]
        [ClipGradientNorm(5)]
        public partial class AdamNet;
        """;

    /// <summary>SGD with Nesterov momentum, step decay and value clipping, on an L2 loss.</summary>
    public const string SgdNet = """
        using KernelGen;

        namespace Demo.Training;

        [Network(3)]
        [Dense(5, Activation.Tanh)]
        [Dense(2)]
        [L2Loss]
        [Sgd(0.1, Momentum = 0.9, Nesterov = true)]
        [StepDecay(30, Gamma = 0.5)]
        [ClipGradientValue(1)]
        public partial class SgdNet;
        """;

    /// <summary>C# keywords as the names of the network and its container (escaped in code, plain in hint names).</summary>
    public const string Keywords = """
        using KernelGen;

        namespace Demo;

        public partial class @struct
        {
            [Network(2)]
            [Dense(2, Name = "int")]
            [L2Loss]
            [RmsProp(0.01, Centered = true)]
            public sealed partial class @class;
        }
        """;

    /// <summary>The catalogue in one network: every layer kind, parameterized activations, penalties, a smoothed loss.</summary>
    public const string CatalogNet = """
        using KernelGen;

        namespace Demo.Catalog;

        [Network(8)]
        [Dropout(0.1)]
        [Dense(16, Activation.GELU, L1 = 1e-4, ActivityL1 = 1e-3)]
        [BatchNorm(Momentum = 0.05)]
        [LeakyReLU(0.2)]
        [Maxout(8, 2)]
        [LayerNorm]
        [Elu(0.5)]
        [Dense(8)]
        [GroupNorm(2)]
        [SiLU]
        [Dense(3)]
        [SoftmaxCrossEntropyLoss(LabelSmoothing = 0.1)]
        [L2Regularization(1e-3)]
        [AdamW(0.003)]
        public partial class CatalogNet;
        """;

    public static TheoryData<string, string, string[]> Specs => new()
    {
        { nameof(CatalogNet), CatalogNet, ["Demo.Catalog.CatalogNet.Network.g.cs"] },
        { nameof(MnistNet), MnistNet, ["Demo.MnistNet.Network.g.cs"] },
        { nameof(Regressor), Regressor, ["Demo.Nested.Outer+Regressor.Network.g.cs"] },
        { nameof(TinyNet), TinyNet, ["TinyNet.Network.g.cs"] },
        { nameof(AdamNet), AdamNet, ["Demo.Training.AdamNet.Network.g.cs"] },
        { nameof(SgdNet), SgdNet, ["Demo.Training.SgdNet.Network.g.cs"] },
        { nameof(Keywords), Keywords, ["Demo.struct+class.Network.g.cs"] },
    };

    [Theory]
    [MemberData(nameof(Specs))]
    public void GeneratedFiles_MatchBaselines(string name, string source, string[] hintNames)
    {
        GeneratorRun run = TestHelper.Run(source);

        Assert.True(run.Diagnostics.IsEmpty, $"{name}: unexpected diagnostics:\n{string.Join("\n", run.Diagnostics)}");
        Assert.Equal(hintNames, run.Sources.Select(s => s.HintName).Order(StringComparer.Ordinal));
        foreach (GeneratedSourceResult generated in run.Sources)
            Baseline.Verify(generated.HintName, generated.SourceText.ToString());
    }

    [Theory]
    [MemberData(nameof(Specs))]
    public void GeneratedCode_CompilesWithoutWarnings(string name, string source, string[] hintNames)
    {
        GeneratorRun run = TestHelper.Run(source);

        Assert.Equal(hintNames.Length, run.Sources.Length);
        Assert.True(run.Output.SyntaxTrees.Count() == 1 + hintNames.Length, name);
        run.AssertCompilesWithoutWarnings();
    }

    /// <summary>
    /// The harness's second-run checks are only meaningful if the tracked steps exist and produced values: with a
    /// warning, every named step (the diagnostics branch included) has one value for one network.
    /// </summary>
    [Fact]
    public void RunWithAWarning_TracksEveryNamedStep()
    {
        GeneratorRun run = TestHelper.Run(MnistNet.Replace("[Dense(10)]", "[Dense(10, Activation.Sigmoid)]", StringComparison.Ordinal));

        Assert.Equal(["KG0014"], run.KgDiagnostics.Select(d => d.Id));
        Assert.NotEmpty(TestHelper.TrackedStepNames);
        foreach (string step in TestHelper.TrackedStepNames)
            Assert.True(TestHelper.Values(run.Result, step).Length == 1, $"Step '{step}' should have exactly one output for one network.");
        Assert.Equal(2, run.Result.TrackedOutputSteps.SelectMany(p => p.Value).Count());
    }

    /// <summary>A valid network reports nothing, so its diagnostics branch carries nothing; the code branch is tracked.</summary>
    [Fact]
    public void ReferenceRun_TracksTheCodeBranch()
    {
        GeneratorRun run = TestHelper.Run(MnistNet);

        foreach (string step in TestHelper.TrackedStepNames.Where(s => s != TrackingNames.Diagnostics))
            Assert.True(TestHelper.Values(run.Result, step).Length == 1, $"Step '{step}' should have exactly one output for one network.");
        Assert.Empty(TestHelper.Values(run.Result, TrackingNames.Diagnostics).OfType<System.Collections.IEnumerable>().SelectMany(e => e.Cast<object>()));
    }

    /// <summary>Every baseline belongs to a spec above, so a renamed hint cannot leave a stale file behind.</summary>
    [Fact]
    public void SnapshotFolder_HoldsNoStaleBaselines()
    {
        string directory = Baseline.SourceDirectory();
        if (!Directory.Exists(directory)) directory = Path.Combine(AppContext.BaseDirectory, Baseline.Directory);
        var expected = new SortedSet<string>(StringComparer.Ordinal);
        foreach (object[] row in Specs)
            foreach (string hint in (string[])row[2]) expected.Add(hint + ".txt");
        var actual = new SortedSet<string>(Directory.GetFiles(directory).Select(f => Path.GetFileName(f)!), StringComparer.Ordinal);
        Assert.Equal(expected, actual);
    }

    /// <summary>The baseline helper itself: a changed line is reported with its number and both versions.</summary>
    [Fact]
    public void BaselineDiff_NamesFirstDifferingLine()
    {
        string diff = Baseline.Diff("a\nb\nc\n", "a\nB\nc\n");
        Assert.Contains("line 2", diff, StringComparison.Ordinal);
        Assert.Contains("  - b\n", diff, StringComparison.Ordinal);
        Assert.Contains("  + B\n", diff, StringComparison.Ordinal);
        Assert.Contains("<end of baseline>", Baseline.Diff("a", "a\nextra"), StringComparison.Ordinal);
    }
}
