using System.Numerics;
using System.Runtime.CompilerServices;
using KernelGen.Operators;

namespace KernelGen;

/// <summary>
/// Accurate, branch-free element-wise math written once against <see cref="ISimd{TSelf, T}"/> and instantiated for
/// <see cref="Simd512{T}"/>, <see cref="Simd256{T}"/> and <see cref="SimdScalar{T}"/>, for <see cref="float"/> and
/// <see cref="double"/>. Every lane takes the same path: ranges are handled by computing each candidate and choosing
/// with selects, never by per-lane branching. Results may differ in the last bit between widths, because
/// <see cref="ISimd{TSelf, T}.MultiplyAdd"/> is fused on vector hardware with FMA and unfused on the scalar path.
/// </summary>
/// <remarks>
/// <para>
/// One file per approximation: <c>VectorMath.Exp.cs</c>, <c>VectorMath.Expm1.cs</c>, <c>VectorMath.Log1p.cs</c>,
/// <c>VectorMath.Tanh.cs</c>, <c>VectorMath.Sigmoid.cs</c>, <c>VectorMath.Erf.cs</c>. This file holds the shared
/// building blocks: constants, round-to-integer, exact powers of two and the e^r − 1 kernel.
/// </para>
/// <para>
/// Coefficient provenance: every polynomial coefficient was derived for this project by
/// <c>Math/fit_coefficients.py</c> (a weighted Remez exchange in 50-digit mpmath arithmetic, then rounded to the
/// target type; the script prints the error after rounding). No coefficient or code was copied from a library.
/// The Cody–Waite split of ln 2 and the other constants are plain roundings of the mathematical values.
/// </para>
/// <para>
/// The register abstraction has no bit casts or integer conversions, so the usual exponent tricks are rebuilt from
/// arithmetic: <see cref="RoundToInteger{T, TV}"/> adds and subtracts 1.5·2^(p−1), and <see cref="Pow2{T, TV}"/>
/// rounds the library e^(j·ln 2) to the nearest power of two with a Veltkamp split, which makes it exact.
/// </para>
/// </remarks>
public static partial class VectorMath
{
    /// <summary>True when the element type is <see cref="float"/> (a JIT-time constant in each instantiation).</summary>
    private static bool IsSingle<T>() => typeof(T) == typeof(float);

    /// <summary>All lanes <paramref name="value"/> rounded to <typeparamref name="T"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Splat<T, TV>(double value)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TV : struct, ISimd<TV, T> =>
        TV.Create(T.CreateTruncating(value));

    /// <summary>All lanes <paramref name="single"/> for <see cref="float"/>, <paramref name="dbl"/> for <see cref="double"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Splat<T, TV>(float single, double dbl)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TV : struct, ISimd<TV, T> =>
        TV.Create(IsSingle<T>() ? T.CreateTruncating(single) : T.CreateTruncating(dbl));

    /// <summary>One Horner step: a·x + c with c a constant.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Step<T, TV>(TV a, TV x, double c)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TV : struct, ISimd<TV, T> =>
        TV.MultiplyAdd(a, x, Splat<T, TV>(c));

    /// <summary>Returns <paramref name="result"/> where <paramref name="x"/> is a number and <paramref name="x"/> (NaN) where it is NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV PropagateNaN<T, TV>(TV x, TV result)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TV : struct, ISimd<TV, T> =>
        TV.SelectEquals(x, x, result, x);

    // ---- Constants -------------------------------------------------------------------------------------------------

    /// <summary>log2(e), rounded.</summary>
    private const double Log2E = 1.4426950408889634;
    /// <summary>ln 2 rounded to 16 bits (float: 45426·2^−16, so k·Ln2HiSingle is exact for |k| &lt; 2^8).</summary>
    private const float Ln2HiSingle = 0.693145751953125f;
    /// <summary>ln 2 − <see cref="Ln2HiSingle"/>, rounded to float.</summary>
    private const float Ln2LoSingle = 1.42860677e-06f;
    /// <summary>ln 2 rounded to 42 bits (3048493539143·2^−42, so k·Ln2HiDouble is exact for |k| &lt; 2^11).</summary>
    private const double Ln2HiDouble = 0.6931471805598903;
    /// <summary>ln 2 − <see cref="Ln2HiDouble"/>, rounded to double.</summary>
    private const double Ln2LoDouble = 5.4979230187083712e-14;
    /// <summary>ln 2 rounded to the target type (used only inside <see cref="Pow2{T, TV}"/>, whose result is rounded).</summary>
    private const double Ln2 = 0.69314718055994529;

    /// <summary>1.5·2^23: adding and subtracting it rounds a float of magnitude below 2^22 to the nearest integer.</summary>
    private const float RoundMagicSingle = 12582912f;
    /// <summary>1.5·2^52: adding and subtracting it rounds a double of magnitude below 2^51 to the nearest integer.</summary>
    private const double RoundMagicDouble = 6755399441055744.0;

    /// <summary>Veltkamp multiplier 2^(p−2) + 1 (p = 24 for float): splits off the leading 2 bits of a float.</summary>
    private const float SplitSingle = 4194305f;
    /// <summary>Veltkamp multiplier 2^(p−2) + 1 (p = 53 for double): splits off the leading 2 bits of a double.</summary>
    private const double SplitDouble = 2251799813685249.0;

    /// <summary>
    /// Exponent shift used to keep 2^j inside the normal range while scaling: results are formed as
    /// (v·2^±S)·2^(k ∓ S) with |k ∓ S| small enough for <see cref="Pow2{T, TV}"/> (S = 64 for float, 512 for double).
    /// </summary>
    private static TV ShiftExponent<T, TV>()
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TV : struct, ISimd<TV, T> => Splat<T, TV>(64f, 512.0);

    /// <summary>2^S for <see cref="ShiftExponent{T, TV}"/>.</summary>
    private static TV ShiftScale<T, TV>()
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TV : struct, ISimd<TV, T> => Splat<T, TV>(1.84467441e+19f, 1.3407807929942597e+154);

    /// <summary>2^−S for <see cref="ShiftExponent{T, TV}"/>.</summary>
    private static TV ShiftScaleInverse<T, TV>()
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TV : struct, ISimd<TV, T> => Splat<T, TV>(5.42101086e-20f, 7.4583407312002067e-155);

    // ---- Building blocks -------------------------------------------------------------------------------------------

    /// <summary>
    /// Rounds each lane to the nearest integer (ties to even) for |y| &lt; 2^22 (float) or 2^51 (double), by adding and
    /// subtracting 1.5·2^(p−1): the sum has no fraction bits left, so its rounding is the integer rounding.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV RoundToInteger<T, TV>(TV y)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TV : struct, ISimd<TV, T>
    {
        TV magic = Splat<T, TV>(RoundMagicSingle, RoundMagicDouble);
        return (y + magic) - magic;
    }

    /// <summary>
    /// Computes 2^j exactly for integer-valued j with |j| ≤ 100 (float) or |j| ≤ 900 (double); callers use at most
    /// 86 and 563.
    /// </summary>
    /// <remarks>
    /// (1) y = e^(j·ln 2) from the library exponential is within a relative 2^−15 of 2^j (its own error is a few ulps,
    /// and rounding j·ln 2 moves the exponent by at most |j|·2^−p).
    /// (2) A Veltkamp split with multiplier 2^(p−2) + 1 rounds y to its leading 2 significant bits; the nearest such
    /// number to y is 2^j, so the result is exact. The split needs y·(2^(p−2) + 1) finite, hence the bound on |j|.
    /// The split's steps must stay unfused (no <see cref="ISimd{TSelf, T}.MultiplyAdd"/>).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Pow2<T, TV>(TV j)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TV : struct, ISimd<TV, T>
    {
        TV y = TV.Exp(j * Splat<T, TV>(Ln2));
        TV p = y * Splat<T, TV>(SplitSingle, SplitDouble);
        return (y - p) + p;
    }

    /// <summary>
    /// Cody–Waite reduction: x − k·ln 2 = <paramref name="rHi"/> + <paramref name="rLo"/> with rHi = x − k·ln2_hi exact
    /// (k·ln2_hi has few enough bits to be exact, and for |k| ≥ 1 the subtraction is exact by Sterbenz's lemma) and
    /// rLo = −k·ln2_lo. Keeping the two parts apart means the reduction adds no rounding to the reduced argument.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ReduceLn2<T, TV>(TV x, TV k, out TV rHi, out TV rLo)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TV : struct, ISimd<TV, T>
    {
        rHi = TV.MultiplyAdd(k, Splat<T, TV>(-Ln2HiSingle, -Ln2HiDouble), x);
        rLo = k * Splat<T, TV>(-Ln2LoSingle, -Ln2LoDouble);
    }

    /// <summary>
    /// Computes c + (e^r − 1) + <paramref name="extra"/> for a reduced argument r = rHi + rLo ∈ [−0.35, 0.41], with
    /// essentially one rounding; <paramref name="low"/> receives that rounding's error (the result plus low is good to
    /// a few hundredths of an ulp). Requires |c| ≥ |rHi| or c = 0, and |extra| small (a correction term).
    /// </summary>
    /// <remarks>
    /// (1) e^r − 1 = r + r²·h(r), where h(r) = (e^r − 1 − r)/r² is a minimax polynomial of degree 5 (float) or 10
    /// (double) fitted on [−0.35, 0.41] to the error it causes in e^r − 1, relative: at most 4.3e−9 (float, ≈ 0.07 ulp)
    /// and 4.3e−18 (double) after rounding the coefficients (<c>fit_coefficients.py</c>, section "expm1").
    /// (2) c + rHi = s + e exactly (Fast2Sum, valid because |c| ≥ |rHi| or c = 0).
    /// (3) The result is s + ((e + rLo + extra) + r²·h): every rounding except the last addition is on a term far
    /// below s, so the result is within about half an ulp plus a few hundredths; low = (s − result) + tail is the
    /// error of that last addition (Fast2Sum again).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV ExpKernel<T, TV>(TV rHi, TV rLo, TV c, TV extra, out TV low)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TV : struct, ISimd<TV, T>
    {
        TV r = rHi + rLo;
        TV h;
        if (IsSingle<T>())
        {
            h = Step<T, TV>(Splat<T, TV>(0.00019996574f), r, 0.00139588292f);
            h = Step<T, TV>(h, r, 0.00833314564f);
            h = Step<T, TV>(h, r, 0.0416661054f);
            h = Step<T, TV>(h, r, 0.166666672f);
            h = Step<T, TV>(h, r, 0.5f);
        }
        else
        {
            h = Step<T, TV>(Splat<T, TV>(2.2192693776394917e-09), r, 2.5097570209257193e-08);
            h = Step<T, TV>(h, r, 2.7552683292734271e-07);
            h = Step<T, TV>(h, r, 2.7557277252631806e-06);
            h = Step<T, TV>(h, r, 2.48015933902609e-05);
            h = Step<T, TV>(h, r, 0.00019841269854311159);
            h = Step<T, TV>(h, r, 0.0013888888885337826);
            h = Step<T, TV>(h, r, 0.0083333333333331129);
            h = Step<T, TV>(h, r, 0.04166666666667522);
            h = Step<T, TV>(h, r, 0.16666666666666666);
            h = Step<T, TV>(h, r, 0.49999999999999994);
        }
        TV s = c + rHi;
        TV e = rHi - (s - c);
        TV tail = TV.MultiplyAdd(r * r, h, (e + rLo) + extra);
        TV result = s + tail;
        low = (s - result) + tail;
        return result;
    }
}
