using System;
using System.IO;
using System.Linq;
using KernelGen.Checkpoints;
using KernelGen.Preprocessing;
using Xunit;

namespace KernelGen.Toolkit.Tests;

/// <summary>A deployable model: network and preprocessing in one file, restored with one call, all or nothing.</summary>
public sealed class ModelFileTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "kernelgen-modelfile-" + Guid.NewGuid().ToString("N"));

    public ModelFileTests() => Directory.CreateDirectory(_directory);

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    private static float[] Rows(int count, int features, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count * features).Select(i => (float)(random.NextDouble() * 10 + i % features * 3))];
    }

    [Fact]
    public void The_network_and_its_preprocessing_come_back_together_and_predict_exactly_as_before()
    {
        float[] training = Rows(50, 2, 1);
        Standardize standardize = Standardize.Fit(training, 50, 2);
        var net = new BatchNormSpiral(16, seed: 3);
        standardize.Apply(training, 50);
        for (int i = 0; i < 5; i++) net.TrainStep(training.AsSpan(0, 32), Enumerable.Range(0, 16).Select(j => j % 3).ToArray());
        string path = Path.Combine(_directory, "model.kgm");
        ModelFile.Save(net, standardize, path);

        float[] raw = Rows(4, 2, 9);
        float[] expected = new float[12];
        float[] prepared = (float[])raw.Clone();
        standardize.Apply(prepared, 4);
        net.Predict(prepared, expected);

        var restored = new BatchNormSpiral(4, seed: 99);
        IFeatureTransform? preprocessing = ModelFile.Load(restored, path);
        Assert.NotNull(preprocessing);
        Assert.Equal(net.Parameters.ToArray(), restored.Parameters.ToArray());
        Assert.Equal(net.RunningStatistics.ToArray(), restored.RunningStatistics.ToArray());
        preprocessing.Apply(raw, 4);
        Assert.Equal(prepared, raw);
        float[] actual = new float[12];
        restored.CreateInference(4).Predict(raw, actual);
        for (int i = 0; i < 12; i++) Assert.Equal(expected[i], actual[i], 1e-5f);
    }

    [Fact]
    public void A_model_without_preprocessing_loads_null()
    {
        var net = new SpiralClassifier(8, seed: 1);
        string path = Path.Combine(_directory, "plain.kgm");
        ModelFile.Save<float>(net, null, path);
        var other = new SpiralClassifier(8, seed: 2);
        Assert.Null(ModelFile.Load(other, path));
        Assert.Equal(net.Parameters.ToArray(), other.Parameters.ToArray());
    }

    [Fact]
    public void Preprocessing_of_the_wrong_width_is_refused_on_save()
    {
        var net = new SpiralClassifier(8, seed: 1);
        Standardize three = Standardize.Fit(Rows(10, 3, 1), 10, 3);
        var e = Assert.Throws<ArgumentException>(() => ModelFile.Save(net, three, Path.Combine(_directory, "x.kgm")));
        Assert.Contains("3 features", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_plain_checkpoint_a_corrupt_file_or_another_network_leave_the_network_untouched()
    {
        var net = new SpiralClassifier(8, seed: 1);
        float[] before = net.Parameters.ToArray();

        string checkpoint = Path.Combine(_directory, "plain.kgc");
        Checkpoint.Save(new SpiralClassifier(8, seed: 5), checkpoint);
        Assert.Contains("without a model record", Assert.Throws<InvalidDataException>(() => ModelFile.Load(net, checkpoint)).Message, StringComparison.Ordinal);
        Assert.Equal(before, net.Parameters.ToArray());

        string model = Path.Combine(_directory, "model.kgm");
        ModelFile.Save(new SpiralClassifier(8, seed: 6), Standardize.Fit(Rows(10, 2, 1), 10, 2), model);
        byte[] bytes = File.ReadAllBytes(model);
        bytes[^20] ^= 0x40;
        string corrupt = Path.Combine(_directory, "corrupt.kgm");
        File.WriteAllBytes(corrupt, bytes);
        Assert.Throws<InvalidDataException>(() => ModelFile.Load(net, corrupt));
        Assert.Equal(before, net.Parameters.ToArray());

        Assert.Throws<InvalidDataException>(() => ModelFile.Load(new BatchNormSpiral(8, seed: 1), model));
        Assert.Equal(before, net.Parameters.ToArray());
    }

    [Fact]
    public void Double_networks_round_trip_too()
    {
        var net = new SpiralClassifier.Float64(8, seed: 4);
        string path = Path.Combine(_directory, "double.kgm");
        ZeroCenter center = ZeroCenter.Fit(Rows(10, 2, 3), 10, 2);
        ModelFile.Save(net, center, path);
        var restored = new SpiralClassifier.Float64(8, seed: 5);
        IFeatureTransform? t = ModelFile.Load(restored, path);
        Assert.IsType<ZeroCenter>(t);
        Assert.Equal(net.Parameters.ToArray(), restored.Parameters.ToArray());
    }
}
