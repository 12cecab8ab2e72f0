using System;
using System.Linq;
using System.Numerics;
using System.Threading;
using KernelGen.Kernels;
using KernelGen.Operators;
using KernelGen.Optimization;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// The two-thread hand-off (<see cref="KernelParallelism"/>): every part runs exactly once whichever thread takes it,
/// exceptions from either part reach the caller and do not leak into the next call, and small-batch dense forward
/// passes over large weights are split by columns with results bit-identical to one thread.
/// </summary>
[Collection(KernelParallelismCollection.Name)]
public class KernelParallelismTests
{
    /// <summary>Counts which parts ran; part <see cref="Throw"/> throws.</summary>
    private sealed class CountingWork : ParallelWork
    {
        public int Part0, Part1, Throw = -1, SpinPart0;

        internal override void Execute(int part)
        {
            if (part == 0)
            {
                Interlocked.Increment(ref Part0);
                if (SpinPart0 > 0) Thread.SpinWait(SpinPart0);
            }
            else Interlocked.Increment(ref Part1);
            if (part == Throw) throw new InvalidOperationException($"part {part}");
        }
    }

    private static void Run(ParallelWork work)
    {
        Assert.True(KernelParallelism.TryEnter());
        KernelParallelism.Run(work);
    }

    [Fact]
    public void Every_part_runs_exactly_once_whichever_thread_takes_it()
    {
        KernelParallelism.DegreeOfParallelism = 2;
        try
        {
            // Part 0 of no length (the caller usually takes part 1 back) and of some length (the worker usually takes it):
            // either way each part runs once per call.
            foreach (int spin in new[] { 0, 2000 })
            {
                var work = new CountingWork { SpinPart0 = spin };
                for (int i = 0; i < 2000; i++) Run(work);
                Assert.Equal(2000, work.Part0);
                Assert.Equal(2000, work.Part1);
            }
        }
        finally
        {
            KernelParallelism.DegreeOfParallelism = 1;
        }
    }

    [Fact]
    public void A_blocked_worker_is_woken_and_the_call_completes()
    {
        KernelParallelism.DegreeOfParallelism = 2;
        try
        {
            var work = new CountingWork { SpinPart0 = 100_000 };
            long parts = KernelParallelism.WorkerParts;
            for (int i = 0; i < 5; i++)
            {
                Thread.Sleep(KernelParallelism.WorkerSpinMicroseconds / 1000 + 20); // the worker stops spinning and blocks
                Run(work);
            }
            Assert.Equal(5, work.Part0);
            Assert.Equal(5, work.Part1);
            Assert.True(KernelParallelism.WorkerParts >= parts);
        }
        finally
        {
            KernelParallelism.DegreeOfParallelism = 1;
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void An_exception_in_either_part_reaches_the_caller_and_not_the_next_call(int part)
    {
        KernelParallelism.DegreeOfParallelism = 2;
        try
        {
            for (int i = 0; i < 50; i++)
            {
                var failing = new CountingWork { Throw = part, SpinPart0 = i % 2 == 0 ? 0 : 5000 };
                var e = Assert.Throws<InvalidOperationException>(() => Run(failing));
                Assert.Equal($"part {part}", e.Message);
                Assert.Equal(1, failing.Part0);
                // Part 1 ran to completion before the call returned, or (when part 0 threw first) was taken back unrun.
                Assert.Equal(part == 1 ? 1 : failing.Part1, failing.Part1);
                Assert.InRange(failing.Part1, 0, 1);
                var next = new CountingWork();
                Run(next); // no leftover error
                Assert.Equal((1, 1), (next.Part0, next.Part1));
            }
        }
        finally
        {
            KernelParallelism.DegreeOfParallelism = 1;
        }
    }

    // ---- small batches split by columns ---------------------------------------------------------------------------------

    private static T[] Random<T>(int n, int seed) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => T.CreateTruncating(4 * random.NextDouble() - 2)).ToArray();
    }

    private static void AssertBitIdentical<T>(ReadOnlySpan<T> actual, ReadOnlySpan<T> expected, string what) where T : unmanaged
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!actual[i].Equals(expected[i])) Assert.Fail($"{what}: element {i} is {actual[i]}, one thread gave {expected[i]}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(63)]
    public void Small_batches_over_large_weights_split_by_columns_bit_identically(int batch)
    {
        // Weights of at least MinimumSplitWeightBytes: whole panels, a remainder vector, a narrow row (40: halves of 16 and
        // 24 floats at 512 bits), and a width with an odd tail.
        foreach (var (nIn, nOut) in new[] { (784, 256), (1024, 100), (3000, 40), (1500, 37) })
        {
            Check<float>(nIn, nOut);
            Check<double>(nIn, nOut);
        }

        void Check<T>(int nIn, int nOut) where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            Assert.True((long)nIn * nOut * System.Runtime.CompilerServices.Unsafe.SizeOf<T>() >= KernelParallelism.MinimumSplitWeightBytes);
            T[] x = Random<T>(batch * nIn, 1), w = Random<T>(nIn * nOut, 2), b = Random<T>(nOut, 3);
            T[] one = new T[batch * nOut], two = new T[batch * nOut];
            Dense.Forward<T, TanhOp<T>>(x, w, b, one, batch, nIn, nOut);
            KernelParallelism.DegreeOfParallelism = 2;
            try
            {
                long splits = KernelParallelism.SplitCalls;
                for (int i = 0; i < 20; i++) // whoever takes part 1 (the worker, or the caller when the worker is late)
                {
                    Array.Clear(two);
                    Dense.Forward<T, TanhOp<T>>(x, w, b, two, batch, nIn, nOut);
                    AssertBitIdentical<T>(two, one, $"{typeof(T).Name} batch {batch} {nIn}→{nOut}");
                }
                Assert.Equal(splits + 20, KernelParallelism.SplitCalls);
            }
            finally
            {
                KernelParallelism.DegreeOfParallelism = 1;
            }
        }
    }

    [Fact]
    public void Small_weights_and_one_thread_are_not_split()
    {
        var x = new float[784];
        var w = new float[256 * 64]; // 64 KB: below MinimumSplitWeightBytes
        var b = new float[64];
        var y = new float[64];
        long splits = KernelParallelism.SplitCalls;
        Dense.Forward<float, IdentityOp<float>>(x, new float[784 * 256], new float[256], new float[256], 1, 784, 256); // one thread
        Assert.Equal(splits, KernelParallelism.SplitCalls);
        KernelParallelism.DegreeOfParallelism = 2;
        try
        {
            Dense.Forward<float, IdentityOp<float>>(x, w, b, y, 1, 256, 64);
            Assert.Equal(splits, KernelParallelism.SplitCalls);
            Dense.Forward<float, IdentityOp<float>>(x, new float[784 * 256], new float[256], new float[256], 1, 784, 256);
            Assert.Equal(splits + 1, KernelParallelism.SplitCalls);
        }
        finally
        {
            KernelParallelism.DegreeOfParallelism = 1;
        }
    }

    [Fact]
    public void Split_batch_1_forward_allocates_nothing_on_either_thread()
    {
        float[] x = Random<float>(784, 4), w = Random<float>(784 * 256, 5), b = Random<float>(256, 6);
        var y = new float[256];
        KernelParallelism.DegreeOfParallelism = 2;
        try
        {
            HotLoop.WarmUp(() => Dense.Forward<float, ReluOp<float>>(x, w, b, y, 1, 784, 256));
            long worker = KernelParallelism.WorkerAllocatedBytes, before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++) Dense.Forward<float, ReluOp<float>>(x, w, b, y, 1, 784, 256);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.Equal(0, KernelParallelism.WorkerAllocatedBytes - worker);
        }
        finally
        {
            KernelParallelism.DegreeOfParallelism = 1;
        }
    }
    /// <summary>
    /// Convolutions on two threads (samples split for the forward pass and dX, kernel taps for the implicit weight
    /// gradient) give the same bits as on one, on both kernel paths, and a convnet's training steps match bit for bit.
    /// </summary>
    [Fact]
    public void Convolutions_split_over_two_threads_bit_identically()
    {
        foreach (Conv2DGeometry g in new[]
        {
            new Conv2DGeometry(16, 9, 11, 12, 3, 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),          // implicit GEMM
            new Conv2DGeometry(3, 10, 10, 8, 3, 3, 2, 2, 1, 1, 1, 1),                                            // im2col, stride 2
        })
        {
            const int batch = 64;
            var r = new Random(3);
            float[] x = Enumerable.Range(0, batch * g.InputSize).Select(_ => (float)r.NextDouble() - 0.5f).ToArray();
            float[] w = Enumerable.Range(0, g.WeightLength).Select(_ => (float)r.NextDouble() - 0.5f).ToArray();
            float[] b = Enumerable.Range(0, g.OutChannels).Select(_ => (float)r.NextDouble()).ToArray();
            float[] dy = Enumerable.Range(0, batch * g.OutputSize).Select(_ => (float)r.NextDouble() - 0.5f).ToArray();
            (float[] Y, float[] Dw, float[] Db, float[] Dx) Run()
            {
                float[] scratch = new float[2 * g.ScratchLength], y = new float[batch * g.OutputSize], dw = new float[g.WeightLength], db = new float[g.OutChannels], dx = new float[batch * g.InputSize];
                Convolution.Forward<float, ReluOp<float>>(x, w, b, y, scratch, batch, g);
                Convolution.BackwardParameters<float>(x, dy, dw, db, scratch, batch, g);
                Convolution.BackwardInput<float>(dy, w, dx, scratch, batch, g);
                return (y, dw, db, dx);
            }
            var one = Run();
            long splits = KernelParallelism.SplitCalls;
            KernelParallelism.DegreeOfParallelism = 2;
            try
            {
                var two = Run();
                Assert.True(KernelParallelism.SplitCalls - splits >= (g.IsImplicit ? 3 : 2), "the calls were split");
                Assert.Equal(one.Y, two.Y);
                Assert.Equal(one.Dw, two.Dw);
                Assert.Equal(one.Db, two.Db);
                Assert.Equal(one.Dx, two.Dx);
            }
            finally
            {
                KernelParallelism.DegreeOfParallelism = 1;
            }
        }

        var single = new ConvPathsNet(64, 9);
        var dual = new ConvPathsNet(64, 9);
        var rr = new Random(4);
        float[] inputs = Enumerable.Range(0, 64 * single.InputSize).Select(_ => (float)rr.NextDouble()).ToArray();
        int[] labels = Enumerable.Range(0, 64).Select(_ => rr.Next(3)).ToArray();
        for (int step = 0; step < 3; step++) single.TrainStep(inputs, labels);
        KernelParallelism.DegreeOfParallelism = 2;
        try
        {
            for (int step = 0; step < 3; step++) dual.TrainStep(inputs, labels);
        }
        finally
        {
            KernelParallelism.DegreeOfParallelism = 1;
        }
        Assert.True(single.Parameters.SequenceEqual(dual.Parameters));
    }
    /// <summary>Max pooling (by planes) and batch normalization over channels (by channels) on two threads: split, and the
    /// same bits as on one thread, forward and backward.</summary>
    [Fact]
    public void Pooling_and_spatial_batchnorm_split_over_two_threads_bit_identically()
    {
        const int batch = 64, channels = 6, pixels = 100;
        var r = new Random(8);
        float[] x = Enumerable.Range(0, batch * channels * pixels).Select(_ => (float)r.NextDouble() * 4 - 2).ToArray();
        float[] dy = Enumerable.Range(0, batch * channels * pixels).Select(_ => (float)r.NextDouble() - 0.5f).ToArray();
        float[] gamma = Enumerable.Range(0, channels).Select(_ => (float)r.NextDouble() + 0.5f).ToArray();
        float[] beta = Enumerable.Range(0, channels).Select(_ => (float)r.NextDouble()).ToArray();
        var pool = new Pool2DGeometry(channels, 10, 10, 2, 2, 2, 2);
        float[][] Run()
        {
            float[] y = new float[x.Length], norm = new float[x.Length], istd = new float[channels], rm = new float[channels], rv = Enumerable.Repeat(1f, channels).ToArray();
            float[] dx = new float[x.Length], dg = new float[channels], db = new float[channels], yi = new float[x.Length];
            float[] py = new float[batch * pool.OutputSize], pdx = new float[x.Length];
            Normalization.BatchNormSpatialForwardTraining<float>(x, y, gamma, beta, norm, istd, rm, rv, batch, channels, pixels, 1e-5f, 0.1f);
            Normalization.BatchNormSpatialForwardInference<float>(x, yi, gamma, beta, rm, rv, batch, channels, pixels, 1e-5f);
            Normalization.BatchNormSpatialBackward<float>(dy, norm, istd, gamma, dx, dg, db, batch, channels, pixels);
            Pooling.MaxForward<float>(x, py, batch, pool);
            Pooling.MaxBackward<float>(x, dy.AsSpan(0, py.Length), pdx, batch, pool);
            return [y, norm, istd, rm, rv, yi, dx, dg, db, py, pdx];
        }
        float[][] one = Run();
        long splits = KernelParallelism.SplitCalls;
        KernelParallelism.DegreeOfParallelism = 2;
        try
        {
            float[][] two = Run();
            Assert.True(KernelParallelism.SplitCalls - splits >= 5, "every call was split");
            for (int i = 0; i < one.Length; i++) Assert.Equal(one[i], two[i]);
        }
        finally
        {
            KernelParallelism.DegreeOfParallelism = 1;
        }
    }

    // ---- the rest of a training step: optimizer update, gradient and input checks, activation backward, loss ---------------

    /// <summary>Runs <paramref name="action"/> with two kernel threads and returns how many calls it split.</summary>
    /// <remarks>Element-wise passes are split even when the worker is blocked (in production they wait for a spinning
    /// worker), so the split path is taken whatever the timing.</remarks>
    private static long WithTwoThreads(Action action)
    {
        KernelParallelism.DegreeOfParallelism = 2;
        KernelParallelism.WakeForElementwise = true;
        try
        {
            long splits = KernelParallelism.SplitCalls;
            action();
            return KernelParallelism.SplitCalls - splits;
        }
        finally
        {
            KernelParallelism.WakeForElementwise = false;
            KernelParallelism.DegreeOfParallelism = 1;
        }
    }

    [Theory]
    [MemberData(nameof(OptimizerTests.Rules), MemberType = typeof(OptimizerTests))]
    public void Optimizer_updates_split_over_two_threads_bit_identically(string name, OptimizerSettings settings)
    {
        // Odd tensor lengths, so the half-way point falls inside a tensor at no vector boundary; a float and a double arena.
        Check<float>();
        Check<double>();

        void Check<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            const int weights = 70_001, bias = 333, tail = 1_235;
            int n = weights + bias + tail;
            var tensors = new[]
            {
                new ParameterTensor("W", 0, 1, weights, true), new ParameterTensor("b", weights, 1, bias, false),
                new ParameterTensor("V", weights + bias, 1, tail, true),
            };
            T[] p0 = Random<T>(n, 21);
            T[][] grads = Enumerable.Range(0, 4).Select(step => Random<T>(n, 30 + step)).ToArray();
            foreach (T[] g in grads) for (int i = 0; i < n; i += 7) g[i] = T.Zero; // dead units (flushed state)
            (T[] P, T[][] State) Run()
            {
                var optimizer = new Optimizer<T>(settings, n, tensors);
                T[] p = (T[])p0.Clone();
                foreach (T[] g in grads) optimizer.Step(p, g);
                return (p, Enumerable.Range(0, optimizer.StateSlots).Select(slot => optimizer.State(slot).ToArray()).ToArray());
            }
            var one = Run();
            (T[] P, T[][] State) two = ([], []);
            Assert.Equal(grads.Length, WithTwoThreads(() => two = Run()));
            AssertBitIdentical<T>(two.P, one.P, $"{name} {typeof(T).Name} parameters");
            for (int slot = 0; slot < one.State.Length; slot++) AssertBitIdentical<T>(two.State[slot], one.State[slot], $"{name} {typeof(T).Name} state {slot}");
        }
    }

    [Fact]
    public void Multipliers_and_frozen_tensors_apply_in_both_parts_of_a_split_update()
    {
        const int weights = 70_001, bias = 333, tail = 1_235;
        int n = weights + bias + tail;
        var tensors = new[]
        {
            new ParameterTensor("W", 0, 1, weights, true), new ParameterTensor("b", weights, 1, bias, false),
            new ParameterTensor("V", weights + bias, 1, tail, true),
        };
        float[] p0 = Random<float>(n, 3);
        float[][] grads = [.. Enumerable.Range(0, 3).Select(step => Random<float>(n, 40 + step))];
        float[] Run(bool configure)
        {
            var optimizer = new Optimizer<float>(OptimizerSettings.Create(OptimizerKind.Adam, 0.01), n, tensors);
            if (configure)
            {
                optimizer.SetLearningRateMultiplier(0, 0.5);   // W, which the split point falls inside
                optimizer.SetFrozen(weights, true);             // b
            }
            float[] p = (float[])p0.Clone();
            foreach (float[] g in grads) optimizer.Step(p, g);
            return p;
        }
        float[] plain = Run(false), one = Run(true), two = [];
        Assert.Equal(grads.Length, WithTwoThreads(() => two = Run(true)));
        AssertBitIdentical<float>(two, one, "configured update, two threads against one");
        Assert.Equal(p0.AsSpan(weights, bias).ToArray(), one.AsSpan(weights, bias).ToArray());             // frozen: unchanged
        Assert.Equal(plain.AsSpan(weights + bias, tail).ToArray(), one.AsSpan(weights + bias, tail).ToArray()); // V: as without configuration
        Assert.NotEqual(plain.AsSpan(0, weights).ToArray(), one.AsSpan(0, weights).ToArray());               // W: half the rate
    }

    [Fact]
    public void Gradient_and_input_checks_split_over_two_threads_with_the_same_results()
    {
        foreach (int n in new[] { KernelParallelism.MinimumSplitElements - 1, KernelParallelism.MinimumSplitElements, 100_003 })
        {
            Check<float>(n);
            Check<double>(n);
        }

        void Check<T>(int n) where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            T[] x = Random<T>(n, 5);
            // A non-finite value in either half, and none; the first index wins when both halves hold one.
            foreach (int[] bad in new[] { Array.Empty<int>(), [3], [n - 2], [n / 2 + 1, n - 1], [n / 2 - 40, n / 2 + 40] })
            {
                T[] data = (T[])x.Clone();
                foreach (int i in bad) data[i] = i % 2 == 0 ? T.NaN : T.PositiveInfinity;
                int index = Elementwise.IndexOfNonFinite<T>(data);
                T sum = Elementwise.SumOfSquares<T>(data);
                int twoIndex = 0;
                T twoSum = T.Zero;
                long splits = WithTwoThreads(() =>
                {
                    twoIndex = Elementwise.IndexOfNonFinite<T>(data);
                    twoSum = Elementwise.SumOfSquares<T>(data);
                });
                Assert.Equal(n >= KernelParallelism.MinimumSplitElements ? 2 : 0, splits);
                Assert.Equal(bad.Length == 0 ? -1 : bad.Min(), index);
                Assert.Equal(index, twoIndex);
                Assert.True(sum.Equals(twoSum), $"{typeof(T).Name} n={n}: Σx² {twoSum} on two threads, {sum} on one");
            }
        }
    }

    [Fact]
    public void Activation_backward_and_softmax_loss_split_over_two_threads_bit_identically()
    {
        foreach (int n in new[] { Elementwise.MinimumSplitActivation, 128 * 256 + 5 })
        {
            float[] y = Random<float>(n, 7), dy = Random<float>(n, 8);
            float[] relu = (float[])dy.Clone(), tanh = (float[])dy.Clone();
            Elementwise.BackwardInPlace<float, ReluOp<float>>(y, relu);
            Elementwise.BackwardInPlace<float, TanhOp<float>>(y, tanh);
            float[] relu2 = (float[])dy.Clone(), tanh2 = (float[])dy.Clone();
            Assert.Equal(2, WithTwoThreads(() =>
            {
                Elementwise.BackwardInPlace<float, ReluOp<float>>(y, relu2);
                Elementwise.BackwardInPlace<float, TanhOp<float>>(y, tanh2);
            }));
            AssertBitIdentical<float>(relu2, relu, $"ReLU backward n={n}");
            AssertBitIdentical<float>(tanh2, tanh, $"tanh backward n={n}");
        }

        foreach (int batch in new[] { 63, 64, 65, 128, 201 })
        {
            Check<float>(batch, 10);
            Check<double>(batch, 3);
        }

        void Check<T>(int batch, int classes) where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            T[] logits = Random<T>(batch * classes, batch);
            int[] labels = Enumerable.Range(0, batch).Select(b => (b * 7) % classes).ToArray();
            T[] gradient = new T[batch * classes], gradient2 = new T[batch * classes];
            T loss = Loss.SoftmaxCrossEntropy<T>(logits, labels, gradient, batch, classes), lossOnly = Loss.SoftmaxCrossEntropy<T>(logits, labels, default, batch, classes);
            T loss2 = T.Zero, lossOnly2 = T.Zero;
            Assert.Equal(batch >= KernelParallelism.MinimumBatch ? 2 : 0, WithTwoThreads(() =>
            {
                loss2 = Loss.SoftmaxCrossEntropy<T>(logits, labels, gradient2, batch, classes);
                lossOnly2 = Loss.SoftmaxCrossEntropy<T>(logits, labels, default, batch, classes);
            }));
            Assert.True(loss.Equals(loss2) && lossOnly.Equals(loss) && lossOnly2.Equals(loss), $"{typeof(T).Name} batch {batch}: loss {loss2} on two threads, {loss} on one");
            AssertBitIdentical<T>(gradient2, gradient, $"{typeof(T).Name} batch {batch} softmax gradient");
            // The double sums agree with the scalar reference to rounding.
            double expected = 0;
            for (int b = 0; b < batch; b++)
            {
                double m = Enumerable.Range(0, classes).Max(j => double.CreateTruncating(logits[b * classes + j]));
                double lse = m + Math.Log(Enumerable.Range(0, classes).Sum(j => Math.Exp(double.CreateTruncating(logits[b * classes + j]) - m)));
                expected += lse - double.CreateTruncating(logits[b * classes + labels[b]]);
            }
            Assert.Equal(expected / batch, double.CreateTruncating(loss), 5);
        }
    }

    [Fact]
    public void An_invalid_label_in_the_workers_half_of_the_loss_reaches_the_caller()
    {
        const int batch = 128, classes = 10;
        float[] logits = Random<float>(batch * classes, 9), gradient = new float[batch * classes];
        int[] labels = new int[batch];
        labels[100] = classes; // in rows [64, 128): the worker's part (or the caller's, when it takes part 1 back)
        WithTwoThreads(() =>
        {
            for (int i = 0; i < 20; i++)
            {
                var e = Assert.Throws<ArgumentOutOfRangeException>(() => Loss.SoftmaxCrossEntropy<float>(logits, labels, gradient, batch, classes));
                Assert.Contains("labels[100] = 10", e.Message);
                labels[100] = 0;
                Loss.SoftmaxCrossEntropy<float>(logits, labels, gradient, batch, classes); // the next call is clean
                labels[100] = classes;
            }
        });
    }

    [Fact]
    public void The_reference_mlp_trains_bit_identically_on_two_threads_and_allocates_nothing()
    {
        const int batch = 128;
        var single = new MnistNet(batch, 5);
        var dual = new MnistNet(batch, 5);
        var r = new Random(6);
        float[] inputs = Enumerable.Range(0, batch * MnistNet.InputFeatures).Select(_ => (float)r.NextDouble()).ToArray();
        int[] labels = Enumerable.Range(0, batch).Select(_ => r.Next(MnistNet.OutputFeatures)).ToArray();
        var losses = new float[4];
        for (int step = 0; step < losses.Length; step++) losses[step] = single.TrainStep(inputs, labels);
        KernelParallelism.DegreeOfParallelism = 2;
        KernelParallelism.WakeForElementwise = true; // the first pass of a step may find the worker blocked
        try
        {
            for (int step = 0; step < losses.Length; step++)
                Assert.True(dual.TrainStep(inputs, labels).Equals(losses[step]), $"step {step}: the loss differs");
            Assert.True(single.Parameters.SequenceEqual(dual.Parameters), "the parameters differ");
            Assert.True(single.Gradients.SequenceEqual(dual.Gradients), "the gradients differ");

            HotLoop.WarmUp(() => dual.TrainStep(inputs, labels));
            long worker = KernelParallelism.WorkerAllocatedBytes, splits = KernelParallelism.SplitCalls;
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) dual.TrainStep(inputs, labels);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.Equal(0, KernelParallelism.WorkerAllocatedBytes - worker);
            // Per step: three forward passes, the loss, three dW/db and two dX, two activation backward passes, the input
            // and gradient checks and the update.
            Assert.Equal(20 * 14, KernelParallelism.SplitCalls - splits);
        }
        finally
        {
            KernelParallelism.WakeForElementwise = false;
            KernelParallelism.DegreeOfParallelism = 1;
        }
    }

    [Fact]
    public void Element_wise_passes_do_not_wake_a_blocked_worker()
    {
        var optimizer = new Optimizer<float>(OptimizerSettings.Create(OptimizerKind.Sgd, 0.01), 100_000, [new ParameterTensor("W", 0, 1, 100_000, true)]);
        float[] p = new float[100_000], g = Random<float>(100_000, 12);
        KernelParallelism.DegreeOfParallelism = 2;
        try
        {
            // Tests in other collections may split calls meanwhile (the degree is process-wide) and so wake the worker:
            // a few attempts, one of which must leave the split count alone.
            bool unsplit = false;
            for (int attempt = 0; attempt < 5 && !unsplit; attempt++)
            {
                Thread.Sleep(KernelParallelism.WorkerSpinMicroseconds / 1000 + 50); // the worker stops spinning and blocks
                long splits = KernelParallelism.SplitCalls;
                optimizer.Step(p, g);
                Elementwise.SumOfSquares<float>(g);
                unsplit = KernelParallelism.SplitCalls == splits;
            }
            Assert.True(unsplit, "an element-wise pass woke the blocked worker");
        }
        finally
        {
            KernelParallelism.DegreeOfParallelism = 1;
        }
    }
}
