using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KernelGen.Kernels;

/// <summary>Loss kernels: each returns the mean loss over the batch and, when asked, writes ∂L/∂outputs.</summary>
public static class Loss
{
    /// <summary>Throws unless every label lies in [0, <paramref name="classes"/>).</summary>
    public static void ValidateLabels(ReadOnlySpan<int> labels, int classes, string paramName)
    {
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)classes) ThrowHelper.ThrowLabelOutOfRange(paramName, i, labels[i], classes);
    }

    /// <summary>
    /// Softmax cross-entropy on integer labels: computes L = (1/B) Σ_b [m_b + log Σ_j e^(y_bj − m_b) − y_b,label_b] with
    /// m_b = max_j y_bj (finite for any finite logits), and, unless <paramref name="gradient"/> is empty,
    /// gradient[b, j] = (softmax(y_b)_j − [j = label_b]) / B. Labels must be validated by the caller.
    /// </summary>
    public static T SoftmaxCrossEntropy<T>(ReadOnlySpan<T> logits, ReadOnlySpan<int> labels, Span<T> gradient, int batch, int classes)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ThrowHelper.ThrowIfLengthLessThan(logits.Length, batch * classes, nameof(logits));
        ThrowHelper.ThrowIfLengthLessThan(labels.Length, batch, nameof(labels));
        bool withGradient = !gradient.IsEmpty;
        if (withGradient) ThrowHelper.ThrowIfLengthLessThan(gradient.Length, batch * classes, nameof(gradient));
        ref T y = ref MemoryMarshal.GetReference(logits);
        ref T g = ref MemoryMarshal.GetReference(gradient);
        T invBatch = T.One / T.CreateTruncating(batch);
        double total = 0;
        for (int b = 0; b < batch; b++)
        {
            ref T row = ref Unsafe.Add(ref y, b * classes);
            int label = labels[b];
            // The row is indexed by label below without bounds checks: reject a label the caller did not validate.
            if ((uint)label >= (uint)classes) ThrowHelper.ThrowLabelOutOfRange(nameof(labels), b, label, classes);
            T m = row;
            for (int j = 1; j < classes; j++) m = T.Max(m, Unsafe.Add(ref row, j));
            T s = T.Zero;
            for (int j = 0; j < classes; j++) s += T.Exp(Unsafe.Add(ref row, j) - m);
            T lse = m + T.Log(s);
            total += double.CreateTruncating(lse - Unsafe.Add(ref row, label));
            if (withGradient)
            {
                ref T grow = ref Unsafe.Add(ref g, b * classes);
                T scale = invBatch / s;
                for (int j = 0; j < classes; j++) Unsafe.Add(ref grow, j) = T.Exp(Unsafe.Add(ref row, j) - m) * scale;
                Unsafe.Add(ref grow, label) -= invBatch;
            }
        }
        return T.CreateTruncating(total / batch);
    }

    /// <summary>
    /// The L2 divergence: computes L = (1/B) Σ_b ½ Σ_j (y_bj − d_bj)² and, unless <paramref name="gradient"/> is empty,
    /// gradient = (y − d) / B.
    /// </summary>
    public static T L2<T>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, Span<T> gradient, int batch, int width)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int n = batch * width;
        ThrowHelper.ThrowIfLengthLessThan(outputs.Length, n, nameof(outputs));
        ThrowHelper.ThrowIfLengthLessThan(targets.Length, n, nameof(targets));
        bool withGradient = !gradient.IsEmpty;
        if (withGradient) ThrowHelper.ThrowIfLengthLessThan(gradient.Length, n, nameof(gradient));
        T invBatch = T.One / T.CreateTruncating(batch);
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            T d = outputs[i] - targets[i];
            total += double.CreateTruncating(d * d);
            if (withGradient) gradient[i] = d * invBatch;
        }
        return T.CreateTruncating(0.5 * total / batch);
    }
}
