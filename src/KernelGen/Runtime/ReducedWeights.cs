using System;
using System.Collections.Generic;
using System.Numerics;
using KernelGen.Catalog;
using KernelGen.Kernels;
using KernelGen.Operators;

namespace KernelGen.Runtime;

/// <summary>
/// The reduced-precision copies of an inference form's dense weights (<see cref="InferencePrecision"/>), packed from its
/// float arena and found by the generated evaluation chain through <see cref="NetworkState{T}.DenseForward{TAct}"/>.
/// Allocated when a precision is first chosen; packing again (after an update) allocates nothing.
/// </summary>
internal sealed class ReducedWeights
{
    private readonly Layer[] _layers;
    private readonly InferencePrecision _precision;
    private readonly AlignedBuffer<byte> _scratch;

    /// <summary>One dense layer: where its float weights lie and its packed copy.</summary>
    private sealed class Layer(int weightOffset, int inputs, int outputs)
    {
        public readonly int WeightOffset = weightOffset, Inputs = inputs, Outputs = outputs;
        public AlignedBuffer<uint>? Words;
        public AlignedBuffer<sbyte>? Bytes;
        public AlignedBuffer<float>? Scales, Sums;
    }

    /// <summary>Allocates the packed copies of <paramref name="layers"/> (weight offset, inputs, outputs) at
    /// <paramref name="precision"/> and the scratch for batches up to <paramref name="maxBatchSize"/>.</summary>
    /// <exception cref="NotSupportedException">A layer is too wide for the int8 kernels.</exception>
    public ReducedWeights(InferencePrecision precision, IReadOnlyList<(int WeightOffset, int Inputs, int Outputs)> layers, int maxBatchSize)
    {
        _precision = precision;
        _layers = new Layer[layers.Count];
        int scratch = 0;
        for (int i = 0; i < layers.Count; i++)
        {
            (int offset, int inputs, int outputs) = layers[i];
            var layer = new Layer(offset, inputs, outputs);
            if (precision == InferencePrecision.BFloat16)
                layer.Words = new AlignedBuffer<uint>(QuantizedDense.BFloat16Words(inputs, outputs));
            else
            {
                if (inputs > QuantizedDense.MaximumInt8Inputs)
                    throw new NotSupportedException($"A dense layer with {inputs} inputs is too wide for the int8 kernels (at most {QuantizedDense.MaximumInt8Inputs}).");
                layer.Bytes = new AlignedBuffer<sbyte>(QuantizedDense.Int8Bytes(inputs, outputs));
                layer.Scales = new AlignedBuffer<float>(QuantizedDense.Int8Columns(outputs));
                layer.Sums = new AlignedBuffer<float>(QuantizedDense.Int8Columns(outputs));
                scratch = Math.Max(scratch, QuantizedDense.Int8ScratchBytes(maxBatchSize, inputs));
            }
            _layers[i] = layer;
        }
        _scratch = new AlignedBuffer<byte>(scratch);
    }

    /// <summary>The precision of the copies.</summary>
    public InferencePrecision Precision => _precision;

    /// <summary>Packs every layer from the float <paramref name="parameters"/> (the inference form's arena).</summary>
    /// <exception cref="ArgumentException">A weight is NaN or infinite (int8).</exception>
    public void Pack(ReadOnlySpan<float> parameters)
    {
        foreach (Layer layer in _layers)
        {
            ReadOnlySpan<float> w = parameters.Slice(layer.WeightOffset, layer.Inputs * layer.Outputs);
            if (layer.Words is { } words) QuantizedDense.PackBFloat16(w, words.Span, layer.Inputs, layer.Outputs);
            else QuantizedDense.PackInt8(w, layer.Bytes!.Span, layer.Scales!.Span, layer.Sums!.Span, layer.Inputs, layer.Outputs);
        }
    }

    /// <summary>Runs the dense layer whose float weights start at <paramref name="weightOffset"/> on its packed copy;
    /// false when no layer starts there (the caller runs the float kernel).</summary>
    public bool TryForward<T, TAct>(ReadOnlySpan<T> x, int weightOffset, ReadOnlySpan<T> b, Span<T> y, int batch, int nIn, int nOut)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T>
    {
        foreach (Layer layer in _layers)
        {
            if (layer.WeightOffset != weightOffset) continue;
            if (layer.Inputs != nIn || layer.Outputs != nOut) return false;
            if (layer.Words is { } words)
                QuantizedDense.ForwardBFloat16<T, TAct>(x, words.Span, b, y, batch, nIn, nOut);
            else
                QuantizedDense.ForwardInt8<T, TAct>(x, layer.Bytes!.Span, Cast<T>(layer.Scales!.Span), Cast<T>(layer.Sums!.Span), b, y, _scratch.Span, batch, nIn, nOut);
            return true;
        }
        return false;
    }

    private static ReadOnlySpan<T> Cast<T>(Span<float> values) where T : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<float, T>(values);

    /// <summary>
    /// The dense layers of an inference form: each <c>[Dense]</c> layer of the training network
    /// <paramref name="source"/>, its weights followed through the fold steps into the folded arena.
    /// </summary>
    public static List<(int WeightOffset, int Inputs, int Outputs)> DenseLayers(NetworkModel source, IReadOnlyList<FoldStep> folds)
    {
        var layers = new List<(int, int, int)>();
        foreach (LayerInfo layer in source.Layers)
        {
            if (layer.Kind != LayerKind.Dense || !layer.HasWeights) continue;
            for (int f = 0; f < folds.Count; f++)
                if (folds[f].Source == layer.WeightOffset)
                {
                    layers.Add((folds[f].Target, layer.InputFeatures, layer.DenseOutputs));
                    break;
                }
        }
        return layers;
    }
}
