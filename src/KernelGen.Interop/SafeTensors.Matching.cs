using System;
using System.Collections.Generic;
using System.IO;
using System.Numerics;
using KernelGen.IO;

namespace KernelGen.Interop;

public static partial class SafeTensors
{
    /// <summary>
    /// Transfer learning from a safetensors file: copies every tensor of the file whose name and shape match a tensor of
    /// <paramref name="network"/> (weight-file names and layouts, as <see cref="Save{T}(INeuralNetwork{T}, Stream)"/>
    /// writes them and PyTorch's <c>state_dict</c> names them), and reports what matched, what was skipped and why; see
    /// <see cref="WeightTransfer"/> for the matching rules and modes. The file may come from another KernelGen network
    /// (a different head, other layers) or from PyTorch.
    /// </summary>
    /// <remarks>
    /// All or nothing: the header's form, the offsets (which must tile the byte buffer exactly) and, in strict mode, the
    /// names and shapes are checked, and every tensor to be copied is decoded into scratch memory and must be finite in
    /// the network's element type, before the first value is written. F32 and F64 tensors load into float or double
    /// networks (F64 → float rounds to nearest). Tensors that are not copied are not decoded, so they may have other
    /// dtypes (PyTorch's int64 <c>num_batches_tracked</c>, for example); a tensor to be copied must be F32 or F64.
    /// </remarks>
    /// <param name="network">The network to load; changed only when the transfer succeeds.</param>
    /// <param name="source">A readable stream holding exactly one safetensors file (left at its end).</param>
    /// <param name="mode">Whether every tensor must match (<see cref="TransferMode.Strict"/>) or only the matching ones are copied.</param>
    /// <returns>What was copied, skipped and unused.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="source"/> is not readable.</exception>
    /// <exception cref="InvalidDataException">Strict mode and some tensor is unmatched (the message lists every one); the
    /// data is truncated or malformed; a tensor to be copied has an unsupported dtype or holds a non-finite value (or one
    /// beyond the network's element range). The network was not changed.</exception>
    public static TransferReport LoadMatching<T>(INeuralNetwork<T> network, Stream source, TransferMode mode)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(source);
        if (!source.CanRead) throw new ArgumentException("The source stream is not readable.", nameof(source));
        return LoadMatching(network, source, mode, "a safetensors stream");
    }

    /// <summary>Transfer learning from the safetensors file <paramref name="path"/>; see
    /// <see cref="LoadMatching{T}(INeuralNetwork{T}, Stream, TransferMode)"/>.</summary>
    /// <param name="network">The network to load; changed only when the transfer succeeds.</param>
    /// <param name="path">The safetensors file.</param>
    /// <param name="mode">Whether every tensor must match (<see cref="TransferMode.Strict"/>) or only the matching ones are copied.</param>
    /// <returns>What was copied, skipped and unused.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static TransferReport LoadMatching<T>(INeuralNetwork<T> network, string path, TransferMode mode)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        WeightTransfer.ValidateMode(mode);
        AtomicFile.RemoveStaleTemporaries(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return LoadMatching(network, file, mode, path);
    }

    private static TransferReport LoadMatching<T>(INeuralNetwork<T> network, Stream source, TransferMode mode, string sourceName)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        WeightTransfer.ValidateMode(mode);
        List<TensorRecord> records = ParseHeader(ReadHeader(source), lenient: true);
        var described = new List<WeightTransfer.SourceTensor>(records.Count);
        foreach (TensorRecord record in records)
        {
            var dimensions = new int[record.Shape.Length];
            for (int i = 0; i < dimensions.Length; i++)
            {
                if (record.Shape[i] > int.MaxValue) throw new InvalidDataException($"{record.Name}: dimension {i} of its shape is {record.Shape[i]}, too large.");
                dimensions[i] = (int)record.Shape[i];
            }
            described.Add(new WeightTransfer.SourceTensor(record.Name, new TensorShape(dimensions)));
        }

        // The offsets must tile the byte buffer [0, end) exactly, in some order (no gaps, no overlaps); the length of a
        // tensor of a supported dtype must agree with its shape.
        var byBegin = new List<TensorRecord>(records);
        byBegin.Sort((a, b) => a.Begin.CompareTo(b.Begin));
        long position = 0;
        foreach (TensorRecord record in byBegin)
        {
            if (record.Begin != position) throw new InvalidDataException($"{record.Name}: data_offsets begin at {record.Begin}, expected {position} (gap or overlap).");
            if (record.UnsupportedDType is null)
            {
                long elements = 1; // dimensions are at most int.MaxValue (checked above)
                foreach (long dim in record.Shape)
                {
                    if (dim != 0 && elements > long.MaxValue / 8 / dim) throw new InvalidDataException($"{record.Name}: shape [{string.Join(", ", record.Shape)}] is too large.");
                    elements *= dim;
                }
                long bytes = elements * TensorCodec.SizeOf(record.Type);
                if (record.End - record.Begin != bytes)
                    throw new InvalidDataException($"{record.Name}: data_offsets span {record.End - record.Begin} bytes but {record.Type} [{string.Join(", ", record.Shape)}] takes {bytes}.");
            }
            position = record.End;
        }

        // Names and shapes (strict mode throws here), then the dtypes of the tensors to be copied, before reading the data.
        WeightTransfer.TransferPlan plan = WeightTransfer.Match(network, sourceName, described, mode, sourceIsData: true);
        foreach (int index in plan.Sources)
            if (records[index].UnsupportedDType is { } dtype)
                throw new InvalidDataException($"{sourceName}: {records[index].Name} has dtype {dtype}, which is not supported (F32 or F64); nothing was changed.");

        if (source.CanSeek)
        {
            long remaining = source.Length - source.Position;
            if (remaining < position) throw new InvalidDataException($"The safetensors byte buffer is truncated: the header describes {position} bytes but {remaining} follow.");
            if (remaining > position) throw new InvalidDataException($"The safetensors byte buffer holds {remaining} bytes but the header describes {position} (trailing bytes).");
        }
        if (position > Array.MaxLength) throw new InvalidDataException($"The safetensors byte buffer of {position} bytes is too large to load.");
        byte[] buffer = new byte[position];
        TensorCodec.ReadExactly(source, buffer, "The safetensors byte buffer");
        TensorCodec.ExpectEnd(source, "The safetensors byte buffer");

        return WeightTransfer.Apply(plan, network, (int index, Span<T> destination) =>
        {
            TensorRecord record = records[index];
            TensorCodec.Decode(buffer.AsSpan((int)record.Begin, (int)(record.End - record.Begin)), record.Type, bigEndian: false, destination, $"{sourceName}: {record.Name}");
        });
    }
}
