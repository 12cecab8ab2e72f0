using System.Numerics;
using System.Runtime.CompilerServices;
using KernelGen.Operators;

namespace KernelGen;

public static partial class VectorMath
{
    /// <summary>Below this, e^x rounds to +0 (float: e^−104 &lt; 2^−150; double: e^−746 &lt; 2^−1075).</summary>
    private static TV ExpLowerClamp<T, TV>()
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TV : struct, ISimd<TV, T> => Splat<T, TV>(-104f, -746.0);

    /// <summary>Above this, e^x overflows to +∞ (float: e^89 &gt; 2^128; double: e^710 &gt; 2^1024).</summary>
    private static TV ExpUpperClamp<T, TV>()
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TV : struct, ISimd<TV, T> => Splat<T, TV>(89f, 710.0);

    /// <summary>
    /// Computes e^x lane-wise to within one ulp of the correctly rounded result (measured: 0.77 ulp in float, worst
    /// where the result is subnormal; the library vector exponential reaches 1.77 ulp in float), with gradual underflow
    /// to +0 and overflow to +∞. e^NaN = NaN, e^+∞ = +∞, e^−∞ = +0.
    /// </summary>
    /// <remarks>
    /// Derivation:
    /// (1) Clamp x to [<see cref="ExpLowerClamp{T, TV}"/>, <see cref="ExpUpperClamp{T, TV}"/>]; the bounds already
    /// give +0 and +∞, so the clamp changes no result and keeps every intermediate finite.
    /// (2) k = round(x·log2 e), r = x − k·ln 2 by Cody–Waite (<see cref="ReduceLn2{T, TV}"/>), |r| ≤ ln 2 / 2 + tiny.
    /// (3) e^r = 1 + (e^r − 1) from <see cref="ExpKernel{T, TV}"/>, which adds the 1 with a single rounding.
    /// (4) e^x = e^r·2^k, formed as (e^r·2^±S)·2^(k ∓ S) with S = <see cref="ShiftExponent{T, TV}"/> and the
    /// sign of k: both factors are normal and exact (<see cref="Pow2{T, TV}"/>), so the only rounding after step (3) is
    /// the last product, which also performs gradual underflow and overflow correctly.
    /// (5) NaN lanes are restored from x at the end (the clamp's min/max may drop them).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Exp<T, TV>(TV x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TV : struct, ISimd<TV, T> =>
        ExpWithLow<T, TV>(x, out _);

    /// <summary>
    /// Computes e^x as <paramref name="low"/> + the returned value, where the returned value is <see cref="Exp{T, TV}"/>
    /// and low is (up to scaling) the error of its final rounding, so the pair is good to a few hundredths of an ulp
    /// wherever e^x is normal. For callers that can use the extra bits (<see cref="Sigmoid{T, TV}"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV ExpWithLow<T, TV>(TV x, out TV low)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TV : struct, ISimd<TV, T>
    {
        TV xc = TV.Min(TV.Max(x, ExpLowerClamp<T, TV>()), ExpUpperClamp<T, TV>());
        TV k = RoundToInteger<T, TV>(xc * Splat<T, TV>(Log2E));
        ReduceLn2<T, TV>(xc, k, out TV rHi, out TV rLo);
        TV er = ExpKernel<T, TV>(rHi, rLo, Splat<T, TV>(1.0), TV.Zero, out TV erLow);
        TV shift = TV.SelectGreaterThan(k, TV.Zero, ShiftExponent<T, TV>(), -ShiftExponent<T, TV>());
        TV scale = TV.SelectGreaterThan(k, TV.Zero, ShiftScale<T, TV>(), ShiftScaleInverse<T, TV>());
        TV p = Pow2<T, TV>(k - shift);
        low = PropagateNaN<T, TV>(x, (erLow * scale) * p);
        return PropagateNaN<T, TV>(x, (er * scale) * p);
    }
}
