using System;
using System.Collections.Generic;

namespace KernelGen.Training;

/// <summary>What LSUV did to one layer.</summary>
/// <param name="Layer">The layer's name.</param>
/// <param name="InitialVariance">Variance of its pre-activations before rescaling.</param>
/// <param name="FinalVariance">Variance after the last rescaling.</param>
/// <param name="Iterations">Rescalings applied.</param>
public readonly record struct LsuvLayerResult(string Layer, double InitialVariance, double FinalVariance, int Iterations);

/// <summary>
/// Layer-sequential unit-variance initialization (Mishkin and Matas, "All you need is a good init", 2016): starting from
/// orthogonal weights, walk the dense (and maxout) layers in order; for each, compute its pre-activations z = x·W + b on a
/// data batch and divide W by √Var(z) until |Var(z) − 1| is within the tolerance. Layers declared with
/// <see cref="Init.Lsuv"/> are processed (all weighted layers with <c>allLayers</c>).
/// </summary>
public static class Lsuv
{
    /// <summary>Rescales the layers in place using <paramref name="batch"/> ([rows × InputSize], rows ≤ MaxBatchSize, ideally ≥ 32).
    /// The network's running statistics and dropout counter are left as they were.</summary>
    /// <exception cref="ArgumentException">The batch does not fit the network.</exception>
    public static IReadOnlyList<LsuvLayerResult> Initialize(INeuralNetwork<float> network, ReadOnlySpan<float> batch, bool allLayers = false,
        double tolerance = 0.1, int maxIterations = 10)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (!(tolerance > 0 && tolerance < 1)) ThrowHelper.ThrowArgumentOutOfRange(nameof(tolerance), tolerance, "Must lie in (0, 1).");
        if (maxIterations < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(maxIterations), maxIterations, "Must be positive.");
        int rows = ThrowHelper.GetBatchSize(batch.Length, network.InputSize, network.MaxBatchSize, nameof(batch));
        if (rows < 2) throw new ArgumentException("LSUV needs a batch of at least 2 samples to estimate a variance.", nameof(batch));

        float[] statistics = network.RunningStatistics.ToArray();
        ulong dropoutStep = network.DropoutStep;
        var results = new List<LsuvLayerResult>();
        float[] scratch = [];
        try
        {
            for (int i = 0; i < network.Layers.Count; i++)
            {
                LayerInfo layer = network.Layers[i];
                if (!layer.HasWeights || (!allLayers && layer.Init != Init.Lsuv)) continue;
                network.Forward(batch); // the layers before i are final: its inputs are fixed from here on
                ReadOnlySpan<float> input = i == 0 ? batch : network.LayerOutput(i - 1);
                // A convolution's pre-activations are its whole output maps; a dense layer's its units.
                Kernels.Conv2DGeometry? conv = layer.Kind == LayerKind.Conv2D ? Kernels.Conv2DGeometry.Of(layer) : null;
                int outputs = conv?.OutputSize ?? layer.DenseOutputs, n = conv?.WeightLength ?? layer.InputFeatures * outputs;
                int biases = conv?.OutChannels ?? outputs, patches = conv?.ScratchLength ?? 0;
                if (scratch.Length < rows * outputs + patches) scratch = new float[rows * outputs + patches];
                Span<float> z = scratch.AsSpan(0, rows * outputs);
                Span<float> weights = network.Parameters.Slice(layer.WeightOffset, n);
                ReadOnlySpan<float> bias = network.Parameters.Slice(layer.BiasOffset, biases);
                double initial = double.NaN, variance = double.NaN;
                int iterations = 0;
                for (; iterations <= maxIterations; iterations++)
                {
                    if (conv is not null) Kernels.Convolution.Forward<float, Operators.IdentityOp<float>>(input, weights, bias, z, scratch.AsSpan(rows * outputs, patches), rows, conv);
                    else Kernels.Dense.Forward<float, Operators.IdentityOp<float>>(input, weights, bias, z, rows, layer.InputFeatures, outputs);
                    variance = Variance(z);
                    if (double.IsNaN(initial)) initial = variance;
                    if (Math.Abs(variance - 1) < tolerance || iterations == maxIterations || !(variance > 0) || !double.IsFinite(variance)) break;
                    float scale = (float)(1 / Math.Sqrt(variance));
                    for (int k = 0; k < weights.Length; k++) weights[k] *= scale;
                }
                results.Add(new LsuvLayerResult(layer.Name, initial, variance, iterations));
            }
        }
        finally
        {
            statistics.CopyTo(network.RunningStatistics);
            network.DropoutStep = dropoutStep;
        }
        return results;
    }

    private static double Variance(ReadOnlySpan<float> values)
    {
        double mean = 0;
        foreach (float v in values) mean += v;
        mean /= values.Length;
        double sum = 0;
        foreach (float v in values) sum += (v - mean) * (v - mean);
        return sum / values.Length;
    }
}
