using System;
using System.Collections.Generic;
using System.Numerics.Tensors;

namespace KernelGen.Benchmarks;

/// <summary>
/// The baseline a .NET developer would write without KernelGen: the same dense ReLU network (softmax cross-entropy,
/// plain SGD) as straightforward loops over <see cref="TensorPrimitives"/> calls, one row at a time, single-threaded:
/// the forward pass as one MultiplyAdd (axpy) per input feature, dW as one axpy per (row, input feature), dX as one Dot
/// per (row, input feature), the update as one MultiplyAdd per tensor. Buffers are allocated once, for
/// <c>maxBatch</c> rows; the calls allocate nothing.
/// </summary>
public sealed class TensorPrimitivesMlp
{
    private readonly DenseLayer[] _layers;
    private readonly float[][] _dw, _db, _out, _grad;
    private readonly float _learningRate;

    /// <summary>Copies <paramref name="layers"/> (so training here does not touch the caller's arrays).</summary>
    public TensorPrimitivesMlp(IReadOnlyList<DenseLayer> layers, int maxBatch, float learningRate)
    {
        _layers = new DenseLayer[layers.Count];
        _dw = new float[layers.Count][];
        _db = new float[layers.Count][];
        _out = new float[layers.Count][];
        _grad = new float[layers.Count][];
        for (int l = 0; l < layers.Count; l++)
        {
            DenseLayer layer = layers[l];
            _layers[l] = layer with { W = (float[])layer.W.Clone(), B = (float[])layer.B.Clone() };
            _dw[l] = new float[layer.W.Length];
            _db[l] = new float[layer.B.Length];
            _out[l] = new float[maxBatch * layer.Out];
            _grad[l] = new float[maxBatch * layer.Out];
        }
        _learningRate = learningRate;
    }

    /// <summary>Writes the logits of <paramref name="batch"/> rows.</summary>
    public void Predict(ReadOnlySpan<float> inputs, Span<float> outputs, int batch)
    {
        Forward(inputs, batch);
        _out[^1].AsSpan(0, batch * _layers[^1].Out).CopyTo(outputs);
    }

    /// <summary>Forward, softmax cross-entropy (mean over the batch), backward and an SGD step; returns the loss.</summary>
    public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch)
    {
        Forward(inputs, batch);

        // dZ of the logits = (softmax(z) − onehot(label)) / batch.
        int last = _layers.Length - 1, classes = _layers[last].Out;
        float loss = 0;
        for (int r = 0; r < batch; r++)
        {
            Span<float> g = _grad[last].AsSpan(r * classes, classes);
            TensorPrimitives.SoftMax(_out[last].AsSpan(r * classes, classes), g);
            loss -= MathF.Log(g[labels[r]]);
            g[labels[r]] -= 1;
            TensorPrimitives.Multiply(g, 1f / batch, g);
        }

        for (int l = last; l >= 0; l--)
        {
            DenseLayer layer = _layers[l];
            ReadOnlySpan<float> input = l == 0 ? inputs : _out[l - 1];
            Span<float> dw = _dw[l], db = _db[l];
            dw.Clear();
            db.Clear();
            for (int r = 0; r < batch; r++)
            {
                ReadOnlySpan<float> dz = _grad[l].AsSpan(r * layer.Out, layer.Out);
                TensorPrimitives.Add(db, dz, db);
                for (int i = 0; i < layer.In; i++)
                {
                    Span<float> row = dw.Slice(i * layer.Out, layer.Out);
                    TensorPrimitives.MultiplyAdd(dz, input[r * layer.In + i], row, row);
                }
            }
            if (l > 0)
            {
                // dX through the ReLU of the layer below (its output is > 0 exactly where its derivative is 1).
                for (int r = 0; r < batch; r++)
                {
                    ReadOnlySpan<float> dz = _grad[l].AsSpan(r * layer.Out, layer.Out);
                    Span<float> dx = _grad[l - 1].AsSpan(r * layer.In, layer.In);
                    for (int i = 0; i < layer.In; i++)
                        dx[i] = input[r * layer.In + i] > 0 ? TensorPrimitives.Dot(dz, layer.W.AsSpan(i * layer.Out, layer.Out)) : 0;
                }
            }
            TensorPrimitives.MultiplyAdd(dw, -_learningRate, layer.W, layer.W);
            TensorPrimitives.MultiplyAdd(db, -_learningRate, layer.B, layer.B);
        }
        return loss / batch;
    }

    private void Forward(ReadOnlySpan<float> inputs, int batch)
    {
        ReadOnlySpan<float> input = inputs;
        for (int l = 0; l < _layers.Length; l++)
        {
            DenseLayer layer = _layers[l];
            for (int r = 0; r < batch; r++)
            {
                Span<float> row = _out[l].AsSpan(r * layer.Out, layer.Out);
                layer.B.CopyTo(row);
                ReadOnlySpan<float> x = input.Slice(r * layer.In, layer.In);
                for (int k = 0; k < layer.In; k++)
                    TensorPrimitives.MultiplyAdd(layer.W.AsSpan(k * layer.Out, layer.Out), x[k], row, row);
                if (l < _layers.Length - 1) TensorPrimitives.Max(row, 0f, row);
            }
            input = _out[l];
        }
    }
}
