using System;
using System.Buffers.Binary;
using System.IO;
using System.Runtime.InteropServices;
using CsCheck;
using KernelGen.Checkpoints;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Toolkit.Tests;

/// <summary>Checkpoints whose checksum was recomputed after a change: the content checks alone must keep NaN/∞ out.</summary>
public sealed class CorruptCheckpointTests(ITestOutputHelper output)
{
    private const int Batch = 4;

    [Theory]
    [InlineData("parameters", float.NaN)]
    [InlineData("parameters", float.PositiveInfinity)]
    [InlineData("running statistics", float.NegativeInfinity)]
    [InlineData("optimizer", float.NaN)]
    public void A_non_finite_value_with_a_valid_checksum_is_rejected_and_nothing_changes(string section, float bad)
    {
        var source = Trained(1);
        byte[] file = Save(source);
        int at = SectionPayload(file, section switch { "parameters" => 1u, "running statistics" => 2u, _ => 3u });
        if (section == "optimizer") at += 32 + 4 * 5; // past the scalars, element 5 of the first state arena (Adam's m)
        else at += 4 * 3;                              // element 3
        BinaryPrimitives.WriteSingleLittleEndian(file.AsSpan(at), bad);
        RecomputeCrc(file);

        var target = Trained(2);
        byte[] before = StateBytes(target);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(target, new MemoryStream(file)));
        output.WriteLine(e.Message);
        Assert.Contains("non-finite", e.Message, StringComparison.Ordinal);
        Assert.Contains(section, e.Message, StringComparison.Ordinal);
        Assert.Equal(before, StateBytes(target));
    }

    [Fact]
    public void The_message_names_the_parameter_tensor()
    {
        var source = Trained(3);
        byte[] file = Save(source);
        ParameterTensor tensor = source.ParameterTensors[1];
        int at = SectionPayload(file, 1) + 4 * (tensor.Offset + 1);
        BinaryPrimitives.WriteSingleLittleEndian(file.AsSpan(at), float.NaN);
        RecomputeCrc(file);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(Trained(4), new MemoryStream(file)));
        Assert.Contains(tensor.Name, e.Message, StringComparison.Ordinal);
    }

    /// <summary>Mutations inside the sections, with the CRC-32C recomputed so that only the content checks stand between
    /// the bytes and the network: a load either fails with <see cref="InvalidDataException"/> leaving the target as it was,
    /// or leaves every value finite.</summary>
    [Fact]
    public void Mutated_checkpoints_with_recomputed_checksums_never_load_non_finite_values()
    {
        byte[] original = Save(Trained(5));
        byte[] sentinel = StateBytes(Trained(6));
        int rejected = 0, loaded = 0;
        // Bytes 0x7F, 0xFF and 0x80 set exponent bits, so many overwrites make NaN or ±∞ (random bytes rarely do).
        Gen<byte> value = Gen.Frequency((1, Gen.Byte), (1, Gen.Int[0, 2].Select(i => new byte[] { 0x7F, 0xFF, 0x80 }[i])));
        Gen.Select(Gen.Int[24, original.Length - 5], value.Array[1, 4], Gen.Bool).Sample((at, bytes, seekable) =>
        {
            byte[] mutated = (byte[])original.Clone();
            bytes.AsSpan(0, Math.Min(bytes.Length, mutated.Length - 4 - at)).CopyTo(mutated.AsSpan(at));
            RecomputeCrc(mutated);
            CheckpointNet target = Trained(6);
            try
            {
                Checkpoint.Load(target, LoaderFuzz.Open(mutated, seekable));
                loaded++;
                Assert.True(AllFinite(target.Parameters) && AllFinite(target.RunningStatistics)
                    && AllFinite(target.Optimizer.State(0)) && AllFinite(target.Optimizer.State(1)),
                    $"overwrite at {at} with {Convert.ToHexString(bytes)} loaded a non-finite value");
            }
            catch (InvalidDataException)
            {
                Assert.Equal(sentinel, StateBytes(target));
                rejected++;
            }
        }, iter: 2000, threads: 1);
        output.WriteLine($"2000 mutations: {rejected} rejected, {loaded} loaded (finite values)");
        Assert.True(rejected > 150 && loaded > 400, $"{rejected} rejected, {loaded} loaded");
    }

    private static CheckpointNet Trained(int seed)
    {
        var net = new CheckpointNet(Batch, seed: (ulong)seed);
        var random = new Random(seed);
        var x = new float[Batch * net.InputSize];
        var y = new int[Batch];
        for (int step = 0; step < 3; step++)
        {
            for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
            for (int i = 0; i < y.Length; i++) y[i] = random.Next(net.OutputSize);
            net.TrainStep(x, y);
        }
        return net;
    }

    private static byte[] Save(CheckpointNet net)
    {
        var stream = new MemoryStream();
        Checkpoint.Save(net, stream);
        return stream.ToArray();
    }

    /// <summary>The payload offset of the section of <paramref name="kind"/>, walked from the documented layout.</summary>
    private static int SectionPayload(byte[] file, uint kind)
    {
        int at = 24;
        while (BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at)) != kind)
            at += 16 + (int)BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(at + 8));
        return at + 16;
    }

    private static void RecomputeCrc(byte[] file) =>
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(file.Length - 4), Crc32C.Compute(file.AsSpan(0, file.Length - 4)));

    private static byte[] StateBytes(CheckpointNet net) =>
    [
        .. MemoryMarshal.AsBytes(net.Parameters), .. MemoryMarshal.AsBytes(net.RunningStatistics),
        .. MemoryMarshal.AsBytes(net.Optimizer.State(0)), .. MemoryMarshal.AsBytes(net.Optimizer.State(1)),
        .. BitConverter.GetBytes(net.Optimizer.StepCount), .. BitConverter.GetBytes(net.DropoutStep),
    ];

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (float v in values) if (!float.IsFinite(v)) return false;
        return true;
    }
}
