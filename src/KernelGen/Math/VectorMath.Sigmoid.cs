using System.Numerics;
using System.Runtime.CompilerServices;
using KernelGen.Operators;

namespace KernelGen;

public static partial class VectorMath
{
    /// <summary>
    /// Computes σ(x) = 1/(1 + e^(−x)) lane-wise, with full relative accuracy in the tiny results for x ≪ 0 (down to
    /// subnormals and then exactly +0), exactly 1 for large x, σ(±0) = ½, σ(+∞) = 1, σ(−∞) = +0; never NaN for
    /// non-NaN x. NaN → NaN.
    /// </summary>
    /// <remarks>
    /// Derivation:
    /// (1) E + E_lo = e^(−|x|) ∈ (0, 1] from the accurate exponential, with E_lo the rounding error of E (so the pair
    /// is good to a few hundredths of an ulp); e^(−|x|) never overflows, and for |x| = ∞ it is 0.
    /// (2) For x ≥ 0, σ(x) = 1/(1 + e^(−|x|)); for x &lt; 0, σ(x) = e^(−|x|)/(1 + e^(−|x|)), the same value without
    /// forming the huge e^(−x), so the relative error stays small even where σ(x) is subnormal. Numerator N + N_lo
    /// is 1 + 0 or E + E_lo, chosen by the sign of x.
    /// (3) Denominator 1 + E = D + D_lo exactly (Fast2Sum, 1 ≥ E), then D_lo += E_lo.
    /// (4) q = N/D (one rounding), and (N + N_lo)/(D + D_lo) = q + (N_lo − q·D_lo)/D to first order; adding that
    /// correction leaves the division's and the final addition's roundings, about one ulp at worst instead of the
    /// 2+ ulps of the plain quotient of rounded terms.
    /// (5) For x ≫ 0, E is below half an ulp of 1, so D = 1, q = 1 and the correction rounds away: exactly 1.
    /// NaN lanes are restored from x.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Sigmoid<T, TV>(TV x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TV : struct, ISimd<TV, T>
    {
        TV one = Splat<T, TV>(1.0);
        TV e = ExpWithLow<T, TV>(-TV.Abs(x), out TV eLow);
        TV d = one + e;
        TV dLow = ((one - d) + e) + eLow;
        TV n = TV.SelectGreaterThan(TV.Zero, x, e, one);
        TV nLow = TV.SelectGreaterThan(TV.Zero, x, eLow, TV.Zero);
        TV q = n / d;
        TV result = q + (nLow - q * dLow) / d;
        return PropagateNaN<T, TV>(x, result);
    }
}
