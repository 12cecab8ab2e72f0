using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using KernelGen.Catalog;
using KernelGen.Data;
using KernelGen.Optimization;
using KernelGen.Preprocessing;

namespace KernelGen.Training;

/// <summary>A copy of a network's parameters and running statistics (early stopping, explosion recovery, snapshot ensembles).</summary>
public sealed class NetworkSnapshot
{
    private NetworkSnapshot(float[] parameters, float[] statistics, int epoch)
    {
        Parameters = parameters;
        RunningStatistics = statistics;
        Epoch = epoch;
    }

    /// <summary>The epoch after which it was taken (0: before training).</summary>
    public int Epoch { get; private set; }
    /// <summary>The parameter arena.</summary>
    public float[] Parameters { get; }
    /// <summary>The BatchNorm running statistics.</summary>
    public float[] RunningStatistics { get; }

    /// <summary>Copies <paramref name="network"/>'s current state.</summary>
    public static NetworkSnapshot Capture(INeuralNetwork<float> network, int epoch = 0)
    {
        ArgumentNullException.ThrowIfNull(network);
        return new NetworkSnapshot(network.Parameters.ToArray(), network.RunningStatistics.ToArray(), epoch);
    }

    /// <summary>Overwrites this snapshot with <paramref name="network"/>'s current state (no allocation).</summary>
    public void CopyFrom(INeuralNetwork<float> network, int epoch)
    {
        CheckShape(network);
        network.Parameters.CopyTo(Parameters);
        network.RunningStatistics.CopyTo(RunningStatistics);
        Epoch = epoch;
    }

    /// <summary>Writes this snapshot into <paramref name="network"/> (same layout required).</summary>
    public void RestoreTo(INeuralNetwork<float> network)
    {
        CheckShape(network);
        Parameters.CopyTo(network.Parameters);
        RunningStatistics.CopyTo(network.RunningStatistics);
    }

    private void CheckShape(INeuralNetwork<float> network)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (network.Parameters.Length != Parameters.Length || network.RunningStatistics.Length != RunningStatistics.Length)
            throw new ArgumentException($"The snapshot holds {Parameters.Length} parameters and {RunningStatistics.Length} statistics; the network has {network.Parameters.Length} and {network.RunningStatistics.Length}.", nameof(network));
    }
}

/// <summary>What a <see cref="Trainer.Fit"/> run did.</summary>
public sealed class TrainingResult
{
    internal TrainingResult(StopReason reason, string message, TrainingHistory history, int epochs, long iterations, int bestEpoch,
        Evaluation best, int parametersEpoch, double meanEpochSeconds, double totalSeconds, IReadOnlyList<NetworkSnapshot> snapshots)
    {
        Reason = reason; Message = message; History = history; EpochsCompleted = epochs; Iterations = iterations;
        BestEpoch = bestEpoch; Best = best; ParametersEpoch = parametersEpoch; MeanEpochSeconds = meanEpochSeconds; TotalSeconds = totalSeconds; Snapshots = snapshots;
    }

    /// <summary>Why training ended.</summary>
    public StopReason Reason { get; }
    /// <summary>Sentences saying why training ended and which epoch's parameters the network holds (shown to the user as is).</summary>
    public string Message { get; }
    /// <summary>Per-epoch metrics and per-layer statistics (the report's data), with the run's <see cref="TrainingHistory.Outcome"/>.</summary>
    public TrainingHistory History { get; }
    /// <summary>Epochs completed.</summary>
    public int EpochsCompleted { get; }
    /// <summary>Mini-batch steps taken.</summary>
    public long Iterations { get; }
    /// <summary>The best epoch by the monitored validation metric (<see cref="TrainingHistory.Improves"/>; 0 without validation data).</summary>
    public int BestEpoch { get; }
    /// <summary>The validation evaluation at <see cref="BestEpoch"/> (loss, accuracy and the task's metrics).</summary>
    public Evaluation Best { get; }
    /// <summary>The epoch whose parameters the network holds now: the last completed one, the best one when they were
    /// restored (<see cref="TrainerOptions.RestoreBestParameters"/>), or the one before an explosion (0: the parameters
    /// it started with).</summary>
    public int ParametersEpoch { get; }
    /// <summary>Mean wall-clock seconds of an epoch's training loop (shuffling, batching, augmentation and steps; not evaluation).</summary>
    public double MeanEpochSeconds { get; }
    /// <summary>Wall-clock seconds of the whole run, evaluation included.</summary>
    public double TotalSeconds { get; }
    /// <summary>Parameter snapshots taken every <see cref="TrainerOptions.SnapshotEveryEpochs"/> epochs.</summary>
    public IReadOnlyList<NetworkSnapshot> Snapshots { get; }
}

/// <summary>
/// A training loop around any generated network, for every task (<see cref="TrainingTask"/>): classifiers on class
/// indices (<see cref="ITrainableNetwork{T, TLabel}"/> on float and int: softmax cross-entropy, hinge) and networks on
/// target vectors (on float and float: binary and multi-label with binary cross-entropy on logits, regression with L2
/// or a user's loss, target distributions with KL divergence). Epochs of shuffled mini-batches, validation every epoch
/// with the task's metrics, early stopping, explosion detection, per-layer statistics, progress reports through
/// <see cref="TrainerOptions.Progress"/> and cancellation through a <see cref="CancellationToken"/>. It writes nothing
/// to the console. Inside an epoch nothing is allocated (batches, steps and progress reports reuse buffers or are
/// values); epoch ends allocate their history records and validation metrics.
/// </summary>
public sealed class Trainer
{
    private readonly Learner _learner;
    private readonly INeuralNetwork<float> _network;
    private readonly TrainerOptions _options;
    private readonly float[] _before;
    private readonly ActivationStatistics?[] _activations;
    private volatile bool _stopRequested;

    /// <summary>Prepares a trainer for a classifier on class indices; allocates its buffers once.</summary>
    /// <exception cref="ArgumentException">The options do not fit the network (see <see cref="TrainerOptions"/>).</exception>
    public Trainer(ITrainableNetwork<float, int> network, TrainerOptions? options = null)
        : this(Learner.For(Checked(network), options?.Task), options)
    {
    }

    /// <summary>Prepares a trainer for a network on target vectors (binary, multi-label, regression, distribution
    /// targets; the task comes from its loss, or <see cref="TrainerOptions.Task"/>); allocates its buffers once.</summary>
    /// <exception cref="ArgumentException">The options do not fit the network (see <see cref="TrainerOptions"/>).</exception>
    public Trainer(ITrainableNetwork<float, float> network, TrainerOptions? options = null)
        : this(Learner.For(Checked(network), options?.Task), options)
    {
    }

    private Trainer(Learner learner, TrainerOptions? options)
    {
        _learner = learner;
        _network = learner.Network;
        _options = options ?? new TrainerOptions();
        _options.Validate(_network.MaxBatchSize, _network.Layers);
        if (_options.Monitor == ValidationMetric.Accuracy && learner.Task == TrainingTask.Regression)
            throw new ArgumentException("A regression network has no accuracy to monitor: use ValidationMetric.Loss.", nameof(TrainerOptions.Monitor));
        if (_options.TargetScaling is { } scaling) Learner.CheckScaling(scaling, learner.Task, _network.OutputSize);
        _before = new float[_network.Parameters.Length];
        _activations = new ActivationStatistics?[_network.Layers.Count];
    }

    private static T Checked<T>(T network) where T : class
    {
        ArgumentNullException.ThrowIfNull(network);
        return network;
    }

    /// <summary>The network being trained.</summary>
    public INeuralNetwork<float> Network => _network;

    /// <summary>What the network learns, from its loss or <see cref="TrainerOptions.Task"/>.</summary>
    public TrainingTask Task => _learner.Task;

    /// <summary>Asks a running <see cref="Fit"/> to stop after the current batch (thread-safe; like cancelling its token).</summary>
    public void RequestStop() => _stopRequested = true;

    /// <summary>
    /// Trains on <paramref name="training"/>, validating on <paramref name="validation"/> (if given) after every epoch.
    /// With a <see cref="TrainerOptions.TargetScaling"/>, both hold targets in original units: the network trains on
    /// scaled ones and the validation metrics are in original units.
    /// </summary>
    /// <exception cref="ArgumentException">The data does not fit the network (no samples, feature count, labels out of
    /// range, class labels for a network on targets or the reverse, targets outside [0, 1] for binary cross-entropy).</exception>
    public TrainingResult Fit(Dataset training, Dataset? validation = null, CancellationToken cancellation = default)
    {
        Learner learner = _learner;
        learner.CheckData(training, nameof(training));
        if (validation is not null) learner.CheckData(validation, nameof(validation));
        if (_options.Patience > 0 && validation is null) throw new ArgumentException("Early stopping (Patience > 0) needs validation data.", nameof(validation));
        bool restore = _options.RestoreBestParameters ?? _options.Patience > 0;
        if (_options.RestoreBestParameters == true && validation is null)
            throw new ArgumentException("RestoreBestParameters needs validation data to tell the best epoch.", nameof(validation));
        TargetScaling? scaling = _options.TargetScaling;
        if (scaling is not null) training = scaling.Apply(training);

        INeuralNetwork<float> net = _network;
        TrainingTask task = learner.Task;
        bool probabilities = TaskInfo.OutputsAreProbabilities(net, task);
        IProgress<TrainingProgress>? progress = _options.Progress;
        long reportTicks = (long)(_options.ProgressInterval.TotalSeconds * Stopwatch.Frequency);
        var batches = new MiniBatches(training, _options.BatchSize, _options.Seed, _options.EffectiveBatching(training.Count, net.Layers));
        var history = new TrainingHistory();
        var snapshots = new List<NetworkSnapshot>();
        Optimizer<float> optimizer = learner.Optimizer;
        var lastGood = new TrainingState(net, optimizer); // everything a step changes, so an explosion undoes the epoch entirely
        TrainingState? best = null;                       // the same for the best epoch, when it is to be restored
        EpochMetrics? bestMetrics = null;
        int bestEpoch = 0, sinceBest = 0, outputLayer = net.Layers.Count - 1, width = net.OutputSize, parametersEpoch = 0;
        Evaluation bestEvaluation = new(double.NaN, double.NaN);
        double initialLoss = double.NaN, explosionThreshold = double.PositiveInfinity, epochSecondsSum = 0;
        long iterations = 0;
        int epochsDone = 0;
        StopReason reason = StopReason.Completed;
        string message = "";
        var total = Stopwatch.StartNew();
        var clock = new Stopwatch();
        _stopRequested = false;

        for (int epoch = 1; epoch <= _options.Epochs && reason == StopReason.Completed; epoch++)
        {
            batches.StartEpoch();
            lastGood.Capture(epoch - 1);
            double lossSum = 0;
            long seen = 0, right = 0, decisions = 0, lastReport = 0;
            int batchIndex = 0;
            bool statisticsReady = false;
            clock.Restart();
            while (batches.Next(out MiniBatch batch))
            {
                if (_stopRequested || cancellation.IsCancellationRequested)
                {
                    reason = StopReason.Cancelled;
                    message = $"Stopped on request during epoch {epoch} after {iterations} iterations.";
                    break;
                }
                batchIndex++;
                bool lastOfEpoch = batchIndex == batches.BatchesPerEpoch || (_options.MaxIterations > 0 && iterations + 1 == _options.MaxIterations);
                if (lastOfEpoch && _options.CollectLayerStatistics) net.Parameters.CopyTo(_before);
                float loss;
                try
                {
                    loss = learner.TrainStep(batch.Features, batch.Labels, batch.Targets);
                }
                catch (ArithmeticException)
                {
                    lastGood.Restore();
                    reason = StopReason.Exploded;
                    message = $"The loss became NaN or infinite at epoch {epoch}, batch {batchIndex}: the learning rate is probably too high. The training state (parameters, statistics, optimizer state) from the start of epoch {epoch} was restored.";
                    break;
                }
                iterations++;
                if (double.IsNaN(initialLoss)) explosionThreshold = _options.ExplosionThreshold(initialLoss = loss);
                else if (loss > explosionThreshold)
                {
                    lastGood.Restore();
                    reason = StopReason.Exploded;
                    message = $"The loss exploded at epoch {epoch}, batch {batchIndex}: {loss:G4} > {explosionThreshold:G4} (max of {_options.ExplosionFactor:G3} × and {_options.ExplosionMargin:G3} + the initial {initialLoss:G4}). The learning rate is probably too high; the training state (parameters, statistics, optimizer state) from the start of epoch {epoch} was restored.";
                    break;
                }
                lossSum += (double)loss * batch.Count;
                seen += batch.Count;
                (long r, long n) = Learner.CountCorrect(task, probabilities, net.LayerOutput(outputLayer), batch.Labels, batch.Targets, width, batch.Count);
                right += r;
                decisions += n;
                statisticsReady = lastOfEpoch && _options.CollectLayerStatistics;
                if (progress is not null && clock.ElapsedTicks - lastReport >= reportTicks)
                {
                    lastReport = clock.ElapsedTicks;
                    double elapsed = clock.Elapsed.TotalSeconds;
                    progress.Report(new TrainingProgress(epoch, _options.Epochs, batchIndex, batches.BatchesPerEpoch, iterations, lossSum / seen,
                        seen / elapsed, TimeSpan.FromSeconds((batches.BatchesPerEpoch - batchIndex) * elapsed / batchIndex), null));
                }
                if (_options.MaxIterations > 0 && iterations >= _options.MaxIterations)
                {
                    reason = StopReason.IterationLimit;
                    message = $"Stopped at the iteration limit ({_options.MaxIterations}).";
                    break;
                }
            }
            clock.Stop();
            if (reason is StopReason.Exploded || seen == 0)
            {
                parametersEpoch = epoch - 1;
                break;
            }
            epochsDone = parametersEpoch = epoch;
            epochSecondsSum += clock.Elapsed.TotalSeconds;

            if (statisticsReady) CollectLayerStatistics(history, epoch);
            Evaluation validationResult = validation is null ? new(double.NaN, double.NaN) : learner.Evaluate(validation, scaling, nameof(validation));
            var metrics = new EpochMetrics(epoch, lossSum / seen, validationResult.Loss, decisions > 0 ? (double)right / decisions : double.NaN,
                validationResult.Accuracy, optimizer.CurrentLearningRate, clock.Elapsed.TotalSeconds);
            history.AddEpoch(metrics);
            progress?.Report(new TrainingProgress(epoch, _options.Epochs, batchIndex, batches.BatchesPerEpoch, iterations, metrics.TrainingLoss,
                seen / clock.Elapsed.TotalSeconds, TimeSpan.Zero, metrics));
            _options.EpochCompleted?.Invoke(metrics);
            if (_options.SnapshotEveryEpochs > 0 && epoch % _options.SnapshotEveryEpochs == 0) snapshots.Add(NetworkSnapshot.Capture(net, epoch));

            if (validation is not null)
            {
                if (TrainingHistory.Improves(_options.Monitor, metrics, bestMetrics))
                {
                    bestMetrics = metrics;
                    bestEvaluation = validationResult;
                    bestEpoch = epoch;
                    sinceBest = 0;
                    if (restore) (best ??= new TrainingState(net, optimizer)).Capture(epoch);
                }
                else if (_options.Patience > 0 && ++sinceBest >= _options.Patience && reason == StopReason.Completed)
                {
                    reason = StopReason.EarlyStopping;
                    message = _options.Monitor == ValidationMetric.Loss
                        ? $"Early stopping after epoch {epoch}: the validation loss has not improved for {_options.Patience} epochs (best {bestEvaluation.Loss:F4} at epoch {bestEpoch})."
                        : $"Early stopping after epoch {epoch}: the validation accuracy has not improved for {_options.Patience} epochs (best {bestEvaluation.Accuracy:F4} at epoch {bestEpoch}).";
                }
            }
        }

        if (reason == StopReason.Completed) message = $"Trained {epochsDone} epochs." + (message.Length > 0 ? " " + message : "");
        if (best is not null && best.Epoch != parametersEpoch)
        {
            best.Restore();
            parametersEpoch = best.Epoch;
            message += $" Restored the training state of epoch {bestEpoch} ({(_options.Monitor == ValidationMetric.Loss ? "lowest validation loss" : "highest validation accuracy")}).";
        }
        message += parametersEpoch == 0 ? " The network holds the parameters it started with."
            : parametersEpoch == epochsDone && reason != StopReason.Exploded ? $" The network holds the parameters of epoch {parametersEpoch}, the last."
            : $" The network holds the parameters of epoch {parametersEpoch}.";
        total.Stop();
        history.Outcome = new TrainingOutcome(reason, message, _options.Monitor, bestEpoch, parametersEpoch);
        return new TrainingResult(reason, message, history, epochsDone, iterations, bestEpoch, bestEvaluation, parametersEpoch,
            epochsDone > 0 ? epochSecondsSum / epochsDone : double.NaN, total.Elapsed.TotalSeconds, snapshots);
    }

    /// <summary>Mean loss, accuracy and the metrics of a classifier on class indices on <paramref name="data"/>
    /// (<see cref="Evaluation.Classification"/>: confusion matrix, per-class precision, recall and F1, top-k, log-loss), in
    /// evaluation mode, in chunks of the network's MaxBatchSize. Allocates its buffers once per call.</summary>
    /// <exception cref="ArgumentException">The data has no samples or does not fit the network.</exception>
    public static Evaluation Evaluate(ILossNetwork<float, int> network, Dataset data) =>
        Learner.For(Checked(network)).Evaluate(data, null, nameof(data));

    /// <summary>
    /// Mean loss, accuracy and the task's metrics of a network on target vectors on <paramref name="data"/>: binary and
    /// multi-label (<see cref="Evaluation.MultiLabel"/>), regression (<see cref="Evaluation.Regression"/>: MSE, MAE, R²),
    /// distribution targets (<see cref="Evaluation.Classification"/>). With <paramref name="targetScaling"/> (a regression
    /// network trained on scaled targets), <paramref name="data"/> holds targets in original units: the loss is taken on
    /// scaled targets and the metrics in original units. The task comes from the network's loss, or <paramref name="task"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The data has no samples or does not fit the network.</exception>
    public static Evaluation Evaluate(ILossNetwork<float, float> network, Dataset data, TargetScaling? targetScaling = null, TrainingTask? task = null) =>
        Learner.For(Checked(network), task).Evaluate(data, targetScaling, nameof(data));

    /// <summary>How many rows of <paramref name="outputs"/> ([labels.Length × classes]) have their maximum at the label (first maximum wins).</summary>
    public static int CountCorrect(ReadOnlySpan<float> outputs, ReadOnlySpan<int> labels, int classes)
    {
        int correct = 0;
        for (int r = 0; r < labels.Length; r++)
        {
            ReadOnlySpan<float> row = outputs.Slice(r * classes, classes);
            int bestIndex = 0;
            for (int c = 1; c < classes; c++) if (row[c] > row[bestIndex]) bestIndex = c;
            if (bestIndex == labels[r]) correct++;
        }
        return correct;
    }

    private void CollectLayerStatistics(TrainingHistory history, int epoch)
    {
        INeuralNetwork<float> net = _network;
        ReadOnlySpan<float> after = net.Parameters;
        for (int i = 0; i < net.Layers.Count; i++)
        {
            LayerInfo layer = net.Layers[i];
            ReadOnlySpan<float> values = net.LayerOutput(i);
            ActivationStatistics? statistics = _activations[i];
            if (statistics is null)
            {
                // Fixed bins from the first epoch's range, so histograms of later epochs are comparable.
                (double lo, double hi) = Range(layer, values);
                _activations[i] = statistics = new ActivationStatistics(_options.HistogramBins, lo, hi);
            }
            statistics.Reset();
            statistics.Add(values);
            double gradientNorm = double.NaN, ratio = double.NaN;
            if (layer.HasWeights)
            {
                int n = layer.Tensor(TensorRole.Weight)!.Length; // a dense [in × out] or a convolution's [O, C/g, k, k]
                gradientNorm = TrainingHistory.L2Norm(net.Gradients.Slice(layer.WeightOffset, n));
                ratio = TrainingHistory.UpdateRatio(_before.AsSpan(layer.WeightOffset, n), after.Slice(layer.WeightOffset, n));
            }
            var record = new LayerEpochMetrics(epoch, layer.Name, statistics.Mean, statistics.StandardDeviation, statistics.Histogram, gradientNorm, ratio);
            if (layer.OutputShape.Rank == 3) record = record with { Channels = ChannelStatistics.Of(values, layer.OutputShape[0], layer.OutputShape[1] * layer.OutputShape[2]) };
            history.AddLayer(record);
        }
    }

    /// <summary>
    /// The histogram range of a layer's outputs: the range of the activation that ends it (from its catalog entry), or
    /// [0, 1] for a probability layer; an unbounded end is cut at 1.25 × the largest magnitude in the data.
    /// </summary>
    private static (double Lo, double Hi) Range(LayerInfo layer, ReadOnlySpan<float> values)
    {
        if (OpCatalog.Get(layer.Kind).NormalizesToProbabilities) return (0, 1);
        double[] range = OpCatalog.IsKnown(layer.Activation)
            ? OpCatalog.Get(layer.Activation).OutputRange(layer.ActivationParameter)
            : [double.NegativeInfinity, double.PositiveInfinity];
        if (double.IsFinite(range[0]) && double.IsFinite(range[1])) return (range[0], range[1]);
        float lo = 0, hi = 0;
        foreach (float v in values) { if (v < lo) lo = v; if (v > hi) hi = v; }
        double bound = Math.Max(Math.Max(-lo, hi), 1e-3) * 1.25;
        return (double.IsFinite(range[0]) ? range[0] : -bound, double.IsFinite(range[1]) ? range[1] : bound);
    }
}
