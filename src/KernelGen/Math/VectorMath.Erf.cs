using System.Numerics;
using System.Runtime.CompilerServices;
using KernelGen.Operators;

namespace KernelGen;

public static partial class VectorMath
{
    /// <summary>Up to this |x|, erf is taken from the odd polynomial; above it from 1 − erfc.</summary>
    private const double ErfPolynomialLimit = 0.9;

    /// <summary>Breakpoints of the double-precision erfc pieces on [0.9, 6]: [0.9, 1.6], [1.6, 2.8], [2.8, 6].</summary>
    private const double ErfcBreak1 = 1.6, ErfcBreak2 = 2.8;

    /// <summary>
    /// |x| is clamped here: erf is ±1 in the type beyond it (float: erfc(4) ≈ 1.5e−8 &lt; 2^−25; double:
    /// erfc(6) ≈ 2.2e−17 &lt; 2^−54), and the erfc fit ends there.
    /// </summary>
    private static TV ErfSaturation<T, TV>()
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TV : struct, ISimd<TV, T> => Splat<T, TV>(4f, 6.0);

    /// <summary>
    /// Computes the error function erf(x) = (2/√π)·∫₀ˣ e^(−t²) dt lane-wise; odd (erf(−0) = −0), erf(x) ≈ (2/√π)·x
    /// for tiny x (including subnormals), saturating to exactly ±1 for large |x| and at ±∞. NaN → NaN.
    /// </summary>
    /// <remarks>
    /// Derivation:
    /// (1) erf is odd: compute on a = min(|x|, <see cref="ErfSaturation{T, TV}"/>) and copy the sign of x.
    /// (2) For a ≤ <see cref="ErfPolynomialLimit"/>: erf(a) = a + a·Q(a²), with Q(y) = erf(a)/a − 1 a minimax
    /// polynomial of degree 6 (float) or 11 (double) on y ∈ [0, 0.81], fitted to the error it causes in erf,
    /// relative: ≤ 8.6e−10 (float) and 3.1e−17 (double) after rounding the coefficients (<c>fit_coefficients.py</c>,
    /// section "erf"). Writing it as a + a·Q keeps the exact a as the leading term (|Q| ≤ 0.13).
    /// (3) For a &gt; 0.9: erf(a) = 1 − erfc(a) with erfc(a) = e^(−a²)·F(a), where F(a) = erfc(a)·e^(a²) is smooth and
    /// slowly varying (≈ 1/(a√π) for large a). F is a polynomial in t = a − a₀, fitted with weight e^(−a²)/erf(a),
    /// i.e. to the error it causes in erf: float uses one piece of degree 8 on [0.9, 4] (≤ 6.2e−9 after rounding);
    /// double uses three pieces of degree 12 on [0.9, 1.6], [1.6, 2.8], [2.8, 6] (≤ 1.3e−16), the coefficients of
    /// each lane's piece chosen by selects. e^(−a²) comes from the accurate <see cref="Exp{T, TV}"/>; rounding a² costs
    /// at most a relative a²·2^−p in erfc, which reaches erf damped by erfc/erf ≤ ¼.
    /// (4) At the clamp, 1 − erfc rounds to exactly 1. Both branches are computed and the result selected by a;
    /// NaN lanes are restored from x.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Erf<T, TV>(TV x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TV : struct, ISimd<TV, T>
    {
        TV a = TV.Min(TV.Abs(x), ErfSaturation<T, TV>());
        TV y = a * a;
        TV q, f;
        if (IsSingle<T>())
        {
            q = Step<T, TV>(Splat<T, TV>(8.51310469e-05f), y, -0.000817563967f);
            q = Step<T, TV>(q, y, 0.00520385895f);
            q = Step<T, TV>(q, y, -0.0268605091f);
            q = Step<T, TV>(q, y, 0.112837151f);
            q = Step<T, TV>(q, y, -0.376126349f);
            q = Step<T, TV>(q, y, 0.128379166f);

            TV t = a - Splat<T, TV>(ErfPolynomialLimit);
            f = Step<T, TV>(Splat<T, TV>(0.000137058771f), t, -0.00136485137f);
            f = Step<T, TV>(f, t, 0.00633613998f);
            f = Step<T, TV>(f, t, -0.0192825887f);
            f = Step<T, TV>(f, t, 0.0460517965f);
            f = Step<T, TV>(f, t, -0.0958201215f);
            f = Step<T, TV>(f, t, 0.180541039f);
            f = Step<T, TV>(f, t, -0.306620836f);
            f = Step<T, TV>(f, t, 0.456531644f);
        }
        else
        {
            q = Step<T, TV>(Splat<T, TV>(-8.4818509662668491e-10), y, 1.4046047601725536e-08);
            q = Step<T, TV>(q, y, -1.6275476144924805e-07);
            q = Step<T, TV>(q, y, 1.6455213932246077e-06);
            q = Step<T, TV>(q, y, -1.492529973929422e-05);
            q = Step<T, TV>(q, y, 0.00012055321042174166);
            q = Step<T, TV>(q, y, -0.00085483267549186549);
            q = Step<T, TV>(q, y, 0.0052239776216031928);
            q = Step<T, TV>(q, y, -0.02686617064480663);
            q = Step<T, TV>(q, y, 0.11283791670953704);
            q = Step<T, TV>(q, y, -0.37612638903183726);
            q = Step<T, TV>(q, y, 0.12837916709551259);

            TV t = a - Piece<T, TV>(a, ErfPolynomialLimit, ErfcBreak1, ErfcBreak2);
            f = Piece<T, TV>(a, 5.9173287616852282e-06, 2.3451442159089084e-07, 3.7577077770600895e-09);
            f = TV.MultiplyAdd(f, t, Piece<T, TV>(a, -4.2829648640790445e-05, -2.4019393844158449e-06, -5.194034716200807e-08));
            f = TV.MultiplyAdd(f, t, Piece<T, TV>(a, 0.00017095853210632233, 1.2780378997054504e-05, 3.6452791629089717e-07));
            f = TV.MultiplyAdd(f, t, Piece<T, TV>(a, -0.00052847314562126885, -4.9596710495546644e-05, -1.8349270646592579e-06));
            f = TV.MultiplyAdd(f, t, Piece<T, TV>(a, 0.0014553084708439328, 0.00016463779206738312, 7.8529172216931206e-06));
            f = TV.MultiplyAdd(f, t, Piece<T, TV>(a, -0.0037621874568644366, -0.00050570189162580249, -3.1235905260455012e-05));
            f = TV.MultiplyAdd(f, t, Piece<T, TV>(a, 0.0092371880032062707, 0.0014792596817799833, 0.00011960787913721573));
            f = TV.MultiplyAdd(f, t, Piece<T, TV>(a, -0.021489373568084183, -0.0041415507184844854, -0.00044459297593030733));
            f = TV.MultiplyAdd(f, t, Piece<T, TV>(a, 0.047053525549453634, 0.011065579046440299, 0.0016038031021410738));
            f = TV.MultiplyAdd(f, t, Piece<T, TV>(a, -0.096071790463910345, -0.02805903854553431, -0.0056021557558372723));
            f = TV.MultiplyAdd(f, t, Piece<T, TV>(a, 0.18057167607032298, 0.067025645305380577, 0.018893645356017716));
            f = TV.MultiplyAdd(f, t, Piece<T, TV>(a, -0.3066221947137891, -0.14932959182787228, -0.061305440831462811));
            f = TV.MultiplyAdd(f, t, Piece<T, TV>(a, 0.45653165132311685, 0.30595299227093947, 0.19054887968999162));
        }
        TV small = TV.MultiplyAdd(a, q, a);
        TV large = TV.MultiplyAdd(-Exp<T, TV>(-y), f, Splat<T, TV>(1.0));
        TV result = TV.SelectGreaterThan(a, Splat<T, TV>(ErfPolynomialLimit), large, small);
        return PropagateNaN<T, TV>(x, TV.CopySign(result, x));
    }

    /// <summary>The value for <paramref name="a"/>'s erfc piece: c1 on [0.9, 1.6], c2 on (1.6, 2.8], c3 above.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Piece<T, TV>(TV a, double c1, double c2, double c3)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TV : struct, ISimd<TV, T> =>
        TV.SelectGreaterThan(a, Splat<T, TV>(ErfcBreak2), Splat<T, TV>(c3),
            TV.SelectGreaterThan(a, Splat<T, TV>(ErfcBreak1), Splat<T, TV>(c2), Splat<T, TV>(c1)));
}
