using System;
using System.Globalization;
using KernelGen.Data;
using KernelGen.Metrics;
using KernelGen.Optimization;
using KernelGen.Preprocessing;

namespace KernelGen.Training;

/// <summary>
/// Loss, accuracy and the task's metrics of a network on a dataset (<see cref="Trainer.Evaluate(ILossNetwork{float, int}, Dataset)"/>).
/// </summary>
/// <param name="Loss">Mean loss over the samples (data loss plus the network's penalties), on the targets the network
/// trains on (scaled ones when a <see cref="TargetScaling"/> is used).</param>
/// <param name="Accuracy">Classification and distribution targets: the share of samples whose first largest output is
/// the class. Binary and multi-label: the share of right yes/no decisions (1 − Hamming loss). Regression: NaN.</param>
public readonly record struct Evaluation(double Loss, double Accuracy)
{
    /// <summary>What the network learns (how its outputs were read).</summary>
    public TrainingTask Task { get; init; }

    /// <summary>The number of samples evaluated.</summary>
    public long Count { get; init; }

    /// <summary>Classification and distribution targets: accuracy, top-k, log-loss and the confusion matrix (per-class
    /// precision, recall, F1); null for the other tasks.</summary>
    public ClassificationMetrics? Classification { get; init; }

    /// <summary>Binary and multi-label tasks: per-label counts, precision, recall, F1, subset accuracy and log-loss; null for
    /// the other tasks.</summary>
    public MultiLabelMetrics? MultiLabel { get; init; }

    /// <summary>Regression: MSE, MAE and R², per output and overall, in the targets' original units; null for the other tasks.</summary>
    public RegressionMetrics? Regression { get; init; }

    /// <summary>One line for a console: the loss and the task's headline metrics (invariant culture).</summary>
    public override string ToString()
    {
        string loss = string.Create(CultureInfo.InvariantCulture, $"loss {Loss:F4}");
        return Task switch
        {
            TrainingTask.Regression when Regression is { } r => string.Create(CultureInfo.InvariantCulture,
                $"{loss}, MSE {r.MeanSquaredError:G4}, MAE {r.MeanAbsoluteError:G4}, R² {r.R2:F4} ({Count} samples)"),
            TrainingTask.Binary or TrainingTask.MultiLabel when MultiLabel is { } m => string.Create(CultureInfo.InvariantCulture,
                $"{loss}, accuracy {Accuracy:F4}, {(Task == TrainingTask.Binary ? $"F1 {m.F1(0):F4}" : $"subset accuracy {m.SubsetAccuracy:F4}, macro F1 {m.MacroF1:F4}")} ({Count} samples)"),
            _ when Classification is { } c => string.Create(CultureInfo.InvariantCulture,
                $"{loss}, accuracy {Accuracy:F4}, macro F1 {c.Confusion.MacroF1:F4} ({Count} samples)"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{loss}, accuracy {Accuracy:F4} ({Count} samples)"),
        };
    }
}

/// <summary>
/// One training loop for both label types: a network on class indices or on target vectors, seen through the same
/// allocation-free calls (a virtual call per step).
/// </summary>
internal abstract class Learner
{
    protected Learner(INeuralNetwork<float> network, TrainingTask task)
    {
        Network = network;
        Task = task;
    }

    public INeuralNetwork<float> Network { get; }

    public TrainingTask Task { get; }

    /// <summary>True when the network trains on class indices.</summary>
    public abstract bool ClassIndices { get; }

    /// <summary>The optimizer (trainable networks only).</summary>
    public abstract Optimizer<float> Optimizer { get; }

    public abstract float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets);

    public abstract float Loss(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets);

    public static Learner For(ILossNetwork<float, int> network, TrainingTask? task = null) => new IndexLearner(network, task);

    public static Learner For(ILossNetwork<float, float> network, TrainingTask? task = null) => new TargetLearner(network, task);

    private sealed class IndexLearner(ILossNetwork<float, int> network, TrainingTask? task)
        : Learner(network, TaskInfo.Resolve(network, classIndices: true, network.OutputSize, task))
    {
        public override bool ClassIndices => true;
        public override Optimizer<float> Optimizer => ((ITrainableNetwork<float, int>)network).Optimizer;
        public override float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets) =>
            ((ITrainableNetwork<float, int>)network).TrainStep(inputs, labels);
        public override float Loss(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets) => network.Loss(inputs, labels);
    }

    private sealed class TargetLearner(ILossNetwork<float, float> network, TrainingTask? task)
        : Learner(network, TaskInfo.Resolve(network, classIndices: false, network.OutputSize, task))
    {
        public override bool ClassIndices => false;
        public override Optimizer<float> Optimizer => ((ITrainableNetwork<float, float>)network).Optimizer;
        public override float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets) =>
            ((ITrainableNetwork<float, float>)network).TrainStep(inputs, targets);
        public override float Loss(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets) => network.Loss(inputs, targets);
    }

    /// <summary>Checks that <paramref name="data"/> fits the network and its task; <paramref name="name"/> names it in messages.</summary>
    public void CheckData(Dataset data, string name)
    {
        ArgumentNullException.ThrowIfNull(data, name);
        INeuralNetwork<float> net = Network;
        if (data.Count == 0) throw new ArgumentException($"The {name} data has no samples.", name);
        if (data.FeatureCount != net.InputSize)
            throw new ArgumentException($"The {name} data has {data.FeatureCount} features per sample; the network takes {net.InputSize}.", name);
        if (ClassIndices)
        {
            if (data.HasTargets)
                throw new ArgumentException($"The network ({TaskInfo.LossTitle(net)}) trains on class indices; the {name} data has target vectors (read the CSV file with class labels).", name);
            if (data.ClassCount > net.OutputSize)
                throw new ArgumentException($"The {name} data has labels up to {data.ClassCount - 1}; the network has {net.OutputSize} outputs.", name);
            return;
        }
        if (!data.HasTargets)
        {
            throw new ArgumentException($"The network ({TaskInfo.LossTitle(net)}, {TaskInfo.Describe(Task)}) trains on target vectors; the {name} data has class labels"
                + (Task is TrainingTask.Binary or TrainingTask.MultiLabel or TrainingTask.Distribution ? " (Dataset.ToOneHot turns them into targets)." : "."), name);
        }
        if (data.TargetCount != net.OutputSize)
            throw new ArgumentException($"The {name} data has {data.TargetCount} target(s) per sample; the network has {net.OutputSize} outputs.", name);
        ReadOnlySpan<float> targets = data.Targets;
        if (Task is TrainingTask.Binary or TrainingTask.MultiLabel)
        {
            for (int i = 0; i < targets.Length; i++)
            {
                if (!(targets[i] >= 0 && targets[i] <= 1))
                    throw new ArgumentException($"Binary cross-entropy takes targets in [0, 1]; the {name} data's sample {i / data.TargetCount} has {targets[i].ToString(CultureInfo.InvariantCulture)}.", name);
            }
        }
        else if (Task == TrainingTask.Distribution)
        {
            int k = data.TargetCount;
            for (int r = 0; r < data.Count; r++)
            {
                double sum = 0;
                bool negative = false;
                foreach (float t in targets.Slice(r * k, k)) { sum += t; negative |= t < 0; }
                if (negative || Math.Abs(sum - 1) > 1e-3)
                    throw new ArgumentException($"Target distributions are non-negative rows summing to 1; the {name} data's sample {r} sums to {sum.ToString("G6", CultureInfo.InvariantCulture)}{(negative ? " and has a negative entry" : "")}.", name);
            }
        }
    }

    /// <summary>
    /// Mean loss, accuracy and the task's metrics on <paramref name="data"/>, in evaluation mode, in chunks of the
    /// network's MaxBatchSize. <paramref name="scaling"/> (regression): <paramref name="data"/> holds targets in original
    /// units; the loss is taken on scaled targets (what the network learns) and the metrics on outputs turned back into
    /// original units. Allocates its buffers and accumulators once per call.
    /// </summary>
    public Evaluation Evaluate(Dataset data, TargetScaling? scaling, string name = "evaluation")
    {
        CheckData(data, name);
        INeuralNetwork<float> net = Network;
        TrainingTask task = Task;
        if (scaling is not null) CheckScaling(scaling, task, net.OutputSize);
        int chunk = net.MaxBatchSize, d = data.FeatureCount, k = net.OutputSize;
        bool probabilities = TaskInfo.OutputsAreProbabilities(net, task);
        var outputs = new float[chunk * k];
        float[]? scaled = scaling is null ? null : new float[chunk * k];
        ClassificationMetrics? classification = task is TrainingTask.Classification or TrainingTask.Distribution ? new ClassificationMetrics(k, Math.Min(5, k), probabilities) : null;
        MultiLabelMetrics? multiLabel = task is TrainingTask.Binary or TrainingTask.MultiLabel ? new MultiLabelMetrics(k, probabilities) : null;
        RegressionMetrics? regression = task == TrainingTask.Regression ? new RegressionMetrics(k) : null;
        double loss = 0;
        for (int start = 0; start < data.Count; start += chunk)
        {
            int rows = Math.Min(chunk, data.Count - start);
            ReadOnlySpan<float> x = data.Features.AsSpan(start * d, rows * d);
            ReadOnlySpan<int> labels = ClassIndices ? data.Labels.AsSpan(start, rows) : default;
            ReadOnlySpan<float> targets = ClassIndices ? default : data.Targets.AsSpan(start * k, rows * k);
            Span<float> y = outputs.AsSpan(0, rows * k);
            net.Predict(x, y);
            ReadOnlySpan<float> lossTargets = targets;
            if (scaled is not null)
            {
                Span<float> t = scaled.AsSpan(0, rows * k);
                targets.CopyTo(t);
                scaling!.Apply(t);
                lossTargets = t;
            }
            loss += (double)Loss(x, labels, lossTargets) * rows;
            switch (task)
            {
                case TrainingTask.Classification: classification!.Add(y, labels); break;
                case TrainingTask.Distribution: classification!.AddDistributions(y, targets); break;
                case TrainingTask.Binary or TrainingTask.MultiLabel: multiLabel!.Add(y, targets); break;
                default:
                    scaling?.Invert(y);
                    regression!.Add(y, targets);
                    break;
            }
        }
        double accuracy = classification?.Accuracy ?? multiLabel?.Accuracy ?? double.NaN;
        return new Evaluation(loss / data.Count, accuracy)
        {
            Task = task, Count = data.Count, Classification = classification, MultiLabel = multiLabel, Regression = regression,
        };
    }

    public static void CheckScaling(TargetScaling scaling, TrainingTask task, int outputs)
    {
        if (task != TrainingTask.Regression)
            throw new ArgumentException($"Target scaling is for regression; this network does {TaskInfo.Describe(task)}, whose targets have a fixed meaning.", nameof(TrainerOptions.TargetScaling));
        if (scaling.Targets != outputs)
            throw new ArgumentException($"The target scaling has {scaling.Targets} target(s); the network has {outputs} outputs.", nameof(TrainerOptions.TargetScaling));
    }

    /// <summary>
    /// Counts the right decisions of a training batch's outputs and the decisions made: rows whose first largest output is
    /// the class (classification, distribution targets), or yes/no decisions (binary, multi-label). Regression makes none.
    /// Allocation-free.
    /// </summary>
    public static (long Right, long Decisions) CountCorrect(TrainingTask task, bool probabilities, ReadOnlySpan<float> outputs,
        ReadOnlySpan<int> labels, ReadOnlySpan<float> targets, int width, int rows)
    {
        switch (task)
        {
            case TrainingTask.Classification:
                return (Trainer.CountCorrect(outputs, labels, width), rows);
            case TrainingTask.Distribution:
            {
                long right = 0;
                for (int r = 0; r < rows; r++)
                {
                    if (ClassificationMetrics.ArgMax(outputs.Slice(r * width, width)) == ClassificationMetrics.ArgMax(targets.Slice(r * width, width))) right++;
                }
                return (right, rows);
            }
            case TrainingTask.Binary or TrainingTask.MultiLabel:
            {
                float threshold = probabilities ? 0.5f : 0f;
                long right = 0;
                int n = rows * width;
                for (int i = 0; i < n; i++) if ((outputs[i] > threshold) == (targets[i] >= 0.5f)) right++;
                return (right, n);
            }
            default:
                return (0, 0);
        }
    }
}
