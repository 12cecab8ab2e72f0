using System;
using System.IO;
using KernelGen.Data;

namespace KernelGen.Preprocessing;

/// <summary>
/// Invertible standardization of regression targets: t' = (t − μ) / σ per target, with the training targets' mean μ
/// and population standard deviation σ (1 where σ is 0), and back: t = t'·σ + μ. Networks learn faster on targets of
/// unit scale (house prices in the hundreds of thousands give an L2 loss of 10¹⁰ and a useless first step). Give it to
/// <see cref="Training.TrainerOptions.TargetScaling"/> and the trainer trains on scaled targets while reporting its
/// metrics (MSE, MAE, R²) in the original units; <see cref="Training.Prediction.Predict(IInferenceNetwork{float}, ReadOnlySpan{float}, TargetScaling?)"/>
/// turns the network's outputs back into original units. Fit on the training set only.
/// </summary>
public sealed class TargetScaling
{
    private readonly Standardize _standardize;

    private TargetScaling(Standardize standardize) => _standardize = standardize;

    /// <summary>Fits μ and σ of each target column of <paramref name="training"/>.</summary>
    /// <exception cref="ArgumentException">The dataset has class labels, not targets.</exception>
    public static TargetScaling Fit(Dataset training)
    {
        ArgumentNullException.ThrowIfNull(training);
        if (!training.HasTargets) throw new ArgumentException("Target scaling needs a dataset of targets; this one has class labels.", nameof(training));
        return Fit(training.Targets, training.Count, training.TargetCount);
    }

    /// <summary>Fits μ and σ of each of <paramref name="targetCount"/> columns over <paramref name="count"/> rows.</summary>
    public static TargetScaling Fit(ReadOnlySpan<float> targets, int count, int targetCount) =>
        new(Standardize.Fit(targets, count, targetCount));

    /// <summary>Targets per sample.</summary>
    public int Targets => _standardize.InputFeatures;

    /// <summary>The fitted means μ.</summary>
    public ReadOnlySpan<float> Mean => _standardize.Mean;

    /// <summary>The fitted standard deviations σ (1 where the targets were constant).</summary>
    public ReadOnlySpan<float> StandardDeviation => _standardize.StdDev;

    /// <summary>Scales rows of targets in place: t' = (t − μ) / σ. Allocation-free.</summary>
    /// <exception cref="ArgumentException">The length is not a whole number of rows.</exception>
    public void Apply(Span<float> targets) => _standardize.Apply(targets, Rows(targets.Length));

    /// <summary>Turns scaled values (network outputs) back into original units in place: t = t'·σ + μ. Allocation-free.</summary>
    /// <exception cref="ArgumentException">The length is not a whole number of rows.</exception>
    public void Invert(Span<float> values)
    {
        int rows = Rows(values.Length), m = Targets;
        ReadOnlySpan<float> mean = Mean, std = StandardDeviation;
        for (int r = 0; r < rows; r++)
        {
            Span<float> row = values.Slice(r * m, m);
            for (int j = 0; j < m; j++) row[j] = row[j] * std[j] + mean[j];
        }
    }

    /// <summary>A copy of <paramref name="data"/> with scaled targets (the features are shared, not copied).</summary>
    /// <exception cref="ArgumentException">The dataset has class labels, or another number of targets.</exception>
    public Dataset Apply(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!data.HasTargets || data.TargetCount != Targets)
            throw new ArgumentException($"The scaling was fitted on {Targets} target(s) per sample; the dataset has {(data.HasTargets ? data.TargetCount + " target(s)" : "class labels")}.", nameof(data));
        float[] scaled = (float[])data.Targets!.Clone();
        Apply(scaled);
        return data.WithTargets(scaled);
    }

    /// <summary>Writes the scaling to <paramref name="stream"/> (a <see cref="FeatureTransform"/> record of a per-feature
    /// <see cref="Standardize"/> over the targets).</summary>
    public void Save(Stream stream) => _standardize.Save(stream);

    /// <summary>Reads a scaling written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The record is corrupt or not a per-feature standardization.</exception>
    public static TargetScaling Load(Stream stream)
    {
        if (FeatureTransform.Load(stream) is Standardize { PerChannel: false } standardize) return new TargetScaling(standardize);
        throw new InvalidDataException("The record is not a target scaling (a per-feature standardization).");
    }

    private int Rows(int length)
    {
        if (length % Targets != 0)
            throw new ArgumentException($"{length} values are not a whole number of rows of {Targets} target(s).");
        return length / Targets;
    }
}
