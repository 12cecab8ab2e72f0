using System;
using System.IO;
using KernelGen.Data;
using KernelGen.Reporting;

namespace KernelGen.Training;

/// <summary>How the trainer reports progress.</summary>
public enum ProgressMode
{
    /// <summary>A live status line when the console is interactive, plain lines otherwise.</summary>
    Auto,
    /// <summary>A status line rewritten in place (epoch, batch, loss, throughput, ETA), then one line per epoch.</summary>
    Interactive,
    /// <summary>One line per epoch.</summary>
    Plain,
    /// <summary>Nothing.</summary>
    Silent,
}

/// <summary>The validation metric that decides the best epoch (early stopping and the restored parameters).</summary>
public enum ValidationMetric
{
    /// <summary>Lowest validation loss.</summary>
    Loss,
    /// <summary>Highest validation accuracy (ties: lower loss).</summary>
    Accuracy,
}

/// <summary>Why a training run ended.</summary>
public enum StopReason
{
    /// <summary>All epochs ran.</summary>
    Completed,
    /// <summary>The iteration limit was reached.</summary>
    IterationLimit,
    /// <summary>The validation metric stopped improving for <see cref="TrainerOptions.Patience"/> epochs.</summary>
    EarlyStopping,
    /// <summary>The loss became NaN/∞ or exceeded <see cref="TrainerOptions.ExplosionFactor"/> × the initial loss.</summary>
    Exploded,
    /// <summary>Cancelled (Ctrl-C or the cancellation token), after the current batch.</summary>
    Cancelled,
}

/// <summary>Options of a <see cref="Trainer"/> run. Training length is given in epochs, optionally capped in iterations
/// (an iteration is one mini-batch; iterations per epoch = N / batch size, rounded up unless the last partial batch is dropped).</summary>
public sealed record TrainerOptions
{
    /// <summary>Epochs to train (passes over the training data).</summary>
    public int Epochs { get; init; } = 10;
    /// <summary>Stop after this many iterations in total (0: no limit).</summary>
    public long MaxIterations { get; init; }
    /// <summary>Mini-batch size; at most the network's MaxBatchSize.</summary>
    public int BatchSize { get; init; } = 64;
    /// <summary>Seed of the per-epoch shuffling and of augmentation (the network's own seed initializes its weights).</summary>
    public ulong Seed { get; init; }
    /// <summary>Shuffling, partial-batch and augmentation options.</summary>
    public MiniBatchOptions? Batching { get; init; }
    /// <summary>Early stopping: epochs without improvement of the monitored validation metric before stopping (0: off). Needs validation data.</summary>
    public int Patience { get; init; }
    /// <summary>What "best epoch" means for early stopping and for the restored parameters.</summary>
    public ValidationMetric Monitor { get; init; } = ValidationMetric.Loss;
    /// <summary>With early stopping (or whenever validation data is given), restore the parameters of the best validation epoch at the end.</summary>
    public bool RestoreBestParameters { get; init; } = true;
    /// <summary>Explosion detection: stop when a batch loss exceeds this multiple of the first batch's loss (the notes' 3×), or is
    /// NaN or infinite; the trainer then restores the whole training state of the start of the epoch (parameters, running
    /// statistics, optimizer state and step count, dropout state). ∞ = off.</summary>
    public double ExplosionFactor { get; init; } = 3;
    /// <summary>Per-layer babysitting statistics each epoch: activation mean, standard deviation and histogram of the epoch's last
    /// training batch, weight-gradient norms and update-to-weight ratios.</summary>
    public bool CollectLayerStatistics { get; init; } = true;
    /// <summary>Histogram bins of the activation statistics.</summary>
    public int HistogramBins { get; init; } = 40;
    /// <summary>Progress display.</summary>
    public ProgressMode Progress { get; init; } = ProgressMode.Auto;
    /// <summary>Where progress goes (default: the console).</summary>
    public TextWriter? Output { get; init; }
    /// <summary>Ctrl-C stops training cleanly after the current batch (the handler is installed only during <see cref="Trainer.Fit"/>).</summary>
    public bool StopOnCancelKey { get; init; } = true;
    /// <summary>Keep a copy of the parameters every this many epochs (snapshot ensembles with a cyclic schedule; 0: none).</summary>
    public int SnapshotEveryEpochs { get; init; }
    /// <summary>Called after every epoch with its metrics (for custom logging or checkpoints).</summary>
    public Action<EpochMetrics>? EpochCompleted { get; init; }

    internal void Validate(int maxBatchSize)
    {
        if (Epochs < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(Epochs), Epochs, "Train for at least one epoch.");
        if (MaxIterations < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(MaxIterations), MaxIterations, "Must be 0 (no limit) or positive.");
        if (BatchSize < 1 || BatchSize > maxBatchSize)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(BatchSize), BatchSize, $"The batch size must lie in [1, {maxBatchSize}] (the network's MaxBatchSize).");
        if (Patience < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(Patience), Patience, "Must be 0 (off) or positive.");
        if (!(ExplosionFactor > 1)) ThrowHelper.ThrowArgumentOutOfRange(nameof(ExplosionFactor), ExplosionFactor, "Must exceed 1 (∞ turns detection off).");
        if (HistogramBins < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(HistogramBins), HistogramBins, "Must be positive.");
        if (SnapshotEveryEpochs < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(SnapshotEveryEpochs), SnapshotEveryEpochs, "Must be 0 (none) or positive.");
    }
}
