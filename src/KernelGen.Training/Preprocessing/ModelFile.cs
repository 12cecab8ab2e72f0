using System;
using System.Buffers.Binary;
using System.IO;
using System.Numerics;
using KernelGen.Checkpoints;

namespace KernelGen.Preprocessing;

/// <summary>
/// A trained model for deployment in one file: the network's parameters and running statistics (no optimizer state)
/// together with the preprocessing its inputs need, so an application restores both with one call and cannot pair a
/// network with the wrong transform. The file is a checkpoint (see <see cref="Checkpoint"/>: atomic save, CRC-32C,
/// fingerprint and size checks) whose user data holds the transform's record.
/// </summary>
/// <example><code>
/// // After training:
/// ModelFile.Save(net, standardize, "fashion.kgm");
/// // In the application:
/// var net = new FashionMlp(maxBatchSize: 1);
/// IFeatureTransform? preprocessing = ModelFile.Load(net, "fashion.kgm");
/// var inference = net.CreateInference(maxBatchSize: 1);
/// preprocessing?.Apply(image, 1);      // in place, as during training
/// inference.Predict(image, logits);
/// </code></example>
public static class ModelFile
{
    // User data layout: "KGPP" (4 bytes), int32 version, then the transform's own record (FeatureTransform format), or
    // nothing after the version when the model has no preprocessing.
    private const uint Magic = 0x5050474B; // "KGPP" little-endian
    private const int Version = 1;

    /// <summary>Atomically writes <paramref name="network"/>'s parameters and running statistics and, unless it is null,
    /// <paramref name="preprocessing"/> to <paramref name="path"/>.</summary>
    /// <param name="network">The trained network.</param>
    /// <param name="preprocessing">The transform its inputs went through in training, or null when they went in as they are.</param>
    /// <param name="path">The file; its directory must exist.</param>
    /// <exception cref="ArgumentException">The transform's output does not have the network's input size.</exception>
    public static void Save<T>(INeuralNetwork<T> network, IFeatureTransform? preprocessing, string path)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (preprocessing is not null && preprocessing.OutputFeatures != network.InputSize)
            throw new ArgumentException($"The preprocessing produces {preprocessing.OutputFeatures} features, but the network takes {network.InputSize}.", nameof(preprocessing));
        using var record = new MemoryStream();
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], Version);
        record.Write(header);
        preprocessing?.Save(record);
        Checkpoint.Save(network, optimizer: null, path, record.ToArray());
    }

    /// <summary>
    /// Restores <paramref name="network"/> from <paramref name="path"/> and returns the preprocessing saved with it (null
    /// when it was saved without). All or nothing: when anything is wrong, the network is left as it was.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is corrupt, belongs to another network or element type, or is a
    /// checkpoint without a model record (write it with <see cref="Save"/>).</exception>
    public static IFeatureTransform? Load<T>(INeuralNetwork<T> network, string path)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        // The checkpoint verifies its checksum, fingerprint and sizes before it changes anything; the transform record
        // is parsed after, so keep what it replaces to put back if that fails.
        T[] parameters = network.Parameters.ToArray(), statistics = network.RunningStatistics.ToArray();
        ulong dropoutSeed = network.DropoutSeed, dropoutStep = network.DropoutStep;
        byte[] record = Checkpoint.Load(network, optimizer: null, path);
        try
        {
            return Read(record, network.InputSize, path);
        }
        catch
        {
            parameters.CopyTo(network.Parameters);
            statistics.CopyTo(network.RunningStatistics);
            network.DropoutSeed = dropoutSeed;
            network.DropoutStep = dropoutStep;
            throw;
        }
    }

    private static IFeatureTransform? Read(byte[] record, int inputSize, string path)
    {
        if (record.Length < 8 || BinaryPrimitives.ReadUInt32LittleEndian(record) != Magic)
            throw new InvalidDataException($"'{path}' is a checkpoint without a model record; save deployable models with ModelFile.Save.");
        int version = BinaryPrimitives.ReadInt32LittleEndian(record.AsSpan(4));
        if (version != Version)
            throw new InvalidDataException($"'{path}' holds a model record of version {version}; this library reads version {Version}.");
        if (record.Length == 8) return null;
        using var stream = new MemoryStream(record, 8, record.Length - 8, writable: false);
        IFeatureTransform transform;
        try { transform = FeatureTransform.Load(stream); }
        catch (InvalidDataException e) { throw new InvalidDataException($"'{path}': the preprocessing record {e.Message}", e); }
        if (stream.Position != stream.Length)
            throw new InvalidDataException($"'{path}': {stream.Length - stream.Position} unexpected bytes after the preprocessing record.");
        if (transform.OutputFeatures != inputSize)
            throw new InvalidDataException($"'{path}': the preprocessing produces {transform.OutputFeatures} features, but the network takes {inputSize}.");
        return transform;
    }
}
