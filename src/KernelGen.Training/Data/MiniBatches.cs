using System;

namespace KernelGen.Data;

/// <summary>Options of a <see cref="MiniBatches"/> iterator.</summary>
public sealed record MiniBatchOptions
{
    /// <summary>Whether to reshuffle the sample order at every epoch (default <see langword="true"/>); otherwise samples come in dataset order.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Whether to drop the last, partial batch of an epoch (default <see langword="false"/>: it is returned, shorter).</summary>
    public bool DropLast { get; init; }

    /// <summary>An optional augmentation applied to every sample as it is copied into the batch; needs an image dataset.</summary>
    public Augmentation? Augmentation { get; init; }
}

/// <summary>
/// The position of a <see cref="MiniBatches"/> iterator, enough to resume it exactly (a checkpoint stores these three
/// numbers). The shuffle of epoch e is a pure function of (seed, e) and the augmentation of batch b of epoch e of
/// (seed, e, b), so no generator state needs saving.
/// </summary>
/// <param name="Seed">The iterator's seed.</param>
/// <param name="Epoch">The current epoch (0-based), or −1 before the first <see cref="MiniBatches.StartEpoch"/>.</param>
/// <param name="Position">The index of the next batch within the epoch.</param>
public readonly record struct MiniBatchState(ulong Seed, int Epoch, int Position);

/// <summary>One mini-batch: views of the iterator's buffers, valid until its next <see cref="MiniBatches.Next(out MiniBatch)"/>.</summary>
public readonly ref struct MiniBatch
{
    internal MiniBatch(ReadOnlySpan<float> features, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets, int count)
    {
        Features = features;
        Labels = labels;
        Targets = targets;
        Count = count;
    }

    /// <summary>Row-major [<see cref="Count"/> × features] values.</summary>
    public ReadOnlySpan<float> Features { get; }

    /// <summary>One class label per row (empty for a dataset of targets).</summary>
    public ReadOnlySpan<int> Labels { get; }

    /// <summary>Row-major [<see cref="Count"/> × <see cref="Dataset.TargetCount"/>] targets (empty for a dataset of class labels).</summary>
    public ReadOnlySpan<float> Targets { get; }

    /// <summary>The number of rows (the batch size, or fewer for the last batch when not dropping it).</summary>
    public int Count { get; }
}

/// <summary>
/// An allocation-free mini-batch iterator. It owns preallocated batch buffers; each <see cref="Next(out MiniBatch)"/>
/// copies the next batch's rows into them (augmenting on the fly when configured), so the training loop allocates
/// nothing. Each epoch's order is a Fisher–Yates shuffle of 0…N−1 by <c>new KernelRandom(seed, epoch)</c>, so runs are
/// reproducible for a seed, and a <see cref="MiniBatchState"/> restores the exact position.
/// </summary>
/// <example>
/// <code>
/// var batches = new MiniBatches(train, batchSize: 64, seed: 42);
/// for (int epoch = 0; epoch &lt; 10; epoch++)
/// {
///     batches.StartEpoch();
///     while (batches.Next(out ReadOnlySpan&lt;float&gt; x, out ReadOnlySpan&lt;int&gt; y)) { /* train on x, y */ }
/// }
/// </code>
/// </example>
/// <remarks>Not thread-safe: the spans returned are views of buffers that the next call overwrites.</remarks>
public sealed class MiniBatches
{
    private readonly int[] _order;
    private readonly AlignedBuffer<float> _features;
    private readonly int[] _labels;
    private readonly float[] _targets;
    private readonly Augmentation? _augmentation;
    private readonly bool _shuffle;

    /// <summary>Stream offset of the augmentation generator, so it never coincides with the shuffle's.</summary>
    private const ulong AugmentationSalt = 0xA06_3E47_A710_0000UL;

    /// <summary>Creates the iterator and its buffers; call <see cref="StartEpoch"/> before the first batch.</summary>
    /// <param name="data">The dataset (not copied; it is immutable by contract).</param>
    /// <param name="batchSize">Rows per batch, in [1, data.Count].</param>
    /// <param name="seed">The seed of the shuffle and of the augmentation.</param>
    /// <param name="options">Shuffle, drop-last and augmentation; <see langword="null"/> for the defaults.</param>
    public MiniBatches(Dataset data, int batchSize, ulong seed, MiniBatchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new MiniBatchOptions();
        if (data.Count == 0) throw new ArgumentException("The dataset is empty.", nameof(data));
        if (batchSize < 1 || batchSize > data.Count)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(batchSize), batchSize, $"The batch size must lie in [1, {data.Count}] (the dataset size).");
        if (options.Augmentation is not null && !data.IsImage)
            throw new ArgumentException("Augmentation needs an image dataset (one with Channels, Height and Width set).", nameof(options));

        Dataset = data;
        BatchSize = batchSize;
        Seed = seed;
        DropLast = options.DropLast;
        _shuffle = options.Shuffle;
        _augmentation = options.Augmentation;
        BatchesPerEpoch = DropLast ? data.Count / batchSize : (data.Count + batchSize - 1) / batchSize;
        _order = new int[data.Count];
        _features = new AlignedBuffer<float>(batchSize * data.FeatureCount);
        _labels = new int[data.HasTargets ? 0 : batchSize];
        _targets = new float[data.HasTargets ? batchSize * data.TargetCount : 0];
        Epoch = -1;
    }

    /// <summary>The dataset being iterated.</summary>
    public Dataset Dataset { get; }

    /// <summary>Rows per full batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether the last partial batch of each epoch is dropped.</summary>
    public bool DropLast { get; }

    /// <summary>Batches per epoch: ⌊N / batch⌋ when dropping the last partial batch, else ⌈N / batch⌉.</summary>
    public int BatchesPerEpoch { get; }

    /// <summary>The seed of the shuffle and augmentation.</summary>
    public ulong Seed { get; private set; }

    /// <summary>The current epoch (0-based), or −1 before the first <see cref="StartEpoch"/>.</summary>
    public int Epoch { get; private set; }

    /// <summary>The index of the next batch within the current epoch.</summary>
    public int Position { get; private set; }

    /// <summary>The sample order of the current epoch (indices into the dataset).</summary>
    public ReadOnlySpan<int> Order => _order;

    /// <summary>The iterator's position, for a checkpoint.</summary>
    public MiniBatchState State => new(Seed, Epoch, Position);

    /// <summary>Begins the next epoch: rebuilds the sample order (reshuffled if shuffling) and rewinds to its first batch. Allocates nothing.</summary>
    public void StartEpoch()
    {
        if (Epoch == int.MaxValue) throw new InvalidOperationException("The epoch counter overflowed.");
        Epoch++;
        BuildOrder();
        Position = 0;
    }

    /// <summary>Restores a position captured by <see cref="State"/> (possibly from another iterator over the same data).</summary>
    public void Restore(MiniBatchState state)
    {
        if (state.Epoch < -1) ThrowHelper.ThrowArgumentOutOfRange(nameof(state), state.Epoch, "The epoch must be −1 or more.");
        if (state.Position < 0 || state.Position > BatchesPerEpoch || (state.Epoch < 0 && state.Position != 0))
            ThrowHelper.ThrowArgumentOutOfRange(nameof(state), state.Position, $"The position must lie in [0, {BatchesPerEpoch}] (0 before the first epoch).");
        Seed = state.Seed;
        Epoch = state.Epoch;
        if (Epoch >= 0) BuildOrder();
        Position = state.Position;
    }

    /// <summary>
    /// Copies the next batch of the epoch into the buffers and returns views of them, or returns <see langword="false"/>
    /// (with empty spans) when the epoch is over. Allocates nothing.
    /// </summary>
    /// <param name="features">Row-major [rows × features] values of the batch.</param>
    /// <param name="labels">The class labels of the batch (empty for a dataset of targets).</param>
    /// <exception cref="InvalidOperationException"><see cref="StartEpoch"/> has not been called.</exception>
    public bool Next(out ReadOnlySpan<float> features, out ReadOnlySpan<int> labels)
    {
        bool more = Next(out MiniBatch batch);
        features = batch.Features;
        labels = batch.Labels;
        return more;
    }

    /// <summary>
    /// Copies the next batch of the epoch into the buffers and returns views of them, or returns <see langword="false"/>
    /// (with an empty batch) when the epoch is over. Allocates nothing.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="StartEpoch"/> has not been called.</exception>
    public bool Next(out MiniBatch batch)
    {
        if (Epoch < 0) ThrowNotStarted();
        if (Position >= BatchesPerEpoch)
        {
            batch = default;
            return false;
        }

        Dataset data = Dataset;
        int start = Position * BatchSize;
        int rows = Math.Min(BatchSize, data.Count - start);
        int d = data.FeatureCount;
        Span<float> buffer = _features.Span;
        ReadOnlySpan<float> all = data.Features;
        ReadOnlySpan<int> order = _order.AsSpan(start, rows);

        if (_augmentation is null)
        {
            for (int r = 0; r < rows; r++) all.Slice(order[r] * d, d).CopyTo(buffer.Slice(r * d, d));
        }
        else
        {
            var random = new KernelRandom(Seed ^ AugmentationSalt, ((ulong)(uint)Epoch << 32) | (uint)Position);
            for (int r = 0; r < rows; r++)
                _augmentation.Apply(all.Slice(order[r] * d, d), buffer.Slice(r * d, d), data.Channels, data.Height, data.Width, ref random);
        }

        if (data.HasTargets)
        {
            float[] targets = data.Targets!;
            int t = data.TargetCount;
            for (int r = 0; r < rows; r++) targets.AsSpan(order[r] * t, t).CopyTo(_targets.AsSpan(r * t, t));
        }
        else
        {
            int[] labels = data.Labels;
            for (int r = 0; r < rows; r++) _labels[r] = labels[order[r]];
        }

        Position++;
        batch = new MiniBatch(
            buffer.Slice(0, rows * d),
            data.HasTargets ? ReadOnlySpan<int>.Empty : _labels.AsSpan(0, rows),
            data.HasTargets ? _targets.AsSpan(0, rows * data.TargetCount) : ReadOnlySpan<float>.Empty,
            rows);
        return true;
    }

    private void BuildOrder()
    {
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        if (_shuffle)
        {
            var random = new KernelRandom(Seed, (ulong)Epoch);
            Dataset.Shuffle(_order, ref random);
        }
    }

    private static void ThrowNotStarted() =>
        throw new InvalidOperationException("Call StartEpoch() before asking for the first mini-batch.");
}
