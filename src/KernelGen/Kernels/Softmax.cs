using System;
using System.Numerics;

namespace KernelGen.Kernels;

/// <summary>The softmax and log-softmax layers over the features of each sample (rows of a [batch × features] matrix).</summary>
public static class Softmax
{
    /// <summary>
    /// Computes y_bj = e^(x_bj − m_b) / Σ_k e^(x_bk − m_b) with m_b = max_k x_bk: never overflows for finite x, and each
    /// row sums to 1 within rounding. NaN in a row makes that row NaN.
    /// </summary>
    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, int batch, int features) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Validate(x.Length, y.Length, batch, features, nameof(x), nameof(y));
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<T> row = x.Slice(b * features, features);
            Span<T> output = y.Slice(b * features, features);
            T m = RowMax(row);
            T s = T.Zero;
            for (int j = 0; j < features; j++) { T e = T.Exp(row[j] - m); output[j] = e; s += e; }
            T inv = T.One / s;
            for (int j = 0; j < features; j++) output[j] *= inv;
        }
    }

    /// <summary>Computes dx_bj = y_bj·(dy_bj − Σ_k dy_bk·y_bk) from the forward output y. <paramref name="dx"/> may alias <paramref name="dy"/>.</summary>
    public static void Backward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int batch, int features) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Validate(y.Length, dx.Length, batch, features, nameof(y), nameof(dx));
        ThrowHelper.ThrowIfLengthLessThan(dy.Length, batch * features, nameof(dy));
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<T> yr = y.Slice(b * features, features), gr = dy.Slice(b * features, features);
            Span<T> dr = dx.Slice(b * features, features);
            T dot = T.Zero;
            for (int j = 0; j < features; j++) dot += gr[j] * yr[j];
            for (int j = 0; j < features; j++) dr[j] = yr[j] * (gr[j] - dot);
        }
    }

    /// <summary>
    /// Log-softmax: y_bj = x_bj − m_b − log Σ_k e^(x_bk − m_b) with m_b = max_k x_bk. Finite for any finite x (the largest
    /// entry of a row gives −log s ∈ [−log K, 0]); NaN in a row makes that row NaN. <paramref name="y"/> may alias <paramref name="x"/>.
    /// </summary>
    public static void LogForward<T>(ReadOnlySpan<T> x, Span<T> y, int batch, int features) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Validate(x.Length, y.Length, batch, features, nameof(x), nameof(y));
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<T> row = x.Slice(b * features, features);
            Span<T> output = y.Slice(b * features, features);
            T m = RowMax(row);
            T s = T.Zero;
            for (int j = 0; j < features; j++) s += T.Exp(row[j] - m);
            T shift = m + T.Log(s);
            for (int j = 0; j < features; j++) output[j] = row[j] - shift;
        }
    }

    /// <summary>
    /// Computes dx_bj = dy_bj − e^(y_bj)·Σ_k dy_bk from the forward output y (e^y is the softmax). <paramref name="dx"/> may
    /// alias <paramref name="dy"/>.
    /// </summary>
    public static void LogBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int batch, int features) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Validate(y.Length, dx.Length, batch, features, nameof(y), nameof(dx));
        ThrowHelper.ThrowIfLengthLessThan(dy.Length, batch * features, nameof(dy));
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<T> yr = y.Slice(b * features, features), gr = dy.Slice(b * features, features);
            Span<T> dr = dx.Slice(b * features, features);
            T sum = T.Zero;
            for (int j = 0; j < features; j++) sum += gr[j];
            for (int j = 0; j < features; j++) dr[j] = gr[j] - T.Exp(yr[j]) * sum;
        }
    }

    /// <summary>max_j row[j] (NaN-propagating as <c>T.Max</c>): the shift that keeps every e^(x − m) ≤ 1.</summary>
    private static T RowMax<T>(ReadOnlySpan<T> row) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T m = row[0];
        for (int j = 1; j < row.Length; j++) m = T.Max(m, row[j]);
        return m;
    }

    private static void Validate(int input, int output, int batch, int features, string inputName, string outputName)
    {
        if (batch <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "The batch size must be positive.");
        if (features <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(features), features, "The feature count must be positive.");
        ThrowHelper.ThrowIfLengthLessThan(input, batch * features, inputName);
        ThrowHelper.ThrowIfLengthLessThan(output, batch * features, outputName);
    }
}
