using System;
using System.Numerics;
using System.Runtime.Intrinsics;
using System.Threading.Tasks;
using CsCheck;
using KernelGen.Operators;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Tests;

/// <summary>
/// Accuracy of <see cref="VectorMath"/> at every register width (512-bit, 256-bit and scalar, instantiated directly
/// whatever the CPU): float over a sweep of the whole bit-pattern range against a double reference, double over
/// CsCheck samples against a double-double reference, and special values exactly. Both references are written here
/// from library functions and series, independently of the code under test.
/// </summary>
public class VectorMathTests(ITestOutputHelper output)
{
    // ---- Float: every 97th bit pattern of each sign, plus the special values --------------------------------------

    // Measured on this sweep and on all 2^32 floats (x64 with AVX-512 and FMA): every function is within 1 ulp of the
    // correctly rounded result at every width. The fractional errors against the exact (double) value are noted per
    // test; the bounds are the all-floats maxima plus a few hundredths, so a different stride cannot trip them. DOTNET_EnableAVX512F=0 gives the same numbers; with DOTNET_EnableHWIntrinsic=0 every width
    // computes like the scalar path (no FMA), so all three show the scalar figure.

    [Fact] // This sweep: 0.744 ulp (512, 256), 0.750 (scalar). All floats: 0.765, 0.763; worst for subnormal results.
    public void Exp_is_within_one_ulp_over_the_float_range() => SweepFloat<ExpFunction>("exp", 0.80);

    [Fact] // This sweep: 0.942 ulp at every width. All floats: 0.984 (512, 256), 1.008 (scalar), near x = 0.4.
    public void Expm1_is_within_one_ulp_over_the_float_range() => SweepFloat<Expm1Function>("expm1", 1.02);

    [Fact] // This sweep: 0.797 ulp (512, 256), 0.822 (scalar). All floats: 0.829, 0.865, near x = 0.4.
    public void Log1p_is_within_one_ulp_over_the_float_range() => SweepFloat<Log1pFunction>("log1p", 0.88);

    [Fact] // This sweep: 0.997 ulp at every width. All floats: 1.011, just above the polynomial limit |x| = 0.75.
    public void Tanh_is_within_one_ulp_over_the_float_range() => SweepFloat<TanhFunction>("tanh", 1.03);

    [Fact] // This sweep: 1.112 ulp at every width. All floats: 1.127 (512, 256), 1.164 (scalar), near x = −16.2.
    public void Sigmoid_is_within_one_ulp_over_the_float_range() => SweepFloat<SigmoidFunction>("sigmoid", 1.18);

    [Fact] // This sweep: 0.841 ulp (512, 256), 0.974 (scalar). All floats: 0.930, 1.075, near x = 1.01.
    public void Erf_is_within_one_ulp_over_the_float_range() => SweepFloat<ErfFunction>("erf", 1.10);

    /// <summary>
    /// Sweeps every 97th float bit pattern, both signs (≈ 44 million inputs, subnormals and the saturation regions
    /// included), plus ±0, ±ε, ±max, ±∞ and NaN. Each result must be within one ulp of the correctly rounded
    /// reference (integer distance between bit patterns), within <paramref name="maxUlps"/> of the exact value
    /// (fractional ulps of the reference), and NaN, ±∞ and finite exactly where the reference is.
    /// </summary>
    private void SweepFloat<TF>(string name, double maxUlps) where TF : IFunction
    {
        // Without vector hardware (DOTNET_EnableHWIntrinsic=0) the vector widths run in software, computing exactly
        // like the scalar path but far slower, so that configuration sweeps every 797th pattern instead.
        const int Block = 4096;
        int stride = Vector256.IsHardwareAccelerated ? 97 : 797;
        long patterns = 0x7F800000L / stride + 1;
        int blocks = (int)((patterns + Block / 2 - 1) / (Block / 2));
        var total = new Stats[3];
        object gate = new();
        Parallel.For(0, blocks + 1, () => new Stats[3], (block, _, stats) =>
        {
            var x = new float[Block];
            int count = 0;
            if (block == blocks)
            {
                foreach (float v in new[] { 0f, float.Epsilon, float.MaxValue, float.PositiveInfinity })
                {
                    x[count++] = v;
                    x[count++] = -v;
                }
                x[count++] = float.NaN;
            }
            else
            {
                for (long p = (long)block * (Block / 2); p < Math.Min(patterns, (block + 1L) * (Block / 2)); p++)
                {
                    float v = BitConverter.UInt32BitsToSingle((uint)(p * stride));
                    x[count++] = v;
                    x[count++] = -v;
                }
            }
            var reference = new double[count];
            for (int i = 0; i < count; i++) reference[i] = TF.Reference(x[i]);
            var y = new float[Block];
            Apply<TF, Simd512<float>>(x, y, count);
            stats[0].Add(x, y, reference, count);
            Apply<TF, Simd256<float>>(x, y, count);
            stats[1].Add(x, y, reference, count);
            Apply<TF, SimdScalar<float>>(x, y, count);
            stats[2].Add(x, y, reference, count);
            return stats;
        }, stats =>
        {
            lock (gate)
                for (int w = 0; w < 3; w++) total[w].Merge(stats[w]);
        });

        string[] widths = ["Simd512", "Simd256", "SimdScalar"];
        for (int w = 0; w < 3; w++)
        {
            Stats s = total[w];
            string report = $"{name} float {widths[w]}: {s.MaxFraction:F3} ulp at {s.MaxFractionAt:R}, " +
                            $"{s.MaxDistance} ulp from the rounded reference at {s.MaxDistanceAt:R}, {s.Count} inputs";
            output.WriteLine(report);
            Assert.True(s.Mismatch == 0, $"{report}; {s.Mismatch} special-class mismatches, first at {s.MismatchAt:R}");
            Assert.True(s.MaxDistance <= 1, report);
            Assert.True(s.MaxFraction <= maxUlps, report);
        }
    }

    private static void Apply<TF, TV>(float[] x, float[] y, int count) where TF : IFunction where TV : struct, ISimd<TV, float>
    {
        int i = 0;
        for (; i + TV.Count <= count; i += TV.Count)
            TV.Store(TF.Apply<float, TV>(TV.Load(ref x[0], (nuint)i)), ref y[0], (nuint)i);
        for (; i < count; i++)
            y[i] = TF.Apply<float, SimdScalar<float>>(new SimdScalar<float>(x[i])).V;
    }

    /// <summary>Worst errors of one width over a sweep.</summary>
    private struct Stats
    {
        public double MaxFraction;
        public float MaxFractionAt;
        public long MaxDistance;
        public float MaxDistanceAt;
        public long Mismatch;
        public float MismatchAt;
        public long Count;

        public void Add(float[] x, float[] y, double[] reference, int count)
        {
            for (int i = 0; i < count; i++)
            {
                Count++;
                double r = reference[i];
                float rounded = (float)r, got = y[i];
                if (got == rounded) continue; // correctly rounded (≤ ½ ulp): cannot be the worst case, which exceeds ½
                if (double.IsNaN(r) || float.IsInfinity(rounded) || float.IsNaN(got) || float.IsInfinity(got))
                {
                    bool same = double.IsNaN(r) ? float.IsNaN(got) : got == rounded;
                    if (!same && (Mismatch++ == 0 || Before(x[i], MismatchAt))) MismatchAt = x[i];
                    continue;
                }
                double fraction = Math.Abs(got - r) / Ulp(rounded);
                if (fraction > MaxFraction || (fraction == MaxFraction && Before(x[i], MaxFractionAt))) { MaxFraction = fraction; MaxFractionAt = x[i]; }
                long distance = Math.Abs(Ordered(got) - Ordered(rounded));
                if (distance > MaxDistance || (distance == MaxDistance && Before(x[i], MaxDistanceAt))) { MaxDistance = distance; MaxDistanceAt = x[i]; }
            }
        }

        public void Merge(Stats other)
        {
            Count += other.Count;
            if (other.MaxFraction > MaxFraction || (other.MaxFraction == MaxFraction && Before(other.MaxFractionAt, MaxFractionAt)))
            {
                MaxFraction = other.MaxFraction;
                MaxFractionAt = other.MaxFractionAt;
            }
            if (other.MaxDistance > MaxDistance || (other.MaxDistance == MaxDistance && Before(other.MaxDistanceAt, MaxDistanceAt)))
            {
                MaxDistance = other.MaxDistance;
                MaxDistanceAt = other.MaxDistanceAt;
            }
            if (other.Mismatch > 0 && (Mismatch == 0 || Before(other.MismatchAt, MismatchAt))) MismatchAt = other.MismatchAt;
            Mismatch += other.Mismatch;
        }

        /// <summary>Tie-break for reported locations, so they do not depend on the order threads finish in.</summary>
        private static bool Before(float a, float b) => Ordered(a) < Ordered(b);

        /// <summary>The spacing of floats at |f| (the subnormal spacing below the normal range).</summary>
        private static double Ulp(float f)
        {
            f = Math.Abs(f);
            return f == float.MaxValue ? f - MathF.BitDecrement(f) : Math.Max(MathF.BitIncrement(f) - f, float.Epsilon);
        }

        /// <summary>Bit pattern as a monotonic integer (±0 both map to 0), so distances count representable floats.</summary>
        private static long Ordered(float f)
        {
            int bits = BitConverter.SingleToInt32Bits(f);
            return bits >= 0 ? bits : -(long)(bits & int.MaxValue);
        }
    }

    // ---- Double: CsCheck samples against the double-double reference ----------------------------------------------

    // Measured over 2 million samples per function (uniform over the range, log-uniform magnitudes 2^−60…2^10 of
    // both signs, and uniform on [−4, 4]), at every width: exp, expm1, log1p, tanh and sigmoid within 1 ulp
    // (relative error ≤ 2.2e−16) of the correctly rounded result, erf within 2 ulps (relative ≤ 2.8e−16).

    [Fact]
    public void Exp_double_is_within_one_ulp() => SampleDouble<ExpFunction>(-745, 709, maxUlps: 1, maxRelative: 2.3e-16);

    [Fact]
    public void Expm1_double_is_within_one_ulp() => SampleDouble<Expm1Function>(-50, 709, maxUlps: 1, maxRelative: 2.3e-16);

    [Fact]
    public void Log1p_double_is_within_one_ulp() => SampleDouble<Log1pFunction>(-1, 1e300, maxUlps: 1, maxRelative: 2.3e-16);

    [Fact]
    public void Tanh_double_is_within_one_ulp() => SampleDouble<TanhFunction>(-25, 25, maxUlps: 1, maxRelative: 2.3e-16);

    [Fact]
    public void Sigmoid_double_is_within_one_ulp() => SampleDouble<SigmoidFunction>(-750, 40, maxUlps: 1, maxRelative: 2.3e-16);

    [Fact]
    public void Erf_double_is_within_two_ulps() => SampleDouble<ErfFunction>(-7, 7, maxUlps: 2, maxRelative: 4.5e-16);

    private static void SampleDouble<TF>(double lo, double hi, long maxUlps, double maxRelative) where TF : IFunction
    {
        var uniform = Gen.Double[lo, hi];
        var logUniform = Gen.Select(Gen.Double[-60, 10], Gen.Bool, (e, negative) => Math.Clamp((negative ? -1 : 1) * Math.Pow(2, e), lo, hi));
        var central = Gen.Double[Math.Max(lo, -4), Math.Min(hi, 4)];
        Gen.OneOf(uniform, logUniform, central).Array[4 * Simd512<double>.Count].Sample(x =>
        {
            var reference = new double[x.Length];
            for (int i = 0; i < x.Length; i++) reference[i] = TF.PreciseReference(x[i]);
            Check<Simd512<double>>("Simd512");
            Check<Simd256<double>>("Simd256");
            Check<SimdScalar<double>>("SimdScalar");

            void Check<TV>(string width) where TV : struct, ISimd<TV, double>
            {
                var y = new double[x.Length];
                for (int i = 0; i < x.Length; i += TV.Count)
                    TV.Store(TF.Apply<double, TV>(TV.Load(ref x[0], (nuint)i)), ref y[0], (nuint)i);
                for (int i = 0; i < x.Length; i++)
                {
                    double r = reference[i];
                    if (double.IsNaN(r) || double.IsInfinity(r) || double.IsNaN(y[i]) || double.IsInfinity(y[i]))
                    {
                        Assert.True(r.Equals(y[i]), $"{width}: f({x[i]:R}) = {y[i]:R}, reference {r:R}");
                        continue;
                    }
                    long distance = Math.Abs(Ordered(y[i]) - Ordered(r));
                    Assert.True(distance <= maxUlps, $"{width}: f({x[i]:R}) = {y[i]:R} is {distance} ulp from {r:R}");
                    if (Math.Abs(r) >= 2.2250738585072014E-308) // normal results only: subnormals have fewer bits
                    {
                        double relative = Math.Abs(y[i] - r) / Math.Abs(r);
                        Assert.True(relative <= maxRelative, $"{width}: f({x[i]:R}) = {y[i]:R}, relative error {relative:E2} vs {r:R}");
                    }
                }
            }
        }, iter: 400);

        static long Ordered(double d)
        {
            long bits = BitConverter.DoubleToInt64Bits(d);
            return bits >= 0 ? bits : -(bits & long.MaxValue);
        }
    }

    // ---- Special values, exactly, at every width and for both types ------------------------------------------------

    [Fact]
    public void Special_values_are_exact_in_float() => SpecialValues<float>();

    [Fact]
    public void Special_values_are_exact_in_double() => SpecialValues<double>();

    private static void SpecialValues<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T nan = T.NaN, inf = T.PositiveInfinity, zero = T.Zero, one = T.One, tiny = T.Epsilon, max = T.CreateSaturating(double.MaxValue);
        T C(double v) => T.CreateTruncating(v);

        Expect<ExpFunction>(zero, one);
        Expect<ExpFunction>(-zero, one);
        Expect<ExpFunction>(inf, inf);
        Expect<ExpFunction>(-inf, zero);
        Expect<ExpFunction>(C(1000), inf);
        Expect<ExpFunction>(C(-1000), zero);
        Expect<ExpFunction>(nan, nan);

        Expect<Expm1Function>(zero, zero);
        Expect<Expm1Function>(-zero, -zero);
        Expect<Expm1Function>(tiny, tiny);
        Expect<Expm1Function>(-tiny, -tiny);
        Expect<Expm1Function>(inf, inf);
        Expect<Expm1Function>(C(1000), inf);
        Expect<Expm1Function>(-inf, -one);
        Expect<Expm1Function>(C(-100), -one);
        Expect<Expm1Function>(nan, nan);

        Expect<Log1pFunction>(zero, zero);
        Expect<Log1pFunction>(-zero, -zero);
        Expect<Log1pFunction>(tiny, tiny);
        Expect<Log1pFunction>(-tiny, -tiny);
        Expect<Log1pFunction>(-one, -inf);
        Expect<Log1pFunction>(C(-2), nan);
        Expect<Log1pFunction>(-inf, nan);
        Expect<Log1pFunction>(inf, inf);
        Expect<Log1pFunction>(nan, nan);

        Expect<TanhFunction>(zero, zero);
        Expect<TanhFunction>(-zero, -zero);
        Expect<TanhFunction>(tiny, tiny);
        Expect<TanhFunction>(-tiny, -tiny);
        Expect<TanhFunction>(C(20), one);
        Expect<TanhFunction>(C(-20), -one);
        Expect<TanhFunction>(max, one);
        Expect<TanhFunction>(inf, one);
        Expect<TanhFunction>(-inf, -one);
        Expect<TanhFunction>(nan, nan);

        Expect<SigmoidFunction>(zero, C(0.5));
        Expect<SigmoidFunction>(-zero, C(0.5));
        Expect<SigmoidFunction>(C(40), one);
        Expect<SigmoidFunction>(max, one);
        Expect<SigmoidFunction>(inf, one);
        Expect<SigmoidFunction>(C(-800), zero);
        Expect<SigmoidFunction>(-max, zero);
        Expect<SigmoidFunction>(-inf, zero);
        Expect<SigmoidFunction>(nan, nan);

        Expect<ErfFunction>(zero, zero);
        Expect<ErfFunction>(-zero, -zero);
        Expect<ErfFunction>(C(6), one);
        Expect<ErfFunction>(C(-6), -one);
        Expect<ErfFunction>(max, one);
        Expect<ErfFunction>(inf, one);
        Expect<ErfFunction>(-inf, -one);
        Expect<ErfFunction>(nan, nan);

        // A subnormal e^x: the last bits come from gradual underflow, not a flush to zero.
        Assert.True(Evaluate<ExpFunction, T, SimdScalar<T>>(C(typeof(T) == typeof(float) ? -100 : -740)) > zero);

        static void Expect<TF>(T x, T expected) where TF : IFunction
        {
            Check(Evaluate<TF, T, Simd512<T>>(x), "Simd512");
            Check(Evaluate<TF, T, Simd256<T>>(x), "Simd256");
            Check(Evaluate<TF, T, SimdScalar<T>>(x), "SimdScalar");

            void Check(T got, string width)
            {
                // Equals treats NaN as equal to NaN; the sign test tells −0 from +0.
                bool same = got.Equals(expected) && T.IsNegative(got) == T.IsNegative(expected);
                Assert.True(same, $"{typeof(TF).Name}<{typeof(T).Name}> at {width}: f({x}) = {got}, expected {expected}");
            }
        }
    }

    /// <summary>Evaluates one lane of <typeparamref name="TF"/> at width <typeparamref name="TV"/>, with x in every lane.</summary>
    private static T Evaluate<TF, T, TV>(T x) where TF : IFunction where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        var lanes = new T[TV.Count];
        TV.Store(TF.Apply<T, TV>(TV.Create(x)), ref lanes[0], 0);
        foreach (T lane in lanes) Assert.True(lane.Equals(lanes[0]), "lanes disagree");
        return lanes[0];
    }

    // ---- The functions under test and their references --------------------------------------------------------------

    /// <summary>A function under test with its references.</summary>
    private interface IFunction
    {
        /// <summary>The <see cref="VectorMath"/> function.</summary>
        static abstract TV Apply<T, TV>(TV x) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>;

        /// <summary>A double reference, good to a few parts in 10^16 (for float results).</summary>
        static abstract double Reference(double x);

        /// <summary>A double-double reference rounded to double, good to about half an ulp (for double results).</summary>
        static abstract double PreciseReference(double x);
    }

    private readonly struct ExpFunction : IFunction
    {
        public static TV Apply<T, TV>(TV x) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> => VectorMath.Exp<T, TV>(x);
        public static double Reference(double x) => Math.Exp(x);
        public static double PreciseReference(double x) =>
            double.IsNaN(x) ? x : x > 710 ? double.PositiveInfinity : x < -746 ? 0 : DoubleDouble.Exp(x).Value;
    }

    private readonly struct Expm1Function : IFunction
    {
        public static TV Apply<T, TV>(TV x) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> => VectorMath.Expm1<T, TV>(x);

        public static double Reference(double x)
        {
            if (double.IsNaN(x) || x == 0 || Math.Abs(x) >= 0.5) return Math.Exp(x) - 1;
            // Taylor series below ½, where e^x − 1 would cancel: ≤ 25 terms reach 1e−20 relative.
            double term = x, sum = x;
            for (int n = 2; n < 40 && Math.Abs(term) > 1e-20 * Math.Abs(sum); n++)
            {
                term *= x / n;
                sum += term;
            }
            return sum;
        }

        public static double PreciseReference(double x) =>
            double.IsNaN(x) || x == 0 ? x : x > 710 ? double.PositiveInfinity : x < -40 ? -1 : DoubleDouble.Expm1(x).Value;
    }

    private readonly struct Log1pFunction : IFunction
    {
        public static TV Apply<T, TV>(TV x) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> => VectorMath.Log1p<T, TV>(x);

        public static double Reference(double x)
        {
            if (double.IsNaN(x) || x == 0 || Math.Abs(x) >= 0.5) return x < -1 ? double.NaN : Math.Log(1 + x); // 1 + x is exact for float x here
            // Σ (−1)^(n+1)·x^n/n below ½, where log(1 + x) would lose x's low bits: ≤ 70 terms reach 1e−20.
            double power = x, sum = 0;
            for (int n = 1; n < 80; n++)
            {
                double term = power / n;
                sum += (n & 1) == 1 ? term : -term;
                if (Math.Abs(term) < 1e-20 * Math.Abs(sum)) break;
                power *= x;
            }
            return sum;
        }

        public static double PreciseReference(double x)
        {
            if (double.IsNaN(x) || x == 0 || double.IsPositiveInfinity(x)) return x;
            if (x <= -1) return x == -1 ? double.NegativeInfinity : double.NaN;
            // Newton's method on e^y − 1 = x in double-double, from the library's estimate: three steps from 53 bits.
            var y = new DoubleDouble(Math.Abs(x) < 1e-3 ? x - x * x / 2 + x * x * x / 3 : Math.Log(1 + x));
            for (int i = 0; i < 3; i++)
            {
                DoubleDouble m = DoubleDouble.Expm1(y);
                y -= (m - x) / (m + 1);
            }
            return y.Value;
        }
    }

    private readonly struct TanhFunction : IFunction
    {
        public static TV Apply<T, TV>(TV x) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> => VectorMath.Tanh<T, TV>(x);
        public static double Reference(double x) => Math.Tanh(x);

        public static double PreciseReference(double x)
        {
            if (double.IsNaN(x) || x == 0) return x;
            if (Math.Abs(x) > 25) return Math.CopySign(1, x);
            // tanh|x| = m/(m + 2) with m = e^(2|x|) − 1.
            DoubleDouble m = DoubleDouble.Expm1(2 * Math.Abs(x));
            return Math.CopySign((m / (m + 2)).Value, x);
        }
    }

    private readonly struct SigmoidFunction : IFunction
    {
        public static TV Apply<T, TV>(TV x) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> => VectorMath.Sigmoid<T, TV>(x);
        public static double Reference(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));

        public static double PreciseReference(double x)
        {
            if (double.IsNaN(x)) return x;
            if (x > 40) return 1;
            if (x < -746) return 0;
            DoubleDouble e = DoubleDouble.Exp(-Math.Abs(x));
            return (x >= 0 ? 1 / (e + 1) : e / (e + 1)).Value;
        }
    }

    private readonly struct ErfFunction : IFunction
    {
        public static TV Apply<T, TV>(TV x) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> => VectorMath.Erf<T, TV>(x);

        /// <summary>2/√π as a double-double.</summary>
        private static readonly DoubleDouble TwoOverSqrtPi = new(1.1283791670955126, 1.533545961316588e-17);

        public static double Reference(double x)
        {
            if (double.IsNaN(x) || x == 0) return x;
            double a = Math.Abs(x), r;
            if (a >= 6.5) return Math.CopySign(1, x);
            // e^(−a²) with a² split exactly, so the exponential sees the true argument.
            double square = a * a, g = Math.Exp(-square) * (1 - Math.FusedMultiplyAdd(a, a, -square));
            if (a < 3)
            {
                // erf(a) = (2/√π)·e^(−a²)·Σ 2^n·a^(2n+1)/(1·3·…·(2n+1)): all terms positive, no cancellation.
                double term = a, sum = a;
                for (int n = 1; n < 300 && term > 1e-20 * sum; n++)
                {
                    term *= 2 * a * a / (2 * n + 1);
                    sum += term;
                }
                r = 2 / Math.Sqrt(Math.PI) * g * sum;
            }
            else
            {
                r = 1 - g * ErfcContinuedFraction(a);
            }
            return Math.CopySign(r, x);
        }

        public static double PreciseReference(double x)
        {
            if (double.IsNaN(x) || x == 0) return x;
            double a = Math.Abs(x);
            if (a >= 6.5) return Math.CopySign(1, x);
            DoubleDouble square = new DoubleDouble(a) * a;
            DoubleDouble g = DoubleDouble.Exp(-square);
            DoubleDouble r;
            if (a < 3)
            {
                // The same positive series as Reference, in double-double.
                DoubleDouble term = a, sum = a;
                for (int n = 1; n < 400 && term.Hi > 1e-34 * sum.Hi; n++)
                {
                    term = term * (square * 2) / (2 * n + 1);
                    sum += term;
                }
                r = TwoOverSqrtPi * g * sum;
            }
            else
            {
                // erfc(a) ≤ 2.3e−5 here, so a double continued fraction is ample.
                r = 1 - new DoubleDouble(g.Hi * ErfcContinuedFraction(a));
            }
            return Math.CopySign(r.Value, x);
        }

        /// <summary>
        /// erfc(a)·e^(a²) = (1/√π)/(a + (1/2)/(a + 1/(a + (3/2)/(a + …)))) for a ≥ 3, evaluated bottom-up.
        /// </summary>
        private static double ErfcContinuedFraction(double a)
        {
            double fraction = a;
            for (int k = 400; k >= 1; k--) fraction = a + k / 2.0 / fraction;
            return 1 / Math.Sqrt(Math.PI) / fraction;
        }
    }

    /// <summary>
    /// A double-double number Hi + Lo (about 106 bits), with just what the references need: error-free sums and
    /// products (Math.FusedMultiplyAdd), division by two correction steps, and e^x − 1 by Taylor series after halving
    /// the reduced argument eight times.
    /// </summary>
    private readonly struct DoubleDouble(double hi, double lo = 0)
    {
        public readonly double Hi = hi, Lo = lo;

        public double Value => Hi + Lo;

        /// <summary>ln 2 as a double-double.</summary>
        private static readonly DoubleDouble Ln2 = new(0.6931471805599453, 2.3190468138462996e-17);

        public static implicit operator DoubleDouble(double d) => new(d);

        private static DoubleDouble Normalize(double a, double b)
        {
            double s = a + b;
            return new DoubleDouble(s, b - (s - a));
        }

        public static DoubleDouble operator +(DoubleDouble x, DoubleDouble y)
        {
            double s = x.Hi + y.Hi, v = s - x.Hi, e = (x.Hi - (s - v)) + (y.Hi - v);
            return Normalize(s, e + x.Lo + y.Lo);
        }

        public static DoubleDouble operator -(DoubleDouble x) => new(-x.Hi, -x.Lo);

        public static DoubleDouble operator -(DoubleDouble x, DoubleDouble y) => x + -y;

        public static DoubleDouble operator *(DoubleDouble x, DoubleDouble y)
        {
            double p = x.Hi * y.Hi, e = Math.FusedMultiplyAdd(x.Hi, y.Hi, -p);
            return Normalize(p, e + (x.Hi * y.Lo + x.Lo * y.Hi));
        }

        public static DoubleDouble operator /(DoubleDouble x, DoubleDouble y)
        {
            double q1 = x.Hi / y.Hi;
            DoubleDouble r = x - y * q1;
            double q2 = r.Hi / y.Hi;
            r -= y * q2;
            return Normalize(q1, q2) + r.Hi / y.Hi;
        }

        /// <summary>e^x = (1 + m)·2^k, returning m and k.</summary>
        private static (DoubleDouble M, int K) ExpParts(DoubleDouble x)
        {
            int k = (int)Math.Round(x.Hi / Ln2.Hi);
            DoubleDouble r = (x - Ln2 * k) * (1.0 / 256); // |r| ≤ 0.0014 (the scaling is exact)
            DoubleDouble term = r, m = r;
            for (int n = 2; n <= 14; n++)
            {
                term = term * r / n;
                m += term;
            }
            for (int i = 0; i < 8; i++) m *= m + 2; // e^(2r) − 1 = m·(m + 2)
            return (m, k);
        }

        public static DoubleDouble Exp(DoubleDouble x)
        {
            var (m, k) = ExpParts(x);
            DoubleDouble e = m + 1;
            return new DoubleDouble(Math.ScaleB(e.Hi, k), Math.ScaleB(e.Lo, k));
        }

        public static DoubleDouble Expm1(DoubleDouble x)
        {
            var (m, k) = ExpParts(x);
            if (k == 0) return m;
            DoubleDouble e = m + 1;
            return new DoubleDouble(Math.ScaleB(e.Hi, k), Math.ScaleB(e.Lo, k)) - 1;
        }
    }
}
