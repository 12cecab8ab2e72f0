using System;
using System.Collections.Generic;

namespace KernelGen.Training;

/// <summary>
/// Model ensembles (CS231n: "train multiple independent models, and at test time average their predictions"): each
/// member predicts, and the ensemble averages the members' softmax probabilities (classifiers) or raw outputs. Works with
/// independently trained networks, with one run's snapshots (<see cref="FromSnapshots"/>, the snapshot ensemble of a cyclic
/// SGDR schedule), and with generated inference forms. Buffers are allocated once; Predict allocates nothing.
/// </summary>
public sealed class Ensemble : IInferenceNetwork<float>
{
    private readonly IInferenceNetwork<float>[] _members;
    private readonly float[] _scratch;

    /// <summary>An ensemble of <paramref name="members"/>, all with the same input and output sizes.</summary>
    /// <param name="members">The member networks.</param>
    /// <param name="averageProbabilities">Average softmax probabilities (true, for classifiers: outputs are probabilities) or raw outputs.</param>
    public Ensemble(IReadOnlyList<IInferenceNetwork<float>> members, bool averageProbabilities = true)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0) throw new ArgumentException("An ensemble needs at least one member.", nameof(members));
        _members = new IInferenceNetwork<float>[members.Count];
        int maxBatch = int.MaxValue;
        for (int i = 0; i < members.Count; i++)
        {
            IInferenceNetwork<float> m = members[i] ?? throw new ArgumentException($"Member {i} is null.", nameof(members));
            if (m.InputSize != members[0].InputSize || m.OutputSize != members[0].OutputSize)
                throw new ArgumentException($"Member {i} maps {m.InputSize} → {m.OutputSize}; member 0 maps {members[0].InputSize} → {members[0].OutputSize}.", nameof(members));
            _members[i] = m;
            maxBatch = Math.Min(maxBatch, m.MaxBatchSize);
        }
        InputSize = members[0].InputSize;
        InputShape = members[0].InputShape;
        OutputSize = members[0].OutputSize;
        MaxBatchSize = maxBatch;
        AveragesProbabilities = averageProbabilities;
        _scratch = new float[maxBatch * OutputSize];
    }

    /// <summary>Members.</summary>
    public int Count => _members.Length;
    /// <inheritdoc/>
    public int InputSize { get; }
    /// <inheritdoc/>
    public TensorShape InputShape { get; }
    /// <inheritdoc/>
    public int OutputSize { get; }
    /// <inheritdoc/>
    public int MaxBatchSize { get; }
    /// <summary>Whether outputs are averaged softmax probabilities (otherwise averaged raw outputs).</summary>
    public bool AveragesProbabilities { get; }

    /// <summary>Writes the averaged outputs for <paramref name="inputs"/>.</summary>
    public void Predict(ReadOnlySpan<float> inputs, Span<float> outputs)
    {
        int batch = ThrowHelper.GetBatchSize(inputs.Length, InputSize, MaxBatchSize, nameof(inputs));
        ThrowHelper.ThrowIfLengthNotEqual(outputs.Length, batch * OutputSize, nameof(outputs));
        Span<float> member = _scratch.AsSpan(0, batch * OutputSize);
        outputs.Clear();
        foreach (IInferenceNetwork<float> m in _members)
        {
            m.Predict(inputs, member);
            if (AveragesProbabilities) Kernels.Softmax.Forward<float>(member, member, batch, OutputSize);
            for (int i = 0; i < outputs.Length; i++) outputs[i] += member[i];
        }
        float scale = 1f / _members.Length;
        for (int i = 0; i < outputs.Length; i++) outputs[i] *= scale;
    }

    /// <summary>A snapshot ensemble: one network per snapshot (made by <paramref name="create"/>, then loaded with the snapshot).</summary>
    public static Ensemble FromSnapshots(IReadOnlyList<NetworkSnapshot> snapshots, Func<INeuralNetwork<float>> create, bool averageProbabilities = true)
    {
        ArgumentNullException.ThrowIfNull(snapshots);
        ArgumentNullException.ThrowIfNull(create);
        var members = new List<IInferenceNetwork<float>>(snapshots.Count);
        foreach (NetworkSnapshot snapshot in snapshots)
        {
            INeuralNetwork<float> network = create();
            snapshot.RestoreTo(network);
            members.Add(network);
        }
        return new Ensemble(members, averageProbabilities);
    }
}
