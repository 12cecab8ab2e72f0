using System;
using System.Buffers.Binary;
using System.IO;
using System.Numerics;
using System.Runtime.CompilerServices;
using KernelGen.IO;

namespace KernelGen.Interop;

/// <summary>The element types a weight file may hold.</summary>
internal enum FileElementType
{
    Float32,
    Float64,
}

/// <summary>Element encoding shared by the weight-file formats: IEEE 754 values, little-endian on write.</summary>
internal static class TensorCodec
{
    public static int SizeOf(FileElementType type) => type == FileElementType.Float32 ? sizeof(float) : sizeof(double);

    /// <summary>The file element type of a float or double network (checked by <see cref="WeightLayout.Entries"/>).</summary>
    public static FileElementType Of<T>() => typeof(T) == typeof(float) ? FileElementType.Float32 : FileElementType.Float64;

    /// <summary>Writes <paramref name="values"/> little-endian in T's own width (bit-exact).</summary>
    public static void Encode<T>(ReadOnlySpan<T> values, Span<byte> destination) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (int i = 0; i < values.Length; i++)
        {
            T value = values[i];
            if (typeof(T) == typeof(float)) BinaryPrimitives.WriteSingleLittleEndian(destination.Slice(i * sizeof(float)), Unsafe.As<T, float>(ref value));
            else BinaryPrimitives.WriteDoubleLittleEndian(destination.Slice(i * sizeof(double)), Unsafe.As<T, double>(ref value));
        }
    }

    /// <summary>Reads <paramref name="destination"/>.Length elements of <paramref name="type"/>: bit-exact when the widths
    /// match, otherwise converted (float → double exactly, double → float rounded to nearest). Every value must be finite
    /// in <typeparamref name="T"/>: a NaN or ±∞ in the file, or a float64 beyond the float range loaded into a float
    /// network, throws <see cref="InvalidDataException"/> naming <paramref name="what"/> and the element (the destination
    /// may then hold part of the values: decode into scratch memory).</summary>
    public static void Decode<T>(ReadOnlySpan<byte> source, FileElementType type, bool bigEndian, Span<T> destination, string what)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        int size = SizeOf(type);
        if (source.Length != destination.Length * size) throw new InvalidDataException($"{what}: expected {destination.Length * size} data bytes, found {source.Length}.");
        for (int i = 0; i < destination.Length; i++)
        {
            ReadOnlySpan<byte> bytes = source.Slice(i * size, size);
            T converted;
            double original;
            if (type == FileElementType.Float32)
            {
                float value = bigEndian ? BinaryPrimitives.ReadSingleBigEndian(bytes) : BinaryPrimitives.ReadSingleLittleEndian(bytes);
                converted = typeof(T) == typeof(float) ? Unsafe.As<float, T>(ref value) : T.CreateTruncating(value);
                original = value;
            }
            else
            {
                double value = bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(bytes) : BinaryPrimitives.ReadDoubleLittleEndian(bytes);
                converted = typeof(T) == typeof(double) ? Unsafe.As<double, T>(ref value) : T.CreateTruncating(value);
                original = value;
            }
            if (!T.IsFinite(converted)) ThrowNonFinite(what, i, original, typeof(T) == typeof(float) ? "float32" : "float64");
            destination[i] = converted;
        }
    }

    private static void ThrowNonFinite(string what, int index, double original, string target) =>
        throw new InvalidDataException(double.IsFinite(original)
            ? $"{what}: element {index} is {original.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}, which is non-finite in {target} (beyond its range); only finite values are loaded."
            : $"{what}: element {index} is {NonFinite.Describe(original)}, a non-finite value; only finite values are loaded.");

    /// <summary>Reads exactly <paramref name="buffer"/>.Length bytes or throws <see cref="InvalidDataException"/> naming <paramref name="what"/>.</summary>
    public static void ReadExactly(Stream stream, Span<byte> buffer, string what)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = stream.Read(buffer.Slice(total));
            if (read == 0) throw new InvalidDataException($"{what} is truncated: expected {buffer.Length} bytes, found {total}.");
            total += read;
        }
    }

    /// <summary>Throws unless the stream is at its end.</summary>
    public static void ExpectEnd(Stream stream, string what)
    {
        Span<byte> probe = stackalloc byte[1];
        if (stream.Read(probe) != 0) throw new InvalidDataException($"{what} has trailing bytes after its data.");
    }
}
