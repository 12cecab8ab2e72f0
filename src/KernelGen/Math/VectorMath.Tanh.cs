using System.Numerics;
using System.Runtime.CompilerServices;
using KernelGen.Operators;

namespace KernelGen;

public static partial class VectorMath
{
    /// <summary>Up to this |x| tanh is taken from the odd polynomial; above it from e^(2|x|).</summary>
    private const double TanhPolynomialLimit = 0.75;

    /// <summary>Beyond this |x|, tanh(x) = ±1 in float and double (2·e^−40 is far below half an ulp of 1).</summary>
    private const double TanhSaturation = 20;

    /// <summary>
    /// Computes tanh(x) lane-wise; odd, exact ±0 at ±0, tanh(x) = x for tiny x (including subnormals), ±1 for large
    /// |x| (from about 9.01 in float and 19.06 in double, where 2·e^(−2|x|) drops below half an ulp of 1) and at ±∞.
    /// NaN → NaN.
    /// </summary>
    /// <remarks>
    /// Derivation:
    /// (1) tanh is odd: compute t = tanh(|x|) and copy the sign of x (this also gives −0 for −0).
    /// (2) For |x| ≤ <see cref="TanhPolynomialLimit"/>: t = a + a·a²·P(a²) with a = |x|, where P(y) = (tanh a − a)/a³
    /// is a minimax polynomial of degree 6 (float) or 12 (double) on y ∈ [0, 0.5625], fitted to the error it causes
    /// in tanh, relative: ≤ 3.1e−9 (float) and 1.3e−17 (double) after rounding the coefficients
    /// (<c>fit_coefficients.py</c>, section "tanh"). The leading a is exact and the correction is at most a sixth
    /// of it, so this branch stays within about 0.7 ulp.
    /// (3) For larger |x|: t = 1 − 2/(e^(2a) + 1), with e^(2a) from the accurate <see cref="Exp{T, TV}"/> (2a is exact).
    /// Here 2/(e^(2a) + 1) &lt; 0.37 and shrinks quickly, so its rounding errors reach t damped by that factor. (The
    /// limit 0.75 rather than 0.55 brings this branch's worst float error from 1.43 to 1.01 ulp.)
    /// (4) a is clamped to <see cref="TanhSaturation"/> for the exponential (no overflow; the result is 1 there
    /// anyway). Both branches are computed and the result selected by a; NaN lanes are restored from x.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Tanh<T, TV>(TV x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TV : struct, ISimd<TV, T>
    {
        TV one = Splat<T, TV>(1.0);
        TV two = Splat<T, TV>(2.0);
        TV a = TV.Abs(x);
        TV y = a * a;
        TV p;
        if (IsSingle<T>())
        {
            p = Step<T, TV>(Splat<T, TV>(-0.00063281646f), y, 0.00296973065f);
            p = Step<T, TV>(p, y, -0.00859667733f);
            p = Step<T, TV>(p, y, 0.0218043681f);
            p = Step<T, TV>(p, y, -0.053959582f);
            p = Step<T, TV>(p, y, 0.133332774f);
            p = Step<T, TV>(p, y, -0.333333313f);
        }
        else
        {
            p = Step<T, TV>(Splat<T, TV>(-1.4853895635063645e-06), y, 9.4912651641328973e-06);
            p = Step<T, TV>(p, y, -3.3614981955491719e-05);
            p = Step<T, TV>(p, y, 9.3440792167400524e-05);
            p = Step<T, TV>(p, y, -0.00023761863053003995);
            p = Step<T, TV>(p, y, 0.00058955880792869834);
            p = Step<T, TV>(p, y, -0.0014557310099723329);
            p = Step<T, TV>(p, y, 0.0035921120743459042);
            p = Step<T, TV>(p, y, -0.0088632338562109059);
            p = Step<T, TV>(p, y, 0.021869488422942562);
            p = Step<T, TV>(p, y, -0.053968253963722956);
            p = Step<T, TV>(p, y, 0.13333333333324177);
            p = Step<T, TV>(p, y, -0.3333333333333327);
        }
        TV small = TV.MultiplyAdd(a * y, p, a);
        TV e2a = Exp<T, TV>(two * TV.Min(a, Splat<T, TV>(TanhSaturation)));
        TV large = one - two / (e2a + one);
        TV t = TV.SelectGreaterThan(a, Splat<T, TV>(TanhPolynomialLimit), large, small);
        return PropagateNaN<T, TV>(x, TV.CopySign(t, x));
    }
}
