using System;
using System.Globalization;
using System.IO;
using System.Linq;
using KernelGen.Checkpoints;
using Xunit;

namespace KernelGen.Toolkit.Tests;

/// <summary>
/// Checkpoints written by KernelGen 0.1.0 before the generator's op-catalog rewrite (files in Fixtures/, produced once
/// at commit 6771b9b by a throw-away test that trained each network a few steps, saved it and wrote its predictions;
/// never regenerated) must still load into today's networks,
/// and the loaded networks must predict exactly what the old ones predicted (outputs stored beside the files as
/// round-trip hex, written by the old code).
/// </summary>
public sealed class LegacyCheckpointTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private static float[] Input(int batch, int features) =>
        Enumerable.Range(0, batch * features).Select(i => (float)Math.Sin(0.37 * i + 0.11)).ToArray();

    [Fact]
    public void A_float_checkpoint_from_version_0_1_loads_and_predicts_the_same()
    {
        var net = new CheckpointNet(8, seed: 99);
        Checkpoint.Load(net, Fixture("checkpoint-net-0.1.kgc"));
        var outputs = new float[8 * net.OutputSize];
        net.Predict(Input(8, net.InputSize), outputs);
        float[] expected = File.ReadAllLines(Fixture("checkpoint-net-0.1.outputs.txt"))
            .Select(l => BitConverter.Int32BitsToSingle(int.Parse(l, NumberStyles.HexNumber, CultureInfo.InvariantCulture))).ToArray();
        Assert.Equal(expected, outputs);
        Assert.Equal(6, net.Optimizer.StepCount);
    }

    [Fact]
    public void A_double_checkpoint_from_version_0_1_loads_and_predicts_the_same()
    {
        var net = new NAdamCheckpointNet.Float64(8, seed: 99);
        Checkpoint.Load(net, Fixture("nadam-net-0.1.kgc"));
        var outputs = new double[8 * net.OutputSize];
        net.Predict(Input(8, net.InputSize).Select(v => (double)v).ToArray(), outputs);
        double[] expected = File.ReadAllLines(Fixture("nadam-net-0.1.outputs.txt"))
            .Select(l => BitConverter.Int64BitsToDouble(long.Parse(l, NumberStyles.HexNumber, CultureInfo.InvariantCulture))).ToArray();
        Assert.Equal(expected, outputs);
        Assert.Equal(4, net.Optimizer.StepCount);
    }
}
