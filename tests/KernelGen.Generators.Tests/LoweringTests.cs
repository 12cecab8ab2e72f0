using System.Collections.Generic;
using System.Linq;
using CsCheck;
using KernelGen.Catalog;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;
using KernelGen.Generators.Model;
using KernelGen.Optimization;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace KernelGen.Generators.Tests;

/// <summary>
/// <see cref="Lowerer.Lower"/> on hand-built specs, without Roslyn (STYLE.md item 7). Expected values are worked out
/// by hand in the tests, never taken from the code under test.
/// </summary>
public sealed class LoweringTests
{
    // ---- Spec builders --------------------------------------------------------------------------------------

    private static OptionSpec Option(string name, double value) => new(name, value);

    private static LayerSpec Layer(LayerKind kind, string? name = null, params OptionSpec[] options) =>
        new(kind, kind.ToString(), name, options.ToEquatableArray(), null);

    private static LayerSpec Dense(int units, Activation activation = Activation.Identity, Init init = Init.Auto, string? name = null) =>
        Layer(LayerKind.Dense, name, Option("Units", units), Option("Activation", (int)activation), Option("Init", (int)init));

    private static LayerSpec Act(Activation activation, string? name = null, params OptionSpec[] options)
    {
        string attribute = OpCatalog.Get(activation).AttributeType.Name;
        return new LayerSpec(LayerKind.Activation, attribute[..^"Attribute".Length], name, options.ToEquatableArray(), null) { Activation = (int)activation };
    }

    private static NetworkSpec Spec(int input, params LayerSpec[] layers) => Spec([input], layers, null, null);

    private static NetworkSpec Spec(int[] input, LayerSpec[] layers, LossKind? loss, double? learningRate, LocationInfo? location = null) =>
        new(new TypeSpec("Demo", "Net", EquatableArray<ContainingTypeSpec>.Empty),
            null,
            input.ToEquatableArray(),
            location,
            layers.ToEquatableArray(),
            (loss is { } l ? new[] { new LossSpec(l, l == LossKind.L2 ? "L2Loss" : "SoftmaxCrossEntropyLoss", EquatableArray<OptionSpec>.Empty, null) } : []).ToEquatableArray(),
            (learningRate is { } lr ? new[] { new OptimizerSpec(OptimizerKind.Sgd, "Sgd", lr, EquatableArray<OptionSpec>.Empty, null) } : []).ToEquatableArray(),
            EquatableArray<TrainingOptionSpec>.Empty,
            EquatableArray<PenaltySpec>.Empty);

    private static TrainingOptionSpec Training(string attribute, LocationInfo? location, params OptionSpec[] values) =>
        new($"KernelGen.{attribute}Attribute", attribute, values.ToEquatableArray(), location);

    /// <summary>784 → 10 with an optimizer of any kind and options, and schedules, warm-up or clipping.</summary>
    private static NetworkSpec TrainingSpec(OptimizerKind kind, double learningRate, OptionSpec[] options, TrainingOptionSpec[] training, LocationInfo? location = null) =>
        Spec([784], [Dense(10)], LossKind.SoftmaxCrossEntropy, null, location) with
        {
            Optimizers = new[] { new OptimizerSpec(kind, kind.ToString(), learningRate, options.ToEquatableArray(), location) }.ToEquatableArray(),
            TrainingOptions = training.ToEquatableArray(),
        };

    /// <summary>The reference network of the design card: 784 → 256 ReLU → 128 Tanh → 10, softmax cross-entropy, SGD 0.1.</summary>
    private static NetworkSpec Reference() => Spec([784],
        [Dense(256, Activation.ReLU), Dense(128, Activation.Tanh), Dense(10)],
        LossKind.SoftmaxCrossEntropy, 0.1);

    private static string Shape(GraphPlan plan) =>
        string.Join(" | ", plan.Nodes.Select(s => $"{s.Kind} {s.Name} {s.In}->{s.Out} {s.Activation}"));

    private static Init InitOf(NodePlan node) => node.Tensor(TensorRole.Weight).Init;

    // ---- Fusion ----------------------------------------------------------------------------------------------

    [Fact]
    public void ActivationAfterIdentityDense_IsFusedIntoIt()
    {
        GraphPlan plan = Lowerer.Lower(Spec(4, Dense(8), Act(Activation.ReLU), Dense(3), Act(Activation.Sigmoid)));

        Assert.Equal("Dense Dense1 4->8 ReLU | Dense Dense2 8->3 Sigmoid", Shape(plan));
    }

    [Fact]
    public void IdentityLayer_IsDropped()
    {
        GraphPlan plan = Lowerer.Lower(Spec(4, Act(Activation.Identity), Dense(8), Act(Activation.Identity), Dense(3), Act(Activation.Identity)));

        Assert.Equal("Dense Dense1 4->8 Identity | Dense Dense2 8->3 Identity", Shape(plan));
    }

    [Fact]
    public void IdentityLayer_BetweenDenseAndActivation_DoesNotBlockFusion()
    {
        GraphPlan plan = Lowerer.Lower(Spec(4, Dense(8), Act(Activation.Identity), Act(Activation.Tanh)));

        Assert.Equal("Dense Dense1 4->8 Tanh", Shape(plan));
    }

    [Fact]
    public void ActivationDirectlyAfterInput_StaysStandalone()
    {
        GraphPlan plan = Lowerer.Lower(Spec(4, Act(Activation.Tanh), Dense(8)));

        Assert.Equal("Activation Tanh1 4->4 Tanh | Dense Dense1 4->8 Identity", Shape(plan));
        Assert.True(plan.Nodes[0].Tensors.IsEmpty);
    }

    [Fact]
    public void ActivationAfterAnotherActivation_StaysStandalone()
    {
        GraphPlan afterFused = Lowerer.Lower(Spec(4, Dense(8, Activation.ReLU), Act(Activation.Sigmoid)));
        GraphPlan afterStandalone = Lowerer.Lower(Spec(4, Act(Activation.Sigmoid), Act(Activation.Tanh, "Squash")));
        GraphPlan afterFusedLayer = Lowerer.Lower(Spec(4, Dense(8), Act(Activation.ReLU), Act(Activation.ReLU)));

        Assert.Equal("Dense Dense1 4->8 ReLU | Activation Sigmoid1 8->8 Sigmoid", Shape(afterFused));
        Assert.Equal("Activation Sigmoid1 4->4 Sigmoid | Activation Squash 4->4 Tanh", Shape(afterStandalone));
        Assert.Equal("Dense Dense1 4->8 ReLU | Activation ReLU2 8->8 ReLU", Shape(afterFusedLayer));
    }

    [Fact]
    public void ActivationParameter_DefaultsFromTheCatalog_AndFollowsIntoTheFusedLayer()
    {
        GraphPlan written = Lowerer.Lower(Spec(4, Dense(8), Act(Activation.LeakyReLU, null, Option("Slope", 0.2))));
        GraphPlan defaulted = Lowerer.Lower(Spec(4, Dense(8, Activation.LeakyReLU), Act(Activation.ELU)));

        Assert.Equal((Activation.LeakyReLU, 0.2), (written.Nodes[0].Activation, written.Nodes[0].ActivationParameter));
        Assert.Equal(0.01, defaulted.Nodes[0].ActivationParameter);
        Assert.Equal((Activation.ELU, 1.0), (defaulted.Nodes[1].Activation, defaulted.Nodes[1].ActivationParameter));
    }

    // ---- Shapes -----------------------------------------------------------------------------------------------

    [Fact]
    public void ImageInput_FlowsThroughFlatten_IntoDense()
    {
        GraphPlan plan = Lowerer.Lower(Spec([1, 28, 28], [Layer(LayerKind.Flatten), Act(Activation.ReLU), Dense(10)], null, null));

        Assert.Equal("Flatten Flatten1 784->784 Identity | Activation ReLU1 784->784 ReLU | Dense Dense1 784->10 Identity", Shape(plan));
        Assert.Equal(new TensorShape(1, 28, 28), plan.InputShape);
        Assert.Equal(new TensorShape(1, 28, 28), plan.Nodes[0].InputShape);
        Assert.Equal(new TensorShape(784), plan.Nodes[0].OutputShape);
        Assert.Equal("input [1, 28, 28] → Flatten1 → ReLU1 → Dense1 10", plan.Description);
    }

    [Fact]
    public void Flatten_InTraining_CopiesTheCallersInput_ButAliasesAnInnerValue()
    {
        GraphPlan first = Lowerer.Lower(Spec([2, 3, 2], [Layer(LayerKind.Flatten), Dense(4)], null, null));
        GraphPlan inner = Lowerer.Lower(Spec([12], [Act(Activation.Tanh), Layer(LayerKind.Flatten), Dense(4)], null, null));

        // After the input, Flatten gets a region of its own (LayerOutput must outlive the caller's span).
        Assert.True(first.Training.ValueRegions[1] >= 0);
        // After another layer it is that layer's data under a flat shape: the same region, and in evaluation too.
        Assert.Equal(inner.Training.ValueRegions[1], inner.Training.ValueRegions[2]);
        Assert.Equal(inner.Evaluation.ValueRegions[1], inner.Evaluation.ValueRegions[2]);
        // Its gradient passes through unchanged.
        Assert.Equal(inner.Training.GradientRegions[2], inner.Training.GradientRegions[1]);
    }

    // ---- Init resolution -------------------------------------------------------------------------------------

    [Theory]
    [InlineData(Activation.ReLU, Init.HeNormal)]
    [InlineData(Activation.LeakyReLU, Init.HeNormal)]
    [InlineData(Activation.Identity, Init.XavierUniform)]
    [InlineData(Activation.Tanh, Init.XavierUniform)]
    [InlineData(Activation.Sigmoid, Init.XavierUniform)]
    public void AutoInit_DependsOnTheFusedActivation(Activation activation, Init expected)
    {
        GraphPlan declared = Lowerer.Lower(Spec(4, Dense(8, activation)));
        GraphPlan fusedFromLayer = Lowerer.Lower(Spec(4, Dense(8), Act(activation)));

        Assert.Equal(expected, InitOf(declared.Nodes[0]));
        Assert.Equal(expected, InitOf(fusedFromLayer.Nodes[0]));
    }

    [Fact]
    public void AutoInit_LooksThroughNormalizationAndDropout_ToTheNextActivation()
    {
        GraphPlan plan = Lowerer.Lower(Spec(4, Dense(8), Layer(LayerKind.BatchNorm), Layer(LayerKind.Dropout, null, Option("DropProbability", 0.5)), Act(Activation.ReLU), Dense(3)));

        Assert.Equal(Init.HeNormal, InitOf(plan.Nodes[0]));
        Assert.Equal(Init.XavierUniform, InitOf(plan.Nodes[^1]));
    }

    [Fact]
    public void AutoInit_IgnoresAStandaloneReLUThatWasNotFused()
    {
        // Dense1 keeps Tanh; the ReLU after it is standalone, so Dense1 is not "before a ReLU" in the fused sense.
        GraphPlan plan = Lowerer.Lower(Spec(4, Dense(8, Activation.Tanh), Act(Activation.ReLU)));

        Assert.Equal(Init.XavierUniform, InitOf(plan.Nodes[0]));
    }

    [Theory]
    [InlineData(Init.XavierUniform)]
    [InlineData(Init.XavierNormal)]
    [InlineData(Init.HeUniform)]
    [InlineData(Init.HeNormal)]
    public void ExplicitInit_IsKept(Init init)
    {
        GraphPlan relu = Lowerer.Lower(Spec(4, Dense(8, Activation.ReLU, init)));
        GraphPlan identity = Lowerer.Lower(Spec(4, Dense(8, Activation.Identity, init)));

        Assert.Equal(init, InitOf(relu.Nodes[0]));
        Assert.Equal(init, InitOf(identity.Nodes[0]));
    }

    // ---- Layout ----------------------------------------------------------------------------------------------

    [Fact]
    public void ReferenceNetwork_ParameterCountAndLayout()
    {
        GraphPlan plan = Lowerer.Lower(Reference());

        Assert.Equal(784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10, plan.ParameterCount);
        Assert.Equal(235_146, plan.ParameterCount);
        // Every size here is already a multiple of 16 except the last bias: 235146 rounds up to 235152.
        Assert.Equal(
            [("Dense1.Weights", 0, 784, 256), ("Dense1.Bias", 200_704, 1, 256),
             ("Dense2.Weights", 200_960, 256, 128), ("Dense2.Bias", 233_728, 1, 128),
             ("Dense3.Weights", 233_856, 128, 10), ("Dense3.Bias", 235_136, 1, 10)],
            plan.Tensors.Select(t => (t.Name, t.Offset, t.Rows, t.Columns)));
        Assert.Equal(235_152, plan.ArenaLength);
        Assert.Equal((784, 10), (plan.InputShape.Size, plan.OutputShape.Size));
        Assert.Equal((LossKind.SoftmaxCrossEntropy, OptimizerKind.Sgd, 0.1), (plan.Loss!.Kind, plan.Optimizer!.Kind, plan.Optimizer.LearningRate));
        Assert.Equal(["Dense1.weight", "Dense1.bias"], plan.Nodes[0].Tensors.Select(t => t.FileName));
        Assert.Equal([FileLayout.Transposed, FileLayout.Same], plan.Nodes[0].Tensors.Select(t => t.Layout));
    }

    [Fact]
    public void OddSizes_ArePaddedToSixteenElements()
    {
        // 3·5 = 15 → bias at 16; 16 + 5 = 21 → W2 at 32; 32 + 5·7 = 67 → bias at 80; 80 + 7 = 87 → arena 96.
        GraphPlan plan = Lowerer.Lower(Spec(3, Dense(5), Dense(7)));

        Assert.Equal([0, 16, 32, 80], plan.Tensors.Select(t => t.Offset));
        Assert.Equal([true, false, true, false], plan.Tensors.Select(t => t.IsWeight));
        Assert.Equal(96, plan.ArenaLength);
        Assert.Equal(3 * 5 + 5 + 5 * 7 + 7, plan.ParameterCount);
        Assert.Equal([0, 16], plan.Nodes[0].Tensors.Select(t => t.Offset));
        Assert.Equal([32, 80], plan.Nodes[1].Tensors.Select(t => t.Offset));
    }

    [Fact]
    public void RunningStatistics_GoToTheirOwnBuffer_MeanThenVariance_EachAligned()
    {
        // Two BatchNorm layers over 5 features: means at 0 and 32, variances at 16 and 48 in the statistics buffer; γ and β
        // in the arena after Dense1's weights (20 → 32) and bias (5 → 48).
        GraphPlan plan = Lowerer.Lower(Spec(4, Dense(5), Layer(LayerKind.BatchNorm), Dense(5), Layer(LayerKind.BatchNorm)));

        LayerTensorPlan[] first = plan.Nodes[1].Tensors.ToArray(), second = plan.Nodes[3].Tensors.ToArray();
        Assert.Equal([(TensorRole.Gamma, false, 48), (TensorRole.Beta, false, 64), (TensorRole.RunningMean, true, 0), (TensorRole.RunningVariance, true, 16)],
            first.Select(t => (t.Role, t.IsState, t.Offset)));
        Assert.Equal([32, 48], second.Where(t => t.IsState).Select(t => t.Offset));
        Assert.Equal(64, plan.StatisticsLength);
        Assert.Equal([1.0, 0.0, 0.0, 1.0], first.Select(t => t.InitialValue));
        Assert.Equal(2, plan.MinimumTrainingBatch);
    }

    [Fact]
    public void EveryTensorOffset_IsAMultipleOf16_AndTensorsDoNotOverlap()
    {
        Gen<LayerSpec> layer = Gen.Frequency(
            (3, Gen.Int[1, 70].Select(u => Dense(u))),
            (1, Gen.Int[1, 70].Select(u => Dense(u, Activation.ReLU))),
            (1, Gen.Enum<Activation>().Select(a => Act(a))));
        Gen<NetworkSpec> spec = Gen.Select(Gen.Int[1, 70], layer.Array[1, 8], (input, layers) => Spec(input, layers));

        spec.Sample(s =>
        {
            GraphPlan plan = Lowerer.Lower(s);
            int expectedCount = 0, width = s.InputShape[0], end = 0;
            foreach (LayerSpec l in s.Layers)
                if (l.Kind == LayerKind.Dense) { int units = (int)l.Options[0].Value; expectedCount += width * units + units; width = units; }
            Assert.Equal(expectedCount, plan.ParameterCount);
            Assert.Equal(width, plan.OutputShape.Size);
            foreach (ParameterTensorPlan t in plan.Tensors)
            {
                Assert.True(t.Offset % 16 == 0, $"{t.Name} at {t.Offset}");
                Assert.True(t.Offset >= end, $"{t.Name} at {t.Offset} overlaps the previous tensor ending at {end}");
                end = t.Offset + t.Rows * t.Columns;
            }
            Assert.True(plan.ArenaLength % 16 == 0 && plan.ArenaLength >= end && plan.ArenaLength < end + 16,
                $"arena {plan.ArenaLength}, last tensor ends at {end}");
            Assert.Equal(2 * plan.Nodes.Count(st => st.Kind == LayerKind.Dense), plan.Tensors.Count);
        }, iter: 500, print: s => Shape(Lowerer.Lower(s)) + $" (input {s.InputShape[0]})");
    }

    // ---- Regions by liveness -----------------------------------------------------------------------------------

    [Fact]
    public void Chain_NeedsTwoGradientRegions_AndTwoEvaluationRegions_SizedToTheirLargestValue()
    {
        GraphPlan plan = Lowerer.Lower(Reference());
        TrainingLayout t = plan.Training;

        // Training: every output pinned (LayerOutput, backward), the input copy, then gradients by liveness.
        Assert.Equal([-1, 0, 1, 2], t.ValueRegions);
        Assert.Equal(3, t.InputRegion);
        // ∂L/∂y (10) starts in region 4; Dense3 writes ∂L/∂h2 (128) into a second region 5; Dense2 writes ∂L/∂h1 (256)
        // back into region 4, free again; Dense1 writes into the caller's span.
        Assert.Equal([-1, 4, 5, 4], t.GradientRegions);
        Assert.Equal(4, t.OutputGradientRegion);
        // Evaluation: h1 and h2 in two regions of their own (Predict must not touch the caches), the output the caller's.
        Assert.Equal([-1, 6, 7, -1], plan.Evaluation.ValueRegions);
        Assert.Equal([256, 128, 10, 784, 256, 128, 256, 128], plan.Regions);
    }

    [Fact]
    public void Evaluation_ReusesRegions_WhenValuesDie_AndRunsActivationsInPlace()
    {
        // 4 → Dense 16 → BatchNorm → Tanh → Dense 8 → Dense 16: in evaluation BatchNorm's output can take a new region while
        // Dense1's dies, Tanh runs in place on it, and Dense3 reuses Dense1's region.
        GraphPlan plan = Lowerer.Lower(Spec(4, Dense(16), Layer(LayerKind.BatchNorm), Act(Activation.Tanh), Dense(8), Dense(16)));

        // Training takes regions 0–9: the pinned outputs with BatchNorm's x̂ and 1/σ (2, 3) right after its own, the input
        // copy (7), and two gradient regions: ∂L/∂y in 8, Dense3's ∂L/∂input in 9, Dense2's back in 8, where Tanh and
        // BatchNorm work in place.
        Assert.Equal([-1, 0, 1, 4, 5, 6], plan.Training.ValueRegions);
        Assert.Equal([("norm", 2), ("istd", 3)], plan.Training.Saved[1].Regions.Select(r => (r.Name, r.Region)));
        Assert.Equal(7, plan.Training.InputRegion);
        Assert.Equal([-1, 8, 8, 8, 9, 8], plan.Training.GradientRegions);
        // Evaluation: Dense1 → 10; BatchNorm reads 10 while writing 11 (then 10 is free); Tanh runs in place on 11;
        // Dense2 reads 11 and takes the free 10; Dense3 writes the caller's span. Two regions for five values.
        Assert.Equal([-1, 10, 11, 11, 10, -1], plan.Evaluation.ValueRegions);
        Assert.Equal(12, plan.Regions.Count);
    }

    // ---- Description and purity ------------------------------------------------------------------------------

    [Fact]
    public void Description_OfReferenceSpec()
    {
        Assert.Equal(
            "input 784 → Dense1 256 + ReLU → Dense2 128 + Tanh → Dense3 10 → softmax cross-entropy; Sgd, learning rate 0.1",
            Lowerer.Lower(Reference()).Description);
    }

    [Fact]
    public void Description_NamesStandaloneActivationsAndL2()
    {
        NetworkSpec spec = Spec([3], [Act(Activation.Tanh, "Squash"), Dense(5, name: "Hidden"), Act(Activation.Sigmoid), Dense(2)], LossKind.L2, null);

        Assert.Equal("input 3 → Squash → Hidden 5 + Sigmoid → Dense2 2 → L2 divergence", Lowerer.Lower(spec).Description);
    }

    [Fact]
    public void Plans_HoldNoLocations_SoMovedSpecsLowerToEqualPlans()
    {
        var here = new LocationInfo("/src/a.cs", new TextSpan(10, 5), new LinePositionSpan(new LinePosition(1, 0), new LinePosition(1, 5)));
        var there = new LocationInfo("/src/a.cs", new TextSpan(40, 5), new LinePositionSpan(new LinePosition(4, 0), new LinePosition(4, 5)));
        NetworkSpec a = Spec([784], Reference().Layers.ToArray(), LossKind.SoftmaxCrossEntropy, 0.1, here);
        NetworkSpec b = Spec([784], Reference().Layers.ToArray(), LossKind.SoftmaxCrossEntropy, 0.1, there);

        Assert.NotEqual(a, b);
        Assert.Equal(Lowerer.Lower(a), Lowerer.Lower(b));
        Assert.Equal(Lowerer.Lower(a).GetHashCode(), Lowerer.Lower(b).GetHashCode());
        Assert.Null(TestHelper.FindForbidden(Lowerer.Lower(a), "plan"));
    }

    [Fact]
    public void Plans_DifferWhenAHyperparameterDiffers()
    {
        GraphPlan a = Lowerer.Lower(Spec([4], [Dense(2)], LossKind.L2, 0.1));
        GraphPlan b = Lowerer.Lower(Spec([4], [Dense(2)], LossKind.L2, 0.05));

        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Plans_DifferWhenALayerOptionDiffers()
    {
        GraphPlan a = Lowerer.Lower(Spec(4, Dense(8), Layer(LayerKind.BatchNorm, null, Option("Epsilon", 1e-3))));
        GraphPlan b = Lowerer.Lower(Spec(4, Dense(8), Layer(LayerKind.BatchNorm, null, Option("Epsilon", 1e-4))));

        Assert.NotEqual(a, b);
        Assert.NotEqual(a.Fingerprint, b.Fingerprint);
    }

    // ---- Optimizer and training options ------------------------------------------------------------------------

    [Fact]
    public void Optimizer_KeepsKindRateAndTheOptionsAsWritten()
    {
        GraphPlan plan = Lowerer.Lower(TrainingSpec(OptimizerKind.Adam, 0.001, [Option("Beta2", 0.99), Option("WeightDecay", 1e-4)], []));

        Assert.Equal(new OptimizerPlan(OptimizerKind.Adam, 0.001, new[] { Option("Beta2", 0.99), Option("WeightDecay", 1e-4) }.ToEquatableArray()), plan.Optimizer);
        Assert.True(plan.TrainingOptions.IsEmpty);
    }

    [Fact]
    public void TrainingOptions_KeepTheirOrderAndValues_WithoutLocations()
    {
        var location = new LocationInfo("/src/a.cs", new TextSpan(3, 4), new LinePositionSpan(new LinePosition(0, 3), new LinePosition(0, 7)));
        GraphPlan plan = Lowerer.Lower(TrainingSpec(OptimizerKind.Sgd, 0.1, [Option("Momentum", 0.9), Option("Nesterov", 1)],
        [
            Training("CosineAnnealing", location, Option("Period", 1000), Option("MinLearningRate", 1e-5)),
            Training("LinearWarmup", location, Option("Steps", 100)),
            Training("ClipGradientNorm", location, Option("MaxNorm", 5)),
        ]));

        Assert.Equal(
            [new TrainingOptionPlan("KernelGen.CosineAnnealingAttribute", new[] { Option("Period", 1000), Option("MinLearningRate", 1e-5) }.ToEquatableArray()),
             new TrainingOptionPlan("KernelGen.LinearWarmupAttribute", new[] { Option("Steps", 100) }.ToEquatableArray()),
             new TrainingOptionPlan("KernelGen.ClipGradientNormAttribute", new[] { Option("MaxNorm", 5.0) }.ToEquatableArray())],
            plan.TrainingOptions);
        Assert.Null(TestHelper.FindForbidden(plan, "plan"));
    }

    [Theory]
    [InlineData("Sgd", 0.1, "Sgd, learning rate 0.1")]
    [InlineData("AdaGrad", 0.01, "AdaGrad, learning rate 0.01")]
    [InlineData("RmsProp", 0.01, "RmsProp, learning rate 0.01")]
    [InlineData("Adam", 0.001, "Adam, learning rate 0.001")]
    [InlineData("AdamW", 3e-4, "AdamW, learning rate 0.0003")]
    [InlineData("NAdam", 0.002, "NAdam, learning rate 0.002")]
    [InlineData("AdaDelta", 1.0, "AdaDelta, learning rate 1")]
    public void Description_NamesTheOptimizerAndRate(string kind, double learningRate, string expected)
    {
        Assert.Equal("input 784 → Dense1 10 → softmax cross-entropy; " + expected,
            Lowerer.Lower(TrainingSpec(System.Enum.Parse<OptimizerKind>(kind), learningRate, [Option("WeightDecay", 0.5)], [])).Description);
    }

    [Fact]
    public void Plans_OfMovedTrainingAttributes_AreEqual()
    {
        var here = new LocationInfo("/src/a.cs", new TextSpan(10, 5), new LinePositionSpan(new LinePosition(1, 0), new LinePosition(1, 5)));
        var there = new LocationInfo("/src/a.cs", new TextSpan(40, 5), new LinePositionSpan(new LinePosition(4, 0), new LinePosition(4, 5)));
        NetworkSpec a = TrainingSpec(OptimizerKind.NAdam, 0.002, [Option("MomentumDecay", 0.005)], [Training("StepDecay", here, Option("StepSize", 30))], here);
        NetworkSpec b = TrainingSpec(OptimizerKind.NAdam, 0.002, [Option("MomentumDecay", 0.005)], [Training("StepDecay", there, Option("StepSize", 30))], there);

        Assert.NotEqual(a, b);
        Assert.Equal(Lowerer.Lower(a), Lowerer.Lower(b));
        Assert.Equal(Lowerer.Lower(a).GetHashCode(), Lowerer.Lower(b).GetHashCode());
    }

    public static TheoryData<string> TrainingChanges =>
        ["optimizer kind", "option value", "option added", "option order", "schedule value", "schedule kind", "warm-up added", "clipping removed"];

    /// <summary>Any change that changes the emitted optimizer must change the plan (or the driver would keep the old code).</summary>
    [Theory]
    [MemberData(nameof(TrainingChanges))]
    public void Plans_DifferWhenATrainingOptionDiffers(string change)
    {
        OptionSpec[] options = [Option("Beta2", 0.999), Option("Epsilon", 1e-8)];
        TrainingOptionSpec schedule = Training("ExponentialDecay", null, Option("Gamma", 0.9));
        TrainingOptionSpec clipping = Training("ClipGradientValue", null, Option("MaxValue", 1));
        NetworkSpec baseline = TrainingSpec(OptimizerKind.Adam, 0.001, options, [schedule, clipping]);
        NetworkSpec changed = change switch
        {
            "optimizer kind" => TrainingSpec(OptimizerKind.AdamW, 0.001, options, [schedule, clipping]),
            "option value" => TrainingSpec(OptimizerKind.Adam, 0.001, [Option("Beta2", 0.99), Option("Epsilon", 1e-8)], [schedule, clipping]),
            "option added" => TrainingSpec(OptimizerKind.Adam, 0.001, [.. options, Option("WeightDecay", 0)], [schedule, clipping]),
            "option order" => TrainingSpec(OptimizerKind.Adam, 0.001, [options[1], options[0]], [schedule, clipping]),
            "schedule value" => TrainingSpec(OptimizerKind.Adam, 0.001, options, [Training("ExponentialDecay", null, Option("Gamma", 0.95)), clipping]),
            "schedule kind" => TrainingSpec(OptimizerKind.Adam, 0.001, options, [Training("InverseTimeDecay", null, Option("K", 0.9)), clipping]),
            "warm-up added" => TrainingSpec(OptimizerKind.Adam, 0.001, options, [schedule, Training("LinearWarmup", null, Option("Steps", 10)), clipping]),
            "clipping removed" => TrainingSpec(OptimizerKind.Adam, 0.001, options, [schedule]),
            _ => throw new System.ArgumentOutOfRangeException(nameof(change)),
        };

        Assert.Equal(Lowerer.Lower(baseline), Lowerer.Lower(TrainingSpec(OptimizerKind.Adam, 0.001, [.. options], [schedule, clipping])));
        Assert.NotEqual(Lowerer.Lower(baseline), Lowerer.Lower(changed));
    }

    // ---- Inference form --------------------------------------------------------------------------------------

    [Fact]
    public void Inference_form_folds_batch_norm_both_ways_keeps_the_rest_and_drops_dropout()
    {
        // 4 → Dense 8 ReLU → BN → Dense 6 → BN → Tanh → Dropout → BN → LayerNorm → Dense 3
        GraphPlan plan = Lowerer.Lower(Spec(4,
            Dense(8, Activation.ReLU), Layer(LayerKind.BatchNorm), Dense(6), Layer(LayerKind.BatchNorm),
            Act(Activation.Tanh), Layer(LayerKind.Dropout, null, Option("DropProbability", 0.5)), Layer(LayerKind.BatchNorm), Layer(LayerKind.LayerNorm), Dense(3)));
        InferenceFormPlan inference = plan.InferenceForm!;
        // Dense1 (ReLU) | Dense2 with BatchNorm1 before, BatchNorm2 after, Tanh fused | BatchNorm3 stays | LayerNorm1 | Dense3
        Assert.Equal(new[] { LayerKind.Dense, LayerKind.Dense, LayerKind.BatchNorm, LayerKind.LayerNorm, LayerKind.Dense }, inference.Nodes.Select(s => s.Kind).ToArray());
        Assert.Equal(Activation.Tanh, inference.Nodes[1].Activation);
        FoldPlan fold = inference.Folds.Single(f => f.Before >= 0 || f.After >= 0);
        Assert.Equal(("BatchNorm1", "BatchNorm2"), (plan.Nodes[fold.Before].Name, plan.Nodes[fold.After].Name));
        Assert.Equal((8, 6), (fold.Inputs, fold.Outputs));
        // Folded arena: Dense1 32 + 8(→16), Dense2 48 + 6(→16), BatchNorm3 γ β 16 + 16, LayerNorm1 16 + 16, Dense3 18(→32) + 3(→16).
        Assert.Equal(32 + 16 + 48 + 16 + 16 + 16 + 16 + 16 + 32 + 16, inference.ArenaLength);
        Assert.Equal(new[] { 0, 48 }, inference.Nodes.Take(2).Select(s => s.Tensor(TensorRole.Weight).Offset).ToArray());
        Assert.Equal(plan.StatisticsLength, inference.StatisticsLength); // BatchNorm3 keeps its running statistics
    }
}
