using System;
using System.Collections.Generic;
using System.Numerics;
using KernelGen.Catalog;

namespace KernelGen.Interop;

/// <summary>One tensor of a weight file: its name and shape (row-major, outermost first).</summary>
/// <param name="Name">The file name of the tensor, e.g. <c>Dense1.weight</c>.</param>
/// <param name="Shape">Its shape in the file, e.g. [units, inputs] for a dense layer's weight.</param>
public sealed record WeightFileTensor(string Name, IReadOnlyList<int> Shape)
{
    /// <summary>The product of the shape (1 for a scalar).</summary>
    public int Length
    {
        get
        {
            int length = 1;
            foreach (int dim in Shape) length *= dim;
            return length;
        }
    }
}

/// <summary>
/// The names and shapes under which <see cref="Npz"/> and <see cref="SafeTensors"/> store a network's parameters and
/// BatchNorm running statistics. They follow PyTorch's <c>state_dict</c> conventions, keyed by the KernelGen layer name
/// (<see cref="LayerInfo.Name"/>), so that a PyTorch model whose modules carry the same names loads the file with
/// <c>load_state_dict</c> (and numpy / safetensors read it as plain arrays). Each layer's tensors, their file names
/// (<see cref="LayerTensor.FileName"/>) and layouts (<see cref="LayerTensor.FileLayout"/>) come from the op catalog's
/// entry of the layer kind, for example:
/// <list type="table">
/// <listheader><term>Layer</term><description>Tensors (shape)</description></listheader>
/// <item><term>Dense L (in → out)</term><description><c>L.weight</c> [out × in] — TRANSPOSED from the network's row-major
/// [in × out] W, like <c>torch.nn.Linear.weight</c> (y = x·Wᵀ + b); <c>L.bias</c> [out].</description></item>
/// <item><term>Maxout L (in → units, k pieces)</term><description><c>L.weight</c> [units·k × in] (transposed; unit u's piece j is
/// row u·k + j, i.e. a Linear(in, units·k) followed by <c>view(-1, units, k).amax(-1)</c>); <c>L.bias</c> [units·k].</description></item>
/// <item><term>BatchNorm L (C features)</term><description><c>L.weight</c> (γ) [C], <c>L.bias</c> (β) [C], <c>L.running_mean</c> [C],
/// <c>L.running_var</c> [C] (unbiased, as PyTorch's <c>BatchNorm1d</c>). PyTorch's <c>num_batches_tracked</c> is not stored
/// (<c>load_state_dict</c> fills it in for files without it).</description></item>
/// <item><term>LayerNorm L / GroupNorm L (C features)</term><description><c>L.weight</c> (γ) [C], <c>L.bias</c> (β) [C].</description></item>
/// <item><term>Activation, Dropout, Softmax, Flatten</term><description>nothing.</description></item>
/// </list>
/// Tensors appear in layer order. Element types: float networks store float32, double networks float64.
/// </summary>
public static class WeightLayout
{
    /// <summary>The tensors a weight file of <paramref name="network"/> holds, in file order.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> is null.</exception>
    /// <exception cref="NotSupportedException">The element type is neither float nor double, or a layer kind has no file names.</exception>
    public static IReadOnlyList<WeightFileTensor> Describe<T>(INeuralNetwork<T> network) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        List<Entry> entries = Entries(network);
        var result = new WeightFileTensor[entries.Count];
        for (int i = 0; i < entries.Count; i++) result[i] = new WeightFileTensor(entries[i].Name, entries[i].Shape);
        return result;
    }

    /// <summary>Where a file tensor lives in the network.</summary>
    /// <param name="Name">File name.</param>
    /// <param name="Shape">File shape.</param>
    /// <param name="InStatistics">True for <see cref="INeuralNetwork{T}.RunningStatistics"/>, false for parameters.</param>
    /// <param name="Offset">First element in the arena.</param>
    /// <param name="Transposed">True when the arena holds [Shape[1] × Shape[0]] row-major (dense weights).</param>
    internal sealed record Entry(string Name, int[] Shape, bool InStatistics, int Offset, bool Transposed)
    {
        public int Length
        {
            get
            {
                int length = 1;
                foreach (int d in Shape) length *= d;
                return length;
            }
        }
    }

    /// <summary>The file tensors of <paramref name="network"/>, validated against its arenas: every parameter tensor is
    /// covered exactly once and every offset lies inside its arena.</summary>
    internal static List<Entry> Entries<T>(INeuralNetwork<T> network) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"Weight files hold float32 or float64 tensors; {typeof(T).Name} networks are not supported.");
        var entries = new List<Entry>();
        foreach (LayerInfo layer in network.Layers)
            foreach (LayerTensor tensor in layer.Tensors)
            {
                bool transposed = tensor.FileLayout == FileLayout.Transposed && tensor.Shape.Rank == 2;
                int[] shape = new int[tensor.FileShape.Rank];
                for (int i = 0; i < shape.Length; i++) shape[i] = tensor.FileShape[i];
                entries.Add(new Entry(tensor.FileName, shape, tensor.IsState, tensor.Offset, transposed));
            }

        int parameters = network.Parameters.Length, statistics = network.RunningStatistics.Length;
        var names = new HashSet<string>(StringComparer.Ordinal);
        var covered = new HashSet<(int Offset, int Length)>();
        foreach (Entry entry in entries)
        {
            if (!names.Add(entry.Name)) throw new NotSupportedException($"Two tensors would be named {entry.Name} (duplicate layer names).");
            int arena = entry.InStatistics ? statistics : parameters;
            if (entry.Offset < 0 || (long)entry.Offset + entry.Length > arena)
                throw new ArgumentException($"Tensor {entry.Name} ({entry.Length} values at offset {entry.Offset}) lies outside the network's arena of {arena}.", nameof(network));
            if (!entry.InStatistics) covered.Add((entry.Offset, entry.Length));
        }
        foreach (ParameterTensor tensor in network.ParameterTensors)
            if (!covered.Contains((tensor.Offset, tensor.Length)))
                throw new NotSupportedException($"Parameter tensor {tensor.Name} has no weight-file name (its layer kind is not mapped).");
        return entries;
    }

    /// <summary>Copies the entry's values out of the network in file order (transposing dense weights).</summary>
    internal static void Gather<T>(INeuralNetwork<T> network, Entry entry, Span<T> destination) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ReadOnlySpan<T> source = (entry.InStatistics ? network.RunningStatistics : network.Parameters).Slice(entry.Offset, entry.Length);
        if (!entry.Transposed)
        {
            source.CopyTo(destination);
            return;
        }
        int rows = entry.Shape[0], columns = entry.Shape[1]; // file [out × in]; arena [in × out]
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                destination[r * columns + c] = source[c * rows + r];
    }

    /// <summary>Writes file-order values into the network (the inverse of <see cref="Gather"/>).</summary>
    internal static void Scatter<T>(INeuralNetwork<T> network, Entry entry, ReadOnlySpan<T> values) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        Span<T> destination = (entry.InStatistics ? network.RunningStatistics : network.Parameters).Slice(entry.Offset, entry.Length);
        if (!entry.Transposed)
        {
            values.CopyTo(destination);
            return;
        }
        int rows = entry.Shape[0], columns = entry.Shape[1];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                destination[c * rows + r] = values[r * columns + c];
    }
}
