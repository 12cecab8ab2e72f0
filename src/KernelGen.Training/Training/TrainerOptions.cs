using System;
using System.Collections.Generic;
using KernelGen.Data;

namespace KernelGen.Training;

/// <summary>
/// A progress report of <see cref="Trainer.Fit"/>: sent during an epoch at most every
/// <see cref="TrainerOptions.ProgressInterval"/> (with <see cref="EpochEnd"/> null), and once when an epoch ends (with its
/// metrics). Reports are made on the training thread; a value type, so reporting allocates nothing on the trainer's side.
/// </summary>
/// <param name="Epoch">The current epoch, from 1.</param>
/// <param name="Epochs">The epochs of the run (<see cref="TrainerOptions.Epochs"/>).</param>
/// <param name="Batch">Mini-batches done in this epoch.</param>
/// <param name="BatchesPerEpoch">Mini-batches per epoch.</param>
/// <param name="Iterations">Mini-batches done in the run.</param>
/// <param name="Loss">The mean training loss of this epoch's batches so far.</param>
/// <param name="SamplesPerSecond">Training throughput of this epoch so far.</param>
/// <param name="Remaining">The estimated time to the end of this epoch.</param>
/// <param name="EpochEnd">The epoch's metrics when it has ended (validation included); null during the epoch.</param>
public readonly record struct TrainingProgress(int Epoch, int Epochs, int Batch, int BatchesPerEpoch, long Iterations, double Loss,
    double SamplesPerSecond, TimeSpan Remaining, EpochMetrics? EpochEnd);

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
    /// <summary>The loss became NaN/∞ or exceeded the explosion threshold (see <see cref="TrainerOptions.ExplosionFactor"/>).</summary>
    Exploded,
    /// <summary>Cancelled (the cancellation token, or <see cref="Trainer.RequestStop"/>), after the current batch.</summary>
    Cancelled,
}

/// <summary>Options of a <see cref="Trainer"/> run. Training length is given in epochs, optionally capped in iterations
/// (an iteration is one mini-batch; iterations per epoch = N / batch size, rounded up unless the last partial batch is
/// dropped: on request, or when it would be a single row reaching BatchNorm).</summary>
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
    /// <summary>Shuffling, partial-batch and augmentation options. When the network has a BatchNorm layer and the
    /// training set leaves a last batch of exactly one row (N mod <see cref="BatchSize"/> = 1), that row is dropped each
    /// epoch (as <see cref="MiniBatchOptions.DropLast"/> does): BatchNorm cannot normalize a single row in training mode.
    /// With shuffling, a different row is left out each epoch; merging it into the previous batch instead could exceed
    /// the network's MaxBatchSize.</summary>
    public MiniBatchOptions? Batching { get; init; }
    /// <summary>Early stopping: epochs without improvement of the monitored validation metric before stopping (0: off). Needs validation data.</summary>
    public int Patience { get; init; }
    /// <summary>What "best epoch" means for early stopping and for the restored parameters.</summary>
    public ValidationMetric Monitor { get; init; } = ValidationMetric.Loss;
    /// <summary>
    /// Whether to end the run holding the training state (parameters, statistics, optimizer state) of the best validation
    /// epoch (by <see cref="Monitor"/>) rather than the last one. Null (the default): only with early stopping
    /// (<see cref="Patience"/> &gt; 0), where the last epochs are by definition no better; validation data alone never
    /// changes the parameters. True: whenever validation data is given (required). False: never.
    /// <see cref="TrainingResult.ParametersEpoch"/> and the result's message say which epoch the network holds.
    /// </summary>
    public bool? RestoreBestParameters { get; init; }
    /// <summary>What the network learns, for networks whose loss does not tell (hand-written networks with a user's loss:
    /// <see cref="TrainingTask.Regression"/> unless given). Null: from the network's loss. Checked against the label type
    /// (class indices are <see cref="TrainingTask.Classification"/>) and the output count (binary has one output).</summary>
    public TrainingTask? Task { get; init; }
    /// <summary>Regression only: the training targets are standardized with this scaling (fitted on the training set with
    /// <see cref="Preprocessing.TargetScaling.Fit(Dataset)"/>) before training, and validation metrics are reported in
    /// original units. Give <see cref="Trainer.Fit"/> data in original units; predict with
    /// <see cref="Prediction.Predict(IInferenceNetwork{float}, Dataset, Preprocessing.TargetScaling?)"/> and the same scaling.</summary>
    public Preprocessing.TargetScaling? TargetScaling { get; init; }
    /// <summary>
    /// Explosion detection: stop when a batch loss exceeds max(<see cref="ExplosionFactor"/> × L₀, L₀ +
    /// <see cref="ExplosionMargin"/>), where L₀ is the first batch's loss of the run (CS231n's rule of thumb that a loss above 3× the first one has exploded, with a floor);
    /// a NaN or infinite loss always counts. The trainer then restores the whole training state of the start of the
    /// epoch (parameters, running statistics, optimizer state and step count, dropout state). ∞ turns detection off.
    /// </summary>
    /// <remarks>
    /// The factor alone works for a fresh network (L₀ ≈ ln K for K classes, and an explosion heads for ∞ or NaN), but
    /// not for one that starts out trained: with L₀ = 0.005, mini-batch noise alone crosses 3 × L₀ = 0.015, and a re-fit
    /// "exploded" in most runs. The margin makes the threshold at least L₀ + 1 nat, which a trained network reaches only
    /// by losing much of what it learned, while a fresh network (L₀ &gt; 0.5) keeps the pure 3× rule.
    /// </remarks>
    public double ExplosionFactor { get; init; } = 3;
    /// <summary>The absolute floor of the explosion threshold above the first batch's loss (see
    /// <see cref="ExplosionFactor"/>): 1 by default (in the loss's units, nats for cross-entropy); 0 gives the pure factor rule.</summary>
    public double ExplosionMargin { get; init; } = 1;
    /// <summary>Per-layer babysitting statistics each epoch: activation mean, standard deviation and histogram of the epoch's last
    /// training batch, weight-gradient norms and update-to-weight ratios.</summary>
    public bool CollectLayerStatistics { get; init; } = true;
    /// <summary>Histogram bins of the activation statistics.</summary>
    public int HistogramBins { get; init; } = 40;
    /// <summary>Where progress goes (null: nowhere). The trainer never writes to the console: render the reports as you
    /// like (the main job draws a live progress bar).</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }
    /// <summary>The least time between two reports during an epoch (epoch ends are always reported).</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromMilliseconds(250);
    /// <summary>Keep a copy of the parameters every this many epochs (snapshot ensembles with a cyclic schedule; 0: none).</summary>
    public int SnapshotEveryEpochs { get; init; }
    /// <summary>Called after every epoch with its metrics (for custom logging or checkpoints).</summary>
    public Action<EpochMetrics>? EpochCompleted { get; init; }

    /// <summary>The loss above which a batch counts as an explosion, given the run's first batch loss.</summary>
    internal double ExplosionThreshold(double initialLoss) =>
        double.IsPositiveInfinity(ExplosionFactor) ? double.PositiveInfinity : Math.Max(ExplosionFactor * initialLoss, initialLoss + ExplosionMargin);

    /// <summary>The batching for <paramref name="sampleCount"/> training samples: <see cref="Batching"/>, with a last batch
    /// of one row dropped when the network has BatchNorm (see <see cref="Batching"/>).</summary>
    internal MiniBatchOptions EffectiveBatching(int sampleCount, IReadOnlyList<LayerInfo> layers)
    {
        MiniBatchOptions batching = Batching ?? new MiniBatchOptions();
        if (!batching.DropLast && sampleCount % BatchSize == 1 && sampleCount > 1 && HasBatchNorm(layers)) batching = batching with { DropLast = true };
        return batching;
    }

    internal static bool HasBatchNorm(IReadOnlyList<LayerInfo> layers)
    {
        foreach (LayerInfo layer in layers) if (layer.Kind == LayerKind.BatchNorm) return true;
        return false;
    }

    internal void Validate(int maxBatchSize, IReadOnlyList<LayerInfo> layers)
    {
        if (BatchSize == 1 && HasBatchNorm(layers))
            ThrowHelper.ThrowArgumentOutOfRange(nameof(BatchSize), BatchSize, "The network has BatchNorm, which needs batches of at least 2 rows in training mode.");
        Validate(maxBatchSize);
    }

    internal void Validate(int maxBatchSize)
    {
        if (Epochs < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(Epochs), Epochs, "Train for at least one epoch.");
        if (MaxIterations < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(MaxIterations), MaxIterations, "Must be 0 (no limit) or positive.");
        if (BatchSize < 1 || BatchSize > maxBatchSize)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(BatchSize), BatchSize, $"The batch size must lie in [1, {maxBatchSize}] (the network's MaxBatchSize).");
        if (Patience < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(Patience), Patience, "Must be 0 (off) or positive.");
        if (!(ExplosionFactor > 1)) ThrowHelper.ThrowArgumentOutOfRange(nameof(ExplosionFactor), ExplosionFactor, "Must exceed 1 (∞ turns detection off).");
        if (!(ExplosionMargin >= 0)) ThrowHelper.ThrowArgumentOutOfRange(nameof(ExplosionMargin), ExplosionMargin, "Must be 0 or positive.");
        if (HistogramBins < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(HistogramBins), HistogramBins, "Must be positive.");
        if (SnapshotEveryEpochs < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(SnapshotEveryEpochs), SnapshotEveryEpochs, "Must be 0 (none) or positive.");
    }
}
