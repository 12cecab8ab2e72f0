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
    /// <remarks>
    /// The per-row losses are summed in double in row order; from <see cref="KernelParallelism.MinimumBatch"/> rows on,
    /// as two sums (rows [0, B/2) and [B/2, B)) added: a fixed partition, so the result is the same whether the halves run
    /// on one thread or (with <see cref="KernelParallelism.DegreeOfParallelism"/> = 2) on two.
    /// </remarks>
    public static T SoftmaxCrossEntropy<T>(ReadOnlySpan<T> logits, ReadOnlySpan<int> labels, Span<T> gradient, int batch, int classes)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ThrowHelper.ThrowIfLengthLessThan(logits.Length, batch * classes, nameof(logits));
        ThrowHelper.ThrowIfLengthLessThan(labels.Length, batch, nameof(labels));
        bool withGradient = !gradient.IsEmpty;
        if (withGradient) ThrowHelper.ThrowIfLengthLessThan(gradient.Length, batch * classes, nameof(gradient));
        ref T y = ref MemoryMarshal.GetReference(logits);
        ref int l = ref MemoryMarshal.GetReference(labels);
        ref T g = ref MemoryMarshal.GetReference(gradient);
        double total;
        if (batch < KernelParallelism.MinimumBatch)
            total = SoftmaxCrossEntropyRows(ref y, ref l, ref g, withGradient, 0, batch, batch, classes);
        else if (KernelParallelism.ShouldSplit(batch) && KernelParallelism.TryEnter())
            total = SoftmaxCrossEntropyWork<T>.Run(ref y, ref l, ref g, withGradient, batch, classes);
        else
            total = SoftmaxCrossEntropyRows(ref y, ref l, ref g, withGradient, 0, batch / 2, batch, classes)
                + SoftmaxCrossEntropyRows(ref y, ref l, ref g, withGradient, batch / 2, batch, batch, classes);
        return T.CreateTruncating(total / batch);
    }

    /// <summary>Rows [<paramref name="r0"/>, <paramref name="r1"/>) of <see cref="SoftmaxCrossEntropy{T}"/>: writes their
    /// gradient rows (when asked) and returns the sum of their losses, in row order.</summary>
    private static double SoftmaxCrossEntropyRows<T>(ref T y, ref int labels, ref T g, bool withGradient, int r0, int r1, int batch, int classes)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T invBatch = T.One / T.CreateTruncating(batch);
        double total = 0;
        for (int b = r0; b < r1; b++)
        {
            ref T row = ref Unsafe.Add(ref y, b * classes);
            int label = Unsafe.Add(ref labels, b);
            // The row is indexed by label below without bounds checks: reject a label the caller did not validate.
            if ((uint)label >= (uint)classes) ThrowHelper.ThrowLabelOutOfRange(nameof(labels), b, label, classes);
            T m = row;
            for (int j = 1; j < classes; j++) m = T.Max(m, Unsafe.Add(ref row, j));
            T s = T.Zero;
            if (withGradient)
            {
                // Each e^(y − m) once: kept in the gradient row, then scaled (the same values as computing it twice).
                ref T grow = ref Unsafe.Add(ref g, b * classes);
                for (int j = 0; j < classes; j++) s += Unsafe.Add(ref grow, j) = T.Exp(Unsafe.Add(ref row, j) - m);
                T scale = invBatch / s;
                for (int j = 0; j < classes; j++) Unsafe.Add(ref grow, j) *= scale;
                Unsafe.Add(ref grow, label) -= invBatch;
            }
            else
            {
                for (int j = 0; j < classes; j++) s += T.Exp(Unsafe.Add(ref row, j) - m);
            }
            T lse = m + T.Log(s);
            total += double.CreateTruncating(lse - Unsafe.Add(ref row, label));
        }
        return total;
    }

    /// <summary>Rows [0, B/2) here, [B/2, B) on the worker; the two sums added as the one-thread path adds them.</summary>
    private sealed unsafe class SoftmaxCrossEntropyWork<T> : ParallelWork where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        private static readonly SoftmaxCrossEntropyWork<T> Instance = new();
        private T* _y, _g;
        private int* _labels;
        private bool _withGradient;
        private int _batch, _classes;
        private double _first, _second;

        public static double Run(ref T y, ref int labels, ref T g, bool withGradient, int batch, int classes)
        {
            fixed (T* py = &y, pg = &g)
            fixed (int* pl = &labels)
            {
                SoftmaxCrossEntropyWork<T> work = Instance;
                work._y = py; work._g = pg; work._labels = pl;
                (work._withGradient, work._batch, work._classes) = (withGradient, batch, classes);
                KernelParallelism.Run(work);
                work._y = null; work._g = null; work._labels = null;
                return work._first + work._second;
            }
        }

        internal override void Execute(int part)
        {
            int half = _batch / 2;
            double sum = SoftmaxCrossEntropyRows(ref Unsafe.AsRef<T>(_y), ref Unsafe.AsRef<int>(_labels), ref Unsafe.AsRef<T>(_g), _withGradient,
                part == 0 ? 0 : half, part == 0 ? half : _batch, _batch, _classes);
            if (part == 0) _first = sum;
            else _second = sum;
        }
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
