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

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> for a non-positive or too-large argument.</summary>
    [DoesNotReturn]
    public static void ThrowArgumentOutOfRange(string paramName, object? value, string message) =>
        throw new ArgumentOutOfRangeException(paramName, value, message);
}
