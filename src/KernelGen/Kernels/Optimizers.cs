using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelGen.Operators;

namespace KernelGen.Kernels;

/// <summary>
/// Gradient preprocessing fused into every update pass, applied to each element in this order (PyTorch's: clipping
/// acts on the raw gradient, weight decay is added after): g ← clamp(g·<see cref="Scale"/>, ±<see cref="ClipValue"/>),
/// then g ← g + <see cref="L2"/>·θ + <see cref="L1"/>·sign(θ) (sign(0) = 0, the subgradient PyTorch uses).
/// </summary>
public readonly record struct GradientTransform<T>(T Scale, T ClipValue, T L2, T L1) where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>No change: scale 1, no clipping, no penalties.</summary>
    public static GradientTransform<T> Identity => new(T.One, T.PositiveInfinity, T.Zero, T.Zero);

    /// <summary>True when the transform leaves every gradient unchanged.</summary>
    public bool IsIdentity => Scale == T.One && T.IsPositiveInfinity(ClipValue) && L2 == T.Zero && L1 == T.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal TV Apply<TV>(TV g, TV p) where TV : struct, ISimd<TV, T>
    {
        TV clip = TV.Create(ClipValue);
        g = TV.Min(TV.Max(g * TV.Create(Scale), -clip), clip);
        TV sign = TV.SelectEquals(p, TV.Zero, TV.Zero, TV.CopySign(TV.Create(T.One), p));
        return TV.MultiplyAdd(TV.Create(L1), sign, TV.MultiplyAdd(TV.Create(L2), p, g));
    }
}

/// <summary>A compile-time switch: lets one kernel body be specialized with and without its optional step.</summary>
public interface IFlag { /// <summary>Whether the optional step runs.</summary>
    static abstract bool Enabled { get; } }
/// <summary>The optional step runs.</summary>
public readonly struct On : IFlag { /// <inheritdoc/>
    public static bool Enabled => true; }
/// <summary>The optional step is compiled out.</summary>
public readonly struct Off : IFlag { /// <inheritdoc/>
    public static bool Enabled => false; }

/// <summary>
/// Optimizer update kernels: each is one fused, vectorized pass over the parameter, gradient and state arenas that
/// reads and writes every element exactly once (a scalar tail, never an overlapping final vector). Coefficients
/// (bias corrections, schedules) are computed in double by the caller. State values whose magnitude falls below
/// <see cref="FlushThreshold"/> are flushed to zero: .NET cannot set the CPU's flush-to-zero mode, and moments that
/// decay into denormals (a dead unit's gradient is exactly 0) would otherwise slow the pass several times over.
/// </summary>
public static class Optimizers
{
    /// <summary>State magnitudes at or below 1e-30 become 0 (their effect on any update is below 1e-20 relative).</summary>
    public const double FlushThreshold = 1e-30;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Flush<T, TV>(TV x) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> =>
        TV.SelectGreaterThan(TV.Abs(x), TV.Create(T.CreateTruncating(FlushThreshold)), x, TV.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Gradient<T, TV, TF>(ref T g, nuint i, TV p, in GradientTransform<T> t)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> where TF : struct, IFlag =>
        TF.Enabled ? t.Apply(TV.Load(ref g, i), p) : TV.Load(ref g, i);

    private static void CheckLengths<T>(int parameters, int gradients, int state1 = -1, int state2 = -1, int state3 = -1)
    {
        ThrowHelper.ThrowIfLengthNotEqual(gradients, parameters, nameof(gradients));
        if (state1 >= 0) ThrowHelper.ThrowIfLengthNotEqual(state1, parameters, "state");
        if (state2 >= 0) ThrowHelper.ThrowIfLengthNotEqual(state2, parameters, "state");
        if (state3 >= 0) ThrowHelper.ThrowIfLengthNotEqual(state3, parameters, "state");
    }

    // Each public kernel: validate once, pick the width, pick the transform specialization. The loops are written once
    // as generic bodies over TV and run at the widest width, then at SimdScalar<T> for the tail.

    /// <summary>default(GradientTransform) would scale every gradient by 0: treat it as the identity.</summary>
    private static GradientTransform<T> Normalize<T>(in GradientTransform<T> t) where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        t == default ? GradientTransform<T>.Identity : t;

    // ---- plain SGD ----------------------------------------------------------------------------------------------------

    /// <summary>Plain SGD: computes θ ← θ − η·g′ with g′ the transformed gradient.</summary>
    public static void SgdStep<T>(Span<T> parameters, ReadOnlySpan<T> gradients, T learningRate, in GradientTransform<T> transform = default)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        CheckLengths<T>(parameters.Length, gradients.Length);
        GradientTransform<T> t = Normalize(transform);
        ref T p = ref MemoryMarshal.GetReference(parameters);
        ref T g = ref MemoryMarshal.GetReference(gradients);
        nuint n = (nuint)parameters.Length;
        if (t.IsIdentity) SgdCore<T, Off>(ref p, ref g, n, -learningRate, t);
        else SgdCore<T, On>(ref p, ref g, n, -learningRate, t);
    }

    private static void SgdCore<T, TF>(ref T p, ref T g, nuint n, T negLr, in GradientTransform<T> t)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TF : struct, IFlag
    {
        if (Vector512.IsHardwareAccelerated) SgdCore<T, Simd512<T>, TF>(ref p, ref g, n, negLr, t);
        else if (Vector256.IsHardwareAccelerated) SgdCore<T, Simd256<T>, TF>(ref p, ref g, n, negLr, t);
        else SgdCore<T, SimdScalar<T>, TF>(ref p, ref g, n, negLr, t);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void SgdCore<T, TV, TF>(ref T p, ref T g, nuint n, T negLr, in GradientTransform<T> t)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> where TF : struct, IFlag
    {
        nuint w = (nuint)TV.Count, i = 0;
        for (; i + w <= n; i += w) SgdBody<T, TV, TF>(ref p, ref g, i, negLr, t);
        for (; i < n; i++) SgdBody<T, SimdScalar<T>, TF>(ref p, ref g, i, negLr, t);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SgdBody<T, TV, TF>(ref T p, ref T g, nuint i, T negLr, in GradientTransform<T> t)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> where TF : struct, IFlag
    {
        TV pv = TV.Load(ref p, i);
        TV.Store(TV.MultiplyAdd(TV.Create(negLr), Gradient<T, TV, TF>(ref g, i, pv, t), pv), ref p, i);
    }

    // ---- SGD with momentum ------------------------------------------------------------------------------------------

    /// <summary>
    /// SGD with momentum, PyTorch's form: b ← μ·b + (1 − dampening)·g′ (b ← g′ on the first step), then
    /// θ ← θ − η·(g′ + μ·b) with Nesterov, or θ ← θ − η·b without. Pass <paramref name="firstStep"/> for step 1.
    /// </summary>
    public static void MomentumStep<T>(Span<T> parameters, ReadOnlySpan<T> gradients, Span<T> buffer, T learningRate, T momentum, T dampening,
        bool nesterov, bool firstStep, in GradientTransform<T> transform)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        CheckLengths<T>(parameters.Length, gradients.Length, buffer.Length);
        var c = new MomentumCoefficients<T>(firstStep ? T.Zero : momentum, firstStep ? T.One : T.One - dampening, momentum, -learningRate, nesterov);
        Dispatch(parameters, gradients, buffer, Normalize(transform), c);
    }

    private readonly record struct MomentumCoefficients<T>(T BufferDecay, T GradientScale, T Momentum, T NegLr, bool Nesterov);

    private static void Dispatch<T>(Span<T> parameters, ReadOnlySpan<T> gradients, Span<T> buffer, in GradientTransform<T> t, in MomentumCoefficients<T> c)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ref T p = ref MemoryMarshal.GetReference(parameters);
        ref T g = ref MemoryMarshal.GetReference(gradients);
        ref T b = ref MemoryMarshal.GetReference(buffer);
        nuint n = (nuint)parameters.Length;
        if (t.IsIdentity)
        {
            if (Vector512.IsHardwareAccelerated) MomentumCore<T, Simd512<T>, Off>(ref p, ref g, ref b, n, c, t);
            else if (Vector256.IsHardwareAccelerated) MomentumCore<T, Simd256<T>, Off>(ref p, ref g, ref b, n, c, t);
            else MomentumCore<T, SimdScalar<T>, Off>(ref p, ref g, ref b, n, c, t);
        }
        else
        {
            if (Vector512.IsHardwareAccelerated) MomentumCore<T, Simd512<T>, On>(ref p, ref g, ref b, n, c, t);
            else if (Vector256.IsHardwareAccelerated) MomentumCore<T, Simd256<T>, On>(ref p, ref g, ref b, n, c, t);
            else MomentumCore<T, SimdScalar<T>, On>(ref p, ref g, ref b, n, c, t);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MomentumCore<T, TV, TF>(ref T p, ref T g, ref T b, nuint n, in MomentumCoefficients<T> c, in GradientTransform<T> t)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> where TF : struct, IFlag
    {
        nuint w = (nuint)TV.Count, i = 0;
        for (; i + w <= n; i += w) MomentumBody<T, TV, TF>(ref p, ref g, ref b, i, c, t);
        for (; i < n; i++) MomentumBody<T, SimdScalar<T>, TF>(ref p, ref g, ref b, i, c, t);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MomentumBody<T, TV, TF>(ref T p, ref T g, ref T b, nuint i, in MomentumCoefficients<T> c, in GradientTransform<T> t)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> where TF : struct, IFlag
    {
        TV pv = TV.Load(ref p, i);
        TV gv = Gradient<T, TV, TF>(ref g, i, pv, t);
        TV bv = Flush<T, TV>(TV.MultiplyAdd(TV.Create(c.BufferDecay), TV.Load(ref b, i), gv * TV.Create(c.GradientScale)));
        TV.Store(bv, ref b, i);
        TV step = c.Nesterov ? TV.MultiplyAdd(TV.Create(c.Momentum), bv, gv) : bv;
        TV.Store(TV.MultiplyAdd(TV.Create(c.NegLr), step, pv), ref p, i);
    }

    /// <summary>
    /// Momentum in velocity form (CS231n): v ← μ·v − η·g′, then θ ← θ + v; with Nesterov (CS231n's change of variables),
    /// θ ← θ − μ·v_prev + (1 + μ)·v. Equal to PyTorch's form while η is constant; they differ once η changes, because
    /// here η is folded into the velocity.
    /// </summary>
    public static void VelocityMomentumStep<T>(Span<T> parameters, ReadOnlySpan<T> gradients, Span<T> velocity, T learningRate, T momentum, bool nesterov,
        in GradientTransform<T> transform)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        CheckLengths<T>(parameters.Length, gradients.Length, velocity.Length);
        GradientTransform<T> t = Normalize(transform);
        ref T p = ref MemoryMarshal.GetReference(parameters);
        ref T g = ref MemoryMarshal.GetReference(gradients);
        ref T v = ref MemoryMarshal.GetReference(velocity);
        nuint n = (nuint)parameters.Length;
        var c = new VelocityCoefficients<T>(momentum, -learningRate, nesterov);
        if (Vector512.IsHardwareAccelerated) VelocityCore<T, Simd512<T>>(ref p, ref g, ref v, n, c, t);
        else if (Vector256.IsHardwareAccelerated) VelocityCore<T, Simd256<T>>(ref p, ref g, ref v, n, c, t);
        else VelocityCore<T, SimdScalar<T>>(ref p, ref g, ref v, n, c, t);
    }

    private readonly record struct VelocityCoefficients<T>(T Momentum, T NegLr, bool Nesterov);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void VelocityCore<T, TV>(ref T p, ref T g, ref T v, nuint n, in VelocityCoefficients<T> c, in GradientTransform<T> t)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint w = (nuint)TV.Count, i = 0;
        for (; i + w <= n; i += w) VelocityBody<T, TV>(ref p, ref g, ref v, i, c, t);
        for (; i < n; i++) VelocityBody<T, SimdScalar<T>>(ref p, ref g, ref v, i, c, t);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void VelocityBody<T, TV>(ref T p, ref T g, ref T v, nuint i, in VelocityCoefficients<T> c, in GradientTransform<T> t)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        TV pv = TV.Load(ref p, i);
        TV gv = Gradient<T, TV, On>(ref g, i, pv, t);
        TV previous = TV.Load(ref v, i);
        TV mu = TV.Create(c.Momentum);
        TV vv = Flush<T, TV>(TV.MultiplyAdd(mu, previous, gv * TV.Create(c.NegLr)));
        TV.Store(vv, ref v, i);
        pv = c.Nesterov ? TV.MultiplyAdd(TV.Create(T.One) + mu, vv, pv - mu * previous) : pv + vv;
        TV.Store(pv, ref p, i);
    }

    // ---- AdaGrad ----------------------------------------------------------------------------------------------------

    /// <summary>AdaGrad (PyTorch): s ← s + g′², θ ← θ − η_t·g′ / (√s + ε), with η_t = η / (1 + (t − 1)·decay) from the caller.</summary>
    public static void AdaGradStep<T>(Span<T> parameters, ReadOnlySpan<T> gradients, Span<T> sum, T learningRate, T epsilon, in GradientTransform<T> transform)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        CheckLengths<T>(parameters.Length, gradients.Length, sum.Length);
        GradientTransform<T> t = Normalize(transform);
        ref T p = ref MemoryMarshal.GetReference(parameters);
        ref T g = ref MemoryMarshal.GetReference(gradients);
        ref T s = ref MemoryMarshal.GetReference(sum);
        nuint n = (nuint)parameters.Length;
        if (Vector512.IsHardwareAccelerated) AdaGradCore<T, Simd512<T>>(ref p, ref g, ref s, n, -learningRate, epsilon, t);
        else if (Vector256.IsHardwareAccelerated) AdaGradCore<T, Simd256<T>>(ref p, ref g, ref s, n, -learningRate, epsilon, t);
        else AdaGradCore<T, SimdScalar<T>>(ref p, ref g, ref s, n, -learningRate, epsilon, t);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AdaGradCore<T, TV>(ref T p, ref T g, ref T s, nuint n, T negLr, T eps, in GradientTransform<T> t)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint w = (nuint)TV.Count, i = 0;
        for (; i + w <= n; i += w) AdaGradBody<T, TV>(ref p, ref g, ref s, i, negLr, eps, t);
        for (; i < n; i++) AdaGradBody<T, SimdScalar<T>>(ref p, ref g, ref s, i, negLr, eps, t);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AdaGradBody<T, TV>(ref T p, ref T g, ref T s, nuint i, T negLr, T eps, in GradientTransform<T> t)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        TV pv = TV.Load(ref p, i);
        TV gv = Gradient<T, TV, On>(ref g, i, pv, t);
        TV sv = Flush<T, TV>(TV.MultiplyAdd(gv, gv, TV.Load(ref s, i)));
        TV.Store(sv, ref s, i);
        TV.Store(TV.MultiplyAdd(TV.Create(negLr), gv / (TV.Sqrt(sv) + TV.Create(eps)), pv), ref p, i);
    }

    // ---- RMSProp ----------------------------------------------------------------------------------------------------

    /// <summary>
    /// RMSProp (PyTorch): v ← α·v + (1 − α)·g′²; centered: ḡ ← α·ḡ + (1 − α)·g′ and d = √(v − ḡ²) + ε, else d = √v + ε
    /// (CS231n's variant puts ε inside: d = √(v + ε)); with momentum μ &gt; 0: b ← μ·b + g′/d, θ ← θ − η·b, else
    /// θ ← θ − η·g′/d. <paramref name="gradientAverage"/> and <paramref name="buffer"/> may be empty when unused.
    /// </summary>
    public static void RmsPropStep<T>(Span<T> parameters, ReadOnlySpan<T> gradients, Span<T> squareAverage, Span<T> gradientAverage, Span<T> buffer,
        T learningRate, T alpha, T epsilon, T momentum, bool centered, bool epsilonInsideSqrt, in GradientTransform<T> transform)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        CheckLengths<T>(parameters.Length, gradients.Length, squareAverage.Length, centered ? gradientAverage.Length : -1, momentum > T.Zero ? buffer.Length : -1);
        GradientTransform<T> t = Normalize(transform);
        var c = new RmsCoefficients<T>(alpha, T.One - alpha, epsilon, momentum, -learningRate, centered, epsilonInsideSqrt);
        ref T p = ref MemoryMarshal.GetReference(parameters);
        ref T g = ref MemoryMarshal.GetReference(gradients);
        ref T v = ref MemoryMarshal.GetReference(squareAverage);
        ref T a = ref centered ? ref MemoryMarshal.GetReference(gradientAverage) : ref v;
        ref T b = ref momentum > T.Zero ? ref MemoryMarshal.GetReference(buffer) : ref v;
        nuint n = (nuint)parameters.Length;
        if (Vector512.IsHardwareAccelerated) RmsCore<T, Simd512<T>>(ref p, ref g, ref v, ref a, ref b, n, c, t);
        else if (Vector256.IsHardwareAccelerated) RmsCore<T, Simd256<T>>(ref p, ref g, ref v, ref a, ref b, n, c, t);
        else RmsCore<T, SimdScalar<T>>(ref p, ref g, ref v, ref a, ref b, n, c, t);
    }

    private readonly record struct RmsCoefficients<T>(T Alpha, T OneMinusAlpha, T Epsilon, T Momentum, T NegLr, bool Centered, bool EpsilonInside);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RmsCore<T, TV>(ref T p, ref T g, ref T v, ref T a, ref T b, nuint n, in RmsCoefficients<T> c, in GradientTransform<T> t)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint w = (nuint)TV.Count, i = 0;
        for (; i + w <= n; i += w) RmsBody<T, TV>(ref p, ref g, ref v, ref a, ref b, i, c, t);
        for (; i < n; i++) RmsBody<T, SimdScalar<T>>(ref p, ref g, ref v, ref a, ref b, i, c, t);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RmsBody<T, TV>(ref T p, ref T g, ref T v, ref T a, ref T b, nuint i, in RmsCoefficients<T> c, in GradientTransform<T> t)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        TV pv = TV.Load(ref p, i);
        TV gv = Gradient<T, TV, On>(ref g, i, pv, t);
        TV vv = Flush<T, TV>(TV.MultiplyAdd(TV.Create(c.Alpha), TV.Load(ref v, i), gv * gv * TV.Create(c.OneMinusAlpha)));
        TV.Store(vv, ref v, i);
        TV variance = vv;
        if (c.Centered)
        {
            TV av = Flush<T, TV>(TV.MultiplyAdd(TV.Create(c.Alpha), TV.Load(ref a, i), gv * TV.Create(c.OneMinusAlpha)));
            TV.Store(av, ref a, i);
            variance = vv - av * av;
        }
        TV eps = TV.Create(c.Epsilon);
        TV d = c.EpsilonInside ? TV.Sqrt(variance + eps) : TV.Sqrt(variance) + eps;
        if (c.Momentum > T.Zero)
        {
            TV bv = Flush<T, TV>(TV.MultiplyAdd(TV.Create(c.Momentum), TV.Load(ref b, i), gv / d));
            TV.Store(bv, ref b, i);
            TV.Store(TV.MultiplyAdd(TV.Create(c.NegLr), bv, pv), ref p, i);
        }
        else
        {
            TV.Store(TV.MultiplyAdd(TV.Create(c.NegLr), gv / d, pv), ref p, i);
        }
    }

    // ---- Adam and AdamW ---------------------------------------------------------------------------------------------

    /// <summary>
    /// Adam (PyTorch): m ← β1·m + (1 − β1)·g′, v ← β2·v + (1 − β2)·g′², then
    /// θ ← θ·<paramref name="decayFactor"/> − (η / (1 − β1^t))·m / (√v / √(1 − β2^t) + ε). AdamW passes
    /// decayFactor = 1 − η·λ (decoupled weight decay); Adam passes 1 and puts its coupled weight decay into the
    /// transform's L2 term.
    /// </summary>
    public static void AdamStep<T>(Span<T> parameters, ReadOnlySpan<T> gradients, Span<T> firstMoment, Span<T> secondMoment,
        double learningRate, double beta1, double beta2, double epsilon, long step, double decayFactor, in GradientTransform<T> transform)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        CheckLengths<T>(parameters.Length, gradients.Length, firstMoment.Length, secondMoment.Length);
        GradientTransform<T> t = Normalize(transform);
        if (step < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(step), step, "The step count starts at 1.");
        double bc1 = 1 - Math.Pow(beta1, step), bc2 = 1 - Math.Pow(beta2, step);
        var c = new AdamCoefficients<T>(T.CreateTruncating(beta1), T.CreateTruncating(1 - beta1), T.CreateTruncating(beta2), T.CreateTruncating(1 - beta2),
            T.CreateTruncating(-learningRate / bc1), T.CreateTruncating(1 / Math.Sqrt(bc2)), T.CreateTruncating(epsilon), T.CreateTruncating(decayFactor));
        ref T p = ref MemoryMarshal.GetReference(parameters);
        ref T g = ref MemoryMarshal.GetReference(gradients);
        ref T m = ref MemoryMarshal.GetReference(firstMoment);
        ref T v = ref MemoryMarshal.GetReference(secondMoment);
        nuint n = (nuint)parameters.Length;
        if (t.IsIdentity)
        {
            if (Vector512.IsHardwareAccelerated) AdamCore<T, Simd512<T>, Off>(ref p, ref g, ref m, ref v, n, c, t);
            else if (Vector256.IsHardwareAccelerated) AdamCore<T, Simd256<T>, Off>(ref p, ref g, ref m, ref v, n, c, t);
            else AdamCore<T, SimdScalar<T>, Off>(ref p, ref g, ref m, ref v, n, c, t);
        }
        else
        {
            if (Vector512.IsHardwareAccelerated) AdamCore<T, Simd512<T>, On>(ref p, ref g, ref m, ref v, n, c, t);
            else if (Vector256.IsHardwareAccelerated) AdamCore<T, Simd256<T>, On>(ref p, ref g, ref m, ref v, n, c, t);
            else AdamCore<T, SimdScalar<T>, On>(ref p, ref g, ref m, ref v, n, c, t);
        }
    }

    internal readonly record struct AdamCoefficients<T>(T Beta1, T OneMinusBeta1, T Beta2, T OneMinusBeta2, T NegStepSize, T InvSqrtBc2, T Epsilon, T Decay);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void AdamCore<T, TV, TF>(ref T p, ref T g, ref T m, ref T v, nuint n, in AdamCoefficients<T> c, in GradientTransform<T> t)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> where TF : struct, IFlag
    {
        // Coefficients are broadcast once, outside the loop, so the body keeps them in registers.
        var k = new AdamRegisters<T, TV>(c);
        nuint w = (nuint)TV.Count, i = 0;
        for (; i + 2 * w <= n; i += 2 * w)
        {
            AdamBody<T, TV, TF>(ref p, ref g, ref m, ref v, i, k.Beta1, k.OneMinusBeta1, k.Beta2, k.OneMinusBeta2, k.NegStepSize, k.InvSqrtBc2, k.Epsilon, k.Decay, t);
            AdamBody<T, TV, TF>(ref p, ref g, ref m, ref v, i + w, k.Beta1, k.OneMinusBeta1, k.Beta2, k.OneMinusBeta2, k.NegStepSize, k.InvSqrtBc2, k.Epsilon, k.Decay, t);
        }
        for (; i + w <= n; i += w)
            AdamBody<T, TV, TF>(ref p, ref g, ref m, ref v, i, k.Beta1, k.OneMinusBeta1, k.Beta2, k.OneMinusBeta2, k.NegStepSize, k.InvSqrtBc2, k.Epsilon, k.Decay, t);
        var s = new AdamRegisters<T, SimdScalar<T>>(c);
        for (; i < n; i++)
            AdamBody<T, SimdScalar<T>, TF>(ref p, ref g, ref m, ref v, i, s.Beta1, s.OneMinusBeta1, s.Beta2, s.OneMinusBeta2, s.NegStepSize, s.InvSqrtBc2, s.Epsilon, s.Decay, t);
    }

    private readonly struct AdamRegisters<T, TV> where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        public readonly TV Beta1, OneMinusBeta1, Beta2, OneMinusBeta2, NegStepSize, InvSqrtBc2, Epsilon, Decay;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public AdamRegisters(in AdamCoefficients<T> c)
        {
            Beta1 = TV.Create(c.Beta1); OneMinusBeta1 = TV.Create(c.OneMinusBeta1); Beta2 = TV.Create(c.Beta2); OneMinusBeta2 = TV.Create(c.OneMinusBeta2);
            NegStepSize = TV.Create(c.NegStepSize); InvSqrtBc2 = TV.Create(c.InvSqrtBc2); Epsilon = TV.Create(c.Epsilon); Decay = TV.Create(c.Decay);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AdamBody<T, TV, TF>(ref T p, ref T g, ref T m, ref T v, nuint i, TV beta1, TV oneMinusBeta1, TV beta2, TV oneMinusBeta2,
        TV negStepSize, TV invSqrtBc2, TV epsilon, TV decay, in GradientTransform<T> t)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> where TF : struct, IFlag
    {
        TV pv = TV.Load(ref p, i);
        TV gv = Gradient<T, TV, TF>(ref g, i, pv, t);
        TV mv = Flush<T, TV>(TV.MultiplyAdd(beta1, TV.Load(ref m, i), gv * oneMinusBeta1));
        TV vv = Flush<T, TV>(TV.MultiplyAdd(beta2, TV.Load(ref v, i), gv * gv * oneMinusBeta2));
        TV.Store(mv, ref m, i);
        TV.Store(vv, ref v, i);
        TV denominator = TV.MultiplyAdd(TV.Sqrt(vv), invSqrtBc2, epsilon);
        TV.Store(TV.MultiplyAdd(negStepSize, mv / denominator, pv * decay), ref p, i);
    }

    // ---- NAdam ------------------------------------------------------------------------------------------------------

    /// <summary>
    /// NAdam (PyTorch, momentum decay ψ): with μ_t = β1·(1 − ½·0.96^(tψ)) and Π_t = Π_{i≤t} μ_i (kept by the caller),
    /// m and v as in Adam, d = √(v / (1 − β2^t)) + ε, and
    /// θ ← θ − η·(1 − μ_t)/(1 − Π_t)·g′/d − η·μ_{t+1}/(1 − Π_t·μ_{t+1})·m/d.
    /// </summary>
    public static void NAdamStep<T>(Span<T> parameters, ReadOnlySpan<T> gradients, Span<T> firstMoment, Span<T> secondMoment,
        double learningRate, double beta1, double beta2, double epsilon, long step, double momentumDecay, double muProduct, in GradientTransform<T> transform)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        CheckLengths<T>(parameters.Length, gradients.Length, firstMoment.Length, secondMoment.Length);
        GradientTransform<T> t = Normalize(transform);
        if (step < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(step), step, "The step count starts at 1.");
        double mu = NAdamMu(beta1, momentumDecay, step), muNext = NAdamMu(beta1, momentumDecay, step + 1);
        double bc2 = 1 - Math.Pow(beta2, step);
        var c = new NAdamCoefficients<T>(T.CreateTruncating(beta1), T.CreateTruncating(1 - beta1), T.CreateTruncating(beta2), T.CreateTruncating(1 - beta2),
            T.CreateTruncating(1 / bc2), T.CreateTruncating(epsilon),
            T.CreateTruncating(-learningRate * (1 - mu) / (1 - muProduct)), T.CreateTruncating(-learningRate * muNext / (1 - muProduct * muNext)));
        ref T p = ref MemoryMarshal.GetReference(parameters);
        ref T g = ref MemoryMarshal.GetReference(gradients);
        ref T m = ref MemoryMarshal.GetReference(firstMoment);
        ref T v = ref MemoryMarshal.GetReference(secondMoment);
        nuint n = (nuint)parameters.Length;
        if (Vector512.IsHardwareAccelerated) NAdamCore<T, Simd512<T>>(ref p, ref g, ref m, ref v, n, c, t);
        else if (Vector256.IsHardwareAccelerated) NAdamCore<T, Simd256<T>>(ref p, ref g, ref m, ref v, n, c, t);
        else NAdamCore<T, SimdScalar<T>>(ref p, ref g, ref m, ref v, n, c, t);
    }

    /// <summary>NAdam's momentum schedule μ_t = β1·(1 − ½·0.96^(t·ψ)).</summary>
    public static double NAdamMu(double beta1, double momentumDecay, long step) => beta1 * (1 - 0.5 * Math.Pow(0.96, step * momentumDecay));

    private readonly record struct NAdamCoefficients<T>(T Beta1, T OneMinusBeta1, T Beta2, T OneMinusBeta2, T InvBc2, T Epsilon, T GradientStep, T MomentStep);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NAdamCore<T, TV>(ref T p, ref T g, ref T m, ref T v, nuint n, in NAdamCoefficients<T> c, in GradientTransform<T> t)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint w = (nuint)TV.Count, i = 0;
        for (; i + w <= n; i += w) NAdamBody<T, TV>(ref p, ref g, ref m, ref v, i, c, t);
        for (; i < n; i++) NAdamBody<T, SimdScalar<T>>(ref p, ref g, ref m, ref v, i, c, t);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void NAdamBody<T, TV>(ref T p, ref T g, ref T m, ref T v, nuint i, in NAdamCoefficients<T> c, in GradientTransform<T> t)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        TV pv = TV.Load(ref p, i);
        TV gv = Gradient<T, TV, On>(ref g, i, pv, t);
        TV mv = Flush<T, TV>(TV.MultiplyAdd(TV.Create(c.Beta1), TV.Load(ref m, i), gv * TV.Create(c.OneMinusBeta1)));
        TV vv = Flush<T, TV>(TV.MultiplyAdd(TV.Create(c.Beta2), TV.Load(ref v, i), gv * gv * TV.Create(c.OneMinusBeta2)));
        TV.Store(mv, ref m, i);
        TV.Store(vv, ref v, i);
        TV d = TV.Sqrt(vv * TV.Create(c.InvBc2)) + TV.Create(c.Epsilon);
        pv = TV.MultiplyAdd(TV.Create(c.GradientStep), gv / d, pv);
        TV.Store(TV.MultiplyAdd(TV.Create(c.MomentStep), mv / d, pv), ref p, i);
    }

    // ---- AdaDelta ---------------------------------------------------------------------------------------------------

    /// <summary>
    /// AdaDelta (PyTorch): v ← ρ·v + (1 − ρ)·g′², Δ = √(u + ε)/√(v + ε)·g′, u ← ρ·u + (1 − ρ)·Δ², θ ← θ − η·Δ.
    /// </summary>
    public static void AdaDeltaStep<T>(Span<T> parameters, ReadOnlySpan<T> gradients, Span<T> squareAverage, Span<T> deltaAverage,
        T learningRate, T rho, T epsilon, in GradientTransform<T> transform)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        CheckLengths<T>(parameters.Length, gradients.Length, squareAverage.Length, deltaAverage.Length);
        GradientTransform<T> t = Normalize(transform);
        ref T p = ref MemoryMarshal.GetReference(parameters);
        ref T g = ref MemoryMarshal.GetReference(gradients);
        ref T v = ref MemoryMarshal.GetReference(squareAverage);
        ref T u = ref MemoryMarshal.GetReference(deltaAverage);
        nuint n = (nuint)parameters.Length;
        var c = (Rho: rho, OneMinusRho: T.One - rho, Epsilon: epsilon, NegLr: -learningRate);
        if (Vector512.IsHardwareAccelerated) AdaDeltaCore<T, Simd512<T>>(ref p, ref g, ref v, ref u, n, c, t);
        else if (Vector256.IsHardwareAccelerated) AdaDeltaCore<T, Simd256<T>>(ref p, ref g, ref v, ref u, n, c, t);
        else AdaDeltaCore<T, SimdScalar<T>>(ref p, ref g, ref v, ref u, n, c, t);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AdaDeltaCore<T, TV>(ref T p, ref T g, ref T v, ref T u, nuint n, (T Rho, T OneMinusRho, T Epsilon, T NegLr) c, in GradientTransform<T> t)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint w = (nuint)TV.Count, i = 0;
        for (; i + w <= n; i += w) AdaDeltaBody<T, TV>(ref p, ref g, ref v, ref u, i, c, t);
        for (; i < n; i++) AdaDeltaBody<T, SimdScalar<T>>(ref p, ref g, ref v, ref u, i, c, t);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AdaDeltaBody<T, TV>(ref T p, ref T g, ref T v, ref T u, nuint i, (T Rho, T OneMinusRho, T Epsilon, T NegLr) c, in GradientTransform<T> t)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        TV pv = TV.Load(ref p, i);
        TV gv = Gradient<T, TV, On>(ref g, i, pv, t);
        TV rho = TV.Create(c.Rho), oneMinusRho = TV.Create(c.OneMinusRho), eps = TV.Create(c.Epsilon);
        TV vv = Flush<T, TV>(TV.MultiplyAdd(rho, TV.Load(ref v, i), gv * gv * oneMinusRho));
        TV.Store(vv, ref v, i);
        TV uv = TV.Load(ref u, i);
        TV delta = TV.Sqrt(uv + eps) / TV.Sqrt(vv + eps) * gv;
        TV.Store(Flush<T, TV>(TV.MultiplyAdd(rho, uv, delta * delta * oneMinusRho)), ref u, i);
        TV.Store(TV.MultiplyAdd(TV.Create(c.NegLr), delta, pv), ref p, i);
    }
}
