using System.Linq;
using CsCheck;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;
using KernelGen.Generators.Model;
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

    private static LayerSpec Dense(int units, Activation activation = Activation.Identity, Init init = Init.Auto, string? name = null) =>
        new(LayerKind.Dense, "Dense", units, (int)activation, (int)init, name, null);

    private static LayerSpec Act(Activation activation, string? name = null) =>
        new(LayerKind.Activation, activation.ToString(), 0, (int)activation, 0, name, null);

    private static NetworkSpec Spec(int input, params LayerSpec[] layers) => Spec(input, layers, null, null);

    private static NetworkSpec Spec(int input, LayerSpec[] layers, LossKind? loss, double? learningRate, LocationInfo? location = null) =>
        new(new TypeSpec("Demo", "Net", EquatableArray<ContainingTypeSpec>.Empty),
            null,
            input,
            location,
            layers.ToEquatableArray(),
            (loss is { } l ? new[] { new LossSpec(l, l == LossKind.L2 ? "L2Loss" : "SoftmaxCrossEntropyLoss", null) } : []).ToEquatableArray(),
            (learningRate is { } lr ? new[] { new OptimizerSpec(OptimizerKind.Sgd, "Sgd", lr, EquatableArray<OptionSpec>.Empty, null) } : []).ToEquatableArray(),
            EquatableArray<TrainingOptionSpec>.Empty);

    private static OptionSpec Option(string name, double value) => new(name, value);

    private static TrainingOptionSpec Training(TrainingOptionKind kind, LocationInfo? location, params OptionSpec[] values) =>
        new(kind, kind.ToString(), values.ToEquatableArray(), location);

    /// <summary>784 → 10 with an optimizer of any kind and options, and schedules, warm-up or clipping.</summary>
    private static NetworkSpec TrainingSpec(OptimizerKind kind, double learningRate, OptionSpec[] options, TrainingOptionSpec[] training, LocationInfo? location = null) =>
        Spec(784, [Dense(10)], LossKind.SoftmaxCrossEntropy, null, location) with
        {
            Optimizers = new[] { new OptimizerSpec(kind, kind.ToString(), learningRate, options.ToEquatableArray(), location) }.ToEquatableArray(),
            TrainingOptions = training.ToEquatableArray(),
        };

    /// <summary>The reference network of the design card: 784 → 256 ReLU → 128 Tanh → 10, softmax cross-entropy, SGD 0.1.</summary>
    private static NetworkSpec Reference() => Spec(784,
        [Dense(256, Activation.ReLU), Dense(128, Activation.Tanh), Dense(10)],
        LossKind.SoftmaxCrossEntropy, 0.1);

    private static string Shape(KernelPlan plan) =>
        string.Join(" | ", plan.Steps.Select(s => $"{s.Kind} {s.Name} {s.In}->{s.Out} {s.Activation}"));

    // ---- Fusion ----------------------------------------------------------------------------------------------

    [Fact]
    public void ActivationAfterIdentityDense_IsFusedIntoIt()
    {
        KernelPlan plan = Lowerer.Lower(Spec(4, Dense(8), Act(Activation.ReLU), Dense(3), Act(Activation.Sigmoid)));

        Assert.Equal("Dense Dense1 4->8 ReLU | Dense Dense2 8->3 Sigmoid", Shape(plan));
    }

    [Fact]
    public void IdentityLayer_IsDropped()
    {
        KernelPlan plan = Lowerer.Lower(Spec(4, Act(Activation.Identity), Dense(8), Act(Activation.Identity), Dense(3), Act(Activation.Identity)));

        Assert.Equal("Dense Dense1 4->8 Identity | Dense Dense2 8->3 Identity", Shape(plan));
    }

    [Fact]
    public void IdentityLayer_BetweenDenseAndActivation_DoesNotBlockFusion()
    {
        KernelPlan plan = Lowerer.Lower(Spec(4, Dense(8), Act(Activation.Identity), Act(Activation.Tanh)));

        Assert.Equal("Dense Dense1 4->8 Tanh", Shape(plan));
    }

    [Fact]
    public void ActivationDirectlyAfterInput_StaysStandalone()
    {
        KernelPlan plan = Lowerer.Lower(Spec(4, Act(Activation.Tanh), Dense(8)));

        Assert.Equal("Activation Tanh1 4->4 Tanh | Dense Dense1 4->8 Identity", Shape(plan));
        Assert.Equal((-1, -1), (plan.Steps[0].WeightOffset, plan.Steps[0].BiasOffset));
    }

    [Fact]
    public void ActivationAfterAnotherActivation_StaysStandalone()
    {
        KernelPlan afterFused = Lowerer.Lower(Spec(4, Dense(8, Activation.ReLU), Act(Activation.Sigmoid)));
        KernelPlan afterStandalone = Lowerer.Lower(Spec(4, Act(Activation.Sigmoid), Act(Activation.Tanh, "Squash")));
        KernelPlan afterFusedLayer = Lowerer.Lower(Spec(4, Dense(8), Act(Activation.ReLU), Act(Activation.ReLU)));

        Assert.Equal("Dense Dense1 4->8 ReLU | Activation Sigmoid1 8->8 Sigmoid", Shape(afterFused));
        Assert.Equal("Activation Sigmoid1 4->4 Sigmoid | Activation Squash 4->4 Tanh", Shape(afterStandalone));
        Assert.Equal("Dense Dense1 4->8 ReLU | Activation ReLU2 8->8 ReLU", Shape(afterFusedLayer));
    }

    // ---- Init resolution -------------------------------------------------------------------------------------

    [Theory]
    [InlineData(Activation.ReLU, Init.HeNormal)]
    [InlineData(Activation.Identity, Init.XavierUniform)]
    [InlineData(Activation.Tanh, Init.XavierUniform)]
    [InlineData(Activation.Sigmoid, Init.XavierUniform)]
    public void AutoInit_DependsOnTheFusedActivation(Activation activation, Init expected)
    {
        KernelPlan declared = Lowerer.Lower(Spec(4, Dense(8, activation)));
        KernelPlan fusedFromLayer = Lowerer.Lower(Spec(4, Dense(8), Act(activation)));

        Assert.Equal(expected, declared.Steps[0].Init);
        Assert.Equal(expected, fusedFromLayer.Steps[0].Init);
    }

    [Fact]
    public void AutoInit_IgnoresAStandaloneReLUThatWasNotFused()
    {
        // Dense1 keeps Tanh; the ReLU after it is standalone, so Dense1 is not "before a ReLU" in the fused sense.
        KernelPlan plan = Lowerer.Lower(Spec(4, Dense(8, Activation.Tanh), Act(Activation.ReLU)));

        Assert.Equal(Init.XavierUniform, plan.Steps[0].Init);
    }

    [Theory]
    [InlineData(Init.XavierUniform)]
    [InlineData(Init.XavierNormal)]
    [InlineData(Init.HeUniform)]
    [InlineData(Init.HeNormal)]
    public void ExplicitInit_IsKept(Init init)
    {
        KernelPlan relu = Lowerer.Lower(Spec(4, Dense(8, Activation.ReLU, init)));
        KernelPlan identity = Lowerer.Lower(Spec(4, Dense(8, Activation.Identity, init)));

        Assert.Equal(init, relu.Steps[0].Init);
        Assert.Equal(init, identity.Steps[0].Init);
    }

    // ---- Layout ----------------------------------------------------------------------------------------------

    [Fact]
    public void ReferenceNetwork_ParameterCountAndLayout()
    {
        KernelPlan plan = Lowerer.Lower(Reference());

        Assert.Equal(784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10, plan.ParameterCount);
        Assert.Equal(235_146, plan.ParameterCount);
        // Every size here is already a multiple of 16 except the last bias: 235146 rounds up to 235152.
        Assert.Equal(
            [("Dense1.Weights", 0, 784, 256), ("Dense1.Bias", 200_704, 1, 256),
             ("Dense2.Weights", 200_960, 256, 128), ("Dense2.Bias", 233_728, 1, 128),
             ("Dense3.Weights", 233_856, 128, 10), ("Dense3.Bias", 235_136, 1, 10)],
            plan.Tensors.Select(t => (t.Name, t.Offset, t.Rows, t.Columns)));
        Assert.Equal(235_152, plan.ArenaLength);
        Assert.Equal((784, 10, 784), (plan.InputSize, plan.OutputSize, plan.MaxWidth));
        Assert.Equal((LossKind.SoftmaxCrossEntropy, OptimizerKind.Sgd, 0.1), (plan.Loss!.Value, plan.Optimizer!.Kind, plan.Optimizer.LearningRate));
    }

    [Fact]
    public void OddSizes_ArePaddedToSixteenElements()
    {
        // 3·5 = 15 → bias at 16; 16 + 5 = 21 → W2 at 32; 32 + 5·7 = 67 → bias at 80; 80 + 7 = 87 → arena 96.
        KernelPlan plan = Lowerer.Lower(Spec(3, Dense(5), Dense(7)));

        Assert.Equal([0, 16, 32, 80], plan.Tensors.Select(t => t.Offset));
        Assert.Equal([true, false, true, false], plan.Tensors.Select(t => t.IsWeight));
        Assert.Equal(96, plan.ArenaLength);
        Assert.Equal(3 * 5 + 5 + 5 * 7 + 7, plan.ParameterCount);
        Assert.Equal((0, 16), (plan.Steps[0].WeightOffset, plan.Steps[0].BiasOffset));
        Assert.Equal((32, 80), (plan.Steps[1].WeightOffset, plan.Steps[1].BiasOffset));
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
            KernelPlan plan = Lowerer.Lower(s);
            int expectedCount = 0, width = s.InputSize, end = 0;
            foreach (LayerSpec l in s.Layers)
                if (l.Kind == LayerKind.Dense) { expectedCount += width * l.Units + l.Units; width = l.Units; }
            Assert.Equal(expectedCount, plan.ParameterCount);
            Assert.Equal(width, plan.OutputSize);
            foreach (TensorPlan t in plan.Tensors)
            {
                Assert.True(t.Offset % 16 == 0, $"{t.Name} at {t.Offset}");
                Assert.True(t.Offset >= end, $"{t.Name} at {t.Offset} overlaps the previous tensor ending at {end}");
                end = t.Offset + t.Rows * t.Columns;
            }
            Assert.True(plan.ArenaLength % 16 == 0 && plan.ArenaLength >= end && plan.ArenaLength < end + 16,
                $"arena {plan.ArenaLength}, last tensor ends at {end}");
            Assert.Equal(2 * plan.Steps.Count(st => st.Kind == StepKind.Dense), plan.Tensors.Count);
        }, iter: 500, print: s => Shape(Lowerer.Lower(s)) + $" (input {s.InputSize})");
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
        NetworkSpec spec = Spec(3, [Act(Activation.Tanh, "Squash"), Dense(5, name: "Hidden"), Act(Activation.Sigmoid), Dense(2)], LossKind.L2, null);

        Assert.Equal("input 3 → Squash → Hidden 5 + Sigmoid → Dense2 2 → L2 divergence", Lowerer.Lower(spec).Description);
    }

    [Fact]
    public void Plans_HoldNoLocations_SoMovedSpecsLowerToEqualPlans()
    {
        var here = new LocationInfo("/src/a.cs", new TextSpan(10, 5), new LinePositionSpan(new LinePosition(1, 0), new LinePosition(1, 5)));
        var there = new LocationInfo("/src/a.cs", new TextSpan(40, 5), new LinePositionSpan(new LinePosition(4, 0), new LinePosition(4, 5)));
        NetworkSpec a = Spec(784, Reference().Layers.ToArray(), LossKind.SoftmaxCrossEntropy, 0.1, here);
        NetworkSpec b = Spec(784, Reference().Layers.ToArray(), LossKind.SoftmaxCrossEntropy, 0.1, there);

        Assert.NotEqual(a, b);
        Assert.Equal(Lowerer.Lower(a), Lowerer.Lower(b));
        Assert.Equal(Lowerer.Lower(a).GetHashCode(), Lowerer.Lower(b).GetHashCode());
    }

    [Fact]
    public void Plans_DifferWhenAHyperparameterDiffers()
    {
        KernelPlan a = Lowerer.Lower(Spec(4, [Dense(2)], LossKind.L2, 0.1));
        KernelPlan b = Lowerer.Lower(Spec(4, [Dense(2)], LossKind.L2, 0.05));

        Assert.NotEqual(a, b);
    }

    // ---- Optimizer and training options ------------------------------------------------------------------------

    [Fact]
    public void Optimizer_KeepsKindRateAndTheOptionsAsWritten()
    {
        KernelPlan plan = Lowerer.Lower(TrainingSpec(OptimizerKind.Adam, 0.001, [Option("Beta2", 0.99), Option("WeightDecay", 1e-4)], []));

        Assert.Equal(new OptimizerPlan(OptimizerKind.Adam, 0.001, new[] { Option("Beta2", 0.99), Option("WeightDecay", 1e-4) }.ToEquatableArray()), plan.Optimizer);
        Assert.True(plan.TrainingOptions.IsEmpty);
    }

    [Fact]
    public void TrainingOptions_KeepTheirOrderAndValues_WithoutLocations()
    {
        var location = new LocationInfo("/src/a.cs", new TextSpan(3, 4), new LinePositionSpan(new LinePosition(0, 3), new LinePosition(0, 7)));
        KernelPlan plan = Lowerer.Lower(TrainingSpec(OptimizerKind.Sgd, 0.1, [Option("Momentum", 0.9), Option("Nesterov", 1)],
        [
            Training(TrainingOptionKind.CosineAnnealing, location, Option("Period", 1000), Option("MinLearningRate", 1e-5)),
            Training(TrainingOptionKind.LinearWarmup, location, Option("Steps", 100)),
            Training(TrainingOptionKind.ClipGradientNorm, location, Option("MaxNorm", 5)),
        ]));

        Assert.Equal(
            [new TrainingOptionPlan(TrainingOptionKind.CosineAnnealing, new[] { Option("Period", 1000), Option("MinLearningRate", 1e-5) }.ToEquatableArray()),
             new TrainingOptionPlan(TrainingOptionKind.LinearWarmup, new[] { Option("Steps", 100) }.ToEquatableArray()),
             new TrainingOptionPlan(TrainingOptionKind.ClipGradientNorm, new[] { Option("MaxNorm", 5.0) }.ToEquatableArray())],
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
        NetworkSpec a = TrainingSpec(OptimizerKind.NAdam, 0.002, [Option("MomentumDecay", 0.005)], [Training(TrainingOptionKind.StepDecay, here, Option("StepSize", 30))], here);
        NetworkSpec b = TrainingSpec(OptimizerKind.NAdam, 0.002, [Option("MomentumDecay", 0.005)], [Training(TrainingOptionKind.StepDecay, there, Option("StepSize", 30))], there);

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
        TrainingOptionSpec schedule = Training(TrainingOptionKind.ExponentialDecay, null, Option("Gamma", 0.9));
        TrainingOptionSpec clipping = Training(TrainingOptionKind.ClipGradientValue, null, Option("MaxValue", 1));
        NetworkSpec baseline = TrainingSpec(OptimizerKind.Adam, 0.001, options, [schedule, clipping]);
        NetworkSpec changed = change switch
        {
            "optimizer kind" => TrainingSpec(OptimizerKind.AdamW, 0.001, options, [schedule, clipping]),
            "option value" => TrainingSpec(OptimizerKind.Adam, 0.001, [Option("Beta2", 0.99), Option("Epsilon", 1e-8)], [schedule, clipping]),
            "option added" => TrainingSpec(OptimizerKind.Adam, 0.001, [.. options, Option("WeightDecay", 0)], [schedule, clipping]),
            "option order" => TrainingSpec(OptimizerKind.Adam, 0.001, [options[1], options[0]], [schedule, clipping]),
            "schedule value" => TrainingSpec(OptimizerKind.Adam, 0.001, options, [Training(TrainingOptionKind.ExponentialDecay, null, Option("Gamma", 0.95)), clipping]),
            "schedule kind" => TrainingSpec(OptimizerKind.Adam, 0.001, options, [Training(TrainingOptionKind.InverseTimeDecay, null, Option("K", 0.9)), clipping]),
            "warm-up added" => TrainingSpec(OptimizerKind.Adam, 0.001, options, [schedule, Training(TrainingOptionKind.LinearWarmup, null, Option("Steps", 10)), clipping]),
            "clipping removed" => TrainingSpec(OptimizerKind.Adam, 0.001, options, [schedule]),
            _ => throw new System.ArgumentOutOfRangeException(nameof(change)),
        };

        Assert.Equal(Lowerer.Lower(baseline), Lowerer.Lower(TrainingSpec(OptimizerKind.Adam, 0.001, [.. options], [schedule, clipping])));
        Assert.NotEqual(Lowerer.Lower(baseline), Lowerer.Lower(changed));
    }

    // ---- Inference form --------------------------------------------------------------------------------------

    private static LayerSpec Other(LayerKind kind, string attribute) => new(kind, attribute, 0, 0, 0, null, null) { DropProbability = 0.5 };

    [Fact]
    public void Inference_form_folds_batch_norm_both_ways_keeps_the_rest_and_drops_dropout()
    {
        // 4 → Dense 8 ReLU → BN → Dense 6 → BN → Tanh → Dropout → Maxout-free tail: BN → LayerNorm → Dense 3
        KernelPlan plan = Lowerer.Lower(Spec(4,
            Dense(8, Activation.ReLU), Other(LayerKind.BatchNorm, "BatchNorm"), Dense(6), Other(LayerKind.BatchNorm, "BatchNorm"),
            Act(Activation.Tanh), Other(LayerKind.Dropout, "Dropout"), Other(LayerKind.BatchNorm, "BatchNorm"), Other(LayerKind.LayerNorm, "LayerNorm"), Dense(3)));
        InferencePlan inference = plan.Inference!;
        // Dense1 (ReLU) | Dense2 with BatchNorm1 before, BatchNorm2 after, Tanh fused | BatchNorm3 stays | LayerNorm1 | Dense3
        Assert.Equal(new[] { StepKind.Dense, StepKind.Dense, StepKind.BatchNorm, StepKind.LayerNorm, StepKind.Dense }, inference.Steps.Select(s => s.Kind).ToArray());
        Assert.Equal(Activation.Tanh, inference.Steps[1].Activation);
        Assert.Equal("BatchNorm1", inference.Sources[1].Before!.Name);
        Assert.Equal("BatchNorm2", inference.Sources[1].After!.Name);
        Assert.Null(inference.Sources[0].Before);
        Assert.Null(inference.Sources[0].After);
        // Folded arena: Dense1 32 + 8(→16), Dense2 48 + 6(→16), BatchNorm3 γ β 16 + 16, LayerNorm1 16 + 16, Dense3 18(→32) + 3(→16).
        Assert.Equal(32 + 16 + 48 + 16 + 16 + 16 + 16 + 16 + 32 + 16, inference.ArenaLength);
        Assert.Equal(new[] { 0, 48 }, inference.Steps.Take(2).Select(s => s.WeightOffset).ToArray());
    }
}
