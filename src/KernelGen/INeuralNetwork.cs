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

/// <summary>
/// What every generated network offers. Inputs and outputs are row-major [batch × features]; the batch size is the
/// span length divided by the width and must not exceed <see cref="MaxBatchSize"/>. All methods validate their
/// arguments up front and allocate nothing.
/// </summary>
public interface INeuralNetwork<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Features per input sample.</summary>
    int InputSize { get; }
    /// <summary>Features per output sample.</summary>
    int OutputSize { get; }
    /// <summary>The largest batch the preallocated buffers hold.</summary>
    int MaxBatchSize { get; }
    /// <summary>All parameters, in one 64-byte aligned arena (laid out as <see cref="ParameterTensors"/> says).</summary>
    Span<T> Parameters { get; }
    /// <summary>The gradients of the last backward pass, laid out like <see cref="Parameters"/>.</summary>
    Span<T> Gradients { get; }
    /// <summary>The parameter tensors in arena order.</summary>
    IReadOnlyList<ParameterTensor> ParameterTensors { get; }
    /// <summary>Re-initializes every parameter from <paramref name="seed"/> (deterministic).</summary>
    void Initialize(ulong seed);
    /// <summary>Inference: writes the network's outputs for <paramref name="inputs"/> (does not disturb the training caches).</summary>
    void Predict(ReadOnlySpan<T> inputs, Span<T> outputs);
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
