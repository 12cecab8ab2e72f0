using System;
using System.Linq;
using Xunit;

namespace KernelGen.Tests;

public class WarmupTests
{
    [Fact]
    public void Warmup_restores_every_piece_of_state_so_training_continues_bit_identically()
    {
        // FoldNet: BatchNorm (running statistics), dropout (counter), Adam (two state slots, step count).
        var random = new Random(5);
        float[] x = Enumerable.Range(0, 8 * 6).Select(_ => (float)random.NextDouble()).ToArray();
        float[] y = Enumerable.Range(0, 8 * 3).Select(_ => (float)random.NextDouble()).ToArray();
        var warmed = new FoldNet(8, 3);
        var plain = new FoldNet(8, 3);
        for (int i = 0; i < 3; i++) { warmed.TrainStep(x, y); plain.TrainStep(x, y); }

        Warmup.Run(warmed, TimeSpan.FromMilliseconds(30));

        Assert.Equal(plain.Parameters.ToArray(), warmed.Parameters.ToArray());
        Assert.Equal(plain.Gradients.ToArray(), warmed.Gradients.ToArray());
        Assert.Equal(plain.RunningStatistics.ToArray(), warmed.RunningStatistics.ToArray());
        Assert.Equal(plain.DropoutStep, warmed.DropoutStep);
        Assert.Equal(plain.Optimizer.StepCount, warmed.Optimizer.StepCount);
        for (int s = 0; s < plain.Optimizer.StateSlots; s++) Assert.Equal(plain.Optimizer.State(s).ToArray(), warmed.Optimizer.State(s).ToArray());
        for (int i = 0; i < 3; i++) Assert.Equal(plain.TrainStep(x, y), warmed.TrainStep(x, y));
        Assert.Equal(plain.Parameters.ToArray(), warmed.Parameters.ToArray());
    }

    [Fact]
    public void Warmup_of_a_convnet_restores_its_state_and_training_continues_bit_identically()
    {
        // ConvPathsNet: convolutions on every kernel path, BatchNorm over channels, pooling, Adam.
        var random = new Random(6);
        var warmed = new ConvPathsNet(8, 3);
        var plain = new ConvPathsNet(8, 3);
        float[] x = Enumerable.Range(0, 8 * warmed.InputSize).Select(_ => (float)random.NextDouble()).ToArray();
        int[] labels = Enumerable.Range(0, 8).Select(i => i % 3).ToArray();
        for (int i = 0; i < 2; i++) { warmed.TrainStep(x, labels); plain.TrainStep(x, labels); }

        Warmup.Run(warmed, TimeSpan.FromMilliseconds(30));

        Assert.Equal(plain.Parameters.ToArray(), warmed.Parameters.ToArray());
        Assert.Equal(plain.RunningStatistics.ToArray(), warmed.RunningStatistics.ToArray());
        Assert.Equal(plain.Optimizer.StepCount, warmed.Optimizer.StepCount);
        for (int i = 0; i < 2; i++) Assert.Equal(plain.TrainStep(x, labels), warmed.TrainStep(x, labels));
        Assert.Equal(plain.Parameters.ToArray(), warmed.Parameters.ToArray());
    }

    [Fact]
    public void Warmup_works_for_inference_only_networks_and_rejects_bad_arguments()
    {
        var net = new InferenceNet(4, 1);
        float[] before = net.Parameters.ToArray();
        Warmup.Run(net, TimeSpan.Zero);
        Assert.Equal(before, net.Parameters.ToArray());
        Assert.Throws<ArgumentNullException>(() => Warmup.Run<float>(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => Warmup.Run(net, TimeSpan.FromMilliseconds(-1)));
    }
}
