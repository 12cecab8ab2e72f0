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
/// Computes y = 1 / (1 + e^(−x)); dx = dy·y·(1 − y). Saturates to exactly 0 and 1 for large |x| (e^(−x) overflows
/// to +∞ and 1/∞ = 0), never producing NaN for finite x.
/// </summary>
public readonly struct SigmoidOp<T> : IActivationOp<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Forward<TV>(TV x) where TV : struct, ISimd<TV, T>
    {
        TV one = TV.Create(T.One);
        return one / (one + TV.Exp(-x));
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Backward<TV>(TV y, TV dy) where TV : struct, ISimd<TV, T> => dy * y * (TV.Create(T.One) - y);
}

/// <summary>
/// Computes y = tanh(x); dx = dy·(1 − y²).
/// </summary>
/// <remarks>
/// Derivation: (1) tanh is odd, so compute t = tanh(|x|) and restore the sign with CopySign.
/// (2) With m = expm1(−2|x|) ∈ (−1, 0], tanh(|x|) = −m / (2 + m), free of cancellation for small |x|.
/// (3) expm1(z) is evaluated by Kahan's identity expm1(z) = (u − 1)·z / log(u) with u = e^z (exact when u = 1,
/// where expm1(z) = z to working precision), using the library vector exp and log. Where u &lt; ½ the subtraction
/// u − 1 loses nothing, so it is used directly and the logarithm's rounding stays out.
/// (4) For |x| &gt; 20 the result is ±1 in both float and double, so the branch-free select returns the sign
/// directly (this also avoids log(0) when e^z underflows). NaN propagates.
/// (5) For |x| below <see cref="Small"/> (2^−13 for float, 2^−27 for double), x³/3 is under half an ulp of x, so
/// tanh(x) = x exactly; returning x there also keeps denormal inputs away from step (3)'s quotient.
/// </remarks>
public readonly struct TanhOp<T> : IActivationOp<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Forward<TV>(TV x) where TV : struct, ISimd<TV, T>
    {
        TV one = TV.Create(T.One);
        TV ax = TV.Abs(x);
        TV z = TV.Create(-T.CreateTruncating(2)) * ax;
        TV u = TV.Exp(z);
        TV um1 = u - one;
        TV m = TV.SelectEquals(u, one, z, um1 * z / TV.Log(u));
        m = TV.SelectGreaterThan(TV.Create(T.CreateTruncating(0.5)), u, um1, m);
        TV t = -m / (TV.Create(T.CreateTruncating(2)) + m);
        t = TV.SelectGreaterThan(ax, TV.Create(T.CreateTruncating(20)), one, t);
        t = TV.SelectGreaterThan(TV.Create(Small), ax, ax, t);
        return TV.CopySign(t, x);
    }

    /// <summary>Below this magnitude tanh(x) rounds to x: 2^−13 for float, 2^−27 for double.</summary>
    private static T Small => typeof(T) == typeof(float) ? T.CreateTruncating(1.0 / 8192) : T.CreateTruncating(1.0 / 134217728);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Backward<TV>(TV y, TV dy) where TV : struct, ISimd<TV, T> => dy * (TV.Create(T.One) - y * y);
}
