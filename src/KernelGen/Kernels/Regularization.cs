using System;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelGen.Operators;

namespace KernelGen.Kernels;

/// <summary>
/// Parameter-norm penalties and their gradients (parameter-norm penalties, PyTorch's weight decay):
/// <list type="bullet">
/// <item>L2: penalty ½λ‖w‖² = ½λ Σ w² (the ½ of CS231n's L = Loss + ½λ Σ_k ‖W_k‖²), gradient λ·w — the term PyTorch's
/// <c>weight_decay=λ</c> adds to the gradient.</item>
/// <item>L1: penalty λ‖w‖₁ = λ Σ |w|, subgradient λ·sign(w) with sign(0) = 0.</item>
/// </list>
/// The sums are returned without λ (and without the ½) so one pass serves any coefficient.
/// </summary>
/// <remarks>
/// <para>
/// Reductions accumulate in double: float lanes are widened exactly before they are added (squares of widened floats
/// are exact), double lanes are added as they are. The order is fixed — two accumulators of the widest accelerated
/// width (element i goes to lane i mod width of accumulator ⌊i/width⌋ mod 2), each reduced lane by lane in the fixed
/// order of <see cref="ISimd{TSelf,T}.Sum"/>, then the scalar tail in index order — so a result is bit-identical from
/// run to run on one machine. Machines with different vector widths may differ in the last bits.
/// </para>
/// <para>
/// The gradient adds are read-modify-write passes with a scalar tail; each element is touched once. They are not
/// fused (g + λ·w rounds the product, then the sum), so every width gives the bit-identical result of the scalar
/// expression. <c>gradient</c> and <c>weights</c> may be the same span but must not partially overlap.
/// </para>
/// </remarks>
public static class Regularization
{
    /// <summary>
    /// Computes Σ_i values[i]² in double (the L2 penalty without ½λ). NaN if any value is NaN; +∞ if any is infinite
    /// or the sum overflows double.
    /// </summary>
    public static double SumOfSquares<T>(ReadOnlySpan<T> values) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ref T x = ref MemoryMarshal.GetReference(values);
        nuint n = (nuint)values.Length;
        if (Vector512.IsHardwareAccelerated) return SumCore<T, Simd512<T>, SquareOp>(ref x, n);
        if (Vector256.IsHardwareAccelerated) return SumCore<T, Simd256<T>, SquareOp>(ref x, n);
        return SumCore<T, SimdScalar<T>, SquareOp>(ref x, n);
    }

    /// <summary>
    /// Computes Σ_i |values[i]| in double (the L1 penalty without λ). NaN if any value is NaN; +∞ if any is infinite.
    /// </summary>
    public static double SumOfAbs<T>(ReadOnlySpan<T> values) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ref T x = ref MemoryMarshal.GetReference(values);
        nuint n = (nuint)values.Length;
        if (Vector512.IsHardwareAccelerated) return SumCore<T, Simd512<T>, AbsOp>(ref x, n);
        if (Vector256.IsHardwareAccelerated) return SumCore<T, Simd256<T>, AbsOp>(ref x, n);
        return SumCore<T, SimdScalar<T>, AbsOp>(ref x, n);
    }

    /// <summary>
    /// Adds the gradient of ½λ‖w‖²: computes gradient[i] = gradient[i] + λ·weights[i] (product rounded, then the sum;
    /// not fused). NaN and ±∞ propagate as in that expression.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ, or the spans partially overlap.</exception>
    public static void AddL2Gradient<T>(Span<T> gradient, ReadOnlySpan<T> weights, T lambda) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        CheckSpans(gradient, weights);
        ref T g = ref MemoryMarshal.GetReference(gradient);
        ref T w = ref MemoryMarshal.GetReference(weights);
        nuint n = (nuint)gradient.Length;
        if (Vector512.IsHardwareAccelerated) AddCore<T, Simd512<T>, L2Op>(ref g, ref w, n, lambda);
        else if (Vector256.IsHardwareAccelerated) AddCore<T, Simd256<T>, L2Op>(ref g, ref w, n, lambda);
        else AddCore<T, SimdScalar<T>, L2Op>(ref g, ref w, n, lambda);
    }

    /// <summary>
    /// Adds the subgradient of λ‖w‖₁: computes gradient[i] = gradient[i] + λ·sign(weights[i]) with sign(±0) = 0 (the
    /// subgradient PyTorch's <c>torch.sign</c> gives) and sign(NaN) = NaN, so a diverged weight is not masked.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ, or the spans partially overlap.</exception>
    public static void AddL1Gradient<T>(Span<T> gradient, ReadOnlySpan<T> weights, T lambda) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        CheckSpans(gradient, weights);
        ref T g = ref MemoryMarshal.GetReference(gradient);
        ref T w = ref MemoryMarshal.GetReference(weights);
        nuint n = (nuint)gradient.Length;
        if (Vector512.IsHardwareAccelerated) AddCore<T, Simd512<T>, L1Op>(ref g, ref w, n, lambda);
        else if (Vector256.IsHardwareAccelerated) AddCore<T, Simd256<T>, L1Op>(ref g, ref w, n, lambda);
        else AddCore<T, SimdScalar<T>, L1Op>(ref g, ref w, n, lambda);
    }

    private static void CheckSpans<T>(Span<T> gradient, ReadOnlySpan<T> weights)
    {
        ThrowHelper.ThrowIfLengthNotEqual(weights.Length, gradient.Length, nameof(weights));
        if (((ReadOnlySpan<T>)gradient).Overlaps(weights, out int offset) && offset != 0) ThrowPartialOverlap(nameof(weights), nameof(gradient));
    }

    [DoesNotReturn]
    internal static void ThrowPartialOverlap(string paramName, string other) =>
        throw new ArgumentException($"'{paramName}' partially overlaps '{other}'; the spans must be identical or disjoint.", paramName);

    // ---- reductions ---------------------------------------------------------------------------------------------------

    /// <summary>The element map of a reduction: squares or magnitudes, accumulated in double.</summary>
    private interface IReduceOp
    {
        static abstract void Accumulate<T, TV>(ref WideAccumulator<T, TV> acc, TV v)
            where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>;
        static abstract double Scalar(double x);
    }

    private readonly struct SquareOp : IReduceOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Accumulate<T, TV>(ref WideAccumulator<T, TV> acc, TV v)
            where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> => acc.AddSquares(v);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Scalar(double x) => x * x;
    }

    private readonly struct AbsOp : IReduceOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Accumulate<T, TV>(ref WideAccumulator<T, TV> acc, TV v)
            where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> => acc.Add(TV.Abs(v));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Scalar(double x) => Math.Abs(x);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double SumCore<T, TV, TOp>(ref T x, nuint n)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> where TOp : struct, IReduceOp
    {
        nuint w = (nuint)TV.Count, i = 0;
        WideAccumulator<T, TV> a0 = default, a1 = default;
        for (; i + 2 * w <= n; i += 2 * w)
        {
            TOp.Accumulate(ref a0, TV.Load(ref x, i));
            TOp.Accumulate(ref a1, TV.Load(ref x, i + w));
        }
        if (i + w <= n) { TOp.Accumulate(ref a0, TV.Load(ref x, i)); i += w; }
        double s = a0.Total + a1.Total;
        for (; i < n; i++) s += TOp.Scalar(double.CreateTruncating(Unsafe.Add(ref x, i)));
        return s;
    }

    // ---- gradient adds ------------------------------------------------------------------------------------------------

    /// <summary>The per-element penalty gradient added to g: λ·w (L2) or λ·sign(w) (L1).</summary>
    private interface IPenaltyOp
    {
        static abstract TV Gradient<T, TV>(TV w, TV lambda)
            where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>;
    }

    private readonly struct L2Op : IPenaltyOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Gradient<T, TV>(TV w, TV lambda)
            where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> => lambda * w;
    }

    private readonly struct L1Op : IPenaltyOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Gradient<T, TV>(TV w, TV lambda)
            where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
        {
            // 1. sign(w) = copysign(1, w) for w ≠ 0, and 0 for w = ±0 (the subgradient choice at the kink).
            TV sign = TV.SelectEquals(w, TV.Zero, TV.Zero, TV.CopySign(TV.Create(T.One), w));
            // 2. NaN ≠ NaN: a NaN weight yields NaN instead of the ±1 that CopySign would give.
            sign = TV.SelectEquals(w, w, sign, w);
            return lambda * sign;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddCore<T, TV, TOp>(ref T g, ref T w, nuint n, T lambda)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> where TOp : struct, IPenaltyOp
    {
        nuint width = (nuint)TV.Count, i = 0;
        TV l = TV.Create(lambda);
        for (; i + width <= n; i += width)
            TV.Store(TV.Load(ref g, i) + TOp.Gradient<T, TV>(TV.Load(ref w, i), l), ref g, i);
        SimdScalar<T> ls = SimdScalar<T>.Create(lambda);
        for (; i < n; i++)
            SimdScalar<T>.Store(SimdScalar<T>.Load(ref g, i) + TOp.Gradient<T, SimdScalar<T>>(SimdScalar<T>.Load(ref w, i), ls), ref g, i);
    }
}

/// <summary>
/// Accumulates registers of <typeparamref name="T"/> lanes into double lanes, lane by lane: float registers are
/// widened exactly (lower and upper halves added in double, then into the accumulator), double registers are added
/// as they are. <see cref="Total"/> reduces the lanes in the fixed order of <see cref="ISimd{TSelf,T}.Sum"/>, so a
/// sequence of additions gives a bit-identical result from run to run.
/// </summary>
internal struct WideAccumulator<T, TV> where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
{
    private Vector512<double> _v512;
    private Vector256<double> _v256;
    private double _scalar;

    /// <summary>Adds each lane of <paramref name="v"/> to its double lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(TV v)
    {
        if (typeof(TV) == typeof(Simd512<float>))
        {
            Vector512<float> f = Unsafe.As<TV, Simd512<float>>(ref v).V;
            _v512 += Vector512.WidenLower(f) + Vector512.WidenUpper(f);
        }
        else if (typeof(TV) == typeof(Simd512<double>)) _v512 += Unsafe.As<TV, Simd512<double>>(ref v).V;
        else if (typeof(TV) == typeof(Simd256<float>))
        {
            Vector256<float> f = Unsafe.As<TV, Simd256<float>>(ref v).V;
            _v256 += Vector256.WidenLower(f) + Vector256.WidenUpper(f);
        }
        else if (typeof(TV) == typeof(Simd256<double>)) _v256 += Unsafe.As<TV, Simd256<double>>(ref v).V;
        else _scalar += double.CreateTruncating(TV.Sum(v)); // SimdScalar<T>: one lane, converted exactly
    }

    /// <summary>Adds the square of each lane, computed in double after widening (exact for float lanes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddSquares(TV v)
    {
        if (typeof(TV) == typeof(Simd512<float>))
        {
            Vector512<float> f = Unsafe.As<TV, Simd512<float>>(ref v).V;
            Vector512<double> lo = Vector512.WidenLower(f), hi = Vector512.WidenUpper(f);
            _v512 += lo * lo + hi * hi;
        }
        else if (typeof(TV) == typeof(Simd512<double>)) { Vector512<double> d = Unsafe.As<TV, Simd512<double>>(ref v).V; _v512 += d * d; }
        else if (typeof(TV) == typeof(Simd256<float>))
        {
            Vector256<float> f = Unsafe.As<TV, Simd256<float>>(ref v).V;
            Vector256<double> lo = Vector256.WidenLower(f), hi = Vector256.WidenUpper(f);
            _v256 += lo * lo + hi * hi;
        }
        else if (typeof(TV) == typeof(Simd256<double>)) { Vector256<double> d = Unsafe.As<TV, Simd256<double>>(ref v).V; _v256 += d * d; }
        else { double d = double.CreateTruncating(TV.Sum(v)); _scalar += d * d; }
    }

    /// <summary>The sum of all lanes: the 512-bit lanes, then the 256-bit lanes, then the scalar, in that order.</summary>
    public readonly double Total =>
        Simd512<double>.Sum(new Simd512<double>(_v512)) + Simd256<double>.Sum(new Simd256<double>(_v256)) + _scalar;
}
