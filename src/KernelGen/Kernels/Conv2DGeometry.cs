using System;

namespace KernelGen.Kernels;

/// <summary>
/// The shape of one 2-D convolution (PyTorch <c>nn.Conv2d</c> semantics, NCHW): input [C, H, W] per sample, weights
/// [O, C/groups, kh, kw], output [O, OH, OW] with OH = ⌊(H + padTop + padBottom − dh·(kh − 1) − 1)/sh⌋ + 1 (and the same
/// for the width). Immutable; validated at construction.
/// </summary>
public sealed class Conv2DGeometry
{
    /// <summary>A convolution geometry.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size, stride or dilation is not positive, a padding is negative,
    /// <paramref name="groups"/> does not divide both channel counts, or the output would be empty.</exception>
    public Conv2DGeometry(int channels, int height, int width, int outChannels, int kernelHeight, int kernelWidth,
        int strideHeight = 1, int strideWidth = 1, int padTop = 0, int padLeft = 0, int padBottom = 0, int padRight = 0,
        int dilationHeight = 1, int dilationWidth = 1, int groups = 1)
    {
        Positive(channels, nameof(channels)); Positive(height, nameof(height)); Positive(width, nameof(width));
        Positive(outChannels, nameof(outChannels)); Positive(kernelHeight, nameof(kernelHeight)); Positive(kernelWidth, nameof(kernelWidth));
        Positive(strideHeight, nameof(strideHeight)); Positive(strideWidth, nameof(strideWidth));
        Positive(dilationHeight, nameof(dilationHeight)); Positive(dilationWidth, nameof(dilationWidth)); Positive(groups, nameof(groups));
        if (padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0)
            ThrowHelper.ThrowArgumentOutOfRange("padding", Math.Min(Math.Min(padTop, padLeft), Math.Min(padBottom, padRight)), "Paddings must not be negative.");
        if (channels % groups != 0 || outChannels % groups != 0)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(groups), groups, $"The group count must divide the input channels ({channels}) and the output channels ({outChannels}).");
        long oh = ((long)height + padTop + padBottom - (long)dilationHeight * (kernelHeight - 1) - 1) / strideHeight + 1;
        long ow = ((long)width + padLeft + padRight - (long)dilationWidth * (kernelWidth - 1) - 1) / strideWidth + 1;
        if ((long)height + padTop + padBottom - (long)dilationHeight * (kernelHeight - 1) - 1 < 0 || (long)width + padLeft + padRight - (long)dilationWidth * (kernelWidth - 1) - 1 < 0 || oh < 1 || ow < 1)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(kernelHeight), kernelHeight, $"The (dilated) kernel {kernelHeight}×{kernelWidth} does not fit the padded {height}×{width} input.");
        long patch = (long)channels / groups * kernelHeight * kernelWidth;
        bool square = kernelHeight == kernelWidth && strideHeight == strideWidth && dilationHeight == dilationWidth;
        bool implicitGemm = square && Catalog.OpCatalog.ConvolutionIsImplicit(channels, kernelHeight, strideHeight, padTop, padLeft, padBottom, padRight, groups);
        bool depthwise = Catalog.OpCatalog.ConvolutionIsDepthwise(channels, outChannels, groups);
        long scratch = depthwise ? Catalog.OpCatalog.ConvolutionScratch(channels, height, width, outChannels, kernelHeight, strideHeight, padTop, padLeft, padBottom, padRight, dilationHeight, groups)
            : implicitGemm ? Catalog.OpCatalog.ConvolutionScratch(channels, height, width, outChannels, kernelHeight, 1, padTop, padLeft, padBottom, padRight, dilationHeight, 1)
            : patch * oh * ow + oh * ow * (outChannels / groups) + outChannels * patch;
        if ((long)channels * height * width > int.MaxValue || (long)outChannels * oh * ow > int.MaxValue || outChannels * patch > int.MaxValue || scratch > int.MaxValue)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(channels), channels, "The convolution's tensors must fit in a span.");
        ScratchLength = (int)scratch;
        IsImplicit = implicitGemm && !depthwise;
        IsDepthwise = depthwise;
        Channels = channels; Height = height; Width = width; OutChannels = outChannels;
        KernelHeight = kernelHeight; KernelWidth = kernelWidth; StrideHeight = strideHeight; StrideWidth = strideWidth;
        PadTop = padTop; PadLeft = padLeft; PadBottom = padBottom; PadRight = padRight;
        DilationHeight = dilationHeight; DilationWidth = dilationWidth; Groups = groups;
        OutHeight = (int)oh; OutWidth = (int)ow;
    }

    /// <summary>Input channels C.</summary>
    public int Channels { get; }
    /// <summary>Input height H.</summary>
    public int Height { get; }
    /// <summary>Input width W.</summary>
    public int Width { get; }
    /// <summary>Output channels O.</summary>
    public int OutChannels { get; }
    /// <summary>Kernel height kh.</summary>
    public int KernelHeight { get; }
    /// <summary>Kernel width kw.</summary>
    public int KernelWidth { get; }
    /// <summary>Vertical stride.</summary>
    public int StrideHeight { get; }
    /// <summary>Horizontal stride.</summary>
    public int StrideWidth { get; }
    /// <summary>Zero rows above.</summary>
    public int PadTop { get; }
    /// <summary>Zero columns on the left.</summary>
    public int PadLeft { get; }
    /// <summary>Zero rows below.</summary>
    public int PadBottom { get; }
    /// <summary>Zero columns on the right.</summary>
    public int PadRight { get; }
    /// <summary>Vertical dilation.</summary>
    public int DilationHeight { get; }
    /// <summary>Horizontal dilation.</summary>
    public int DilationWidth { get; }
    /// <summary>Groups (1: dense; C = O = groups: depthwise).</summary>
    public int Groups { get; }
    /// <summary>Output height OH.</summary>
    public int OutHeight { get; }
    /// <summary>Output width OW.</summary>
    public int OutWidth { get; }

    /// <summary>Input channels per group.</summary>
    public int GroupChannels => Channels / Groups;
    /// <summary>Output channels per group.</summary>
    public int GroupOutChannels => OutChannels / Groups;
    /// <summary>Elements of one input sample, C·H·W.</summary>
    public int InputSize => Channels * Height * Width;
    /// <summary>Elements of one output sample, O·OH·OW.</summary>
    public int OutputSize => OutChannels * OutHeight * OutWidth;
    /// <summary>Input pixels per channel, H·W.</summary>
    public int InputPixels => Height * Width;
    /// <summary>Output pixels per channel, OH·OW.</summary>
    public int OutputPixels => OutHeight * OutWidth;
    /// <summary>Weights per output channel, K = C/groups·kh·kw (the patch length).</summary>
    public int PatchSize => GroupChannels * KernelHeight * KernelWidth;
    /// <summary>Weight elements, O·K.</summary>
    public int WeightLength => OutChannels * PatchSize;
    /// <summary>Scratch the kernels need (<see cref="Catalog.OpCatalog.ConvolutionScratch"/>): for the implicit-GEMM path a
    /// padded input, an output extended to the padded width and the transposed weight gradient; otherwise one group's
    /// patch matrix (K·OH·OW), one group's transposed output gradient (OH·OW·O/groups) and the transposed weight gradient.</summary>
    public int ScratchLength { get; }

    /// <summary>True when the kernels run as one implicit GEMM per kernel tap over a zero-padded input (square kernel,
    /// stride 1, one group, at least 8 channels, not a plain 1×1).</summary>
    public bool IsImplicit { get; }

    /// <summary>True for a depthwise convolution (groups = channels = output channels &gt; 1): direct loops per channel plane.</summary>
    public bool IsDepthwise { get; }
    /// <summary>True for a 1×1 kernel with stride 1 and no padding: the input itself is the patch matrix.</summary>
    public bool IsPointwise => KernelHeight == 1 && KernelWidth == 1 && StrideHeight == 1 && StrideWidth == 1 && PadTop == 0 && PadLeft == 0 && PadBottom == 0 && PadRight == 0;

    /// <summary>The geometry of a generated network's <see cref="LayerKind.Conv2D"/> layer (its shapes and resolved options).</summary>
    /// <exception cref="ArgumentException">The layer is not a convolution.</exception>
    public static Conv2DGeometry Of(LayerInfo layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (layer.Kind != LayerKind.Conv2D) throw new ArgumentException($"Layer {layer.Name} is a {layer.Kind} layer, not a convolution.", nameof(layer));
        int Option(string name) => (int)layer.Option(name);
        return new Conv2DGeometry(layer.InputShape[0], layer.InputShape[1], layer.InputShape[2], layer.OutputShape[0], Option("Kernel"), Option("Kernel"),
            Option("Stride"), Option("Stride"), Option("PadTop"), Option("PadLeft"), Option("PadBottom"), Option("PadRight"), Option("Dilation"), Option("Dilation"), Option("Groups"));
    }

    private static void Positive(int value, string name)
    {
        if (value <= 0) ThrowHelper.ThrowArgumentOutOfRange(name, value, "Must be positive.");
    }
}

/// <summary>
/// The shape of one 2-D pooling window sweep (PyTorch <c>MaxPool2d</c>/<c>AvgPool2d</c> with floor rounding): input
/// [C, H, W] per sample, output [C, OH, OW] with OH = ⌊(H + 2·padH − kh)/sh⌋ + 1. Immutable; validated at construction.
/// </summary>
public sealed class Pool2DGeometry
{
    /// <summary>A pooling geometry.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size or stride is not positive, a padding is negative or more
    /// than half the kernel (PyTorch's rule), or the output would be empty.</exception>
    public Pool2DGeometry(int channels, int height, int width, int kernelHeight, int kernelWidth, int strideHeight, int strideWidth, int padHeight = 0, int padWidth = 0)
    {
        if (channels <= 0 || height <= 0 || width <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(channels), channels, "Sizes must be positive.");
        if (kernelHeight <= 0 || kernelWidth <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(kernelHeight), kernelHeight, "The kernel must be positive.");
        if (strideHeight <= 0 || strideWidth <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(strideHeight), strideHeight, "The stride must be positive.");
        if (padHeight < 0 || padWidth < 0 || 2 * padHeight > kernelHeight || 2 * padWidth > kernelWidth)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(padHeight), padHeight, "The padding must be between 0 and half the kernel.");
        if (height + 2 * padHeight < kernelHeight || width + 2 * padWidth < kernelWidth)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(kernelHeight), kernelHeight, $"The {kernelHeight}×{kernelWidth} window does not fit the padded {height}×{width} input.");
        if ((long)channels * height * width > int.MaxValue) ThrowHelper.ThrowArgumentOutOfRange(nameof(channels), channels, "The tensors must fit in a span.");
        Channels = channels; Height = height; Width = width; KernelHeight = kernelHeight; KernelWidth = kernelWidth;
        StrideHeight = strideHeight; StrideWidth = strideWidth; PadHeight = padHeight; PadWidth = padWidth;
        OutHeight = (height + 2 * padHeight - kernelHeight) / strideHeight + 1;
        OutWidth = (width + 2 * padWidth - kernelWidth) / strideWidth + 1;
    }

    /// <summary>Channels C.</summary>
    public int Channels { get; }
    /// <summary>Input height.</summary>
    public int Height { get; }
    /// <summary>Input width.</summary>
    public int Width { get; }
    /// <summary>Window height.</summary>
    public int KernelHeight { get; }
    /// <summary>Window width.</summary>
    public int KernelWidth { get; }
    /// <summary>Vertical stride.</summary>
    public int StrideHeight { get; }
    /// <summary>Horizontal stride.</summary>
    public int StrideWidth { get; }
    /// <summary>Padding above and below.</summary>
    public int PadHeight { get; }
    /// <summary>Padding left and right.</summary>
    public int PadWidth { get; }
    /// <summary>Output height.</summary>
    public int OutHeight { get; }
    /// <summary>Output width.</summary>
    public int OutWidth { get; }
    /// <summary>Elements of one input sample.</summary>
    public int InputSize => Channels * Height * Width;
    /// <summary>Elements of one output sample.</summary>
    public int OutputSize => Channels * OutHeight * OutWidth;
}
