using System;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelGen.Operators;

namespace KernelGen.Kernels;

/// <summary>
/// Classification losses beyond <see cref="Loss"/>: label-smoothed softmax cross-entropy, KL divergence to a target
/// distribution, the multiclass SVM hinge loss and binary cross-entropy with logits, plus target validators.
/// </summary>
/// <remarks>
/// <para>
/// Every loss takes row-major [batch × classes] inputs, returns the mean over the batch (the batch total is accumulated
/// in double, rows in index order, so results are bit-identical from run to run) and, unless <c>gradient</c> is empty,
/// writes ∂L/∂input into <c>gradient</c> (at least batch·classes long). <c>gradient</c> may be the very span of the
/// logits or scores (or of the targets), computing the gradient in place; it must not partially overlap them.
/// </para>
/// <para>
/// Inputs are expected finite (validate them where they enter); NaN inputs give NaN losses. Labels are range-checked
/// before anything is written (an <see cref="ArgumentOutOfRangeException"/>, as <see cref="Loss.ValidateLabels"/>
/// throws); target distributions and probabilities are not, so validate them with <see cref="ValidateDistribution"/>
/// and <see cref="ValidateProbabilities"/>.
/// </para>
/// </remarks>
public static class LossFunctions
{
    // ---- softmax cross-entropy with label smoothing ---------------------------------------------------------------

    /// <summary>
    /// Softmax cross-entropy with label smoothing ε, PyTorch's <c>CrossEntropyLoss(label_smoothing=ε)</c> with the default
    /// mean reduction: computes, with target q_b = (1 − ε)·onehot(label_b) + ε/K and K = <paramref name="classes"/>,
    /// <code>
    /// L = (1/B) Σ_b −Σ_j q_bj · log softmax(y_b)_j
    ///   = (1/B) Σ_b [ (1 − ε)·(lse_b − y_b,label_b) + (ε/K)·Σ_j (lse_b − y_bj) ],   lse_b = m_b + log Σ_j e^(y_bj − m_b),
    /// </code>
    /// m_b = max_j y_bj (the log-sum-exp shift; finite for any finite logits), and, unless <paramref name="gradient"/> is
    /// empty, gradient[b, j] = (softmax(y_b)_j − q_bj) / B.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Computed exactly as <see cref="Loss.SoftmaxCrossEntropy"/> (m_b, Σ e^(y − m) and lse_b in <typeparamref name="T"/>,
    /// each row's terms converted to double and accumulated in double); the smoothing term is added only when ε ≠ 0, so
    /// ε = 0 returns the bit-identical loss and gradient of <see cref="Loss.SoftmaxCrossEntropy"/>.
    /// </para>
    /// <para>Departure from PyTorch: ε = 1 (a uniform target, which PyTorch accepts) is rejected; ε must lie in [0, 1).</para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">batch or classes &lt; 1, ε outside [0, 1), or a label outside [0, K).</exception>
    /// <exception cref="ArgumentException">A span is too short, or <paramref name="gradient"/> partially overlaps <paramref name="logits"/>.</exception>
    public static T SoftmaxCrossEntropy<T>(ReadOnlySpan<T> logits, ReadOnlySpan<int> labels, Span<T> gradient, int batch, int classes, T labelSmoothing)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int n = CheckShape(batch, classes, nameof(classes));
        ThrowHelper.ThrowIfLengthLessThan(logits.Length, n, nameof(logits));
        ThrowHelper.ThrowIfLengthLessThan(labels.Length, batch, nameof(labels));
        if (!(labelSmoothing >= T.Zero && labelSmoothing < T.One))
            ThrowOutOfRange(nameof(labelSmoothing), double.CreateTruncating(labelSmoothing), "Label smoothing must lie in [0, 1).");
        bool withGradient = CheckGradient(gradient, logits, n, nameof(logits));
        CheckLabels(labels, batch, classes, nameof(labels));

        ref T y = ref MemoryMarshal.GetReference(logits);
        ref T g = ref MemoryMarshal.GetReference(gradient);
        ref int labelRef = ref MemoryMarshal.GetReference(labels);
        T invBatch = T.One / T.CreateTruncating(batch);
        bool smooth = labelSmoothing != T.Zero;
        double eps = double.CreateTruncating(labelSmoothing);
        double hardWeight = 1 - eps, softWeight = eps / classes;
        // Gradient coefficients: every class gets −(ε/K)/B, the label another −(1 − ε)/B. Both are exact (0 and 1/B) at ε = 0.
        T softGradient = labelSmoothing / T.CreateTruncating(classes) * invBatch;
        T hardGradient = (T.One - labelSmoothing) * invBatch;
        double total = 0;
        for (int b = 0; b < batch; b++)
        {
            ref T row = ref Unsafe.Add(ref y, b * classes);
            int label = Unsafe.Add(ref labelRef, b);
            // 1. m = max_j y_j, s = Σ_j e^(y_j − m) ∈ [1, K], lse = m + log s (all in T, as Loss.SoftmaxCrossEntropy).
            T m = row;
            for (int j = 1; j < classes; j++) m = T.Max(m, Unsafe.Add(ref row, j));
            T s = T.Zero;
            for (int j = 0; j < classes; j++) s += T.Exp(Unsafe.Add(ref row, j) - m);
            T lse = m + T.Log(s);
            // 2. −log softmax(y)_j = lse − y_j: the hard term at the label, the smoothing term over all classes.
            double hard = double.CreateTruncating(lse - Unsafe.Add(ref row, label));
            if (smooth)
            {
                double lseD = double.CreateTruncating(lse), soft = 0;
                for (int j = 0; j < classes; j++) soft += lseD - double.CreateTruncating(Unsafe.Add(ref row, j));
                total += hardWeight * hard + softWeight * soft;
            }
            else total += hard;
            // 3. gradient = (softmax − q)/B; each y_j is read before gradient[j] is written (in-place safe).
            if (withGradient)
            {
                ref T grow = ref Unsafe.Add(ref g, b * classes);
                T scale = invBatch / s;
                for (int j = 0; j < classes; j++) Unsafe.Add(ref grow, j) = T.Exp(Unsafe.Add(ref row, j) - m) * scale - softGradient;
                Unsafe.Add(ref grow, label) -= hardGradient;
            }
        }
        return T.CreateTruncating(total / batch);
    }

    // ---- KL divergence --------------------------------------------------------------------------------------------

    /// <summary>
    /// KL divergence from a target distribution t to softmax(y), PyTorch's <c>KLDivLoss(reduction='batchmean')</c> applied
    /// to <c>log_softmax(y)</c>: computes
    /// <code>
    /// L = (1/B) Σ_b Σ_j t_bj · (log t_bj − log softmax(y_b)_j),   log softmax(y_b)_j = (y_bj − m_b) − log Σ_k e^(y_bk − m_b),
    /// </code>
    /// with 0·log 0 = 0 (terms with t_bj = 0 are skipped, as PyTorch's <c>xlogy</c>) and m_b = max_j y_bj, and, unless
    /// <paramref name="gradient"/> is empty, gradient[b, j] = (softmax(y_b)_j · Σ_k t_bk − t_bj) / B.
    /// </summary>
    /// <remarks>
    /// Rows of <paramref name="targets"/> should be distributions (see <see cref="ValidateDistribution"/>); the gradient
    /// keeps the Σ_k t_bk factor, so it is exact for the loss as written even when a row sums to 1 only approximately.
    /// Negative targets give NaN (log of a negative number). Everything after the row maximum is computed in double
    /// (e^, log, the products), then rounded to <typeparamref name="T"/>. With a one-hot t the loss is the cross-entropy.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">batch or classes &lt; 1.</exception>
    /// <exception cref="ArgumentException">A span is too short, or <paramref name="gradient"/> partially overlaps an input.</exception>
    public static T KLDivergence<T>(ReadOnlySpan<T> logits, ReadOnlySpan<T> targets, Span<T> gradient, int batch, int classes)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int n = CheckShape(batch, classes, nameof(classes));
        ThrowHelper.ThrowIfLengthLessThan(logits.Length, n, nameof(logits));
        ThrowHelper.ThrowIfLengthLessThan(targets.Length, n, nameof(targets));
        bool withGradient = CheckGradient(gradient, logits, n, nameof(logits));
        if (withGradient) CheckGradient(gradient, targets, n, nameof(targets));

        ref T y = ref MemoryMarshal.GetReference(logits);
        ref T t = ref MemoryMarshal.GetReference(targets);
        ref T g = ref MemoryMarshal.GetReference(gradient);
        double invBatch = 1.0 / batch;
        double total = 0;
        for (int b = 0; b < batch; b++)
        {
            ref T row = ref Unsafe.Add(ref y, b * classes);
            ref T trow = ref Unsafe.Add(ref t, b * classes);
            // 1. m = max_j y_j; s = Σ_j e^(y_j − m) ∈ [1, K] in double.
            T mT = row;
            for (int j = 1; j < classes; j++) mT = T.Max(mT, Unsafe.Add(ref row, j));
            double m = double.CreateTruncating(mT), s = 0;
            for (int j = 0; j < classes; j++) s += Math.Exp(double.CreateTruncating(Unsafe.Add(ref row, j)) - m);
            double logS = Math.Log(s);
            // 2. Σ_j t_j (log t_j − log p_j) over t_j ≠ 0, and Σ_j t_j for the gradient.
            double rowLoss = 0, tSum = 0;
            for (int j = 0; j < classes; j++)
            {
                double tj = double.CreateTruncating(Unsafe.Add(ref trow, j));
                tSum += tj;
                if (tj != 0) rowLoss += tj * (Math.Log(tj) - (double.CreateTruncating(Unsafe.Add(ref row, j)) - m - logS));
            }
            total += rowLoss;
            // 3. gradient = (p·Σt − t)/B with p_j = e^(y_j − m)/s; y_j and t_j are read before gradient[j] is written.
            if (withGradient)
            {
                ref T grow = ref Unsafe.Add(ref g, b * classes);
                double scale = tSum / s;
                for (int j = 0; j < classes; j++)
                {
                    double pj = Math.Exp(double.CreateTruncating(Unsafe.Add(ref row, j)) - m) * scale;
                    Unsafe.Add(ref grow, j) = T.CreateTruncating((pj - double.CreateTruncating(Unsafe.Add(ref trow, j))) * invBatch);
                }
            }
        }
        return T.CreateTruncating(total / batch);
    }

    // ---- multiclass SVM hinge -------------------------------------------------------------------------------------

    /// <summary>
    /// The multiclass SVM (Weston–Watkins) hinge loss of cs231n: computes
    /// <code>
    /// L = (1/B) Σ_b Σ_{j ≠ y_b} max(0, s_bj − s_b,y_b + Δ)
    /// </code>
    /// with Δ = <paramref name="margin"/> (cs231n uses 1), and, unless <paramref name="gradient"/> is empty, the
    /// subgradient gradient[b, j] = [margin_bj &gt; 0] / B for j ≠ y_b and gradient[b, y_b] = −(number of j ≠ y_b with
    /// margin_bj &gt; 0) / B. A margin of exactly 0 counts as inactive (the subgradient 0 at the kink).
    /// </summary>
    /// <remarks>
    /// <para>Margins s_bj − s_b,y_b + Δ are evaluated in double (exact for float scores of similar magnitude), once per
    /// element, and the same value decides both the loss term and the subgradient.</para>
    /// <para>Departure from PyTorch: <c>MultiMarginLoss(p=1, margin=Δ)</c> also divides each row by the number of classes K
    /// (L_PyTorch = L / K); this is cs231n's form, summed over classes.</para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">batch or classes &lt; 1, a non-finite margin, or a label outside [0, K).</exception>
    /// <exception cref="ArgumentException">A span is too short, or <paramref name="gradient"/> partially overlaps <paramref name="scores"/>.</exception>
    public static T MulticlassHinge<T>(ReadOnlySpan<T> scores, ReadOnlySpan<int> labels, Span<T> gradient, int batch, int classes, T margin)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int n = CheckShape(batch, classes, nameof(classes));
        ThrowHelper.ThrowIfLengthLessThan(scores.Length, n, nameof(scores));
        ThrowHelper.ThrowIfLengthLessThan(labels.Length, batch, nameof(labels));
        if (!T.IsFinite(margin)) ThrowOutOfRange(nameof(margin), double.CreateTruncating(margin), "The margin must be finite.");
        bool withGradient = CheckGradient(gradient, scores, n, nameof(scores));
        CheckLabels(labels, batch, classes, nameof(labels));

        ref T x = ref MemoryMarshal.GetReference(scores);
        ref T g = ref MemoryMarshal.GetReference(gradient);
        ref int labelRef = ref MemoryMarshal.GetReference(labels);
        T invBatch = T.One / T.CreateTruncating(batch);
        double delta = double.CreateTruncating(margin);
        double total = 0;
        for (int b = 0; b < batch; b++)
        {
            ref T row = ref Unsafe.Add(ref x, b * classes);
            ref T grow = ref Unsafe.Add(ref g, b * classes);
            int label = Unsafe.Add(ref labelRef, b);
            // The label's score is read first, so the row may be overwritten by its gradient as the loop goes.
            double shift = delta - double.CreateTruncating(Unsafe.Add(ref row, label));
            int active = 0;
            for (int j = 0; j < classes; j++)
            {
                if (j == label) continue;
                double mj = double.CreateTruncating(Unsafe.Add(ref row, j)) + shift;
                bool on = mj > 0;
                if (on) { total += mj; active++; }
                if (withGradient) Unsafe.Add(ref grow, j) = on ? invBatch : T.Zero;
            }
            if (withGradient) Unsafe.Add(ref grow, label) = -T.CreateTruncating(active) * invBatch;
        }
        return T.CreateTruncating(total / batch);
    }

    // ---- binary cross-entropy with logits -------------------------------------------------------------------------

    /// <summary>
    /// Binary cross-entropy on logits x with targets t ∈ [0, 1]: computes, per element,
    /// <code>
    /// ℓ = max(x, 0) − x·t + log(1 + e^(−|x|))      (= −t·log σ(x) − (1 − t)·log(1 − σ(x)), without overflow)
    /// L = (1/B) Σ_b Σ_j ℓ_bj
    /// </code>
    /// and, unless <paramref name="gradient"/> is empty, gradient = (σ(x) − t) / B, with σ(x) = 1/(1 + e^(−|x|)) for x &gt; 0
    /// and e^(−|x|)/(1 + e^(−|x|)) otherwise (no cancellation on either side).
    /// </summary>
    /// <remarks>
    /// <para>
    /// Departure from PyTorch: <c>BCEWithLogitsLoss()</c>'s default 'mean' reduction divides by every element (B·width);
    /// this sums over the <paramref name="width"/> outputs and averages over the batch only, like the other losses here
    /// (L_PyTorch = L / width; PyTorch's 'sum' is B·L). The gradient scales the same way.
    /// </para>
    /// <para>
    /// Stable for any finite x: e^(−|x|) ∈ [0, 1] never overflows, so |x| = 1e4 (or 1e30) gives ℓ = max(x, 0) − x·t
    /// and σ ∈ {0, 1} exactly. log(1 + u), u = e^(−|x|), is evaluated with Kahan's log1p: w = 1 + u,
    /// log1p(u) = u·log(w)/(w − 1) (u itself when w rounds to 1), so small terms keep full relative accuracy.
    /// ±∞ or NaN logits give NaN.
    /// </para>
    /// <para>Vectorized at the widest accelerated width with a scalar tail; element losses are accumulated in double lanes
    /// in a fixed order (see <see cref="Regularization"/>).</para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">batch or width &lt; 1.</exception>
    /// <exception cref="ArgumentException">A span is too short, or <paramref name="gradient"/> partially overlaps an input.</exception>
    public static T BinaryCrossEntropyWithLogits<T>(ReadOnlySpan<T> logits, ReadOnlySpan<T> targets, Span<T> gradient, int batch, int width)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int n = CheckShape(batch, width, nameof(width));
        ThrowHelper.ThrowIfLengthLessThan(logits.Length, n, nameof(logits));
        ThrowHelper.ThrowIfLengthLessThan(targets.Length, n, nameof(targets));
        bool withGradient = CheckGradient(gradient, logits, n, nameof(logits));
        if (withGradient) CheckGradient(gradient, targets, n, nameof(targets));

        ref T x = ref MemoryMarshal.GetReference(logits);
        ref T t = ref MemoryMarshal.GetReference(targets);
        ref T g = ref MemoryMarshal.GetReference(gradient);
        T invBatch = T.One / T.CreateTruncating(batch);
        double total;
        if (withGradient)
        {
            if (Vector512.IsHardwareAccelerated) total = BceCore<T, Simd512<T>, On>(ref x, ref t, ref g, (nuint)n, invBatch);
            else if (Vector256.IsHardwareAccelerated) total = BceCore<T, Simd256<T>, On>(ref x, ref t, ref g, (nuint)n, invBatch);
            else total = BceCore<T, SimdScalar<T>, On>(ref x, ref t, ref g, (nuint)n, invBatch);
        }
        else
        {
            if (Vector512.IsHardwareAccelerated) total = BceCore<T, Simd512<T>, Off>(ref x, ref t, ref g, (nuint)n, invBatch);
            else if (Vector256.IsHardwareAccelerated) total = BceCore<T, Simd256<T>, Off>(ref x, ref t, ref g, (nuint)n, invBatch);
            else total = BceCore<T, SimdScalar<T>, Off>(ref x, ref t, ref g, (nuint)n, invBatch);
        }
        return T.CreateTruncating(total / batch);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double BceCore<T, TV, TG>(ref T x, ref T t, ref T g, nuint n, T invBatch)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> where TG : struct, IFlag
    {
        nuint w = (nuint)TV.Count, i = 0;
        WideAccumulator<T, TV> a0 = default, a1 = default;
        for (; i + 2 * w <= n; i += 2 * w)
        {
            a0.Add(BceBody<T, TV, TG>(ref x, ref t, ref g, i, invBatch));
            a1.Add(BceBody<T, TV, TG>(ref x, ref t, ref g, i + w, invBatch));
        }
        if (i + w <= n) { a0.Add(BceBody<T, TV, TG>(ref x, ref t, ref g, i, invBatch)); i += w; }
        double total = a0.Total + a1.Total;
        for (; i < n; i++) total += double.CreateTruncating(BceBody<T, SimdScalar<T>, TG>(ref x, ref t, ref g, i, invBatch).V);
        return total;
    }

    /// <summary>Computes ℓ for one register and, when <typeparamref name="TG"/> is on, stores (σ(x) − t)/B.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV BceBody<T, TV, TG>(ref T x, ref T t, ref T g, nuint i, T invBatch)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> where TG : struct, IFlag
    {
        TV xv = TV.Load(ref x, i), tv = TV.Load(ref t, i);
        TV one = TV.Create(T.One);
        // 1. u = e^(−|x|) ∈ [0, 1]: never overflows.
        TV u = TV.Exp(-TV.Abs(xv));
        // 2. Kahan's log1p(u): w = 1 + u; u·log(w)/(w − 1), or u where w rounds to 1 (there the quotient is 0/0).
        TV w = one + u;
        TV log1p = TV.SelectEquals(w, one, u, TV.Log(w) * u / (w - one));
        // 3. ℓ = max(x, 0) − x·t + log1p(e^(−|x|)).
        TV loss = TV.Max(xv, TV.Zero) - xv * tv + log1p;
        if (TG.Enabled)
        {
            // 4. σ(x) = 1/w for x > 0, u/w otherwise; gradient = (σ − t)/B. x and t were loaded before this store.
            TV sigma = TV.SelectGreaterThan(xv, TV.Zero, one, u) / w;
            TV.Store((sigma - tv) * TV.Create(invBatch), ref g, i);
        }
        return loss;
    }

    // ---- negative log-likelihood -----------------------------------------------------------------------------------

    /// <summary>
    /// Negative log-likelihood of class labels on log-probabilities y: L = −(1/B) Σ_b y_b,label_b (PyTorch's
    /// <c>NLLLoss()</c> without class weights), and, unless <paramref name="gradient"/> is empty, gradient[b, j] =
    /// −[j = label_b] / B. The loss is meaningful only when each row of y is log-probabilities (a log-softmax output); it
    /// is not checked here.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">batch or classes &lt; 1, or a label outside [0, K).</exception>
    /// <exception cref="ArgumentException">A span is too short, or <paramref name="gradient"/> partially overlaps <paramref name="logProbabilities"/>.</exception>
    public static T NegativeLogLikelihood<T>(ReadOnlySpan<T> logProbabilities, ReadOnlySpan<int> labels, Span<T> gradient, int batch, int classes)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int n = CheckShape(batch, classes, nameof(classes));
        ThrowHelper.ThrowIfLengthLessThan(logProbabilities.Length, n, nameof(logProbabilities));
        ThrowHelper.ThrowIfLengthLessThan(labels.Length, batch, nameof(labels));
        bool withGradient = CheckGradient(gradient, logProbabilities, n, nameof(logProbabilities));
        CheckLabels(labels, batch, classes, nameof(labels));
        double total = 0;
        // Read every picked value before the gradient (which may alias the outputs) is written.
        for (int b = 0; b < batch; b++) total -= double.CreateTruncating(logProbabilities[b * classes + labels[b]]);
        if (withGradient)
        {
            T step = -T.One / T.CreateTruncating(batch);
            gradient.Slice(0, n).Clear();
            for (int b = 0; b < batch; b++) gradient[b * classes + labels[b]] = step;
        }
        return T.CreateTruncating(total / batch);
    }

    // ---- a user's element-wise loss --------------------------------------------------------------------------------

    /// <summary>
    /// A user's element-wise loss <typeparamref name="TOp"/>: L = (1/B) Σ_b Σ_j ℓ(y_bj, t_bj) and, unless
    /// <paramref name="gradient"/> is empty, gradient = ∂ℓ/∂y / B. Vectorized at the widest accelerated width with a scalar
    /// tail; element losses are accumulated in double lanes in a fixed order.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">batch or width &lt; 1.</exception>
    /// <exception cref="ArgumentException">A span is too short, or <paramref name="gradient"/> partially overlaps an input.</exception>
    public static T Elementwise<T, TOp>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, Span<T> gradient, int batch, int width)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : IElementwiseLossOp<T>
    {
        int n = CheckShape(batch, width, nameof(width));
        ThrowHelper.ThrowIfLengthLessThan(outputs.Length, n, nameof(outputs));
        ThrowHelper.ThrowIfLengthLessThan(targets.Length, n, nameof(targets));
        bool withGradient = CheckGradient(gradient, outputs, n, nameof(outputs));
        if (withGradient) CheckGradient(gradient, targets, n, nameof(targets));
        ref T y = ref MemoryMarshal.GetReference(outputs);
        ref T t = ref MemoryMarshal.GetReference(targets);
        ref T g = ref MemoryMarshal.GetReference(gradient);
        T invBatch = T.One / T.CreateTruncating(batch);
        double total;
        if (Vector512.IsHardwareAccelerated) total = ElementwiseCore<T, TOp, Simd512<T>>(ref y, ref t, ref g, (nuint)n, invBatch, withGradient);
        else if (Vector256.IsHardwareAccelerated) total = ElementwiseCore<T, TOp, Simd256<T>>(ref y, ref t, ref g, (nuint)n, invBatch, withGradient);
        else total = ElementwiseCore<T, TOp, SimdScalar<T>>(ref y, ref t, ref g, (nuint)n, invBatch, withGradient);
        return T.CreateTruncating(total / batch);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double ElementwiseCore<T, TOp, TV>(ref T y, ref T t, ref T g, nuint n, T invBatch, bool withGradient)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : IElementwiseLossOp<T> where TV : struct, ISimd<TV, T>
    {
        nuint w = (nuint)TV.Count, i = 0;
        WideAccumulator<T, TV> a0 = default;
        TV scale = TV.Create(invBatch);
        for (; i + w <= n; i += w)
        {
            // Both inputs are loaded before the gradient (which may alias neither partially) is stored.
            TV yv = TV.Load(ref y, i), tv = TV.Load(ref t, i);
            a0.Add(TOp.Loss(yv, tv));
            if (withGradient) TV.Store(TOp.Gradient(yv, tv) * scale, ref g, i);
        }
        double total = a0.Total;
        for (; i < n; i++)
        {
            var yv = new SimdScalar<T>(Unsafe.Add(ref y, i));
            var tv = new SimdScalar<T>(Unsafe.Add(ref t, i));
            total += double.CreateTruncating(TOp.Loss(yv, tv).V);
            if (withGradient) Unsafe.Add(ref g, i) = TOp.Gradient(yv, tv).V * invBatch;
        }
        return total;
    }

    // ---- reductions -----------------------------------------------------------------------------------------------

    /// <summary>
    /// Rescales a loss kernel's batch mean and its gradient to another <see cref="LossReduction"/>: returns
    /// <paramref name="loss"/>·<paramref name="factor"/> and multiplies the first <paramref name="count"/> gradient entries by
    /// it (nothing when <paramref name="gradient"/> is empty). The factor is B for <see cref="LossReduction.Sum"/> and 1/K for
    /// <see cref="LossReduction.Mean"/> of an element-wise loss.
    /// </summary>
    public static T Rescale<T>(T loss, Span<T> gradient, int count, T factor) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (!gradient.IsEmpty)
        {
            if ((uint)count > (uint)gradient.Length) ThrowOutOfRange(nameof(count), count, "The count must lie in [0, gradient.Length].");
            Span<T> g = gradient.Slice(0, count);
            int i = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; i + Vector512<T>.Count <= g.Length; i += Vector512<T>.Count)
                    (Vector512.Create(g.Slice(i)) * factor).CopyTo(g.Slice(i));
            else if (Vector256.IsHardwareAccelerated)
                for (; i + Vector256<T>.Count <= g.Length; i += Vector256<T>.Count)
                    (Vector256.Create(g.Slice(i)) * factor).CopyTo(g.Slice(i));
            for (; i < g.Length; i++) g[i] *= factor;
        }
        return loss * factor;
    }

    // ---- validation -----------------------------------------------------------------------------------------------

    /// <summary>
    /// Throws an <see cref="ArgumentException"/> naming <paramref name="paramName"/> and the row unless every row of the
    /// [batch × classes] <paramref name="targets"/> is a distribution: each entry finite and ≥ 0, and
    /// |Σ_j t_bj − 1| ≤ τ with τ = max(1e-5, 4·K·ε_T) (sum in double; ε_T = 2^-23 for float, 2^-52 for double).
    /// </summary>
    /// <remarks>
    /// 4·K·ε_T covers the rounding of a K-term normalization done in <typeparamref name="T"/>; the 1e-5 floor also
    /// accepts rows normalized in single precision and stored as double (error ≤ K·2^-24, up to ~80 classes), while
    /// still rejecting hand-rounded rows such as (0.333, 0.333, 0.333).
    /// </remarks>
    public static void ValidateDistribution<T>(ReadOnlySpan<T> targets, int batch, int classes, string paramName)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int n = CheckShape(batch, classes, nameof(classes));
        ThrowHelper.ThrowIfLengthLessThan(targets.Length, n, paramName);
        double epsilon = double.CreateTruncating(T.BitIncrement(T.One) - T.One);
        double tolerance = Math.Max(1e-5, 4 * classes * epsilon);
        for (int b = 0; b < batch; b++)
        {
            double sum = 0;
            for (int j = 0; j < classes; j++)
            {
                T v = targets[b * classes + j];
                if (!T.IsFinite(v) || v < T.Zero) ThrowBadEntry(paramName, b, j, double.CreateTruncating(v));
                sum += double.CreateTruncating(v);
            }
            if (!(Math.Abs(sum - 1) <= tolerance)) ThrowBadRowSum(paramName, b, sum, tolerance);
        }
    }

    /// <summary>
    /// Throws an <see cref="ArgumentException"/> naming <paramref name="paramName"/> and the index unless every value of
    /// <paramref name="targets"/> is a probability: finite and in [0, 1] (NaN fails).
    /// </summary>
    public static void ValidateProbabilities<T>(ReadOnlySpan<T> targets, string paramName)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (int i = 0; i < targets.Length; i++)
        {
            T v = targets[i];
            if (!(v >= T.Zero && v <= T.One)) ThrowNotProbability(paramName, i, double.CreateTruncating(v));
        }
    }

    // ---- shared checks ----------------------------------------------------------------------------------------------

    /// <summary>Checks batch ≥ 1 and 1 ≤ width with batch·width representable; returns batch·width.</summary>
    private static int CheckShape(int batch, int width, string widthName)
    {
        if (batch < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "The batch must hold at least one row.");
        if (width < 1) ThrowHelper.ThrowArgumentOutOfRange(widthName, width, $"'{widthName}' must be at least 1.");
        if (batch > int.MaxValue / width) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, $"batch × {widthName} overflows an int.");
        return batch * width;
    }

    /// <summary>Returns whether a gradient was asked for; checks its length and that it does not partially overlap <paramref name="input"/>.</summary>
    private static bool CheckGradient<T>(Span<T> gradient, ReadOnlySpan<T> input, int n, string inputName)
    {
        if (gradient.IsEmpty) return false;
        ThrowHelper.ThrowIfLengthLessThan(gradient.Length, n, nameof(gradient));
        if (((ReadOnlySpan<T>)gradient.Slice(0, n)).Overlaps(input.Slice(0, n), out int offset) && offset != 0)
            Regularization.ThrowPartialOverlap(nameof(gradient), inputName);
        return true;
    }

    private static void CheckLabels(ReadOnlySpan<int> labels, int batch, int classes, string paramName)
    {
        for (int i = 0; i < batch; i++)
            if ((uint)labels[i] >= (uint)classes) ThrowHelper.ThrowLabelOutOfRange(paramName, i, labels[i], classes);
    }

    [DoesNotReturn]
    private static void ThrowOutOfRange(string paramName, double value, string message) =>
        throw new ArgumentOutOfRangeException(paramName, value, message);

    [DoesNotReturn]
    private static void ThrowBadEntry(string paramName, int row, int column, double value) =>
        throw new ArgumentException(
            $"{paramName}: row {row} is not a distribution: entry {column} is {value}, but entries must be finite and non-negative.", paramName);

    [DoesNotReturn]
    private static void ThrowBadRowSum(string paramName, int row, double sum, double tolerance) =>
        throw new ArgumentException($"{paramName}: row {row} is not a distribution: it sums to {sum:R}, not 1 (tolerance {tolerance:G3}).", paramName);

    [DoesNotReturn]
    private static void ThrowNotProbability(string paramName, int index, double value) =>
        throw new ArgumentException($"{paramName}[{index}] = {value} is not a probability in [0, 1].", paramName);
}
