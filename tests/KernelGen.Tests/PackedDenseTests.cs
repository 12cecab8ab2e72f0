using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KernelGen.Kernels;
using KernelGen.Operators;
using KernelGen.Runtime;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// The column-panel dense kernels (<see cref="Dense.PackPanels{T}"/>, <see cref="Dense.ForwardPacked{T, TAct}"/>) and the
/// inference forms that run on them: the layout against an index formula written here, the forward pass against a double
/// reference and bit for bit against the row-major kernel (every batch path, panel orders, one and two threads), zero
/// allocation and argument validation. CI reruns the class with AVX-512, AVX2 and all intrinsics off.
/// </summary>
[Collection(KernelParallelismCollection.Name)]
public class PackedDenseTests
{
    public static TheoryData<int> Batches => new() { 1, 2, 3, 5, 6, 7, 12, 13, 63, 64, 65 };

    /// <summary>(nIn, nOut): narrower than a panel (only leftover columns), one whole panel, panels with leftovers of
    /// 13, 2, 8 and 44 columns (float), pure panels, and wide layers.</summary>
    private static readonly (int NIn, int NOut)[] Shapes = [(1, 1), (7, 10), (33, 64), (17, 77), (40, 130), (9, 200), (5, 236), (40, 256), (13, 300)];

    private static T[] Random<T>(int n, int seed) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => T.CreateTruncating(4 * random.NextDouble() - 2)).ToArray();
    }

    private static void AssertBitIdentical<T>(ReadOnlySpan<T> actual, ReadOnlySpan<T> expected, string what) where T : unmanaged
    {
        Assert.Equal(expected.Length, actual.Length);
        if (!MemoryMarshal.AsBytes(actual).SequenceEqual(MemoryMarshal.AsBytes(expected)))
        {
            int i = 0;
            while (i < actual.Length && EqualityComparer<T>.Default.Equals(actual[i], expected[i])) i++;
            Assert.Fail($"{what}: not bit-identical (first difference at element {i}: {actual[i]} against {expected[i]}).");
        }
    }

    /// <summary>The tail's width: the columns past the last whole panel, at least one 512-bit vector (16 floats, 8
    /// doubles), at most nOut; 0 without leftovers.</summary>
    private static int Tail(int nOut, int pc, int vector) => nOut % pc == 0 ? 0 : Math.Min(nOut, Math.Max(nOut % pc, vector));

    [Fact]
    public void Packed_lengths_add_the_widened_tail()
    {
        Assert.Equal(784 * 256, Dense.PackedLength<float>(784, 256));
        Assert.Equal(40 * 130 + 40 * 14, Dense.PackedLength<float>(40, 130)); // 2 leftover columns widened to 16
        Assert.Equal(5 * 236, Dense.PackedLength<float>(5, 236));             // 44 leftover columns: no widening
        Assert.Equal(7 * 10, Dense.PackedLength<float>(7, 10));               // narrower than a vector: the whole row
        Assert.Equal(40 * 130 + 40 * 6, Dense.PackedLength<double>(40, 130)); // 2 leftover doubles widened to 8
        Assert.Throws<ArgumentOutOfRangeException>(() => Dense.PackedLength<float>(0, 10));
    }

    [Fact]
    public void Panels_are_64_floats_or_32_doubles()
    {
        Assert.Equal(64, Dense.PanelColumns<float>());
        Assert.Equal(32, Dense.PanelColumns<double>());
    }

    [Fact]
    public void Packing_puts_every_weight_at_its_panel_position()
    {
        Check<float>();
        Check<double>();

        static void Check<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            int pc = Dense.PanelColumns<T>(), vector = 64 / Unsafe.SizeOf<T>();
            foreach (var (nIn, nOut) in Shapes)
            {
                // Distinct values: weight (k, j) is k·nOut + j.
                T[] w = Enumerable.Range(0, nIn * nOut).Select(i => T.CreateTruncating(i)).ToArray();
                int panels = nOut / pc, tail = Tail(nOut, pc, vector);
                var packed = new T[Dense.PackedLength<T>(nIn, nOut)];
                Assert.Equal(nIn * (panels * pc + tail), packed.Length);
                Dense.PackPanels<T>(w, packed, nIn, nOut);
                string what = $"{typeof(T).Name} {nIn}→{nOut}";
                for (int k = 0; k < nIn; k++)
                {
                    for (int j = 0; j < panels * pc; j++)
                        Assert.True(packed[(j / pc * nIn + k) * pc + j % pc] == w[k * nOut + j], $"{what}: W[{k}, {j}] misplaced in its panel");
                    for (int t = 0; t < tail; t++)
                        Assert.True(packed[panels * pc * nIn + k * tail + t] == w[k * nOut + nOut - tail + t], $"{what}: W[{k}, {nOut - tail + t}] misplaced in the tail");
                }
            }
        }
    }

    [Theory, MemberData(nameof(Batches))]
    public void Packed_forward_matches_the_reference_and_the_row_major_kernel_bit_for_bit(int batch)
    {
        Check<float, ReluOp<float>>(batch, relu: true);
        Check<double, IdentityOp<double>>(batch, relu: false);

        static void Check<T, TAct>(int batch, bool relu) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TAct : IActivationOp<T>
        {
            double u = typeof(T) == typeof(float) ? Math.ScaleB(1, -24) : Math.ScaleB(1, -53);
            foreach (var (nIn, nOut) in Shapes)
            {
                string what = $"{typeof(T).Name} batch {batch} {nIn}→{nOut}";
                T[] x = Random<T>(batch * nIn, batch + nIn), w = Random<T>(nIn * nOut, nOut), b = Random<T>(nOut, 3);
                var packed = new T[Dense.PackedLength<T>(nIn, nOut)];
                Dense.PackPanels<T>(w, packed, nIn, nOut);
                var rowMajor = new T[batch * nOut];
                Dense.Forward<T, TAct>(x, w, b, rowMajor, batch, nIn, nOut);
                var y = new T[batch * nOut + 1];
                y[^1] = T.CreateTruncating(-7.25);
                Dense.ForwardPacked<T, TAct>(x, packed, b, y, batch, nIn, nOut);
                Assert.True(y[^1] == T.CreateTruncating(-7.25), $"{what}: wrote past the end");
                AssertBitIdentical<T>(y.AsSpan(0, batch * nOut), rowMajor, what);
                // The panels visited last to first (as an inference form does on every other call): the same bits.
                var descending = new T[batch * nOut];
                Dense.ForwardPackedOrdered<T, TAct>(x, packed, b, descending, batch, nIn, nOut, split: false, descending: true);
                AssertBitIdentical<T>(descending, rowMajor, what + " descending");
                // Against a double reference: |error| ≤ (nIn + 2)·u·Σ|terms|.
                for (int r = 0; r < batch; r++)
                    for (int j = 0; j < nOut; j++)
                    {
                        double s = double.CreateTruncating(b[j]), scale = Math.Abs(s);
                        for (int k = 0; k < nIn; k++)
                        {
                            double term = double.CreateTruncating(x[r * nIn + k]) * double.CreateTruncating(w[k * nOut + j]);
                            s += term;
                            scale += Math.Abs(term);
                        }
                        if (relu) s = Math.Max(0, s);
                        double actual = double.CreateTruncating(y[r * nOut + j]);
                        Assert.True(Math.Abs(actual - s) <= (nIn + 2) * u * scale + 1e-300, $"{what}: y[{r}, {j}] = {actual:R}, expected {s:R}");
                    }
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(130)]
    public void Two_threads_split_by_panels_or_rows_bit_identically(int batch)
    {
        // At least MinimumSplitWeightBytes: four panels; two panels and two leftover columns (a tail widened to 16 floats or
        // 8 doubles, taken from the last panel); three panels (an odd count: the worker takes two); for doubles the same
        // widths make eight, four and six panels.
        foreach (var (nIn, nOut) in new[] { (784, 256), (800, 130), (600, 192) })
        {
            Check<float>(nIn, nOut);
            Check<double>(nIn, nOut);
        }

        void Check<T>(int nIn, int nOut) where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            Assert.True((long)nIn * nOut * Unsafe.SizeOf<T>() >= KernelParallelism.MinimumSplitWeightBytes);
            T[] x = Random<T>(batch * nIn, 1), w = Random<T>(nIn * nOut, 2), b = Random<T>(nOut, 3), packed = new T[Dense.PackedLength<T>(nIn, nOut)];
            Dense.PackPanels<T>(w, packed, nIn, nOut);
            T[] one = new T[batch * nOut], two = new T[batch * nOut];
            Dense.ForwardPacked<T, TanhOp<T>>(x, packed, b, one, batch, nIn, nOut);
            KernelParallelism.DegreeOfParallelism = 2;
            try
            {
                long splits = KernelParallelism.SplitCalls;
                for (int i = 0; i < 20; i++) // whoever takes part 1 (the worker, or the caller when the worker is late)
                {
                    Array.Clear(two);
                    Dense.ForwardPackedOrdered<T, TanhOp<T>>(x, packed, b, two, batch, nIn, nOut, split: true, descending: i % 2 == 1);
                    AssertBitIdentical<T>(two, one, $"{typeof(T).Name} batch {batch} {nIn}→{nOut}, call {i}");
                }
                Assert.Equal(splits + 20, KernelParallelism.SplitCalls);
                // split: false keeps the call on this thread.
                Dense.ForwardPacked<T, TanhOp<T>>(x, packed, b, two, batch, nIn, nOut, split: false);
                Assert.Equal(splits + 20, KernelParallelism.SplitCalls);
            }
            finally
            {
                KernelParallelism.DegreeOfParallelism = 1;
            }
        }
    }

    [Fact]
    public void One_panel_or_small_weights_are_not_split_by_panels()
    {
        KernelParallelism.DegreeOfParallelism = 2;
        try
        {
            long splits = KernelParallelism.SplitCalls;
            // 4000 × 100 floats = 1.6 MB but one panel (and 36 leftover columns): nothing to give the worker.
            Dense.ForwardPacked<float, IdentityOp<float>>(new float[4000], new float[Dense.PackedLength<float>(4000, 100)], new float[100], new float[100], 1, 4000, 100);
            // 256 × 128 floats = 128 KB: below MinimumSplitWeightBytes.
            Dense.ForwardPacked<float, IdentityOp<float>>(new float[256], new float[256 * 128], new float[128], new float[128], 1, 256, 128);
            Assert.Equal(splits, KernelParallelism.SplitCalls);
        }
        finally
        {
            KernelParallelism.DegreeOfParallelism = 1;
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(64, 1)]
    [InlineData(1, 2)]
    [InlineData(64, 2)]
    public void Packed_forward_allocates_nothing_on_either_thread(int batch, int threads)
    {
        float[] x = Random<float>(batch * 784, 4), w = Random<float>(784 * 256, 5), b = Random<float>(256, 6), packed = new float[784 * 256];
        Dense.PackPanels<float>(w, packed, 784, 256);
        var y = new float[batch * 256];
        KernelParallelism.DegreeOfParallelism = threads;
        try
        {
            HotLoop.WarmUp(() => Dense.ForwardPacked<float, ReluOp<float>>(x, packed, b, y, batch, 784, 256));
            long worker = KernelParallelism.WorkerAllocatedBytes, before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 50; i++) Dense.ForwardPacked<float, ReluOp<float>>(x, packed, b, y, batch, 784, 256);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.Equal(0, KernelParallelism.WorkerAllocatedBytes - worker);
        }
        finally
        {
            KernelParallelism.DegreeOfParallelism = 1;
        }
    }

    [Fact]
    public void Bad_arguments_throw_before_anything_is_written()
    {
        var w = new float[20 * 70];
        var packed = new float[Dense.PackedLength<float>(20, 70)]; // 64 columns and a 16-column tail
        Assert.Equal(20 * 80, packed.Length);
        Assert.Throws<ArgumentException>(() => Dense.PackPanels<float>(w, new float[20 * 70], 20, 70));
        Assert.Throws<ArgumentException>(() => Dense.PackPanels<float>(w.AsSpan(0, 20 * 69), packed, 20, 70));
        var big = new float[20 * 80 + 20 * 70];
        Assert.Throws<ArgumentException>(() => Dense.PackPanels<float>(big.AsSpan(20 * 80 - 1, 20 * 70), big.AsSpan(0, 20 * 80), 20, 70)); // overlapping
        Assert.Throws<ArgumentOutOfRangeException>(() => Dense.PackPanels<float>(w, packed, 0, 70));
        var y = new float[2 * 70];
        y.AsSpan().Fill(5);
        Assert.Throws<ArgumentException>(() => Dense.ForwardPacked<float, IdentityOp<float>>(new float[2 * 20 - 1], packed, new float[70], y, 2, 20, 70));
        Assert.Throws<ArgumentException>(() => Dense.ForwardPacked<float, IdentityOp<float>>(new float[2 * 20], packed.AsSpan(1), new float[70], y, 2, 20, 70));
        Assert.Throws<ArgumentException>(() => Dense.ForwardPacked<float, IdentityOp<float>>(new float[2 * 20], packed, new float[69], y, 2, 20, 70));
        Assert.Throws<ArgumentException>(() => Dense.ForwardPacked<float, IdentityOp<float>>(new float[2 * 20], packed, new float[70], y.AsSpan(1), 2, 20, 70));
        Assert.Throws<ArgumentOutOfRangeException>(() => Dense.ForwardPacked<float, IdentityOp<float>>(new float[2 * 20], packed, new float[70], y, 0, 20, 70));
        Assert.All(y, v => Assert.Equal(5f, v));
    }

    // ---- inference forms ----------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Mlp_inference_form_on_panels_equals_predict_bit_for_bit(int threads)
    {
        // 784-256 ReLU-128 tanh-10: the first two layers run on panels, the last (10 outputs) row-major. With no BatchNorm
        // the inference form's weights are the network's, so every output must be identical, call after call (the panel
        // order alternates) and after training and Update.
        const int maxBatch = 65;
        var net = new MnistNet(maxBatch, 11);
        var inference = net.CreateInference(maxBatch);
        Assert.Equal(2, inference.PanelLayers); // 256 and 128 outputs; the 10-output layer stays row-major
        KernelParallelism.DegreeOfParallelism = threads;
        try
        {
            for (int round = 0; round < 2; round++)
            {
                foreach (int batch in new[] { 1, 7, 64, 65 })
                {
                    float[] x = Random<float>(batch * 784, 100 * round + batch);
                    float[] expected = new float[batch * 10], actual = new float[batch * 10];
                    net.Predict(x, expected);
                    for (int call = 0; call < 3; call++)
                    {
                        inference.Predict(x, actual);
                        AssertBitIdentical<float>(actual, expected, $"round {round}, batch {batch}, call {call}");
                    }
                }
                var r = new Random(round);
                float[] inputs = Random<float>(maxBatch * 784, 50 + round);
                int[] labels = Enumerable.Range(0, maxBatch).Select(_ => r.Next(10)).ToArray();
                for (int step = 0; step < 3; step++) net.TrainStep(inputs, labels);
                inference.Update(net); // re-packs the panels
            }
        }
        finally
        {
            KernelParallelism.DegreeOfParallelism = 1;
        }
    }

    [Fact]
    public void Returning_to_float_precision_repacks_the_panels()
    {
        // Updates made while a reduced precision is chosen pack only that copy; choosing Float32 again packs the panels
        // from the current parameters.
        var net = new MnistNet(4, 12);
        var inference = net.CreateInference(4);
        float[] x = Random<float>(4 * 784, 13);
        float[] expected = new float[40], actual = new float[40];
        inference.Precision = InferencePrecision.BFloat16;
        var r = new Random(14);
        for (int step = 0; step < 5; step++) net.TrainStep(Random<float>(4 * 784, 20 + step), Enumerable.Range(0, 4).Select(_ => r.Next(10)).ToArray());
        inference.Update(net);
        inference.Precision = InferencePrecision.Float32;
        inference.Predict(x, actual);
        net.Predict(x, expected);
        AssertBitIdentical<float>(actual, expected, "after returning to Float32");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Update_and_predict_on_panels_allocate_nothing(int threads)
    {
        var net = new MnistNet(64, 17);
        var inference = net.CreateInference(64);
        Assert.Equal(2, inference.PanelLayers);
        float[] x1 = Random<float>(784, 18), x64 = Random<float>(64 * 784, 19), y1 = new float[10], y64 = new float[640];
        KernelParallelism.DegreeOfParallelism = threads;
        try
        {
            HotLoop.WarmUp(() => { inference.Update(net); inference.Predict(x1, y1); inference.Predict(x64, y64); });
            long worker = KernelParallelism.WorkerAllocatedBytes, before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++)
            {
                inference.Update(net);
                inference.Predict(x1, y1);
                inference.Predict(x64, y64);
            }
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.Equal(0, KernelParallelism.WorkerAllocatedBytes - worker);
        }
        finally
        {
            KernelParallelism.DegreeOfParallelism = 1;
        }
    }

    [Fact]
    public void Double_mlp_inference_form_on_panels_equals_predict_bit_for_bit()
    {
        var net = new MnistNet.Float64(3, 15);
        var inference = net.CreateInference(3);
        Assert.Equal(2, inference.PanelLayers);
        foreach (int batch in new[] { 1, 3 })
        {
            double[] x = Random<double>(batch * 784, 16 + batch);
            double[] expected = new double[batch * 10], actual = new double[batch * 10];
            net.Predict(x, expected);
            inference.Predict(x, actual);
            AssertBitIdentical<double>(actual, expected, $"batch {batch}");
            inference.Predict(x, actual);
            AssertBitIdentical<double>(actual, expected, $"batch {batch}, second call");
        }
    }
}
