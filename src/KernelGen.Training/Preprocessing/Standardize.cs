using System;
using System.IO;
using KernelGen.Data;

namespace KernelGen.Preprocessing;

/// <summary>
/// Standardization: y = (x − μ) / σ with the training mean μ and population standard deviation σ of each feature, or of
/// each image channel. A σ of zero (a constant feature) divides by 1 instead. Fit on the training set only and apply
/// the same μ and σ everywhere. Applies (x − μ)·(1/σ) with the reciprocal rounded to float once.
/// </summary>
public sealed class Standardize : IFeatureTransform
{
    private readonly FeatureStatistics.Layout _layout;
    private readonly float[] _mean;
    private readonly float[] _stdDev;
    private readonly float[] _featureMean;
    private readonly float[] _featureScale;

    private Standardize(FeatureStatistics.Layout layout, float[] mean, float[] stdDev)
    {
        _layout = layout;
        _mean = mean;
        _stdDev = stdDev;
        var inverse = new float[stdDev.Length];
        for (int i = 0; i < inverse.Length; i++) inverse[i] = 1f / stdDev[i];
        _featureMean = FeatureStatistics.Expand(mean, layout);
        _featureScale = FeatureStatistics.Expand(inverse, layout);
    }

    /// <summary>Fits a mean and standard deviation per feature on <paramref name="count"/> rows of <paramref name="features"/> values.</summary>
    public static Standardize Fit(ReadOnlySpan<float> rows, int count, int features) =>
        Create(rows, count, FeatureStatistics.Layout.PerFeature(features));

    /// <summary>Fits a mean and standard deviation per channel on <paramref name="count"/> [channels × height × width] images.</summary>
    public static Standardize FitPerChannel(ReadOnlySpan<float> rows, int count, int channels, int height, int width) =>
        Create(rows, count, FeatureStatistics.Layout.ForImage(channels, height, width));

    /// <summary>Fits on a training set: per channel when <paramref name="perChannel"/> (which needs an image dataset), else per feature.</summary>
    public static Standardize Fit(Dataset train, bool perChannel = false)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (!perChannel) return Fit(train.Features, train.Count, train.FeatureCount);
        if (!train.IsImage) throw new ArgumentException("Per-channel statistics need an image dataset (Channels, Height and Width set).", nameof(train));
        return FitPerChannel(train.Features, train.Count, train.Channels, train.Height, train.Width);
    }

    private static Standardize Create(ReadOnlySpan<float> rows, int count, FeatureStatistics.Layout layout)
    {
        (double[] mean, double[] std) = FeatureStatistics.Compute(rows, count, layout, needStdDev: true);
        var stdDev = new float[std.Length];
        for (int i = 0; i < std.Length; i++)
        {
            float s = (float)std[i];
            // Zero spread (or one so small its reciprocal overflows float): leave the feature's scale alone.
            stdDev[i] = s > 0 && float.IsFinite(1f / s) ? s : 1f;
        }
        return new Standardize(layout, FeatureStatistics.ToFloat(mean), stdDev);
    }

    /// <inheritdoc/>
    public int InputFeatures => _layout.Features;

    /// <inheritdoc/>
    public int OutputFeatures => _layout.Features;

    /// <summary>Whether the statistics are per image channel (rather than per feature).</summary>
    public bool PerChannel => _layout.PerChannel;

    /// <summary>Channels of the image layout (0 when per feature).</summary>
    public int Channels => _layout.Channels;

    /// <summary>The fitted means: one per feature, or one per channel when <see cref="PerChannel"/>.</summary>
    public ReadOnlySpan<float> Mean => _mean;

    /// <summary>The standard deviations divided by (1 where the fitted one was 0): one per feature or per channel.</summary>
    public ReadOnlySpan<float> StdDev => _stdDev;

    /// <inheritdoc/>
    public void Apply(ReadOnlySpan<float> input, Span<float> output, int count) =>
        FeatureStatistics.Apply(input, output, count, _featureMean, _featureScale);

    /// <inheritdoc/>
    public void Apply(Span<float> rows, int count) => Apply(rows, rows, count);

    /// <inheritdoc/>
    public void Save(Stream stream) => FeatureTransform.Write(stream, FeatureTransform.KindStandardize, writer =>
    {
        _layout.Write(writer);
        FeatureTransform.WriteFloats(writer, _mean);
        FeatureTransform.WriteFloats(writer, _stdDev);
    });

    internal static Standardize Read(ref PayloadReader reader)
    {
        var layout = FeatureStatistics.Layout.Read(ref reader);
        float[] mean = reader.ReadFloats(layout.Groups, "mean");
        float[] std = reader.ReadFloats(layout.Groups, "stdDev");
        for (int i = 0; i < std.Length; i++)
        {
            if (!(std[i] > 0) || !float.IsFinite(1f / std[i]))
                throw new InvalidDataException($"Feature transform field 'stdDev' holds {std[i]} at {i}; standard deviations must be positive.");
        }
        return new Standardize(layout, mean, std);
    }
}
