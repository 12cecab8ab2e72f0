using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelGen.Operators;

namespace KernelGen.Kernels;

/// <summary>
/// Inverted dropout with PyTorch's semantics (p is the probability of dropping an element; kept elements are scaled
/// by 1/(1 − p) during training so evaluation needs no rescaling). The mask comes from a counter-based hash, so it
/// needs no generator state: the same (seed, counter) gives the same mask on every run, machine and vector width.
/// </summary>
/// <remarks>
/// <para>Random bits (numbered notes):</para>
/// <list type="number">
/// <item>Key: key = mix64(mix64(seed + φ) + counter), with mix64 the SplitMix64 finalizer (Steele, Lea and Flood 2014;
/// constants from Vigna's public-domain reference code) and φ = 0x9E3779B97F4A7C15. mix64 is a bijection, so for a
/// fixed seed every counter gives a different 64-bit key. k₀, k₁ are its low and high halves.</item>
/// <item>Element i (its index in the mask, 0-based) gets h = lowbias32(lowbias32(i ⊕ k₀) + k₁), where lowbias32 is
/// Chris Wellons's 32-bit multiply-xorshift finalizer (hash-prospector, released into the public domain / Unlicense):
/// x ^= x ≫ 16; x ·= 0x7FEB352D; x ^= x ≫ 15; x ·= 0x846CA68B; x ^= x ≫ 16. Only 32-bit lane multiplies are
/// needed, which every SIMD width has natively; each element's value depends on i alone, never on the width.</item>
/// <item>Drop when h &lt; ⌊p·2³²⌋: P(drop) = ⌊p·2³²⌋/2³², within 2⁻³² of p.</item>
/// </list>
/// </remarks>
public static class Dropout
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL; // 2⁶⁴/φ, SplitMix64's increment
    private const uint M1 = 0x7FEB352DU, M2 = 0x846CA68BU; // lowbias32 multipliers (hash-prospector)

    /// <summary>
    /// Computes mask[i] = 0 with probability p (= <paramref name="dropProbability"/>), else 1/(1 − p) (rounded once
    /// from double to <typeparamref name="T"/>), from a hash of (<paramref name="seed"/>, <paramref name="counter"/>, i)
    /// (see the remarks). Deterministic; identical at every vector width; p = 0 fills ones. Use a new counter (e.g. the
    /// step number) for each fresh mask.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">p is not in [0, 1) (NaN included).</exception>
    public static void FillMask<T>(Span<T> mask, double dropProbability, ulong seed, ulong counter)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (!(dropProbability >= 0 && dropProbability < 1))
            ThrowHelper.ThrowArgumentOutOfRange(nameof(dropProbability), dropProbability, "The drop probability must lie in [0, 1).");
        ref T m = ref MemoryMarshal.GetReference(mask);
        nuint n = (nuint)mask.Length;
        if (Vector512.IsHardwareAccelerated) FillMaskCore<T, Simd512<T>>(ref m, n, dropProbability, seed, counter);
        else if (Vector256.IsHardwareAccelerated) FillMaskCore<T, Simd256<T>>(ref m, n, dropProbability, seed, counter);
        else FillMaskCore<T, SimdScalar<T>>(ref m, n, dropProbability, seed, counter);
    }

    /// <summary>
    /// Channel-wise dropout (PyTorch <c>Dropout2d</c>): fills the first <paramref name="planes"/> elements of
    /// <paramref name="mask"/> as <see cref="FillMask{T}"/> does (one draw per sample and channel), then repeats each over
    /// its <paramref name="pixels"/> positions, so a channel of a sample is kept or zeroed whole.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">p is not in [0, 1), or a count is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="mask"/> is shorter than planes × pixels.</exception>
    public static void FillChannelMask<T>(Span<T> mask, int planes, int pixels, double dropProbability, ulong seed, ulong counter)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (planes <= 0 || pixels <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(planes), planes, "The plane and pixel counts must be positive.");
        ThrowHelper.ThrowIfLengthLessThan(mask.Length, checked(planes * pixels), nameof(mask));
        FillMask(mask.Slice(0, planes), dropProbability, seed, counter);
        // From the last plane down: plane k's block starts at k·pixels ≥ k, so no value is overwritten before it is read.
        for (int k = planes - 1; k >= 0; k--) mask.Slice(k * pixels, pixels).Fill(mask[k]);
    }

    /// <summary>
    /// Computes y[i] = x[i]·mask[i]. <paramref name="y"/> may alias <paramref name="x"/>. Also the backward pass:
    /// dx = dy ⊙ mask. NaN and ±∞ propagate (∞·0 = NaN, as in PyTorch's multiply).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="mask"/> or <paramref name="y"/> differs in length from <paramref name="x"/>.</exception>
    public static void Apply<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> mask, Span<T> y)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ThrowHelper.ThrowIfLengthNotEqual(mask.Length, x.Length, nameof(mask));
        ThrowHelper.ThrowIfLengthNotEqual(y.Length, x.Length, nameof(y));
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T mr = ref MemoryMarshal.GetReference(mask);
        ref T yr = ref MemoryMarshal.GetReference(y);
        nuint n = (nuint)x.Length;
        if (Vector512.IsHardwareAccelerated) ApplyCore<T, Simd512<T>>(ref xr, ref mr, ref yr, n);
        else if (Vector256.IsHardwareAccelerated) ApplyCore<T, Simd256<T>>(ref xr, ref mr, ref yr, n);
        else ApplyCore<T, SimdScalar<T>>(ref xr, ref mr, ref yr, n);
    }

    // ---- hashing (notes 1–2) ----------------------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix64(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The per-call key (note 1).</summary>
    internal static void Key(ulong seed, ulong counter, out uint k0, out uint k1)
    {
        ulong key = Mix64(Mix64(seed + Golden) + counter);
        k0 = (uint)key;
        k1 = (uint)(key >> 32);
    }

    /// <summary>Element i's 32 random bits (note 2); the scalar definition every vector path reproduces.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Hash(uint i, uint k0, uint k1) => LowBias32(LowBias32(i ^ k0) + k1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint LowBias32(uint x)
    {
        x ^= x >> 16; x *= M1; x ^= x >> 15; x *= M2; x ^= x >> 16;
        return x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> LowBias32(Vector512<uint> x)
    {
        x ^= Vector512.ShiftRightLogical(x, 16); x *= Vector512.Create(M1);
        x ^= Vector512.ShiftRightLogical(x, 15); x *= Vector512.Create(M2);
        return x ^ Vector512.ShiftRightLogical(x, 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> LowBias32(Vector256<uint> x)
    {
        x ^= Vector256.ShiftRightLogical(x, 16); x *= Vector256.Create(M1);
        x ^= Vector256.ShiftRightLogical(x, 15); x *= Vector256.Create(M2);
        return x ^ Vector256.ShiftRightLogical(x, 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> LowBias32(Vector128<uint> x)
    {
        x ^= Vector128.ShiftRightLogical(x, 16); x *= Vector128.Create(M1);
        x ^= Vector128.ShiftRightLogical(x, 15); x *= Vector128.Create(M2);
        return x ^ Vector128.ShiftRightLogical(x, 16);
    }

    /// <summary>All-ones lanes where element i0 + lane is dropped (h &lt; threshold), for 16 (or 8, 4) consecutive elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Dropped512(uint i0, uint k0, uint k1, uint threshold) =>
        Vector512.LessThan(LowBias32(LowBias32((Vector512.Create(i0) + Vector512<uint>.Indices) ^ Vector512.Create(k0)) + Vector512.Create(k1)), Vector512.Create(threshold));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Dropped256(uint i0, uint k0, uint k1, uint threshold) =>
        Vector256.LessThan(LowBias32(LowBias32((Vector256.Create(i0) + Vector256<uint>.Indices) ^ Vector256.Create(k0)) + Vector256.Create(k1)), Vector256.Create(threshold));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Dropped128(uint i0, uint k0, uint k1, uint threshold) =>
        Vector128.LessThan(LowBias32(LowBias32((Vector128.Create(i0) + Vector128<uint>.Indices) ^ Vector128.Create(k0)) + Vector128.Create(k1)), Vector128.Create(threshold));

    // ---- cores ------------------------------------------------------------------------------------------------------

    /// <summary>
    /// The mask at width <typeparamref name="TV"/>: full registers, then a scalar tail. float lanes take the 32-bit
    /// comparison mask as is; double lanes sign-extend it to 64 bits (a register of doubles holds half as many lanes,
    /// so the hashes are computed in a register of half the width).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void FillMaskCore<T, TV>(ref T mask, nuint n, double dropProbability, ulong seed, ulong counter)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        Key(seed, counter, out uint k0, out uint k1);
        uint threshold = (uint)(dropProbability * 4294967296.0); // ⌊p·2³²⌋ (exact scaling; p < 1 keeps it below 2³²)
        T scale = T.CreateTruncating(1.0 / (1.0 - dropProbability));
        nuint i = 0;
        if (typeof(TV) == typeof(Simd512<T>))
        {
            nuint w = (nuint)Vector512<T>.Count;
            Vector512<T> keep = Vector512.Create(scale);
            for (; i + w <= n; i += w)
            {
                Vector512<T> drop = typeof(T) == typeof(float)
                    ? Dropped512((uint)i, k0, k1, threshold).As<uint, T>()
                    : Widen(Dropped256((uint)i, k0, k1, threshold)).As<long, T>();
                Vector512.ConditionalSelect(drop, Vector512<T>.Zero, keep).StoreUnsafe(ref mask, i);
            }
        }
        else if (typeof(TV) == typeof(Simd256<T>))
        {
            nuint w = (nuint)Vector256<T>.Count;
            Vector256<T> keep = Vector256.Create(scale);
            for (; i + w <= n; i += w)
            {
                Vector256<T> drop = typeof(T) == typeof(float)
                    ? Dropped256((uint)i, k0, k1, threshold).As<uint, T>()
                    : Widen(Dropped128((uint)i, k0, k1, threshold)).As<long, T>();
                Vector256.ConditionalSelect(drop, Vector256<T>.Zero, keep).StoreUnsafe(ref mask, i);
            }
        }
        for (; i < n; i++) Unsafe.Add(ref mask, i) = Hash((uint)i, k0, k1) < threshold ? T.Zero : scale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<long> Widen(Vector256<uint> m)
    {
        (Vector256<long> lo, Vector256<long> hi) = Vector256.Widen(m.AsInt32()); // sign extension keeps all-ones all-ones
        return Vector512.Create(lo, hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<long> Widen(Vector128<uint> m)
    {
        (Vector128<long> lo, Vector128<long> hi) = Vector128.Widen(m.AsInt32());
        return Vector256.Create(lo, hi);
    }

    /// <summary>y = x ⊙ mask: ×4 unrolled loop, one-vector loop, scalar tail; each element read before it is written.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ApplyCore<T, TV>(ref T x, ref T mask, ref T y, nuint n)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint w = (nuint)TV.Count, i = 0;
        for (; i + 4 * w <= n; i += 4 * w)
        {
            TV a = TV.Load(ref x, i) * TV.Load(ref mask, i);
            TV b = TV.Load(ref x, i + w) * TV.Load(ref mask, i + w);
            TV c = TV.Load(ref x, i + 2 * w) * TV.Load(ref mask, i + 2 * w);
            TV d = TV.Load(ref x, i + 3 * w) * TV.Load(ref mask, i + 3 * w);
            TV.Store(a, ref y, i); TV.Store(b, ref y, i + w); TV.Store(c, ref y, i + 2 * w); TV.Store(d, ref y, i + 3 * w);
        }
        for (; i + w <= n; i += w) TV.Store(TV.Load(ref x, i) * TV.Load(ref mask, i), ref y, i);
        for (; i < n; i++) Unsafe.Add(ref y, i) = Unsafe.Add(ref x, i) * Unsafe.Add(ref mask, i);
    }
}
