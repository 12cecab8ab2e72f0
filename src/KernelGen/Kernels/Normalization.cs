using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelGen.Operators;

namespace KernelGen.Kernels;

/// <summary>
/// Normalization layer kernels (batch, layer and group normalization) on row-major [batch × features] activations,
/// with PyTorch's semantics (<c>BatchNorm1d</c>, <c>LayerNorm</c>, <c>GroupNorm</c>): biased variance inside the
/// square root, ε added to the variance, γ and β per feature. Each public method validates every span length once
/// and then runs at the widest hardware-accelerated vector width (512, 256 bits, or scalar).
/// </summary>
/// <remarks>
/// <para>Derivation notes (shared by all three layers; a "segment" is the set of n values normalized together):</para>
/// <list type="number">
/// <item>Shifted data: with K = the segment's first value and d = x − K, the mean is μ = K + mean(d) and the centred
/// value is x − μ = d − mean(d). When every value equals K, d is exactly 0, so x̂ is exactly 0 and y is exactly β
/// (no rounding residue from Σx/n ≠ x), and the two-pass variance Σ(d − mean d)²/n is never negative.</item>
/// <item>x̂ = (x − μ)·s with s = 1/√(σ² + ε). Since ∂s/∂σ² = −s³/2 and ∂σ²/∂x_j = 2(x_j − μ)/n, backpropagating
/// g = ∂L/∂x̂ through μ and σ² gives ∂L/∂x_j = s/n · (n·g_j − Σ_i g_i − x̂_j·Σ_i g_i·x̂_i), exactly (ε included).</item>
/// <item>With g = γ·dy: Σ g = γ·dβ and Σ g·x̂ = γ·dγ for batch norm (γ is constant over the segment), which gives
/// the familiar dx = γ·s/B · (B·dy − dβ − x̂·dγ).</item>
/// </list>
/// <para>NaN/±∞: a NaN or infinity in a segment makes that segment's mean, variance, x̂, y and (for batch norm) running
/// statistics NaN; other segments are unaffected. ε = 0 with a constant segment gives s = +∞ and x̂ = 0·∞ = NaN,
/// as in PyTorch; any ε &gt; 0 keeps every result finite for finite input.</para>
/// <para>Determinism: every reduction runs in a fixed order, so results are bit-identical from run to run. Batch norm
/// reduces over rows lane by lane with no horizontal sums or fused multiply-adds, so its results are also identical
/// at every vector width; layer and group norm reduce within a row, so widths may differ by float reordering.</para>
/// </remarks>
public static partial class Normalization
{
    private const int Unroll = 4; // independent accumulators per reduction (hides add latency)

    // ---- batch norm ------------------------------------------------------------------------------------------------

    /// <summary>
    /// Batch normalization in training mode (PyTorch <c>BatchNorm1d.train()</c>): for each feature f, over the batch,
    /// computes μ = mean, σ² = biased variance, x̂ = (x − μ)/√(σ² + ε) and y = γ·x̂ + β. Writes the caches
    /// <paramref name="normalized"/> (x̂, [batch × features]) and <paramref name="invStd"/> (1/√(σ² + ε), [features])
    /// for <see cref="BatchNormBackward"/>, and updates the running statistics
    /// rm ← (1 − m)·rm + m·μ and rv ← (1 − m)·rv + m·σ²·B/(B − 1) (unbiased), m = <paramref name="momentum"/>
    /// (PyTorch's default is 0.1). <paramref name="y"/> may alias <paramref name="x"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> &lt; 2 (the variance of one value per
    /// feature is undefined; PyTorch raises too), <paramref name="features"/> ≤ 0, ε &lt; 0 or NaN, or m outside [0, 1].</exception>
    /// <exception cref="ArgumentException">A span is shorter (or, for per-feature spans, not exactly as long) as required.</exception>
    public static void BatchNormForwardTraining<T>(ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta,
        Span<T> normalized, Span<T> invStd, Span<T> runningMean, Span<T> runningVar, int batch, int features, T epsilon, T momentum)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (batch < 2) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "Batch normalization in training mode needs at least 2 rows (the variance of one value per feature is undefined).");
        int n = Area(batch, features);
        ValidateEpsilon(epsilon);
        if (!(momentum >= T.Zero && momentum <= T.One)) ThrowHelper.ThrowArgumentOutOfRange(nameof(momentum), momentum, "The momentum must lie in [0, 1].");
        ThrowHelper.ThrowIfLengthLessThan(x.Length, n, nameof(x));
        ThrowHelper.ThrowIfLengthLessThan(y.Length, n, nameof(y));
        ThrowHelper.ThrowIfLengthNotEqual(gamma.Length, features, nameof(gamma));
        ThrowHelper.ThrowIfLengthNotEqual(beta.Length, features, nameof(beta));
        ThrowHelper.ThrowIfLengthLessThan(normalized.Length, n, nameof(normalized));
        ThrowHelper.ThrowIfLengthNotEqual(invStd.Length, features, nameof(invStd));
        ThrowHelper.ThrowIfLengthNotEqual(runningMean.Length, features, nameof(runningMean));
        ThrowHelper.ThrowIfLengthNotEqual(runningVar.Length, features, nameof(runningVar));
        var a = new BatchNormArgs<T>(batch, features, epsilon, momentum);
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T yr = ref MemoryMarshal.GetReference(y);
        ref T g = ref MemoryMarshal.GetReference(gamma);
        ref T b = ref MemoryMarshal.GetReference(beta);
        ref T xh = ref MemoryMarshal.GetReference(normalized);
        ref T s = ref MemoryMarshal.GetReference(invStd);
        ref T rm = ref MemoryMarshal.GetReference(runningMean);
        ref T rv = ref MemoryMarshal.GetReference(runningVar);
        if (Vector512.IsHardwareAccelerated) BatchNormTrainingCore<T, Simd512<T>>(ref xr, ref yr, ref g, ref b, ref xh, ref s, ref rm, ref rv, a);
        else if (Vector256.IsHardwareAccelerated) BatchNormTrainingCore<T, Simd256<T>>(ref xr, ref yr, ref g, ref b, ref xh, ref s, ref rm, ref rv, a);
        else BatchNormTrainingCore<T, SimdScalar<T>>(ref xr, ref yr, ref g, ref b, ref xh, ref s, ref rm, ref rv, a);
    }

    /// <summary>
    /// Batch normalization in evaluation mode (PyTorch <c>BatchNorm1d.eval()</c>): computes
    /// y = γ·(x − rm)/√(rv + ε) + β per feature from the running statistics, evaluated as (x − rm)·(γ·s) + β with
    /// s = 1/√(rv + ε). <paramref name="y"/> may alias <paramref name="x"/>. NaN in x, rm or rv propagates to the
    /// affected outputs only; rv + ε ≤ 0 gives ±∞ or NaN.
    /// </summary>
    public static void BatchNormForwardInference<T>(ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta,
        ReadOnlySpan<T> runningMean, ReadOnlySpan<T> runningVar, int batch, int features, T epsilon)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (batch <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "The batch size must be positive.");
        int n = Area(batch, features);
        ValidateEpsilon(epsilon);
        ThrowHelper.ThrowIfLengthLessThan(x.Length, n, nameof(x));
        ThrowHelper.ThrowIfLengthLessThan(y.Length, n, nameof(y));
        ThrowHelper.ThrowIfLengthNotEqual(gamma.Length, features, nameof(gamma));
        ThrowHelper.ThrowIfLengthNotEqual(beta.Length, features, nameof(beta));
        ThrowHelper.ThrowIfLengthNotEqual(runningMean.Length, features, nameof(runningMean));
        ThrowHelper.ThrowIfLengthNotEqual(runningVar.Length, features, nameof(runningVar));
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T yr = ref MemoryMarshal.GetReference(y);
        ref T g = ref MemoryMarshal.GetReference(gamma);
        ref T b = ref MemoryMarshal.GetReference(beta);
        ref T rm = ref MemoryMarshal.GetReference(runningMean);
        ref T rv = ref MemoryMarshal.GetReference(runningVar);
        if (Vector512.IsHardwareAccelerated) BatchNormInferenceCore<T, Simd512<T>>(ref xr, ref yr, ref g, ref b, ref rm, ref rv, batch, features, epsilon);
        else if (Vector256.IsHardwareAccelerated) BatchNormInferenceCore<T, Simd256<T>>(ref xr, ref yr, ref g, ref b, ref rm, ref rv, batch, features, epsilon);
        else BatchNormInferenceCore<T, SimdScalar<T>>(ref xr, ref yr, ref g, ref b, ref rm, ref rv, batch, features, epsilon);
    }

    /// <summary>
    /// Backward pass of training-mode batch normalization, through the batch mean and variance (the staged derivation through μ and σ²,
    /// collapsed; see the remarks): computes dβ = Σ_b dy, dγ = Σ_b dy·x̂ (overwriting both) and
    /// dx = γ·invStd/B · (B·dy − dβ − x̂·dγ), from the caches written by <see cref="BatchNormForwardTraining"/>.
    /// <paramref name="dx"/> may alias <paramref name="dy"/>. A NaN in a feature's dy or x̂ makes that feature's
    /// dγ, dβ and dx column NaN.
    /// </summary>
    public static void BatchNormBackward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> normalized, ReadOnlySpan<T> invStd, ReadOnlySpan<T> gamma,
        Span<T> dx, Span<T> dGamma, Span<T> dBeta, int batch, int features)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (batch <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "The batch size must be positive.");
        int n = Area(batch, features);
        ThrowHelper.ThrowIfLengthLessThan(dy.Length, n, nameof(dy));
        ThrowHelper.ThrowIfLengthLessThan(normalized.Length, n, nameof(normalized));
        ThrowHelper.ThrowIfLengthNotEqual(invStd.Length, features, nameof(invStd));
        ThrowHelper.ThrowIfLengthNotEqual(gamma.Length, features, nameof(gamma));
        ThrowHelper.ThrowIfLengthLessThan(dx.Length, n, nameof(dx));
        ThrowHelper.ThrowIfLengthNotEqual(dGamma.Length, features, nameof(dGamma));
        ThrowHelper.ThrowIfLengthNotEqual(dBeta.Length, features, nameof(dBeta));
        ref T dyr = ref MemoryMarshal.GetReference(dy);
        ref T xh = ref MemoryMarshal.GetReference(normalized);
        ref T s = ref MemoryMarshal.GetReference(invStd);
        ref T g = ref MemoryMarshal.GetReference(gamma);
        ref T dxr = ref MemoryMarshal.GetReference(dx);
        ref T dg = ref MemoryMarshal.GetReference(dGamma);
        ref T db = ref MemoryMarshal.GetReference(dBeta);
        if (Vector512.IsHardwareAccelerated) BatchNormBackwardCore<T, Simd512<T>>(ref dyr, ref xh, ref s, ref g, ref dxr, ref dg, ref db, batch, features);
        else if (Vector256.IsHardwareAccelerated) BatchNormBackwardCore<T, Simd256<T>>(ref dyr, ref xh, ref s, ref g, ref dxr, ref dg, ref db, batch, features);
        else BatchNormBackwardCore<T, SimdScalar<T>>(ref dyr, ref xh, ref s, ref g, ref dxr, ref dg, ref db, batch, features);
    }

    // ---- layer norm / group norm -----------------------------------------------------------------------------------

    /// <summary>
    /// Layer normalization (PyTorch <c>LayerNorm(features)</c>; the same in training and evaluation): for each sample,
    /// over its features, computes μ, biased σ², x̂ = (x − μ)/√(σ² + ε) and y = γ·x̂ + β (γ, β per feature). Writes the
    /// caches <paramref name="normalized"/> (x̂, [batch × features]) and <paramref name="invStd"/> ([batch]).
    /// <paramref name="y"/> may alias <paramref name="x"/>. Group normalization with one group.
    /// </summary>
    public static void LayerNormForward<T>(ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta,
        Span<T> normalized, Span<T> invStd, int batch, int features, T epsilon)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        GroupNormForward(x, y, gamma, beta, normalized, invStd, batch, features, 1, epsilon);

    /// <summary>
    /// Backward pass of <see cref="LayerNormForward"/>: computes dβ = Σ_b dy and dγ = Σ_b dy·x̂ (overwriting both) and,
    /// per sample with g = γ·dy over its n = features values, dx = invStd/n · (n·g − Σ g − x̂·Σ g·x̂).
    /// <paramref name="dx"/> may alias <paramref name="dy"/>. A NaN in a sample's dy makes its whole dx row NaN.
    /// </summary>
    public static void LayerNormBackward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> normalized, ReadOnlySpan<T> invStd, ReadOnlySpan<T> gamma,
        Span<T> dx, Span<T> dGamma, Span<T> dBeta, int batch, int features)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        GroupNormBackward(dy, normalized, invStd, gamma, dx, dGamma, dBeta, batch, features, 1);

    /// <summary>
    /// Group normalization (PyTorch <c>GroupNorm(groups, features)</c> on [batch × features]): the features are split
    /// into <paramref name="groups"/> contiguous groups of features/groups values; for each sample and group computes
    /// μ, biased σ², x̂ = (x − μ)/√(σ² + ε), then y = γ·x̂ + β with γ, β per feature. Writes the caches
    /// <paramref name="normalized"/> (x̂, [batch × features]) and <paramref name="invStd"/> ([batch × groups]).
    /// <paramref name="y"/> may alias <paramref name="x"/>. NaN or ±∞ in a group makes that group's outputs NaN.
    /// </summary>
    public static void GroupNormForward<T>(ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta,
        Span<T> normalized, Span<T> invStd, int batch, int features, int groups, T epsilon)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int n = ValidateGroups(batch, features, groups);
        ValidateEpsilon(epsilon);
        ThrowHelper.ThrowIfLengthLessThan(x.Length, n, nameof(x));
        ThrowHelper.ThrowIfLengthLessThan(y.Length, n, nameof(y));
        ThrowHelper.ThrowIfLengthNotEqual(gamma.Length, features, nameof(gamma));
        ThrowHelper.ThrowIfLengthNotEqual(beta.Length, features, nameof(beta));
        ThrowHelper.ThrowIfLengthLessThan(normalized.Length, n, nameof(normalized));
        ThrowHelper.ThrowIfLengthLessThan(invStd.Length, batch * groups, nameof(invStd));
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T yr = ref MemoryMarshal.GetReference(y);
        ref T g = ref MemoryMarshal.GetReference(gamma);
        ref T b = ref MemoryMarshal.GetReference(beta);
        ref T xh = ref MemoryMarshal.GetReference(normalized);
        ref T s = ref MemoryMarshal.GetReference(invStd);
        if (Vector512.IsHardwareAccelerated) GroupNormForwardCore<T, Simd512<T>>(ref xr, ref yr, ref g, ref b, ref xh, ref s, batch, features, groups, epsilon);
        else if (Vector256.IsHardwareAccelerated) GroupNormForwardCore<T, Simd256<T>>(ref xr, ref yr, ref g, ref b, ref xh, ref s, batch, features, groups, epsilon);
        else GroupNormForwardCore<T, SimdScalar<T>>(ref xr, ref yr, ref g, ref b, ref xh, ref s, batch, features, groups, epsilon);
    }

    /// <summary>
    /// Backward pass of <see cref="GroupNormForward"/>: computes dβ = Σ_b dy and dγ = Σ_b dy·x̂ (overwriting both) and,
    /// per sample and group with g = γ·dy over its n = features/groups values,
    /// dx = invStd/n · (n·g − Σ g − x̂·Σ g·x̂). <paramref name="dx"/> may alias <paramref name="dy"/>.
    /// </summary>
    public static void GroupNormBackward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> normalized, ReadOnlySpan<T> invStd, ReadOnlySpan<T> gamma,
        Span<T> dx, Span<T> dGamma, Span<T> dBeta, int batch, int features, int groups)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int n = ValidateGroups(batch, features, groups);
        ThrowHelper.ThrowIfLengthLessThan(dy.Length, n, nameof(dy));
        ThrowHelper.ThrowIfLengthLessThan(normalized.Length, n, nameof(normalized));
        ThrowHelper.ThrowIfLengthLessThan(invStd.Length, batch * groups, nameof(invStd));
        ThrowHelper.ThrowIfLengthNotEqual(gamma.Length, features, nameof(gamma));
        ThrowHelper.ThrowIfLengthLessThan(dx.Length, n, nameof(dx));
        ThrowHelper.ThrowIfLengthNotEqual(dGamma.Length, features, nameof(dGamma));
        ThrowHelper.ThrowIfLengthNotEqual(dBeta.Length, features, nameof(dBeta));
        ref T dyr = ref MemoryMarshal.GetReference(dy);
        ref T xh = ref MemoryMarshal.GetReference(normalized);
        ref T s = ref MemoryMarshal.GetReference(invStd);
        ref T g = ref MemoryMarshal.GetReference(gamma);
        ref T dxr = ref MemoryMarshal.GetReference(dx);
        ref T dg = ref MemoryMarshal.GetReference(dGamma);
        ref T db = ref MemoryMarshal.GetReference(dBeta);
        if (Vector512.IsHardwareAccelerated) GroupNormBackwardCore<T, Simd512<T>>(ref dyr, ref xh, ref s, ref g, ref dxr, ref dg, ref db, batch, features, groups);
        else if (Vector256.IsHardwareAccelerated) GroupNormBackwardCore<T, Simd256<T>>(ref dyr, ref xh, ref s, ref g, ref dxr, ref dg, ref db, batch, features, groups);
        else GroupNormBackwardCore<T, SimdScalar<T>>(ref dyr, ref xh, ref s, ref g, ref dxr, ref dg, ref db, batch, features, groups);
    }

    // ---- validation ------------------------------------------------------------------------------------------------

    private static int Area(int batch, int features)
    {
        if (features <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(features), features, "The feature count must be positive.");
        long n = (long)batch * features;
        if (n > int.MaxValue) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "batch × features exceeds the largest span length.");
        return (int)n;
    }

    private static int ValidateGroups(int batch, int features, int groups)
    {
        if (batch <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "The batch size must be positive.");
        int n = Area(batch, features);
        if (groups <= 0 || features % groups != 0)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(groups), groups, $"The group count must be positive and divide the feature count {features}.");
        return n;
    }

    private static void ValidateEpsilon<T>(T epsilon) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (!(epsilon >= T.Zero) || T.IsPositiveInfinity(epsilon)) ThrowHelper.ThrowArgumentOutOfRange(nameof(epsilon), epsilon, "ε must be finite and non-negative.");
    }

    /// <summary>Per-call constants of the training-mode forward pass, computed once.</summary>
    internal readonly struct BatchNormArgs<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        public readonly int Batch, Features;
        public readonly T B, BMinus1, Epsilon, Momentum, OneMinusMomentum;

        public BatchNormArgs(int batch, int features, T epsilon, T momentum)
        {
            Batch = batch; Features = features;
            B = T.CreateTruncating(batch); BMinus1 = T.CreateTruncating(batch - 1);
            Epsilon = epsilon; Momentum = momentum; OneMinusMomentum = T.One - momentum;
        }
    }

    // ---- batch norm cores: strips of TV.Count features, reduced over rows lane by lane -----------------------------

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void BatchNormTrainingCore<T, TV>(ref T x, ref T y, ref T gamma, ref T beta, ref T xhat, ref T invStd,
        ref T runningMean, ref T runningVar, in BatchNormArgs<T> a)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, n = (nuint)a.Features, f = 0;
        for (; f + v <= n; f += v) BatchNormTrainingStrip<T, TV>(ref x, ref y, ref gamma, ref beta, ref xhat, ref invStd, ref runningMean, ref runningVar, f, a);
        for (; f < n; f++) BatchNormTrainingStrip<T, SimdScalar<T>>(ref x, ref y, ref gamma, ref beta, ref xhat, ref invStd, ref runningMean, ref runningVar, f, a);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BatchNormTrainingStrip<T, TV>(ref T x, ref T y, ref T gamma, ref T beta, ref T xhat, ref T invStd,
        ref T runningMean, ref T runningVar, nuint f, in BatchNormArgs<T> a)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint stride = (nuint)a.Features, rows = (nuint)a.Batch, r;
        ref T x0 = ref Unsafe.Add(ref x, f);
        TV k = TV.Load(ref x0, 0);                       // shift (note 1): the first row

        // 1. mean(d), d = x − K: rows ascending, four interleaved accumulators, combined pairwise.
        TV s0 = TV.Zero, s1 = TV.Zero, s2 = TV.Zero, s3 = TV.Zero;
        for (r = 0; r + Unroll <= rows; r += Unroll)
        {
            s0 += TV.Load(ref x0, r * stride) - k;
            s1 += TV.Load(ref x0, (r + 1) * stride) - k;
            s2 += TV.Load(ref x0, (r + 2) * stride) - k;
            s3 += TV.Load(ref x0, (r + 3) * stride) - k;
        }
        for (; r < rows; r++) s0 += TV.Load(ref x0, r * stride) - k;
        TV bv = TV.Create(a.B);
        TV meanD = ((s0 + s1) + (s2 + s3)) / bv;

        // 2. Σ(d − mean d)², the same order.
        s0 = TV.Zero; s1 = TV.Zero; s2 = TV.Zero; s3 = TV.Zero;
        for (r = 0; r + Unroll <= rows; r += Unroll)
        {
            TV c0 = TV.Load(ref x0, r * stride) - k - meanD;
            TV c1 = TV.Load(ref x0, (r + 1) * stride) - k - meanD;
            TV c2 = TV.Load(ref x0, (r + 2) * stride) - k - meanD;
            TV c3 = TV.Load(ref x0, (r + 3) * stride) - k - meanD;
            s0 += c0 * c0; s1 += c1 * c1; s2 += c2 * c2; s3 += c3 * c3;
        }
        for (; r < rows; r++)
        {
            TV c = TV.Load(ref x0, r * stride) - k - meanD;
            s0 += c * c;
        }
        TV ss = (s0 + s1) + (s2 + s3);
        TV inv = TV.Create(T.One) / TV.Sqrt(ss / bv + TV.Create(a.Epsilon));
        TV.Store(inv, ref invStd, f);

        // 3. Running statistics: rm ← (1 − m)·rm + m·μ, rv ← (1 − m)·rv + m·Σc²/(B − 1).
        TV m = TV.Create(a.Momentum), om = TV.Create(a.OneMinusMomentum);
        TV.Store(om * TV.Load(ref runningMean, f) + m * (k + meanD), ref runningMean, f);
        TV.Store(om * TV.Load(ref runningVar, f) + m * (ss / TV.Create(a.BMinus1)), ref runningVar, f);

        // 4. x̂ = (d − mean d)·s, y = γ·x̂ + β (x is read before y is written, element by element).
        TV g = TV.Load(ref gamma, f), b = TV.Load(ref beta, f);
        ref T xh0 = ref Unsafe.Add(ref xhat, f);
        ref T y0 = ref Unsafe.Add(ref y, f);
        for (r = 0; r < rows; r++)
        {
            nuint o = r * stride;
            TV xh = (TV.Load(ref x0, o) - k - meanD) * inv;
            TV.Store(xh, ref xh0, o);
            TV.Store(g * xh + b, ref y0, o);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void BatchNormInferenceCore<T, TV>(ref T x, ref T y, ref T gamma, ref T beta, ref T runningMean, ref T runningVar,
        int batch, int features, T epsilon)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, n = (nuint)features, f = 0;
        for (; f + v <= n; f += v) BatchNormInferenceStrip<T, TV>(ref x, ref y, ref gamma, ref beta, ref runningMean, ref runningVar, f, batch, features, epsilon);
        for (; f < n; f++) BatchNormInferenceStrip<T, SimdScalar<T>>(ref x, ref y, ref gamma, ref beta, ref runningMean, ref runningVar, f, batch, features, epsilon);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BatchNormInferenceStrip<T, TV>(ref T x, ref T y, ref T gamma, ref T beta, ref T runningMean, ref T runningVar,
        nuint f, int batch, int features, T epsilon)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint stride = (nuint)features, rows = (nuint)batch;
        TV scale = TV.Load(ref gamma, f) / TV.Sqrt(TV.Load(ref runningVar, f) + TV.Create(epsilon));
        TV mean = TV.Load(ref runningMean, f), b = TV.Load(ref beta, f);
        ref T x0 = ref Unsafe.Add(ref x, f);
        ref T y0 = ref Unsafe.Add(ref y, f);
        for (nuint r = 0; r < rows; r++) TV.Store((TV.Load(ref x0, r * stride) - mean) * scale + b, ref y0, r * stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void BatchNormBackwardCore<T, TV>(ref T dy, ref T xhat, ref T invStd, ref T gamma, ref T dx, ref T dGamma, ref T dBeta,
        int batch, int features)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, n = (nuint)features, f = 0;
        for (; f + v <= n; f += v) BatchNormBackwardStrip<T, TV>(ref dy, ref xhat, ref invStd, ref gamma, ref dx, ref dGamma, ref dBeta, f, batch, features);
        for (; f < n; f++) BatchNormBackwardStrip<T, SimdScalar<T>>(ref dy, ref xhat, ref invStd, ref gamma, ref dx, ref dGamma, ref dBeta, f, batch, features);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BatchNormBackwardStrip<T, TV>(ref T dy, ref T xhat, ref T invStd, ref T gamma, ref T dx, ref T dGamma, ref T dBeta,
        nuint f, int batch, int features)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        ParameterGradientStrip<T, TV>(ref dy, ref xhat, ref dGamma, ref dBeta, f, batch, features, out TV dg, out TV db);
        nuint stride = (nuint)features, rows = (nuint)batch;
        TV bv = TV.Create(T.CreateTruncating(batch));
        TV k = TV.Load(ref gamma, f) * TV.Load(ref invStd, f) / bv;
        ref T dy0 = ref Unsafe.Add(ref dy, f);
        ref T xh0 = ref Unsafe.Add(ref xhat, f);
        ref T dx0 = ref Unsafe.Add(ref dx, f);
        for (nuint r = 0; r < rows; r++)
        {
            nuint o = r * stride;
            TV.Store(k * (bv * TV.Load(ref dy0, o) - db - TV.Load(ref xh0, o) * dg), ref dx0, o);
        }
    }

    /// <summary>dγ[f] = Σ_b dy·x̂ and dβ[f] = Σ_b dy for one strip of features: rows ascending, four accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ParameterGradientStrip<T, TV>(ref T dy, ref T xhat, ref T dGamma, ref T dBeta, nuint f, int batch, int features,
        out TV dg, out TV db)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint stride = (nuint)features, rows = (nuint)batch, r;
        ref T dy0 = ref Unsafe.Add(ref dy, f);
        ref T xh0 = ref Unsafe.Add(ref xhat, f);
        TV b0 = TV.Zero, b1 = TV.Zero, b2 = TV.Zero, b3 = TV.Zero;
        TV g0 = TV.Zero, g1 = TV.Zero, g2 = TV.Zero, g3 = TV.Zero;
        for (r = 0; r + Unroll <= rows; r += Unroll)
        {
            nuint o = r * stride;
            TV d0 = TV.Load(ref dy0, o), d1 = TV.Load(ref dy0, o + stride), d2 = TV.Load(ref dy0, o + 2 * stride), d3 = TV.Load(ref dy0, o + 3 * stride);
            b0 += d0; b1 += d1; b2 += d2; b3 += d3;
            g0 += d0 * TV.Load(ref xh0, o); g1 += d1 * TV.Load(ref xh0, o + stride);
            g2 += d2 * TV.Load(ref xh0, o + 2 * stride); g3 += d3 * TV.Load(ref xh0, o + 3 * stride);
        }
        for (; r < rows; r++)
        {
            TV d = TV.Load(ref dy0, r * stride);
            b0 += d;
            g0 += d * TV.Load(ref xh0, r * stride);
        }
        db = (b0 + b1) + (b2 + b3);
        dg = (g0 + g1) + (g2 + g3);
        TV.Store(db, ref dBeta, f);
        TV.Store(dg, ref dGamma, f);
    }

    // ---- group norm cores: one segment of n = features/groups contiguous values per (sample, group) ----------------

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void GroupNormForwardCore<T, TV>(ref T x, ref T y, ref T gamma, ref T beta, ref T xhat, ref T invStd,
        int batch, int features, int groups, T epsilon)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint c = (nuint)(features / groups), row = (nuint)features;
        for (nuint b = 0; b < (nuint)batch; b++)
            for (nuint g = 0; g < (nuint)groups; g++)
            {
                nuint o = b * row + g * c;
                Unsafe.Add(ref invStd, b * (nuint)groups + g) = SegmentForward<T, TV>(
                    ref Unsafe.Add(ref x, o), ref Unsafe.Add(ref y, o), ref Unsafe.Add(ref xhat, o),
                    ref Unsafe.Add(ref gamma, g * c), ref Unsafe.Add(ref beta, g * c), c, epsilon);
            }
    }

    /// <summary>Normalizes one segment of <paramref name="n"/> values; returns s = 1/√(σ² + ε).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T SegmentForward<T, TV>(ref T x, ref T y, ref T xhat, ref T gamma, ref T beta, nuint n, T epsilon)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, i;
        T k = x;                                         // shift (note 1): the first value
        TV kv = TV.Create(k);
        T count = T.CreateTruncating(n);

        // 1. mean(d): ×4 vector loop, one-vector loop into a0, pairwise combine, horizontal sum, scalar tail ascending.
        TV a0 = TV.Zero, a1 = TV.Zero, a2 = TV.Zero, a3 = TV.Zero;
        for (i = 0; i + Unroll * v <= n; i += Unroll * v)
        {
            a0 += TV.Load(ref x, i) - kv; a1 += TV.Load(ref x, i + v) - kv;
            a2 += TV.Load(ref x, i + 2 * v) - kv; a3 += TV.Load(ref x, i + 3 * v) - kv;
        }
        for (; i + v <= n; i += v) a0 += TV.Load(ref x, i) - kv;
        T sum = TV.Sum((a0 + a1) + (a2 + a3));
        for (; i < n; i++) sum += Unsafe.Add(ref x, i) - k;
        T meanD = sum / count;

        // 2. Σ(d − mean d)², the same order.
        TV mv = TV.Create(meanD);
        a0 = TV.Zero; a1 = TV.Zero; a2 = TV.Zero; a3 = TV.Zero;
        for (i = 0; i + Unroll * v <= n; i += Unroll * v)
        {
            TV c0 = TV.Load(ref x, i) - kv - mv, c1 = TV.Load(ref x, i + v) - kv - mv;
            TV c2 = TV.Load(ref x, i + 2 * v) - kv - mv, c3 = TV.Load(ref x, i + 3 * v) - kv - mv;
            a0 = TV.MultiplyAdd(c0, c0, a0); a1 = TV.MultiplyAdd(c1, c1, a1);
            a2 = TV.MultiplyAdd(c2, c2, a2); a3 = TV.MultiplyAdd(c3, c3, a3);
        }
        for (; i + v <= n; i += v)
        {
            TV c = TV.Load(ref x, i) - kv - mv;
            a0 = TV.MultiplyAdd(c, c, a0);
        }
        T ss = TV.Sum((a0 + a1) + (a2 + a3));
        for (; i < n; i++)
        {
            T c = Unsafe.Add(ref x, i) - k - meanD;
            ss += c * c;
        }
        T inv = T.One / T.Sqrt(ss / count + epsilon);

        // 3. x̂ = (d − mean d)·s, y = γ·x̂ + β.
        TV sv = TV.Create(inv);
        for (i = 0; i + v <= n; i += v)
        {
            TV xh = (TV.Load(ref x, i) - kv - mv) * sv;
            TV.Store(xh, ref xhat, i);
            TV.Store(TV.MultiplyAdd(TV.Load(ref gamma, i), xh, TV.Load(ref beta, i)), ref y, i);
        }
        for (; i < n; i++)
        {
            T xh = (Unsafe.Add(ref x, i) - k - meanD) * inv;
            Unsafe.Add(ref xhat, i) = xh;
            Unsafe.Add(ref y, i) = Unsafe.Add(ref gamma, i) * xh + Unsafe.Add(ref beta, i);
        }
        return inv;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void GroupNormBackwardCore<T, TV>(ref T dy, ref T xhat, ref T invStd, ref T gamma, ref T dx, ref T dGamma, ref T dBeta,
        int batch, int features, int groups)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        // dγ, dβ first, column by column (the batch-norm reduction), while dy is intact: dx may overwrite it below.
        nuint v = (nuint)TV.Count, row = (nuint)features, f = 0;
        for (; f + v <= row; f += v) ParameterGradientStrip<T, TV>(ref dy, ref xhat, ref dGamma, ref dBeta, f, batch, features, out _, out _);
        for (; f < row; f++) ParameterGradientStrip<T, SimdScalar<T>>(ref dy, ref xhat, ref dGamma, ref dBeta, f, batch, features, out _, out _);

        nuint c = (nuint)(features / groups);
        for (nuint b = 0; b < (nuint)batch; b++)
            for (nuint g = 0; g < (nuint)groups; g++)
            {
                nuint o = b * row + g * c;
                SegmentBackward<T, TV>(ref Unsafe.Add(ref dy, o), ref Unsafe.Add(ref xhat, o), ref Unsafe.Add(ref gamma, g * c),
                    ref Unsafe.Add(ref dx, o), Unsafe.Add(ref invStd, b * (nuint)groups + g), c);
            }
    }

    /// <summary>dx = s/n · (n·g − Σ g − x̂·Σ g·x̂) with g = γ·dy over one segment (note 2); reads all of dy first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SegmentBackward<T, TV>(ref T dy, ref T xhat, ref T gamma, ref T dx, T inv, nuint n)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, i;
        TV a0 = TV.Zero, a1 = TV.Zero, b0 = TV.Zero, b1 = TV.Zero;
        for (i = 0; i + 2 * v <= n; i += 2 * v)
        {
            TV g0 = TV.Load(ref gamma, i) * TV.Load(ref dy, i);
            TV g1 = TV.Load(ref gamma, i + v) * TV.Load(ref dy, i + v);
            a0 += g0; a1 += g1;
            b0 = TV.MultiplyAdd(g0, TV.Load(ref xhat, i), b0);
            b1 = TV.MultiplyAdd(g1, TV.Load(ref xhat, i + v), b1);
        }
        for (; i + v <= n; i += v)
        {
            TV g0 = TV.Load(ref gamma, i) * TV.Load(ref dy, i);
            a0 += g0;
            b0 = TV.MultiplyAdd(g0, TV.Load(ref xhat, i), b0);
        }
        T sg = TV.Sum(a0 + a1), sgx = TV.Sum(b0 + b1);
        for (; i < n; i++)
        {
            T g = Unsafe.Add(ref gamma, i) * Unsafe.Add(ref dy, i);
            sg += g;
            sgx += g * Unsafe.Add(ref xhat, i);
        }

        T count = T.CreateTruncating(n), k = inv / count;
        TV kv = TV.Create(k), cv = TV.Create(count), sgv = TV.Create(sg), sgxv = TV.Create(sgx);
        for (i = 0; i + v <= n; i += v)
        {
            TV g = TV.Load(ref gamma, i) * TV.Load(ref dy, i);
            TV.Store(kv * (cv * g - sgv - TV.Load(ref xhat, i) * sgxv), ref dx, i);
        }
        for (; i < n; i++)
        {
            T g = Unsafe.Add(ref gamma, i) * Unsafe.Add(ref dy, i);
            Unsafe.Add(ref dx, i) = k * (count * g - sg - Unsafe.Add(ref xhat, i) * sgx);
        }
    }
}
