using System;
using System.Collections.Generic;
using KernelGen.Catalog;
using KernelGen.Runtime;

namespace KernelGen.Training;

/// <summary>
/// What a network learns, which decides how the <see cref="Trainer"/> reads its outputs (accuracy, metrics,
/// probabilities). The trainer takes it from the network's loss (its catalog entry's label kind) when the network is a
/// generated one; <see cref="TrainerOptions.Task"/> sets it for hand-written networks.
/// </summary>
public enum TrainingTask
{
    /// <summary>Single-label classification on class indices (softmax cross-entropy, multiclass hinge; networks of
    /// <c>ITrainableNetwork&lt;float, int&gt;</c>): outputs are one score (logit) per class; the prediction is the largest.</summary>
    Classification,
    /// <summary>Binary classification with one output and binary cross-entropy on its logit: targets 0 or 1 (or
    /// probabilities); the prediction is "1" when the logit is positive (probability above 0.5).</summary>
    Binary,
    /// <summary>Multi-label classification: one independent yes/no output per label, binary cross-entropy on logits,
    /// targets in [0, 1] shaped like the outputs.</summary>
    MultiLabel,
    /// <summary>Regression: real-valued targets shaped like the outputs (L2 loss, or a user's loss).</summary>
    Regression,
    /// <summary>Target distributions (KL divergence on logits): rows of non-negative targets summing to 1; the
    /// prediction is the class with the largest output.</summary>
    Distribution,
}

/// <summary>What the trainer and the metrics know about a network's outputs.</summary>
internal static class TaskInfo
{
    /// <summary>The loss of a generated network, or null for another implementation.</summary>
    public static LossKind? Loss(object network) => network switch
    {
        NetworkBase<float> n => n.Model.Loss,
        NetworkBase<double> n => n.Model.Loss,
        _ => null,
    };

    /// <summary>The task of <paramref name="network"/>: <paramref name="requested"/> when given (checked against the label
    /// type), else from its loss's label kind, else classification for class indices and regression for targets.</summary>
    public static TrainingTask Resolve(object network, bool classIndices, int outputs, TrainingTask? requested)
    {
        if (requested is { } task)
        {
            if (!Enum.IsDefined(task)) ThrowHelper.ThrowArgumentOutOfRange(nameof(TrainerOptions.Task), task, "Not a TrainingTask.");
            if ((task == TrainingTask.Classification) != classIndices)
            {
                throw new ArgumentException(classIndices
                    ? $"The network trains on class indices, so its task is Classification, not {task}."
                    : $"The network trains on target vectors, so its task cannot be Classification (use Binary, MultiLabel, Regression or Distribution).", nameof(TrainerOptions.Task));
            }
            if (task == TrainingTask.Binary && outputs != 1)
                throw new ArgumentException($"A binary task has one output; the network has {outputs} (use MultiLabel).", nameof(TrainerOptions.Task));
            return task;
        }
        if (classIndices) return TrainingTask.Classification;
        return Loss(network) is { } loss
            ? OpCatalog.Get(loss).Labels switch
            {
                LabelKind.Probabilities => outputs == 1 ? TrainingTask.Binary : TrainingTask.MultiLabel,
                LabelKind.Distributions => TrainingTask.Distribution,
                _ => TrainingTask.Regression,
            }
            : TrainingTask.Regression;
    }

    /// <summary>The task of any network whose outputs are to be read: by its loss (generated networks), or classification
    /// for an ensemble averaging softmax probabilities; null when it cannot be told.</summary>
    public static TrainingTask? Detect(IInferenceNetwork<float> network) => network switch
    {
        Ensemble { AveragesProbabilities: true } => TrainingTask.Classification,
        Ensemble => null,
        _ when Loss(network) is { } loss => OpCatalog.Get(loss).Labels switch
        {
            LabelKind.ClassIndex => TrainingTask.Classification,
            LabelKind.Probabilities => network.OutputSize == 1 ? TrainingTask.Binary : TrainingTask.MultiLabel,
            LabelKind.Distributions => TrainingTask.Distribution,
            _ => TrainingTask.Regression,
        },
        _ => null,
    };

    /// <summary>Whether the outputs are probabilities already: an ensemble averaging probabilities, a network ending in
    /// a softmax layer, or (for binary and multi-label tasks) one ending in a sigmoid.</summary>
    public static bool OutputsAreProbabilities(IInferenceNetwork<float> network, TrainingTask task)
    {
        if (network is Ensemble e) return e.AveragesProbabilities;
        if (network is not INeuralNetwork<float> n || n.Layers.Count == 0) return false;
        LayerInfo last = n.Layers[^1];
        if (OpCatalog.Get(last.Kind).NormalizesToProbabilities) return task is TrainingTask.Classification or TrainingTask.Distribution;
        return last.Activation == Activation.Sigmoid && task is TrainingTask.Binary or TrainingTask.MultiLabel;
    }

    /// <summary>"softmax cross-entropy", "L2 divergence", … for messages; "a user-defined loss" otherwise.</summary>
    public static string LossTitle(object network) => Loss(network) is { } loss ? OpCatalog.Get(loss).Title : "its loss";

    public static string Describe(TrainingTask task) => task switch
    {
        TrainingTask.Classification => "classification",
        TrainingTask.Binary => "binary classification",
        TrainingTask.MultiLabel => "multi-label classification",
        TrainingTask.Regression => "regression",
        _ => "distribution targets",
    };

    /// <summary>Class or target names for an evaluation of <paramref name="data"/>.</summary>
    public static IReadOnlyList<string>? Names(TrainingTask task, Data.Dataset data) => task switch
    {
        TrainingTask.Classification => data.ClassNames,
        TrainingTask.Binary => null,
        _ => data.TargetNames,
    };
}
