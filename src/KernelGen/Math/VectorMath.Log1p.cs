using System.Numerics;
using System.Runtime.CompilerServices;
using KernelGen.Operators;

namespace KernelGen;

public static partial class VectorMath
{
    /// <summary>
    /// Computes log(1 + x) lane-wise without cancellation for small |x| (log1p(x) = x for tiny x, including −0 and
    /// subnormals). log1p(−1) = −∞, log1p(x) = NaN for x &lt; −1 (including −∞), log1p(+∞) = +∞, NaN → NaN.
    /// </summary>
    /// <remarks>
    /// Derivation (the library logarithm is used only to choose k, never for digits of the result):
    /// (1) u = fl(1 + x) and its rounding error e = (1 + x) − u exactly (Knuth's TwoSum). Then
    /// log1p(x) = log u + log(1 + e/u) = log u + e/u to within (e/u)² &lt; 2^−2p.
    /// (2) k = round(log2 u) from the library log, so m = u·2^−k lies in [√½, √2] up to a hair of slack at the
    /// ends (the polynomial below is fitted with room to spare). 2^−k comes exact from <see cref="Pow2{T, TV}"/>,
    /// split as 2^−S'·2^(S' − k) (S' = <see cref="ShiftExponent{T, TV}"/> for k &gt; 0, else 0) to stay normal.
    /// (3) f = m − 1 is exact (Sterbenz: m ∈ [½, 2]) and log u = k·ln 2 + log(1 + f).
    /// (4) log(1 + f) = 2·atanh(s) with s = f/(2 + f); 2·atanh(s) = 2s + s·R(s²) and 2s = f − s·f = f − hf² + s·hf²
    /// with hf² = f²/2, so log(1 + f) = f − (hf² − s·(hf² + R)). R(z) = z·P(z) is a minimax polynomial of degree 3
    /// (float) or 7 (double) on z ∈ [0, 0.0315] (|s| ≤ 0.1775, i.e. f ∈ [−0.30, 0.43]), fitted to the error it
    /// causes in log(1 + f), relative: ≤ 4.2e−10 (float) and 7.8e−19 (double) after rounding the coefficients
    /// (<c>fit_coefficients.py</c>, section "log1p"). The leading f is exact; every other rounding is on a term at
    /// most ~f/4, which keeps the result within about an ulp.
    /// (5) Sum: k·ln2_hi (exact) + (f − (hf² − (s·(hf² + R) + (k·ln2_lo + e/u)))), one significant rounding at the end.
    /// (6) log1p has the sign of x, copied to keep −0; then −1, x &lt; −1, +∞ and NaN get their special values.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Log1p<T, TV>(TV x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TV : struct, ISimd<TV, T>
    {
        TV one = Splat<T, TV>(1.0);
        TV u = one + x;
        TV ux = u - one;
        TV e = (one - (u - ux)) + (x - ux);
        TV k = RoundToInteger<T, TV>(TV.Log(u) * Splat<T, TV>(Log2E));
        TV shift = TV.SelectGreaterThan(k, TV.Zero, ShiftExponent<T, TV>(), TV.Zero);
        TV scaleInverse = TV.SelectGreaterThan(k, TV.Zero, ShiftScaleInverse<T, TV>(), one);
        TV m = (u * scaleInverse) * Pow2<T, TV>(shift - k);
        TV f = m - one;
        TV s = f / (Splat<T, TV>(2.0) + f);
        TV z = s * s;
        TV p;
        if (IsSingle<T>())
        {
            p = Step<T, TV>(Splat<T, TV>(0.236809835f), z, 0.285322517f);
            p = Step<T, TV>(p, z, 0.400004119f);
            p = Step<T, TV>(p, z, 0.666666627f);
        }
        else
        {
            p = Step<T, TV>(Splat<T, TV>(0.13362991491650458), z, 0.13237482298690689);
            p = Step<T, TV>(p, z, 0.15387667522836443);
            p = Step<T, TV>(p, z, 0.1818176208654099);
            p = Step<T, TV>(p, z, 0.22222222821508222);
            p = Step<T, TV>(p, z, 0.28571428567891621);
            p = Step<T, TV>(p, z, 0.40000000000010089);
            p = Step<T, TV>(p, z, 0.66666666666666652);
        }
        TV hfsq = Splat<T, TV>(0.5) * f * f;
        TV tail = TV.MultiplyAdd(k, Splat<T, TV>(Ln2LoSingle, Ln2LoDouble), e / u);
        tail = TV.MultiplyAdd(s, TV.MultiplyAdd(z, p, hfsq), tail);
        TV result = TV.MultiplyAdd(k, Splat<T, TV>(Ln2HiSingle, Ln2HiDouble), f - (hfsq - tail));
        result = TV.CopySign(result, x);
        TV minusOne = -one;
        TV infinity = Splat<T, TV>(double.PositiveInfinity);
        result = TV.SelectEquals(x, minusOne, -infinity, result);
        result = TV.SelectGreaterThan(minusOne, x, Splat<T, TV>(double.NaN), result);
        result = TV.SelectEquals(x, infinity, infinity, result);
        return PropagateNaN<T, TV>(x, result);
    }
}
