using Xunit;

namespace KernelGen.Generators.Tests;

/// <summary>Diagnostics of the catalogue's layers, losses and penalties: ID, exact span and message.</summary>
public class CatalogDiagnosticTests
{
    private static void AssertError(string markup, string id, string message) => DiagnosticTests.AssertError(markup, id, message);

    [Theory]
        [InlineData("GroupNorm(0)", "The Groups must be a whole number at least 1, but is 0")]
    [InlineData("Dropout(1.0)", "The DropProbability must be in [0, 1), but is 1")]
    [InlineData("Dropout(-0.1)", "The DropProbability must be in [0, 1), but is -0.1")]
    [InlineData("BatchNorm(Momentum = 0)", "The Momentum must be in (0, 1], but is 0")]
    [InlineData("BatchNorm(Epsilon = -1)", "The Epsilon must be greater than 0 and finite, but is -1")]
    [InlineData("LayerNorm(Epsilon = 0)", "The Epsilon must be greater than 0 and finite, but is 0")]
    [InlineData("LeakyReLU(1.5)", "The Slope must be in [0, 1), but is 1.5")]
    [InlineData("Elu(0)", "The Alpha must be greater than 0 and finite, but is 0")]
    [InlineData("Maxout(3, 1)", "The Pieces must be a whole number at least 2, but is 1")]
    public void KG0010_LayerOptionsOutOfRange_AtTheLayer(string layer, string message) => AssertError($$"""
        using KernelGen;
        [Network(3)]
        [Dense(4)]
        [[|{{layer}}|]]
        [Dense(2)]
        public partial class Net;
        """, "KG0010", message);

    [Theory]
    [InlineData("SoftmaxCrossEntropyLoss(LabelSmoothing = 1)", "The LabelSmoothing must be in [0, 1), but is 1")]
    [InlineData("HingeLoss(Margin = 0)", "The Margin must be greater than 0 and finite, but is 0")]
    public void KG0010_LossOptionsOutOfRange_AtTheLoss(string loss, string message) => AssertError($$"""
        using KernelGen;
        [Network(3)]
        [Dense(4)]
        [[|{{loss}}|]]
        public partial class Net;
        """, "KG0010", message);

    [Fact]
    public void KG0010_NegativeRegularization_AtTheAttribute() => AssertError("""
        using KernelGen;
        [Network(3)]
        [Dense(4)]
        [L2Loss]
        [[|L2Regularization(-0.5)|]]
        public partial class Net;
        """, "KG0010", "The regularization strength must be at least 0 and finite, but is -0.5");

    [Fact]
    public void KG0010_NegativeLayerPenalty_AtTheLayer() => AssertError("""
        using KernelGen;
        [Network(3)]
        [[|Dense(4, L2 = -1)|]]
        public partial class Net;
        """, "KG0010", "The L2 must be at least 0 and finite, but is -1");

    [Theory]
    [InlineData("KLDivergenceLoss")]
    [InlineData("HingeLoss")]
    public void KG0008_ClassLossesNeedTwoOutputs(string loss) => AssertError($$"""
        using KernelGen;
        [Network(3)]
        [Dense(1)]
        [[|{{loss}}|]]
        public partial class Net;
        """, "KG0008", $"{loss} cannot be used with this output: it needs at least 2 classes, but the output has 1 feature(s)");

    [Theory]
    [InlineData("[Network(1, 28, 28)]\n[[|Dense(10)|]]", "Layer 'Dense1' needs a flat [features] input, but receives [1, 28, 28]; add [Flatten] before it")]
    [InlineData("[Network(3, 4, 4)]\n[Tanh]\n[[|Softmax|]]", "Layer 'Softmax1' needs a flat [features] input, but receives [3, 4, 4]; add [Flatten] before it")]
    [InlineData("[Network(12)]\n[[|Dropout(0.5, Channelwise = true)|]]", "Layer 'Dropout1' needs an image [channels, height, width] input for Channelwise = true, but receives [12]")]
    [InlineData("[Network(12)]\n[[|InstanceNorm|]]", "Layer 'InstanceNorm1' needs an image [channels, height, width] input, but receives [12]")]
    [InlineData("[Network(12)]\n[[|Conv2D(4, 3)|]]", "Layer 'Conv2D1' needs an image [channels, height, width] input, but receives [12]")]
    [InlineData("[Network(3, 4, 4)]\n[[|Conv2D(4, 3, Groups = 2)|]]", "Layer 'Conv2D1' needs a group count that divides its 3 input and 4 output channels, but has 2 groups")]
    [InlineData("[Network(1, 4, 4)]\n[[|Conv2D(4, 5)|]]", "Layer 'Conv2D1' needs a 5×5 kernel (dilation 1) that fits its padded 4×4 input")]
    [InlineData("[Network(1, 4, 4)]\n[[|Conv2D(4, 3, Stride = 2, PaddingMode = PaddingMode.Same)|]]", "Layer 'Conv2D1' needs stride 1 for PaddingMode.Same (as PyTorch)")]
    [InlineData("[Network(1, 4, 4)]\n[[|MaxPool2D(3, Padding = 2)|]]", "Layer 'MaxPool2D1' needs padding between 0 and half the kernel (1), as PyTorch, but has 2")]
    [InlineData("[Network(2, 3, 3)]\n[[|AvgPool2D(4)|]]", "Layer 'AvgPool2D1' needs a 4×4 window that fits its padded 3×3 input")]
    [InlineData("[Network(5)]\n[[|GlobalAveragePool|]]", "Layer 'GlobalAveragePool1' needs an image [channels, height, width] input, but receives [5]")]
    [InlineData("[Network(2, 2, 2)]\n[[|Maxout(3, 2)|]]", "Layer 'Maxout1' needs a flat [features] input, but receives [2, 2, 2]; add [Flatten] before it")]
    [InlineData("[Network(3)]\n[Dense(4)]\n[[|GroupNorm(3)|]]", "Layer 'GroupNorm1' needs a number of groups that divides its 4 features")]
    public void KG0019_LayerThatDoesNotFitItsInput_AtTheLayer(string layers, string message) => AssertError($$"""
        using KernelGen;
        {{layers}}
        public partial class Net;
        """, "KG0019", message);

    [Fact]
    public void KG0005_ImageInputWithAZeroDimension_AtNetworkAttribute() => AssertError("""
        using KernelGen;
        [[|Network(0, 28, 28)|]]
        [Flatten]
        [Dense(2)]
        public partial class Net;
        """, "KG0005", "The input shape must be positive, but is [0, 28, 28]");

    [Fact]
    public void KG0020_NetworkWithABaseClass_AtIdentifier() => AssertError("""
        using KernelGen;
        public class ModelBase { }
        [Network(4)]
        [Dense(2)]
        public partial class [|Net|] : ModelBase;
        """, "KG0020", "The network type 'Net' derives from 'ModelBase'; generated networks derive from KernelGen's runtime base class, so the type must not declare one");

    /// <summary>Interfaces are not base classes: a network may implement its own.</summary>
    [Fact]
    public void NetworkImplementingAnInterface_Compiles()
    {
        GeneratorRun run = TestHelper.Run("""
            using KernelGen;
            namespace Demo;
            public interface IModel { }
            [Network(1, 28, 28)]
            [Flatten]
            [Dense(10)]
            public partial class Net : IModel;
            """);
        Assert.Empty(run.Diagnostics);
        run.AssertCompilesWithoutWarnings();
    }
}
