using Xunit;

namespace KernelGen.Generators.Tests;

/// <summary>Diagnostics of the catalogue's layers, losses and penalties: ID, exact span and message.</summary>
public class CatalogDiagnosticTests
{
    private static void AssertError(string markup, string id, string message) => DiagnosticTests.AssertError(markup, id, message);

    [Theory]
    [InlineData("GroupNorm(3)", "The number of groups must be a positive divisor of the 4 features, but is 3")]
    [InlineData("GroupNorm(0)", "The number of groups must be a positive divisor of the 4 features, but is 0")]
    [InlineData("Dropout(1.0)", "The drop probability must be in [0, 1), but is 1")]
    [InlineData("Dropout(-0.1)", "The drop probability must be in [0, 1), but is -0.1")]
    [InlineData("BatchNorm(Momentum = 0)", "The Momentum must be in (0, 1], but is 0")]
    [InlineData("BatchNorm(Epsilon = -1)", "The Epsilon must be positive and finite, but is -1")]
    [InlineData("LayerNorm(Epsilon = 0)", "The Epsilon must be positive and finite, but is 0")]
    [InlineData("LeakyReLU(1.5)", "The slope must be in [0, 1), but is 1.5")]
    [InlineData("Elu(0)", "The alpha must be positive and finite, but is 0")]
    [InlineData("Maxout(3, 1)", "The number of pieces must be at least 2, but is 1")]
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
    [InlineData("HingeLoss(Margin = 0)", "The Margin must be positive and finite, but is 0")]
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
        """, "KG0010", "The regularization strength must be non-negative and finite, but is -0.5");

    [Fact]
    public void KG0010_NegativeLayerPenalty_AtTheLayer() => AssertError("""
        using KernelGen;
        [Network(3)]
        [[|Dense(4, L2 = -1)|]]
        public partial class Net;
        """, "KG0010", "The L2 must be non-negative and finite, but is -1");

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
}
