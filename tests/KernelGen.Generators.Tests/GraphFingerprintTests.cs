using KernelGen.Catalog;
using KernelGen.Generators.Helpers;
using KernelGen.Generators.Lowering;
using KernelGen.Generators.Model;
using Xunit;

namespace KernelGen.Generators.Tests;

/// <summary>The fingerprint (what a checkpoint must match) sees a graph's wiring, not only its layers.</summary>
public class GraphFingerprintTests
{
    private static LayerSpec Dense(int units, string name, string? from = null) =>
        new(LayerKind.Dense, "Dense", name, new[] { new OptionSpec("Units", units) }.ToEquatableArray(), null) { HasFrom = from is not null, From = from };

    private static LayerSpec Add(string name, params string[] inputs) =>
        new(LayerKind.Add, "Add", name, EquatableArray<OptionSpec>.Empty, null) { Inputs = inputs.ToEquatableArray() };

    private static NetworkSpec Spec(params LayerSpec[] layers) =>
        new(new TypeSpec("Demo", "Net", EquatableArray<ContainingTypeSpec>.Empty), null, new[] { 4 }.ToEquatableArray(), null, layers.ToEquatableArray(),
            EquatableArray<LossSpec>.Empty, EquatableArray<OptimizerSpec>.Empty, EquatableArray<TrainingOptionSpec>.Empty, EquatableArray<PenaltySpec>.Empty);

    [Fact]
    public void Two_wirings_of_the_same_layers_have_different_fingerprints()
    {
        // a → b → c, then a + c; and a → b, a → c (c reads a, not b), then b + c: the same layers, sizes and tensors.
        GraphPlan first = Lowerer.Lower(Spec(Dense(4, "a"), Dense(4, "b"), Dense(4, "c"), Add("sum", "a", "c"), Dense(2, "out")));
        GraphPlan second = Lowerer.Lower(Spec(Dense(4, "a"), Dense(4, "b"), Dense(4, "c", from: "a"), Add("sum", "b", "c"), Dense(2, "out")));
        Assert.Equal(first.Tensors, second.Tensors);
        Assert.NotEqual(first.Fingerprint, second.Fingerprint);
    }

    [Fact]
    public void Naming_the_previous_layer_with_From_is_the_chain_and_keeps_its_fingerprint()
    {
        GraphPlan chain = Lowerer.Lower(Spec(Dense(4, "a"), Dense(4, "b"), Dense(2, "out")));
        GraphPlan spelled = Lowerer.Lower(Spec(Dense(4, "a"), Dense(4, "b", from: "a"), Dense(2, "out", from: "b")));
        Assert.Equal(chain.Fingerprint, spelled.Fingerprint);
    }
}
