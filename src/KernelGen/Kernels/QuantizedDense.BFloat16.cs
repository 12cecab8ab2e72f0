using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelGen.Operators;

namespace KernelGen.Kernels;

// Dense forward passes on weights stored in 16 bits (bfloat16 precision), accumulating in float: batch-1 inference
// streams the weights and is bound by cache bandwidth, so half the bytes is nearly half the time.
//
// Layout. The columns are padded to a multiple of 32 (zero weights) and cut into groups of 32; row k of W becomes
// P/2 32-bit words (P the padded width), word 16g + i of the row holding the pair (column 32g + i, column 32g + 16 + i):
//   low 16 bits:  column 32g + i as bfloat16 (round to nearest even): the weight is (word << 16) as a float;
//   the word:     column 32g + 16 + i is the word itself read as a float: a bfloat16 in the high half whose low half
//                 carries the partner's bits as 16 extra mantissa bits. The high half is chosen so that this float is
//                 the one nearest the weight among all high halves, so the error stays within half a bfloat16 step,
//                 as for rounding to bfloat16.
// Decoding a vector of words is then one shift for the low columns and nothing for the high ones (a plain bfloat16
// layout needs a shift and a mask): per 64-byte load, one shift and two FMAs instead of two shifts and two FMAs. On
// the development machine (784 × 256 at batch 1) that took the kernel from 4.6 µs (shift and mask) to 3.6 µs; float
// weights take 6.0 µs, the speed of reading them from L2.
//
// One layout serves every width: a vector of W words (W = 16, 8 or 1 dividing 16) starting at word m of a row decodes
// to the W low columns from m + 16·⌊m/16⌋ and the W high columns 16 further on.
//
// Order. y[r, j] = f(b[j] + (0 + x[r,0]·w[0,j] + x[r,1]·w[1,j] + …)), one fused multiply-add chain per element over k
// ascending (fused in the scalar path too), then the bias added once: the same bits at every width and for every tile
// shape, batch size, and thread count. The activation is the operator's, at the width that ran (activations built from
// exact operations, like ReLU and the identity, give the same bits at every width).
public static partial class QuantizedDense
{
    /// <summary>Columns per bfloat16 group (the padding unit of the packed width).</summary>
    public const int BFloat16Group = 32;

    /// <summary>The packed width: <paramref name="nOut"/> rounded up to a multiple of <see cref="BFloat16Group"/>.</summary>
    public static int BFloat16Columns(int nOut) => (nOut + BFloat16Group - 1) / BFloat16Group * BFloat16Group;

    /// <summary>The 32-bit words of a packed [nIn × nOut] weight matrix: nIn × <see cref="BFloat16Columns"/>/2.</summary>
    public static int BFloat16Words(int nIn, int nOut)
    {
        ValidateShape(nIn, nOut);
        return checked(nIn * (BFloat16Columns(nOut) / 2));
    }

    /// <summary>
    /// Packs the row-major float weights <paramref name="w"/> [nIn × nOut] into the bfloat16 layout (see the file
    /// notes): every weight within half a bfloat16 step (2⁻⁸ relative) of its value. NaN stays NaN, ±∞ stays ±∞.
    /// </summary>
    public static void PackBFloat16(ReadOnlySpan<float> w, Span<uint> packed, int nIn, int nOut)
    {
        ValidateShape(nIn, nOut);
        ThrowHelper.ThrowIfLengthNotEqual(w.Length, nIn * nOut, nameof(w));
        ThrowHelper.ThrowIfLengthNotEqual(packed.Length, BFloat16Words(nIn, nOut), nameof(packed));
        int rowWords = BFloat16Columns(nOut) / 2;
        for (int k = 0; k < nIn; k++)
        {
            ReadOnlySpan<float> row = w.Slice(k * nOut, nOut);
            Span<uint> words = packed.Slice(k * rowWords, rowWords);
            for (int m = 0; m < rowWords; m++)
            {
                int low = m + m / 16 * 16, high = low + 16;
                uint lowBits = RoundToBFloat16(low < nOut ? row[low] : 0f);
                words[m] = HighHalf(high < nOut ? row[high] : 0f, lowBits) << 16 | lowBits;
            }
        }
    }

    /// <summary>The weight of row <paramref name="k"/>, column <paramref name="j"/> as the bfloat16 kernels read it from
    /// <paramref name="packed"/> (a scalar reference for tests and tools).</summary>
    public static float BFloat16Weight(ReadOnlySpan<uint> packed, int nIn, int nOut, int k, int j)
    {
        ThrowHelper.ThrowIfLengthNotEqual(packed.Length, BFloat16Words(nIn, nOut), nameof(packed));
        if ((uint)k >= (uint)nIn) ThrowHelper.ThrowArgumentOutOfRange(nameof(k), k, "Not a row of the weights.");
        if ((uint)j >= (uint)nOut) ThrowHelper.ThrowArgumentOutOfRange(nameof(j), j, "Not a column of the weights.");
        int i = j % BFloat16Group;
        uint word = packed[k * (BFloat16Columns(nOut) / 2) + j / BFloat16Group * 16 + i % 16];
        return BitConverter.UInt32BitsToSingle(i < 16 ? word << 16 : word);
    }

    /// <summary>
    /// Weights below this magnitude (2⁻⁶⁰) are stored as 0 in a low half and as ±2⁻⁶⁰·(1 + ε) in a high half: the
    /// nearest encodable value would be a denormal (a zero weight's high half is its partner's bits as a denormal), and
    /// arithmetic on denormals is tens of times slower on x86 (.NET does not set flush-to-zero). Products with such a
    /// weight stay normal for activations above 10⁻²⁰; the error (below 10⁻¹⁸) is far under bfloat16's.
    /// </summary>
    private const float Tiny = 8.67361738e-19f; // 2^-60

    /// <summary>The upper 16 bits of the bfloat16 nearest <paramref name="value"/> (ties to even); 0 for magnitudes
    /// below <see cref="Tiny"/>.</summary>
    private static uint RoundToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return bits >> 16 | 0x40; // stays a (quiet) NaN
        if (MathF.Abs(value) < Tiny) return 0;
        return (bits + 0x7FFF + (bits >> 16 & 1)) >> 16;  // carries into the exponent as rounding should (to ±∞ above the largest)
    }

    /// <summary>The upper 16 bits h for which the float (h &lt;&lt; 16 | <paramref name="low"/>) is nearest
    /// <paramref name="value"/>; ±∞ and NaN keep their class; magnitudes below <see cref="Tiny"/> give ±<see cref="Tiny"/>'s
    /// upper bits (+0 when the low half is 0 too).</summary>
    private static uint HighHalf(float value, uint low)
    {
        if (!float.IsFinite(value)) return BitConverter.SingleToUInt32Bits(value) >> 16 | (float.IsNaN(value) ? 0x40u : 0);
        if (MathF.Abs(value) < Tiny)
            return low == 0 ? 0 : BitConverter.SingleToUInt32Bits(float.IsNegative(value) ? -Tiny : Tiny) >> 16;
        uint truncated = BitConverter.SingleToUInt32Bits(value) >> 16, best = truncated;
        double bestError = double.PositiveInfinity;
        for (int d = -1; d <= 1; d++)
        {
            uint h = (truncated + (uint)d) & 0xFFFF;
            float candidate = BitConverter.UInt32BitsToSingle(h << 16 | low);
            if (!float.IsFinite(candidate)) continue;
            double error = Math.Abs((double)candidate - value);
            if (error < bestError) (best, bestError) = (h, error);
        }
        return best;
    }

    /// <summary>
    /// Computes y = f(x·W + b) for <paramref name="batch"/> rows from the bfloat16 weights <paramref name="packed"/>
    /// (<see cref="PackBFloat16"/>), accumulating in float.
    /// </summary>
    public static void ForwardBFloat16<TAct>(ReadOnlySpan<float> x, ReadOnlySpan<uint> packed, ReadOnlySpan<float> b, Span<float> y, int batch, int nIn, int nOut)
        where TAct : IActivationOp<float> =>
        ForwardBFloat16<float, TAct>(x, packed, b, y, batch, nIn, nOut);

    /// <summary>The bfloat16 forward pass for a float <typeparamref name="T"/> (the generic form the network state calls).</summary>
    internal static void ForwardBFloat16<T, TAct>(ReadOnlySpan<T> x, ReadOnlySpan<uint> packed, ReadOnlySpan<T> b, Span<T> y, int batch, int nIn, int nOut)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T>
    {
        if (typeof(T) != typeof(float)) throw new NotSupportedException("The bfloat16 kernels compute in float.");
        ValidateForward(batch, nIn, nOut);
        ThrowHelper.ThrowIfLengthLessThan(x.Length, batch * nIn, nameof(x));
        ThrowHelper.ThrowIfLengthNotEqual(packed.Length, BFloat16Words(nIn, nOut), nameof(packed));
        ThrowHelper.ThrowIfLengthNotEqual(b.Length, nOut, nameof(b));
        ThrowHelper.ThrowIfLengthLessThan(y.Length, batch * nOut, nameof(y));
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref uint wr = ref MemoryMarshal.GetReference(packed);
        ref T br = ref MemoryMarshal.GetReference(b);
        ref T yr = ref MemoryMarshal.GetReference(y);
        int rowWords = BFloat16Columns(nOut) / 2;
        // A small batch over a large matrix: each thread streams half the words (whole groups), always the same half.
        int split = rowWords / 2 / 16 * 16;
        if (batch < KernelParallelism.MinimumBatch && split > 0 && KernelParallelism.ShouldSplitColumns((long)nIn * rowWords * sizeof(uint))
            && KernelParallelism.TryEnter())
        {
            BFloat16Work<T, TAct>.Run(ref xr, ref wr, ref br, ref yr, batch, nIn, nOut, split);
            return;
        }
        ForwardBFloat16Words<T, TAct>(ref xr, ref wr, ref br, ref yr, batch, nIn, nOut, 0, rowWords);
    }

    /// <summary>The widest accelerated width for words [<paramref name="m0"/>, <paramref name="m1"/>) of every row.</summary>
    internal static void ForwardBFloat16Words<T, TAct>(ref T x, ref uint w, ref T b, ref T y, int batch, int nIn, int nOut, int m0, int m1)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T>
    {
        if (Vector512.IsHardwareAccelerated) ForwardBFloat16Core<T, TAct, Simd512<T>>(ref x, ref w, ref b, ref y, batch, nIn, nOut, m0, m1);
        else if (Vector256.IsHardwareAccelerated) ForwardBFloat16Core<T, TAct, Simd256<T>>(ref x, ref w, ref b, ref y, batch, nIn, nOut, m0, m1);
        else ForwardBFloat16Core<T, TAct, SimdScalar<T>>(ref x, ref w, ref b, ref y, batch, nIn, nOut, m0, m1);
    }

    /// <summary>
    /// The bfloat16 forward pass at register type <typeparamref name="TV"/> for words [<paramref name="m0"/>,
    /// <paramref name="m1"/>) of every packed row (multiples of 16).
    /// </summary>
    internal static void ForwardBFloat16Core<T, TAct, TV>(ref T x, ref uint w, ref T b, ref T y, int batch, int nIn, int nOut, int m0, int m1)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        nuint rowWords = (nuint)(BFloat16Columns(nOut) / 2), kIn = (nuint)nIn, n = (nuint)nOut;
        // Words whose columns all lie below nOut go through the tiles, whose epilogues store whole vectors and make no
        // calls (a call after the loop would make the JIT spill every accumulator inside it); the last, partial group
        // of a width that is not a multiple of 32 goes through the tail path.
        int full = nOut / BFloat16Group * 16, f1 = Math.Min(m1, full), t0 = Math.Max(m0, full);
        int r = 0;
        for (; r + 4 <= batch; r += 4)
        {
            if (f1 > m0) Bf16Block<T, TAct, TV>(ref Unsafe.Add(ref x, (nuint)r * kIn), 4, ref w, rowWords, kIn, ref b, ref Unsafe.Add(ref y, (nuint)r * n), nOut, m0, f1);
            if (m1 > t0) Bf16Tail<T, TAct, TV>(ref Unsafe.Add(ref x, (nuint)r * kIn), 4, ref w, rowWords, kIn, ref b, ref Unsafe.Add(ref y, (nuint)r * n), nOut, t0, m1);
        }
        int left = batch - r;
        if (left == 0) return;
        if (f1 > m0)
        {
            if (left == 1) Bf16Row<T, TAct, TV>(ref Unsafe.Add(ref x, (nuint)r * kIn), ref w, rowWords, kIn, ref b, ref Unsafe.Add(ref y, (nuint)r * n), nOut, m0, f1);
            else Bf16Block<T, TAct, TV>(ref Unsafe.Add(ref x, (nuint)r * kIn), left, ref w, rowWords, kIn, ref b, ref Unsafe.Add(ref y, (nuint)r * n), nOut, m0, f1);
        }
        if (m1 > t0) Bf16Tail<T, TAct, TV>(ref Unsafe.Add(ref x, (nuint)r * kIn), left, ref w, rowWords, kIn, ref b, ref Unsafe.Add(ref y, (nuint)r * n), nOut, t0, m1);
    }

    /// <summary>
    /// Up to 4 rows over the words [<paramref name="m0"/>, <paramref name="m1"/>) of the last, partial group: the raw
    /// sums go to a stack buffer, then f(sum + b) to the columns below nOut.
    /// </summary>
    private static void Bf16Tail<T, TAct, TV>(ref T x, int rows, ref uint w, nuint rowWords, nuint kIn, ref T b, ref T y, int nOut, int m0, int m1)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count;
        Span<T> sums = stackalloc T[8 * 64 / Unsafe.SizeOf<T>()];
        ref T s = ref MemoryMarshal.GetReference(sums);
        for (nuint m = (nuint)m0; m < (nuint)m1; m += v)
        {
            Bf16TailTile<T, TV>(ref x, rows, ref Unsafe.Add(ref w, m), rowWords, kIn, ref s);
            nuint c = LowColumn(m);
            for (int q = 0; q < rows; q++)
            {
                ref T row = ref Unsafe.Add(ref y, (nuint)q * (nuint)nOut);
                StorePart<T, TAct, TV>(TV.Load(ref s, (nuint)(2 * q) * v), ref b, ref row, c, nOut);
                StorePart<T, TAct, TV>(TV.Load(ref s, (nuint)(2 * q + 1) * v), ref b, ref row, c + 16, nOut);
            }
        }
    }

    /// <summary>Raw sums of up to 4 rows (missing rows repeat the last) × 1 word vector, stored as row q's low and
    /// high vectors at <paramref name="sums"/> + (2q, 2q + 1)·Count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Bf16TailTile<T, TV>(ref T x, int rows, ref uint w, nuint rowWords, nuint kIn, ref T sums)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count;
        ref T x0 = ref x;
        ref T x1 = ref Row(ref x, kIn, 1, rows);
        ref T x2 = ref Row(ref x, kIn, 2, rows);
        ref T x3 = ref Row(ref x, kIn, 3, rows);
        TV a00 = TV.Zero, a01 = TV.Zero, a10 = TV.Zero, a11 = TV.Zero, a20 = TV.Zero, a21 = TV.Zero, a30 = TV.Zero, a31 = TV.Zero;
        for (nuint k = 0; k < kIn; k++)
        {
            TV l = Low<T, TV>(ref w, 0), h = High<T, TV>(ref w, 0);
            TV s = TV.Create(Unsafe.Add(ref x0, k));
            a00 = Fma<T, TV>(s, l, a00); a01 = Fma<T, TV>(s, h, a01);
            s = TV.Create(Unsafe.Add(ref x1, k));
            a10 = Fma<T, TV>(s, l, a10); a11 = Fma<T, TV>(s, h, a11);
            s = TV.Create(Unsafe.Add(ref x2, k));
            a20 = Fma<T, TV>(s, l, a20); a21 = Fma<T, TV>(s, h, a21);
            s = TV.Create(Unsafe.Add(ref x3, k));
            a30 = Fma<T, TV>(s, l, a30); a31 = Fma<T, TV>(s, h, a31);
            w = ref Unsafe.Add(ref w, rowWords);
        }
        TV.Store(a00, ref sums, 0); TV.Store(a01, ref sums, v); TV.Store(a10, ref sums, 2 * v); TV.Store(a11, ref sums, 3 * v);
        TV.Store(a20, ref sums, 4 * v); TV.Store(a21, ref sums, 5 * v); TV.Store(a30, ref sums, 6 * v); TV.Store(a31, ref sums, 7 * v);
    }

    /// <summary>True for 512-bit registers (32 architectural registers: wider tiles); JIT-time constant.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsWide<T, TV>() where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> =>
        TV.Count * Unsafe.SizeOf<T>() == 64;

    /// <summary>One batch row: 8 word vectors at a time with 512-bit registers (16 accumulators, 256 columns), else 4.</summary>
    private static void Bf16Row<T, TAct, TV>(ref T x, ref uint w, nuint rowWords, nuint kIn, ref T b, ref T y, int nOut, int m0, int m1)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, m = (nuint)m0, end = (nuint)m1;
        if (IsWide<T, TV>())
            for (; m + 8 * v <= end; m += 8 * v)
                Bf16Row8<T, TAct, TV>(ref x, ref Unsafe.Add(ref w, m), rowWords, kIn, ref b, ref y, nOut, m);
        for (; m + 4 * v <= end; m += 4 * v)
            Bf16Row4<T, TAct, TV>(ref x, ref Unsafe.Add(ref w, m), rowWords, kIn, ref b, ref y, nOut, m);
        for (; m < end; m += v)
            Bf16Row1<T, TAct, TV>(ref x, ref Unsafe.Add(ref w, m), rowWords, kIn, ref b, ref y, nOut, m);
    }

    /// <summary>Up to 4 batch rows (missing rows repeat the last): 2 word vectors at a time with 512-bit registers (16
    /// accumulators), else 1.</summary>
    private static void Bf16Block<T, TAct, TV>(ref T x, int rows, ref uint w, nuint rowWords, nuint kIn, ref T b, ref T y, int nOut, int m0, int m1)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, m = (nuint)m0, end = (nuint)m1;
        if (IsWide<T, TV>())
            for (; m + 2 * v <= end; m += 2 * v)
                Bf16Tile4x2<T, TAct, TV>(ref x, rows, ref Unsafe.Add(ref w, m), rowWords, kIn, ref b, ref y, nOut, m);
        for (; m < end; m += v)
            Bf16Tile4x1<T, TAct, TV>(ref x, rows, ref Unsafe.Add(ref w, m), rowWords, kIn, ref b, ref y, nOut, m);
    }

    // ---- decoding, fused multiply-add, epilogue -------------------------------------------------------------------

    // The decoding helpers return fresh values and the accumulators only meet TV's own operators: a value the JIT has to
    // reinterpret (Unsafe.BitCast of a loop-carried accumulator, an out parameter) stays in memory, and every
    // accumulator was stored and reloaded on each k.

    /// <summary>The low columns of the word vector at <paramref name="w"/> + <paramref name="offset"/>: (word &lt;&lt; 16) as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Low<T, TV>(ref uint w, nuint offset) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        if (typeof(TV) == typeof(Simd512<T>)) return Unsafe.BitCast<Vector512<uint>, TV>(Vector512.LoadUnsafe(ref w, offset) << 16);
        if (typeof(TV) == typeof(Simd256<T>)) return Unsafe.BitCast<Vector256<uint>, TV>(Vector256.LoadUnsafe(ref w, offset) << 16);
        return Unsafe.BitCast<uint, TV>(Unsafe.Add(ref w, offset) << 16);
    }

    /// <summary>The high columns of the word vector at <paramref name="w"/> + <paramref name="offset"/>: the words as
    /// floats (a load the multiply-add takes as its memory operand).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV High<T, TV>(ref uint w, nuint offset) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T> =>
        TV.Load(ref Unsafe.As<uint, T>(ref w), offset);

    /// <summary>
    /// a·b + c rounded once at every width, so every width gives the same bits: the vector registers' multiply-add on
    /// FMA hardware (where the vector paths run), the always-fused library functions otherwise (the scalar path, and
    /// vector code run in software, which tests do).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Fma<T, TV>(TV a, TV b, TV c) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        if (typeof(TV) == typeof(SimdScalar<T>))
            return Unsafe.BitCast<float, TV>(MathF.FusedMultiplyAdd(Unsafe.BitCast<TV, float>(a), Unsafe.BitCast<TV, float>(b), Unsafe.BitCast<TV, float>(c)));
        if (System.Runtime.Intrinsics.X86.Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported) return TV.MultiplyAdd(a, b, c);
        if (typeof(TV) == typeof(Simd512<T>))
            return Unsafe.BitCast<Vector512<float>, TV>(Vector512.FusedMultiplyAdd(Unsafe.BitCast<TV, Vector512<float>>(a), Unsafe.BitCast<TV, Vector512<float>>(b), Unsafe.BitCast<TV, Vector512<float>>(c)));
        return Unsafe.BitCast<Vector256<float>, TV>(Vector256.FusedMultiplyAdd(Unsafe.BitCast<TV, Vector256<float>>(a), Unsafe.BitCast<TV, Vector256<float>>(b), Unsafe.BitCast<TV, Vector256<float>>(c)));
    }

    /// <summary>The first column of word <paramref name="m"/>'s low half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nuint LowColumn(nuint m) => m + m / 16 * 16;

    /// <summary>Stores f(acc + b) to the whole vector of columns from <paramref name="column"/> (all below nOut).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store<T, TAct, TV>(TV acc, ref T b, ref T y, nuint column)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T> =>
        TV.Store(TAct.Forward(acc + TV.Load(ref b, column)), ref y, column);

    /// <summary>
    /// Stores f(acc + b) to the columns from <paramref name="column"/> that lie below <paramref name="nOut"/>: a vector
    /// that may cross the end of the row (into the padded columns) or lie past it, computed whole and stored in part.
    /// </summary>
    private static void StorePart<T, TAct, TV>(TV acc, ref T b, ref T y, nuint column, int nOut)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        int valid = Math.Min(nOut - (int)column, TV.Count);
        if (valid <= 0) return;
        Span<T> lanes = stackalloc T[64 / Unsafe.SizeOf<T>()];
        ref T l = ref MemoryMarshal.GetReference(lanes);
        for (int i = 0; i < valid; i++) Unsafe.Add(ref l, i) = Unsafe.Add(ref b, column + (nuint)i);
        TV.Store(TAct.Forward(acc + TV.Load(ref l, 0)), ref l, 0);
        for (int i = 0; i < valid; i++) Unsafe.Add(ref y, column + (nuint)i) = Unsafe.Add(ref l, i);
    }

    // ---- register tiles -------------------------------------------------------------------------------------------

    /// <summary>One row × 8 word vectors (16 accumulators; 512-bit only): 256 columns per k from 512 contiguous bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Bf16Row8<T, TAct, TV>(ref T x, ref uint w, nuint rowWords, nuint kIn, ref T b, ref T y, int nOut, nuint m)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count;
        TV a0 = TV.Zero, a1 = TV.Zero, a2 = TV.Zero, a3 = TV.Zero, a4 = TV.Zero, a5 = TV.Zero, a6 = TV.Zero, a7 = TV.Zero;
        TV a8 = TV.Zero, a9 = TV.Zero, a10 = TV.Zero, a11 = TV.Zero, a12 = TV.Zero, a13 = TV.Zero, a14 = TV.Zero, a15 = TV.Zero;
        for (nuint k = 0; k < kIn; k++)
        {
            TV s = TV.Create(Unsafe.Add(ref x, k));
            a0 = Fma<T, TV>(s, Low<T, TV>(ref w, 0), a0); a1 = Fma<T, TV>(s, High<T, TV>(ref w, 0), a1);
            a2 = Fma<T, TV>(s, Low<T, TV>(ref w, v), a2); a3 = Fma<T, TV>(s, High<T, TV>(ref w, v), a3);
            a4 = Fma<T, TV>(s, Low<T, TV>(ref w, 2 * v), a4); a5 = Fma<T, TV>(s, High<T, TV>(ref w, 2 * v), a5);
            a6 = Fma<T, TV>(s, Low<T, TV>(ref w, 3 * v), a6); a7 = Fma<T, TV>(s, High<T, TV>(ref w, 3 * v), a7);
            a8 = Fma<T, TV>(s, Low<T, TV>(ref w, 4 * v), a8); a9 = Fma<T, TV>(s, High<T, TV>(ref w, 4 * v), a9);
            a10 = Fma<T, TV>(s, Low<T, TV>(ref w, 5 * v), a10); a11 = Fma<T, TV>(s, High<T, TV>(ref w, 5 * v), a11);
            a12 = Fma<T, TV>(s, Low<T, TV>(ref w, 6 * v), a12); a13 = Fma<T, TV>(s, High<T, TV>(ref w, 6 * v), a13);
            a14 = Fma<T, TV>(s, Low<T, TV>(ref w, 7 * v), a14); a15 = Fma<T, TV>(s, High<T, TV>(ref w, 7 * v), a15);
            w = ref Unsafe.Add(ref w, rowWords);
        }
        nuint c = LowColumn(m);
        Store<T, TAct, TV>(a0, ref b, ref y, c); Store<T, TAct, TV>(a1, ref b, ref y, c + 16);
        c = LowColumn(m + v);
        Store<T, TAct, TV>(a2, ref b, ref y, c); Store<T, TAct, TV>(a3, ref b, ref y, c + 16);
        c = LowColumn(m + 2 * v);
        Store<T, TAct, TV>(a4, ref b, ref y, c); Store<T, TAct, TV>(a5, ref b, ref y, c + 16);
        c = LowColumn(m + 3 * v);
        Store<T, TAct, TV>(a6, ref b, ref y, c); Store<T, TAct, TV>(a7, ref b, ref y, c + 16);
        c = LowColumn(m + 4 * v);
        Store<T, TAct, TV>(a8, ref b, ref y, c); Store<T, TAct, TV>(a9, ref b, ref y, c + 16);
        c = LowColumn(m + 5 * v);
        Store<T, TAct, TV>(a10, ref b, ref y, c); Store<T, TAct, TV>(a11, ref b, ref y, c + 16);
        c = LowColumn(m + 6 * v);
        Store<T, TAct, TV>(a12, ref b, ref y, c); Store<T, TAct, TV>(a13, ref b, ref y, c + 16);
        c = LowColumn(m + 7 * v);
        Store<T, TAct, TV>(a14, ref b, ref y, c); Store<T, TAct, TV>(a15, ref b, ref y, c + 16);
    }

    /// <summary>One row × 4 word vectors (8 accumulators).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Bf16Row4<T, TAct, TV>(ref T x, ref uint w, nuint rowWords, nuint kIn, ref T b, ref T y, int nOut, nuint m)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count;
        TV a0 = TV.Zero, a1 = TV.Zero, a2 = TV.Zero, a3 = TV.Zero, a4 = TV.Zero, a5 = TV.Zero, a6 = TV.Zero, a7 = TV.Zero;
        for (nuint k = 0; k < kIn; k++)
        {
            TV s = TV.Create(Unsafe.Add(ref x, k));
            a0 = Fma<T, TV>(s, Low<T, TV>(ref w, 0), a0); a1 = Fma<T, TV>(s, High<T, TV>(ref w, 0), a1);
            a2 = Fma<T, TV>(s, Low<T, TV>(ref w, v), a2); a3 = Fma<T, TV>(s, High<T, TV>(ref w, v), a3);
            a4 = Fma<T, TV>(s, Low<T, TV>(ref w, 2 * v), a4); a5 = Fma<T, TV>(s, High<T, TV>(ref w, 2 * v), a5);
            a6 = Fma<T, TV>(s, Low<T, TV>(ref w, 3 * v), a6); a7 = Fma<T, TV>(s, High<T, TV>(ref w, 3 * v), a7);
            w = ref Unsafe.Add(ref w, rowWords);
        }
        nuint c = LowColumn(m);
        Store<T, TAct, TV>(a0, ref b, ref y, c); Store<T, TAct, TV>(a1, ref b, ref y, c + 16);
        c = LowColumn(m + v);
        Store<T, TAct, TV>(a2, ref b, ref y, c); Store<T, TAct, TV>(a3, ref b, ref y, c + 16);
        c = LowColumn(m + 2 * v);
        Store<T, TAct, TV>(a4, ref b, ref y, c); Store<T, TAct, TV>(a5, ref b, ref y, c + 16);
        c = LowColumn(m + 3 * v);
        Store<T, TAct, TV>(a6, ref b, ref y, c); Store<T, TAct, TV>(a7, ref b, ref y, c + 16);
    }

    /// <summary>One row × 1 word vector (2 accumulators).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Bf16Row1<T, TAct, TV>(ref T x, ref uint w, nuint rowWords, nuint kIn, ref T b, ref T y, int nOut, nuint m)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        TV a0 = TV.Zero, a1 = TV.Zero;
        for (nuint k = 0; k < kIn; k++)
        {
            TV s = TV.Create(Unsafe.Add(ref x, k));
            a0 = Fma<T, TV>(s, Low<T, TV>(ref w, 0), a0); a1 = Fma<T, TV>(s, High<T, TV>(ref w, 0), a1);
            w = ref Unsafe.Add(ref w, rowWords);
        }
        nuint c = LowColumn(m);
        Store<T, TAct, TV>(a0, ref b, ref y, c); Store<T, TAct, TV>(a1, ref b, ref y, c + 16);
    }

    /// <summary>4 rows (missing rows repeat the last) × 2 word vectors (16 accumulators; 512-bit only).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Bf16Tile4x2<T, TAct, TV>(ref T x, int rows, ref uint w, nuint rowWords, nuint kIn, ref T b, ref T y, int nOut, nuint m)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        nuint v = (nuint)TV.Count, n = (nuint)nOut;
        ref T x0 = ref x;
        ref T x1 = ref Row(ref x, kIn, 1, rows);
        ref T x2 = ref Row(ref x, kIn, 2, rows);
        ref T x3 = ref Row(ref x, kIn, 3, rows);
        TV a00 = TV.Zero, a01 = TV.Zero, a02 = TV.Zero, a03 = TV.Zero, a10 = TV.Zero, a11 = TV.Zero, a12 = TV.Zero, a13 = TV.Zero;
        TV a20 = TV.Zero, a21 = TV.Zero, a22 = TV.Zero, a23 = TV.Zero, a30 = TV.Zero, a31 = TV.Zero, a32 = TV.Zero, a33 = TV.Zero;
        for (nuint k = 0; k < kIn; k++)
        {
            TV l0 = Low<T, TV>(ref w, 0), h0 = High<T, TV>(ref w, 0), l1 = Low<T, TV>(ref w, v), h1 = High<T, TV>(ref w, v);
            TV s = TV.Create(Unsafe.Add(ref x0, k));
            a00 = Fma<T, TV>(s, l0, a00); a01 = Fma<T, TV>(s, h0, a01); a02 = Fma<T, TV>(s, l1, a02); a03 = Fma<T, TV>(s, h1, a03);
            s = TV.Create(Unsafe.Add(ref x1, k));
            a10 = Fma<T, TV>(s, l0, a10); a11 = Fma<T, TV>(s, h0, a11); a12 = Fma<T, TV>(s, l1, a12); a13 = Fma<T, TV>(s, h1, a13);
            s = TV.Create(Unsafe.Add(ref x2, k));
            a20 = Fma<T, TV>(s, l0, a20); a21 = Fma<T, TV>(s, h0, a21); a22 = Fma<T, TV>(s, l1, a22); a23 = Fma<T, TV>(s, h1, a23);
            s = TV.Create(Unsafe.Add(ref x3, k));
            a30 = Fma<T, TV>(s, l0, a30); a31 = Fma<T, TV>(s, h0, a31); a32 = Fma<T, TV>(s, l1, a32); a33 = Fma<T, TV>(s, h1, a33);
            w = ref Unsafe.Add(ref w, rowWords);
        }
        nuint c0 = LowColumn(m), c1 = LowColumn(m + v);
        // A repeated (missing) row stores the same values to the same address again.
        ref T r = ref Row(ref y, n, 3, rows);
        Store<T, TAct, TV>(a30, ref b, ref r, c0); Store<T, TAct, TV>(a31, ref b, ref r, c0 + 16);
        Store<T, TAct, TV>(a32, ref b, ref r, c1); Store<T, TAct, TV>(a33, ref b, ref r, c1 + 16);
        r = ref Row(ref y, n, 2, rows);
        Store<T, TAct, TV>(a20, ref b, ref r, c0); Store<T, TAct, TV>(a21, ref b, ref r, c0 + 16);
        Store<T, TAct, TV>(a22, ref b, ref r, c1); Store<T, TAct, TV>(a23, ref b, ref r, c1 + 16);
        r = ref Row(ref y, n, 1, rows);
        Store<T, TAct, TV>(a10, ref b, ref r, c0); Store<T, TAct, TV>(a11, ref b, ref r, c0 + 16);
        Store<T, TAct, TV>(a12, ref b, ref r, c1); Store<T, TAct, TV>(a13, ref b, ref r, c1 + 16);
        Store<T, TAct, TV>(a00, ref b, ref y, c0); Store<T, TAct, TV>(a01, ref b, ref y, c0 + 16);
        Store<T, TAct, TV>(a02, ref b, ref y, c1); Store<T, TAct, TV>(a03, ref b, ref y, c1 + 16);
    }

    /// <summary>4 rows (missing rows repeat the last) × 1 word vector (8 accumulators).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Bf16Tile4x1<T, TAct, TV>(ref T x, int rows, ref uint w, nuint rowWords, nuint kIn, ref T b, ref T y, int nOut, nuint m)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T> where TV : struct, ISimd<TV, T>
    {
        nuint n = (nuint)nOut;
        ref T x0 = ref x;
        ref T x1 = ref Row(ref x, kIn, 1, rows);
        ref T x2 = ref Row(ref x, kIn, 2, rows);
        ref T x3 = ref Row(ref x, kIn, 3, rows);
        TV a00 = TV.Zero, a01 = TV.Zero, a10 = TV.Zero, a11 = TV.Zero, a20 = TV.Zero, a21 = TV.Zero, a30 = TV.Zero, a31 = TV.Zero;
        for (nuint k = 0; k < kIn; k++)
        {
            TV l = Low<T, TV>(ref w, 0), h = High<T, TV>(ref w, 0);
            TV s = TV.Create(Unsafe.Add(ref x0, k));
            a00 = Fma<T, TV>(s, l, a00); a01 = Fma<T, TV>(s, h, a01);
            s = TV.Create(Unsafe.Add(ref x1, k));
            a10 = Fma<T, TV>(s, l, a10); a11 = Fma<T, TV>(s, h, a11);
            s = TV.Create(Unsafe.Add(ref x2, k));
            a20 = Fma<T, TV>(s, l, a20); a21 = Fma<T, TV>(s, h, a21);
            s = TV.Create(Unsafe.Add(ref x3, k));
            a30 = Fma<T, TV>(s, l, a30); a31 = Fma<T, TV>(s, h, a31);
            w = ref Unsafe.Add(ref w, rowWords);
        }
        nuint c = LowColumn(m);
        ref T r = ref Row(ref y, n, 3, rows);
        Store<T, TAct, TV>(a30, ref b, ref r, c); Store<T, TAct, TV>(a31, ref b, ref r, c + 16);
        r = ref Row(ref y, n, 2, rows);
        Store<T, TAct, TV>(a20, ref b, ref r, c); Store<T, TAct, TV>(a21, ref b, ref r, c + 16);
        r = ref Row(ref y, n, 1, rows);
        Store<T, TAct, TV>(a10, ref b, ref r, c); Store<T, TAct, TV>(a11, ref b, ref r, c + 16);
        Store<T, TAct, TV>(a00, ref b, ref y, c); Store<T, TAct, TV>(a01, ref b, ref y, c + 16);
    }

    /// <summary>Row <paramref name="index"/> of a tile of <paramref name="count"/> rows; missing rows repeat the last.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref T Row<T>(ref T first, nuint stride, int index, int count) =>
        ref Unsafe.Add(ref first, (nuint)Math.Min(index, count - 1) * stride);

    // ---- two threads ----------------------------------------------------------------------------------------------

    /// <summary>Words [0, split) of every row here, [split, rowWords) on the worker.</summary>
    private sealed unsafe class BFloat16Work<T, TAct> : ParallelWork
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T>
    {
        private static readonly BFloat16Work<T, TAct> Instance = new();
        private T* _x, _b, _y;
        private uint* _w;
        private int _batch, _nIn, _nOut, _split;

        public static void Run(ref T x, ref uint w, ref T b, ref T y, int batch, int nIn, int nOut, int split)
        {
            fixed (T* px = &x, pb = &b, py = &y)
            fixed (uint* pw = &w)
            {
                BFloat16Work<T, TAct> work = Instance;
                work._x = px; work._w = pw; work._b = pb; work._y = py;
                (work._batch, work._nIn, work._nOut, work._split) = (batch, nIn, nOut, split);
                KernelParallelism.Run(work);
                work._x = null; work._w = null; work._b = null; work._y = null;
            }
        }

        internal override void Execute(int part) =>
            ForwardBFloat16Words<T, TAct>(ref *_x, ref *_w, ref *_b, ref *_y, _batch, _nIn, _nOut,
                part == 0 ? 0 : _split, part == 0 ? _split : BFloat16Columns(_nOut) / 2);
    }

    // ---- validation ----------------------------------------------------------------------------------------------

    private static void ValidateShape(int nIn, int nOut)
    {
        if (nIn <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(nIn), nIn, "The input width must be positive.");
        if (nOut <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(nOut), nOut, "The output width must be positive.");
        if ((long)nIn * (nOut + BFloat16Group) > int.MaxValue)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(nIn), nIn, "The tensor sizes must fit in a span.");
    }

    private static void ValidateForward(int batch, int nIn, int nOut)
    {
        if (batch <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "The batch size must be positive.");
        ValidateShape(nIn, nOut);
        if ((long)batch * nIn > int.MaxValue || (long)batch * nOut > int.MaxValue)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "The tensor sizes must fit in a span.");
    }
}
