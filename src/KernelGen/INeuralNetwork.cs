using System;
using System.Collections.Generic;
using System.Numerics;
using KernelGen.Catalog;

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

/// <summary>
/// One parameter or state tensor of a layer, as the generator laid it out from the op catalog's
/// <see cref="TensorDescriptor"/>: where it lives, its shape, its weight-file name and layout, how it starts.
/// </summary>
/// <param name="Role">What it is to its layer.</param>
/// <param name="Name">Its name in the network, e.g. <c>Dense1.Weights</c>.</param>
/// <param name="FileName">Its name in weight files (PyTorch's <c>state_dict</c> key), e.g. <c>Dense1.weight</c>.</param>
/// <param name="Shape">Its shape in the arena, row-major (a dense weight is [inputs × units]).</param>
/// <param name="FileLayout">Its layout in weight files relative to <paramref name="Shape"/>.</param>
/// <param name="Offset">Its first element in <see cref="INeuralNetwork{T}.Parameters"/>, or in
/// <see cref="INeuralNetwork{T}.RunningStatistics"/> when <paramref name="IsState"/>.</param>
/// <param name="IsState">True for running statistics (not trained).</param>
public sealed record LayerTensor(TensorRole Role, string Name, string FileName, TensorShape Shape, FileLayout FileLayout, int Offset, bool IsState)
{
    /// <summary>Elements.</summary>
    public int Length => Shape.Size;
    /// <summary>A weight tensor's initialization (resolved: never <see cref="Init.Auto"/>).</summary>
    public Init Init { get; init; }
    /// <summary>The constant every element of a non-weight tensor starts at (bias: BiasInit; γ and running variance: 1).</summary>
    public double InitialValue { get; init; }
    /// <summary>L1 penalty λ on this weight tensor (0: none).</summary>
    public double L1 { get; init; }
    /// <summary>L2 penalty λ on this weight tensor (0: none).</summary>
    public double L2 { get; init; }
    /// <summary>The shape weight files store: <see cref="Shape"/>, reversed for a transposed 2-D tensor.</summary>
    public TensorShape FileShape => FileLayout == FileLayout.Transposed && Shape.Rank == 2 ? new TensorShape(Shape[1], Shape[0]) : Shape;
}

/// <summary>
/// One layer of a generated network as the generator lowered it (activations following a dense layer are fused into
/// it): its kind, shapes, the activation that ends it, its tensors and its options (the op catalog's options of its
/// kind, resolved to their values).
/// </summary>
/// <param name="Index">Position in <see cref="INeuralNetwork{T}.Layers"/>.</param>
/// <param name="Name">The layer's name, e.g. <c>Dense1</c>.</param>
/// <param name="Kind">What the layer computes.</param>
/// <param name="InputShape">The shape of one input sample.</param>
/// <param name="OutputShape">The shape of one output sample.</param>
public sealed record LayerInfo(int Index, string Name, LayerKind Kind, TensorShape InputShape, TensorShape OutputShape)
{
    private static readonly IReadOnlyDictionary<string, double> NoOptions = new Dictionary<string, double>();

    /// <summary>Elements per input sample.</summary>
    public int InputFeatures => InputShape.Size;
    /// <summary>Elements per output sample.</summary>
    public int OutputFeatures => OutputShape.Size;
    /// <summary>The activation ending the layer (fused into a dense layer, or the activation of an activation layer); Identity otherwise.</summary>
    public Activation Activation { get; init; }
    /// <summary>The activation's parameter (LeakyReLU slope, ELU α, 1 for the tanh-approximated GELU); 0 otherwise.</summary>
    public double ActivationParameter { get; init; }
    /// <summary>
    /// The user's activation ending the layer (<see cref="CustomActivationAttribute"/>), e.g. <c>MyFunctions.Mish(x)</c>,
    /// with <see cref="Activation"/> Identity; null for built-in activations.
    /// </summary>
    public string? CustomActivation { get; init; }
    /// <summary>The formula of <see cref="CustomActivation"/> and of its derivative, as the generator derived it.</summary>
    public string? CustomActivationFormula { get; init; }
    /// <summary><see cref="CustomActivation"/> in primitive ONNX operators (the ONNX exporter's mapping language over x).</summary>
    public string? CustomActivationOnnx { get; init; }
    /// <summary>The same for a double model where it differs (Erf, which ONNX Runtime lacks in double, runs in float between Casts).</summary>
    public string? CustomActivationOnnxDouble { get; init; }
    /// <summary><see cref="CustomActivation"/> as the body of a Python function of the tensor x (PyTorch operators), ending in <c>return</c>.</summary>
    public string? CustomActivationPyTorch { get; init; }
    /// <summary>
    /// For a <see cref="CustomActivation"/> with comparisons (|x|, max, min, clamp, conditionals): the branch each
    /// pre-activation value takes, one bit per comparison, for the gradient check's kink detection; null otherwise.
    /// </summary>
    public Func<double, int>? CustomActivationBranch { get; init; }
    /// <summary>The layer's parameter and state tensors, in arena order.</summary>
    public IReadOnlyList<LayerTensor> Tensors { get; init; } = [];
    /// <summary>The resolved values of the catalog options of this layer kind (e.g. <c>Epsilon</c>, <c>Groups</c>, <c>Pieces</c>).</summary>
    public IReadOnlyDictionary<string, double> Options { get; init; } = NoOptions;
    /// <summary>L1 penalty λ on the layer's outputs, averaged over the batch (0: none).</summary>
    public double ActivityL1 { get; init; }

    private int[]? _inputs;

    /// <summary>
    /// The layers whose outputs this layer reads, by index (−1: the network's input), in order: the layer before it in a
    /// chain, the layer named by <c>From</c>, or every input of an <see cref="LayerKind.Add"/> or
    /// <see cref="LayerKind.Concat"/>. The network is a dataflow graph in this order: every input comes before its reader,
    /// and the last layer's output is the network's output.
    /// </summary>
    public IReadOnlyList<int> Inputs
    {
        get => _inputs ?? [Index - 1];
        init => _inputs = [.. value];
    }

    /// <summary>True when the layer reads just the layer before it (or the input, for the first layer).</summary>
    public bool ReadsPrevious => _inputs is null || (_inputs.Length == 1 && _inputs[0] == Index - 1);

    /// <summary>The tensor of role <paramref name="role"/>, or null.</summary>
    public LayerTensor? Tensor(TensorRole role)
    {
        IReadOnlyList<LayerTensor> tensors = Tensors;
        for (int i = 0; i < tensors.Count; i++) if (tensors[i].Role == role) return tensors[i]; // no enumerator allocation
        return null;
    }

    /// <summary>Option <paramref name="name"/>'s value, or NaN when the layer kind has no such option.</summary>
    public double Option(string name) => Options.TryGetValue(name, out double value) ? value : double.NaN;

    /// <summary>The catalog entry of the layer's kind.</summary>
    public LayerDescriptor Descriptor => OpCatalog.Get(Kind);
    /// <summary>The resolved initialization of the layer's weights (<see cref="Init.Auto"/> when it has none).</summary>
    public Init Init => Tensor(TensorRole.Weight)?.Init ?? Init.Auto;
    /// <summary>True for layers that own a weight tensor (dense and maxout).</summary>
    public bool HasWeights => Tensor(TensorRole.Weight) is not null;
    /// <summary>Offset of the weight tensor, −1 when there is none.</summary>
    public int WeightOffset => Tensor(TensorRole.Weight)?.Offset ?? -1;
    /// <summary>Offset of the bias, −1 when there is none.</summary>
    public int BiasOffset => Tensor(TensorRole.Bias)?.Offset ?? -1;
    /// <summary>Offset of the normalization scale γ, −1 when there is none.</summary>
    public int GammaOffset => Tensor(TensorRole.Gamma)?.Offset ?? -1;
    /// <summary>Offset of the normalization shift β, −1 when there is none.</summary>
    public int BetaOffset => Tensor(TensorRole.Beta)?.Offset ?? -1;
    /// <summary>Offset of the running mean in the running statistics, −1 when there is none.</summary>
    public int RunningMeanOffset => Tensor(TensorRole.RunningMean)?.Offset ?? -1;
    /// <summary>Offset of the running (unbiased) variance in the running statistics, −1 when there is none.</summary>
    public int RunningVarianceOffset => Tensor(TensorRole.RunningVariance)?.Offset ?? -1;
    /// <summary>Columns of the weight tensor (outputs of the linear part: units·pieces for maxout); 0 without weights.</summary>
    public int DenseOutputs => Tensor(TensorRole.Weight) is { } w ? w.Shape[w.Shape.Rank - 1] : 0;
}

/// <summary>
/// Anything that maps a batch of inputs to outputs: a generated network, or its generated inference form. Inputs and
/// outputs are row-major [batch × features]; 1 ≤ batch ≤ <see cref="MaxBatchSize"/>. Allocates nothing.
/// </summary>
public interface IInferenceNetwork<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Elements per input sample (the product of <see cref="InputShape"/>).</summary>
    int InputSize { get; }
    /// <summary>The shape of one input sample (e.g. [784] or [1, 28, 28]).</summary>
    TensorShape InputShape { get; }
    /// <summary>Elements per output sample.</summary>
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
    /// <summary>
    /// Forward (training mode) and backward for the chosen terms of the loss only: the data loss, the penalties (weight
    /// L1/L2 and activity L1), or both (<see cref="ComputeGradients(ReadOnlySpan{T}, ReadOnlySpan{TLabel})"/>). Fills
    /// <see cref="INeuralNetwork{T}.Gradients"/> with the gradient of those terms and returns their value; used to check
    /// the data loss and the regularization separately.
    /// </summary>
    T ComputeGradients(ReadOnlySpan<T> inputs, ReadOnlySpan<TLabel> labels, LossTerms terms);
}

/// <summary>Which terms of a network's loss <see cref="ILossNetwork{T, TLabel}.ComputeGradients(ReadOnlySpan{T}, ReadOnlySpan{TLabel}, LossTerms)"/> computes.</summary>
[Flags]
public enum LossTerms
{
    /// <summary>The data loss (the loss attribute's term).</summary>
    Data = 1,
    /// <summary>The weight penalties (L1, L2) and the activity penalties.</summary>
    Penalties = 2,
    /// <summary>Both: the loss that training minimizes.</summary>
    All = Data | Penalties,
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
