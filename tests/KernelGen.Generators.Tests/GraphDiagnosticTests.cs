using System.Linq;
using Xunit;

namespace KernelGen.Generators.Tests;

/// <summary>
/// Diagnostics of graphs (From, [Add], [Concat]): KG0027 for an input that cannot be read, KG0028 for a dangling branch,
/// KG0013 for a layer named like the network input, KG0019 for merges of shapes that do not fit. ID, exact span (the
/// offending attribute, marked <c>[|…|]</c>) and exact message; the messages are written here from the descriptors'
/// formats, not read back from the generator.
/// </summary>
public sealed class GraphDiagnosticTests
{
    private static void AssertError(string markup, string id, string message) => DiagnosticTests.AssertError(markup, id, message);

    // ---- KG0027: an input that cannot be found ---------------------------------------------------------------------

    [Fact]
    public void KG0027_FromUnknownName_AtTheReader() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(8, Name = "h")]
        [[|Dense(2, From = "nope")|]]
        public partial class Net;
        """, "KG0027", "Layer 'Dense2' reads 'nope', but no layer before it has that name");

    [Fact]
    public void KG0027_AddOfUnknownName_AtTheAdd() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(4, Name = "h")]
        [[|Add("h", "missing")|]]
        [Dense(2)]
        public partial class Net;
        """, "KG0027", "Layer 'Add1' reads 'missing', but no layer before it has that name");

    [Fact]
    public void KG0027_NameWrittenLater_AtTheReader() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(8, Name = "h")]
        [[|Dense(8, From = "later")|]]
        [Dense(8, Name = "later")]
        [Dense(2)]
        public partial class Net;
        """, "KG0027", "Layer 'Dense2' reads 'later', which is written after it; a layer reads layers written before it");

    [Fact]
    public void KG0027_OwnName_AtTheReader() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(8, Name = "h")]
        [[|Dense(8, Name = "self", From = "self")|]]
        [Dense(2)]
        public partial class Net;
        """, "KG0027", "Layer 'self' reads 'self', which is itself; a layer reads layers written before it");

    [Fact]
    public void KG0027_ConcatListingItself_AtTheConcat() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(8, Name = "h")]
        [[|Concat("h", "Concat1")|]]
        [Dense(2)]
        public partial class Net;
        """, "KG0027", "Layer 'Concat1' reads 'Concat1', which is itself; a layer reads layers written before it");

    [Theory]
    [InlineData("Dense(2, From = \"\")", "Dense2")]
    [InlineData("Dense(2, From = null)", "Dense2")]
    [InlineData("Add(\"h\", \"\")", "Add1")]
    public void KG0027_EmptyName_AtTheReader(string layer, string name) => AssertError($$"""
        using KernelGen;
        [Network(4)]
        [Dense(2, Name = "h")]
        [[|{{layer}}|]]
        [Dense(2)]
        public partial class Net;
        """, "KG0027", $"Layer '{name}' reads a layer without a name; name a layer written before it, or \"input\" for the network input");

    [Fact]
    public void KG0027_FromOnAnAdd_AtTheAdd() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(4, Name = "h")]
        [Dense(4, Name = "g")]
        [[|Add("h", "g", From = "h")|]]
        [Dense(2)]
        public partial class Net;
        """, "KG0027", "Layer 'Add1' reads its inputs from the names it lists, so it takes no From");

    [Fact]
    public void KG0027_FromOnAConcat_AtTheConcat() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(4, Name = "h")]
        [Dense(4, Name = "g")]
        [[|Concat("h", "g", From = "input")|]]
        [Dense(2)]
        public partial class Net;
        """, "KG0027", "Layer 'Concat1' reads its inputs from the names it lists, so it takes no From");

    // ---- KG0028: a dangling branch -----------------------------------------------------------------------------------

    [Fact]
    public void KG0028_DanglingBranch_AtTheUnreadLayer() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(8, Activation.Tanh, Name = "h")]
        [[|Dense(8, Name = "dangling")|]]
        [Dense(3, From = "h")]
        [L2Loss]
        public partial class Net;
        """, "KG0028",
        "The output of layer 'dangling' is never used: no later layer reads it and it is not the last layer; read it with From or an [Add]/[Concat], or remove the layer");

    [Fact]
    public void KG0028_TwoBranchesFromTheInput_OneUnread() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(8, Name = "a")]
        [[|Tanh(Name = "unused")|]]
        [Dense(8, From = "input", Name = "b")]
        [Add("a", "b")]
        [Dense(2)]
        public partial class Net;
        """, "KG0028",
        "The output of layer 'unused' is never used: no later layer reads it and it is not the last layer; read it with From or an [Add]/[Concat], or remove the layer");

    // ---- KG0013: "input" is taken ------------------------------------------------------------------------------------

    [Fact]
    public void KG0013_LayerNamedInput_AtTheLayer() => AssertError("""
        using KernelGen;
        [Network(4)]
        [[|Dense(4, Name = "input")|]]
        [Dense(2)]
        public partial class Net;
        """, "KG0013", "The layer name 'input' names the network's input in From, [Add] and [Concat]");

    // ---- KG0019: merges whose shapes do not fit ----------------------------------------------------------------------

    [Fact]
    public void KG0019_AddOfVectorsOfDifferentLengths_NamesBothShapes() => AssertError("""
        using KernelGen;
        [Network(4)]
        [Dense(8, Name = "a")]
        [Dense(6, Name = "b")]
        [[|Add("a", "b")|]]
        [Dense(2)]
        public partial class Net;
        """, "KG0019", "Layer 'Add1' needs inputs of one shape, but input 2 is [6] where input 1 is [8]");

    [Fact]
    public void KG0019_AddOfImagesWithDifferentChannels_NamesBothShapes() => AssertError("""
        using KernelGen;
        [Network(2, 5, 5)]
        [Conv2D(3, 3, Padding = 1, Name = "a")]
        [Conv2D(4, 1, From = "input", Name = "b")]
        [[|Add("input", "a", "b")|]]
        [Flatten]
        [Dense(2)]
        public partial class Net;
        """, "KG0019", "Layer 'Add1' needs inputs of one shape, but input 2 is [3, 5, 5] where input 1 is [2, 5, 5]");

    [Fact]
    public void KG0019_ConcatOfImagesOfDifferentSizes_NamesBothShapes() => AssertError("""
        using KernelGen;
        [Network(2, 6, 6)]
        [Conv2D(3, 3, Padding = 1, Name = "same")]
        [Conv2D(3, 3, From = "input", Name = "smaller")]
        [[|Concat("same", "smaller")|]]
        [Flatten]
        [Dense(2)]
        public partial class Net;
        """, "KG0019", "Layer 'Concat1' needs images of one height and width, but input 2 is [3, 4, 4] where input 1 is [3, 6, 6]");

    [Fact]
    public void KG0019_ConcatOfImageWithVector_NamesBothShapes() => AssertError("""
        using KernelGen;
        [Network(2, 3, 3)]
        [Conv2D(2, 1, Name = "image")]
        [Flatten]
        [Dense(4, Name = "vector")]
        [[|Concat("image", "vector")|]]
        [Dense(2)]
        public partial class Net;
        """, "KG0019", "Layer 'Concat1' needs inputs of one rank, but input 2 is [4] where input 1 is [2, 3, 3]; add [Flatten] to the images to join them with vectors");

    // ---- valid graphs ------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("""
        [Network(4)]
        [Dense(16, Activation.Tanh, Name = "h")]
        [Dense(16, Activation.Tanh)]
        [Dense(16, Name = "body")]
        [Add("h", "body")]
        [Tanh]
        [Dense(3)]
        [SoftmaxCrossEntropyLoss]
        [Adam(0.01)]
        """)]
    [InlineData("""
        [Network(2, 5, 5)]
        [Conv2D(4, 1, Name = "x")]
        [Conv2D(4, 3, Padding = 1, Bias = false)]
        [BatchNorm(Name = "an")]
        [Conv2D(4, 1, Bias = false, From = "x")]
        [BatchNorm(Name = "bn")]
        [BatchNorm(From = "x", Name = "id")]
        [Add("an", "bn", "id")]
        [ReLU]
        [GlobalAveragePool]
        [Dense(2)]
        [L2Loss]
        [Sgd(0.1)]
        """)]
    [InlineData("""
        [Network(2, 4, 4)]
        [Conv2D(3, 3, Activation.ReLU, Padding = 1, Name = "left")]
        [Conv2D(2, 1, Activation.Tanh, From = "input", Name = "right")]
        [Concat("left", "right", "input")]
        [Flatten]
        [Dense(2)]
        """)]
    public void ValidGraph_HasNoDiagnostics_AndCompilesWithoutWarnings(string attributes)
    {
        GeneratorRun run = TestHelper.Run($"""
            using KernelGen;
            namespace Demo;
            {attributes}
            public partial class Graph;
            """);

        Assert.True(run.Diagnostics.IsEmpty, string.Join("\n", run.Diagnostics));
        Assert.Contains("Demo.Graph.Network.g.cs", run.Sources.Select(s => s.HintName));
        run.AssertCompilesWithoutWarnings();
    }
}
