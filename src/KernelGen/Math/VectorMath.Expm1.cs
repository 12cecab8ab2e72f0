using System.Numerics;
using System.Runtime.CompilerServices;
using KernelGen.Operators;

namespace KernelGen;

public static partial class VectorMath
{
    /// <summary>Below this, e^x − 1 rounds to −1 (float: e^−18 &lt; 2^−25; double: e^−40 &lt; 2^−54).</summary>
    private static TV Expm1LowerClamp<T, TV>()
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TV : struct, ISimd<TV, T> => Splat<T, TV>(-18f, -40.0);

    /// <summary>ln 1.5: up to here e^x − 1 ≤ ½ is taken from the kernel directly (k = 0).</summary>
    private const double Ln1p5 = 0.40546510810816438;

    /// <summary>
    /// Computes e^x − 1 lane-wise without cancellation for small |x| (expm1(x) = x for tiny x, including −0 and
    /// subnormals), saturating to −1 for very negative x and overflowing to +∞ above ln(max). NaN → NaN,
    /// +∞ → +∞, −∞ → −1.
    /// </summary>
    /// <remarks>
    /// Derivation:
    /// (1) Clamp x to [<see cref="Expm1LowerClamp{T, TV}"/>, <see cref="ExpUpperClamp{T, TV}"/>]; both bounds give
    /// the saturated results (−1 and +∞), so no result changes.
    /// (2) k = round(x·log2 e), except that k = 1 becomes 0 on (ln2/2, <see cref="Ln1p5"/>]: there e^x − 1 ≤ ½ is the
    /// kernel's value itself, whereas k = 1 would give 2·(…) + 1 with a result smaller than its parts. So the reduced
    /// argument r = x − k·ln 2 = rHi + rLo (Cody–Waite, <see cref="ReduceLn2{T, TV}"/>) lies in [−0.35, 0.41].
    /// (3) e^x − 1 = 2^k·(e^r − 1 + (1 − 2^−k)). With t = 2^−k, c = fl(1 − t) and d = (1 − c) − t (exact), the
    /// kernel <see cref="ExpKernel{T, TV}"/> forms c + (e^r − 1) + d with one significant rounding; d is 0 except for
    /// large k, where 1 − 2^−k is not representable (for very negative k the result is −1 anyway). For k = 0 the value
    /// is e^x − 1 computed directly, with no cancellation (rHi = x, rLo = 0, c = d = 0).
    /// (4) Scaling by 2^k = 2^S'·2^(k − S') (S' = <see cref="ShiftExponent{T, TV}"/> for k &gt; 0, else 0; powers of two
    /// from <see cref="Pow2{T, TV}"/>) is exact until the final product, which overflows to +∞ correctly.
    /// (5) expm1 has the sign of x: copying it restores −0. NaN lanes are restored from x.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Expm1<T, TV>(TV x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TV : struct, ISimd<TV, T>
    {
        TV one = Splat<T, TV>(1.0);
        TV xc = TV.Min(TV.Max(x, Expm1LowerClamp<T, TV>()), ExpUpperClamp<T, TV>());
        TV kk = RoundToInteger<T, TV>(xc * Splat<T, TV>(Log2E));
        TV k = TV.SelectGreaterThan(xc, Splat<T, TV>(Ln1p5), kk, TV.Min(kk, TV.Zero));
        ReduceLn2<T, TV>(xc, k, out TV rHi, out TV rLo);
        TV shift = TV.SelectGreaterThan(k, TV.Zero, ShiftExponent<T, TV>(), TV.Zero);
        TV scale = TV.SelectGreaterThan(k, TV.Zero, ShiftScale<T, TV>(), one);
        TV scaleInverse = TV.SelectGreaterThan(k, TV.Zero, ShiftScaleInverse<T, TV>(), one);
        TV p = Pow2<T, TV>(k - shift);
        TV t = scaleInverse / p;
        TV c = one - t;
        TV d = (one - c) - t;
        TV result = (ExpKernel<T, TV>(rHi, rLo, c, d, out _) * scale) * p;
        return PropagateNaN<T, TV>(x, TV.CopySign(result, x));
    }
}
