using System;
using System.Collections.Generic;
using System.Numerics;
using KernelGen.Kernels;
using KernelGen.Operators;

namespace KernelGen.Runtime;

/// <summary>
/// An inference form's float (or double) dense weights packed into column panels (<see cref="Dense.PackPanels{T}"/>),
/// made from its folded arena at each update made at full precision (and when full precision is chosen again), and read
/// by the generated evaluation chain through
/// <see cref="NetworkState{T}.DenseForward{TAct}"/>: the same bits as the row-major weights, read as contiguous streams.
/// Only layers at least one panel wide are packed (a narrower layer's packed form is its row-major form).
/// </summary>
internal sealed class PanelWeights<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly int[] _offsets, _inputs, _outputs;
    private readonly AlignedBuffer<T>[] _packed;
    private readonly bool[] _descending;

    private PanelWeights(List<(int WeightOffset, int Inputs, int Outputs)> layers)
    {
        _offsets = new int[layers.Count];
        _inputs = new int[layers.Count];
        _outputs = new int[layers.Count];
        _packed = new AlignedBuffer<T>[layers.Count];
        _descending = new bool[layers.Count];
        for (int i = 0; i < layers.Count; i++)
        {
            (_offsets[i], _inputs[i], _outputs[i]) = layers[i];
            _packed[i] = new AlignedBuffer<T>(Dense.PackedLength<T>(_inputs[i], _outputs[i]));
        }
    }

    /// <summary>The packed copies for the layers of <paramref name="layers"/> at least one panel wide, or null if none is.</summary>
    public static PanelWeights<T>? Create(IReadOnlyList<(int WeightOffset, int Inputs, int Outputs)> layers)
    {
        var wide = new List<(int, int, int)>();
        foreach ((int offset, int inputs, int outputs) in layers)
            if (outputs >= Dense.PanelColumns<T>()) wide.Add((offset, inputs, outputs));
        return wide.Count == 0 ? null : new PanelWeights<T>(wide);
    }

    /// <summary>How many dense layers have a packed copy.</summary>
    public int Count => _packed.Length;

    /// <summary>Packs every layer from <paramref name="parameters"/> (the inference form's arena). Allocates nothing.</summary>
    public void Pack(ReadOnlySpan<T> parameters)
    {
        for (int i = 0; i < _packed.Length; i++)
            Dense.PackPanels<T>(parameters.Slice(_offsets[i], _inputs[i] * _outputs[i]), _packed[i].Span, _inputs[i], _outputs[i]);
    }

    /// <summary>Runs the dense layer whose weights start at <paramref name="weightOffset"/> on its packed copy; false when
    /// no packed layer starts there (the caller runs the row-major kernel).</summary>
    public bool TryForward<TAct>(ReadOnlySpan<T> x, int weightOffset, ReadOnlySpan<T> b, Span<T> y, int batch, int nIn, int nOut)
        where TAct : IActivationOp<T>
    {
        for (int i = 0; i < _offsets.Length; i++)
        {
            if (_offsets[i] != weightOffset) continue;
            if (_inputs[i] != nIn || _outputs[i] != nOut) return false;
            // Visit the panels in the opposite order from the last call: the panels read last are still cached, so weights
            // slightly larger than the L2 cache lose only what the cache lacks instead of the whole stream.
            _descending[i] = !_descending[i];
            Dense.ForwardPackedOrdered<T, TAct>(x, _packed[i].Span, b, y, batch, nIn, nOut, split: true, _descending[i]);
            return true;
        }
        return false;
    }
}
