using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KernelGen.Kernels;

/// <summary>
/// Maxout (Goodfellow et al. 2013) on row-major data: z is [batch × units·pieces] with each unit's pieces contiguous,
/// y is [batch × units], and y[b, u] = max_i z[b, u·pieces + i].
/// </summary>
/// <remarks>
/// <para>The kernels are scalar on purpose. With the pieces of a unit contiguous, a register of units would need a
/// strided gather per piece, and a register within one unit is mostly empty for the usual 2–5 pieces; either costs
/// more than the one compare per element the scalar loop does. Both passes treat the data as batch·units contiguous
/// segments of <c>pieces</c> values.</para>
/// <para>NaN: the winner of a segment is its first NaN if it has one (so y is NaN, like <c>torch.max</c>), otherwise its
/// first maximal element (ties go to the lowest piece index). Forward and backward use the same rule, so the gradient
/// always flows to the element y was copied from.</para>
/// </remarks>
public static class Maxout
{
    /// <summary>Computes y[b, u] = max_i z[b, u·pieces + i] (the first NaN of a unit wins, so NaN propagates).</summary>
    public static void Forward<T>(ReadOnlySpan<T> z, Span<T> y, int batch, int units, int pieces)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int outputs = Validate(batch, units, pieces);
        ThrowHelper.ThrowIfLengthLessThan(z.Length, outputs * pieces, nameof(z));
        ThrowHelper.ThrowIfLengthLessThan(y.Length, outputs, nameof(y));
        ForwardCore(ref MemoryMarshal.GetReference(z), ref MemoryMarshal.GetReference(y), (nuint)outputs, (nuint)pieces);
    }

    /// <summary>
    /// Computes dz[b, u·pieces + i] = dy[b, u] for the winning piece i (the first maximum, or the first NaN) and 0 for the
    /// other pieces, overwriting all of dz. <paramref name="dz"/> may alias <paramref name="z"/>.
    /// </summary>
    public static void Backward<T>(ReadOnlySpan<T> z, ReadOnlySpan<T> dy, Span<T> dz, int batch, int units, int pieces)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int outputs = Validate(batch, units, pieces);
        ThrowHelper.ThrowIfLengthLessThan(z.Length, outputs * pieces, nameof(z));
        ThrowHelper.ThrowIfLengthLessThan(dy.Length, outputs, nameof(dy));
        ThrowHelper.ThrowIfLengthLessThan(dz.Length, outputs * pieces, nameof(dz));
        BackwardCore(ref MemoryMarshal.GetReference(z), ref MemoryMarshal.GetReference(dy), ref MemoryMarshal.GetReference(dz), (nuint)outputs, (nuint)pieces);
    }

    private static int Validate(int batch, int units, int pieces)
    {
        if (batch <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "The batch size must be positive.");
        if (units <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(units), units, "The unit count must be positive.");
        if (pieces <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(pieces), pieces, "The piece count must be positive.");
        if ((long)batch * units * pieces > int.MaxValue)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), batch, "batch × units × pieces exceeds the largest span length.");
        return batch * units;
    }

    /// <summary>The winning piece of one segment: its first NaN, else its first maximum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nuint Winner<T>(ref T segment, nuint pieces) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T best = segment;
        if (T.IsNaN(best)) return 0;
        nuint arg = 0;
        for (nuint i = 1; i < pieces; i++)
        {
            T z = Unsafe.Add(ref segment, i);
            if (z > best) { best = z; arg = i; }
            else if (T.IsNaN(z)) return i;
        }
        return arg;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ForwardCore<T>(ref T z, ref T y, nuint outputs, nuint pieces) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (nuint o = 0; o < outputs; o++)
        {
            ref T segment = ref Unsafe.Add(ref z, o * pieces);
            Unsafe.Add(ref y, o) = Unsafe.Add(ref segment, Winner(ref segment, pieces));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void BackwardCore<T>(ref T z, ref T dy, ref T dz, nuint outputs, nuint pieces) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (nuint o = 0; o < outputs; o++)
        {
            nuint start = o * pieces;
            nuint arg = Winner(ref Unsafe.Add(ref z, start), pieces); // the whole segment of z is read before dz is written
            T g = Unsafe.Add(ref dy, o);
            for (nuint i = 0; i < pieces; i++) Unsafe.Add(ref dz, start + i) = i == arg ? g : T.Zero;
        }
    }
}
