using System;
using System.Collections.Generic;
using System.Numerics;

namespace KernelGen;

/// <summary>Describes one parameter tensor inside a network's parameter arena.</summary>
/// <param name="Name">The tensor's name, e.g. <c>Dense1.Weights</c>.</param>
/// <param name="Offset">Its first element's index in <see cref="INeuralNetwork{T}.Parameters"/> (and in the gradients).</param>
/// <param name="Rows">Rows (fan-in for weights, 1 for biases).</param>
/// <param name="Columns">Columns (fan-out).</param>
/// <param name="IsWeight">True for weight matrices, false for biases.</param>
public sealed record ParameterTensor(string Name, int Offset, int Rows, int Columns, bool IsWeight)
{
    /// <summary>Rows × Columns.</summary>
    public int Length => Rows * Columns;
}

/// <summary>The kind of one layer (step) of a generated network, after the generator's fusion.</summary>
public enum LayerKind
{
    /// <summary>y = f(x·W + b) with the activation f fused.</summary>
    Dense,
    /// <summary>A standalone element-wise activation.</summary>
    Activation,
    /// <summary>Maxout: a dense part to units·pieces outputs, then the max over each unit's adjacent pieces.</summary>
    Maxout,
    /// <summary>Batch normalization (batch statistics in training, running statistics in evaluation).</summary>
    BatchNorm,
    /// <summary>Layer normalization over each sample's features.</summary>
    LayerNorm,
    /// <summary>Group normalization over groups of adjacent features.</summary>
    GroupNorm,
    /// <summary>Inverted dropout (identity in evaluation).</summary>
    Dropout,
    /// <summary>Softmax over each sample's features.</summary>
    Softmax,
}

/// <summary>
/// One layer of a generated network as the generator lowered it (activations following a dense layer are fused into it).
/// Offsets index <see cref="INeuralNetwork{T}.Parameters"/> (or, for running statistics,
/// <see cref="INeuralNetwork{T}.RunningStatistics"/>); -1 where the layer has no such tensor.
/// </summary>
/// <param name="Index">Position in <see cref="INeuralNetwork{T}.Layers"/>.</param>
/// <param name="Name">The layer's name, e.g. <c>Dense1</c>.</param>
/// <param name="Kind">What the layer computes.</param>
/// <param name="InputFeatures">Features per sample in.</param>
/// <param name="OutputFeatures">Features per sample out.</param>
/// <param name="Activation">The (fused) activation of a dense or activation layer; Identity otherwise.</param>
/// <param name="ActivationParameter">LeakyReLU slope, ELU α, or 1 for the tanh-approximated GELU; 0 otherwise.</param>
public sealed record LayerInfo(int Index, string Name, LayerKind Kind, int InputFeatures, int OutputFeatures, Activation Activation, double ActivationParameter)
{
    /// <summary>The resolved weight initialization of a dense or maxout layer.</summary>
    public Init Init { get; init; }
    /// <summary>Bias initial value of a dense or maxout layer.</summary>
    public double BiasInit { get; init; }
    /// <summary>Offset of the [InputFeatures × DenseOutputs] row-major weights.</summary>
    public int WeightOffset { get; init; } = -1;
    /// <summary>Offset of the [DenseOutputs] bias.</summary>
    public int BiasOffset { get; init; } = -1;
    /// <summary>Offset of a normalization layer's scale γ.</summary>
    public int GammaOffset { get; init; } = -1;
    /// <summary>Offset of a normalization layer's shift β.</summary>
    public int BetaOffset { get; init; } = -1;
    /// <summary>BatchNorm: offset of the running mean in the running statistics.</summary>
    public int RunningMeanOffset { get; init; } = -1;
    /// <summary>BatchNorm: offset of the running (unbiased) variance in the running statistics.</summary>
    public int RunningVarianceOffset { get; init; } = -1;
    /// <summary>Maxout pieces per unit (1 otherwise).</summary>
    public int Pieces { get; init; } = 1;
    /// <summary>GroupNorm groups.</summary>
    public int Groups { get; init; }
    /// <summary>Normalization ε.</summary>
    public double Epsilon { get; init; }
    /// <summary>BatchNorm momentum of the running statistics.</summary>
    public double Momentum { get; init; }
    /// <summary>Dropout's drop probability.</summary>
    public double DropProbability { get; init; }
    /// <summary>Outputs of the dense part: OutputFeatures·Pieces for maxout, OutputFeatures otherwise.</summary>
    public int DenseOutputs => OutputFeatures * Pieces;
    /// <summary>True for dense and maxout layers (they own weights and a bias).</summary>
    public bool HasWeights => WeightOffset >= 0;
}

/// <summary>
/// Anything that maps a batch of inputs to outputs: a generated network, or its generated inference form. Inputs and
/// outputs are row-major [batch × features]; 1 ≤ batch ≤ <see cref="MaxBatchSize"/>. Allocates nothing.
/// </summary>
public interface IInferenceNetwork<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Features per input sample.</summary>
    int InputSize { get; }
    /// <summary>Features per output sample.</summary>
    int OutputSize { get; }
    /// <summary>The largest batch the preallocated buffers hold.</summary>
    int MaxBatchSize { get; }
    /// <summary>Writes the outputs for <paramref name="inputs"/> (evaluation mode: running statistics, no dropout).</summary>
    void Predict(ReadOnlySpan<T> inputs, Span<T> outputs);
}

/// <summary>
/// What every generated network offers. Inputs and outputs are row-major [batch × features]; the batch size is the
/// span length divided by the width and must not exceed <see cref="IInferenceNetwork{T}.MaxBatchSize"/>. All methods validate their
/// arguments up front and allocate nothing.
/// </summary>
public interface INeuralNetwork<T> : IInferenceNetwork<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>All parameters, in one 64-byte aligned arena (laid out as <see cref="ParameterTensors"/> says).</summary>
    Span<T> Parameters { get; }
    /// <summary>The gradients of the last backward pass, laid out like <see cref="Parameters"/>.</summary>
    Span<T> Gradients { get; }
    /// <summary>The parameter tensors in arena order.</summary>
    IReadOnlyList<ParameterTensor> ParameterTensors { get; }
    /// <summary>The layers as lowered (fused), in forward order.</summary>
    IReadOnlyList<LayerInfo> Layers { get; }
    /// <summary>BatchNorm running means and variances, laid out as <see cref="LayerInfo.RunningMeanOffset"/> says (empty without BatchNorm).
    /// State, not parameters: never trained, but saved with checkpoints.</summary>
    Span<T> RunningStatistics { get; }
    /// <summary>A 64-bit fingerprint of the lowered specification (layers, shapes, options, parameter layout, loss and optimizer
    /// kind): equal fingerprints mean interchangeable parameter and state layouts. Independent of the element type.</summary>
    ulong Fingerprint { get; }
    /// <summary>Seed of the dropout masks (set from the seed by <see cref="Initialize"/>).</summary>
    ulong DropoutSeed { get; set; }
    /// <summary>Counter of training forward passes; each draws fresh dropout masks from (DropoutSeed, DropoutStep).</summary>
    ulong DropoutStep { get; set; }
    /// <summary>
    /// The training-mode output of layer <paramref name="layer"/> from the last training forward pass (<see cref="Forward"/>,
    /// ComputeGradients or TrainStep): [batch × <see cref="LayerInfo.OutputFeatures"/>], valid until the next call that runs
    /// forward. For monitoring (activation statistics) and data-driven initialization.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layer"/> is not a layer index.</exception>
    /// <exception cref="InvalidOperationException">No training forward pass has run since construction or <see cref="Initialize"/>.</exception>
    ReadOnlySpan<T> LayerOutput(int layer);
    /// <summary>Re-initializes every parameter from <paramref name="seed"/> (deterministic).</summary>
    void Initialize(ulong seed);
    /// <summary>Forward pass in training mode: copies the inputs and caches what <see cref="Backward"/> needs; returns the outputs.</summary>
    ReadOnlySpan<T> Forward(ReadOnlySpan<T> inputs);
    /// <summary>
    /// Back-propagates ∂L/∂outputs of the last <see cref="Forward"/> (same batch): overwrites <see cref="Gradients"/> and,
    /// unless <paramref name="inputGradient"/> is empty, writes ∂L/∂inputs.
    /// </summary>
    void Backward(ReadOnlySpan<T> outputGradient, Span<T> inputGradient);
}

/// <summary>A network with a loss. <typeparamref name="TLabel"/> is <see cref="int"/> for class labels (one per sample)
/// or <typeparamref name="T"/> for target vectors ([batch × outputs]).</summary>
public interface ILossNetwork<T, TLabel> : INeuralNetwork<T>
    where T : unmanaged, IBinaryFloatingPointIeee754<T> where TLabel : unmanaged
{
    /// <summary>The mean loss over the batch (inference-mode forward; no caches or gradients change).</summary>
    T Loss(ReadOnlySpan<T> inputs, ReadOnlySpan<TLabel> labels);
    /// <summary>Forward, loss and backward: fills <see cref="INeuralNetwork{T}.Gradients"/> and returns the mean loss.</summary>
    T ComputeGradients(ReadOnlySpan<T> inputs, ReadOnlySpan<TLabel> labels);
}

/// <summary>A network with a loss and an optimizer.</summary>
public interface ITrainableNetwork<T, TLabel> : ILossNetwork<T, TLabel>
    where T : unmanaged, IBinaryFloatingPointIeee754<T> where TLabel : unmanaged
{
    /// <summary>The base learning rate η (a schedule scales it per step).</summary>
    T LearningRate { get; set; }
    /// <summary>The optimizer: settings, schedule, clipping, state and step count.</summary>
    Optimization.Optimizer<T> Optimizer { get; }
    /// <summary>Applies one optimizer update using the current <see cref="INeuralNetwork{T}.Gradients"/>.</summary>
    void ApplyGradients();
    /// <summary>
    /// One training step: forward, loss, backward and update. Returns the mean loss before the update. Throws
    /// <see cref="ArithmeticException"/> without updating when the loss is not finite.
    /// </summary>
    T TrainStep(ReadOnlySpan<T> inputs, ReadOnlySpan<TLabel> labels);
}
