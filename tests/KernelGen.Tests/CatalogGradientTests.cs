using System;
using System.Linq;
using KernelGen.Catalog;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// The public gradient-check engine over every entry of the op catalog, each with its own gradient-check settings from
/// the catalog (step, stencil, tolerance, floor, smallest batch, input range): the loss's gradient (data loss and
/// penalties) and Backward's gradient with respect to the parameters and the inputs. The networks come from
/// <see cref="CatalogCompiler"/>, so an op added to the catalog is checked here without a line of test code.
/// Run at every vector width (the CI reruns this project with AVX-512, AVX2 and all intrinsics off).
/// </summary>
public sealed class CatalogGradientTests
{
    public static TheoryData<string> Entries => [.. CatalogCompiler.Networks.Select(e => e.ClassName)];

    private static CatalogCompiler.Entry Entry(string name) => CatalogCompiler.Networks.Single(e => e.ClassName == name);

    [Theory]
    [MemberData(nameof(Entries))]
    public void Every_catalog_op_passes_the_gradient_check(string name)
    {
        CatalogCompiler.Entry entry = Entry(name);
        GradientTolerance tolerance = entry.Tolerance;
        int batch = Math.Max(4, tolerance.MinimumBatch);
        foreach (ulong seed in new ulong[] { 1, 2, 3 })
        {
            INeuralNetwork<double> net = CatalogCompiler.CreateFloat64(entry, batch, seed);
            var random = new KernelRandom(seed, 77);
            double[] x = Enumerable.Range(0, batch * net.InputSize).Select(_ => (2 * random.NextDouble() - 1) * tolerance.InputRange).ToArray();
            GradientCheckOptions options = GradientCheckOptions.From(tolerance) with { Seed = seed };

            GradientCheckReport loss = entry.Labels switch
            {
                LabelKind.ClassIndex => GradientCheck.Run((ILossNetwork<double, int>)net, x, Enumerable.Range(0, batch).Select(_ => random.NextInt(net.OutputSize)).ToArray(), options),
                LabelKind.Targets => GradientCheck.Run((ILossNetwork<double, double>)net, x, Enumerable.Range(0, batch * net.OutputSize).Select(_ => random.NextGaussian()).ToArray(), options),
                LabelKind.Probabilities => GradientCheck.Run((ILossNetwork<double, double>)net, x, Enumerable.Range(0, batch * net.OutputSize).Select(_ => random.NextDouble()).ToArray(), options),
                _ => GradientCheck.Run((ILossNetwork<double, double>)net, x, Distributions(random, batch, net.OutputSize), options),
            };
            Assert.True(loss.Passed, $"{entry} (seed {seed}), loss:\n{loss}");
            Assert.All(loss.Tensors, t => Assert.True(t.Checked > 0));

            GradientCheckReport backward = GradientCheck.Run(net, x, options);
            Assert.True(backward.Passed, $"{entry} (seed {seed}), Backward:\n{backward}");
            Assert.Contains(backward.Tensors, t => t.Tensor == "inputs");
        }
    }

    /// <summary>Every catalog entry is covered: each layer kind with a test network, each activation but identity, each loss with each reduction.</summary>
    [Fact]
    public void Every_catalog_entry_has_a_network()
    {
        Assert.Equal(OpCatalog.Layers.Count + OpCatalog.Activations.Count - 1 + (OpCatalog.Losses.Count - 1) * Enum.GetValues<LossReduction>().Length + 1, CatalogCompiler.Networks.Count);
        Assert.All(OpCatalog.Layers, l => Assert.False(string.IsNullOrEmpty(l.TestNetwork), $"{l.Name} has no test network"));
    }

    private static double[] Distributions(KernelRandom random, int batch, int width)
    {
        var targets = new double[batch * width];
        for (int b = 0; b < batch; b++)
        {
            double sum = 0;
            for (int j = 0; j < width; j++) sum += targets[b * width + j] = random.NextDouble() + 0.01;
            for (int j = 0; j < width; j++) targets[b * width + j] /= sum;
        }
        return targets;
    }
}
