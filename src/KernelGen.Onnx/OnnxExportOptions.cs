namespace KernelGen.Onnx;

/// <summary>The element type of an exported model's input, output and initializers.</summary>
public enum OnnxElementType
{
    /// <summary>32-bit float (ONNX <c>FLOAT</c>); a double network's parameters are rounded to float.</summary>
    Float = 1,
    /// <summary>
    /// 64-bit float (ONNX <c>DOUBLE</c>); a float network's parameters are widened exactly. ONNX Runtime's CPU provider
    /// has no double kernels for Elu, Softplus and Erf, so in double models ELU and Softplus are built from
    /// Min/Max/Exp/Log/Abs nodes (full double precision) and the exact GELU's erf is evaluated in float between two
    /// Casts (relative error about 1e-7 in that term).
    /// </summary>
    Double = 11,
}

/// <summary>Options of <see cref="OnnxExporter"/>.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>The defaults: BatchNorm folded, no appended softmax, float tensors.</summary>
    public static OnnxExportOptions Default { get; } = new();

    /// <summary>
    /// Fold a BatchNorm that directly follows a dense layer or a convolution without activation (and is that layer's only
    /// reader) into its Gemm or Conv (W′[:, j] = W[:, j]·s_j, b′_j = (b_j − μ_j)·s_j + β_j with s_j = γ_j/√(var_j + ε),
    /// per output channel for a convolution, computed in double);
    /// other BatchNorms become <c>BatchNormalization</c> nodes. Default true. False keeps every BatchNorm explicit.
    /// </summary>
    public bool FoldBatchNorm { get; init; } = true;

    /// <summary>
    /// Export each RepVGG-style block — an <c>[Add]</c> of convolution branches (odd kernels with "same" padding, each
    /// optionally followed by BatchNorm), a BatchNorm of the block's input and the input itself, over one value — as one
    /// <c>Conv</c> with a bias, re-parameterized as the generated inference form does (in double, rounded once). Default
    /// true. False exports every branch and a <c>Sum</c>.
    /// </summary>
    public bool Reparameterize { get; init; } = true;

    /// <summary>
    /// Append a <c>Softmax</c> over the features of the network's output as a second graph output named
    /// <c>probabilities</c> (for classifiers trained with a softmax loss, whose softmax Predict does not apply).
    /// The logits stay available as <c>output</c>. Default false.
    /// </summary>
    public bool AppendSoftmax { get; init; }

    /// <summary>The element type of the model's tensors; <see cref="OnnxElementType.Float"/> by default, whatever the network's type.</summary>
    public OnnxElementType ElementType { get; init; } = OnnxElementType.Float;

    /// <summary>The graph's name; null (default) uses the network type's full name.</summary>
    public string? GraphName { get; init; }
}
