using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KernelGen;

/// <summary>
/// A zero-initialized buffer whose first element sits on a 64-byte boundary (one cache line, one 512-bit vector).
/// It lives in a pinned array on the pinned object heap, which the GC never moves, so the alignment holds for the
/// buffer's lifetime and nothing needs disposing.
/// </summary>
public sealed class AlignedBuffer<T> where T : unmanaged
{
    /// <summary>The alignment in bytes.</summary>
    public const int Alignment = 64;

    private readonly T[] _array;
    private readonly int _offset;

    /// <summary>Allocates <paramref name="length"/> zeroed elements.</summary>
    public AlignedBuffer(int length)
    {
        if (length < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(length), length, "The length must not be negative.");
        int size = Unsafe.SizeOf<T>();
        int pad = Alignment / size;
        _array = GC.AllocateArray<T>(length + pad, pinned: true);
        nint address;
        unsafe { address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array)); }
        int misalignment = (int)(address & (Alignment - 1));
        _offset = misalignment == 0 ? 0 : (Alignment - misalignment) / size;
        Length = length;
    }

    /// <summary>The number of elements.</summary>
    public int Length { get; }

    /// <summary>The whole buffer.</summary>
    public Span<T> Span
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => new(_array, _offset, Length);
    }

    /// <summary>A slice of the buffer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<T> Slice(int start, int length) => new(_array, _offset + start, length);

    /// <summary>Rounds <paramref name="count"/> elements up to a whole number of 64-byte lines, so consecutive
    /// regions carved from one buffer each start aligned.</summary>
    public static int RoundUp(int count)
    {
        int perLine = Alignment / Unsafe.SizeOf<T>();
        return (count + perLine - 1) / perLine * perLine;
    }
}
