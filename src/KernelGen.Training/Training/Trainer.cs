using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using KernelGen.Catalog;
using KernelGen.Data;

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

/// <summary>Loss and accuracy of a network on a dataset.</summary>
/// <param name="Loss">Mean loss (data loss plus the network's penalties).</param>
/// <param name="Accuracy">Fraction of samples whose highest output is the label.</param>
public readonly record struct Evaluation(double Loss, double Accuracy);

/// <summary>What a <see cref="Trainer.Fit"/> run did.</summary>
public sealed class TrainingResult
{
    internal TrainingResult(StopReason reason, string message, TrainingHistory history, int epochs, long iterations, int bestEpoch,
        Evaluation best, double meanEpochSeconds, double totalSeconds, IReadOnlyList<NetworkSnapshot> snapshots)
    {
        Reason = reason; Message = message; History = history; EpochsCompleted = epochs; Iterations = iterations;
        BestEpoch = bestEpoch; Best = best; MeanEpochSeconds = meanEpochSeconds; TotalSeconds = totalSeconds; Snapshots = snapshots;
    }

    /// <summary>Why training ended.</summary>
    public StopReason Reason { get; }
    /// <summary>A sentence saying why (shown to the user as is).</summary>
    public string Message { get; }
    /// <summary>Per-epoch metrics and per-layer statistics (the report's data).</summary>
    public TrainingHistory History { get; }
    /// <summary>Epochs completed.</summary>
    public int EpochsCompleted { get; }
    /// <summary>Mini-batch steps taken.</summary>
    public long Iterations { get; }
    /// <summary>The best epoch by the monitored validation metric (0 without validation data).</summary>
    public int BestEpoch { get; }
    /// <summary>Validation loss and accuracy at <see cref="BestEpoch"/>.</summary>
    public Evaluation Best { get; }
    /// <summary>Mean wall-clock seconds of an epoch's training loop (shuffling, batching, augmentation and steps; not evaluation).</summary>
    public double MeanEpochSeconds { get; }
    /// <summary>Wall-clock seconds of the whole run, evaluation included.</summary>
    public double TotalSeconds { get; }
    /// <summary>Parameter snapshots taken every <see cref="TrainerOptions.SnapshotEveryEpochs"/> epochs.</summary>
    public IReadOnlyList<NetworkSnapshot> Snapshots { get; }
}

/// <summary>
/// A training loop around any generated classifier (<see cref="ITrainableNetwork{T, TLabel}"/> on float with class
/// labels): epochs of shuffled mini-batches, validation every epoch, early stopping that restores the best parameters,
/// explosion detection, per-layer statistics, progress reports through <see cref="TrainerOptions.Progress"/> and
/// cancellation through a <see cref="CancellationToken"/>. It writes nothing to the console. Inside an epoch nothing is
/// allocated (batches, steps and progress reports reuse buffers or are values); epoch ends allocate their history records.
/// </summary>
public sealed class Trainer
{
    private readonly ITrainableNetwork<float, int> _network;
    private readonly TrainerOptions _options;
    private readonly float[] _before;
    private readonly ActivationStatistics?[] _activations;
    private volatile bool _stopRequested;

    /// <summary>Prepares a trainer for <paramref name="network"/>; allocates its buffers once.</summary>
    public Trainer(ITrainableNetwork<float, int> network, TrainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        _network = network;
        _options = options ?? new TrainerOptions();
        _options.Validate(network.MaxBatchSize, network.Layers);
        _before = new float[network.Parameters.Length];
        _activations = new ActivationStatistics?[network.Layers.Count];
    }

    /// <summary>The network being trained.</summary>
    public ITrainableNetwork<float, int> Network => _network;

    /// <summary>Asks a running <see cref="Fit"/> to stop after the current batch (thread-safe; like cancelling its token).</summary>
    public void RequestStop() => _stopRequested = true;

    /// <summary>
    /// Trains on <paramref name="training"/>, validating on <paramref name="validation"/> (if given) after every epoch.
    /// </summary>
    /// <exception cref="ArgumentException">The data does not fit the network (feature count, labels out of range, regression targets).</exception>
    public TrainingResult Fit(Dataset training, Dataset? validation = null, CancellationToken cancellation = default)
    {
        CheckData(training, nameof(training));
        if (validation is not null) CheckData(validation, nameof(validation));
        if (_options.Patience > 0 && validation is null) throw new ArgumentException("Early stopping (Patience > 0) needs validation data.", nameof(validation));

        ITrainableNetwork<float, int> net = _network;
        IProgress<TrainingProgress>? progress = _options.Progress;
        long reportTicks = (long)(_options.ProgressInterval.TotalSeconds * Stopwatch.Frequency);
        var batches = new MiniBatches(training, _options.BatchSize, _options.Seed, _options.EffectiveBatching(training.Count, net.Layers));
        var history = new TrainingHistory();
        var snapshots = new List<NetworkSnapshot>();
        var lastGood = new TrainingState(net); // everything a step changes, so an explosion undoes the epoch entirely
        NetworkSnapshot? best = null;
        int bestEpoch = 0, sinceBest = 0, outputLayer = net.Layers.Count - 1, classes = net.OutputSize;
        Evaluation bestEvaluation = new(double.PositiveInfinity, double.NaN);
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
            lastGood.CopyFrom(net);
            double lossSum = 0;
            long seen = 0, correct = 0, lastReport = 0;
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
                    loss = net.TrainStep(batch.Features, batch.Labels);
                }
                catch (ArithmeticException)
                {
                    lastGood.RestoreTo(net);
                    reason = StopReason.Exploded;
                    message = $"The loss became NaN or infinite at epoch {epoch}, batch {batchIndex}: the learning rate is probably too high. The training state (parameters, statistics, optimizer state) from the start of epoch {epoch} was restored.";
                    break;
                }
                iterations++;
                if (double.IsNaN(initialLoss)) explosionThreshold = _options.ExplosionThreshold(initialLoss = loss);
                else if (loss > explosionThreshold)
                {
                    lastGood.RestoreTo(net);
                    reason = StopReason.Exploded;
                    message = $"The loss exploded at epoch {epoch}, batch {batchIndex}: {loss:G4} > {explosionThreshold:G4} (max of {_options.ExplosionFactor:G3} × and {_options.ExplosionMargin:G3} + the initial {initialLoss:G4}). The learning rate is probably too high; the training state (parameters, statistics, optimizer state) from the start of epoch {epoch} was restored.";
                    break;
                }
                lossSum += (double)loss * batch.Count;
                seen += batch.Count;
                correct += CountCorrect(net.LayerOutput(outputLayer), batch.Labels, classes);
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
            if (reason is StopReason.Exploded || seen == 0) break;
            epochsDone = epoch;
            epochSecondsSum += clock.Elapsed.TotalSeconds;

            if (statisticsReady) CollectLayerStatistics(history, epoch);
            Evaluation validationResult = validation is null ? new(double.NaN, double.NaN) : Evaluate(net, validation);
            var metrics = new EpochMetrics(epoch, lossSum / seen, validationResult.Loss, (double)correct / seen, validationResult.Accuracy,
                net.Optimizer.CurrentLearningRate, clock.Elapsed.TotalSeconds);
            history.AddEpoch(metrics);
            progress?.Report(new TrainingProgress(epoch, _options.Epochs, batchIndex, batches.BatchesPerEpoch, iterations, metrics.TrainingLoss,
                seen / clock.Elapsed.TotalSeconds, TimeSpan.Zero, metrics));
            _options.EpochCompleted?.Invoke(metrics);
            if (_options.SnapshotEveryEpochs > 0 && epoch % _options.SnapshotEveryEpochs == 0) snapshots.Add(NetworkSnapshot.Capture(net, epoch));

            if (validation is not null)
            {
                if (Improves(validationResult, bestEvaluation, bestEpoch == 0))
                {
                    bestEvaluation = validationResult;
                    bestEpoch = epoch;
                    sinceBest = 0;
                    if (best is null) best = NetworkSnapshot.Capture(net, epoch); else best.CopyFrom(net, epoch);
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

        if (reason != StopReason.Exploded && best is not null && _options.RestoreBestParameters && bestEpoch != epochsDone)
        {
            best.RestoreTo(net);
            message += (message.Length > 0 ? " " : "") + $"Restored the parameters of epoch {bestEpoch} ({(_options.Monitor == ValidationMetric.Loss ? "lowest validation loss" : "highest validation accuracy")}).";
        }
        if (reason == StopReason.Completed) message = $"Trained {epochsDone} epochs." + (message.Length > 0 ? " " + message : "");
        total.Stop();
        return new TrainingResult(reason, message, history, epochsDone, iterations, bestEpoch, bestEvaluation,
            epochsDone > 0 ? epochSecondsSum / epochsDone : double.NaN, total.Elapsed.TotalSeconds, snapshots);
    }

    private bool Improves(Evaluation candidate, Evaluation best, bool first)
    {
        if (first) return !double.IsNaN(candidate.Loss);
        return _options.Monitor == ValidationMetric.Loss
            ? candidate.Loss < best.Loss
            : candidate.Accuracy > best.Accuracy || (candidate.Accuracy == best.Accuracy && candidate.Loss < best.Loss);
    }

    /// <summary>Mean loss and accuracy of <paramref name="network"/> on <paramref name="data"/>, in evaluation mode, in chunks of
    /// the network's MaxBatchSize. Allocates one output buffer.</summary>
    public static Evaluation Evaluate(ILossNetwork<float, int> network, Dataset data)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        if (data.FeatureCount != network.InputSize)
            throw new ArgumentException($"The data has {data.FeatureCount} features per sample; the network takes {network.InputSize}.", nameof(data));
        int chunk = network.MaxBatchSize, d = data.FeatureCount, k = network.OutputSize;
        var outputs = new float[chunk * k];
        double loss = 0;
        long correct = 0;
        for (int start = 0; start < data.Count; start += chunk)
        {
            int rows = Math.Min(chunk, data.Count - start);
            ReadOnlySpan<float> x = data.Features.AsSpan(start * d, rows * d);
            ReadOnlySpan<int> y = data.Labels.AsSpan(start, rows);
            network.Predict(x, outputs.AsSpan(0, rows * k));
            correct += CountCorrect(outputs.AsSpan(0, rows * k), y, k);
            loss += (double)network.Loss(x, y) * rows;
        }
        return new Evaluation(loss / data.Count, (double)correct / data.Count);
    }

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

    private void CheckData(Dataset data, string name)
    {
        ArgumentNullException.ThrowIfNull(data, name);
        if (data.IsRegression) throw new ArgumentException("The trainer trains classifiers: the dataset has regression targets, not class labels.", name);
        if (data.FeatureCount != _network.InputSize)
            throw new ArgumentException($"The {name} data has {data.FeatureCount} features per sample; the network takes {_network.InputSize}.", name);
        if (data.ClassCount > _network.OutputSize)
            throw new ArgumentException($"The {name} data has labels up to {data.ClassCount - 1}; the network has {_network.OutputSize} outputs.", name);
    }

    private void CollectLayerStatistics(TrainingHistory history, int epoch)
    {
        ITrainableNetwork<float, int> net = _network;
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
                int n = layer.InputFeatures * layer.DenseOutputs;
                gradientNorm = TrainingHistory.L2Norm(net.Gradients.Slice(layer.WeightOffset, n));
                ratio = TrainingHistory.UpdateRatio(_before.AsSpan(layer.WeightOffset, n), after.Slice(layer.WeightOffset, n));
            }
            history.AddLayer(epoch, layer.Name, statistics, gradientNorm, ratio);
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
