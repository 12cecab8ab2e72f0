using System;
using KernelGen.Data;
using KernelGen.Preprocessing;

namespace KernelGen.Training;

/// <summary>
/// Running a network on any number of rows (in chunks of its <see cref="IInferenceNetwork{T}.MaxBatchSize"/>), and
/// reading its outputs: softmax and sigmoid probabilities, the most likely class, yes/no decisions, regression values in
/// original units. Works with generated networks, their inference forms and <see cref="Ensemble"/>s; the span
/// overloads allocate nothing.
/// </summary>
public static class Prediction
{
    /// <summary>Writes the outputs of every row of <paramref name="inputs"/> ([rows × InputSize]) into
    /// <paramref name="outputs"/> ([rows × OutputSize]), in chunks of the network's MaxBatchSize. Allocation-free.</summary>
    /// <exception cref="ArgumentException">The inputs are not whole rows, or the outputs have the wrong length.</exception>
    public static void Predict(IInferenceNetwork<float> network, ReadOnlySpan<float> inputs, Span<float> outputs)
    {
        ArgumentNullException.ThrowIfNull(network);
        int d = network.InputSize, k = network.OutputSize, rows = Rows(inputs.Length, d);
        ThrowHelper.ThrowIfLengthNotEqual(outputs.Length, rows * k, nameof(outputs));
        int chunk = network.MaxBatchSize;
        for (int start = 0; start < rows; start += chunk)
        {
            int n = Math.Min(chunk, rows - start);
            network.Predict(inputs.Slice(start * d, n * d), outputs.Slice(start * k, n * k));
        }
    }

    /// <summary>The outputs of every row of <paramref name="inputs"/>, [rows × OutputSize]; with a
    /// <paramref name="targetScaling"/> (a regression network trained on scaled targets) in original units.</summary>
    public static float[] Predict(IInferenceNetwork<float> network, ReadOnlySpan<float> inputs, TargetScaling? targetScaling = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        var outputs = new float[Rows(inputs.Length, network.InputSize) * network.OutputSize];
        Predict(network, inputs, outputs);
        if (targetScaling is not null)
        {
            if (targetScaling.Targets != network.OutputSize)
                throw new ArgumentException($"The target scaling has {targetScaling.Targets} target(s); the network has {network.OutputSize} outputs.", nameof(targetScaling));
            targetScaling.Invert(outputs);
        }
        return outputs;
    }

    /// <summary>The outputs for every sample of <paramref name="data"/> (see <see cref="Predict(IInferenceNetwork{float}, ReadOnlySpan{float}, TargetScaling?)"/>).</summary>
    public static float[] Predict(IInferenceNetwork<float> network, Dataset data, TargetScaling? targetScaling = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckFeatures(network, data);
        return Predict(network, data.Features, targetScaling);
    }

    /// <summary>
    /// Class probabilities for every row: softmax of the logits for classification and distribution networks, sigmoid of
    /// each logit for binary and multi-label ones ([rows × OutputSize] either way). Outputs that are probabilities already
    /// (a softmax or sigmoid layer at the end, an ensemble averaging probabilities) are returned as they are.
    /// </summary>
    /// <exception cref="InvalidOperationException">The network is a regression network, or its task cannot be told (a
    /// hand-written network or an inference form: call <see cref="Softmax"/> or <see cref="Sigmoid"/> on its outputs).</exception>
    public static float[] Probabilities(IInferenceNetwork<float> network, ReadOnlySpan<float> inputs)
    {
        TrainingTask task = Task(network);
        float[] outputs = Predict(network, inputs);
        if (TaskInfo.OutputsAreProbabilities(network, task)) return outputs;
        if (task is TrainingTask.Binary or TrainingTask.MultiLabel) Sigmoid(outputs, outputs);
        else Softmax(outputs, outputs, network.OutputSize);
        return outputs;
    }

    /// <summary>
    /// The predicted class of every row: the first largest output (classification, distribution networks), or for a
    /// binary network 1 when its logit is positive (probability above 0.5) and 0 otherwise.
    /// </summary>
    /// <exception cref="InvalidOperationException">The network is a regression or multi-label network (use
    /// <see cref="Decisions"/>), or its task cannot be told (call <see cref="ArgMax(ReadOnlySpan{float}, int)"/> on its outputs).</exception>
    public static int[] Classes(IInferenceNetwork<float> network, ReadOnlySpan<float> inputs)
    {
        TrainingTask task = Task(network);
        if (task == TrainingTask.MultiLabel) throw new InvalidOperationException("A multi-label network makes one decision per label: use Prediction.Decisions.");
        float[] outputs = Predict(network, inputs);
        if (task != TrainingTask.Binary) return ArgMax(outputs, network.OutputSize);
        float threshold = TaskInfo.OutputsAreProbabilities(network, task) ? 0.5f : 0f;
        var classes = new int[outputs.Length];
        for (int i = 0; i < outputs.Length; i++) classes[i] = outputs[i] > threshold ? 1 : 0;
        return classes;
    }

    /// <summary>The yes/no decisions of a binary or multi-label network, [rows × OutputSize]: 1 where the probability
    /// exceeds 0.5 (the logit is positive), else 0.</summary>
    /// <exception cref="InvalidOperationException">The network is not a binary or multi-label network.</exception>
    public static int[] Decisions(IInferenceNetwork<float> network, ReadOnlySpan<float> inputs)
    {
        TrainingTask task = Task(network);
        if (task is not (TrainingTask.Binary or TrainingTask.MultiLabel))
            throw new InvalidOperationException($"Yes/no decisions come from binary and multi-label networks; this one does {TaskInfo.Describe(task)}.");
        float[] outputs = Predict(network, inputs);
        float threshold = TaskInfo.OutputsAreProbabilities(network, task) ? 0.5f : 0f;
        var decisions = new int[outputs.Length];
        for (int i = 0; i < outputs.Length; i++) decisions[i] = outputs[i] > threshold ? 1 : 0;
        return decisions;
    }

    /// <summary>Row-wise softmax: p_j = e^(y_j − m) / Σ_i e^(y_i − m), m the row maximum (never overflows). The spans may
    /// be the same. Allocation-free.</summary>
    public static void Softmax(ReadOnlySpan<float> logits, Span<float> probabilities, int classes)
    {
        if (classes < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(classes), classes, "Need at least one class.");
        int rows = Rows(logits.Length, classes);
        ThrowHelper.ThrowIfLengthNotEqual(probabilities.Length, logits.Length, nameof(probabilities));
        if (rows > 0) Kernels.Softmax.Forward<float>(logits, probabilities, rows, classes);
    }

    /// <summary>Element-wise logistic sigmoid σ(y) = 1 / (1 + e^(−y)), computed in double. The spans may be the same.
    /// Allocation-free.</summary>
    public static void Sigmoid(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        ThrowHelper.ThrowIfLengthNotEqual(probabilities.Length, logits.Length, nameof(probabilities));
        for (int i = 0; i < logits.Length; i++) probabilities[i] = (float)(1 / (1 + Math.Exp(-(double)logits[i])));
    }

    /// <summary>The index of the first largest value of each row ([rows × <paramref name="classes"/>]) into
    /// <paramref name="result"/> (one per row). Allocation-free.</summary>
    public static void ArgMax(ReadOnlySpan<float> outputs, int classes, Span<int> result)
    {
        if (classes < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(classes), classes, "Need at least one class.");
        int rows = Rows(outputs.Length, classes);
        ThrowHelper.ThrowIfLengthNotEqual(result.Length, rows, nameof(result));
        for (int r = 0; r < rows; r++) result[r] = Metrics.ClassificationMetrics.ArgMax(outputs.Slice(r * classes, classes));
    }

    /// <summary>The index of the first largest value of each row.</summary>
    public static int[] ArgMax(ReadOnlySpan<float> outputs, int classes)
    {
        var result = new int[Rows(outputs.Length, Math.Max(classes, 1))];
        ArgMax(outputs, classes, result);
        return result;
    }

    internal static void CheckFeatures(IInferenceNetwork<float> network, Dataset data)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (data.FeatureCount != network.InputSize)
            throw new ArgumentException($"The data has {data.FeatureCount} features per sample; the network takes {network.InputSize}.", nameof(data));
    }

    private static TrainingTask Task(IInferenceNetwork<float> network)
    {
        ArgumentNullException.ThrowIfNull(network);
        TrainingTask task = TaskInfo.Detect(network) ?? throw new InvalidOperationException(
            "This network does not say what its outputs are (it is not a generated network or an ensemble): read them with Prediction.Predict and apply Softmax, Sigmoid or ArgMax yourself.");
        if (task == TrainingTask.Regression) throw new InvalidOperationException("A regression network has no classes or probabilities: use Prediction.Predict.");
        return task;
    }

    private static int Rows(int length, int width)
    {
        if (length % width != 0) throw new ArgumentException($"{length} values are not a whole number of rows of {width}.");
        return length / width;
    }
}
