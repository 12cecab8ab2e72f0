using System;
using System.Buffers.Binary;
using System.IO;
using System.Numerics;
using System.Runtime.InteropServices;
using CsCheck;
using KernelGen.Checkpoints;
using KernelGen.Optimization;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Toolkit.Tests;

/// <summary>
/// Checkpoints: exact round trips, bit-identical resumption, rejection of every kind of damage with the network left
/// untouched, atomic file saves, and a fuzz test over mutated checkpoints. Expected values come from the networks' own
/// spans captured before and after (never from the checkpoint code), and from training runs that were never interrupted.
/// </summary>
public sealed class CheckpointTests(ITestOutputHelper output) : IDisposable
{
    private const int Batch = 8;
    private readonly string _directory = Directory.CreateTempSubdirectory("kernelgen-checkpoint-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    // ---------------------------------------------------------------- round trips

    [Fact]
    public void Round_trip_restores_every_state_bit_for_bit_float()
    {
        var source = new CheckpointNet(Batch, seed: 1);
        Train(source, Data<float>(5, 0, source.InputSize, source.OutputSize), 0, 7);
        source.Optimizer.LearningRate = 0.0123; // not representable as float: the checkpoint must keep the double
        State expected = Capture(source, source.Optimizer);
        byte[] userData = [1, 2, 3, 250, 0, 7];

        var stream = new MemoryStream();
        Checkpoint.Save(source, stream, userData);
        AssertSame(expected, Capture(source, source.Optimizer), "saving changed the source");

        var target = DivergedTarget(() => new CheckpointNet(Batch, seed: 42));
        stream.Position = 0;
        byte[] restored = Checkpoint.Load(target, stream);

        Assert.Equal(stream.Length, stream.Position);
        Assert.Equal(userData, restored);
        AssertSame(expected with { Gradients = Zeros(expected.Gradients.Length) }, Capture(target, target.Optimizer), "restored");
        Assert.Equal(0.0123, target.Optimizer.LearningRate);
    }

    [Fact]
    public void Round_trip_restores_every_state_bit_for_bit_double()
    {
        var source = new CheckpointNet.Float64(Batch, seed: 1);
        Train(source, Data<double>(5, 0, source.InputSize, source.OutputSize), 0, 9);
        State expected = Capture(source, source.Optimizer);

        var stream = new MemoryStream();
        Checkpoint.Save(source, stream);
        var target = DivergedTarget(() => new CheckpointNet.Float64(Batch, seed: 42));
        stream.Position = 0;
        byte[] restored = Checkpoint.Load(target, stream);

        Assert.Empty(restored);
        AssertSame(expected with { Gradients = Zeros(expected.Gradients.Length) }, Capture(target, target.Optimizer), "restored");
    }

    [Fact]
    public void Round_trip_through_a_file_with_user_data()
    {
        var source = new NAdamCheckpointNet(Batch, seed: 3);
        Train(source, Data<float>(3, 1, source.InputSize, source.OutputSize), 0, 6);
        State expected = Capture(source, source.Optimizer);
        Assert.NotEqual(BitConverter.DoubleToInt64Bits(1.0), expected.MomentumProductBits); // NAdam's product has moved
        var userData = new byte[100_000];
        new Random(5).NextBytes(userData);
        string path = Path.Combine(_directory, "nadam.kgc");

        Checkpoint.Save(source, path, userData);
        var target = new NAdamCheckpointNet(Batch, seed: 77);
        byte[] restored = Checkpoint.Load(target, path);

        Assert.Equal(userData, restored);
        AssertSame(expected with { Gradients = Zeros(expected.Gradients.Length) }, Capture(target, target.Optimizer), "restored from file");
        Assert.Equal([path], Directory.GetFiles(_directory));
    }

    [Fact]
    public void Network_without_optimizer_round_trips()
    {
        var source = new PlainCheckpointNet(Batch, seed: 1);
        source.DropoutStep = 5;
        var stream = new MemoryStream();
        Checkpoint.Save(source, stream);
        var target = new PlainCheckpointNet(Batch, seed: 2);
        stream.Position = 0;
        Checkpoint.Load(target, stream);
        AssertSame(Capture(source, null), Capture(target, null), "plain network");
    }

    [Fact]
    public void Checkpoints_follow_each_other_in_one_stream()
    {
        var first = new CheckpointNet(Batch, seed: 1);
        var second = new CheckpointNet(Batch, seed: 2);
        var stream = new MemoryStream();
        Checkpoint.Save(first, stream, [1]);
        Checkpoint.Save(second, stream, [2]);

        stream.Position = 0;
        var target = new CheckpointNet(Batch, seed: 3);
        Assert.Equal([1], Checkpoint.Load(target, stream));
        AssertSame(Capture(first, first.Optimizer), Capture(target, target.Optimizer), "first");
        Assert.Equal([2], Checkpoint.Load(target, stream));
        AssertSame(Capture(second, second.Optimizer), Capture(target, target.Optimizer), "second");
        Assert.Equal(stream.Length, stream.Position);
    }

    // ---------------------------------------------------------------- resumption

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(39)]
    public void Resumed_training_is_bit_identical_to_uninterrupted_training_float(int k)
    {
        const int n = 40;
        var data = Data<float>(5, 0, CheckpointNet.InputFeatures, CheckpointNet.OutputFeatures);
        var uninterrupted = new CheckpointNet(Batch, seed: 11);
        float[] lossesA = Train(uninterrupted, data, 0, n);

        var first = new CheckpointNet(Batch, seed: 11);
        float[] lossesB = Train(first, data, 0, k);
        string path = Path.Combine(_directory, $"resume-{k}.kgc");
        Checkpoint.Save(first, path, BitConverter.GetBytes(k));

        var resumed = new CheckpointNet(Batch, seed: 12345); // a different seed: different weights and dropout seed
        int epoch = BitConverter.ToInt32(Checkpoint.Load(resumed, path));
        Assert.Equal(k, epoch);
        float[] lossesC = Train(resumed, data, k, n);

        Assert.Equal(lossesA.AsSpan(0, k).ToArray(), lossesB);
        for (int i = k; i < n; i++) Assert.Equal(BitConverter.SingleToInt32Bits(lossesA[i]), BitConverter.SingleToInt32Bits(lossesC[i - k]));
        AssertSame(Capture(uninterrupted, uninterrupted.Optimizer), Capture(resumed, resumed.Optimizer), $"resumed at step {k}");
        Assert.Equal(n, resumed.Optimizer.StepCount);
        AssertSamePredictions<float>(uninterrupted, resumed, data.Inputs[0]);
    }

    [Fact]
    public void Resumed_training_is_bit_identical_to_uninterrupted_training_double()
    {
        const int n = 30, k = 13;
        var data = Data<double>(4, 2, CheckpointNet.InputFeatures, CheckpointNet.OutputFeatures);
        var uninterrupted = new CheckpointNet.Float64(Batch, seed: 5);
        Train(uninterrupted, data, 0, n);

        var first = new CheckpointNet.Float64(Batch, seed: 5);
        Train(first, data, 0, k);
        var stream = new MemoryStream();
        Checkpoint.Save(first, stream);
        Train(first, data, k, k + 3); // training on after saving must not leak into the checkpoint

        var resumed = new CheckpointNet.Float64(Batch, seed: 99);
        stream.Position = 0;
        Checkpoint.Load(resumed, stream);
        Train(resumed, data, k, n);

        AssertSame(Capture(uninterrupted, uninterrupted.Optimizer), Capture(resumed, resumed.Optimizer), "double resumed");
        AssertSamePredictions<double>(uninterrupted, resumed, data.Inputs[1]);
    }

    [Fact]
    public void Resumed_nadam_training_is_bit_identical_to_uninterrupted_training()
    {
        const int n = 25, k = 10;
        var data = Data<float>(3, 3, NAdamCheckpointNet.InputFeatures, NAdamCheckpointNet.OutputFeatures);
        var uninterrupted = new NAdamCheckpointNet(Batch, seed: 8);
        Train(uninterrupted, data, 0, n);

        var first = new NAdamCheckpointNet(Batch, seed: 8);
        Train(first, data, 0, k);
        var stream = new MemoryStream();
        Checkpoint.Save(first, stream);
        var resumed = new NAdamCheckpointNet(Batch, seed: 1);
        stream.Position = 0;
        Checkpoint.Load(resumed, stream);
        Train(resumed, data, k, n);

        AssertSame(Capture(uninterrupted, uninterrupted.Optimizer), Capture(resumed, resumed.Optimizer), "NAdam resumed");
    }

    /// <summary>The control for the resumption tests: restoring everything except the optimizer state does not resume
    /// exactly, so those tests would notice a checkpoint that dropped it.</summary>
    [Fact]
    public void Resuming_without_the_optimizer_state_diverges()
    {
        const int n = 20, k = 8;
        var data = Data<float>(5, 0, CheckpointNet.InputFeatures, CheckpointNet.OutputFeatures);
        var uninterrupted = new CheckpointNet(Batch, seed: 11);
        Train(uninterrupted, data, 0, n);
        var first = new CheckpointNet(Batch, seed: 11);
        Train(first, data, 0, k);
        var stream = new MemoryStream();
        Checkpoint.Save(first, stream);

        var partial = new CheckpointNet(Batch, seed: 11);
        stream.Position = 0;
        Checkpoint.Load(partial, optimizer: null, stream);
        Assert.Equal(0, partial.Optimizer.StepCount);
        Train(partial, data, k, n);

        Assert.False(MemoryMarshal.AsBytes(partial.Parameters).SequenceEqual(MemoryMarshal.AsBytes(uninterrupted.Parameters)));
    }

    // ---------------------------------------------------------------- damage

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Every_truncation_is_rejected_and_the_network_is_unchanged(bool seekable)
    {
        byte[] valid = ValidCheckpoint([9, 8, 7]);
        var target = DivergedTarget(() => new CheckpointNet(Batch, seed: 42));
        State before = Capture(target, target.Optimizer);
        for (int length = 0; length < valid.Length; length++)
        {
            Stream stream = new MemoryStream(valid, 0, length);
            if (!seekable) stream = new ForwardOnlyStream(stream);
            var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(target, stream));
            Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
            AssertSame(before, Capture(target, target.Optimizer), $"after loading the first {length} bytes");
        }
    }

    [Fact]
    public void Every_changed_byte_is_rejected_and_the_network_is_unchanged()
    {
        byte[] valid = ValidCheckpoint([9, 8, 7]);
        var target = DivergedTarget(() => new CheckpointNet(Batch, seed: 42));
        State before = Capture(target, target.Optimizer);
        var random = new KernelRandom(17);
        for (int i = 0; i < valid.Length; i++)
        {
            foreach (byte mask in new[] { (byte)(1 << (i % 8)), (byte)0xFF, (byte)(1 + random.NextUInt64() % 255) })
            {
                byte[] damaged = (byte[])valid.Clone();
                damaged[i] ^= mask;
                Assert.Throws<InvalidDataException>(() => Checkpoint.Load(target, new MemoryStream(damaged)));
                AssertSame(before, Capture(target, target.Optimizer), $"after byte {i} ^= 0x{mask:X2}");
            }
        }
    }

    [Fact]
    public void A_changed_payload_byte_fails_the_checksum()
    {
        byte[] damaged = ValidCheckpoint([]);
        damaged[24 + 16 + 5] ^= 0x10; // inside the first parameter
        var target = new CheckpointNet(Batch, seed: 42);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(target, new MemoryStream(damaged)));
        Assert.Contains("CRC-32C", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_element_type_is_rejected_both_ways()
    {
        var single = new CheckpointNet(Batch, seed: 1);
        var twin = new CheckpointNet.Float64(Batch, seed: 2);
        Assert.Equal(single.Fingerprint, twin.Fingerprint);
        var floatCheckpoint = new MemoryStream();
        Checkpoint.Save(single, floatCheckpoint);
        var doubleCheckpoint = new MemoryStream();
        Checkpoint.Save(twin, doubleCheckpoint);

        State twinBefore = Capture(twin, twin.Optimizer), singleBefore = Capture(single, single.Optimizer);
        floatCheckpoint.Position = 0;
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(twin, floatCheckpoint));
        Assert.Contains("float32 elements", e.Message, StringComparison.Ordinal);
        Assert.Contains("float64", e.Message, StringComparison.Ordinal);
        doubleCheckpoint.Position = 0;
        e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(single, doubleCheckpoint));
        Assert.Contains("element type", e.Message, StringComparison.Ordinal);
        AssertSame(twinBefore, Capture(twin, twin.Optimizer), "double twin");
        AssertSame(singleBefore, Capture(single, single.Optimizer), "float network");
    }

    [Fact]
    public void Checkpoint_of_another_specification_is_rejected()
    {
        var stream = new MemoryStream(ValidCheckpoint([]));
        var other = new OtherCheckpointNet(Batch, seed: 4);
        State before = Capture(other, other.Optimizer);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(other, stream));
        Assert.Contains("different network specification", e.Message, StringComparison.Ordinal);
        Assert.Contains(CheckpointNet.SpecFingerprint.ToString("X16"), e.Message, StringComparison.Ordinal);
        AssertSame(before, Capture(other, other.Optimizer), "other network");
    }

    [Fact]
    public void Optimizer_with_another_state_layout_is_rejected()
    {
        var plain = new SgdCheckpointNet(Batch, seed: 1);
        var momentum = new MomentumCheckpointNet(Batch, seed: 2);
        Assert.Equal(0, plain.Optimizer.StateSlots);
        Assert.Equal(1, momentum.Optimizer.StateSlots);
        var stream = new MemoryStream();
        Checkpoint.Save(plain, stream);
        stream.Position = 0;
        State before = Capture(momentum, momentum.Optimizer);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(momentum, stream));
        // The fingerprint covers the optimizer's kind but not its hyperparameters, so the state layout check is what fires.
        Assert.Contains(plain.Fingerprint == momentum.Fingerprint ? "state arenas" : "fingerprint", e.Message, StringComparison.Ordinal);
        AssertSame(before, Capture(momentum, momentum.Optimizer), "momentum network");
    }

    [Fact]
    public void Checkpoint_without_optimizer_state_loads_only_without_an_optimizer()
    {
        var source = new CheckpointNet(Batch, seed: 1);
        Train(source, Data<float>(2, 0, source.InputSize, source.OutputSize), 0, 3);
        var stream = new MemoryStream();
        Checkpoint.Save(source, optimizer: null, stream);

        var target = DivergedTarget(() => new CheckpointNet(Batch, seed: 42));
        State before = Capture(target, target.Optimizer);
        stream.Position = 0;
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(target, stream));
        Assert.Contains("no optimizer state", e.Message, StringComparison.Ordinal);
        AssertSame(before, Capture(target, target.Optimizer), "after the refused load");

        stream.Position = 0;
        Checkpoint.Load(target, optimizer: null, stream);
        State after = Capture(target, target.Optimizer);
        State sourceState = Capture(source, source.Optimizer);
        Assert.Equal(sourceState.Parameters, after.Parameters);
        Assert.Equal(sourceState.Statistics, after.Statistics);
        Assert.Equal(before.Slots, after.Slots); // the optimizer was left alone
        Assert.Equal(before.StepCount, after.StepCount);
    }

    [Fact]
    public void Another_networks_optimizer_is_refused_before_reading()
    {
        var stream = new MemoryStream(ValidCheckpoint([]));
        var target = new CheckpointNet(Batch, seed: 42);
        var foreign = new MomentumCheckpointNet(Batch, seed: 1);
        State before = Capture(target, target.Optimizer);
        var e = Assert.Throws<ArgumentException>(() => Checkpoint.Load(target, foreign.Optimizer, stream));
        Assert.Equal("optimizer", e.ParamName);
        Assert.Equal(0, stream.Position);
        AssertSame(before, Capture(target, target.Optimizer), "target");
    }

    [Fact]
    public void Not_a_checkpoint_and_future_versions_are_rejected()
    {
        var target = new CheckpointNet(Batch, seed: 42);
        State before = Capture(target, target.Optimizer);
        byte[] text = "epoch,loss\n1,0.5\n2,0.25\n3,0.125\n4,0.0625\n"u8.ToArray();
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(target, new MemoryStream(text)));
        Assert.Contains("signature", e.Message, StringComparison.Ordinal);

        // A text-mode transfer turning the signature's CR LF into LF.
        byte[] valid = ValidCheckpoint([]);
        byte[] mangled = [.. valid.AsSpan(0, 4), .. valid.AsSpan(5)];
        e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(target, new MemoryStream(mangled)));
        Assert.Contains("text-mode", e.Message, StringComparison.Ordinal);

        byte[] future = (byte[])valid.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(future.AsSpan(8), 2);
        e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(target, new MemoryStream(future)));
        Assert.Contains("format version 2", e.Message, StringComparison.Ordinal);
        AssertSame(before, Capture(target, target.Optimizer), "target");
    }

    /// <summary>Headers claiming enormous sizes are refused before anything that size is allocated, on seekable and
    /// forward-only streams.</summary>
    [Theory]
    [InlineData("section count", true)]
    [InlineData("parameter count", true)]
    [InlineData("parameter bytes", true)]
    [InlineData("optimizer bytes", true)]
    [InlineData("user data", true)]
    [InlineData("user data", false)]
    [InlineData("user data over the limit", false)]
    public void Absurd_sizes_are_rejected_without_large_allocations(string field, bool seekable)
    {
        byte[] valid = ValidCheckpoint([1, 2, 3, 4]);
        int[] sections = SectionOffsets(valid);
        byte[] damaged = (byte[])valid.Clone();
        Span<byte> d = damaged;
        switch (field)
        {
            case "section count": BinaryPrimitives.WriteUInt32LittleEndian(d[12..], uint.MaxValue); break;
            case "parameter count": BinaryPrimitives.WriteUInt32LittleEndian(d[(sections[0] + 4)..], 0x7FFF_FFFF); break;
            case "parameter bytes": BinaryPrimitives.WriteUInt64LittleEndian(d[(sections[0] + 8)..], ulong.MaxValue); break;
            case "optimizer bytes": BinaryPrimitives.WriteUInt64LittleEndian(d[(sections[2] + 8)..], 1UL << 40); break;
            case "user data":
                BinaryPrimitives.WriteUInt32LittleEndian(d[(sections[4] + 4)..], (uint)Checkpoint.MaxUserDataLength);
                BinaryPrimitives.WriteUInt64LittleEndian(d[(sections[4] + 8)..], (ulong)Checkpoint.MaxUserDataLength);
                break;
            case "user data over the limit":
                BinaryPrimitives.WriteUInt32LittleEndian(d[(sections[4] + 4)..], uint.MaxValue);
                BinaryPrimitives.WriteUInt64LittleEndian(d[(sections[4] + 8)..], uint.MaxValue);
                break;
        }
        var target = DivergedTarget(() => new CheckpointNet(Batch, seed: 42));
        State before = Capture(target, target.Optimizer);
        Stream stream = seekable ? new MemoryStream(damaged) : new ForwardOnlyStream(new MemoryStream(damaged));
        Checkpoint.Load(new CheckpointNet(Batch), new MemoryStream(valid)); // warm-up

        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(target, stream));
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        output.WriteLine($"{field}, seekable {seekable}: {e.Message} ({allocated} bytes allocated)");
        Assert.True(allocated < 4 << 20, $"loading allocated {allocated} bytes");
        AssertSame(before, Capture(target, target.Optimizer), field);
    }

    [Fact]
    public void File_errors_name_the_file()
    {
        byte[] valid = ValidCheckpoint([]);
        string path = Path.Combine(_directory, "damaged.kgc");
        File.WriteAllBytes(path, valid.AsSpan(0, valid.Length - 1));
        var target = new CheckpointNet(Batch, seed: 42);
        State before = Capture(target, target.Optimizer);

        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(target, path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);

        // A file holds one checkpoint and nothing after it.
        File.WriteAllBytes(path, [.. valid, 0]);
        e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(target, path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("1 unexpected bytes after", e.Message, StringComparison.Ordinal);
        AssertSame(before, Capture(target, target.Optimizer), "target");
    }

    // ---------------------------------------------------------------- atomic saves

    [Fact]
    public void File_save_replaces_the_previous_checkpoint_and_leaves_no_temporary_file()
    {
        string path = Path.Combine(_directory, "run.kgc");
        var net = new CheckpointNet(Batch, seed: 1);
        Checkpoint.Save(net, path);
        Train(net, Data<float>(2, 0, net.InputSize, net.OutputSize), 0, 2);
        State expected = Capture(net, net.Optimizer);
        Checkpoint.Save(net, path, [42]);

        Assert.Equal([path], Directory.GetFiles(_directory));
        var target = new CheckpointNet(Batch, seed: 9);
        Assert.Equal([42], Checkpoint.Load(target, path));
        AssertSame(expected with { Gradients = Zeros(expected.Gradients.Length) }, Capture(target, target.Optimizer), "second save");
    }

    [Fact]
    public void Failed_file_save_keeps_the_previous_file_and_removes_the_temporary_file()
    {
        string path = Path.Combine(_directory, "run.kgc");
        var net = new CheckpointNet(Batch, seed: 1);
        Checkpoint.Save(net, path, [1]);
        byte[] previous = File.ReadAllBytes(path);

        Train(net, Data<float>(2, 0, net.InputSize, net.OutputSize), 0, 2);
        // Fails after the parameters, statistics and optimizer state are written: the middle of the save.
        var failing = new FailingNetwork<float>(net, _directory);
        var e = Assert.Throws<IOException>(() => Checkpoint.Save(failing, net.Optimizer, path, [2]));
        Assert.Equal(FailingNetwork<float>.Message, e.Message);

        Assert.NotNull(failing.FilesAtFailure);
        Assert.Equal(2, failing.FilesAtFailure.Length); // the previous checkpoint and the temporary file being written
        string temporary = Assert.Single(failing.FilesAtFailure, f => f != path);
        Assert.Equal(_directory, Path.GetDirectoryName(temporary));
        Assert.Equal(previous, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(_directory));
        var target = new CheckpointNet(Batch, seed: 9);
        Assert.Equal([1], Checkpoint.Load(target, path));
    }

    [Fact]
    public void Save_into_a_missing_directory_fails_without_creating_anything()
    {
        string path = Path.Combine(_directory, "missing", "run.kgc");
        Assert.Throws<DirectoryNotFoundException>(() => Checkpoint.Save(new CheckpointNet(Batch), path));
        Assert.Empty(Directory.GetFileSystemEntries(_directory));
    }

    // ---------------------------------------------------------------- fuzzing

    /// <summary>
    /// Mutated checkpoints (bit flips, truncations, header fields overwritten with large values, inserted, deleted and
    /// overwritten bytes) are rejected with <see cref="InvalidDataException"/> and nothing else, with the target left as it
    /// was and no large allocation; a load succeeds only when the bytes it consumed are exactly the original checkpoint.
    /// </summary>
    [Fact]
    public void Mutated_checkpoints_are_rejected_or_harmless()
    {
        var source = new CheckpointNet(Batch, seed: 1);
        Train(source, Data<float>(2, 0, source.InputSize, source.OutputSize), 0, 3);
        var stream = new MemoryStream();
        Checkpoint.Save(source, stream, [5, 6, 7, 8, 9]);
        byte[] original = stream.ToArray();
        State saved = Capture(source, source.Optimizer);
        saved = saved with { Gradients = Zeros(saved.Gradients.Length) };
        int[] fields = FieldOffsets(original);

        CheckpointNet target = DivergedTarget(() => new CheckpointNet(Batch, seed: 42));
        int rejected = 0, accepted = 0;
        Gen.Select(Mutations(original.Length, fields), Gen.Bool).Sample((mutation, seekable) =>
        {
            byte[] mutated = mutation.Apply(original);
            State before = Capture(target, target.Optimizer);
            Stream input = seekable ? new MemoryStream(mutated) : new ForwardOnlyStream(new MemoryStream(mutated));
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            bool loaded;
            try
            {
                Checkpoint.Load(target, input);
                loaded = true;
            }
            catch (InvalidDataException)
            {
                loaded = false;
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"{mutation} threw {e.GetType().Name} instead of InvalidDataException: {e.Message}", e);
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            Assert.True(allocated < (3 << 20) + 4L * original.Length, $"{mutation} allocated {allocated} bytes");
            if (loaded)
            {
                long consumed = seekable ? input.Position : ((ForwardOnlyStream)input).Consumed;
                Assert.True(consumed == original.Length && mutated.AsSpan(0, original.Length).SequenceEqual(original),
                    $"{mutation} changed the checkpoint but loaded");
                AssertSame(saved, Capture(target, target.Optimizer), mutation.ToString());
                target = DivergedTarget(() => new CheckpointNet(Batch, seed: 42));
                accepted++;
            }
            else
            {
                AssertSame(before, Capture(target, target.Optimizer), mutation.ToString());
                rejected++;
            }
        }, iter: 3000, threads: 1);
        output.WriteLine($"{rejected} rejected, {accepted} accepted (no-op mutations)");
        Assert.True(rejected > 2500);
    }

    private static Gen<Mutation> Mutations(int length, int[] fields)
    {
        Gen<ulong> large = Gen.OneOf(
            Gen.Const(0xFFFF_FFFFUL), Gen.Const(0x7FFF_FFFFUL), Gen.Const(0x8000_0000UL), Gen.Const(1UL << 30), Gen.Const(ulong.MaxValue),
            Gen.Const(0UL), Gen.ULong, Gen.UInt.Select(u => (ulong)u));
        return Gen.OneOf(
            Gen.Int[0, length * 8 - 1].Select(bit => new Mutation("flip bit", bit / 8, bit % 8, [])),
            Gen.Int[0, length - 1].Select(n => new Mutation("truncate to", n, 0, [])),
            Gen.Select(Gen.Int[0, fields.Length - 1], large, Gen.Bool, (f, value, wide) =>
            {
                byte[] bytes = new byte[wide ? 8 : 4];
                if (wide) BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
                else BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)value);
                return new Mutation("overwrite field at", fields[f], 0, bytes);
            }),
            Gen.Select(Gen.Int[0, length], Gen.Byte.Array[1, 16], (at, bytes) => new Mutation("insert at", at, 0, bytes)),
            Gen.Select(Gen.Int[0, length - 1], Gen.Int[1, 16], (at, n) => new Mutation("delete at", at, n, [])),
            Gen.Select(Gen.Int[0, length - 1], Gen.Byte.Array[1, 8], (at, bytes) => new Mutation("overwrite at", at, 0, bytes)));
    }

    private sealed record Mutation(string Kind, int Position, int Count, byte[] Bytes)
    {
        public byte[] Apply(byte[] original)
        {
            switch (Kind)
            {
                case "flip bit":
                {
                    byte[] result = (byte[])original.Clone();
                    result[Position] ^= (byte)(1 << Count);
                    return result;
                }
                case "truncate to": return original.AsSpan(0, Position).ToArray();
                case "insert at": return [.. original.AsSpan(0, Position), .. Bytes, .. original.AsSpan(Position)];
                case "delete at": return [.. original.AsSpan(0, Position), .. original.AsSpan(Math.Min(original.Length, Position + Count))];
                default:
                {
                    byte[] result = (byte[])original.Clone();
                    Bytes.AsSpan(0, Math.Min(Bytes.Length, result.Length - Position)).CopyTo(result.AsSpan(Position));
                    return result;
                }
            }
        }

        public override string ToString() => $"{Kind} {Position} (count {Count}, bytes {Convert.ToHexString(Bytes)})";
    }

    // ---------------------------------------------------------------- allocation and checksum

    [Fact]
    public void Save_into_a_preallocated_stream_allocates_almost_nothing()
    {
        var net = new CheckpointNet(Batch, seed: 1);
        var twin = new CheckpointNet.Float64(Batch, seed: 1);
        byte[] userData = new byte[64];
        var stream = new MemoryStream(1 << 16);
        void SaveBoth()
        {
            stream.Position = 0;
            Checkpoint.Save(net, stream, userData);
            Checkpoint.Save(twin, stream, userData);
        }
        KernelGen.Tests.HotLoop.WarmUp(SaveBoth); // tiered JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) SaveBoth();
        long perSave = (GC.GetAllocatedBytesForCurrentThread() - before) / 40;
        output.WriteLine($"{perSave} bytes allocated per save of {stream.Position / 2} bytes");
        Assert.True(perSave <= 64, $"{perSave} bytes allocated per save");
    }

    [Fact]
    public void Crc32C_matches_a_bitwise_reference()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
        Assert.Equal(0u, Crc32C.Compute([]));
        var data = new byte[1000];
        new Random(3).NextBytes(data);
        foreach (int length in new[] { 1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000 })
        {
            uint expected = ReferenceCrc32C(data.AsSpan(0, length));
            Assert.Equal(expected, Crc32C.Compute(data.AsSpan(0, length)));
            for (int split = 0; split <= length; split += Math.Max(1, length / 13))
                Assert.Equal(expected, Crc32C.Append(Crc32C.Compute(data.AsSpan(0, split)), data.AsSpan(split, length - split)));
        }
    }

    // Bit by bit from the definition: reflected polynomial 0x82F63B78, initial and final XOR 0xFFFFFFFF.
    private static uint ReferenceCrc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFF_FFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0x82F6_3B78u & (0u - (crc & 1)));
        }
        return ~crc;
    }

    // ---------------------------------------------------------------- helpers

    private sealed record TrainingData<T>(T[][] Inputs, int[][] Labels, T[][] Targets);

    /// <summary><paramref name="batches"/> batches of <see cref="Batch"/> random samples, with class labels and target vectors.</summary>
    private static TrainingData<T> Data<T>(int batches, ulong seed, int inputs, int outputs) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var random = new KernelRandom(seed, 77);
        var x = new T[batches][];
        var labels = new int[batches][];
        var targets = new T[batches][];
        for (int b = 0; b < batches; b++)
        {
            x[b] = new T[Batch * inputs];
            for (int i = 0; i < x[b].Length; i++) x[b][i] = T.CreateTruncating(random.NextDouble() * 2 - 1);
            labels[b] = new int[Batch];
            for (int i = 0; i < Batch; i++) labels[b][i] = (int)(random.NextUInt64() % (ulong)outputs);
            targets[b] = new T[Batch * outputs];
            for (int i = 0; i < targets[b].Length; i++) targets[b][i] = T.CreateTruncating(random.NextDouble());
        }
        return new TrainingData<T>(x, labels, targets);
    }

    /// <summary>Trains steps [from, to) on batch step % batches; returns the losses.</summary>
    private static T[] Train<T>(INeuralNetwork<T> network, TrainingData<T> data, int from, int to) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var losses = new T[to - from];
        for (int step = from; step < to; step++)
        {
            int b = step % data.Inputs.Length;
            losses[step - from] = network switch
            {
                ITrainableNetwork<T, int> classifier => classifier.TrainStep(data.Inputs[b], data.Labels[b]),
                ITrainableNetwork<T, T> regressor => regressor.TrainStep(data.Inputs[b], data.Targets[b]),
                _ => throw new ArgumentException("Not trainable.", nameof(network)),
            };
        }
        return losses;
    }

    /// <summary>A network whose every piece of state differs from a freshly saved one's: trained on other data.</summary>
    private static TNet DivergedTarget<TNet>(Func<TNet> create) where TNet : ITrainableNetwork<float, int>
    {
        TNet net = create();
        var data = Data<float>(2, 99, net.InputSize, net.OutputSize);
        for (int i = 0; i < 4; i++) net.TrainStep(data.Inputs[i % 2], data.Labels[i % 2]);
        return net;
    }

    private static CheckpointNet.Float64 DivergedTarget(Func<CheckpointNet.Float64> create)
    {
        CheckpointNet.Float64 net = create();
        Train(net, Data<double>(2, 99, net.InputSize, net.OutputSize), 0, 4);
        return net;
    }

    private static byte[] ValidCheckpoint(byte[] userData)
    {
        var net = new CheckpointNet(Batch, seed: 1);
        Train(net, Data<float>(2, 0, net.InputSize, net.OutputSize), 0, 3);
        var stream = new MemoryStream();
        Checkpoint.Save(net, stream, userData);
        return stream.ToArray();
    }

    /// <summary>Offsets of the section headers, walked from the documented layout.</summary>
    private static int[] SectionOffsets(byte[] checkpoint)
    {
        int count = (int)BinaryPrimitives.ReadUInt32LittleEndian(checkpoint.AsSpan(12));
        var offsets = new int[count];
        int at = 24;
        for (int s = 0; s < count; s++)
        {
            offsets[s] = at;
            at += 16 + (int)BinaryPrimitives.ReadUInt64LittleEndian(checkpoint.AsSpan(at + 8));
        }
        Assert.Equal(checkpoint.Length - 4, at);
        return offsets;
    }

    /// <summary>Offsets of every header field: version, element type, section count, fingerprint, and each section's
    /// kind, element count and length; plus the optimizer section's slot count, kind, step count, momentum product
    /// and learning rate, and the trailing checksum.</summary>
    private static int[] FieldOffsets(byte[] checkpoint)
    {
        var fields = new System.Collections.Generic.List<int> { 8, 10, 12, 16 };
        int[] sections = SectionOffsets(checkpoint);
        foreach (int s in sections) fields.AddRange([s, s + 4, s + 8]);
        int optimizer = sections[2] + 16;
        fields.AddRange([optimizer, optimizer + 4, optimizer + 8, optimizer + 16, optimizer + 24, checkpoint.Length - 4]);
        return [.. fields];
    }

    private static byte[] Zeros(int length) => new byte[length];

    /// <summary>Every piece of state, as raw bytes or bits, captured from the network's and optimizer's own spans.</summary>
    private sealed record State(byte[] Parameters, byte[] Gradients, byte[] Statistics, byte[][] Slots, long StepCount,
        long MomentumProductBits, long LearningRateBits, ulong DropoutSeed, ulong DropoutStep);

    private static State Capture<T>(INeuralNetwork<T> net, Optimizer<T>? optimizer) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var slots = new byte[optimizer?.StateSlots ?? 0][];
        for (int i = 0; i < slots.Length; i++) slots[i] = MemoryMarshal.AsBytes(optimizer!.State(i)).ToArray();
        return new State(
            MemoryMarshal.AsBytes(net.Parameters).ToArray(),
            MemoryMarshal.AsBytes(net.Gradients).ToArray(),
            MemoryMarshal.AsBytes(net.RunningStatistics).ToArray(),
            slots,
            optimizer?.StepCount ?? -1,
            BitConverter.DoubleToInt64Bits(optimizer?.MomentumProduct ?? double.NaN),
            BitConverter.DoubleToInt64Bits(optimizer?.LearningRate ?? double.NaN),
            net.DropoutSeed,
            net.DropoutStep);
    }

    private static void AssertSame(State expected, State actual, string context)
    {
        AssertBytes(expected.Parameters, actual.Parameters, context, "parameters");
        AssertBytes(expected.Gradients, actual.Gradients, context, "gradients");
        AssertBytes(expected.Statistics, actual.Statistics, context, "running statistics");
        Assert.True(expected.Slots.Length == actual.Slots.Length, $"{context}: {actual.Slots.Length} optimizer state arenas, expected {expected.Slots.Length}");
        for (int i = 0; i < expected.Slots.Length; i++) AssertBytes(expected.Slots[i], actual.Slots[i], context, $"optimizer state {i}");
        Assert.True(expected.StepCount == actual.StepCount, $"{context}: step count {actual.StepCount}, expected {expected.StepCount}");
        Assert.True(expected.MomentumProductBits == actual.MomentumProductBits, $"{context}: momentum product differs");
        Assert.True(expected.LearningRateBits == actual.LearningRateBits, $"{context}: learning rate differs");
        Assert.True(expected.DropoutSeed == actual.DropoutSeed, $"{context}: dropout seed {actual.DropoutSeed}, expected {expected.DropoutSeed}");
        Assert.True(expected.DropoutStep == actual.DropoutStep, $"{context}: dropout step {actual.DropoutStep}, expected {expected.DropoutStep}");
    }

    private static void AssertBytes(byte[] expected, byte[] actual, string context, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{context}: {what} have {actual.Length} bytes, expected {expected.Length}");
        int first = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(first == expected.Length, $"{context}: {what} differ first at byte {first}");
    }

    private static void AssertSamePredictions<T>(INeuralNetwork<T> expected, INeuralNetwork<T> actual, T[] inputs)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var a = new T[inputs.Length / expected.InputSize * expected.OutputSize];
        var b = new T[a.Length];
        expected.Predict(inputs, a);
        actual.Predict(inputs, b);
        Assert.True(MemoryMarshal.AsBytes(a.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(b.AsSpan())), "predictions differ");
    }

    /// <summary>A read-only, forward-only view of a stream (like a network or pipe stream): no length, no seeking.</summary>
    private sealed class ForwardOnlyStream(Stream inner) : Stream
    {
        public long Consumed { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer);
            Consumed += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Delegates to a real network, but reading the dropout seed (after the parameter, statistics and optimizer
    /// sections are written) fails like a full disk, after noting which files the directory held at that moment.</summary>
    private sealed class FailingNetwork<T>(INeuralNetwork<T> inner, string directory) : INeuralNetwork<T>
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        public const string Message = "Simulated failure in the middle of a save.";
        public string[]? FilesAtFailure { get; private set; }
        public int InputSize => inner.InputSize;
        public TensorShape InputShape => inner.InputShape;
        public int OutputSize => inner.OutputSize;
        public int MaxBatchSize => inner.MaxBatchSize;
        public Span<T> Parameters => inner.Parameters;
        public Span<T> Gradients => inner.Gradients;
        public System.Collections.Generic.IReadOnlyList<ParameterTensor> ParameterTensors => inner.ParameterTensors;
        public System.Collections.Generic.IReadOnlyList<LayerInfo> Layers => inner.Layers;
        public Span<T> RunningStatistics => inner.RunningStatistics;
        public ulong Fingerprint => inner.Fingerprint;
        public ulong DropoutSeed
        {
            get
            {
                FilesAtFailure = Directory.GetFiles(directory);
                throw new IOException(Message);
            }
            set => inner.DropoutSeed = value;
        }
        public ulong DropoutStep { get => inner.DropoutStep; set => inner.DropoutStep = value; }
        public ReadOnlySpan<T> LayerOutput(int layer) => inner.LayerOutput(layer);
        public void Initialize(ulong seed) => inner.Initialize(seed);
        public void Predict(ReadOnlySpan<T> inputs, Span<T> outputs) => inner.Predict(inputs, outputs);
        public ReadOnlySpan<T> Forward(ReadOnlySpan<T> inputs) => inner.Forward(inputs);
        public void Backward(ReadOnlySpan<T> outputGradient, Span<T> inputGradient) => inner.Backward(outputGradient, inputGradient);
    }
}
