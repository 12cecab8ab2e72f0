using System;
using System.Linq;
using KernelGen;
using KernelGen.Kernels;
using KernelGen.Runtime;
using Xunit;

namespace KernelGen.Tests;

/// <summary>One wide dense layer (301 inputs, 45 outputs: partial groups for both packed layouts), then tanh.</summary>
[Network(301)]
[Dense(45, Activation.Tanh)]
[L2Loss]
[Sgd(0.1)]
public partial class WideLayerNet;

/// <summary>
/// The inference form's reduced precisions (<see cref="InferencePrecision"/>): outputs close to the float form, every
/// dense layer on its packed copy and nothing else changed, re-packing on update without allocating, zero bytes per call,
/// and the cases that are refused.
/// </summary>
[Collection(KernelParallelismCollection.Name)]
public class InferencePrecisionTests
{
    private static float[] Random(int n, int seed, double scale = 1)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((r.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    /// <summary>max |a − b| over max(1, max |b|).</summary>
    private static double RelativeDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double worst = 0, scale = 1;
        for (int i = 0; i < a.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
            scale = Math.Max(scale, Math.Abs(b[i]));
        }
        return worst / scale;
    }

    [Theory]
    [InlineData(InferencePrecision.BFloat16)]
    [InlineData(InferencePrecision.Int8)]
    public void Reduced_forms_differ_from_float_and_go_back_exactly(InferencePrecision precision)
    {
        var net = new MnistNet(maxBatchSize: 16, seed: 3);
        var inference = net.CreateInference(16);
        Assert.Equal(InferencePrecision.Float32, inference.Precision);
        foreach (int batch in new[] { 1, 3, 16 })
        {
            float[] x = Random(batch * 784, 10 + batch).Select(v => (v + 1) / 2).ToArray(); // pixels in [0, 1]
            float[] expected = new float[batch * 10], actual = new float[batch * 10], again = new float[batch * 10];
            inference.Precision = InferencePrecision.Float32;
            inference.Predict(x, expected);
            inference.Precision = precision;
            Assert.Equal(precision, inference.Precision);
            inference.Predict(x, actual);
            Assert.NotEqual(expected, actual); // the dense layers ran on the packed copy
            inference.Precision = InferencePrecision.Float32;
            inference.Predict(x, again);
            Assert.Equal(expected, again);
        }
    }

    [Theory]
    [InlineData(InferencePrecision.BFloat16)]
    [InlineData(InferencePrecision.Int8)]
    public void A_reduced_layer_stays_within_the_formats_error_bound_of_float(InferencePrecision precision)
    {
        // One wide layer, so the worst-case bound is not diluted by propagation through later layers (carried through
        // MnistNet's three layers it exceeds the outputs themselves, and a test against it could not fail).
        var net = new WideLayerNet(maxBatchSize: 5, seed: 8);
        var inference = net.CreateInference(5);
        foreach (int batch in new[] { 1, 5 })
        {
            float[] x = Random(batch * 301, 30 + batch, 0.5);
            float[] expected = new float[batch * 45], actual = new float[batch * 45];
            inference.Precision = InferencePrecision.Float32;
            inference.Predict(x, expected);
            inference.Precision = precision;
            inference.Predict(x, actual);
            double[] bound = ErrorBound(net.Parameters, net.Layers.Single(l => l.HasWeights), x, batch, precision);
            for (int i = 0; i < actual.Length; i++)
                Assert.True(Math.Abs(actual[i] - expected[i]) <= bound[i], $"{precision} output {i}: {actual[i]:R} vs float {expected[i]:R} (bound {bound[i]:G3})");
            Assert.NotEqual(expected, actual);
            Assert.True(bound.Max() < 0.25 * expected.Max(Math.Abs), $"the bound ({bound.Max():G3}) says nothing about outputs up to {expected.Max(Math.Abs):G3}");
        }
    }

    /// <summary>
    /// A bound on |reduced − float| for each output of one dense layer followed by tanh, from the formats alone:
    /// (1) bfloat16 weights are within 2⁻⁸·|w| (half a step of 8 significant bits): 2⁻⁸·Σ_k |x_k·w_kj|;
    ///     int8 weights are within s_j/2 (s_j = max_k |w_kj|/127) and each row's inputs within s/2 (s = the row's
    ///     range/255): Σ_k (|x_k|·s_j/2 + |w_kj|·s/2 + s·s_j/4);
    /// (2) plus the float roundings of both paths, (n + 8)·2⁻²⁴ times the sum of the magnitudes involved (for int8 also
    ///     the row minimum m times the column's weights, which the kernel adds back);
    /// (3) tanh is 1-Lipschitz and computed within 1.5 ulp on each path: + 2⁻²¹.
    /// </summary>
    private static double[] ErrorBound(ReadOnlySpan<float> p, LayerInfo layer, float[] x, int batch, InferencePrecision precision)
    {
        int nIn = layer.InputFeatures, nOut = layer.DenseOutputs;
        ReadOnlySpan<float> w = p.Slice(layer.WeightOffset, nIn * nOut), b = p.Slice(layer.BiasOffset, nOut);
        var result = new double[batch * nOut];
        for (int r = 0; r < batch; r++)
        {
            ReadOnlySpan<float> h = x.AsSpan(r * nIn, nIn);
            double hMin = double.PositiveInfinity, hMax = double.NegativeInfinity;
            foreach (float v in h) (hMin, hMax) = (Math.Min(hMin, v), Math.Max(hMax, v));
            double s = (hMax - hMin) / 255, m = Math.Abs(hMin);
            for (int j = 0; j < nOut; j++)
            {
                double largest = 0;
                for (int k = 0; k < nIn; k++) largest = Math.Max(largest, Math.Abs(w[k * nOut + j]));
                double sj = largest / 127, format = 0, magnitude = Math.Abs(b[j]);
                for (int k = 0; k < nIn; k++)
                {
                    double aw = Math.Abs(w[k * nOut + j]), ah = Math.Abs(h[k]);
                    if (precision == InferencePrecision.BFloat16)
                    {
                        format += Math.ScaleB(ah * aw, -8);
                        magnitude += 2 * ah * aw * (1 + Math.ScaleB(1, -8));
                    }
                    else
                    {
                        format += ah * sj / 2 + aw * s / 2 + s * sj / 4;
                        magnitude += 2 * (ah + s) * (aw + sj) + m * (aw + sj);
                    }
                }
                result[r * nOut + j] = format + (nIn + 8) * Math.ScaleB(magnitude, -24) + Math.ScaleB(1, -21);
            }
        }
        return result;
    }

    [Fact]
    public void Every_dense_layer_runs_on_its_packed_copy_and_other_layers_are_unchanged()
    {
        // FoldNet: dense layers with BatchNorm folded in before and after, a maxout layer, a layer norm; the reduced form
        // must change the results (the dense layers ran reduced) yet stay close. The limits are loose sanity checks (a
        // layer norm can amplify differences); the formats' error bounds are tested on MnistNet above and per kernel.
        var net = new FoldNet(8, 5);
        for (int step = 0; step < 30; step++) net.TrainStep(Random(8 * 6, step, 2), Random(8 * 3, 100 + step));
        var inference = net.CreateInference(8);
        float[] x = Random(8 * 6, 7, 2), expected = new float[8 * 3], actual = new float[8 * 3];
        inference.Predict(x, expected);
        inference.Precision = InferencePrecision.BFloat16;
        inference.Predict(x, actual);
        Assert.InRange(RelativeDifference(actual, expected), 1e-7, 0.03);
        inference.Precision = InferencePrecision.Int8;
        inference.Predict(x, actual);
        Assert.InRange(RelativeDifference(actual, expected), 1e-7, 0.1);

        // Packing is deterministic: another form of the same network, and one set to the same precision twice, agree.
        var same = net.CreateInference(8);
        same.Precision = InferencePrecision.BFloat16;
        float[] a = new float[8 * 3];
        same.Predict(x, a);
        var twice = net.CreateInference(8);
        twice.Precision = InferencePrecision.BFloat16;
        twice.Precision = InferencePrecision.BFloat16; // setting it again re-packs the same copy
        float[] c = new float[8 * 3];
        twice.Predict(x, c);
        Assert.Equal(a, c);
    }

    [Fact]
    public void Update_repacks_without_allocating_and_predict_allocates_nothing()
    {
        var net = new MnistNet(maxBatchSize: 4, seed: 9);
        float[] x = Random(4 * 784, 1).Select(v => (v + 1) / 2).ToArray();
        int[] labels = [1, 2, 3, 4];
        foreach (InferencePrecision precision in new[] { InferencePrecision.BFloat16, InferencePrecision.Int8 })
        {
            var inference = net.CreateInference(4);
            inference.Precision = precision;
            float[] before = new float[40], after = new float[40], fresh = new float[40];
            inference.Predict(x, before);
            net.TrainStep(x, labels);
            HotLoop.WarmUp(() => { inference.Update(net); inference.Predict(x, after); inference.Predict(x.AsSpan(0, 784), after.AsSpan(0, 10)); });
            long bytes = GC.GetAllocatedBytesForCurrentThread();
            inference.Update(net);
            for (int i = 0; i < 10; i++)
            {
                inference.Predict(x, after);
                inference.Predict(x.AsSpan(0, 784), after.AsSpan(0, 10));
            }
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - bytes);
            inference.Predict(x, after);
            Assert.NotEqual(before, after); // the update reached the packed copy
            var rebuilt = net.CreateInference(4);
            rebuilt.Precision = precision;
            rebuilt.Predict(x, fresh);
            Assert.Equal(fresh, after);
        }
    }

    [Fact]
    public void Two_threads_give_the_same_reduced_outputs()
    {
        var net = new MnistNet(maxBatchSize: 2, seed: 4);
        float[] x = Random(2 * 784, 2).Select(v => (v + 1) / 2).ToArray();
        foreach (InferencePrecision precision in new[] { InferencePrecision.Float32, InferencePrecision.BFloat16, InferencePrecision.Int8 })
        {
            var inference = net.CreateInference(2);
            inference.Precision = precision;
            float[] one = new float[20], two = new float[20];
            inference.Predict(x, one);
            KernelParallelism.DegreeOfParallelism = 2;
            try
            {
                for (int i = 0; i < 10; i++)
                {
                    inference.Predict(x, two);
                    Assert.Equal(one, two);
                    inference.Predict(x.AsSpan(0, 784), two.AsSpan(0, 10));
                    Assert.Equal(one.AsSpan(0, 10).ToArray(), two.AsSpan(0, 10).ToArray());
                }
            }
            finally
            {
                KernelParallelism.DegreeOfParallelism = 1;
            }
        }
    }

    [Fact]
    public void Unsupported_choices_throw()
    {
        var net = new MnistNet.Float64(maxBatchSize: 2, seed: 1);
        var inference = net.CreateInference(2);
        Assert.Throws<NotSupportedException>(() => inference.Precision = InferencePrecision.BFloat16);
        Assert.Throws<NotSupportedException>(() => inference.Precision = InferencePrecision.Int8);
        inference.Precision = InferencePrecision.Float32;
        var single = new MnistNet(maxBatchSize: 2, seed: 1).CreateInference(2);
        Assert.Throws<ArgumentOutOfRangeException>(() => single.Precision = (InferencePrecision)3);
        Assert.Equal(InferencePrecision.Float32, single.Precision);
    }

    [Fact]
    public void Training_networks_evaluate_in_float()
    {
        // The training network's Predict and Loss go through the same evaluation chain; it has no packed copy.
        var net = new MnistNet(maxBatchSize: 2, seed: 5);
        var inference = net.CreateInference(2);
        inference.Precision = InferencePrecision.Int8;
        float[] x = Random(2 * 784, 3).Select(v => (v + 1) / 2).ToArray(), y = new float[20], z = new float[20];
        net.Predict(x, y);
        net.CreateInference(2).Predict(x, z);
        Assert.True(RelativeDifference(y, z) < 1e-5);
    }
}
