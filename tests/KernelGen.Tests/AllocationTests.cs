using System;
using Xunit;

namespace KernelGen.Tests;

/// <summary>After construction and warm-up, the hot calls allocate exactly nothing.</summary>
public class AllocationTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(32)]
    public void Hot_calls_allocate_zero_bytes(int batch)
    {
        var net = new MnistNet(maxBatchSize: 32, seed: 1);
        var x = new float[batch * 784];
        var labels = new int[batch];
        var outputs = new float[batch * 10];
        var dy = new float[batch * 10];
        var dx = new float[batch * 784];
        var random = new KernelRandom(1);
        for (int i = 0; i < x.Length; i++) x[i] = (float)random.NextDouble();
        for (int i = 0; i < batch; i++) labels[i] = i % 10;
        net.LearningRate = 0.01f;

        void HotCalls()
        {
            net.TrainStep(x, labels);
            net.Predict(x, outputs);
            net.Loss(x, labels);
            net.ComputeGradients(x, labels);
            net.ApplyGradients();
            net.Forward(x);
            net.Backward(dy, dx);
        }

        HotLoop.WarmUp(HotCalls); // tiered JIT, static initialization
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) HotCalls();
        long after = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(0, after - before);
    }

    [Fact]
    public void Double_variant_allocates_zero_bytes()
    {
        var net = new SmoothNet.Float64(maxBatchSize: 8, seed: 1);
        var x = new double[8 * 19];
        var t = new double[8 * 5];
        var y = new double[8 * 5];
        HotLoop.WarmUp(() => { net.TrainStep(x, t); net.Predict(x, y); });
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) { net.TrainStep(x, t); net.Predict(x, y); }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
