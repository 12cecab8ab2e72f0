using KernelGen.Onnx;
using KernelGen.Tests;
using Xunit;

namespace KernelGen.Toolkit.Tests;

/// <summary>Graph networks (From, [Add] as ONNX Sum, [Concat] as ONNX Concat) against ONNX Runtime.</summary>
public partial class OnnxExportTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Graph_conv_residual_with_projection_matches_onnx_runtime(bool fold)
    {
        var network = new GraphConvResidual(7, seed: 3);
        Randomize(network, 31);
        byte[] model = AssertMatchesOnnxRuntime(network, new OnnxExportOptions { FoldBatchNorm = fold }, $"{nameof(GraphConvResidual)} fold={fold}");
        // The shortcut reads the input and the main path a ReLU after it: not one value, so the sum stays a Sum.
        Assert.True(ContainsAscii(model, "Sum"));
        // Each BatchNorm follows a convolution it alone reads: folded into it, or kept as a node.
        Assert.Equal(!fold, ContainsAscii(model, "BatchNormalization"));
    }

    [Fact]
    public void Graph_inception_concat_matches_onnx_runtime()
    {
        var network = new GraphInception(7, seed: 4);
        Randomize(network, 32);
        byte[] model = AssertMatchesOnnxRuntime(network, null, nameof(GraphInception));
        Assert.True(ContainsAscii(model, "Concat"));
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(false, false)]
    public void Graph_repvgg_block_matches_onnx_runtime(bool fold, bool reparameterize)
    {
        var network = new GraphRepVgg(7, seed: 5);
        Randomize(network, 33);
        byte[] model = AssertMatchesOnnxRuntime(network, new OnnxExportOptions { FoldBatchNorm = fold, Reparameterize = reparameterize },
            $"{nameof(GraphRepVgg)} fold={fold} reparameterize={reparameterize}");
        // Re-parameterized, the block is one Conv with a bias: no Sum and no BatchNormalization (the identity branch's
        // BatchNorm becomes the centre taps). Otherwise the branches and the Sum are exported; the identity branch's
        // BatchNorm has no convolution to fold into.
        Assert.Equal(!reparameterize, ContainsAscii(model, "Sum"));
        Assert.Equal(!reparameterize, ContainsAscii(model, "BatchNormalization"));
        Assert.Equal(reparameterize, ContainsAscii(model, "Add1.Weights")); // the block's one kernel, named after its sum
    }

    [Fact]
    public void Graph_residual_mlp_matches_onnx_runtime_in_double()
    {

        // evaluation gets wrong (GraphBugTests), so the plain residual MLP is compared here, in double.
        var network = new GraphResidualMlp.Float64(7, seed: 6);
        Randomize(network, 34);
        AssertMatchesOnnxRuntime(network, new OnnxExportOptions { ElementType = OnnxElementType.Double }, nameof(GraphResidualMlp) + " (double)");
    }
}
