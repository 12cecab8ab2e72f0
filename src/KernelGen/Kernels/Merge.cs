using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelGen.Operators;

namespace KernelGen.Kernels;

/// <summary>
/// The kernels of graph joins: the element-wise sum of branches (<c>[Add]</c>), gradient accumulation where a value has
/// several readers (∂L/∂x = Σ over readers), and concatenation of branches along each sample's first dimension
/// (<c>[Concat]</c>: channels of an image, features of a vector). Lengths are validated before any element is touched;
/// a destination may be one of the sources (the same span, element for element), never a shifted overlap.
/// </summary>
public static class Merge
{
    /// <summary>y[i] = a[i] + b[i].</summary>
    public static void Add<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ThrowHelper.ThrowIfLengthNotEqual(a.Length, y.Length, nameof(a));
        ThrowHelper.ThrowIfLengthNotEqual(b.Length, y.Length, nameof(b));
        ref T pa = ref MemoryMarshal.GetReference(a);
        ref T pb = ref MemoryMarshal.GetReference(b);
        ref T py = ref MemoryMarshal.GetReference(y);
        nuint n = (nuint)y.Length;
        if (Vector512.IsHardwareAccelerated) AddCore<T, Simd512<T>>(ref pa, ref pb, ref py, n);
        else if (Vector256.IsHardwareAccelerated) AddCore<T, Simd256<T>>(ref pa, ref pb, ref py, n);
        else AddCore<T, SimdScalar<T>>(ref pa, ref pb, ref py, n);
    }

    /// <summary>y[i] += x[i] (gradient accumulation; x may be y itself, which doubles it).</summary>
    public static void AddInto<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IBinaryFloatingPointIeee754<T> => Add<T>(y, x, y);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddCore<T, TV>(ref T a, ref T b, ref T y, nuint n)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TV : struct, ISimd<TV, T>
    {
        nuint w = (nuint)TV.Count, i = 0;
        for (; i + 2 * w <= n; i += 2 * w)
        {
            TV s0 = TV.Load(ref a, i) + TV.Load(ref b, i), s1 = TV.Load(ref a, i + w) + TV.Load(ref b, i + w);
            TV.Store(s0, ref y, i);
            TV.Store(s1, ref y, i + w);
        }
        for (; i + w <= n; i += w) TV.Store(TV.Load(ref a, i) + TV.Load(ref b, i), ref y, i);
        for (; i < n; i++) Unsafe.Add(ref y, i) = Unsafe.Add(ref a, i) + Unsafe.Add(ref b, i);
    }

    /// <summary>
    /// Writes each sample's <paramref name="size"/> values of <paramref name="part"/> ([batch × size]) into
    /// <paramref name="joined"/> ([batch × total]) at <paramref name="offset"/> of the sample: one input of a concatenation.
    /// </summary>
    public static void ConcatForward<T>(ReadOnlySpan<T> part, Span<T> joined, int batch, int size, int total, int offset)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Validate(part.Length, joined.Length, batch, size, total, offset);
        for (int b = 0; b < batch; b++) part.Slice(b * size, size).CopyTo(joined.Slice(b * total + offset, size));
    }

    /// <summary>
    /// The gradient of one input of a concatenation: each sample's <paramref name="size"/> values of
    /// <paramref name="joined"/> ([batch × total]) at <paramref name="offset"/>, written to <paramref name="part"/>
    /// ([batch × size]).
    /// </summary>
    public static void ConcatBackward<T>(ReadOnlySpan<T> joined, Span<T> part, int batch, int size, int total, int offset)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Validate(part.Length, joined.Length, batch, size, total, offset);
        for (int b = 0; b < batch; b++) joined.Slice(b * total + offset, size).CopyTo(part.Slice(b * size, size));
    }

    private static void Validate(int partLength, int joinedLength, int batch, int size, int total, int offset)
    {
        if (batch < 0 || size < 0 || offset < 0 || (long)offset + size > total)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(offset), offset, $"A part of {size} values at {offset} does not fit samples of {total}.");
        ThrowHelper.ThrowIfLengthLessThan(partLength, batch * size, "part");
        ThrowHelper.ThrowIfLengthLessThan(joinedLength, batch * total, "joined");
    }
}
