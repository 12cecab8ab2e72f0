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
        Assert.True(ContainsAscii(model, "Sum"));
        // The exporter folds BatchNorm only into a Dense before it, so every BatchNorm here stays a node either way.
        Assert.True(ContainsAscii(model, "BatchNormalization"));
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
    [InlineData(true)]
    [InlineData(false)]
    public void Graph_repvgg_block_matches_onnx_runtime(bool fold)
    {
        var network = new GraphRepVgg(7, seed: 5);
        Randomize(network, 33);
        byte[] model = AssertMatchesOnnxRuntime(network, new OnnxExportOptions { FoldBatchNorm = fold }, $"{nameof(GraphRepVgg)} fold={fold}");
        Assert.True(ContainsAscii(model, "Sum"));
        // The exporter folds BatchNorm only into a Dense before it (and the identity branch has nothing to fold into).
        Assert.True(ContainsAscii(model, "BatchNormalization"));
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
