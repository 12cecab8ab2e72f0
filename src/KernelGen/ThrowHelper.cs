using System;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace KernelGen;

/// <summary>
/// Throw helpers used by the runtime kernels and by generated code, so that the validating fast paths stay small
/// enough to inline. Every message names the argument and the size that was expected.
/// </summary>
public static class ThrowHelper
{
    /// <summary>Throws unless <paramref name="actual"/> equals <paramref name="expected"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ThrowIfLengthNotEqual(int actual, int expected, string paramName)
    {
        if (actual != expected) ThrowLengthNotEqual(actual, expected, paramName);
    }

    /// <summary>Throws unless <paramref name="actual"/> is at least <paramref name="minimum"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ThrowIfLengthLessThan(int actual, int minimum, string paramName)
    {
        if (actual < minimum) ThrowLengthLessThan(actual, minimum, paramName);
    }

    /// <summary>
    /// Returns the batch size implied by a [batch × width] span and checks it: the length must be a positive
    /// multiple of <paramref name="width"/> and the batch at most <paramref name="maxBatchSize"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int GetBatchSize(int length, int width, int maxBatchSize, string paramName)
    {
        int batch = length / width;
        if (length == 0 || batch * width != length || batch > maxBatchSize) ThrowBadBatch(length, width, maxBatchSize, paramName);
        return batch;
    }

    [DoesNotReturn]
    private static void ThrowLengthNotEqual(int actual, int expected, string paramName) =>
        throw new ArgumentException($"Expected a span of length {expected}, but '{paramName}' has length {actual}.", paramName);

    [DoesNotReturn]
    private static void ThrowLengthLessThan(int actual, int minimum, string paramName) =>
        throw new ArgumentException($"Expected a span of length at least {minimum}, but '{paramName}' has length {actual}.", paramName);

    [DoesNotReturn]
    private static void ThrowBadBatch(int length, int width, int maxBatchSize, string paramName)
    {
        if (length == 0)
            throw new ArgumentException($"'{paramName}' is empty; expected [batch × {width}] values with 1 ≤ batch ≤ {maxBatchSize}.", paramName);
        if (length % width != 0)
            throw new ArgumentException($"'{paramName}' has length {length}, which is not a multiple of the width {width}; expected [batch × {width}] values.", paramName);
        throw new ArgumentOutOfRangeException(paramName, length / width,
            $"'{paramName}' holds a batch of {length / width} rows of {width}, but this network was built for at most {maxBatchSize} (maxBatchSize).");
    }

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> for a class label outside [0, classes).</summary>
    [DoesNotReturn]
    public static void ThrowLabelOutOfRange(string paramName, int index, int label, int classes) =>
        throw new ArgumentOutOfRangeException(paramName, label, $"{paramName}[{index}] = {label} is not a class index in [0, {classes}).");

    /// <summary>Throws an <see cref="ArgumentException"/> for a NaN or infinite value.</summary>
    [DoesNotReturn]
    public static void ThrowNotFinite(string paramName, int index) =>
        throw new ArgumentException($"{paramName}[{index}] is NaN or infinite; inputs must be finite.", paramName);

    /// <summary>Throws when the loss is not finite; nothing has been updated.</summary>
    [DoesNotReturn]
    public static void ThrowNonFiniteLoss(double loss) =>
        throw new ArithmeticException($"The loss is {loss}: training diverged (try a smaller learning rate). The parameters were not updated.");

    /// <summary>Throws when a training pass would leave a BatchNorm running statistic non-finite; it was undone.</summary>
    [DoesNotReturn]
    public static void ThrowNonFiniteStatistics(string statistic) =>
        throw new ArithmeticException($"The running statistic {statistic} would become NaN or infinite: the inputs are finite but so large that the batch statistics overflow. The statistics and the dropout step were restored; nothing was updated.");

    /// <summary>Throws when the gradients of a step are not finite or too large to update with; nothing was updated.</summary>
    [DoesNotReturn]
    public static void ThrowGradientOverflow(string coordinate, double value, double bound) =>
        throw new ArithmeticException($"The gradient {coordinate} is {value}; every gradient must be finite with a finite square (below {bound:G3} in magnitude) for the optimizer's state. The inputs or the parameters overflow the arithmetic; the statistics and the dropout step were restored and nothing was updated.");

    /// <summary>Throws when the gradients' sum of squares overflows although each is finite and moderate.</summary>
    [DoesNotReturn]
    public static void ThrowGradientNormOverflow() =>
        throw new ArithmeticException("The gradients' sum of squares overflows: training diverged or the inputs overflow the arithmetic. The statistics and the dropout step were restored and nothing was updated.");

    /// <summary>Throws when an output is not finite although every input is.</summary>
    [DoesNotReturn]
    public static void ThrowOverflowed(string call, int row, int column, double value, string type) =>
        throw new ArithmeticException($"{call}: output [{row}, {column}] is {value} although every input is finite: the inputs are so large that the network's {type} arithmetic overflowed. Scale the inputs (standardize them).");

    /// <summary>Throws when a second thread calls into a network while another is inside a call.</summary>
    [DoesNotReturn]
    public static void ThrowConcurrentUse(string network, int owner, int caller) =>
        throw new InvalidOperationException($"The network {network} is in use by thread {owner}, and thread {caller} called it at the same time. A network serves one thread at a time (its buffers hold every call's intermediates): give each thread its own network or inference form (CreateInference), or serialize the calls. Nothing was changed.");

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> for a non-positive or too-large argument.</summary>
    [DoesNotReturn]
    public static void ThrowArgumentOutOfRange(string paramName, object? value, string message) =>
        throw new ArgumentOutOfRangeException(paramName, value, message);
}
