using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using KernelGen.Catalog;
using KernelGen.Checkpoints;
using KernelGen.Interop;
using Xunit;

namespace KernelGen.Tests;

// Transfer learning: a pretrained network and a fine-tuning network that share a named backbone (two dense layers and
// a BatchNorm between them) and differ after it: the source has OldHead (not in the target) and a 10-class Head; the
// target has Neck (not in the source) and a 5-class Head (same name, other shapes).

/// <summary>The pretrained network.</summary>
[Network(6)]
[Dense(16, Activation.ReLU, Name = "Backbone1")]
[BatchNorm(Name = "BackboneNorm")]
[Dense(12, Activation.Tanh, Name = "Backbone2")]
[Dense(8, Activation.ReLU, Name = "OldHead")]
[Dense(10, Name = "Head")]
[SoftmaxCrossEntropyLoss]
[Adam(0.01)]
public partial class TransferSourceNet;

/// <summary>The network to fine-tune: the same backbone, a new neck and a 5-class head.</summary>
[Network(6)]
[Dense(16, Activation.ReLU, Name = "Backbone1")]
[BatchNorm(Name = "BackboneNorm")]
[Dense(12, Activation.Tanh, Name = "Backbone2")]
[Dense(12, Activation.ReLU, Name = "Neck")]
[Dense(5, Name = "Head")]
[SoftmaxCrossEntropyLoss]
[Adam(0.01)]
public partial class TransferTargetNet;

/// <summary>Weight transfer by tensor name: partial and strict modes, reports, networks, safetensors and checkpoints as
/// sources, element-type conversion and rejection of non-finite values. Expected values are read from the source
/// network's arenas through its <see cref="LayerInfo"/> tensors, never computed by the transfer code.</summary>
public class WeightTransferTests
{
    /// <summary>The backbone's tensors, which both networks have with equal shapes.</summary>
    private static readonly string[] Backbone =
    [
        "Backbone1.weight", "Backbone1.bias",
        "BackboneNorm.weight", "BackboneNorm.bias", "BackboneNorm.running_mean", "BackboneNorm.running_var",
        "Backbone2.weight", "Backbone2.bias",
    ];

    /// <summary>A pretrained source: every parameter and running statistic set to distinct seeded values (variances positive).</summary>
    private static TransferSourceNet Pretrained(int seed = 7)
    {
        var net = new TransferSourceNet(maxBatchSize: 4, seed: 1);
        var random = new Random(seed);
        Span<float> parameters = net.Parameters, statistics = net.RunningStatistics;
        for (int i = 0; i < parameters.Length; i++) parameters[i] = (float)(random.NextDouble() * 2 - 1);
        for (int i = 0; i < statistics.Length; i++) statistics[i] = (float)(random.NextDouble() + 0.25);
        return net;
    }

    private static LayerTensor TensorOf<T>(INeuralNetwork<T> net, string fileName) where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T> =>
        net.Layers.SelectMany(l => l.Tensors).Single(t => t.FileName == fileName);

    private static T[] Values<T>(INeuralNetwork<T> net, string fileName) where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        LayerTensor tensor = TensorOf(net, fileName);
        return (tensor.IsState ? net.RunningStatistics : net.Parameters).Slice(tensor.Offset, tensor.Length).ToArray();
    }

    private static (float[] Parameters, float[] Statistics) Snapshot(INeuralNetwork<float> net) => (net.Parameters.ToArray(), net.RunningStatistics.ToArray());

    /// <summary>Bit patterns, so that −0 and 0 (or two NaNs) are told apart.</summary>
    private static int[] Bits(ReadOnlySpan<float> values) => values.ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();

    private static void AssertUnchanged(INeuralNetwork<float> net, (float[] Parameters, float[] Statistics) snapshot)
    {
        Assert.Equal(Bits(snapshot.Parameters), Bits(net.Parameters));
        Assert.Equal(Bits(snapshot.Statistics), Bits(net.RunningStatistics));
    }

    /// <summary>
    /// The target after a partial transfer from <paramref name="source"/>: the backbone's tensors hold the source's values
    /// bit for bit, and every other element of both arenas (Neck, Head, padding) is as in <paramref name="before"/>.
    /// </summary>
    private static void AssertBackboneCopied(TransferSourceNet source, INeuralNetwork<float> target, (float[] Parameters, float[] Statistics) before)
    {
        float[] parameters = (float[])before.Parameters.Clone(), statistics = (float[])before.Statistics.Clone();
        foreach (string name in Backbone)
        {
            LayerTensor tensor = TensorOf(target, name);
            Values(source, name).CopyTo((tensor.IsState ? statistics : parameters).AsSpan(tensor.Offset));
        }
        Assert.Equal(Bits(parameters), Bits(target.Parameters));
        Assert.Equal(Bits(statistics), Bits(target.RunningStatistics));
        // The expectation is not vacuous: the target started with other values in every backbone tensor.
        foreach (string name in Backbone)
        {
            LayerTensor tensor = TensorOf(target, name);
            float[] old = (tensor.IsState ? before.Statistics : before.Parameters).AsSpan(tensor.Offset, tensor.Length).ToArray();
            Assert.NotEqual(Bits(old), Bits(Values(source, name)));
        }
    }

    private static void AssertReport(TransferReport report)
    {
        Assert.Equal(TransferMode.Partial, report.Mode);
        Assert.False(report.IsComplete);
        Assert.Equal(Backbone, report.Matched.Select(t => t.Name));
        Assert.Equal([false, false, false, false, true, true, false, false], report.Matched.Select(t => t.IsState));
        Assert.Equal(new TensorShape(16, 6), report.Matched[0].Shape); // weight-file layout: [out × in]

        Assert.Equal(["Neck.weight", "Neck.bias", "Head.weight", "Head.bias"], report.Skipped.Select(t => t.Name));
        Assert.Equal(
        [
            "not in source",
            "not in source",
            "shape [10, 8] in source, [5, 12] in target",
            "shape [10] in source, [5] in target",
        ], report.Skipped.Select(t => t.Reason));
        Assert.Equal(
            [TransferSkipReason.NotInSource, TransferSkipReason.NotInSource, TransferSkipReason.ShapeMismatch, TransferSkipReason.ShapeMismatch],
            report.Skipped.Select(t => t.Why));
        Assert.Equal(new TensorShape(12, 12), report.Skipped[0].TargetShape);
        Assert.Null(report.Skipped[0].SourceShape);

        Assert.Equal(["OldHead.weight", "OldHead.bias", "Head.weight", "Head.bias"], report.Unused.Select(t => t.Name));
        Assert.Equal(["not in target", "not in target", "shape [10, 8] in source, [5, 12] in target", "shape [10] in source, [5] in target"],
            report.Unused.Select(t => t.Reason));

        string table = report.ToString();
        Assert.Contains("(partial): 8 copied, 4 skipped in the target, 4 unused in the source", table);
        Assert.Matches(@"Backbone1\.weight +\[16, 6\] +\[16, 6\] +copied", table);
        Assert.Matches(@"Neck\.weight +- +\[12, 12\] +skipped: not in source", table);
        Assert.Matches(@"Head\.weight +\[10, 8\] +\[5, 12\] +skipped: shape \[10, 8\] in source, \[5, 12\] in target", table);
        Assert.Matches(@"OldHead\.bias +\[8\] +- +unused: not in target", table);
        Assert.Single(table.Split('\n'), line => line.Contains("Head.weight") && !line.Contains("OldHead")); // a mismatch is one row
    }

    [Fact]
    public void Partial_copy_from_a_network_copies_exactly_the_matching_tensors_bit_for_bit()
    {
        TransferSourceNet source = Pretrained();
        float[] sourceParameters = source.Parameters.ToArray(), sourceStatistics = source.RunningStatistics.ToArray();
        var target = new TransferTargetNet(maxBatchSize: 4, seed: 2);
        var before = Snapshot(target);

        TransferReport report = WeightTransfer.Copy(source, target, TransferMode.Partial);

        AssertBackboneCopied(source, target, before);
        AssertReport(report);
        Assert.StartsWith("Transfer from TransferSourceNet (partial)", report.ToString());
        Assert.Equal(Bits(sourceParameters), Bits(source.Parameters)); // the source is only read
        Assert.Equal(Bits(sourceStatistics), Bits(source.RunningStatistics));
    }

    [Fact]
    public void Strict_copy_with_unmatched_tensors_throws_listing_every_problem_and_changes_nothing()
    {
        TransferSourceNet source = Pretrained();
        var target = new TransferTargetNet(maxBatchSize: 4, seed: 2);
        var before = Snapshot(target);

        var error = Assert.Throws<ArgumentException>(() => WeightTransfer.Copy(source, target, TransferMode.Strict));

        AssertUnchanged(target, before);
        Assert.Equal("source", error.ParamName);
        Assert.Contains("Neck.weight: not in source", error.Message);
        Assert.Contains("Neck.bias: not in source", error.Message);
        Assert.Contains("Head.weight: shape [10, 8] in source, [5, 12] in target", error.Message);
        Assert.Contains("Head.bias: shape [10] in source, [5] in target", error.Message);
        Assert.Contains("OldHead.weight: not in target", error.Message);
        Assert.Contains("OldHead.bias: not in target", error.Message);
        Assert.Contains("TransferMode.Partial", error.Message);
    }

    [Fact]
    public void Strict_copy_between_networks_of_one_specification_copies_every_tensor()
    {
        TransferSourceNet source = Pretrained();
        var target = new TransferSourceNet(maxBatchSize: 2, seed: 3);

        TransferReport report = WeightTransfer.Copy(source, target, TransferMode.Strict);

        Assert.True(report.IsComplete);
        Assert.Equal(12, report.Matched.Count);
        Assert.Empty(report.Skipped);
        Assert.Empty(report.Unused);
        foreach (LayerTensor tensor in target.Layers.SelectMany(l => l.Tensors))
            Assert.Equal(Bits(Values(source, tensor.FileName)), Bits(Values(target, tensor.FileName)));
    }

    [Fact]
    public void Running_statistics_of_a_trained_BatchNorm_transfer()
    {
        // Statistics from real training rather than set by hand: a few steps on a fixed batch move them off 0 and 1.
        var source = new TransferSourceNet(maxBatchSize: 4, seed: 5);
        var random = new Random(11);
        float[] inputs = Enumerable.Range(0, 4 * 6).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        int[] labels = [0, 3, 7, 9];
        for (int step = 0; step < 5; step++) source.TrainStep(inputs, labels);
        var target = new TransferTargetNet(maxBatchSize: 4, seed: 6);
        float[] mean = Values(source, "BackboneNorm.running_mean"), variance = Values(source, "BackboneNorm.running_var");
        Assert.Contains(mean, m => m != 0);
        Assert.NotEqual(Values(target, "BackboneNorm.running_var"), variance);

        TransferReport report = WeightTransfer.Copy(source, target, TransferMode.Partial);

        Assert.Equal(Bits(mean), Bits(Values(target, "BackboneNorm.running_mean")));
        Assert.Equal(Bits(variance), Bits(Values(target, "BackboneNorm.running_var")));
        Assert.Equal(["BackboneNorm.running_mean", "BackboneNorm.running_var"], report.Matched.Where(t => t.IsState).Select(t => t.Name));
        // Evaluation mode normalizes with the running statistics: a twin of the source loaded strictly predicts bit for bit as it does.
        var copy = new TransferSourceNet(maxBatchSize: 4, seed: 8);
        WeightTransfer.Copy(source, copy, TransferMode.Strict);
        float[] expected = new float[4 * 10], actual = new float[4 * 10];
        source.Predict(inputs, expected);
        copy.Predict(inputs, actual);
        Assert.Equal(Bits(expected), Bits(actual));
    }

    [Fact]
    public void Float_source_loads_into_a_double_network_exactly()
    {
        TransferSourceNet source = Pretrained();
        var target = new TransferTargetNet.Float64(maxBatchSize: 4, seed: 2);
        double[] neck = Values(target, "Neck.weight"), head = Values(target, "Head.bias");

        TransferReport report = WeightTransfer.Copy(source, target, TransferMode.Partial);

        Assert.Equal(Backbone, report.Matched.Select(t => t.Name));
        foreach (string name in Backbone)
            Assert.Equal(Values(source, name).Select(v => (double)v), Values(target, name));
        Assert.Equal(neck, Values(target, "Neck.weight"));
        Assert.Equal(head, Values(target, "Head.bias"));
        Assert.StartsWith("Transfer from TransferSourceNet (partial)", report.ToString());
    }

    [Fact]
    public void Double_source_loads_into_a_float_network_rounded_to_nearest_and_rejects_values_beyond_float()
    {
        var source = new TransferSourceNet.Float64(maxBatchSize: 4, seed: 3);
        var random = new Random(5);
        Span<double> parameters = source.Parameters;
        for (int i = 0; i < parameters.Length; i++) parameters[i] = random.NextDouble() * 2 - 1; // not representable in float
        var target = new TransferTargetNet(maxBatchSize: 4, seed: 2);

        TransferReport report = WeightTransfer.Copy(source, target, TransferMode.Partial);
        foreach (string name in Backbone)
            Assert.Equal(Values(source, name).Select(v => (float)v), Values(target, name));
        Assert.StartsWith("Transfer from TransferSourceNet.Float64 (partial)", report.ToString());

        LayerTensor bias = TensorOf(source, "Backbone2.bias");
        source.Parameters[bias.Offset + 3] = 1e300;
        var before = Snapshot(target);
        var error = Assert.Throws<ArgumentException>(() => WeightTransfer.Copy(source, target, TransferMode.Partial));
        AssertUnchanged(target, before);
        Assert.Contains("Backbone2.bias", error.Message);
        Assert.Contains("element 3", error.Message);
        Assert.Contains("beyond the range of Single", error.Message);
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "∞")]
    [InlineData(float.NegativeInfinity, "−∞")]
    public void Non_finite_value_in_a_copied_source_tensor_is_rejected_and_the_target_is_untouched(float bad, string described)
    {
        TransferSourceNet source = Pretrained();
        LayerTensor weight = TensorOf(source, "Backbone2.weight"); // arena [16 in × 12 out]; file [12 out × 16 in]
        source.Parameters[weight.Offset + 1 * 12 + 2] = bad;      // input 1, output 2: file element 2·16 + 1
        var target = new TransferTargetNet(maxBatchSize: 4, seed: 2);
        var before = Snapshot(target);

        var error = Assert.Throws<ArgumentException>(() => WeightTransfer.Copy(source, target, TransferMode.Partial));

        AssertUnchanged(target, before);
        Assert.Contains("Backbone2.weight", error.Message);
        Assert.Contains($"element 33 (weight-file order) is {described}", error.Message);

        // Written to a safetensors file, the same value is rejected as bad data.
        using var file = new MemoryStream();
        SafeTensors.Save(source, file);
        file.Position = 0;
        var dataError = Assert.Throws<InvalidDataException>(() => SafeTensors.LoadMatching(target, file, TransferMode.Partial));
        AssertUnchanged(target, before);
        Assert.Contains("Backbone2.weight", dataError.Message);
    }

    [Fact]
    public void Non_finite_value_in_a_tensor_that_is_not_copied_does_not_stop_a_partial_transfer()
    {
        TransferSourceNet source = Pretrained();
        source.Parameters[TensorOf(source, "Head.weight").Offset] = float.NaN; // Head has other shapes in the target
        var target = new TransferTargetNet(maxBatchSize: 4, seed: 2);
        var before = Snapshot(target);

        WeightTransfer.Copy(source, target, TransferMode.Partial);

        AssertBackboneCopied(source, target, before);
    }

    [Fact]
    public void Safetensors_saved_from_one_network_load_partially_into_another()
    {
        TransferSourceNet source = Pretrained();
        var target = new TransferTargetNet(maxBatchSize: 4, seed: 2);
        var before = Snapshot(target);
        string path = Path.Combine(Path.GetTempPath(), $"kernelgen-transfer-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafeTensors.Save(source, path);
            TransferReport report = SafeTensors.LoadMatching(target, path, TransferMode.Partial);

            AssertBackboneCopied(source, target, before);
            AssertReport(report);
            Assert.Equal(path, report.Source);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Safetensors_strict_load_with_unmatched_tensors_throws_and_changes_nothing()
    {
        TransferSourceNet source = Pretrained();
        var target = new TransferTargetNet(maxBatchSize: 4, seed: 2);
        var before = Snapshot(target);
        using var file = new MemoryStream();
        SafeTensors.Save(source, file);
        file.Position = 0;

        var error = Assert.Throws<InvalidDataException>(() => SafeTensors.LoadMatching(target, file, TransferMode.Strict));

        AssertUnchanged(target, before);
        Assert.Contains("Head.weight: shape [10, 8] in source, [5, 12] in target", error.Message);
        Assert.Contains("Neck.bias: not in source", error.Message);
        Assert.Contains("OldHead.weight: not in target", error.Message);

        // Strict between files and networks of one specification loads everything.
        var twin = new TransferSourceNet(maxBatchSize: 4, seed: 9);
        file.Position = 0;
        Assert.True(SafeTensors.LoadMatching(twin, file, TransferMode.Strict).IsComplete);
        foreach (LayerTensor tensor in twin.Layers.SelectMany(l => l.Tensors)) // tensor by tensor: the arenas' padding is not a tensor
            Assert.Equal(Bits(Values(source, tensor.FileName)), Bits(Values(twin, tensor.FileName)));
    }

    [Fact]
    public void Safetensors_tensors_of_other_dtypes_are_unused_unless_they_would_be_copied()
    {
        // PyTorch's BatchNorm state_dict carries an int64 num_batches_tracked, which KernelGen does not read.
        TransferSourceNet source = Pretrained();
        var tensors = new List<(string Name, string DType, int[] Shape, byte[] Data)>();
        foreach (string name in Backbone)
        {
            float[] values = Values(source, name);
            LayerTensor tensor = TensorOf(source, name);
            if (tensor.FileLayout == FileLayout.Transposed) values = Transpose(values, tensor.Shape[0], tensor.Shape[1]);
            tensors.Add((name, "F32", tensor.FileShape.Dimensions.ToArray(), values.SelectMany(BitConverter.GetBytes).ToArray()));
        }
        tensors.Add(("BackboneNorm.num_batches_tracked", "I64", [], BitConverter.GetBytes(120L)));
        var target = new TransferTargetNet(maxBatchSize: 4, seed: 2);
        var before = Snapshot(target);

        TransferReport report = SafeTensors.LoadMatching(target, new MemoryStream(WriteSafeTensors(tensors)), TransferMode.Partial);

        AssertBackboneCopied(source, target, before);
        Assert.Equal(["BackboneNorm.num_batches_tracked"], report.Unused.Select(t => t.Name));
        Assert.Equal(new TensorShape(), report.Unused[0].SourceShape);

        // A tensor to be copied with a dtype KernelGen does not read is an error, not a silent skip.
        tensors[1] = (tensors[1].Name, "BF16", tensors[1].Shape, tensors[1].Data);
        var fresh = new TransferTargetNet(maxBatchSize: 4, seed: 2);
        var error = Assert.Throws<InvalidDataException>(() => SafeTensors.LoadMatching(fresh, new MemoryStream(WriteSafeTensors(tensors)), TransferMode.Partial));
        AssertUnchanged(fresh, before);
        Assert.Contains("Backbone1.bias has dtype BF16", error.Message);
    }

    [Fact]
    public void Checkpoint_of_the_pretrained_network_loads_partially_through_an_instance_of_its_type()
    {
        TransferSourceNet source = Pretrained();
        var target = new TransferTargetNet(maxBatchSize: 4, seed: 2);
        var before = Snapshot(target);
        string path = Path.Combine(Path.GetTempPath(), $"kernelgen-transfer-{Guid.NewGuid():N}.kgc");
        try
        {
            Checkpoint.Save(source, path);
            var decoder = new TransferSourceNet(maxBatchSize: 1, seed: 99);

            TransferReport report = WeightTransfer.FromCheckpoint(decoder, path, target, TransferMode.Partial);

            AssertBackboneCopied(source, target, before);
            AssertReport(report);
            Assert.Equal(Bits(source.Parameters), Bits(decoder.Parameters)); // the decoder holds the checkpoint's state
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Checkpoint_strict_mismatch_throws_before_reading_and_a_checkpoint_of_another_network_is_rejected()
    {
        TransferSourceNet source = Pretrained();
        using var checkpoint = new MemoryStream();
        Checkpoint.Save(source, checkpoint);
        var target = new TransferTargetNet(maxBatchSize: 4, seed: 2);
        var before = Snapshot(target);
        var decoder = new TransferSourceNet(maxBatchSize: 1, seed: 99);
        var decoderBefore = Snapshot(decoder);

        checkpoint.Position = 0;
        var error = Assert.Throws<InvalidDataException>(() => WeightTransfer.FromCheckpoint(decoder, checkpoint, target, TransferMode.Strict));
        Assert.Contains("Head.bias: shape [10] in source, [5] in target", error.Message);
        AssertUnchanged(target, before);
        AssertUnchanged(decoder, decoderBefore); // names and shapes are matched before the checkpoint is read
        Assert.Equal(0L, checkpoint.Position);

        // The decoder must be of the checkpoint's type: the fingerprint check of Checkpoint.Load rejects another one.
        checkpoint.Position = 0;
        var wrongDecoder = new TransferTargetNet(maxBatchSize: 1, seed: 4);
        Assert.Throws<InvalidDataException>(() => WeightTransfer.FromCheckpoint(wrongDecoder, checkpoint, target, TransferMode.Partial));
        AssertUnchanged(target, before);
    }

    [Fact]
    public void Partial_transfer_between_networks_with_no_common_names_copies_nothing_and_says_so()
    {
        var source = new SmoothNet(maxBatchSize: 1, seed: 1); // Dense1..Dense3, shapes unlike the target's Backbone/Neck/Head
        var target = new TransferTargetNet(maxBatchSize: 4, seed: 2);
        var before = Snapshot(target);

        TransferReport report = WeightTransfer.Copy(source, target, TransferMode.Partial);

        AssertUnchanged(target, before);
        Assert.Empty(report.Matched);
        Assert.Equal(12, report.Skipped.Count); // every target tensor: not in source
        Assert.All(report.Skipped, t => Assert.Equal(TransferSkipReason.NotInSource, t.Why));
        Assert.Equal(6, report.Unused.Count);
        Assert.Contains("0 copied", report.ToString());
    }

    [Fact]
    public void Arguments_are_checked()
    {
        var net = new TransferTargetNet(maxBatchSize: 1, seed: 1);
        Assert.Throws<ArgumentNullException>(() => WeightTransfer.Copy<float, float>(null!, net, TransferMode.Partial));
        Assert.Throws<ArgumentNullException>(() => WeightTransfer.Copy<float, float>(net, null!, TransferMode.Partial));
        Assert.Throws<ArgumentOutOfRangeException>(() => WeightTransfer.Copy(net, net, (TransferMode)7));
        Assert.Throws<ArgumentException>(() => WeightTransfer.FromCheckpoint(new TransferSourceNet(1, 1), "", net, TransferMode.Partial));
        Assert.Equal("checkpointNetwork", Assert.Throws<ArgumentException>(() => WeightTransfer.FromCheckpoint(net, "x.kgc", net, TransferMode.Partial)).ParamName);
        Assert.Throws<FileNotFoundException>(() => SafeTensors.LoadMatching(net, Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}.safetensors"), TransferMode.Partial));
    }

    private static float[] Transpose(float[] values, int rows, int columns)
    {
        var result = new float[values.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                result[c * rows + r] = values[r * columns + c];
        return result;
    }

    /// <summary>A safetensors file written by hand (as PyTorch would: any dtypes, header order as given).</summary>
    private static byte[] WriteSafeTensors(List<(string Name, string DType, int[] Shape, byte[] Data)> tensors)
    {
        var header = new StringBuilder("{");
        long offset = 0;
        foreach (var (name, dtype, shape, data) in tensors)
        {
            if (header.Length > 1) header.Append(',');
            header.Append($"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{offset},{offset + data.Length}]}}");
            offset += data.Length;
        }
        byte[] json = Encoding.UTF8.GetBytes(header.Append('}').ToString());
        var file = new MemoryStream();
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)json.Length);
        file.Write(prefix);
        file.Write(json);
        foreach (var tensor in tensors) file.Write(tensor.Data);
        return file.ToArray();
    }
}
