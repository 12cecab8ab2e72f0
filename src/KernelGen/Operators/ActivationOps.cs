using System.Numerics;
using System.Runtime.CompilerServices;

namespace KernelGen.Operators;

/// <summary>
/// An element-wise activation, described once: <see cref="Forward{TV}"/> computes y = f(x) and
/// <see cref="Backward{TV}"/> computes dx = dy·f′(x) from the forward output y (every activation here has a
/// derivative expressible through its output, so backward needs no pre-activation cache). The same description is
/// instantiated for <see cref="Simd512{T}"/>, <see cref="Simd256{T}"/> and <see cref="SimdScalar{T}"/>.
/// </summary>
public interface IActivationOp<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Computes y = f(x) lane-wise.</summary>
    static abstract TV Forward<TV>(TV x) where TV : struct, ISimd<TV, T>;

    /// <summary>Computes dx = dy·f′(x) lane-wise, given y = f(x).</summary>
    static abstract TV Backward<TV>(TV y, TV dy) where TV : struct, ISimd<TV, T>;
}

/// <summary>Computes y = x; dx = dy.</summary>
public readonly struct IdentityOp<T> : IActivationOp<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TV Forward<TV>(TV x) where TV : struct, ISimd<TV, T> => x;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TV Backward<TV>(TV y, TV dy) where TV : struct, ISimd<TV, T> => dy;
}

/// <summary>
/// Computes y = max(0, x); dx = dy where y &gt; 0, else 0 (the derivative at 0 is taken as 0, as in PyTorch).
/// NaN inputs give NaN or 0 depending on the vector width (inputs are validated to be finite).
/// </summary>
public readonly struct ReluOp<T> : IActivationOp<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TV Forward<TV>(TV x) where TV : struct, ISimd<TV, T> => TV.Max(x, TV.Zero);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Backward<TV>(TV y, TV dy) where TV : struct, ISimd<TV, T> => TV.SelectGreaterThan(y, TV.Zero, dy, TV.Zero);
}

/// <summary>
/// Computes y = 1 / (1 + e^(−x)) (<see cref="VectorMath.Sigmoid{T, TV}"/>: about one ulp, relative accuracy kept for
/// tiny results at x ≪ 0, exactly 0 and 1 at the extremes, never NaN for finite x); dx = dy·y·(1 − y).
/// </summary>
public readonly struct SigmoidOp<T> : IActivationOp<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Forward<TV>(TV x) where TV : struct, ISimd<TV, T> => VectorMath.Sigmoid<T, TV>(x);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Backward<TV>(TV y, TV dy) where TV : struct, ISimd<TV, T> => dy * y * (TV.Create(T.One) - y);
}

/// <summary>
/// Computes y = tanh(x) (<see cref="VectorMath.Tanh{T, TV}"/>: within one ulp of the correctly rounded result for
/// every float, saturating to exactly ±1, NaN propagating); dx = dy·(1 − y²).
/// </summary>
public readonly struct TanhOp<T> : IActivationOp<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Forward<TV>(TV x) where TV : struct, ISimd<TV, T> => VectorMath.Tanh<T, TV>(x);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Backward<TV>(TV y, TV dy) where TV : struct, ISimd<TV, T> => dy * (TV.Create(T.One) - y * y);
}

/// <summary>A compile-time scalar: the generator emits one such type per parameterized activation (its slope or α),
/// so the constant folds into the specialized kernel.</summary>
public interface IScalarParameter<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>The value.</summary>
    static abstract T Value { get; }
}

/// <summary>Computes y = x for x &gt; 0, else s·x (PyTorch LeakyReLU, negative_slope s = <typeparamref name="TSlope"/>, 0 ≤ s &lt; 1);
/// dx = dy where y &gt; 0, else s·dy. NaN propagates.</summary>
public readonly struct LeakyReluOp<T, TSlope> : IActivationOp<T>
    where T : unmanaged, IBinaryFloatingPointIeee754<T> where TSlope : IScalarParameter<T>
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Forward<TV>(TV x) where TV : struct, ISimd<TV, T> => TV.SelectGreaterThan(x, TV.Zero, x, x * TV.Create(TSlope.Value));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Backward<TV>(TV y, TV dy) where TV : struct, ISimd<TV, T> => TV.SelectGreaterThan(y, TV.Zero, dy, dy * TV.Create(TSlope.Value));
}

/// <summary>Computes y = x for x &gt; 0, else α·(e^x − 1) (PyTorch ELU, α = <typeparamref name="TAlpha"/> &gt; 0, expm1 without
/// cancellation); dx = dy where y &gt; 0, else dy·(y + α). Saturates to −α; NaN propagates.</summary>
public readonly struct EluOp<T, TAlpha> : IActivationOp<T>
    where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAlpha : IScalarParameter<T>
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Forward<TV>(TV x) where TV : struct, ISimd<TV, T> =>
        TV.SelectGreaterThan(x, TV.Zero, x, TV.Create(TAlpha.Value) * VectorMath.Expm1<T, TV>(TV.Min(x, TV.Zero)));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Backward<TV>(TV y, TV dy) where TV : struct, ISimd<TV, T> => TV.SelectGreaterThan(y, TV.Zero, dy, dy * (y + TV.Create(TAlpha.Value)));
}

/// <summary>
/// Computes y = log(1 + e^x) = max(x, 0) + log1p(e^(−|x|)) (PyTorch Softplus with β = 1; exact for large |x|, no
/// overflow); dx = dy·σ(x) = dy·(1 − e^(−y)) = −dy·expm1(−y). NaN propagates.
/// </summary>
public readonly struct SoftplusOp<T> : IActivationOp<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Forward<TV>(TV x) where TV : struct, ISimd<TV, T> =>
        TV.Max(x, TV.Zero) + VectorMath.Log1p<T, TV>(TV.Exp(-TV.Abs(x)));
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Backward<TV>(TV y, TV dy) where TV : struct, ISimd<TV, T> => -dy * VectorMath.Expm1<T, TV>(-y);
}

/// <summary>An element-wise loss ℓ(y, t) and its derivative ∂ℓ/∂y, lane-wise (the generator emits one per user loss).</summary>
public interface IElementwiseLossOp<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Computes ℓ(y, t).</summary>
    static abstract TV Loss<TV>(TV y, TV t) where TV : struct, ISimd<TV, T>;
    /// <summary>Computes ∂ℓ/∂y at (y, t).</summary>
    static abstract TV Gradient<TV>(TV y, TV t) where TV : struct, ISimd<TV, T>;
}

/// <summary>
/// An activation whose derivative needs the pre-activation x (not expressible through y alone): the generator keeps
/// x for backward.
/// </summary>
public interface IInputActivationOp<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Computes y = f(x) lane-wise.</summary>
    static abstract TV Forward<TV>(TV x) where TV : struct, ISimd<TV, T>;
    /// <summary>Computes dx = dy·f′(x) lane-wise.</summary>
    static abstract TV Backward<TV>(TV x, TV dy) where TV : struct, ISimd<TV, T>;
}

/// <summary>Computes y = x·σ(x) (SiLU / Swish, PyTorch SiLU); dx = dy·σ(x)·(1 + x·(1 − σ(x))).</summary>
public readonly struct SiluOp<T> : IInputActivationOp<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Forward<TV>(TV x) where TV : struct, ISimd<TV, T> => x * VectorMath.Sigmoid<T, TV>(x);
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Backward<TV>(TV x, TV dy) where TV : struct, ISimd<TV, T>
    {
        TV s = VectorMath.Sigmoid<T, TV>(x);
        return dy * s * TV.MultiplyAdd(x, TV.Create(T.One) - s, TV.Create(T.One));
    }
}

/// <summary>
/// Computes the exact GELU y = x·Φ(x) = ½x·(1 + erf(x/√2)) (PyTorch GELU, approximate='none');
/// dx = dy·(Φ(x) + x·φ(x)) with φ(x) = e^(−x²/2)/√(2π).
/// </summary>
public readonly struct GeluOp<T> : IInputActivationOp<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private static T InvSqrt2 => T.CreateTruncating(0.70710678118654752440);
    private static T InvSqrt2Pi => T.CreateTruncating(0.39894228040143267794);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Forward<TV>(TV x) where TV : struct, ISimd<TV, T>
    {
        TV half = TV.Create(T.CreateTruncating(0.5));
        return half * x * (TV.Create(T.One) + VectorMath.Erf<T, TV>(x * TV.Create(InvSqrt2)));
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Backward<TV>(TV x, TV dy) where TV : struct, ISimd<TV, T>
    {
        TV half = TV.Create(T.CreateTruncating(0.5));
        TV cdf = half * (TV.Create(T.One) + VectorMath.Erf<T, TV>(x * TV.Create(InvSqrt2)));
        TV pdf = TV.Create(InvSqrt2Pi) * TV.Exp(-half * x * x);
        return dy * TV.MultiplyAdd(x, pdf, cdf);
    }
}

/// <summary>
/// Computes PyTorch's tanh approximation of GELU (approximate='tanh'): y = ½x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715x³);
/// dx = dy·(½(1 + t) + ½x·(1 − t²)·√(2/π)·(1 + 3·0.044715x²)), t = tanh(u).
/// </summary>
public readonly struct GeluTanhOp<T> : IInputActivationOp<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private static T Sqrt2OverPi => T.CreateTruncating(0.79788456080286535588);
    private static T Cubic => T.CreateTruncating(0.044715);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Forward<TV>(TV x) where TV : struct, ISimd<TV, T>
    {
        TV half = TV.Create(T.CreateTruncating(0.5));
        TV u = TV.Create(Sqrt2OverPi) * TV.MultiplyAdd(TV.Create(Cubic) * x * x, x, x);
        return half * x * (TV.Create(T.One) + VectorMath.Tanh<T, TV>(u));
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Backward<TV>(TV x, TV dy) where TV : struct, ISimd<TV, T>
    {
        TV one = TV.Create(T.One), half = TV.Create(T.CreateTruncating(0.5));
        TV x2 = x * x;
        TV u = TV.Create(Sqrt2OverPi) * TV.MultiplyAdd(TV.Create(Cubic) * x2, x, x);
        TV t = VectorMath.Tanh<T, TV>(u);
        TV du = TV.Create(Sqrt2OverPi) * TV.MultiplyAdd(TV.Create(T.CreateTruncating(3 * 0.044715)), x2, one);
        return dy * (half * (one + t) + half * x * (one - t * t) * du);
    }
}

/// <summary>
/// Computes Mish, y = x·tanh(softplus(x)) (Misra 2019, PyTorch Mish), through one exponential: with e = e^x and
/// n = e·(e + 2), tanh(log(1 + e)) = ((1 + e)² − 1)/((1 + e)² + 1) = n/(n + 2), exact in form for every x (e is capped at
/// e^20, past which t rounds to 1 in double as well as float, so nothing overflows); dx = dy·(t + x·σ(x)·(1 − t²)) with
/// σ(x) = e/(1 + e) and 1 − t² = 4(n + 1)/(n + 2)², which keeps its relative accuracy where t is near 1. NaN propagates.
/// </summary>
public readonly struct MishOp<T> : IInputActivationOp<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private static T Cap => T.CreateTruncating(20.0);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Forward<TV>(TV x) where TV : struct, ISimd<TV, T>
    {
        TV two = TV.Create(T.CreateTruncating(2.0));
        TV e = TV.Exp(TV.Min(x, TV.Create(Cap)));
        TV n = e * (e + two);
        return x * (n / (n + two));
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Backward<TV>(TV x, TV dy) where TV : struct, ISimd<TV, T>
    {
        TV one = TV.Create(T.One), two = TV.Create(T.CreateTruncating(2.0)), four = TV.Create(T.CreateTruncating(4.0));
        TV capped = TV.Min(x, TV.Create(Cap));
        TV e = TV.Exp(capped);
        TV n = e * (e + two);
        TV d = n + two;
        TV t = n / d;
        TV sigmoid = e / (one + e);
        TV oneMinusT2 = four * (n + one) / (d * d);
        return dy * TV.MultiplyAdd(capped * sigmoid, oneMinusT2, t);
    }
}

/// <summary>
/// Computes SELU, y = λ·x for x &gt; 0, else λ·α·(e^x − 1) (Klambauer et al. 2017, PyTorch SELU; α = 1.6732632423543772,
/// λ = 1.0507009873554805, expm1 without cancellation); dx = λ·dy where y &gt; 0, else dy·(y + λ·α). Saturates to −λ·α;
/// NaN propagates.
/// </summary>
public readonly struct SeluOp<T> : IActivationOp<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private static T Scale => T.CreateTruncating(1.0507009873554804934193349852946);
    private static T ScaledAlpha => T.CreateTruncating(1.0507009873554804934193349852946 * 1.6732632423543772848170429916717);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Forward<TV>(TV x) where TV : struct, ISimd<TV, T> =>
        TV.SelectGreaterThan(x, TV.Zero, TV.Create(Scale) * x, TV.Create(ScaledAlpha) * VectorMath.Expm1<T, TV>(TV.Min(x, TV.Zero)));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Backward<TV>(TV y, TV dy) where TV : struct, ISimd<TV, T> =>
        TV.SelectGreaterThan(y, TV.Zero, dy * TV.Create(Scale), dy * (y + TV.Create(ScaledAlpha)));
}

/// <summary>
/// Computes hard swish, y = x·min(max(x + 3, 0), 6)/6 (MobileNetV3, PyTorch Hardswish); dx = 0 for x &lt; −3,
/// dy·(x/3 + ½) for −3 ≤ x ≤ 3 (PyTorch's convention at both ends), dy for x &gt; 3. Reads its input (the derivative is not
/// a function of the output: y = 0 both left of −3 and at 0). NaN propagates in forward.
/// </summary>
public readonly struct HardSwishOp<T> : IInputActivationOp<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private static T Three => T.CreateTruncating(3.0);
    private static T Six => T.CreateTruncating(6.0);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Forward<TV>(TV x) where TV : struct, ISimd<TV, T> =>
        x * TV.Min(TV.Max(x + TV.Create(Three), TV.Zero), TV.Create(Six)) / TV.Create(Six);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Backward<TV>(TV x, TV dy) where TV : struct, ISimd<TV, T>
    {
        TV three = TV.Create(Three);
        TV middle = dy * TV.MultiplyAdd(x, TV.Create(T.One / Three), TV.Create(T.CreateTruncating(0.5)));
        return TV.SelectGreaterThan(-three, x, TV.Zero, TV.SelectGreaterThan(x, three, dy, middle));
    }
}
