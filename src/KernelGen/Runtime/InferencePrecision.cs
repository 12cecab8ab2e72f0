namespace KernelGen.Runtime;

/// <summary>
/// The precision in which an inference form's dense layers hold their weights (see
/// <see cref="InferenceNetworkBase{T}.Precision"/>). Batch-1 inference reads every weight once per call from cache, so
/// fewer bytes per weight is directly less time; the reduced forms trade a little accuracy for it.
/// </summary>
/// <remarks>
/// Measured accuracy cost (benchmarks/LATENCY.md; <c>KernelGen.Benchmarks --accuracy 15 5</c>): the reference
/// 784-256-128-10 ReLU MLP trained on Fashion-MNIST (Adam, 15 epochs, five seeds), classifying the 10,000 test images
/// with one inference form: float 88.56–89.08 %; bfloat16 changed 2–7 predictions per network and the accuracy by −0.03
/// to 0.00 points; int8 changed 13–35 predictions and the accuracy by −0.05 to +0.08 points. Only <c>[Dense]</c> layers
/// change precision; every other layer (normalizations that did not fold, maxout, softmax, …) and all activations stay
/// in float.
/// </remarks>
public enum InferencePrecision
{
    /// <summary>Float weights and arithmetic: the training network's evaluation mode to within 1e-5 (the default).</summary>
    Float32 = 0,

    /// <summary>
    /// Weights in 16 bits with bfloat16 precision (8 significant bits), activations and accumulation in float: half the
    /// weight bytes. Each weight is within half a bfloat16 step (at most 2⁻⁸ of its magnitude) of its float value. Works at every vector
    /// width (the same bits at each).
    /// </summary>
    BFloat16 = 1,

    /// <summary>
    /// Weights in 8 bits with one scale per output unit (symmetric, ±127), each layer's input quantized per call and per
    /// sample to 8 bits with its own scale and offset, exact 32-bit integer dot products, float scaling, bias and
    /// activation: a quarter of the weight bytes. The dot products use AVX-VNNI (vpdpbusd on 256-bit registers: .NET 10
    /// has no class for AVX512-VNNI; its 512-bit byte dot products belong to AVX-VNNI-INT8 and AVX10, which the
    /// development machine's AVX-512 CPU does not report); without AVX-VNNI a scalar integer loop computes the same bits,
    /// slowly. Dense layers must have at most <see cref="Kernels.QuantizedDense.MaximumInt8Inputs"/> inputs.
    /// </summary>
    Int8 = 2,
}
