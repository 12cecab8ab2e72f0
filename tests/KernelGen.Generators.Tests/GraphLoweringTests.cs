using System.Collections.Generic;
using System.Linq;
using KernelGen.Catalog;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;
using KernelGen.Generators.Model;
using Xunit;

namespace KernelGen.Generators.Tests;

/// <summary>
/// <see cref="Lowerer.Lower"/> on hand-built graph specs (From, [Add], [Concat]), without Roslyn: where activations fuse,
/// where gradient contributions are summed, and how evaluation regions are reused by liveness. Expected values are
/// worked out by hand in the comments.
/// </summary>
public sealed class GraphLoweringTests
{
    // ---- Spec builders --------------------------------------------------------------------------------------

    private static LayerSpec Dense(int units, string? name = null, string? from = null, Activation activation = Activation.Identity) =>
        new LayerSpec(LayerKind.Dense, "Dense", name, new[] { new OptionSpec("Units", units), new OptionSpec("Activation", (int)activation) }.ToEquatableArray(), null)
            { HasFrom = from is not null, From = from };

    private static LayerSpec Act(Activation activation, string? name = null, string? from = null)
    {
        string attribute = OpCatalog.Get(activation).AttributeType.Name;
        return new LayerSpec(LayerKind.Activation, attribute[..^"Attribute".Length], name, EquatableArray<OptionSpec>.Empty, null)
            { Activation = (int)activation, HasFrom = from is not null, From = from };
    }

    private static LayerSpec Add(string? name, params string[] inputs) =>
        new(LayerKind.Add, "Add", name, EquatableArray<OptionSpec>.Empty, null) { Inputs = inputs.ToEquatableArray() };

    private static NetworkSpec Spec(int input, params LayerSpec[] layers) =>
        new(new TypeSpec("Demo", "Net", EquatableArray<ContainingTypeSpec>.Empty),
            null,
            new[] { input }.ToEquatableArray(),
            null,
            layers.ToEquatableArray(),
            new[] { new LossSpec(LossKind.L2, "L2Loss", EquatableArray<OptionSpec>.Empty, null) }.ToEquatableArray(),
            new[] { new OptimizerSpec(Optimization.OptimizerKind.Sgd, "Sgd", 0.1, EquatableArray<OptionSpec>.Empty, null) }.ToEquatableArray(),
            EquatableArray<TrainingOptionSpec>.Empty,
            EquatableArray<PenaltySpec>.Empty);

    private static string Shape(GraphPlan plan) =>
        string.Join(" | ", plan.Nodes.Select(s => $"{s.Kind} {s.Name} {s.In}->{s.Out} {s.Activation} [{string.Join(",", s.Inputs)}]->{s.Output}"));

    // ---- Fusion ----------------------------------------------------------------------------------------------

    [Fact]
    public void ActivationAfterDense_WhoseOutputABranchAlsoReads_DoesNotFuse()
    {
        // h = Dense(x); t = tanh(h); y = h + t. The Add must see h before the activation, so tanh stays a node of its own.
        GraphPlan plan = Lowerer.Lower(Spec(4, Dense(8, "h"), Act(Activation.Tanh, "t"), Add(null, "h", "t"), Dense(3)));

        // Values: 0 input, 1 h, 2 t, 3 h + t, 4 output.
        Assert.Equal("Dense h 4->8 Identity [0]->1 | Activation t 8->8 Tanh [1]->2 | Add Add1 8->8 Identity [1,2]->3 | Dense Dense2 8->3 Identity [3]->4",
            Shape(plan));
    }

    [Fact]
    public void ActivationAfterDense_ReadOnlyByIt_Fuses_EvenWhenTheActivationHasSeveralReaders()
    {
        // h = Dense(x) read only by tanh, so tanh fuses; t = tanh(h) is read twice (g and the Add), which does not matter.
        GraphPlan plan = Lowerer.Lower(Spec(4, Dense(8, "h"), Act(Activation.Tanh, "t"), Dense(8, "g", from: "t"), Add(null, "t", "g"), Dense(3)));

        Assert.Equal("Dense h 4->8 Tanh [0]->1 | Dense g 8->8 Identity [1]->2 | Add Add1 8->8 Identity [1,2]->3 | Dense Dense3 8->3 Identity [3]->4",
            Shape(plan));
    }

    [Fact]
    public void ActivationReadingAnEarlierDenseThroughFrom_DoesNotFuseIntoTheLatestNode()
    {
        // h = Dense(x); g = Dense(h); t = relu(h) (From = "h"): h has two readers (g and t), so nothing fuses, and the
        // activation must not fuse into g (the node just before it in writing order) either.
        GraphPlan plan = Lowerer.Lower(Spec(4, Dense(8, "h"), Dense(8, "g"), Act(Activation.ReLU, "t", from: "h"), Add(null, "g", "t"), Dense(3)));

        Assert.Equal("Dense h 4->8 Identity [0]->1 | Dense g 8->8 Identity [1]->2 | Activation t 8->8 ReLU [1]->3 | Add Add1 8->8 Identity [2,3]->4 | Dense Dense3 8->3 Identity [4]->5",
            Shape(plan));
    }

    [Fact]
    public void LayersThatVanish_PassTheirReadersOnToTheValue_SoFusionStillSeesTheBranch()
    {
        // h = Dense(x); Dropout(0) and Identity vanish (their outputs are h's value); r = relu(…) reads h through them;
        // y = h + r. h has two readers (through the vanished layers, and the Add), so the ReLU must stay a node.
        LayerSpec dropout = new(LayerKind.Dropout, "Dropout", null, new[] { new OptionSpec("DropProbability", 0) }.ToEquatableArray(), null);
        GraphPlan plan = Lowerer.Lower(Spec(4, Dense(8, "h"), dropout, Act(Activation.Identity), Act(Activation.ReLU, "r"), Add(null, "h", "r"), Dense(3)));

        Assert.Equal("Dense h 4->8 Identity [0]->1 | Activation r 8->8 ReLU [1]->2 | Add Add1 8->8 Identity [1,2]->3 | Dense Dense2 8->3 Identity [3]->4",
            Shape(plan));

        // Without the branch, the same chain fuses as before.
        GraphPlan chain = Lowerer.Lower(Spec(4, Dense(8, "h"), dropout, Act(Activation.Identity), Act(Activation.ReLU, "r"), Dense(3)));
        Assert.Equal("Dense h 4->8 ReLU [0]->1 | Dense Dense2 8->3 Identity [1]->2", Shape(chain));
    }

    // ---- Gradient regions ------------------------------------------------------------------------------------

    [Fact]
    public void ValueWithThreeReaders_GetsOneGradientRegion_AndTheOtherContributionsAddedIntoIt()
    {
        // x = Dense(in); a = Dense(x); b = Dense(x); s = x + a + b; y = Dense(s). Value 1 (x) has three readers: a, b and
        // the Add. Backward runs in reverse: Dense4, the Add (first to reach x: its contribution is ∂L/∂s itself, so x's
        // gradient adopts ∂L/∂s's region), then b and a, whose contributions land in regions of their own and are added
        // into x's.
        GraphPlan plan = Lowerer.Lower(Spec(4, Dense(8, "x"), Dense(8, "a"), Dense(8, "b", from: "x"), Add("s", "x", "a", "b"), Dense(3)));
        TrainingLayout t = plan.Training;
        Assert.Equal("Dense x 4->8 Identity [0]->1 | Dense a 8->8 Identity [1]->2 | Dense b 8->8 Identity [1]->3 | Add s 8->8 Identity [1,2,3]->4 | Dense Dense4 8->3 Identity [4]->5",
            Shape(plan));

        int gx = t.GradientRegions[1];
        Assert.True(gx >= 0);
        // The Add passes ∂L/∂s through: x's slot (the first) keeps ∂L/∂s's own region; a and b get copies in other regions.
        Assert.Equal(t.GradientRegions[4], gx);
        SlotGradient[] add = [.. t.InputGradients[3].Slots];
        Assert.Equal(3, add.Length);
        Assert.Equal(new SlotGradient(gx, -1), add[0]);
        Assert.Equal(new SlotGradient(t.GradientRegions[2], -1), add[1]);
        Assert.Equal(new SlotGradient(t.GradientRegions[3], -1), add[2]);
        Assert.Equal(3, new[] { gx, t.GradientRegions[2], t.GradientRegions[3] }.Distinct().Count());
        // b's and a's contributions to ∂L/∂x: each in a region other than x's, then added into x's.
        foreach (int reader in new[] { 1, 2 })
        {
            SlotGradient slot = Assert.Single(t.InputGradients[reader].Slots);
            Assert.Equal(gx, slot.AddInto);
            Assert.NotEqual(gx, slot.Region);
            Assert.True(slot.Region >= 0);
        }
        // Exactly two accumulations in the whole backward pass (three readers of x, one adopted region), and the first
        // Dense writes the caller's inputGradient (the network input has one reader).
        Assert.Equal(2, t.InputGradients.SelectMany(s => s.Slots).Count(s => s.AddInto >= 0));
        Assert.Equal(new SlotGradient(-1, -1), Assert.Single(t.InputGradients[0].Slots));
        Assert.Equal(-1, t.GradientRegions[0]);
    }

    [Fact]
    public void NetworkInputWithSeveralReaders_GetsAWorkRegion_NotTheCallersSpan()
    {
        // a = Dense(in); s = in + a. The input has two readers, so neither may write the caller's span directly: the sum of
        // the contributions is formed in a work region (copied to inputGradient at the end).
        GraphPlan plan = Lowerer.Lower(Spec(4, Dense(4, "a"), Add(null, "input", "a"), Dense(2)));
        TrainingLayout t = plan.Training;

        Assert.True(t.GradientRegions[0] >= 0);
        Assert.DoesNotContain(t.InputGradients.SelectMany(s => s.Slots), s => s.Region == -1);
        Assert.Equal(t.GradientRegions[0], Assert.Single(t.InputGradients[0].Slots).AddInto);
    }

    // ---- Evaluation regions by liveness ------------------------------------------------------------------------

    [Fact]
    public void ResidualChain_ReusesEvaluationRegions_ByLiveness()
    {
        // Two residual blocks of width 8: r1 = x0 + b1(d(x0)), r2 = r1 + b2(d(r1)), then Dense(3).
        GraphPlan plan = Lowerer.Lower(Spec(4,
            Dense(8, "x0"), Dense(8), Dense(8, "b1"), Add("r1", "x0", "b1"),
            Dense(8), Dense(8, "b2"), Add("r2", "r1", "b2"),
            Dense(3)));
        // Values: 0 input, 1 x0, 2 Dense2, 3 b1, 4 r1, 5 Dense4, 6 b2, 7 r2, 8 output.
        Assert.Equal("Dense x0 4->8 Identity [0]->1 | Dense Dense2 8->8 Identity [1]->2 | Dense b1 8->8 Identity [2]->3 | Add r1 8->8 Identity [1,3]->4 | " +
                     "Dense Dense4 8->8 Identity [4]->5 | Dense b2 8->8 Identity [5]->6 | Add r2 8->8 Identity [4,6]->7 | Dense Dense6 8->3 Identity [7]->8",
            Shape(plan));
        IReadOnlyList<int> v = plan.Evaluation.ValueRegions;

        // By hand: x0 takes A and stays alive until r1; Dense2 takes B; b1 needs a third region C while B is still being
        // read; then B is free. r1 sums in place over x0's A (x0 dies there; C dies too). Dense4 takes B again (free, lowest),
        // b2 takes C, r2 sums in place over A, and the last Dense writes the caller's span. Three regions for seven values —
        // the shortcut plus two for the body — however many blocks follow.
        int a = v[1], b = v[2], c = v[3];
        Assert.Equal(3, new[] { a, b, c }.Distinct().Count());
        Assert.Equal([a, b, c, a, b, c, a], v.Skip(1).Take(7));
        Assert.Equal(EvaluationLayout.External, v[8]);
        Assert.Equal(3, v.Skip(1).Where(r => r >= 0).Distinct().Count());
    }

    [Fact]
    public void Concat_InputsStayAliveUntilTheConcat()
    {
        // l = Dense(in); r = Dense(in, From = "input"); c = [l, r]; y = Dense(c). l must not be overwritten by r.
        GraphPlan plan = Lowerer.Lower(Spec(4, Dense(6, "l"), Dense(5, "r", from: "input"), new LayerSpec(LayerKind.Concat, "Concat", null, EquatableArray<OptionSpec>.Empty, null)
            { Inputs = new[] { "l", "r" }.ToEquatableArray() }, Dense(2)));
        IReadOnlyList<int> v = plan.Evaluation.ValueRegions;

        Assert.Equal("Dense l 4->6 Identity [0]->1 | Dense r 4->5 Identity [0]->2 | Concat Concat1 6->11 Identity [1,2]->3 | Dense Dense3 11->2 Identity [3]->4", Shape(plan));
        Assert.Equal(3, new[] { v[1], v[2], v[3] }.Distinct().Count());
    }
}
